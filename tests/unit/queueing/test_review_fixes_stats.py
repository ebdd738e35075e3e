"""The stats endpoint's pure parts: the date parameter and accuracy on an unscored day."""

from __future__ import annotations

import pytest

from queueing.errors import BadRequest
from realtime.stats import parse_day, summarise


@pytest.mark.parametrize("raw", ["2026-12-05", "20261205", "2026-W49-6", "2026W496"])
def test_iso_forms_normalised_to_the_day_log_key(raw: str) -> None:
    assert parse_day(raw) == "2026-12-05"


@pytest.mark.parametrize("raw", ["yesterday", "2026-13-01", "2026-12-5x", ""])
def test_bad_dates_refused(raw: str) -> None:
    with pytest.raises(BadRequest):
        parse_day(raw)


def test_nothing_scored_is_null_not_perfect() -> None:
    out = summarise([{"k": "i", "s": "a", "c": "app", "p": "walk_in"},
                     {"k": "c", "s": "a", "i": 0, "t": 100_000}], "2026-11-23")
    assert out["accuracy"] == {"n": 0, "mae_s": None, "rmse_s": None, "bias_s": None,
                               "p_over": None, "coverage_p10_p90": None}
    assert out["services"]["a"]["accuracy"] is None  # no estimate scored for the service
    assert out["services"]["a"]["operations"]["tickets"] == 1
    assert summarise([], "2026-11-23")["accuracy"]["mae_s"] is None


def test_scored_day_keeps_its_numbers() -> None:
    out = summarise([{"k": "c", "s": "a", "i": 0, "t": 100_000, "e": [90.0, 50.0, 150.0]}],
                    "2026-11-23")
    assert out["accuracy"]["n"] == 1 and out["accuracy"]["mae_s"] == 10.0
    assert out["accuracy"]["coverage_p10_p90"] == 1.0
