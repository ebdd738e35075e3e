"""The audit record of each kind of event (queueing/audit.py): pure, fed stream entries."""

from __future__ import annotations

from typing import Any

import msgspec

from queueing.audit import Filter, audit_for, public, score

TZ = "Asia/Shanghai"
T0 = 1_795_000_000_000  # 2026-11-18 16:26 in Shanghai


def ticket(**kw: Any) -> dict[str, Any]:
    return {"id": "s1.abc123def456", "number": "A023", "service": "internal",
            "issued_ms": T0, "channel": "sms", "priority": "walk_in", "customer": "张三",
            "notify": "+8613800138000", "status": "waiting"} | kw


def rec(kind: str, data: dict[str, Any], ts: int = T0 + 1, actor: str = "nurse-li",
        via: str = "counter") -> dict[str, Any]:
    got = audit_for(kind, data, "1-0", ts, actor, via, TZ)
    assert got is not None, kind
    return got[1]


def test_ticket_steps_keep_who_where_and_why_but_no_personal_data() -> None:
    issued = rec("issued", {"ticket": ticket()}, via="sms", actor="sms-gateway")
    assert issued == {"o": "1-0", "t": T0 + 1, "k": "issued", "a": "sms-gateway", "v": "sms",
                      "id": "s1.abc123def456", "n": "A023", "s": "internal", "ch": "sms",
                      "p": "walk_in"}
    called = rec("called", {"ticket": ticket(), "counter": "5", "from": "waiting",
                            "next": False})
    assert called["c"] == "5" and called["f"] == "waiting" and called["x"] == 1
    assert "x" not in rec("called", {"ticket": ticket(), "counter": "5", "next": True})
    back = rec("no_show", {"ticket": ticket(), "counter": "5", "returned": True, "auto": True})
    assert back["ret"] == 1 and back["r"] == "auto"
    gone = rec("cancelled", {"ticket": ticket(), "from": "parked", "reason": "by_holder"})
    assert gone["r"] == "by_holder" and gone["f"] == "parked"
    moved = rec("transferred", {"ticket": ticket(service="lab"), "from_service": "internal",
                                "to_service": "lab"})
    assert moved["s"] == "lab" and moved["fs"] == "internal"
    assert rec("notify_set", {"ticket": ticket()})["on"] == 1
    assert "on" not in rec("notify_set", {"ticket": ticket(notify="")})
    for r in (issued, called, back, gone, moved):
        text = msgspec.json.encode(r).decode()
        assert "13800138000" not in text and "张三" not in text and "\\u" not in text


def test_a_ticket_is_filed_under_its_issue_day_other_events_under_theirs() -> None:
    late = T0 + 8 * 3600 * 1000  # past midnight in Shanghai
    got = audit_for("cancelled", {"ticket": ticket(), "reason": "day_closed"}, "1-0", late,
                    "day_close", "worker", TZ)
    assert got is not None and got[0] == "2026-11-18"
    ctr = audit_for("counter_paused", {"counter": "2", "from": "open"}, "2-0", late, "a", "b",
                    TZ)
    assert ctr is not None and ctr[0] == "2026-11-19" and ctr[1]["c"] == "2"


def test_bookings_keep_ids_and_times_not_customers() -> None:
    b = {"id": "bk1", "service": "lab", "resource": "r1", "start_ms": T0, "customer": "MRN-7",
         "notify": "+8613800138000", "code": "ABCDEF"}
    moved = rec("booking_rescheduled", {"booking": b, "from": {"resource": "r2",
                                                               "start_ms": T0 - 1}})
    assert moved["fr"] == "r2" and moved["fat"] == T0 - 1 and moved["at"] == T0
    checked = rec("booking_checked_in", {"booking": b, "ticket_id": "s1.t", "number": "C004",
                                         "from": "confirmed"})
    assert checked["tk"] == "s1.t" and checked["n"] == "C004"
    # A suspension lifted, and a text number changed (who did it: never the number).
    back = rec("booking_unsuspended", {"booking": b, "suspension": {"id": "sus-1"}})
    assert back["sus"] == "sus-1" and back["id"] == "bk1"
    renum = rec("booking_notify", {"booking": b, "had": True, "has": True})
    assert (renum["had"], renum["on"]) == (1, 1)
    first = public(rec("booking_notify", {"booking": b, "had": False, "has": True}))
    assert first["had_notify"] is False and first["notify"] is True
    lifted = rec("resource_unsuspended", {"suspension": {"id": "sus-1", "resource": "r1",
                                                         "from_ms": T0, "until_ms": T0 + 1},
                                          "restored": 3})
    assert (lifted["sus"], lifted["res"], lifted["restored"]) == ("sus-1", "r1", 3)
    for r in (moved, checked, back, renum, lifted):
        text = msgspec.json.encode(r).decode()
        assert "MRN-7" not in text and "ABCDEF" not in text and "138001" not in text


def test_kinds_not_kept_and_the_api_shape() -> None:
    assert audit_for("booking_reminder", {"booking": {"id": "b"}}, "1-0", T0, "", "", TZ) is None
    assert audit_for("booking_schedule", {"version": 3}, "1-0", T0, "", "", TZ) is None
    out = public(rec("called", {"ticket": ticket(), "counter": "1", "next": True}))
    assert out["event"] == "called" and out["by_number"] is False and out["number"] == "A023"
    assert score("1795000000000-7") == 1_795_000_000_000_007
    assert score("1795000000000-7") < score("1795000000001-0")
    r = rec("called", {"ticket": ticket(), "counter": "1"})
    assert Filter(number="a023", counter="1", actor="nurse-li")(r)
    assert not Filter(number="A024")(r) and not Filter(ticket="s1.other")(r)


def test_an_erasure_is_recorded_without_its_reference() -> None:
    got = rec("erased", {"counts": {"tickets": 1, "bookings": 0, "events": 3},
                         "reference": "k1:9f86d081884c7d65", "erased_ticket": "s1.t",
                         "erased_booking": None},
              actor="admin-wang", via="api")
    assert got["cnt"] == {"tickets": 1, "events": 3} and got["id"] == "s1.t"
    assert "9f86d081884c7d65" not in msgspec.json.encode(got).decode()
