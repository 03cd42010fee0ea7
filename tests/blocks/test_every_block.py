"""Every registered block: output shape, config round trip, .keras save/load, parameter closed form."""

import inspect

import keras
import numpy as np
import pytest
from block_examples import CLOSED_FORMS, EXAMPLES, INPUT_1D, INPUT_2D

from convnas import blocks

pytestmark = pytest.mark.backends  # also run on JAX and PyTorch (the backend job)

CASES = [
    pytest.param(name, kwargs, id=f"{name}-{i}")
    for name in blocks.list_blocks()
    for i, kwargs in enumerate(EXAMPLES.get(name, [{}]))
]


def make(name, kwargs):
    cls = blocks.get_block(name)
    shape = INPUT_1D if cls.rank == 1 else INPUT_2D
    inputs = np.random.default_rng(0).normal(size=shape).astype("float32")
    return cls(**kwargs), inputs


def test_every_block_has_examples_and_a_closed_form():
    assert sorted(EXAMPLES) == blocks.list_blocks()
    assert sorted(CLOSED_FORMS) == blocks.list_blocks()


@pytest.mark.parametrize("name, kwargs", CASES)
def test_forward_shape_equals_arithmetic(name, kwargs):
    block, inputs = make(name, kwargs)
    predicted = block.compute_output_shape(inputs.shape)
    outputs = block(inputs)
    assert tuple(outputs.shape) == tuple(predicted)
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(outputs)))


@pytest.mark.parametrize("name, kwargs", CASES)
def test_config_is_exactly_the_constructor_arguments(name, kwargs):
    block, inputs = make(name, kwargs)
    config = block.get_config()
    arguments = [p for p in inspect.signature(type(block).__init__).parameters if p not in ("self", "kwargs")]
    assert set(config) == set(arguments) | {"name", "trainable", "dtype"}
    clone = type(block).from_config(config)
    assert clone.get_config() == {**config, "name": clone.name}
    clone_out, block_out = clone.compute_output_shape(inputs.shape), block.compute_output_shape(inputs.shape)
    assert tuple(clone_out) == tuple(block_out)


@pytest.mark.parametrize("name, kwargs", CASES)
def test_keras_save_and_load_gives_identical_outputs(name, kwargs, tmp_path):
    block, inputs = make(name, kwargs)
    x = keras.Input(inputs.shape[1:])
    model = keras.Model(x, block(x))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.layers[1]) is type(block)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(inputs)), keras.ops.convert_to_numpy(model(inputs))
    )


@pytest.mark.parametrize("name, kwargs", CASES)
def test_parameter_count_equals_closed_form(name, kwargs):
    block, inputs = make(name, kwargs)
    block.build(inputs.shape)
    assert block.count_params() == CLOSED_FORMS[name](inputs.shape[-1], block)
