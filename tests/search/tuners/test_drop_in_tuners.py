"""convnas.search.RandomSearch & co. as drop-ins for keras-tuner's tuners, over a user's own build_model(hp)."""

import contextlib
import csv
import io
import json
import os

import keras
import keras_tuner
import numpy as np
import pytest
import tensorflow as tf
from keras import layers
from sklearn.datasets import load_digits

import convnas.search
from convnas.search import cost
from convnas.search.tuners import oracles
from convnas.search.tuners.evolution import EvolutionTuner

# keras-tuner's getting-started example (keras.io/keras_tuner/getting_started), verbatim
# but for the tuner's class; MNIST (a download) is replaced by the bundled digits.
GETTING_STARTED = '''
def build_model(hp):
    model = keras.Sequential()
    model.add(layers.Flatten())
    # Tune the number of layers.
    for i in range(hp.Int("num_layers", 1, 3)):
        model.add(
            layers.Dense(
                # Tune number of units separately.
                units=hp.Int(f"units_{i}", min_value=32, max_value=512, step=32),
                activation=hp.Choice("activation", ["relu", "tanh"]),
            )
        )
    if hp.Boolean("dropout"):
        model.add(layers.Dropout(rate=0.25))
    model.add(layers.Dense(10, activation="softmax"))
    learning_rate = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


tuner = TUNER(
    hypermodel=build_model,
    objective="val_accuracy",
    max_trials=3,
    executions_per_trial=2,
    overwrite=True,
    directory=DIRECTORY,
    project_name="helloworld",
)
tuner.search_space_summary()
tuner.search(x_train, y_train, epochs=2, validation_data=(x_val, y_val))
models = tuner.get_best_models(num_models=2)
best_model = models[0]
best_model.summary()
tuner.results_summary()
'''


def digits_like_mnist():
    """The getting-started example's preprocessing, on the bundled digits (scaled to [0, 1], one-hot labels)."""
    digits = load_digits()
    x, y = digits.images.astype("float32") / 16.0, keras.utils.to_categorical(digits.target, 10)
    return x[:1400], y[:1400], x[1400:], y[1400:]


def read_csv(path):
    with open(path) as stream:
        return list(csv.DictReader(stream))


