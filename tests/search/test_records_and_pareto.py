"""Trial records (one row per trial, kill-safe) and the Pareto front on hand-made points."""

import csv

import pytest

from convnas.search import pareto
from convnas.search.records import TrialRecords, columns


def test_one_row_per_trial_last_write_wins_and_torn_lines_are_ignored(tmp_path):
    records = TrialRecords(tmp_path)
    records.append({"trial_id": "0", "status": "COMPLETED", "reason": "", "stage1_cell": "plain", "val_accuracy": 0.5})
    records.append({"trial_id": "1", "status": "SKIPPED", "reason": "over budget", "stages": 2})
    records.append({"trial_id": "0", "status": "COMPLETED", "reason": "", "stage1_cell": "plain", "val_accuracy": 0.7})
    with open(records.jsonl, "a") as stream:
        stream.write('{"trial_id": "2", "status": "COMPL')  # a write cut short by a kill
    rows = records.read()
    assert [(r["trial_id"], r.get("val_accuracy")) for r in rows] == [("0", 0.7), ("1", None)]
    with open(records.csv) as stream:
        table = list(csv.DictReader(stream))
    assert [row["trial_id"] for row in table] == ["0", "1"]
    assert list(table[0])[:5] == ["trial_id", "status", "reason", "stages", "stage1_cell"]
    assert sorted(path.name for path in tmp_path.iterdir()) == [".records.lock", "trials.csv", "trials.jsonl"]  # no temporary left


def test_columns_put_hyperparameters_between_identity_and_results():
    names = columns([{"trial_id": "0", "status": "COMPLETED", "stage10_cell": "x", "stage2_cell": "y", "head": "z", "flops": 1}])
    assert names[:6] == ["trial_id", "status", "reason", "head", "stage2_cell", "stage10_cell"]
    assert names[-2:] == ["epochs", "seed"]
    assert names[6:9] == ["loss", "accuracy", "val_accuracy"]  # the final training metrics, before validation's
    assert names[names.index("test_accuracy") + 1] == "test_loss" and names[-3] == "executions"  # results, not hyperparameters


def test_unknown_status_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"`status` must be one of COMPLETED, SKIPPED, FAILED, INVALID. Received: status='DONE'"):
        TrialRecords(tmp_path).append({"trial_id": "0", "status": "DONE"})


def test_pareto_front_of_hand_made_points():
    points = [
        (0.90, 100.0),  # 0: on the front
        (0.95, 400.0),  # 1: on the front
        (0.85, 150.0),  # 2: dominated by 0
        (0.95, 500.0),  # 3: dominated by 1 (same accuracy, more cost)
        (0.99, 1000.0),  # 4: on the front
        (0.80, 50.0),  # 5: on the front (cheapest)
        (0.90, 100.0),  # 6: a tie with 0: neither dominates
    ]
    assert pareto.pareto_front(points) == [5, 0, 6, 1, 4]
    assert pareto.dominates((0.9, 100), (0.85, 150)) and not pareto.dominates((0.9, 100), (0.9, 100))


def test_front_files(tmp_path):
    records = [
        {"trial_id": str(i), "status": "COMPLETED", "val_accuracy": acc, "flops": flops, "params": params}
        for i, (acc, flops, params) in enumerate([(0.9, 10, 300), (0.8, 20, 100), (0.95, 30, 200), (0.7, 40, 50)])
    ] + [{"trial_id": "9", "status": "SKIPPED", "flops": 1, "params": 1}]
    fronts = pareto.write_front(records, tmp_path / "pareto.csv")
    assert [r["trial_id"] for r in fronts["flops"]] == ["0", "2"]
    assert [r["trial_id"] for r in fronts["params"]] == ["3", "1", "2"]
    with open(tmp_path / "pareto.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert [(r["front"], r["trial_id"]) for r in rows] == [
        ("accuracy_vs_flops", "0"), ("accuracy_vs_flops", "2"),
        ("accuracy_vs_params", "3"), ("accuracy_vs_params", "1"), ("accuracy_vs_params", "2"),
    ]
    pareto.plot_front(records, tmp_path / "pareto.png")
    assert (tmp_path / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
