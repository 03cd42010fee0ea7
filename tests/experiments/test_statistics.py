"""Table maths on hand-made numbers: summaries and intervals, the exact test and its interval, Welch, Holm."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from convnas.experiments.statistics import (
    exact_test,
    holm,
    holm_levels,
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


def _enumerated_p(a, b, shift=0.0):
    """Two-sided exact p of mean(a) - mean(b) = shift by brute force over every split of the pooled values."""
    a = [value - shift for value in a]
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
def test_the_exact_tests_p_value_is_the_exact_enumeration(a, b):
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


@pytest.mark.parametrize("seed", range(6))
def test_the_interval_is_the_set_of_shifts_the_exact_test_does_not_reject(seed):
    rng = np.random.default_rng(seed)
    n_a, n_b = (4, 5) if seed % 2 else (5, 5)
    a, b = list(rng.normal(0.5, 1.0, n_a)), list(rng.normal(0.0, 1.0, n_b))
    test = exact_test(a, b)
    assert test.delta == pytest.approx(np.mean(a) - np.mean(b))
    for shift in rng.normal(test.delta, 1.5, 4):
        assert test.p_value(shift) == pytest.approx(_enumerated_p(a, b, shift))
    for alpha in (0.02, 0.05, 0.2):
        low, high = test.interval(alpha)
        assert low <= test.delta <= high
        for end, outward in ((low, -1e-6), (high, 1e-6)):  # accepted just inside each end, rejected just outside
            assert _enumerated_p(a, b, end - outward) > alpha >= _enumerated_p(a, b, end + outward)
    assert test.interval(0.02)[0] <= test.interval(0.2)[0] and test.interval(0.2)[1] <= test.interval(0.02)[1]


def test_five_a_side_at_holms_levels_decide_only_on_complete_separation():
    # 5 v 5: the test rejects at alpha <= 0.0125 only when the shifted samples are completely separated,
    # so its interval there is [min(a) - max(b), max(a) - min(b)]; below its smallest p it is unbounded.
    a, b = [0.91, 0.93, 0.92, 0.95, 0.90], [0.88, 0.90, 0.89, 0.91, 0.86]
    for alpha in (0.0125, 0.05 / 6 + 1e-9):
        low, high = exact_test(a, b).interval(alpha)
        assert low == pytest.approx(min(a) - max(b), abs=1e-9) and high == pytest.approx(max(a) - min(b), abs=1e-9)
    assert exact_test(a, b).interval(0.005) == (-math.inf, math.inf)  # 2/252 > 0.005
    assert exact_test([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]).interval(0.05) == (-math.inf, math.inf)  # 3 a side: p >= 0.1
    assert exact_test([1.0], [2.0, 3.0]) is None


def test_holm_levels_step_down_and_stop_at_the_first_undecided():
    # sorted p: 0.01 at 0.05/3 (rejected), 0.03 at 0.05/2 (not: the step-down stops), 0.04 at that same 0.025
    p_values = [0.04, 0.01, None, 0.03]
    levels = holm_levels(p_values)
    assert levels[1] == pytest.approx(0.05 / 3) and levels[3] == pytest.approx(0.025)
    assert levels[0] == pytest.approx(0.025) and levels[2] is None
    assert holm_levels([0.01, 0.02, 0.04]) == [pytest.approx(0.05 / 3), pytest.approx(0.025), pytest.approx(0.05)]
    rng = np.random.default_rng(0)
    for _ in range(200):  # rejected at its level exactly when its Holm-adjusted p is at most 0.05
        p_values = list(rng.choice([0.004, 0.01, 0.0125, 0.02, 0.025, 0.04, 0.05, 0.2], size=rng.integers(1, 6)))
        for p, level, adjusted in zip(p_values, holm_levels(p_values), holm(p_values)):
            assert (p <= level) == (adjusted <= 0.05 + 1e-12)


def permutation_p_value(a, b):
    """The exact test's two-sided p of mean(a) - mean(b); None with fewer than two values on a side."""
    test = exact_test(a, b)
    return None if test is None else test.p_value()
