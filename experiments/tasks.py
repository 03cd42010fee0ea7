"""What one ablation run trains and measures: classification, or x2 upsampling.

A task holds a study's data and training protocol (`search.space.training.Protocol`),
checks a model before it trains, trains it for one seed (an uncompiled model
compiled with the study's defaults and the protocol's learning-rate schedule;
a compiled one kept as it is; either way with its BatchNorm statistics
re-estimated before the evaluations when the protocol says so) and returns
the run's metrics (the names in `experiments.ablation_spec.METRICS`), plus
example images for the upsampling task. It also builds the model of a YAML
study's Design.
"""

from __future__ import annotations

import hashlib
import math
import time

import keras
import numpy as np

from convnas.experiments import artifacts, upsampling
from convnas.experiments.ablation_spec import SKIPS
from convnas.search.data import datasets
from convnas.search.space import hypermodel as space
from convnas.search.space import precise_batch_norm
from convnas.search.space.training import Protocol, TrainingConfig, compile_model, set_batch_norm_momentum


class ClassificationTask:
    """Softmax classification on a dataset with a test split (digits, cluttered_digits, cifar10, arrays, ...).

    Each run splits the training images into train and validation with its
    own seed (stratified, as `search.data.datasets.from_arrays` splits them); the
    test set is the same for every run.
    """

    name = "classification"

    def __init__(self, data: datasets.Dataset, batch_size: int, learning_rate: float, protocol: Protocol | None = None):
        if data.x_test is None:
            raise datasets.DatasetError(
                f"an ablation study needs a dataset with a test split. Received: dataset={data.name!r}")
        self.data, self.batch_size = data, batch_size
        self.training = TrainingConfig("adam", learning_rate)
        self.protocol = Protocol() if protocol is None else protocol
        self.test = datasets.make_pipeline(data.x_test, data.y_test, batch_size, shuffle=False)

    def describe(self) -> str:
        data = self.data
        return (f"{data.name} ({len(data.x_train)} train / {len(data.x_val)} validation images, split per seed; "
                f"{len(data.x_test)} test images)")

    def split(self, seed: int) -> datasets.Dataset:
        """The data of the run with `seed`: its own stratified train / validation split, the common test set."""
        data = self.data
        fraction = len(data.x_val) / (len(data.x_train) + len(data.x_val))
        return datasets.from_arrays(data.name, np.concatenate([data.x_train, data.x_val]),
                                    np.concatenate([data.y_train, data.y_val]), data.x_test, data.y_test,
                                    seed=seed, validation_split=fraction, scale=data.scale,
                                    class_names=data.class_names)

    def architecture(self, design) -> space.Architecture:
        """The search space's Architecture of a study Design, trained with Adam at the study's learning rate."""
        return space.Architecture(design.stem_filters, design.stages, design.head, design.head_units, self.training)

    def build(self, design) -> keras.Model:
        """The (uncompiled) classifier of a study Design; it rescales the images itself (`Dataset.scale`)."""
        return space.build_model(self.architecture(design), self.data.input_shape, self.data.num_classes,
                                 self.data.scale)

    def prepare(self, model: keras.Model) -> None:
        """Checks that a compiled model reports accuracy; an uncompiled one is compiled when it trains (`train`).

        A compiled model keeps its own optimizer, loss and BatchNorm
        momentum, but must report a metric named `accuracy` (the run's test
        and validation accuracy).
        """
        if not model.compiled:
            return
        metrics = model.get_compile_config().get("metrics")
        if "accuracy" not in _metric_names(metrics):
            raise ValueError("a compiled classifier must report a metric named 'accuracy' (compile it with "
                             f"metrics=['accuracy'], or leave it uncompiled). Received: metrics={metrics!r}")

    def receptive_field(self, design) -> int:
        return space.receptive_field(self.architecture(design))

    def train(self, model: keras.Model, seed: int, epochs: int, callbacks: list) -> tuple[dict, dict]:
        """Trains on the seed's split; the final train, validation and test metrics, in inference mode.

        An uncompiled model is compiled with the study's defaults
        (`search.space.training.compile_model`: Adam, sparse categorical
        cross-entropy, the `accuracy` metric, BatchNorm momentum 0.9), its
        rate the protocol's schedule over `epochs`. With the protocol's
        `bn_batches`, every model's BatchNorm statistics are re-estimated on
        that many seeded training batches before the last epoch's validation,
        which follows the last step, so the final evaluations see the same
        statistics (`_precise_batch_norm`; the earlier epochs' validation,
        shown only in the curves, keeps the moving averages of training).
        `train_accuracy` and `train_loss` are measured after training on the
        whole training split (what He et al.'s degradation is about); the
        per-epoch curves stay in the model's History (running means over
        each epoch's batches, in training mode).
        """
        data = self.split(seed)
        if not model.compiled:
            steps = math.ceil(len(data.x_train) / self.batch_size)
            compile_model(model, self.training, self.protocol.learning_rate(self.training.learning_rate, steps, epochs))
        callbacks = [*_precise_batch_norm(self.protocol, data.x_train, self.batch_size, seed), *callbacks]
        train = datasets.make_pipeline(data.x_train, data.y_train, self.batch_size, shuffle=True, seed=seed)
        validation = datasets.make_pipeline(data.x_val, data.y_val, self.batch_size, shuffle=False)
        started = time.perf_counter()
        model.fit(train, validation_data=validation, epochs=epochs, callbacks=callbacks, shuffle=False, verbose=0)
        seconds = time.perf_counter() - started
        measured = {}
        train_in_order = datasets.make_pipeline(data.x_train, data.y_train, self.batch_size, shuffle=False)
        for split, pipeline in (("train", train_in_order), ("val", validation), ("test", self.test)):
            scores = model.evaluate(pipeline, verbose=0, return_dict=True)
            measured.update({f"{split}_accuracy": scores["accuracy"], f"{split}_loss": scores["loss"]})
        return {**measured, "train_seconds": seconds}, {}


