"""Helpers that search and experiments share: durable file writes and locks (`durable_io`), table
writing in CSV, Markdown, LaTeX and text, with numbers for people (`tables`), and spec files
(`spec_files`: YAML loading and the one error type of a spec that cannot be run)."""
