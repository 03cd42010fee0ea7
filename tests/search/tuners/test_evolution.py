"""NSGA-II ranks and crowding, regularized evolution's oracle, screened sampling."""

import math
import random

import keras_tuner
import pytest

from convnas.search.records import pareto
from convnas.search.tuners import oracles, sampler
from convnas.search.tuners.evolution import EvolutionOracle
from convnas.search.tuners.rejection import InvalidCandidate, OverBudget


def test_nondominated_ranks_and_crowding_distance():
    points = [(0.9, 10), (0.8, 5), (0.7, 20), (0.95, 100), (0.6, 30)]
    assert pareto.nondominated_ranks(points) == [0, 0, 1, 0, 2]
    front = [(0.8, 5), (0.9, 10), (0.95, 100)]
    distances = pareto.crowding_distances(front)
    assert distances[0] == math.inf and distances[2] == math.inf
    assert distances[1] == pytest.approx((0.95 - 0.8) / 0.15 + (100 - 5) / 95)


def space():
    hp = keras_tuner.HyperParameters()
    cell = hp.Choice("cell", ["plain", "residual"])
    with hp.conditional_scope("cell", ["plain"]):
        hp.Choice("block", ["conv", "dilated", "separable"])
    hp.Choice("filters", [16, 32, 64])
    hp.Int("blocks", 1, 3)
    hp.Fixed("head", "gap")
    del cell
    return hp


def evolution(tmp_path, **kwargs):
    oracle = EvolutionOracle(objective=keras_tuner.Objective("val_accuracy", "max"), max_trials=200, seed=3,
                             hyperparameters=space(), **kwargs)
    oracle._set_project_dir(str(tmp_path), "evolution")
    return oracle


def finish(oracle, trial, accuracy, flops):
    oracle.update_trial(trial.trial_id, {"val_accuracy": accuracy, "flops": flops})
    trial.status = "COMPLETED"
    oracle.end_trial(trial)


def test_mutation_changes_exactly_one_choice(tmp_path):
    oracle = evolution(tmp_path, population_size=4, sample_size=2)
    generator = random.Random(0)
    parent = {"cell": "plain", "block": "conv", "filters": 16, "blocks": 2, "head": "gap"}
    for _ in range(100):
        child = oracle.mutate(parent, generator)
        changed = {name for name in set(parent) | set(child) if parent.get(name) != child.get(name)}
        if "cell" in changed:  # a residual cell has no block: the block leaves with the change
            assert changed == {"cell", "block"} and child["cell"] == "residual" and "block" not in child
        else:
            assert len(changed) == 1 and "head" not in changed


def test_mutating_into_a_cell_draws_what_it_activates(tmp_path):
    oracle = evolution(tmp_path, population_size=4, sample_size=2)
    generator = random.Random(1)
    parent = {"cell": "residual", "filters": 16, "blocks": 2, "head": "gap"}
    children = [oracle.mutate(parent, generator) for _ in range(200)]
    plain = [child for child in children if child["cell"] == "plain"]
    assert plain and {child["block"] for child in plain} == {"conv", "dilated", "separable"}
    assert all(child["filters"] == 16 and child["blocks"] == 2 for child in plain)


def test_evolution_samples_at_random_then_mutates_the_tournament_winner(tmp_path):
    oracle = evolution(tmp_path, population_size=4, sample_size=4)  # the tournament is the whole population
    score = {16: 0.5, 32: 0.7, 64: 0.9}
    tried = []
    for _ in range(30):
        trial = oracle.create_trial("tuner0")
        values = trial.hyperparameters.values
        tried.append(dict(values))
        finish(oracle, trial, score[values["filters"]] + 0.01 * values["blocks"], 1000)
    def fitness(values):
        return score[values["filters"]] + 0.01 * values["blocks"]

    for index in range(4, 10):  # (later, the best's neighbours are all tried and a child may be a fresh draw)
        population = tried[index - 4:index]  # aging: the last 4 finished
        best = max(fitness(v) for v in population)
        parents = [v for v in population if fitness(v) == best]  # ties: any of them may win

        def changes(parent):
            return {name for name in set(parent) | set(tried[index]) if parent.get(name) != tried[index].get(name)}

        # a cell brings its block
        assert any(1 <= len(changes(parent)) <= 2 for parent in parents), (parents, tried[index])
    assert len(oracle.population()) == 4
    assert [t.trial_id for t in oracle.population()] == [f"{i:03d}" for i in range(26, 30)]


