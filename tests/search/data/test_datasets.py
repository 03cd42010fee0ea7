"""Tests of search.data.datasets: loaders, raw values and scales, splits, refused data, offline behaviour and pipelines.

No test touches the network: the keras.datasets tests point the Keras cache at
an empty temporary folder and replace the download function.
"""

import gzip
import os
import re
import struct
import urllib.error

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from sklearn.datasets import load_digits

from convnas import cli
from convnas.search.data.datasets import Dataset, DatasetError, from_arrays, load_dataset, make_pipeline


def _rows(x):
    return {row.tobytes() for row in x.reshape(len(x), -1)}


# --- digits -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


def test_digits_shapes_dtypes_and_raw_values_with_their_scale(digits):
    assert isinstance(digits, Dataset)
    assert digits.input_shape == (8, 8, 1)
    assert digits.num_classes == 10 and digits.class_names is None
    assert digits.scale == 1 / 16
    for x, y in [(digits.x_train, digits.y_train), (digits.x_val, digits.y_val), (digits.x_test, digits.y_test)]:
        assert x.dtype == np.float32 and y.dtype == np.int32
        assert x.shape[1:] == (8, 8, 1) and y.shape == (len(x),)
        assert set(np.unique(y)) == set(range(10))
    # scikit-learn's own values, 0..16, unscaled: the model rescales them.
    together = np.concatenate([digits.x_train, digits.x_val, digits.x_test])[..., 0]
    assert _rows(together) == _rows(load_digits().images.astype(np.float32))
    assert together.max() == 16.0 and np.array_equal(together, np.round(together))


def test_digits_split_sizes_add_up_and_do_not_overlap(digits):
    sizes = len(digits.x_train), len(digits.x_val), len(digits.x_test)
    assert sum(sizes) == 1797
    assert sizes == (1150, 288, 359)  # 20% of 1797 for test, 20% of the rest for validation
    # The 1797 digit images are pairwise distinct, so rows identify images.
    train, val, test = _rows(digits.x_train), _rows(digits.x_val), _rows(digits.x_test)
    assert len(train) + len(val) + len(test) == 1797
    assert not train & val and not train & test and not val & test


def test_digits_splits_are_stratified(digits):
    overall = np.bincount(np.concatenate([digits.y_train, digits.y_val, digits.y_test]), minlength=10) / 1797
    for y in (digits.y_train, digits.y_val, digits.y_test):
        share = np.bincount(y, minlength=10) / len(y)
        assert np.abs(share - overall).max() < 0.005


def test_digits_same_seed_same_splits_other_seed_other_splits(digits):
    again = load_dataset("digits", seed=0)
    other = load_dataset("digits", seed=1)
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(again, field), getattr(digits, field))
    assert _rows(other.x_val) != _rows(digits.x_val)
    # The test split is fixed: it does not move with the seed.
    np.testing.assert_array_equal(other.x_test, digits.x_test)


def test_validation_split_sets_validation_size():
    data = load_dataset("digits", validation_split=0.5)
    assert len(data.x_val) == 719 and len(data.x_train) == 719


# --- npz ----------------------------------------------------------------------------


def _write_npz(path, with_test, **overrides):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, size=(30, 5, 4), dtype=np.uint8),
        "y_train": np.arange(30) % 3,
    }
    if with_test:
        arrays["x_test"] = rng.integers(0, 256, size=(6, 5, 4), dtype=np.uint8)
        arrays["y_test"] = np.arange(6) % 3
    arrays.update(overrides)
    arrays = {key: value for key, value in arrays.items() if value is not None}
    np.savez(path, **arrays)
    return arrays


def test_npz_with_test_split(tmp_path):
    arrays = _write_npz(tmp_path / "small.npz", with_test=True)
    data = load_dataset(f"npz:{tmp_path / 'small.npz'}", seed=3)
    assert data.input_shape == (5, 4, 1) and data.num_classes == 3
    assert (len(data.x_train), len(data.x_val)) == (24, 6)
    assert np.bincount(data.y_val).tolist() == [2, 2, 2]
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int32
    assert data.scale == 1 / 255  # uint8 images: their 0..255 values kept, the model rescales them
    np.testing.assert_array_equal(data.x_test[..., 0], arrays["x_test"])
    np.testing.assert_array_equal(data.y_test, arrays["y_test"])
    # Train and validation together are the file's training images, each once.
    together = np.concatenate([data.x_train, data.x_val])[..., 0]
    assert _rows(together.astype(np.uint8)) == _rows(arrays["x_train"])


