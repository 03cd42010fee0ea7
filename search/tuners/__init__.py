"""The tuning engine: the drop-in keras-tuner tuners running convnas trials (`tuner`), the sampler
that screens every draw against the budgets (`sampler`, `budget`, `rejection`), regularized
evolution (`evolution`) and the chief/worker engine (`distributed`)."""
