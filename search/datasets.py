"""The datasets a search trains on, as in-memory arrays and tf.data pipelines.

`load_dataset` turns a dataset name into a `Dataset`: float32 images scaled
to [0, 1] in channels-last (H, W, C) layout, int32 labels in
0..num_classes-1, and seeded train / validation (and usually test) splits.
The names are:

* ``"digits"``: scikit-learn's bundled 8x8 handwritten digits (1797 images,
  10 classes). Needs no network. A fixed, stratified 20% is the test split
  (the same for every seed); the rest is split into train and validation.
* ``"cluttered_digits"``: those digits at random positions and sizes (10 to
  20 pixels) on 28x28 canvases, among fragments of other digits
  (`search.cluttered_digits`, after Mnih et al. 2014's cluttered MNIST).
  Needs no network: it is generated, deterministically (the same arrays on
  every load). 5000 training and 2000 test canvases, drawn from disjoint
  source images; the test set is fixed (the same for every seed).
* ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``, ``"cifar100"``: the
  `keras.datasets` loaders, which download on first use into the Keras cache
  (``$KERAS_HOME/datasets`` when ``KERAS_HOME`` was set when Keras was
  imported, else ``~/.keras/datasets``, or ``/tmp/.keras/datasets`` when that
  is not writable) and read from the cache afterwards. The official test set
  is the test split. Offline, they work only once cached: mnist and the CIFARs
  check the cached file's hash, Fashion-MNIST's four gz files are read as they
  are.
* ``"npz:PATH"``: a NumPy ``.npz`` file with arrays ``x_train``, ``y_train``
  and optionally ``x_test``, ``y_test``.
* ``"dir:PATH"``: an image folder with one subfolder per class, read with
  `keras.utils.image_dataset_from_directory`; there is no test split.

In every case the validation split is carved out of the training images,
stratified by class (scikit-learn's `train_test_split`) and seeded: the same
seed gives the same splits.

`make_pipeline` wraps a pair of arrays in a cached, optionally shuffled,
batched and prefetched `tf.data.Dataset`, so that a trial trains as fast as a
hand-written ``model.fit`` on the arrays.

Example:

    data = load_dataset("digits", seed=0)
    train = make_pipeline(data.x_train, data.y_train, batch_size=64, shuffle=True)
    val = make_pipeline(data.x_val, data.y_val, batch_size=256, shuffle=False)
"""

from __future__ import annotations

import dataclasses
import numbers
import os
import pickle
import tempfile
import zipfile
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from convnas.blocks import validation
from convnas.search.cluttered_digits import make_cluttered_digits
from convnas.search.spec import DATASETS, KERAS_DATASETS

# The digits test split does not move with `seed`, so test accuracies of
# searches run with different seeds are measured on the same images.
DIGITS_TEST_FRACTION = 0.2
DIGITS_TEST_SEED = 0

# Image files `image_dataset_from_directory` reads (its ALLOWLIST_FORMATS).
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


