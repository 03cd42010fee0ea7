"""The cost model's FLOPs against TensorFlow's profiler, per layer and for whole models."""

import inspect

import keras
import pytest
from block_examples import EXAMPLES

from convnas import blocks
from convnas.search import cost
from convnas.search.cost import profiler


def single(layer, shape):
    inputs = keras.Input(shape)
    return keras.Model(inputs, layer(inputs))


LAYERS = {
    "conv2d": (lambda: keras.layers.Conv2D(8, 3), (9, 9, 4)),
    "conv2d_strided": (lambda: keras.layers.Conv2D(8, 3, strides=2, padding="same"), (9, 9, 4)),
    "conv2d_dilated": (lambda: keras.layers.Conv2D(8, 3, dilation_rate=2), (9, 9, 4)),
    "conv2d_grouped": (lambda: keras.layers.Conv2D(8, 3, groups=4), (9, 9, 4)),
    "depthwise": (lambda: keras.layers.DepthwiseConv2D(3, depth_multiplier=2), (9, 9, 4)),
    "separable": (lambda: keras.layers.SeparableConv2D(8, 3, strides=2), (9, 9, 4)),
    "transposed_same": (lambda: keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same"), (5, 5, 4)),
    "conv1d": (lambda: keras.layers.Conv1D(8, 3, strides=2), (11, 4)),
    "conv1d_grouped": (lambda: keras.layers.Conv1D(8, 3, groups=2, dilation_rate=2), (11, 4)),
    "dense": (lambda: keras.layers.Dense(7), (12,)),
    "dense_softmax": (lambda: keras.layers.Dense(7, activation="softmax"), (12,)),
    "max_pooling": (lambda: keras.layers.MaxPooling2D(2), (8, 8, 4)),
    "average_pooling": (lambda: keras.layers.AveragePooling2D(3, strides=2), (9, 9, 4)),
    "global_average_pooling": (lambda: keras.layers.GlobalAveragePooling2D(), (8, 8, 4)),
    "batch_norm": (lambda: keras.layers.BatchNormalization(), (8, 8, 4)),
    "batch_norm_no_scale": (lambda: keras.layers.BatchNormalization(scale=False), (8, 8, 4)),
    "rescaling": (lambda: keras.layers.Rescaling(1 / 16), (8, 8, 3)),  # a model's first layer: x * scale + 0
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_flops_equal_the_profiler(name):
    make, shape = LAYERS[name]
    model = single(make(), shape)
    counted = cost.count(model)
    assert len(counted.layers) == 1
    assert counted.layers[0].flops == profiler.profiler_flops(model) > 0


def test_batch_of_four_agrees_too():
    model = single(keras.layers.Conv2D(8, 3, groups=2), (9, 9, 4))
    assert cost.count(model, batch_size=4).flops == profiler.profiler_flops(model, batch_size=4)


def test_transposed_valid_differs_by_the_profilers_output_over_stride_squared():
    """The profiler estimates Conv2DBackpropInput as 2 Hout Wout F^2 Cin Cout / S^2; convnas counts Hin Win."""
    model = single(keras.layers.Conv2DTranspose(8, 3, strides=2, padding="valid"), (5, 5, 4))
    counted = cost.count(model).layers[0]
    out = 11 * 11  # (5 - 1) * 2 + 3
    bias = out * 8
    assert counted.flops == 2 * 5 * 5 * 9 * 4 * 8 + bias
    assert profiler.profiler_flops(model) == 2 * out * 9 * 4 * 8 // 4 + bias


def test_grouped_conv_needs_the_plain_convolution_workaround():
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    model = single(keras.layers.Conv2D(8, 3, groups=4), (9, 9, 4))
    concrete = tf.function(lambda x: model(x)).get_concrete_function(tf.TensorSpec((1, 9, 9, 4)))
    graph = convert_variables_to_constants_v2(concrete).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    native = tf.compat.v1.profiler.profile(graph=graph, run_meta=tf.compat.v1.RunMetadata(), options=options)
    assert native.total_float_ops < profiler.profiler_flops(model)  # XLA call: the conv counts 0


def block_cases():
    for name in blocks.list_blocks():
        for index, kwargs in enumerate(EXAMPLES[name]):
            # Transposed convs agree with the profiler only with "same" padding, where
            # Hout Wout = Hin Win S^2 (see test_transposed_valid_differs_...).
            if name == "transposed_conv" and kwargs.get("padding", "same") != "same":
                continue
            yield pytest.param(name, kwargs, id=f"{name}-{index}")


@pytest.mark.parametrize("name, kwargs", block_cases())
def test_models_of_every_block_agree_with_the_profiler(name, kwargs):
    cls = blocks.get_block(name)
    shape = (13, 8) if cls.rank == 1 else (9, 11, 8)
    inputs = keras.Input(shape)
    x = cls(**kwargs)(inputs)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    counted = cost.count(model)
    assert counted.uncounted == []
    assert profiler.comparable_flops(counted) == profiler.profiler_flops(model)
    assert "filters" not in inspect.signature(cls.__init__).parameters or counted.macs > 0


def test_mobilenet_whole_model_agrees_exactly():
    model = keras.applications.MobileNet(weights=None, input_shape=(128, 128, 3), alpha=0.5)
    assert cost.count(model).flops == profiler.profiler_flops(model)
