"""The backend job's own tests (README, "Backends"): the workflows on the backend Keras runs, the proxies
compared with TensorFlow's (scored in a second process), and what needs TensorFlow refusing clearly. Under
TensorFlow the last two have nothing to compare or refuse, so they are not collected; the rest of the backend
job is the tests marked `backends` across the suite."""

import keras

OTHER_BACKENDS_ONLY = ["test_*_match_tensorflow.py", "test_tensorflow_only.py"]
collect_ignore_glob = OTHER_BACKENDS_ONLY if keras.backend.backend() == "tensorflow" else []
