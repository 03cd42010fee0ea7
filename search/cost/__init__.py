"""Cost model: exact parameters, MACs, FLOPs and memory of a built Keras model, per layer.

`count(model)` walks the model: the layers of a functional or sequential model
through its graph, and the sublayers of composite layers (convnas blocks,
nested models) through one symbolic call, so a model made of blocks gets a
row per sublayer. Each layer's own cost comes from `search.cost.layer_costs`
(the counting convention is stated there). A layer with neither a formula nor
sublayers is listed in `uncounted`, with a warning, never counted as 0.
Keras's graph and its layers' recorded calls are read through `search.adapter`.
`latency(model)` times a batch's inference; `search.cost.profiler` cross-checks the
FLOPs against TensorFlow's own profiler.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import time
import warnings
from collections.abc import Iterator, Sequence

import keras
import numpy as np

from convnas.blocks import validation
from convnas.search import adapter
from convnas.search.cost.layer_costs import formula_for

Shape = tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class LayerRow:
    """Cost of one layer's own operations."""

    name: str
    type: str
    output_shape: Shape
    params: int
    macs: int
    flops: int


@dataclasses.dataclass(frozen=True)
class Cost:
    """Cost of a model at a given batch size."""

    params: int
    trainable_params: int
    macs: int
    flops: int
    weight_bytes: int
    activation_bytes: int
    layers: list[LayerRow]
    uncounted: list[str]

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _concrete(shape: Sequence[int | None], batch_size: int) -> Shape:
    return (batch_size, *shape[1:])


def _graph_calls(model: keras.Model, batch_size: int) -> Iterator[tuple[keras.layers.Layer, list[Shape], Shape]]:
    """(layer, input shapes, output shape) for every node of a functional graph, in order."""
    for operation, inputs, output in adapter.graph_calls(model):
        yield operation, [_concrete(t.shape, batch_size) for t in inputs], _concrete(output.shape, batch_size)


def _symbolic_calls(
    layer: keras.layers.Layer, input_shapes: list[Shape]
) -> list[tuple[keras.layers.Layer, list[Shape], Shape]]:
    """(sublayer, input shapes, output shape) of each sublayer call made by one symbolic `layer.call`.

    The call runs on KerasTensors (shape inference only, no computation); the
    graph nodes it records on the sublayers are removed afterwards.
    """
    inputs = [keras.KerasTensor(shape, dtype=layer.compute_dtype) for shape in input_shapes]
    inputs = inputs[0] if len(inputs) == 1 else inputs
    kwargs = {"training": False} if "training" in inspect.signature(layer.call).parameters else {}
    calls = adapter.sublayer_calls(_sublayers(layer), lambda: layer.call(inputs, **kwargs))
    return [(sub, [tuple(t.shape) for t in sub_inputs], tuple(output.shape)) for sub, sub_inputs, output in calls]


def _calls(layer: keras.layers.Layer, input_shapes: list[Shape], batch_size: int):
    graph = adapter.functional_graph(layer)
    if graph is not None:
        return _graph_calls(graph, batch_size)
    return _symbolic_calls(layer, input_shapes)


def _sublayers(layer) -> list[keras.layers.Layer]:
    """Direct sublayers of a layer; none for a plain Keras operation (keras.ops in a functional graph)."""
    if not isinstance(layer, keras.layers.Layer):
        return []
    return adapter.flatten_layers(layer, include_self=False, recursive=False)


def _own_params(layer) -> int:
    if not isinstance(layer, keras.layers.Layer):
        return 0
    return layer.count_params() - sum(sub.count_params() for sub in _sublayers(layer) if sub.built)


def _walk(layer, input_shapes, output_shape, prefix, batch_size, rows, uncounted):
    name = f"{prefix}{layer.name}"
    formula = formula_for(layer)
    has_sublayers = bool(_sublayers(layer))
    if has_sublayers:
        for sub, sub_inputs, sub_output in _calls(layer, input_shapes, batch_size):
            _walk(sub, sub_inputs, sub_output, f"{name}/", batch_size, rows, uncounted)
    if formula is None:
        if not has_sublayers:
            uncounted.append(f"{name} ({type(layer).__name__})")
        return
    macs, flops = formula(layer, input_shapes, output_shape)
    params = _own_params(layer)
    if not has_sublayers or macs or flops or params:
        rows.append(LayerRow(name, type(layer).__name__, output_shape, params, macs, flops))


def count(model: keras.Model, batch_size: int = 1) -> Cost:
    """Parameters, MACs, FLOPs and memory of a built model, per layer.

    Args:
        model: a built functional or sequential Keras model.
        batch_size: batch size the MACs, FLOPs and activation bytes are counted for.

    Returns:
        A `Cost`; `layers` has one row per counted layer, `uncounted` names the
        layers without a formula (a warning is also issued).
    """
    validation.positive_int("batch_size", batch_size)
    if not model.built:
        raise ValueError(f"`model` must be built (called on an input). Received: unbuilt {type(model).__name__}")
    if not getattr(model, "inputs", None):
        raise ValueError(
            "`model` must have a known input shape (a functional or sequential model built on keras.Input). "
            f"Received: {type(model).__name__} named {model.name!r}"
        )
    rows: list[LayerRow] = []
    uncounted: list[str] = []
    input_shapes = [_concrete(t.shape, batch_size) for t in model.inputs]
    for layer, layer_inputs, layer_output in _calls(model, input_shapes, batch_size):
        _walk(layer, layer_inputs, layer_output, "", batch_size, rows, uncounted)
    if uncounted:
        warnings.warn(f"No cost formula for {len(uncounted)} layer(s): {', '.join(uncounted)}", stacklevel=2)
    return Cost(
        params=model.count_params(),
        trainable_params=sum(math.prod(w.shape) for w in model.trainable_weights),
        macs=sum(row.macs for row in rows),
        flops=sum(row.flops for row in rows),
        weight_bytes=sum(math.prod(w.shape) * _itemsize(w.dtype) for w in model.weights),
        activation_bytes=sum(math.prod(row.output_shape) for row in rows) * _itemsize(model.compute_dtype),
        layers=rows,
        uncounted=uncounted,
    )


def _itemsize(dtype: str) -> int:
    """Bytes per element of a Keras dtype name ("float32" -> 4, "bfloat16" -> 2, "bool" -> 1).

    NumPy knows bfloat16 and the float8 types once Keras is imported (Keras imports ml_dtypes, which registers them).
    """
    return np.dtype(keras.backend.standardize_dtype(dtype)).itemsize


def latency(model: keras.Model, batch_size: int = 1, repeats: int = 20, warmup: int = 2) -> float:
    """Warm median inference time of one batch, in milliseconds.

    Runs `model.predict_on_batch` (Keras's compiled inference function) on
    zeros: `warmup` untimed calls (the first traces the function, ~60 ms for
    a small model), then `repeats` timed ones; returns their median.
    """
    for name, value in (("batch_size", batch_size), ("repeats", repeats), ("warmup", warmup)):
        validation.positive_int(name, value)
    inputs = [np.zeros((batch_size, *t.shape[1:]), dtype=t.dtype) for t in model.inputs]
    batch = inputs[0] if len(inputs) == 1 else inputs
    times = []
    for index in range(warmup + repeats):
        start = time.perf_counter()
        model.predict_on_batch(batch)
        if index >= warmup:
            times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000.0)
