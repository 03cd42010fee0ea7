"""An ablation study as data: a YAML file validated into an `AblationSpec`.

    name: pooling
    description: max pooling vs average pooling vs strided conv vs no downsampling
    paper: Springenberg et al. 2014, "Striving for simplicity: the all convolutional net"
    claim: replacing max pooling by a stride-2 conv costs no accuracy
    expect:                      # the claim per variant: its main metric against the baseline's
      strided: lower             #   a direction: higher | lower | same
      all_conv: {direction: no_worse, margin: 0.01}   # or a size, in the metric's units (0.01: 1 point)
      avg_pool: {direction: same, margin: 0.01, versus: strided}   # against another variant
    limits: one sentence on what the quick settings cannot show
    task: classification         # classification | upsampling (x2 reconstruction)
    dataset: digits              # search datasets; photos (scikit-image) for upsampling
    epochs: 10
    batch_size: 32
    seeds: 3                     # a count (seeds 0..N-1), a list, or a plan: auto | {pilot: 5, most: 10, effect: 0.01}
    learning_rate: 0.001         # Adam (the peak of the cosine schedule)
    schedule: cosine             # linear warmup, then cosine to 0 | constant
    warmup_epochs: 1
    bn_batches: 100              # BatchNorm re-estimated on 100 training batches before the evaluations; 0: never
    metric: test_accuracy        # the main metric (differences, t-test, bar chart)
    base:                        # the baseline architecture
      stem_filters: 16
      stages:                    # as in the search space: cell, block, filters, blocks, ...
        - {cell: plain, block: conv, filters: 32, blocks: 2, kernel_size: 3, downsampling: max}
      head: global_average_pooling
    variants:                    # name -> substitution on the base
      avg_pool: {downsampling: avg}          # a stage field: every stage
      strided: {stage1_downsampling: strided}   # stage<n>_<field>: one stage
    full:                        # what --full changes: dataset, epochs, batch_size, seeds, base
      dataset: cifar10
      epochs: 30
    confirmation:                # what --confirmation runs: claims tested again on fresh seeds
      claims: [all_conv]         #   (experiments.confirmation)
      seeds: [100, 101, 102, 103, 104, 105]
      plan: 6 seeds a side, from the exact test's power at the study's measured spread and difference

A substitution replaces fields of the base: stage fields (cell, block,
filters, blocks, kernel_size, strides, dilation, groups, shuffle_groups,
downsampling, pool_size, and the switches shortcut, gate, reductions, channel_shuffle)
for every stage or for stage n, and the architecture's stem_filters, head,
head_units (classification) or upsampler fields (upsampling: block
transposed_conv | upsample_conv, kernel_size, interpolation nearest |
bilinear, filters, skip: false, or the interpolation of the global skip,
nearest (true), bilinear or bicubic). The base itself is the "baseline" row.

Every problem is a `SpecError` naming the field and the value received.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from pathlib import Path

from convnas.blocks import validation
from convnas.experiments.confirmation import confirm, sections
from convnas.search import choices
from convnas.search.common.spec_files import SpecError, checked, load_yaml
from convnas.search.space.spec import check_dataset, flag
from convnas.search.space.stages import GLOBAL_DEFAULTS, HEADS, STAGE_FIELDS, Stage, make_stage
from convnas.search.space.training import SCHEDULES, Protocol

STUDIES_DIR = Path(__file__).parent / "studies"
TASKS = ("classification", "upsampling")
METRICS = {
    "classification": ("test_accuracy", "test_loss", "train_accuracy", "train_loss", "val_accuracy", "val_loss",
                       "train_seconds"),
    "upsampling": ("psnr", "psnr_gain", "val_loss", "checkerboard", "checkerboard_local", "checkerboard_flat",
                   "checkerboard_flat_init", "train_seconds"),
}
# Descriptions, never tested: fixed by the architecture for some networks, whatever the seed and the training (a
# resize-then-conv network's output on a flat input is flat: its amplitude is exactly 0).
DESCRIPTIVE_METRICS = ("checkerboard_flat", "checkerboard_flat_init")
DEFAULTS = {
    "classification": {"dataset": "digits", "metric": "test_accuracy"},
    "upsampling": {"dataset": "photos", "metric": "psnr"},
}
TASK_DATASETS = {"classification": (), "upsampling": ("photos",)}  # beside the search datasets
FIELDS = ("name", "description", "paper", "claim", "expect", "limits", "task", "dataset", "epochs", "batch_size",
          "seeds", "learning_rate", "schedule", "warmup_epochs", "bn_batches", "metric", "base", "variants", "full",
          "confirmation")
FULL_FIELDS = ("dataset", "epochs", "batch_size", "seeds", "base")
ARCHITECTURE_FIELDS = {"classification": ("stem_filters", "head", "head_units"),
                       "upsampling": ("stem_filters", "upsampler")}
UPSAMPLERS = ("transposed_conv", "upsample_conv")
INTERPOLATIONS = ("nearest", "bilinear")
UPSAMPLER_FIELDS = ("block", "filters", "kernel_size", "interpolation", "skip")
SKIPS = ("nearest", "bilinear", "bicubic")  # how a global skip upsamples the input it adds to the output
BASELINE = "baseline"


@dataclasses.dataclass(frozen=True)
class Upsampler:
    block: str
    filters: int
    kernel_size: int
    interpolation: str | None = None
    skip: str | None = "nearest"  # add the input, upsampled so (SKIPS), to the output (a global residual); None: not


@dataclasses.dataclass(frozen=True)
class Design:
    """One architecture of a study (the base or a variant), validated."""

    stem_filters: int
    stages: tuple[Stage, ...]
    head: str = GLOBAL_DEFAULTS["head"]
    head_units: int = GLOBAL_DEFAULTS["head_units"]
    upsampler: Upsampler | None = None


def _dataset_labels() -> tuple[str, ...]:
    """The datasets a study takes, for its flag's help: the search's, then each task's own ("photos (upsampling)")."""
    return (*choices.dataset_names(), *(f"{name} ({task})" for task, names in TASK_DATASETS.items() for name in names))


