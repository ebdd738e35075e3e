"""An organisation's jobs due per local day by status (dispatch/kpi.py ``due``, the enterprise
dashboard's tiles): due on the local day the window ends (no window: the day created), moved
from status to status by the job's events, kept on its day once ended, moved to another day
with its window, returned by ``summary(org=..., day=...)``, through a checkpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.kpi import ALL, KEEP_DAYS, Kpis

TZ = "Asia/Shanghai"
ORG = "r.o-acme"
H = 3_600_000


def at(day: str, hhmm: str) -> int:
    return int(datetime.fromisoformat(f"{day}T{hhmm}").replace(
        tzinfo=ZoneInfo(TZ)).timestamp() * 1000)


def rec(jid: str, status: str, created: int, win_end: int = 0, org: str = ORG
        ) -> dict[str, Any]:
    return {"job": {"id": jid, "status": status, "org": org, "created_ms": created,
                    "win_start": win_end - 4 * H if win_end else "",
                    "win_end": win_end or ""}}


def test_jobs_count_on_the_day_their_window_ends_by_status_now() -> None:
    k = Kpis(tz=TZ)
    sun = at("2026-03-01", "18:00")  # ordered on Sunday evening for Monday and Tuesday
    mon, tue = at("2026-03-02", "12:00"), at("2026-03-03", "12:00")
    k.apply("job_created", sun, rec("r.j1", "new", sun, mon))
    k.apply("job_created", sun, rec("r.j2", "new", sun, mon))
    k.apply("job_created", sun, rec("r.j3", "new", sun, tue))
    k.apply("job_created", sun, rec("r.j4", "new", sun))  # no window: due the day ordered
    k.apply("job_created", sun, rec("r.x", "new", sun, mon, org=""))  # no organisation
    k.apply("offered", at("2026-03-02", "07:00"), rec("r.j1", "offered", sun, mon))
    k.apply("job_accepted", at("2026-03-02", "07:01"), rec("r.j1", "assigned", sun, mon))
    k.apply("job_departed", at("2026-03-02", "08:00"), rec("r.j1", "en_route", sun, mon))
    k.apply("job_cancelled", at("2026-03-02", "08:00"), rec("r.j2", "cancelled", sun, mon))
    now = at("2026-03-02", "08:30")
    monday = k.summary(now, org=ORG)
    assert monday["day"] == "2026-03-02"
    assert monday["due"] == {"cancelled": 1, "en_route": 1}
    assert k.summary(now, org=ORG, day="2026-03-03")["due"] == {"new": 1}
    assert k.summary(now, org=ORG, day="2026-03-01")["due"] == {"new": 1}
    assert k.summary(now, org=ORG, day=ALL)["due"] == {"cancelled": 1, "en_route": 1, "new": 2}
    # Done on Tuesday morning, past the window: still Monday's job, now done.
    k.apply("job_arrived", at("2026-03-03", "01:00"), {"job": {"id": "r.j1"}})
    k.apply("job_done", at("2026-03-03", "02:00"), rec("r.j1", "done", sun, mon))
    assert k.summary(at("2026-03-03", "03:00"), org=ORG, day="2026-03-02")["due"] == {
        "cancelled": 1, "done": 1}
    assert k.summary(at("2026-03-03", "03:00"), org=ORG)["due"] == {"new": 1}
    assert k.summary(now, org="r.o-other")["due"] == {}


def test_a_moved_window_moves_the_job_to_its_new_day() -> None:
    k = Kpis(tz=TZ)
    t0 = at("2026-03-02", "09:00")
    k.apply("job_created", t0, rec("r.j1", "new", t0, at("2026-03-02", "17:00")))
    k.apply("job_updated", t0 + H, rec("r.j1", "new", t0, at("2026-03-04", "17:00")))
    assert k.summary(t0 + H, org=ORG)["due"] == {}
    assert k.summary(t0 + H, org=ORG, day="2026-03-04")["due"] == {"new": 1}


def test_local_midnight_decides_the_day_not_utc() -> None:
    k = Kpis(tz=TZ)
    t0 = at("2026-03-02", "06:00")
    # 01:00 in Shanghai on the 3rd is still the 2nd in UTC.
    k.apply("job_created", t0, rec("r.j1", "new", t0, at("2026-03-03", "01:00")))
    assert k.summary(t0, org=ORG, day="2026-03-03")["due"] == {"new": 1}
    assert k.summary(t0, org=ORG)["due"] == {}


def test_due_days_survive_the_checkpoint_and_old_days_are_dropped() -> None:
    k = Kpis(tz=TZ)
    t0 = at("2026-01-01", "09:00")
    k.apply("job_created", t0, rec("r.j1", "new", t0, t0 + H))
    k2 = Kpis.from_builtins(k.to_builtins(), tz=TZ)
    k2.apply("job_cancelled", t0 + 2 * H, rec("r.j1", "cancelled", t0, t0 + H))
    assert k2.summary(t0 + 2 * H, org=ORG)["due"] == {"cancelled": 1}
    later = t0 + KEEP_DAYS * 24 * H  # a day past the 35 kept drops the first
    k2.apply("job_created", later, rec("r.j2", "new", later, later + H))
    assert "2026-01-01" not in k2.due[ORG]
    assert k2.summary(later, org=ORG)["due"] == {"new": 1}


def test_an_open_job_from_a_checkpoint_before_due_counts_from_its_next_event() -> None:
    k = Kpis(tz=TZ)
    t0 = at("2026-03-02", "09:00")
    k.apply("job_created", t0, rec("r.j1", "new", t0, t0 + 4 * H))
    old = k.to_builtins()
    old.pop("due")
    for facts in old["jobs"].values():
        for f in ("d", "st", "k"):
            facts.pop(f)
    k2 = Kpis.from_builtins(old, tz=TZ)
    assert k2.summary(t0, org=ORG)["due"] == {}
    k2.apply("job_done", t0 + H, rec("r.j1", "done", t0, t0 + 4 * H))
    assert k2.summary(t0 + H, org=ORG)["due"] == {"done": 1}
