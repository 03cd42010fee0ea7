"""TensorBoard HParams for a search: the experiment's columns, and each trial's metrics.

keras-tuner, given a `keras.callbacks.TensorBoard(ROOT)` callback, writes each
trial's per-epoch scalars (the runs train and validation) and its
hyperparameters (the HParams session) under ROOT/<trial_id>/execution0. A
convnas candidate's session also holds `architecture`, the candidate in
short as the leaderboard writes it (`trial_records.describe`), and goes to
the validation run rather than a run of its own: two runs per trial, not
three (a space of the user's own keeps keras-tuner's layout). convnas adds
to the session's run, at step 0, the trial-record values (validation and
test accuracy, loss, parameters in thousands, MACs and FLOPs in millions,
latency, train time) as the scalars trial/..., and writes once, in the run
ROOT/search, the experiment configuration that names these metric columns,
so the HParams table, parallel-coordinates and scatter-matrix views show
accuracy beside cost for every trial. The hypervolume of the search's front
after each trial is the scalar "accuracy_vs_cost/hypervolume" of that run.

The dashboard's default view (read from TensorBoard's own code): the HParams
pane ticks the first SHOWN metrics in the configuration's order, and the
first SHOWN hyperparameters of the list its backend returns, sorted by
`differs` (true first), then by name; its table gives the trial's name and
every column at least 10em, with a check-box column between them, and
writes every number with 5 significant digits (32 as "32.000", 2512500 as
"2.5125e+6"). A 1440x900 window holds seven such columns whole, a
1600x1000 one eight. So for a convnas space the configuration has one
hyperparameter column, the architecture (every hyperparameter stays in
trials.csv and `convnas trials --all`), and the first COLUMNS metrics
(`experiment_metrics`): validation and test accuracy, parameters in
thousands and FLOPs in millions, units that read plainly; the default table
is the trial, its architecture and these four, whole in a 1440-pixel
window. A fifth metric column would reach past its right edge: latency,
train time, losses and MACs are the trial's scalars in the Scalars and
Time Series dashboards and in trials.csv, not HParams columns (a search
without test data has latency and train time in the test columns' place).
A space of the user's own (`build_model(hp)`) keeps a column per
hyperparameter, constants left out, the first SHOWN of the space ticked
(keras-tuner converts the space: `search.adapter.hparams_columns`), and
every metric. The Scalars dashboard groups tags by their prefix, in name
order, and opens the first two groups: the hypervolume's group is named to
come first, and the step-0 values share one group, "trial".
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from convnas.search import adapter
from convnas.search.records.trial_records import ARCHITECTURE, describe, is_architecture_space

SHOWN = 5  # the hyperparameters and the metrics TensorBoard's HParams pane ticks by default
COLUMNS = 4  # the metrics of a convnas space's HParams table: with the trial and the architecture, whole at 1440 px

# (record key, display name, unit divisor) of every metric, in the dashboard's order: a convnas space's first
# COLUMNS are its HParams columns, and every one is a trial scalar.
METRICS = (
    ("val_accuracy", "validation accuracy", 1),
    ("test_accuracy", "test accuracy", 1),
    ("params", "parameters (K)", 1e3),
    ("flops", "FLOPs (M)", 1e6),
    ("latency_ms", "latency (ms)", 1),
    ("train_seconds", "train time (s)", 1),
    ("val_loss", "validation loss", 1),
    ("test_loss", "test loss", 1),
    ("macs", "MACs (M)", 1e6),
)
UNITS = {1e3: "thousands", 1e6: "millions"}
FEATURED_STAGE_CHOICES = ("cell", "block", "filters")  # per stage, after the number of stages (a user's space)
SEARCH_RUN = "search"  # the run of the experiment configuration and the hypervolume after each trial
HYPERVOLUME_TAG = "accuracy_vs_cost/hypervolume"  # its group sorts before Keras's epoch_* groups


SESSION_RUN = "validation"  # where a convnas candidate's session goes: Keras's validation run, not a run of its own


def session_run(values) -> str | None:
    """The subfolder of an execution's folder that holds the HParams session of a trial with these hyperparameter
    values (or record): Keras's validation run for a convnas candidate, the execution's folder itself (None,
    keras-tuner's layout) for a space of the user's own."""
    return SESSION_RUN if is_architecture_space(values) else None


def session_extras(values) -> dict | None:
    """What a trial's HParams session holds beside its hyperparameters: a convnas candidate's architecture."""
    return {ARCHITECTURE: describe(values)} if is_architecture_space(values) else None


def trial_logdir(root: str | os.PathLike, record: dict) -> Path:
    """The run of a trial's HParams session (first execution), where its step-0 record values go."""
    folder = Path(root) / str(record["trial_id"]) / "execution0"
    run = session_run(record)
    return folder / run if run else folder


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


def metric_columns(objectives=()) -> list[tuple[str, str, str, float]]:
    """(record key, scalar tag, display name, unit divisor) of a search's metrics, its trial scalars: METRICS,
    any objective they lack right after the first (validation accuracy)."""
    columns = [(key, metric_tag(key, divisor), name, divisor) for key, name, divisor in METRICS]
    known = {key for key, _, _ in METRICS}
    extra = [(name, metric_tag(name, 1), name.replace("_", " "), 1) for name in objectives if name not in known]
    return columns[:1] + extra + columns[1:]


def experiment_metrics(objectives=(), tested: bool = True, architecture: bool = True) -> list[tuple[str, str]]:
    """(scalar tag, display name) of the HParams metric columns: the metric columns (the test ones only if the
    search is `tested`), the first COLUMNS of them for a convnas space (`architecture`)."""
    metrics = [(tag, name) for key, tag, name, _ in metric_columns(objectives)
               if tested or not key.startswith("test_")]
    return metrics[:COLUMNS] if architecture else metrics


def metric_tag(key: str, divisor: float) -> str:
    """The step-0 scalar of a record value: "trial/val_accuracy", "trial/params_thousands"."""
    return f"trial/{key}" + (f"_{UNITS[divisor]}" if divisor != 1 else "")


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
    """Writes the search's HParams experiment configuration in ROOT/search: the architecture column for a convnas
    space, else every hyperparameter of the space but the constants; the metrics of `experiment_metrics`."""
    from tensorboard.plugins.hparams import api as hparams_api

    space = hyperparameters.copy()
    for hyperparameter in space.space:  # inactive ones too: every column of the space
        space.values.setdefault(hyperparameter.name, hyperparameter.default)
    architecture = is_architecture_space(space.values)
    metrics = experiment_metrics(objectives, tested, architecture)
    if architecture:
        write_config(Path(root) / SEARCH_RUN, [hparams_api.HParam(ARCHITECTURE)], metrics)
        return
    hparams = [hparam for hparam in adapter.hparams_columns(space) if not constant(hparam)]
    write_config(Path(root) / SEARCH_RUN, hparams, metrics, featured([hparam.name for hparam in hparams]))


def write_scalars(folder: str | os.PathLike, record: dict, tags) -> None:
    """Writes the record's values of `tags` (those present) as step-0 scalars into `folder`."""
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        for tag in tags:
            if record.get(tag) is not None:
                tf.summary.scalar(tag, float(record[tag]), step=0)
    writer.close()


def write_hypervolume(root: str | os.PathLike, value: float, step: int) -> None:
    """Writes the hypervolume of the search's front after `step` finished trials (HYPERVOLUME_TAG)."""
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(Path(root) / SEARCH_RUN))
    with writer.as_default():
        tf.summary.scalar(HYPERVOLUME_TAG, float(value), step=step)
    writer.close()


def write_trial_metrics(root: str | os.PathLike, record: dict, objectives=()) -> None:
    """Writes the record's metric-column values, in their units, as step-0 scalars into the trial's session
    folder."""
    values = {tag: record[key] / divisor for key, tag, _, divisor in metric_columns(objectives)
              if record.get(key) is not None}
    write_scalars(trial_logdir(root, record), values, values)
