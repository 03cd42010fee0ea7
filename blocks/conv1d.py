"""1D convolution along the sequence axis (time-delay networks, Waibel et al. 1989; TextCNN).

Input (batch, steps, channels); output steps floor((L + 2P - F) / S) + 1.
"""

from __future__ import annotations

from convnas.blocks.conv import Conv
from convnas.blocks.registry import register_block


@register_block("conv1d")
class Conv1D(Conv):
    """Conv1D with integer padding support; same arguments as `conv`, one spatial axis."""

    rank = 1