@pytest.fixture(scope="module")
def getting_started(tmp_path_factory):
    directory = tmp_path_factory.mktemp("getting_started")
    x_train, y_train, x_val, y_val = digits_like_mnist()
    namespace = {"keras": keras, "layers": layers, "TUNER": convnas.search.RandomSearch, "DIRECTORY": str(directory),
                 "x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(GETTING_STARTED, namespace)
    return namespace, directory / "helloworld", printed.getvalue()


def test_keras_tuner_getting_started_runs_with_only_the_class_name_changed(getting_started):
    namespace, project, printed = getting_started
    tuner, models = namespace["tuner"], namespace["models"]
    assert isinstance(tuner, keras_tuner.RandomSearch)
    records = read_csv(project / "trials.csv")
    assert [r["status"] for r in records] == ["COMPLETED"] * 3
    scores = {r["trial_id"]: float(r["val_accuracy"]) for r in records}
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.score == pytest.approx(max(scores.values())) and scores[best.trial_id] == max(scores.values())
    assert tuner.get_best_hyperparameters()[0].values == best.hyperparameters.values
    best_record = next(r for r in records if r["trial_id"] == best.trial_id)
    assert len(models) == 2 and models[0].count_params() == int(best_record["params"])
    assert printed.count("Score: ") == 3 and f"Score: {best.score}" in printed  # results_summary
    for record in records:  # keras-tuner's hyperparameters, convnas's cost and training columns
        assert int(record["num_layers"]) in (1, 2, 3) and record["activation"] in ("relu", "tanh")
        assert int(record["params"]) > 0 and int(record["flops"]) > 2 * int(record["macs"]) > 0
        assert float(record["latency_ms"]) > 0 and float(record["train_seconds"]) > 0 and record["executions"] == "2"


def test_every_trial_is_costed_exactly(getting_started):
    namespace, project, _ = getting_started
    tuner = namespace["tuner"]
    records = {r["trial_id"]: r for r in read_csv(project / "trials.csv")}
    for trial in tuner.oracle.get_best_trials(3):
        model = tuner.hypermodel.build(trial.hyperparameters)
        model.build((None, 8, 8))
        counted = cost.count(model)
        recorded = tuple(int(records[trial.trial_id][k]) for k in ("params", "macs", "flops"))
        assert (counted.params, counted.macs, counted.flops) == recorded


def test_records_hparams_pareto_and_best_model_are_written(getting_started):
    namespace, project, _ = getting_started
    x_val, y_val = namespace["x_val"], namespace["y_val"]
    written = {"trials.csv", "trials.jsonl", "pareto.csv", "pareto.png", "best_model.keras", "oracle.json"}
    assert written <= set(os.listdir(project))
    front = read_csv(project / "pareto.csv")
    assert {row["front"] for row in front} == {"accuracy_vs_flops", "accuracy_vs_params"}
    records = read_csv(project / "trials.csv")
    best = max(records, key=lambda r: float(r["val_accuracy"]))
    assert best["trial_id"] in {row["trial_id"] for row in front}  # the most accurate trial is on every front
    best_model = keras.saving.load_model(project / "best_model.keras")
    assert best_model.count_params() == int(best["params"])
    assert 0.5 < best_model.evaluate(x_val, y_val, verbose=0, return_dict=True)["accuracy"] <= 1
    root = project / "tensorboard"
    config = b"".join(path.read_bytes() for path in (root / "search").glob("events.out.tfevents.*"))
    for column in (b"val_accuracy", b"params", b"flops", b"latency_ms", b"num_layers", b"units_0"):
        assert column in config, column  # the HParams experiment lists every hyperparameter and cost column
    sessions = sorted(path.name for path in root.iterdir() if path.is_dir() and path.name != "search")
    assert sessions == sorted(r["trial_id"] for r in records)
    hypervolumes = [float(r["hypervolume"]) for r in records]
    assert hypervolumes == sorted(hypervolumes) and hypervolumes[-1] > 0  # the front only grows
    assert b"hypervolume" in b"".join(path.read_bytes() for path in (root / "search").glob("events.out.tfevents.*"))


def build_budgeted(hp):
    """A conv net whose width and a NaN switch are hyperparameters (for budgets and non-finite losses)."""
    inputs = keras.Input((8, 8, 1))
    x = layers.Conv2D(hp.Choice("filters", [4, 256]), 3, activation="relu")(inputs)
    if hp.Boolean("explode"):
        x = layers.Lambda(lambda t: t * float("nan"))(x)
    x = layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_datasets_budgets_non_finite_losses_and_test_data(tmp_path):
    digits = load_digits()
    x, y = (digits.images[..., None] / 16.0).astype("float32"), digits.target
    train = tf.data.Dataset.from_tensor_slices((x[:1200], y[:1200])).batch(32)
    validation = tf.data.Dataset.from_tensor_slices((x[1200:1500], y[1200:1500])).batch(32)
    test = tf.data.Dataset.from_tensor_slices((x[1500:], y[1500:])).batch(32)
    lines = []
    tuner = convnas.search.GridSearch(
        build_budgeted, objective="val_accuracy", max_trials=4, directory=str(tmp_path), project_name="grid",
        max_params=2000, seed=0, on_record=lines.append,
    )
    tuner.search(train, validation_data=validation, epochs=2, test_data=test, verbose=0)
    records = {(r["filters"], r["explode"]): r for r in tuner.records.read()}
    assert set(records) == {(4, False), (4, True)} and len(lines) == 2  # over the budget: drawn, never a trial
    assert records[(4, False)]["status"] == "COMPLETED" and 0 <= records[(4, False)]["test_accuracy"] <= 1
    completed = records[(4, False)]
    assert completed["test_loss"] > 0 and completed["loss"] > 0 and 0 <= completed["accuracy"] <= 1
    assert tuner.oracle.rejections.counts == {"over budget": 2}  # the grid's two 256-filter points
    assert tuner.oracle.rejections.cheapest["params"] > 2000 and len(tuner.oracle.trials) == 2
    failed = records[(4, True)]
    assert failed["status"] == "FAILED" and failed["reason"] == "non-finite loss"
    statuses = {trial.trial_id: trial.status for trial in tuner.oracle.trials.values()}
    assert statuses[failed["trial_id"]] == "FAILED"  # keras-tuner alone would call a NaN run COMPLETED
    best = tuner.get_best_models(1)[0]
    assert best.count_params() == records[(4, False)]["params"]


def test_a_search_resumes_keeping_its_trials(tmp_path):
    x_train, y_train, x_val, y_val = digits_like_mnist()

    def build(hp):
        model = keras.Sequential([layers.Flatten(), layers.Dense(hp.Int("units", 8, 64, step=8), activation="relu"),
                                  layers.Dense(10, activation="softmax")])
        model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
        return model

    def search(max_trials):
        tuner = convnas.search.RandomSearch(build, "val_accuracy", max_trials=max_trials, seed=0,
                                            directory=str(tmp_path), project_name="resumed")
        tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val), verbose=0)
        return tuner.records.read()

    first = search(2)
    second = search(3)
    assert len(first) == 2 and len(second) == 3
    assert second[:2] == first  # the finished trials are kept as they were, not trained again