def test_npz_without_test_split_relative_to_data_dir(tmp_path):
    x_train = np.full((10, 2, 2, 3), 0.25, np.float64)
    _write_npz(tmp_path / "small.npz", with_test=False, x_train=x_train, y_train=np.arange(10) % 2)
    data = load_dataset("npz:small.npz", data_dir=str(tmp_path))
    assert data.x_test is None and data.y_test is None
    assert data.input_shape == (2, 2, 3) and data.num_classes == 2
    assert data.x_train.dtype == np.float32 and np.all(data.x_train == 0.25)  # float images kept as they are
    assert data.scale == 1.0


def test_npz_uint8_train_and_float_test_are_refused(tmp_path):
    _write_npz(tmp_path / "mixed.npz", with_test=True, x_test=np.zeros((6, 5, 4), np.float32))
    with pytest.raises(DatasetError, match=r"^npz dataset file .*mixed\.npz: 'x_test' is float32 and 'x_train' uint8; "
                                           r"both must be uint8 or both float$"):
        load_dataset(f"npz:{tmp_path / 'mixed.npz'}")


def test_npz_with_a_class_of_one_image_is_refused_naming_the_class(tmp_path):
    _write_npz(tmp_path / "rare.npz", with_test=False, y_train=np.array([0] * 15 + [1] * 14 + [2]))
    pattern = (r"^dataset 'npz:.*rare\.npz': class label 2 has 1 training image; the stratified train/validation "
               r"split needs at least 2 per class \(one for each side\)$")
    with pytest.raises(DatasetError, match=pattern):
        load_dataset(f"npz:{tmp_path / 'rare.npz'}", seed=4)


def test_npz_with_one_class_is_refused(tmp_path):
    _write_npz(tmp_path / "one.npz", with_test=False, y_train=np.full(30, 4))
    refused = r"^dataset 'npz:.*one\.npz' has 1 class \(label 4\); a classifier needs at least 2 classes$"
    with pytest.raises(DatasetError, match=refused):
        load_dataset(f"npz:{tmp_path / 'one.npz'}")


def test_a_validation_split_smaller_than_the_classes_is_a_seeded_random_split():
    # 3 classes of 2 images, 1 held out: stratifying would need 3; the split is plain but seeded.
    x = np.arange(6, dtype=np.float32).reshape(6, 1, 1, 1)
    first = from_arrays("tiny", x, np.array([0, 0, 1, 1, 2, 2]), seed=4)
    again = from_arrays("tiny", x, np.array([0, 0, 1, 1, 2, 2]), seed=4)
    assert (len(first.x_train), len(first.x_val)) == (5, 1) and first.num_classes == 3
    np.testing.assert_array_equal(first.x_val, again.x_val)


def test_from_arrays_rejects_a_bad_scale():
    x = np.zeros((4, 2, 2, 1), np.float32)
    with pytest.raises(DatasetError, match=r"^`scale` must be a positive number\. Received: scale=0$"):
        from_arrays("zeros", x, np.array([0, 0, 1, 1]), scale=0)


def test_npz_missing_key_names_key_and_path(tmp_path):
    path = tmp_path / "nolabels.npz"
    _write_npz(path, with_test=False, y_train=None)
    with pytest.raises(DatasetError, match=r"nolabels\.npz has no array 'y_train'"):
        load_dataset(f"npz:{path}")


def test_npz_missing_file_names_path(tmp_path):
    path = tmp_path / "absent.npz"
    with pytest.raises(DatasetError, match=f"not found: {path}"):
        load_dataset(f"npz:{path}")


