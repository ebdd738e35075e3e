"""KPIs per local day (dispatch/kpi.py): each measure on the local day of its event, time on
shift and on a job split at local midnight, the last 35 days kept, today's utilisation
terms rolled over at midnight as the console does, a checkpoint from before the days."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.kpi import ALL, KEEP_DAYS, Kpis, roll_terms, utilisation_at, valid_day

TZ = "Europe/Amsterdam"
H = 3_600_000


def at(day: str, hhmm: str) -> int:
    """Epoch ms of a local time in Amsterdam."""
    return int(datetime.fromisoformat(f"{day}T{hhmm}").replace(
        tzinfo=ZoneInfo(TZ)).timestamp() * 1000)


def status(k: Kpis, ms: int, s: str) -> None:
    k.apply("tech_status", ms, {"tech": {"id": "r.t1", "status": s}, "at": ms})


def job(jid: str, created: int, org: str = "") -> dict[str, Any]:
    return {"job": {"id": jid, "created_ms": created, "org": org}}


def test_a_shift_across_midnight_is_split_at_local_midnight() -> None:
    k = Kpis(tz=TZ)
    status(k, at("2026-03-02", "22:00"), "available")
    k.apply("job_created", at("2026-03-02", "22:10"), job("r.j1", at("2026-03-02", "22:10")))
    k.apply("job_arrived", at("2026-03-02", "23:00"), {"job": {"id": "r.j1"}})
    k.apply("job_done", at("2026-03-03", "01:00"), {"job": {"id": "r.j1"}})
    status(k, at("2026-03-03", "02:00"), "offline")
    late = at("2026-03-03", "12:00")
    d1, d2 = k.summary(late, day="2026-03-02"), k.summary(late)
    assert d2["day"] == "2026-03-03" and d2["timezone"] == TZ and d2["kept"]
    assert (d1["jobs_created"], d1["jobs_done"], d1["utilisation"]) == (1, 0, 0.5)
    assert (d2["jobs_created"], d2["jobs_done"], d2["utilisation"]) == (0, 1, 0.5)
    assert k.days["2026-03-02"].online_ms == 2 * H and k.days["2026-03-03"].online_ms == 2 * H
    assert k.summary(late, day=ALL)["jobs_done"] == 1  # every kept day: the simulator's run


def test_open_shift_counts_from_midnight_today_and_terms_roll_over() -> None:
    k = Kpis(tz=TZ)
    status(k, at("2026-03-02", "20:00"), "available")
    k.apply("job_created", at("2026-03-02", "20:00"), job("r.j1", at("2026-03-02", "20:00")))
    k.apply("job_arrived", at("2026-03-02", "23:00"), {"job": {"id": "r.j1"}})
    # Today (01:00): an hour online, an hour on the job, both since midnight.
    now = at("2026-03-03", "01:00")
    assert k.summary(now)["utilisation"] == 1.0
    terms = k.utilisation_terms(now)
    assert (terms["online_ms"], terms["on_ms"], terms["day"]) == (H, H, "2026-03-03")
    assert terms["day_end"] == at("2026-03-04", "00:00")
    # Yesterday up to its end: 4 h online, 1 h on the job.
    assert k.summary(now, day="2026-03-02")["utilisation"] == 0.25
    # Made yesterday at 22:00, rolled at midnight, the terms give today's figure.
    before = k.utilisation_terms(at("2026-03-02", "22:00"))
    rolled = roll_terms(before, now)
    assert rolled["at"] == at("2026-03-03", "00:00") and rolled["on_ms"] == 0
    assert utilisation_at(rolled, now) == k.summary(now)["utilisation"]


def test_the_last_35_days_are_kept_and_older_events_are_dropped() -> None:
    k = Kpis(tz=TZ)
    first = at("2026-01-01", "12:00")
    for i in range(40):
        t = first + i * 24 * H
        k.apply("job_created", t, job(f"r.j{i}", t))
    assert len(k.days) == KEEP_DAYS and min(k.days) == "2026-01-06"
    now = first + 39 * 24 * H
    assert k.summary(now)["jobs_created"] == 1
    gone = k.summary(now, day="2026-01-05")
    assert gone["kept"] is False and gone["jobs_created"] == 0
    assert k.summary(now, day="2026-01-06")["kept"] is True
    k.apply("job_created", first, job("r.late", first))  # a day already dropped: not counted
    assert "2026-01-01" not in k.days
    assert k.summary(now, day="2026-02-10")["kept"] is False  # after today


def test_a_checkpoint_from_before_the_days_keeps_its_open_state_not_its_totals() -> None:
    old = {"region": {"created": 9, "responses_s": [1.0]}, "orgs": {}, "online_ms": 5.0,
           "onjob_ms": 1.0, "km_loaded": 2.0, "km_empty": 1.0, "plans": 3, "moved": 1,
           "planned": 4, "churn_sum": 0.5, "offset": "5-0",
           "jobs": {"r.j1": {"c": 1, "o": "", "ws": 0, "we": 0, "r": False, "s": 0}},
           "tech_status": {"r.t1": "available"}, "tech_pos": {}, "online_since": {"r.t1": 1}}
    k = Kpis.from_builtins(old, TZ)
    assert (k.tz, k.offset, list(k.jobs), k.days) == (TZ, "5-0", ["r.j1"], {})
    assert Kpis.from_builtins(k.to_builtins()).to_builtins() == k.to_builtins()


def test_local_days_follow_the_zone_and_its_clock_changes() -> None:
    k = Kpis(tz=TZ)
    key, start, end = k.bounds(at("2026-10-25", "12:00"))  # summer time ends: 25 hours
    assert key == "2026-10-25" and end - start == 25 * H
    assert Kpis(tz="Asia/Shanghai").bounds(at("2026-03-02", "18:00"))[0] == "2026-03-03"
    assert valid_day("2026-02-28") and not any(
        valid_day(x) for x in ("2026-02-30", "2026-2-28", "today", "", "2026-02-28T00"))
