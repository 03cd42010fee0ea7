"""keras-tuner's tuners running convnas trials: drop-ins for `keras_tuner.RandomSearch` and the others.

`RandomSearch`, `GridSearch`, `BayesianOptimization` and `Hyperband` take
keras-tuner's constructor arguments (`hypermodel` — a `HyperModel` or a
`build_model(hp)` returning a compiled model —, `objective`, `max_trials`,
`executions_per_trial`, `directory`, `project_name`, `overwrite`, `seed`,
...) and `search(x, y, validation_data=..., epochs=..., callbacks=...)`
behaves like keras-tuner's, with numpy arrays or tf.data datasets. They also
take cost budgets (`max_flops`, `max_params`, `max_latency_ms`) and the other
convnas options (`_Options`), and `search` takes `test_data` (arrays `(x, y)`
or a dataset) to evaluate every trained trial on. `Evolution` is convnas's
regularized evolution (search.tuners.evolution) and `Asha` its asynchronous
successive halving (search.tuners.asha), with the same options. Every trial
is a convnas trial (search.tuners.trials).

Each drop-in makes its own oracle, its `oracle_class` (search.tuners.oracles:
screened draws, and oracle, trial and tuner files written atomically),
from the arguments keras-tuner's tuner would give its oracle, through
`search.tuners.setup.make_oracle`, the one setup path.

Remote directories (`gs://...`): the trial records and every file convnas
writes through `search.common.durable_io` go through `tf.io.gfile` (tested on
TensorFlow's `ram://`), but a whole search in one is not supported: with
keras-tuner 1.4.8 and Keras 3.15, keras-tuner's own RandomSearch already
fails to train into a `ram://` directory, and the Pareto plot and the HParams
logs are written to local paths.

keras-tuner treats a falsy seed as none (`seed or random.randint(...)`):
these tuners pass seed s to keras-tuner as s + 1, so seed 0 is a seed like
any other, and seed every trial's Keras initialization with s.
"""

from __future__ import annotations

from collections.abc import Callable

import keras_tuner

from convnas.blocks import validation
from convnas.search import adapter, choices
from convnas.search.records.hypervolume import Reference, reference_for
from convnas.search.tuners import oracles, setup
from convnas.search.tuners.asha import AshaTuner
from convnas.search.tuners.budget import Budget
from convnas.search.tuners.evolution import EvolutionTuner
from convnas.search.tuners.trials import ConvnasTrials


