"""The tabular benchmark: every architecture of a sub-space trained once per seed (`tabular`), and the
tuners' own oracles replayed against that table with training replaced by lookup (`replay`).

Only benchmarks/ runs these; a search never imports them.
"""
