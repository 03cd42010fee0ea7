"""The search space: valid models over many samples, conditional hyperparameters, overrides, the default."""

import collections

import keras
import keras_tuner as kt
import pytest

from convnas.search.rejection import InvalidCandidate
from convnas.search.space import ConvNetHyperModel
from convnas.search.stages import CONV_BLOCKS

CONDITIONS = {  # hyperparameter suffix -> (parent suffix, parent values)
    "block": ("cell", {"plain"}),
    "dilation": ("block", {"dilated_conv"}),
    "groups": ("block", {"grouped_conv"}),
    "kernel_size": ("cell", {"plain", "residual", "highway", "depthwise_separable"}),
    "strides": ("cell", {"plain", "residual", "depthwise_separable"}),
    "shuffle_groups": ("cell", {"shuffle_unit"}),
}


def declared(hypermodel):
    hp = kt.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    return hp


def samples(hypermodel, count, seed=0):
    hp = declared(hypermodel)
    oracle = kt.oracles.RandomSearchOracle(objective="val_accuracy", max_trials=count, seed=seed)
    oracle.hyperparameters = hp
    for index in range(count):
        candidate = hp.copy()
        candidate.values = dict(oracle.populate_space(str(index))["values"])
        yield candidate


def test_default_candidate_is_valid_and_small():
    hypermodel = ConvNetHyperModel((8, 8, 1), 10)
    model = hypermodel.build(declared(hypermodel))
    assert model.output.shape == (None, 10)
    assert model.optimizer is not None and model.count_params() < 20_000


def test_many_sampled_candidates_build_or_are_rejected_with_a_reason():
    hypermodel = ConvNetHyperModel((16, 16, 3), 5)
    outcomes = collections.Counter()
    for hp in samples(hypermodel, 40):
        try:
            model = hypermodel.build(hp)
        except InvalidCandidate as rejection:
            assert rejection.reason and rejection.status == "INVALID"
            outcomes["invalid"] += 1
            continue
        assert model.output.shape == (None, 5)
        outcomes["valid"] += 1
        architecture = hypermodel.architecture(hp)
        assert len(architecture.stages) == hp.get("stages")
    assert outcomes["valid"] >= 30


def test_conditional_hyperparameters_appear_only_with_their_parent():
    hypermodel = ConvNetHyperModel((8, 8, 1), 10)
    seen = collections.Counter()
    for hp in samples(hypermodel, 60, seed=1):
        values = hp.values
        for name, value in values.items():
            if not name.startswith("stage") or name == "stages":
                continue
            stage, suffix = name.split("_", 1)
            assert int(stage[5:]) <= values["stages"]  # a stage's hyperparameters only when it exists
            if suffix in CONDITIONS:
                parent, allowed = CONDITIONS[suffix]
                assert values.get(f"{stage}_{parent}") in allowed, (name, values)
                seen[suffix] += 1
        for n in range(1, values["stages"] + 1):
            if values[f"stage{n}_cell"] == "plain" and values[f"stage{n}_block"] == "grouped_conv":
                assert f"stage{n}_groups" in values
    assert seen["block"] and seen["kernel_size"] and seen["strides"]


def test_every_hyperparameter_is_declared_in_one_pass_without_building():
    hp = declared(ConvNetHyperModel((8, 8, 1), 10))
    names = {h.name for h in hp.space}
    assert {f"stage{n}_{key}" for n in (1, 2, 3) for key in ("cell", "block", "dilation", "groups", "shuffle_groups")} <= names
    assert {"optimizer", "learning_rate", "batch_norm_momentum", "head", "stem_filters"} <= names


def test_overrides_fix_restrict_and_apply_per_stage():
    hypermodel = ConvNetHyperModel(
        (8, 8, 1),
        10,
        {"stages": [1, 2], "cell": "plain", "stage2_block": ["grouped_conv"], "block": ["nin", "conv"], "learning_rate": 0.003},
    )
    hp = declared(hypermodel)
    space = {h.name: h for h in hp.space}
    assert list(space["stages"].values) == [1, 2]
    assert "stage3_cell" not in space
    assert isinstance(space["stage1_cell"], kt.engine.hyperparameters.Fixed)
    assert list(space["stage1_block"].values) == ["nin", "conv"]
    assert list(space["stage2_block"].values) == ["grouped_conv"]
    assert space["learning_rate"].value == 0.003
    for hp in samples(hypermodel, 10):
        model = hypermodel.build(hp)
        assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.003)


def test_collapsing_spatial_size_is_invalid():
    hypermodel = ConvNetHyperModel((8, 8, 1), 10, {"stages": 3, "cell": "plain", "strides": 2, "downsampling": "max"})
    with pytest.raises(InvalidCandidate, match="`kernel_size` must not exceed the padded input size"):
        hypermodel.build(declared(hypermodel))


def test_dilated_conv_cannot_take_a_stride():
    hypermodel = ConvNetHyperModel((8, 8, 1), 10, {"stages": 1, "cell": "plain", "block": "dilated_conv", "strides": 2})
    with pytest.raises(InvalidCandidate, match=r"`strides` must be 1 for dilated_conv. Received: strides=2"):
        hypermodel.build(declared(hypermodel))


@pytest.mark.parametrize("cell", ["plain", "inception", "residual", "highway", "shuffle_unit", "depthwise_separable"])
def test_every_cell_builds(cell):
    hypermodel = ConvNetHyperModel((16, 16, 3), 4, {"stages": 2, "cell": cell, "filters": 32})
    model = hypermodel.build(declared(hypermodel))
    assert model.output.shape == (None, 4)


@pytest.mark.parametrize("block", CONV_BLOCKS)
def test_every_plain_block_builds(block):
    hypermodel = ConvNetHyperModel((8, 8, 1), 10, {"stages": 1, "cell": "plain", "block": block})
    assert hypermodel.build(declared(hypermodel)).output.shape == (None, 10)
