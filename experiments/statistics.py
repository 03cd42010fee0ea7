"""Statistics over seeds for ablation tables: summaries, the exact test and its interval, multiple comparisons.

- **Summary**: mean, sample standard deviation (ddof=1) and a 95% confidence
  interval. The interval is Student's: mean ± t(0.975, n-1) · s / sqrt(n);
  for a metric bounded in [0, 1] (an accuracy) it is Student's interval of
  the arcsine-square-root transformed values (the variance-stabilising
  transform of a proportion), clipped to [0, π/2] and mapped back with
  sin², so it never leaves [0, 1] (nor always holds the mean).
- **Exact permutation test** (the main test) of a shift δ: the share of the
  reassignments of the pooled runs (a - δ, b) to two groups of their sizes
  whose absolute difference of means is at least the observed one
  (two-sided). Every reassignment is enumerated up to `ENUMERATED` of them
  (10 runs a side), else that many drawn with a fixed seed (a Monte Carlo
  permutation test, the identity among them). With n runs a side it cannot
  go below 2 / C(2n, n) (0.1 for 3 seeds, 0.029 for 4, 0.0079 for 5), so
  samples without spread never yield a tiny p. Differences of means within
  `TIE` of the data's scale (at least 1) are ties, so that float rounding
  never splits them.
- **Its interval** on Δ = mean(a) - mean(b): the shifts δ the test at level
  alpha does not reject, {δ : p(δ) > alpha} (the test inverted). For each
  reassignment, the shifts at which it counts form a closed interval
  around Δ (its statistic is linear in δ, and the reassignment of the
  runs as they are and its mirror count at every δ), so p(δ) falls
  monotonically on either side of Δ and the set is one closed interval
  [Δ - u_high, Δ - u_low], u_high the K-th largest upper end, u_low the
  K-th smallest lower end, K the least count with K / N > alpha. It is
  infinite where alpha is below the test's smallest p. It excludes δ
  exactly when p(δ) <= alpha: the interval and the test always agree.
- **Welch's t-test**, kept as a secondary column (`p_welch`).
- **Holm-Bonferroni** adjusted p-values (Holm 1979), and the level each
  test is judged at in Holm's step-down (`holm_levels`).

Power, minimum detectable effects and seeds needed are the exact test's own
(`experiments.exact_power`). With fewer than two values a spread is
undefined and reads as None.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

ALPHA = 0.05
ENUMERATED = 200_000  # reassignments enumerated up to this many (C(20, 10) = 184,756), else drawn
TIE = 1e-12  # differences of means this close, relative to the data's scale, are ties
REASSIGNMENT_SEED = 0  # the drawn reassignments' seed, so that a table recomputes to the same numbers


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


def reassignments(n_a: int, n_b: int, most: int = ENUMERATED) -> np.ndarray:
    """Which of the pooled runs (a's n_a, then b's n_b) each reassignment gives the first group, a boolean matrix.

    Every reassignment when there are at most `most`, else `most` of them:
    the runs as they are, then reassignments drawn with REASSIGNMENT_SEED.
    """
    size = n_a + n_b
    if math.comb(size, n_a) <= most:
        chosen = np.array(list(itertools.combinations(range(size), n_a)), dtype=np.intp).reshape(-1, n_a)
    else:
        rng = np.random.default_rng(REASSIGNMENT_SEED)
        drawn = rng.random((most - 1, size)).argsort(axis=1)[:, :n_a]
        chosen = np.concatenate([np.arange(n_a)[None], drawn])
    members = np.zeros((len(chosen), size), dtype=bool)
    np.put_along_axis(members, chosen, True, axis=1)
    return members


def shift_bounds(values: np.ndarray, n_a: int, members: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Δ of each row of `values` (a's n_a values, then b's) and the offsets u = Δ - δ at which each reassignment counts.

    A reassignment's difference of means at shift δ is D - c·δ (c: the
    share of a's runs in its first group less that in its second); it
    counts when |D - c·δ| >= |Δ - δ|, on the closed interval of u between
    E / (1 - c) and -E / (1 + c), E = D - c·Δ (widened by the tie
    tolerance); the runs as they are and their mirror count at every u.

    Returns:
        Δ per row, and the lower and upper ends of each reassignment's
        interval (rows x reassignments).
    """
    n_b = values.shape[1] - n_a
    in_first = members[:, :n_a].sum(axis=1)
    share = in_first / n_a - (n_a - in_first) / n_b
    always = (in_first == n_a) | ((in_first == 0) & (n_a == n_b))
    share[always] = 0.0  # no division by 1 - c = 0 or 1 + c = 0: their ends are set below
    observed = np.r_[np.full(n_a, 1 / n_a), np.full(n_b, -1 / n_b)]
    weights = np.where(members, 1 / n_a, -1 / n_b) - share[:, None] * observed  # E = D - c·Δ, one product
    offset = values @ weights.T
    first, second = offset * (1 / (1 - share)), offset * (-1 / (1 + share))
    tie = TIE * np.maximum(1.0, np.abs(values).max(axis=1))[:, None]
    low = np.minimum(first, second) - tie
    high = np.maximum(first, second, out=first) + tie
    low[:, always], high[:, always] = -np.inf, np.inf
    return values @ observed, low, high