class _Options:
    """The convnas arguments of a drop-in tuner, taken before keras-tuner's; the drop-in's own oracle made.

    A drop-in tuner lists `_Options`, then the tuner class whose constructor arguments it takes
    (keras-tuner's `RandomSearch`, ...), then `ConvnasTrials`, and names its `oracle_class`.

    Args:
        seed: seeds the oracle's sampling (passed as seed + 1, see the
            module docstring) and every trial's Keras initialization.
        max_flops, max_params, max_latency_ms: cost budgets; a drawn candidate
            over one is redrawn before a trial exists (search.tuners.sampler).
        cost_weight: accuracy traded per decade of FLOPs by the objective
            "tradeoff_score".
        on_record: called with each trial's record as the trial ends.
        latency_repeats: timed batch-1 predictions per candidate (median).
        prescreen: feasible candidates drawn per trial; the one `proxy`
            scores best is trained (1: no prescreening).
        proxy: the training-free proxy that ranks them (search.proxies).
        pareto_cost: the cost of the fronts' hypervolume ("flops" or
            "params"); an evolution tuner's Pareto selection uses it too.
        max_redraws: draws per trial (rejected ones redrawn) before the
            search stops for want of a candidate within the budgets.
        hypervolume_reference: the hypervolume's reference point; by default
            accuracy 0 and the budget on `pareto_cost`, else its stated
            ceiling (search.records.hypervolume).
    """

    oracle_class: type

    def __init__(
        self,
        *args,
        seed: int | None = None,
        max_flops: float | None = None,
        max_params: float | None = None,
        max_latency_ms: float | None = None,
        cost_weight: float = choices.COST_WEIGHT,
        on_record: Callable[[dict], None] | None = None,
        latency_repeats: int = 10,
        prescreen: int = 1,
        proxy: str = "synflow",
        pareto_cost: str = "flops",
        hypervolume_reference: Reference | None = None,
        max_redraws: int = choices.MAX_REDRAWS,
        **kwargs,
    ):
        self.budget = Budget(max_flops, max_params, max_latency_ms)
        self.trial_seed, self.cost_weight = seed, cost_weight
        self.on_record = on_record or (lambda record: None)
        self.latency_repeats = latency_repeats
        self.prescreen = validation.positive_int("prescreen", prescreen)
        self.proxy = proxy
        self.max_redraws = validation.positive_int("max_redraws", max_redraws)
        budgets = {"flops": max_flops, "params": max_params}
        self.hypervolume_reference = hypervolume_reference or reference_for(None, pareto_cost, budgets.get(pareto_cost))
        self.test_data = None
        self.full_epochs: int | None = None
        order = type(self).__mro__
        keras_tuner_class = order[order.index(_Options) + 1]  # whose constructor arguments the drop-in takes
        adapter.construct_tuner(self, keras_tuner_class, args, {**kwargs, "seed": seed}, self.make_oracle,
                                needs_hypermodel=type(self).run_trial is ConvnasTrials.run_trial)

    def make_oracle(self, **arguments) -> keras_tuner.Oracle:
        """The tuner's `oracle_class`, made from keras-tuner's oracle `arguments` (seed + 1 included)."""
        return setup.make_oracle(self.oracle_class, **arguments)


class RandomSearch(_Options, keras_tuner.RandomSearch, ConvnasTrials):
    """keras-tuner's RandomSearch running convnas trials."""

    oracle_class = oracles.RandomSearchOracle


class GridSearch(_Options, keras_tuner.GridSearch, ConvnasTrials):
    """keras-tuner's GridSearch running convnas trials."""

    oracle_class = oracles.GridSearchOracle


class BayesianOptimization(_Options, keras_tuner.BayesianOptimization, ConvnasTrials):
    """keras-tuner's BayesianOptimization running convnas trials."""

    oracle_class = oracles.BayesianOptimizationOracle


class Hyperband(_Options, keras_tuner.Hyperband, ConvnasTrials):
    """keras-tuner's Hyperband running convnas trials (its schedule sets each trial's epochs)."""

    oracle_class = oracles.HyperbandOracle


class Evolution(_Options, EvolutionTuner, ConvnasTrials):
    """Regularized evolution (search.tuners.evolution) running convnas trials; `pareto` selects on the front.

    Its population, tournament and mutation are `EvolutionOracle`'s
    (`population_size`, `sample_size`); given `pareto=True`, its tournaments
    rank by the accuracy/`pareto_cost` front instead of the objective.
    """

    oracle_class = oracles.EvolutionOracle

    def __init__(self, *args, pareto: bool = False, pareto_cost: str = "flops", population_size: int = 20,
                 sample_size: int = 5, **kwargs):
        super().__init__(*args, pareto_cost=pareto_cost, population_size=population_size, sample_size=sample_size,
                         selection_cost=pareto_cost if pareto else None, **kwargs)


class Asha(_Options, AshaTuner, ConvnasTrials):
    """Asynchronous successive halving (search.tuners.asha) running convnas trials; `pareto` promotes on the front.

    Its rungs are `max_epochs / factor^k` epochs; given `pareto=True`, a rung's
    top 1/`factor` is taken by the accuracy/`pareto_cost` front (MO-ASHA)
    instead of the objective.
    """

    oracle_class = oracles.AshaOracle

    def __init__(self, *args, pareto: bool = False, pareto_cost: str = "flops", max_epochs: int = 100,
                 factor: int = 3, **kwargs):
        super().__init__(*args, pareto_cost=pareto_cost, max_epochs=max_epochs, factor=factor,
                         selection_cost=pareto_cost if pareto else None, **kwargs)
