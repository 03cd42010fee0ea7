"""A candidate of the digits tabular sub-space, built by its key as a search builds it (seed 0)."""

import keras
import keras_tuner

from convnas.search.benchmark import tabular
from convnas.search.data import datasets
from convnas.search.space.hypermodel import ConvNetHyperModel


def candidate(key: str) -> keras.Model:
    """The digits sub-space's architecture `key` (e.g. "residual32x2-residual16x1"), built with seed 0."""
    data = datasets.load_dataset("digits", seed=0)
    hypermodel = ConvNetHyperModel(data.input_shape, data.num_classes, tabular.DIGITS.subspace, input_scale=data.scale)
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    (values,) = [v for v in tabular.DIGITS.architectures() if tabular.key(v) == key]
    hp.values.update(values)
    keras.utils.set_random_seed(0)
    return hypermodel.build(hp)
