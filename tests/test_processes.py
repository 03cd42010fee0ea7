"""The session guard of tests/processes.py, run in a pytest session of its own, with and without pytest-xdist."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import SESSION_VARIABLE, command_line, session_processes

TESTS = Path(__file__).resolve().parent
CONFTEST = f"""\
import sys

sys.path.insert(0, {str(TESTS)!r})
import processes

processes.mark_session()
from processes import no_process_outlives_the_session  # noqa: E402, F401
"""


def run_session(folder: Path, tests: str, *flags: str) -> subprocess.CompletedProcess:
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "conftest.py").write_text(CONFTEST)
    (folder / "test_session.py").write_text(tests)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *flags, str(folder)],
                          cwd=folder, capture_output=True, text=True, timeout=300)


def unused_seconds() -> str:
    """Seconds to sleep that no other process uses: drawn from the OS, not from `random`, which every test
    seeds alike (conftest), so that two workers running such tests at once never draw the same."""
    return f"{random.SystemRandom().randint(10**6, 10**7)}.5"


def sleeping(seconds: str) -> list[int]:
    return [
        pid for pid in map(int, filter(str.isdigit, os.listdir("/proc"))) if command_line(pid) == f"sleep {seconds}"
    ]


@pytest.mark.parametrize("flags", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_a_process_left_running_is_an_error_naming_it_and_is_ended(tmp_path, flags):
    child, orphan = unused_seconds(), unused_seconds()
    tests = f"""\
import subprocess

def test_leaves_a_child_running():
    subprocess.Popen(["sleep", "{child}"])

def test_leaves_an_orphan_running():
    subprocess.run(["sh", "-c", "sleep {orphan} &"], check=True)  # the shell exits: its child is no longer ours

def test_ends_what_it_starts():
    subprocess.run(["sleep", "0"], check=True)
"""
    result = run_session(tmp_path, tests, *flags)
    assert result.returncode == 1, result.stdout
    assert "3 passed" in result.stdout and "error" in result.stdout  # the tests pass; the session does not
    assert f"sleep {child}" in result.stdout and f"sleep {orphan}" in result.stdout
    assert "still running at the end of the session (now killed)" in result.stdout
    assert sleeping(child) == sleeping(orphan) == []


@pytest.mark.parametrize("flags", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_a_session_that_ends_its_processes_passes(tmp_path, flags):
    tests = """\
import subprocess

def test_waits_for_its_child():
    subprocess.run(["sleep", "0"], check=True)

def test_ends_its_child():
    process = subprocess.Popen(["sleep", "600"])
    process.kill()
    process.wait()
"""
    result = run_session(tmp_path, tests, *flags)
    assert result.returncode == 0, result.stdout
    assert "2 passed" in result.stdout and "error" not in result.stdout


def test_an_orphan_is_found_by_its_session_token_only():
    seconds = unused_seconds()
    subprocess.run(["sh", "-c", f"sleep {seconds} &"], check=True)  # re-parented away from this process at once
    deadline = time.monotonic() + 30  # the forked shell may not have exec'd sleep yet
    while not sleeping(seconds) and time.monotonic() < deadline:
        time.sleep(0.05)
    (orphan,) = sleeping(seconds)
    try:
        assert orphan in session_processes(os.environ[SESSION_VARIABLE])
        assert orphan not in session_processes("another-session")
    finally:
        os.kill(orphan, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while orphan in session_processes(os.environ[SESSION_VARIABLE]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert orphan not in session_processes(os.environ[SESSION_VARIABLE])
