"""Hypervolume of an accuracy/cost front against closed forms, and its reference point fixed in advance."""

import random

import pytest

from convnas.search.choices import PARETO_COSTS
from convnas.search.records.hypervolume import Reference, hypervolume, reference_for

REFERENCE = Reference(accuracy=0.1, cost="flops", ceiling=1e6)


def test_hypervolume_of_one_point_is_its_rectangle():
    assert hypervolume([(0.9, 1e3)], REFERENCE) == pytest.approx(0.8 * 3)  # 0.8 accuracy x 3 decades


def test_hypervolume_of_a_staircase_adds_the_steps():
    points = [(0.5, 1e2), (0.9, 1e4), (0.7, 1e3), (0.6, 1e5)]  # the last is dominated
    expected = 0.4 * 4 + 0.2 * 3 + 0.2 * 2
    assert hypervolume(points, REFERENCE) == pytest.approx(expected)
    assert hypervolume(points[:3], REFERENCE) == pytest.approx(expected)


def test_points_beyond_the_reference_add_nothing_and_adding_points_never_lowers_it():
    assert hypervolume([(0.05, 10), (0.9, 1e6), (0.9, 1e7)], REFERENCE) == 0
    rng = random.Random(0)
    points, last = [], 0.0
    for _ in range(50):
        points.append((rng.random(), 10 ** rng.uniform(1, 7)))
        value = hypervolume(points, REFERENCE)
        assert value >= last
        last = value


def test_reference_is_chance_and_the_budget_or_the_stated_ceiling():
    assert reference_for(10, "flops", 2e5) == Reference(0.1, "flops", 2e5)
    assert reference_for(None, "params", None) == Reference(0.0, "params", PARETO_COSTS.load("params"))
    with pytest.raises(ValueError, match=r"`cost` must be one of"):
        Reference(0.1, "latency", 1.0)
