"""Asynchronous successive halving (ASHA: Li et al. 2020, "A System for Massively Parallel Hyperparameter Tuning").

A keras-tuner `Oracle`, so that resuming, distributed workers, budgets,
prescreening and convnas's records work as with keras-tuner's own oracles.

The rungs are trainings of `max_epochs / factor^k` epochs (rounded up, at
least 1: `rungs`), the top one `max_epochs`; with 8 epochs and factor 3,
3 then 8. Whenever a worker asks for a trial (Li et al.'s Algorithm 2), the
oracle looks from the second-highest rung down for a candidate that is in
the top 1/`factor` of the trials finished at its rung (`floor(n / factor)`
of them) and not promoted yet; the first found is promoted: a new trial
trains it on to the next rung's epochs from the weights of its trial at
this rung. Otherwise a new candidate is drawn (screened, like every random
draw: search.tuners.sampler) and trained for the lowest rung's epochs. No
worker waits for a rung to fill, which is what makes it asynchronous; the
search ends at `max_trials` trials, promotions included.

"Top" is the objective's order, or, with `selection_cost` ("flops" or
"params"), the multi-objective order of MO-ASHA (Schmucker et al. 2021,
"Multi-objective Asynchronous Successive Halving"): the lower non-dominated
rank on validation accuracy (higher) against that cost (lower) over the
rung, then the larger crowding distance (NSGA-II's selection, as evolution's
tournaments: search.tuners.evolution).

A trial's values carry keras-tuner's Hyperband keys: `tuner/epochs` (the
rung's epochs), `tuner/initial_epoch` (the epochs already trained),
`tuner/trial_id` (the trial it continues, promotions only) and `tuner/rung`.
So `AshaTuner`, keras-tuner's Hyperband tuner driven by this oracle, trains
a promotion on from its parent's checkpoint, and convnas's records show what
each trial continues, as for Hyperband. The rungs are read back from the
trials themselves, so a resumed search goes on where it stopped.
"""

from __future__ import annotations

import math

import keras_tuner

from convnas.blocks import validation
from convnas.search.adapter import OracleAdapter
from convnas.search.records import pareto
from convnas.search.tuners.evolution import check_selection_cost
from convnas.search.tuners.sampler import HYPERBAND_PREFIX, ScreenedSampling, space_values

EPOCHS, INITIAL_EPOCH, CONTINUES, RUNG = (f"{HYPERBAND_PREFIX}{name}" for name in
                                          ("epochs", "initial_epoch", "trial_id", "rung"))


def rungs(max_epochs: int, factor: int) -> list[int]:
    """The epochs of each rung, lowest first: ceil(max_epochs / factor^k) for k = K .. 0, K the largest with
    max_epochs / factor^K >= 1, repeats left out."""
    validation.positive_int("max_epochs", max_epochs)
    if not isinstance(factor, int) or factor < 2:
        raise ValueError(f"`factor` must be an integer of at least 2. Received: factor={factor!r}")
    top = math.floor(math.log(max_epochs, factor) + 1e-9)
    return sorted({math.ceil(max_epochs / factor**k) for k in range(top + 1)})


