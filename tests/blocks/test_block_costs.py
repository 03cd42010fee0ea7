"""Each block's own arithmetic (`cost`) equals the cost model's count of the built block, for every example."""

import keras
import pytest
from block_examples import EXAMPLES, INPUT_1D, INPUT_2D

from convnas import blocks
from convnas.search import cost
from convnas.search.space.stages import CONV_BLOCKS

pytestmark = pytest.mark.backends  # also run on JAX and PyTorch (the backend job)

# The blocks the search space builds: every plain-cell block, the cells, and the layers around them.
SPACE_BLOCKS = (*CONV_BLOCKS, "residual", "inception", "highway", "shuffle_unit", "pool", "pointwise",
                "channel_shuffle")
WITHOUT_ARITHMETIC = ("textcnn", "transposed_conv", "upsample_conv")  # the search space never builds them

CASES = [(name, arguments) for name in blocks.list_blocks() if name not in WITHOUT_ARITHMETIC
         for arguments in EXAMPLES[name]]


def test_every_block_of_the_search_space_has_its_arithmetic():
    assert not set(SPACE_BLOCKS) & set(WITHOUT_ARITHMETIC)
    assert all(callable(getattr(blocks.get_block(name), "cost", None)) for name in SPACE_BLOCKS)


@pytest.mark.parametrize("name, arguments", CASES, ids=[f"{name}-{i}" for i, (name, _) in enumerate(CASES)])
def test_a_blocks_arithmetic_equals_the_count_of_the_built_block(name, arguments):
    cls = blocks.get_block(name)
    shape = (INPUT_1D if cls.rank == 1 else INPUT_2D)[1:]
    inputs = keras.Input(shape)
    outputs = cls(**arguments)(inputs)
    counted = cost.count(keras.Model(inputs, outputs))
    arithmetic = cls.cost(shape, **arguments)
    assert arithmetic.output_shape == tuple(outputs.shape[1:])
    assert (arithmetic.params, arithmetic.macs, arithmetic.flops) == (counted.params, counted.macs, counted.flops)
