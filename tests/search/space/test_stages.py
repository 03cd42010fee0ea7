"""The stage vocabulary: one validator with the search space's defaults, inactive fields None, one-line errors."""

import dataclasses

import keras_tuner as kt
import pytest

from convnas import blocks
from convnas.search.space.hypermodel import ConvNetHyperModel
from convnas.search.space.stages import CONV_BLOCKS, STAGE_DEFAULTS, Stage, make_stage


def test_a_stage_given_only_its_width_takes_the_search_space_defaults():
    hypermodel = ConvNetHyperModel((8, 8, 1), 10)
    hp = kt.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    default_candidate = hypermodel.architecture(hp)
    assert make_stage({"filters": 16}, "stage") == default_candidate.stages[0]
    assert make_stage({"filters": 32}, "stage") == default_candidate.stages[1]


def test_the_conv_blocks_of_a_plain_cell_are_registered_blocks():
    assert set(CONV_BLOCKS) <= set(blocks.list_blocks())
    assert all(blocks.get_block(name).rank == 2 for name in CONV_BLOCKS)


def test_fields_the_cell_or_block_does_not_take_read_as_none():
    assert make_stage({"filters": 8}, "s") == Stage(
        cell="plain", filters=8, blocks=1, downsampling="max", block="conv", kernel_size=3, strides=1
    )
    dilated = make_stage({"filters": 8, "block": "dilated_conv", "groups": 4}, "s")
    assert (dilated.dilation, dilated.groups) == (STAGE_DEFAULTS["dilation"], None)
    grouped = make_stage({"filters": 8, "block": "grouped_conv", "groups": 4, "channel_shuffle": True}, "s")
    assert (grouped.dilation, grouped.groups, grouped.channel_shuffle) == (None, 4, True)
    shuffle = make_stage({"cell": "shuffle_unit", "filters": 8, "block": "not even a block", "kernel_size": 5}, "s")
    assert (shuffle.block, shuffle.kernel_size, shuffle.strides, shuffle.shuffle_groups) == (None, None, None, 2)
    highway = make_stage({"cell": "highway", "filters": 8, "kernel_size": 5, "strides": 2, "gate": False}, "s")
    assert (highway.kernel_size, highway.strides, highway.gate, highway.shortcut) == (5, None, False, True)


def test_pool_size_is_for_max_and_avg_pooling_only():
    assert make_stage({"filters": 8}, "s").pool_size == 2
    assert make_stage({"filters": 8, "downsampling": "avg", "pool_size": 3}, "s").pool_size == 3
    for downsampling in ("strided", "all_conv", "none"):
        assert make_stage({"filters": 8, "downsampling": downsampling, "pool_size": 3}, "s").pool_size is None


def test_strided_downsampling_is_for_the_cells_that_take_a_stride():
    for cell in ("plain", "residual", "depthwise_separable"):
        assert make_stage({"cell": cell, "filters": 8, "downsampling": "strided"}, "s").downsampling == "strided"


def test_dilation_is_one_rate_or_a_list_of_one_rate_per_block():
    assert make_stage({"filters": 8, "block": "dilated_conv", "dilation": 3}, "s").dilation == 3
    exponential = make_stage({"filters": 8, "blocks": 4, "block": "dilated_conv", "dilation": [1, 2, 4, 8]}, "s")
    assert exponential.dilation == (1, 2, 4, 8)  # a tuple: Stage is frozen and hashable
    assert hash(exponential) == hash(dataclasses.replace(exponential))


@pytest.mark.parametrize(
    "values, message",  # the start of each message
    [
        ([8], "`base.stages[0]` must be a mapping of stage fields. Received: [8]"),
        ({"filters": 8, "colour": "red"}, "`base.stages[0]` has an unknown field 'colour'; known: cell, filters, "),
        ({"cell": "plain"}, "`base.stages[0]` needs `filters`. Received: {'cell': 'plain'}"),
        ({"filters": 8, "block": "octave_conv"},
         "`base.stages[0].block` is an unknown block: 'octave_conv'; allowed: conv, true_conv, "),
        ({"filters": 8, "cell": "dense"}, "`base.stages[0].cell` must be one of 'plain', 'inception', "),
        ({"filters": 8, "downsampling": "stride"},
         "`base.stages[0].downsampling` must be one of 'max', 'avg', 'strided', 'all_conv', 'none'. "
         "Received: base.stages[0].downsampling='stride'"),
        ({"filters": 8, "cell": "inception", "downsampling": "strided"},
         "`base.stages[0].downsampling` can be 'strided' only in a cell that takes a stride (plain, residual, "
         "depthwise_separable). Received: base.stages[0].downsampling='strided' for cell='inception'"),
        ({"filters": 8, "pool_size": 0},
         "`base.stages[0].pool_size` must be a positive integer. Received: base.stages[0].pool_size=0"),
        ({"filters": 0}, "`base.stages[0].filters` must be a positive integer. Received: base.stages[0].filters=0"),
        ({"filters": 8, "kernel_size": 2.5},
         "`base.stages[0].kernel_size` must be a positive integer. Received: base.stages[0].kernel_size=2.5"),
        ({"filters": 8, "gate": "no"},
         "`base.stages[0].gate` must be True or False. Received: base.stages[0].gate='no'"),
        *[
            ({"filters": 8, "blocks": 4, "block": "dilated_conv", "dilation": rates},
             "`base.stages[0].dilation` must be a positive integer or a sequence of 4 positive integers. "
             f"Received: base.stages[0].dilation={rates!r}")
            for rates in ([1, 2, 4], [1, 2, 0, 8], "1248", [1, "2", 4, 8], [1.0, 2, 4, 8])
        ],
    ],
)
def test_errors_name_the_field_and_the_value_on_one_line(values, message):
    with pytest.raises(ValueError) as error:
        make_stage(values, "base.stages[0]")
    assert str(error.value).startswith(message), str(error.value)
    assert "\n" not in str(error.value)
