"""What a search leaves behind: one record per trial (`trial_records`), its TensorBoard HParams
session (`hparams_logging`), the accuracy/cost Pareto fronts (`pareto`) and their hypervolume
(`hypervolume`)."""
