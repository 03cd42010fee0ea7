"""The ablation table, rebuilt from a study's run records alone, one module per concept.

- `rows`: one row per variant, statistics over seeds, the comparison with its
  reference and the verdict (every column of the CSV);
- `claims`: a claim as a region of the difference, and the verdicts from the
  exact test's intervals under Holm's step-down over the claimed comparisons;
- `metrics`: how each metric reads (scale, decimals, unit) and what values it
  can take;
- `render`: the CSV (numbers to 10 significant digits) and the compact
  Markdown, LaTeX and terminal table;
- `charts`: the main metric per variant and the training curves;
- `report`: the study's report page and its section of the results index.

The names below are what the study and `convnas table` use.
"""

from convnas.experiments.ablation_table.charts import plot_chart, plot_curves
from convnas.experiments.ablation_table.render import to_csv, to_latex, to_markdown, to_text
from convnas.experiments.ablation_table.report import FULL_TABLE, report_files, to_report, to_summary
from convnas.experiments.ablation_table.rows import build_table

__all__ = ["FULL_TABLE", "build_table", "plot_chart", "plot_curves", "report_files", "to_csv", "to_latex",
           "to_markdown", "to_report", "to_summary", "to_text"]
