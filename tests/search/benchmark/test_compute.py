"""Tuners judged by compute (search.benchmark.compute): budgets, the optimum, regret, and replays at equal epochs."""

import pytest
from synthetic_table import write_table

from convnas.search.benchmark import compute, replay, tabular
from convnas.search.records.hypervolume import hypervolume


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    return write_table(tmp_path_factory.mktemp("compute") / "table.csv")


def test_the_hypervolume_at_a_budget_is_the_step_function_of_cumulative_cost():
    curve, costs = [1.0, 2.0, 2.5, 3.0], [8, 3, 3, 8]  # cumulative 8, 11, 14, 22
    assert [compute.at_budget(curve, costs, b) for b in (7, 8, 10, 14, 21, 22, 100)] == [0, 1, 1, 2.5, 2.5, 3, 3]
    assert [compute.first_reaching(curve, costs, t) for t in (0.5, 2.0, 2.6, 3.1)] == [8, 11, 22, None]


def test_the_optimum_is_the_front_of_every_architecture_as_that_repetition_reads_it(table):
    for repetition in (0, 3):
        seen = []
        curve = replay.replay("evolution", table, 60, repetition=repetition, on_trial=seen.append)
        points = compute.final_points(table, repetition)
        assert len(points) == len(table) == 342
        for trial in seen:  # what each trial reported is that architecture's point
            assert points[trial["key"]] == (trial["val_accuracy"], trial["flops"])
        best = compute.optimum(table, repetition)
        assert curve[-1] <= best
        assert best == pytest.approx(hypervolume(list(points.values()), replay.REFERENCE))
        worst = min(points, key=lambda key: points[key][0])  # off the front: leaving it out changes nothing
        assert best == pytest.approx(hypervolume([p for k, p in points.items() if k != worst], replay.REFERENCE))
    assert compute.optimum(table, 0) != compute.optimum(table, 3)  # each repetition draws its own seeds


def test_an_epochs_budget_ends_the_replay_once_spent_and_promotions_cost_only_their_new_epochs(table):
    seen = []
    replay.replay("asha", table, on_trial=seen.append, epochs_budget=100)
    spent = sum(trial["trained_epochs"] for trial in seen)
    assert 100 <= spent < 100 + tabular.EPOCHS and sum(t["trained_epochs"] for t in seen[:-1]) < 100
    promoted = [trial for trial in seen if trial["initial_epoch"]]
    assert promoted and all(t["trained_epochs"] == t["epochs"] - t["initial_epoch"] for t in seen)
    for trial in seen:  # the table's seconds for the epochs trained (one epoch of this table: FLOPs / 1e6 + seed)
        per_epoch = trial["flops"] / 1e6 + trial["seed"]
        assert trial["train_seconds"] == pytest.approx(per_epoch * trial["trained_epochs"])


def test_summaries_give_hypervolume_regret_and_cost_to_reach_the_optimum():
    runs = {("random", 1): [compute.Run([1.0, 2.0], [8, 8], [1.0, 1.0], optimum=2.0),
                            compute.Run([1.5, 1.9], [8, 8], [2.0, 2.0], optimum=2.0),
                            compute.Run([0.5, 1.0], [8, 8], [1.0, 1.0], optimum=4.0)]}
    row, = compute.summarize(runs, budgets=(8, 16), axis="epochs")
    assert (row["median_8"], row["median_16"]) == (1.0, 1.9)
    assert row["regret_16"] == pytest.approx(0.05)  # regrets 0, 0.05, 0.75
    assert row["reach_0.95"] == 16  # 16, 16, never: the median of three
    assert row["reach_0.99"] is None  # 16, never, never
    seconds, = compute.summarize(runs, budgets=(2,), axis="seconds")
    assert seconds["median_2"] == 1.5  # 2.0 (after 2 s), 1.5 (its first trial took 2 s), 1.0
    with pytest.raises(ValueError, match=r"`axis` must be one of epochs, seconds. Received: axis='trials'"):
        compute.summarize(runs, budgets=(8,), axis="trials")


def test_pairs_at_equal_compute_compare_what_each_had_at_that_budget():
    runs = {("random", 1): {r: compute.Run([1.0, 3.0], [8, 8], [1, 1], 3.0) for r in range(8)},
            ("asha", 1): {r: compute.Run([1.5, 1.6, 1.7, 2.5], [3, 3, 5, 5], [1, 1, 1, 1], 3.0) for r in range(8)}}
    row, = compute.paired(runs, budget=16, axis="epochs")
    assert (row["tuner"], row["wins"], row["losses"]) == ("asha", 0, 8)  # random 3.0, asha 2.5 after 16 epochs
    assert row["median_difference"] == pytest.approx(-0.5) and row["p"] < 0.01
    row, = compute.paired(runs, budget=11, axis="epochs")  # random 1.0 after 8 epochs, asha 1.7 after 11
    assert (row["wins"], row["median_difference"]) == (8, pytest.approx(0.7))
