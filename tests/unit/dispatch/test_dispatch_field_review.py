"""Pure findings of a field-service operator's review of dispatch (shifts, reasons)."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dispatch.planning import shift_of

TZ = ZoneInfo("Asia/Shanghai")
NIGHT = {"shift_start": "22:00", "shift_end": "06:00"}
H = 3600


def _at(hhmm_day: str) -> int:
    from datetime import datetime
    return int(datetime.fromisoformat(hhmm_day).replace(tzinfo=TZ).timestamp())


def test_a_night_shift_after_midnight_is_the_one_under_way() -> None:
    # 02:00 on a 22:00-06:00 shift: the shift that began yesterday at 22:00 (it was taken
    # for tonight's, so the technician on duty got no work until 22:00).
    now = _at("2026-12-05T02:00")
    assert shift_of(NIGHT, now, TZ) == (_at("2026-12-04T22:00"), _at("2026-12-05T06:00"))
    # Just after it ends, the one that ended (its work in hand overruns; it is not
    # tonight's: a job accepted at 05:40 got an ETA of 22:00); later, the coming one.
    for t in ("2026-12-05T06:00", "2026-12-05T06:05", "2026-12-05T13:00"):
        assert shift_of(NIGHT, _at(t), TZ) == (_at("2026-12-04T22:00"),
                                                _at("2026-12-05T06:00")), t
    for t in ("2026-12-05T15:00", "2026-12-05T23:00"):
        assert shift_of(NIGHT, _at(t), TZ) == (_at("2026-12-05T22:00"),
                                                _at("2026-12-06T06:00")), t
    # Day shifts are as before: today's, over or not.
    day = {"shift_start": "08:00", "shift_end": "18:00"}
    assert shift_of(day, _at("2026-12-05T02:00"), TZ) == (_at("2026-12-05T08:00"),
                                                          _at("2026-12-05T18:00"))
    assert shift_of(day, _at("2026-12-05T20:00"), TZ) == (_at("2026-12-05T08:00"),
                                                          _at("2026-12-05T18:00"))


def test_a_scenario_batch_whose_slots_are_over_when_ordered_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The engine refuses a job whose window has already ended; a simulated order at 12:00
    # for slots from 09:00 would end the run in a traceback.
    from dispatch.simulate import main
    path = tmp_path / "late-order.json"
    path.write_text(json.dumps({"batches": [{"org": "a", "hour": 12, "jobs": 4,
                                             "centre": [52.37, 4.9], "slots": [9, 16]}]}))
    assert main(["--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dispatch.simulate: ") and "batches[0].slots" in err, err


def test_improvement_never_swaps_accepted_work_for_other_work() -> None:
    # A technician at its job limit with two accepted jobs: the improvement found less
    # driving by dropping them for two closer, newer ones. Both accepted jobs were
    # withdrawn and left unassignable ("solver"): their customers had been told a
    # technician was coming.
    from dispatch.solver import StabilityPolicy, Task, Vehicle, build_plan, stabilise
    from tests.unit.dispatch.dispatch_solver_helpers import line_problem

    tasks = [Task(n, loc) for n, loc in (("far1", 9), ("far2", 10), ("near1", 1), ("near2", 2))]
    p = line_problem(tasks, [Vehicle("L", start=0, end=0, max_tasks=2)])
    current = build_plan(p, {"L": ["far1", "far2"]})
    candidate = build_plan(p, {"L": ["near1", "near2"]})
    assert candidate.cost < current.cost
    swapped = stabilise(p, current, candidate, StabilityPolicy(0), {}, now=0)
    assert swapped.plan.assignment == candidate.assignment  # as before, without `keep`
    kept = stabilise(p, current, candidate, StabilityPolicy(0, keep=frozenset({"far1"})), {},
                     now=0)
    assert kept.plan.assignment == current.assignment and not kept.changed


def test_night_shifts_on_the_calendar_and_24_hour_shifts() -> None:
    """Yesterday is a calendar day (the Monday after the spring change follows a 23-hour
    Sunday), and a 06:00-06:00 technician at 05:00 is on the shift that began yesterday."""
    ams = ZoneInfo("Europe/Amsterdam")
    from datetime import datetime

    def at(s: str) -> int:
        return int(datetime.fromisoformat(s).replace(tzinfo=ams).timestamp())

    assert shift_of(NIGHT, at("2026-03-30T00:30"), ams) == (at("2026-03-29T22:00"),
                                                            at("2026-03-30T06:00"))
    full = {"shift_start": "06:00", "shift_end": "06:00"}
    assert shift_of(full, _at("2026-12-05T05:00"), TZ) == (_at("2026-12-04T06:00"),
                                                           _at("2026-12-05T06:00"))


def test_breaks_of_a_night_shift_fall_inside_it() -> None:
    """A 23:30-00:30 break of a 22:00-06:00 shift, at 01:00, is last night's (over), and a
    02:00-03:00 one is tonight's: both were put on the wrong day, outside the shift, and the
    solver refused the whole problem ("Inconsistent breaks") from midnight to 06:00."""
    from dispatch.planning import _breaks
    tech = {**NIGHT, "breaks": json.dumps([{"start": "23:30", "end": "00:30"},
                                           {"start": "02:00", "end": "03:00"}])}
    now = _at("2026-12-05T01:00")
    shift = shift_of(tech, now, TZ)
    brks = _breaks("t", tech, now, now, TZ, shift)
    assert [b.id for b in brks] == ["t~b1"]
    (a, z), = brks[0].time_windows
    assert (a + now, z + now) == (_at("2026-12-05T02:00"), _at("2026-12-05T03:00"))
    # At 22:30 the first is tonight's, the second tomorrow morning's: both inside the shift.
    now = _at("2026-12-05T22:30")
    shift = shift_of(tech, now, TZ)
    for b in _breaks("t", tech, now, now, TZ, shift):
        (a, z), = b.time_windows
        assert shift[0] <= a + now and z + now <= shift[1], b
