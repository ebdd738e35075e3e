"""A job booked ahead: its dispatch response counts from the pass that plans it (pure KPIs),
and which booked-ahead jobs the planner has to put aside again (pure selection)."""

from __future__ import annotations

from dispatch.kpi import Kpis
from dispatch.planning import to_put_aside

DAY_MS = 86_400_000


def _job(jid: str, **extra: object) -> dict[str, object]:
    return {"id": jid, "created_ms": 0, "win_start": DAY_MS, "win_end": DAY_MS + 7_200_000,
            **extra}


def test_response_counts_from_release_for_a_job_booked_ahead() -> None:
    k = Kpis()
    k.apply("job_created", 0, {"job": _job("r.a")})
    k.apply("job_created", 0, {"job": _job("r.b")})
    # r.a was put aside (stamped ahead_ms) and offered on its day; r.b was offered at once.
    k.apply("offered", DAY_MS - 3_600_000, {"job": _job("r.a", ahead_ms=60_000)})
    k.apply("offered", 1_000, {"job": _job("r.b")})
    k.apply("offer_declined", DAY_MS - 3_500_000, {"job": _job("r.a", ahead_ms=60_000)})
    # A second offer does not move its start again.
    k.apply("offered", DAY_MS - 3_000_000, {"job": _job("r.a", ahead_ms=60_000)})
    k.apply("offer_accepted", DAY_MS - 2_400_000, {"job": _job("r.a", ahead_ms=60_000)})
    k.apply("offer_accepted", 31_000, {"job": _job("r.b")})
    assert sorted(k.region.responses_s) == [31.0, 1200.0]


def test_a_release_survives_the_checkpoint() -> None:
    k = Kpis()
    k.apply("job_created", 0, {"job": _job("r.a")})
    k.apply("job_unassignable", 5_000_000, {"job": _job("r.a", ahead_ms=1)})
    k2 = Kpis.from_builtins(k.to_builtins())
    k2.apply("offer_accepted", 5_060_000, {"job": _job("r.a", ahead_ms=1)})
    assert k2.region.responses_s == [60.0]


def test_to_put_aside_picks_what_needs_a_step() -> None:
    jobs = {"r.new": {"status": "new"},
            "r.done": {"status": "new", "ahead_ms": 5},
            "r.tw": {"status": "unassignable", "reason": "time_window", "ahead_ms": 5},
            "r.sk": {"status": "unassignable", "reason": "skills", "ahead_ms": 5},
            "r.pend": {"status": "new", "ahead_ms": 5}}
    ahead = frozenset(jobs)
    assert to_put_aside(ahead, jobs, ["r.pend", "r.other"]) == ["r.new", "r.pend", "r.tw"]
    assert to_put_aside(frozenset(), jobs, ["r.pend"]) == []
