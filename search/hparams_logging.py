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
"""

from __future__ import annotations

import os
from pathlib import Path

# (tag, display name) of every metric column, in the order the dashboard shows them.
METRICS = (
    ("val_accuracy", "validation accuracy"),
    ("val_loss", "validation loss"),
    ("test_accuracy", "test accuracy"),
    ("params", "parameters"),
    ("macs", "MACs"),
    ("flops", "FLOPs"),
    ("latency_ms", "latency (ms)"),
    ("train_seconds", "train time (s)"),
)


def trial_logdir(root: str | os.PathLike, trial_id: str) -> Path:
    """Where keras-tuner writes a trial's TensorBoard session (first execution)."""
    return Path(root) / str(trial_id) / "execution0"


def write_config(root: str | os.PathLike, hparams: list, metrics) -> None:
    """Writes an HParams experiment configuration at `root`: hparams_api.HParam columns and (tag, name) metrics."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hparams_api

    writer = tf.summary.create_file_writer(str(root))
    with writer.as_default():
        hparams_api.hparams_config(hparams=hparams, metrics=[hparams_api.Metric(tag, display_name=name) for tag, name in metrics])
    writer.close()


def metric_tags(objectives=()) -> list[str]:
    """The metric columns of a search: METRICS, then any objective they lack."""
    tags = [tag for tag, _ in METRICS]
    return tags + [name for name in objectives if name not in tags]


def write_experiment(root: str | os.PathLike, hyperparameters, objectives=()) -> None:
    """Writes the search's HParams experiment configuration: every hyperparameter of the space, METRICS and the objectives."""
    from keras_tuner.src.engine import tuner_utils
    from tensorboard.plugins.hparams import api as hparams_api

    space = hyperparameters.copy()
    for hyperparameter in space.space:  # inactive ones too: every column of the space
        space.values.setdefault(hyperparameter.name, hyperparameter.default)
    names = dict(METRICS)
    metrics = [(tag, names.get(tag, tag.replace("_", " "))) for tag in metric_tags(objectives)]
    write_config(root, list(tuner_utils.convert_hyperparams_to_hparams(space, hparams_api)), metrics)


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
