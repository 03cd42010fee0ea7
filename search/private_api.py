"""Every private name convnas relies on (keras-tuner's, Keras's, TensorFlow's, argparse's), in one list, checked.

convnas builds on the public classes of these libraries; where no public API does the job it uses
the private names below: keras-tuner's, Keras's and TensorFlow's only in `search.adapter`, argparse's
only in the command line (convnas.cli). A release that renames or drops one would silently turn an
override into dead code, so the tuners call `require()` when they are made, and a test calls
`missing()`: both name the hook that is gone. The dependency bounds in setup.cfg are the versions
these were checked on.
"""

from __future__ import annotations

import importlib

# (module, attribute path, what convnas uses it for)
PRIVATE_NAMES = (
    # keras-tuner: the tuner (adapter.TunerAdapter)
    ("keras_tuner", "Tuner._populate_initial_space", "declare the convnas space without building models"),
    ("keras_tuner", "Tuner._try_build", "build a candidate as keras-tuner does"),
    ("keras_tuner", "Tuner._build_and_fit_model", "build and fit each execution where subclasses override it"),
    ("keras_tuner.src.engine.tuner_utils", "TunerCallback", "the tuner's on_epoch_end & co. hooks in every fit"),
    ("keras_tuner.src.engine.tuner_utils", "SaveBestEpoch", "the per-trial checkpoint callback"),
    ("keras_tuner.src.engine.tuner_utils", "validate_trial_results", "keras-tuner's check of HyperModel.fit results"),
    ("keras_tuner", "Tuner._deepcopy_callbacks", "per-execution copies of the user's callbacks"),
    ("keras_tuner", "Tuner._configure_tensorboard_dir", "per-trial TensorBoard folder and HParams session"),
    ("keras_tuner", "Tuner._get_tensorboard_dir", "that folder, for a convnas candidate's own session"),
    ("keras_tuner", "Tuner._get_checkpoint_fname", "the single checkpoint get_best_models and Hyperband load"),
    ("keras_tuner", "Tuner._get_build_config_fname", "the build config beside that checkpoint"),
    ("keras_tuner", "Tuner._get_tuner_fname", "write the tuner file atomically"),
    ("keras_tuner", "Tuner._is_worker", "a worker never saves the oracle"),
    # keras-tuner: the oracle (adapter.OracleAdapter, adapter.GridOracleAdapter)
    ("keras_tuner", "Oracle._save_trial", "write trial.json atomically"),
    ("keras_tuner", "Oracle._get_oracle_fname", "write oracle.json atomically"),
    ("keras_tuner", "Oracle._get_trial_dir", "where trial.json goes"),
    ("keras_tuner", "Oracle._random_values", "screen every random draw (tuners.sampler)"),
    ("keras_tuner", "Oracle._compute_values_hash", "tell drawn candidates apart (tuners.sampler)"),
    ("keras_tuner", "Oracle._duplicate", "a mutant never tried before (tuners.evolution)"),
    ("keras_tuner.oracles", "GridSearchOracle._get_next_combination",
     "pass over rejected grid points (tuners.sampler)"),
    # keras-tuner: the distributed chief (adapter.OracleService, adapter.OracleAdapter.fail_lost_trial)
    ("keras_tuner.src.distribute.oracle_chief", "OracleServicer",
     "the chief's gRPC servicer, watched for lost workers"),
    ("keras_tuner.src.protos", "get_service_grpc", "serve the oracle with that servicer"),
    ("keras_tuner.src.engine.trial", "TrialStatus", "end a lost worker's trial as FAILED"),
    # keras-tuner: TensorBoard (adapter.hparams_columns)
    ("keras_tuner.src.engine.tuner_utils", "convert_hyperparams_to_hparams", "the HParams columns of a space"),
    # Keras (adapter: the cost count, BatchNorm momentum, the proxies, the profiler, the datasets cache)
    ("keras", "Layer._flatten_layers", "walk nested layers for the cost count, BatchNorm momentum and the proxies"),
    ("keras.src.backend.tensorflow", "nn.conv", "trace grouped/dilated convs as one op for the profiler"),
    ("keras.src.backend.tensorflow", "nn._convert_data_format", "the same, with Keras's data format"),
    ("keras.src.backend", "config.keras_home", "the keras.datasets cache folder"),
    ("keras.src.backend.common", "dtypes.BIT64_TO_BIT32_DTYPE", "float64 synflow on JAX and PyTorch"),
    # TensorFlow (adapter: the profiler's frozen graph)
    ("tensorflow.python.framework.convert_to_constants", "convert_variables_to_constants_v2",
     "freeze a traced model's variables for the profiler"),
    ("tensorflow.python.util.deprecation", "silence", "quiet the profiler's deprecated TF1 shape helper"),
    # argparse (convnas.cli)
    ("argparse", "ArgumentParser._check_value", "a refused choice names the closest valid one"),
    ("argparse", "HelpFormatter._get_help_string", "the search flags' help shows their defaults"),
)
# Instance attributes, only visible on a made object: checked by making one.
ORACLE_ATTRIBUTES = ("ongoing_trials", "tuner_ids", "_tried_so_far", "start_order", "end_order", "_retry_queue")
LAYER_ATTRIBUTES = ("_inbound_nodes", "_outbound_nodes")
MODEL_ATTRIBUTES = ("_nodes_by_depth",)
SEQUENTIAL_ATTRIBUTES = ("_functional",)
SERVICER_ATTRIBUTES = ("stop_triggered",)
PARSER_ATTRIBUTES = ("_actions",)


