"""How well a k x k kernel separates into a k x 1 and a 1 x k kernel (Jaderberg et al. 2014).

A 2D kernel K is separable exactly when it has rank 1: K = u v^T. Its best
rank-1 approximation (Eckart-Young) is s1 u1 v1^T from the SVD, with relative
Frobenius error sqrt(s2^2 + ... + sk^2) / sqrt(s1^2 + ... + sk^2). A Sobel or
box filter separates (error 0); a Laplacian or a random kernel does not.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Separability:
    """Best rank-1 (separable) approximation of a 2D kernel.

    Attributes:
        column: the k x 1 factor (vertical filter).
        row: the 1 x k factor (horizontal filter).
        relative_error: ||K - column row||_F / ||K||_F, 0 for a separable kernel.
        energy: share of ||K||_F^2 the rank-1 term keeps, s1^2 / sum(s^2).
    """

    column: np.ndarray
    row: np.ndarray
    relative_error: float
    energy: float


def separability(kernel: np.ndarray) -> Separability:
    """Best rank-1 approximation of a 2D kernel, with its error."""
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2:
        raise ValueError(f"`kernel` must be a 2D array. Received: kernel with shape {kernel.shape}")
    u, s, vt = np.linalg.svd(kernel)
    total = float(np.sum(s**2))
    if total == 0.0:
        return Separability(np.zeros(kernel.shape[0]), np.zeros(kernel.shape[1]), 0.0, 1.0)
    scale = np.sqrt(s[0])
    return Separability(
        column=u[:, 0] * scale,
        row=vt[0] * scale,
        relative_error=float(np.sqrt(max(total - s[0] ** 2, 0.0) / total)),
        energy=float(s[0] ** 2 / total),
    )
