"""The exact test's power, MDE and seeds needed against a brute-force simulation of the test itself.

The brute force draws fresh normal samples (another seed than the module's),
enumerates every split of each pair, and counts the decisions. Tolerances
come from the simulations' sizes: a power of 0.8 estimated from N draws has
a standard error of sqrt(0.8 * 0.2 / N): 0.0063 for the module's 2 x 2000
pooled interval ends and 0.0063 for 4000 brute-force draws, 0.009 together
(0.011 for an equivalence claim, whose MDE uses 2000 draws): the checks
allow about 3.5 of those.
"""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from convnas.experiments import exact_power

HIGHER = (0.0, math.inf)


def _splits(n):
    """Every split of 2n pooled runs into two groups of n, as +1/n and -1/n weights (rows)."""
    weights = []
    for chosen in itertools.combinations(range(2 * n), n):
        row = np.full(2 * n, -1 / n)
        row[list(chosen)] = 1 / n
        weights.append(row)
    return np.array(weights)


def _brute_force_p(a, b, shift, weights):
    """Two-sided exact p of each row's mean(a) - mean(b) = shift, by enumerating every split (rows of a and b)."""
    pooled = np.concatenate([a - shift, b], axis=1)
    observed = np.abs((a - shift).mean(axis=1) - b.mean(axis=1))
    return (np.abs(pooled @ weights.T) >= observed[:, None] - 1e-12).mean(axis=1)


@pytest.mark.parametrize("alpha", [0.0125, 0.025, 0.05])
def test_the_power_at_the_reported_mde_is_eighty_percent_by_brute_force(alpha):
    n, std, draws = 5, 2.0, 4000
    mde = exact_power.minimum_detectable_effect(std, n, n, HIGHER, alpha)
    rng = np.random.default_rng(12345)
    a, b = mde + std * rng.standard_normal((draws, n)), std * rng.standard_normal((draws, n))
    supported = (_brute_force_p(a, b, 0.0, _splits(n)) <= alpha) & (a.mean(axis=1) > b.mean(axis=1))
    assert supported.mean() == pytest.approx(0.8, abs=0.03)
    # the module's own power there is its simulation's, 0.8 to within one of its 4000 interval ends
    assert exact_power.power(mde, std, n, n, HIGHER, alpha) == pytest.approx(0.8, abs=1 / 4000 + 1e-12)


def test_an_equivalence_claims_mde_is_the_margin_supported_at_no_difference_by_brute_force():
    n, std, alpha, draws = 5, 1.0, 0.05, 4000
    margin = exact_power.minimum_detectable_effect(std, n, n, (-1.0, 1.0), alpha)  # the region's width is ignored
    rng = np.random.default_rng(54321)
    a, b = rng.standard_normal((draws, n)), rng.standard_normal((draws, n))
    weights = _splits(n)
    inside = (_brute_force_p(a, b, -margin, weights) <= alpha) & (_brute_force_p(a, b, margin, weights) <= alpha)
    inside &= np.abs(a.mean(axis=1) - b.mean(axis=1)) < margin
    assert inside.mean() == pytest.approx(0.8, abs=0.04)
    assert margin > exact_power.minimum_detectable_effect(std, n, n, HIGHER, alpha)  # two ends to clear, not one


def test_five_a_side_at_a_holm_level_need_complete_separation_not_a_t_tests_effect():
    # DESIGN.md: at 5 v 5 and alpha <= 0.0125 the exact test decides only on complete separation,
    # about 3.1 standard deviations, where a two-sided t-test's 80% power needs about 2.6.
    mde = exact_power.minimum_detectable_effect(1.0, 5, 5, HIGHER, 0.0125)
    dof, critical = 8, stats.t.ppf(1 - 0.0125 / 2, 8)
    t_mde = next(d / 100 for d in range(100, 600) if stats.nct.sf(critical, dof, d / 100 / math.sqrt(0.4)) >= 0.8)
    assert mde == pytest.approx(3.10, abs=0.06) and t_mde == pytest.approx(2.64, abs=0.02)
    assert 1.12 <= mde / t_mde <= 1.2
    rng = np.random.default_rng(7)  # complete separation at that shift: P(min a > max b) = 0.8
    a, b = mde + rng.standard_normal((20000, 5)), rng.standard_normal((20000, 5))
    assert (a.min(axis=1) > b.max(axis=1)).mean() == pytest.approx(0.8, abs=0.02)
    assert exact_power.minimum_detectable_effect(1.0, 3, 3, HIGHER, 0.05) == math.inf  # 3 a side: p >= 0.1
    assert exact_power.minimum_detectable_effect(0.0, 5, 5, HIGHER, 0.05) == 0.0
    assert exact_power.minimum_detectable_effect(2.0, 5, 5, HIGHER, 0.05) == pytest.approx(2 * 2.067, abs=0.06)


def test_seeds_needed_is_the_least_run_count_with_eighty_percent_power():
    for delta, region in ((1.0, HIGHER), (0.3, (-1.0, 1.0)), (-0.8, (0.0, 0.0)), (-1.5, (-1.0, math.inf))):
        needed = exact_power.seeds_needed(delta, 1.0, region, 0.025)
        assert exact_power.power(delta, 1.0, needed, needed, region, 0.025) >= 0.8
        assert needed == 2 or exact_power.power(delta, 1.0, needed - 1, needed - 1, region, 0.025) < 0.8
    # Cohen 1988, Table 2.4.1 (two-sided t-test at 0.05, 80% power): d = 1.0 at 17 a side; the exact test agrees
    assert exact_power.seeds_needed(1.0, 1.0, HIGHER, 0.05) == 17
    assert exact_power.seeds_needed(0.5, 1.0, HIGHER, 0.05) in (63, 64, 65)  # d = 0.5: 64 (large-sample limit)
    assert exact_power.seeds_needed(0.0, 1.0, HIGHER, 0.05) is None  # on the boundary: never decided
    assert exact_power.seeds_needed(0.001, 1.0, HIGHER, 0.05) is None  # past MOST_SEEDS


def test_the_simulation_is_seeded():
    first = exact_power.minimum_detectable_effect(1.0, 6, 6, HIGHER, 0.05)
    exact_power.standard_intervals.cache_clear()
    assert exact_power.minimum_detectable_effect(1.0, 6, 6, HIGHER, 0.05) == first
