"""One list per choice: the tuners, proxies, datasets, objectives, Pareto costs and optimizers, each a `Registry`.

Everything that offers or checks one of these choices reads its registry here: the command line's
flags and help, spec validation, the loaders and dispatchers, the README's lists (checked by a test)
and the tests. A registry maps a name to what implements it, given as ``"module:attribute"`` and
imported only when used, so that name lookups never import TensorFlow. Adding a choice is one
`register` call. (Blocks have their own registry: `convnas.blocks.list_blocks`.)

What each registry's entries are:

* `TUNERS`: a drop-in tuner class.
* `PROXIES`: a training-free proxy, called ``fn(model, x, y) -> float`` on a batch of inputs `x` and
  integer labels `y`; higher predicts higher accuracy.
* `DATASETS`: a loader, called ``fn(name) -> search.data.datasets.Source`` with the name it is
  registered under (so one loader serves several names).
* `DATASET_FILES`: a loader of a user's files, called ``fn(path) -> Source`` for ``KIND:PATH``.
* `OBJECTIVES`: the (metric, direction) pair a tuner optimizes.
* `PARETO_COSTS`: the cost's ceiling for the hypervolume when no budget bounds it.
* `OPTIMIZERS`: a Keras optimizer class.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from convnas.blocks import validation

COST_WEIGHT = 0.05  # accuracy traded per decade of FLOPs by the scalarized Pareto objective
MAX_REDRAWS = 1000  # draws per trial (rejected ones redrawn) before a search gives up
TRADEOFF = "tradeoff_score"  # the metric of `--objective pareto`: val_accuracy - COST_WEIGHT * log10(FLOPs)


class Registry:
    """Names of one kind of choice, in the order registered, each with its implementation.

    Args:
        kind: what a name names ("tuner", "proxy", ...), for error messages.
        entries: name -> "module:attribute" (imported on `load`) or the object itself.
    """

    def __init__(self, kind: str, entries: dict[str, object] | None = None):
        self.kind = kind
        self._entries: dict[str, object] = {}
        for name, target in (entries or {}).items():
            self.register(name, target)

    def register(self, name: str, target: object) -> None:
        """Adds the choice `name`, implemented by `target` ("module:attribute" or the object)."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"a {self.kind} name must be an identifier. Received: name={name!r}")
        if name in self._entries:
            raise ValueError(f"a {self.kind} called {name!r} is registered already")
        self._entries[name] = target

    def unregister(self, name: str) -> None:
        """Removes the choice `name` (a test's dummy, say)."""
        del self._entries[name]

    def names(self) -> tuple[str, ...]:
        """The registered names, in the order registered."""
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def check(self, argument: str, value: object) -> str:
        """`value` if it is a registered name; else ValueError naming `argument` and the names allowed."""
        return validation.one_of(argument, value, self.names())

    def load(self, name: str) -> object:
        """The object that implements `name` (imported now if registered by its path)."""
        target = self._entries[self.check(self.kind, name)]
        if isinstance(target, str):
            module, _, attribute = target.partition(":")
            return getattr(importlib.import_module(module), attribute)
        return target


TUNERS = Registry("tuner", {
    "random": "convnas.search.tuners.tuner:RandomSearch",
    "grid": "convnas.search.tuners.tuner:GridSearch",
    "bayesian": "convnas.search.tuners.tuner:BayesianOptimization",
    "hyperband": "convnas.search.tuners.tuner:Hyperband",
    "evolution": "convnas.search.tuners.tuner:Evolution",
    "asha": "convnas.search.tuners.tuner:Asha",
})

PROXIES = Registry("proxy", {
    "synflow": "convnas.search.proxies:synflow_of_batch",
    "naswot": "convnas.search.proxies:naswot",
    "jacob_cov": "convnas.search.proxies:jacob_cov",
    "grad_norm": "convnas.search.proxies:grad_norm",
    "snip": "convnas.search.proxies:snip",
})

DATASETS = Registry("dataset", {
    "digits": "convnas.search.data.datasets:digits_source",
    "cluttered_digits": "convnas.search.data.datasets:cluttered_digits_source",
    "mnist": "convnas.search.data.keras_datasets:keras_source",
    "fashion_mnist": "convnas.search.data.keras_datasets:keras_source",
    "cifar10": "convnas.search.data.keras_datasets:keras_source",
    "cifar100": "convnas.search.data.keras_datasets:keras_source",
})

DATASET_FILES = Registry("dataset file kind", {
    "npz": "convnas.search.data.user_files:npz_source",  # arrays x_train, y_train (x_test, y_test)
    "dir": "convnas.search.data.user_files:image_dir_source",  # one subfolder of images per class
})

OBJECTIVES = Registry("objective", {
    "val_accuracy": ("val_accuracy", "max"),
    "val_loss": ("val_loss", "min"),
    "pareto": (TRADEOFF, "max"),  # evolution selects on the true front instead
})

PARETO_COSTS = Registry("pareto cost", {"flops": 1e10, "params": 1e8})  # ceilings above anything the space holds

OPTIMIZERS = Registry("optimizer", {
    "adam": "keras.optimizers:Adam",
    "sgd": "keras.optimizers:SGD",
    "rmsprop": "keras.optimizers:RMSprop",
})


def dataset_names() -> tuple[str, ...]:
    """Every dataset a search takes: the registered names, then KIND:PATH for each kind of user files."""
    return (*DATASETS.names(), *(f"{kind}:PATH" for kind in DATASET_FILES.names()))


def is_dataset_file(value: str) -> bool:
    """Whether `value` is KIND:PATH for a registered kind of user files and a non-empty PATH."""
    kind, _, path = value.partition(":")
    return bool(path) and kind in DATASET_FILES


def check_dataset(value: object, extra: tuple[str, ...] = ()) -> str:
    """`value` if it names a dataset: one of `extra` (e.g. "photos"), a registered dataset, or KIND:PATH.

    Raises:
        ValueError: naming the datasets allowed and the value received.
    """
    names = (*extra, *dataset_names())
    if not isinstance(value, str) or not (value in names or is_dataset_file(value)):
        raise ValueError(f"`dataset` must be one of {', '.join(names)}. Received: dataset={value!r}")
    return value
