"""PSNR, the checkerboard amplitude and the dead-network test: closed forms, and Odena et al.'s observation at init."""

import keras
import numpy as np
import pytest
import skimage.data
from scipy.ndimage import gaussian_filter
from skimage.transform import resize

from convnas.experiments import upsampling
from convnas.experiments.ablation_spec import make_design
from convnas.experiments.artifacts import checkerboard_amplitude, flat_checkerboard, is_dead, psnr, smooth_part

AMPLITUDES = [1e-6, 0.005, 0.01, 0.03, 0.1, 0.3]


def test_psnr_closed_form():
    target = np.zeros((2, 4, 4, 3))
    assert psnr(target + 0.1, target) == pytest.approx(20.0)  # 10 log10(1 / 0.01)
    # clipped to 1: a perfect image, capped
    assert psnr(np.full_like(target, 2.0), target + 1.0) == pytest.approx(120.0)
    # The mean of each image's PSNR (20 and 40 dB), not the PSNR of the batch's mean error (~23 dB).
    assert psnr(target + np.array([0.1, 0.01])[:, None, None, None], target) == pytest.approx(30.0)


def pattern(shape, amplitude, tile=((1.0, -1.0), (-1.0, 1.0))):
    """A zero-mean period-2 pattern of RMS `amplitude` over a batch `shape` (N, H, W, C)."""
    tile = np.asarray(tile, np.float64)
    tile = (tile - tile.mean()) / np.sqrt(((tile - tile.mean()) ** 2).mean())
    return amplitude * np.tile(tile, (shape[1] // 2, shape[2] // 2))[None, :, :, None] * np.ones(shape)


def photo(name: str, size: int = 192) -> np.ndarray:
    """A size x size crop of an RGB scikit-image photo, in [0, 1], as a batch of one."""
    return getattr(skimage.data, name)()[None, :size, :size, :3].astype(np.float64) / 255.0


# a checker, one bright phase, stripes
@pytest.mark.parametrize("tile", [((1, -1), (-1, 1)), ((1, 0), (0, 0)), ((1, 1), (0, 0))])
@pytest.mark.parametrize("amplitude", AMPLITUDES)
def test_a_pattern_on_a_flat_image_scores_its_rms_amplitude(amplitude, tile):
    output = np.full((2, 32, 48, 3), 0.5) + pattern((2, 32, 48, 3), amplitude, tile)
    assert checkerboard_amplitude(output, smooth_part(output)) == pytest.approx(amplitude, rel=1e-6)


@pytest.mark.parametrize("amplitude", AMPLITUDES)
def test_a_pattern_on_a_photo_scores_its_rms_amplitude(amplitude):
    target = photo("astronaut")
    measured = checkerboard_amplitude(target + pattern(target.shape, amplitude), target)
    assert measured == pytest.approx(amplitude, rel=1e-6)


@pytest.mark.parametrize("amplitude", AMPLITUDES[1:])  # 1e-6 drowns in the error: it reads 0
def test_a_pattern_on_a_realistic_upsampler_output_scores_its_rms_amplitude(amplitude):
    target = photo("astronaut")
    # Bicubic upsampling of the 2x2-averaged photo: an error of RMS 0.018 that is not a pattern.
    output = resize(upsampling.downsample(target), target.shape, order=3, anti_aliasing=False)
    assert checkerboard_amplitude(output, target) == 0.0
    measured = checkerboard_amplitude(output + pattern(target.shape, amplitude), target)
    assert measured == pytest.approx(amplitude, rel=0.1)


# coffee at std 0.03
@pytest.mark.parametrize("name, contrast", [("astronaut", 1.0), ("chelsea", 1.0), ("coffee", 0.1)])
def test_the_same_pattern_scores_the_same_on_detailed_and_low_contrast_photos(name, contrast):
    target = 0.5 + contrast * (photo(name) - 0.5)
    output = gaussian_filter(target, (0, 1, 1, 0))  # a blurry upsampler's output, its error no pattern
    assert checkerboard_amplitude(output, target) < 1e-3
    assert checkerboard_amplitude(output + pattern(target.shape, 0.03), target) == pytest.approx(0.03, rel=0.1)


def test_a_pattern_whose_sign_flips_across_the_image_still_scores_its_amplitude():
    flat = np.full((1, 128, 128, 3), 0.5)
    halves = pattern(flat.shape, 0.03)
    halves[:, 61:] *= -1  # the flip inside a window: that row of windows reads low
    interior = halves[0, 2:-2, 2:-2, 0]
    # the image's phase means: about nothing
    assert np.std([interior[p::2, q::2].mean() for p in (0, 1) for q in (0, 1)]) < 0.003
    output = flat + halves
    assert checkerboard_amplitude(output, smooth_part(output)) == pytest.approx(0.03, rel=0.1)
    tiles = np.kron(np.indices((3, 3)).sum(axis=0) % 2 * 2 - 1, np.ones((45, 45)))[:128, :128]  # 45-pixel tiles
    output = flat + pattern(flat.shape, 0.03) * tiles[None, :, :, None]
    assert checkerboard_amplitude(output, smooth_part(output)) == pytest.approx(0.03, rel=0.1)


def test_a_pattern_free_output_scores_zero():
    target = photo("coffee")
    assert checkerboard_amplitude(target, target) == 0.0
    ramp = (np.linspace(0, 1, 64)[None, :, None, None] * np.linspace(0.5, 1, 64)[None, None, :, None]
            * np.ones((2, 64, 64, 3)))
    assert checkerboard_amplitude(ramp, smooth_part(ramp)) < 1e-4
    blurred = gaussian_filter(target, (0, 2, 2, 0))
    assert checkerboard_amplitude(blurred, smooth_part(blurred)) < 1e-3
    rng = np.random.default_rng(0)
    noisy = 0.5 + rng.normal(0, 0.05, (8, 64, 64, 3))  # white noise of std 0.05, no pattern
    assert checkerboard_amplitude(noisy, np.full_like(noisy, 0.5)) < 0.002  # unbiased, then clipped at 0: reads 0 here
    # Against its smooth part, whose box filter keeps the noise whole on the harmonics but damps it on their
    # neighbours, the noise reads about 0.05 of its std (0.0019 here).
    assert checkerboard_amplitude(noisy, smooth_part(noisy)) < 0.003


def test_nearest_upsampling_scores_its_blocks_and_the_measure_refuses_wrong_shapes():
    target = photo("astronaut")
    nearest = np.repeat(np.repeat(upsampling.downsample(target), 2, axis=1), 2, axis=2)
    assert 0.005 < checkerboard_amplitude(nearest, target) < 0.02  # its 2x2 blocks are a stride-periodic error
    with pytest.raises(ValueError, match="same shape"):
        checkerboard_amplitude(target, target[:, :-2])
    with pytest.raises(ValueError, match="at least 12 pixels"):
        checkerboard_amplitude(target[:, :11], target[:, :11])


def test_flat_checkerboard_leaves_out_a_quarter_of_each_side():
    output = np.full((1, 48, 48, 1), 0.5)
    output[:, :10] += pattern((1, 10, 48, 1), 0.01)  # a pattern only where zero padding would reach
    assert flat_checkerboard(output) == 0.0 and checkerboard_amplitude(output, smooth_part(output)) > 0.003
    small = np.full((1, 12, 12, 1), 0.5) + pattern((1, 12, 12, 1), 0.01)  # no window inside a quarter: a 2-pixel border
    assert flat_checkerboard(small) == pytest.approx(0.01)


def test_is_dead_tells_a_constant_learned_part_from_a_real_one():
    inputs = upsampling.downsample(photo("coffee").astype(np.float32))
    bases = np.repeat(np.repeat(inputs, 2, axis=1), 2, axis=2)  # the global skip's nearest-upsampled input
    constant = np.ones_like(bases) * np.array([0.1, -0.2, 0.3])  # a dead network: its last conv's bias per channel
    assert is_dead(constant, 0.0) and is_dead(bases + constant, bases)
    assert not is_dead(bases + constant, 0.0)  # the skip alone depends on the input: not dead without it
    assert not is_dead(bases + constant + 0.01 * bases, bases)  # a learned part of 1% of the input is alive
    assert is_dead(bases + constant + 1e-4 * bases, bases) and not is_dead(bases + constant + 1e-4 * bases, bases, 1e-5)


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
