"""The `keras.datasets` image sets (mnist, fashion_mnist, cifar10, cifar100), and one clear line when one fails.

`keras_source(name)` loads one as `search.data.datasets` takes it (registered for those names in
`search.choices.DATASETS`). The loaders download on first use into the Keras cache
(``$KERAS_HOME/datasets`` when ``KERAS_HOME`` was set when Keras was imported, else
``~/.keras/datasets``, or ``/tmp/.keras/datasets`` when that is not writable) and read from the
cache afterwards. This module works out, as Keras does, which file a loader looks for
(`cache_path`), so that a set that is neither cached nor downloadable fails with one line
naming the URL to fetch and the file to save it as. Keras's own notices and messages are read
through `search.adapter` (`DownloadNotices`, `fetch_failure`, `keras_home`).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import tempfile
import zipfile

import keras

from convnas.search import adapter
from convnas.search.data.datasets import DatasetError, Source, checked_arrays

FASHION_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)


def keras_source(name: str) -> Source:
    """The `keras.datasets` set `name`, its official test set as the test split (uint8 images: scale 1/255).

    Raises:
        DatasetError: when it is neither cached nor downloadable, or its cached file cannot be read.
    """
    path = cache_path(name)
    was_cached = os.path.isfile(path)
    held = adapter.DownloadNotices(sys.stdout)
    try:
        with contextlib.redirect_stdout(held):
            (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    except Exception as error:  # filtered below: get_file raises a plain Exception offline
        if not _is_load_error(error):
            raise
        raise load_error(name, path, was_cached, error, held.origin()) from error
    held.release()
    return Source(*checked_arrays(f"keras.datasets.{name}", x_train, y_train, x_test, y_test))


def cache_base() -> str:
    """The folder `keras.utils.get_file` caches under, decided as it decides it.

    Keras reads KERAS_HOME once, when it is imported (`adapter.keras_home`); `get_file` falls back
    to /tmp/.keras when that folder is not writable (or does not exist).
    """
    base = os.path.expanduser(adapter.keras_home())
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    return base


def cache_path(name: str) -> str:
    """The file `keras.datasets.<name>.load_data()` looks for in the cache.

    For Fashion-MNIST, the first of its four files that is missing (the one
    `get_file` would download next), or its folder when none is.
    """
    datasets_dir = os.path.join(cache_base(), "datasets")
    if name == "mnist":
        return os.path.join(datasets_dir, "mnist.npz")
    if name == "fashion_mnist":
        folder = os.path.join(datasets_dir, "fashion-mnist")
        for fname in FASHION_FILES:
            if not os.path.exists(os.path.join(folder, fname)):
                return os.path.join(folder, fname)
        return folder
    # get_file(fname="cifar-10-batches-py-target", extract=True) caches the
    # archive as "<fname>_archive" and extracts it into "<fname>".
    dirname = {"cifar10": "cifar-10-batches-py-target", "cifar100": "cifar-100-python-target"}[name]
    return os.path.join(datasets_dir, f"{dirname}_archive")


def _is_load_error(error: Exception) -> bool:
    """Whether `error` is one a `keras.datasets` loader raises for a missing or bad file.

    Offline, `get_file` turns urllib's URLError / HTTPError into a plain
    `Exception("URL fetch failure on ...")`; a download whose hash does not
    match raises ValueError; reading a damaged cached file raises OSError
    (e.g. gzip.BadGzipFile), EOFError, zipfile.BadZipFile, ValueError or
    pickle.UnpicklingError. Anything else is a bug and propagates.
    """
    return type(error) is Exception or isinstance(
        error, (OSError, ValueError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile)
    )


def load_error(name: str, path: str, was_cached: bool, error: Exception, origin: str | None) -> DatasetError:
    """The one-line DatasetError of a `keras.datasets` loader that failed: what to download, and where to put it.

    `origin` is the URL Keras announced it would download from, if it did.
    """
    fetch = adapter.fetch_failure(error)
    reason = " ".join(str(error).split()) or type(error).__name__
    if fetch is None and not (was_cached and origin):  # a cached file that could not be read
        return DatasetError(f"dataset {name!r} could not be loaded from the Keras cache ({path}): {reason}")
    if fetch is not None:
        origin, reason = fetch
    where = f"download {origin} and save it as {path}" if origin else f"place the file at {path}"
    if name == "fashion_mnist":
        where += f" (Fashion-MNIST needs all of {', '.join(FASHION_FILES)} in that folder, from one URL folder)"
    if was_cached:
        state = f"dataset {name!r}: its cached file did not match Keras's checksum (Keras removed it) and a new copy"
    else:
        state = f"dataset {name!r} is not in the Keras cache and"
    return DatasetError(
        f"{state} could not be downloaded ({reason}): {where}; the Keras cache is $KERAS_HOME/datasets, "
        "else ~/.keras/datasets"
    )
