"""The commands that build models print none of TensorFlow's C++ log lines, at import or later (first device use).

Each command runs as a real process in the environment a user has: without
the TF_CPP_MIN_LOG_LEVEL that the tests' conftest sets. A distributed search
(its supervisor, chief and workers, and their log files) is checked by
tests/cli/test_cli_distributed.py's console test.
"""

import os
import subprocess
import sys

import pytest
import yaml
from tensorflow_logs import tensorflow_log_lines

CONVNAS = [sys.executable, "-m", "convnas"]
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
        ["ablate", "{tmp}/study.yaml", "--logdir", "{tmp}/study"],
    ],
    ids=["blocks", "cost", "search", "ablate"],
)
def test_no_tensorflow_log_line_reaches_the_user(tmp_path, start_process, args):
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(STUDY))
    environment = {name: value for name, value in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}
    process = start_process([*CONVNAS, *(arg.format(tmp=tmp_path) for arg in args)], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.communicate(timeout=540)
    assert process.returncode == 0, stderr[-2000:]
    assert stdout.strip()  # the command did its work
    assert tensorflow_log_lines(stdout + stderr) == [], (stdout + stderr)[-3000:]

