"""Durable file I/O: atomic writes, an exclusive lock, and appended JSON lines, on local and remote paths.

A search or a study can be killed at any instant, and the workers of a
distributed search share one folder. Every file convnas writes goes through
here, so that a reader never sees a torn file:

- `write_atomically` writes beside the target and renames into place (all or
  nothing);
- `locked` holds an exclusive lock on a lock file for the length of a block;
- `append_json_line` appends one JSON record, flushed to disk before it
  returns; `read_json_lines` skips a last line cut short by a kill.

A path with a scheme (`gs://bucket/run`, `ram://...`) is a string, never a
`pathlib.Path` (which would turn `gs://b/p` into the local `gs:/b/p`), and
goes through TensorFlow's `tf.io.gfile`, as keras-tuner's own I/O does;
TensorFlow is imported only then, so local folders stay TensorFlow-free. On
such a file system an append rewrites the whole file atomically, and there
is no lock (see `locked`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator


def _remote(path: str | os.PathLike) -> bool:
    """Whether `path` has a scheme (`gs://`, `ram://`, ...): a file system reached through `tf.io.gfile`."""
    return "://" in os.fspath(path)


def _gfile():
    import tensorflow as tf

    return tf.io.gfile


def exists(path: str | os.PathLike) -> bool:
    """Whether `path` exists (local or `tf.io.gfile` path)."""
    return _gfile().exists(os.fspath(path)) if _remote(path) else os.path.exists(path)


def make_folder(folder: str | os.PathLike) -> None:
    """Creates `folder` and its parents where missing (local or `tf.io.gfile` path)."""
    if _remote(folder):
        _gfile().makedirs(os.fspath(folder))
    else:
        os.makedirs(folder, exist_ok=True)


def read_text(path: str | os.PathLike) -> str:
    """The text of the file at `path` (local or `tf.io.gfile` path)."""
    if _remote(path):
        with _gfile().GFile(os.fspath(path), "r") as stream:
            return stream.read()
    with open(path) as stream:
        return stream.read()


def write_atomically(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Calls `write(temporary_path)`, then renames the temporary file onto `path`.

    The temporary file sits beside `path` (same file system) and keeps its
    suffix, so that writers which choose a format by suffix (`.keras`,
    `.weights.h5`) still do.
    """
    path = os.fspath(path)
    folder, name = os.path.split(path)
    stem, dot, suffix = name.partition(".")
    temporary = os.path.join(folder, f".{stem}.{os.getpid()}.tmp{dot}{suffix}")
    write(temporary)
    if _remote(path):
        _gfile().rename(temporary, path, overwrite=True)
    else:
        os.replace(temporary, path)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Writes `text` to `path` atomically (local or `tf.io.gfile` path)."""

    def write(temporary: str) -> None:
        if _remote(temporary):
            with _gfile().GFile(temporary, "w") as stream:
                stream.write(text)
            return
        with open(temporary, "w") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())

    write_atomically(path, write)


def write_json(path: str | os.PathLike, value, indent: int | None = None) -> str:
    """Writes `value` as JSON to `path` atomically; returns the text written."""
    text = json.dumps(value, indent=indent)
    write_text(path, text)
    return text


@contextlib.contextmanager
def locked(lock_path: str | os.PathLike) -> Iterator[None]:
    """An exclusive lock on `lock_path` (created if needed) for the length of the block.

    On a remote file system (a path with a scheme) there is no lock, and the
    block runs unlocked: `tf.io.gfile` offers neither file locks nor an
    exclusive create, and a lock file that a killed worker left behind would
    stop every other worker for good. Writers sharing a remote folder (the
    workers of a distributed search) can then lose a record appended at the
    same moment: each append rewrites the whole file, the last writer wins.
    """
    if _remote(lock_path):
        yield
        return
    make_folder(os.path.dirname(os.fspath(lock_path)) or ".")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def append_json_line(path: str | os.PathLike, record: dict) -> None:
    """Appends one record as a JSON line, flushed to disk before returning.

    A line cut short by a kill is ended first, so that it never swallows the
    record appended after it. On a remote file system the file is rewritten
    whole, atomically, with the record added.
    """
    line = json.dumps(record, default=float) + "\n"
    make_folder(os.path.dirname(os.fspath(path)) or ".")
    if _remote(path):
        text = read_text(path) if exists(path) else ""
        write_text(path, text + ("\n" if text and not text.endswith("\n") else "") + line)
        return
    with open(path, "ab+") as stream:
        stream.seek(0, os.SEEK_END)
        torn = stream.tell() > 0 and (stream.seek(-1, os.SEEK_END), stream.read(1))[1] != b"\n"
        stream.write((b"\n" if torn else b"") + line.encode())
        stream.flush()
        os.fsync(stream.fileno())


def read_json_lines(path: str | os.PathLike) -> list[dict]:
    """The JSON objects of a JSON-lines file, in order; a line cut short by a kill is skipped."""
    if not exists(path):
        return []
    records = []
    for line in read_text(path).splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records
