"""The one adapter to keras-tuner, Keras and TensorFlow internals: private hooks, private state, message texts.

convnas builds on these libraries' public classes. Where no public API does the job, the code that
reaches in lives here (keras-tuner's in `keras_tuner_internals`, Keras's and TensorFlow's in
`keras_internals`), and the rest of convnas uses only the public names below, imported from this
package. Every private name used in it is listed in `search.private_api`, whose test fails naming
any the installed versions lack; the library messages matched here are named where they are matched.
Nothing is patched at import time.

- keras-tuner's oracles: `OracleAdapter` (and `GridOracleAdapter`), listed right before a keras-tuner
  oracle class among a convnas oracle's bases, turn its private hooks into public methods
  (`save_trial`, `random_values`, `next_grid_point`) and its private state into methods; its
  `reload` also queues again a trial a chief killed mid-start left running but unknown to oracle.json.
- keras-tuner's tuners: `construct_tuner` makes a drop-in tuner with its own oracle from the
  arguments of the keras-tuner tuner it replaces; `TunerAdapter` declares a space through
  `declare_space`, builds and fits a candidate through `build_and_fit`, and offers the tuner's
  private helpers and per-trial callbacks as methods; `validate_fit_results` checks what
  `HyperModel.fit` returned; `OracleService` serves an oracle to distributed workers;
  `hparams_columns`, `stopped_by_failures`.
- Keras: `flatten_layers`, a model's graph (`functional_graph`, `graph_calls`, `sublayer_calls`), the
  download cache (`keras_home`) and `get_file`'s notices and errors (`DownloadNotices`,
  `fetch_failure`), convolutions traced as one op (`plain_tensorflow_convolutions`), float64 kept
  float64 on every backend (`float64_computation`).
- TensorFlow: `frozen_graph`, `silenced_deprecations`.

TensorFlow, Keras and keras-tuner are imported inside the functions that use them: importing this
package imports none of them.
"""

from convnas.search.adapter.keras_internals import (
    DownloadNotices,
    fetch_failure,
    flatten_layers,
    float64_computation,
    frozen_graph,
    functional_graph,
    graph_calls,
    keras_home,
    plain_tensorflow_convolutions,
    silenced_deprecations,
    sublayer_calls,
)
from convnas.search.adapter.keras_tuner_internals import (
    GridOracleAdapter,
    OracleAdapter,
    OracleService,
    TunerAdapter,
    construct_tuner,
    hparams_api_values,
    hparams_columns,
    stopped_by_failures,
    validate_fit_results,
)

__all__ = [
    "OracleAdapter",
    "GridOracleAdapter",
    "construct_tuner",
    "TunerAdapter",
    "validate_fit_results",
    "stopped_by_failures",
    "hparams_api_values",
    "hparams_columns",
    "OracleService",
    "flatten_layers",
    "float64_computation",
    "functional_graph",
    "graph_calls",
    "sublayer_calls",
    "keras_home",
    "DownloadNotices",
    "fetch_failure",
    "plain_tensorflow_convolutions",
    "frozen_graph",
    "silenced_deprecations",
]
