"""The HParams dashboard's default view of a real search, read over HTTP from a real TensorBoard process."""

import pytest
from tensorboard_server import experiment, get, session_groups, tensorboard, wait_for

from convnas.search.records import hparams_logging
from convnas.search.records.trial_records import describe
from convnas.search.runner import run_search
from convnas.search.space.spec import build_spec

# The default space, with two more constants: a fixed head and a choice of one stem width.
SPACE = {"head": "flatten", "stem_filters": [16]}
CONSTANTS = {"batch_norm_momentum", "head", "stem_filters"}


@pytest.fixture(scope="module")
def search(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("dashboard")
    flags = {"dataset": "digits", "max_trials": 2, "epochs": 1, "logdir": str(logdir), "seed": 3}
    spec = build_spec({"space": SPACE}, flags)
    return logdir, run_search(spec, write=lambda line: None)


def ticked(hparam_infos: list[dict]) -> list[str]:
    """The hyperparameters the HParams pane ticks, as its code does: a stable sort by `differs`, then the first 5."""
    ordered = sorted(hparam_infos, key=lambda info: not info.get("differs", False))
    return [info["name"] for info in ordered[: hparams_logging.SHOWN]]


def test_the_default_view_shows_the_architecture_accuracy_and_cost_in_plain_units(search):
    logdir, records = search
    assert all(record.get("test_accuracy") is not None for record in records)  # the search records a test accuracy
    with tensorboard(logdir / "tensorboard") as port:
        shown = wait_for(lambda: experiment(port), lambda answer: answer.get("hparamInfos"))
        groups = wait_for(lambda: session_groups(port), lambda answer: len(answer) == len(records))
    assert [info["name"] for info in shown["hparamInfos"]] == ["architecture"]  # one column: the whole candidate
    metrics = [info["name"]["tag"] for info in shown["metricInfos"]]
    # Four metric columns: with the trial, the check boxes and the architecture, seven, whole in 1440 pixels.
    assert metrics == ["trial/val_accuracy", "trial/test_accuracy", "trial/params_thousands", "trial/flops_millions"]
    names = {info["name"]["tag"]: info["displayName"] for info in shown["metricInfos"]}
    assert names["trial/params_thousands"] == "parameters (K)" and names["trial/flops_millions"] == "FLOPs (M)"
    by_id = {record["trial_id"]: record for record in records}
    for group in groups:
        record = by_id[group["name"]]
        assert group["hparams"]["architecture"] == describe(record)
        assert not CONSTANTS - set(group["hparams"])  # the session keeps every value, constants too
        values = {m["name"]["tag"]: m["value"] for m in group["metricValues"] if not m["name"]["group"]}
        assert values["trial/params_thousands"] == pytest.approx(record["params"] / 1000)  # 5 digits: 36.122, not
        assert values["trial/flops_millions"] == pytest.approx(record["flops"] / 1e6)      # 3.6122e+4


def test_the_other_trial_values_are_scalars_of_the_trial_s_run(search):
    """Latency, train time, losses and MACs, not HParams columns, are step-0 scalars of each trial's run."""
    logdir, records = search
    with tensorboard(logdir / "tensorboard") as port:
        runs = wait_for(lambda: get(port, "/data/plugin/scalars/tags"), lambda answer: "search" in answer)
    for record in records:
        tags = runs[f"{record['trial_id']}/execution0/validation"]
        assert {"trial/latency_ms", "trial/train_seconds", "trial/val_loss", "trial/test_loss",
                "trial/macs_millions"} <= set(tags)


def test_a_search_without_test_data_shows_latency_and_train_time_instead():
    assert [name for _, name in hparams_logging.experiment_metrics(tested=False)] == [
        "validation accuracy", "parameters (K)", "FLOPs (M)", "latency (ms)"]
    # A space of the user's own has every metric (its hyperparameter columns pass the window's width anyway),
    # and an objective the metrics lack comes right after validation accuracy.
    metrics = hparams_logging.experiment_metrics(["val_auc"], architecture=False)
    assert len(metrics) == len(hparams_logging.METRICS) + 1 and metrics[1] == ("trial/val_auc", "val auc")


def test_the_scalars_dashboard_opens_on_the_hypervolume(search):
    """The Scalars dashboard opens the first two tag groups, in name order: the hypervolume's comes first, and the
    step-0 trial values share one group."""
    logdir, records = search
    with tensorboard(logdir / "tensorboard") as port:
        runs = wait_for(lambda: get(port, "/data/plugin/scalars/tags"), lambda answer: "search" in answer)
        listed = get(port, "/data/runs")  # the runs list, every folder with an event file
    groups = sorted({tag.split("/")[0] for tags in runs.values() for tag in tags})
    assert groups[0] == "accuracy_vs_cost" and "accuracy_vs_cost/hypervolume" in runs["search"]
    assert [group for group in groups if group.startswith("trial")] == ["trial"]
    assert "." not in runs  # no run at the root: the configuration is in the search's run
    sessions = [run for run in runs if "trial/val_accuracy" in runs[run]]
    assert sorted(sessions) == sorted(f"{r['trial_id']}/execution0/validation" for r in records)
    assert len(listed) == len(runs) == 1 + 2 * len(records)  # the search, each trial's train and validation runs


def test_featured_hyperparameters_are_the_stages_then_each_stage_s_cell_block_and_filters():
    space = ["stem_filters", "stages", "stage1_cell", "stage1_filters", "stage1_blocks", "stage1_block", "stage2_cell",
             "stage2_filters", "learning_rate"]
    assert hparams_logging.featured(space) == ["stages", "stage1_cell", "stage1_block", "stage1_filters", "stage2_cell"]
    # A space of the user's own: its first hyperparameters, in its order.
    assert hparams_logging.featured(["units", "layers", "dropout", "activation", "rate", "momentum"]) == [
        "units", "layers", "dropout", "activation", "rate"]