class AshaOracle(ScreenedSampling, OracleAdapter, keras_tuner.Oracle):
    """Asynchronous successive halving; see the module docstring.

    Args:
        objective, max_trials, seed, hyperparameters, allow_new_entries,
            tune_new_entries, max_retries_per_trial,
            max_consecutive_failed_trials: as keras-tuner's oracles.
        max_epochs: the epochs of the top rung (a full training).
        factor: the reduction factor (Li et al.'s eta): a rung's top
            1/factor is promoted, and its epochs are the next rung's / factor.
        selection_cost: None for the objective alone, or "flops" / "params":
            promotion by the multi-objective order (accuracy vs that cost).
        accuracy: the metric the multi-objective order maximizes.
    """

    def __init__(self, objective=None, max_trials=None, max_epochs: int = 100, factor: int = 3,
                 selection_cost: str | None = None, accuracy: str = "val_accuracy", **kwargs):
        super().__init__(objective=objective, max_trials=max_trials, **kwargs)
        self.rungs = rungs(max_epochs, factor)
        check_selection_cost(selection_cost)
        self.max_epochs, self.factor = max_epochs, factor
        self.selection_cost, self.accuracy = selection_cost, accuracy

    def populate_space(self, trial_id):
        promotion = self.promotion()
        if promotion is not None:
            parent, rung = promotion
            values = {**space_values(parent.hyperparameters.values), EPOCHS: self.rungs[rung + 1],
                      INITIAL_EPOCH: self.rungs[rung], CONTINUES: parent.trial_id, RUNG: rung + 1}
            return {"status": "RUNNING", "values": values}
        values = self.random_values()
        if values is not None:
            return {"status": "RUNNING", "values": {**values, EPOCHS: self.rungs[0], INITIAL_EPOCH: 0, RUNG: 0}}
        if self.ongoing() and not self.rejections.exhausted:
            return {"status": "IDLE", "values": None}
        return {"status": "STOPPED", "values": None}

    # Promotion --------------------------------------------------------------------------------

    def promotion(self) -> tuple | None:
        """(trial, its rung) of the candidate to train on to the next rung, from the second-highest rung down;
        None when no rung has an unpromoted candidate in its top 1/factor."""
        trials = [self.trials[trial_id] for trial_id in self.started_trial_ids()]
        promoted = {t.hyperparameters.values.get(CONTINUES) for t in trials}
        for rung in reversed(range(len(self.rungs) - 1)):
            finished = [t for t in trials if t.hyperparameters.values.get(RUNG, 0) == rung and self.scored(t)]
            top = self.ranked(finished)[:len(finished) // self.factor]
            waiting = [t for t in top if t.trial_id not in promoted]
            if waiting:
                return waiting[0], rung
        return None

    def scored(self, trial) -> bool:
        """Whether a trial finished with what promotion ranks it by (its score, or accuracy and cost)."""
        if trial.status != "COMPLETED" or trial.score is None:
            return False
        return not self.selection_cost or (trial.metrics.exists(self.accuracy)
                                           and trial.metrics.exists(self.selection_cost))

    def ranked(self, trials: list) -> list:
        """`trials`, best first: by the objective, or by non-dominated rank then crowding distance; ties in
        the order the trials started."""
        if not self.selection_cost:
            sign = -1 if self.objective.direction == "max" else 1
            return sorted(trials, key=lambda t: sign * t.score)
        points = [(t.metrics.get_last_value(self.accuracy), t.metrics.get_last_value(self.selection_cost))
                  for t in trials]
        keys = pareto.selection_keys(points)
        return [trials[i] for i in sorted(range(len(trials)), key=lambda i: keys[i])]

    # State ------------------------------------------------------------------------------------

    def get_state(self):
        return {**super().get_state(), "max_epochs": self.max_epochs, "factor": self.factor,
                "selection_cost": self.selection_cost, "accuracy": self.accuracy}

    def set_state(self, state):
        super().set_state(state)
        self.max_epochs, self.factor = state["max_epochs"], state["factor"]
        self.rungs = rungs(self.max_epochs, self.factor)
        self.selection_cost, self.accuracy = state["selection_cost"], state["accuracy"]


class AshaTuner(keras_tuner.Hyperband):
    """keras-tuner's Hyperband tuner (a trial trains `tuner/epochs` from `tuner/initial_epoch`, a promotion from
    the checkpoint of the trial it continues) driven by an `AshaOracle`.

    Takes keras-tuner's tuner arguments, plus `max_epochs`, `factor` and `selection_cost` (see `AshaOracle`).
    """

    def __init__(
        self,
        hypermodel=None,
        objective=None,
        max_trials: int = 10,
        max_epochs: int = 100,
        factor: int = 3,
        selection_cost: str | None = None,
        seed: int | None = None,
        hyperparameters=None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        **kwargs,
    ):
        oracle = AshaOracle(
            objective=objective,
            max_trials=max_trials,
            max_epochs=max_epochs,
            factor=factor,
            selection_cost=selection_cost,
            seed=seed,
            hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        keras_tuner.Tuner.__init__(self, oracle=oracle, hypermodel=hypermodel, **kwargs)
