"""Trial records (NAS-Bench-201 style): one row per trial, whatever its fate, in LOGDIR/trials.csv and .jsonl.

A record is appended to `trials.jsonl` as soon as its trial ends, and
`trials.csv` is rewritten from it (atomically) each time, so both are
complete after every trial; the workers of a distributed search take turns
under a lock (`search.common.durable_io`). The directory may be remote
(`gs://bucket/run`): its paths stay strings and go through `tf.io.gfile`,
where there is no lock. A trial id appears once: a re-run trial
(after an interrupted search) replaces its earlier row. A line cut short by a
kill is ignored when reading.

The CSV's columns keep one order from run to run: every column of `KNOWN`
(identity, results, cost, schedule), whether or not a record has it, then
the others (the hyperparameters) by name, global ones first, then stage by
stage (stage2 before stage10). `VIEW` is the short table people read first
(`convnas trials`): the leaderboard's columns and the architecture in short,
as fixed-width text within 100 columns or as Markdown.
"""

from __future__ import annotations

import json
import os
import re

from convnas.search.common import durable_io, tables

STATUSES = ("COMPLETED", "SKIPPED", "FAILED", "INVALID")
# Every column a convnas trial may have but its hyperparameters, in order: identity, results, cost, schedule.
KNOWN = (
    "trial_id",
    "status",
    "reason",
    "loss",
    "accuracy",
    "val_accuracy",
    "val_loss",
    "test_accuracy",
    "test_loss",
    "tradeoff_score",
    "hypervolume",
    "params",
    "macs",
    "flops",
    "activation_bytes",
    "latency_ms",
    "train_seconds",
    "executions",
    "epochs",
    "initial_epoch",
    "continues",
    "proxy",
    "proxy_score",
    "seed",
)


class TrialRecords:
    """The records of one search directory, local or remote (`gs://...`).

    Attributes:
        logdir: The search directory, as a string (a `pathlib.Path` would
            turn `gs://b/p` into `gs:/b/p`).
        jsonl: The path of trials.jsonl, every record as written.
        csv: The path of trials.csv, rewritten after every record.
    """

    def __init__(self, logdir: str | os.PathLike):
        self.logdir = os.fspath(logdir)
        self.jsonl = os.path.join(self.logdir, "trials.jsonl")
        self.csv = os.path.join(self.logdir, "trials.csv")

    def exists(self) -> bool:
        """Whether the directory holds trial records (a trials.jsonl)."""
        return durable_io.exists(self.jsonl)

    def read(self) -> list[dict]:
        """Every record, one per trial id (the last one written wins), in trial-id order."""
        lines = durable_io.read_json_lines(self.jsonl)
        records = {str(record["trial_id"]): record for record in lines if "trial_id" in record}
        return sorted(records.values(), key=lambda record: _trial_order(record["trial_id"]))

    def append(self, record: dict) -> None:
        """Adds (or replaces) one trial's record and rewrites the CSV."""
        if record.get("status") not in STATUSES:
            raise ValueError(
                f"`status` must be one of {', '.join(STATUSES)}. Received: status={record.get('status')!r}")
        # The workers of a distributed search share LOGDIR (no lock on a remote one: see durable_io.locked).
        with durable_io.locked(os.path.join(self.logdir, ".records.lock")):
            durable_io.append_json_line(self.jsonl, record)
            durable_io.write_text(self.csv, to_csv(self.read()))


def _trial_order(trial_id) -> tuple:
    text = str(trial_id)
    return (0, int(text), text) if text.isdigit() else (1, 0, text)


def _hyperparameter_order(name: str) -> tuple:
    """Global hyperparameters first, then stage by stage (stage2 before stage10), by name."""
    stage = re.match(r"stage(\d+)_", name)
    return (int(stage.group(1)) if stage else 0, name)


def hyperparameters(records: list[dict]) -> list[str]:
    """The columns of `records` outside KNOWN (their hyperparameters), global ones first, then stage by stage."""
    return sorted({key for record in records for key in record if key not in KNOWN}, key=_hyperparameter_order)


