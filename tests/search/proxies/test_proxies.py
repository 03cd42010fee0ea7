"""Zero-cost proxies: closed forms, numpy references, finite differences, model left unchanged, real candidates."""

import math

import keras
import numpy as np
import pytest
from tabular_candidates import candidate

from convnas import blocks
from convnas.search import adapter, proxies
from convnas.search.data import datasets

pytestmark = pytest.mark.backends  # also run on JAX and PyTorch (the backend job)

# -------------------------------------------------------------------- helpers


def dense_stack(widths, activation=None, use_bias=False, batch_norm=False, dtype=None):
    """Input(widths[0]) -> Dense layers of the other widths, the last one softmax."""
    inputs = keras.Input((widths[0],))
    x = inputs
    for width in widths[1:-1]:
        x = keras.layers.Dense(width, use_bias=use_bias, activation=activation, dtype=dtype)(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(dtype=dtype)(x)
    outputs = keras.layers.Dense(widths[-1], use_bias=use_bias, activation="softmax", dtype=dtype)(x)
    return keras.Model(inputs, outputs)


def randomize(model, rng):
    """Signed random values for every trainable weight (so that |W| differs from W)."""
    for variable in model.trainable_weights:
        variable.assign(rng.normal(size=variable.shape).astype(variable.dtype))


def kernels_variables(model):
    return [v for v in model.weights if v.name == "kernel"]


def kernels(model):
    return [np.asarray(v, dtype=np.float64) for v in kernels_variables(model)]


def softmax(logits):
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


# -------------------------------------------------------------------- synflow


@pytest.mark.parametrize("layers", [2, 3])
def test_synflow_of_a_linear_net_is_layers_times_the_flow(layers):
    # With A_l = |W_l| and an all-ones input, R = 1^T A_1 ... A_L 1 and each layer's
    # sum of |W * dR/dW| is R again: synflow = L * R (float64: to 1e-12).
    rng = np.random.default_rng(layers)
    model = dense_stack({2: [4, 3, 2], 3: [4, 3, 5, 2]}[layers])
    randomize(model, rng)
    flow = np.ones((1, 4))
    for kernel in kernels(model):
        flow = flow @ np.abs(kernel)
    expected = layers * flow.sum()
    assert len(kernels(model)) == layers
    assert proxies.synflow(model) == pytest.approx(expected, rel=1e-12)


def test_synflow_is_linear_through_relu_and_batch_norm():
    # ReLUs see only positive values and BatchNorm is disabled (the reference's bn=False):
    # the same weights give the same score with or without them, and BatchNorm's own
    # parameters (made non-trivial here) change nothing.
    rng = np.random.default_rng(7)
    plain = dense_stack([4, 6, 5, 3])
    randomize(plain, rng)
    with_norm = dense_stack([4, 6, 5, 3], activation="relu", batch_norm=True)
    for layer in with_norm.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 2, size=w.shape) for w in layer.get_weights()])
    for target, source in zip(kernels_variables(with_norm), kernels_variables(plain)):
        target.assign(source)
    flow = np.ones((1, 4))
    for kernel in kernels(plain):
        flow = flow @ np.abs(kernel)
    assert proxies.synflow(plain) == pytest.approx(3 * flow.sum(), rel=1e-12)
    assert proxies.synflow(with_norm) == pytest.approx(3 * flow.sum(), rel=1e-12)



def test_synflow_biases_join_the_flow_but_are_not_summed():
    # h = 1|W1| + |b1|, R = h|W2|1 + sum|b2|: sum|W1 dR/dW1| = 1|W1||W2|1 and sum|W2 dR/dW2| = h|W2|1.
    rng = np.random.default_rng(3)
    model = dense_stack([4, 3, 2], use_bias=True)
    randomize(model, rng)
    (w1, b1), (w2, _) = [[np.abs(np.asarray(w, np.float64)) for w in layer.weights] for layer in model.layers[1:]]
    hidden = np.ones(4) @ w1 + b1
    expected = (np.ones(4) @ w1 @ w2).sum() + (hidden @ w2).sum()
    assert proxies.synflow(model) == pytest.approx(expected, rel=1e-12)


