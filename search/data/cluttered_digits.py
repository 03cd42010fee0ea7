"""Cluttered digits: real handwritten digits at random places and sizes among digit fragments.

A bundled, offline dataset on which the architecture matters. The 8x8
scikit-learn digits are solved by almost any network; here a digit fills
only part of the canvas, anywhere on it, at any of several sizes, beside
fragments of other digits. To classify it, a network has to find it among
the clutter and see all of it at once: downsampling, receptive field and
depth make a difference in accuracy. It follows the cluttered translated
MNIST of Mnih et al., "Recurrent Models of Visual Attention" (NeurIPS 2014,
arXiv:1406.6247), used again by Jaderberg et al., "Spatial Transformer
Networks" (NeurIPS 2015, arXiv:1506.02025), on scikit-learn's digits
(`sklearn.datasets.load_digits`, 1797 images, values 0..16) instead of MNIST,
so that it needs no download and stays small enough for a CPU.

The recipe, for each canvas (28x28 by default):

1. the digit: a source image, enlarged to a random size (10 to 20 pixels by
   default) with bilinear interpolation (`skimage.transform.resize`; the
   digits are only ever enlarged, so no anti-aliasing filter is needed), and
   placed at a random position fully inside the canvas;
2. the clutter: a few square fragments (4 by default, 4 to 6 pixels wide)
   cropped at random from other source images, enlarged to the digit's
   size, and placed at random positions, over the digit or beside it;
3. digit and fragments are combined with `np.maximum` (strokes are bright on
   black) and clipped to [0, 1].

Train and test canvases come from disjoint source images: the 1797 images
are split once, stratified by class and with a fixed seed (`source_split`),
and a canvas's digit and its clutter come from its own side of that split,
so a test accuracy measures generalization to digits (and writers) never
seen in training. Every source image is the digit of about as many canvases
as every other one of its side.

Generation is seeded (one `numpy.random.Generator`) and uses only
deterministic calls, so the same arguments give the same arrays on every
machine; the defaults (5000 training and 2000 test canvases) take a fraction
of a second.

Example:

    (x_train, y_train), (x_test, y_test) = make_cluttered_digits(seed=0)
"""

from __future__ import annotations

import dataclasses

import numpy as np
from skimage.transform import resize
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from convnas.blocks import validation

CANVAS = 28
DIGIT_SIZES = (10, 20)
CLUTTER = 4
FRAGMENT_SIZES = (4, 6)
TRAIN_IMAGES = 5000
TEST_IMAGES = 2000

# The source split is fixed: every generation seed draws its test canvases
# from the same 25% of the source images (449 of 1797).
SOURCE_TEST_FRACTION = 0.25
SOURCE_SPLIT_SEED = 0


@dataclasses.dataclass(frozen=True, eq=False)
class Layout:
    """What goes where on each of N canvases; indices are into `load_digits().images`.

    Attributes:
        canvas: Height and width of every canvas.
        source: (N,) the source image of each canvas's digit (and its label).
        size: (N,) the digit's height and width once enlarged.
        position: (N, 2) the digit's top-left corner (row, column).
        clutter_source: (N, K) the source image of each fragment, never the
            canvas's own digit.
        fragment_size: (N, K) each fragment's height and width.
        crop: (N, K, 2) each fragment's top-left corner in its source image
            enlarged to the digit's size.
        clutter_position: (N, K, 2) each fragment's top-left corner on the canvas.
    """

    canvas: int
    source: np.ndarray
    size: np.ndarray
    position: np.ndarray
    clutter_source: np.ndarray
    fragment_size: np.ndarray
    crop: np.ndarray
    clutter_position: np.ndarray


def source_split() -> tuple[np.ndarray, np.ndarray]:
    """The sorted indices of the train and test source images, disjoint, stratified by class, fixed."""
    labels = load_digits().target  # bundled with scikit-learn, no download
    train, test = train_test_split(
        np.arange(len(labels)), test_size=SOURCE_TEST_FRACTION, stratify=labels, random_state=SOURCE_SPLIT_SEED
    )
    return np.sort(train), np.sort(test)


