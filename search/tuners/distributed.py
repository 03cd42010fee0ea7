"""Distributed search on keras-tuner's own chief/worker engine, with its holes closed.

keras-tuner runs one oracle (the chief, a gRPC server) and any number of
workers that ask it for trials; the roles come from the environment
variables KERASTUNER_TUNER_ID ("chief" or a worker id),
KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT. Measured holes of the
engine, and what convnas does about them:

- A worker killed mid-trial leaves its trial assigned to its id and the chief
  waits forever. The local supervisor (`convnas search --workers N`) restarts
  a dead worker under the same id, which re-runs that trial; and the chief
  (`serve_chief`) ends a trial whose worker has not been heard from for
  `lost_worker_timeout` seconds as FAILED ("worker <id> lost"), so the search
  always finishes. Workers report at every epoch end (a `GetTrial` call).
- A worker started with overwrite deletes the chief's state: workers never
  overwrite (only the supervisor, once, before anything starts).
- A restarted chief reloads the oracle from LOGDIR/tuner and re-queues the
  trials that were in flight: the same command resumes. That includes a
  trial the chief was starting when it was killed, which keras-tuner would
  count and never run (`adapter.OracleAdapter.reload`).

The chief and every worker share LOGDIR (one machine, or a shared file
system): each worker appends its trial records there, and the chief reports
each record as it lands (`serve_chief`'s `each_poll`), so that the console
shows one search: one header, one line per trial with the count and the best
over all workers, one summary. The supervisor sends each worker's own output
(keras-tuner's displays, tracebacks) to LOGDIR/workers/<worker id>.log.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from convnas.search import adapter
from convnas.search.common.tables import wrap

ID, IP, PORT = "KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"
CHIEF = "chief"


def reserve_port(host: str = "127.0.0.1") -> socket.socket:
    """A socket bound to a free port of `host` and held, not listening, until the chief binds the port too.

    Bound with SO_REUSEPORT, as gRPC binds its servers: the chief (same user,
    same option) can bind the port while it is held, any other socket cannot,
    so the port cannot be taken between its choice and the chief's start.
    """
    reservation = socket.socket()
    reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    reservation.bind((host, 0))
    return reservation


def parse_address(text: str) -> tuple[str, int]:
    """HOST:PORT, with a port in 1..65535; ValueError naming the value otherwise."""
    host, _, port = str(text).rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"`chief` must be HOST:PORT with a port in 1..65535. Received: chief={text!r}")
    return host, int(port)


def set_role(tuner_id: str, host: str, port: int) -> None:
    """Makes this process keras-tuner's chief (tuner_id "chief") or a worker of the chief at host:port."""
    os.environ.update({ID: tuner_id, IP: host, PORT: str(port)})


def is_worker() -> bool:
    return IP in os.environ and os.environ.get(ID, "") != CHIEF


def is_chief() -> bool:
    return IP in os.environ and os.environ.get(ID, "") == CHIEF


def serve_chief(
    oracle,
    lost_worker_timeout: float,
    on_lost: Callable[[object, str], None],
    each_poll: Callable[[], None] = lambda: None,
    poll: float = 0.5,
) -> None:
    """Serves `oracle` to the workers until the search is over; ends trials of lost workers as FAILED.

    `on_lost(trial, reason)` records such a trial (it has been ended already).
    `each_poll()` is called every `poll` seconds and once more at the end
    (the chief reports the workers' new trial records there). keras-tuner's
    service is reached through `search.adapter.OracleService`.
    """
    console = threading.Lock()  # held by a request's handler, and by the chief's own lines (`each_poll`)
    service = adapter.OracleService(oracle, f"{os.environ[IP]}:{os.environ[PORT]}", console)
    started, stopped_at = time.monotonic(), None
    try:
        while True:
            time.sleep(poll)
            now = time.monotonic()
            for tuner_id, trial in oracle.ongoing().items():
                silent = now - service.heard.get(tuner_id, started)
                if silent > lost_worker_timeout:
                    reason = f"worker {tuner_id} lost: not heard from for {silent:.0f}s"
                    oracle.fail_lost_trial(tuner_id, trial, reason)
                    on_lost(trial, reason)
            with console:
                each_poll()
            if service.stop_requested() and not oracle.ongoing():
                # Every trial is done. Live workers ask once more and are told to stop; a worker
                # that died between trials never asks: wait for it no longer than for a lost one.
                stopped_at = stopped_at or now
                if not oracle.has_tuners() or now - stopped_at > min(lost_worker_timeout, 30):
                    break
    finally:
        service.stop(grace=1)
    with console:
        each_poll()  # a worker writes its record before it ends its trial: every record is in by now