def _precise_batch_norm(protocol: Protocol, images: np.ndarray, batch_size: int, seed: int) -> list:
    """The callback that re-estimates the BatchNorm statistics (`search.space.precise_batch_norm`) on the
    protocol's `bn_batches` training batches drawn with `seed` before the last epoch's validation and the
    evaluations after training (the earlier epochs' validation, which only the curves show, keeps the
    moving averages); none without."""
    if not protocol.bn_batches:
        return []
    batches = precise_batch_norm.training_batches(images, batch_size, protocol.bn_batches, seed)
    return [precise_batch_norm.PreciseBatchNorm(batches, every_epoch=False)]


def _metric_names(metrics) -> list:
    """The names in a compile config's list of metrics: names as given, metric objects and functions by their name."""
    names = []
    for metric in metrics if isinstance(metrics, list) else []:
        config = metric.get("config") if isinstance(metric, dict) else metric  # a serialized metric, or its name
        names.append(config.get("name") if isinstance(config, dict) else config)
    return names


class UpsamplingTask:
    """x2 upsampling of real photo patches (or a dataset's images), mean-squared-error loss."""

    name = "upsampling"

    def __init__(self, data: upsampling.UpsamplingData, batch_size: int, learning_rate: float,
                 protocol: Protocol | None = None):
        self.data, self.batch_size, self.learning_rate = data, batch_size, learning_rate
        self.protocol = Protocol() if protocol is None else protocol
        self.validation = datasets.make_pipeline(data.x_val, data.y_val, batch_size, shuffle=False)
        self.flat = upsampling.flat_input(data.input_shape)
        # The validation inputs upsampled by each skip's interpolation: what a global skip adds (a dead network's
        # output, less a constant); nearest-neighbour upsampling alone is the reference a learned upsampler must beat.
        self.skip_bases = {name: keras.ops.convert_to_numpy(keras.layers.UpSampling2D(
            upsampling.FACTOR, interpolation=name)(data.x_val)) for name in SKIPS}
        self.nearest = self.skip_bases["nearest"]
        self.nearest_psnr = artifacts.psnr(self.nearest, data.y_val)
        self.nearest_checkerboard = artifacts.checkerboard_amplitude(self.nearest, data.y_val, upsampling.FACTOR)

    def describe(self) -> str:
        data, (h, w, _) = self.data, self.data.input_shape
        return (f"{data.name} x2 ({len(data.x_train)} train / {len(data.x_val)} validation pairs, "
                f"{h}x{w} -> {2 * h}x{2 * w}; "
                f"nearest-neighbour upsampling alone: {self.nearest_psnr:.2f} dB PSNR, "
                f"checkerboard {self.nearest_checkerboard:.4f} against the targets)")

    def build(self, design) -> keras.Model:
        """The (uncompiled) upsampler of a study Design."""
        return upsampling.build_model(design, self.data.input_shape)

    def prepare(self, model: keras.Model) -> None:
        """Nothing to check: an uncompiled model is compiled when it trains (`train`), a compiled one kept as it is."""

    def receptive_field(self, design) -> None:
        return None  # an upsampler's output pixel has no single receptive field in this sense

    def train(self, model: keras.Model, seed: int, epochs: int, callbacks: list) -> tuple[dict, dict]:
        """Trains `model`; returns its metrics and sample images.

        An uncompiled model is compiled with Adam, its rate the protocol's
        schedule over `epochs`, MSE and BatchNorm momentum 0.9; with the
        protocol's `bn_batches`, the BatchNorm statistics are re-estimated
        before the evaluations, as for classification.
        The metrics are METRICS["upsampling"] (`experiments.artifacts`
        defines the checkerboard amplitudes: of the validation outputs
        against their targets, globally and at the worst places, and of the
        outputs on a flat grey input after and before training) and `dead`: 1.0 where the learned part of the
        validation outputs ignores the input (`artifacts.is_dead`): a
        constant output, or a constant plus the upsampled input a global skip
        adds (nearest, bilinear or bicubic). A model does not say which skip
        it has, so every base is tried; a live network does not take
        another's form (exactly an interpolation plus a constant) by chance.
        """
        if not model.compiled:
            set_batch_norm_momentum(model)  # search.space.training's 0.9: Keras's 0.99 lags behind a short training
            steps = math.ceil(len(self.data.x_train) / self.batch_size)
            rate = self.protocol.learning_rate(self.learning_rate, steps, epochs)
            model.compile(optimizer=keras.optimizers.Adam(rate), loss="mse")
        flat_init = model.predict_on_batch(self.flat)
        train = datasets.make_pipeline(self.data.x_train, self.data.y_train, self.batch_size, shuffle=True, seed=seed)
        callbacks = [*_precise_batch_norm(self.protocol, self.data.x_train, self.batch_size, seed), *callbacks]
        started = time.perf_counter()
        history = model.fit(train, validation_data=self.validation, epochs=epochs, callbacks=callbacks, shuffle=False,
                            verbose=0)
        seconds = time.perf_counter() - started
        outputs = model.predict(self.validation, verbose=0)
        flat = model.predict_on_batch(self.flat)
        score = artifacts.psnr(outputs, self.data.y_val)
        metrics = {
            "psnr": score,
            "psnr_gain": score - self.nearest_psnr,
            "val_loss": history.history["val_loss"][-1],
            "checkerboard": artifacts.checkerboard_amplitude(outputs, self.data.y_val, upsampling.FACTOR),
            "checkerboard_local": artifacts.local_checkerboard_amplitude(outputs, self.data.y_val, upsampling.FACTOR),
            "checkerboard_flat": artifacts.flat_checkerboard(flat, upsampling.FACTOR),
            "checkerboard_flat_init": artifacts.flat_checkerboard(flat_init, upsampling.FACTOR),
            "dead": float(any(artifacts.is_dead(outputs, base) for base in (0.0, *self.skip_bases.values()))),
            "train_seconds": seconds,
        }
        shown = np.argsort(-self.data.y_val.var(axis=(1, 2, 3)), kind="stable")[:4]  # the most detailed patches
        samples = {
            "input_nearest": self.nearest[shown],
            "output": np.clip(outputs[shown], 0, 1),
            "target": self.data.y_val[shown],
            "flat_output_init": _stretch(flat_init[:1]),
            "flat_output": _stretch(flat[:1]),
        }
        return metrics, samples


