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
  trials that were in flight: the same command resumes.

The chief and every worker share LOGDIR (one machine, or a shared file
system): each worker appends its trial records there.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from concurrent import futures

ID, IP, PORT = "KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"
CHIEF = "chief"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


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


def serve_chief(oracle, lost_worker_timeout: float, on_lost: Callable[[object, str], None], poll: float = 0.5) -> None:
    """Serves `oracle` to the workers until the search is over; ends trials of lost workers as FAILED.

    `on_lost(trial, reason)` records such a trial (it has been ended already).
    """
    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief
    from keras_tuner.src.engine import trial as trial_module

    class Servicer(oracle_chief.OracleServicer):
        """keras-tuner's servicer, noting when each worker was last heard from."""

        def __init__(self, oracle):
            super().__init__(oracle)
            self.heard = {}

        def _hear(self, tuner_id=None, trial_id=None):
            if tuner_id is None:
                tuner_id = next((t for t, trial in self.oracle.ongoing_trials.items() if trial.trial_id == trial_id), None)
            if tuner_id is not None:
                self.heard[tuner_id] = time.monotonic()

        def CreateTrial(self, request, context):
            self._hear(tuner_id=request.tuner_id)
            return super().CreateTrial(request, context)

        def UpdateTrial(self, request, context):
            self._hear(trial_id=request.trial_id)
            return super().UpdateTrial(request, context)

        def GetTrial(self, request, context):
            self._hear(trial_id=request.trial_id)
            return super().GetTrial(request, context)

    servicer = Servicer(oracle)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    server.add_insecure_port(f"{os.environ[IP]}:{os.environ[PORT]}")
    server.start()
    started, stopped_at = time.monotonic(), None
    try:
        while True:
            time.sleep(poll)
            now = time.monotonic()
            for tuner_id, trial in list(oracle.ongoing_trials.items()):
                silent = now - servicer.heard.get(tuner_id, started)
                if silent > lost_worker_timeout:
                    reason = f"worker {tuner_id} lost: not heard from for {silent:.0f}s"
                    trial.status, trial.message = trial_module.TrialStatus.FAILED, reason
                    oracle.end_trial(trial)
                    oracle.tuner_ids.discard(tuner_id)
                    on_lost(trial, reason)
            if servicer.stop_triggered and not oracle.ongoing_trials:
                # Every trial is done. Live workers ask once more and are told to stop; a worker
                # that died between trials never asks: wait for it no longer than for a lost one.
                stopped_at = stopped_at or now
                if not oracle.tuner_ids or now - stopped_at > min(lost_worker_timeout, 30):
                    break
    finally:
        server.stop(grace=1)


class Supervisor:
    """Runs a chief and N local workers as processes, restarting a dead worker under its id."""

    def __init__(self, command: list[str], workers: int, threads: int, write: Callable[[str], None], max_restarts: int = 3):
        self.command, self.workers, self.threads, self.write = command, workers, threads, write
        self.max_restarts = max_restarts
        self.host, self.port = "127.0.0.1", free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self.restarts: dict[str, int] = {}

    def _start(self, tuner_id: str) -> None:
        # The role comes from the flags (the child calls set_role); OMP_NUM_THREADS caps oneDNN's own pool.
        role = ["--serve-chief"] if tuner_id == CHIEF else ["--worker-id", tuner_id, "--threads", str(self.threads)]
        address = ["--chief", f"{self.host}:{self.port}"]
        environment = {**os.environ, "OMP_NUM_THREADS": str(self.threads)}
        self.processes[tuner_id] = subprocess.Popen([*self.command, *address, *role], env=environment)

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

    def run(self) -> int:
        """Supervises until the chief exits; returns its exit status."""
        self._start(CHIEF)
        try:
            self._wait_for_chief()
            for index in range(self.workers):
                self._start(f"worker{index}")
            self.write(f"distributed search: chief on {self.host}:{self.port}, {self.workers} workers x {self.threads} thread(s)")
            while self.processes[CHIEF].poll() is None:
                time.sleep(0.5)
                for tuner_id, process in list(self.processes.items()):
                    if tuner_id == CHIEF or process.poll() is None or process.returncode == 0:
                        continue
                    if self.restarts.get(tuner_id, 0) >= self.max_restarts:
                        continue  # the chief's lost-worker timeout ends its trial
                    self.restarts[tuner_id] = self.restarts.get(tuner_id, 0) + 1
                    self.write(f"{tuner_id} exited with status {process.returncode}; restarting it under the same id")
                    self._start(tuner_id)
            return self.processes[CHIEF].returncode
        finally:
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
