"""A study's outputs from its logs alone: tables, figures and report (`write_outputs`).

Run records (LOGDIR/runs.jsonl) and the resolved study (LOGDIR/study.json)
are all it reads, so a killed or resumed study, and `convnas table`, end with
the same files an uninterrupted study writes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from convnas.experiments import ablation_table
from convnas.experiments.study_logs import read_runs, read_study
from convnas.search.common import durable_io
from convnas.search.common.tables import wrap


def first_line(error: Exception) -> str:
    """The first line of an error's message; its type too unless it is a ValueError (a user error as such)."""
    lines = str(error).strip().splitlines()
    first = lines[0] if lines else ""
    return first if isinstance(error, ValueError) else f"{type(error).__name__}: {first}"


def write_outputs(logdir: Path, write: Callable[[str], None] = print) -> list[dict]:
    """The tables, figures and report, from the logs alone (see the module docstring); returns the rows.

    The tables are written first, whatever their numbers; a figure that
    cannot be drawn is left out of the report with a one-line warning and
    never loses them.
    """
    study = read_study(logdir)
    records = read_runs(logdir)
    rows = ablation_table.build_table(study, records)
    tables = {"table.md": ablation_table.to_markdown(study, rows), "table.tex": ablation_table.to_latex(study, rows),
              ablation_table.FULL_TABLE: ablation_table.to_csv(rows)}
    for name, text in tables.items():
        durable_io.write_text(logdir / name, text)
    drawings = {"chart.png": lambda: ablation_table.plot_chart(study, rows, logdir / "chart.png"),
                "curves.png": lambda: ablation_table.plot_curves(study, records, logdir / "curves.png")}
    if (logdir / "samples").is_dir():  # an upsampling study: Keras loads with its task
        drawings["samples.png"] = lambda: _plot_samples(study, logdir)
    figures = []
    for name, draw in drawings.items():
        try:
            if draw():
                figures.append(name)
        except Exception as error:  # whatever a figure raises, the tables stand
            write(wrap(f"warning: {name} not drawn ({first_line(error)}); the tables are written"))
    report = ablation_table.to_report(study, rows, [*figures, ablation_table.FULL_TABLE])
    durable_io.write_text(logdir / "report.md", report)
    write("\n" + ablation_table.to_text(study, rows))
    written = ", ".join(str(logdir / name) for name in [*tables, "report.md", *figures])
    write(f"{wrap(f'written: {written}')}\ndashboard: convnas board {logdir}")
    return rows


def _plot_samples(study: dict, logdir: Path) -> bool:
    """Draws an upsampling study's samples.png (Keras loads with its task)."""
    from convnas.experiments import upsampling

    upsampling.plot_samples(study, logdir)
    return True

