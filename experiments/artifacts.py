"""Image-quality metrics of the upsampling study: PSNR, and a checkerboard-artifact index.

Odena, Dumoulin & Olah 2016 ("Deconvolution and checkerboard artifacts")
show that a transposed convolution whose kernel is not divisible by its
stride overlaps unevenly and paints a pattern that repeats with the stride,
even at initialization; resizing then convolving does not. They give no
number for it. convnas defines one:

**checkerboard index.** Split an output image y (H x W x C) into its S x S
sub-pixel phases y[p::S, q::S] (S = the upsampling factor). A pattern that
repeats with period S moves the phases' means apart; image content, which
does not know the phase grid, moves them apart only by chance. The index is

    sum over channels of the variance of the S*S phase means
    ---------------------------------------------------------
    sum over channels of the variance of y

the fraction of the output's variance carried by a stride-periodic pattern,
in [0, 1]. Borders, where zero padding breaks the periodicity, are left out:
a quarter of the height and width on each side. A flat image has no variance
and scores 0. The study measures it on real photos (trained outputs; for
reference, natural targets score about 0.002 from their content alone) and on a flat
grey input, at initialization and after training, where any variance at all
is artifact.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio

PSNR_CEILING_DB = 120.0  # a perfect image's PSNR is infinite: capped, so that a mean over images stays finite


def psnr(output: np.ndarray, target: np.ndarray, peak: float = 1.0) -> float:
    """Mean peak signal-to-noise ratio in dB over a batch (N, H, W, C), output clipped to [0, peak].

    Each image's PSNR is scikit-image's (data range `peak`), capped at
    `PSNR_CEILING_DB`; the batch's is their mean.
    """
    output = np.clip(np.asarray(output, np.float64), 0.0, peak)
    target = np.asarray(target, np.float64)
    with np.errstate(divide="ignore"):  # a perfect image: infinite, then capped
        scores = [peak_signal_noise_ratio(truth, image, data_range=peak) for truth, image in zip(target, output)]
    return float(np.mean(np.minimum(scores, PSNR_CEILING_DB)))


def interior(images: np.ndarray) -> np.ndarray:
    """A batch (N, H, W, C) without a quarter of the height and width on each side."""
    height, width = images.shape[1:3]
    return images[:, height // 4 : height - height // 4, width // 4 : width - width // 4]


def checkerboard_index(images: np.ndarray, stride: int = 2) -> float:
    """Mean checkerboard index (see the module docstring) of a batch (N, H, W, C)."""
    images = interior(np.asarray(images, np.float64))
    height, width = images.shape[1:3]
    images = images[:, : height - height % stride, : width - width % stride]
    scores = []
    for image in images:
        phases = np.stack([image[p::stride, q::stride].mean(axis=(0, 1)) for p in range(stride) for q in range(stride)])
        total = image.var(axis=(0, 1)).sum()
        scores.append(0.0 if total <= 1e-20 else float(phases.var(axis=0).sum() / total))
    return float(np.mean(scores))
