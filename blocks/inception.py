"""Inception module: Szegedy et al. 2015, "Going deeper with convolutions" (GoogLeNet).

Four parallel branches concatenated along channels: 1x1; 1x1 reduction then
3x3; 1x1 reduction then 5x5; 3x3 max pooling then a 1x1 projection (Fig. 2b).
The argument names are the columns of the paper's Table 1 (defaults:
inception (3a)). Two switches take the module apart: without the two 1x1
reductions the 3x3 and 5x5 convs see every input channel, which is what
makes their cost blow up, at the same output channels; without the pool
projection as well (the paper's "naive" module, Fig. 2a) the pooling branch
passes the input channels through, so the module also widens.
"""

from __future__ import annotations

import keras

from convnas.blocks import arithmetic, validation
from convnas.blocks.base import Block, build_chain, run_chain
from convnas.blocks.conv_layers import input_channels
from convnas.blocks.registry import register_block


@register_block("inception")
class Inception(Block):
    """GoogLeNet Inception module (Fig. 2b; Fig. 2a with `use_reductions=False, use_pool_projection=False`).

    Args:
        filters_1x1: "#1x1", the 1x1 branch.
        filters_3x3_reduce: "#3x3 reduce", the 1x1 before the 3x3.
        filters_3x3: "#3x3".
        filters_5x5_reduce: "#5x5 reduce", the 1x1 before the 5x5.
        filters_5x5: "#5x5".
        filters_pool_proj: "pool proj", the 1x1 after the 3x3 max pooling.
        use_reductions: False drops the 1x1 reductions before the 3x3 and 5x5
            convs (filters_3x3_reduce and filters_5x5_reduce are then unused).
        use_pool_projection: False drops the 1x1 projection after the pooling
            (filters_pool_proj is then unused).
        activation: Keras activation after every conv (ReLU in the paper).

    Output channels: filters_1x1 + filters_3x3 + filters_5x5 + filters_pool_proj
    (the input channels in place of filters_pool_proj without the pool projection).
    """

    def __init__(
        self,
        filters_1x1: int = 64,
        filters_3x3_reduce: int = 96,
        filters_3x3: int = 128,
        filters_5x5_reduce: int = 16,
        filters_5x5: int = 32,
        filters_pool_proj: int = 32,
        use_reductions: bool = True,
        use_pool_projection: bool = True,
        activation: str = "relu",
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (
            ("filters_1x1", filters_1x1),
            ("filters_3x3_reduce", filters_3x3_reduce),
            ("filters_3x3", filters_3x3),
            ("filters_5x5_reduce", filters_5x5_reduce),
            ("filters_5x5", filters_5x5),
            ("filters_pool_proj", filters_pool_proj),
        ):
            setattr(self, name, validation.positive_int(name, value))
        self.use_reductions = validation.boolean("use_reductions", use_reductions)
        self.use_pool_projection = validation.boolean("use_pool_projection", use_pool_projection)
        self.activation = validation.activation("activation", activation)

        def conv(filters: int, size: int) -> keras.layers.Conv2D:
            return keras.layers.Conv2D(
                filters, size, padding="same", activation=self.activation, dtype=self.dtype_policy
            )

        reduce = self.use_reductions
        self.branch_1x1 = [conv(self.filters_1x1, 1)]
        self.branch_3x3 = [conv(self.filters_3x3_reduce, 1)] * reduce + [conv(self.filters_3x3, 3)]
        self.branch_5x5 = [conv(self.filters_5x5_reduce, 1)] * reduce + [conv(self.filters_5x5, 5)]
        self.branch_pool = [keras.layers.MaxPooling2D(3, strides=1, padding="same", dtype=self.dtype_policy)]
        self.branch_pool += [conv(self.filters_pool_proj, 1)] * self.use_pool_projection
        self.concatenate = keras.layers.Concatenate(dtype=self.dtype_policy)

    @staticmethod
    def cost(
        input_shape: tuple[int, ...],
        filters_1x1: int = 64,
        filters_3x3_reduce: int = 96,
        filters_3x3: int = 128,
        filters_5x5_reduce: int = 16,
        filters_5x5: int = 32,
        filters_pool_proj: int = 32,
        use_reductions: bool = True,
        use_pool_projection: bool = True,
        activation: str = "relu",
    ) -> arithmetic.BlockCost:
        """The block's output shape, weights, MACs and FLOPs on an (H, W, C) input, from its arguments alone."""
        def conv(filters: int, size: int):
            return lambda shape: arithmetic.conv_cost(shape, filters, size, padding="same", activation=activation)

        branches = [
            [conv(filters_1x1, 1)],
            [conv(filters_3x3_reduce, 1)] * use_reductions + [conv(filters_3x3, 3)],
            [conv(filters_5x5_reduce, 1)] * use_reductions + [conv(filters_5x5, 5)],
            [lambda shape: arithmetic.pooling_cost(shape, 3, 1, "same")]
            + [conv(filters_pool_proj, 1)] * use_pool_projection,
        ]
        costs = [arithmetic.chain_cost(input_shape, *branch) for branch in branches]
        total = arithmetic.BlockCost((*input_shape[:-1], sum(cost.output_shape[-1] for cost in costs)))
        for cost in costs:  # concatenated: free
            total = total.beside(cost)
        return total

    def _branches(self) -> list[list[keras.layers.Layer]]:
        return [self.branch_1x1, self.branch_3x3, self.branch_5x5, self.branch_pool]

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.concatenate.build([build_chain(branch, input_shape) for branch in self._branches()])

    def call(self, inputs, training=None):
        return self.concatenate([run_chain(branch, inputs, training) for branch in self._branches()])

    def compute_output_shape(self, input_shape):
        channels = input_channels(self.block_name, input_shape)
        pool_channels = self.filters_pool_proj if self.use_pool_projection else channels
        return (*input_shape[:3], self.filters_1x1 + self.filters_3x3 + self.filters_5x5 + pool_channels)
