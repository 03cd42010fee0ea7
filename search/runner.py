"""One architecture search, start to finish: data, space, tuner, progress, leaderboard, Pareto front.

LOGDIR holds everything a search writes:

    spec.json            the resolved specification (a re-run must match it)
    trials.csv/.jsonl    one record per trial, written as trials end
    tensorboard/         per-epoch scalars and the HParams dashboard
    oracle.json, trial_*/  keras-tuner's oracle and trial state (resumes a killed search)
    best_model.keras     the best completed candidate; it takes images as the dataset stores them
                         (raw digits 0..16, uint8 images 0..255) and rescales them itself;
                         trained on an image folder, it carries its class names (`search.data.class_names`)
    class_names.json     the class names, index = label (image folders, `dir:PATH`)
    pareto.csv/.png      the accuracy/FLOPs and accuracy/params fronts

Re-running the same search on the same LOGDIR resumes it: keras-tuner keeps
its completed trials and re-runs the interrupted one; the records keep one
row per trial. The search is a user of the drop-in tuners
(`convnas.search.RandomSearch`, ...) with LOGDIR as their
`directory/project_name`, made by `search.tuners.setup.make_tuner`: one trial
path, one setup path (a distributed chief `serve`s where a search `search`es).
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from convnas.search import adapter
from convnas.search.common import backends, durable_io
from convnas.search.common.spec_files import refuse_changed
from convnas.search.common.tables import fit, human, plural, wrap
from convnas.search.data import datasets
from convnas.search.records.hypervolume import Reference, reference_for
from convnas.search.records.trial_records import TrialRecords, describe
from convnas.search.space.hypermodel import ConvNetHyperModel
from convnas.search.space.spec import SearchSpec
from convnas.search.space.training import Protocol
from convnas.search.tuners import distributed
from convnas.search.tuners.sampler import NoFeasibleCandidate
from convnas.search.tuners.setup import make_tuner


class SearchStopped(RuntimeError):
    """keras-tuner stopped the search (too many consecutive failed trials); the records are kept."""


class Progress:
    """Prints one line per finished trial: its id, [finished/N], status, accuracy, cost, best so far, ETA."""

    def __init__(self, total: int, done: int, write: Callable[[str], None], epochs: int | None = None):
        self.total, self.done, self.write, self.epochs = total, done, write, epochs
        self.better: Callable[[dict, dict], bool] = lambda record, other: False  # the tuner's, once it exists
        self.started, self.finished_here = time.perf_counter(), 0
        self.best: dict | None = None
        self.followed: int | None = None  # lines of trials.jsonl seen by `follow`

    def report(self, record: dict) -> None:
        self.done += 1
        self.finished_here += 1
        if record["status"] == "COMPLETED" and (self.best is None or self.better(record, self.best)):
            self.best = record
        per_trial = (time.perf_counter() - self.started) / self.finished_here
        remaining = max(self.total - self.done, 0) * per_trial
        result = (
            f"val_acc {record['val_accuracy']:.4f}"
            if record["status"] == "COMPLETED"
            else f"{record['reason']}"
        )
        cost = "cost n/a"
        if record.get("params"):
            cost = f"{human(record['params'], digits=1)} params, {human(record['flops'], digits=1)} FLOPs"
        best = f"best {self.best['val_accuracy']:.4f} ({self.best['trial_id']})" if self.best else "best n/a"
        self.write(wrap(  # the trial's own id (keras-tuner's, from 0), then how many have finished (from 1)
            f"trial {record['trial_id']} [{self.done}/{self.total}]{schedule(record, self.epochs)} {record['status']}: "
            f"{result}; {cost} | {best} | ETA {remaining:.0f}s", indent="    "
        ))

    def follow(self, records: TrialRecords) -> None:
        """Reports the records other processes appended since the previous call; the first call only notes
        where the records end. How the chief of a distributed search shows every worker's trials as they land."""
        lines = durable_io.read_json_lines(records.jsonl)  # a line still being written is read on the next call
        for record in lines[self.followed:] if self.followed is not None else ():
            self.report(record)
        self.followed = len(lines)


