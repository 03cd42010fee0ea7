"""Training-free ("zero-cost") proxies: scores of an untrained classifier that predict its trained accuracy.

Each proxy is computed as its paper defines it, following the reference code
of Abdelfattah et al. 2021, "Zero-Cost Proxies for Lightweight NAS" (ICLR;
SamsungLabs/zero-cost-nas, ``foresight/pruners/measures``) and of Mellor et
al. 2021, "Neural Architecture Search without Training" (ICML;
BayesWatch/nas-without-training, ``score_networks.py``):

* ``synflow`` (Tanaka et al. 2020, "Pruning neural networks without any data
  by iteratively conserving synaptic flow", as used for NAS by Abdelfattah et
  al.): every parameter replaced by its absolute value, BatchNorm disabled
  (an identity, as the reference's ``bn=False``), one all-ones input of the
  input shape, computed in float64. R is the sum of the logits (the output
  before the final softmax) and the score is the sum over the weights theta of
  |theta * dR/dtheta|. Biases are made positive too (they take part in R) but,
  as in the reference, only the weights are summed.
* ``naswot`` (Mellor et al. 2021): every ReLU unit's binary code (activation >
  0) for each input of the batch; K[i, j] = N_A - Hamming(c_i, c_j), the number
  of units on which inputs i and j agree, summed over the ReLU layers; the
  score is log|det K| (``numpy.linalg.slogdet``). The paper's first version
  (arXiv v1, 2020) scored the correlation of input Jacobians instead: that is
  ``jacob_cov`` below.
* ``jacob_cov`` (Mellor et al. 2020, v1; Abdelfattah et al.'s ``jacob_cov``):
  the Jacobian of the sum of the logits with respect to the input, for every
  example of the batch, flattened; C is the correlation matrix of those
  Jacobians (``numpy.corrcoef``, one row per example) and the score is
  -sum(log(v + k) + 1 / (v + k)) over the eigenvalues v of C, k = 1e-5.
* ``grad_norm`` (Abdelfattah et al. 2021): the mean cross-entropy of the
  batch; the sum over the weight tensors of the Euclidean (Frobenius) norm of
  each one's gradient.
* ``snip`` (Lee et al. 2019, "SNIP: single-shot network pruning based on
  connection sensitivity", as in Abdelfattah et al.): the same loss; the sum
  over the weights of |theta * dL/dtheta| (the reference's |dL/d mask| at
  mask 1).

"Weights" are the kernels of every weight layer (Keras's variables named
``kernel``, ``depthwise_kernel`` and ``pointwise_kernel``: every kind of
convolution, convnas's own kernel convs, and dense layers), the reference's
``nn.Conv2d`` and ``nn.Linear`` weights; biases and BatchNorm parameters are
not summed.

BatchNorm, as in the reference code: disabled for ``synflow``; in training
mode (batch statistics) for the other four, the mode a PyTorch network is in
when the references score it.

The names are `search.choices.PROXIES`, where each proxy is registered as a
function ``fn(model, x, y) -> float`` that `score` calls by name.

Every score is oriented so that higher predicts higher accuracy: the
papers' scores are already so (``jacob_cov``'s
leading minus sign is part of its definition).

Convnas blocks nest their layers (BatchNorm and ReLU inside a residual cell):
they are reached with `search.adapter.flatten_layers` (a private Keras hook,
listed in `search.private_api`).

Every proxy works on a copy of the model (`keras.models.clone_model`, the
same weights, the final softmax removed), so the model itself, its weights
and its BatchNorm statistics included, is left as it was. Building that copy
draws initial values from Keras's global random state, as building any layer
does (they are overwritten at once); `score` seeds that state first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import keras
import numpy as np

from convnas.search import adapter, choices
from convnas.search.proxies import gradients as backend_gradients

# The variables summed as "weights": Keras's names for the kernels of conv and dense layers.
WEIGHT_NAMES = ("kernel", "depthwise_kernel", "pointwise_kernel")

# jacob_cov's regularizer of the eigenvalues (Abdelfattah et al.'s reference code).
JACOBIAN_EPSILON = 1e-5

# Activations whose units give naswot codes: the reference hooks every module with "ReLU" in its type name.
_RELU_ACTIVATIONS = (keras.activations.relu, keras.activations.relu6, keras.activations.leaky_relu)


def __getattr__(name: str):
    """`PROXIES`: the names of `search.choices.PROXIES`, as registered when asked (a tuple)."""
    if name == "PROXIES":
        return choices.PROXIES.names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def fixed_batch(x: np.ndarray, y: np.ndarray, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A fixed sample of `size` examples: plain uniform sampling without replacement, seeded.

    Abdelfattah et al. 2021 score every network on the same single random
    minibatch (their default ``dataload="random"``); this is that batch,
    reproducible: the same arrays and seed give the same examples, kept in
    their order in `x`.

    Args:
        x: the examples, first axis the example.
        y: their labels, as many as `x`.
        size: the number of examples, 1 to len(x).
        seed: seed of the sample.

    Returns:
        (x_batch, y_batch).

    Raises:
        ValueError: `y` not as long as `x`, or `size` out of range.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if len(y) != len(x):
        raise ValueError(f"`y` must have one label per example of `x` ({len(x)}). Received: len(y)={len(y)}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 1 <= size <= len(x):
        raise ValueError(f"`size` must be an integer from 1 to len(x)={len(x)}. Received: size={size!r}")
    indices = np.sort(np.random.default_rng(seed).choice(len(x), size=int(size), replace=False))
    return x[indices], y[indices]


def score(name: str, model: keras.Model, x: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    """The proxy `name` of an untrained `model` on the batch (`x`, `y`); higher predicts higher accuracy.

    Args:
        name: a proxy of `search.choices.PROXIES` (each is called as
            ``fn(model, x, y)``).
        model: a Keras classifier ending in a softmax (or in logits).
        x: the batch of inputs (synflow only takes its shape).
        y: their integer labels (used by grad_norm and snip).
        seed: passed to `keras.utils.set_random_seed` first.

    Returns:
        The score, a Python float.

    Raises:
        ValueError: an unknown proxy `name`, or bad arguments for the proxy.
    """
    if name not in choices.PROXIES:
        raise ValueError(f"`name` must name a proxy: one of {', '.join(choices.PROXIES)}. Received: name={name!r}")
    keras.utils.set_random_seed(seed)
    return choices.PROXIES.load(name)(model, x, y)


@backend_gradients.in_float64
def synflow(model: keras.Model, input_shape: Sequence[int] | None = None) -> float:
    """SynFlow (Tanaka et al. 2020) as a NAS proxy (Abdelfattah et al. 2021): sum of |theta * dR/dtheta|.

    The copy of the model has every parameter replaced by its absolute value
    and every BatchNorm made an identity, and runs in float64 on one all-ones
    input; R is the sum of its logits. Data-free: only the input shape counts.
    A `Rescaling` layer (a search candidate's input scaling to [0, 1]) is made
    an identity too, so the all-ones input reaches the network itself, as it
    does in the reference code, whose networks take normalized data.

    Args:
        model: the classifier.
        input_shape: shape of one input, without the batch axis; defaults to
            the model's input shape.

    Returns:
        The score (higher is better).
    """
    shape = _input_shape(model, input_shape)
    copy = _scoring_copy(model, dtype="float64")
    for variable in copy.weights:
        variable.assign(keras.ops.abs(variable))
    for layer in adapter.flatten_layers(copy, include_self=False):
        if isinstance(layer, keras.layers.BatchNormalization):  # (x - 0) / sqrt(1 - eps + eps) * 1 + 0 = x
            for weight, value in ((layer.gamma, 1.0), (layer.beta, 0.0), (layer.moving_mean, 0.0)):
                if weight is not None:
                    weight.assign(keras.ops.full(weight.shape, value, dtype=weight.dtype))
            variance = layer.moving_variance
            variance.assign(keras.ops.full(variance.shape, 1.0 - layer.epsilon, dtype=variance.dtype))
        elif isinstance(layer, keras.layers.Rescaling):  # parameter-free preprocessing: x * 1 + 0 = x
            layer.scale, layer.offset = 1.0, 0.0
    weights = _weights(copy)
    ones = np.ones((1, *shape), dtype="float64")
    gradients = backend_gradients.of_weights(copy, weights, ones, keras.ops.sum, training=False)
    return _sum_over(weights, gradients, lambda weight, gradient: np.abs(weight * gradient).sum())


def synflow_of_batch(model: keras.Model, x: np.ndarray, y: np.ndarray | None = None) -> float:
    """`synflow` called as every proxy is (`search.choices.PROXIES`): on the shape of the inputs `x`; `y` is unused."""
    return synflow(model, input_shape=np.shape(x)[1:])


@backend_gradients.in_float64
def naswot(model: keras.Model, x: np.ndarray, y: np.ndarray | None = None) -> float:
    """NASWOT (Mellor et al. 2021): log|det K| of the ReLU codes' agreement kernel.

    K[i, j] = N_A - Hamming(c_i, c_j) = c_i . c_j + (1 - c_i) . (1 - c_j),
    where c_i is the 0/1 code (unit > 0) of input i over every unit of every
    ReLU-family activation (ReLU, ReLU6, leaky ReLU: Keras `Activation` and
    `ReLU`/`LeakyReLU` layers and conv/dense layers with such an activation,
    inside convnas blocks too), with BatchNorm in training mode. This is the
    2021 (ICML) score; the 2020 v1 of the paper scored Jacobian correlations
    instead (`jacob_cov`).

    Args:
        model: the classifier.
        x: the batch of inputs.
        y: unused (every proxy is called with the labels too).

    Returns:
        The score (higher is better); -inf when K is singular (e.g. two
        identical inputs).

    Raises:
        ValueError: a model without ReLU activations.
    """
    inputs = _inputs(model, x, minimum=1)
    copy = _scoring_copy(model)
    relu_layers = _relu_layers(copy)
    if not relu_layers:
        raise ValueError(f"`model` must have ReLU activations for naswot. Received: model={model.name!r} with none")
    recorded: list = []
    for layer in relu_layers:
        _record_outputs(layer, recorded)
    copy(inputs, training=True)
    kernel = np.zeros((len(inputs), len(inputs)))
    for outputs in recorded:
        codes = (keras.ops.convert_to_numpy(outputs) > 0).reshape(len(inputs), -1).astype(np.float64)
        kernel += codes @ codes.T + (1.0 - codes) @ (1.0 - codes).T
    _, log_determinant = np.linalg.slogdet(kernel)
    return float(log_determinant)


@backend_gradients.in_float64
def jacob_cov(model: keras.Model, x: np.ndarray, y: np.ndarray | None = None) -> float:
    """Jacobian covariance (Mellor et al. 2020 v1; Abdelfattah et al. 2021): -sum(log(v + k) + 1/(v + k)).

    J_i = d(sum of the logits of input i)/d(input i), flattened; v are the
    eigenvalues of the correlation matrix of the J_i (one row per input),
    k = 1e-5; BatchNorm in training mode. The eigenvalues are those of a
    symmetric matrix (`numpy.linalg.eigvalsh`; the reference calls
    `numpy.linalg.eig`, which gives the same values up to rounding).

    Args:
        model: the classifier.
        x: the batch of inputs, at least 2.
        y: unused (every proxy is called with the labels too).

    Returns:
        The score (higher is better); NaN when a Jacobian is constant (its
        correlation is undefined; the reference also returns NaN).

    Note: each row of the correlation matrix is centred over the D values of
    an input, so with a batch of D or more inputs the matrix is singular, and
    each zero eigenvalue adds about -1/k = -1e5 to the score (8x8 digits and
    a batch of 64: every score sits near -1e5, the rest of the sum ranks).
    """
    inputs = _inputs(model, x, minimum=2)
    copy = _scoring_copy(model)
    jacobians = backend_gradients.of_inputs(copy, inputs, keras.ops.sum, training=True)
    jacobians = jacobians.astype(np.float64).reshape(len(x), -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        correlations = np.corrcoef(jacobians)
    if not np.all(np.isfinite(correlations)):
        return math.nan
    eigenvalues = np.linalg.eigvalsh(correlations)
    return float(-np.sum(np.log(eigenvalues + JACOBIAN_EPSILON) + 1.0 / (eigenvalues + JACOBIAN_EPSILON)))


@backend_gradients.in_float64
def grad_norm(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """Gradient norm (Abdelfattah et al. 2021): sum over the weight tensors of ||dL/dW||_2.

    L is the mean sparse categorical cross-entropy of the batch (on the
    logits), BatchNorm in training mode; each weight tensor's gradient norm
    is the Euclidean norm of the whole tensor.

    Args:
        model: the classifier.
        x: the batch of inputs.
        y: their integer labels.

    Returns:
        The score (higher is better).
    """
    weights, gradients = _loss_gradients(model, x, y)
    return _sum_over(weights, gradients, lambda weight, gradient: np.linalg.norm(gradient))


@backend_gradients.in_float64
def snip(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """SNIP (Lee et al. 2019, as in Abdelfattah et al. 2021): sum over the weights of |theta * dL/dtheta|.

    L as in `grad_norm`: the mean cross-entropy of the batch, BatchNorm in
    training mode.

    Args:
        model: the classifier.
        x: the batch of inputs.
        y: their integer labels.

    Returns:
        The score (higher is better).
    """
    weights, gradients = _loss_gradients(model, x, y)
    return _sum_over(weights, gradients, lambda weight, gradient: np.abs(weight * gradient).sum())


def _loss_gradients(model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[list, list]:
    """The copy's weights and the gradients of the batch's mean cross-entropy with respect to them."""
    inputs = _inputs(model, x, minimum=1)
    labels = np.asarray(y)
    if labels.shape != (len(inputs),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"`y` must be one integer label per example of `x` (shape ({len(inputs)},)). "
            f"Received: y of shape {labels.shape} and dtype {labels.dtype}"
        )
    copy = _scoring_copy(model)
    classes = copy.outputs[0].shape[-1]
    if labels.min() < 0 or labels.max() >= classes:
        raise ValueError(
            f"`y` must be labels from 0 to {classes - 1}. Received: y from {labels.min()} to {labels.max()}"
        )
    weights = _weights(copy)

    def loss(logits):
        return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))

    return weights, backend_gradients.of_weights(copy, weights, inputs, loss, training=True)


def _sum_over(weights: list, gradients: list, term: Callable[[np.ndarray, np.ndarray], float]) -> float:
    """Sum of `term(weight, gradient)` in float64; a weight off the path to the output (no gradient) adds 0."""
    total = 0.0
    for weight, gradient in zip(weights, gradients):
        if gradient is not None:
            weight = keras.ops.convert_to_numpy(weight).astype(np.float64)
            total += float(term(weight, np.asarray(gradient, dtype=np.float64)))
    return total


def _weights(model: keras.Model) -> list:
    """The kernels of every conv and dense layer of `model`, nested ones included."""
    return [variable for variable in model.weights if variable.name in WEIGHT_NAMES]


def _scoring_copy(model: keras.Model, dtype: str | None = None) -> keras.Model:
    """A copy of `model` with its weights whose output is the logits: a final softmax is left out.

    A last layer with a softmax activation gets a linear one; a last `Softmax`
    or `Activation("softmax")` layer is cut off. A model whose last layer
    applies no softmax is taken to output logits already. With `dtype`, every
    layer (and every sublayer of a block) computes in it.
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"`model` must be a keras.Model. Received: model={model!r}")
    if len(model.outputs) != 1:
        raise ValueError(f"`model` must have one output. Received: {len(model.outputs)} outputs")
    output_layer = _output_layer(model)

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        if dtype is not None:
            config["dtype"] = dtype
        if layer is output_layer and not _is_softmax_layer(layer):
            if getattr(layer, "activation", None) is keras.activations.softmax:
                config["activation"] = "linear"
        return type(layer).from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    if _is_softmax_layer(output_layer):
        copy = keras.Model(copy.input, _output_layer(copy).input)
    return copy


