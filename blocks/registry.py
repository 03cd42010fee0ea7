"""The block registry: one name per block, also registered for Keras serialization."""

from __future__ import annotations

from collections.abc import Callable

import keras

_BLOCKS: dict[str, type[keras.layers.Layer]] = {}


def register_block(name: str) -> Callable[[type[keras.layers.Layer]], type[keras.layers.Layer]]:
    """Class decorator registering a block under `name`.

    The class is also registered with `keras.saving.register_keras_serializable`
    (package "convnas"), so models that use it save to `.keras` and load back
    after `import convnas`.
    """

    def decorate(cls: type[keras.layers.Layer]) -> type[keras.layers.Layer]:
        if name in _BLOCKS:
            raise ValueError(f"`name` is already registered. Received: name={name!r}")
        cls.block_name = name
        keras.saving.register_keras_serializable(package="convnas", name=name)(cls)
        _BLOCKS[name] = cls
        return cls

    return decorate


def list_blocks() -> list[str]:
    """Names of every registered block, sorted."""
    return sorted(_BLOCKS)


def get_block(name: str) -> type[keras.layers.Layer]:
    """The block class registered under `name`."""
    try:
        return _BLOCKS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"`name` must be a registered block: {', '.join(list_blocks())}. Received: name={name!r}"
        ) from None
