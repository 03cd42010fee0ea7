"""Training hyperparameters (optimizer, learning rate), kept apart from the architecture."""

from __future__ import annotations

import dataclasses

import keras

OPTIMIZERS = ("adam", "sgd", "rmsprop")
LEARNING_RATE = (1e-4, 1e-2, 1e-3)  # min, max, default (log scale)


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    optimizer: str
    learning_rate: float


def declare_training(hp, overrides) -> TrainingConfig:
    """Registers `optimizer` and `learning_rate` (restricted or fixed by `overrides`)."""
    optimizer = overrides.choice(hp, "optimizer", OPTIMIZERS, "adam")
    low, high, default = LEARNING_RATE
    override = overrides.lookup("learning_rate")
    if isinstance(override, dict):
        low, high = override["min"], override["max"]
        default = min(max(default, low), high)
    if override is None or isinstance(override, dict):
        learning_rate = hp.Float("learning_rate", low, high, sampling="log", default=default)
    elif isinstance(override, list):
        learning_rate = hp.Choice("learning_rate", override)
    else:
        learning_rate = hp.Fixed("learning_rate", override)
    return TrainingConfig(optimizer, float(learning_rate))


def compile_model(model: keras.Model, config: TrainingConfig) -> None:
    """Compiles a classifier: the optimizer at its learning rate, sparse cross-entropy, accuracy."""
    optimizer = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop}
    model.compile(
        optimizer=optimizer[config.optimizer](learning_rate=config.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
