"""Reading an ablation study's folder: its resolved spec (study.json) and its finished runs (runs.jsonl).

`convnas table LOGDIR` rebuilds a table from these two files alone, so
reading them needs no model and imports no TensorFlow; `experiments.ablation`
writes them. A study.json written before studies recorded their training
protocol reads as the protocol it ran (`search.space.training.LEGACY_PROTOCOL`:
a constant rate, BatchNorm statistics never re-estimated).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from convnas.search.common.durable_io import read_json_lines
from convnas.search.common.spec_files import SpecError
from convnas.search.space.training import LEGACY_PROTOCOL, PROTOCOL_FIELDS

STUDY_FILE = "study.json"
RUNS_FILE = "runs.jsonl"


def run_name(variant: str, seed: int) -> str:
    """The name of one run, e.g. "baseline/seed0" (its TensorBoard folder under LOGDIR/tensorboard)."""
    return f"{variant}/seed{seed}"


def read_runs(logdir: str | os.PathLike) -> list[dict]:
    """The finished runs of a study folder, one per (variant, seed), the last written winning."""
    runs = {run_name(r["variant"], r["seed"]): r for r in read_json_lines(Path(logdir) / RUNS_FILE) if "variant" in r}
    return list(runs.values())


def read_study(logdir: str | os.PathLike) -> dict:
    """The resolved spec of the study in `logdir`; SpecError if the folder holds none or it is unreadable.

    A study.json without any protocol setting (`schedule`, `warmup_epochs`,
    `bn_batches`) reads with `LEGACY_PROTOCOL`'s, what it ran.
    """
    path = Path(logdir) / STUDY_FILE
    if not path.exists():
        raise SpecError(f"LOGDIR holds no ablation study (no {STUDY_FILE}). Received: LOGDIR={str(logdir)!r}")
    try:
        study = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise SpecError(
            f"LOGDIR's {STUDY_FILE} is not valid JSON ({error.msg}). Received: LOGDIR={str(logdir)!r}") from None
    if not isinstance(study, dict):
        raise SpecError(f"LOGDIR's {STUDY_FILE} must hold a mapping. Received: LOGDIR={str(logdir)!r}")
    if not any(name in study for name in PROTOCOL_FIELDS):
        study.update(dataclasses.asdict(LEGACY_PROTOCOL))
    return study
