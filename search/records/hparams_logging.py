"""TensorBoard HParams for a search: the experiment's columns, and each trial's metrics.

keras-tuner, given a `keras.callbacks.TensorBoard(ROOT)` callback, writes each
trial's per-epoch scalars and its hyperparameters (the HParams session) under
ROOT/<trial_id>/execution0. convnas adds there, at step 0, the trial-record
values (validation and test accuracy, loss, parameters, MACs, FLOPs,
latency, train time), and writes once at ROOT the experiment configuration
that names these metric columns, so the HParams table, parallel-coordinates
and scatter-matrix views show accuracy beside cost for every trial. The
hypervolume of the search's front after each trial is the scalar
"hypervolume" of the run ROOT/search (Scalars tab).

The dashboard's default view (read from TensorBoard's own code): the HParams
pane ticks the first SHOWN metrics in the configuration's order, and the
first SHOWN hyperparameters of the list its backend returns, sorted by
`differs` (true first), then by name, whatever the configuration's order.
So the configuration lists the metrics people compare first (validation
and test accuracy, parameters, FLOPs, latency), marks `differs` on the
SHOWN featured architecture choices (the number of stages, then each
stage's cell, block and filters), and leaves out constants (a fixed
hyperparameter, or one with a single possible value): a constant never
takes a column. keras-tuner converts the space to HParams columns
(`search.adapter.hparams_columns`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from convnas.search import adapter

SHOWN = 5  # the hyperparameters and the metrics TensorBoard's HParams pane ticks by default

# (tag, display name) of every metric column, in the order the dashboard lists them: the first SHOWN are ticked.
METRICS = (
    ("val_accuracy", "validation accuracy"),
    ("test_accuracy", "test accuracy"),
    ("params", "parameters"),
    ("flops", "FLOPs"),
    ("latency_ms", "latency (ms)"),
    ("train_seconds", "train time (s)"),
    ("val_loss", "validation loss"),
    ("test_loss", "test loss"),
    ("macs", "MACs"),
)
FEATURED_STAGE_CHOICES = ("cell", "block", "filters")  # per stage, after the number of stages


def trial_logdir(root: str | os.PathLike, trial_id: str) -> Path:
    """Where keras-tuner writes a trial's TensorBoard session (first execution)."""
    return Path(root) / str(trial_id) / "execution0"


def write_config(root: str | os.PathLike, hparams: list, metrics, featured=()) -> None:
    """Writes an HParams experiment configuration at `root`: hparams_api.HParam columns and (tag, name) metrics.

    The hyperparameters named in `featured` are marked `differs`, which puts
    them first in the dashboard (see the module docstring).
    """
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hparams_api
    from tensorboard.plugins.hparams import plugin_data_pb2

    columns = [hparams_api.Metric(tag, display_name=name) for tag, name in metrics]
    summary = hparams_api.hparams_config_pb(hparams=hparams, metrics=columns)
    content = summary.value[0].metadata.plugin_data
    data = plugin_data_pb2.HParamsPluginData.FromString(content.content)
    for info in data.experiment.hparam_infos:
        info.differs = info.name in featured
    content.content = data.SerializeToString()
    writer = tf.summary.create_file_writer(str(root))
    with writer.as_default():
        tf.summary.experimental.write_raw_pb(summary.SerializeToString(), step=0)
    writer.close()


def metric_tags(objectives=()) -> list[str]:
    """The metric columns of a search: METRICS, then any objective they lack."""
    tags = [tag for tag, _ in METRICS]
    return tags + [name for name in objectives if name not in tags]


def constant(hparam) -> bool:
    """Whether an hparams_api.HParam has a single possible value (a fixed hyperparameter, a one-value choice)."""
    domain = hparam.domain
    if hasattr(domain, "values"):
        return len(set(domain.values)) <= 1
    return domain is not None and domain.min_value == domain.max_value


def featured(names) -> list[str]:
    """The SHOWN hyperparameters of `names` the dashboard ticks: the number of stages, then each stage's
    cell, block and filters, stage by stage; then the others, in `names`'s order (the space's)."""

    def rank(name: str) -> tuple:
        stage = re.fullmatch(r"stage(\d+)_(\w+)", name)
        if name == "stages":
            return (0,)
        if stage and stage.group(2) in FEATURED_STAGE_CHOICES:
            return (1, int(stage.group(1)), FEATURED_STAGE_CHOICES.index(stage.group(2)))
        return (2,)

    return sorted(names, key=rank)[:SHOWN]  # a stable sort: the others keep the space's order


def write_experiment(root: str | os.PathLike, hyperparameters, objectives=(), tested: bool = True) -> None:
    """Writes the search's HParams experiment configuration: every hyperparameter of the space but the constants,
    METRICS (the test columns only if the search is `tested`) and the objectives."""
    space = hyperparameters.copy()
    for hyperparameter in space.space:  # inactive ones too: every column of the space
        space.values.setdefault(hyperparameter.name, hyperparameter.default)
    names = dict(METRICS)
    metrics = [(tag, names.get(tag, tag.replace("_", " "))) for tag in metric_tags(objectives)
               if tested or not tag.startswith("test_")]
    hparams = [hparam for hparam in adapter.hparams_columns(space) if not constant(hparam)]
    write_config(root, hparams, metrics, featured([hparam.name for hparam in hparams]))


def write_scalars(folder: str | os.PathLike, record: dict, tags) -> None:
    """Writes the record's values of `tags` (those present) as step-0 scalars into `folder`."""
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        for tag in tags:
            if record.get(tag) is not None:
                tf.summary.scalar(tag, float(record[tag]), step=0)
    writer.close()


SEARCH_RUN = "search"  # the run of the search's own scalars (the hypervolume after each trial)


def write_hypervolume(root: str | os.PathLike, value: float, step: int) -> None:
    """Writes the hypervolume of the search's front after `step` finished trials as the scalar "hypervolume"."""
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(Path(root) / SEARCH_RUN))
    with writer.as_default():
        tf.summary.scalar("hypervolume", float(value), step=step)
    writer.close()


def write_trial_metrics(root: str | os.PathLike, record: dict, objectives=()) -> None:
    """Writes the record's metric-column values as step-0 scalars into the trial's session folder."""
    write_scalars(trial_logdir(root, record["trial_id"]), record, metric_tags(objectives))
