"""A real TensorBoard process on a free loopback port, and its HParams plugin's JSON endpoints."""

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(port: int, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def get(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return json.loads(response.read())


def experiment(port: int) -> dict:
    """The HParams experiment: hparamInfos (the hyperparameter columns) and metricInfos, as the dashboard reads them."""
    return post(port, "/data/plugin/hparams/experiment", {"experimentName": ""})


def session_groups(port: int) -> list[dict]:
    return post(port, "/data/plugin/hparams/session_groups", {
        "experimentName": "", "startIndex": 0, "sliceSize": 100, "colParams": [],
        "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
    }).get("sessionGroups", [])


@contextlib.contextmanager
def tensorboard(logdir):
    """Yields the port of `tensorboard --logdir LOGDIR --host 127.0.0.1`; the process ends when the block does."""
    port = free_port()
    board = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield port
    finally:
        board.kill()
        board.wait(timeout=10)


def wait_for(read, ready, seconds: float = 60.0):
    """Calls `read()` until `ready(result)`, retrying connection errors while TensorBoard starts; the last result."""
    deadline, result = time.monotonic() + seconds, None
    while time.monotonic() < deadline:
        try:
            result = read()
            if ready(result):
                break
        except OSError:
            pass
        time.sleep(1)
    return result