def build_dense(hp):
    model = keras.Sequential([layers.Flatten(), layers.Dense(hp.Int("units", 8, 512, step=8)), layers.Dense(10)])
    model.compile("adam", "categorical_crossentropy")
    return model


def test_seed_zero_is_a_seed(tmp_path):
    def sampled(seed, name):
        tuner = convnas.search.RandomSearch(build_dense, "val_accuracy", max_trials=5, seed=seed,
                                            directory=str(tmp_path), project_name=name)
        return [tuner.oracle.create_trial(f"t{n}").hyperparameters.values for n in range(5)]

    assert sampled(0, "a") == sampled(0, "b") != sampled(1, "c")


def test_oracle_files_are_written_atomically_by_convnas_tuners_only(tmp_path):
    from keras_tuner.src import utils

    tuner = convnas.search.RandomSearch(build_dense, "val_accuracy", max_trials=1,
                                        directory=str(tmp_path), project_name="atomic")
    assert utils.save_json.__module__ == "keras_tuner.src.utils"  # keras-tuner itself is not patched
    plain = keras_tuner.RandomSearch(build_dense, "val_accuracy", max_trials=1,
                                     directory=str(tmp_path), project_name="plain")
    assert type(plain.oracle).save is keras_tuner.oracles.RandomSearchOracle.save
    tuner.oracle.save()
    state = json.loads((tmp_path / "atomic" / "oracle.json").read_text())
    assert state["hyperparameters"]["space"][0]["config"]["name"] == "units"
    assert not [name for name in os.listdir(tmp_path / "atomic") if ".tmp" in name]


@pytest.mark.parametrize("drop_in, reference", [
    (convnas.search.RandomSearch, keras_tuner.RandomSearch),
    (convnas.search.GridSearch, keras_tuner.GridSearch),
    (convnas.search.BayesianOptimization, keras_tuner.BayesianOptimization),
    (convnas.search.Hyperband, keras_tuner.Hyperband),
    (convnas.search.Evolution, EvolutionTuner),
])
def test_a_drop_in_makes_its_own_oracle_as_the_tuner_it_replaces_configures_its(tmp_path, drop_in, reference):
    # The third positional argument is max_trials (max_epochs for Hyperband); keras-tuner gets seed + 1.
    ours = drop_in(build_dense, "val_accuracy", 7, seed=4, directory=str(tmp_path), project_name="ours")
    theirs = reference(build_dense, "val_accuracy", 7, seed=5, directory=str(tmp_path), project_name="theirs")
    assert type(ours.oracle) is getattr(oracles, type(theirs.oracle).__name__)
    assert isinstance(ours.oracle, type(theirs.oracle)) and type(theirs.oracle) is not type(ours.oracle)
    state, reference = ours.oracle.get_state(), theirs.oracle.get_state()
    assert state.pop("rejected_draws") == {"counts": {}, "cheapest": {}, "examples": {}, "exhausted": ""}
    reference.pop("rejected_draws", None)  # convnas's own evolution oracle screens its draws too
    assert state == reference


def test_cost_budget_arguments_are_checked():
    with pytest.raises(ValueError, match=r"`max_flops` must be a positive number\. Received: max_flops=-1"):
        convnas.search.RandomSearch(build_dense, "val_accuracy", max_flops=-1, directory="unused")


def test_input_shape_of_unbuilt_models_comes_from_the_data():
    x = np.zeros((5, 8, 8), "float32")
    from convnas.search.tuners.trial_cost import input_shape

    assert input_shape((x,), {}) == (None, 8, 8)
    assert input_shape((), {"x": tf.data.Dataset.from_tensor_slices((x, x)).batch(2)}) == (None, 8, 8)
    assert input_shape((), {}) is None  # no training data: a model is built, and costed, by its fit


def test_the_heap_is_frozen_during_a_search_and_thawed_after(tmp_path):
    """What exists when a search starts is kept out of the collector's scans while its trials run (each trial's
    builds run full collections), and handed back when it ends."""
    import gc

    frozen = []

    def build_model(hp):
        frozen.append(gc.get_freeze_count())
        model = keras.Sequential([layers.Input((4,)), layers.Dense(hp.Choice("units", [2, 3])),
                                  layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
        return model

    x, y = np.ones((8, 4), "float32"), np.ones((8, 1), "float32")
    tuner = convnas.search.RandomSearch(build_model, objective="val_accuracy", max_trials=2,
                                        directory=str(tmp_path), project_name="frozen")
    before = gc.get_freeze_count()
    tuner.search(x, y, epochs=1, validation_data=(x, y), verbose=0)
    assert frozen and min(frozen[1:]) > before  # the builds of the trials ran on a frozen heap
    assert gc.get_freeze_count() == before
