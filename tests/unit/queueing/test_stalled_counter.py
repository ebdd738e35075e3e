"""An open counter nobody is at: free, with people waiting, longer than a clerk takes to call
the next. The reviewer's government centre: counter 1 open and free, five waiting, nobody
pressing "call next" for minutes; B011's page and texts said "you are next, any minute now"
and A019's "about 2 min (1–4)" for as long as it lasted."""

from __future__ import annotations

from queueing.estimate import CounterView, RateTracker, TicketView, estimate
from queueing.estimate.predictor import IDLE_GRACE_S, model_range, stalled_since
from queueing.estimate.rates import ServiceRates
from queueing.model import Counter, Service, SiteConfig
from queueing.view import SiteView

NOW = 1_800_000_000_000
MIN = 60_000


def view(idle_for_ms: int | None, ahead: int, head_waited_ms: int = 30 * MIN) -> TicketView:
    idle = None if idle_for_ms is None else NOW - idle_for_ms
    return TicketView(now_ms=NOW, service="ss", rank=4, ahead=ahead, queue_len=5,
                      counters=(CounterView("1", open=True, busy=False, idle_since_ms=idle),),
                      head_since_ms=NOW - head_waited_ms)


def rates() -> ServiceRates:
    return ServiceRates(120.0, 1.0, {"1": 120.0}, {"1": 120.0}, {}, 0.0)


def test_within_the_grace_the_free_counter_calls_at_once() -> None:
    assert estimate(view(30_000, ahead=0), RateTracker()).wait_s == 0.0  # type: ignore[union-attr]
    assert stalled_since(view(int(IDLE_GRACE_S * 1000) - 1, 0), view(0, 0).counters[0]) is None
    unknown = view(None, ahead=0)  # since when not known (after a restart): as before
    assert estimate(unknown, RateTracker()).wait_s == 0.0  # type: ignore[union-attr]


def test_a_counter_free_for_minutes_is_no_longer_any_minute_now() -> None:
    first = estimate(view(4 * MIN, ahead=0), RateTracker())
    assert first is not None and first.wait_s > 60.0 and first.high_s > first.wait_s
    # The longer nobody comes, the later it is expected (a late counter's long tail).
    later = model_range(view(40 * MIN, ahead=4), rates())
    sooner = model_range(view(4 * MIN, ahead=4), rates())
    fresh = model_range(view(10_000, ahead=4), rates())
    assert fresh is not None and sooner is not None and later is not None
    assert fresh[1] < sooner[1] < later[1]


def test_stalled_counts_from_when_someone_was_there_to_call() -> None:
    # Free for 10 minutes, but the queue's head came only 30 s ago: not stalled yet.
    v = view(10 * MIN, ahead=0, head_waited_ms=30_000)
    assert stalled_since(v, v.counters[0]) is None
    assert estimate(v, RateTracker()).wait_s == 0.0  # type: ignore[union-attr]


def test_the_view_knows_since_when_a_counter_is_free() -> None:
    sv = SiteView("s", _cfg(), {"ss": []}, {}, {"1": {"state": "closed", "ticket": ""}}, [], {})
    sv.apply("counter_open", {"counter": "1", "state": "open"}, 1000)
    assert sv.counters["1"]["free_since"] == 1000
    t = {"id": "s.1", "number": "A001", "service": "ss", "status": "called", "issued_ms": 1}
    sv.apply("called", {"ticket": t, "counter": "1"}, 2000)
    assert "free_since" not in sv.counters["1"]
    sv.apply("completed", {"ticket": t | {"status": "done"}, "counter": "1"}, 3000)
    assert sv.counters["1"]["free_since"] == 3000
    sv.apply("counter_paused", {"counter": "1", "state": "paused"}, 4000)
    assert "free_since" not in sv.counters["1"]


def _cfg() -> SiteConfig:
    return SiteConfig(name="s", timezone="UTC", languages=["en"],
                      services=[Service("ss", "S", "A")], counters=[Counter("1", "1", ["ss"])])
