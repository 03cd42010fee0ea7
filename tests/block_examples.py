"""Example arguments for every registered block, and the closed form of its parameter count.

Tests parametrized over the registry read these: a new block fails its tests
until it gets an entry in CLOSED_FORMS here. EXAMPLES adds argument variants
beyond the defaults (integer padding, strides, groups, ...).
"""

INPUT_2D = (2, 9, 11, 8)
INPUT_1D = (2, 13, 8)

EXAMPLES = {
    "channel_shuffle": [{}, {"groups": 4}],
    "conv": [
        {"filters": 6},
        {"filters": 6, "kernel_size": 5, "strides": 2, "padding": 1},
        {"filters": 4, "kernel_size": (3, 5), "padding": "valid", "dilation_rate": 2},
        {"filters": 4, "groups": 2, "use_bias": False},
    ],
    "conv1d": [{"filters": 6}, {"filters": 6, "kernel_size": 4, "strides": 3, "padding": 2}],
    "depthwise_separable_conv": [
        {"filters": 12},
        {"filters": 12, "strides": 2, "padding": 1, "depth_multiplier": 2},
        {"filters": 12, "use_batch_norm": False, "activation": None},
    ],
    "dilated_conv": [{"filters": 6}, {"filters": 6, "dilation_rate": 3, "padding": "valid"}],
    "flattened_conv": [{"filters": 10}, {"filters": 10, "kernel_size": 5, "strides": 2, "padding": "valid"}],
    "grouped_conv": [{"filters": 6}, {"filters": 12, "groups": 4, "strides": 2, "padding": 2}],
    "highway": [
        {}, {"kernel_size": 1, "gate": False}, {"use_batch_norm": True}, {"gate": False, "use_batch_norm": True},
    ],
    "im2col_conv": [{"filters": 6}, {"filters": 6, "kernel_size": 4, "strides": 2, "padding": 3}],
    "inception": [
        {},
        {"filters_1x1": 4, "filters_3x3_reduce": 3, "filters_3x3": 5, "filters_5x5_reduce": 2,
         "filters_5x5": 3, "filters_pool_proj": 2},
        {"filters_1x1": 4, "filters_3x3": 5, "filters_5x5": 3, "filters_pool_proj": 2, "use_reductions": False},
        {"filters_1x1": 4, "filters_3x3": 5, "filters_5x5": 3, "use_reductions": False, "use_pool_projection": False},
    ],
    "nin": [{"filters": 6}, {"filters": 6, "kernel_size": 5, "strides": 2, "padding": 1}],
    "pointwise": [{"filters": 6}, {"filters": 6, "strides": 2}],
    "pointwise_grouped_conv": [{"filters": 6}, {"filters": 16, "groups": 4}],
    "pool": [
        {},
        {"mode": "avg", "pool_size": 3, "strides": 2},
        {"mode": "none"},
        {"mode": "strided_conv", "pool_size": 3, "strides": 2, "padding": 1, "filters": 16},
        {"mode": "strided_conv"},
    ],
    "residual": [
        {"filters": 8},
        {"filters": 16, "strides": 2},
        {"filters": 16, "strides": 2, "shortcut_type": "zero_pad"},
        {"filters": 16, "variant": "bottleneck"},
        {"filters": 8, "shortcut": False},
        {"filters": 8, "shortcut_type": "projection"},
    ],
    "shuffle_unit": [{"filters": 8}, {"filters": 32, "strides": 2, "groups": 4}],
    "spatially_separable_conv": [{"filters": 6}, {"filters": 6, "kernel_size": 5, "strides": 2, "padding": 2}],
    "textcnn": [{}, {"filters": 7, "kernel_sizes": (2, 6)}],
    "transposed_conv": [
        {"filters": 6},
        {"filters": 6, "kernel_size": 4, "strides": 3, "padding": 1, "output_padding": 2},
        {"filters": 6, "kernel_size": 2, "strides": 3, "padding": "valid"},
    ],
    "true_conv": [{"filters": 6}, {"filters": 6, "kernel_size": (2, 4), "strides": 2, "padding": 1}],
    "upsample_conv": [{"filters": 6}, {"filters": 6, "size": 3, "interpolation": "bilinear", "padding": "valid"}],
}


