"""keras-tuner's documented patterns with convnas's drop-in tuners: its results and errors, convnas's records beside.

Overridden `run_trial`s (a number, a dict, a History, a list of them), tuners without a hypermodel or
without data, subclassed models, lists of objectives, keras-tuner's own errors, and the cost budgets
where a cost is known only after training.
"""

import csv
import warnings

import keras
import keras_tuner
import numpy as np
import pytest
from keras import layers

import convnas.search

X, Y = np.random.default_rng(0).random((64, 2), dtype="float32"), np.arange(64) % 3
COST_COLUMNS = ("params", "macs", "flops", "activation_bytes", "latency_ms")


def build_functional(hp):
    inputs = keras.Input((2,))
    x = layers.Dense(hp.Int("units", 4, 8, step=4), activation="relu")(inputs)
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(x))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Subclassed(keras.Model):
    """A subclassed model (no graph of its own: convnas counts it through a functional model around it)."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden, self.out = layers.Dense(units, activation="relu"), layers.Dense(3, activation="softmax")

    def build(self, input_shape):  # what keras-tuner's load_model needs of a subclassed model (as keras-tuner's)
        self.hidden.build(input_shape)
        self.out.build((*input_shape[:-1], self.units))
        super().build(input_shape)

    def call(self, x):
        return self.out(self.hidden(x))

    def get_config(self):
        return {"units": self.units}


def build_subclassed(hp):
    model = Subclassed(hp.Int("units", 4, 8, step=4))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def said(caught, text):
    """How many of the warnings `caught` say `text`."""
    return sum(text in str(warning.message) for warning in caught)


def history(value):
    made = keras.callbacks.History()
    made.history = {"val_loss": [value + 1, value]}
    return made


@pytest.mark.parametrize("result, recorded", [
    (lambda value: value, lambda value: value),
    (lambda value: {"val_loss": value, "loss": 2 * value}, lambda value: value),
    (history, lambda value: value),  # keras-tuner keeps the best epoch of a History
    (lambda value: [{"val_loss": value}, {"val_loss": value + 2}], lambda value: value + 1),  # averaged
])
def test_an_overridden_run_trial_is_recorded_with_its_metrics_and_no_cost(tmp_path, result, recorded):
    class OwnTrials(convnas.search.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            return result(trial.hyperparameters.Float("value", 0, 10))

    tuner = OwnTrials(objective="val_loss", max_trials=3, directory=str(tmp_path), max_flops=1e6, seed=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner.search()  # no hypermodel, no data
    records = tuner.records.read()
    assert [r["status"] for r in records] == ["COMPLETED"] * 3
    for record in records:
        value = tuner.oracle.get_trial(record["trial_id"]).hyperparameters.get("value")
        assert record["val_loss"] == pytest.approx(recorded(value)) and record["value"] == value
        assert not any(column in record for column in COST_COLUMNS)
    assert said(caught, "run_trial trains no Keras model convnas sees") == 1  # once, not per trial
    assert said(caught, "the budgets (max_flops 1e+06) cannot be checked before training") == 1


def test_keras_tuner_s_errors_are_keras_tuner_s(tmp_path):
    with pytest.raises(ValueError, match=r"Received `hypermodel=None`\. We only allow not specifying"):
        convnas.search.RandomSearch(max_trials=1, directory=str(tmp_path))
    tuner = convnas.search.RandomSearch(lambda hp: None, "val_accuracy", directory=str(tmp_path), project_name="a")
    with pytest.raises(keras_tuner.errors.FatalTypeError, match="Expected the model-building function"):
        tuner.search()

    class Words(keras_tuner.HyperModel):
        def build(self, hp):
            return build_functional(hp)

        def fit(self, hp, model, *args, **kwargs):
            return hp.Choice("word", ["a", "b"])

    tuner = convnas.search.RandomSearch(Words(), "val_loss", directory=str(tmp_path), project_name="b")
    with pytest.raises(TypeError, match=r"HyperModel\.fit\(\) to be one of float, dict"):
        tuner.search()


def test_a_hypermodel_whose_fit_returns_the_objective_is_costed_without_data(tmp_path):
    class Scored(keras_tuner.HyperModel):
        def build(self, hp):
            return build_functional(hp)

        def fit(self, hp, model, *args, **kwargs):
            return float(hp.get("units"))

    tuner = convnas.search.RandomSearch(Scored(), max_trials=2, directory=str(tmp_path), seed=0)
    tuner.search()
    for record in tuner.records.read():
        assert record["status"] == "COMPLETED" and record["default_objective"] == record["units"]
        assert record["params"] == 2 * record["units"] + record["units"] + record["units"] * 3 + 3


def test_subclass_build_and_fit_and_epoch_hooks_are_called(tmp_path):
    called = {"build_and_fit": 0, "epochs": 0}

    class Hooked(convnas.search.RandomSearch):
        def _build_and_fit_model(self, trial, *args, **kwargs):
            called["build_and_fit"] += 1
            return super()._build_and_fit_model(trial, *args, **kwargs)

        def on_epoch_end(self, trial, model, epoch, logs=None):
            called["epochs"] += 1

    tuner = Hooked(build_functional, "val_accuracy", max_trials=2, executions_per_trial=2, directory=str(tmp_path))
    tuner.search(X, Y, epochs=2, validation_data=(X, Y), verbose=0)
    assert called == {"build_and_fit": 4, "epochs": 8}  # 2 trials x 2 executions (x 2 epochs)
    assert all(record["params"] > 0 for record in tuner.records.read())


def test_a_subclassed_model_is_counted_once_fit_built_it_and_its_best_model_loads(tmp_path):
    tuner = convnas.search.RandomSearch(build_subclassed, "val_accuracy", max_trials=2, directory=str(tmp_path),
                                        max_params=10**6, seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner.search(epochs=1, x=X, y=Y, validation_data=(X, Y), verbose=0)
    assert said(caught, "cannot be checked before training") == 0  # the data's shape builds it: counted before
    for record in tuner.records.read():
        units = record["units"]
        assert record["params"] == 3 * units + 3 * units + 3 and record["macs"] == 2 * units + 3 * units
    best = tuner.oracle.get_best_trials()[0]
    model = tuner.get_best_models()[0]
    assert model.evaluate(X, Y, verbose=0, return_dict=True)["accuracy"] == pytest.approx(best.score)


def test_without_data_a_subclassed_model_is_counted_after_training_and_its_budget_said_once(tmp_path):
    class OwnData(keras_tuner.HyperModel):
        def build(self, hp):
            return build_subclassed(hp)

        def fit(self, hp, model, *args, **kwargs):
            return model.fit(X, Y, validation_data=(X, Y), verbose=0, **kwargs)

    tuner = convnas.search.RandomSearch(OwnData(), "val_accuracy", max_trials=2, directory=str(tmp_path),
                                        max_params=10, seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner.search(epochs=1)
    records = tuner.records.read()
    assert [r["status"] for r in records] == ["COMPLETED"] * 2  # over max_params, but never refused
    assert all(r["params"] == 6 * r["units"] + 3 and r["macs"] == 5 * r["units"] for r in records)
    assert said(caught, "the budgets (max_params 10) cannot be checked before training") == 1


def test_a_model_that_cannot_be_traced_says_why_its_cost_columns_are_empty(tmp_path):
    class Eager(Subclassed):
        def call(self, x):
            return self.out(self.hidden(x * float(np.asarray(x).max() > -1)))  # needs a concrete tensor

    def build(hp):
        model = Eager(hp.Int("units", 4, 8, step=4))
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"], run_eagerly=True)
        return model

    tuner = convnas.search.RandomSearch(build, "val_accuracy", max_trials=1, directory=str(tmp_path))
    tuner.search(X, Y, epochs=1, validation_data=(X, Y), verbose=0)
    record = tuner.records.read()[0]
    assert record["status"] == "COMPLETED" and not any(column in record for column in COST_COLUMNS)
    assert record["reason"].startswith("cost not counted: Eager cannot be called on a symbolic input")


def test_a_list_of_objectives_is_keras_tuner_s_multi_objective_with_fronts(tmp_path):
    tuner = convnas.search.RandomSearch(build_functional, ["val_accuracy", "val_loss"], max_trials=4,
                                        directory=str(tmp_path), seed=0)
    tuner.search(X, Y, epochs=1, validation_data=(X, Y), verbose=0)
    assert tuner.oracle.objective.name == "multi_objective"
    for record in tuner.records.read():
        trial = tuner.oracle.get_trial(record["trial_id"])
        combined = trial.metrics.get_last_value("multi_objective")
        assert combined == pytest.approx(record["val_loss"] - record["val_accuracy"])  # keras-tuner's sum
    assert (tmp_path / "untitled_project" / "pareto.csv").read_text().count("accuracy_vs_flops") >= 1
    with open(tmp_path / "untitled_project" / "pareto.csv") as stream:
        listed = {row["trial_id"] for row in csv.DictReader(stream) if row["front"] == "objectives"}
    records = tuner.records.read()
    beaten = {r["trial_id"] for r in records for o in records  # on both objectives at once, better on one
              if o["val_accuracy"] >= r["val_accuracy"] and o["val_loss"] <= r["val_loss"]
              and (o["val_accuracy"] > r["val_accuracy"] or o["val_loss"] < r["val_loss"])}
    assert listed and listed == {r["trial_id"] for r in records} - beaten  # the front of the listed objectives


def test_a_model_keras_cannot_save_whole_skips_best_model_keras_with_one_line(tmp_path):
    tuner = convnas.search.RandomSearch(build_functional, "val_loss", max_trials=2, directory=str(tmp_path),
                                        optimizer=keras.optimizers.Adam(0.01), seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner.search(X, Y, epochs=1, validation_data=(X, Y), verbose=0)
    assert [r["status"] for r in tuner.records.read()] == ["COMPLETED"] * 2
    assert said(caught, "best_model.keras not written: Functional cannot be saved whole by Keras") == 1
    assert not (tmp_path / "untitled_project" / "best_model.keras").exists()
    assert float(tuner.get_best_models()[0].optimizer.learning_rate) == pytest.approx(0.01)


def test_keras_tuner_s_max_model_size_fails_the_trial_and_its_record_says_why(tmp_path):
    tuner = convnas.search.GridSearch(build_functional, "val_accuracy", directory=str(tmp_path), max_model_size=40)
    tuner.search(X, Y, epochs=1, validation_data=(X, Y), verbose=0)
    records = {r["units"]: r for r in tuner.records.read()}
    assert records[4]["status"] == "COMPLETED" and records[4]["params"] == 27  # 2*4+4 + 4*3+3
    assert records[8]["status"] == "FAILED"
    assert records[8]["reason"] == "error: FailedTrialError: Oversized model: 51 parameters. Skip model."
    assert {t.status for t in tuner.oracle.trials.values()} == {"COMPLETED", "FAILED"}  # keras-tuner's statuses
