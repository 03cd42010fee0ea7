"""Reading a study folder: one run per (variant, seed), the last written winning; a missing or broken study.json."""

import json

import pytest

from convnas.experiments import study_logs
from convnas.search.common.spec_files import SpecError
from convnas.search.space.training import describe_protocol


def test_the_last_run_written_wins_and_a_torn_line_is_skipped(tmp_path):
    runs = [
        {"run": "baseline/seed0", "variant": "baseline", "seed": 0, "test_accuracy": 0.5},
        {"run": "baseline/seed1", "variant": "baseline", "seed": 1, "test_accuracy": 0.6},
        {"run": "baseline/seed0", "variant": "baseline", "seed": 0, "test_accuracy": 0.7},
    ]
    text = "".join(json.dumps(run) + "\n" for run in runs) + '{"run": "avg/seed0", "variant": "av'
    (tmp_path / study_logs.RUNS_FILE).write_text(text)
    read = study_logs.read_runs(tmp_path)
    assert sorted((run["run"], run["test_accuracy"]) for run in read) == [
        ("baseline/seed0", 0.7), ("baseline/seed1", 0.6)]
    assert study_logs.run_name("avg_pool", 2) == "avg_pool/seed2"


def test_a_folder_without_runs_has_none(tmp_path):
    assert study_logs.read_runs(tmp_path) == []


@pytest.mark.parametrize(
    "text, message",
    [
        (None, r"LOGDIR holds no ablation study \(no study.json\)\. Received: LOGDIR='.*'"),
        ('{"name": "pool', r"LOGDIR's study.json is not valid JSON \(Unterminated string .*\)\. Received: LOGDIR="),
        ("[1, 2]", r"LOGDIR's study.json must hold a mapping\. Received: LOGDIR="),
    ],
)
def test_a_missing_or_broken_study_is_one_line(tmp_path, text, message):
    if text is not None:
        (tmp_path / study_logs.STUDY_FILE).write_text(text)
    with pytest.raises(SpecError, match=message):
        study_logs.read_study(tmp_path)


def test_the_study_reads_back_as_written(tmp_path):
    study = {"name": "pooling", "metric": "test_accuracy", "variants": {"avg_pool": {"downsampling": "avg"}},
             "schedule": "cosine", "warmup_epochs": 1, "bn_batches": 50}
    (tmp_path / study_logs.STUDY_FILE).write_text(json.dumps(study))
    assert study_logs.read_study(tmp_path) == study


def test_a_study_written_without_its_protocol_reads_as_the_legacy_protocol_it_ran(tmp_path):
    study = {"name": "pooling", "epochs": 8, "learning_rate": 0.001}
    (tmp_path / study_logs.STUDY_FILE).write_text(json.dumps(study))
    read = study_logs.read_study(tmp_path)
    assert read == {**study, "schedule": "constant", "warmup_epochs": 0, "bn_batches": 0}
    assert describe_protocol(read) == describe_protocol(study)
