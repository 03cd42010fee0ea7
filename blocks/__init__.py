"""convnas blocks: a registered, serializable Keras layer for every convolution type and cell.

Importing this package registers every block, for `get_block` and for
`keras.saving.load_model`.
"""

from convnas.blocks import (  # noqa: F401  (each import registers its block)
    channel_shuffle,
    conv,
    conv1d,
    depthwise_separable_conv,
    dilated_conv,
    flattened_conv,
    grouped_conv,
    highway,
    im2col_conv,
    inception,
    nin,
    pointwise,
    pointwise_grouped_conv,
    pool,
    residual,
    shuffle_unit,
    spatially_separable_conv,
    textcnn,
    transposed_conv,
    true_conv,
    upsample_conv,
)
from convnas.blocks.registry import get_block, list_blocks, register_block

__all__ = ["get_block", "list_blocks", "register_block"]
