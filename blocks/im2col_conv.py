"""Convolution as im2col + one matrix multiply (Chellapilla et al. 2006; Caffe, cuDNN).

Every receptive field of the (padded) input is copied into one row of a
(Hout * Wout, F * F * Cin) matrix, which is multiplied by the
(F * F * Cin, Cout) reshaped kernel: the whole layer becomes one GEMM, at the
cost of duplicating each input pixel up to F^2 times in memory.
"""

from __future__ import annotations

from keras import ops

from blocks.kernel_conv import KernelConv
from blocks.registry import register_block


@register_block("im2col_conv")
class Im2colConv(KernelConv):
    """2D conv computed as patch extraction and a matrix multiply; arguments as `KernelConv`."""

    def convolve(self, inputs, padding: str):
        patches = ops.image.extract_patches(
            inputs, self.kernel_size, strides=self.strides, padding=padding, data_format="channels_last"
        )
        columns = ops.reshape(self.kernel, (-1, self.filters))
        return ops.matmul(patches, columns)
