"""PSNR, the checkerboard amplitudes and the dead-network test: closed forms, and Odena et al.'s observation at init."""

import keras
import numpy as np
import pytest
import skimage.data
from scipy.ndimage import gaussian_filter
from skimage.transform import resize

from convnas.experiments import upsampling
from convnas.experiments.ablation_spec import make_design
from convnas.experiments.artifacts import (
    checkerboard_amplitude,
    flat_checkerboard,
    is_dead,
    local_checkerboard_amplitude,
    local_flat_checkerboard,
    psnr,
    smooth_part,
)

AMPLITUDES = [1e-6, 0.005, 0.01, 0.03, 0.1, 0.3]
TILES = {  # zero-mean 2 x 2 tiles: a checker, columns, rows, one bright phase, a mixture
    "checker": ((1, -1), (-1, 1)), "columns": ((1, -1), (1, -1)), "rows": ((1, 1), (-1, -1)),
    "dot": ((1, 0), (0, 0)), "mixture": ((0.3, -1.0), (0.9, -0.2)),
}
PHASES = np.linspace(0, np.pi, 8, endpoint=False)  # a grating's power repeats after half a turn
ORIENTATIONS = ("vertical", "horizontal", "diagonal", "antidiagonal")


def test_psnr_closed_form():
    target = np.zeros((2, 4, 4, 3))
    assert psnr(target + 0.1, target) == pytest.approx(20.0)  # 10 log10(1 / 0.01)
    # clipped to 1: a perfect image, capped
    assert psnr(np.full_like(target, 2.0), target + 1.0) == pytest.approx(120.0)
    # The mean of each image's PSNR (20 and 40 dB), not the PSNR of the batch's mean error (~23 dB).
    assert psnr(target + np.array([0.1, 0.01])[:, None, None, None], target) == pytest.approx(30.0)


