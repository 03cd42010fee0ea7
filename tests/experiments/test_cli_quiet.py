"""The commands that build models print none of TensorFlow's C++ log lines, at import or later (first device use).

Each command runs as a real process in the environment a user has: without
the TF_CPP_MIN_LOG_LEVEL that the tests' conftest sets. A distributed search
is checked with its chief and worker processes, and their log files.
"""

import os
import subprocess
import sys

import pytest
import yaml

CONVNAS = [sys.executable, "-m", "convnas"]
TENSORFLOW_LOG_LINES = (
    "failed call to cuInit",  # first device use on a machine without a GPU
    "cudart_stub",  # CUDA probing at import
    "cpu_feature_guard",  # "This TensorFlow binary is optimized to use available CPU instructions ..."
    "absl::InitializeLog",  # "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
    "oneDNN custom operations",
)
STUDY = {
    "name": "quiet",
    "epochs": 1,
    "seeds": 1,
    "base": {"stem_filters": 4, "stages": [{"filters": 4, "downsampling": "max"}]},
    "variants": {"avg": {"downsampling": "avg"}},
}
SEARCH = ["search", "--max-trials", "1", "--epochs", "1", "--overwrite"]


@pytest.mark.parametrize(
    "args",
    [
        ["blocks", "--input-shape", "8,8,1"],
        ["cost", "MobileNet", "--input-shape", "32,32,3", "--check"],  # builds, counts and runs the profiler
        [*SEARCH, "--logdir", "{tmp}/search"],
        [*SEARCH, "--workers", "1", "--logdir", "{tmp}/distributed"],  # the supervisor, a chief and a worker
        ["ablate", "{tmp}/study.yaml", "--logdir", "{tmp}/study"],
    ],
    ids=["blocks", "cost", "search", "distributed-search", "ablate"],
)
def test_no_tensorflow_log_line_reaches_the_user(tmp_path, start_process, args):
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(STUDY))
    environment = {name: value for name, value in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}
    process = start_process([*CONVNAS, *(arg.format(tmp=tmp_path) for arg in args)], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.communicate(timeout=540)
    assert process.returncode == 0, stderr[-2000:]
    assert stdout.strip()  # the command did its work
    worker_logs = "".join(path.read_text() for path in tmp_path.glob("distributed/workers/*.log"))
    output = stdout + stderr + worker_logs
    assert [marker for marker in TENSORFLOW_LOG_LINES if marker in output] == [], output[-3000:]