class DatasetError(ValueError):
    """A user-facing problem with a dataset: unknown name, missing file, not cached offline.

    The message is one line naming the argument or dataset and the value,
    e.g. "`dataset` must be one of digits, ... Received: dataset='foo'".
    """


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """Images and labels of one dataset, split into train, validation and test.

    Attributes:
        name: The name it was loaded by, e.g. "digits" or "npz:/data/x.npz".
        x_train: float32 images in [0, 1], shape (N, H, W, C).
        y_train: int32 labels in 0..num_classes-1, shape (N,).
        x_val: Validation images, carved out of the training images.
        y_val: Validation labels.
        x_test: Test images, or None when the dataset has no test split.
        y_test: Test labels, or None.
        num_classes: Number of classes.
        input_shape: (H, W, C) of one image.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    num_classes: int
    input_shape: tuple[int, int, int]

    def __repr__(self) -> str:
        test = "None" if self.x_test is None else str(len(self.x_test))
        return (
            f"Dataset(name={self.name!r}, train={len(self.x_train)}, val={len(self.x_val)}, "
            f"test={test}, num_classes={self.num_classes}, input_shape={self.input_shape})"
        )


def load_dataset(
    name: str,
    seed: int = 0,
    validation_split: float = 0.2,
    data_dir: str | None = None,
) -> Dataset:
    """Loads a dataset by name and splits it, seeded.

    Args:
        name: "digits", "cluttered_digits", "mnist", "fashion_mnist",
            "cifar10", "cifar100", "npz:PATH" or "dir:PATH" (see the module
            docstring).
        seed: Seed of the train / validation split. The same seed gives the
            same splits.
        validation_split: Fraction of the training images held out for
            validation, strictly between 0 and 1.
        data_dir: Folder that a relative PATH in "npz:PATH" or "dir:PATH" is
            resolved against; the current directory when None. The
            `keras.datasets` cache is not affected (see the module docstring).

    Returns:
        The `Dataset`.

    Raises:
        DatasetError: On an unknown name, a bad `validation_split`, a missing
            or malformed file, or a `keras.datasets` dataset that is neither
            cached nor downloadable.
    """
    seed = _checked_split_arguments(seed, validation_split)
    if name == "digits":
        (x_train, y_train), test = _load_digits()
    elif name == "cluttered_digits":
        (x_train, y_train), test = make_cluttered_digits()  # generated, no download
    elif name in KERAS_DATASETS:
        (x_train, y_train), test = _load_keras_dataset(name)
    elif isinstance(name, str) and name.startswith("npz:") and name[4:]:
        (x_train, y_train), test = _load_npz(_resolve(name[4:], data_dir))
    elif isinstance(name, str) and name.startswith("dir:") and name[4:]:
        (x_train, y_train), test = _load_image_dir(_resolve(name[4:], data_dir))
    else:
        raise DatasetError(f"`dataset` must be one of {', '.join(DATASETS)}. Received: dataset={name!r}")
    x_test, y_test = (None, None) if test is None else test
    return from_arrays(name, x_train, y_train, x_test, y_test, seed=seed, validation_split=validation_split)


def from_arrays(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    seed: int = 0,
    validation_split: float = 0.2,
) -> Dataset:
    """Splits in-memory arrays into a `Dataset`, as `load_dataset` splits the arrays it loads.

    Args:
        name: The dataset's name, as `Dataset.name` keeps it.
        x_train: Training images (N, H, W, C), as the model takes them.
        y_train: Integer training labels in 0..num_classes-1, one per image.
        x_test: Test images, or None for a dataset without a test split.
        y_test: Test labels, or None.
        seed: Seed of the train / validation split, as in `load_dataset`.
        validation_split: Fraction of the training images held out for
            validation, strictly between 0 and 1.

    Returns:
        The `Dataset`, its validation split carved out of the training images.

    Raises:
        DatasetError: On a bad `seed` or `validation_split`, or fewer than 2
            training images.
    """
    seed = _checked_split_arguments(seed, validation_split)
    if len(x_train) < 2:
        raise DatasetError(
            f"dataset {name!r} has {len(x_train)} training image(s); a validation split needs at least 2"
        )
    num_classes = int(max(y_train.max(), -1 if y_test is None else y_test.max(initial=-1))) + 1
    train_idx, val_idx = _stratified_split(y_train, validation_split, seed)
    return Dataset(
        name=name,
        x_train=x_train[train_idx],
        y_train=y_train[train_idx],
        x_val=x_train[val_idx],
        y_val=y_train[val_idx],
        x_test=x_test,
        y_test=y_test,
        num_classes=num_classes,
        input_shape=tuple(int(size) for size in x_train.shape[1:]),
    )


def _checked_split_arguments(seed: int, validation_split: float) -> int:
    """The seed, once `seed` and `validation_split` are checked (DatasetError naming the bad one)."""
    if (
        not isinstance(validation_split, numbers.Real)
        or isinstance(validation_split, bool)
        or not 0 < validation_split < 1
    ):
        raise DatasetError(
            "`validation_split` must be between 0 and 1 (exclusive). "
            f"Received: validation_split={validation_split!r}"
        )
    return validation.non_negative_int("seed", seed)


def make_pipeline(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int = 0) -> tf.data.Dataset:
    """Returns a cached, batched, prefetched `tf.data.Dataset` of `(x, y)` pairs.

    Args:
        x: Images, first axis the examples.
        y: Labels, as many as images.
        batch_size: Examples per batch; the last batch may be smaller.
        shuffle: Whether to shuffle the whole set, differently each epoch.
        seed: Shuffle seed; the same seed gives the same sequence of epochs.
    """
    batch_size = validation.positive_int("batch_size", batch_size)
    validation.boolean("shuffle", shuffle)
    if len(x) != len(y):
        raise ValueError(f"`x` and `y` must have as many examples. Received: len(x)={len(x)}, len(y)={len(y)}")
    pipeline = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        pipeline = pipeline.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return pipeline.batch(batch_size).prefetch(tf.data.AUTOTUNE)


# --- splits -------------------------------------------------------------------------


def _stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Returns (kept, held-out) indices, sorted, with `fraction` of each class held out (scikit-learn's split).

    The held-out total is round(fraction * len(y)), at least 1 and at most
    len(y) - 1. The split is stratified by class wherever it can be: every
    class needs at least 2 images, and each side at least one image per
    class; otherwise (a tiny or very unbalanced dataset) it is a plain
    seeded random split.
    """
    total = len(y)
    n_held = min(max(round(fraction * total), 1), total - 1)
    classes, counts = np.unique(y, return_counts=True)
    stratifiable = counts.min() >= 2 and len(classes) <= min(n_held, total - n_held)
    kept, held = train_test_split(
        np.arange(total), test_size=n_held, stratify=y if stratifiable else None, random_state=seed
    )
    return np.sort(kept), np.sort(held)