def _resolve(module: str, path: str):
    value = importlib.import_module(module)
    for part in path.split("."):
        value = getattr(value, part)
    return value


def missing_names() -> list[str]:
    """The listed module-level names the installed versions lack."""
    gone = []
    for module, path, _ in PRIVATE_NAMES:
        try:
            _resolve(module, path)
        except (ImportError, AttributeError):
            gone.append(f"{module}.{path}")
    return gone


def missing_attributes() -> list[str]:
    """The listed instance attributes that a made oracle, servicer, layer, model or parser lacks."""
    import argparse

    import keras
    import keras_tuner
    from keras_tuner.src.distribute import oracle_chief

    oracle = keras_tuner.oracles.RandomSearchOracle(objective="val_accuracy", max_trials=1)
    inputs = keras.Input((2,))
    dense = keras.layers.Dense(1)
    model = keras.Model(inputs, dense(inputs))
    sequential = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    made = [
        (oracle, "keras_tuner.Oracle", ORACLE_ATTRIBUTES),
        (oracle_chief.OracleServicer(oracle), "keras_tuner OracleServicer", SERVICER_ATTRIBUTES),
        (dense, "keras.layers.Layer", LAYER_ATTRIBUTES),
        (model, "keras.Model", MODEL_ATTRIBUTES),
        (sequential, "keras.Sequential", SEQUENTIAL_ATTRIBUTES),
        (argparse.ArgumentParser(), "argparse.ArgumentParser", PARSER_ATTRIBUTES),
    ]
    return [f"{owner}().{name}" for value, owner, names in made for name in names if not hasattr(value, name)]


def missing() -> list[str]:
    """Every listed private name the installed libraries lack."""
    return missing_names() + missing_attributes()


def require() -> None:
    """RuntimeError naming each listed private name (a hook) the installed versions lack."""
    gone = missing_names()
    if gone:
        import keras
        import keras_tuner
        import tensorflow as tf

        raise RuntimeError(
            f"convnas needs private hooks that keras-tuner {keras_tuner.__version__} / Keras {keras.__version__} / "
            f"TensorFlow {tf.__version__} lack: {', '.join(gone)}. Install the versions convnas declares "
            "(pip install convnas) or report this."
        )
