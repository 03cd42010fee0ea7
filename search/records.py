"""Trial records (NAS-Bench-201 style): one row per trial, whatever its fate, in LOGDIR/trials.csv and .jsonl.

A record is appended to `trials.jsonl` as soon as its trial ends, and
`trials.csv` is rewritten from it (atomically) each time, so both are
complete after every trial; the workers of a distributed search take turns
under a lock (`search.durable_io`). A trial id appears once: a re-run trial
(after an interrupted search) replaces its earlier row. A line cut short by a
kill is ignored when reading.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from convnas.search import durable_io, tables

STATUSES = ("COMPLETED", "SKIPPED", "FAILED", "INVALID")
# Columns in order: identity, hyperparameters (inserted in their place), results, cost, run.
LEADING = ("trial_id", "status", "reason")
TRAILING = (
    "loss",
    "accuracy",
    "val_accuracy",
    "val_loss",
    "test_accuracy",
    "test_loss",
    "params",
    "macs",
    "flops",
    "activation_bytes",
    "latency_ms",
    "train_seconds",
    "executions",
    "epochs",
    "seed",
)


class TrialRecords:
    """The records of one search directory."""

    def __init__(self, logdir: str | os.PathLike):
        self.logdir = Path(logdir)
        self.jsonl = self.logdir / "trials.jsonl"
        self.csv = self.logdir / "trials.csv"

    def read(self) -> list[dict]:
        """Every record, one per trial id (the last one written wins), in trial-id order."""
        records = {str(record["trial_id"]): record for record in durable_io.read_json_lines(self.jsonl) if "trial_id" in record}
        return sorted(records.values(), key=lambda record: _trial_order(record["trial_id"]))

    def append(self, record: dict) -> None:
        """Adds (or replaces) one trial's record and rewrites the CSV."""
        if record.get("status") not in STATUSES:
            raise ValueError(f"`status` must be one of {', '.join(STATUSES)}. Received: status={record.get('status')!r}")
        with durable_io.locked(self.logdir / ".records.lock"):  # the workers of a distributed search share LOGDIR
            durable_io.append_json_line(self.jsonl, record)
            durable_io.write_text(self.csv, to_csv(self.read()))


def _trial_order(trial_id) -> tuple:
    text = str(trial_id)
    return (0, int(text), text) if text.isdigit() else (1, 0, text)


def _hyperparameter_order(name: str) -> tuple:
    """Global hyperparameters first, then stage by stage (stage2 before stage10), by name."""
    stage = re.match(r"stage(\d+)_", name)
    return (int(stage.group(1)) if stage else 0, name)


def columns(records: list[dict]) -> list[str]:
    """Leading columns, every hyperparameter seen (global, then stage by stage), then the results."""
    hyperparameters = {key for record in records for key in record if key not in LEADING and key not in TRAILING}
    return [*LEADING, *sorted(hyperparameters, key=_hyperparameter_order), *TRAILING]


def to_csv(records: list[dict]) -> str:
    return tables.to_csv(records, columns(records))


def to_markdown(records: list[dict]) -> str:
    names = columns(records)
    return tables.to_markdown(names, [[record.get(name) for name in names] for record in records])


def to_json(records: list[dict]) -> str:
    return json.dumps(records, indent=2)
