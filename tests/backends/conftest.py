"""The backend job's own tests (README, "Backends"), for KERAS_BACKEND=jax or torch: the three workflows on that
backend, the proxies compared with TensorFlow's (scored in a second process), and what needs TensorFlow refusing
clearly. Under TensorFlow they are not collected: the suite's own tests cover those workflows there
(tests/cli/test_cli_search.py, tests/search/tuners/test_drop_in_tuners.py, tests/experiments/test_study.py), and
there is nothing to compare or refuse. The rest of the backend job is the tests marked `backends` across the suite.
"""

import keras

collect_ignore_glob = ["test_*.py"] if keras.backend.backend() == "tensorflow" else []