@pytest.mark.parametrize("kind", ["text", "npy"])
def test_a_file_that_is_not_an_npz_archive_says_so(tmp_path, kind):
    path = tmp_path / "data.npz"
    if kind == "text":
        path.write_text("x_train,y_train\n1,2\n")
    else:
        with open(path, "wb") as stream:
            np.save(stream, np.zeros(3))
    what = "is not an .npz archive" if kind == "text" else r"is a \.npy file \(one array\)"
    with pytest.raises(DatasetError, match=rf"^npz dataset file {re.escape(str(path))} {what}; an \.npz archive is "
                                           r"what numpy\.savez\(PATH, x_train=\.\.\., y_train=\.\.\.\) writes$"):
        load_dataset(f"npz:{path}")


# --- image folder -------------------------------------------------------------------


def write_image_folder(root, counts, sizes=None):
    """One subfolder per class of `counts` (name -> images), PNGs of one colour per class, 6x5 unless `sizes` says."""
    colours = [(255, 0, 0), (0, 0, 255), (0, 255, 0)]
    for (name, count), colour in zip(counts.items(), colours):
        (root / name).mkdir(parents=True)
        for i in range(count):
            height, width = (sizes or {}).get((name, i), (6, 5))
            Image.fromarray(np.full((height, width, 3), colour, np.uint8)).save(root / name / f"{i}.png")
    return root


def test_image_folder(tmp_path):
    write_image_folder(tmp_path, {"cats": 3, "dogs": 3})
    data = load_dataset(f"dir:{tmp_path}", validation_split=1 / 3)
    assert data.input_shape == (6, 5, 3) and data.num_classes == 2
    assert data.class_names == ("cats", "dogs") and data.scale == 1 / 255
    assert (len(data.x_train), len(data.x_val)) == (4, 2) and data.x_test is None
    x = np.concatenate([data.x_train, data.x_val])
    y = np.concatenate([data.y_train, data.y_val])
    assert x.dtype == np.float32 and y.dtype == np.int32
    # Class 0 is "cats" (alphabetical), all red; class 1 "dogs", all blue; 0..255 as the files store them.
    np.testing.assert_array_equal(x[y == 0], np.broadcast_to([255.0, 0.0, 0.0], (3, 6, 5, 3)))
    np.testing.assert_array_equal(x[y == 1], np.broadcast_to([0.0, 0.0, 255.0], (3, 6, 5, 3)))


@pytest.mark.parametrize("mode", ["L", "LA", "RGB"])
def test_an_image_folder_of_grayscale_images_keeps_one_channel(tmp_path, mode):
    for name, level in (("dark", 30), ("light", 220)):
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.new(mode, (5, 6), level if mode == "L" else (level,) * len(mode)).save(tmp_path / name / f"{i}.png")
    data = load_dataset(f"dir:{tmp_path}", validation_split=1 / 3)
    channels = 3 if mode == "RGB" else 1
    assert data.input_shape == (6, 5, channels) and data.scale == 1 / 255
    x = np.concatenate([data.x_train, data.x_val])
    y = np.concatenate([data.y_train, data.y_val])
    np.testing.assert_array_equal(x[y == 0], np.full((3, 6, 5, channels), 30.0))  # "dark", as the files store it
    np.testing.assert_array_equal(x[y == 1], np.full((3, 6, 5, channels), 220.0))


def test_a_folder_of_grayscale_and_colour_images_is_read_as_rgb(tmp_path):
    write_image_folder(tmp_path, {"cats": 3, "dogs": 3})
    Image.new("L", (5, 6), 7).save(tmp_path / "cats" / "3.png")
    data = load_dataset(f"dir:{tmp_path}", validation_split=1 / 3)
    assert data.input_shape == (6, 5, 3)
    assert any(np.array_equal(image, np.full((6, 5, 3), 7.0)) for image in [*data.x_train, *data.x_val])


