"""The saved best model takes data as its user has it: raw digits 0..16, 8-bit images 0..255; class names beside it."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from convnas.search import cost
from convnas.search.data import datasets
from convnas.search.data.class_names import class_names
from convnas.search.runner import run_search
from convnas.search.space.spec import build_spec

ONE_CANDIDATE = {
    "stem_filters": 16, "stages": 1, "cell": "plain", "block": "conv", "filters": 16, "blocks": 1, "kernel_size": 3,
    "downsampling": "max", "head": "global_average_pooling", "head_units": 0, "optimizer": "adam",
    "learning_rate": 0.01,
}


@pytest.fixture(scope="module")
def digits_search(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("digits")
    spec = build_spec({"space": ONE_CANDIDATE},
                      {"dataset": "digits", "max_trials": 1, "epochs": 2, "batch_size": 16, "logdir": str(logdir)})
    (record,) = run_search(spec, write=lambda line: None)
    return logdir, record


def test_best_model_scores_on_raw_scikit_learn_digits_what_the_search_recorded(digits_search):
    logdir, record = digits_search
    assert record["status"] == "COMPLETED"
    # The digits as the user has them: scikit-learn's 0..16 values, float64, no scaling.
    digits = load_digits()
    assert digits.images.max() == 16
    # The search's fixed test split (datasets: a stratified 20%, seed 0), as scikit-learn's own split gives it.
    _, test = train_test_split(np.arange(len(digits.target)), test_size=round(0.2 * len(digits.target)),
                               stratify=digits.target, random_state=datasets.DIGITS_TEST_SEED)
    test = np.sort(test)
    searched = datasets.load_dataset("digits")
    np.testing.assert_array_equal(searched.x_test[..., 0], digits.images[test])  # the same images, as stored

    model = keras.saving.load_model(logdir / "best_model.keras")
    predicted = model.predict(digits.images[test][..., np.newaxis], verbose=0).argmax(axis=1)
    raw_accuracy = float(np.mean(predicted == digits.target[test]))
    assert raw_accuracy == pytest.approx(record["test_accuracy"], abs=1e-6)  # evaluated by the search, in trials.jsonl
    assert raw_accuracy > 0.6  # chance is 0.1
    # Scaling by hand now scales twice: the model does it itself.
    prescaled = model.predict(digits.images[test][..., np.newaxis] / 16, verbose=0).argmax(axis=1)
    assert float(np.mean(prescaled == digits.target[test])) < raw_accuracy - 0.3


def test_best_model_starts_with_the_rescaling_and_counts_it(digits_search):
    logdir, record = digits_search
    model = keras.saving.load_model(logdir / "best_model.keras")
    first = model.layers[1]
    assert isinstance(first, keras.layers.Rescaling) and first.scale == pytest.approx(1 / 16) and first.offset == 0
    counted = cost.count(model)
    assert counted.uncounted == []
    assert counted.layers[0].name == "rescaling" and counted.layers[0].flops == 2 * 8 * 8 * 1
    assert counted.flops == record["flops"]


def test_image_folder_search_writes_class_names_and_its_model_takes_uint8_images(tmp_path):
    colours = {"circles": (200, 30, 30), "squares": (30, 30, 200)}
    for name, colour in colours.items():
        (tmp_path / "images" / name).mkdir(parents=True)
        for index in range(6):
            pixels = np.clip(np.array(colour) + 5 * index, 0, 255).astype(np.uint8)
            Image.fromarray(np.broadcast_to(pixels, (8, 8, 3)).copy()).save(tmp_path / "images" / name / f"{index}.png")
    logdir = tmp_path / "run"
    spec = build_spec({"space": ONE_CANDIDATE},
                      {"dataset": f"dir:{tmp_path / 'images'}", "max_trials": 1, "epochs": 1, "logdir": str(logdir)})
    lines = []
    (record,) = run_search(spec, write=lines.append)
    assert json.loads((logdir / "class_names.json").read_text()) == ["circles", "squares"]
    written = "\n".join(lines).split("written: ")[1].split("dashboard: ")[0]  # wrapped within 100 columns
    assert str(logdir / "class_names.json") in written.split()
    model = keras.saving.load_model(logdir / "best_model.keras")
    assert model.layers[1].scale == pytest.approx(1 / 255)
    images = np.stack([np.asarray(Image.open(tmp_path / "images" / name / "0.png")) for name in colours])
    assert images.dtype == np.uint8  # as the files hold them
    data = datasets.load_dataset(f"dir:{tmp_path / 'images'}")
    searched = {row.tobytes() for row in np.concatenate([data.x_train, data.x_val])}
    # what the search fed: the same values
    assert all(image.astype(np.float32).tobytes() in searched for image in images)
    np.testing.assert_allclose(model.predict(images, verbose=0), model.predict(images.astype(np.float32), verbose=0),
                               rtol=1e-6)
    # The class names travel inside the model, through re-saving too, and cost nothing.
    assert class_names(model) == ("circles", "squares")
    assert model.layers[-1].name == "class_names" and model.layers[-1].count_params() == 0
    model.save(tmp_path / "again.keras")
    again = keras.saving.load_model(tmp_path / "again.keras")
    assert class_names(again) == ("circles", "squares")
    np.testing.assert_array_equal(again.predict(images, verbose=0), model.predict(images, verbose=0))
    counted = cost.count(again)
    assert counted.uncounted == [] and counted.flops == record["flops"]


def test_a_model_loads_its_class_names_in_a_fresh_process_after_import_convnas(tmp_path):
    from convnas.search.space.hypermodel import Architecture, build_model
    from convnas.search.space.stages import Stage
    from convnas.search.space.training import TrainingConfig

    stage = Stage("plain", 8, 1, "max", block="conv", kernel_size=3, strides=1)
    architecture = Architecture(8, (stage,), "global_average_pooling", 0, TrainingConfig("adam", 0.01))
    model = build_model(architecture, (8, 8, 1), 3, 1 / 16, ["a", "b", "c"])
    model.save(tmp_path / "m.keras")
    script = ("import convnas, keras, sys; from convnas.search.data.class_names import class_names; "
              "print(class_names(keras.saving.load_model(sys.argv[1])))")
    shown = subprocess.run([sys.executable, "-c", script, str(tmp_path / "m.keras")], capture_output=True, text=True,
                           timeout=300)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert shown.stdout.strip() == "('a', 'b', 'c')"


@pytest.mark.parametrize("names", [["a", "b"], ["a", "b", "b"], ["a", "", "c"]])
def test_class_names_must_name_each_class_once(names):
    from convnas.search.space.hypermodel import ConvNetHyperModel

    with pytest.raises(ValueError, match="class_names"):
        ConvNetHyperModel((8, 8, 1), 3, class_names=names)
