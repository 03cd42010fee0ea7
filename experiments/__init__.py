"""convnas experiments: ablation studies (YAML specs, or `Study` over a model of one's own), tables and statistics.

`Study` is imported on first use, so that `import convnas.experiments` stays
free of TensorFlow.
"""

import importlib

__all__ = ["Study"]


def __getattr__(name: str):
    if name == "Study":
        return importlib.import_module("convnas.experiments.study").Study
    raise AttributeError(f"module 'convnas.experiments' has no attribute {name!r}")
