"""A chief killed while it starts a trial: the trial is run on resume, not counted and forgotten."""

import json
import shutil

import keras_tuner
import pytest

from convnas.search.tuners import oracles


def make_oracle(tmp_path, oracle_class, max_trials=4):
    hp = keras_tuner.HyperParameters()
    hp.Int("x", 0, 10**6)
    oracle = oracle_class(objective=keras_tuner.Objective("score", "max"), max_trials=max_trials, seed=3,
                          hyperparameters=hp)
    oracle._set_project_dir(str(tmp_path), "search")
    oracle.verbose = 0
    return oracle


def finish(oracle, trial, score=1.0):
    oracle.update_trial(trial.trial_id, {"score": score})
    trial.status = "COMPLETED"
    oracle.end_trial(trial)


@pytest.mark.parametrize("oracle_class", [oracles.RandomSearchOracle, oracles.EvolutionOracle])
def test_a_trial_started_but_not_in_the_oracle_file_is_run_again_on_resume(tmp_path, oracle_class):
    oracle = make_oracle(tmp_path, oracle_class)
    for _ in range(2):
        finish(oracle, oracle.create_trial("1"))
    state = tmp_path / "search" / "oracle.json"
    before = state.read_text()
    started = oracle.create_trial("1")  # keras-tuner writes its trial.json, then oracle.json:
    state.write_text(before)  # killed between the two, oracle.json never heard of it
    assert json.loads((tmp_path / "search" / f"trial_{started.trial_id}" / "trial.json").read_text())["status"] \
        == "RUNNING"

    resumed = make_oracle(tmp_path, oracle_class)
    resumed.reload()
    ran = []
    while (trial := resumed.create_trial("2")).status == "RUNNING":  # (keras-tuner also retries trial 1: its
        ran.append(trial.trial_id)                                  # oracle.json is saved before it ends a trial)
        finish(resumed, trial)
    assert started.trial_id in ran  # run after all, under its own values
    assert resumed.trials[started.trial_id].hyperparameters.values == started.hyperparameters.values
    assert len(resumed.trials) == 4 and {t.status for t in resumed.trials.values()} == {"COMPLETED"}


def test_a_reload_with_nothing_lost_changes_nothing(tmp_path):
    oracle = make_oracle(tmp_path, oracles.RandomSearchOracle)
    finish(oracle, oracle.create_trial("1"))
    running = oracle.create_trial("1")
    copy = tmp_path / "copy"
    shutil.copytree(tmp_path / "search", copy / "search")
    resumed = make_oracle(copy, oracles.RandomSearchOracle)
    resumed.reload()
    again = resumed.create_trial("1")  # keras-tuner's own retry of the trial that was in flight
    assert again.trial_id == running.trial_id
    assert resumed.create_trial("2").trial_id not in (running.trial_id, "0")