def search_cli(capsys, dataset, logdir):
    """`convnas search --dataset DATASET` in this process: (exit status, stdout, stderr)."""
    status = cli.main(["search", "--dataset", dataset, "--max-trials", "1", "--epochs", "1", "--logdir", str(logdir)])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    "counts, sizes, message",
    [
        ({"cats": 4}, None, r"dataset 'dir:.*' has 1 class \('cats'\); a classifier needs at least 2 classes"),
        ({"cats": 4, "dogs": 1}, None,
         r"dataset 'dir:.*': class 'dogs' has 1 training image; the stratified train/validation split needs at least 2 "
         r"per class \(one for each side\)"),
        ({"cats": 4, "dogs": 0, "owls": 3}, None,
         r"dataset 'dir:.*': class 'dogs' has 0 training images; .* at least 2 per class \(one for each side\)"),
        ({"cats": 3, "dogs": 3}, {("dogs", 1): (8, 8), ("dogs", 2): (8, 8)},
         r"image folder .* has images of 2 sizes \(height x width\), which cannot be batched together: "
         r"6x5 \(e\.g\. cats/0\.png\), 8x8 \(e\.g\. dogs/1\.png\); resize them to one size"),
    ],
    ids=["one_class", "class_of_one_image", "empty_class", "mixed_sizes"],
)
def test_unusable_image_folder_stops_the_search_before_any_training(tmp_path, capsys, counts, sizes, message):
    folder = write_image_folder(tmp_path / "images", counts, sizes)
    status, out, err = search_cli(capsys, f"dir:{folder}", tmp_path / "run")
    assert status == 2
    assert re.fullmatch(rf"error: convnas search: {message}\n", err), err
    assert "trial" not in out
    assert not (tmp_path / "run" / "trials.csv").exists() and not (tmp_path / "run").exists()


def test_npz_with_a_class_too_small_stops_the_search_before_any_training(tmp_path, capsys):
    _write_npz(tmp_path / "rare.npz", with_test=False, y_train=np.array([0] * 15 + [1] * 14 + [2]))
    status, _, err = search_cli(capsys, f"npz:{tmp_path / 'rare.npz'}", tmp_path / "run")
    assert status == 2
    assert re.fullmatch(r"error: convnas search: dataset 'npz:.*': class label 2 has 1 training image; .*\n", err), err
    assert not (tmp_path / "run").exists()


def test_image_folder_missing(tmp_path):
    with pytest.raises(DatasetError, match="image folder not found"):
        load_dataset(f"dir:{tmp_path / 'nowhere'}")


# --- keras.datasets, offline --------------------------------------------------------


@pytest.fixture
def keras_cache(tmp_path, monkeypatch):
    """An empty Keras cache in tmp_path, and downloads refused like offline.

    Keras 3.15 reads KERAS_HOME only once, when keras.src.backend.config is
    imported, into `_KERAS_DIR`; `keras.utils.get_file` calls
    `config.keras_home()` (which returns it) on every call. Setting the
    environment variable now would change nothing, so the module attribute is
    patched instead.
    """
    from keras.src.backend import config
    from keras.src.utils import file_utils

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path))
    calls = []

    def refuse(url, *args, **kwargs):
        calls.append(url)
        raise urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))

    # get_file does `from urllib.request import urlretrieve`: patch its copy.
    monkeypatch.setattr(file_utils, "urlretrieve", refuse)
    return tmp_path, calls


@pytest.mark.parametrize(
    "name, cached_as",
    [
        ("mnist", "mnist.npz"),
        ("fashion_mnist", os.path.join("fashion-mnist", "train-labels-idx1-ubyte.gz")),
        ("cifar10", "cifar-10-batches-py-target_archive"),
        ("cifar100", "cifar-100-python-target_archive"),
    ],
)
def test_keras_dataset_offline_says_what_to_download_and_where_to_save_it(keras_cache, capsys, name, cached_as):
    cache, calls = keras_cache
    path = os.path.join(cache, "datasets", cached_as)
    with pytest.raises(DatasetError) as info:
        load_dataset(name)
    (url,) = calls  # the URL Keras tried
    assert url.startswith("https://")
    pattern = (rf"dataset '{name}' is not in the Keras cache and could not be downloaded "
               r"\(\[Errno 111\] Connection refused\): "
               rf"download {re.escape(url)} and save it as {re.escape(path)}( \(Fashion-MNIST needs all of .*\))?; "
               r"the Keras cache is \$KERAS_HOME/datasets, else ~/\.keras/datasets")
    assert re.fullmatch(pattern, str(info.value)), str(info.value)
    out, err = capsys.readouterr()
    assert "Downloading data from" not in out + err  # Keras's line, held back: the download never started


