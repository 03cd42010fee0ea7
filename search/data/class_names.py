"""The class names a model was trained on, carried inside the model.

`ClassNames` is the identity on a classifier's output whose config holds the
name of each class (index = label). A candidate trained on an image folder
(`dir:PATH`, `search.data.datasets`) ends in one, named "class_names", so the
saved best model keeps its labels' meaning through saving, loading and
re-saving:

    model = keras.saving.load_model("best_model.keras")  # after `import convnas`
    names = class_names(model)                            # ("circles", "squares")
    names[model.predict(images).argmax(axis=1)[0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

LAYER_NAME = "class_names"


@keras.saving.register_keras_serializable(package="convnas", name="ClassNames")
class ClassNames(keras.layers.Identity):
    """Identity layer whose config carries `class_names`, the name of each class (index = label)."""

    def __init__(self, class_names: Sequence[str], **kwargs):
        kwargs.setdefault("name", LAYER_NAME)
        super().__init__(**kwargs)
        self.class_names = _names(class_names)

    def get_config(self) -> dict:
        return {**super().get_config(), "class_names": list(self.class_names)}


def _names(class_names: Sequence[str]) -> tuple[str, ...]:
    names = tuple(class_names)
    if not names or not all(isinstance(name, str) and name for name in names):
        raise ValueError(
            f"`class_names` must be a non-empty list of non-empty strings. Received: class_names={class_names!r}"
        )
    return names


def checked(class_names: Sequence[str] | None, num_classes: int) -> tuple[str, ...] | None:
    """`class_names` as a tuple, or None; ValueError unless it names each of the `num_classes` classes once."""
    if class_names is None:
        return None
    names = _names(class_names)
    if len(names) != num_classes or len(set(names)) != len(names):
        raise ValueError(
            f"`class_names` must name each of the {num_classes} classes once. Received: class_names={list(names)!r}"
        )
    return names


def class_names(model: keras.Model) -> tuple[str, ...] | None:
    """The class names carried by `model` (its ClassNames layer), or None if it carries none."""
    for layer in model.layers:
        if isinstance(layer, ClassNames):
            return layer.class_names
    return None
