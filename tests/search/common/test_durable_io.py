"""Durable I/O: atomic writes, JSON lines that survive a torn last line and locks, local and through tf.io.gfile."""

import json
import threading

import tensorflow as tf

from convnas.search.common import durable_io


def test_atomic_writes_leave_the_whole_file_and_no_temporary(tmp_path):
    path = tmp_path / "oracle.json"
    durable_io.write_json(path, {"trials": 1})
    durable_io.write_json(path, {"trials": 2})
    assert json.loads(path.read_text()) == {"trials": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["oracle.json"]


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "best_model.keras"
    durable_io.write_text(path, "old")

    def torn(temporary):
        with open(temporary, "w") as stream:
            stream.write("half")
        raise OSError("killed mid-write")

    try:
        durable_io.write_atomically(path, torn)
    except OSError:
        pass
    assert path.read_text() == "old"


def test_temporary_files_keep_the_suffix_writers_choose_formats_by(tmp_path):
    seen = []
    def write(temporary):
        seen.append(temporary)
        open(temporary, "w").close()

    durable_io.write_atomically(tmp_path / "checkpoint.weights.h5", write)
    assert seen[0].endswith(".weights.h5") and (tmp_path / "checkpoint.weights.h5").exists()


def test_paths_with_a_scheme_go_through_gfile():
    tf.io.gfile.makedirs("ram://durable")
    durable_io.write_json("ram://durable/oracle.json", {"a": 1})
    assert tf.io.gfile.listdir("ram://durable") == ["oracle.json"]
    with tf.io.gfile.GFile("ram://durable/oracle.json") as stream:
        assert json.loads(stream.read()) == {"a": 1}


def test_json_lines_skip_a_line_cut_short(tmp_path):
    path = tmp_path / "runs.jsonl"
    durable_io.append_json_line(path, {"run": 1})
    durable_io.append_json_line(path, {"run": 2})
    with open(path, "a") as stream:
        stream.write('{"run": 3, "acc')  # a kill mid-append
    assert durable_io.read_json_lines(path) == [{"run": 1}, {"run": 2}]
    with durable_io.locked(tmp_path / ".lock"):
        durable_io.append_json_line(path, {"run": 4})
    assert durable_io.read_json_lines(path)[-1] == {"run": 4}


def test_json_lines_on_a_remote_file_system_append_read_back_and_end_a_torn_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a path turned local (`gs:/b/p`) would land here
    path = "ram://durable-lines/run/runs.jsonl"
    assert not durable_io.exists(path) and durable_io.read_json_lines(path) == []
    durable_io.append_json_line(path, {"run": 1})
    durable_io.append_json_line(path, {"run": 2})
    with tf.io.gfile.GFile(path, "a") as stream:
        stream.write('{"run": 3, "acc')  # a kill mid-write
    durable_io.append_json_line(path, {"run": 4})
    assert durable_io.read_json_lines(path) == [{"run": 1}, {"run": 2}, {"run": 4}]
    assert durable_io.read_text(path).splitlines()[-2:] == ['{"run": 3, "acc', '{"run": 4}']
    assert sorted(tf.io.gfile.listdir("ram://durable-lines/run")) == ["runs.jsonl"]  # no temporary left
    assert list(tmp_path.iterdir()) == []


def test_a_remote_lock_does_not_exclude_and_says_so(tmp_path, monkeypatch):
    # tf.io.gfile has no lock and no exclusive create: `locked` on a remote path runs the block unlocked
    # (documented in durable_io.locked). A second holder gets in at once where a local lock would wait.
    monkeypatch.chdir(tmp_path)
    lock = "ram://durable-lock/run/.records.lock"
    entered = threading.Event()

    def second_holder():
        with durable_io.locked(lock):
            entered.set()

    with durable_io.locked(lock):
        other = threading.Thread(target=second_holder)
        other.start()
        assert entered.wait(timeout=10)
    other.join()
    assert list(tmp_path.iterdir()) == [] and not tf.io.gfile.exists(lock)


def test_a_local_lock_excludes_a_second_holder(tmp_path):
    lock, order = tmp_path / "run" / ".records.lock", []

    def second_holder():
        with durable_io.locked(lock):
            order.append("second")

    with durable_io.locked(lock):
        other = threading.Thread(target=second_holder)
        other.start()
        other.join(timeout=0.5)
        order.append("first")
    other.join()
    assert order == ["first", "second"]
