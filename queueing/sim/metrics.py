"""Scoring predictors against realised waits (the live ``AccuracyTracker``'s ``Score``)."""

from __future__ import annotations

from queueing.estimate.accuracy import Score

PREDICTORS = ("switchboard", "ql", "les", "hol", "hol_refined", "rolling")

__all__ = ["PREDICTORS", "Score"]
