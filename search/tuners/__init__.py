"""The tuning engine: the drop-in keras-tuner tuners (`tuner`) running convnas trials (`trials`),
their oracles (`oracles`) made through the one setup path (`setup`), the sampler that screens
every draw against the budgets (`sampler`, `budget`, `rejection`), regularized evolution
(`evolution`) and the chief/worker engine (`distributed`). keras-tuner's internals are reached
only through `search.adapter`."""
