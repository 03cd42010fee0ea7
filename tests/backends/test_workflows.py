"""The three workflows on the backend Keras runs (KERAS_BACKEND): `convnas search` (random search with a
proxy prescreen, and evolution), a drop-in tuner over a user's own build_model(hp), and a Study."""

import csv
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

import convnas.search
from convnas.experiments import Study
from convnas.search import cost

pytestmark = pytest.mark.backends

SPEC = """\
epochs: 2
warmup_epochs: 0
space:
  stages: 1
  cell: [plain, residual]
  block: conv
  filters: [8, 16]
  blocks: 1
  downsampling: max
  learning_rate: 0.005
"""


def read_csv(path):
    with open(path) as stream:
        return list(csv.DictReader(stream))


def digits_arrays():
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]
    return x[:1400], digits.target[:1400], x[1400:], digits.target[1400:]


@pytest.mark.parametrize("tuner, extra", [("random", ["--prescreen", "2", "--proxy", "synflow"]),
                                          ("evolution", [])])
def test_convnas_search_trains_records_and_ranks(tmp_path, tuner, extra):
    (tmp_path / "spec.yaml").write_text(SPEC)
    logdir = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "convnas", "search", str(tmp_path / "spec.yaml"), "--tuner", tuner,
         "--max-trials", "2", "--logdir", str(logdir), *extra],
        capture_output=True, text=True, timeout=600, env={**os.environ, "KERAS_BACKEND": keras.backend.backend()})
    assert result.returncode == 0, result.stderr[-3000:]
    records = read_csv(logdir / "trials.csv")
    assert [r["status"] for r in records] == ["COMPLETED"] * 2
    assert max(float(r["val_accuracy"]) for r in records) > 0.2  # twice chance (0.1) after two epochs
    for record in records:
        assert 0.0 <= float(record["val_accuracy"]) <= 1.0
        assert int(record["params"]) > 0 and int(record["flops"]) > 0
        if extra:
            assert float(record["proxy_score"]) > 0  # synflow of the candidate the prescreen kept
    assert {"pareto.csv", "pareto.png", "best_model.keras"} <= set(os.listdir(logdir))
    assert "hypervolume" in result.stdout


def build_model(hp):
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(hp.Choice("filters", [4, 8]), 3, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_a_drop_in_tuner_costs_and_records_a_users_model(tmp_path):
    x_train, y_train, x_val, y_val = digits_arrays()
    tuner = convnas.search.RandomSearch(build_model, objective="val_accuracy", max_trials=2, directory=str(tmp_path),
                                        project_name="mine", seed=0)
    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val), verbose=0)
    records = read_csv(tmp_path / "mine" / "trials.csv")
    assert [r["status"] for r in records] == ["COMPLETED"] * 2
    for record in records:
        model = build_model(tuner.oracle.get_trial(record["trial_id"]).hyperparameters)
        assert int(record["params"]) == model.count_params() == cost.count(model).params
        assert int(record["flops"]) == cost.count(model).flops and float(record["val_accuracy"]) > 0.1
    best = tuner.get_best_models(1)[0]
    assert best.evaluate(x_val, y_val, verbose=0)[1] == pytest.approx(
        max(float(r["val_accuracy"]) for r in records), abs=1e-6)


def build(config):
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(config["filters"], 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])


def test_a_study_trains_every_variant_and_writes_its_table(tmp_path):
    study = Study(build=build, base={"filters": 8}, variants={"wide": {"filters": 16}}, data=digits_arrays(),
                  seeds=2, epochs=1, logdir=tmp_path / "study", name="mine", learning_rate=0.01)
    rows = study.run(write=lambda line: None)
    assert [row["variant"] for row in rows] == ["baseline", "wide"]
    runs = [json.loads(line) for line in (tmp_path / "study" / "runs.jsonl").read_text().splitlines()]
    assert len(runs) == 4 and all(0.1 < run["test_accuracy"] <= 1.0 for run in runs)
    environment = json.loads((tmp_path / "study" / "study.json").read_text())["environment"]
    assert environment["backend"] == keras.backend.backend()
    assert (tmp_path / "study" / "table.md").exists()
