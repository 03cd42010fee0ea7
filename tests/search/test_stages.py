"""The stage vocabulary: one validator with the search space's defaults, inactive fields None, one-line errors."""

import keras_tuner as kt
import pytest

from convnas.search.space import ConvNetHyperModel
from convnas.search.stages import STAGE_DEFAULTS, Stage, make_stage


def test_a_stage_given_only_its_width_takes_the_search_space_defaults():
    hypermodel = ConvNetHyperModel((8, 8, 1), 10)
    hp = kt.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    default_candidate = hypermodel.architecture(hp)
    assert make_stage({"filters": 16}, "stage") == default_candidate.stages[0]
    assert make_stage({"filters": 32}, "stage") == default_candidate.stages[1]


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


@pytest.mark.parametrize(
    "values, message",  # the start of each message
    [
        ([8], "`base.stages[0]` must be a mapping of stage fields. Received: [8]"),
        ({"filters": 8, "colour": "red"}, "`base.stages[0]` has an unknown field 'colour'; known: cell, filters, "),
        ({"cell": "plain"}, "`base.stages[0]` needs `filters`. Received: {'cell': 'plain'}"),
        ({"filters": 8, "block": "octave_conv"}, "`base.stages[0].block` is an unknown block: 'octave_conv'; allowed: conv, true_conv, "),
        ({"filters": 8, "cell": "dense"}, "`base.stages[0].cell` must be one of 'plain', 'inception', "),
        ({"filters": 8, "downsampling": "stride"}, "`base.stages[0].downsampling` must be one of 'max', 'avg', 'strided_conv', 'none'. Received: base.stages[0].downsampling='stride'"),
        ({"filters": 0}, "`base.stages[0].filters` must be a positive integer. Received: base.stages[0].filters=0"),
        ({"filters": 8, "kernel_size": 2.5}, "`base.stages[0].kernel_size` must be a positive integer. Received: base.stages[0].kernel_size=2.5"),
        ({"filters": 8, "gate": "no"}, "`base.stages[0].gate` must be True or False. Received: base.stages[0].gate='no'"),
    ],
)
def test_errors_name_the_field_and_the_value_on_one_line(values, message):
    with pytest.raises(ValueError) as error:
        make_stage(values, "base.stages[0]")
    assert str(error.value).startswith(message), str(error.value)
    assert "\n" not in str(error.value)
