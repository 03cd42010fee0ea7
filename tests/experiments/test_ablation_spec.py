"""Ablation specs: the built-in studies load, substitutions change what they say, errors are one clear line."""

import re

import pytest

from convnas.blocks import arithmetic
from convnas.experiments.ablation import SpecStudy
from convnas.experiments.ablation_spec import build_study, builtin_names, load_study
from convnas.experiments.statistics import smallest_p_value
from convnas.search.common.spec_files import SpecError

BUILTINS = ["conv_type", "depth", "dilation", "inception", "pooling", "upsampling"]

SPEC = {
    "name": "tiny",
    "epochs": 1,
    "seeds": 2,
    "base": {"stem_filters": 8,
             "stages": [{"filters": 8, "downsampling": "max"}, {"filters": 16, "downsampling": "max"}]},
    "variants": {"avg": {"downsampling": "avg"}},
}


def test_the_six_built_in_studies_load_quick_and_full():
    assert builtin_names() == BUILTINS
    for name in BUILTINS:
        quick, full = load_study(name), load_study(name, full=True)
        assert quick.dataset in ("cluttered_digits", "photos") and full.dataset == "cifar10"
        pilot = quick.seeds["pilot"] if isinstance(quick.seeds, dict) else len(quick.seeds)  # a plan's pilot
        assert pilot >= 5 and quick.variants and quick.limits and quick.expect
        # enough seeds for the exact test to reach 0.05 after Holm over every comparison
        assert smallest_p_value(pilot, pilot) * len(quick.variants) < 0.05


def test_flags_override_the_file_and_seeds_count_or_list():
    study = load_study("pooling", overrides={"seeds": 5, "epochs": 2, "dataset": None})
    assert study.seeds == (0, 1, 2, 3, 4) and study.epochs == 2 and study.dataset == "cluttered_digits"
    assert build_study({**SPEC, "seeds": [3, 7]}).seeds == (3, 7)


def test_substitution_applies_to_every_stage_or_to_one():
    everywhere = build_study(SPEC).design("avg")
    assert [stage.downsampling for stage in everywhere.stages] == ["avg", "avg"]
    variants = {"v": {"stage2_downsampling": "none", "stage1_block": "grouped_conv"}}
    one = build_study({**SPEC, "variants": variants}).design("v")
    assert [stage.downsampling for stage in one.stages] == ["max", "none"]
    assert one.stages[0].block == "grouped_conv" and one.stages[0].groups == 2 and one.stages[1].groups is None