@dataclasses.dataclass(frozen=True)
class AblationSpec:
    """A validated study; `dataset`, `epochs` and `seeds` are also `convnas ablate` flags (their `Flag`)."""

    name: str
    task: str
    dataset: str = flag(help="{choices}", choices=_dataset_labels)
    epochs: int = flag(help="training epochs per run", metavar="N", type=int)
    batch_size: int
    seeds: tuple[int, ...] | dict = flag(help="run seeds 0..N-1 (a count, in place of the spec's seeds or seed plan)",
                                         metavar="N", type=int)  # a plan: experiments.seed_plan.check_plan
    learning_rate: float
    schedule: str  # the training protocol (search.space.training.Protocol)
    warmup_epochs: int
    bn_batches: int
    metric: str
    base: dict
    variants: dict
    description: str = ""
    paper: str = ""
    claim: str = ""
    expect: dict = dataclasses.field(default_factory=dict)
    limits: str = ""
    full: dict = dataclasses.field(default_factory=dict)

    @property
    def metrics(self) -> tuple[str, ...]:
        return METRICS[self.task]

    def variant_names(self) -> list[str]:
        return [BASELINE, *self.variants]

    def design(self, variant: str) -> Design:
        """The validated architecture of `variant` ("baseline" for the base)."""
        if variant == BASELINE:
            return make_design(self.base, self.task, "base")
        where = f"variants.{variant}"
        return make_design(substitute(self.base, self.variants[variant], self.task, where), self.task, where)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def builtin_names() -> list[str]:
    return sorted(path.stem for path in STUDIES_DIR.glob("*.yaml"))


def load_study(name_or_path: str, full: bool = False, overrides: dict | None = None,
               confirmation: int = 0) -> AblationSpec:
    """A built-in study by name, or a YAML spec file; `full` applies its `full` section, `confirmation` K >= 1
    makes it its K-th confirmation (`experiments.confirmation`); flags override."""
    path = Path(name_or_path)
    if not (path.suffix in (".yaml", ".yml") or path.exists()):
        if name_or_path not in builtin_names():
            raise SpecError(f"unknown study {name_or_path!r}; built-in studies: {', '.join(builtin_names())} "
                            "(or a SPEC.yaml file)")
        path = STUDIES_DIR / f"{name_or_path}.yaml"
    values = load_yaml(path)
    values.setdefault("name", path.stem)
    if confirmation:
        values = confirm(values, confirmation)
    elif "confirmation" in values:
        sections(values)  # a malformed section is refused whichever study runs
    return build_study(values, full=full, overrides=overrides)


def _text(name: str, value) -> str:
    if not isinstance(value, str):
        raise SpecError(f"`{name}` must be text. Received: {name}={value!r}")
    return value


VARIANT_NAME = re.compile(r"[A-Za-z0-9_.-]+")  # a variant names its TensorBoard folder


def check_variant_name(name) -> str:
    """A variant name: a word of letters, digits, _ . - other than "baseline"; SpecError otherwise."""
    if not isinstance(name, str) or not VARIANT_NAME.fullmatch(name) or name == BASELINE:
        raise SpecError(
            f"variant names must be words of letters, digits, _ . - and not {BASELINE!r}. Received: {name!r}")
    return name


