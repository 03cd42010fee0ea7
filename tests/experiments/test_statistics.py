"""Table maths on hand-made numbers: summaries and intervals, the exact test, Welch, Holm, power and MDE."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from convnas.experiments.statistics import (
    holm,
    minimum_detectable_effect,
    permutation_p_value,
    power,
    seeds_needed,
    smallest_p_value,
    summarize,
    welch_t_test,
)


def test_summary_of_one_to_five():
    summary = summarize([1.0, 2.0, 3.0, 4.0, 5.0])
    assert summary.n == 5 and summary.mean == 3.0
    assert summary.std == pytest.approx(math.sqrt(2.5))  # sum of squares 10, over n-1 = 4
    half_width = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)  # t(0.975, 4) from the t table
    assert summary.ci_low == pytest.approx(3 - half_width) and summary.ci_high == pytest.approx(3 + half_width)


def test_one_value_has_no_spread():
    summary = summarize([0.5])
    assert (summary.mean, summary.std, summary.ci_low, summary.ci_high) == (0.5, None, None, None)
    with pytest.raises(ValueError, match=r"at least one number"):
        summarize([])


def test_welch_matches_the_published_example():
    # Welch's t-test, Wikipedia's worked example 1 (t = -2.46, p = 0.021); its degrees of
    # freedom against SciPy's independent implementation (stats.ttest_ind, equal_var=False).
    a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
    b = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
    test = welch_t_test(a, b)
    assert test.t == pytest.approx(-2.46, abs=0.005)
    assert test.degrees_of_freedom == pytest.approx(stats.ttest_ind(a, b, equal_var=False).df)
    assert test.p_value == pytest.approx(0.021, abs=0.0005)


def test_welch_closed_form_on_small_samples():
    a, b = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0, 8.0]
    va, vb = 1.0 / 3, (20.0 / 3) / 4  # sample variances over n
    test = welch_t_test(a, b)
    assert test.t == pytest.approx((2 - 5) / math.sqrt(va + vb))
    assert test.degrees_of_freedom == pytest.approx((va + vb) ** 2 / (va**2 / 2 + vb**2 / 3))
    assert 0 < test.p_value < 1
    assert welch_t_test(a, a).p_value == pytest.approx(1.0)


def test_welch_edge_cases():
    assert welch_t_test([1.0], [1.0, 2.0]) is None  # a single seed has no spread to test
    assert welch_t_test([1.0, 1.0], [1.0, 1.0]).p_value == 1.0
    assert welch_t_test([1.0, 1.0], [2.0, 2.0]).p_value == 0.0


def test_welch_ignores_float_rounding_as_spread():
    # (353, 353, 353)/359 against (355, 355, 355)/359: float rounding leaves a std of ~1e-16
    a, b = [353 / 359] * 3, [355 / 359] * 3
    assert welch_t_test(a, b).p_value == 0.0  # no spread: Welch has no t (secondary column)
    assert permutation_p_value(a, b) == pytest.approx(0.1)  # the exact test: its smallest value, never 1e-55


def _enumerated_p(a, b):
    """Two-sided exact p by brute force over every split of the pooled values."""
    pooled, n = a + b, len(a)
    observed = abs(np.mean(a) - np.mean(b))
    splits = list(itertools.combinations(range(len(pooled)), n))
    hits = 0
    for chosen in splits:
        first = [pooled[i] for i in chosen]
        second = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        hits += abs(np.mean(first) - np.mean(second)) >= observed - 1e-12
    return hits / len(splits)


@pytest.mark.parametrize("a, b", [([0.91, 0.93, 0.92, 0.95], [0.88, 0.90, 0.89, 0.91]),
                                  ([1.0, 2.0, 3.0], [2.0, 4.0, 6.0, 8.0]),
                                  ([0.5, 0.6, 0.55, 0.52, 0.58], [0.5, 0.61, 0.54, 0.53, 0.57])])
def test_permutation_p_value_is_the_exact_enumeration(a, b):
    assert permutation_p_value(a, b) == pytest.approx(_enumerated_p(a, b))


@pytest.mark.parametrize("n, smallest", [(3, 0.1), (4, 2 / 70), (5, 2 / 252)])
def test_exact_test_never_goes_below_its_smallest_value(n, smallest):
    assert smallest_p_value(n, n) == pytest.approx(smallest)
    separated = permutation_p_value([1.0 + i for i in range(n)], [100.0 + i for i in range(n)])
    assert separated == pytest.approx(smallest)
    assert permutation_p_value([0.98] * n, [0.99] * n) == pytest.approx(smallest)  # no spread: no tiny p
    assert permutation_p_value([0.5] * 1, [0.5, 0.6]) is None


def test_holm_closed_form():
    # Holm 1979: sorted p (0.01, 0.02, 0.04) -> (3*0.01, max(0.03, 2*0.02), max(0.04, 1*0.04))
    adjusted = holm([0.04, 0.01, None, 0.02])
    assert adjusted[2] is None and adjusted[1] == pytest.approx(0.03) and adjusted[3] == pytest.approx(0.04)
    assert adjusted[0] == pytest.approx(0.04)
    assert holm([0.5, 0.6]) == [pytest.approx(1.0), pytest.approx(1.0)]  # capped at 1, monotone


def test_bounded_interval_stays_within_zero_and_one():
    high = summarize([0.998, 1.0, 0.999], bounded=True)
    assert 0 <= high.ci_low <= high.mean <= high.ci_high <= 1
    assert summarize([0.998, 1.0, 0.999]).ci_high > 1  # Student's interval on the raw values would leave [0, 1]
    low = summarize([0.0, 0.01, 0.002], bounded=True)
    assert 0 <= low.ci_low <= low.ci_high <= 1
    middle = summarize([0.60, 0.62, 0.61, 0.59], bounded=True)  # away from the bounds: close to Student's
    plain = summarize([0.60, 0.62, 0.61, 0.59])
    assert middle.ci_low == pytest.approx(plain.ci_low, abs=5e-4)
    assert middle.ci_high == pytest.approx(plain.ci_high, abs=5e-4)
    with pytest.raises(ValueError, match=r"bounded `values` must lie in \[0, 1\]"):
        summarize([0.5, 1.5], bounded=True)


def test_power_and_seeds_needed_match_cohens_tables():
    # Cohen 1988, Table 2.4.1: a two-sided test at 0.05 detects d = 0.5 with 80% power at n = 64 a side,
    # d = 0.8 at n = 26, d = 1.0 at n = 17.
    assert seeds_needed(0.5, 1.0) == 64
    assert seeds_needed(0.8, 1.0) == 26
    assert seeds_needed(1.0, 1.0) == 17
    assert power(1.0, 1.0, 17, 17) == pytest.approx(0.807, abs=0.002)
    assert seeds_needed(0.0, 1.0) is None


def test_minimum_detectable_effect():
    mde = minimum_detectable_effect(0.01, 5, 5)
    assert power(mde, 0.01, 5, 5) == pytest.approx(0.8, abs=1e-6)
    assert minimum_detectable_effect(0.01, 3, 3) == math.inf  # the exact test cannot reach 0.05 with 3 a side
    assert minimum_detectable_effect(0.01, 5, 5, alpha=0.005) == math.inf  # 2/252 > 0.005
    assert minimum_detectable_effect(0.01, 5, 5, alpha=0.01) > mde  # a stricter level needs a larger effect
    assert minimum_detectable_effect(0.0, 5, 5) == 0.0
