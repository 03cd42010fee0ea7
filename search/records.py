"""Trial records (NAS-Bench-201 style): one row per trial, whatever its fate, in LOGDIR/trials.csv and .jsonl.

A record is appended to `trials.jsonl` as soon as its trial ends, and
`trials.csv` is rewritten from it (atomically) each time, so both are
complete after every trial. A trial id appears once: a re-run trial (after an
interrupted search) replaces its earlier row. A line cut short by a kill is
ignored when reading.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import re
from pathlib import Path

STATUSES = ("COMPLETED", "SKIPPED", "FAILED", "INVALID")
# Columns in order: identity, hyperparameters (inserted in their place), results, cost, run.
LEADING = ("trial_id", "status", "reason")
TRAILING = (
    "val_accuracy",
    "val_loss",
    "test_accuracy",
    "params",
    "macs",
    "flops",
    "activation_bytes",
    "latency_ms",
    "train_seconds",
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
        records = {str(record["trial_id"]): record for record in read_json_lines(self.jsonl) if "trial_id" in record}
        return sorted(records.values(), key=lambda record: _trial_order(record["trial_id"]))

    def append(self, record: dict) -> None:
        """Adds (or replaces) one trial's record and rewrites the CSV."""
        if record.get("status") not in STATUSES:
            raise ValueError(f"`status` must be one of {', '.join(STATUSES)}. Received: status={record.get('status')!r}")
        self.logdir.mkdir(parents=True, exist_ok=True)
        with open(self.logdir / ".records.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the workers of a distributed search share LOGDIR
            append_json_line(self.jsonl, record)
            self._write_csv(self.read())

    def _write_csv(self, records: list[dict]) -> None:
        temporary = self.csv.with_suffix(".csv.tmp")
        temporary.write_text(to_csv(records))
        os.replace(temporary, self.csv)


def read_json_lines(path: Path) -> list[dict]:
    """The JSON objects of a JSON-lines file, in order; a line cut short by a kill is skipped."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def append_json_line(path: Path, record: dict) -> None:
    """Appends one record as a JSON line, flushed to disk before returning."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as stream:
        stream.write(json.dumps(record, default=float) + "\n")
        stream.flush()
        os.fsync(stream.fileno())


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


def csv_text(rows: list[dict], fieldnames: list[str]) -> str:
    """CSV of `rows` with a header of `fieldnames`; None is written as an empty cell."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fieldnames, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue()


def to_csv(records: list[dict]) -> str:
    return csv_text(records, columns(records))


def to_markdown(records: list[dict]) -> str:
    names = columns(records)
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for record in records:
        cells = [_cell(record.get(name)) for name in names]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def to_json(records: list[dict]) -> str:
    return json.dumps(records, indent=2)