def _output_layer(model: keras.Model) -> keras.layers.Layer:
    """The layer that makes the (one) output of `model`."""
    layer = next((layer for layer in reversed(model.layers) if _produces(layer, model.outputs[0])), None)
    if layer is None:
        raise ValueError(f"`model` must have its output made by one of its layers. Received: model={model.name!r}")
    return layer


def _is_softmax_layer(layer: keras.layers.Layer) -> bool:
    """Whether `layer` is a `Softmax` layer or an `Activation("softmax")`."""
    return isinstance(layer, keras.layers.Softmax) or (
        isinstance(layer, keras.layers.Activation) and layer.activation is keras.activations.softmax
    )


def _produces(layer: keras.layers.Layer, tensor) -> bool:
    """Whether `tensor` is the output of `layer` (False for a layer called more than once)."""
    try:
        return layer.output is tensor
    except (AttributeError, ValueError):
        return False


def _relu_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The innermost layers of `model` whose output is a ReLU's: ReLU layers, and layers with a ReLU activation."""
    found = []
    for layer in adapter.flatten_layers(model, include_self=False):
        if adapter.flatten_layers(layer, include_self=False, recursive=False):
            continue  # a block: its ReLUs are its sublayers'
        if isinstance(layer, (keras.layers.ReLU, keras.layers.LeakyReLU)):
            found.append(layer)
            continue
        activation = getattr(layer, "activation", None)
        if isinstance(activation, str):  # convnas's own kernel convs keep the name
            activation = keras.activations.get(activation)
        if activation is not None and any(activation is relu for relu in _RELU_ACTIVATIONS):
            found.append(layer)
    return found


