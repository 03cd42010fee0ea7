"""The tuner's side of the budget screen (search.tuners.sampler): what the oracle checks each drawn candidate with.

`BudgetScreen`, a mixin of `ConvnasTrials` (search.tuners.trials), gives the oracle its `Screen`: a
drawn candidate is costed (convnas's own space from its layout, a user's hypermodel built for the
training data's input shape and counted, search.tuners.trial_cost) and checked against the budgets,
and with `prescreen` K > 1 scored by a training-free proxy. A candidate whose cost is known only once
training builds it (no input shape before training, a model that cannot be traced) is never refused
for it: the search says so once, and trains it.
"""

from __future__ import annotations

import keras
import numpy as np

from convnas.search import cost
from convnas.search.choices import PROXIES
from convnas.search.tuners import distributed, sampler, trial_cost
from convnas.search.tuners.rejection import CandidateRejected


class BudgetScreen:
    """Tuner mixin: the oracle's screen. Uses the tuner's `budget`, `prescreen`, `proxy`, `trial_seed`,
    `latency_repeats`, `max_redraws`, `hypermodel`, `oracle` and `say_once`."""

    def prepare_sampler(self, input_shape: tuple, examples: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Gives the oracle its screen: the budgets checked on each drawn candidate, and the prescreening proxy.

        `examples` (images, labels) supply the proxy's fixed batch. A search that
        stopped because no candidate fitted the budget starts drawing afresh.
        """
        if distributed.is_worker():
            return  # the chief's oracle draws the candidates
        self._screen_input_shape = input_shape
        score = None
        if self.prescreen > 1:
            from convnas.search import proxies

            PROXIES.check("proxy", self.proxy)
            if examples is None:
                raise ValueError("`prescreen` needs training images for the proxy's batch. Received: no training data")
            batch = proxies.fixed_batch(*examples, size=min(trial_cost.PROXY_BATCH, len(examples[0])), seed=0)

            def score(values: dict) -> float:
                keras.utils.set_random_seed(0 if self.trial_seed is None else self.trial_seed)
                return proxies.score(self.proxy, self._screen_build(values), *batch, seed=0)

        self.oracle.screen = sampler.Screen(
            self._screen_check, self.budget.describe(), self.prescreen, self.proxy, score, self.max_redraws
        )
        self.oracle.rejections.exhausted = ""

    def _screen_build(self, values: dict) -> keras.Model:
        hp = self.oracle.get_space()
        hp.values = sampler.space_values(values)
        keras.backend.clear_session(free_memory=False)  # the trial's build collects (twice): not once per draw
        model = self.hypermodel.build(hp)
        trial_cost.build_for(model, self._screen_input_shape)
        return model

    def _screen_check(self, values: dict) -> dict:
        """The drawn candidate's cost; CandidateRejected if it is invalid or over a budget.

        Without a latency budget, convnas's space is costed from its layout (`arithmetic_cost`: no model built);
        a user's hypermodel is built and counted."""
        arithmetic_cost = getattr(self.hypermodel, "arithmetic_cost", None)
        if arithmetic_cost is not None and self.budget.max_latency_ms is None:
            counted = arithmetic_cost(sampler.space_values(values))
            self.budget.check_cost(counted)
            return {"flops": counted.flops, "params": counted.params}
        try:
            built = self._screen_build(values)
        except CandidateRejected:
            raise
        except Exception:  # noqa: BLE001 - the trial builds it again, fails, and its record says why
            return {}
        try:
            model = trial_cost.countable(built)
        except trial_cost.Uncountable:
            self.say_budgets_unchecked("a candidate's cost is known only once its training builds it")
            return {}
        counted = cost.count(model)
        self.budget.check_cost(counted)
        if self.budget.max_latency_ms is not None:
            self.budget.check_latency(cost.latency(model, repeats=self.latency_repeats))
        return {"flops": counted.flops, "params": counted.params}

    def say_budgets_unchecked(self, why: str) -> None:
        """Says once that the budgets, if any, cannot be checked before training, and `why`."""
        if self.budget.describe():
            self.say_once(f"the budgets ({self.budget.describe()}) cannot be checked before training: {why}; "
                          "such trials are trained whatever their cost")

    def raise_if_exhausted(self) -> None:
        """NoFeasibleCandidate if the sampler stopped the search for want of a candidate within the budgets."""
        if self.oracle.rejections.exhausted:
            raise sampler.NoFeasibleCandidate(self.oracle.rejections.exhausted)
