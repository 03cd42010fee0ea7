"""convnas: convolutional architecture search and ablation studies on Keras 3 and keras-tuner.

One installed package, three layers, imports flowing one way
(`convnas` (command line) -> `convnas.experiments` -> `convnas.search` ->
`convnas.blocks`):

- `convnas.blocks`: a registered, serializable Keras layer for every
  convolution type and cell, and the conv arithmetic;
- `convnas.search`: the cost model and architecture search on keras-tuner,
  with drop-in tuners for a user's own `build_model(hp)`;
- `convnas.experiments`: ablation studies (YAML specs, or `Study` over a
  user's own model) and their tables.

`import convnas` is cheap (no TensorFlow), so the command line starts fast,
yet it makes every convnas layer loadable by `keras.saving.load_model`: the
blocks and `convnas.search.data.class_names.ClassNames` (a searched model's class
names) are registered as soon as Keras is imported, or at once if it already is.
In a source checkout the layers are this folder's siblings `blocks/`,
`search/` and `experiments/`; an install maps them into this package.
"""

from __future__ import annotations

import importlib
from pathlib import Path

__version__ = "0.2.0"
__all__ = ["__version__", "blocks", "experiments", "search"]

_LAYERS = ("blocks", "search", "experiments")
_here = Path(__file__).resolve().parent
if not (_here / "blocks").is_dir() and (_here.parent / "blocks" / "__init__.py").is_file():
    __path__.append(str(_here.parent))  # a source checkout (see the module docstring)


def _register_layers(_keras=None) -> None:
    importlib.import_module("convnas.blocks").register_all()
    importlib.import_module("convnas.search.data.class_names")


def __getattr__(name: str):
    if name in _LAYERS:
        return importlib.import_module(f"convnas.{name}")
    raise AttributeError(f"module 'convnas' has no attribute {name!r}")


def _register_layers_with_keras() -> None:
    import wrapt

    wrapt.register_post_import_hook(_register_layers, "keras")  # runs at once if Keras is already imported


_register_layers_with_keras()