def test_cifar10_without_network_names_the_archive_to_place(tmp_path, monkeypatch, capsys):
    """KERAS_HOME's folder and sockets refused, as offline; nothing patched inside Keras's download."""
    import socket

    from keras.src.backend import config

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path))  # what KERAS_HOME sets when Keras is imported

    def refuse(*args, **kwargs):
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    with pytest.raises(DatasetError) as info:
        load_dataset("cifar10")
    archive = os.path.join(tmp_path, "datasets", "cifar-10-batches-py-target_archive")
    assert str(info.value).startswith(
        "dataset 'cifar10' is not in the Keras cache and could not be downloaded (")
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert f": download {url} and save it as {archive}; " in str(info.value)
    assert "\n" not in str(info.value)
    assert "Downloading data from" not in capsys.readouterr().out


def test_mnist_with_wrong_hash_in_cache_is_refetched_then_fails(keras_cache, capsys):
    # mnist.load_data passes a sha256 to get_file, so a cached file that does
    # not match is downloaded again; offline that fails and get_file deletes it.
    cache, calls = keras_cache
    path = os.path.join(cache, "datasets", "mnist.npz")
    os.makedirs(os.path.dirname(path))
    np.savez(path, x_train=np.zeros((4, 28, 28), np.uint8))
    pattern = (r"^dataset 'mnist': its cached file did not match Keras's checksum \(Keras removed it\) and a new copy "
               r"could not be downloaded \(\[Errno 111\] Connection refused\): "
               rf"download https://\S+/mnist\.npz and save it as {re.escape(path)}; ")
    with pytest.raises(DatasetError, match=pattern):
        load_dataset("mnist")
    assert len(calls) == 1 and not os.path.exists(path)
    out = capsys.readouterr().out
    assert "A local file was found" not in out and "Downloading data from" not in out


def test_notices_are_written_once_the_download_starts(keras_cache, capsys, monkeypatch):
    """A download that gets under way shows Keras's lines as Keras writes them: only a failed one drops them."""
    import sys

    from keras.src.utils import file_utils

    def slow_then_refused(url, *args, **kwargs):
        sys.stdout.write("[progress]\n")  # the progress bar: the connection was made
        raise urllib.error.URLError(ConnectionResetError(104, "Connection reset by peer"))

    monkeypatch.setattr(file_utils, "urlretrieve", slow_then_refused)
    with pytest.raises(DatasetError, match=r"could not be downloaded \(\[Errno 104\] Connection reset by peer\)"):
        load_dataset("cifar100")
    printed = capsys.readouterr().out
    assert re.fullmatch(r"Downloading data from https://\S+cifar-100-python\.tar\.gz\n\[progress\]\n", printed)


def _write_idx(path, array):
    """Writes an MNIST-format gz file: big-endian header of dims, then bytes."""
    magic = struct.pack(">HBB", 0, 0x08, array.ndim)
    dims = struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(magic + dims + array.astype(np.uint8).tobytes())


