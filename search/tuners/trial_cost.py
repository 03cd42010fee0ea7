"""What a trial's model costs: counted before training where its input shape is known, else once `fit` built it.

convnas counts a functional or sequential model built on `keras.Input` (search.cost). A model
that is not built yet (a Sequential without an Input, a subclassed `keras.Model`) is built for
the training data's shape before training; a subclassed model, which has no graph of its own,
is counted through a functional model that calls it on an Input of that shape. Where neither
the model nor the data tells the shape (a search without training data, a model whose `build`
needs it), the cost is counted after training, from the shape `fit` built the model for; a
model that cannot be counted even then (`Uncountable`) leaves the cost columns empty and says
why.
"""

from __future__ import annotations

import keras
import numpy as np

PROXY_BATCH = 64  # images in a prescreening proxy's fixed batch


class Uncountable(Exception):
    """The model's cost cannot be counted (yet): no input shape, or a call that cannot be traced."""


def input_shape(fit_args: tuple, fit_kwargs: dict) -> tuple | None:
    """The batched input shape of the training data `search` was given (arrays or a tf.data dataset); None without
    training data, or for data whose shape is not one array's (a dict of inputs, a generator)."""
    data = fit_args[0] if fit_args else fit_kwargs.get("x")
    if hasattr(data, "element_spec"):
        spec = data.element_spec
        spec = spec[0] if isinstance(spec, tuple) else spec
        return (None, *spec.shape[1:]) if hasattr(spec, "shape") else None
    if hasattr(data, "shape"):
        return (None, *data.shape[1:])
    return None


def first_examples(fit_args: tuple, fit_kwargs: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """Up to PROXY_BATCH * 4 (images, labels) of the training data (arrays or a tf.data dataset of (x, y) batches)."""
    data = fit_args[0] if fit_args else fit_kwargs.get("x")
    if hasattr(data, "element_spec"):
        images, labels = [], []
        for x, y in data.take(-1).as_numpy_iterator():
            images.append(x)
            labels.append(y)
            if sum(len(batch) for batch in images) >= PROXY_BATCH * 4:
                break
        return (np.concatenate(images), np.concatenate(labels)) if images else None
    labels = fit_args[1] if len(fit_args) > 1 else fit_kwargs.get("y")
    if data is None or labels is None or not hasattr(data, "shape"):
        return None
    return np.asarray(data[: PROXY_BATCH * 4]), np.asarray(labels[: PROXY_BATCH * 4])


def build_for(model: keras.Model, shape: tuple | None) -> None:
    """Builds an unbuilt `model` for inputs of `shape` (the training data's), when that is known."""
    if not model.built and shape is not None:
        model.build(shape)


def countable(model: keras.Model) -> keras.Model:
    """`model` itself when search.cost can count it, else a functional model calling it on an Input of the shape
    it was built for. Uncountable if it is not built, or not for one input of known shape."""
    if getattr(model, "inputs", None):
        return model
    if not model.built:
        raise Uncountable(f"{type(model).__name__} is not built before training")
    shape = (model.get_build_config() or {}).get("input_shape")
    if not shape or not all(isinstance(size, (int, type(None))) for size in shape):
        raise Uncountable(f"{type(model).__name__} was not built for one input of known shape")
    try:
        inputs = keras.Input(tuple(shape[1:]), dtype=model.input_dtype)
        return keras.Model(inputs, model(inputs))
    except Exception as error:  # noqa: BLE001 - a call that cannot be traced symbolically: said in the record
        raise Uncountable(f"{type(model).__name__} cannot be called on a symbolic input ({type(error).__name__})") \
            from error

