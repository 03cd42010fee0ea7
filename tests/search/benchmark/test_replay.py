"""Replays of the real oracles on a synthetic tabular benchmark (search.benchmark.replay): trials, fronts,
prescreening, summaries, and the oracles themselves: those a search runs."""

import math

import numpy as np
import pytest
from synthetic_table import write_table

from convnas.search import choices, runner
from convnas.search.benchmark import replay, tabular
from convnas.search.data import datasets
from convnas.search.records.hypervolume import hypervolume
from convnas.search.space.spec import build_spec

TRIALS = 30  # past evolution's population (7 at 30 trials, as a search sets it): its mutants are replayed too


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    return write_table(tmp_path_factory.mktemp("tabular") / "table.csv")


@pytest.fixture(scope="module")
def proxy_table(tmp_path_factory):
    return write_table(tmp_path_factory.mktemp("tabular") / "proxy_is_accuracy.csv", proxy_is_accuracy=True)


def replay_with_trials(name, table, trials=TRIALS, **kwargs):
    seen = []
    curve = replay.replay(name, table, trials, on_trial=seen.append, **kwargs)
    return curve, seen


@pytest.mark.parametrize("name", [n for n in replay.TUNERS if n != "bayesian"])
@pytest.mark.parametrize("prescreen", [1, 5])
def test_each_tuner_replays_its_trials_inside_the_subspace_with_a_rising_hypervolume(table, name, prescreen):
    curve, seen = replay_with_trials(name, table, prescreen=prescreen)
    assert len(curve) == len(seen) == TRIALS
    assert all(later >= earlier for earlier, later in zip(curve, curve[1:]))
    assert curve[-1] > 0
    assert len({trial["trial_id"] for trial in seen}) == TRIALS
    for trial in seen:
        assert trial["key"] in table.rows and table.row(trial["values"])["key"] == trial["key"]
        assert trial["values"]["stage1_filters"] in tabular.DIGITS.filters
        assert trial["values"]["stages"] in tabular.STAGES
    counted = [(trial["val_accuracy"], trial["flops"]) for trial in seen if trial["counted"]]
    assert curve[-1] == pytest.approx(hypervolume(counted, replay.REFERENCE))


def test_bayesian_replays_its_random_start_and_its_model_chosen_proposal_inside_the_subspace(table):
    # Driven by hand to reach the Gaussian process in 5 trials (by default it waits 3 x 27 hyperparameters = 81).
    oracle = replay.make_oracle("bayesian", 5, seed=0, benchmark=tabular.DIGITS)
    oracle.screen = replay.screen_for(table)
    oracle.num_initial_points = 4
    for _ in range(5):
        trial = oracle.create_trial(replay.TUNER_ID)
        assert trial.status == "RUNNING"
        flops = table.row(trial.hyperparameters.values)["flops"]  # KeyError outside the sub-space
        oracle.update_trial(trial.trial_id, {replay.TRADEOFF: 0.5 - 0.05 * math.log10(flops)})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    assert oracle.create_trial(replay.TUNER_ID).status == "STOPPED"


def test_bayesian_replay_runs_its_trials(table):
    curve, seen = replay_with_trials("bayesian", table, trials=12)
    assert len(curve) == 12 and curve[-1] > 0 and all(b >= a for a, b in zip(curve, curve[1:]))
    assert all(trial["key"] in table.rows for trial in seen)


def test_bayesian_start_is_random_searchs_own_draws(table):
    # Same seed, same keras-tuner draws: what the replay tables must report about Bayesian optimization's start.
    assert replay.replay("bayesian", table, 12, repetition=3) == replay.replay("random", table, 12, repetition=3)


def test_hyperbands_shorter_trials_stay_off_the_front(table):
    curve, seen = replay_with_trials("hyperband", table)
    # keras-tuner's first bracket (max_epochs 8, factor 3): 5 candidates for 3 epochs, then the best 2 on to 8.
    assert [trial["epochs"] for trial in seen[:7]] == [3, 3, 3, 3, 3, 8, 8]
    assert all(trial["val_accuracy"] > replay.REFERENCE.accuracy for trial in seen[:5])  # they would add area
    assert curve[:5] == [0.0] * 5
    assert not any(trial["counted"] for trial in seen[:5])
    assert curve[5] == pytest.approx(hypervolume([(seen[5]["val_accuracy"], seen[5]["flops"])], replay.REFERENCE))
    assert curve[5] > 0
    for index, trial in enumerate(seen):
        counted = [(t["val_accuracy"], t["flops"]) for t in seen[: index + 1] if t["epochs"] == tabular.EPOCHS]
        assert curve[index] == pytest.approx(hypervolume(counted, replay.REFERENCE))


def test_hyperband_continues_a_candidate_on_the_same_seeds_curve(table):
    _, seen = replay_with_trials("hyperband", table)
    by_id = {trial["trial_id"]: trial for trial in seen}
    continued = [trial for trial in seen if "tuner/trial_id" in trial["values"]]
    assert continued
    for trial in continued:
        earlier = by_id[trial["values"]["tuner/trial_id"]]
        assert (trial["key"], trial["seed"]) == (earlier["key"], earlier["seed"])
        assert trial["epochs"] > earlier["epochs"] and trial["val_accuracy"] > earlier["val_accuracy"]


