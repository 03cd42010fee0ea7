"""convnas experiments: ablation studies, tables and the `convnas` command line."""
