"""What needs TensorFlow says so on another backend, in one line, with exit status 2."""

import os
import subprocess
import sys

import keras
import pytest

pytestmark = pytest.mark.backends


def test_the_profiler_check_names_the_backend_it_needs():
    backend = keras.backend.backend()
    result = subprocess.run([sys.executable, "-m", "convnas", "cost", "MobileNet", "--input-shape", "32,32,3",
                             "--check"], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "KERAS_BACKEND": backend})
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"error: convnas cost: --check counts with TensorFlow's profiler, which needs KERAS_BACKEND=tensorflow. "
        f"Received: KERAS_BACKEND={backend}"]
