"""Evaluation collapse: a run whose inference-mode accuracy falls far below its own training-mode accuracy.

A classification run records `train_accuracy`, measured after training on the whole training split
in inference mode (BatchNorm on its moving statistics), and its per-epoch curves, whose last
`accuracy` is the running training-mode accuracy of the last epoch (BatchNorm on each batch's own
statistics). When the two differ by more than `COLLAPSE_POINTS`, the weights are fine and the
evaluation is not: the moving statistics do not describe what the final weights compute (a short
training, a high BatchNorm momentum). Such a run says nothing about its variant, and is flagged.
"""

from __future__ import annotations

COLLAPSE_POINTS = 0.05  # inference-mode training accuracy this far below the training-mode one: collapsed


def training_mode_accuracy(record: dict) -> float | None:
    """The last epoch's training-mode accuracy of a run record (its curves), None without curves."""
    accuracy = (record.get("curves") or {}).get("accuracy")
    return float(accuracy[-1]) if accuracy else None


def collapsed(record: dict) -> bool | None:
    """Whether a classification run's evaluation collapsed; None when the record cannot tell (no curves)."""
    training_mode = training_mode_accuracy(record)
    if training_mode is None or record.get("train_accuracy") is None:
        return None
    return record["train_accuracy"] < training_mode - COLLAPSE_POINTS