def critical_count(reassignment_count: int, alpha: float) -> int:
    """K, the least count of reassignments whose share K / N exceeds `alpha`: a test with a smaller count rejects."""
    if not 0 < alpha < 1:
        raise ValueError(f"`alpha` must lie in (0, 1). Received: alpha={alpha!r}")
    count = math.floor(alpha * reassignment_count) + 1
    while count > 1 and (count - 1) / reassignment_count > alpha:
        count -= 1
    while count / reassignment_count <= alpha:
        count += 1
    return count


def interval_offsets(low: np.ndarray, high: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """(u_low, u_high) per row: the K-th smallest lower end and K-th largest upper end (see the module docstring)."""
    count = low.shape[-1]
    k = critical_count(count, alpha)
    u_low = np.partition(low, k - 1, axis=-1)[..., k - 1]
    u_high = np.partition(high, count - k, axis=-1)[..., count - k]
    return u_low, u_high


@dataclasses.dataclass(frozen=True, eq=False)
class ExactTest:
    """The exact permutation test of every shift δ of Δ = mean(a) - mean(b), from one pair of samples."""

    delta: float
    low: np.ndarray  # per reassignment: the offsets u = Δ - δ at which it counts, [low, high]
    high: np.ndarray

    def p_value(self, shift: float = 0.0) -> float:
        """The two-sided p of Δ = `shift`: the share of reassignments as extreme as the runs at that shift."""
        offset = self.delta - shift
        return float(np.count_nonzero((self.low <= offset) & (offset <= self.high)) / self.low.size)

    def interval(self, alpha: float) -> tuple[float, float]:
        """The shifts δ with p(δ) > `alpha`: the closed interval of Δ the test at `alpha` does not reject."""
        u_low, u_high = interval_offsets(self.low, self.high, alpha)
        return float(self.delta - u_high), float(self.delta - u_low)


def exact_test(a: Sequence[float], b: Sequence[float]) -> ExactTest | None:
    """The exact permutation test of mean(a) - mean(b) and its shifts; None with fewer than two values on a side."""
    if len(a) < 2 or len(b) < 2:
        return None
    values = np.asarray([*a, *b], dtype=np.float64)[None]
    delta, low, high = shift_bounds(values, len(a), reassignments(len(a), len(b)))
    return ExactTest(float(delta[0]), low[0], high[0])


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


def holm_levels(p_values: Sequence[float | None], alpha: float = ALPHA) -> list[float | None]:
    """The level Holm's step-down judges each test at (None stays None and does not count as a test).

    The tests are taken by ascending p; the one at step j (from 0) of k is
    judged at alpha / (k - j) while every earlier one was rejected; from the
    first that is not, every later test gets that step's level. A test is
    rejected exactly when its p is at most its level, as when its Holm-
    adjusted p is at most alpha.
    """
    tested = sorted((p, index) for index, p in enumerate(p_values) if p is not None)
    levels: list[float | None] = [None] * len(p_values)
    stopped = None
    for step, (p, index) in enumerate(tested):
        level = alpha / (len(tested) - step) if stopped is None else stopped
        if stopped is None and p > level:
            stopped = level
        levels[index] = level
    return levels


def pooled_std(a: Sequence[float], b: Sequence[float]) -> float:
    """The pooled sample standard deviation of two samples of at least two values each."""
    first, second = summarize(a), summarize(b)
    return math.sqrt(((first.n - 1) * first.std**2 + (second.n - 1) * second.std**2) / (first.n + second.n - 2))
