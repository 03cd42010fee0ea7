"""`convnas.experiments.Study`: ablating a model of one's own from Python, for real, on digits."""

import json
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util

from convnas.cli import main
from convnas.experiments import Study, evaluation
from convnas.experiments.study import collapse_warning
from convnas.search import cost
from convnas.search.common.spec_files import SpecError
from convnas.search.common.tables import wrap

BASE = {"filters": 8, "pooling": "max"}
VARIANTS = {"avg_pool": {"pooling": "avg"}, "wide": {"filters": 16}}
BUILT = []  # every config `build` was called with, in order


def build(config: dict) -> keras.Model:
    """A small conv net of one's own, returned uncompiled."""
    BUILT.append(config)
    pooling = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}[config["pooling"]]
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(config["filters"], 3, padding="same", activation="relu"),
        pooling(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])


def other_build(config: dict) -> keras.Model:
    return build(config)


@pytest.fixture(scope="module")
def arrays():
    """scikit-learn's digits as the tuple (x_train, y_train, x_test, y_test): 8x8x1 images in [0, 1]."""
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]
    return x[:1400], digits.target[:1400], x[1400:], digits.target[1400:]


def make_study(arrays, logdir, **changes) -> Study:
    arguments = dict(build=build, base=BASE, variants=VARIANTS, data=arrays, seeds=2, epochs=1, logdir=logdir,
                     name="mine", learning_rate=0.01)
    return Study(**{**arguments, **changes})


@pytest.fixture(scope="module")
def finished(arrays, tmp_path_factory):
    """A study of build() over pooling and width, run once: (logdir, rows, printed lines, configs built)."""
    logdir = tmp_path_factory.mktemp("study")
    lines = []
    BUILT.clear()
    rows = make_study(arrays, logdir).run(write=lines.append)
    return logdir, rows, lines, list(BUILT)


def test_every_variant_is_a_row_over_its_seeds_with_the_costs_of_its_model(finished):
    _, rows, _, built = finished
    assert [row["variant"] for row in rows] == ["baseline", "avg_pool", "wide"]
    assert [row["seeds"] for row in rows] == [2, 2, 2]
    for row, config in zip(rows, [BASE, {**BASE, **VARIANTS["avg_pool"]}, {**BASE, **VARIANTS["wide"]}]):
        assert 0.5 < row["test_accuracy_mean"] <= 1  # trained: chance is 0.1
        counted = cost.count(build(config))
        assert (row["params"], row["macs"], row["flops"]) == (counted.params, counted.macs, counted.flops)
        assert "receptive_field" not in row  # unknown for a model of one's own: left out, not faked
    assert rows[1]["params"] == rows[0]["params"] < rows[2]["params"]  # pooling has no weights; width does
    # each variant built once to be costed, then once per run, in the table's order
    assert built[:3] == [BASE, {**BASE, "pooling": "avg"}, {**BASE, "filters": 16}] and len(built) == 3 + 6


def test_the_study_folder_holds_runs_tables_tensorboard_and_the_resolved_study(finished):
    logdir, rows, lines, _ = finished
    records = [json.loads(line) for line in (logdir / "runs.jsonl").read_text().splitlines()]
    planned = [f"{v}/seed{s}" for v in ("baseline", "avg_pool", "wide") for s in (0, 1)]
    assert sorted(r["run"] for r in records) == sorted(planned)
    assert all(r["receptive_field"] is None and r["epochs"] == 1 for r in records)
    study = json.loads((logdir / "study.json").read_text())
    assert study["build"] == f"{build.__module__}.build" and study["task"] == "classification"
    assert study["base"] == BASE and study["variants"] == VARIANTS and study["seeds"] == [0, 1]
    assert re.fullmatch(r"arrays:[0-9a-f]{16}", study["dataset"]) and study["metric"] == "test_accuracy"
    assert (study["schedule"], study["warmup_epochs"], study["bn_batches"]) == ("cosine", 1, 100)  # the defaults
    assert "seed_plan" not in study and "planned_seeds" not in study  # a fixed count: no seed plan
    report = (logdir / "report.md").read_text()
    assert "seeds 0, 1; main metric `test_accuracy`." in report and "Seeds planned" not in report
    table = (logdir / "table.md").read_text()
    assert table.startswith("| variant (2 seeds) | mean (%) | Δ (pts) [interval] |") and "receptive field" not in table
    printed = "\n".join(lines)
    assert re.search(r"^variant \(2 seeds\) +mean \(%\) +Δ \(pts\) \[interval\]", printed, re.M)
    assert "no claim" in printed
    assert (logdir / "table.csv").read_text().startswith("variant,seeds,versus,expected,")
    assert all(len(r["curves"]["loss"]) == 1 and 0 <= r["train_accuracy"] <= 1 for r in records)
    for record in records:  # whether the inference-mode evaluation can be trusted
        assert record["train_accuracy_training_mode"] == record["curves"]["accuracy"][-1]
        assert record["collapsed"] is evaluation.collapsed(record) is False
    assert "warning" not in printed
    assert (logdir / "chart.png").stat().st_size > 1000
    for record in records:
        folder = logdir / "tensorboard" / record["variant"] / f"seed{record['seed']}"
        assert list((folder / "train").glob("events.out.tfevents.*"))  # per-epoch scalars
        events = event_accumulator.EventAccumulator(str(folder), size_guidance={"tensors": 0})
        events.Reload()
        assert "_hparams_/session_start_info" in events.PluginTagToContent("hparams")
        logged = float(tensor_util.make_ndarray(events.Tensors("test_accuracy")[0].tensor_proto))
        assert logged == pytest.approx(record["test_accuracy"], rel=1e-6)


