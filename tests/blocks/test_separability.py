"""Rank-1 (spatially separable) approximation of 2D kernels."""

import numpy as np
import pytest

from convnas.blocks.separability import separability

pytestmark = pytest.mark.backends  # also run on JAX and PyTorch (the backend job)

SOBEL_X = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], float)
LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float)


def test_separable_kernels_have_zero_error_and_factor_exactly():
    for kernel in (SOBEL_X, np.ones((5, 5)) / 25, np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256):
        result = separability(kernel)
        assert result.relative_error == pytest.approx(0.0, abs=1e-12)
        assert result.energy == pytest.approx(1.0)
        np.testing.assert_allclose(np.outer(result.column, result.row), kernel, atol=1e-12)


def test_laplacian_is_not_separable():
    result = separability(LAPLACIAN)
    singular = np.linalg.svd(LAPLACIAN, compute_uv=False)
    expected = np.sqrt(np.sum(singular[1:] ** 2) / np.sum(singular**2))
    assert result.relative_error == pytest.approx(expected)
    assert np.linalg.matrix_rank(LAPLACIAN) == 2
    assert result.relative_error > 0.05
    residual = np.linalg.norm(LAPLACIAN - np.outer(result.column, result.row)) / np.linalg.norm(LAPLACIAN)
    assert residual == pytest.approx(result.relative_error)


def test_random_kernels_lose_energy_and_rank1_is_the_best_approximation():
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(3, 3))
    result = separability(kernel)
    assert 0 < result.energy < 1
    best = np.linalg.norm(kernel - np.outer(result.column, result.row))
    for _ in range(200):  # no other rank-1 kernel is closer (Eckart-Young)
        other = np.outer(result.column + rng.normal(scale=0.1, size=3), result.row + rng.normal(scale=0.1, size=3))
        assert np.linalg.norm(kernel - other) >= best - 1e-12


def test_rejects_non_2d():
    with pytest.raises(ValueError, match=r"`kernel` must be a 2D array. Received: kernel with shape \(3,\)"):
        separability(np.ones(3))
