"""Statistics over seeds: mean, sample standard deviation, 95% confidence interval, Welch's t-test.

The confidence interval is Student's: mean ± t(0.975, n-1) · s / sqrt(n),
with s the sample standard deviation (ddof=1). Welch's t-test compares two
variants without assuming equal variances (Welch 1947), with the
Welch-Satterthwaite degrees of freedom; its p-value is two-sided. With fewer
than two values a spread is undefined and reads as None.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from scipy.special import stdtr, stdtrit  # Student t CDF and its inverse: scipy.stats costs 0.4 s more to import


@dataclasses.dataclass(frozen=True)
class Summary:
    """Mean, spread and 95% confidence interval of one metric over seeds."""

    n: int
    mean: float
    std: float | None
    ci_low: float | None
    ci_high: float | None


def summarize(values: Sequence[float]) -> Summary:
    """The Summary of `values` (at least one)."""
    if not values:
        raise ValueError("`values` must hold at least one number. Received: values=[]")
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return Summary(n, mean, None, None, None)
    std = math.sqrt(math.fsum((value - mean) ** 2 for value in values) / (n - 1))
    half_width = stdtrit(n - 1, 0.975) * std / math.sqrt(n)
    return Summary(n, mean, std, mean - half_width, mean + half_width)


@dataclasses.dataclass(frozen=True)
class WelchTest:
    t: float
    degrees_of_freedom: float
    p_value: float


def welch_t_test(a: Sequence[float], b: Sequence[float]) -> WelchTest | None:
    """Welch's two-sided t-test of mean(a) == mean(b); None with fewer than two values on a side.

    Two samples without any spread (identical values on both sides) have no
    defined t: equal means give p = 1, different means p = 0.
    """
    if len(a) < 2 or len(b) < 2:
        return None
    first, second = summarize(a), summarize(b)
    variance_a, variance_b = first.std**2 / first.n, second.std**2 / second.n
    difference = first.mean - second.mean
    if variance_a + variance_b == 0:
        return WelchTest(0.0 if difference == 0 else math.copysign(math.inf, difference), math.nan, 1.0 if difference == 0 else 0.0)
    t = difference / math.sqrt(variance_a + variance_b)
    dof = (variance_a + variance_b) ** 2 / (variance_a**2 / (first.n - 1) + variance_b**2 / (second.n - 1))
    return WelchTest(t, dof, float(2 * stdtr(dof, -abs(t))))
