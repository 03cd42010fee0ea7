"""Real searches on digits: statuses and reasons, budgets, NaN, best model, Pareto files, TensorBoard HParams."""

import csv

import keras
import numpy as np
import pytest
from tensorboard_server import experiment, session_groups, tensorboard, wait_for

from convnas.search.data import datasets
from convnas.search.records.trial_records import TrialRecords, describe
from convnas.search.runner import SearchStopped, run_search
from convnas.search.space.spec import build_spec
from convnas.search.tuners.sampler import NoFeasibleCandidate

GRID_SPACE = {
    "stem_filters": 16,
    "stages": 1,
    "cell": "plain",
    "block": ["conv", "dilated_conv"],
    "strides": [1, 2],
    "filters": [16, 64],
    "dilation": 2,
    "blocks": 1,
    "kernel_size": 3,
    "downsampling": "max",
    "head": "global_average_pooling",
    "head_units": 0,
    "optimizer": "adam",
    "learning_rate": 0.01,
}


@pytest.fixture(scope="module")
def grid_search(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("grid")
    spec = build_spec(
        {"space": GRID_SPACE},
        {"tuner": "grid", "max_trials": 8, "epochs": 2, "max_params": 6000, "logdir": str(logdir), "seed": 1},
    )
    lines = []
    records = run_search(spec, write=lines.append)
    return logdir, records, lines


def by_architecture(records):
    return {(r["stage1_block"], r["stage1_strides"], r["stage1_filters"]): r for r in records}


def test_rejected_candidates_are_redrawn_before_any_trial_and_counted(grid_search):
    logdir, records, lines = grid_search
    # The grid's 8 points: dilated_conv with stride 2 is invalid (twice), the 64-filter convs are over
    # budget (3 times); only the 3 others become trials.
    assert len(records) == 3 and len({r["trial_id"] for r in records}) == 3
    table = by_architecture(records)
    assert set(table) == {("conv", 1, 16), ("conv", 2, 16), ("dilated_conv", 1, 16)}
    for record in records:
        assert record["status"] == "COMPLETED" and record["params"] <= 6000 and record["flops"] > 2 * record["macs"] > 0
        assert 0 <= record["val_accuracy"] <= 1 and 0 <= record["test_accuracy"] <= 1
        assert record["train_seconds"] > 0 and record["latency_ms"] > 0
        assert record["epochs"] == 2 and record["seed"] == 1
    assert "stage1_dilation" in table[("dilated_conv", 1, 16)] and "stage1_dilation" not in table[("conv", 1, 16)]
    assert sum(line.startswith("trial ") for line in lines) == 3
    text = " ".join("\n".join(lines).split())  # as it reads before wrapping to 100 columns
    assert "rejected before training: 5 draws (2 invalid, 3 over budget); the cheapest rejected had" in text
    assert ("first invalid: stage 1 block 1 (dilated_conv 3x3, stride 2, dilation 2): input is 8x8x16: "
            "`strides` must be 1 for dilated_conv. Received: strides=2") in text
    assert "first over budget: over budget: " in text and "parameters > max_params 6,000" in text


def test_trials_csv_matches_the_records(grid_search):
    logdir, records, _ = grid_search
    with open(logdir / "trials.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["trial_id"] for row in rows] == [r["trial_id"] for r in records]
    for row, record in zip(rows, records):
        assert row["status"] == record["status"]
        for key in ("params", "flops", "val_accuracy"):
            assert row[key] == ("" if record.get(key) is None else str(record[key]))
    header = list(rows[0])
    for column in ("trial_id", "status", "reason", "stage1_block", "val_accuracy", "val_loss", "test_accuracy",
                   "params", "macs", "flops", "activation_bytes", "latency_ms", "train_seconds", "epochs", "seed"):
        assert column in header


def test_best_model_is_the_best_completed_trial(grid_search):
    logdir, records, _ = grid_search
    best = max((r for r in records if r["status"] == "COMPLETED"), key=lambda r: r["val_accuracy"])
    model = keras.saving.load_model(logdir / "best_model.keras")
    assert model.count_params() == best["params"]
    data = datasets.load_dataset("digits", seed=1)
    accuracy = model.evaluate(data.x_val, data.y_val, verbose=0, return_dict=True)["accuracy"]
    assert accuracy == pytest.approx(best["val_accuracy"], abs=1e-6)


def test_pareto_files_and_summary(grid_search):
    logdir, records, lines = grid_search
    with open(logdir / "pareto.csv") as stream:
        rows = list(csv.DictReader(stream))
    completed = {r["trial_id"]: r for r in records if r["status"] == "COMPLETED"}
    for row in rows:
        member = completed[row["trial_id"]]
        cost = row["front"].rsplit("_", 1)[1]
        assert not any(
            o["val_accuracy"] >= member["val_accuracy"] and o[cost] <= member[cost]
            and (o["val_accuracy"] > member["val_accuracy"] or o[cost] < member[cost])
            for o in completed.values()
        )
    assert (logdir / "pareto.png").stat().st_size > 1000
    text = "\n".join(lines)
    assert "leaderboard:" in text and "Pareto front, accuracy vs flops" in text and f"convnas board {logdir}" in text


def test_real_tensorboard_hparams_show_every_trained_trial(grid_search):
    logdir, records, _ = grid_search
    completed = {r["trial_id"]: r for r in records if r["status"] == "COMPLETED"}
    with tensorboard(logdir / "tensorboard") as port:
        groups = wait_for(lambda: session_groups(port),
                          lambda groups: len(groups) == len(completed) and all(g.get("metricValues") for g in groups))
        shown = experiment(port)
    columns = {m["name"]["tag"] for m in shown["metricInfos"]}
    assert {"trial/val_accuracy", "trial/params_thousands", "trial/flops_millions"} <= columns
    assert [h["name"] for h in shown["hparamInfos"]] == ["architecture"]  # one column says the whole candidate
    assert sorted(g["name"] for g in groups) == sorted(completed)
    for group in groups:
        record = completed[group["name"]]
        metrics = {m["name"]["tag"]: m["value"] for m in group["metricValues"] if not m["name"]["group"]}
        assert metrics["trial/val_accuracy"] == pytest.approx(record["val_accuracy"], rel=1e-6)
        assert metrics["trial/params_thousands"] == pytest.approx(record["params"] / 1e3, rel=1e-7)
        assert metrics["trial/flops_millions"] == pytest.approx(record["flops"] / 1e6, rel=1e-7)
        assert group["hparams"]["architecture"] == describe(record)  # as the leaderboard writes it
        assert group["hparams"]["stage1_block"] == record["stage1_block"]  # every value kept in the session


def test_a_space_without_a_valid_candidate_stops_with_why(tmp_path):
    # Strided-CNN-C downsampling puts the stride in the stage's last conv: these cells take none.
    space = {"stages": [1, 2], "cell": ["inception", "highway", "shuffle_unit"], "downsampling": "strided"}
    spec = build_spec({"space": space}, {"max_trials": 5, "epochs": 1, "logdir": str(tmp_path), "max_redraws": 30})
    lines = []
    with pytest.raises(NoFeasibleCandidate,
                       match=r"^no candidate that can be built in \d+ draws \(\d+ s; \d+ invalid so far\); "
                       r"first invalid: stage 1: `downsampling` can be 'strided' only in a cell that takes a stride"):
        run_search(spec, write=lines.append)
    assert not (tmp_path / "trials.jsonl").exists() or not TrialRecords(tmp_path).read()  # nothing was trained
    written = "\n".join(lines).split("written:")[1].split("dashboard:")[0]  # wrapped within 100 columns
    assert "best_model.keras" not in written and not (tmp_path / "best_model.keras").exists()


def test_a_budget_gives_max_trials_trained_candidates(tmp_path):
    spec = build_spec({}, {"max_trials": 2, "epochs": 1, "logdir": str(tmp_path), "seed": 5, "max_flops": 200000})
    lines = []
    records = run_search(spec, write=lines.append)
    assert [r["status"] for r in records] == ["COMPLETED"] * 2 and all(r["flops"] <= 200000 for r in records)
    rejected = next(line for line in lines if line.startswith("\ntrials:")).splitlines()[2]
    count = int(rejected.split("rejected before training: ")[1].split()[0])
    assert count > 0 and "over budget" in rejected
    cheapest = int(rejected.split("the cheapest rejected had ")[1].split()[0].replace(",", ""))
    assert cheapest > 200000


# No max pooling (it returns -FLT_MAX for NaN) and no layer with a fused ReLU (nin, a hidden dense
# head: oneDNN maps NaN to 0).
NAN_SPACE = {
    "stages": 1, "downsampling": ["avg", "none", "strided", "all_conv"], "block": ["conv", "true_conv", "im2col_conv"],
    "cell": "plain", "head_units": 0,
}


@pytest.fixture
def nan_dataset(tmp_path):
    """Images of NaN: the loss is non-finite for every candidate of NAN_SPACE."""
    rng = np.random.default_rng(0)
    images = np.full((60, 8, 8, 1), np.nan, dtype="float32")
    path = tmp_path / "nan.npz"
    np.savez(path, x_train=images, y_train=rng.integers(0, 3, 60))
    return f"npz:{path}"


def test_non_finite_loss_fails_the_trial(tmp_path, nan_dataset):
    spec = build_spec({"space": NAN_SPACE},
                      {"dataset": nan_dataset, "max_trials": 1, "epochs": 2, "logdir": str(tmp_path / "run")})
    records = run_search(spec, write=lambda line: None)
    assert [(r["status"], r["reason"]) for r in records] == [("FAILED", "non-finite loss")]
    assert records[0]["params"] > 0 and records[0].get("val_accuracy") is None
    assert not (tmp_path / "run" / "best_model.keras").exists()


def test_three_consecutive_failures_stop_with_a_clear_error_and_keep_the_records(tmp_path, nan_dataset):
    spec = build_spec({"space": NAN_SPACE},
                      {"dataset": nan_dataset, "max_trials": 5, "epochs": 1, "logdir": str(tmp_path / "run")})
    with pytest.raises(SearchStopped, match="3 consecutive failed trials \\(non-finite loss\\)"):
        run_search(spec, write=lambda line: None)
    with open(tmp_path / "run" / "trials.csv") as stream:
        assert [row["status"] for row in csv.DictReader(stream)] == ["FAILED"] * 3


TINY_SPACE = {"stages": 1, "cell": ["plain", "residual"], "filters": 16, "blocks": 1}


def test_bayesian_tuner_runs_convnas_trials(tmp_path):
    spec = build_spec({"space": TINY_SPACE},
                      {"tuner": "bayesian", "max_trials": 3, "epochs": 1, "logdir": str(tmp_path)})
    records = run_search(spec, write=lambda line: None)
    assert len(records) == 3 and {r["status"] for r in records} == {"COMPLETED"}


def test_hyperband_records_show_epochs_and_the_trial_continued_and_only_full_runs_make_the_front(tmp_path):
    # Hyperband's first bracket: three 1-epoch trials, then the best of them trained on for epochs 2-3.
    spec = build_spec({"space": TINY_SPACE},
                      {"tuner": "hyperband", "epochs": 3, "max_trials": 4, "logdir": str(tmp_path)})
    lines = []
    records = run_search(spec, write=lines.append)
    assert {r["status"] for r in records} == {"COMPLETED"}
    assert not any(name.startswith("tuner/") for r in records for name in r)  # bookkeeping becomes readable columns
    promoted = [r for r in records if r["continues"] is not None]
    assert promoted, "hyperband promoted no trial"
    for record in promoted:  # trained on from the earlier trial's weights, the epochs between its bracket's rungs
        assert 0 < record["initial_epoch"] < record["epochs"] <= 3
        assert (tmp_path / f"trial_{record['continues']}" / "checkpoint.weights.h5").exists()
        line = next(line for line in lines if line.startswith(f"trial {record['trial_id']} ["))
        shown = f"(epochs {record['initial_epoch'] + 1}-{record['epochs']}, continues trial {record['continues']})"
        assert shown in line
    partial = {r["trial_id"] for r in records if r["epochs"] < 3}
    assert partial
    with open(tmp_path / "pareto.csv") as stream:
        front = {row["trial_id"] for row in csv.DictReader(stream)}
    assert front and not front & partial


def test_hyperband_stops_at_max_trials(tmp_path):
    spec = build_spec({"space": TINY_SPACE},
                      {"tuner": "hyperband", "max_trials": 2, "epochs": 3, "logdir": str(tmp_path)})
    assert len(run_search(spec, write=lambda line: None)) == 2  # its bracket schedule alone would run 6


@pytest.mark.parametrize("tuner", ["random", "bayesian"])
def test_the_same_seed_samples_the_same_candidates_seed_zero_included(tmp_path, tuner):
    from convnas.search.space.hypermodel import ConvNetHyperModel
    from convnas.search.tuners.setup import make_tuner

    def sampled(seed, name):
        search = make_tuner(tuner, 5, 1, hypermodel=ConvNetHyperModel((8, 8, 1), 10), objective="val_accuracy",
                            seed=seed, directory=str(tmp_path), project_name=name, overwrite=True)
        return [search.oracle.create_trial(f"worker{n}").hyperparameters.values for n in range(5)]

    assert sampled(0, "first") == sampled(0, "second")
    assert sampled(0, "third") != sampled(1, "fourth")