def test_synflow_sends_its_all_ones_input_past_a_rescaling_layer():
    # With biases R is not homogeneous in the input (closed form as above, input v):
    # a 1/16 scaling left in place would give the v = 1/16 score, not the v = 1 one.
    rng = np.random.default_rng(5)
    model = dense_stack([4, 3, 2], use_bias=True)
    randomize(model, rng)
    inputs = keras.Input((4,))
    x = keras.layers.Rescaling(1 / 16)(inputs)
    for dense in model.layers[1:]:
        x = keras.layers.Dense.from_config(dense.get_config())(x)
    rescaled = keras.Model(inputs, x)
    rescaled.set_weights(model.get_weights())
    (w1, b1), (w2, _) = [[np.abs(np.asarray(w, np.float64)) for w in layer.weights] for layer in model.layers[1:]]

    def closed_form(v):
        return (v @ w1 @ w2).sum() + ((v @ w1 + b1) @ w2).sum()

    assert closed_form(np.full(4, 1 / 16)) != pytest.approx(closed_form(np.ones(4)), rel=1e-3)
    assert proxies.synflow(rescaled) == pytest.approx(closed_form(np.ones(4)), rel=1e-12)
    assert rescaled.layers[1].scale == 1 / 16  # the scored model is left unchanged


def test_synflow_takes_an_input_shape_and_checks_it():
    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(2, 3, use_bias=False)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", use_bias=False)(x))
    keras.utils.set_random_seed(0)
    small, large = proxies.synflow(model, (5, 5, 1)), proxies.synflow(model, (7, 7, 1))
    assert small > 0 and large > 0
    # GAP averages equal positive maps: the flow does not depend on the image size.
    assert small == pytest.approx(large, rel=1e-12)
    with pytest.raises(ValueError, match=r"`input_shape` must be positive integers. Received: input_shape=\(0, 5, 1\)"):
        proxies.synflow(model, (0, 5, 1))


# -------------------------------------------------------------------- naswot


def agreement_log_determinant(codes):
    """log|K|, K[i, j] = N_A - Hamming(c_i, c_j), computed pair by pair."""
    count = len(codes)
    kernel = np.array([[codes.shape[1] - np.sum(codes[i] != codes[j]) for j in range(count)] for i in range(count)])
    sign, log_determinant = np.linalg.slogdet(kernel.astype(np.float64))
    assert sign > 0
    return log_determinant


def test_naswot_matches_hand_computed_relu_codes():
    rng = np.random.default_rng(0)
    inputs = keras.Input((5,))
    hidden = keras.layers.Dense(12, activation="relu")(inputs)
    second = keras.layers.Activation("relu")(keras.layers.Dense(9)(hidden))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(second))
    randomize(model, rng)
    x = rng.normal(size=(8, 5)).astype(np.float32)
    (w1, b1), (w2, b2) = [[np.asarray(w, np.float64) for w in model.layers[i].weights] for i in (1, 2)]
    first = x @ w1 + b1
    codes = np.concatenate([first > 0, np.maximum(first, 0) @ w2 + b2 > 0], axis=1)
    assert codes.shape == (8, 21)
    assert proxies.naswot(model, x) == pytest.approx(agreement_log_determinant(codes), rel=1e-9)


def test_naswot_reads_the_relus_inside_blocks():
    # The only ReLU is the conv block's own activation: its output's codes are the whole kernel.
    rng = np.random.default_rng(1)
    inputs = keras.Input((5, 5, 2))
    block = blocks.get_block("conv")(4, 3, activation="relu")
    features = block(inputs)
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.GlobalAveragePooling2D()(features))
    model = keras.Model(inputs, outputs)
    x = rng.normal(size=(10, 5, 5, 2)).astype(np.float32)
    codes = keras.ops.convert_to_numpy(keras.Model(inputs, features)(x)).reshape(10, -1) > 0
    assert proxies.naswot(model, x) == pytest.approx(agreement_log_determinant(codes), rel=1e-9)


def test_naswot_needs_relus():
    with pytest.raises(ValueError, match=r"`model` must have ReLU activations for naswot"):
        proxies.naswot(dense_stack([4, 3]), np.ones((2, 4)))


def test_naswot_of_repeated_inputs_is_minus_infinity():
    x = np.repeat(np.random.default_rng(2).normal(size=(1, 5)), 3, axis=0)
    assert proxies.naswot(dense_stack([5, 8, 3], activation="relu"), x) == -math.inf


# -------------------------------------------------------------------- jacob_cov


def test_jacob_cov_matches_the_reference_formula():
    # Jacobian of the sum of the logits of a Dense-ReLU-Dense net: J_i = W1 diag(h_i > 0) W2 1.
    rng = np.random.default_rng(4)
    model = dense_stack([12, 16, 3], activation="relu", use_bias=True)
    randomize(model, rng)
    x = rng.normal(size=(6, 12)).astype(np.float32)
    (w1, b1), (w2, _) = [[np.asarray(w, np.float64) for w in layer.weights] for layer in model.layers[1:]]
    active = (x @ w1 + b1) > 0
    jacobians = np.stack([w1 @ (mask * w2.sum(axis=1)) for mask in active])
    eigenvalues = np.linalg.eig(np.corrcoef(jacobians))[0].real  # the reference's numpy.linalg.eig
    assert eigenvalues.min() > 1e-3  # well conditioned: float32 gradients are precise enough
    expected = -np.sum(np.log(eigenvalues + 1e-5) + 1 / (eigenvalues + 1e-5))
    assert proxies.jacob_cov(model, x) == pytest.approx(expected, rel=1e-5)


