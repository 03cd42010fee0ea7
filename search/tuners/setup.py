"""The one setup path: every convnas oracle, and every tuner a search names, is made here.

`make_oracle` is the one constructor of convnas's oracles (search.tuners.oracles): each drop-in
tuner (search.tuners.tuner) calls it with the arguments keras-tuner's tuner would give its own
oracle. `make_tuner` makes the tuner a search names (`search.choices.TUNERS`), configured for the
search (`search_settings`): `convnas search` (search.runner) uses it, its distributed chief and
workers included, and so does the tabular benchmark (search.benchmark.replay), which replays the
oracle of the tuner a search makes.
"""

from __future__ import annotations

import keras_tuner

from convnas.search import private_api
from convnas.search.choices import OBJECTIVES, TUNERS

HYPERBAND_FACTOR = 3
POPULATION_SIZE = 20  # Real et al.'s P and S (a quarter of P), from 4 * P trials up
TOURNAMENT_FRACTION = 4  # S = P / 4


def make_oracle(oracle_class: type, seed: int | None = None, **arguments) -> keras_tuner.Oracle:
    """The convnas oracle `oracle_class` made from keras-tuner's oracle `arguments`.

    keras-tuner treats a falsy seed as none (`seed or random.randint(...)`): it receives `seed` + 1, so
    seed 0 is a seed like any other. RuntimeError if the installed versions lack a private hook
    convnas needs (search.private_api).
    """
    private_api.require()
    return oracle_class(seed=None if seed is None else seed + 1, **arguments)


def search_settings(name: str, max_trials: int, epochs: int, eta: int = HYPERBAND_FACTOR) -> dict:
    """The constructor arguments tuner `name` gets for a search of `max_trials` trials of `epochs` epochs.

    Hyperband runs `max_epochs` = `epochs`, factor `eta`, and as many iterations as it takes
    (`make_tuner` ends it at `max_trials`); ASHA the same epochs and factor, `max_trials` trials.
    Evolution's population is 20 with tournaments of 5 (a quarter) from 80 trials up, a quarter of
    the trials below (at least 2, and tournaments of at least 2).
    """
    TUNERS.check("tuner", name)
    if name == "hyperband":
        return {"max_epochs": epochs, "factor": eta, "hyperband_iterations": max_trials}
    if name == "asha":
        return {"max_trials": max_trials, "max_epochs": epochs, "factor": eta}
    if name == "evolution":
        population = min(POPULATION_SIZE, max(2, max_trials // 4))
        return {"max_trials": max_trials, "population_size": population,
                "sample_size": max(2, population // TOURNAMENT_FRACTION)}
    return {"max_trials": max_trials}


def make_tuner(name: str, max_trials: int, epochs: int, objective: str = "val_accuracy", eta: int = HYPERBAND_FACTOR,
               **kwargs):
    """The tuner called `name` (`search.choices.TUNERS`), set up for a search (`search_settings`).

    Args:
        name: the tuner's name.
        max_trials: the trials the search runs.
        epochs: the epochs of a trial trained in full.
        objective: the search's objective (`search.choices.OBJECTIVES`); with "pareto", evolution's
            tournaments and ASHA's promotions rank by the accuracy/cost front.
        eta: Hyperband's and ASHA's reduction factor.
        **kwargs: the tuner's other arguments (hypermodel, seed, directory, budgets, ...).

    keras-tuner's Hyperband takes no max_trials; its base Oracle honours it once set.
    """
    metric, direction = OBJECTIVES.load(OBJECTIVES.check("objective", objective))
    if name in ("evolution", "asha"):
        kwargs.setdefault("pareto", objective == "pareto")
    settings = {**search_settings(name, max_trials, epochs, eta), **kwargs}
    tuner = TUNERS.load(name)(objective=keras_tuner.Objective(metric, direction), **settings)
    if name == "hyperband":
        tuner.oracle.max_trials = max_trials
    return tuner
