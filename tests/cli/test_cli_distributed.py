"""Distributed search on keras-tuner's chief/worker engine, as real processes on loopback, with workers killed."""

import csv
import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
from processes import children, command_line, running
from tensorboard_server import free_port
from tensorflow_logs import tensorflow_log_lines

CONVNAS = [sys.executable, "-m", "convnas"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
SPEC = """\
max_trials: 4
epochs: 3
space:
  stages: 1
  cell: [plain, residual]
  filters: 16
  blocks: 1
"""


def lost_worker_is_training(logdir, worker_id: str) -> bool:
    """Whether the chief's saved oracle holds a trial of `worker_id` that has no record yet (it is training)."""
    try:
        ongoing = json.loads((logdir / "oracle.json").read_text())["ongoing_trials"]
    except (OSError, ValueError, KeyError):
        return False
    jsonl = logdir / "trials.jsonl"
    recorded = {json.loads(line)["trial_id"] for line in jsonl.read_text().splitlines()} if jsonl.exists() else set()
    return worker_id in ongoing and ongoing[worker_id] not in recorded


def rows(logdir):
    with open(logdir / "trials.csv") as stream:
        return list(csv.DictReader(stream))


def wait_for_records(logdir, count, process, timeout=240):
    jsonl, deadline = logdir / "trials.jsonl", time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if jsonl.exists() and len(jsonl.read_text().splitlines()) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} records after {timeout}s")


def finished(process, timeout):
    """The output of `process` once it ends. On a timeout the start_process fixture ends it with its chief and workers
    (subprocess.run would kill the supervisor alone)."""
    stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def worker_pid(logdir, worker_id):
    pattern = f"--logdir {logdir} --chief .* --worker-id {worker_id}"
    found = subprocess.run(["pgrep", "-f", "--", pattern], capture_output=True, text=True).stdout.split()
    return int(found[0]) if found else None


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    return path


