"""Training hyperparameters, kept apart from the architecture: optimizer, learning rate, BatchNorm momentum.

`batch_norm_momentum` (fixed at 0.9 unless the spec says otherwise) is set on
every BatchNormalization layer of a candidate, blocks included (reached through
`search.adapter.flatten_layers`): with Keras's
0.99, the moving statistics of a few hundred training steps are still far
from the data's, and validation accuracy lags training accuracy badly
(digits, 8 epochs: 0.35 against 0.98 with 0.9).
"""

from __future__ import annotations

import dataclasses

import keras

from convnas.search import adapter, choices

LEARNING_RATE = (1e-4, 1e-2, 1e-3)  # min, max, default (log scale)


BATCH_NORM_MOMENTUM = 0.9


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    optimizer: str
    learning_rate: float
    batch_norm_momentum: float = BATCH_NORM_MOMENTUM


def declare_training(hp, overrides) -> TrainingConfig:
    """Registers `optimizer` and `learning_rate` (restricted or fixed by `overrides`)."""
    optimizer = overrides.choice(hp, "optimizer", choices.OPTIMIZERS.names(), "adam")
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
    momentum = overrides.lookup("batch_norm_momentum")
    if isinstance(momentum, list):
        momentum = hp.Choice("batch_norm_momentum", momentum)
    else:
        momentum = hp.Fixed("batch_norm_momentum", BATCH_NORM_MOMENTUM if momentum is None else momentum)
    return TrainingConfig(optimizer, float(learning_rate), float(momentum))


def set_batch_norm_momentum(model: keras.Model, momentum: float = BATCH_NORM_MOMENTUM) -> None:
    """Sets the momentum of every BatchNormalization layer of `model`, those inside blocks included."""
    for layer in adapter.flatten_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum


def compile_model(model: keras.Model, config: TrainingConfig) -> None:
    """Sets the BatchNorm momentum and compiles a classifier: optimizer, sparse cross-entropy, accuracy."""
    set_batch_norm_momentum(model, config.batch_norm_momentum)
    model.compile(
        optimizer=choices.OPTIMIZERS.load(config.optimizer)(learning_rate=config.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
