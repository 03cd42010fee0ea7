"""convnas's oracles: keras-tuner's (and convnas's evolution) with screened draws and atomic writes.

Each class is the keras-tuner oracle of the same name with two convnas mixins: the sampler's
screen (search.tuners.sampler: a candidate that is invalid or over a budget is redrawn before a
trial exists) and `AtomicWrites` (oracle.json and trial.json are written to a temporary file and
renamed into place, through keras-tuner's own file layer, so a kill mid-write never leaves a torn
file). They reach keras-tuner only through `search.adapter.OracleAdapter`, listed right before the
keras-tuner class. keras-tuner's own classes are left as they are. Each drop-in tuner
(search.tuners.tuner) makes its oracle from this module (`oracle_class`).
"""

from __future__ import annotations

import keras_tuner

from convnas.search import adapter
from convnas.search.common import durable_io
from convnas.search.tuners import asha, evolution, sampler


class AtomicWrites:
    """Oracle mixin: the oracle and trial files written atomically; none at all when `writes_files` is False.

    Attributes:
        writes_files: False for an oracle that lives in memory only (the tabular benchmark's replays:
            keras-tuner rewrites oracle.json and a trial.json at every step).
    """

    writes_files = True

    def save(self):
        if self.writes_files:
            durable_io.write_json(self.oracle_file(), self.get_state())

    def save_trial(self, trial):
        if self.writes_files:
            durable_io.write_json(self.trial_file(trial.trial_id), trial.get_state())


class RandomSearchOracle(AtomicWrites, sampler.ScreenedSampling, adapter.OracleAdapter,
                         keras_tuner.oracles.RandomSearchOracle):
    """keras-tuner's random search, every draw screened."""


class GridSearchOracle(AtomicWrites, sampler.ScreenedGrid, adapter.GridOracleAdapter,
                       keras_tuner.oracles.GridSearchOracle):
    """keras-tuner's grid search, passing over the grid points that are rejected."""


class BayesianOptimizationOracle(AtomicWrites, sampler.ScreenedBayesian, adapter.OracleAdapter,
                                 keras_tuner.oracles.BayesianOptimizationOracle):
    """keras-tuner's Bayesian optimization, its random and its model-chosen candidates screened."""


class HyperbandOracle(AtomicWrites, sampler.ScreenedSampling, adapter.OracleAdapter,
                      keras_tuner.oracles.HyperbandOracle):
    """keras-tuner's Hyperband, the candidates of its new brackets screened."""


class EvolutionOracle(AtomicWrites, evolution.EvolutionOracle):
    """convnas's regularized evolution (search.tuners.evolution), written atomically."""


class AshaOracle(AtomicWrites, asha.AshaOracle):
    """convnas's asynchronous successive halving (search.tuners.asha), written atomically."""