def _record_outputs(layer: keras.layers.Layer, recorded: list) -> None:
    """Makes `layer` (of a throwaway copy) append every output it computes to `recorded`."""
    call = layer.call

    def recording_call(*args, **kwargs):
        outputs = call(*args, **kwargs)
        recorded.append(outputs)
        return outputs

    layer.call = recording_call


def _inputs(model: keras.Model, x: np.ndarray, minimum: int) -> np.ndarray:
    """`x` as an array of the model's input dtype (float32 by default) of at least `minimum` inputs of its rank."""
    has_inputs = isinstance(model, keras.Model) and bool(model.inputs)
    dtype = keras.backend.standardize_dtype(model.inputs[0].dtype) if has_inputs else "float32"
    inputs = np.asarray(x, dtype=dtype)
    rank = len(model.inputs[0].shape) if has_inputs else inputs.ndim
    if inputs.ndim != rank or len(inputs) < minimum:
        raise ValueError(
            f"`x` must be a batch of at least {minimum} inputs of rank {rank - 1}. Received: x of shape {inputs.shape}"
        )
    return inputs


def _input_shape(model: keras.Model, input_shape: Sequence[int] | None) -> tuple[int, ...]:
    """The shape of one input: `input_shape`, or the model's when it is None."""
    if input_shape is None:
        if not isinstance(model, keras.Model) or not model.inputs:
            raise ValueError("`input_shape` is needed for a model without inputs. Received: input_shape=None")
        input_shape = tuple(model.inputs[0].shape[1:])
    shape = tuple(input_shape)
    if not shape or not all(isinstance(size, (int, np.integer)) and size > 0 for size in shape):
        raise ValueError(f"`input_shape` must be positive integers. Received: input_shape={input_shape!r}")
    return tuple(int(size) for size in shape)
