"""The simulator's evenness among alike technicians (dispatch/simworld.py ``alike_spread``):
offers compared only between technicians who could do the same work (same skills and
zones), so a gas fitter is not "uneven" against an electrician."""

from __future__ import annotations

from typing import Any

from dispatch.simworld import alike_spread


def _t(skills: list[str], zones: list[str], offers: int) -> dict[str, Any]:
    return {"skills": skills, "zones": zones, "offers": offers, "done": 0}


def test_groups_of_alike_technicians_only() -> None:
    techs = {"a": _t(["gas"], ["west"], 2), "b": _t(["gas"], ["west"], 10),
             "c": _t(["water"], ["west"], 30),  # alone in its group: not compared
             "d": _t([], ["east"], 4), "e": _t([], ["east"], 6), "f": _t([], ["east"], 8)}
    s = alike_spread(techs)
    assert s["groups"] == 2 and s["range_max"] == 8 and s["range_mean"] == 6.0
    assert s["sd_mean"] == round((4.0 + (8 / 3) ** 0.5) / 2, 2)


def test_no_alike_technicians() -> None:
    assert alike_spread({"a": _t(["gas"], [], 3)})["groups"] == 0
