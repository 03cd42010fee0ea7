"""Regularized evolution (Real et al. 2019, "Regularized evolution for image classifier architecture search").

A keras-tuner `Oracle`, so that resuming, distributed workers and convnas's
records work as with keras-tuner's own oracles:

1. The first `population_size` candidates are drawn at random.
2. Then each new candidate is a mutant of a tournament winner: `sample_size`
   members drawn at random from the population, the best of them is the
   parent, and the child differs from it in exactly one hyperparameter (one
   architectural choice; a choice that activates others, e.g. a stage's cell,
   draws the hyperparameters it activates at random).
3. The population is the `population_size` most recently finished trials
   ("aging": the oldest member leaves as a new one arrives, whatever its
   score), which is what regularizes the evolution.

"Best" in a tournament is the objective's best, or, with `selection_cost`
("flops" or "params"), the multi-objective order of NSGA-II (Deb et al. 2002)
on validation accuracy (higher) against that cost (lower), computed over the
whole population: the lower non-dominated rank first, then the larger
crowding distance. The trials report their costs as metrics for this
(convnas's tuners do).

Mutants, like every drawn candidate, go through the oracle's screen
(search.tuners.sampler): an invalid or over-budget mutant is redrawn before a
trial exists, and with prescreening the child is the best-scoring of K
feasible mutants. The oracle reads keras-tuner's state through
`search.adapter.OracleAdapter`; `EvolutionTuner` is the keras-tuner tuner
it drives.
"""

from __future__ import annotations

import random

import keras_tuner

from convnas.search.adapter import OracleAdapter
from convnas.search.choices import PARETO_COSTS
from convnas.search.records import pareto
from convnas.search.tuners.sampler import ScreenedSampling, space_values

MUTATION_TRIES = 50


def check_selection_cost(selection_cost: str | None) -> None:
    """ValueError unless `selection_cost` is None or a Pareto cost ("flops", "params")."""
    if selection_cost is not None and selection_cost not in PARETO_COSTS:
        *others, last = (repr(name) for name in PARETO_COSTS.names())
        raise ValueError(f"`selection_cost` must be None, {', '.join(others)} or {last}. "
                         f"Received: selection_cost={selection_cost!r}")


