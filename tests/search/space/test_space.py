"""The search space: valid models over many samples, conditional hyperparameters, overrides, the default."""

import collections
import re

import keras
import keras_tuner as kt
import numpy as np
import pytest

from convnas.blocks import arithmetic
from convnas.search.common.spec_files import SpecError
from convnas.search.space import layout
from convnas.search.space.hypermodel import Architecture, ConvNetHyperModel, build_model, receptive_field, stage_layers
from convnas.search.space.spec import build_spec
from convnas.search.space.stages import CELLS, CONV_BLOCKS, DOWNSAMPLING, make_stage
from convnas.search.tuners.rejection import InvalidCandidate

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
    stage_keys = ("cell", "block", "dilation", "groups", "shuffle_groups")
    assert {f"stage{n}_{key}" for n in (1, 2, 3) for key in stage_keys} <= names
    assert {"optimizer", "learning_rate", "batch_norm_momentum", "head", "stem_filters"} <= names


def test_overrides_fix_restrict_and_apply_per_stage():
    hypermodel = ConvNetHyperModel(
        (8, 8, 1),
        10,
        {"stages": [1, 2], "cell": "plain", "stage2_block": ["grouped_conv"], "block": ["nin", "conv"],
         "learning_rate": 0.003},
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


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({"cell": "inception", "filters": 16},
         r"`downsampling` can be 'strided' only in a cell that takes a stride \(plain, "),
        ({"cell": "plain", "block": "dilated_conv"},
         r"`strides` must be 1 for dilated_conv. Received: strides=2 "
         r"\(downsampling='strided' strides the stage's last block\)$"),
    ],
)
def test_strided_downsampling_needs_a_block_that_takes_a_stride(overrides, reason):
    hypermodel = ConvNetHyperModel((8, 8, 1), 10, {"stages": 1, "downsampling": "strided", **overrides})
    with pytest.raises(InvalidCandidate, match=reason):
        hypermodel.build(declared(hypermodel))


def test_dilated_conv_cannot_take_a_stride():
    hypermodel = ConvNetHyperModel((8, 8, 1), 10, {"stages": 1, "cell": "plain", "block": "dilated_conv", "strides": 2})
    with pytest.raises(InvalidCandidate, match=r"`strides` must be 1 for dilated_conv. Received: strides=2"):
        hypermodel.build(declared(hypermodel))


THREE_PLAIN_STAGES = {"stages": 3, "stem_filters": 16, "cell": "plain", "block": "conv", "filters": 16, "blocks": 1,
                      "kernel_size": 3, "strides": 1, "downsampling": "max"}


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({"stage3_block": "dilated_conv", "stage3_strides": 2, "dilation": 2},  # 8x8 pooled twice: 2x2 at stage 3
         r"^stage 3 block 1 \(dilated_conv 3x3, stride 2, dilation 2\): input is 2x2x16: `strides` must be 1 for "
         r"dilated_conv\. Received: strides=2$"),
        ({"stage2_cell": "inception", "stage2_filters": 12},
         r"^stage 2 block 1 \(inception\): input is 4x4x16: `filters` of an inception cell must be a multiple of 8\."),
        ({"stage1_block": "grouped_conv", "groups": 3},
         r"^stage 1 block 1 \(grouped_conv 3x3, groups 3\): input is 8x8x16: `groups` must divide filters \(16\)"),
        ({"stage2_cell": "shuffle_unit", "stage2_filters": 24, "shuffle_groups": 5},  # after the width projection
         r"^stage 2 block 1 \(shuffle_unit, groups 5\): input is 4x4x24: "
         r"`groups` must divide the input channels \(24\)"),
        ({"stage3_cell": "highway", "stage3_downsampling": "strided"},
         r"^stage 3: `downsampling` can be 'strided' only in a cell that takes a stride"),
    ],
)
def test_an_invalid_candidate_names_its_stage_and_layer(overrides, reason):
    hypermodel = ConvNetHyperModel((8, 8, 1), 10, {**THREE_PLAIN_STAGES, **overrides})
    with pytest.raises(InvalidCandidate, match=reason):
        hypermodel.build(declared(hypermodel))


@pytest.mark.parametrize("downsampling", ["max", "avg", "all_conv"])
def test_three_stages_of_downsampling_on_8x8_digits_end_at_1x1(downsampling):
    overrides = {**THREE_PLAIN_STAGES, "downsampling": downsampling, "head": "flatten"}
    hypermodel = ConvNetHyperModel((8, 8, 1), 10, overrides)
    model = hypermodel.build(declared(hypermodel))
    assert model.get_layer(index=-2).input.shape == (None, 1, 1, 16)  # the Flatten's input: "same" windows halve 8 -> 1


def test_a_keras_error_reads_as_its_message_line():
    with pytest.raises(ValueError) as raised:
        keras.layers.AveragePooling2D(2)(keras.Input((1, 1, 4)))
    assert str(raised.value).startswith("Exception encountered when calling")  # Keras's header line
    assert layout.reason(raised.value).startswith("Computed output size would be zero or negative. Received: ")