def test_convnas_table_rebuilds_the_table_the_study_wrote(finished, capsys):
    logdir, _, _, _ = finished
    assert main(["table", str(logdir)]) == 0
    assert capsys.readouterr().out == (logdir / "table.md").read_text()
    assert main(["table", str(logdir), "--format", "csv"]) == 0
    assert capsys.readouterr().out == (logdir / "table.csv").read_text()


def test_a_rerun_trains_nothing_and_gives_the_same_table(arrays, finished):
    logdir, rows, _, _ = finished
    runs = (logdir / "runs.jsonl").read_text()
    lines = []
    BUILT.clear()
    again = make_study(arrays, logdir).run(write=lines.append)
    assert len(BUILT) == 3  # costed again, trained never
    assert "6 already done" in " ".join(lines[0].split()) and (logdir / "runs.jsonl").read_text() == runs
    assert again == rows


@pytest.mark.parametrize(
    "changes, changed",
    [
        ({"variants": {**VARIANTS, "wide": {"filters": 32}}}, "variants"),
        ({"base": {**BASE, "filters": 4}}, "base"),
        ({"build": other_build}, "build"),
        ({"epochs": 2}, "epochs"),
        ({"schedule": "constant"}, "schedule"),
        ({"bn_batches": 10}, "bn_batches"),
    ],
)
def test_a_changed_study_on_the_same_logdir_is_refused(arrays, finished, changes, changed):
    logdir, _, _, _ = finished
    runs = (logdir / "runs.jsonl").read_text()
    with pytest.raises(SpecError, match=rf"^`logdir` holds a study with a different spec \(changed: {changed}\);"):
        make_study(arrays, logdir, **changes).run(write=lambda line: None)
    assert (logdir / "runs.jsonl").read_text() == runs


def test_changed_arrays_on_the_same_logdir_are_refused(arrays, finished):
    logdir, _, _, _ = finished
    x_train, y_train, x_test, y_test = arrays
    with pytest.raises(SpecError, match=r"different spec \(changed: dataset\)"):
        make_study((x_train, y_train, x_test[::-1], y_test[::-1]), logdir).run(write=lambda line: None)


def test_an_uncompiled_model_gets_the_study_defaults_and_a_compiled_one_keeps_its_own(tmp_path):
    models = {}

    def build_with_batch_norm(config: dict) -> keras.Model:
        model = keras.Sequential([
            keras.Input((8, 8, 1)), keras.layers.Conv2D(8, 3), keras.layers.BatchNormalization(),
            keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, activation="softmax"),
        ])
        if config["compile"]:
            model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"])
        models[config["compile"]] = model  # the last built: the one trained
        return model

    study = Study(build=build_with_batch_norm, base={"compile": False}, variants={"own_compile": {"compile": True}},
                  data="digits", seeds=1, epochs=1, logdir=tmp_path, learning_rate=0.005)
    rows = study.run(write=lambda line: None)
    assert [row["variant"] for row in rows] == ["baseline", "own_compile"]
    assert json.loads((tmp_path / "study.json").read_text())["dataset"] == "digits"
    defaults, own = models[False], models[True]
    assert isinstance(defaults.optimizer, keras.optimizers.Adam)
    schedule = defaults.optimizer.get_config()["learning_rate"]  # the peak of the cosine schedule, 0 at the end
    assert schedule["class_name"] == "CosineDecay" and schedule["config"]["warmup_target"] == pytest.approx(0.005)
    assert float(defaults.optimizer.learning_rate) == 0
    assert defaults.loss == "sparse_categorical_crossentropy" and defaults.layers[1].momentum == 0.9
    assert isinstance(own.optimizer, keras.optimizers.SGD) and float(own.optimizer.learning_rate) == pytest.approx(0.05)
    assert own.layers[1].momentum == 0.99  # Keras's default: a compiled model is left as it is


