"""Evaluation collapse: a run's inference-mode training accuracy far below its training-mode accuracy."""

import json
from pathlib import Path

from convnas.experiments.evaluation import COLLAPSE_POINTS, collapsed, training_mode_accuracy

RESULTS = Path(__file__).parents[2] / "experiments" / "results"


def record(train_accuracy, curve):
    return {"train_accuracy": train_accuracy, "curves": {"accuracy": curve}}


def test_a_run_is_collapsed_only_past_the_threshold():
    assert training_mode_accuracy(record(0.9, [0.5, 0.95])) == 0.95
    assert collapsed(record(0.95 - COLLAPSE_POINTS + 0.001, [0.5, 0.95])) is False
    assert collapsed(record(0.95 - COLLAPSE_POINTS - 0.001, [0.5, 0.95])) is True
    assert collapsed(record(0.99, [0.95])) is False  # better in inference mode is no collapse


def test_a_record_without_curves_cannot_tell():
    assert collapsed({"train_accuracy": 0.9}) is None
    assert collapsed({"train_accuracy": 0.9, "curves": {}}) is None
    assert collapsed({"curves": {"accuracy": [0.9]}}) is None


def test_the_collapse_the_earlier_committed_runs_showed_is_found():
    """conv_type grouped seed 0 of the earlier constant-rate runs (c37d57c): 27.6% in inference mode after 84.5%
    in training mode; none of the regenerated runs collapses."""
    grouped = {"run": "grouped/seed0", "train_accuracy": 0.27649998664855957,
               "curves": {"accuracy": [0.5, 0.7, 0.8447499871253967]}}
    assert collapsed(grouped) is True
    runs = [json.loads(line) for line in (RESULTS / "conv_type" / "runs.jsonl").read_text().splitlines()]
    assert not any(collapsed(run) for run in runs)
