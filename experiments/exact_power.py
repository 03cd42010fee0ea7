"""Power, minimum detectable effect and seeds needed of the exact permutation test, by simulation.

The test is the one the ablation tables use (`experiments.statistics`: the
exact permutation test, its interval on Δ by inversion), not a t-test: at 5
runs a side and a level of 0.0125 it decides only on complete separation,
about 3.1 standard deviations, where a t-test would at 2.6.

The model: a variant's runs and its reference's are normal with one
standard deviation σ (the pooled seed-to-seed SD), their means Δ apart.
The test's interval is equivariant: for runs a = Δ + σ·z_a, b = σ·z_b it is
Δ + σ·[l, h], [l, h] the interval of the standard normal samples (z_a, z_b).
So one simulation per (n_a, n_b, alpha), `SIMULATIONS` pairs of standard
normal samples drawn with `SEED` and each one's interval at alpha, gives the
power at every Δ and σ. Each draw enumerates the reassignments up to
`SIMULATED_REASSIGNMENTS` (6 runs a side), else tests that many drawn ones;
past `SIMULATED_RUNS` runs a side the intervals are the test's large-sample
limit, Δ̂ ± z(1 - alpha/2)·σ·sqrt(1/n_a + 1/n_b) (Δ̂ drawn from its normal
law), where the permutation distribution of a difference of means is normal.

A claim is a region of Δ (`experiments.ablation_table.claims`): open
(low, high), with ±inf for a half-line; low == high for a point ("the same",
no margin), which only a contradiction can decide. A true Δ inside the
region is decided when the interval lies inside it (supports), one outside
its closure when the interval lies outside (contradicts):

- `power`: the share of simulated intervals that decide the true Δ so;
- `minimum_detectable_effect`: the distance d from the region's boundary
  that a true Δ needs to be decided with `POWER`: for a half-line (and a
  point), Δ d past the boundary, d = σ·q, q the POWER-quantile of h (h and
  -l are equally distributed, the normal being symmetric: both are pooled);
  for a region of both ends, the half-width around a true Δ at its centre,
  d = σ·q, q the POWER-quantile of max(-l, h); infinite when alpha is below
  the test's smallest p;
- `seeds_needed`: the least runs a side (as many on both) at which an
  observed Δ, were it the true one, is decided with POWER; None past
  `MOST_SEEDS` or for a Δ on the boundary.

`convnas table` on a built-in study (5 runs a side, up to 6 comparisons)
spends about 0.1-0.4 s here.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import stats

from convnas.experiments import statistics

POWER = 0.8
SIMULATIONS = 2000  # pairs of standard normal samples per (n_a, n_b, alpha)
SIMULATED_REASSIGNMENTS = 1000  # reassignments each simulated test enumerates (C(12, 6) = 924) or draws
SIMULATED_RUNS = 20  # runs a side simulated; past them, the large-sample limit
MOST_SEEDS = 1000  # seeds_needed looks no further
SEED = 0


@functools.lru_cache(maxsize=256)
def standard_intervals(n_a: int, n_b: int, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """(l, h): the test's intervals at `alpha` for SIMULATIONS pairs of standard normal samples of n_a and n_b runs."""
    if max(n_a, n_b) > SIMULATED_RUNS:
        return limit_intervals(n_a, n_b, alpha)
    values = np.random.default_rng([SEED, n_a, n_b]).standard_normal((SIMULATIONS, n_a + n_b))
    delta, low, high = statistics.shift_bounds(values, n_a, statistics.reassignments(n_a, n_b, SIMULATED_REASSIGNMENTS))
    u_low, u_high = statistics.interval_offsets(low, high, alpha)
    return delta - u_high, delta - u_low


def limit_intervals(n_a: int, n_b: int, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """The large-sample limit of `standard_intervals`: Δ̂ ± z(1 - alpha/2)·sqrt(1/n_a + 1/n_b), Δ̂ drawn from its law."""
    scale = math.sqrt(1 / n_a + 1 / n_b)
    centre = scale * np.random.default_rng([SEED, n_a, n_b]).standard_normal(SIMULATIONS)
    half_width = stats.norm.ppf(1 - alpha / 2) * scale
    return centre - half_width, centre + half_width


def _scaled(values: np.ndarray, std: float) -> np.ndarray:
    """σ·values, an infinite end staying infinite (also at σ = 0)."""
    return np.where(np.isinf(values), values, std * values)


def power(delta: float, std: float, n_a: int, n_b: int, region: tuple[float, float], alpha: float) -> float:
    """The probability that the test at `alpha` decides a true `delta` (see the module docstring); 0 on the boundary."""
    return _share_decided(standard_intervals(n_a, n_b, alpha), delta, std, region)


def _share_decided(intervals: tuple[np.ndarray, np.ndarray], delta: float, std: float,
                   region: tuple[float, float]) -> float:
    """The share of standard `intervals` and their mirror images, scaled by `std` around `delta`, deciding `delta`.

    The normal being symmetric, an interval [l, h] and its mirror [-h, -l]
    are equally likely: counting both halves the simulation's noise and
    matches the MDE, which pools both ends.
    """
    low, high = region
    lower, upper = intervals
    shares = []
    for lows, highs in ((lower, upper), (-upper, -lower)):
        lows, highs = delta + _scaled(lows, std), delta + _scaled(highs, std)
        if low < delta < high:
            decided = (lows > low) & (highs < high)
        elif delta < low:
            decided = highs < low
        elif delta > high:
            decided = lows > high
        else:
            return 0.0
        shares.append(np.mean(decided))
    return float(np.mean(shares))


def minimum_detectable_effect(std: float, n_a: int, n_b: int, region: tuple[float, float], alpha: float) -> float:
    """The distance from the region's boundary a true Δ needs to be decided with POWER (see the module docstring)."""
    lower, upper = standard_intervals(n_a, n_b, alpha)
    low, high = region
    if math.isinf(low) or math.isinf(high) or low == high:
        reach = np.concatenate([-lower, upper])
    else:
        reach = np.maximum(-lower, upper)
    quantile = float(np.quantile(reach, POWER, method="inverted_cdf"))
    return quantile if math.isinf(quantile) else std * quantile


def seeds_needed(delta: float, std: float, region: tuple[float, float], alpha: float) -> int | None:
    """The least runs a side deciding a true `delta` with POWER; None past MOST_SEEDS or for `delta` on the boundary.

    The large-sample limit's least n comes first (by bisection: its power
    grows with n); the exact test, which never beats its limit with σ
    known, needs at least as many, so only the runs from there to
    SIMULATED_RUNS are simulated, in turn.
    """
    def limit_power(n: int) -> float:
        return _share_decided(limit_intervals(n, n, alpha), delta, std, region)

    if limit_power(MOST_SEEDS) < POWER:
        return None
    fewest, most = 1, MOST_SEEDS  # limit_power(fewest) < POWER <= limit_power(most)
    while most - fewest > 1:
        middle = (fewest + most) // 2
        fewest, most = (fewest, middle) if limit_power(middle) >= POWER else (middle, most)
    for n in range(max(2, most), SIMULATED_RUNS + 1):
        if power(delta, std, n, n, region, alpha) >= POWER:
            return n
    return max(most, SIMULATED_RUNS + 1)
