"""convnas search: cost model, search space, budgets, trial records, and tuners over the blocks.

The drop-in tuners `RandomSearch`, `GridSearch`, `BayesianOptimization`,
`Hyperband`, `Evolution` and `Asha` (convnas.search.tuners.tuner) take keras-tuner's arguments and give a
user's own `build_model(hp)` every convnas trial feature. They are imported
on first use, so that `import convnas.search` stays free of TensorFlow.
"""

import importlib

__all__ = ["RandomSearch", "GridSearch", "BayesianOptimization", "Hyperband", "Evolution", "Asha"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module("convnas.search.tuners.tuner"), name)
    raise AttributeError(f"module 'convnas.search' has no attribute {name!r}")