class EvolutionOracle(ScreenedSampling, OracleAdapter, keras_tuner.Oracle):
    """Regularized evolution; see the module docstring.

    Args:
        objective, max_trials, seed, hyperparameters, allow_new_entries,
            tune_new_entries, max_retries_per_trial,
            max_consecutive_failed_trials: as keras-tuner's oracles.
        population_size: members of the population (Real et al.'s P).
        sample_size: members of each tournament (Real et al.'s S).
        selection_cost: None for the objective alone, or "flops" / "params":
            the tournament's multi-objective order (accuracy vs that cost).
        accuracy: the metric the multi-objective order maximizes.
    """

    def __init__(
        self,
        objective=None,
        max_trials=None,
        population_size: int = 20,
        sample_size: int = 5,
        selection_cost: str | None = None,
        accuracy: str = "val_accuracy",
        **kwargs,
    ):
        super().__init__(objective=objective, max_trials=max_trials, **kwargs)
        if not isinstance(population_size, int) or population_size < 2:
            raise ValueError(
                f"`population_size` must be an integer of at least 2. Received: population_size={population_size!r}"
            )
        if not isinstance(sample_size, int) or not 1 <= sample_size <= population_size:
            raise ValueError(
                f"`sample_size` must be an integer from 1 to population_size ({population_size}). "
                f"Received: sample_size={sample_size!r}"
            )
        check_selection_cost(selection_cost)
        self.population_size, self.sample_size = population_size, sample_size
        self.selection_cost, self.accuracy = selection_cost, accuracy

    def population(self) -> list:
        """The most recently finished scored trials, at most `population_size`, oldest first."""
        finished = [self.trials[trial_id] for trial_id in self.ended_trial_ids()]
        scored = [t for t in finished if t.status == "COMPLETED" and t.score is not None]
        if self.selection_cost:
            scored = [t for t in scored if t.metrics.exists(self.accuracy) and t.metrics.exists(self.selection_cost)]
        return scored[-self.population_size:]

    def populate_space(self, trial_id):
        members = self.population()
        if len(members) < self.population_size:
            values = self.random_values()
        else:
            generator = random.Random(f"{self.seed}:{trial_id}")
            values = self.screened(lambda: self._mutant(members, generator))
        if values is not None:
            return {"status": "RUNNING", "values": values}
        if self.ongoing() and not self.rejections.exhausted:
            return {"status": "IDLE", "values": None}
        return {"status": "STOPPED", "values": None}

    # Selection --------------------------------------------------------------------------------

    def parent(self, members: list, generator: random.Random):
        """The winner of a tournament among `sample_size` members drawn from `members`."""
        entrants = generator.sample(range(len(members)), self.sample_size)
        if not self.selection_cost:
            better = self.objective.better_than
            winner = entrants[0]
            for index in entrants[1:]:
                if better(members[index].score, members[winner].score):
                    winner = index
            return members[winner]
        points = [(m.metrics.get_last_value(self.accuracy), m.metrics.get_last_value(self.selection_cost))
                  for m in members]
        keys = pareto.selection_keys(points)
        return members[min(entrants, key=lambda i: keys[i])]

    # Mutation ---------------------------------------------------------------------------------

    def _mutant(self, members: list, generator: random.Random) -> dict | None:
        """A child of a tournament winner that differs in one hyperparameter and was never tried."""
        for _ in range(MUTATION_TRIES):
            child = self.mutate(space_values(self.parent(members, generator).hyperparameters.values), generator)
            if child is not None and not self.tried_before(child):
                return child
        return self.fresh_random_values()  # the neighbourhood is spent: a fresh random candidate

    def mutate(self, values: dict, generator: random.Random) -> dict | None:
        """`values` with one tunable active hyperparameter changed; newly active ones drawn at random."""
        space = self.hyperparameters.copy()
        space.values = dict(values)
        tunable = [hp for hp in space.space if space.is_active(hp) and _choices(hp) != 1]
        if not tunable:
            return None
        changed = generator.choice(tunable)
        new_value = values.get(changed.name)
        for _ in range(MUTATION_TRIES):
            new_value = changed.random_sample(generator.randrange(2**31))
            if new_value != values.get(changed.name):
                break
        else:
            return None
        chosen = {**values, changed.name: new_value}
        child = keras_tuner.HyperParameters()
        for hp in self.hyperparameters.space:  # only the values active in the child, as keras-tuner keeps them
            child.merge([hp])
            if child.is_active(hp):
                keep = hp.name in chosen and (hp.name == changed.name or space.is_active(hp))
                child.values[hp.name] = chosen[hp.name] if keep else hp.random_sample(generator.randrange(2**31))
        return child.values

    # State ------------------------------------------------------------------------------------

    def get_state(self):
        return {**super().get_state(), "population_size": self.population_size, "sample_size": self.sample_size,
                "selection_cost": self.selection_cost, "accuracy": self.accuracy}

    def set_state(self, state):
        super().set_state(state)
        self.population_size, self.sample_size = state["population_size"], state["sample_size"]
        self.selection_cost, self.accuracy = state["selection_cost"], state["accuracy"]


def _choices(hp) -> int | None:
    """How many values `hp` can take (None: a continuous range)."""
    try:
        return len(list(hp.values))
    except (AttributeError, TypeError, ValueError):
        return None


class EvolutionTuner(keras_tuner.Tuner):
    """A keras-tuner `Tuner` driven by an `EvolutionOracle` (as keras-tuner's RandomSearch is by its oracle).

    Takes keras-tuner's tuner arguments, plus `population_size`,
    `sample_size` and `selection_cost` (see `EvolutionOracle`).
    """

    def __init__(
        self,
        hypermodel=None,
        objective=None,
        max_trials: int = 10,
        population_size: int = 20,
        sample_size: int = 5,
        selection_cost: str | None = None,
        seed: int | None = None,
        hyperparameters=None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        **kwargs,
    ):
        self.seed = seed
        oracle = EvolutionOracle(
            objective=objective,
            max_trials=max_trials,
            population_size=population_size,
            sample_size=sample_size,
            selection_cost=selection_cost,
            seed=seed,
            hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        super().__init__(oracle, hypermodel, **kwargs)
