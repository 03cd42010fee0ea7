"""`convnas board` as a real process: TensorBoard on loopback, stopped with the command by Ctrl-C, SIGTERM or SIGHUP."""

import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from processes import children, command_line, running
from tensorboard_server import free_port

CONVNAS = [sys.executable, "-m", "convnas"]


def answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds:.0f}s")
        time.sleep(0.2)


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT],
                         ids=["SIGTERM", "SIGHUP", "SIGINT"])
def test_board_serves_tensorboard_and_a_signal_stops_both(tmp_path, start_process, signal_number):
    (tmp_path / "tensorboard").mkdir()
    port = free_port()
    # As from a terminal: a test runner's worker may ignore SIGINT, and its children would inherit that.
    board = start_process([*CONVNAS, "board", str(tmp_path), "--port", str(port)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert f"http://127.0.0.1:{port}/" in board.stdout.readline()
    wait_until(lambda: answers(port) or board.poll() is not None, 120, "TensorBoard did not answer")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/logdir", timeout=10) as response:
        assert str(tmp_path / "tensorboard") in response.read().decode()
    tensorboard = children(board.pid)
    assert len(tensorboard) == 1 and "tensorboard.main" in command_line(tensorboard[0])

    board.send_signal(signal_number)  # to the command only, as `kill PID` does
    assert board.wait(timeout=60) == 0
    errors = board.stderr.read()
    assert board.stdout.read() == "" and "Traceback" not in errors
    assert "experimental fast data loading" not in errors  # the loader is named, not announced
    wait_until(lambda: not answers(port) and not running(tensorboard[0]), 60, "TensorBoard still served or ran")


def test_board_refuses_a_missing_folder(tmp_path):
    result = subprocess.run([*CONVNAS, "board", str(tmp_path / "missing")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    missing = str(tmp_path / "missing")
    assert result.stderr == f"error: convnas board: LOGDIR is not a folder. Received: LOGDIR={missing!r}\n"


def test_board_on_a_busy_port_is_one_line_and_exit_2_before_tensorboard_starts(tmp_path):
    with socket.socket() as other_board:
        other_board.bind(("127.0.0.1", 0))
        other_board.listen()
        port = other_board.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run([*CONVNAS, "board", str(tmp_path), "--port", str(port)],
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"error: convnas board: --port {port} is in use (another TensorBoard?) on 127.0.0.1; "
                             "choose another --port\n")
    assert time.monotonic() - started < 30  # answered without importing TensorFlow


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--port", "99999", "argument --port: must be a port number, 1 to 65535. Received: '99999'"),
    ("--host", "no-such-host.invalid", "--host 'no-such-host.invalid' is not an address this machine can bind"),
])
def test_board_refuses_an_invalid_port_or_host_in_one_line(tmp_path, flag, value, message):
    result = subprocess.run([*CONVNAS, "board", str(tmp_path), flag, value], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr
