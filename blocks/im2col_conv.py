"""Convolution as im2col + one matrix multiply (Chellapilla et al. 2006; Caffe, cuDNN).

Every receptive field of the (padded) input is copied into one row of a
(N * Hout * Wout, F * F * Cin) matrix, which is multiplied by the
(F * F * Cin, Cout) reshaped kernel: the whole layer becomes one GEMM, at the
cost of duplicating each input pixel up to F^2 times in memory. The copy is
made of strided slices (no arithmetic), so the only floating-point work is
the matrix multiply.
"""

from __future__ import annotations

from keras import ops

from convnas.blocks.kernel_conv import KernelConv
from convnas.blocks.registry import register_block


def same_padding(size: int, kernel_size: int, strides: int) -> tuple[int, int]:
    """Zeros before and after an axis for Keras/TensorFlow "same" padding (the extra one goes after)."""
    output = -(-size // strides)
    total = max((output - 1) * strides + kernel_size - size, 0)
    return total // 2, total - total // 2


@register_block("im2col_conv")
class Im2colConv(KernelConv):
    """2D conv computed as patch extraction and a matrix multiply; arguments as `KernelConv`."""

    def convolve(self, inputs, padding: str):
        (kernel_h, kernel_w), (stride_h, stride_w) = self.kernel_size, self.strides
        if padding == "same":
            axes = ((1, kernel_h, stride_h), (2, kernel_w, stride_w))
            pads = [same_padding(inputs.shape[axis], k, s) for axis, k, s in axes]
            inputs = ops.pad(inputs, ((0, 0), *pads, (0, 0)))
        _, height, width, channels = inputs.shape
        out_h = (height - kernel_h) // stride_h + 1
        out_w = (width - kernel_w) // stride_w + 1
        span_h, span_w = stride_h * (out_h - 1) + 1, stride_w * (out_w - 1) + 1
        patches = ops.stack(
            [
                inputs[:, i : i + span_h : stride_h, j : j + span_w : stride_w, :]
                for i in range(kernel_h)
                for j in range(kernel_w)
            ],
            axis=3,
        )
        rows = ops.reshape(patches, (-1, kernel_h * kernel_w * channels))
        columns = ops.reshape(self.kernel, (-1, self.filters))
        return ops.reshape(ops.matmul(rows, columns), (-1, out_h, out_w, self.filters))
