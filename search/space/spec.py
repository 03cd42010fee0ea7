"""A search specification: YAML file and command-line flags, validated into one typed object.

    dataset: digits            # digits | cluttered_digits | mnist | fashion_mnist | cifar10 | cifar100 | npz:PATH | dir:PATH
    tuner: random              # random | grid | bayesian | hyperband | evolution
    max_trials: 10
    epochs: 8
    batch_size: 32
    objective: val_accuracy    # val_accuracy | val_loss | pareto
    max_flops: 5.0e6           # budgets (optional)
    max_params: 20000
    pareto_cost: flops         # flops | params: the front's cost (hypervolume, evolution's Pareto selection)
    prescreen: 1               # K > 1: each trial trains the best of K feasible candidates by `proxy`
    proxy: synflow             # synflow | naswot | jacob_cov | grad_norm | snip
    max_redraws: 1000          # draws per trial (invalid or over-budget ones redrawn) before giving up
    seed: 0
    deterministic: false       # TensorFlow op determinism: a re-run gives the same metrics
    space:                     # fix (scalar), restrict (list) or narrow ({min, max}) hyperparameters
      stages: [1, 2]
      cell: [plain, residual]  # every stage
      stage1_filters: 16       # the first stage only
      learning_rate: {min: 0.0005, max: 0.005}

Flags override the file. Every problem is a `SpecError` (a ValueError) whose
message names the field and the value received, on one line.
"""

from __future__ import annotations

import dataclasses
import re

from convnas.blocks import validation
from convnas.search.common.spec_files import SpecError, checked
from convnas.search.space.stages import GLOBAL_CHOICES, STAGE_CHOICES

TUNERS = ("random", "grid", "bayesian", "hyperband", "evolution")
PARETO_COSTS = ("flops", "params")
PROXIES = ("synflow", "naswot", "jacob_cov", "grad_norm", "snip")  # search.proxies.PROXIES, without importing TensorFlow
OBJECTIVES = ("val_accuracy", "val_loss", "pareto")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100")
DATASETS = ("digits", "cluttered_digits", *KERAS_DATASETS, "npz:PATH", "dir:PATH")


@dataclasses.dataclass(frozen=True)
class SearchSpec:
    dataset: str = "digits"
    tuner: str = "random"
    max_trials: int = 10
    epochs: int = 8
    batch_size: int = 32
    objective: str = "val_accuracy"
    cost_weight: float = 0.05
    max_flops: float | None = None
    max_params: float | None = None
    max_latency_ms: float | None = None
    pareto_cost: str = "flops"
    prescreen: int = 1
    proxy: str = "synflow"
    max_redraws: int = 1000
    seed: int = 0
    deterministic: bool = False
    logdir: str = "logs/search"
    overwrite: bool = False
    space: dict = dataclasses.field(default_factory=dict)


FIELDS = {field.name for field in dataclasses.fields(SearchSpec)}


def _positive_int(name, value, allow_zero=False):
    return checked(validation.non_negative_int if allow_zero else validation.positive_int, name, value)


def _positive_number(name, value):
    return None if value is None else checked(validation.positive_number, name, value)


def _one_of(name, value, choices):
    return checked(validation.one_of, name, value, choices)


def check_dataset(value, extra: tuple[str, ...] = ()) -> str:
    """`value` if it names a dataset: one of `extra` (e.g. "photos"), a search dataset, npz:PATH or dir:PATH."""
    names = (*extra, *DATASETS)
    if not isinstance(value, str) or not (value in names or re.fullmatch(r"(npz|dir):.+", value)):
        raise SpecError(f"`dataset` must be one of {', '.join(names)}. Received: dataset={value!r}")
    return value