ERRORS = [
    ({"variants": {"v": {"block": "fancy_conv"}}},
     r"`variants\.v\.stages\[0\]\.block` is an unknown block: 'fancy_conv'; allowed: conv, "),
    ({"variants": {"v": {"colour": "red"}}},
     r"`variants\.v` has an unknown field 'colour'; known: stem_filters, head, "),
    ({"variants": {"v": {"stage3_filters": 8}}},
     r"`variants\.v\.stage3_filters` names stage 3, but the base has 2 stage\(s\)"),
    ({"seeds": 0}, r"`seeds` must be a positive integer\. Received: seeds=0"),
    ({"seeds": [1, 1]}, r"`seeds` must list distinct non-negative integers"),
    ({"seeds": "three"}, r"`seeds` must be a positive integer\. Received: seeds='three'"),
    ({"epochs": -1}, r"`epochs` must be a positive integer\. Received: epochs=-1"),
    ({"task": "segmentation"}, r"`task` must be one of 'classification', 'upsampling'\. Received: task='segmentation'"),
    ({"metric": "psnr"}, r"`metric` must be one of 'test_accuracy', "),
    ({"dataset": "photos"},  # photos: upsampling only
     r"`dataset` must be one of digits, cluttered_digits, mnist, .*Received: dataset='photos'"),
    ({"colour": 1}, r"ablation spec has an unknown field 'colour'; known: name, "),
    ({"variants": {}}, r"`variants` must map at least one variant name"),
    ({"variants": {"baseline": {"filters": 8}}}, r"variant names must be words .* not 'baseline'"),
    ({"variants": {"v": {"shortcut": "yes"}}},
     r"`variants\.v\.stages\[0\]\.shortcut` must be True or False\. Received: .*shortcut='yes'"),
    ({"base": {"stages": []}}, r"`base\.stages` must list at least one stage"),
    ({"full": {"optimizer": "sgd"}},
     r"`full` has an unknown field 'optimizer'; known: dataset, epochs, batch_size, seeds, base"),
    ({"expect": {"avg": "better"}}, r"`expect\.avg\.direction` must be one of higher, lower, same, no_worse\. "
                                    r"Received: 'better'"),
    ({"expect": {"avg": {"direction": "higher", "size": 1}}},
     r"`expect\.avg` must be a direction or a mapping of direction, margin, versus and metric\. Received: "),
    ({"expect": {"avg": {"direction": "higher", "metric": "test_loss"}}},
     r"^`expect\.avg\.metric` must be one of params, macs, flops \(a cost; without it the claim is on the main "
     r"metric\)\. Received: metric='test_loss'$"),
    ({"expect": {"avg": {"direction": "no_worse"}}}, r"`expect\.avg\.margin` must be given for no_worse: a positive"),
    ({"expect": {"avg": {"direction": "no_worse", "margin": 0}}},
     r"`expect\.avg\.margin` must be a positive number in the metric's units \(0\.01: 1 point of accuracy\)\. "
     r"Received: margin=0$"),
    ({"expect": {"avg": {"direction": "same", "margin": -0.01}}},
     r"`expect\.avg\.margin` must be a non-negative number .*Received: margin=-0\.01$"),
    ({"expect": {"avg": {"direction": "same", "margin": "1 point"}}}, r"Received: margin='1 point'$"),
    ({"expect": {"avg": {"direction": "higher", "margin": True}}}, r"Received: margin=True$"),
    ({"expect": {"avg": {"direction": "higher", "margin": float("nan")}}}, r"Received: margin=nan$"),
    ({"expect": {"avg": {"direction": "higher", "versus": "avg"}}},
     r"`expect\.avg\.versus` must be 'baseline' or another variant\. Received: 'avg'"),
    ({"expect": {"max": "higher"}}, r"`expect` names an unknown variant 'max'; variants: avg"),
]


@pytest.mark.parametrize("change, message", ERRORS, ids=[m[:40] for _, m in ERRORS])
def test_errors_are_one_clear_line(change, message):
    with pytest.raises(SpecError) as error:
        build_study({**SPEC, **change})
    assert "\n" not in str(error.value)
    assert re.search(message, str(error.value)), str(error.value)


def test_claims_resolve_with_a_margin_only_where_one_is_given():
    expect = {"avg": "lower", "wide": {"direction": "same", "margin": 0.01, "versus": "avg"},
              "thin": {"direction": "no_worse", "margin": 1}}
    variants = {"avg": {"downsampling": "avg"}, "wide": {"filters": 16}, "thin": {"filters": 4}}
    study = build_study({**SPEC, "variants": variants, "expect": expect})
    assert study.expect == {"avg": {"direction": "lower", "versus": "baseline"},  # as a spec without margins resolved
                            "wide": {"direction": "same", "versus": "avg", "margin": 0.01},
                            "thin": {"direction": "no_worse", "versus": "baseline", "margin": 1.0}}


def test_unknown_study_name_lists_the_built_ins():
    built_in = "conv_type, depth, dilation, inception, pooling, upsampling"
    with pytest.raises(SpecError, match=rf"unknown study 'polling'; built-in studies: {built_in}"):
        load_study("polling")


@pytest.fixture
def cost_of_variants(tmp_path):
    """Params, MACs, FLOPs and receptive field of every variant of a spec, as its study counts them (none trained)."""
    return lambda spec: SpecStudy(spec, tmp_path / "logs").costs()


def test_pooling_substitutions_change_cost_as_the_arithmetic_says(cost_of_variants):
    costs = cost_of_variants(load_study("pooling"))
    base = costs["baseline"]
    assert costs["avg_pool"]["params"] == base["params"]
    assert costs["no_downsampling"]["flops"] > base["flops"] and costs["no_downsampling"]["params"] == base["params"]
    # Strided-CNN-C: the conv before each pooling layer takes its stride, no new parameters
    assert costs["strided"]["params"] == base["params"] and costs["strided"]["macs"] < base["macs"]
    # All-CNN-C: a 3x3 stride-2 conv without bias, then BN (4 per channel), in place of each pooling layer
    # (32, 64 channels)
    added = sum(arithmetic.conv_params(3, c, c, use_bias=False) + arithmetic.batch_norm_params(c) for c in (32, 64))
    assert added == 9 * 32 * 32 + 4 * 32 + 9 * 64 * 64 + 4 * 64
    assert costs["all_conv"]["params"] - base["params"] == added
    # no downsampling: every later layer runs at 4x (then 16x) the positions
    assert costs["no_downsampling"]["macs"] > 2 * base["macs"]