def check_variants(variants) -> dict[str, dict]:
    """Variants: a non-empty mapping of variant names to non-empty mappings of what they replace."""
    if not isinstance(variants, Mapping) or not variants:
        raise SpecError("`variants` must map at least one variant name to the entries it replaces. "
                        f"Received: variants={variants!r}")
    for name, substitution in variants.items():
        check_variant_name(name)
        if not isinstance(substitution, Mapping) or not substitution:
            raise SpecError(
                f"`variants.{name}` must be a mapping of the entries it replaces. Received: {substitution!r}")
    return {name: dict(substitution) for name, substitution in variants.items()}


DIRECTIONS = ("higher", "lower", "same", "no_worse")
COST_METRICS = ("params", "macs", "flops")  # what a claim may name instead of the main metric: exact, not tested


def check_expect(expect, variants) -> dict[str, dict]:
    """The claims, variant -> {"direction", "versus"[, "margin", "metric"]}: what the paper states.

    An entry is a direction (against the baseline, without a margin) or a
    mapping of `direction`, `versus` (the baseline or another variant),
    `margin`, a size in the metric's units (accuracies are fractions: 0.01
    is one point), and `metric`: the main metric by default, or a cost
    (COST_METRICS: params, macs, flops), whose claim is exact: its Δ is
    counted, not measured over seeds, so it is judged without a test and
    stays out of the tested comparisons. Of Δ, the variant's value less its
    reference's:
    higher: Δ > margin; lower: Δ < -margin (no margin: a plain direction);
    same: |Δ| < margin (equivalence; no margin: Δ = 0, which only a
    difference can decide, against the claim); no_worse: Δ no worse than
    the margin in the direction the metric is better (non-inferiority; a
    positive margin is required). A margin is kept only where given, so a
    spec without one resolves as it always has. SpecError naming the entry
    otherwise.
    """
    if not isinstance(expect, Mapping):
        raise SpecError(f"`expect` must map variant names to a direction ({', '.join(DIRECTIONS)}). "
                        f"Received: expect={expect!r}")
    checked_expect = {}
    for name, entry in expect.items():
        if name not in variants:
            raise SpecError(f"`expect` names an unknown variant {name!r}; variants: {', '.join(variants)}")
        entry = {"direction": entry} if isinstance(entry, str) else entry
        if not isinstance(entry, Mapping) or set(entry) - {"direction", "versus", "margin", "metric"}:
            raise SpecError(f"`expect.{name}` must be a direction or a mapping of direction, margin, versus and "
                            f"metric. Received: {entry!r}")
        direction, versus = entry.get("direction"), entry.get("versus", BASELINE)
        if direction not in DIRECTIONS:
            raise SpecError(
                f"`expect.{name}.direction` must be one of {', '.join(DIRECTIONS)}. Received: {direction!r}")
        if versus != BASELINE and (versus not in variants or versus == name):
            raise SpecError(f"`expect.{name}.versus` must be {BASELINE!r} or another variant. Received: {versus!r}")
        checked_expect[name] = {"direction": direction, "versus": versus}
        if "metric" in entry:
            if entry["metric"] not in COST_METRICS:
                raise SpecError(f"`expect.{name}.metric` must be one of {', '.join(COST_METRICS)} (a cost; without "
                                f"it the claim is on the main metric). Received: metric={entry['metric']!r}")
            checked_expect[name]["metric"] = entry["metric"]
        margin = entry.get("margin")
        if margin is None and direction == "no_worse":
            raise SpecError(f"`expect.{name}.margin` must be given for no_worse: a positive number, how much worse "
                            "still counts as no worse, in the main metric's units (0.01: 1 point of accuracy)")
        if margin is not None:
            checked_expect[name]["margin"] = _margin(name, margin, positive=direction == "no_worse")
    return checked_expect


def check_tested_metric(metric: str, expect: dict) -> str:
    """The main metric, if claims may test it: SpecError for a descriptive one (DESCRIPTIVE_METRICS) under a claim."""
    tested = [name for name, claim in expect.items() if "metric" not in claim]
    if metric in DESCRIPTIVE_METRICS and tested:
        raise SpecError(f"`metric` {metric} is a description, never tested: it is fixed by the architecture for some "
                        "networks (0 for every seed of a resize-then-conv network), so a claim on it would be decided "
                        f"before training; test `expect.{tested[0]}` on checkerboard or psnr. "
                        f"Received: metric={metric!r}")
    return metric


