"""What the command line says when the world gets in the way: an unwritable log folder, Ctrl-C, a closed pipe.

An unwritable --logdir is one line naming it and exit status 2, before anything runs; Ctrl-C (a real SIGINT to
a real process) ends a search or a study with two lines, how much is kept and the exact command that resumes,
and exit status 130; output to a reader that has gone (`convnas trials LOGDIR | head`) ends quietly.
"""

import contextlib
import errno
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time

import pytest
import yaml

from convnas.cli import main
from convnas.commands import resume_command

CONVNAS = [sys.executable, "-m", "convnas"]
SEARCH_SPEC = "space:\n  stages: 1\n  cell: plain\n  filters: 16\n  blocks: 1\n"
STUDY = {
    "name": "interrupted",
    "epochs": 1,
    "seeds": 2,
    "base": {"stem_filters": 4, "stages": [{"filters": 4, "downsampling": "max"}]},
    "variants": {"avg": {"downsampling": "avg"}},
}


@pytest.mark.parametrize("command", ["search", "ablate"])
@pytest.mark.parametrize(
    "logdir, message",
    [
        ("{file}", "the log folder {file} is a file, not a folder; choose another --logdir. "
                   "Received: logdir='{file}'"),
        ("{file}/run", "the log folder {file}/run cannot be created: {file} is a file, not a folder; choose "
                       "another --logdir. Received: logdir='{file}/run'"),
    ],
    ids=["a_file", "under_a_file"],
)
def test_a_log_folder_that_is_a_file_is_one_line_and_exit_2(tmp_path, capsys, command, logdir, message):
    (tmp_path / "afile").write_text("")
    logdir, message = (text.format(file=tmp_path / "afile") for text in (logdir, message))
    arguments = ["search", "--max-trials", "1"] if command == "search" else ["ablate", "pooling"]
    assert main([*arguments, "--logdir", logdir]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"error: convnas {command}: {message}\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
@pytest.mark.parametrize("command", ["search", "ablate"])
@pytest.mark.parametrize("under", [False, True], ids=["read_only", "under_read_only"])
def test_a_read_only_log_folder_is_one_line_and_exit_2(tmp_path, capsys, command, under):
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    logdir = folder / "run" if under else folder
    arguments = ["search", "--max-trials", "1"] if command == "search" else ["ablate", "pooling"]
    try:
        assert main([*arguments, "--logdir", str(logdir)]) == 2
    finally:
        folder.chmod(0o755)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{folder} is not writable (permission denied); choose a folder" in err, err


@pytest.mark.parametrize("command", ["search", "ablate"])
def test_a_log_folder_without_write_permission_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, command):
    # As a user who is not root has it (root may write anywhere): os.access says no.
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    arguments = ["search", "--max-trials", "1"] if command == "search" else ["ablate", "pooling"]
    assert main([*arguments, "--logdir", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == (
        f"error: convnas {command}: the log folder {tmp_path / 'run'} cannot be created: {tmp_path} is not writable "
        f"(permission denied); choose a folder you can write with --logdir. Received: logdir='{tmp_path / 'run'}'\n")


def test_a_write_refused_during_the_run_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    from convnas.search import runner

    def refused(spec, **settings):  # a read-only file system, or permissions changed after the check
        raise PermissionError(errno.EROFS, "Read-only file system", str(tmp_path / "run" / "spec.json"))

    monkeypatch.setattr(runner, "run_search", refused)
    assert main(["search", "--max-trials", "1", "--logdir", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == (
        f"error: convnas search: the log folder {tmp_path / 'run'} cannot be written (Read-only file system: "
        f"{tmp_path / 'run' / 'spec.json'}); choose another --logdir. Received: logdir='{tmp_path / 'run'}'\n")


def test_an_unwritable_log_folder_is_refused_before_the_data_loads(tmp_path, capsys):
    (tmp_path / "afile").write_text("")
    status = main(["search", "--dataset", f"npz:{tmp_path / 'absent.npz'}", "--logdir", str(tmp_path / "afile")])
    assert status == 2 and "is a file, not a folder" in capsys.readouterr().err


def test_the_resume_command_is_the_same_command_without_overwrite():
    assert resume_command(["search", "my spec.yaml", "--overwrite", "--logdir", "runs/a"]) == (
        "convnas search 'my spec.yaml' --logdir runs/a")
    assert resume_command(["ablate", "pooling", "--overw", "--seeds", "2"]) == "convnas ablate pooling --seeds 2"


def interrupt_when(start_process, command, ready, timeout=240):
    """Runs `command`, sends it SIGINT (Ctrl-C) once `ready()`; returns (exit status, stdout, stderr)."""
    # As from a terminal: a shell's background job (or a test runner's worker) may ignore SIGINT, and its children
    # would inherit that.
    process = start_process(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None and not ready():
        time.sleep(0.02)
    assert process.poll() is None, "the command ended before it could be interrupted"
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    return process.returncode, stdout, stderr


def lines_of(path):
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_ctrl_c_in_a_search_says_what_is_kept_and_how_to_resume(tmp_path, start_process):
    spec, logdir = tmp_path / "spec.yaml", tmp_path / "run"
    spec.write_text(SEARCH_SPEC)
    arguments = ["search", str(spec), "--max-trials", "2", "--epochs", "1", "--logdir", str(logdir)]
    status, _, stderr = interrupt_when(start_process, [*CONVNAS, *arguments, "--overwrite"],
                                       lambda: lines_of(logdir / "trials.jsonl") >= 1)
    assert status == 130, stderr
    lines = stderr.splitlines()
    assert len(lines) == 2, stderr  # no traceback
    kept = re.fullmatch(rf"interrupted: (\d) of 2 trials finished and kept in {re.escape(str(logdir))}", lines[0])
    assert kept and int(kept[1]) == lines_of(logdir / "trials.jsonl") >= 1, lines[0]
    assert lines[1] == f"resume with: {shlex.join(['convnas', *arguments])}"  # --overwrite would start afresh
    if int(kept[1]) == 2:
        return  # interrupted as the search was writing its summary: nothing left to resume
    resumed = subprocess.run([*CONVNAS, *shlex.split(lines[1])[3:]], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    banner = " ".join(resumed.stdout[resumed.stdout.index("search: "):].split())  # after keras-tuner's "Reloading
    assert "; 1 already done; logging to " in banner  # Tuner from ..." line; wrapped within 100 columns
    assert lines_of(logdir / "trials.jsonl") == 2


def test_ctrl_c_in_a_study_says_what_is_kept_and_how_to_resume(tmp_path, start_process):
    spec, logdir = tmp_path / "study.yaml", tmp_path / "study"
    spec.write_text(yaml.safe_dump(STUDY))
    arguments = ["ablate", str(spec), "--logdir", str(logdir)]
    status, _, stderr = interrupt_when(start_process, [*CONVNAS, *arguments], lambda: lines_of(logdir / "runs.jsonl"))
    assert status == 130, stderr
    lines = stderr.splitlines()
    assert len(lines) == 2, stderr
    runs = lines_of(logdir / "runs.jsonl")
    assert lines == [f"interrupted: {runs} run{'' if runs == 1 else 's'} finished and kept in {logdir}",
                     f"resume with: {shlex.join(['convnas', *arguments])}"]


@contextlib.contextmanager
def closed_stdout():
    """sys.stdout writing into a pipe whose reader has gone, as `convnas ... | head` leaves it."""
    reader, writer = os.pipe()
    os.close(reader)
    saved, sys.stdout = sys.stdout, open(writer, "w")
    try:
        yield
    finally:
        stream, sys.stdout = sys.stdout, saved
        stream.close()


@pytest.fixture(scope="module")
def many_trials(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("many")
    record = {"status": "COMPLETED", "reason": "", "stages": 1, "val_accuracy": 0.9, "params": 100, "flops": 1000}
    (logdir / "trials.jsonl").write_text("".join(json.dumps({"trial_id": str(i), **record}) + "\n"
                                                 for i in range(100)))
    return logdir


@pytest.mark.parametrize("arguments", [["trials", "{logdir}"], ["trials", "{logdir}", "--format", "json"],
                                       ["trials", "{logdir}", "--all", "--format", "csv"], ["--help"],
                                       ["search", "--help"]])
def test_output_to_a_closed_pipe_ends_quietly(capsys, many_trials, arguments):
    with closed_stdout():
        assert main([argument.format(logdir=many_trials) for argument in arguments]) == 128 + signal.SIGPIPE
    assert capsys.readouterr().err == ""


def test_trials_piped_into_head_ends_without_a_traceback(many_trials):
    result = subprocess.run(f"{shlex.join([*CONVNAS, 'trials', str(many_trials)])} | head -1", shell=True,
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.split()[:2] == ["trial", "status"] and result.stdout.count("\n") == 1
    assert result.stderr == ""
