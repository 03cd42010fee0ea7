"""Trial records (one row per trial, kill-safe) and the Pareto front on hand-made points."""

import csv

import pytest
from PIL import Image

from convnas.search.records import pareto, trial_records
from convnas.search.records.trial_records import KNOWN, TrialRecords, columns


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
    assert list(table[0])[:3] == ["trial_id", "status", "reason"] and list(table[0])[-2:] == ["stages", "stage1_cell"]
    # no temporary left
    assert sorted(path.name for path in tmp_path.iterdir()) == [".records.lock", "trials.csv", "trials.jsonl"]


def test_records_in_a_remote_directory_go_through_gfile(tmp_path, monkeypatch):
    import tensorflow as tf  # only remote paths need it

    monkeypatch.chdir(tmp_path)  # where `gs:/b/p` would land if the path were turned into a local one
    records = TrialRecords("ram://trial-records/search")
    assert not records.exists() and records.read() == []
    assert records.jsonl == "ram://trial-records/search/trials.jsonl"
    records.append({"trial_id": "0", "status": "COMPLETED", "reason": "", "val_accuracy": 0.5})
    records.append({"trial_id": "1", "status": "SKIPPED", "reason": "over budget"})
    records.append({"trial_id": "0", "status": "COMPLETED", "reason": "", "val_accuracy": 0.7})  # a re-run trial
    assert records.exists()
    assert [(r["trial_id"], r.get("val_accuracy")) for r in TrialRecords("ram://trial-records/search").read()] == [
        ("0", 0.7), ("1", None)]
    with tf.io.gfile.GFile(records.csv) as stream:
        assert [row["trial_id"] for row in csv.DictReader(stream)] == ["0", "1"]
    # no lock file on a remote file system (durable_io.locked), and no temporary left
    assert sorted(tf.io.gfile.listdir("ram://trial-records/search")) == ["trials.csv", "trials.jsonl"]
    assert list(tmp_path.iterdir()) == []


def test_columns_keep_one_order_whatever_the_records_hold():
    first = columns([{"trial_id": "0", "status": "COMPLETED", "stage10_cell": "x", "stage2_cell": "y", "head": "z",
                      "flops": 1}])
    second = columns([{"trial_id": "5", "status": "INVALID", "reason": "r", "proxy": "synflow", "stages": 3,
                       "units": 8},
                      {"trial_id": "6", "status": "COMPLETED", "test_accuracy": 0.9, "hypervolume": 0.1,
                       "continues": "2"}])
    # every known column, present or not, in one order
    assert first[: len(KNOWN)] == second[: len(KNOWN)] == list(KNOWN)
    assert first[len(KNOWN):] == ["head", "stage2_cell", "stage10_cell"]  # then by name: global, then stage by stage
    assert second[len(KNOWN):] == ["stages", "units"]
    assert list(KNOWN[:6]) == ["trial_id", "status", "reason", "loss", "accuracy", "val_accuracy"]


RECORDS = [
    {"trial_id": "0", "status": "COMPLETED", "reason": "", "val_accuracy": 0.91234, "params": 36122, "flops": 357628,
     "latency_ms": 0.75665, "epochs": 3, "seed": 1, "macs": 170000, "stem_filters": 16, "stages": 2, "head": "flatten",
     "stage1_cell": "plain", "stage1_block": "conv", "stage1_filters": 32, "stage1_blocks": 2,
     "stage1_downsampling": "max", "stage2_cell": "residual", "stage2_filters": 64, "stage2_blocks": 1,
     "stage2_downsampling": "none", "optimizer": "adam"},
    {"trial_id": "1", "status": "INVALID", "reason": "stage 1 block 1 (inception): `filters` must be a multiple of 8",
     "stem_filters": 16, "stages": 1, "head": "flatten", "stage1_cell": "inception", "stage1_filters": 12,
     "stage1_blocks": 1, "stage1_downsampling": "avg"},
]


def test_the_short_view_is_the_leaderboard_s_columns_and_all_gives_every_column():
    lines = trial_records.to_markdown(RECORDS).splitlines()
    assert lines[0] == "| trial | status | val_acc | params | FLOPs | latency_ms | epochs | architecture | reason |"
    assert lines[2] == ("| 0 | COMPLETED | 0.9123 | 36.1K | 357.6K | 0.76 | 3 | "
                        "stem 16 > conv 32x2 max > residual 64x1 none > flatten |  |")
    assert lines[3] == ("| 1 | INVALID |  |  |  |  |  | stem 16 > inception 12x1 avg > flatten | "
                        "stage 1 block 1 (inception): `filters` must be a multiple of 8 |")
    assert "reason" not in trial_records.to_markdown(RECORDS[:1]).splitlines()[0]  # only when a trial has one
    every = trial_records.to_markdown(RECORDS, every_column=True).splitlines()[0].strip("| ").split(" | ")
    assert every == columns(RECORDS) and {"macs", "seed", "optimizer", "stage2_cell"} <= set(every)
    short = list(csv.DictReader(trial_records.to_csv(RECORDS, every_column=False).splitlines()))
    assert list(short[0]) == ["trial_id", "status", "val_accuracy", "params", "flops", "latency_ms", "epochs",
                              "architecture", "reason"]
    assert short[0]["params"] == "36122" and short[0]["val_accuracy"] == "0.91234"  # the CSV keeps the raw values
    full = list(csv.DictReader(trial_records.to_csv(RECORDS).splitlines()))
    assert list(full[0]) == columns(RECORDS)
    text = trial_records.to_text(RECORDS).splitlines()  # the terminal's view: the same rows within 100 columns
    assert text[0].split() == ["trial", "status", "val_acc", "params", "FLOPs", "latency_ms", "epochs",
                               "architecture", "reason"] and all(len(line) <= 100 for line in text)
    assert text[2].split()[:8] == ["0", "COMPLETED", "0.9123", "36.1K", "357.6K", "0.76", "3", "stem"]
    assert text[3].split()[:2] == ["1", "INVALID"] and "stage 1 block 1 (" in text[3] and text[3].endswith("...")
    # the long cells clipped, every column shown: whole in md and csv


def test_a_space_of_the_user_s_own_reads_as_its_hyperparameters():
    record = {"trial_id": "0", "status": "COMPLETED", "val_accuracy": 0.9, "units": 64, "num_layers": 2, "params": 10}
    assert trial_records.describe(record) == "num_layers=2, units=64"


def test_unknown_status_is_refused(tmp_path):
    message = r"`status` must be one of COMPLETED, SKIPPED, FAILED, INVALID. Received: status='DONE'"
    with pytest.raises(ValueError, match=message):
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
    with Image.open(tmp_path / "pareto.png") as image:  # the title names the run, the accuracy and the trials
        assert image.info["Title"] == f"{tmp_path.name}: val accuracy against cost, 4 completed trials"
