"""A candidate's cost from its layout (no model built) equals the built model's count, and rejects alike."""

import keras
import keras_tuner as kt
import pytest

from convnas.search import cost
from convnas.search.benchmark import tabular
from convnas.search.space.hypermodel import ConvNetHyperModel, build_model
from convnas.search.tuners.rejection import InvalidCandidate

DIGITS = {"input_shape": (8, 8, 1), "num_classes": 10, "input_scale": 1 / 16}


def declared(hypermodel):
    hp = kt.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    return hp


def outcomes(hypermodel, hp):
    """(params, MACs, FLOPs) or the rejection's reason: from the layout, and from the built model's count."""
    try:
        arithmetic = hypermodel.arithmetic_cost(hp.values)
        by_layout = (arithmetic.params, arithmetic.macs, arithmetic.flops)
    except InvalidCandidate as rejection:
        by_layout = rejection.reason
    keras.backend.clear_session(free_memory=False)
    architecture = hypermodel.architecture(hp)
    try:
        model = build_model(architecture, hypermodel.input_shape, hypermodel.num_classes, hypermodel.input_scale)
    except ValueError:
        with pytest.raises(InvalidCandidate) as rejection:
            hypermodel.build(hp)
        return by_layout, rejection.value.reason
    counted = cost.count(model)
    return by_layout, (counted.params, counted.macs, counted.flops)


def test_every_architecture_of_the_tabular_sub_space_costs_as_its_built_model():
    hypermodel = ConvNetHyperModel(**DIGITS, overrides=tabular.DIGITS.subspace)
    hp = declared(hypermodel)
    for values in tabular.DIGITS.architectures():
        hp.values = {**hp.values, **values}
        by_layout, counted = outcomes(hypermodel, hp)
        assert by_layout == counted, values


def test_a_random_sample_of_the_whole_space_costs_and_is_rejected_as_its_built_model():
    hypermodel = ConvNetHyperModel(**DIGITS)
    hp = declared(hypermodel)
    oracle = kt.oracles.RandomSearchOracle(objective="val_accuracy", max_trials=200, seed=3)
    oracle.hyperparameters = hp
    invalid = 0
    for index in range(200):
        candidate = hp.copy()
        candidate.values = dict(oracle.populate_space(str(index))["values"])
        by_layout, counted = outcomes(hypermodel, candidate)
        assert by_layout == counted, candidate.values
        invalid += isinstance(counted, str)
    assert 0 < invalid < 100  # both kinds were compared


THREE_PLAIN_STAGES = {"stages": 3, "stem_filters": 16, "cell": "plain", "block": "conv", "filters": 16, "blocks": 1,
                      "kernel_size": 3, "strides": 1, "downsampling": "max"}


@pytest.mark.parametrize(
    "overrides",
    [
        {"stage3_block": "dilated_conv", "stage3_strides": 2, "dilation": 2},
        {"stage2_cell": "inception", "stage2_filters": 12},
        {"stage1_block": "grouped_conv", "groups": 3},
        {"stage2_cell": "shuffle_unit", "stage2_filters": 24, "shuffle_groups": 5},
        {"stage3_cell": "highway", "stage3_downsampling": "strided"},
        {"stage1_block": "grouped_conv", "groups": 4, "stage1_filters": 32, "stem_filters": 16},  # a valid one
        {"stage2_block": "flattened_conv", "stage2_strides": 2, "head": "flatten", "head_units": 64},
    ],
)
def test_a_candidate_outside_the_defaults_costs_and_is_rejected_as_its_built_model(overrides):
    hypermodel = ConvNetHyperModel((12, 10, 3), 4, {**THREE_PLAIN_STAGES, **overrides})
    by_layout, counted = outcomes(hypermodel, declared(hypermodel))
    assert by_layout == counted