def test_the_screen_trains_the_best_proxy_score_of_the_candidates_drawn(table):
    oracle = replay.make_oracle("random", 3, seed=0, benchmark=tabular.DIGITS)
    screen = replay.screen_for(table, prescreen=6, proxy="naswot")
    scored = []

    def score(values):
        scored.append(screen_score(values))
        return scored[-1]

    screen_score, screen.score = screen.score, score
    oracle.screen = screen
    for _ in range(3):
        scored.clear()
        trial = oracle.create_trial(replay.TUNER_ID)
        values = trial.hyperparameters.values
        assert len(scored) == 6
        assert table.row(values)["naswot"] == values["prescreen/naswot"] == max(scored)
        oracle.update_trial(trial.trial_id, {replay.TRADEOFF: 0.5})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)


@pytest.mark.parametrize("name", ["random", "evolution"])
def test_prescreening_by_a_proxy_that_is_the_accuracy_trains_more_accurate_candidates(proxy_table, name):
    def mean_accuracy(prescreen):
        found = []
        for repetition in range(3):
            replay.replay(name, proxy_table, 25, prescreen=prescreen, repetition=repetition,
                          on_trial=lambda trial: found.append(trial["val_accuracy"]))
        return np.mean(found)

    assert mean_accuracy(10) > mean_accuracy(1) + 0.02


@pytest.mark.parametrize("name", [n for n in replay.TUNERS if n != "bayesian"])
def test_a_repetition_replays_the_same_search(table, name):
    first = replay_with_trials(name, table, repetition=4, prescreen=3)
    assert replay_with_trials(name, table, repetition=4, prescreen=3) == first
    assert replay_with_trials(name, table, repetition=5, prescreen=3)[1] != first[1]


def test_training_seed_is_fixed_per_repetition_and_architecture_and_uses_both_seeds():
    seeds = [replay.training_seed(repetition, "conv16x1") for repetition in range(40)]
    assert seeds == [replay.training_seed(repetition, "conv16x1") for repetition in range(40)]
    assert set(seeds) == set(tabular.SEEDS)


def test_a_search_that_runs_out_of_candidates_stops_early(table):
    curve = replay.replay("random", table, 400)
    assert len(table) < 400 and len(curve) <= len(table)
    assert curve[-1] == max(curve)


def test_trials_to_target_on_a_hand_made_curve():
    curve = [0.0, 0.5, 0.5, 1.0, 1.2]
    assert replay.trials_to_target(curve, 1.0) == 4
    assert replay.trials_to_target(curve, 0.5) == 2
    assert replay.trials_to_target(curve, 0.0) == 1
    assert replay.trials_to_target(curve, 1.21) is None


def test_summary_medians_quartiles_and_trials_to_randoms_median():
    curves = {
        ("random", 1): [[1, 2, 3], [1, 2, 5], [2, 3, 4]],
        ("evolution", 10): [[3, 4, 4], [2, 5, 5], [4, 4]],  # the last stopped after 2 trials: it keeps 4
    }
    rows = replay.summarize(curves, trials=3, checkpoints=(1, 3))
    random_row, evolution_row = rows
    assert random_row["target"] == evolution_row["target"] == 4  # random's median after 3 trials
    assert (random_row["median_1"], random_row["q25_1"], random_row["q75_1"]) == (1, 1, 1.5)
    assert (random_row["median_3"], random_row["q25_3"], random_row["q75_3"]) == (4, 3.5, 4.5)
    assert random_row["trials_to_target"] == 3  # median curve 1, 2, 4
    assert evolution_row["trials_to_target"] == 2  # median curve 3, 4, 4
    assert evolution_row["median_3"] == 4 and evolution_row["repetitions"] == 3
    assert replay.median_curve(curves[("evolution", 10)], 3) == [3, 4, 4]
    assert replay.summarize(curves, 3, (3,), target=10)[0]["trials_to_target"] is None
    assert replay.summarize({("evolution", 1): [[1.0]]}, 1, (1,))[0]["trials_to_target"] is None  # no random: no target