def _allowed_values(key: str):
    """The values a space hyperparameter may take: a tuple of choices, or a predicate."""
    general = re.sub(r"^stage\d+_", "", key)
    if general in STAGE_CHOICES or key in GLOBAL_CHOICES:
        choices = (STAGE_CHOICES.get(general) or GLOBAL_CHOICES[key])[0]
        if isinstance(choices[0], str):
            return choices
        return "non-negative integer" if key == "head_units" else "positive integer"
    if key == "optimizer":
        return OPTIMIZERS
    if key in ("learning_rate", "batch_norm_momentum"):
        return "positive number"
    return None


def _space_value(key: str, value, allowed):
    what = "block" if re.sub(r"^stage\d+_", "", key) == "block" else "value"
    if isinstance(allowed, tuple):
        if value not in allowed:
            raise SpecError(f"`space.{key}` has an unknown {what}: {value!r}; allowed: {', '.join(allowed)}")
        return value
    if allowed == "positive number":
        return _positive_number(f"space.{key}", value)
    return _positive_int(f"space.{key}", value, allow_zero=allowed == "non-negative integer")


def _space(space) -> dict:
    if not isinstance(space, dict):
        raise SpecError(f"`space` must be a mapping of hyperparameter names to values. Received: space={space!r}")
    checked = {}
    for key, value in space.items():
        allowed = _allowed_values(str(key))
        if allowed is None:
            names = ", ".join([*GLOBAL_CHOICES, "stage<n>_" + "|".join(STAGE_CHOICES), *STAGE_CHOICES, "optimizer", "learning_rate", "batch_norm_momentum"])
            raise SpecError(f"`space` has an unknown hyperparameter {key!r}; known: {names}")
        if key == "learning_rate" and isinstance(value, dict):
            if set(value) != {"min", "max"}:
                raise SpecError(f"`space.learning_rate` range must have exactly min and max. Received: {value!r}")
            low, high = _positive_number("space.learning_rate.min", value["min"]), _positive_number("space.learning_rate.max", value["max"])
            if low >= high:
                raise SpecError(f"`space.learning_rate` min must be below max. Received: {value!r}")
            checked[key] = {"min": low, "max": high}
        elif isinstance(value, list):
            if not value:
                raise SpecError(f"`space.{key}` must list at least one choice. Received: {key}=[]")
            checked[key] = [_space_value(key, item, allowed) for item in value]
        else:
            checked[key] = _space_value(key, value, allowed)
    return checked


def build_spec(file_values: dict, flag_values: dict) -> SearchSpec:
    """Merges the YAML fields and the flags (flags win), and validates every field."""
    values = dict(file_values)
    unknown = sorted(str(key) for key in values if key not in FIELDS)
    if unknown:
        raise SpecError(f"spec has an unknown field {unknown[0]!r}; known: {', '.join(sorted(FIELDS))}")
    values.update({key: value for key, value in flag_values.items() if value is not None})
    spec = SearchSpec(**values)
    return dataclasses.replace(
        spec,
        dataset=check_dataset(spec.dataset),
        tuner=_one_of("tuner", spec.tuner, TUNERS),
        max_trials=_positive_int("max_trials", spec.max_trials),
        epochs=_positive_int("epochs", spec.epochs),
        batch_size=_positive_int("batch_size", spec.batch_size),
        objective=_one_of("objective", spec.objective, OBJECTIVES),
        cost_weight=_positive_number("cost_weight", spec.cost_weight),
        max_flops=_positive_number("max_flops", spec.max_flops),
        max_params=_positive_number("max_params", spec.max_params),
        max_latency_ms=_positive_number("max_latency_ms", spec.max_latency_ms),
        pareto_cost=_one_of("pareto_cost", spec.pareto_cost, PARETO_COSTS),
        prescreen=_positive_int("prescreen", spec.prescreen),
        proxy=_one_of("proxy", spec.proxy, PROXIES),
        max_redraws=_positive_int("max_redraws", spec.max_redraws),
        seed=_positive_int("seed", spec.seed, allow_zero=True),
        deterministic=checked(validation.boolean, "deterministic", spec.deterministic),
        logdir=str(spec.logdir),
        overwrite=bool(spec.overwrite),
        space=_space(spec.space),
    )
