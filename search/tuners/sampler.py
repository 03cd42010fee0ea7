"""Budgets inside the sampler: a drawn candidate that is invalid or over budget is redrawn before any trial exists.

An oracle given a `Screen` (by the tuner, once the space and the input shape
are known) checks each candidate it draws with the analytic cost model, never
training it (convnas's own space is costed from its layout, no model built:
milliseconds; a user's hypermodel is built and counted) and draws again while it is
INVALID or over a budget, up to `Screen.redraws` draws (default `choices.MAX_REDRAWS`) or
`REDRAW_SECONDS` seconds per trial. So `max_trials` counts trained candidates, and rejected draws are
only counted (`Rejections`: per reason, with the cheapest rejected cost),
never recorded as trials. When the limit passes without a feasible candidate
the oracle stops the search and keeps why (`Rejections.exhausted`).

The screen is a mixin of convnas's oracles (search.tuners.oracles), over
the public hooks of `search.adapter.OracleAdapter`. Where each tuner draws:
- random search, Hyperband's new brackets, Bayesian optimization's initial
  points and evolution's initial population draw at random
  (`random_values`): every such draw is screened;
- Bayesian optimization's model-chosen proposal is screened; one that is
  rejected is replaced by a screened random draw;
- evolution's mutants are screened (search.tuners.evolution);
- grid search skips the grid points that are rejected.

Prescreening (`Screen.prescreen` = K > 1, with a proxy score): each random
draw, and each evolution mutant, is the best-scoring of K feasible candidates
(search.proxies); the score is kept with the trial's values as
`prescreen/<proxy>`. Grid points and Bayesian's model-chosen proposals are
not prescreened. `space_values` strips that, and Hyperband's ``tuner/...``
bookkeeping, off a trial's values.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

from convnas.search import choices
from convnas.search.tuners.rejection import CandidateRejected, OverBudget

REDRAW_SECONDS = 120.0
PRESCREEN_PREFIX = "prescreen/"
HYPERBAND_PREFIX = "tuner/"  # keras-tuner's Hyperband: tuner/epochs, tuner/initial_epoch, tuner/trial_id, ...


def space_values(values: dict) -> dict:
    """A candidate's values of the space's hyperparameters, without the tuners' bookkeeping (tuner/..., prescreen/...).

    The filter every user of a trial's values applies: its record, its model, evolution's mutations.
    """
    return {name: value for name, value in values.items() if not name.startswith((HYPERBAND_PREFIX, PRESCREEN_PREFIX))}


class NoFeasibleCandidate(ValueError):
    """No candidate within the budgets turned up within the redraw limit (a user error: the budget is too tight)."""


@dataclasses.dataclass
class Screen:
    """How an oracle checks and ranks the candidates it draws.

    Attributes:
        check: hyperparameter values -> the candidate's cost ({"params", "flops", ...});
            raises CandidateRejected (InvalidCandidate, OverBudget) for one that cannot be trained.
        budget: the budget's text for messages, e.g. "max_flops 200,000".
        prescreen: feasible candidates drawn per trial; the best-scoring one is trained.
        proxy: the proxy's name; `score` ranks candidates by it (higher is better).
        score: hyperparameter values -> proxy score (used when prescreen > 1).
        redraws: draws per trial before the sampler gives up.
    """

    check: Callable[[dict], dict]
    budget: str = ""
    prescreen: int = 1
    proxy: str = ""
    score: Callable[[dict], float] | None = None
    redraws: int = choices.MAX_REDRAWS


class Rejections:
    """Counts of rejected draws by reason, the cheapest rejected cost, and why the sampler gave up (if it did)."""

    def __init__(self, state: dict | None = None):
        state = state or {}
        self.counts: dict[str, int] = dict(state.get("counts", {}))
        self.cheapest: dict[str, float] = dict(state.get("cheapest", {}))
        self.examples: dict[str, str] = dict(state.get("examples", {}))  # the first reason of each kind
        self.exhausted: str = state.get("exhausted", "")

    def add(self, rejection: CandidateRejected, costs: dict | None) -> None:
        kind = "over budget" if isinstance(rejection, OverBudget) else "invalid"
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.examples.setdefault(kind, rejection.reason)
        for name, value in (costs or {}).items():
            if value is not None and value < self.cheapest.get(name, math.inf):
                self.cheapest[name] = float(value)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def counts_text(self) -> str:
        """The rejected draws per reason, e.g. "3 invalid, 12 over budget"."""
        return ", ".join(f"{count} {kind}" for kind, count in sorted(self.counts.items()))

    def cheapest_text(self) -> str:
        """The cheapest rejected cost of each kind, e.g. "12,345 FLOPs, 678 parameters"; "" when none was measured."""
        return ", ".join(describe_cost(name, value) for name, value in sorted(self.cheapest.items()))

    def state(self) -> dict:
        return {"counts": self.counts, "cheapest": self.cheapest, "examples": self.examples,
                "exhausted": self.exhausted}


def describe_cost(name: str, value: float) -> str:
    """A cost for people: "12,345 FLOPs", "678 parameters", "0.42 ms"."""
    if name == "latency_ms":
        return f"{value:.2f} ms"
    return f"{value:,.0f} {'FLOPs' if name == 'flops' else 'parameters'}"


class ScreenedSampling:
    """Oracle mixin over `adapter.OracleAdapter`: screened draws (see the module docstring).

    Set `screen` before the search draws.
    """

    screen: Screen | None = None

    @property
    def rejections(self) -> Rejections:
        if not hasattr(self, "_rejections"):
            self._rejections = Rejections()
        return self._rejections

    def get_state(self):
        return {**super().get_state(), "rejected_draws": self.rejections.state()}

    def set_state(self, state):
        super().set_state(state)
        self._rejections = Rejections(state.get("rejected_draws"))

    def screened(self, draw: Callable[[], dict | None], prescreen: bool = True) -> dict | None:
        """The first feasible values `draw` returns (the best-scoring of K with prescreening); None when it runs dry.

        When no feasible candidate turns up within the limit, `rejections.exhausted` says why and None is returned.
        """
        if self.screen is None:
            return draw()
        wanted = self.screen.prescreen if prescreen and self.screen.score else 1
        started, found, seen, rejected = time.perf_counter(), [], set(), 0
        for _ in range(self.screen.redraws):
            if time.perf_counter() - started > REDRAW_SECONDS:
                break
            values = draw()
            if values is None:
                break
            fingerprint = self.values_hash(values)
            if fingerprint in seen:
                continue
            seen.add(fingerprint)
            try:
                self.screen.check(values)
            except CandidateRejected as rejection:
                self.rejections.add(rejection, rejection.costs)
                self.mark_tried(fingerprint)  # never drawn again
                rejected += 1
                continue
            found.append(values)
            if len(found) == wanted:
                break
        if not found:
            seconds = time.perf_counter() - started
            limit = len(seen) >= self.screen.redraws or seconds > REDRAW_SECONDS
            if rejected and (limit or not self.trials):  # the limit passed, or the space ran dry with none trainable
                self.rejections.exhausted = self._exhausted_message(len(seen), seconds)
            return None
        if wanted == 1:
            return found[0]
        scores = [self.screen.score(values) for values in found]
        best = max(range(len(found)), key=lambda i: -math.inf if math.isnan(scores[i]) else scores[i])  # NaN ranks last
        return {**found[best], f"{PRESCREEN_PREFIX}{self.screen.proxy}": float(scores[best])}

    def _exhausted_message(self, draws: int, seconds: float) -> str:
        cheapest = self.rejections.cheapest_text()
        wanted = f"within {self.screen.budget}" if self.screen.budget else "that can be built"
        message = f"no candidate {wanted} in {draws} draws ({seconds:.0f} s; {self.rejections.counts_text()} so far)"
        if cheapest:
            return f"{message}; the cheapest drawn had {cheapest}"
        return f"{message}; first invalid: {self.rejections.examples.get('invalid', '')}"

    def random_values(self):
        return self.screened(self.fresh_random_values)

    def populate_space(self, trial_id):
        response = super().populate_space(trial_id)
        if self.rejections.exhausted:
            return {"status": "STOPPED", "values": None}
        return response


class ScreenedBayesian(ScreenedSampling):
    """Bayesian optimization's model-chosen proposal screened; a rejected one replaced by a screened random draw."""

    def populate_space(self, trial_id):
        response = super().populate_space(trial_id)
        values = response.get("values")
        if self.screen is None or values is None or response["status"] != "RUNNING":
            return response
        try:
            self.screen.check(values)
            return response
        except CandidateRejected as rejection:
            self.rejections.add(rejection, rejection.costs)
            self.mark_tried(self.values_hash(values))
        replacement = self.random_values()
        if replacement is None:
            return {"status": "STOPPED", "values": None}
        return {"status": "RUNNING", "values": replacement}


class ScreenedGrid(ScreenedSampling):
    """Grid search passing over the grid points that are rejected (no prescreening: the grid is walked in order)."""

    def next_grid_point(self, values):
        def next_point():
            nonlocal values
            values = self.grid_successor(values)
            return values

        return self.screened(next_point, prescreen=False)

    def populate_space(self, trial_id):
        # The first point is the defaults: screened like the rest.
        if not self.started_trial_ids() and self.screen is not None:
            defaults = super().populate_space(trial_id)
            values = defaults.get("values")
            try:
                self.screen.check(values)
                return defaults
            except CandidateRejected as rejection:
                self.rejections.add(rejection, rejection.costs)
            following = self.next_grid_point(values)
            if following is None:
                return {"status": "STOPPED", "values": None}
            return {"status": "RUNNING", "values": following}
        return super().populate_space(trial_id)
