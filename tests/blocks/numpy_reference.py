"""Plain numpy references for the conv tests: cross-correlation and true convolution, loops over the kernel."""

import numpy as np


def _padded_grid(inputs, kernel, strides, padding):
    """The zero-padded input (float64) and the output size of a "valid" window over it."""
    x = np.pad(inputs, ((0, 0), (padding, padding), (padding, padding), (0, 0))).astype(np.float64)
    out_h = (x.shape[1] - kernel.shape[0]) // strides[0] + 1
    out_w = (x.shape[2] - kernel.shape[1]) // strides[1] + 1
    return x, out_h, out_w


def cross_correlate(inputs, kernel, strides=(1, 1), padding=0):
    """(N, H, W, Cin) x (Fh, Fw, Cin, Cout) cross-correlation with P zeros per side, "valid" afterwards."""
    x, out_h, out_w = _padded_grid(inputs, kernel, strides, padding)
    (sh, sw), (fh, fw) = strides, kernel.shape[:2]
    out = np.zeros((x.shape[0], out_h, out_w, kernel.shape[3]))
    for i in range(fh):
        for j in range(fw):
            window = x[:, i : i + sh * (out_h - 1) + 1 : sh, j : j + sw * (out_w - 1) + 1 : sw, :]
            out += window @ kernel[i, j].astype(np.float64)
    return out


def true_convolve(inputs, kernel, strides=(1, 1), padding=0):
    """Convolution in the signal-processing sense: out[y, x] = sum_k in[y - k] w[k], over the valid region."""
    x, out_h, out_w = _padded_grid(inputs, kernel, strides, padding)
    (sh, sw), (fh, fw) = strides, kernel.shape[:2]
    out = np.zeros((x.shape[0], out_h, out_w, kernel.shape[3]))
    for oy in range(out_h):
        for ox in range(out_w):
            # Output (oy, ox) sits at the far corner of its window: y = oy * S + Fh - 1.
            y, xx = oy * sh + fh - 1, ox * sw + fw - 1
            for a in range(fh):
                for b in range(fw):
                    out[:, oy, ox, :] += x[:, y - a, xx - b, :] @ kernel[a, b].astype(np.float64)
    return out
