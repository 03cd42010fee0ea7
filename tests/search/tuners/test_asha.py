"""Asynchronous successive halving: rungs, promotions against an independent simulation, MO-ASHA, resuming."""

import random

import keras_tuner
import pytest

from convnas.search.records import pareto
from convnas.search.tuners import asha, oracles


@pytest.mark.parametrize("max_epochs, factor, expected", [
    (8, 3, [3, 8]),  # 8 / 9 is under an epoch
    (27, 3, [1, 3, 9, 27]),
    (100, 3, [2, 4, 12, 34, 100]),
    (9, 2, [2, 3, 5, 9]),
    (2, 3, [2]),
    (1, 2, [1]),
])
def test_rungs_are_the_epochs_over_powers_of_the_factor_rounded_up(max_epochs, factor, expected):
    assert asha.rungs(max_epochs, factor) == expected


def test_bad_rung_settings_are_one_line_errors():
    with pytest.raises(ValueError, match=r"`factor` must be an integer of at least 2. Received: factor=1"):
        asha.rungs(8, 1)
    with pytest.raises(ValueError, match=r"`max_epochs` must be a positive integer. Received: max_epochs=0"):
        asha.rungs(0, 3)


def make_oracle(tmp_path, name="asha", max_trials=60, selection_cost=None, max_epochs=9, factor=3):
    hp = keras_tuner.HyperParameters()
    hp.Int("x", 0, 10**6)
    oracle = oracles.AshaOracle(objective=keras_tuner.Objective("score", "max"), max_trials=max_trials,
                                max_epochs=max_epochs, factor=factor, selection_cost=selection_cost, seed=5,
                                hyperparameters=hp)
    oracle._set_project_dir(str(tmp_path), name)
    oracle.verbose = 0
    return oracle


def score(x: int, epochs: int) -> float:
    """A made-up learning curve: each candidate's own, rising with epochs, rankings changing between rungs."""
    return random.Random(f"{x}:{epochs}").random() + epochs


def run(oracle, trials: int, metrics=lambda x, epochs: {"score": score(x, epochs)}) -> list[tuple[int, int, str]]:
    """Runs `trials` trials one after another: (x, rung, continued trial or "") of each."""
    jobs = []
    for _ in range(trials):
        trial = oracle.create_trial("tuner0")
        if trial.status != "RUNNING":
            break
        values = trial.hyperparameters.values
        oracle.update_trial(trial.trial_id, metrics(values["x"], values[asha.EPOCHS]))
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
        jobs.append((values["x"], values[asha.RUNG], values.get(asha.CONTINUES, "")))
    return jobs


def simulate(draws: list[int], rung_epochs: list[int], factor: int, trials: int) -> list[tuple[int, int]]:
    """Li et al.'s Algorithm 2, one worker, written afresh: (candidate, rung) of each job, drawing from `draws`."""
    finished = [[] for _ in rung_epochs]  # per rung: candidates in the order they finished there
    promoted = [set() for _ in rung_epochs]
    draws, jobs = iter(draws), []
    for _ in range(trials):
        for rung in range(len(rung_epochs) - 2, -1, -1):
            ranked = sorted(finished[rung], key=lambda x: -score(x, rung_epochs[rung]))
            waiting = [x for x in ranked[:len(ranked) // factor] if x not in promoted[rung]]
            if waiting:
                promoted[rung].add(waiting[0])
                job = (waiting[0], rung + 1)
                break
        else:
            job = (next(draws), 0)
        finished[job[1]].append(job[0])
        jobs.append(job)
    return jobs


def test_promotions_follow_the_algorithm_and_continue_the_trial_of_the_rung_below(tmp_path):
    oracle = make_oracle(tmp_path)
    jobs = run(oracle, 60)
    drawn = [x for x, rung, _ in jobs if rung == 0]
    assert [(x, rung) for x, rung, _ in jobs] == simulate(drawn, [1, 3, 9], 3, 60)
    assert {rung for _, rung, _ in jobs} == {0, 1, 2}  # candidates reached the top rung
    trials = {trial.trial_id: trial.hyperparameters.values for trial in oracle.trials.values()}
    for values in trials.values():
        rung = values[asha.RUNG]
        assert values[asha.EPOCHS] == [1, 3, 9][rung]
        if rung:  # trained on from its own trial one rung below
            parent = trials[values[asha.CONTINUES]]
            assert (parent["x"], parent[asha.RUNG]) == (values["x"], rung - 1)
            assert values[asha.INITIAL_EPOCH] == parent[asha.EPOCHS]
        else:
            assert values[asha.INITIAL_EPOCH] == 0 and asha.CONTINUES not in values


def test_multi_objective_promotion_takes_the_rung_s_front_first(tmp_path):
    oracle = make_oracle(tmp_path, selection_cost="flops", max_epochs=3)

    def metrics(x, epochs):
        accuracy = random.Random(x).random()
        return {"score": accuracy, "val_accuracy": accuracy, "flops": random.Random(-x).random() * 1e6}

    jobs = run(oracle, 30, metrics)
    first = next(index for index, (_, rung, _) in enumerate(jobs) if rung == 1)
    assert first == 3  # once three finished at rung 0, the top third (one) goes on
    finished = [x for x, rung, _ in jobs[:first] if rung == 0]
    points = [(metrics(x, 1)["val_accuracy"], metrics(x, 1)["flops"]) for x in finished]
    keys = pareto.selection_keys(points)
    assert jobs[first][0] == finished[min(range(len(finished)), key=lambda i: keys[i])]
    assert pareto.nondominated_ranks(points)[finished.index(jobs[first][0])] == 0


def test_a_reloaded_oracle_goes_on_as_if_never_stopped(tmp_path):
    whole = run(make_oracle(tmp_path / "whole"), 40)
    before = run(make_oracle(tmp_path / "resumed"), 17)
    resumed = make_oracle(tmp_path / "resumed")
    resumed.reload()  # the oracle and trial files, as a killed search left them
    # keras-tuner saves the oracle before it lets go of an ending trial: a reloaded oracle runs that trial again
    # (its retry queue), then the rungs read back from the trials decide as the uninterrupted search did.
    assert before + run(resumed, 24) == whole[:17] + [whole[16]] + whole[17:40]


def test_the_oracle_stops_at_max_trials_promotions_included(tmp_path):
    oracle = make_oracle(tmp_path, max_trials=7)
    assert len(run(oracle, 20)) == 7
