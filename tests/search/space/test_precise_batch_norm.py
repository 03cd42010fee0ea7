"""Precise BatchNorm: statistics re-estimated with the current weights, checked against NumPy, and when it happens."""

import keras
import numpy as np
import pytest

from convnas.search.space import precise_batch_norm
from convnas.search.space.precise_batch_norm import PreciseBatchNorm, reestimate, training_batches


def small_model() -> keras.Model:
    """conv, BN, ReLU, conv, BN, ReLU, global pooling, softmax: the second BN's input depends on the first's mode."""
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv1")(inputs)
    x = keras.layers.BatchNormalization(momentum=0.9, name="bn1")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2D(3, 3, padding="same", name="conv2")(x)
    x = keras.layers.BatchNormalization(momentum=0.9, name="bn2")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def statistics(model: keras.Model, name: str) -> tuple[np.ndarray, np.ndarray]:
    layer = model.get_layer(name)
    return keras.ops.convert_to_numpy(layer.moving_mean), keras.ops.convert_to_numpy(layer.moving_variance)


@pytest.fixture
def images():
    return np.random.default_rng(0).normal(2.0, 3.0, size=(40, 6, 6, 2)).astype(np.float32)


def test_the_statistics_are_the_average_of_each_batchs_training_mode_moments(images):
    model = small_model()
    weights = [w.copy() for w in model.get_weights() if w.ndim > 1]
    batches = [images[:8], images[8:16], images[16:24]]
    reestimate(model, batches)
    found = {name: statistics(model, name) for name in ("bn1", "bn2")}
    for name, before in (("bn1", "conv1"), ("bn2", "conv2")):
        # the layer's input, in training mode: the first BN normalizes each batch by its own moments
        feeding = keras.Model(model.input, model.get_layer(before).output)
        inputs = [keras.ops.convert_to_numpy(feeding(batch, training=True)).astype(np.float64) for batch in batches]
        mean = np.mean([x.mean(axis=(0, 1, 2)) for x in inputs], axis=0)
        variance = np.mean([x.var(axis=(0, 1, 2)) for x in inputs], axis=0)
        np.testing.assert_allclose(found[name][0], mean, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(found[name][1], variance, rtol=1e-4)
    assert [model.get_layer(name).momentum for name in ("bn1", "bn2")] == [0.9, 0.9]  # restored
    assert all(np.array_equal(a, b) for a, b in zip(weights, [w for w in model.get_weights() if w.ndim > 1]))


def test_a_frozen_batch_norm_keeps_its_statistics_and_no_batches_change_nothing(images):
    model = small_model()
    model.get_layer("bn1").trainable = False
    reestimate(model, [images[:8]])
    mean, variance = statistics(model, "bn1")
    assert np.all(mean == 0) and np.all(variance == 1)  # as initialized
    assert not np.all(statistics(model, "bn2")[0] == 0)
    before = statistics(model, "bn2")
    reestimate(model, [])
    assert all(np.array_equal(a, b) for a, b in zip(before, statistics(model, "bn2")))


def test_the_batches_are_full_seeded_and_at_most_as_many_as_fit(images):
    batches = training_batches(images, 8, 100, seed=3)
    assert len(batches) == 5 and all(batch.shape == (8, 6, 6, 2) for batch in batches)
    assert len(np.unique(np.concatenate(batches).reshape(40, -1), axis=0)) == 40  # without replacement
    assert all(np.array_equal(a, b) for a, b in zip(batches, training_batches(images, 8, 100, seed=3)))
    assert not np.array_equal(batches[0], training_batches(images, 8, 100, seed=4)[0])
    assert len(training_batches(images, 8, 2, seed=3)) == 2
    assert [len(batch) for batch in training_batches(images[:5], 8, 100, seed=3)] == [5]  # one batch of all


def test_the_first_batches_of_a_dataset_leave_out_a_smaller_last_one():
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((np.arange(20.0), np.arange(20))).batch(8)
    assert [batch.tolist() for batch in precise_batch_norm.first_batches(data, 5)] == [
        list(range(8)), list(range(8, 16))]
    assert len(precise_batch_norm.first_batches(data, 1)) == 1


class Counting(PreciseBatchNorm):
    """Counts the re-estimations it does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.count = 0

    def refresh(self):
        self.count += self.stale
        super().refresh()


@pytest.mark.parametrize("every_epoch, count", [(True, 3), (False, 1)])
def test_validation_inside_fit_and_every_evaluation_after_it_see_statistics_of_the_weights(images, every_epoch, count):
    labels = np.arange(len(images)) % 3
    keras.utils.set_random_seed(0)
    model = small_model()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    batches = training_batches(images, 8, 3, seed=0)
    callback = Counting(batches, every_epoch=every_epoch)
    history = model.fit(images, labels, batch_size=8, epochs=3, validation_data=(images[:16], labels[:16]),
                        callbacks=[callback], shuffle=False, verbose=0)
    assert callback.count == count  # every epoch's validation, or the last one's; none again when training ends
    after = [statistics(model, name) for name in ("bn1", "bn2")]
    reestimate(model, batches)  # the same weights, the same batches: the statistics the last validation had
    assert all(np.array_equal(a, b) for pair in zip(after, [statistics(model, n) for n in ("bn1", "bn2")])
               for a, b in zip(*pair))
    scores = model.evaluate(images[:16], labels[:16], batch_size=8, callbacks=[callback], verbose=0, return_dict=True)
    assert callback.count == count and scores["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-6)


def test_an_evaluation_before_training_re_estimates_once(images):
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    callback = Counting(training_batches(images, 8, 2, seed=0))
    for _ in range(2):
        model.evaluate(images, np.zeros(len(images)), batch_size=8, callbacks=[callback], verbose=0)
    assert callback.count == 1 and not np.all(statistics(model, "bn1")[0] == 0)