def test_a_compiled_model_without_accuracy_stops_the_study_before_anything_runs(arrays, tmp_path):
    def build_without_accuracy(config: dict) -> keras.Model:
        model = build(config)
        if config["filters"] == 16:
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["acc"])
        return model

    message = r"^variant 'wide' cannot be built: a compiled classifier must report a metric named 'accuracy'"
    with pytest.raises(SpecError, match=message):
        make_study(arrays, tmp_path / "logs", build=build_without_accuracy).run(write=lambda line: None)
    assert not (tmp_path / "logs").exists()


def test_a_variant_whose_build_raises_is_named_before_anything_runs(arrays, tmp_path):
    variants = {**VARIANTS, "broken": {"pooling": "stochastic"}}
    with pytest.raises(SpecError, match=r"^variant 'broken' cannot be built: KeyError: 'stochastic'$") as raised:
        make_study(arrays, tmp_path / "logs", variants=variants).run(write=lambda line: None)
    assert isinstance(raised.value.__cause__, KeyError)  # the user's own traceback stays attached
    assert not (tmp_path / "logs").exists()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"seeds": 0}, r"`seeds` must be a positive integer. Received: seeds=0"),
        ({"seeds": [1, 1]},
         r"`seeds` must list distinct non-negative integers \(at least one\). Received: seeds=\[1, 1\]"),
        ({"epochs": 0}, r"`epochs` must be a positive integer. Received: epochs=0"),
        ({"data": "imagenet"},
         r"`data` could not be loaded: `dataset` must be one of digits, .* Received: dataset='imagenet'"),
        ({"data": [1, 2]}, r"`data` must be a dataset name, a tuple \(x_train, y_train, x_test, y_test\) of arrays .* "
                           r"Received: data of type list"),
        ({"variants": [{"pooling": "avg"}]},
         r"`variants` must map at least one variant name .* Received: variants=\[\{'pooling': 'avg'\}\]"),
        ({"variants": {}}, r"`variants` must map at least one variant name .* Received: variants=\{\}"),
        ({"variants": {"baseline": {"pooling": "avg"}}},
         r"variant names must be .* and not 'baseline'. Received: 'baseline'"),
        ({"variants": {"avg pool": {"pooling": "avg"}}}, r"Received: 'avg pool'"),
        ({"variants": {"avg_pool": "avg"}},
         r"`variants.avg_pool` must be a mapping of the entries it replaces. Received: 'avg'"),
        ({"base": None}, r"`base` must be a dict \(the baseline config\). Received: base=None"),
        ({"build": "model.keras"},
         r"`build` must be a function build\(config\) -> keras.Model. Received: build='model.keras'"),
        ({"metric": "psnr"}, r"`metric` must be one of 'test_accuracy', .* Received: metric='psnr'"),
        ({"learning_rate": -1}, r"`learning_rate` must be a positive number. Received: learning_rate=-1"),
        ({"schedule": "step"}, r"`schedule` must be one of 'cosine', 'constant'. Received: schedule='step'"),
        ({"warmup_epochs": -1}, r"`warmup_epochs` must be a non-negative integer. Received: warmup_epochs=-1"),
        ({"bn_batches": None}, r"`bn_batches` must be a non-negative integer. Received: bn_batches=None"),
    ],
)
def test_bad_arguments_are_value_errors_naming_the_argument_and_value(arrays, tmp_path, changes, message):
    with pytest.raises(ValueError, match=message):
        make_study(arrays, tmp_path, **changes)
    assert not any(tmp_path.iterdir())


