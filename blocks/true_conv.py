"""Convolution in the signal-processing sense, with the kernel flipped.

Deep learning frameworks compute cross-correlation, (x * w)[i] = sum_k x[i + k] w[k],
and call it convolution; the true convolution is sum_k x[i - k] w[k], i.e. the
cross-correlation with the kernel flipped along both spatial axes (Goodfellow
et al. 2016, Deep Learning, section 9.1). Both learn equally well, since the
flip is absorbed into the learned weights; they differ for a fixed kernel.
"""

from __future__ import annotations

from keras import ops

from convnas.blocks.kernel_conv import KernelConv
from convnas.blocks.registry import register_block


@register_block("true_conv")
class TrueConv(KernelConv):
    """2D convolution with the kernel flipped; arguments as `KernelConv`."""

    def convolve(self, inputs, padding: str):
        flipped = ops.flip(ops.flip(self.kernel, axis=0), axis=1)
        return ops.conv(inputs, flipped, strides=self.strides, padding=padding)
