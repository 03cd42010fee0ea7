"""Durable I/O: atomic writes (local and through tf.io.gfile), appended JSON lines that survive a torn last line."""

import json

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
    durable_io.write_atomically(tmp_path / "checkpoint.weights.h5", lambda temporary: (seen.append(temporary), open(temporary, "w").close()))
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
