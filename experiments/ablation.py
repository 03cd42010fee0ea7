"""Running an ablation study: every variant x seed, logged, resumable, tabulated.

LOGDIR holds everything a study writes:

    study.json          the resolved spec (a re-run must match it, seeds aside)
    runs.jsonl          one record per finished (variant, seed) run
    tensorboard/        per-epoch scalars of each run under <variant>/seed<k>, and
                        the HParams dashboard (variant, seed; every metric and cost)
    samples/            example outputs of each run (upsampling task), .npz
    table.md/.csv       the table (experiments.ablation_table), rebuilt from runs.jsonl
    <metric>.png        bar chart of the main metric with 95% CI error bars
    samples.png         upsampling task: inputs, outputs and flat-input outputs per variant

Every variant is built and costed before any training, so a variant that
cannot be built stops the study before anything is computed. Each run seeds
Python, NumPy and TensorFlow with its seed and runs with TensorFlow's op
determinism, so a run's metrics (train time aside) do not depend on what ran
before it: a killed study, re-run, skips its finished runs, redoes the
interrupted one from scratch, and ends with the table an uninterrupted study
gives.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from convnas.experiments import ablation_table
from convnas.experiments.ablation_spec import AblationSpec
from convnas.experiments.tasks import make_task
from convnas.search import cost, hparams_logging
from convnas.search.records import append_json_line, read_json_lines
from convnas.search.spec import SpecError, refuse_changed

COSTS = ("params", "macs", "flops")


def run_name(variant: str, seed: int) -> str:
    return f"{variant}/seed{seed}"


def read_runs(logdir: Path) -> list[dict]:
    """The finished runs of a study folder, one per (variant, seed), the last written winning."""
    runs = {run_name(r["variant"], r["seed"]): r for r in read_json_lines(Path(logdir) / "runs.jsonl") if "variant" in r}
    return list(runs.values())


def read_study(logdir: Path) -> dict:
    path = Path(logdir) / "study.json"
    if not path.exists():
        raise SpecError(f"LOGDIR holds no ablation study (no study.json). Received: LOGDIR={str(logdir)!r}")
    return json.loads(path.read_text())


RUN_FACTS = ("seeds", "command", "environment")  # may differ between a study and its resumption


def environment() -> dict:
    """Software versions and machine, as the report shows them."""
    import platform

    import tensorflow as tf

    return {"tensorflow": tf.__version__, "keras": keras.__version__, "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}"}


def _check_resume(logdir: Path, study: AblationSpec, command: str) -> None:
    path = logdir / "study.json"
    resolved = json.loads(json.dumps({k: v for k, v in study.as_dict().items() if k not in RUN_FACTS}))
    if path.exists():
        refuse_changed(logdir, "study", {k: v for k, v in json.loads(path.read_text()).items() if k not in RUN_FACTS}, resolved)
    logdir.mkdir(parents=True, exist_ok=True)
    seeds = sorted({*json.loads(path.read_text()).get("seeds", []), *study.seeds}) if path.exists() else list(study.seeds)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({**resolved, "seeds": seeds, "command": command, "environment": environment()}, indent=2))
    temporary.replace(path)


def _write_experiment(root: Path, study: AblationSpec, with_field: bool) -> None:
    from tensorboard.plugins.hparams import api as hparams_api

    hparams = [hparams_api.HParam("variant", hparams_api.Discrete(study.variant_names())), hparams_api.HParam("seed")]
    metrics = [(m, m.replace("_", " ")) for m in study.metrics] + [(c, c) for c in COSTS]
    if with_field:
        metrics.append(("receptive_field", "receptive field"))
    hparams_logging.write_config(root, hparams, metrics)


def _write_session(folder: Path, record: dict, tags, samples: dict) -> None:
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hparams_api

    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        hparams_api.hparams({"variant": record["variant"], "seed": record["seed"]}, trial_id=record["run"])
        for name, images in samples.items():
            tf.summary.image(f"samples/{name}", images, step=0, max_outputs=len(images))
    writer.close()
    hparams_logging.write_scalars(folder, record, tags)


def cost_of_variants(study: AblationSpec, task) -> dict[str, dict]:
    """Params, MACs, FLOPs (and receptive field) of every variant; SpecError for one that cannot be built."""
    costs = {}
    for variant in study.variant_names():
        design = study.design(variant)
        keras.backend.clear_session()
        try:
            model = task.build(design)
        except ValueError as error:
            raise SpecError(f"variant {variant!r} cannot be built: {str(error).strip().splitlines()[0]}") from None
        counted = cost.count(model)
        costs[variant] = {"params": counted.params, "macs": counted.macs, "flops": counted.flops,
                          "receptive_field": task.receptive_field(design)}
    return costs


def run_study(
    study: AblationSpec, logdir: str | Path, overwrite: bool = False, write: Callable[[str], None] = print, command: str = ""
) -> list[dict]:
    """Runs (or resumes) every variant x seed of `study` in `logdir`; writes and returns the table rows.

    `command` is how the study was launched, kept in study.json for its report.
    """
    import tensorflow as tf

    logdir = Path(logdir)
    if overwrite and logdir.exists():
        shutil.rmtree(logdir)
    task = make_task(study)  # data first: a missing dataset writes nothing
    costs = cost_of_variants(study, task)
    _check_resume(logdir, study, command)
    tensorboard = logdir / "tensorboard"
    with_field = costs["baseline"]["receptive_field"] is not None
    if not tensorboard.exists():
        _write_experiment(tensorboard, study, with_field)
    tf.config.experimental.enable_op_determinism()
    done = {run_name(r["variant"], r["seed"]) for r in read_runs(logdir)}
    plan = [(variant, seed) for variant in study.variant_names() for seed in study.seeds]
    todo = [(variant, seed) for variant, seed in plan if run_name(variant, seed) not in done]
    write(f"ablation {study.name}: {len(study.variant_names())} variants x {len(study.seeds)} seeds = {len(plan)} runs "
          f"of {study.epochs} epochs on {task.describe()}; {len(plan) - len(todo)} already done; logging to {logdir}")
    started = time.perf_counter()
    for index, (variant, seed) in enumerate(todo):
        record = _run(study, task, variant, seed, costs[variant], logdir)
        elapsed = time.perf_counter() - started
        eta = elapsed / (index + 1) * (len(todo) - index - 1)
        write(f"run {len(plan) - len(todo) + index + 1}/{len(plan)} {variant} seed {seed}: "
              f"{study.metric} {record[study.metric]:.4f} ({record['train_seconds']:.1f}s) | ETA {eta:.0f}s")
    return write_outputs(logdir, write)


def _run(study: AblationSpec, task, variant: str, seed: int, costs: dict, logdir: Path) -> dict:
    name = run_name(variant, seed)
    folder = logdir / "tensorboard" / variant / f"seed{seed}"
    shutil.rmtree(folder, ignore_errors=True)  # what an interrupted attempt left
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = task.build(study.design(variant))
    callback = keras.callbacks.TensorBoard(str(folder), write_graph=False, profile_batch=0)
    metrics, samples = task.train(model, seed, study.epochs, [callback])
    record = {"run": name, "variant": variant, "seed": seed, "status": "COMPLETED", **costs,
              **{key: float(value) for key, value in metrics.items()}, "epochs": study.epochs}
    if samples:
        (logdir / "samples").mkdir(exist_ok=True)
        np.savez_compressed(logdir / "samples" / f"{variant}-seed{seed}.npz", **samples)
    _write_session(folder, record, [*study.metrics, *COSTS, "receptive_field"], samples)
    append_json_line(logdir / "runs.jsonl", record)
    return record


def write_outputs(logdir: Path, write: Callable[[str], None] = print) -> list[dict]:
    """table.md/.csv, the bar chart and the samples grid, from the logs alone; returns the rows."""
    study = read_study(logdir)
    rows = ablation_table.build_table(study, read_runs(logdir))
    (logdir / "table.md").write_text(ablation_table.to_markdown(study, rows))
    (logdir / "table.csv").write_text(ablation_table.to_csv(rows))
    chart = logdir / f"{study['metric']}.png"
    ablation_table.plot_bars(study, rows, chart)
    written = [logdir / "table.md", logdir / "table.csv", chart]
    if (logdir / "samples").is_dir():
        written.append(plot_samples(study, logdir))
    write("\n" + ablation_table.to_markdown(study, rows))
    write("written: " + ", ".join(map(str, written)) + f"\ndashboard: convnas board {logdir}")
    return rows


def plot_samples(study: dict, logdir: Path) -> Path:
    """One row per variant (first seed): input (nearest), output, target, flat-input output at init and trained."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ("input_nearest", "output", "target", "flat_output_init", "flat_output")
    titles = ("input (nearest x2)", "output", "target", "flat input, at init*", "flat input, trained*")
    variants = [v for v in ["baseline", *study["variants"]] if (logdir / "samples" / f"{v}-seed{min(study['seeds'])}.npz").exists()]
    figure, axes = plt.subplots(len(variants), len(names), figsize=(2 * len(names), 2 * len(variants) + 0.4), squeeze=False)
    for row, variant in enumerate(variants):
        samples = np.load(logdir / "samples" / f"{variant}-seed{min(study['seeds'])}.npz")
        for column, name in enumerate(names):
            axes[row, column].imshow(samples[name][0], interpolation="nearest")
            axes[row, column].set_xticks([])
            axes[row, column].set_yticks([])
            if row == 0:
                axes[row, column].set_title(titles[column], fontsize=9)
        axes[row, 0].set_ylabel(variant, fontsize=9)
    figure.text(0.01, 0.005, "* contrast-stretched to the full range", fontsize=8)
    figure.tight_layout(rect=(0, 0.02, 1, 1))
    path = logdir / "samples.png"
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