@pytest.mark.parametrize("cell", CELLS)
def test_every_cell_builds(cell):
    hypermodel = ConvNetHyperModel((16, 16, 3), 4, {"stages": 2, "cell": cell, "filters": 32})
    model = hypermodel.build(declared(hypermodel))
    assert model.output.shape == (None, 4)


@pytest.mark.parametrize("block", CONV_BLOCKS)
def test_every_plain_block_builds(block):
    hypermodel = ConvNetHyperModel((8, 8, 1), 10, {"stages": 1, "cell": "plain", "block": block})
    assert hypermodel.build(declared(hypermodel)).output.shape == (None, 10)


def network(*stages, input_shape=(8, 8, 3), stem_filters=8):
    """The model and receptive field of a stem of `stem_filters` and the given stage mappings (as in a spec)."""
    made = tuple(make_stage(stage, "s") for stage in stages)
    architecture = Architecture(stem_filters, made, "global_average_pooling", 0, None)
    return build_model(architecture, input_shape, 10), receptive_field(architecture)


def stage_output(stage, input_shape):
    """The output shape and parameter count of one stage (a spec mapping) on an input of `input_shape`."""
    inputs = keras.Input(input_shape)
    x = inputs
    for layer in stage_layers(make_stage(stage, "s"), input_shape[-1]):
        x = layer(x)
    return x.shape, keras.Model(inputs, x).count_params()