def columns(records: list[dict]) -> list[str]:
    """Every column of KNOWN, then every hyperparameter seen (global, then stage by stage)."""
    return [*KNOWN, *hyperparameters(records)]


ARCHITECTURE = "architecture"  # the candidate in short, a column of the short view and of the HParams dashboard


def is_architecture_space(values) -> bool:
    """Whether hyperparameter values (or a record) are those of a convnas candidate (stem, stages, head)."""
    return "stages" in values and "stem_filters" in values


def describe(record: dict) -> str:
    """The architecture in short: stem, stages and head of a convnas candidate; else its hyperparameters, name=value."""
    if not is_architecture_space(record):
        return ", ".join(f"{name}={record[name]}" for name in hyperparameters([record]))
    parts = [f"stem {record.get('stem_filters')}"]
    for n in range(1, int(record.get("stages", 0)) + 1):
        cell = record.get(f"stage{n}_cell")
        kind = record.get(f"stage{n}_block") if cell == "plain" else cell
        filters, blocks = record.get(f"stage{n}_filters"), record.get(f"stage{n}_blocks")
        parts.append(f"{kind} {filters}x{blocks} {record.get(f'stage{n}_downsampling')}")
    return " > ".join(parts) + f" > {record.get('head')}"


# The short view: (column, header, how a value reads in Markdown), one precision per kind of column.
VIEW = (
    ("trial_id", "trial", str),
    ("status", "status", str),
    ("val_accuracy", "val_acc", lambda value: f"{value:.4f}"),
    ("params", "params", lambda value: tables.human(value, digits=1)),
    ("flops", "FLOPs", lambda value: tables.human(value, digits=1)),
    ("latency_ms", "latency_ms", lambda value: f"{value:.2f}"),
    ("epochs", "epochs", str),
    (ARCHITECTURE, "architecture", str),
    ("reason", "reason", str),
)


def _view_columns(records: list[dict]) -> list[tuple]:
    """VIEW's entries shown for `records`: all, but the reason only if a record has one."""
    return [entry for entry in VIEW if entry[0] != "reason" or any(record.get("reason") for record in records)]


def view(records: list[dict]) -> list[dict]:
    """The short view's rows: VIEW's columns, the architecture from `describe`."""
    names = [name for name, _, _ in _view_columns(records)]
    return [{name: describe(record) if name == "architecture" else record.get(name) for name in names}
            for record in records]


def to_csv(records: list[dict], every_column: bool = True) -> str:
    """CSV of every column (`columns`), or of the short view."""
    if every_column:
        return tables.to_csv(records, columns(records))
    return tables.to_csv(view(records), [name for name, _, _ in _view_columns(records)])


def to_markdown(records: list[dict], every_column: bool = False) -> str:
    """Markdown of the short view, or of every column."""
    if every_column:
        names = columns(records)
        return tables.to_markdown(names, [[record.get(name) for name in names] for record in records])
    return tables.to_markdown(*_view_cells(records))


def to_text(records: list[dict]) -> str:
    """The short view as fixed-width text for a terminal, each line within 100 columns (a longer architecture
    or reason is clipped; Markdown and CSV keep it whole)."""
    names = [name for name, _, _ in _view_columns(records)]
    left = [i for i, name in enumerate(names) if name in ("trial_id", "status", ARCHITECTURE, "reason")]
    return tables.to_text(*_view_cells(records), left_columns=left)


def _view_cells(records: list[dict]) -> tuple[list[str], list[list[str]]]:
    """The short view's header and its rows as text, each value as VIEW reads it (empty where missing)."""
    shown = _view_columns(records)
    rows = [["" if row[name] in (None, "") else text(row[name]) for name, _, text in shown] for row in view(records)]
    return [header for _, header, _ in shown], rows


def to_json(records: list[dict]) -> str:
    return json.dumps(records, indent=2)
