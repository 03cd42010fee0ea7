"""The HParams dashboard's default view of a real search, read over HTTP from a real TensorBoard process."""

import pytest
from tensorboard_server import experiment, tensorboard, wait_for

from convnas.search.records import hparams_logging
from convnas.search.runner import run_search
from convnas.search.space.spec import build_spec

# The default space, with two more constants: a fixed head and a choice of one stem width.
SPACE = {"head": "flatten", "stem_filters": [16]}
CONSTANTS = {"batch_norm_momentum", "head", "stem_filters"}


@pytest.fixture(scope="module")
def search(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("dashboard")
    flags = {"dataset": "digits", "max_trials": 2, "epochs": 1, "logdir": str(logdir), "seed": 3}
    spec = build_spec({"space": SPACE}, flags)
    return logdir, run_search(spec, write=lambda line: None)


def ticked(hparam_infos: list[dict]) -> list[str]:
    """The hyperparameters the HParams pane ticks, as its code does: a stable sort by `differs`, then the first 5."""
    ordered = sorted(hparam_infos, key=lambda info: not info.get("differs", False))
    return [info["name"] for info in ordered[: hparams_logging.SHOWN]]


def test_the_default_view_shows_accuracy_cost_and_the_architecture_and_no_constant(search):
    logdir, records = search
    assert all(record.get("test_accuracy") is not None for record in records)  # the search records a test accuracy
    with tensorboard(logdir / "tensorboard") as port:
        shown = wait_for(lambda: experiment(port), lambda answer: answer.get("hparamInfos"))
    names = [info["name"] for info in shown["hparamInfos"]]
    assert not CONSTANTS & set(names)  # constants take no column at all
    assert {"learning_rate", "optimizer", "head_units", "stage1_blocks", "stage3_downsampling"} <= set(names)
    featured = {"stages", "stage1_cell", "stage1_block", "stage1_filters", "stage2_cell"}
    assert set(ticked(shown["hparamInfos"])) == featured
    metrics = [info["name"]["tag"] for info in shown["metricInfos"]]
    assert metrics[: hparams_logging.SHOWN] == ["val_accuracy", "test_accuracy", "params", "flops", "latency_ms"]
    assert {"train_seconds", "val_loss", "macs"} <= set(metrics[hparams_logging.SHOWN:])


def test_featured_hyperparameters_are_the_stages_then_each_stage_s_cell_block_and_filters():
    space = ["stem_filters", "stages", "stage1_cell", "stage1_filters", "stage1_blocks", "stage1_block", "stage2_cell",
             "stage2_filters", "learning_rate"]
    assert hparams_logging.featured(space) == ["stages", "stage1_cell", "stage1_block", "stage1_filters", "stage2_cell"]
    # A space of the user's own: its first hyperparameters, in its order.
    assert hparams_logging.featured(["units", "layers", "dropout", "activation", "rate", "momentum"]) == [
        "units", "layers", "dropout", "activation", "rate"]
