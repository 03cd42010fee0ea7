"""Datasets for a search or a study: the bundled `digits` and `cluttered_digits`, keras.datasets
through their download cache, `npz:` and `dir:` sources, validation splits and tf.data pipelines
(`datasets`); the generator of cluttered digits (`cluttered_digits`); the class names a searched
model carries (`class_names`)."""
