"""Which completed trial is the best: the objective first, and on a tie the lower cost (the fronts' cost)."""

from types import SimpleNamespace

import keras_tuner
import pytest

from convnas.search.tuners.trials import ConvnasTrials


def trials(tmp_path, direction="max", cost="flops", earlier=()):
    """The parts of a ConvnasTrials that judge and save the best model, over the records `earlier`."""
    judge = SimpleNamespace(
        oracle=SimpleNamespace(objective=keras_tuner.Objective("val_accuracy", direction)),
        hypervolume_reference=SimpleNamespace(cost=cost),
        project_dir=str(tmp_path), best_model_path=str(tmp_path / "best_model.keras"),
        records=SimpleNamespace(read=lambda: list(earlier)),
    )
    judge.score = lambda record: ConvnasTrials.score(judge, record)
    judge.better = lambda record, other: ConvnasTrials.better(judge, record, other)
    return judge


def record(trial_id, accuracy, flops, params):
    return {"trial_id": trial_id, "status": "COMPLETED", "val_accuracy": accuracy, "flops": flops, "params": params}


# The case: trial 04 (262K params, 16.9M FLOPs) and trial 07 (35.5K params, 1.3M FLOPs), both 0.9792.
LARGE, SMALL = record("04", 0.9792, 16_900_000, 262_000), record("07", 0.9792, 1_300_000, 35_500)


@pytest.mark.parametrize("cost", ["flops", "params"])
def test_a_tie_in_the_objective_goes_to_the_lower_cost(tmp_path, cost):
    judge = trials(tmp_path, cost=cost)
    assert judge.better(SMALL, LARGE) and not judge.better(LARGE, SMALL)
    assert not judge.better(SMALL, dict(SMALL, trial_id="08"))  # equal in both: the first stays the best
    assert judge.better(record("09", 0.98, 10**9, 10**7), SMALL)  # a higher score wins at any cost


def test_a_tie_in_a_minimized_objective_goes_to_the_lower_cost_too(tmp_path):
    judge = trials(tmp_path, direction="min")
    assert judge.better(SMALL, LARGE) and not judge.better(LARGE, SMALL)
    assert judge.better(record("09", 0.5, 10**9, 10**7), SMALL)  # lower is better here


@pytest.mark.parametrize("cost", ["flops", "params"])
def test_the_best_model_file_goes_to_the_cheaper_of_equals(tmp_path, cost):
    saved = []
    model = SimpleNamespace(save=lambda path: saved.append(path) or open(path, "w").close())
    ConvnasTrials._save_if_best(trials(tmp_path, cost=cost, earlier=[LARGE]), SMALL, model)
    assert len(saved) == 1 and (tmp_path / "best_model.keras").exists()
    ConvnasTrials._save_if_best(trials(tmp_path, cost=cost, earlier=[SMALL]), LARGE, model)
    assert len(saved) == 1  # the larger one, equally accurate, does not replace it
