"""convnas search: cost model, search space, budgets and trial records over the blocks."""