def test_pareto_tournament_prefers_the_front_then_the_sparse_region(tmp_path):
    oracle = evolution(tmp_path, population_size=4, sample_size=4, selection_cost="flops")
    for accuracy, flops in ((0.9, 1e6), (0.5, 1e3), (0.8, 1e6), (0.7, 1e5)):
        finish(oracle, oracle.create_trial("tuner0"), accuracy, flops)
    members = oracle.population()
    points = [(m.metrics.get_last_value("val_accuracy"), m.metrics.get_last_value("flops")) for m in members]
    assert pareto.nondominated_ranks(points) == [0, 0, 1, 0]
    winner = oracle.parent(members, random.Random(0))
    assert winner.metrics.get_last_value("val_accuracy") in (0.9, 0.5)  # an end of the front: infinite crowding
    single = evolution(tmp_path / "single", population_size=4, sample_size=4)
    for accuracy, flops in ((0.9, 1e6), (0.5, 1e3), (0.8, 1e6), (0.7, 1e5)):
        finish(single, single.create_trial("tuner0"), accuracy, flops)
    assert single.parent(single.population(), random.Random(0)).metrics.get_last_value("val_accuracy") == 0.9


def test_evolution_arguments_are_checked():
    refused = r"`sample_size` must be an integer from 1 to population_size \(4\). Received: sample_size=5"
    with pytest.raises(ValueError, match=refused):
        EvolutionOracle(objective="val_accuracy", population_size=4, sample_size=5)
    refused = r"`selection_cost` must be None, 'flops' or 'params'. Received: selection_cost='latency'"
    with pytest.raises(ValueError, match=refused):
        EvolutionOracle(objective="val_accuracy", selection_cost="latency")


def screened_random(tmp_path, check, **screen):
    oracle = oracles.RandomSearchOracle(objective="val_accuracy", max_trials=50, seed=1, hyperparameters=space())
    oracle._set_project_dir(str(tmp_path), "random")
    oracle.screen = sampler.Screen(check, **screen)
    return oracle


def test_rejected_draws_are_redrawn_and_counted_never_trials(tmp_path):
    def check(values):
        if values["filters"] == 64:
            raise OverBudget("over budget", {"flops": 6400})
        if values["cell"] == "residual" and values["blocks"] >= 2:
            raise InvalidCandidate("too deep")
        return {"flops": values["filters"] * 100}

    oracle = screened_random(tmp_path, check)
    for _ in range(10):
        trial = oracle.create_trial("tuner0")
        assert trial.hyperparameters.values["filters"] != 64
        assert not (trial.hyperparameters.values["cell"] == "residual" and trial.hyperparameters.values["blocks"] >= 2)
        finish(oracle, trial, 0.5, 100)
    assert len(oracle.trials) == 10 and oracle.rejections.total > 0
    assert oracle.rejections.cheapest == {"flops": 6400} and oracle.rejections.examples["invalid"] == "too deep"
    assert oracle.get_state()["rejected_draws"]["counts"] == oracle.rejections.counts


def test_the_sampler_gives_up_after_its_redraws_and_says_why(tmp_path):
    def check(values):
        raise OverBudget("over budget", {"flops": 1000 + values["filters"]})

    oracle = screened_random(tmp_path, check, budget="max_flops 10", redraws=7)
    trial = oracle.create_trial("tuner0")
    assert trial.status == "STOPPED" and not oracle.trials
    assert oracle.rejections.exhausted.startswith("no candidate within max_flops 10 in 7 draws (")
    assert oracle.rejections.exhausted.endswith("the cheapest drawn had 1,016 FLOPs")


def test_prescreening_trains_the_best_scoring_of_k_feasible_candidates(tmp_path):
    drawn = []

    def check(values):
        drawn.append(dict(values))
        return {}

    def score(values):
        return values["filters"] + values["blocks"] / 10

    oracle = screened_random(tmp_path, check, prescreen=5, proxy="synflow", score=score)
    for _ in range(5):
        drawn.clear()
        trial = oracle.create_trial("tuner0")
        values = trial.hyperparameters.values
        assert len(drawn) == 5 and values["prescreen/synflow"] == max(score(v) for v in drawn)
        assert score(values) == values["prescreen/synflow"]
        finish(oracle, trial, 0.5, 100)
