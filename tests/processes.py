"""The processes a test session starts, read from /proc (Linux), and the guard that none outlives the session.

`mark_session()` (conftest, at import: before any test module copies
`os.environ`) gives this pytest process a token in SESSION_VARIABLE that
every process it starts inherits, grandchildren and orphans included. The
token is this process's own, so under pytest-xdist each worker finds only
its own tests' processes. At the end of the session the autouse fixture
`no_process_outlives_the_session` reports, as an error, every process still
running that carries the token or is a child of this one, and ends it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

SESSION_VARIABLE = "CONVNAS_TEST_SESSION"
GRACE_SECONDS = 10  # for processes that are already on their way out (a server's helper noticing its parent left)
_session = {"token": None}


def mark_session() -> str:
    """Sets this process's token in SESSION_VARIABLE, which every process it starts from now on inherits."""
    token = f"{os.getpid()}-{uuid.uuid4().hex}"
    os.environ[SESSION_VARIABLE] = _session["token"] = token
    return token


def _state_and_parent(pid: int) -> tuple[str, int]:
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (command name)", which may hold spaces
    return fields[0], int(fields[1])


def running(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie."""
    try:
        return _state_and_parent(pid)[0] not in "ZX"
    except (OSError, ValueError):
        return False


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _pids() -> list[int]:
    return [int(entry.name) for entry in os.scandir("/proc") if entry.name.isdigit()]


def children(pid: int) -> list[int]:
    """The running processes whose parent is `pid`."""
    found = []
    for other in _pids():
        with contextlib.suppress(OSError, ValueError):
            state, parent = _state_and_parent(other)
            if parent == pid and state not in "ZX":
                found.append(other)
    return found


def session_processes(token: str) -> list[int]:
    """The running processes, other than this one, that carry `token` or whose parent is this process."""
    me, marker = os.getpid(), f"{SESSION_VARIABLE}={token}".encode()
    found = []
    for pid in _pids():
        if pid == me:
            continue
        with contextlib.suppress(OSError, ValueError):  # gone meanwhile, or not readable
            state, parent = _state_and_parent(pid)
            if state not in "ZX" and (parent == me or marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")):
                found.append(pid)
    return found


def end_group(process: subprocess.Popen) -> None:
    """Kills the process group of `process` (started with start_new_session=True): it and every process it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)


@pytest.fixture
def start_process():
    """`start_process(command, **popen_arguments)` starts `command` in a session of its own; at teardown the
    whole session is killed, whatever the test did meanwhile."""
    started: list[subprocess.Popen] = []

    def start(command: list[str], **popen_arguments) -> subprocess.Popen:
        started.append(subprocess.Popen(command, start_new_session=True, **popen_arguments))
        return started[-1]

    yield start
    for process in started:
        end_group(process)


@pytest.fixture(scope="session", autouse=True)
def no_process_outlives_the_session():
    yield
    token = _session["token"]
    if token is None:
        return
    deadline = time.monotonic() + GRACE_SECONDS
    left = session_processes(token)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = session_processes(token)
    if not left:
        return
    described = "; ".join(f"pid {pid}: {command_line(pid)}" for pid in left)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    pytest.fail("processes started during the tests were still running at the end of the session (now killed): "
                f"{described}", pytrace=False)
