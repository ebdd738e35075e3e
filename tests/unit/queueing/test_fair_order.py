"""Fairness of the order around appointments and no-shows, fed inputs directly (no Redis)."""

from __future__ import annotations

from pathlib import Path

import msgspec

from queueing.estimate.rates import RateTracker
from queueing.policy import keeps_appointment
from queueing.sim.config import CLASS_IDS, load
from queueing.sim.engine import Day

SCENARIOS = Path(__file__).resolve().parents[3] / "queueing" / "scenarios"
APPT = 1_800_000_000_000


def test_an_appointment_place_only_from_the_tolerance_before_it() -> None:
    assert keeps_appointment(APPT, APPT - 600_000, 600)
    assert not keeps_appointment(APPT, APPT - 600_001, 600)
    assert keeps_appointment(APPT, APPT + 60_000, 600)  # late within grace: its place
    assert not keeps_appointment(APPT, APPT - 44 * 60_000, 600)  # 11:51 for 12:35
    assert keeps_appointment(APPT, APPT - 3600_000, 3600)


def _day(early_min: float, early_s: int) -> Day:
    sc = load(SCENARIOS / "clinic.json")
    sc = msgspec.structs.replace(sc, appointment_early_min=early_min, appointment_sd_min=0.0,
                                 appointment_early_s=early_s, days=1)
    day = Day(sc, 0, RateTracker(), seed=1)
    day.run()
    return day


def test_the_simulator_queues_early_appointments_as_walk_ins() -> None:
    appt, walk = CLASS_IDS.index("appointment"), CLASS_IDS.index("walk_in")
    early = _day(30.0, 600)  # everyone booked comes half an hour early
    assert all(t.ref_ms == t.issued_ms for t in early.tickets.values() if t.rank == walk)
    # A walk-in from arrival; those still waiting 10 min before their time (20 min after
    # arrival) were promoted to their appointment's place, ordered by its time.
    promoted = [t for t in early.tickets.values() if t.rank == appt]
    assert promoted and all(t.ref_ms == t.issued_ms + 30 * 60_000 for t in promoted)
    on_time = _day(5.0, 600)  # 5 min early: their appointment's place, by its time
    booked = [t for t in on_time.tickets.values() if t.rank == appt]
    assert booked and all(t.ref_ms == t.issued_ms + 5 * 60_000 for t in booked)


def test_a_returned_no_show_goes_back_places_and_overtakes_only_those_it_passes() -> None:
    from queueing.policy import Entry, order_key, plan_insertion

    queue = [Entry(f"w{i}", order_key(4, 1000 + i), 3) for i in range(4)]
    early = order_key(4, 10)  # its original arrival: the head, without ``back``
    assert plan_insertion(queue, early, False, 2.0).index == 0
    ins = plan_insertion(queue, early, False, 2.0, back=2)
    assert ins.index == 2 and ins.overtaken == ("w2", "w3") and ins.budget == 3
    assert plan_insertion(queue, early, False, 2.0, back=9).index == 4  # never past the tail
    assert plan_insertion(queue, early, False, 2.0, back=9).overtaken == ()


def test_the_trail_compares_numbers_as_reception_says_them() -> None:
    from queueing.audit import Filter

    a20 = Filter(number="a20")
    assert a20({"n": "A020"}) and a20({"n": "A20"}) and not a20({"n": "A200"})
    assert not Filter(number="A20")({"n": "B020"})
    assert Filter(number="??")({"n": "??"})  # no number at all: compared as text


def test_an_undone_completion_leaves_the_days_figures() -> None:
    from queueing.daylog import record_for, taken_back

    t = {"id": "demo.1", "service": "lab", "issued_ms": 1_800_000_000_000, "rank": 4,
         "called_ms": 1_800_000_060_000, "ended_ms": 1_800_000_120_000}
    _, done = record_for("completed", {"ticket": t, "counter": "4", "from": "called"}, "1-0",
                         "UTC") or ("", {})
    _, undo = record_for("undone", {"ticket": t, "counter": "4", "undid": "completed",
                                    "undid_offset": "1-0"}, "2-0", "UTC", actor="clerk") or ("", {})
    assert undo["k"] == "w" and undo["g"] == "1-0" and undo["u"] == "clerk"
    _, again = record_for("completed", {"ticket": t, "counter": "4", "from": "called"}, "3-0",
                          "UTC") or ("", {})
    assert taken_back([done, undo, again]) == [again]
    assert taken_back([done]) == [done]