def _margin(name: str, value, positive: bool) -> float:
    """A claim's margin: a finite number, non-negative (positive for no_worse); SpecError otherwise."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not number or value < 0 or (positive and value == 0):
        allowed = "a positive number" if positive else "a non-negative number"
        raise SpecError(f"`expect.{name}.margin` must be {allowed} in the metric's units (0.01: 1 point of "
                        f"accuracy). Received: margin={value!r}")
    return float(value)


def check_seeds(value) -> tuple[int, ...] | dict:
    """Seeds: a count N (seeds 0..N-1), a list of distinct non-negative integers, or a seed plan ("auto" or a
    mapping of pilot, most and effect, as `experiments.seed_plan.check_plan` resolves it); SpecError otherwise."""
    if isinstance(value, (str, Mapping)):
        from convnas.experiments import seed_plan  # it reads the table's claims, whose modules import this one

        return seed_plan.check_plan(value)
    if isinstance(value, (list, tuple)):
        seeds = tuple(checked(validation.non_negative_int, "seeds", seed) for seed in value)
        if not seeds or len(set(seeds)) != len(seeds):
            raise SpecError(
                f"`seeds` must list distinct non-negative integers (at least one). Received: seeds={value!r}")
        return seeds
    return tuple(range(checked(validation.positive_int, "seeds", value)))


def build_study(values: dict, full: bool = False, overrides: dict | None = None) -> AblationSpec:
    """Validates a study mapping (YAML fields), applying `full` and then the flag `overrides`."""
    if not isinstance(values, dict):
        raise SpecError(f"an ablation spec must be a mapping of fields. Received: {type(values).__name__}")
    unknown = sorted(set(map(str, values)) - set(FIELDS))
    if unknown:
        raise SpecError(f"ablation spec has an unknown field {unknown[0]!r}; known: {', '.join(FIELDS)}")
    values = dict(values)
    task = checked(validation.one_of, "task", values.get("task", "classification"), TASKS)
    full_section = values.get("full") or {}
    if not isinstance(full_section, dict):
        raise SpecError(f"`full` must be a mapping of {', '.join(FULL_FIELDS)}. Received: full={full_section!r}")
    unknown = sorted(set(map(str, full_section)) - set(FULL_FIELDS))
    if unknown:
        raise SpecError(f"`full` has an unknown field {unknown[0]!r}; known: {', '.join(FULL_FIELDS)}")
    if not isinstance(values.get("base"), dict):
        raise SpecError(f"`base` must be a mapping (stem_filters, stages, ...). Received: base={values.get('base')!r}")
    if full:
        values.update({key: value for key, value in full_section.items() if key != "base"})
        if "base" in full_section:
            values["base"] = substitute(values["base"], full_section["base"], task, "full.base")
    values.update({key: value for key, value in (overrides or {}).items() if value is not None})
    variants = check_variants(values.get("variants") or {})
    metric = values.get("metric", DEFAULTS[task]["metric"])
    study = AblationSpec(
        name=_text("name", values.get("name", "study")),
        task=task,
        dataset=check_dataset(values.get("dataset", DEFAULTS[task]["dataset"]), extra=TASK_DATASETS[task]),
        epochs=checked(validation.positive_int, "epochs", values.get("epochs", 10)),
        batch_size=checked(validation.positive_int, "batch_size", values.get("batch_size", 32)),
        seeds=check_seeds(values.get("seeds", 3)),
        learning_rate=checked(validation.positive_number, "learning_rate", values.get("learning_rate", 1e-3)),
        schedule=checked(validation.one_of, "schedule", values.get("schedule", Protocol.schedule), SCHEDULES),
        warmup_epochs=checked(validation.non_negative_int, "warmup_epochs",
                              values.get("warmup_epochs", Protocol.warmup_epochs)),
        bn_batches=checked(validation.non_negative_int, "bn_batches", values.get("bn_batches", Protocol.bn_batches)),
        metric=check_tested_metric(checked(validation.one_of, "metric", metric, METRICS[task]),
                                   check_expect(values.get("expect") or {}, variants)),
        base=dict(values["base"]),
        variants={name: dict(substitution) for name, substitution in variants.items()},
        description=_text("description", values.get("description", "")),
        paper=_text("paper", values.get("paper", "")),
        claim=_text("claim", values.get("claim", "")),
        expect=check_expect(values.get("expect") or {}, variants),
        limits=_text("limits", values.get("limits", "")),
        full=dict(full_section),
    )
    for variant in study.variant_names():
        study.design(variant)  # every variant's fields are checked before anything runs
    return study


def substitute(base: dict, substitution: dict, task: str, where: str) -> dict:
    """The base mapping with `substitution`'s fields replaced (stage fields in every stage or stage<n>_)."""
    if not isinstance(substitution, dict):
        raise SpecError(f"`{where}` must be a mapping of fields to replace. Received: {substitution!r}")
    result = {key: value for key, value in base.items() if key != "stages"}
    stages = [dict(stage) if isinstance(stage, dict) else stage for stage in base.get("stages") or []]
    known = [*ARCHITECTURE_FIELDS[task], *STAGE_FIELDS, "stage<n>_<stage field>"]
    for key, value in substitution.items():
        key = str(key)
        match = re.fullmatch(r"stage(\d+)_(\w+)", key)
        if key in ARCHITECTURE_FIELDS[task]:
            if key == "upsampler" and isinstance(value, dict) and isinstance(result.get("upsampler"), dict):
                value = {**result["upsampler"], **value}
            result[key] = value
        elif key in STAGE_FIELDS:
            for stage in stages:
                if isinstance(stage, dict):
                    stage[key] = value
        elif match and match.group(2) in STAGE_FIELDS:
            number = int(match.group(1))
            if not 1 <= number <= len(stages) or not isinstance(stages[number - 1], dict):
                raise SpecError(f"`{where}.{key}` names stage {number}, but the base has {len(stages)} stage(s)")
            stages[number - 1][match.group(2)] = value
        else:
            raise SpecError(f"`{where}` has an unknown field {key!r}; known: {', '.join(known)}")
    result["stages"] = stages
    return result