def schedule(record: dict, epochs: int | None) -> str:
    """" (epochs 3-9, continues trial 02)" for a trial that trains other than the search's epochs from scratch;
    else ""."""
    start, end = record.get("initial_epoch") or 0, record.get("epochs")
    parts = []
    if start or record.get("continues") is not None or (epochs is not None and end is not None and end != epochs):
        parts.append(f"epochs {start + 1}-{end}" if start else f"epochs 1-{end}")
    if record.get("continues") is not None:
        parts.append(f"continues trial {record['continues']}")
    if record.get("proxy_score") is not None:
        parts.append(f"{record['proxy']} {record['proxy_score']:.3g}")
    return f" ({', '.join(parts)})" if parts else ""


def _check_resume(logdir: Path, spec: SearchSpec, reference: Reference) -> None:
    path = logdir / "spec.json"
    # A resumed search may change where it lives and how many trials it runs, nothing else.
    resolved = {k: v for k, v in dataclasses.asdict(spec).items() if k not in ("overwrite", "logdir", "max_trials")}
    resolved["hypervolume_reference"] = reference.as_dict()  # fixed before the first trial
    resolved = json.loads(json.dumps(resolved))  # as it reads back from spec.json
    if path.exists():
        refuse_changed(logdir, "search", json.loads(path.read_text()), resolved)
    else:
        logdir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(resolved, indent=2))


def run_search(
    spec: SearchSpec, write: Callable[[str], None] = print, lost_worker_timeout: float = 600.0
) -> list[dict]:
    """Runs (or resumes) the search `spec` describes; returns its trial records.

    In a distributed search (search.tuners.distributed.set_role) the chief serves the
    oracle, ends the trials of workers silent for `lost_worker_timeout`
    seconds as FAILED, and writes the summary; a worker runs trials and never
    overwrites.
    """
    logdir = Path(spec.logdir)
    if spec.overwrite and logdir.exists() and not distributed.is_worker():
        shutil.rmtree(logdir)
    data = datasets.load_dataset(spec.dataset, seed=spec.seed)  # before anything is written to LOGDIR
    if spec.deterministic:
        backends.enable_determinism()  # with the per-trial seeds: same architectures, same metrics
    budgets = {"flops": spec.max_flops, "params": spec.max_params}
    reference = reference_for(data.num_classes, spec.pareto_cost, budgets[spec.pareto_cost])
    _check_resume(logdir, spec, reference)
    if data.class_names is not None and not distributed.is_worker():
        durable_io.write_json(logdir / "class_names.json", list(data.class_names), indent=2)
    records = TrialRecords(logdir)
    progress = Progress(spec.max_trials, len(records.read()), write, spec.epochs)
    on_record = None if distributed.is_chief() or distributed.is_worker() else progress.report  # the chief follows
    tuner = search_tuner(spec, data, reference, on_record)
    progress.better = tuner.better
    resumed = f"{progress.done} already done; " if progress.done else ""
    write(wrap(
        f"search: {spec.tuner} tuner, up to {plural(spec.max_trials, 'trial')} of {plural(spec.epochs, 'epoch')} on "
        f"{data.name} ({len(data.x_train)} train / {len(data.x_val)} validation images "
        f"{'x'.join(map(str, data.input_shape))}); {resumed}logging to {logdir}"
    ))
    try:
        if distributed.is_chief():
            progress.follow(records)
            tuner.serve(spec.epochs, (None, *data.input_shape), (data.x_train, data.y_train), data.x_test is not None,
                        lost_worker_timeout, lambda: progress.follow(records))
        else:
            tuner.search(
                datasets.make_pipeline(data.x_train, data.y_train, spec.batch_size, shuffle=True, seed=spec.seed),
                validation_data=datasets.make_pipeline(data.x_val, data.y_val, spec.batch_size, shuffle=False),
                test_data=None if data.x_test is None
                else datasets.make_pipeline(data.x_test, data.y_test, spec.batch_size, shuffle=False),
                epochs=spec.epochs,
                shuffle=False,  # the training pipeline shuffles
                verbose=0,
            )
    except NoFeasibleCandidate:
        if not distributed.is_worker():
            write(summary(records.read(), tuner.write_fronts(), tuner, logdir))
        raise
    except RuntimeError as error:
        if not adapter.stopped_by_failures(error):
            raise
        raise SearchStopped(
            f"keras-tuner stopped the search after {tuner.oracle.max_consecutive_failed_trials} consecutive failed "
            f"trials ({records.read()[-1].get('reason') or 'see trials.csv'}); the records so far are in {logdir}"
        ) from None
    result = records.read()
    if distributed.is_worker():
        return result  # the chief writes the summary
    fronts = tuner.write_fronts()
    write(summary(result, fronts, tuner, logdir))
    tuner.raise_if_exhausted()  # the chief's oracle gave up for want of a candidate within the budgets
    return result


