"""Image-quality metrics of the upsampling study: PSNR, checkerboard amplitudes, and a dead-network test.

Odena, Dumoulin & Olah 2016 ("Deconvolution and checkerboard artifacts")
show that a transposed convolution whose kernel is not divisible by its
stride overlaps unevenly and paints a pattern that repeats with the stride,
even at initialization; resizing then convolving does not. They give no
number for it. convnas measures it in the images' own units (intensity in
[0, 1] here), from d = output - reference. The reference is what the output
should be without a pattern: the target on photos; on a flat input, where
any periodic pattern is artifact, the output's own smooth part
(`smooth_part`: its mean over each S x S neighbourhood, which removes a
period-S pattern whole and keeps the smooth rest).

**Envelopes.** A period-S pattern (S the stride) lives on the S*S - 1
harmonics (a/S, b/S) cycles per pixel, 0 <= a, b < S, not both 0. Multiplied
by a harmonic's carrier (its cosine and sine; at S = 2 the signs (-1)^y,
(-1)^x and (-1)^(x+y)) and averaged over S x S pixels (which removes every
other harmonic exactly), d becomes that harmonic's envelope: the pattern's
local amplitude and sign, whose squares, summed over the harmonics, are its
power. A pattern constant over the image has constant envelopes; one whose
sign flips, a step. Texture near the stride's period is there too: a
grating of period P has an envelope that oscillates with frequency
|1/P - 1/S|, of period 22 px for P = 2.2 and 42 px for P = 2.1 at S = 2. A
measure counts only the stride-periodic pattern by keeping the slow part of
the envelopes, and the slower the part it keeps, the more it loses of a
pattern whose sign changes: the two measures below choose differently.

**checkerboard amplitude** (`checkerboard_amplitude`, `flat_checkerboard`):
the pattern's RMS amplitude over the images, its envelopes kept down to
features of 15 S pixels (30 at S = 2). Per image and channel:

1. Leave out a border where zero padding breaks the periodicity: S pixels
   on each side, or on a flat input, whose output is periodic only beyond
   the network's receptive radius from the edge, a quarter of each side
   (`flat_checkerboard`).
2. Expand each envelope over the interior's cosines (an orthonormal
   DCT-II: even extension, so the interior's edges leak nothing) and keep
   the lowest K + 1 along each axis, K = floor(n / 15 S), n the number of
   S-pixel means along it (the interior's side - S + 1): frequencies up to
   1/(30 S) cycles per pixel, 1/60 at S = 2, whose half period is 30
   pixels. K is 1 on 48- and 64-pixel images (a sign flip across the
   image, a tilt), 4 on 128, and 0 on the 24-pixel interiors of the
   study's flat-input outputs (a constant pattern). A 2.1 px grating's
   envelope (1/42) lies 1.4 times beyond 1/60, a 2.2 px one's (1/22) 2.7
   times.
3. Content without a pattern also has power there by chance (noise, an
   upsampler's error): peaks above a local spectral baseline count, as
   Wang, Bovik & Evans 2000 ("Blind measurement of blocking artifacts in
   images", ICIP) measure JPEG's 8-pixel blocking. The baseline is read on
   the next cosines, the 3 (K+1)^2 others of the first 2 (K+1) along each
   axis, as the median of their power divided by the expected median of as
   many chi-square variables of one degree of freedom (unbiased for
   Gaussian coefficients: on white noise it matches the kept cosines'
   power within 4% from 32-pixel images up, 13% at 24), and (K+1)^2 times
   it is subtracted. The median, not the mean: a grating leaks into a few
   of those cosines, and their mean would subtract it from a real pattern
   beside it (a 0.01 checker beside a 2.1 px grating of amplitude 0.05
   read 0 on 64 pixels with the mean; with the median it reads 0.009 to
   0.011 beside a 2.2 px one, and 0 to 0.015 beside a 2.1 px one, whose
   leak into the kept cosines adds to the pattern or cancels it, by its
   phase).
4. Average the excess power over images and channels, clip at 0 (the
   estimate of a zero pattern scatters around 0), take the square root.

A pattern constant over the image scores exactly its RMS amplitude, from
1e-6 to 0.3, whatever the image under it (any zero-mean S x S tile: checker,
columns, rows, one bright phase, mixtures; strides 2 to 4); an output equal
to its reference scores exactly 0. What the tests measure at S = 2, worst
over 8 phases, grating amplitudes as peak values (the RMS is 0.71 of it):

- Gratings, 64 x 64: 2.2 px 0.10 of its amplitude (0.14 of its RMS)
  vertical or horizontal, 0 diagonal; 2.1 px 0.22 (0.31 of its RMS), 0
  diagonal. 48 x 48 (the study's size): 2.2 px 0.24, diagonal 0.06; 2.1 px
  0.57 (0.81 of its RMS), diagonal 0.33: there the 2.1 px envelope's
  period, 42 px, is the interior's side, and nothing that keeps a sign flip
  across the image can tell them apart. Bicubic x2 of a 2.2 px grating,
  against the grating: 0.10 (64), 0.23 (48). A 2.05 px grating (envelope
  period 82 px) is a drifting pattern at these sizes: 0.72 to 0.77.
- Period-2 patterns, whole image: exact on flat images and on photos
  (camera, astronaut, coffee) against themselves; on bilinear x2 of the
  photos, against the photos, 0.93 to 1.03 of the amplitude (amplitudes
  0.005 to 0.03, 48 and 64 pixels).
- Sign flips: +p on one half, -p on the other, 0.90 p on 64 and 48 pixels
  (0.91 on a bilinear output), 0.95 p on 128; a flip at 40% of the side
  0.87 p, at 30% 0.82 p. A checker of 45-pixel tiles on 128 pixels keeps
  its envelope's fundamental, 0.85 p (a square wave's fundamental carries
  8/pi^2 of its power along each axis).
- No pattern: white noise of SD 0.05 on 64 x 64 (8 images, RGB) 0.0012;
  bilinear x2 error of a 64-pixel crop of astronaut 0.0000, of the 192
  crop 0.0004.
- A 0.1 checker on a 16 x 16 corner of a 64 x 64 image: 0.0097 (its share
  of the image's power). The local measure reads it.

On the study's 128 validation patches (48 x 48, RGB), nearest-neighbour
upsampling's 2 x 2 blocks, a stride-periodic error whose sign follows the
image's gradients, score 0.0036 (the 8-pixel windows of the measure's first
version, which counted texture, read 0.0087); bilinear x2 0.0005; bilinear
plus a 0.01 checker 0.0099.

**local checkerboard amplitude** (`local_checkerboard_amplitude`,
`local_flat_checkerboard`): how strong the pattern is where it is worst.
Each envelope is averaged around each position with Gaussian weights of
standard deviation 2 S pixels (weights inside the interior, renormalized
near its edges), squared and summed over the harmonics; less a baseline
from the ring between this mean and one of half the width (their
difference, squared, scaled by the ratio of their white-noise gains); then
averaged over channels. The score is the 99th percentile, over images and
positions, of its square root (clipped at 0). A pattern constant over the
image scores its amplitude (exactly on a photo; 1.01 to 1.02 p on
bilinear outputs); a clean output 0. The 99th, not the 95th percentile: a 16 x 16
corner is 5.4% of a 64 x 64 image's measured interior, and the 95th
percentile falls on the smoothed edge of a 0.1 checker there (0.05); the
99th reads 0.096. The price of locality is texture: a 2.2 px grating
scores 0.77 of its amplitude vertically (0.40 diagonally), a 2.1 px one
0.93; white noise of SD 0.05, 0.0087. On the study's validation patches
nearest-neighbour upsampling scores 0.026, bilinear x2 0.011 (the photos'
own content near the stride's period), bilinear plus a 0.01 checker 0.018:
it compares upsamplers on the same data rather than against 0.

A constant output scores 0 on a flat input too, so a network that has died
(no active ReLU unit: its output does not depend on its input), on the
whole image or a part of it, is told apart by `is_dead`, not by a good
checkerboard score.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats
from scipy.ndimage import uniform_filter
from skimage.metrics import peak_signal_noise_ratio

PSNR_CEILING_DB = 120.0  # a perfect image's PSNR is infinite: capped, so that a mean over images stays finite
MIN_PERIODS = 4  # the smallest measured interior side, in periods of the stride
ENVELOPE_PERIODS = 15  # the global measure keeps one more cosine of the envelopes per this many periods of the stride
LOCAL_PERIODS = 2  # the local measure's Gaussian standard deviation, in periods of the stride
LOCAL_PERCENTILE = 99.0  # the local measure reads the worst 1% of positions
DEAD_WINDOW = 8  # the side of the smallest square whose constant learned part makes a network dead
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


def _interior_difference(outputs, references, stride: int, border: int | None) -> np.ndarray:
    """outputs - references inside the border, after checking the arguments."""
    outputs, references = np.asarray(outputs, np.float64), np.asarray(references, np.float64)
    if outputs.ndim != 4 or outputs.shape != references.shape:
        raise ValueError("`outputs` and `references` must be batches (N, H, W, C) of the same shape. "
                         f"Received: shapes {outputs.shape} and {references.shape}")
    if not isinstance(stride, (int, np.integer)) or stride < 2:
        raise ValueError(f"`stride` must be an integer of at least 2. Received: stride={stride!r}")
    border = stride if border is None else border
    smallest = MIN_PERIODS * stride
    if min(outputs.shape[1:3]) - 2 * border < smallest:
        raise ValueError(f"images must be at least {smallest + 2 * border} pixels high and wide (a {smallest}-pixel "
                         f"interior inside a {border}-pixel border). Received: shape={outputs.shape}")
    return (outputs - references)[:, border : outputs.shape[1] - border, border : outputs.shape[2] - border]


def _demodulated(difference: np.ndarray, stride: int) -> list[np.ndarray]:
    """The difference times each stride harmonic's cosine, and its sine where that is not 0 at every pixel.

    A harmonic at half the sampling rate along both axes (all three at
    stride 2) has a sine of 0: its carrier is a sign.
    """
    rows, cols = np.indices(difference.shape[1:3])
    parts = []
    for a in range(stride):
        for b in range(stride):
            if a or b:
                phase = 2 * np.pi * ((a * rows + b * cols) % stride) / stride
                parts.append(difference * np.cos(phase)[None, :, :, None])
                if (2 * a) % stride or (2 * b) % stride:
                    parts.append(difference * np.sin(phase)[None, :, :, None])
    return parts


def _box(size: int, stride: int) -> np.ndarray:
    """The (size - stride + 1, size) matrix of means over `stride` consecutive pixels."""
    return sum(np.eye(size - stride + 1, size, offset) for offset in range(stride)) / stride


def _cosines(size: int, count: int) -> np.ndarray:
    """The first `count` orthonormal DCT-II basis vectors over `size` points, as rows."""
    frequencies, points = np.arange(count)[:, None], np.arange(size)[None, :]
    basis = np.cos(np.pi * frequencies * (points + 0.5) / size) * np.sqrt(2.0 / size)
    basis[0] /= np.sqrt(2.0)
    return basis


def _gaussian(size: int, sigma: float) -> np.ndarray:
    """The (size, size) matrix of Gaussian weighted means over the points in [0, size): its rows sum to 1."""
    offsets = np.arange(size)[:, None] - np.arange(size)[None, :]
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    return weights / weights.sum(axis=1, keepdims=True)


def _filter(rows: np.ndarray, images: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """rows @ image @ cols.T for each image and channel of a batch (N, H, W, C)."""
    return np.einsum("iy,nyxc,jx->nijc", rows, images, cols, optimize=True)


@functools.lru_cache
def _median_of_chi_square(count: int) -> float:
    """The expected median of `count` independent chi-square variables of one degree of freedom (0.53 for 12)."""
    middle = [(count + 1) // 2] if count % 2 else [count // 2, count // 2 + 1]
    return float(np.mean([stats.beta(rank, count + 1 - rank).expect(stats.chi2(1).ppf) for rank in middle]))


def _global_excess(difference: np.ndarray, stride: int) -> np.ndarray:
    """Per image and channel (N, C): the power of the envelopes' lowest cosines, less the baseline read beside them."""
    kept, bases = [], []
    for size in difference.shape[1:3]:
        means = size - stride + 1  # the stride-pixel means along this axis
        kept.append(means // (ENVELOPE_PERIODS * stride) + 1)
        bases.append(_cosines(means, min(2 * kept[-1], means)) @ _box(size, stride))
    beside = np.ones((len(bases[0]), len(bases[1])), bool)
    beside[: kept[0], : kept[1]] = False
    excess = 0.0
    for part in _demodulated(difference, stride):
        power = _filter(bases[0], part, bases[1]) ** 2
        baseline = np.median(power[:, beside], axis=1) / _median_of_chi_square(int(beside.sum()))
        excess = excess + power[:, : kept[0], : kept[1]].sum(axis=(1, 2)) - kept[0] * kept[1] * baseline
    return excess / ((difference.shape[1] - stride + 1) * (difference.shape[2] - stride + 1))


def _local_excess(difference: np.ndarray, stride: int) -> np.ndarray:
    """Per image and position (N, H - stride + 1, W - stride + 1): the envelopes' local power less its baseline."""
    wide, narrow = [], []
    for size in difference.shape[1:3]:
        box = _box(size, stride)
        wide.append(_gaussian(size - stride + 1, LOCAL_PERIODS * stride) @ box)
        narrow.append(_gaussian(size - stride + 1, LOCAL_PERIODS * stride / 2) @ box)
    # Each position's white-noise gains (sums of squared weights) of the wide mean and of the ring, narrow - wide.
    wide_gain = np.outer(*[(matrix**2).sum(axis=1) for matrix in wide])
    narrow_gain = np.outer(*[(matrix**2).sum(axis=1) for matrix in narrow])
    cross_gain = np.outer(*[(w * n).sum(axis=1) for w, n in zip(wide, narrow)])
    ratio = (wide_gain / (narrow_gain + wide_gain - 2 * cross_gain))[None, :, :, None]
    excess = 0.0
    for part in _demodulated(difference, stride):
        envelope = _filter(wide[0], part, wide[1])
        ring = _filter(narrow[0], part, narrow[1]) - envelope
        excess = excess + envelope**2 - ratio * ring**2
    return excess.mean(axis=-1)


def checkerboard_amplitude(
    outputs: np.ndarray, references: np.ndarray, stride: int = 2, border: int | None = None
) -> float:
    """RMS amplitude of the period-`stride` pattern in outputs - references (see the module docstring).

    Args:
        outputs: A batch of images (N, H, W, C).
        references: What the outputs should be without a pattern, same
            shape: the targets, or `smooth_part(outputs, stride)` on a flat
            input.
        stride: The pattern's period in pixels (the upsampling factor), at
            least 2.
        border: The pixels left out on each side; `stride` by default.

    Raises:
        ValueError: On batches of different or non-4D shapes, a stride
            below 2, or images too small to keep 4 * stride pixels inside
            the border.
    """
    excess = _global_excess(_interior_difference(outputs, references, stride, border), stride)
    return float(np.sqrt(max(np.mean(excess), 0.0)))


def local_checkerboard_amplitude(
    outputs: np.ndarray, references: np.ndarray, stride: int = 2, border: int | None = None
) -> float:
    """The period-`stride` pattern's local RMS amplitude where it is strongest (see the module docstring).

    The `LOCAL_PERCENTILE` (99th) percentile over images and positions;
    arguments and errors are `checkerboard_amplitude`'s.
    """
    excess = _local_excess(_interior_difference(outputs, references, stride, border), stride)
    return float(np.percentile(np.sqrt(np.maximum(excess, 0.0)), LOCAL_PERCENTILE))


def _flat_border(outputs: np.ndarray, stride: int) -> int:
    """A quarter of the shorter side, or as much as leaves 4 * stride pixels inside, and at least `stride` pixels."""
    side = min(outputs.shape[1:3])
    return max(stride, min(side // 4, (side - MIN_PERIODS * stride) // 2))


def flat_checkerboard(outputs: np.ndarray, stride: int = 2) -> float:
    """Checkerboard amplitude of outputs on a flat input: against their smooth part, a quarter of each side left out.

    Images too small to keep 4 * stride pixels inside a quarter-side border
    keep as large a border as leaves them, and at least `stride` pixels.
    """
    outputs = np.asarray(outputs, np.float64)
    return checkerboard_amplitude(outputs, smooth_part(outputs, stride), stride, _flat_border(outputs, stride))


def local_flat_checkerboard(outputs: np.ndarray, stride: int = 2) -> float:
    """Local checkerboard amplitude of outputs on a flat input, against `flat_checkerboard`'s reference and border."""
    outputs = np.asarray(outputs, np.float64)
    return local_checkerboard_amplitude(outputs, smooth_part(outputs, stride), stride, _flat_border(outputs, stride))


def is_dead(outputs: np.ndarray, bases, tolerance: float = DEAD_TOLERANCE) -> bool:
    """Whether a network's learned output ignores its input on some region: outputs - bases constant there.

    The network is dead when, on some square of `DEAD_WINDOW` x
    `DEAD_WINDOW` pixels (the whole image where smaller), the learned part's
    spread (max - min over the images and the square's pixels) is at most
    `tolerance` in every channel: on the whole image, as a network none of
    whose ReLU units is ever active, or on a part of it, as one whose units
    are active only elsewhere (its checkerboard amplitude reads only the
    constant part's missing pattern, and can look as good as a trained
    upsampler's). Every channel, not any: units that are never active
    on a region leave all channels constant there at once, since the last
    conv mixes the same features into each; one constant channel beside
    live ones is a colour the network does not change, not death. 8 pixels:
    small enough to find a dead region of 1/36 of the study's 48 x 48
    outputs, large enough (64 pixels in each of the images, 8192 values on
    the study's 128 validation patches) that a live learned part is never
    that constant by chance. A single image's flat region can be: the test
    needs a batch whose content varies at every position.

    Args:
        outputs: The network's outputs on a batch of inputs (N, H, W, C).
        bases: What the network adds to its learned part without learning
            it (the nearest-upsampled inputs under a global skip, or 0),
            broadcastable to `outputs`.
        tolerance: The largest spread of a learned part still called
            constant.
    """
    learned = np.broadcast_to(np.asarray(outputs, np.float64) - np.asarray(bases, np.float64), np.shape(outputs))
    window = (min(DEAD_WINDOW, learned.shape[1]), min(DEAD_WINDOW, learned.shape[2]))
    highest = sliding_window_view(learned.max(axis=0), window, axis=(0, 1)).max(axis=(-2, -1))
    lowest = sliding_window_view(learned.min(axis=0), window, axis=(0, 1)).min(axis=(-2, -1))
    return bool(((highest - lowest).max(axis=-1) <= tolerance).any())
