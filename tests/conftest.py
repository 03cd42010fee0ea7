"""Test-wide settings: quiet TensorFlow, deterministic seeds, and no process left running after the session."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import processes  # noqa: E402

from convnas.cli import quiet_import_tensorflow  # noqa: E402

processes.mark_session()  # before any test module copies os.environ
quiet_import_tensorflow()  # its import-time C++ lines would reach the terminal under pytest-xdist

import keras  # noqa: E402
import pytest  # noqa: E402
from processes import no_process_outlives_the_session, start_process  # noqa: E402, F401


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