def test_jacob_cov_needs_two_inputs_and_is_nan_for_a_constant_jacobian():
    model = dense_stack([3, 2], use_bias=True)
    with pytest.raises(
        ValueError, match=r"`x` must be a batch of at least 2 inputs of rank 1. Received: x of shape \(1, 3\)"
    ):
        proxies.jacob_cov(model, np.ones((1, 3)))
    dead = dense_stack([3, 4, 2], activation="relu", use_bias=True)
    for layer in dead.layers[1:]:
        layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    assert math.isnan(proxies.jacob_cov(dead, np.ones((4, 3))))


# -------------------------------------------------------------------- grad_norm and snip


def test_grad_norm_and_snip_of_softmax_regression_match_the_closed_form():
    # L = mean cross-entropy, dL/dW = X^T (softmax(XW + b) - onehot) / N; the bias is not summed.
    rng = np.random.default_rng(5)
    model = dense_stack([5, 3], use_bias=True)
    randomize(model, rng)
    x = rng.normal(size=(7, 5)).astype(np.float32)
    y = rng.integers(0, 3, size=7)
    kernel, bias = [np.asarray(w, np.float64) for w in model.layers[1].weights]
    gradient = x.T @ (softmax(x @ kernel + bias) - np.eye(3)[y]) / len(x)
    assert proxies.grad_norm(model, x, y) == pytest.approx(np.linalg.norm(gradient), rel=1e-5)
    assert proxies.snip(model, x, y) == pytest.approx(np.abs(kernel * gradient).sum(), rel=1e-5)


def numpy_loss(weights, x, y, epsilon):
    """Mean cross-entropy of Dense-BatchNorm(training: batch statistics)-ReLU-Dense, in float64."""
    w1, b1, gamma, beta, w2, b2 = weights
    hidden = x @ w1 + b1
    normalized = (hidden - hidden.mean(axis=0)) / np.sqrt(hidden.var(axis=0) + epsilon) * gamma + beta
    probabilities = softmax(np.maximum(normalized, 0) @ w2 + b2)
    return -np.mean(np.log(probabilities[np.arange(len(y)), y]))


def test_grad_norm_and_snip_match_finite_differences_with_batch_norm_in_training_mode():
    rng = np.random.default_rng(6)
    with adapter.float64_computation():  # float64 variables on JAX too
        inputs = keras.Input((4,), dtype="float64")
        x_tensor = keras.layers.Dense(5, dtype="float64")(inputs)
        norm = keras.layers.BatchNormalization(dtype="float64")
        x_tensor = keras.layers.Activation("relu", dtype="float64")(norm(x_tensor))
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", dtype="float64")(x_tensor))
        randomize(model, rng)
    x = rng.normal(size=(9, 4))
    y = rng.integers(0, 3, size=9)
    weights = [np.asarray(w, np.float64) for w in model.trainable_weights]  # w1, b1, gamma, beta, w2, b2
    gradients = {}
    for index in (0, 4):  # the two kernels
        gradient = np.zeros_like(weights[index])
        for position in np.ndindex(weights[index].shape):
            shifted = [w.copy() for w in weights]
            shifted[index][position] += 1e-6
            up = numpy_loss(shifted, x, y, norm.epsilon)
            shifted[index][position] -= 2e-6
            gradient[position] = (up - numpy_loss(shifted, x, y, norm.epsilon)) / 2e-6
        gradients[index] = gradient
    expected_norm = sum(np.linalg.norm(g) for g in gradients.values())
    expected_snip = sum(np.abs(weights[i] * g).sum() for i, g in gradients.items())
    assert proxies.grad_norm(model, x, y) == pytest.approx(expected_norm, rel=1e-6)
    assert proxies.snip(model, x, y) == pytest.approx(expected_snip, rel=1e-6)


def test_loss_proxies_check_the_labels():
    model = dense_stack([5, 3], use_bias=True)
    x = np.ones((4, 5))
    with pytest.raises(ValueError, match=r"`y` must be labels from 0 to 2. Received: y from 0 to 3"):
        proxies.grad_norm(model, x, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"`y` must be one integer label per example of `x` \(shape \(4,\)\)"):
        proxies.snip(model, x, np.array([0, 1]))


# -------------------------------------------------------------------- the logits