def _upsampler(values, where: str) -> Upsampler:
    if not isinstance(values, dict):
        raise SpecError(f"`{where}` must be a mapping of {', '.join(UPSAMPLER_FIELDS)}. Received: {values!r}")
    unknown = sorted(set(map(str, values)) - set(UPSAMPLER_FIELDS))
    if unknown:
        raise SpecError(f"`{where}` has an unknown field {unknown[0]!r}; known: {', '.join(UPSAMPLER_FIELDS)}")
    block = values.get("block")
    if block not in UPSAMPLERS:
        raise SpecError(f"`{where}.block` is an unknown block: {block!r}; allowed: {', '.join(UPSAMPLERS)}")
    interpolation = None
    if block == "upsample_conv":
        interpolation = checked(validation.one_of, f"{where}.interpolation", values.get("interpolation", "nearest"),
                                INTERPOLATIONS)
    return Upsampler(
        block=block,
        filters=checked(validation.positive_int, f"{where}.filters", values.get("filters", 32)),
        kernel_size=checked(validation.positive_int, f"{where}.kernel_size", values.get("kernel_size", 3)),
        interpolation=interpolation,
        skip=_skip(values.get("skip", True), f"{where}.skip"),
    )


def _skip(value, where: str) -> str | None:
    """A global skip: false (None), true (nearest, as before skips had interpolations) or one of SKIPS."""
    if value is False:
        return None
    if value is True:
        return SKIPS[0]
    if value not in SKIPS:
        raise SpecError(f"`{where}` must be false, true (nearest) or one of {', '.join(SKIPS)}. Received: {value!r}")
    return value


def make_design(values: dict, task: str, where: str) -> Design:
    """Validates an architecture mapping into a Design."""
    allowed = {*ARCHITECTURE_FIELDS[task], "stages"}
    unknown = sorted(set(map(str, values)) - allowed)
    if unknown:
        raise SpecError(f"`{where}` has an unknown field {unknown[0]!r}; known: {', '.join(sorted(allowed))}")
    stages = values.get("stages")
    if not isinstance(stages, list) or not stages:
        raise SpecError(f"`{where}.stages` must list at least one stage. Received: stages={stages!r}")
    design = Design(
        stem_filters=checked(validation.positive_int, f"{where}.stem_filters",
                             values.get("stem_filters", GLOBAL_DEFAULTS["stem_filters"])),
        stages=tuple(checked(make_stage, stage, f"{where}.stages[{index}]") for index, stage in enumerate(stages)),
    )
    if task == "classification":
        return dataclasses.replace(
            design,
            head=checked(validation.one_of, f"{where}.head", values.get("head", GLOBAL_DEFAULTS["head"]), HEADS),
            head_units=checked(validation.non_negative_int, f"{where}.head_units",
                               values.get("head_units", GLOBAL_DEFAULTS["head_units"])),
        )
    if any(stage.downsampling != "none" or (stage.strides or 1) != 1 for stage in design.stages):
        raise SpecError(
            f"`{where}.stages` of an upsampling study must keep the resolution (downsampling: none, strides 1)")
    return dataclasses.replace(design, upsampler=_upsampler(values.get("upsampler"), f"{where}.upsampler"))