def _kernel_area(kernel_size, rank=2):
    if isinstance(kernel_size, int):
        return kernel_size**rank
    area = 1
    for k in kernel_size:
        area *= k
    return area


def _conv(c, b):
    f, g = b.filters, getattr(b, "groups", 1)
    return _kernel_area(b.kernel_size, b.rank) * c // g * f + f * b.use_bias


def _shuffle_unit(c, b):
    m = round(b.filters * b.bottleneck_ratio)
    out = b.filters if b.strides == 1 else b.filters - c
    return c // b.groups * m + 4 * m + 9 * m + 4 * m + m // b.groups * out + 4 * out


def _inception(c, b):
    into_3x3, into_5x5 = (b.filters_3x3_reduce, b.filters_5x5_reduce) if b.use_reductions else (c, c)
    reductions = c * into_3x3 + into_3x3 + c * into_5x5 + into_5x5 if b.use_reductions else 0
    pool_projection = c * b.filters_pool_proj + b.filters_pool_proj if b.use_pool_projection else 0
    return (
        c * b.filters_1x1 + b.filters_1x1
        + reductions
        + 9 * into_3x3 * b.filters_3x3 + b.filters_3x3
        + 25 * into_5x5 * b.filters_5x5 + b.filters_5x5
        + pool_projection
    )


def _highway(c, b):
    k2 = b.kernel_size**2
    transform = k2 * c * c + 4 * c if b.use_batch_norm else k2 * c * c + c  # BN's 4 per channel replace the bias
    return transform + (k2 * c * c + c if b.gate else 0)


def _residual(c, b):
    f, k = b.filters, b.kernel_size
    if b.variant == "basic":
        body = k * k * c * f + 4 * f + k * k * f * f + 4 * f
    else:
        w = f // b.expansion
        body = c * w + 4 * w + k * k * w * w + 4 * w + w * f + 4 * f
    projected = b.shortcut and (
        b.shortcut_type == "projection" or (b.shortcut_type == "auto" and (b.strides != 1 or c != f))
    )
    return body + (c * f + 4 * f if projected else 0)


def _depthwise_separable(c, b):
    m, f, k = b.depth_multiplier, b.filters, _kernel_area(b.kernel_size)
    if b.use_batch_norm:
        return k * c * m + 4 * c * m + c * m * f + 4 * f
    return k * c * m + c * m + c * m * f + f


def _pool(c, b):
    if b.mode != "strided_conv":
        return 0
    f = b.filters or c
    return b.pool_size**2 * c * f + f


# Parameter count of a block on an input with c channels, written out from the papers' definitions.
CLOSED_FORMS = {
    "channel_shuffle": lambda c, b: 0,
    "conv": _conv,
    "conv1d": _conv,
    "dilated_conv": _conv,
    "grouped_conv": _conv,
    "pointwise": lambda c, b: c * b.filters + b.filters * b.use_bias,
    "pointwise_grouped_conv": lambda c, b: c // b.groups * b.filters + b.filters * b.use_bias,
    "true_conv": _conv,
    "im2col_conv": _conv,
    "depthwise_separable_conv": _depthwise_separable,
    "flattened_conv": lambda c, b: c * b.filters + 2 * b.kernel_size * b.filters + b.filters * b.use_bias,
    "highway": _highway,
    "inception": _inception,
    "nin": lambda c, b: _kernel_area(b.kernel_size) * c * b.filters + b.filters + 2 * (b.filters**2 + b.filters),
    "pool": _pool,
    "residual": _residual,
    "shuffle_unit": _shuffle_unit,
    "spatially_separable_conv": lambda c, b: (
        b.kernel_size * c * b.filters + b.kernel_size * b.filters**2 + 2 * b.filters * b.use_bias
    ),
    "textcnn": lambda c, b: sum(k * c * b.filters + b.filters for k in b.kernel_sizes),
    "transposed_conv": lambda c, b: b.kernel_size**2 * c * b.filters + b.filters * b.use_bias,
    "upsample_conv": _conv,
}