@pytest.mark.parametrize("ending", ["dense_softmax", "softmax_layer", "softmax_activation", "sequential"])
def test_every_form_of_final_softmax_is_left_out(ending):
    # The scores of a net ending in logits, and of the same net ending in a softmax in any form, agree.
    rng = np.random.default_rng(8)
    hidden = [keras.layers.Dense(6, activation="relu"), keras.layers.Dense(3)]
    inputs = keras.Input((4,))
    logits = keras.Model(inputs, hidden[1](hidden[0](inputs)))
    randomize(logits, rng)
    x, y = rng.normal(size=(8, 4)).astype(np.float32), rng.integers(0, 3, size=8)
    if ending == "sequential":
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation="relu"),
                                  keras.layers.Dense(3, activation="softmax")])
    elif ending == "dense_softmax":
        model = dense_stack([4, 6, 3], activation="relu", use_bias=True)
    else:
        last = keras.layers.Softmax() if ending == "softmax_layer" else keras.layers.Activation("softmax")
        model = keras.Model(inputs, last(logits.outputs[0]))
    model.set_weights(logits.get_weights())
    for name in proxies.PROXIES:
        assert proxies.score(name, model, x, y) == pytest.approx(proxies.score(name, logits, x, y), rel=1e-6)


# -------------------------------------------------------------------- real candidates, the API


@pytest.fixture(scope="module")
def digits():
    return datasets.load_dataset("digits", seed=0)


@pytest.mark.parametrize("key", ["residual32x2-residual16x1", "depthwise_separable_conv32x2"])
@pytest.mark.parametrize("name", proxies.PROXIES)
def test_every_proxy_scores_a_real_candidate_and_leaves_it_unchanged(digits, key, name):
    # Seconds per proxy are measured by the tabular benchmark (benchmarks/RESULTS.md), not here.
    data = digits
    model = candidate(key)
    x, y = proxies.fixed_batch(data.x_train, data.y_train, 64, seed=0)
    before = model.get_weights()  # BatchNorm moving statistics included
    value = proxies.score(name, model, x, y, seed=0)
    assert isinstance(value, float) and math.isfinite(value)
    after = model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert proxies.score(name, model, x, y, seed=0) == value  # deterministic


def test_score_dispatches_to_the_proxy_functions(digits):
    data = digits
    model = candidate("conv16x1")
    x, y = proxies.fixed_batch(data.x_train, data.y_train, 32, seed=1)
    direct = {
        "synflow": proxies.synflow(model, x.shape[1:]),
        "naswot": proxies.naswot(model, x),
        "jacob_cov": proxies.jacob_cov(model, x),
        "grad_norm": proxies.grad_norm(model, x, y),
        "snip": proxies.snip(model, x, y),
    }
    assert {name: proxies.score(name, model, x, y) for name in proxies.PROXIES} == pytest.approx(direct, rel=1e-6)
    assert len(set(direct.values())) == len(direct)


def test_unknown_proxy_is_named_in_the_error():
    with pytest.raises(
        ValueError,
        match=r"`name` must name a proxy: one of synflow, naswot, jacob_cov, grad_norm, snip. Received: name='foo'",
    ):
        proxies.score("foo", dense_stack([2, 2]), np.ones((2, 2)), np.zeros(2, dtype=int))


def test_fixed_batch_is_a_seeded_sample_without_replacement():
    x = np.arange(100).reshape(50, 2)
    y = np.arange(50) % 5
    first_x, first_y = proxies.fixed_batch(x, y, 20, seed=3)
    again_x, again_y = proxies.fixed_batch(x, y, 20, seed=3)
    other_x, _ = proxies.fixed_batch(x, y, 20, seed=4)
    assert np.array_equal(first_x, again_x) and np.array_equal(first_y, again_y)
    assert not np.array_equal(first_x, other_x)
    rows = first_x[:, 0] // 2
    assert len(set(rows)) == 20 and np.all(np.diff(rows) > 0)  # distinct, in their order in x
    assert np.array_equal(first_y, y[rows])  # labels stay with their examples
    assert np.array_equal(proxies.fixed_batch(x, y, 50)[0], x)


@pytest.mark.parametrize("size", [0, 51, 2.5])
def test_fixed_batch_rejects_a_size_out_of_range(size):
    with pytest.raises(ValueError, match=rf"`size` must be an integer from 1 to len\(x\)=50. Received: size={size}"):
        proxies.fixed_batch(np.zeros((50, 2)), np.zeros(50), size)


def test_fixed_batch_needs_one_label_per_example():
    with pytest.raises(ValueError, match=r"`y` must have one label per example of `x` \(50\). Received: len\(y\)=49"):
        proxies.fixed_batch(np.zeros((50, 2)), np.zeros(49), 10)
