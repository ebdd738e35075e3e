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
    assert not [t for t in early.tickets.values() if t.rank == appt]
    assert all(t.ref_ms == t.issued_ms for t in early.tickets.values() if t.rank == walk)
    on_time = _day(5.0, 600)  # 5 min early: their appointment's place, by its time
    booked = [t for t in on_time.tickets.values() if t.rank == appt]
    assert booked and all(t.ref_ms == t.issued_ms + 5 * 60_000 for t in booked)