def make_layouts(
    canvas: int = CANVAS,
    train_images: int = TRAIN_IMAGES,
    test_images: int = TEST_IMAGES,
    digit_sizes: tuple[int, int] = DIGIT_SIZES,
    clutter: int = CLUTTER,
    fragment_sizes: tuple[int, int] = FRAGMENT_SIZES,
    seed: int = 0,
) -> tuple[Layout, Layout]:
    """The train and test layouts that `make_cluttered_digits` renders with the same arguments.

    Raises:
        ValueError: Naming the argument, on a size that is not a positive
            integer, a digit larger than the canvas or a fragment larger than
            the smallest digit.
    """
    canvas = validation.positive_int("canvas", canvas)
    train_images = validation.positive_int("train_images", train_images)
    test_images = validation.positive_int("test_images", test_images)
    digit_sizes = _size_range("digit_sizes", digit_sizes, canvas, "canvas")
    clutter = validation.non_negative_int("clutter", clutter)
    fragment_sizes = _size_range("fragment_sizes", fragment_sizes, digit_sizes[0], "smallest digit size")
    rng = np.random.default_rng(validation.non_negative_int("seed", seed))
    train_sources, test_sources = source_split()
    return tuple(
        _layout(sources, count, rng, canvas, digit_sizes, clutter, fragment_sizes)
        for sources, count in ((train_sources, train_images), (test_sources, test_images))
    )


def make_cluttered_digits(**settings) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Generates the dataset: ((x_train, y_train), (x_test, y_test)).

    Args:
        **settings: `make_layouts`'s arguments: canvas (height and width of
            the images), train_images and test_images (numbers of canvases),
            digit_sizes ((smallest, largest) size of the enlarged digit, in
            pixels), clutter (fragments on each canvas), fragment_sizes
            ((smallest, largest) fragment size) and seed (of the layouts; the
            source split does not depend on it); each defaults to this
            module's constant.

    Returns:
        float32 images in [0, 1] of shape (N, canvas, canvas, 1) and int32
        labels 0..9 of shape (N,), for the training and the test canvases.

    Raises:
        ValueError: As `make_layouts`.
    """
    layouts = make_layouts(**settings)
    digits = load_digits()
    images = digits.images.astype(np.float32) / np.float32(16)
    labels = digits.target.astype(np.int32)
    return tuple((_render(layout, images), labels[layout.source]) for layout in layouts)


def _size_range(name: str, value: object, largest: int, what: str) -> tuple[int, int]:
    """`value` as a (smallest, largest) pair of positive integers, at most `largest`."""
    pair = validation.size_tuple(name, value, 2)
    if pair[0] > pair[1] or pair[1] > largest:
        raise ValueError(
            f"`{name}` must be (smallest, largest) with smallest <= largest <= {what} ({largest}). "
            f"Received: {name}={value!r}"
        )
    return pair


def _layout(sources, count, rng, canvas, digit_sizes, clutter, fragment_sizes) -> Layout:
    """Draws `count` canvases whose digit and clutter all come from `sources`."""
    slot = rng.permutation(np.resize(np.arange(len(sources)), count))  # each source count/len(sources) times, +-1
    size = rng.integers(digit_sizes[0], digit_sizes[1], count, endpoint=True)
    position = rng.integers(0, (canvas - size + 1)[:, None], (count, 2))
    other = rng.integers(0, len(sources) - 1, (count, clutter))
    other += other >= slot[:, None]  # skips the canvas's own digit
    fragment_size = rng.integers(fragment_sizes[0], fragment_sizes[1], (count, clutter), endpoint=True)
    crop = rng.integers(0, (size[:, None] - fragment_size + 1)[..., None], (count, clutter, 2))
    clutter_position = rng.integers(0, (canvas - fragment_size + 1)[..., None], (count, clutter, 2))
    return Layout(canvas, sources[slot], size, position, sources[other], fragment_size, crop, clutter_position)


def _render(layout: Layout, images: np.ndarray) -> np.ndarray:
    """The (N, canvas, canvas, 1) float32 images of `layout`, from source images (M, 8, 8) in [0, 1]."""
    used = np.unique(np.concatenate([layout.source, layout.clutter_source.ravel()]))
    # One resize per digit size, of all the used source images at once.
    enlarged = {int(s): resize(images[used], (len(used), s, s), order=1) for s in np.unique(layout.size)}
    x = np.zeros((len(layout.source), layout.canvas, layout.canvas), np.float32)
    for out, source, size, (top, left), others, sides, crops, places in zip(
        x, np.searchsorted(used, layout.source), layout.size, layout.position,
        np.searchsorted(used, layout.clutter_source), layout.fragment_size, layout.crop, layout.clutter_position,
    ):
        digits = enlarged[int(size)]
        out[top : top + size, left : left + size] = digits[source]
        for other, side, (crop_top, crop_left), (row, col) in zip(others, sides, crops, places):
            window = out[row : row + side, col : col + side]
            np.maximum(window, digits[other, crop_top : crop_top + side, crop_left : crop_left + side], out=window)
    return np.clip(x, 0.0, 1.0)[..., np.newaxis]
