"""Pending promotions in the estimate: an early check-in's own (it is called no later than
as the promoted ticket from its promote time) and those of early check-ins behind a ticket
(they overtake it when due, within its budget); the hub and the simulator fill them in."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from queueing.demo import demo_site
from queueing.estimate import CounterView, ServiceRates, TicketView
from queueing.estimate.predictor import model_range
from queueing.policy import order_key
from queueing.view import SiteView
from realtime.estimates import pending_promotions, promotion_inputs, ticket_view

NOW = 1_000_000_000
WALK, APPT = 3, 2


def rates() -> ServiceRates:
    return ServiceRates(300.0, 1.0, {"a": 300.0, "b": 300.0}, {"a": 300.0, "b": 300.0}, {}, 0.0)


def view(ahead: int, rank: int = WALK, **kw: Any) -> TicketView:
    return TicketView(now_ms=NOW, service="s", rank=rank, ahead=ahead,
                      counters=(CounterView("a"), CounterView("b")), queue_len=ahead + 1, **kw)


def test_defaults_keep_the_estimate() -> None:
    v = view(6)
    assert (v.promote_in_s, v.promote_ahead, v.promotions) == (None, 0, ())
    assert model_range(v, rates()) == model_range(view(6, promotions=()), rates())


def test_an_early_check_in_is_called_no_later_than_once_promoted() -> None:
    walk_in = model_range(view(20), rates())
    early = model_range(view(20, promote_in_s=600.0, promote_rank=APPT, promote_ahead=1),
                        rates())
    assert walk_in is not None and early is not None
    # Promoted at 600 s with one ahead that will not be passed (drained by then): the next
    # call after 600 s (two counters of 300 s: about 150 s on), far before 20 walk-ins.
    assert early[1] < walk_in[1] / 2
    assert early[1] >= 600.0
    assert early[1] == pytest.approx(600.0 + 150.0 * 0.8, rel=0.5)


def test_a_promotion_due_after_the_walk_in_call_changes_nothing() -> None:
    walk_in = model_range(view(2), rates())
    late = model_range(view(2, promote_in_s=4 * 3600.0, promote_rank=APPT), rates())
    assert late == walk_in


def test_promotions_behind_due_before_the_call_overtake_within_the_budget() -> None:
    base = model_range(view(10), rates())
    two = model_range(view(10, promotions=(60.0, 120.0)), rates())
    later = model_range(view(10, promotions=(10 * 3600.0,)), rates())
    capped = model_range(view(10, budget=1, promotions=(60.0, 120.0)), rates())
    one = model_range(view(10, budget=1, promotions=(60.0,)), rates())
    assert base is not None and two is not None and capped is not None
    assert two[1] == pytest.approx(model_range(view(12, budget=18), rates())[1])  # type: ignore[index]
    assert later == base
    assert capped == one and base[1] < capped[1] < two[1]


def _site(*tickets: dict[str, Any]) -> SiteView:
    cfg = msgspec.to_builtins(demo_site())
    v = SiteView.from_snapshot("demo", {"config": cfg, "queues": {}, "counters": {},
                                        "recent": [], "tickets": {}})
    for i, t in enumerate(tickets):
        v.apply("issued", {"ticket": {"number": "A" + t["id"], "service": "internal",
                                      "status": "waiting", "channel": "kiosk",
                                      "issued_ms": NOW} | t,
                           "after": tickets[i - 1]["id"] if i else ""})
    return v


def test_the_hub_view_carries_pending_promotions() -> None:
    appt = NOW + 3_600_000
    v = _site({"id": "h", "key": str(order_key(APPT, NOW - 10))},
              {"id": "w1", "key": str(order_key(WALK, NOW))},
              {"id": "e", "key": str(order_key(WALK, NOW + 1)), "promote_at_ms": appt - 900_000,
               "promote_to": "appointment", "appointment_ms": appt},
              {"id": "w2", "key": str(order_key(WALK, NOW + 2))})
    assert v.config.class_rank("appointment") == APPT
    pending = pending_promotions(v, "internal")
    assert pending == ((2, appt - 900_000, APPT, order_key(APPT, appt)),)
    # w1 has no aging budget left: the promotion will not pass it (policy.plan_promotion),
    # so it stays ahead (counting every later key as passed said 18 min, then 33).
    v.budgets["w1"] = 0
    own = promotion_inputs(v, "internal", "e", 2, NOW, pending)
    assert own == {"promote_in_s": 2700.0, "promote_rank": APPT, "promote_ahead": 2}
    v.budgets["w1"] = 3
    own = promotion_inputs(v, "internal", "e", 2, NOW, pending)
    assert own == {"promote_in_s": 2700.0, "promote_rank": APPT, "promote_ahead": 1}
    assert promotion_inputs(v, "internal", "w1", 1, NOW, pending) == {"promotions": (2700.0,)}
    assert promotion_inputs(v, "internal", "w2", 3, NOW, pending) == {}  # it is ahead
    assert promotion_inputs(v, "internal", "w1", 2, NOW, pending) == {}  # not where said
    tv = ticket_view(v, "internal", WALK, 2, NOW, {}, ticket_id="e")
    assert (tv.promote_in_s, tv.promote_rank, tv.promote_ahead) == (2700.0, APPT, 1)
    assert ticket_view(v, "internal", WALK, 2, NOW, {}).promote_in_s is None


def test_the_simulator_view_carries_pending_promotions(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    from queueing.estimate.rates import RateTracker
    from queueing.sim import engine
    from queueing.sim.config import CLASS_IDS, load

    seen: list[tuple[TicketView, int | None]] = []
    real_view = engine.Day._view

    def spy(self: engine.Day, ticket: engine.Ticket, ahead: int, budget: int,
            now: int) -> TicketView:
        v = real_view(self, ticket, ahead, budget, now)
        seen.append((v, ticket.promote_ms))
        return v

    monkeypatch.setattr(engine.Day, "_view", spy)
    sc = load("queueing/scenarios/clinic.json")
    engine.Day(sc, 0, RateTracker(), sc.seed).run()
    early = [(v, t) for v, t in seen if v.promote_in_s is not None]
    assert early and len(early) < len(seen)
    appt = CLASS_IDS.index("appointment")
    for v, at in early:
        assert at is not None and v.rank != appt and v.promote_rank == appt
        assert v.promote_in_s == max(0.0, (at - v.now_ms) / 1000.0)
        assert 0 <= v.promote_ahead <= v.ahead
