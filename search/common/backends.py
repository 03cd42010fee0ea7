"""The Keras backend convnas runs on (KERAS_BACKEND): its name, its threads, determinism and versions.

convnas runs on TensorFlow (the default), JAX and PyTorch. TensorFlow is installed on every backend:
the data pipelines (`tf.data`) and TensorBoard's event files use it whichever backend trains. What
only TensorFlow offers: `convnas cost --check` (TensorFlow's profiler) and traced precise-BatchNorm
passes (the other backends make the same passes eagerly).
"""

from __future__ import annotations

import os

BACKENDS = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}  # KERAS_BACKEND: display name


def name() -> str:
    """Keras's backend: a key of BACKENDS."""
    import keras

    backend = keras.backend.backend()
    if backend not in BACKENDS:
        raise ValueError(f"convnas runs on the Keras backends {', '.join(BACKENDS)}. Received: {backend!r}")
    return backend


def set_threads(threads: int) -> None:
    """Computes with `threads` threads (and one for parallel ops), before the first computation.

    JAX reads its CPU thread count from XLA_FLAGS when it starts its CPU client, at the first
    computation: set here, it holds when this runs before any.
    """
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    elif backend == "torch":
        import torch

        torch.set_num_threads(threads)
    else:
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={threads}"


def enable_determinism() -> None:
    """The same seeds give the same numbers: TensorFlow's and PyTorch's deterministic kernels.

    JAX's CPU computations are deterministic already (on a GPU, XLA_FLAGS=--xla_gpu_deterministic_ops=true
    before the first computation).
    """
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif backend == "torch":
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)


def versions() -> dict[str, str]:
    """The backend's name and the versions of Keras, the backend and TensorFlow (always installed)."""
    import keras
    import tensorflow as tf

    backend = name()
    found = {"backend": backend, "keras": keras.__version__, "tensorflow": tf.__version__}
    if backend != "tensorflow":
        found[backend] = __import__(backend).__version__
    return found
