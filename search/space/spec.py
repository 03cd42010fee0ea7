"""A search specification: YAML file and command-line flags, validated into one typed object, `SearchSpec`.

    dataset: digits            # a dataset of search.choices (DATASETS), npz:PATH or dir:PATH
    tuner: random              # a tuner of search.choices.TUNERS
    eta: 3                     # hyperband and asha: reduction factor
    max_trials: 10
    epochs: 8
    batch_size: 32
    objective: val_accuracy    # an objective of search.choices.OBJECTIVES
    max_flops: 5.0e6           # budgets (optional)
    max_params: 20000
    pareto_cost: flops         # a cost of search.choices.PARETO_COSTS: the front's (hypervolume, Pareto selection)
    prescreen: 1               # K > 1: each trial trains the best of K feasible candidates by `proxy`
    proxy: synflow             # a proxy of search.choices.PROXIES
    max_redraws: 1000          # draws per trial (invalid or over-budget ones redrawn) before giving up
    seed: 0
    deterministic: false       # the backend's deterministic ops: a re-run gives the same metrics
    space:                     # fix (scalar), restrict (list) or narrow ({min, max}) hyperparameters
      stages: [1, 2]
      cell: [plain, residual]  # every stage
      stage1_filters: 16       # the first stage only
      learning_rate: {min: 0.0005, max: 0.005}

Each field but `space` is also a `convnas search` flag: the field's `Flag`
(its help, metavar and type) is what the command line generates the flag
from. Flags override the file. Every problem is a `SpecError` (a ValueError) whose
message names the field and the value received, on one line.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from convnas.blocks import validation
from convnas.search import choices
from convnas.search.common.spec_files import SpecError, checked
from convnas.search.space.stages import GLOBAL_CHOICES, STAGE_CHOICES
from convnas.search.space.training import SCHEDULES, Protocol, make_protocol


@dataclasses.dataclass(frozen=True)
class Flag:
    """How a spec field shows on the command line (`--max-trials` for `max_trials`); the CLI generates the flag.

    Attributes:
        help: what the flag sets; "{choices}" in it stands for the names `choices` returns.
        metavar: the value's name in the help (default: the field's name in capitals).
        type: the value's type (int, float, str), or bool for a switch that sets True.
        choices: returns the names the field takes (a registry's); the spec checks them.
    """

    help: str
    metavar: str | None = None
    type: type = str
    choices: Callable[[], tuple[str, ...]] | None = None

    def describe(self) -> str:
        """The help with the current choices filled in."""
        return self.help.replace("{choices}", ", ".join(self.choices())) if self.choices else self.help


def flag(default=dataclasses.MISSING, **settings) -> dataclasses.Field:
    """A dataclass field with `default` that is also a command-line flag (`settings`: those of `Flag`)."""
    return dataclasses.field(default=default, metadata={"flag": Flag(**settings)})


def flags(spec_class: type) -> dict[str, Flag]:
    """The fields of the dataclass `spec_class` that are command-line flags, in order: name -> Flag."""
    return {field.name: field.metadata["flag"] for field in dataclasses.fields(spec_class) if "flag" in field.metadata}


@dataclasses.dataclass(frozen=True)
class SearchSpec:
    """A validated search: each field is a spec file's key and (but `space`) a `convnas search` flag."""

    dataset: str = flag("digits", help="{choices}", choices=choices.dataset_names)
    tuner: str = flag("random", choices=choices.TUNERS.names, help="{choices}; evolution: regularized evolution, "
                      "asha: asynchronous successive halving, which with --objective pareto select on the "
                      "accuracy/cost front")
    eta: int = flag(3, help="hyperband and asha: a rung's top 1/ETA go on, rungs at EPOCHS / ETA^k epochs",
                    metavar="ETA", type=int)
    max_trials: int = flag(10, help="trials to train", metavar="N", type=int)
    epochs: int = flag(8, help="training epochs per trial", metavar="N", type=int)
    batch_size: int = flag(32, help="training batch size", metavar="N", type=int)
    schedule: str = flag(Protocol.schedule, help="learning rate of a trial trained for its epochs: {choices} "
                         "(warmup, then cosine to 0 at the last step)", choices=lambda: SCHEDULES)
    warmup_epochs: int = flag(Protocol.warmup_epochs, help="epochs of linear warmup of the cosine schedule",
                              metavar="N", type=int)
    bn_batches: int = flag(Protocol.bn_batches, help="training batches BatchNorm statistics are re-estimated on "
                           "before a trial's last validation; 0: never", metavar="N", type=int)
    objective: str = flag("val_accuracy", choices=choices.OBJECTIVES.names, help="{choices}; pareto: the "
                          "accuracy/cost front with evolution, accuracy - W * log10 FLOPs with the other tuners")
    cost_weight: float = flag(choices.COST_WEIGHT, help="pareto objective: accuracy lost per decade of FLOPs",
                              metavar="W", type=float)
    max_flops: float | None = flag(None, help="redraw candidates with more FLOPs before training", metavar="N",
                                   type=float)
    max_params: float | None = flag(None, help="redraw candidates with more parameters", metavar="N", type=float)
    max_latency_ms: float | None = flag(None, help="redraw candidates slower than this", metavar="MS", type=float)
    pareto_cost: str = flag("flops", help="{choices}: the cost of the front and its hypervolume",
                            choices=choices.PARETO_COSTS.names)
    prescreen: int = flag(1, help="train the best of K feasible candidates per trial, ranked by --proxy; "
                          "1 trains every draw", metavar="K", type=int)
    proxy: str = flag("synflow", help="training-free proxy for --prescreen: {choices}", choices=choices.PROXIES.names)
    max_redraws: int = flag(choices.MAX_REDRAWS, help="draws per trial, invalid or over-budget ones redrawn, "
                            "before giving up", metavar="N", type=int)
    seed: int = flag(0, help="seed of the architecture draws, the data split and order, and the initial weights",
                     type=int)
    deterministic: bool = flag(False, help="the backend's deterministic ops: the same seed gives the same "
                               "architectures and metrics", type=bool)
    logdir: str = flag("logs/search", help="where the search writes", metavar="DIR")
    overwrite: bool = flag(False, help="start afresh instead of resuming", type=bool)
    space: dict = dataclasses.field(default_factory=dict)


FIELDS = {field.name for field in dataclasses.fields(SearchSpec)}


def _positive_int(name, value, allow_zero=False):
    return checked(validation.non_negative_int if allow_zero else validation.positive_int, name, value)


def _at_least_two(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise SpecError(f"`{name}` must be an integer of at least 2. Received: {name}={value!r}")
    return value


def _positive_number(name, value):
    return None if value is None else checked(validation.positive_number, name, value)


def _one_of(name, value, allowed):
    return checked(validation.one_of, name, value, allowed)


def check_dataset(value, extra: tuple[str, ...] = ()) -> str:
    """`value` if it names a dataset: one of `extra` (e.g. "photos"), a registered dataset, or KIND:PATH."""
    return checked(choices.check_dataset, value, extra)


MAX_STAGES = max(GLOBAL_CHOICES["stages"][0])  # a candidate has 1 to MAX_STAGES stages


def _allowed_values(key: str):
    """The values a space hyperparameter may take: a tuple of choices, or a predicate."""
    if key == "stages":
        return "stage count"
    general = re.sub(r"^stage\d+_", "", key)
    if general in STAGE_CHOICES or key in GLOBAL_CHOICES:
        options = (STAGE_CHOICES.get(general) or GLOBAL_CHOICES[key])[0]
        if isinstance(options[0], str):
            return options
        return "non-negative integer" if key == "head_units" else "positive integer"
    if key == "optimizer":
        return choices.OPTIMIZERS.names()
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
    if allowed == "stage count":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_STAGES:
            raise SpecError(f"`space.stages` must be an integer from 1 to {MAX_STAGES} (the stages of a candidate). "
                            f"Received: space.stages={value!r}")
        return int(value)
    return _positive_int(f"space.{key}", value, allow_zero=allowed == "non-negative integer")


def _space(space) -> dict:
    if not isinstance(space, dict):
        raise SpecError(f"`space` must be a mapping of hyperparameter names to values. Received: space={space!r}")
    checked = {}
    for key, value in space.items():
        allowed = _allowed_values(str(key))
        if allowed is None:
            names = ", ".join([*GLOBAL_CHOICES, "stage<n>_" + "|".join(STAGE_CHOICES), *STAGE_CHOICES, "optimizer",
                               "learning_rate", "batch_norm_momentum"])
            raise SpecError(f"`space` has an unknown hyperparameter {key!r}; known: {names}")
        stage = re.match(r"^stage(\d+)_", str(key))
        if stage and not 1 <= int(stage[1]) <= MAX_STAGES:
            raise SpecError(f"`space.{key}` names stage {int(stage[1])}, but a candidate has stages 1 to {MAX_STAGES}. "
                            f"Received: space.{key}={value!r}")
        if key == "learning_rate" and isinstance(value, dict):
            if set(value) != {"min", "max"}:
                raise SpecError(f"`space.learning_rate` range must have exactly min and max. Received: {value!r}")
            low = _positive_number("space.learning_rate.min", value["min"])
            high = _positive_number("space.learning_rate.max", value["max"])
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
        tuner=_one_of("tuner", spec.tuner, choices.TUNERS.names()),
        max_trials=_positive_int("max_trials", spec.max_trials),
        eta=_at_least_two("eta", spec.eta),
        epochs=_positive_int("epochs", spec.epochs),
        batch_size=_positive_int("batch_size", spec.batch_size),
        **dataclasses.asdict(checked(make_protocol, spec.schedule, spec.warmup_epochs, spec.bn_batches)),
        objective=_one_of("objective", spec.objective, choices.OBJECTIVES.names()),
        cost_weight=_positive_number("cost_weight", spec.cost_weight),
        max_flops=_positive_number("max_flops", spec.max_flops),
        max_params=_positive_number("max_params", spec.max_params),
        max_latency_ms=_positive_number("max_latency_ms", spec.max_latency_ms),
        pareto_cost=_one_of("pareto_cost", spec.pareto_cost, choices.PARETO_COSTS.names()),
        prescreen=_positive_int("prescreen", spec.prescreen),
        proxy=_one_of("proxy", spec.proxy, choices.PROXIES.names()),
        max_redraws=_positive_int("max_redraws", spec.max_redraws),
        seed=_positive_int("seed", spec.seed, allow_zero=True),
        deterministic=checked(validation.boolean, "deterministic", spec.deterministic),
        logdir=str(spec.logdir),
        overwrite=bool(spec.overwrite),
        space=_space(spec.space),
    )