def test_bad_arrays_are_named(arrays, tmp_path):
    x_train, y_train, x_test, y_test = arrays
    images = r"`data`: 'x_train' must be \(N, H, W\) or \(N, H, W, C\). Received shape \(1400, 8\)"
    with pytest.raises(ValueError, match=images):
        make_study((x_train[..., 0, 0], y_train, x_test, y_test), tmp_path)
    labels = r"`data`: 'y_test' must hold one integer label per image. Received shape \(397,\), dtype float"
    with pytest.raises(ValueError, match=labels):
        make_study((x_train, y_train, x_test, y_test.astype(float)), tmp_path)
    shapes = r"`data`: 'x_test' images have shape \(4, 4, 1\), 'x_train' images \(8, 8, 1\)"
    with pytest.raises(ValueError, match=shapes):
        make_study((x_train, y_train, x_test[:, :4, :4], y_test), tmp_path)
    with pytest.raises(ValueError, match=r"`data` must be .* Received: a tuple of 3 items"):
        make_study((x_train, y_train, x_test), tmp_path)


def test_importing_convnas_experiments_loads_no_tensorflow():
    code = ("import sys, convnas.experiments as experiments, convnas.experiments.ablation; "
            "assert experiments.Study.__name__ == 'Study'; print(sorted({'tensorflow', 'keras'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def build_with_batch_norm(config: dict) -> keras.Model:
    """A small conv net with BatchNorm, uncompiled: what the protocol's re-estimation acts on."""
    return keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Conv2D(config["filters"], 3, padding="same"),
        keras.layers.BatchNormalization(), keras.layers.ReLU(), keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(8, 3, padding="same"), keras.layers.BatchNormalization(), keras.layers.ReLU(),
        keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, activation="softmax"),
    ])


def test_the_same_seed_records_the_same_numbers_bit_for_bit(arrays, tmp_path):
    records = []
    for name in ("first", "second"):
        tiny = make_study(arrays, tmp_path / name, build=build_with_batch_norm, variants={"wide": {"filters": 16}},
                          seeds=1, epochs=2)
        tiny.run(write=lambda line: None)
        runs = [json.loads(line) for line in (tmp_path / name / "runs.jsonl").read_text().splitlines()]
        records.append([{k: v for k, v in run.items() if k != "train_seconds"} for run in runs])
    assert len(records[0]) == 2 and records[0] == records[1]


def test_a_study_json_without_a_protocol_reads_as_the_legacy_one_and_resumes_only_with_it(arrays, finished, tmp_path):
    logdir, _, _, _ = finished
    written = json.loads((logdir / "study.json").read_text())
    legacy = {k: v for k, v in written.items() if k not in ("schedule", "warmup_epochs", "bn_batches")}
    (tmp_path / "study.json").write_text(json.dumps(legacy))  # as studies wrote it before they had a protocol
    (tmp_path / "runs.jsonl").write_text((logdir / "runs.jsonl").read_text())
    with pytest.raises(SpecError, match=r"different spec \(changed: bn_batches, schedule, warmup_epochs\)"):
        make_study(arrays, tmp_path).run(write=lambda line: None)
    lines = []
    make_study(arrays, tmp_path, schedule="constant", warmup_epochs=0, bn_batches=0).run(write=lines.append)
    assert "6 already done" in " ".join(lines[0].split())  # wrapped within 100 columns


def test_a_collapsed_run_is_recorded_and_named_in_one_warning(arrays, tmp_path, monkeypatch):
    tiny = make_study(arrays, tmp_path, seeds=1)
    train = tiny.task.train

    def train_then_evaluate_badly(*args, **kwargs):  # as if inference mode had collapsed after training
        metrics, samples = train(*args, **kwargs)
        return {**metrics, "train_accuracy": 0.1}, samples

    monkeypatch.setattr(tiny.task, "train", train_then_evaluate_badly)
    lines = []
    tiny.run(write=lines.append)
    records = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    assert all(record["collapsed"] is True for record in records)
    warnings = [line for line in lines if line.startswith("warning:")]
    assert warnings == [wrap(collapse_warning(record)) for record in records]  # within 100 columns
    assert re.fullmatch(r"warning: run baseline/seed0 collapsed: its training accuracy is 10\.0% in inference mode "
                        r"after training, \d+\.\d% in training mode in its last epoch; .*",
                        collapse_warning(records[0]))
