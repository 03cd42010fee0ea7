"""Datasets for a search or a study: the bundled `digits` and `cluttered_digits`, validation splits
and tf.data pipelines (`datasets`); keras.datasets through their download cache
(`keras_datasets`); a user's `npz:` and `dir:` files (`user_files`); the generator of cluttered
digits (`cluttered_digits`); the class names a searched model carries (`class_names`)."""
