"""convnas blocks: a registered, serializable Keras layer for every convolution type and cell.

Importing this package is cheap: it imports no Keras, so the conv arithmetic
(`arithmetic`) and the argument checks (`validation`) serve code that needs
no model, such as spec validation. The blocks are registered, for
`get_block` and for `keras.saving.load_model`, by `register_all`: on first
use of `get_block`, `list_blocks` or `register_block`, and by `import
convnas` as soon as Keras is imported.
"""

from __future__ import annotations

import importlib

BLOCK_MODULES = (
    "channel_shuffle",
    "conv",
    "conv1d",
    "depthwise_separable_conv",
    "dilated_conv",
    "flattened_conv",
    "grouped_conv",
    "highway",
    "im2col_conv",
    "inception",
    "nin",
    "pointwise",
    "pointwise_grouped_conv",
    "pool",
    "residual",
    "shuffle_unit",
    "spatially_separable_conv",
    "textcnn",
    "transposed_conv",
    "true_conv",
    "upsample_conv",
)
_REGISTRY_NAMES = ("get_block", "list_blocks", "register_block")
__all__ = ["get_block", "list_blocks", "register_all", "register_block"]


def register_all() -> None:
    """Imports every block module, which registers its block (once)."""
    import keras  # noqa: F401  (first: the import hook of `import convnas` then finds every module unstarted)

    for module in BLOCK_MODULES:
        importlib.import_module(f"{__name__}.{module}")


def __getattr__(name: str):
    if name in _REGISTRY_NAMES:
        register_all()
        value = getattr(importlib.import_module(f"{__name__}.registry"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