def test_paired_differences_against_random_search_repetition_by_repetition():
    import itertools

    random_search = {repetition: [1.0, 2.0 + repetition] for repetition in range(7)}
    differences = [0.5, 0.125, 0.25, 1e-15, 0.375, -0.1875, 0.4375]  # a tie (float rounding), five wins, a loss
    better = {repetition: [1.0, 2.0 + repetition + d] for repetition, d in enumerate(differences)}
    # Bayesian holds repetitions 5, 6 and 9 only: paired on 5 and 6, whatever the order its curves came in.
    bayesian = {9: [1.0, 0.0], 6: [1.0, 8.5], 5: [1.0, 7.5]}
    rows = replay.paired({("random", 1): random_search, ("evolution", 1): better, ("hyperband", 1): random_search,
                          ("bayesian", 1): bayesian}, trials=2)
    evolution, hyperband, partial = rows
    assert (partial["pairs"], partial["wins"], partial["median_difference"]) == (2, 2, 0.5)
    assert (evolution["pairs"], evolution["wins"], evolution["ties"], evolution["losses"]) == (7, 5, 1, 1)
    assert evolution["median_difference"] == pytest.approx(0.25)
    # The exact two-sided signed-rank p by enumerating the 2^6 sign patterns of the untied ranks 1..6.
    untied = [d for d in differences if abs(d) > 1e-12]
    ranks = {d: rank for rank, d in enumerate(sorted(untied, key=abs), start=1)}
    observed = sum(ranks[d] for d in untied if d > 0)
    sums = [sum(r for r, sign in zip(range(1, 7), signs) if sign) for signs in itertools.product((0, 1), repeat=6)]
    exact = np.mean([abs(total - 10.5) >= abs(observed - 10.5) for total in sums])
    assert observed == 19 and evolution["p"] == pytest.approx(exact)
    assert (hyperband["ties"], hyperband["p"], hyperband["median_difference"]) == (7, None, 0)
    with pytest.raises(ValueError, match="baseline"):
        replay.paired({("evolution", 1): better}, trials=2)


def test_run_replays_each_configuration_and_random_reaches_its_own_median(table):
    rows = replay.run([("random", 1), ("evolution", 3)], table, repetitions=2, trials=25, checkpoints=(10, 25))
    configs = [(row["tuner"], row["prescreen"], row["repetitions"]) for row in rows]
    assert configs == [("random", 1, 2), ("evolution", 3, 2)]
    assert rows[0]["trials_to_target"] is not None and rows[0]["trials_to_target"] <= 25
    assert rows[0]["q25_25"] <= rows[0]["median_25"] <= rows[0]["q75_25"]
    assert rows[0]["target"] == rows[0]["median_25"] > 0


def test_bad_arguments_name_the_argument_and_the_value(table):
    with pytest.raises(ValueError, match=r"`name` must be one of .*Received: name='grid'"):
        replay.make_oracle("grid", 10, 0, tabular.DIGITS)
    with pytest.raises(ValueError, match=r"`prescreen` must be a positive integer. Received: prescreen=0"):
        replay.replay("random", table, 5, prescreen=0)
    with pytest.raises(ValueError, match=r"`proxy` must be one of .*Received: proxy='flops'"):
        replay.replay("random", table, 5, prescreen=2, proxy="flops")
    with pytest.raises(ValueError, match=r"`seed` must be a non-negative integer. Received: seed=-1"):
        replay.make_oracle("random", 10, -1, tabular.DIGITS)
    refused = r"`checkpoints` must not exceed trials \(10\). Received: checkpoints=\(10, 25\)"
    with pytest.raises(ValueError, match=refused):
        replay.summarize({("random", 1): [[1.0] * 10]}, 10, (10, 25))


def configuration(oracle) -> dict:
    """What configures an oracle's search: its class, seed, trials, objective, tuner settings and space."""
    settings = ("max_epochs", "factor", "hyperband_iterations", "population_size", "sample_size", "selection_cost",
                "num_initial_points", "alpha", "beta")
    return {"class": type(oracle), "seed": oracle.seed, "max_trials": oracle.max_trials,
            "objective": (oracle.objective.name, oracle.objective.direction),
            **{name: getattr(oracle, name) for name in settings if hasattr(oracle, name)},
            "space": [hp.get_config() for hp in oracle.hyperparameters.space]}


@pytest.mark.parametrize("name", choices.TUNERS.names())
def test_the_replayed_oracle_is_configured_as_a_pareto_searchs(tmp_path, name):
    if name not in replay.TUNERS:  # grid search: its repetitions would be one replay
        with pytest.raises(ValueError, match=rf"`name` must be one of .*Received: name='{name}'"):
            replay.make_oracle(name, 100, seed=3, benchmark=tabular.DIGITS)
        return
    spec = build_spec({"space": tabular.DIGITS.subspace}, {"tuner": name, "objective": "pareto", "max_trials": 100,
                                                    "epochs": tabular.EPOCHS, "seed": 3, "logdir": str(tmp_path)})
    search = runner.search_tuner(spec, datasets.load_dataset(tabular.DIGITS.dataset, seed=3), replay.REFERENCE).oracle
    replayed = configuration(replay.make_oracle(name, 100, seed=3, benchmark=tabular.DIGITS))
    assert replayed == configuration(search)
    assert (replayed["seed"], replayed["max_trials"], replayed["objective"]) == (4, 100, ("tradeoff_score", "max"))
    expected = {"hyperband": {"max_epochs": tabular.EPOCHS, "factor": 3, "hyperband_iterations": 100},
                "evolution": {"population_size": 20, "sample_size": 5, "selection_cost": "flops"},
                "asha": {"max_epochs": tabular.EPOCHS, "factor": 3, "selection_cost": "flops"}}.get(name, {})
    assert expected.items() <= replayed.items()
