"""Training hyperparameters, kept apart from the architecture, and the training protocol.

The hyperparameters: optimizer, learning rate, BatchNorm momentum.
`batch_norm_momentum` (fixed at 0.9 unless the spec says otherwise) is set on
every BatchNormalization layer of a candidate, blocks included (reached through
`search.adapter.flatten_layers`): with Keras's 0.99, the moving statistics of a
few hundred training steps are still far from the data's, and validation
accuracy lags training accuracy badly (digits, 8 epochs: 0.35 against 0.98
with 0.9).

The protocol (`Protocol`): how a network trains and is evaluated beyond its
optimizer, the ablation studies' and the search trials' default.

- `schedule` "cosine": the learning rate rises linearly from 0 over
  `warmup_epochs` epochs (at most half the steps), then follows a cosine down
  to 0 at the end of the last epoch (Keras's `CosineDecay` with warmup);
  "constant": the optimizer's rate throughout.
- `bn_batches` K > 0: before the last epoch's validation (which follows the
  last step) and so before every evaluation after training, each BatchNorm
  layer's moving mean and variance are replaced by the plain average of its
  statistics over K fixed, seeded training batches (at most an epoch's) in
  training-mode forward passes with the final weights ("precise BN", Wu &
  Johnson 2021; `search.space.precise_batch_norm`), so that inference mode
  describes the weights evaluated; 0: the moving averages of training, as
  they are. The earlier epochs' validation, which feeds only the curves,
  keeps the moving averages: re-estimating there too would change no
  recorded number and cost about half an epoch's training each time.

Measured on the committed studies (constant-rate Adam, BatchNorm moving
averages): in 8 of 110 runs the inference-mode accuracy after training was
20-57 points below the same run's training-mode accuracy, and the seed SD of
test accuracy was 2.4-23 points against 0.15-2.55 in training mode. A rate
that decays to zero and re-estimated statistics are the standard cure. Under
this protocol, on the pooling study's baseline and Strided-CNN-C variant
(cluttered digits, 3 seeds): seed SD of test accuracy 0.85 and 0.55 points
after 8 epochs, 0.54 and 0.24 after 15, no run collapsed; re-estimating on
62 batches took 3.1 s a validation, against about 6 s for an epoch's training
(2 CPU cores).

Importing this module loads no TensorFlow (a report describes a protocol with
`describe_protocol`): Keras loads with the functions that need it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

from convnas.blocks import validation
from convnas.search import adapter, choices

if TYPE_CHECKING:
    import keras

LEARNING_RATE = (1e-4, 1e-2, 1e-3)  # min, max, default (log scale)
DEFAULT_BATCH_SIZE = 32  # what Keras's fit batches arrays by when not told


BATCH_NORM_MOMENTUM = 0.9
SCHEDULES = ("cosine", "constant")


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    optimizer: str
    learning_rate: float
    batch_norm_momentum: float = BATCH_NORM_MOMENTUM


@dataclasses.dataclass(frozen=True)
class Protocol:
    """The learning-rate schedule and the BatchNorm re-estimation of a training (see the module docstring).

    Attributes:
        schedule: "cosine" (linear warmup, then cosine to 0) or "constant".
        warmup_epochs: Epochs of linear warmup of the cosine schedule (at
            most half the steps); "constant" has none.
        bn_batches: Training batches the BatchNorm statistics are
            re-estimated on before the last validation and the evaluations
            after training (at most an epoch's); 0: never re-estimated.
    """

    schedule: str = "cosine"
    warmup_epochs: int = 1
    bn_batches: int = 100

    def warmup_steps(self, steps_per_epoch: int, epochs: int) -> int:
        """Steps of linear warmup: `warmup_epochs` epochs', at most half of all steps; 0 for "constant"."""
        if self.schedule == "constant":
            return 0
        return min(self.warmup_epochs * steps_per_epoch, steps_per_epoch * epochs // 2)

    def learning_rate(self, peak: float, steps_per_epoch: int, epochs: int):
        """What the optimizer takes as its `learning_rate` over `epochs` of `steps_per_epoch` steps.

        "constant": `peak` itself. "cosine": a `keras.optimizers.schedules.CosineDecay`
        rising linearly from 0 to `peak` over the warmup steps, then down to 0
        after the last step.
        """
        if self.schedule == "constant":
            return peak
        import keras

        total = steps_per_epoch * epochs
        warmup = self.warmup_steps(steps_per_epoch, epochs)
        if warmup == 0:
            return keras.optimizers.schedules.CosineDecay(peak, total, alpha=0.0)
        return keras.optimizers.schedules.CosineDecay(0.0, total - warmup, alpha=0.0, warmup_target=peak,
                                                      warmup_steps=warmup)


# What a study.json without protocol settings ran (written before studies had them): constant rate, no re-estimation.
LEGACY_PROTOCOL = Protocol(schedule="constant", warmup_epochs=0, bn_batches=0)
PROTOCOL_FIELDS = tuple(field.name for field in dataclasses.fields(Protocol))


def make_protocol(schedule: str = "cosine", warmup_epochs: int = 1, bn_batches: int = 100) -> Protocol:
    """A validated `Protocol`; ValueError naming the argument and the value received."""
    return Protocol(
        schedule=validation.one_of("schedule", schedule, SCHEDULES),
        warmup_epochs=validation.non_negative_int("warmup_epochs", warmup_epochs),
        bn_batches=validation.non_negative_int("bn_batches", bn_batches),
    )


def protocol_of(settings: dict) -> Protocol:
    """The protocol of a study's settings (its study.json); settings without any protocol field: `LEGACY_PROTOCOL`."""
    if not any(name in settings for name in PROTOCOL_FIELDS):
        return LEGACY_PROTOCOL
    defaults = dataclasses.asdict(Protocol())
    return make_protocol(**{name: settings.get(name, defaults[name]) for name in PROTOCOL_FIELDS})


def describe_protocol(settings: dict) -> str:
    """The training protocol of a study's settings (its study.json) in one line, for its report.

    For example "Adam 0.001, 1 warmup epoch then cosine to 0 over 30 epochs,
    BatchNorm statistics re-estimated on 100 training batches (at most an
    epoch's) with the final weights before the last validation and the
    test". A study.json
    without protocol settings describes `LEGACY_PROTOCOL`.
    """
    protocol = protocol_of(settings)
    epochs = settings.get("epochs")
    over = f"over {epochs} epoch{'s' * (epochs != 1)}" if isinstance(epochs, int) else "over the training"
    rate = f"Adam {settings.get('learning_rate', LEARNING_RATE[2]):g}"
    if protocol.schedule == "constant":
        schedule = f"{rate} at a constant rate {over}"
    elif not protocol.warmup_epochs:
        schedule = f"{rate}, cosine to 0 {over}"
    elif isinstance(epochs, int) and 2 * protocol.warmup_epochs > epochs:
        schedule = f"{rate}, linear warmup over half the steps then cosine to 0 {over}"
    else:
        warmup = protocol.warmup_epochs
        schedule = f"{rate}, {warmup} warmup epoch{'s' * (warmup != 1)} then cosine to 0 {over}"
    if not protocol.bn_batches:
        return f"{schedule}, BatchNorm on its moving averages of training (not re-estimated)"
    return (f"{schedule}, BatchNorm statistics re-estimated on {protocol.bn_batches} training batches "
            "(at most an epoch's) with the final weights before the last validation and the test")


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


def batch_norm_layers(model: keras.Model) -> list:
    """Every BatchNormalization layer of `model`, those inside blocks included."""
    import keras

    return [layer for layer in adapter.flatten_layers(model) if isinstance(layer, keras.layers.BatchNormalization)]


def set_batch_norm_momentum(model: keras.Model, momentum: float = BATCH_NORM_MOMENTUM) -> None:
    """Sets the momentum of every BatchNormalization layer of `model`, those inside blocks included."""
    for layer in batch_norm_layers(model):
        layer.momentum = momentum


def compile_model(model: keras.Model, config: TrainingConfig, learning_rate=None) -> None:
    """Sets the BatchNorm momentum and compiles a classifier: optimizer, sparse cross-entropy, accuracy.

    `learning_rate` is what the optimizer takes (a number or a schedule,
    `Protocol.learning_rate`); `config.learning_rate` by default.
    """
    set_batch_norm_momentum(model, config.batch_norm_momentum)
    model.compile(
        optimizer=choices.OPTIMIZERS.load(config.optimizer)(
            learning_rate=config.learning_rate if learning_rate is None else learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def fit_trial(model: keras.Model, config: TrainingConfig, protocol: Protocol, *fit_args, **fit_kwargs):
    """A search trial's `model.fit(*fit_args, **fit_kwargs)` under `protocol`, for the epochs asked from scratch.

    The model is compiled again with `config` and the protocol's learning
    rate laid out over the epochs and the training data's batches (a
    dataset's length, or the arrays over `batch_size`; `steps_per_epoch` if
    given). With `bn_batches` K, the BatchNorm statistics are re-estimated
    (`search.space.precise_batch_norm`) on the training data's first K
    batches (a dataset's, or K seeded ones of the arrays) before the last
    epoch's validation, the trial's recorded score, and so before its test
    evaluation; the earlier epochs' validation (TensorBoard's curves only)
    keeps the moving averages of training: re-estimating there too would
    change no recorded number and cost an eager forward pass over up to K
    batches per epoch, about as long as the epoch's training for small
    models. Measured on the default `convnas search` trial (digits, the
    space's default candidate, 8 epochs of 36 batches, 2 shared CPU cores):
    one re-estimation 0.4-0.6 s, the trial's fit 4.6 s with it before the
    last validation only (4.6 s at a constant rate without it), 8.8 s and
    more before every validation.
    """
    from convnas.search.space import precise_batch_norm

    data = fit_args[0] if fit_args else fit_kwargs.get("x")
    epochs, batch_size = fit_kwargs.get("epochs", 1), fit_kwargs.get("batch_size") or DEFAULT_BATCH_SIZE
    is_dataset = hasattr(data, "element_spec")  # a tf.data dataset, else arrays
    steps = fit_kwargs.get("steps_per_epoch") or (len(data) if is_dataset else math.ceil(len(data) / batch_size))
    compile_model(model, config, protocol.learning_rate(config.learning_rate, steps, epochs))
    callbacks = list(fit_kwargs.pop("callbacks", None) or [])
    if protocol.bn_batches:
        batches = (precise_batch_norm.first_batches(data, protocol.bn_batches) if is_dataset
                   else precise_batch_norm.training_batches(data, batch_size, protocol.bn_batches, seed=0))
        callbacks.insert(0, precise_batch_norm.PreciseBatchNorm(batches, every_epoch=False))
    return model.fit(*fit_args, callbacks=callbacks, **fit_kwargs)
