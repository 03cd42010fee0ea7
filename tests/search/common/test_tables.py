"""The table writers: CSV, Markdown, LaTeX and fixed-width text, on hand-made rows."""

import csv

from convnas.search.common import tables

ROWS = [
    {"variant": "baseline", "seeds": 3, "accuracy": 0.912345, "p_value": None},
    {"variant": "a|b", "seeds": 2, "accuracy": 0.5, "note": "50% & more"},
]


def test_csv_has_every_key_in_first_seen_order_and_none_as_empty():
    text = tables.to_csv(ROWS)
    assert text.splitlines()[0] == "variant,seeds,accuracy,p_value,note"
    assert text.splitlines()[1] == "baseline,3,0.912345,,"
    assert list(csv.DictReader(text.splitlines()))[1]["note"] == "50% & more"
    assert tables.to_csv(ROWS, ["seeds", "variant", "accuracy", "p_value", "note"]).startswith("seeds,variant,")
    assert text.endswith("\n")


def test_markdown_formats_cells_and_escapes_the_bar():
    text = tables.to_markdown(["variant", "accuracy", "p"], [["baseline", 0.912345, None], ["a|b", 12, "x"]])
    assert text == (
        "| variant | accuracy | p |\n"
        "|---|---|---|\n"
        "| baseline | 0.9123 |  |\n"
        "| a\\|b | 12 | x |\n"
    )


def test_latex_is_booktabs_and_escapes_its_special_characters():
    text = tables.to_latex(["variant", "Δ acc", "p_value"], [["no_pool", "+0.01 ± 0.02", "5%"]])
    assert text == (
        "\\begin{tabular}{lrr}\n"
        "\\toprule\n"
        "variant & $\\Delta$ acc & p\\_value \\\\\n"
        "\\midrule\n"
        "no\\_pool & +0.01 $\\pm$ 0.02 & 5\\% \\\\\n"
        "\\bottomrule\n"
        "\\end{tabular}\n"
    )


def test_latex_with_caption_and_label_is_a_table_float():
    text = tables.to_latex(["a"], [["1"]], caption="Pooling: 5% better", label="tab:pooling")
    lines = text.splitlines()
    assert lines[:4] == ["\\begin{table}", "\\centering", "\\caption{Pooling: 5\\% better}", "\\label{tab:pooling}"]
    assert lines[-1] == "\\end{table}" and "\\toprule" in lines


def test_text_pads_columns_left_then_right():
    text = tables.to_text(("block", "params"), [("conv", "1,024"), ("depthwise", "9")], left_columns=1)
    assert text.splitlines() == [
        "block      params",
        "---------  ------",
        "conv        1,024",
        "depthwise       9",
    ]


def test_csv_rounds_floats_to_the_stated_significant_digits_and_keeps_them_floats():
    rows = [{"a": 0.7884369394576005, "b": 0.7884369394576003, "c": 5.0, "d": 3, "e": 1.23456789012345e-05, "f": None}]
    assert tables.to_csv(rows).splitlines()[1] == "0.7884369394576005,0.7884369394576003,5.0,3,1.23456789012345e-05,"
    rounded = tables.to_csv(rows, significant_digits=10).splitlines()[1]
    assert rounded == "0.7884369395,0.7884369395,5.0,3,1.23456789e-05,"


def test_human_numbers_take_a_suffix_and_the_stated_decimals():
    assert tables.human(1234567) == "1.23M"
    assert tables.human(36122, digits=1) == "36.1K"
    assert tables.human(2.5e12, "B", digits=0) == "2TB"
    assert tables.human(-4.2e9, digits=1) == "-4.2G"
    assert tables.human(999) == "999" and tables.human(0.5, "s") == "0.5s"


def test_text_closes_its_columns_up_rather_than_pass_100_characters():
    wide = tables.to_text(("a" * 60, "b" * 39), [("x", "y")], left_columns=1)  # 60 + 2 + 39 = 101 with two spaces
    assert wide.splitlines()[0] == "a" * 60 + " " + "b" * 39 and max(map(len, wide.splitlines())) == 100
    narrow = tables.to_text(("a" * 60, "b" * 38), [("x", "y")], left_columns=1)  # 100 with two: kept
    assert narrow.splitlines()[0] == "a" * 60 + "  " + "b" * 38


def test_text_narrows_the_widest_columns_so_that_every_column_still_shows():
    long = ("stem 32 > " * 15).strip()
    text = tables.to_text(("id", "architecture", "reason"), [("7", long, "a reason " * 10)], left_columns=[0, 1, 2])
    header, rule, row = text.splitlines()
    assert header.split() == ["id", "architecture", "reason"] and len(row) == 100 >= len(rule)
    assert row.startswith("7  stem 32 > ") and row.count("...") == 2  # both long cells clipped, both shown
    # narrowed alike past their floors (the header, or 8): 12 + 38 and 8 + 38, with 2 + two gaps, is 100
    assert [len(dashes) for dashes in rule.split()] == [2, 50, 46]


def test_fit_and_wrap_keep_printed_lines_within_100_columns():
    assert tables.fit("x" * 100) == "x" * 100 and tables.fit("x" * 101) == "x" * 97 + "..."
    items = "written: " + ", ".join(f"/tmp/run/file{n}.csv" for n in range(12))
    lines = tables.wrap(items).splitlines()
    assert len(lines) > 1 and all(len(line) <= 100 for line in lines) and lines[1].startswith("  /tmp/run/")
    assert " ".join(tables.wrap(items).split()) == items  # nothing lost
    path = "/" + "p" * 120
    assert tables.wrap(f"logging to {path}") == f"logging to\n  {path}"  # a path stays whole
