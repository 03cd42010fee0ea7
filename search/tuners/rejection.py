"""Why a candidate is rejected before training: invalid (cannot be built) or skipped (over budget).

Neither is a failure of the search: keras-tuner is told the candidate scored
the worst possible objective value, so it never counts toward keras-tuner's
consecutive-failure limit and never aborts the search, while the trial record
keeps the true status and reason.
"""

from __future__ import annotations


class CandidateRejected(Exception):
    """A candidate rejected before training; `status` is its trial-record status, `costs` what was measured."""

    status = "REJECTED"

    def __init__(self, reason: str, costs: dict[str, float] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.costs = dict(costs or {})


class InvalidCandidate(CandidateRejected):
    """The candidate cannot be built (collapsing spatial size, groups not dividing channels, ...)."""

    status = "INVALID"


class OverBudget(CandidateRejected):
    """The candidate exceeds a cost budget (FLOPs, parameters, latency)."""

    status = "SKIPPED"
