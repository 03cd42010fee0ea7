"""PSNR and the checkerboard index: closed forms, and Odena et al.'s observation at initialization."""

import keras
import numpy as np
import pytest

from convnas.experiments import upsampling
from convnas.experiments.ablation_spec import make_design
from convnas.experiments.artifacts import checkerboard_index, psnr


def test_psnr_closed_form():
    target = np.zeros((2, 4, 4, 3))
    assert psnr(target + 0.1, target) == pytest.approx(20.0)  # 10 log10(1 / 0.01)
    assert psnr(np.full_like(target, 2.0), target + 1.0) == pytest.approx(120.0)  # clipped to 1: a perfect image, capped
    # The mean of each image's PSNR (20 and 40 dB), not the PSNR of the batch's mean error (~23 dB).
    assert psnr(target + np.array([0.1, 0.01])[:, None, None, None], target) == pytest.approx(30.0)


def test_checkerboard_index_of_pure_patterns():
    phase = np.zeros((1, 16, 16, 1))
    phase[:, ::2, ::2] = 1.0  # one bright sub-pixel phase: all the variance is periodic
    assert checkerboard_index(phase) == pytest.approx(1.0)
    assert checkerboard_index(np.full((1, 16, 16, 3), 0.3)) == 0.0  # flat: no variance at all
    ramp = np.linspace(0, 1, 32)[None, :, None, None] * np.ones((1, 32, 32, 1))
    # A ramp separates the phases by half a step: (1/2)^2 / ((16^2 - 1) / 12) over a 16-pixel interior.
    assert checkerboard_index(ramp) == pytest.approx(3 / 255)
    noisy = phase + np.random.default_rng(0).normal(0, 0.5, phase.shape)
    assert 0.1 < checkerboard_index(noisy) < 1.0


def test_the_real_photos_score_near_zero():
    data = upsampling.load_data("photos", train_patches=8, validation_patches=32)
    assert data.x_val.shape == (32, 24, 24, 3) and data.y_val.shape == (32, 48, 48, 3)
    assert checkerboard_index(data.y_val) < 0.01


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
        scores[name] = checkerboard_index(model.predict_on_batch(flat))
    assert scores["transposed_k3"] > 0.5
    assert scores["nearest_conv"] < 1e-6
