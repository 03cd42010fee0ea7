"""A user's own data files: a NumPy ``.npz`` file (``npz:PATH``) or an image folder (``dir:PATH``).

`npz_source` and `image_dir_source` are the loaders `search.choices.DATASET_FILES` registers for
those kinds; `search.data.datasets.load_dataset` resolves PATH and splits what they return.

* ``npz:PATH``: arrays ``x_train``, ``y_train`` and optionally ``x_test``, ``y_test``, checked as
  `datasets.checked_arrays` checks them (uint8 images have scale 1/255, float images scale 1).
* ``dir:PATH``: one subfolder per class, read with `keras.utils.image_dataset_from_directory`
  as 0..255, all of one size (read from the file headers first: mixed sizes are refused,
  never resized out of sight): one channel where every image is grayscale, else RGB; there is
  no test split; the subfolder names are the class names.
"""

from __future__ import annotations

import os
import zipfile

import keras
import numpy as np
import tensorflow as tf
from PIL import Image, UnidentifiedImageError

from convnas.search.data.datasets import BYTE_SCALE, DatasetError, Source, checked_arrays

NPY_MAGIC = b"\x93NUMPY"  # how a .npy file starts (numpy.lib.format.MAGIC_PREFIX)
# Image files `image_dataset_from_directory` reads (its ALLOWLIST_FORMATS).
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
# Pillow's modes of grayscale images (bilevel, 8-bit, with alpha, 16- and 32-bit integer): read as one channel.
GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L")


def npz_source(path: str) -> Source:
    """The arrays of the .npz file at `path`; DatasetError if it is missing, unreadable or malformed."""
    if not os.path.isfile(path):
        raise DatasetError(f"npz dataset file not found: {path}")
    if not zipfile.is_zipfile(path):  # np.load would take it for a pickle, and say it holds pickled data
        with open(path, "rb") as stream:
            npy = stream.read(len(NPY_MAGIC)) == NPY_MAGIC
        what = "a .npy file (one array)" if npy else "not an .npz archive"
        raise DatasetError(f"npz dataset file {path} is {what}; an .npz archive is what numpy.savez(PATH, "
                           "x_train=..., y_train=...) writes")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in ("x_train", "y_train", "x_test", "y_test") if key in archive}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, AttributeError) as error:
        # A damaged archive, or arrays of pickled objects (ValueError).
        reason = " ".join(str(error).split()) or type(error).__name__
        raise DatasetError(f"npz dataset file {path} could not be read as .npz: {reason}") from error
    for key in ("x_train", "y_train"):
        if key not in arrays:
            raise DatasetError(f"npz dataset file {path} has no array {key!r}")
    if ("x_test" in arrays) != ("y_test" in arrays):
        raise DatasetError(f"npz dataset file {path} must have both 'x_test' and 'y_test' or neither")
    return Source(*checked_arrays(f"npz dataset file {path}", arrays["x_train"], arrays["y_train"],
                                  arrays.get("x_test"), arrays.get("y_test")))


def image_dir_source(directory: str) -> Source:
    """Every image under `directory`, one subfolder per class, as 0..255, and the class names.

    The images must all have one size: a model takes one input size, and
    resizing them here would change them out of sight. They keep one channel
    where every one is grayscale (Pillow's mode, from the header), else are
    read as RGB.
    """
    if not os.path.isdir(directory):
        raise DatasetError(f"image folder not found: {directory}")
    files = _image_files(directory)
    if not files:
        raise DatasetError(
            f"image folder {directory} has no {'/'.join(IMAGE_SUFFIXES)} images in class subfolders"
        )
    height, width, gray = _image_format(directory, files)
    try:
        images = keras.utils.image_dataset_from_directory(
            directory,
            labels="inferred",
            label_mode="int",
            color_mode="grayscale" if gray else "rgb",
            batch_size=256,
            image_size=(height, width),  # every image's own size: nothing is resized
            shuffle=False,
            verbose=False,
        )
        class_names = tuple(images.class_names)
        batches = list(images.as_numpy_iterator())
    except (ValueError, tf.errors.OpError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise DatasetError(f"image folder {directory} could not be read: {reason}") from error
    x = np.concatenate([batch[0] for batch in batches]).astype(np.float32)
    y = np.concatenate([batch[1] for batch in batches]).astype(np.int32)
    return Source((x, y), None, BYTE_SCALE, class_names)


def _image_files(directory: str) -> list[str]:
    """The image files of the class subfolders, in the order `image_dataset_from_directory` reads them."""
    found = []
    for sub in sorted(os.listdir(directory)):
        root = os.path.join(directory, sub)
        if not os.path.isdir(root):
            continue
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            found += [os.path.join(folder, name) for name in sorted(files) if name.lower().endswith(IMAGE_SUFFIXES)]
    return found


def _image_format(directory: str, files: list[str]) -> tuple[int, int, bool]:
    """The one (height, width) of every image in `files`, and whether every one is grayscale, read from the file
    headers (Pillow decodes nothing here); DatasetError on mixed sizes."""
    examples: dict[tuple[int, int], str] = {}
    gray = True
    for path in files:
        try:
            with Image.open(path) as image:
                width, height = image.size
                gray = gray and image.mode in GRAY_MODES
        except (OSError, UnidentifiedImageError) as error:
            reason = " ".join(str(error).split()) or type(error).__name__
            raise DatasetError(f"image folder {directory} could not be read: {reason}") from error
        examples.setdefault((height, width), path)
    if len(examples) > 1:
        sizes = ", ".join(f"{h}x{w} (e.g. {os.path.relpath(path, directory)})" for (h, w), path in examples.items())
        raise DatasetError(
            f"image folder {directory} has images of {len(examples)} sizes (height x width), which cannot be batched "
            f"together: {sizes}; resize them to one size"
        )
    return (*next(iter(examples)), gray)
