"""Durable file I/O: atomic writes, an exclusive lock, and appended JSON lines.

A search or a study can be killed at any instant, and the workers of a
distributed search share one folder. Every file convnas writes goes through
here, so that a reader never sees a torn file:

- `write_atomically` writes beside the target and renames into place (all or
  nothing); paths with a scheme (`gs://...`) go through TensorFlow's
  `tf.io.gfile`, as keras-tuner's own I/O does;
- `locked` holds an exclusive lock on a lock file for the length of a block;
- `append_json_line` appends one JSON record, flushed to disk before it
  returns; `read_json_lines` skips a last line cut short by a kill.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path


def _remote(path: str | os.PathLike) -> bool:
    return "://" in str(path)


def write_atomically(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Calls `write(temporary_path)`, then renames the temporary file onto `path`.

    The temporary file sits beside `path` (same file system) and keeps its
    suffix, so that writers which choose a format by suffix (`.keras`,
    `.weights.h5`) still do.
    """
    path = str(path)
    folder, name = os.path.split(path)
    stem, dot, suffix = name.partition(".")
    temporary = os.path.join(folder, f".{stem}.{os.getpid()}.tmp{dot}{suffix}")
    write(temporary)
    if _remote(path):
        import tensorflow as tf

        tf.io.gfile.rename(temporary, path, overwrite=True)
    else:
        os.replace(temporary, path)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Writes `text` to `path` atomically (local or `tf.io.gfile` path)."""

    def write(temporary: str) -> None:
        if _remote(temporary):
            import tensorflow as tf

            with tf.io.gfile.GFile(temporary, "w") as stream:
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
    """An exclusive lock on `lock_path` (created if needed) for the length of the block."""
    Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def append_json_line(path: str | os.PathLike, record: dict) -> None:
    """Appends one record as a JSON line, flushed to disk before returning.

    A line cut short by a kill is ended first, so that it never swallows the
    record appended after it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab+") as stream:
        stream.seek(0, os.SEEK_END)
        torn = stream.tell() > 0 and (stream.seek(-1, os.SEEK_END), stream.read(1))[1] != b"\n"
        stream.write((b"\n" if torn else b"") + (json.dumps(record, default=float) + "\n").encode())
        stream.flush()
        os.fsync(stream.fileno())


def read_json_lines(path: str | os.PathLike) -> list[dict]:
    """The JSON objects of a JSON-lines file, in order; a line cut short by a kill is skipped."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records
