"""Every private keras-tuner and Keras name convnas relies on, in one list, checked against what is installed.

convnas builds on keras-tuner's and Keras's public classes; where no public
API does the job it uses the private names below. A release that renames or
drops one would silently turn an override into dead code, so the tuners call
`require()` when they are made, and a test calls `missing()`: both name the
hook that is gone. The dependency bounds in setup.cfg are the versions these
were checked on.
"""

from __future__ import annotations

import importlib

# (module, attribute path, what convnas uses it for)
PRIVATE_NAMES = (
    # keras-tuner: the tuner (search.tuner)
    ("keras_tuner", "Tuner._populate_initial_space", "declare the convnas space without building models"),
    ("keras_tuner", "Tuner._try_build", "build a candidate as keras-tuner does"),
    ("keras_tuner", "Tuner._deepcopy_callbacks", "per-execution copies of the user's callbacks"),
    ("keras_tuner", "Tuner._configure_tensorboard_dir", "per-trial TensorBoard folder and HParams session"),
    ("keras_tuner", "Tuner._get_checkpoint_fname", "the single checkpoint get_best_models and Hyperband load"),
    ("keras_tuner", "Tuner._get_build_config_fname", "the build config beside that checkpoint"),
    ("keras_tuner", "Tuner._get_tuner_fname", "write the tuner file atomically"),
    ("keras_tuner", "Tuner._is_worker", "a worker never saves the oracle"),
    # keras-tuner: the oracle (search.tuner, search.distributed)
    ("keras_tuner", "Oracle._save_trial", "write trial.json atomically"),
    ("keras_tuner", "Oracle._get_oracle_fname", "write oracle.json atomically"),
    ("keras_tuner", "Oracle._get_trial_dir", "where trial.json goes"),
    ("keras_tuner", "Oracle._random_values", "screen every random draw (search.sampler)"),
    ("keras_tuner", "Oracle._compute_values_hash", "tell drawn candidates apart (search.sampler)"),
    ("keras_tuner", "Oracle._duplicate", "a mutant never tried before (search.evolution)"),
    ("keras_tuner", "Oracle._set_project_dir", "where a replayed oracle keeps its state (search.replay)"),
    ("keras_tuner.oracles", "GridSearchOracle._get_next_combination", "pass over rejected grid points (search.sampler)"),
    ("keras_tuner.src.distribute.oracle_chief", "OracleServicer", "the chief's gRPC servicer, watched for lost workers"),
    ("keras_tuner.src.protos", "get_service_grpc", "serve the oracle with that servicer"),
    ("keras_tuner.src.engine.trial", "TrialStatus", "end a lost worker's trial as FAILED"),
    # keras-tuner: TensorBoard (search.hparams_logging)
    ("keras_tuner.src.engine.tuner_utils", "convert_hyperparams_to_hparams", "the HParams columns of a space"),
    # Keras (search.cost, search.training, search.profiler, search.datasets)
    ("keras", "Layer._flatten_layers", "walk nested layers for the cost count, BatchNorm momentum and the proxies"),
    ("keras.src.backend.tensorflow", "nn.conv", "trace grouped/dilated convs as one op for the profiler"),
    ("keras.src.backend.tensorflow", "nn._convert_data_format", "the same, with Keras's data format"),
    ("keras.src.backend", "config.keras_home", "the keras.datasets cache folder"),
)
# Instance attributes, only visible on a made object: checked by making one.
ORACLE_ATTRIBUTES = ("ongoing_trials", "tuner_ids", "_tried_so_far", "start_order", "end_order")
LAYER_ATTRIBUTES = ("_inbound_nodes", "_outbound_nodes")
MODEL_ATTRIBUTES = ("_nodes_by_depth",)
SEQUENTIAL_ATTRIBUTES = ("_functional",)
SERVICER_ATTRIBUTES = ("stop_triggered",)


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
    """The listed instance attributes that a made oracle, servicer, layer or model lacks."""
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
    ]
    return [f"{owner}().{name}" for value, owner, names in made for name in names if not hasattr(value, name)]


def missing() -> list[str]:
    """Every listed private name the installed keras-tuner and Keras lack."""
    return missing_names() + missing_attributes()


def require() -> None:
    """RuntimeError naming each private keras-tuner/Keras hook the installed versions lack."""
    gone = missing_names()
    if gone:
        import keras
        import keras_tuner

        raise RuntimeError(
            f"convnas needs private hooks that keras-tuner {keras_tuner.__version__} / Keras {keras.__version__} "
            f"lack: {', '.join(gone)}. Install the versions convnas declares (pip install convnas) or report this."
        )
