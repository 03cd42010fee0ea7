"""Gradients of a scalar of a Keras model's output, on whichever backend Keras runs.

The proxies differentiate a scalar of a throwaway copy's output (the sum of
its logits, the batch's cross-entropy) with respect to its weights or to its
inputs. Each backend has its own way:

* TensorFlow: `tf.GradientTape`.
* JAX: `jax.grad` of the model's `stateless_call`, the variables passed in as
  values (a JAX function cannot read Keras variables it is differentiated by).
* PyTorch: `torch.autograd.grad` of the eager call; the weights are made to
  require gradients first (frozen ones included: the model is a copy).

Every gradient comes back as a NumPy array; a weight off the path to the
output gets None on TensorFlow and PyTorch and zeros on JAX, which add the same
to every proxy's sum.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import keras
import numpy as np

from convnas.search import adapter
from convnas.search.common import backends


def of_weights(model: keras.Model, weights: Sequence, inputs: np.ndarray, scalar: Callable, training: bool) -> list:
    """dS/dW for each of `weights`, where S = scalar(model(inputs, training=training)).

    Args:
        model: the (throwaway) model whose variables `weights` are.
        weights: Keras variables of `model`.
        inputs: the batch, a NumPy array.
        scalar: maps the model's output tensor to a scalar tensor (with `keras.ops`).
        training: the mode of the call (BatchNorm's batch statistics when True).

    Returns:
        One NumPy array (or None, off the path to the output) per weight.
    """
    backend = backends.name()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = scalar(model(inputs, training=training))
        gradients = tape.gradient(value, list(weights))
    elif backend == "jax":
        import jax

        positions = {id(weight): index for index, weight in enumerate(weights)}

        def function(values):
            def pick(variables):
                return [values[positions[id(v)]] if id(v) in positions else v.value for v in variables]

            outputs, _ = model.stateless_call(
                pick(model.trainable_variables), pick(model.non_trainable_variables), inputs, training=training)
            return scalar(outputs)

        gradients = jax.grad(function)([weight.value for weight in weights])
    else:
        import torch

        for weight in weights:
            weight.value.requires_grad_(True)
        value = scalar(model(inputs, training=training))
        gradients = torch.autograd.grad(value, [weight.value for weight in weights], allow_unused=True)
    return [None if gradient is None else keras.ops.convert_to_numpy(gradient) for gradient in gradients]


def of_inputs(model: keras.Model, inputs: np.ndarray, scalar: Callable, training: bool) -> np.ndarray:
    """dS/dx, where S = scalar(model(x, training=training)) at x = `inputs`, as a NumPy array of their shape."""
    backend = backends.name()
    if backend == "tensorflow":
        import tensorflow as tf

        tensor = tf.convert_to_tensor(inputs)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            value = scalar(model(tensor, training=training))
        gradient = tape.gradient(value, tensor)
    elif backend == "jax":
        import jax

        trainable = [variable.value for variable in model.trainable_variables]
        non_trainable = [variable.value for variable in model.non_trainable_variables]

        def function(tensor):
            return scalar(model.stateless_call(trainable, non_trainable, tensor, training=training)[0])

        gradient = jax.grad(function)(keras.ops.convert_to_tensor(inputs))
    else:
        import torch

        tensor = keras.ops.convert_to_tensor(inputs).requires_grad_(True)
        gradient = torch.autograd.grad(scalar(model(tensor, training=training)), tensor)[0]
    return keras.ops.convert_to_numpy(gradient)


def in_float64(proxy: Callable) -> Callable:
    """`proxy` run with float64 kept float64 on every backend (`search.adapter.float64_computation`).

    Keras computes float64 in float32 on JAX and PyTorch unless asked: synflow's copy (and a float64
    model's) is then float64 as on TensorFlow.
    """

    @functools.wraps(proxy)
    def run(*args, **kwargs):
        with adapter.float64_computation():
            return proxy(*args, **kwargs)

    return run