def test_cell_and_conv_type_substitutions_change_cost_as_the_arithmetic_says(cost_of_variants):
    conv_type = cost_of_variants(load_study("conv_type"))
    base = conv_type["baseline"]
    # four 32->32 convs (the first from the 16-channel stem): grouped by 4 divides their kernels by 4
    standard = arithmetic.conv_params(3, 16, 32, use_bias=False) + 3 * arithmetic.conv_params(3, 32, 32, use_bias=False)
    grouped = standard // 4
    assert base["params"] - conv_type["grouped"]["params"] == standard - grouped
    assert conv_type["grouped_shuffle"]["params"] == conv_type["grouped"]["params"]  # a shuffle has no weights
    assert conv_type["depthwise_separable"]["macs"] < base["macs"] / 5
    inception = cost_of_variants(load_study("inception"))
    assert inception["no_reductions"]["macs"] > inception["baseline"]["macs"]
    dilation = cost_of_variants(load_study("dilation"))
    assert dilation["exponential"]["params"] == dilation["constant_2"]["params"] == dilation["baseline"]["params"]
    assert dilation["exponential"]["macs"] == dilation["baseline"]["macs"]
    assert [dilation[v]["receptive_field"] for v in ("baseline", "constant_2", "exponential")] == [11, 19, 33]


def test_depth_study_matches_parameters_within_ten_percent_at_each_depth(cost_of_variants):
    depth = cost_of_variants(load_study("depth"))
    for plain, others in (("baseline", ("residual_8", "highway_8")), ("plain_24", ("residual_24", "highway_24"))):
        for other in others:
            assert abs(depth[other]["params"] / depth[plain]["params"] - 1) < 0.10, (plain, other, depth)


def test_pooling_study_variants_are_the_papers(cost_of_variants):
    pooling = cost_of_variants(load_study("pooling"))
    assert pooling["strided"]["params"] == pooling["baseline"]["params"]  # Strided-CNN-C: no new weights
    # All-CNN-C: a 3x3 stride-2 conv (no bias) + BatchNorm in place of each of the two poolings
    added = sum(arithmetic.conv_params(3, c, c, use_bias=False) + 4 * c for c in (32, 64))
    assert pooling["all_conv"]["params"] - pooling["baseline"]["params"] == added


def test_switches_remove_what_they_name(cost_of_variants):
    spec = {**SPEC, "base": {"stem_filters": 8, "stages": [{"cell": "residual", "filters": 16, "strides": 1}]},
            "variants": {"no_shortcut": {"shortcut": False}}}
    costs = cost_of_variants(build_study(spec))
    # the 8->16 projection shortcut (1x1 conv without bias + BatchNorm) is gone
    assert costs["baseline"]["params"] - costs["no_shortcut"]["params"] == 8 * 16 + 4 * 16
    spec = {**SPEC, "base": {"stem_filters": 8, "stages": [{"cell": "highway", "filters": 8}]},
            "variants": {"no_gate": {"gate": False}}}
    costs = cost_of_variants(build_study(spec))
    assert costs["baseline"]["params"] - costs["no_gate"]["params"] == arithmetic.conv_params(3, 8, 8)


def test_an_upsampling_skip_is_off_nearest_or_an_interpolation_and_nothing_else():
    study = load_study("upsampling")
    assert study.design("baseline").upsampler.skip == "bicubic"
    def design(skip):
        overrides = {"variants": {"v": {"upsampler": {"skip": skip}}}, "expect": {}}
        return load_study("upsampling", overrides=overrides).design("v")
    assert design(True).upsampler.skip == "nearest" and design(False).upsampler.skip is None
    assert design("bilinear").upsampler.skip == "bilinear"
    with pytest.raises(SpecError, match=r"^`variants\.v\.upsampler\.skip` must be false, true \(nearest\) or one of "
                                        r"nearest, bilinear, bicubic\. Received: 'cubic'$"):
        design("cubic")
