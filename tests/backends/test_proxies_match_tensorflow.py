"""The training-free proxies on this backend give TensorFlow's scores: the same candidates, weights and batch
scored here and in a TensorFlow process."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from proxy_scores import CANDIDATES, scores
from tabular_candidates import candidate

pytestmark = pytest.mark.backends

# synflow runs in float64 on every backend; the others in float32, whose convolutions and reductions
# the backends order differently. naswot counts signs, so a unit at exactly 0 could differ: it does not here.
TOLERANCE = {"synflow": 1e-9, "naswot": 1e-6, "jacob_cov": 1e-5, "grad_norm": 1e-5, "snip": 1e-5}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    folder = tmp_path_factory.mktemp("proxies")
    rng = np.random.default_rng(0)
    weights = {}
    for key in CANDIDATES:  # signed random weights, positive variances: not what either backend's init draws
        model = candidate(key)
        weights[key] = [rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) if "variance" in w.path
                        else rng.normal(0.0, 0.3, w.shape).astype(w.dtype) for w in model.weights]
    np.savez(folder / "weights.npz", **{f"{key}/{i}": w for key, ws in weights.items() for i, w in enumerate(ws)})
    tests = str(Path(__file__).parents[1])  # tabular_candidates, for the script
    environment = {**os.environ, "KERAS_BACKEND": "tensorflow",
                   "PYTHONPATH": os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")]))}
    subprocess.run([sys.executable, str(Path(__file__).with_name("proxy_scores.py")), str(folder / "weights.npz"),
                    str(folder / "tensorflow.json")], env=environment, check=True, timeout=300)
    tensorflow = json.loads((folder / "tensorflow.json").read_text())
    assert tensorflow["backend"] == "tensorflow"
    return scores(weights), tensorflow["scores"]


@pytest.mark.parametrize("key", CANDIDATES)
@pytest.mark.parametrize("name", sorted(TOLERANCE))
def test_each_proxy_gives_tensorflows_score(both, key, name):
    assert keras.backend.backend() != "tensorflow"
    here, tensorflow = both
    assert math.isfinite(here[key][name])
    assert here[key][name] == pytest.approx(tensorflow[key][name], rel=TOLERANCE[name])
