"""Table maths on hand-made numbers: mean, sample std, Student's 95% interval, Welch's t-test."""

import math

import pytest
from scipy import stats

from convnas.experiments.statistics import summarize, welch_t_test


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