def pattern(shape, amplitude, tile=((1.0, -1.0), (-1.0, 1.0))):
    """A zero-mean periodic pattern of RMS `amplitude` over a batch `shape` (N, H, W, C), its period the tile's."""
    tile = np.asarray(tile, np.float64)
    tile = (tile - tile.mean()) / np.sqrt(((tile - tile.mean()) ** 2).mean())
    reps = (-(-shape[1] // tile.shape[0]), -(-shape[2] // tile.shape[1]))
    return amplitude * np.tile(tile, reps)[None, : shape[1], : shape[2], None] * np.ones(shape)


def photo(name: str, size: int = 192, channels: int = 3) -> np.ndarray:
    """A size x size crop of a scikit-image photo, in [0, 1], as a batch of one with `channels` channels."""
    image = getattr(skimage.data, name)()
    image = image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)  # camera is grey
    return image[None, :size, :size, :channels].astype(np.float64) / 255.0


def bilinear(target: np.ndarray) -> np.ndarray:
    """A realistic upsampler's output: bilinear x2 of the 2 x 2-averaged target."""
    return resize(upsampling.downsample(target), target.shape, order=1, anti_aliasing=False).astype(np.float64)


def grating(size: int, period: float, orientation: str, phase: float, amplitude: float = 0.05) -> np.ndarray:
    """A single-channel sine grating of peak `amplitude` (RMS 0.71 of it) whose period is not the stride."""
    rows, cols = np.indices((size, size))
    position = {"vertical": cols, "horizontal": rows, "diagonal": rows + cols, "antidiagonal": rows - cols}
    return amplitude * np.cos(2 * np.pi * position[orientation] / period + phase)[None, :, :, None]


def worst_grating(measure, size: int, period: float, orientations=ORIENTATIONS) -> float:
    """The highest score of a 0.05 grating over orientations and phases, over its peak amplitude."""
    zero = np.zeros((1, size, size, 1))
    return max(measure(grating(size, period, way, phase), zero) for way in orientations for phase in PHASES) / 0.05


@pytest.mark.parametrize("tile", list(TILES.values()), ids=list(TILES))
@pytest.mark.parametrize("amplitude", AMPLITUDES)
def test_a_pattern_on_a_flat_image_scores_its_rms_amplitude(amplitude, tile):
    output = np.full((2, 32, 48, 3), 0.5) + pattern((2, 32, 48, 3), amplitude, tile)
    assert checkerboard_amplitude(output, smooth_part(output)) == pytest.approx(amplitude, rel=1e-6)
    assert local_checkerboard_amplitude(output, smooth_part(output)) == pytest.approx(amplitude, rel=1e-6)


@pytest.mark.parametrize("stride", [3, 4])
def test_a_pattern_of_a_larger_stride_scores_its_rms_amplitude(stride):
    tile = np.random.default_rng(stride).normal(size=(stride, stride))  # any zero-mean tile, after `pattern`
    output = np.full((1, 64, 64, 2), 0.5) + pattern((1, 64, 64, 2), 0.02, tile)
    assert checkerboard_amplitude(output, smooth_part(output, stride), stride) == pytest.approx(0.02, rel=1e-6)
    assert local_checkerboard_amplitude(output, smooth_part(output, stride), stride) == pytest.approx(0.02, rel=1e-6)
    assert flat_checkerboard(output, stride) == pytest.approx(0.02, rel=1e-6)


@pytest.mark.parametrize("amplitude", AMPLITUDES)
def test_a_pattern_on_a_photo_scores_its_rms_amplitude(amplitude):
    target = photo("astronaut")
    measured = checkerboard_amplitude(target + pattern(target.shape, amplitude), target)
    assert measured == pytest.approx(amplitude, rel=1e-6)


@pytest.mark.parametrize("size", [64, 48])
@pytest.mark.parametrize("name", ["camera", "astronaut", "coffee"])
def test_every_period_2_pattern_scores_its_rms_amplitude_on_photos_and_on_an_upsampler_output(name, size):
    target = photo(name, size, channels=1)
    output = bilinear(target)  # its error, no pattern: 0.0000 to 0.0005
    assert checkerboard_amplitude(output, target) < 1e-3
    for tile in TILES.values():
        assert checkerboard_amplitude(target + pattern(target.shape, 0.01, tile), target) == pytest.approx(0.01)
        for amplitude in (0.005, 0.01, 0.03):  # 0.93 to 1.03 of it
            measured = checkerboard_amplitude(output + pattern(target.shape, amplitude, tile), target)
            assert measured == pytest.approx(amplitude, rel=0.1)


@pytest.mark.parametrize("amplitude", AMPLITUDES[1:])  # 1e-6 drowns in the error: it reads 0
def test_a_pattern_on_a_realistic_upsampler_output_scores_its_rms_amplitude(amplitude):
    target = photo("astronaut")
    # Bicubic upsampling of the 2x2-averaged photo: an error of RMS 0.018 whose stride-periodic part is 0.0005.
    output = resize(upsampling.downsample(target), target.shape, order=3, anti_aliasing=False)
    assert checkerboard_amplitude(output, target) < 1e-3
    measured = checkerboard_amplitude(output + pattern(target.shape, amplitude), target)
    assert measured == pytest.approx(amplitude, rel=0.1)


# coffee at std 0.03
@pytest.mark.parametrize("name, contrast", [("astronaut", 1.0), ("chelsea", 1.0), ("coffee", 0.1)])
def test_the_same_pattern_scores_the_same_on_detailed_and_low_contrast_photos(name, contrast):
    target = 0.5 + contrast * (photo(name) - 0.5)
    output = gaussian_filter(target, (0, 1, 1, 0))  # a blurry upsampler's output, its error no pattern
    assert checkerboard_amplitude(output, target) < 1e-3
    assert checkerboard_amplitude(output + pattern(target.shape, 0.03), target) == pytest.approx(0.03, rel=0.1)


@pytest.mark.parametrize("size", [64, 48])
def test_gratings_whose_period_is_not_the_stride_score_little(size):
    # Against the RMS amplitude (0.71 of the peak) on 64 pixels: 2.2 px 0.14 of it, 2.1 px 0.31.
    limits = {2.2: 0.25 / np.sqrt(2), 2.1: 0.5 / np.sqrt(2)} if size == 64 else {2.2: 0.25, 2.1: 0.6}
    for period, limit in limits.items():
        assert worst_grating(checkerboard_amplitude, size, period) < limit
    # 48 pixels: the 2.1 px grating's 42-pixel envelope is the interior's side, 0.57 of its peak; diagonally 0.33.
    assert worst_grating(checkerboard_amplitude, size, 2.1, ("diagonal", "antidiagonal")) < 0.35
    rows, cols = np.indices((size, size))
    for way in (cols, rows + cols):  # bicubic x2 misses a texture of 2.2 px: its error is not a pattern either
        target = photo("coffee", size, channels=1) + 0.05 * np.cos(2 * np.pi * way / 2.2)[None, :, :, None]
        output = resize(upsampling.downsample(target), target.shape, order=3, anti_aliasing=False)
        assert checkerboard_amplitude(output, target) < 0.25 * 0.05


def test_a_pattern_whose_sign_flips_across_the_image_still_scores_its_amplitude():
    for size in (64, 48, 128):  # +p on one half, -p on the other: 0.90 p (64, 48), 0.95 p (128)
        flat = np.full((1, size, size, 1), 0.5)
        for axis in (1, 2):
            halves = pattern(flat.shape, 0.03)
            halves[(slice(None),) * axis + (slice(size // 2, None),)] *= -1
            assert checkerboard_amplitude(flat + halves, flat) == pytest.approx(0.03, rel=0.15)
    target = photo("astronaut", 64, channels=1)
    halves = pattern(target.shape, 0.01)
    halves[:, :, 32:] *= -1
    assert checkerboard_amplitude(bilinear(target) + halves, target) == pytest.approx(0.01, rel=0.15)
    flat = np.full((1, 128, 128, 3), 0.5)
    halves = pattern(flat.shape, 0.03)
    halves[:, 61:] *= -1
    interior = halves[0, 2:-2, 2:-2, 0]
    # the image's phase means: about nothing
    assert np.std([interior[p::2, q::2].mean() for p in (0, 1) for q in (0, 1)]) < 0.003
    output = flat + halves
    assert checkerboard_amplitude(output, smooth_part(output)) == pytest.approx(0.03, rel=0.1)
    # A checker of 45-pixel tiles: the measure keeps its envelope's fundamental, 8 / pi^2 of the power along each
    # axis (0.81 p in all), and leaves out its harmonics of 30 pixels and less, as it does a 2.1 px grating's.
    tiles = np.kron(np.indices((3, 3)).sum(axis=0) % 2 * 2 - 1, np.ones((45, 45)))[:128, :128]
    output = flat + pattern(flat.shape, 0.03) * tiles[None, :, :, None]
    assert 0.8 * 0.03 < checkerboard_amplitude(output, smooth_part(output)) < 0.9 * 0.03  # 0.85 p


def test_a_pattern_free_output_scores_zero():
    target = photo("coffee")
    assert checkerboard_amplitude(target, target) == 0.0
    assert local_checkerboard_amplitude(target, target) == 0.0
    ramp = (np.linspace(0, 1, 64)[None, :, None, None] * np.linspace(0.5, 1, 64)[None, None, :, None]
            * np.ones((2, 64, 64, 3)))
    assert checkerboard_amplitude(ramp, smooth_part(ramp)) < 1e-4
    blurred = gaussian_filter(target, (0, 2, 2, 0))
    assert checkerboard_amplitude(blurred, smooth_part(blurred)) < 1e-3
    rng = np.random.default_rng(0)
    noisy = 0.5 + rng.normal(0, 0.05, (8, 64, 64, 3))  # white noise of std 0.05, no pattern
    assert checkerboard_amplitude(noisy, np.full_like(noisy, 0.5)) < 0.002  # unbiased: 0.0012 here, by chance
    assert checkerboard_amplitude(noisy, smooth_part(noisy)) < 0.002
    # The local measure reads the worst 1% of positions: noise's chance peaks, 0.0087 (0.17 of its std).
    assert local_checkerboard_amplitude(noisy, np.full_like(noisy, 0.5)) < 0.012


def test_a_local_pattern_reads_low_globally_and_whole_locally():
    target = photo("coffee", 64)
    for output in (target, bilinear(target)):  # a 0.1 checker on a 16 x 16 corner of a clean or upsampled image
        corner = output.copy()
        corner[:, :16, :16] += pattern((1, 16, 16, 3), 0.1)
        assert checkerboard_amplitude(corner, target) < 0.015  # 0.0097: its share of the image's power
        assert local_checkerboard_amplitude(corner, target) >= 0.08  # 0.096
        whole = output + pattern(output.shape, 0.03)
        assert local_checkerboard_amplitude(whole, target) == pytest.approx(0.03, rel=0.05)  # 1.00 p, 1.01 p
    assert local_checkerboard_amplitude(bilinear(target), target) < 0.003  # the upsampler's own error: 0.0008
    # Locality costs texture rejection: a 2.2 px grating 0.77 of its peak (0.40 diagonally), against 0.10 globally.
    assert 0.1 < worst_grating(local_checkerboard_amplitude, 64, 2.2) < 0.8
    assert worst_grating(local_checkerboard_amplitude, 64, 2.2, ("diagonal", "antidiagonal")) < 0.45


def test_nearest_upsampling_scores_its_blocks_and_the_measure_refuses_wrong_arguments():
    target = photo("astronaut")
    nearest = np.repeat(np.repeat(upsampling.downsample(target), 2, axis=1), 2, axis=2)
    # Its 2x2 blocks are a stride-periodic error whose sign follows the image's gradients: its slow part counts,
    # 0.0065 (8-pixel windows read 0.012), and locally, where the gradients are steep, 0.029.
    assert 0.003 < checkerboard_amplitude(nearest, target) < 0.02
    assert 0.02 < local_checkerboard_amplitude(nearest, target) < 0.04
    with pytest.raises(ValueError, match="same shape"):
        checkerboard_amplitude(target, target[:, :-2])
    with pytest.raises(ValueError, match="at least 12 pixels"):
        checkerboard_amplitude(target[:, :11], target[:, :11])
    with pytest.raises(ValueError, match="at least 12 pixels"):
        local_checkerboard_amplitude(target[:, :11], target[:, :11])
    with pytest.raises(ValueError, match="stride=1"):
        checkerboard_amplitude(target, target, 1)


def test_flat_checkerboard_leaves_out_a_quarter_of_each_side():
    output = np.full((1, 48, 48, 1), 0.5)
    output[:, :10] += pattern((1, 10, 48, 1), 0.01)  # a pattern only where zero padding would reach
    assert flat_checkerboard(output) == 0.0 and checkerboard_amplitude(output, smooth_part(output)) > 0.002
    assert local_flat_checkerboard(output) == 0.0 and local_checkerboard_amplitude(output, smooth_part(output)) > 0.005
    small = np.full((1, 12, 12, 1), 0.5) + pattern((1, 12, 12, 1), 0.01)  # no window inside a quarter: a 2-pixel border
    assert flat_checkerboard(small) == pytest.approx(0.01)
    assert local_flat_checkerboard(small) == pytest.approx(0.01)


def learned_parts(count: int = 8, size: int = 48):
    """Nearest-upsampled photo patches (a global skip's bases) and a live learned part: smooth in them, plus noise."""
    rng = np.random.default_rng(0)
    targets = upsampling.photo_patches(("coffee", "astronaut"), count, size, rng).astype(np.float64)
    bases = np.repeat(np.repeat(upsampling.downsample(targets), 2, axis=1), 2, axis=2).astype(np.float64)
    live = gaussian_filter(targets, (0, 1, 1, 0)) - bases + rng.normal(0, 0.002, targets.shape)
    return bases, live


def test_is_dead_tells_a_constant_learned_part_from_a_real_one():
    bases, live = learned_parts()
    constant = np.ones_like(bases) * np.array([0.1, -0.2, 0.3])  # a dead network: its last conv's bias per channel
    assert is_dead(constant, 0.0) and is_dead(bases + constant, bases)
    assert not is_dead(bases + constant, 0.0)  # the skip alone depends on the input: not dead without it
    assert not is_dead(bases + constant + 0.01 * bases, bases)  # a learned part of 1% of the input is alive
    assert is_dead(bases + constant + 1e-4 * bases, bases) and not is_dead(bases + constant + 1e-4 * bases, bases, 1e-5)
    assert not is_dead(bases + live, bases) and not is_dead(bases + live, 0.0)  # a network's, varying everywhere
    # One image's flat region holds a constant 1% part: only a batch whose content varies everywhere tells.
    assert is_dead(bases[:1] + 0.01 * bases[:1], bases[:1]) and not is_dead(bases[:2] + 0.01 * bases[:2], bases[:2])


def test_is_dead_flags_a_network_dead_on_part_of_the_image():
    bases, live = learned_parts()
    half = live.copy()
    half[:, :, 24:] = 0.05  # the right half's units never active: its learned part is the bias
    assert is_dead(bases + half, bases)
    assert is_dead(half, 0.0)  # without a skip the output itself is constant there
    corner = live.copy()
    corner[:, -8:, -8:] = 0.05  # an 8 x 8 corner is the smallest region called dead
    assert is_dead(bases + corner, bases)
    corner[:, -8:, -8:] = 0.05 + live[:, -8:, -8:] * 0.1  # a learned part that is small there, but alive
    assert not is_dead(bases + corner, bases)
    corner[:, -7:, -7:] = 0.05
    assert not is_dead(bases + corner, bases)  # smaller than 8 x 8: a border effect, not a dead network
    grey = live.copy()
    grey[..., 1] = 0.05  # one channel constant beside live ones: a colour the network leaves alone, not death
    assert not is_dead(bases + grey, bases)


BASE = {"stem_filters": 16, "stages": [{"filters": 16, "downsampling": "none"}]}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_transposed_k3_s2_paints_a_checkerboard_on_a_flat_input_at_initialization(seed):
    flat = upsampling.flat_input((12, 12, 3))
    scores = {}
    for name, upsampler in {
        "transposed_k3": {"block": "transposed_conv", "kernel_size": 3},
        "nearest_conv": {"block": "upsample_conv", "interpolation": "nearest", "kernel_size": 3},
    }.items():
        keras.utils.set_random_seed(seed)
        model = upsampling.build_model(make_design({**BASE, "upsampler": upsampler}, "upsampling", "base"), (12, 12, 3))
        scores[name] = flat_checkerboard(model.predict_on_batch(flat))
    assert scores["transposed_k3"] > 0.01  # in the images' units: 2.5 grey levels of 8 bits and more
    assert scores["nearest_conv"] < 1e-6  # resize-conv: a flat interior, no pattern at all


@pytest.mark.parametrize("skip", [True, False])
def test_the_upsampling_task_flags_a_network_whose_relus_died(skip):
    from convnas.experiments.tasks import UpsamplingTask

    task = UpsamplingTask(upsampling.load_data("photos", train_patches=16, validation_patches=8), 8, 0.01)
    upsampler = {"block": "transposed_conv", "kernel_size": 3, "skip": skip}
    for dies in (False, True):
        keras.utils.set_random_seed(0)
        model = task.build(make_design({**BASE, "upsampler": upsampler}, "upsampling", "base"))
        if dies:  # the upsampler's every pre-activation at -1: no ReLU is ever active, and nothing upstream trains
            layer = next(layer for layer in model.layers if type(layer).__name__ == "TransposedConv")
            kernel, bias = layer.get_weights()
            layer.set_weights([np.zeros_like(kernel), np.full_like(bias, -1.0)])
        task.prepare(model)
        metrics, _ = task.train(model, seed=0, epochs=1, callbacks=[])
        assert metrics["dead"] == float(dies)
        assert metrics["psnr_gain"] == pytest.approx(metrics["psnr"] - task.nearest_psnr)
