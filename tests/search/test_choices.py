"""search.choices: one registry per choice, whose entries are what the loaders and dispatchers call.

A proxy or dataset registered with one `register` call is what `proxies.score`
and `datasets.load_dataset` run; every built-in entry imports and has the
calling convention its registry states.
"""

import inspect

import keras
import numpy as np
import pytest

from convnas.search import choices, proxies
from convnas.search.common.spec_files import SpecError
from convnas.search.data import datasets
from convnas.search.space.spec import build_spec

REGISTRIES = [choices.TUNERS, choices.PROXIES, choices.DATASETS, choices.DATASET_FILES, choices.OBJECTIVES,
              choices.PARETO_COSTS, choices.OPTIMIZERS]


def labels_sum(model, x, y):
    return float(np.sum(y)) + 0.5


def four_squares(name):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(40, 4, 4, 1)).astype(np.uint8)
    y = np.arange(40) % 4
    return datasets.Source((x[:32], y[:32]), (x[32:], y[32:]), 1 / 255, ("a", "b", "c", "d"))


@pytest.fixture
def registered():
    choices.PROXIES.register("labels_sum", labels_sum)
    choices.DATASETS.register("four_squares", four_squares)
    yield
    choices.PROXIES.unregister("labels_sum")
    choices.DATASETS.unregister("four_squares")


def test_a_registered_proxy_is_what_score_runs(registered):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    x, y = np.ones((4, 3), dtype="float32"), np.array([0, 1, 1, 1])
    assert "labels_sum" in proxies.PROXIES
    assert proxies.score("labels_sum", model, x, y) == 3.5


def test_a_registered_dataset_is_what_load_dataset_loads(registered):
    data = datasets.load_dataset("four_squares", seed=0, validation_split=0.25)
    assert data.name == "four_squares" and data.num_classes == 4 and data.input_shape == (4, 4, 1)
    assert len(data.x_train) == 24 and len(data.x_val) == 8 and len(data.x_test) == 8
    assert data.scale == 1 / 255 and data.class_names == ("a", "b", "c", "d")


def test_an_unregistered_name_is_refused_again(registered):
    choices.DATASETS.unregister("four_squares")
    try:
        with pytest.raises(datasets.DatasetError, match=r"`dataset` must be one of digits, .*dir:PATH\. "
                                                         r"Received: dataset='four_squares'"):
            datasets.load_dataset("four_squares")
        assert "four_squares" not in choices.dataset_names()
    finally:
        choices.DATASETS.register("four_squares", four_squares)  # for the fixture's unregister


@pytest.mark.parametrize("registry", REGISTRIES, ids=lambda registry: registry.kind)
def test_every_entry_loads(registry):
    assert registry.names()
    for name in registry:
        assert registry.load(name) is not None


def test_each_registry_holds_what_its_readers_call():
    assert all(isinstance(choices.TUNERS.load(name), type) for name in choices.TUNERS)
    for name in choices.PROXIES:  # every proxy is called as fn(model, x, y)
        parameters = list(inspect.signature(choices.PROXIES.load(name)).parameters)
        assert parameters[:3] == ["model", "x", "y"], (name, parameters)
    for registry in (choices.DATASETS, choices.DATASET_FILES):
        assert all(len(inspect.signature(registry.load(name)).parameters) == 1 for name in registry)
    assert all(direction in ("min", "max") for _, direction in map(choices.OBJECTIVES.load, choices.OBJECTIVES))
    assert all(issubclass(choices.OPTIMIZERS.load(name), keras.optimizers.Optimizer) for name in choices.OPTIMIZERS)
    assert all(choices.PARETO_COSTS.load(name) > 1 for name in choices.PARETO_COSTS)


def test_a_registry_refuses_bad_names_and_names_its_choices():
    registry = choices.Registry("colour", {"red": "builtins:str"})
    with pytest.raises(ValueError, match=r"a colour name must be an identifier. Received: name='dark red'"):
        registry.register("dark red", object())
    with pytest.raises(ValueError, match=r"a colour called 'red' is registered already"):
        registry.register("red", object())
    with pytest.raises(ValueError, match=r"`colour` must be one of 'red'. Received: colour='blue'"):
        registry.check("colour", "blue")
    assert registry.load("red") is str and ["x"] not in registry  # an unhashable value is simply not a name


def test_the_spaces_optimizer_takes_the_registered_optimizers():
    assert build_spec({"space": {"optimizer": ["adam", "sgd", "rmsprop"]}}, {}).space["optimizer"][1] == "sgd"
    with pytest.raises(SpecError, match=r"`space.optimizer` has an unknown value: 'adagrad'; allowed: adam, sgd, "
                                        r"rmsprop$"):
        build_spec({"space": {"optimizer": "adagrad"}}, {})


def test_dataset_names_and_files():
    assert choices.dataset_names()[-2:] == ("npz:PATH", "dir:PATH")
    assert choices.check_dataset("npz:data/x.npz") == "npz:data/x.npz"
    assert choices.check_dataset("photos", extra=("photos",)) == "photos"
    for bad in ("npz:", "csv:data.csv", None, "photos"):
        with pytest.raises(ValueError, match=r"`dataset` must be one of digits, "):
            choices.check_dataset(bad)
