"""Statistics over seeds for ablation tables: summaries, exact tests, multiple comparisons, power.

- **Summary**: mean, sample standard deviation (ddof=1) and a 95% confidence
  interval. The interval is Student's: mean ± t(0.975, n-1) · s / sqrt(n);
  for a metric bounded in [0, 1] (an accuracy) it is Student's interval of
  the arcsine-square-root transformed values (the variance-stabilising
  transform of a proportion), clipped to [0, π/2] and mapped back with
  sin², so it never leaves [0, 1].
- **Exact permutation test** (the main test): the share of reassignments of
  the pooled runs to the two variants whose absolute difference of means is
  at least the observed one (two-sided), over every reassignment of the pooled runs to the two
  (`scipy.stats.permutation_test` with all permutations). With n
  runs a side it cannot go below 2 / C(2n, n) (0.1 for 3 seeds, 0.029 for
  4, 0.0079 for 5), so samples without spread never yield a tiny p.
- **Welch's t-test**, kept as a secondary column (`p_welch`).
- **Holm-Bonferroni** adjusted p-values across a study's comparisons
  (Holm 1979), which control the family-wise error rate at the level used.
- **Minimum detectable effect** (MDE): the smallest true difference that a
  two-sided two-sample t-test at level alpha detects with 80% power, given
  the pooled seed-to-seed standard deviation and the runs on each side
  (noncentral t). Infinite when the exact test cannot reach alpha with so
  few runs. `seeds_needed` is the number of runs a side that would detect
  the observed difference.

With fewer than two values a spread is undefined and reads as None.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize, stats

ALPHA = 0.05
POWER = 0.8
MOST_SEEDS = 1000  # seeds_needed looks no further


@dataclasses.dataclass(frozen=True)
class Summary:
    """Mean, spread and 95% confidence interval of one metric over seeds."""

    n: int
    mean: float
    std: float | None
    ci_low: float | None
    ci_high: float | None


def summarize(values: Sequence[float], bounded: bool = False) -> Summary:
    """The Summary of `values` (at least one); `bounded`: values in [0, 1], whose interval stays there."""
    if not values:
        raise ValueError("`values` must hold at least one number. Received: values=[]")
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return Summary(n, mean, None, None, None)
    std = math.sqrt(math.fsum((value - mean) ** 2 for value in values) / (n - 1))
    if not bounded:
        half_width = stats.t.ppf(0.975, n - 1) * std / math.sqrt(n)
        return Summary(n, mean, std, mean - half_width, mean + half_width)
    if min(values) < 0 or max(values) > 1:
        raise ValueError(f"bounded `values` must lie in [0, 1]. Received: values={list(values)!r}")
    angles = np.arcsin(np.sqrt(np.asarray(values, np.float64)))
    half_width = stats.t.ppf(0.975, n - 1) * angles.std(ddof=1) / math.sqrt(n)
    low, high = np.clip([angles.mean() - half_width, angles.mean() + half_width], 0, math.pi / 2)
    return Summary(n, mean, std, float(np.sin(low) ** 2), float(np.sin(high) ** 2))


def permutation_p_value(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Exact two-sided permutation p-value of mean(a) - mean(b); None with fewer than two values on a side."""
    if len(a) < 2 or len(b) < 2:
        return None
    result = stats.permutation_test(
        (np.asarray(a, np.float64), np.asarray(b, np.float64)),
        # rounded: differences that only float rounding tells apart are ties
        lambda x, y, axis: np.round(np.abs(np.mean(x, axis=axis) - np.mean(y, axis=axis)), 12),
        permutation_type="independent", alternative="greater", n_resamples=np.inf, vectorized=True,
    )
    return float(result.pvalue)


def smallest_p_value(n_a: int, n_b: int) -> float:
    """The smallest two-sided p-value the exact permutation test can give with n_a and n_b runs."""
    return (2 if n_a == n_b else 1) / math.comb(n_a + n_b, n_a)


@dataclasses.dataclass(frozen=True)
class WelchTest:
    t: float
    degrees_of_freedom: float
    p_value: float


def welch_t_test(a: Sequence[float], b: Sequence[float]) -> WelchTest | None:
    """Welch's two-sided t-test of mean(a) == mean(b); None with fewer than two values on a side.

    Two samples without any spread have no defined t: equal means give
    p = 1, different means p = 0 (and the exact permutation test, the main
    test, its smallest attainable value).
    """
    if len(a) < 2 or len(b) < 2:
        return None
    first, second = summarize(a), summarize(b)
    variance_a, variance_b = first.std**2 / first.n, second.std**2 / second.n
    difference = first.mean - second.mean
    scale = max(abs(first.mean), abs(second.mean), 1.0)
    if math.sqrt(variance_a + variance_b) <= 1e-12 * scale:  # no spread but float rounding's
        if difference == 0:
            return WelchTest(0.0, math.nan, 1.0)
        return WelchTest(math.copysign(math.inf, difference), math.nan, 0.0)
    t = difference / math.sqrt(variance_a + variance_b)
    dof = (variance_a + variance_b) ** 2 / (variance_a**2 / (first.n - 1) + variance_b**2 / (second.n - 1))
    return WelchTest(t, dof, float(2 * stats.t.sf(abs(t), dof)))


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-Bonferroni adjusted p-values (None stays None and does not count as a test)."""
    tested = sorted((p, index) for index, p in enumerate(p_values) if p is not None)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(tested):
        running = max(running, min(1.0, (len(tested) - rank) * p))
        adjusted[index] = running
    return adjusted


def pooled_std(a: Sequence[float], b: Sequence[float]) -> float:
    """The pooled sample standard deviation of two samples of at least two values each."""
    first, second = summarize(a), summarize(b)
    return math.sqrt(((first.n - 1) * first.std**2 + (second.n - 1) * second.std**2) / (first.n + second.n - 2))


def power(difference: float, std: float, n_a: int, n_b: int, alpha: float = ALPHA) -> float:
    """The power of a two-sided two-sample t-test at level `alpha` to detect a true `difference`."""
    if std == 0:
        return 1.0 if difference else alpha
    dof = n_a + n_b - 2
    critical = stats.t.ppf(1 - alpha / 2, dof)
    shift = abs(difference) / (std * math.sqrt(1 / n_a + 1 / n_b))
    detected = stats.nct.sf(critical, dof, shift) + stats.nct.cdf(-critical, dof, shift)
    return 1.0 if math.isnan(detected) else float(detected)  # nan: a shift far past the critical value


def minimum_detectable_effect(std: float, n_a: int, n_b: int, alpha: float = ALPHA, target: float = POWER) -> float:
    """The smallest difference detected with `target` power at level `alpha`; inf if the exact test cannot reach it."""
    if smallest_p_value(n_a, n_b) > alpha:
        return math.inf
    if std == 0:
        return 0.0
    high = std * math.sqrt(1 / n_a + 1 / n_b)
    while power(high, std, n_a, n_b, alpha) < target:
        high *= 2
    return float(optimize.brentq(lambda d: power(d, std, n_a, n_b, alpha) - target, 0.0, high))


def seeds_needed(difference: float, std: float, alpha: float = ALPHA, target: float = POWER) -> int | None:
    """Runs a side detecting `difference` with `target` power at level `alpha`; None past MOST_SEEDS or without one."""
    if difference == 0:
        return None
    for n in range(2, MOST_SEEDS + 1):
        if smallest_p_value(n, n) <= alpha and power(difference, std, n, n, alpha) >= target:
            return n
    return None
