"""An early check-in promoted to its appointment's place (policy.plan_promotion): placed as
an on-time check-in at that moment would be, from where it stands, never further back; the
hub's view (SiteView) applies the 'promoted' event to the same order and budgets."""

from __future__ import annotations

from typing import Any

import msgspec

from queueing.demo import demo_site
from queueing.policy import (
    Entry,
    ServiceQueue,
    keeps_appointment,
    order_key,
    plan_insertion,
    plan_promotion,
    promote_at,
)
from queueing.view import SiteView

MIN = 60_000
WALK, APPT = 3, 2  # ranks: the appointment class comes before walk-ins


def test_promotion_is_due_when_the_appointment_place_would_be_kept() -> None:
    appt = 600 * MIN
    at = promote_at(appt, 600)
    assert at == appt - 10 * MIN
    assert not keeps_appointment(appt, at - 1, 600) and keeps_appointment(appt, at, 600)


def _queue(*rows: tuple[str, int, int], factor: float = 2.0) -> ServiceQueue:
    q = ServiceQueue(factor)
    for tid, rank, ref in rows:
        q.insert(tid, order_key(rank, ref))
    return q


def test_promoted_ahead_of_walk_ins_as_an_on_time_check_in_would_be() -> None:
    # 09:00 walk-in w1, 09:20 early check-in e (10:00 appointment: a walk-in until 09:50),
    # 09:30 walk-in w2, 09:45 on-time check-in a (09:55 appointment), 09:48 walk-in w3.
    q = _queue(("w1", WALK, 540 * MIN), ("e", WALK, 560 * MIN), ("w2", WALK, 570 * MIN),
               ("a", APPT, 595 * MIN), ("w3", WALK, 588 * MIN), factor=3.0)
    assert q.ids() == ["a", "w1", "e", "w2", "w3"]
    # 09:50: behind a (an earlier appointment), ahead of w1, whose budget still allows it.
    key = order_key(APPT, 600 * MIN)
    on_time = plan_insertion([x for x in q.entries if x.id != "e"], key, False, 3.0)
    ins = q.promote("e", key)
    assert ins is not None and ins.index == on_time.index == 1 and ins.overtaken == ("w1",)
    assert q.ids() == ["a", "e", "w1", "w2", "w3"]


def test_promotion_passes_those_ahead_while_their_budget_allows() -> None:
    q = _queue(("w1", WALK, 1), ("w2", WALK, 2), ("e", WALK, 3), ("w3", WALK, 4))
    budgets = {e.id: e.budget for e in q.entries}
    ins = q.promote("e", order_key(APPT, 100))
    assert ins is not None and ins.index == 0 and ins.overtaken == ("w1", "w2")
    assert q.ids() == ["e", "w1", "w2", "w3"]
    after = {e.id: e.budget for e in q.entries}
    # Only those it passed spend budget; w3 was behind it already; e's own is its new place's.
    assert (after["w1"], after["w2"], after["w3"]) == (budgets["w1"] - 1, budgets["w2"] - 1,
                                                       budgets["w3"])
    assert after["e"] == 1


def test_promotion_never_moves_a_ticket_back() -> None:
    # Behind e, a ticket whose budget is spent: an on-time insertion from the tail would stop
    # behind it; the promoted ticket stays where it was (and passes nobody ahead: w1's spent).
    entries = [Entry("w1", order_key(WALK, 1), 0), Entry("e", order_key(WALK, 2), 1),
               Entry("w2", order_key(WALK, 3), 0)]
    key = order_key(APPT, 50)
    assert plan_insertion([entries[0], entries[2]], key, False, 2.0).index == 2
    ins = plan_promotion(entries, "e", key, False, 2.0)
    assert ins is not None and ins.index == 1 and ins.overtaken == ()


def test_a_ticket_not_in_the_queue_is_not_promoted() -> None:
    q = _queue(("w1", WALK, 1))
    assert q.promote("gone", order_key(APPT, 0)) is None and q.ids() == ["w1"]


def _t(tid: str, **kw: Any) -> dict[str, Any]:
    return {"id": tid, "number": "A" + tid, "service": "internal", "status": "waiting",
            "channel": "kiosk"} | kw


def test_the_view_applies_a_promotion_as_the_policy_does() -> None:
    v = SiteView.from_snapshot("demo", {
        "config": msgspec.to_builtins(demo_site()), "queues": {}, "counters": {},
        "recent": [], "tickets": {}})
    factor = v.config.policy.aging_factor
    q = ServiceQueue(factor)
    for i, tid in enumerate(("w1", "w2", "e", "w3")):
        ins = q.insert(tid, order_key(WALK, i))
        v.apply("issued", {"ticket": _t(tid), "after": q.ids()[ins.index - 1]
                           if ins.index else ""})
    assert v.budgets == {e.id: e.budget for e in q.entries}
    ins = q.promote("e", order_key(APPT, 10))
    assert ins is not None
    after = q.ids()[ins.index - 1] if ins.index else ""
    ch = v.apply("promoted", {"ticket": _t("e", priority="appointment"), "after": after,
                              "index": ins.index})
    assert v.queues["internal"] == q.ids() == ["e", "w1", "w2", "w3"]
    assert v.budgets == {e.id: e.budget for e in q.entries}
    assert v.position("e") == 1 and v.position("w3") == 4
    assert ch.services == {"internal"} and ch.inserted == [("internal", "e", "")]


def test_the_audit_trail_keeps_a_promotion() -> None:
    from queueing import audit

    t = {"id": "demo.x", "number": "A007", "service": "lab", "priority": "appointment",
         "issued_ms": 1_800_000_000_000, "appointment_ms": 1_800_000_600_000}
    got = audit.audit_for("promoted", {"ticket": t, "from_priority": "walk_in"}, "1-0",
                          1_800_000_000_000, "worker", "", "UTC")
    assert got is not None
    rec = audit.public(got[1])
    assert (rec["event"], rec["priority"], rec["from"], rec["appointment_ms"]) == (
        "promoted", "appointment", "walk_in", 1_800_000_600_000)
