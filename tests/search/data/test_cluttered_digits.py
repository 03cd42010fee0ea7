"""Tests of search.data.cluttered_digits and of `load_dataset("cluttered_digits")`.

No test touches the network: the dataset is generated from scikit-learn's
bundled digits, and one test loads it with sockets and downloads refused.
"""

import hashlib
import socket

import keras
import numpy as np
import pytest
from skimage.transform import resize
from sklearn.datasets import load_digits

from convnas.search.data.cluttered_digits import Layout, make_cluttered_digits, make_layouts, source_split
from convnas.search.data.datasets import load_dataset
from convnas.search.space.spec import check_dataset

LAYOUT_FIELDS = ("source", "size", "position", "clutter_source", "fragment_size", "crop", "clutter_position")


@pytest.fixture(scope="module")
def data():
    return make_cluttered_digits(seed=0)


@pytest.fixture(scope="module")
def layouts():
    return make_layouts(seed=0)


def _digest(layout: Layout) -> str:
    sha = hashlib.sha256()
    for field in LAYOUT_FIELDS:
        sha.update(np.ascontiguousarray(getattr(layout, field), dtype=np.int64).tobytes())
    return sha.hexdigest()[:16]


def _rows(x):
    return sorted(row.tobytes() for row in x.reshape(len(x), -1))


def test_shapes_dtypes_ranges_and_class_balance(data):
    (x_train, y_train), (x_test, y_test) = data
    assert x_train.shape == (5000, 28, 28, 1) and y_train.shape == (5000,)
    assert x_test.shape == (2000, 28, 28, 1) and y_test.shape == (2000,)
    for x, y in data:
        assert x.dtype == np.float32 and y.dtype == np.int32
        assert x.min() == 0.0 and x.max() == 1.0
        counts = np.bincount(y, minlength=10)
        assert len(counts) == 10 and counts.min() >= 0.09 * len(y) and counts.max() <= 0.11 * len(y)


def test_generation_is_deterministic_and_pinned(data, layouts):
    again = make_cluttered_digits(seed=0)
    for (x, y), (x_again, y_again) in zip(data, again):
        np.testing.assert_array_equal(x_again, x)
        np.testing.assert_array_equal(y_again, y)
    # Pinned, so that any change in the generation shows: the integer layouts
    # exactly, the pixels up to floating-point rounding.
    assert [_digest(layout) for layout in layouts] == ["19d3f8ccb335adce", "d6b1554bb3cc0123"]
    (x_train, y_train), (x_test, y_test) = data
    assert y_test[:12].tolist() == [9, 6, 9, 8, 0, 0, 9, 8, 6, 7, 9, 3]
    assert np.bincount(y_train).tolist() == [496, 506, 489, 511, 501, 508, 512, 495, 484, 498]
    assert x_train.sum(dtype=np.float64) == pytest.approx(528767.4073, rel=1e-6)
    assert x_test.sum(dtype=np.float64) == pytest.approx(211349.6340, rel=1e-6)


def test_another_seed_gives_other_canvases(data):
    (x_train, _), (x_test, _) = make_cluttered_digits(train_images=100, test_images=100, seed=1)
    assert not np.array_equal(x_train, data[0][0][:100])
    assert not np.array_equal(x_test, data[1][0][:100])


def test_train_and_test_sources_are_disjoint_and_cover_every_class(layouts):
    train_sources, test_sources = source_split()
    labels = load_digits().target
    assert not set(train_sources) & set(test_sources)
    assert len(train_sources) + len(test_sources) == 1797
    assert set(labels[train_sources]) == set(labels[test_sources]) == set(range(10))
    for layout, sources in zip(layouts, (train_sources, test_sources)):
        assert set(layout.source) <= set(sources)
        assert set(layout.clutter_source.ravel()) <= set(sources)
        assert not (layout.clutter_source == layout.source[:, None]).any()  # clutter from other digits
        uses = np.bincount(np.searchsorted(sources, layout.source), minlength=len(sources))
        assert uses.max() - uses.min() <= 1  # every source image is a digit about equally often


def test_every_canvas_holds_its_digit_and_clutter_lies_only_where_fragments_go(data, layouts):
    images = load_digits().images / 16.0
    (x_train, y_train), (x_test, y_test) = data
    labels = load_digits().target
    for (x, y), layout in zip(((x_train, y_train), (x_test, y_test)), layouts):
        np.testing.assert_array_equal(y, labels[layout.source])
        assert layout.size.min() >= 10 and layout.size.max() <= 20
        assert layout.fragment_size.shape == (len(x), 4)
        cluttered = 0
        for i in range(200):
            image, size, (top, left) = x[i, ..., 0], layout.size[i], layout.position[i]
            digit = resize(images[layout.source[i]], (size, size), order=1)
            window = image[top : top + size, left : left + size]
            assert np.all(window >= digit - 1e-6), i  # the digit, untouched or under brighter clutter
            outside = np.ones_like(image, dtype=bool)
            outside[top : top + size, left : left + size] = False
            covered = np.zeros_like(outside)
            for side, (row, col) in zip(layout.fragment_size[i], layout.clutter_position[i]):
                covered[row : row + side, col : col + side] = True
            assert not np.any(image[outside & ~covered]), i
            cluttered += bool(np.any(image[outside]))
        assert cluttered >= 180  # most canvases show clutter beside the digit


def test_load_dataset_fixed_test_set_and_seeded_validation_split(data):
    first, second = load_dataset("cluttered_digits", seed=0), load_dataset("cluttered_digits", seed=1)
    assert first.input_shape == (28, 28, 1) and first.num_classes == 10
    assert (len(first.x_train), len(first.x_val), len(first.x_test)) == (4000, 1000, 2000)
    for dataset in (first, second):
        np.testing.assert_array_equal(dataset.x_test, data[1][0])
        np.testing.assert_array_equal(dataset.y_test, data[1][1])
        assert _rows(np.concatenate([dataset.x_train, dataset.x_val])) == _rows(data[0][0])
    assert _rows(first.x_val) != _rows(second.x_val)


def test_loads_with_the_network_disabled(monkeypatch, data):
    def refuse(*args, **kwargs):
        raise AssertionError("cluttered_digits tried to reach the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(keras.utils, "get_file", refuse)
    dataset = load_dataset("cluttered_digits", seed=2)
    np.testing.assert_array_equal(dataset.x_test, data[1][0])


def test_it_is_a_dataset_name_of_specs():
    assert check_dataset("cluttered_digits") == "cluttered_digits"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"digit_sizes": (10, 30)},
            r"`digit_sizes` must be \(smallest, largest\) with smallest <= largest <= canvas \(28\). "
            r"Received: digit_sizes=\(10, 30\)",
        ),
        (
            {"fragment_sizes": (4, 12)},
            r"`fragment_sizes` must be .* <= smallest digit size \(10\). Received: fragment_sizes=\(4, 12\)",
        ),
        ({"test_images": 0}, r"`test_images` must be a positive integer. Received: test_images=0"),
        ({"clutter": -1}, r"`clutter` must be a non-negative integer. Received: clutter=-1"),
    ],
)
def test_bad_arguments_are_refused_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        make_cluttered_digits(**kwargs)