class Supervisor:
    """Runs a chief and N local workers as processes, restarting a dead worker under its id.

    The chief writes to the console (the search's one view); each worker
    writes to `logdir`/workers/<worker id>.log, appended across restarts.
    """

    def __init__(
        self,
        command: list[str],
        workers: int,
        threads: int,
        write: Callable[[str], None],
        logdir: str | os.PathLike,
        max_restarts: int = 3,
    ):
        self.command, self.workers, self.threads, self.write = command, workers, threads, write
        self.max_restarts = max_restarts
        self.worker_logs = Path(logdir) / "workers"
        self.host = "127.0.0.1"
        self.reservation = reserve_port(self.host)  # released once the chief serves on it
        self.port = self.reservation.getsockname()[1]
        self.processes: dict[str, subprocess.Popen] = {}
        self.restarts: dict[str, int] = {}
        self.given_up: set[str] = set()

    def worker_log(self, tuner_id: str) -> Path:
        return self.worker_logs / f"{tuner_id}.log"

    def _start(self, tuner_id: str) -> None:
        # The role comes from the flags (the child calls set_role); OMP_NUM_THREADS caps oneDNN's own pool.
        role = ["--serve-chief"] if tuner_id == CHIEF else ["--worker-id", tuner_id, "--threads", str(self.threads)]
        address = ["--chief", f"{self.host}:{self.port}"]
        environment = {**os.environ, "OMP_NUM_THREADS": str(self.threads)}
        if tuner_id == CHIEF:
            self.processes[tuner_id] = subprocess.Popen([*self.command, *address, *role], env=environment)
            return
        self.worker_logs.mkdir(parents=True, exist_ok=True)
        with open(self.worker_log(tuner_id), "ab") as log:  # the child holds its own copy of the file
            self.processes[tuner_id] = subprocess.Popen(
                [*self.command, *address, *role], env={**environment, "PYTHONUNBUFFERED": "1"},
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )

    def _wait_for_chief(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[CHIEF].poll() is not None:
                raise RuntimeError(f"the chief exited with status {self.processes[CHIEF].returncode} before serving")
            with socket.socket() as probe:
                if probe.connect_ex((self.host, self.port)) == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"the chief did not serve on {self.host}:{self.port} within {timeout:.0f}s")

    def _restart_failed(self) -> None:
        for tuner_id, process in list(self.processes.items()):
            if tuner_id == CHIEF or tuner_id in self.given_up or process.poll() is None or process.returncode == 0:
                continue
            failed = f"{tuner_id} exited with status {process.returncode} (its output: {self.worker_log(tuner_id)})"
            if self.restarts.get(tuner_id, 0) >= self.max_restarts:
                self.given_up.add(tuner_id)  # the chief's lost-worker timeout ends its trial
                self.write(f"{failed}; restarted {self.max_restarts} times already, not again")
                continue
            self.restarts[tuner_id] = self.restarts.get(tuner_id, 0) + 1
            self.write(f"{failed}; restarting it under the same id")
            self._start(tuner_id)

    def run(self) -> int:
        """Supervises until the chief exits; returns its exit status."""
        self._start(CHIEF)
        try:
            self._wait_for_chief()
            self.reservation.close()
            for index in range(self.workers):
                self._start(f"worker{index}")
            self.write(wrap(
                f"distributed search: chief on {self.host}:{self.port}, {self.workers} workers x {self.threads} "
                f"thread(s), their output in {self.worker_logs}"
            ))
            while self.processes[CHIEF].poll() is None:
                time.sleep(0.5)
                self._restart_failed()
            return self.processes[CHIEF].returncode
        finally:
            self.reservation.close()
            for process in self.processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in self.processes.values():
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def child_arguments(argv: list[str]) -> list[str]:
    """The command-line arguments of a chief or worker: `argv` without --workers N and --overwrite."""
    arguments, skip = [], False
    for argument in argv:
        if skip:
            skip = False
            continue
        if argument == "--workers":
            skip = True
            continue
        if argument.startswith("--workers=") or argument == "--overwrite":
            continue
        arguments.append(argument)
    return arguments