def search_tuner(spec: SearchSpec, data: datasets.Dataset, reference: Reference,
                 on_record: Callable[[dict], None] | None = None):
    """The tuner of the search `spec` on `data` (search.tuners.setup.make_tuner), LOGDIR its project folder.

    `reference` is the hypervolume's reference point; `on_record` is called with each trial's record.
    """
    location = Path(spec.logdir).resolve()
    return make_tuner(
        spec.tuner,
        spec.max_trials,
        spec.epochs,
        hypermodel=ConvNetHyperModel(data.input_shape, data.num_classes, spec.space, input_scale=data.scale,
                                     class_names=data.class_names,
                                     protocol=Protocol(spec.schedule, spec.warmup_epochs, spec.bn_batches)),
        objective=spec.objective,
        eta=spec.eta,
        seed=spec.seed,
        directory=str(location.parent),
        project_name=location.name,
        overwrite=False,
        max_flops=spec.max_flops,
        max_params=spec.max_params,
        max_latency_ms=spec.max_latency_ms,
        cost_weight=spec.cost_weight,
        on_record=on_record,
        prescreen=spec.prescreen,
        proxy=spec.proxy,
        pareto_cost=spec.pareto_cost,
        hypervolume_reference=reference,
        max_redraws=spec.max_redraws,
    )


def summary(records: list[dict], fronts: dict, tuner, logdir: Path) -> str:
    """Leaderboard (top 5), rejected draws, the Pareto fronts and their hypervolume, the files written, the
    dashboard."""
    completed = sorted((r for r in records if r["status"] == "COMPLETED"),  # ties: the cheaper first, as the best model
                       key=lambda r: r.get(tuner.hypervolume_reference.cost, math.inf))
    completed.sort(key=tuner.score, reverse=tuner.oracle.objective.direction == "max")
    statuses = ("COMPLETED", "SKIPPED", "INVALID", "FAILED")
    counts = {status: sum(r["status"] == status for r in records) for status in statuses}
    lines = ["", "trials: " + ", ".join(f"{count} {status.lower()}" for status, count in counts.items())]
    rejections = tuner.oracle.rejections
    if rejections.total:
        cheapest = rejections.cheapest_text()
        lines.append(wrap(f"rejected before training: {rejections.total} draws ({rejections.counts_text()})"
                          + (f"; the cheapest rejected had {cheapest}" if cheapest else "")))
        lines += [wrap(f"  first {kind}: {reason}", indent="    ")
                  for kind, reason in sorted(rejections.examples.items())]
    if completed:  # nothing trained: no leaderboard, no fronts
        lines += ["", "leaderboard:"]
        lines.append(f"  {'trial':>5}  {'val_acc':>7}  {'test_acc':>8}  {'params':>7}  {'FLOPs':>7}  architecture")
    for record in completed[:5]:
        test = record.get("test_accuracy")
        lines.append(fit(  # the whole architecture is in `convnas trials LOGDIR --all` and trials.csv
            f"  {record['trial_id']:>5}  {record['val_accuracy']:7.4f}  {'' if test is None else f'{test:8.4f}':>8}  "
            f"{human(record['params'], digits=1):>7}  {human(record['flops'], digits=1):>7}  {describe(record)}"
        ))
    for cost, rows in fronts.items() if completed else ():
        points = ", ".join(f"{r['trial_id']} ({r['val_accuracy']:.3f} @ {human(r[cost], digits=1)})" for r in rows)
        lines.append(wrap(f"Pareto front, accuracy vs {cost}: {points or 'none'}"))
    reference = tuner.hypervolume_reference
    lines.append(wrap(
        f"hypervolume (accuracy x decades of {reference.cost} below {reference.ceiling:.3g}, above accuracy "
        f"{reference.accuracy:.3g}): {tuner.hypervolume(records):.4f}"
    ))
    names = ("trials.csv", "pareto.csv", "pareto.png", "best_model.keras", "class_names.json")
    written = [str(logdir / name) for name in names if (logdir / name).exists()]
    lines.append(wrap("written: " + ", ".join(written)) if written else "written: nothing (no trial ended)")
    lines.append(f"dashboard: convnas board {logdir}")
    return "\n".join(lines)
