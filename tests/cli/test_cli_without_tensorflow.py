"""Help, flag and spec errors, `convnas trials`, `convnas table` and spec validation never import TensorFlow.

Each case runs in a fresh interpreter, as `python -m convnas ...` does (or
runs a script), and reports at exit which of TensorFlow, Keras and
keras-tuner (which import TensorFlow) are in `sys.modules`: none may be. A
command that builds models is the control: the probe does see TensorFlow
there.
"""

import json
import subprocess
import sys

import pytest

from convnas.experiments import ablation_spec
from convnas.search.records.trial_records import TrialRecords

HEAVY = {"tensorflow", "keras", "keras_tuner"}
PROBE = """\
import atexit, json, runpy, sys
heavy = {heavy!r}
atexit.register(lambda: print("PROBE " + json.dumps(sorted(heavy & set(sys.modules))), file=sys.stderr))
{run}
"""
RUN_CONVNAS = "sys.argv = ['convnas', *sys.argv[1:]]; runpy.run_module('convnas', run_name='__main__', alter_sys=True)"


def run_probed(run: str, *arguments: str) -> tuple[subprocess.CompletedProcess, set[str], list[str]]:
    """Runs the code `run` with `arguments` in a fresh interpreter; returns the result, the heavy modules it
    imported, and its other stderr lines."""
    script = PROBE.format(heavy=HEAVY, run=run)
    result = subprocess.run([sys.executable, "-c", script, *arguments], capture_output=True, text=True, timeout=300)
    lines = result.stderr.splitlines()
    probes = [json.loads(line[len("PROBE "):]) for line in lines if line.startswith("PROBE ")]
    assert len(probes) == 1, result.stderr
    return result, set(probes[0]), [line for line in lines if not line.startswith("PROBE ")]


@pytest.fixture(scope="module")
def search_logdir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("search")
    records = TrialRecords(logdir)
    records.append({"trial_id": "0", "status": "COMPLETED", "reason": "", "stages": 1, "stage1_cell": "plain",
                    "loss": 0.2, "accuracy": 0.95, "val_accuracy": 0.9, "params": 1200, "flops": 45000})
    records.append({"trial_id": "1", "status": "SKIPPED", "reason": "over budget: flops", "stages": 2, "params": 9000,
                    "flops": 9e6})
    return logdir


@pytest.fixture(scope="module")
def study_logdir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("study")
    study = ablation_spec.load_study("pooling", overrides={"seeds": 5})  # a fixed count, not the plan
    (logdir / "study.json").write_text(json.dumps({**study.as_dict(), "command": "convnas ablate pooling"}))
    runs = [
        {"run": f"{variant}/seed{seed}", "variant": variant, "seed": seed, "status": "COMPLETED",
         "test_accuracy": 0.9 + seed / 100, "test_loss": 0.3, "train_accuracy": 0.95, "train_loss": 0.2,
         "val_accuracy": 0.9, "val_loss": 0.3, "train_seconds": 4.0, "params": 20000, "macs": 10**6, "flops": 2 * 10**6,
         "receptive_field": 18, "epochs": study.epochs}
        for variant in study.variant_names() for seed in study.seeds
    ]
    (logdir / "runs.jsonl").write_text("".join(json.dumps(run) + "\n" for run in runs))
    return logdir


@pytest.mark.parametrize(
    "arguments, status, output",
    [
        (["--help"], 0, "usage: convnas"),
        (["search", "--help"], 0, "usage: convnas search"),
        (["search", "--epochs", "0"], 2,
         "error: convnas search: `epochs` must be a positive integer. Received: epochs=0"),
        (["search", "--tuner", "annealing"], 2, "error: convnas search: `tuner` must be one of 'random', "),
        (["search", "--proxy", "synflux"], 2, "error: convnas search: `proxy` must be one of 'synflow', "),
        (["ablate", "pooling", "--dataset", "imagenet"], 2, "error: convnas ablate: `dataset` must be one of digits, "),
        (["ablate", "polling"], 2, "error: convnas ablate: unknown study 'polling'"),
        (["board", "{missing}"], 2, "error: convnas board: LOGDIR is not a folder."),
    ],
)
def test_help_and_user_errors_answer_without_tensorflow(tmp_path, arguments, status, output):
    arguments = [argument.format(missing=tmp_path / "missing") for argument in arguments]
    result, imported, errors = run_probed(RUN_CONVNAS, *arguments)
    assert result.returncode == status, errors
    assert output in (result.stdout if status == 0 else "\n".join(errors))
    assert not HEAVY & imported, sorted(HEAVY & imported)


