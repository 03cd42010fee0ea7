"""The search space: the stage vocabulary and its choices (`stages`), the hypermodel that declares
and builds a candidate (`hypermodel`), the training protocol (`training`) and the search
specification read from YAML and flags (`spec`)."""