def _stretch(images: np.ndarray) -> np.ndarray:
    """Contrast-stretched to [0, 1] per image, so that a faint pattern on a flat output shows."""
    low = images.min(axis=(1, 2, 3), keepdims=True)
    span = images.max(axis=(1, 2, 3), keepdims=True) - low
    return np.where(span > 0, (images - low) / np.where(span > 0, span, 1), 0.5).astype(np.float32)


def load_data(task: str, data) -> datasets.Dataset | upsampling.UpsamplingData:
    """The data a `task` study trains on: a name is loaded, a tuple of arrays split, loaded data kept.

    Args:
        task: "classification" or "upsampling".
        data: A dataset name (`search.data.datasets.load_dataset`'s, or "photos"
            for upsampling); for classification a tuple
            `(x_train, y_train, x_test, y_test)` of images (N, H, W, C) and
            integer labels, whose validation split is carved out of the
            training arrays as `load_dataset` carves it (seed 0; each run
            splits again with its own seed), or a loaded
            `search.data.datasets.Dataset`; for upsampling a loaded
            `experiments.upsampling.UpsamplingData`.

    Raises:
        DatasetError: On data of the wrong kind or shape, or a dataset that
            cannot be loaded.
    """
    if isinstance(data, str):
        return upsampling.load_data(data) if task == "upsampling" else datasets.load_dataset(data, seed=0)
    if task == "upsampling" and isinstance(data, upsampling.UpsamplingData):
        return data
    if task == "classification" and isinstance(data, datasets.Dataset):
        return data
    if task == "classification" and isinstance(data, tuple) and len(data) == 4:
        return _split_arrays(*data)
    kinds = {"classification": "a dataset name, a tuple (x_train, y_train, x_test, y_test) of arrays or a "
                               "search.data.datasets.Dataset",
             "upsampling": "a dataset name or an experiments.upsampling.UpsamplingData"}
    received = f"a tuple of {len(data)} items" if isinstance(data, tuple) else f"data of type {type(data).__name__}"
    raise datasets.DatasetError(f"`data` must be {kinds[task]} ({task} task). Received: {received}")


def _split_arrays(x_train, y_train, x_test, y_test) -> datasets.Dataset:
    """A Dataset of the arrays, named after their SHA-256 (a resumed study refuses changed arrays)."""
    (x_train, y_train), (x_test, y_test), scale = datasets.checked_arrays("`data`", x_train, y_train, x_test, y_test)
    digest = hashlib.sha256()
    for array in (x_train, y_train, x_test, y_test):
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(np.ascontiguousarray(array).data)
    name = f"arrays:{digest.hexdigest()[:16]}"
    return datasets.from_arrays(name, x_train, y_train, x_test, y_test, seed=0, scale=scale)


def make_task(task: str, data, batch_size: int, learning_rate: float,
              protocol: Protocol | None = None) -> ClassificationTask | UpsamplingTask:
    """The `task` ("classification" or "upsampling") of a study on `data` (see `load_data`), trained under
    `protocol` (`search.space.training.Protocol()` by default)."""
    task_class = {"classification": ClassificationTask, "upsampling": UpsamplingTask}[task]
    return task_class(load_data(task, data), batch_size, learning_rate, protocol)
