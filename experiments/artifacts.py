"""Image-quality metrics of the upsampling study: PSNR, a checkerboard amplitude, and a dead-network test.

Odena, Dumoulin & Olah 2016 ("Deconvolution and checkerboard artifacts")
show that a transposed convolution whose kernel is not divisible by its
stride overlaps unevenly and paints a pattern that repeats with the stride,
even at initialization; resizing then convolving does not. They give no
number for it. convnas measures it in the images' own units:

**checkerboard amplitude.** The root-mean-square size, in the images' own
units, of the part of d = output - reference that repeats with period S
(the upsampling stride), measured locally. The reference is what the output
should be without a pattern: the target on photos; on a flat input, where
any periodic pattern is artifact, the output's own smooth part
(`smooth_part`: its mean over each S x S neighbourhood, which removes a
period-S pattern whole and keeps the smooth rest). Per image and channel:

1. Leave out a border where zero padding breaks the periodicity: S
   pixels on each side, or on a flat input, whose output is periodic only
   beyond the network's receptive radius from the edge, a quarter of each
   side (`flat_checkerboard`). Tile the rest into non-overlapping windows
   of w x w pixels, w = 4S (a remainder at the bottom and right is left
   out). Measured window by window, a pattern whose sign or phase changes
   across the image still counts; a global measure would cancel it.
2. A period-S pattern lives on the S*S - 1 harmonics (aw/S, bw/S),
   0 <= a, b < S, not both 0, of the window's discrete Fourier transform
   D. Their power, sum |D|^2 / w^4, is exactly the spread of the window's
   S*S sub-pixel phase means m_pq (of d[p::S, q::S]) about their mean m,
   sum_pq (m_pq - m)^2 / S^2, which a pattern of RMS amplitude a raises by
   a^2.
3. Content that does not know the phase grid also has some power on those
   harmonics, by chance. It is estimated from the power of the four
   neighbouring frequencies of each harmonic (one bin up, down, left,
   right), where a pattern that is constant over the window puts none,
   and subtracted: peaks above a local spectral baseline, as Wang, Bovik &
   Evans 2000 ("Blind measurement of blocking artifacts in images", ICIP)
   measure JPEG's 8-pixel blocking. White noise is subtracted in
   expectation, and an upsampler's error, whose power falls with
   frequency, nearly so; the average over all frequencies (one-way
   ANOVA's within-phase variance) would over-subtract that error, and read
   a 0.01 pattern on bilinear upsampling's error on a crop of the coffee
   photo as 0.0066 (0.0095 with the local baseline).
4. Average the excess power over windows, channels and images, clip at 0
   (the estimate of a zero pattern scatters around 0), and take the square
   root.

The result is in the images' units (intensity in [0, 1] here): a pattern of
amplitude 1e-6 scores 1e-6 and one of 0.3 scores 0.3, whatever the image
under it; an output equal to its reference scores exactly 0. A window where
the pattern's sign flips loses part of its power, so a pattern that flips
often reads low: +-p on the halves of a 128-pixel image reads 0.96 p, on a
checker of 45-pixel tiles 0.93 p, of 16-pixel tiles 0.59 p.
Nearest-neighbour upsampling's 2 x 2 blocks are a stride-periodic error of
their own (0.0087 against the study's validation photos): the reference a
learned upsampler is read against. A constant output scores 0 on a flat
input too, so a network that has died (no active ReLU unit: its output
does not depend on its input) is told apart by `is_dead`, not by a good
checkerboard score.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter
from skimage.metrics import peak_signal_noise_ratio

PSNR_CEILING_DB = 120.0  # a perfect image's PSNR is infinite: capped, so that a mean over images stays finite
WINDOW_PERIODS = 4  # a window's side, in periods of the stride
NEIGHBOURS = ((1, 0), (-1, 0), (0, 1), (0, -1))  # the frequency bins around a harmonic that give its baseline
DEAD_TOLERANCE = 1e-3  # a quarter of an 8-bit grey level (1/255): a learned part that varies less is invisible


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


def smooth_part(outputs: np.ndarray, stride: int = 2) -> np.ndarray:
    """A batch (N, H, W, C) averaged over each stride x stride neighbourhood: less any period-`stride` pattern."""
    return uniform_filter(np.asarray(outputs, np.float64), size=(1, stride, stride, 1))


def checkerboard_amplitude(
    outputs: np.ndarray, references: np.ndarray, stride: int = 2, border: int | None = None
) -> float:
    """RMS amplitude of the period-`stride` pattern in outputs - references (see the module docstring).

    Args:
        outputs: A batch of images (N, H, W, C).
        references: What the outputs should be without a pattern, same
            shape: the targets, or `smooth_part(outputs, stride)` on a flat
            input.
        stride: The pattern's period in pixels (the upsampling factor).
        border: The pixels left out on each side; `stride` by default.

    Raises:
        ValueError: On batches of different or non-4D shapes, or images
            too small to hold one window inside the border.
    """
    outputs, references = np.asarray(outputs, np.float64), np.asarray(references, np.float64)
    if outputs.ndim != 4 or outputs.shape != references.shape:
        raise ValueError("`outputs` and `references` must be batches (N, H, W, C) of the same shape. "
                         f"Received: shapes {outputs.shape} and {references.shape}")
    border = stride if border is None else border
    window = WINDOW_PERIODS * stride
    count, height, width, channels = outputs.shape
    rows, cols = (height - 2 * border) // window, (width - 2 * border) // window
    if rows < 1 or cols < 1:
        raise ValueError(f"images must be at least {window + 2 * border} pixels high and wide (a {window}-pixel window "
                         f"inside a {border}-pixel border). Received: shape={outputs.shape}")
    difference = (outputs - references)[:, border : border + rows * window, border : border + cols * window]
    tiles = difference.reshape(count, rows, window, cols, window, channels)  # window pixels on axes 2 and 4
    power = np.abs(np.fft.fft2(tiles, axes=(2, 4))) ** 2 / window**4
    harmonics = [(a * WINDOW_PERIODS, b * WINDOW_PERIODS) for a in range(stride) for b in range(stride) if a or b]
    excess = sum(
        power[:, :, u, :, v]
        - np.mean([power[:, :, (u + du) % window, :, (v + dv) % window] for du, dv in NEIGHBOURS], axis=0)
        for u, v in harmonics
    )
    return float(np.sqrt(max(np.mean(excess), 0.0)))


def flat_checkerboard(outputs: np.ndarray, stride: int = 2) -> float:
    """Checkerboard amplitude of outputs on a flat input: against their smooth part, a quarter of each side left out.

    Images too small to keep a window inside a quarter-side border keep as
    large a border as leaves one, and at least `stride` pixels.
    """
    outputs = np.asarray(outputs, np.float64)
    side = min(outputs.shape[1:3])
    border = max(stride, min(side // 4, (side - WINDOW_PERIODS * stride) // 2))
    return checkerboard_amplitude(outputs, smooth_part(outputs, stride), stride, border)


def is_dead(outputs: np.ndarray, bases, tolerance: float = DEAD_TOLERANCE) -> bool:
    """Whether a network's learned output ignores its input: outputs - bases constant per channel, up to `tolerance`.

    Args:
        outputs: The network's outputs on a batch of inputs (N, H, W, C).
        bases: What the network adds to its learned part without learning
            it (the nearest-upsampled inputs under a global skip, or 0),
            broadcastable to `outputs`.
        tolerance: The largest spread (max - min over images and pixels,
            in any channel) of a learned part still called constant.
    """
    learned = np.asarray(outputs, np.float64) - np.asarray(bases, np.float64)
    return bool(np.ptp(learned, axis=(0, 1, 2)).max() <= tolerance)