def test_two_local_workers_survive_a_killed_worker_and_record_every_trial_once(spec, tmp_path, start_process):
    logdir = tmp_path / "run"
    process = start_process([*CONVNAS, "search", str(spec), "--workers", "2", "--logdir", str(logdir)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    wait_for_records(logdir, 1, process)
    pid = worker_pid(logdir, "worker0")
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # mid-trial, or between trials
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output
    log = logdir / "workers" / "worker0.log"
    assert f"worker0 exited with status -9 (its output: {log}); restarting it under the same id" in output
    records = rows(logdir)
    assert sorted(r["trial_id"] for r in records) == ["0", "1", "2", "3"]  # each trial exactly once
    assert {r["status"] for r in records} == {"COMPLETED"}
    assert (logdir / "pareto.csv").exists() and "leaderboard:" in output


def test_two_workers_print_like_one_search_and_log_their_own_output_in_logdir(spec, tmp_path, start_process):
    logdir = tmp_path / "run"
    # As a user has it:
    user_environment = {name: value for name, value in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}
    process = start_process([*CONVNAS, "search", str(spec), "--epochs", "1", "--workers", "2", "--logdir", str(logdir)],
                            env=user_environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stdout[-2000:] + stderr[-2000:]
    lines = (stdout + stderr).splitlines()
    assert len(lines) < 40, stdout + stderr  # keras-tuner's stray prints and displays made 400+
    assert sum(line.startswith("search: ") for line in lines) == 1  # the chief's header, not one per process
    trial = re.compile(r"trial (\w+) \[(\d+)/4\] COMPLETED: val_acc ([\d.]+);.* \| best ([\d.]+) \(\w+\)")
    trials = [trial.fullmatch(line.rsplit(" | ETA", 1)[0]) for line in lines if line.startswith("trial ")]
    assert len(trials) == 4 and all(trials), lines
    assert [int(match[2]) for match in trials] == [1, 2, 3, 4]  # counted over both workers
    assert sorted(match[1] for match in trials) == ["0", "1", "2", "3"]
    accuracies = [float(match[3]) for match in trials]
    assert [float(match[4]) for match in trials] == [max(accuracies[: n + 1]) for n in range(4)]  # the best over both
    assert sum(line == "leaderboard:" for line in lines) == sum(line.startswith("trials: ") for line in lines) == 1
    assert f"their output in {logdir / 'workers'}" in " ".join(" ".join(lines).split())  # wrapped within 100
    worker_logs = [(logdir / "workers" / f"{worker}.log").read_text() for worker in ("worker0", "worker1")]
    assert all("search: " in log for log in worker_logs)
    # Quiet from the supervisor to each worker:
    assert tensorflow_log_lines(stdout + stderr + "".join(worker_logs)) == []


def test_the_chief_fails_the_trial_of_a_lost_worker_and_finishes(spec, tmp_path, start_process):
    logdir, port = tmp_path / "run", free_port()
    address = ["--chief", f"127.0.0.1:{port}"]
    chief = start_process([*CONVNAS, "search", str(spec), "--logdir", str(logdir), "--serve-chief", *address,
                           "--lost-worker-timeout", "4"],
                          env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 120
    while True:  # until the chief serves
        assert time.monotonic() < deadline and chief.poll() is None
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    workers = {
        name: start_process([*CONVNAS, "search", str(spec), "--logdir", str(logdir), "--worker-id", name, *address],
                            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name in ("lost", "steady")
    }
    while not lost_worker_is_training(logdir, "lost"):
        assert time.monotonic() < deadline + 120
        time.sleep(0.05)
    workers["lost"].kill()  # mid-trial, and never restarted: only the chief's timeout can end its trial
    output, _ = chief.communicate(timeout=300)
    workers["steady"].wait(timeout=60)
    assert chief.returncode == 0, output
    records = rows(logdir)
    assert len(records) == len({r["trial_id"] for r in records}) == 4
    lost = [r for r in records if r["status"] == "FAILED"]
    assert len(lost) == 1 and all(r["reason"].startswith("worker lost lost: not heard from for") for r in lost)
    assert all(r["status"] == "COMPLETED" for r in records if r not in lost)


def test_distributed_flags_are_checked(tmp_path, capsys):
    from convnas.cli import main

    assert main(["search", "--worker-id", "w1", "--logdir", str(tmp_path / "x")]) == 2
    assert "--serve-chief and --worker-id need --chief HOST:PORT" in capsys.readouterr().err
    assert main(["search", "--serve-chief", "--chief", "localhost:99999", "--logdir", str(tmp_path / "x")]) == 2
    error = capsys.readouterr().err
    assert "`chief` must be HOST:PORT with a port in 1..65535. Received: chief='localhost:99999'" in error
    assert main(["search", "--workers", "0"]) == 2
    assert not (tmp_path / "x").exists()


def test_a_killed_chief_and_its_workers_resume_on_the_same_logdir(spec, tmp_path, start_process):
    logdir = tmp_path / "run"
    command = [*CONVNAS, "search", str(spec), "--workers", "2", "--logdir", str(logdir)]
    # In a session of its own:
    process = start_process(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_records(logdir, 1, process)
    os.killpg(process.pid, signal.SIGKILL)  # the whole machine goes down: supervisor, chief and workers
    process.wait()
    # The CSV is rewritten after each line: maybe not yet.
    done = len((logdir / "trials.jsonl").read_text().splitlines())
    assert 1 <= done < 4
    resumed = start_process(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    result = finished(resumed, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]
    records = rows(logdir)
    assert sorted(r["trial_id"] for r in records) == ["0", "1", "2", "3"]  # finished ones kept, each once
    assert {r["status"] for r in records} == {"COMPLETED"}


def test_a_terminated_supervisor_stops_its_chief_and_workers(spec, tmp_path, start_process):
    errors = tmp_path / "stderr.txt"  # a file, not a pipe: TensorFlow's logs could fill a pipe and block
    with errors.open("w") as stderr:
        process = start_process([*CONVNAS, "search", str(spec), "--workers", "1", "--logdir", str(tmp_path / "run")],
                                env=ENV, stdout=subprocess.PIPE, stderr=stderr, text=True)
    lines = iter(process.stdout.readline, "")
    # The chief serves, the worker started:
    assert any(line.startswith("distributed search: chief on") for line in lines)
    started = children(process.pid)
    assert len(started) == 2 and all(" search " in command_line(pid) for pid in started)
    process.send_signal(signal.SIGTERM)  # to the supervisor only, as `kill PID` does
    assert process.wait(timeout=120) == 130
    said = errors.read_text()
    assert re.search(r"^interrupted: \d+ of \d+ trials finished and kept in .*run$", said, re.MULTILINE), said[-2000:]
    assert f"resume with: convnas search {spec} --workers 1 --logdir {tmp_path / 'run'}" in said, said[-2000:]
    deadline = time.monotonic() + 60
    while any(map(running, started)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(running, started))


def test_children_never_overwrite():
    from convnas.search.tuners.distributed import child_arguments

    given = ["search", "spec.yaml", "--workers", "3", "--overwrite", "--logdir", "x"]
    assert child_arguments(given) == ["search", "spec.yaml", "--logdir", "x"]
    assert child_arguments(["search", "--workers=2", "--epochs", "1"]) == ["search", "--epochs", "1"]


def test_evolution_with_a_pareto_objective_on_two_workers_logs_the_hypervolume(spec, tmp_path, start_process):
    logdir = tmp_path / "run"
    process = start_process(
        [*CONVNAS, "search", str(spec), "--tuner", "evolution", "--objective", "pareto", "--max-trials", "8",
         "--epochs", "1", "--workers", "2", "--logdir", str(logdir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )
    result = finished(process, timeout=480)
    assert result.returncode == 0, result.stderr[-2000:]
    records = rows(logdir)
    assert sorted(int(row["trial_id"]) for row in records) == list(range(8))
    # In the order trials finished:
    landed = [json.loads(line) for line in (logdir / "trials.jsonl").read_text().splitlines()]
    hypervolumes = [float(record["hypervolume"]) for record in landed]
    assert hypervolumes == sorted(hypervolumes) and hypervolumes[-1] > 0  # the front only grows as records land
    final = next(line for line in result.stdout.splitlines() if line.startswith("hypervolume ("))
    assert float(final.rsplit(": ", 1)[1]) == pytest.approx(hypervolumes[-1], abs=1e-4)
    events = b"".join(path.read_bytes() for path in (logdir / "tensorboard" / "search").glob("events.out.tfevents.*"))
    assert events.count(b"hypervolume") >= 8  # one scalar per trial
    saved = json.loads((logdir / "spec.json").read_text())
    assert saved["tuner"] == "evolution"
    assert saved["hypervolume_reference"] == {"accuracy": 0.1, "cost": "flops", "ceiling": 1e10}


def test_asha_on_two_workers_promotes_and_resumes_after_a_kill(spec, tmp_path, start_process):
    """Rungs of 1 and 3 epochs: a candidate in the top third of the 1-epoch rung trains on from its weights."""
    logdir = tmp_path / "run"
    command = [*CONVNAS, "search", str(spec), "--tuner", "asha", "--max-trials", "6", "--workers", "2",
               "--logdir", str(logdir)]
    process = start_process(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_records(logdir, 2, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done = len((logdir / "trials.jsonl").read_text().splitlines())
    assert 2 <= done < 6
    result = finished(start_process(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
                      timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]
    records = rows(logdir)
    assert sorted(int(r["trial_id"]) for r in records) == list(range(6))
    assert {r["status"] for r in records} == {"COMPLETED"}
    promoted = [r for r in records if r["continues"]]
    assert promoted, "asha promoted no trial"
    by_id = {r["trial_id"]: r for r in records}
    for record in promoted:  # from its 1-epoch trial, on to 3 epochs
        assert (record["initial_epoch"], record["epochs"]) == ("1", "3")
        assert by_id[record["continues"]]["epochs"] == "1"
        parent = by_id[record["continues"]]
        assert {k: v for k, v in record.items() if k.startswith("stage")} == {
            k: v for k, v in parent.items() if k.startswith("stage")}  # the same candidate


def test_the_chief_s_port_is_held_from_its_choice_until_the_chief_binds_it():
    """The supervisor picks the chief's port and holds it: no other socket can take it in between, while the
    chief's gRPC server (SO_REUSEPORT, as gRPC binds) can."""
    from concurrent import futures

    import grpc

    from convnas.search.tuners.distributed import reserve_port

    reservation = reserve_port()
    port = reservation.getsockname()[1]
    with socket.socket() as other, pytest.raises(OSError) as taken:
        other.bind(("127.0.0.1", port))
    assert taken.value.errno == errno.EADDRINUSE
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    try:
        assert server.add_insecure_port(f"127.0.0.1:{port}") == port
        server.start()
        reservation.close()
        with socket.socket() as client:
            assert client.connect_ex(("127.0.0.1", port)) == 0  # the chief serves on the reserved port
    finally:
        server.stop(0)
        reservation.close()
