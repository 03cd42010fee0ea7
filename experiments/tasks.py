"""What one ablation run trains and measures: classification, or x2 upsampling.

A task loads its data once, builds the model of a study Design, trains it
for one seed and returns the run's metrics (the names in
`experiments.ablation_spec.METRICS`), plus example images for the upsampling
task.
"""

from __future__ import annotations

import time

import keras
import numpy as np

from convnas.experiments import artifacts, upsampling
from convnas.search import datasets, space
from convnas.search.training import TrainingConfig, compile_model, set_batch_norm_momentum


class ClassificationTask:
    """Softmax classification on a search dataset (digits, cifar10, ...), with its test split."""

    def __init__(self, dataset: str, batch_size: int, learning_rate: float):
        self.data = datasets.load_dataset(dataset, seed=0)
        if self.data.x_test is None:
            raise datasets.DatasetError(f"an ablation study needs a dataset with a test split. Received: dataset={dataset!r}")
        self.batch_size, self.learning_rate = batch_size, learning_rate
        self.validation = datasets.make_pipeline(self.data.x_val, self.data.y_val, batch_size, shuffle=False)
        self.test = datasets.make_pipeline(self.data.x_test, self.data.y_test, batch_size, shuffle=False)

    def describe(self) -> str:
        data = self.data
        return f"{data.name} ({len(data.x_train)} train / {len(data.x_val)} validation / {len(data.x_test)} test images)"

    def architecture(self, design) -> space.Architecture:
        """The search space's Architecture of a study Design, trained with Adam at the study's learning rate."""
        training = TrainingConfig("adam", self.learning_rate)
        return space.Architecture(design.stem_filters, design.stages, design.head, design.head_units, training)

    def build(self, design) -> keras.Model:
        architecture = self.architecture(design)
        model = space.build_model(architecture, self.data.input_shape, self.data.num_classes)
        compile_model(model, architecture.training)
        return model

    def receptive_field(self, design) -> int:
        return space.receptive_field(self.architecture(design))

    def train(self, model: keras.Model, seed: int, epochs: int, callbacks: list) -> tuple[dict, dict]:
        train = datasets.make_pipeline(self.data.x_train, self.data.y_train, self.batch_size, shuffle=True, seed=seed)
        started = time.perf_counter()
        history = model.fit(train, validation_data=self.validation, epochs=epochs, callbacks=callbacks, shuffle=False, verbose=0)
        seconds = time.perf_counter() - started
        test = model.evaluate(self.test, verbose=0, return_dict=True)
        metrics = {
            "test_accuracy": test["accuracy"],
            "val_accuracy": history.history["val_accuracy"][-1],
            "val_loss": history.history["val_loss"][-1],
            "train_seconds": seconds,
        }
        return metrics, {}


class UpsamplingTask:
    """x2 upsampling of real photo patches (or a dataset's images), mean-squared-error loss."""

    def __init__(self, dataset: str, batch_size: int, learning_rate: float):
        self.data = upsampling.load_data(dataset)
        self.batch_size, self.learning_rate = batch_size, learning_rate
        self.validation = datasets.make_pipeline(self.data.x_val, self.data.y_val, batch_size, shuffle=False)
        self.flat = upsampling.flat_input(self.data.input_shape)

    def describe(self) -> str:
        data, (h, w, _) = self.data, self.data.input_shape
        nearest = artifacts.psnr(np.repeat(np.repeat(data.x_val, 2, axis=1), 2, axis=2), data.y_val)
        return (f"{data.name} x2 ({len(data.x_train)} train / {len(data.x_val)} validation pairs, {h}x{w} -> {2 * h}x{2 * w}; "
                f"nearest-neighbour upsampling alone: {nearest:.2f} dB PSNR)")

    def build(self, design) -> keras.Model:
        model = upsampling.build_model(design, self.data.input_shape)
        set_batch_norm_momentum(model)  # search.training's 0.9: Keras's 0.99 lags behind a short training
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="mse")
        return model

    def receptive_field(self, design) -> None:
        return None  # an upsampler's output pixel has no single receptive field in this sense

    def train(self, model: keras.Model, seed: int, epochs: int, callbacks: list) -> tuple[dict, dict]:
        flat_init = model.predict_on_batch(self.flat)
        train = datasets.make_pipeline(self.data.x_train, self.data.y_train, self.batch_size, shuffle=True, seed=seed)
        started = time.perf_counter()
        history = model.fit(train, validation_data=self.validation, epochs=epochs, callbacks=callbacks, shuffle=False, verbose=0)
        seconds = time.perf_counter() - started
        outputs = model.predict(self.validation, verbose=0)
        flat = model.predict_on_batch(self.flat)
        metrics = {
            "psnr": artifacts.psnr(outputs, self.data.y_val),
            "val_loss": history.history["val_loss"][-1],
            "checkerboard": artifacts.checkerboard_index(outputs),
            "checkerboard_flat": artifacts.checkerboard_index(flat),
            "checkerboard_flat_init": artifacts.checkerboard_index(flat_init),
            "train_seconds": seconds,
        }
        shown = np.argsort(-self.data.y_val.var(axis=(1, 2, 3)), kind="stable")[:4]  # the most detailed patches
        samples = {
            "input_nearest": np.repeat(np.repeat(self.data.x_val[shown], 2, axis=1), 2, axis=2),
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


def make_task(study):
    """The task object of an AblationSpec."""
    task = {"classification": ClassificationTask, "upsampling": UpsamplingTask}[study.task]
    return task(study.dataset, study.batch_size, study.learning_rate)
