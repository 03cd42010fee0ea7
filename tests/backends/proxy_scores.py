"""Every proxy's score of two tabular-space candidates with given weights, on the backend Keras runs.

Run as `python proxy_scores.py WEIGHTS.npz SCORES.json` (in a process of another backend, with tests/ on
PYTHONPATH), or called as `scores(weights)`. The candidates are built with seed 0, then given the weights:
the same weights on every backend, whatever its initializers draw.
"""

import json
import sys

import keras
import numpy as np
from tabular_candidates import candidate

from convnas.search import proxies
from convnas.search.data import datasets

CANDIDATES = ("residual32x2-residual16x1", "depthwise_separable_conv32x2")


def scores(weights: dict[str, list[np.ndarray]]) -> dict[str, dict[str, float]]:
    """{candidate: {proxy: score}} of each candidate of CANDIDATES with its `weights`, on a fixed digits batch."""
    data = datasets.load_dataset("digits", seed=0)
    x, y = proxies.fixed_batch(data.x_train, data.y_train, 64, seed=0)
    found = {}
    for key in CANDIDATES:
        model = candidate(key)
        model.set_weights(weights[key])
        found[key] = {name: proxies.score(name, model, x, y, seed=0) for name in proxies.PROXIES}
    return found


if __name__ == "__main__":
    saved = np.load(sys.argv[1])
    weights = {key: [saved[f"{key}/{i}"] for i in range(sum(n.startswith(f"{key}/") for n in saved.files))]
               for key in CANDIDATES}
    with open(sys.argv[2], "w") as file:
        json.dump({"backend": keras.backend.backend(), "scores": scores(weights)}, file)