# --- sources ------------------------------------------------------------------------

_Arrays = tuple[np.ndarray, np.ndarray]


def _load_digits() -> tuple[_Arrays, _Arrays]:
    digits = load_digits()  # bundled with scikit-learn, no download
    x = (digits.images.astype(np.float32) / 16.0)[..., np.newaxis]
    y = digits.target.astype(np.int32)
    rest, test = _stratified_split(y, DIGITS_TEST_FRACTION, DIGITS_TEST_SEED)
    return (x[rest], y[rest]), (x[test], y[test])


def _keras_cache_base() -> str:
    """The folder `keras.utils.get_file` caches under, decided as it decides it.

    Keras reads KERAS_HOME once, when it is imported, into
    `keras.src.backend.config.keras_home()`; `get_file` falls back to
    /tmp/.keras when that folder is not writable (or does not exist).
    """
    from keras.src.backend import config  # private accessor; no public API gives it

    base = os.path.expanduser(config.keras_home())
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    return base


_FASHION_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)


def _keras_cache_path(name: str) -> str:
    """The file `keras.datasets.<name>.load_data()` looks for in the cache.

    For Fashion-MNIST, the first of its four files that is missing (the one
    `get_file` would download next), or its folder when none is.
    """
    datasets_dir = os.path.join(_keras_cache_base(), "datasets")
    if name == "mnist":
        return os.path.join(datasets_dir, "mnist.npz")
    if name == "fashion_mnist":
        folder = os.path.join(datasets_dir, "fashion-mnist")
        for fname in _FASHION_FILES:
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


def _load_keras_dataset(name: str) -> tuple[_Arrays, _Arrays]:
    loader: Callable[[], tuple[_Arrays, _Arrays]] = getattr(keras.datasets, name).load_data
    try:
        (x_train, y_train), (x_test, y_test) = loader()
    except Exception as error:  # filtered below: get_file raises a plain Exception offline
        if not _is_load_error(error):
            raise
        path = _keras_cache_path(name)
        reason = " ".join(str(error).split()) or type(error).__name__
        if os.path.exists(path):
            raise DatasetError(
                f"dataset {name!r} could not be loaded from the Keras cache ({path}): {reason}"
            ) from error
        raise DatasetError(
            f"dataset {name!r} is not in the Keras cache ({path}) and could not be downloaded: {reason}"
        ) from error
    return (_images(x_train), _labels(y_train)), (_images(x_test), _labels(y_test))


def _resolve(path: str, data_dir: str | None) -> str:
    path = os.path.expanduser(path)
    if data_dir is not None and not os.path.isabs(path):
        path = os.path.join(os.path.expanduser(data_dir), path)
    return path