@pytest.mark.parametrize("form", ["md", "csv", "json"])
def test_trials_lists_the_records_without_tensorflow(search_logdir, form):
    result, imported, errors = run_probed(RUN_CONVNAS, "trials", str(search_logdir), "--format", form)
    assert result.returncode == 0, errors
    assert "over budget: flops" in result.stdout
    assert not HEAVY & imported, sorted(HEAVY & imported)


@pytest.mark.parametrize("form, expected", [("md", "| baseline | 92.00 |"), ("csv", "variant,seeds,"),
                                            ("text", "Holm p"),
                                            ("latex", r"\toprule"), ("report", "# Ablation: pooling"),
                                            ("summary", "## [pooling](pooling/report.md)")])
def test_table_rebuilds_a_study_table_without_tensorflow(study_logdir, form, expected):
    result, imported, errors = run_probed(RUN_CONVNAS, "table", str(study_logdir), "--format", form)
    assert result.returncode == 0, errors
    assert expected in result.stdout and "strided" in result.stdout  # a variant's row (LaTeX escapes its "_")
    assert not HEAVY & imported, sorted(HEAVY & imported)


SEARCH_SPEC = """\
tuner: bayesian
max_trials: 4
max_flops: 5.0e6  # a number, though YAML 1.1 (PyYAML's safe_load) reads it as text
space:
  stages: [1, 2]
  cell: [plain, residual]
  stage1_block: [conv, grouped_conv]
  optimizer: adam
  learning_rate: {min: 0.0005, max: 0.005}
"""


def test_every_spec_validates_without_tensorflow(tmp_path):
    (tmp_path / "search.yaml").write_text(SEARCH_SPEC)
    script = (
        "from convnas.experiments import ablation_spec\n"
        "from convnas.search.common import spec_files\n"
        "from convnas.search.space import spec\n"
        f"search = spec.build_spec(spec_files.load_yaml({str(tmp_path / 'search.yaml')!r}), {{}})\n"
        "print(search.max_flops, search.space['cell'])\n"
        "for name in ablation_spec.builtin_names():\n"
        "    for full in (False, True):\n"
        "        print(name, ablation_spec.load_study(name, full=full).dataset)\n"
    )
    result, imported, errors = run_probed(script)
    assert result.returncode == 0, errors
    assert result.stdout.splitlines()[0] == "5000000.0 ['plain', 'residual']"
    assert "upsampling photos" in result.stdout and "pooling cifar10" in result.stdout
    assert not HEAVY & imported, sorted(HEAVY & imported)


def test_the_probe_sees_tensorflow_where_a_command_builds_models():
    result, imported, errors = run_probed(RUN_CONVNAS, "blocks", "--input-shape", "4,4,2", "--json")
    assert result.returncode == 0, errors
    assert {"tensorflow", "keras"} <= imported


@pytest.mark.parametrize("folder", ["missing", "empty", "search"])
def test_table_on_a_folder_without_a_study_answers_before_importing_scipy(tmp_path, search_logdir, folder):
    logdir = {"missing": tmp_path / "missing", "empty": tmp_path, "search": search_logdir}[folder]
    script = ("import sys\nfrom convnas.cli import main\n"
              f"status = main(['table', {str(logdir)!r}])\nprint(status, 'scipy.stats' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["2", "False"], result.stdout + result.stderr  # SciPy's stats take ~1 s
    assert result.stderr.startswith("error: convnas table: LOGDIR ") and result.stderr.count("\n") == 1
