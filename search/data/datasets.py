"""The datasets a search trains on, as in-memory arrays and tf.data pipelines.

`load_dataset` turns a dataset name into a `Dataset`: float32 images with
the values their source stores (0..16 for digits, 0..255 for 8-bit images)
in channels-last (H, W, C) layout, the factor `scale` that brings them to
[0, 1] (1/16, 1/255, or 1 for float data), int32 labels in
0..num_classes-1, and seeded train / validation (and usually test) splits.
A model takes the images as they are and rescales them itself
(`search.space.build_model`'s first layer), so a saved model takes data as
its user has it. The names are:

* ``"digits"``: scikit-learn's bundled 8x8 handwritten digits (1797 images,
  10 classes). Needs no network. A fixed, stratified 20% is the test split
  (the same for every seed); the rest is split into train and validation.
* ``"cluttered_digits"``: those digits at random positions and sizes (10 to
  20 pixels) on 28x28 canvases, among fragments of other digits
  (`search.data.cluttered_digits`, after Mnih et al. 2014's cluttered MNIST).
  Needs no network: it is generated, deterministically (the same arrays on
  every load). 5000 training and 2000 test canvases, drawn from disjoint
  source images; the test set is fixed (the same for every seed).
* ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``, ``"cifar100"``: the
  `keras.datasets` loaders (`search.data.keras_datasets`), which download on
  first use into the Keras cache (``$KERAS_HOME/datasets`` when
  ``KERAS_HOME`` was set when Keras was imported, else ``~/.keras/datasets``,
  or ``/tmp/.keras/datasets`` when that is not writable) and read from the
  cache afterwards. The official test set is the test split. Offline, they
  work only once cached: mnist and the CIFARs check the cached file's hash,
  Fashion-MNIST's four gz files are read as they are.
  Offline and not cached, they fail with one line naming the URL to fetch
  and the file to save it as (Keras's "Downloading data from" line is held
  back until the download has started).
* ``"npz:PATH"``: a NumPy ``.npz`` file with arrays ``x_train``, ``y_train``
  and optionally ``x_test``, ``y_test``; uint8 images have scale 1/255, float
  images scale 1 (`search.data.user_files`).
* ``"dir:PATH"``: an image folder with one subfolder per class, read with
  `keras.utils.image_dataset_from_directory`, all of one size; there is no
  test split. The subfolder names are `Dataset.class_names`
  (`search.data.user_files`).

In every case the validation split is carved out of the training images,
stratified by class (scikit-learn's `train_test_split`) and seeded: the same
seed gives the same splits. Data a classifier cannot be trained and
validated on is refused before anything trains: fewer than 2 classes, a
class with fewer than 2 training images (one for each split), images of
mixed sizes.

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
from typing import NamedTuple

import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from convnas.blocks import validation
from convnas.search import choices
from convnas.search.data.cluttered_digits import make_cluttered_digits

# The digits test split does not move with `seed`, so test accuracies of
# searches run with different seeds are measured on the same images.
DIGITS_TEST_FRACTION = 0.2
DIGITS_TEST_SEED = 0

DIGITS_SCALE = 1 / 16  # scikit-learn's digits are 0..16
BYTE_SCALE = 1 / 255  # 8-bit images are 0..255

# Per class, the stratified train / validation split needs one image on each side.
IMAGES_PER_CLASS = 2


class DatasetError(ValueError):
    """A user-facing problem with a dataset: unknown name, missing file, not cached offline, unusable data.

    The message is one line naming the argument or dataset and the value,
    e.g. "`dataset` must be one of digits, ... Received: dataset='foo'".
    """


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """Images and labels of one dataset, split into train, validation and test.

    Attributes:
        name: The name it was loaded by, e.g. "digits" or "npz:/data/x.npz".
        x_train: float32 images with the values their source stores (0..16
            for digits, 0..255 for 8-bit images), shape (N, H, W, C).
        y_train: int32 labels in 0..num_classes-1, shape (N,).
        x_val: Validation images, carved out of the training images.
        y_val: Validation labels.
        x_test: Test images, or None when the dataset has no test split.
        y_test: Test labels, or None.
        num_classes: Number of classes.
        input_shape: (H, W, C) of one image.
        scale: The factor that brings the images to [0, 1] (1/16 for
            digits, 1/255 for 8-bit images, 1 for float data): the models
            convnas builds multiply their input by it.
        class_names: The name of each class (an image folder's subfolders),
            or None when the classes are only numbers.
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
    scale: float = 1.0
    class_names: tuple[str, ...] | None = None

    def __repr__(self) -> str:
        test = "None" if self.x_test is None else str(len(self.x_test))
        return (
            f"Dataset(name={self.name!r}, train={len(self.x_train)}, val={len(self.x_val)}, "
            f"test={test}, num_classes={self.num_classes}, input_shape={self.input_shape}, scale={self.scale:.6g})"
        )


def load_dataset(
    name: str,
    seed: int = 0,
    validation_split: float = 0.2,
    data_dir: str | None = None,
) -> Dataset:
    """Loads a dataset by name and splits it, seeded.

    Args:
        name: A dataset of `search.choices.DATASETS` ("digits", "mnist",
            ...) or KIND:PATH of `DATASET_FILES` ("npz:PATH", "dir:PATH"):
            see the module docstring.
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
            or malformed file, a `keras.datasets` dataset that is neither
            cached nor downloadable, or data that cannot be split and trained
            on (see `from_arrays`; an image folder's images of mixed sizes).
    """
    seed = _checked_split_arguments(seed, validation_split)
    if not isinstance(name, str) or not (name in choices.DATASETS or choices.is_dataset_file(name)):
        raise DatasetError(f"`dataset` must be one of {', '.join(choices.dataset_names())}. Received: dataset={name!r}")
    if name in choices.DATASETS:
        source = choices.DATASETS.load(name)(name)
    else:
        kind, _, path = name.partition(":")
        source = choices.DATASET_FILES.load(kind)(_resolve(path, data_dir))
    x_test, y_test = (None, None) if source.test is None else source.test
    return from_arrays(name, *source.train, x_test, y_test, seed=seed, validation_split=validation_split,
                       scale=source.scale, class_names=source.class_names)


class Source(NamedTuple):
    """What a registered dataset loader returns (`search.choices.DATASETS`, `DATASET_FILES`).

    Attributes:
        train: (images, labels) of the training split: images (N, H, W, C) as their source stores them.
        test: (images, labels) of the test split, or None when there is none.
        scale: the factor that brings the images to [0, 1].
        class_names: each class's name, or None when the classes are only numbers.
    """

    train: _Arrays
    test: _Arrays | None
    scale: float = 1.0
    class_names: tuple[str, ...] | None = None


def digits_source(name: str) -> Source:
    return Source(*_load_digits(), DIGITS_SCALE)


def cluttered_digits_source(name: str) -> Source:
    return Source(*make_cluttered_digits(), 1.0)  # generated in [0, 1], no download


def from_arrays(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    seed: int = 0,
    validation_split: float = 0.2,
    scale: float = 1.0,
    class_names: tuple[str, ...] | None = None,
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
        scale: The factor that brings the images to [0, 1] (`Dataset.scale`).
        class_names: The name of each class, or None.

    Returns:
        The `Dataset`, its validation split carved out of the training images.

    Raises:
        DatasetError: On a bad `seed`, `validation_split` or `scale`, fewer
            than 2 training images, fewer than 2 classes, or a class with
            fewer than 2 training images (the split needs one on each side).
    """
    seed = _checked_split_arguments(seed, validation_split)
    try:
        scale = validation.positive_number("scale", scale)
    except ValueError as error:
        raise DatasetError(str(error)) from None
    if len(x_train) < 2:
        raise DatasetError(
            f"dataset {name!r} has {len(x_train)} training image(s); a validation split needs at least 2"
        )
    num_classes = int(max(y_train.max(), -1 if y_test is None else y_test.max(initial=-1))) + 1
    if class_names is not None:
        class_names = tuple(class_names)
        if len(class_names) < num_classes:
            raise DatasetError(
                f"dataset {name!r} has labels up to {num_classes - 1} but {len(class_names)} class names"
            )
        num_classes = len(class_names)
    _check_classes(name, y_train, class_names)
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
        scale=float(scale),
        class_names=class_names,
    )


def _check_classes(name: str, y_train: np.ndarray, class_names: tuple[str, ...] | None) -> None:
    """DatasetError unless there are 2 classes or more, each with IMAGES_PER_CLASS training images or more.

    With `class_names`, every named class counts (an empty class folder has
    0 images); otherwise the labels that occur.
    """
    labels, counts = np.unique(y_train, return_counts=True)
    if class_names is not None:
        counts = np.bincount(y_train, minlength=len(class_names))
        labels = np.arange(len(class_names))

    def called(label: int) -> str:
        return repr(class_names[label]) if class_names is not None else f"label {label}"

    if len(labels) < 2:
        present = ", ".join(called(int(label)) for label in labels) or "none"
        raise DatasetError(
            f"dataset {name!r} has {len(labels)} class ({present}); a classifier needs at least 2 classes"
        )
    small = int(np.argmin(counts))
    if counts[small] < IMAGES_PER_CLASS:
        count = int(counts[small])
        raise DatasetError(
            f"dataset {name!r}: class {called(int(labels[small]))} has {count} training image{'s' * (count != 1)}; "
            f"the stratified train/validation split needs at least {IMAGES_PER_CLASS} per class (one for each side)"
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
    class needs at least 2 images (`from_arrays` refuses fewer), and each
    side at least one image per class; otherwise (a validation split smaller
    than the number of classes) it is a plain seeded random split.
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
    x = digits.images.astype(np.float32)[..., np.newaxis]  # 0..16, as scikit-learn gives them
    y = digits.target.astype(np.int32)
    rest, test = _stratified_split(y, DIGITS_TEST_FRACTION, DIGITS_TEST_SEED)
    return (x[rest], y[rest]), (x[test], y[test])


def _resolve(path: str, data_dir: str | None) -> str:
    path = os.path.expanduser(path)
    if data_dir is not None and not os.path.isabs(path):
        path = os.path.join(os.path.expanduser(data_dir), path)
    return path


def checked_arrays(source: str, x_train, y_train, x_test=None, y_test=None) -> tuple[_Arrays, _Arrays | None, float]:
    """Training (and test) images and labels as a search trains on them, and their scale; DatasetError naming
    `source` otherwise.

    Images are (N, H, W) or (N, H, W, C), uint8 (scale 1/255) or float
    (scale 1), returned as float32 with their values unchanged; labels are
    one non-negative integer per image. Test images must have the training
    images' shape and kind (uint8 or float): one model takes both.
    """
    x_train, x_test = np.asarray(x_train), None if x_test is None else np.asarray(x_test)
    train = _checked_split(source, "train", x_train, np.asarray(y_train))
    scale = BYTE_SCALE if x_train.dtype == np.uint8 else 1.0
    if x_test is None:
        return train, None, scale
    test = _checked_split(source, "test", x_test, np.asarray(y_test))
    if test[0].shape[1:] != train[0].shape[1:]:
        raise DatasetError(
            f"{source}: 'x_test' images have shape {test[0].shape[1:]}, 'x_train' images {train[0].shape[1:]}"
        )
    if (x_test.dtype == np.uint8) != (x_train.dtype == np.uint8):
        raise DatasetError(
            f"{source}: 'x_test' is {x_test.dtype} and 'x_train' {x_train.dtype}; both must be uint8 or both float"
        )
    return train, test, scale


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


def _images(x: np.ndarray) -> np.ndarray:
    """float32 channels-last images with their values unchanged (uint8 0..255 stays 0..255)."""
    if x.ndim == 3:
        x = x[..., np.newaxis]
    return x.astype(np.float32)


def _labels(y: np.ndarray) -> np.ndarray:
    return np.asarray(y).reshape(-1).astype(np.int32)