def _load_npz(path: str) -> tuple[_Arrays, _Arrays | None]:
    if not os.path.isfile(path):
        raise DatasetError(f"npz dataset file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in ("x_train", "y_train", "x_test", "y_test") if key in archive}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, AttributeError) as error:
        # np.load returns a bare array (no context manager: AttributeError)
        # for a .npy file, and raises ValueError for pickled object arrays.
        reason = " ".join(str(error).split()) or type(error).__name__
        raise DatasetError(f"npz dataset file {path} could not be read as .npz: {reason}") from error
    for key in ("x_train", "y_train"):
        if key not in arrays:
            raise DatasetError(f"npz dataset file {path} has no array {key!r}")
    if ("x_test" in arrays) != ("y_test" in arrays):
        raise DatasetError(f"npz dataset file {path} must have both 'x_test' and 'y_test' or neither")
    return checked_arrays(f"npz dataset file {path}", arrays["x_train"], arrays["y_train"], arrays.get("x_test"), arrays.get("y_test"))


def checked_arrays(source: str, x_train, y_train, x_test=None, y_test=None) -> tuple[_Arrays, _Arrays | None]:
    """Training (and test) images and labels as a search trains on them; DatasetError naming `source` otherwise.

    Images are (N, H, W) or (N, H, W, C), uint8 (scaled by 1/255) or float;
    labels are one non-negative integer per image. Test images must have the
    training images' shape.
    """
    train = _checked_split(source, "train", np.asarray(x_train), np.asarray(y_train))
    if x_test is None:
        return train, None
    test = _checked_split(source, "test", np.asarray(x_test), np.asarray(y_test))
    if test[0].shape[1:] != train[0].shape[1:]:
        raise DatasetError(f"{source}: 'x_test' images have shape {test[0].shape[1:]}, 'x_train' images {train[0].shape[1:]}")
    return train, test


def _checked_split(source: str, split: str, x: np.ndarray, y: np.ndarray) -> _Arrays:
    if x.ndim not in (3, 4):
        raise DatasetError(
            f"{source}: 'x_{split}' must be (N, H, W) or (N, H, W, C). Received shape {x.shape}"
        )
    if x.dtype != np.uint8 and not np.issubdtype(x.dtype, np.floating):
        raise DatasetError(
            f"{source}: 'x_{split}' must be uint8 or float. Received dtype {x.dtype}"
        )
    if not np.issubdtype(y.dtype, np.integer) or y.ndim not in (1, 2) or y.size != len(x):
        raise DatasetError(
            f"{source}: 'y_{split}' must hold one integer label per image. "
            f"Received shape {y.shape}, dtype {y.dtype}, {len(x)} images"
        )
    if y.size and y.min() < 0:
        raise DatasetError(f"{source}: 'y_{split}' has a negative label {int(y.min())}")
    return _images(x), _labels(y)


def _first_image(directory: str) -> str | None:
    """The first image file, in the order `image_dataset_from_directory` reads them."""
    for sub in sorted(os.listdir(directory)):
        root = os.path.join(directory, sub)
        if not os.path.isdir(root):
            continue
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for fname in sorted(files):
                if fname.lower().endswith(IMAGE_SUFFIXES):
                    return os.path.join(folder, fname)
    return None


def _load_image_dir(directory: str) -> tuple[_Arrays, None]:
    """Reads every image under `directory`, one subfolder per class, as RGB.

    All images are resized (bilinear) to the height and width of the first
    image found, so a folder of same-sized images is read unchanged.
    """
    if not os.path.isdir(directory):
        raise DatasetError(f"image folder not found: {directory}")
    first = _first_image(directory)
    if first is None:
        raise DatasetError(
            f"image folder {directory} has no {'/'.join(IMAGE_SUFFIXES)} images in class subfolders"
        )
    try:
        height, width = tf.image.decode_image(tf.io.read_file(first), expand_animations=False).shape[:2]
        images = keras.utils.image_dataset_from_directory(
            directory,
            labels="inferred",
            label_mode="int",
            color_mode="rgb",
            batch_size=256,
            image_size=(int(height), int(width)),
            shuffle=False,
            verbose=False,
        )
        batches = list(images.as_numpy_iterator())
    except (ValueError, tf.errors.OpError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise DatasetError(f"image folder {directory} could not be read: {reason}") from error
    x = np.concatenate([batch[0] for batch in batches]).astype(np.float32) / np.float32(255)
    y = np.concatenate([batch[1] for batch in batches]).astype(np.int32)
    return (x, y), None


def _images(x: np.ndarray) -> np.ndarray:
    """float32 channels-last images: uint8 scaled by 1/255, float kept as it is."""
    if x.ndim == 3:
        x = x[..., np.newaxis]
    if x.dtype == np.uint8:
        out = x.astype(np.float32)
        out /= np.float32(255)
        return out
    return x.astype(np.float32)


def _labels(y: np.ndarray) -> np.ndarray:
    return np.asarray(y).reshape(-1).astype(np.int32)