@pytest.mark.parametrize("size", [7, 8])
def test_every_downsampling_but_none_halves_the_size_alike(size):
    """Springenberg et al. 2014's variants are comparable: the same output size from any input size."""
    shapes = {
        downsampling: stage_output(
            {"filters": 8, "blocks": 2, "downsampling": downsampling, "pool_size": 3}, (size, size, 8)
        )[0]
        for downsampling in DOWNSAMPLING
    }
    half = -(-size // 2)
    halved = {d: (None, half, half, 8) for d in ("max", "avg", "strided", "all_conv")}
    assert shapes == {**halved, "none": (None, size, size, 8)}


def test_strided_adds_no_parameters_and_all_conv_a_3x3_conv_and_batch_norm():
    c = 16
    params = {d: stage_output({"filters": c, "blocks": 2, "downsampling": d}, (8, 8, c))[1] for d in DOWNSAMPLING}
    assert params["strided"] == params["max"] == params["avg"] == params["none"]
    assert params["all_conv"] - params["max"] == 9 * c * c + 4 * c  # conv without bias (BN follows it), BN
    assert stage_output({"filters": c, "blocks": 2, "downsampling": "strided"}, (8, 8, c))[0] == (None, 4, 4, c)


def test_receptive_field_follows_the_downsampling():
    stage = {"filters": 8, "blocks": 2}  # stem 3x3, two 3x3 convs: 7 before the downsampling
    fields = {d: network({**stage, "downsampling": d})[1] for d in DOWNSAMPLING}
    # "strided": the second conv strides (no layer after it); pooling 2x2 or all_conv's 3x3 at stride 1 after 7
    assert fields == {"max": 8, "avg": 8, "strided": 7, "all_conv": 9, "none": 7}
    assert network({**stage, "downsampling": "max", "pool_size": 3})[1] == 9
    # a second stage sees the first's stride: each of its 3x3 convs adds 2 x 2 pixels
    two = {d: network({**stage, "downsampling": d}, {**stage, "downsampling": "none"})[1] for d in ("max", "strided")}
    assert two == {"max": 8 + 2 * 2 * 2, "strided": 7 + 2 * 2 * 2}


def test_exponential_dilation_widens_the_receptive_field_at_the_same_parameters():
    """Yu & Koltun 2016's context module: rates 1, 2, 4, 8 give 3 + 2 (1 + 2 + 4 + 8) = 33 with the 3x3 stem."""
    stage = {"filters": 8, "blocks": 4, "block": "dilated_conv", "downsampling": "none"}
    exponential, field = network({**stage, "dilation": [1, 2, 4, 8]})
    assert field == 3 + 2 * (1 + 2 + 4 + 8) == 33
    undilated, plain_field = network({**stage, "dilation": 1})
    assert plain_field == 3 + 2 * 4
    standard = network({**stage, "block": "conv"})[0]
    assert exponential.count_params() == undilated.count_params() == standard.count_params()
    rates = [layer.dilation_rate for layer in exponential.layers if layer.__class__.__name__ == "DilatedConv"]
    assert rates == [(1, 1), (2, 2), (4, 4), (8, 8)]


def test_a_plain_depthwise_separable_stage_is_mobilenet_figure_3():
    """Howard et al. 2017 Fig. 3: 3x3 depthwise, BN, ReLU, 1x1, BN, ReLU, and no second BN from the plain cell."""
    c_in, c_out = 8, 16
    stage = {"filters": c_out, "block": "depthwise_separable_conv", "downsampling": "none"}
    (block,) = stage_layers(make_stage(stage, "s"), c_in)
    assert [type(layer).__name__ for layer in block.chain] == [
        "DepthwiseConv2D", "BatchNormalization", "Activation", "Conv2D", "BatchNormalization", "Activation"
    ]
    assert [block.chain[i].activation.__name__ for i in (2, 5)] == ["relu", "relu"]
    assert block.chain[3].kernel_size == (1, 1)
    assert stage_output(stage, (8, 8, c_in))[1] == 9 * c_in + 4 * c_in + c_in * c_out + 4 * c_out


def test_inception_modules_without_reductions_keep_the_stage_width():
    """Szegedy et al. 2015 without the 3x3/5x5 reductions: the pool projection stays, every module outputs `filters`."""
    f, c = 32, 16
    stage = {"cell": "inception", "filters": f, "blocks": 2, "reductions": False, "downsampling": "none"}
    shape, params = stage_output(stage, (8, 8, c))
    assert shape == (None, 8, 8, f)

    def module(channels):  # widths 1/4, 1/2, 1/8, 1/8 of f
        return (
            arithmetic.conv_params(1, channels, f // 4)  # 1x1
            + arithmetic.conv_params(3, channels, f // 2)  # 3x3 on every input channel
            + arithmetic.conv_params(5, channels, f // 8)  # 5x5 on every input channel
            + arithmetic.conv_params(1, channels, f // 8)  # pool projection
        )

    assert params == module(c) + module(f)


def test_highway_cells_normalize_as_the_plain_and_residual_cells():
    (highway,) = stage_layers(make_stage({"cell": "highway", "filters": 8, "downsampling": "none"}, "s"), 8)
    assert highway.use_batch_norm and highway.gate
    _, params = stage_output({"cell": "highway", "filters": 8, "downsampling": "none"}, (8, 8, 8))
    assert params == (9 * 8 * 8 + 4 * 8) + arithmetic.conv_params(3, 8, 8)  # transform conv + BN, gate conv with bias


@pytest.fixture(scope="module")
def digits():
    from convnas.search.data import datasets

    return datasets.load_dataset("digits", seed=0)


def test_a_trial_trains_on_the_cosine_schedule_and_is_scored_on_re_estimated_batch_norm(digits):
    from convnas.search.space.precise_batch_norm import reestimate, training_batches

    hypermodel = ConvNetHyperModel((8, 8, 1), 10, input_scale=1 / 16)
    hp = declared(hypermodel)
    model = hypermodel.build(hp)
    validation = (digits.x_val, digits.y_val)
    history = hypermodel.fit(hp, model, digits.x_train, digits.y_train, batch_size=32, validation_data=validation,
                             epochs=2, verbose=0)
    steps = -(-len(digits.x_train) // 32)
    schedule = model.optimizer.get_config()["learning_rate"]
    assert schedule["class_name"] == "CosineDecay" and schedule["config"]["warmup_target"] == pytest.approx(1e-3)
    assert schedule["config"]["warmup_steps"] == steps and schedule["config"]["decay_steps"] == steps
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == 0  # decayed to 0 by the end
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    after = [keras.ops.convert_to_numpy(layer.moving_mean) for layer in layers]
    reestimate(model, training_batches(digits.x_train, 32, 100, seed=0))  # the trial's batches, the same weights
    assert all(np.array_equal(a, keras.ops.convert_to_numpy(layer.moving_mean)) for a, layer in zip(after, layers))
    scores = model.evaluate(*validation, verbose=0, return_dict=True)
    assert history.history["val_loss"][-1] == pytest.approx(scores["loss"], rel=1e-6)  # the score: those statistics


def test_hyperband_trials_train_as_compiled(digits):
    hypermodel = ConvNetHyperModel((8, 8, 1), 10, input_scale=1 / 16)
    hp = declared(hypermodel)
    hp.Fixed("tuner/epochs", 1)
    model = hypermodel.build(hp)
    hypermodel.fit(hp, model, digits.x_train, digits.y_train, epochs=1, verbose=0)
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(1e-3)  # a number, not a schedule


@pytest.mark.parametrize(
    "values, message",
    [
        ({"stages": [5]}, "`space.stages` must be an integer from 1 to 3 (the stages of a candidate). "
                          "Received: space.stages=5"),
        ({"stages": 12}, "Received: space.stages=12"),
        ({"stages": [1, 0]}, "Received: space.stages=0"),
        ({"stages": True}, "Received: space.stages=True"),
        ({"stage4_filters": 32}, "`space.stage4_filters` names stage 4, but a candidate has stages 1 to 3. "
                                 "Received: space.stage4_filters=32"),
    ],
)
def test_a_space_with_stages_outside_one_to_three_is_refused(values, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        build_spec({"space": values}, {})
    assert build_spec({"space": {"stages": [1, 3], "stage3_filters": 64}}, {}).space["stages"] == [1, 3]