def test_fashion_mnist_loads_through_the_cache(keras_cache):
    # fashion_mnist.load_data calls get_file without a file_hash, so files
    # already in the cache are read as they are, with no download.
    cache, calls = keras_cache
    folder = os.path.join(cache, "datasets", "fashion-mnist")
    os.makedirs(folder)
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    y_train = np.arange(20) % 10
    x_test = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    y_test = np.array([9, 0, 3, 3, 7])
    _write_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz"), y_train)
    _write_idx(os.path.join(folder, "train-images-idx3-ubyte.gz"), x_train)
    _write_idx(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"), y_test)
    _write_idx(os.path.join(folder, "t10k-images-idx3-ubyte.gz"), x_test)

    data = load_dataset("fashion_mnist", seed=0, validation_split=0.25)
    assert calls == []
    assert data.input_shape == (28, 28, 1) and data.num_classes == 10
    assert (len(data.x_train), len(data.x_val)) == (15, 5)
    assert data.x_train.dtype == np.float32 and data.y_test.dtype == np.int32
    assert data.scale == 1 / 255
    np.testing.assert_array_equal(data.x_test[..., 0], x_test)
    np.testing.assert_array_equal(data.y_test, y_test)
    together = np.concatenate([data.x_train, data.x_val])[..., 0]
    assert _rows(together.astype(np.uint8)) == _rows(x_train)


def test_fashion_mnist_damaged_cache_is_a_dataset_error(keras_cache):
    cache, calls = keras_cache
    folder = os.path.join(cache, "datasets", "fashion-mnist")
    os.makedirs(folder)
    for fname in ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                  "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        with open(os.path.join(folder, fname), "wb") as f:
            f.write(b"not gzip")
    with pytest.raises(DatasetError, match=r"could not be loaded from the Keras cache \(.*fashion-mnist\)"):
        load_dataset("fashion_mnist")
    assert calls == []


# --- make_pipeline ------------------------------------------------------------------


def _epoch(pipeline):
    return np.concatenate([y for _, y in pipeline.as_numpy_iterator()])


def test_pipeline_element_spec_and_batches():
    x = np.zeros((10, 4, 4, 1), np.float32)
    y = np.arange(10, dtype=np.int32)
    pipeline = make_pipeline(x, y, batch_size=4, shuffle=False)
    x_spec, y_spec = pipeline.element_spec
    assert x_spec.shape.as_list() == [None, 4, 4, 1] and x_spec.dtype == tf.float32
    assert y_spec.shape.as_list() == [None] and y_spec.dtype == tf.int32
    assert [len(y) for _, y in pipeline.as_numpy_iterator()] == [4, 4, 2]


def test_pipeline_without_shuffle_keeps_order():
    y = np.arange(50, dtype=np.int32)
    pipeline = make_pipeline(np.zeros((50, 2), np.float32), y, batch_size=8, shuffle=False)
    np.testing.assert_array_equal(_epoch(pipeline), y)
    np.testing.assert_array_equal(_epoch(pipeline), y)


def test_pipeline_shuffle_is_seeded_and_reshuffles_each_epoch():
    x = np.zeros((100, 2), np.float32)
    y = np.arange(100, dtype=np.int32)
    first = make_pipeline(x, y, batch_size=16, shuffle=True, seed=7)
    second = make_pipeline(x, y, batch_size=16, shuffle=True, seed=7)
    other = make_pipeline(x, y, batch_size=16, shuffle=True, seed=8)
    epoch1, epoch2 = _epoch(first), _epoch(first)
    assert sorted(epoch1) == list(range(100))
    assert not np.array_equal(epoch1, y)
    assert not np.array_equal(epoch1, epoch2)
    np.testing.assert_array_equal(_epoch(second), epoch1)
    np.testing.assert_array_equal(_epoch(second), epoch2)
    assert not np.array_equal(_epoch(other), epoch1)


def test_pipeline_rejects_bad_batch_size():
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer. Received: batch_size=0"):
        make_pipeline(np.zeros((2, 1)), np.zeros(2), batch_size=0, shuffle=False)


# --- bad arguments ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["foo", "npz:", "dir:", "MNIST", "", None])
def test_unknown_dataset_lists_names(name):
    pattern = (
        r"^`dataset` must be one of digits, cluttered_digits, mnist, fashion_mnist, cifar10, cifar100, "
        r"npz:PATH, dir:PATH\. "
        rf"Received: dataset={re.escape(repr(name))}$"
    )
    with pytest.raises(DatasetError, match=pattern):
        load_dataset(name)


@pytest.mark.parametrize("split", [0, 1, 1.5, -0.1, True, "0.2"])
def test_bad_validation_split(split):
    pattern = (r"^`validation_split` must be between 0 and 1 \(exclusive\)\. "
               rf"Received: validation_split={re.escape(repr(split))}$")
    with pytest.raises(DatasetError, match=pattern):
        load_dataset("digits", validation_split=split)


def test_dataset_error_is_a_value_error():
    assert issubclass(DatasetError, ValueError)
