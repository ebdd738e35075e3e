"""The day by hour, by counter and by staff, from day-log records (queueing/byhour.py,
queueing/bycounter.py, queueing/openings.py), and the day log's counter and staff fields."""

from __future__ import annotations

from typing import Any

from queueing.bycounter import by_counter, by_staff
from queueing.byhour import by_hour
from queueing.daylog import record_for
from queueing.openings import local_ms, states_at_end, states_at_start
from realtime.stats import summarise

TZ = "Asia/Shanghai"  # UTC+8 all year
DAY = "2026-11-23"
H = 3_600_000
M = 60_000
MID = local_ms(DAY, 0, TZ)  # 2026-11-23 00:00 in Shanghai
CTRS = {"1": ["lab"], "2": ["lab", "xray"]}
_seq = iter(range(1, 10_000))


def at(hour: float) -> int:
    return MID + int(hour * H)


def ctr(kind: str, counter: str, t: int, user: str = "nurse-li") -> dict[str, Any]:
    return {"o": f"{t}-{next(_seq)}", "s": "", "k": kind, "ctr": counter, "t": t, "u": user}


def issued(t: int, svc: str = "lab") -> dict[str, Any]:
    return {"o": f"{t}-0", "s": svc, "r": 4, "k": "i", "t": t}


def called(i: int, t: int, svc: str = "lab", counter: str = "1", user: str = "nurse-li"
           ) -> dict[str, Any]:
    return {"o": f"{t}-0", "s": svc, "r": 4, "k": "c", "i": i, "t": t, "ctr": counter, "u": user}


def done(a: int, b: int, svc: str = "lab", counter: str = "1", user: str = "nurse-li"
         ) -> dict[str, Any]:
    return {"o": f"{b}-0", "s": svc, "r": 4, "k": "d", "ctr": counter, "a": a, "b": b, "u": user}


def test_counter_records_in_the_day_log() -> None:
    day, rec = record_for("counter_paused", {"counter": "2", "state": "paused", "from": "open"},
                          "9-0", TZ, ts=at(9), actor="nurse-li") or ("", {})
    assert day == DAY
    assert rec == {"o": "9-0", "s": "", "k": "p", "ctr": "2", "t": at(9), "f": "open",
                   "u": "nurse-li"}
    # Filed under the day of the change (no ticket); without the event's time, none.
    day, _ = record_for("counter_open", {"counter": "2"}, "9-1", TZ, ts=at(24.5)) or ("", {})
    assert day == "2026-11-24"
    assert record_for("counter_open", {"counter": "2"}, "9-2", TZ) is None
    # The staff subject on calls and completions, the calling counter on calls.
    t = {"id": "s.1", "service": "lab", "rank": 4, "issued_ms": at(9), "called_ms": at(9.5),
         "origin_service": "lab", "returned": 0}
    _, c = record_for("called", {"ticket": t, "counter": "1", "from": "waiting", "first": True},
                      "9-3", TZ, ts=at(9.5), actor="nurse-li") or ("", {})
    assert c["ctr"] == "1" and c["u"] == "nurse-li"
    # The existing summary passes counter records by.
    ops = summarise([rec, c, issued(at(9))], DAY)["services"]
    assert set(ops) == {"lab"} and ops["lab"]["operations"]["called"] == 1


def test_waits_by_issue_hour_and_steps_by_their_hour() -> None:
    recs = [ctr("o", "1", at(8)),
            issued(at(8.5)), called(at(8.5), at(9.25)), done(at(9.25), at(9.5)),
            issued(at(8.75)), called(at(8.75), at(9.75)),
            issued(at(9.1), "xray")]
    hours = by_hour(recs, DAY, TZ, CTRS, {}, now=at(10))["hours"]
    assert [h["hour"] for h in hours] == [8, 9]
    eight, nine = hours
    assert eight["issued"] == 2 and eight["called"] == 0
    # Both waits belong to 8 o'clock, when those people arrived: 45 and 60 minutes.
    assert eight["wait_s"] == {"n": 2, "mean": 3150.0, "p90": 3600.0}
    assert nine["called"] == 2 and nine["served"] == 1 and nine["wait_s"]["n"] == 0
    assert nine["services"]["xray"]["issued"] == 1
    assert eight["counters_open"] == 1.0 and eight["arrivals_per_counter"] == 2.0
    # Counter 1 serves lab only: x-ray had no counter open.
    assert nine["services"]["xray"]["counters_open"] == 0.0
    assert nine["services"]["xray"]["arrivals_per_counter"] is None


def test_across_midnight() -> None:
    """Issued at 23:50, called at 00:10: the wait is 23 o'clock's; the call is after the day."""
    recs = [issued(at(23 + 50 / 60)), called(at(23 + 50 / 60), at(24 + 10 / 60)),
            done(at(24 + 10 / 60), at(24.5))]
    out = by_hour(recs, DAY, TZ, CTRS, {"1": "open"})
    last = out["hours"][-1]
    assert last["hour"] == 23 and last["issued"] == 1 and last["wait_s"]["mean"] == 1200.0
    assert last["called"] == 0 and out["after_day"] == {"called": 1, "served": 1, "no_shows": 0}
    # Open since the day before (its state at midnight): every hour had one counter.
    assert [h["hour"] for h in out["hours"]] == list(range(24))
    assert {h["counters_open"] for h in out["hours"]} == {1.0}


def test_open_counters_time_weighted_with_pause_close_reopen() -> None:
    recs = [ctr("o", "1", at(8)), ctr("o", "2", at(8.5)),
            ctr("p", "2", at(8.75)), ctr("o", "2", at(9)),
            ctr("q", "1", at(9.5)), ctr("o", "1", at(9.75)),
            ctr("q", "1", at(10)), ctr("q", "2", at(10))]
    hours = {h["hour"]: h for h in by_hour(recs, DAY, TZ, CTRS, {}, now=at(12))["hours"]}
    assert set(hours) == {8, 9}
    # 8-9: counter 1 all hour, counter 2 for 15 minutes (paused is not open).
    assert hours[8]["counters_open"] == 1.25
    # 9-10: counter 1 for 30 + 15 minutes, counter 2 all hour.
    assert hours[9]["counters_open"] == 1.75
    assert hours[9]["services"]["xray"]["counters_open"] == 1.0
    assert hours[8]["arrivals_per_counter"] == 0.0
    # Today at 8:30: the hour so far (counter 1 alone for the half hour gone).
    assert by_hour(recs, DAY, TZ, CTRS, {}, now=at(8.5))["hours"][0]["counters_open"] == 1.0


def test_no_counter_records_is_unknown_not_zero() -> None:
    """Days recorded before the day log kept counter changes."""
    h = by_hour([issued(at(8))], DAY, TZ, CTRS, {})["hours"][0]
    assert h["counters_open"] is None and h["arrivals_per_counter"] is None
    assert by_hour([], DAY, TZ, CTRS, {})["hours"] == []


def test_state_at_midnight_from_the_day_before() -> None:
    before = [ctr("o", "1", at(-2)), ctr("o", "2", at(-2)), ctr("q", "2", at(-1))]
    assert states_at_end(before) == {"1": "open", "2": "closed"}


def test_state_at_midnight_from_the_first_change_or_the_live_state() -> None:
    """Nothing the day before: the state the counter's first change of the day left (``f``),
    else its live state if unchanged since before the day began; else unknown."""
    first = [ctr("p", "1", at(12)) | {"f": "open"}, ctr("o", "1", at(13)) | {"f": "paused"},
             ctr("q", "1", at(17)) | {"f": "open"}]
    live = {"1": ("closed", at(17)), "2": ("open", at(-50)), "3": ("open", at(9))}
    start = states_at_start({}, first, live, MID)
    assert start == {"1": "open", "2": "open"}  # 3 changed today with no record: unknown
    # The day before's last change comes first.
    assert states_at_start({"2": "closed"}, [], live, MID)["2"] == "closed"
    rows = {r["counter"]: r for r in by_counter(first, DAY, TZ, ["1", "2", "3"], start,
                                                now=at(18))["counters"]}
    assert (rows["1"]["open_s"], rows["1"]["paused_s"]) == (16 * 3600.0, 3600.0)
    assert rows["2"]["open_s"] == 18 * 3600.0 and "3" not in rows
    # Without ``start`` the spans take the state the first record left too.
    assert by_counter(first, DAY, TZ, ["1"], {}, now=at(18))["counters"][0]["open_s"] == 57600.0
    # Served at a counter whose state is unknown: how long it was open is unknown, not 0.
    row = by_counter([done(at(8), at(8.2), counter="3")], DAY, TZ, ["3"], {})["counters"][0]
    assert row["served"] == 1 and row["open_s"] is None and row["busy_share"] is None


def test_by_counter_busy_share() -> None:
    recs = [ctr("o", "1", at(8)), ctr("q", "1", at(10)),
            ctr("o", "2", at(8)), ctr("p", "2", at(9)), ctr("q", "2", at(9.5)),
            issued(at(8)), called(at(8), at(8.1)), done(at(8.1), at(8.1) + 10 * M),
            issued(at(8.2)), called(at(8.2), at(8.5)), done(at(8.5) + 2 * M, at(8.5) + 22 * M),
            {"o": "n-1", "s": "lab", "r": 4, "k": "n", "ctr": "1", "a": at(9), "b": at(9.1),
             "u": "nurse-wang"}]
    rows = {r["counter"]: r for r in by_counter(recs, DAY, TZ, ["1", "2", "3"], {})["counters"]}
    one = rows["1"]
    assert (one["calls"], one["served"], one["no_shows"]) == (2, 2, 1)
    assert one["service_s"] == {"n": 2, "mean": 900.0, "median": 900.0}
    assert one["open_s"] == 7200.0 and one["busy_s"] == 1800.0 and one["busy_share"] == 0.25
    # Open an hour, paused half an hour, nobody served: busy 0, share 0 (not null).
    two = rows["2"]
    assert two["served"] == 0 and two["service_s"]["mean"] is None
    assert (two["open_s"], two["paused_s"], two["busy_s"], two["busy_share"]) == (
        3600.0, 1800.0, 0, 0.0)
    assert "3" not in rows  # never open, nothing done


def test_by_counter_never_open_today_but_served() -> None:
    """Served from a ticket record alone (no counter records): share unknown."""
    recs = [called(at(8), at(8.1)), done(at(8.1), at(8.2))]
    row = by_counter(recs, DAY, TZ, ["1"], {})["counters"][0]
    assert row["busy_s"] == 360.0 and row["open_s"] is None and row["busy_share"] is None


def test_by_staff() -> None:
    recs = [called(at(8), at(8.1), counter="1", user="nurse-li"),
            done(at(8.1), at(8.2), counter="1", user="nurse-li"),
            called(at(8), at(8.3), counter="2", user="nurse-li"),
            called(at(8), at(8.3), counter="2", user="dr-wang"),
            done(at(8.3), at(8.5), counter="2", user="dr-wang"),
            {"o": "1-1", "s": "lab", "r": 4, "k": "d", "ctr": "1", "a": at(9), "b": at(9.1)},
            ctr("o", "1", at(7))]
    rows = by_staff(recs, DAY)["staff"]
    assert [r["staff"] for r in rows] == ["dr-wang", "nurse-li", None]
    wang, li, unknown = rows
    assert (li["calls"], li["served"], li["counters"]) == (2, 1, ["1", "2"])
    assert li["service_s"]["median"] == 360.0
    assert wang["busy_s"] == 720.0 and unknown["served"] == 1


def test_local_hours_in_other_zones() -> None:
    """A half-hour zone without daylight saving (India) attributes by its own local hour; on
    the day London's clocks go forward the day has 23 hours and 01:00 does not happen."""
    kol = local_ms(DAY, 0, "Asia/Kolkata")
    recs = [issued(kol + 9 * H + 20 * M), called(kol + 9 * H + 20 * M, kol + 10 * H + 5 * M)]
    [row, nxt] = by_hour(recs, DAY, "Asia/Kolkata", CTRS, {})["hours"]
    assert (row["hour"], row["issued"], row["wait_s"]["mean"]) == (9, 1, 2700.0)
    assert (nxt["hour"], nxt["called"]) == (10, 1)
    spring = "2026-03-29"
    mid = local_ms(spring, 0, "Europe/London")
    out = by_hour([ctr("o", "1", mid)], spring, "Europe/London", CTRS, {})["hours"]
    assert [h["hour"] for h in out] == [0, *range(2, 24)]
    assert sum(h["minutes"] for h in out) == 23 * 60
    assert {h["counters_open"] for h in out} == {1.0}


def test_p90_is_the_nearest_rank() -> None:
    """The smallest value with 90 % of the values at or below it: of 10 waits the 9th (it was
    the 10th, the maximum), of 20 the 18th; with fewer than 10, the largest."""
    from queueing.estimate.daystats import summary

    assert summary([float(v) for v in range(10, 0, -1)])["p90"] == 9.0
    assert summary([float(v) for v in range(1, 21)])["p90"] == 18.0
    assert summary([1.0, 2.0, 3.0])["p90"] == 3.0
    hours = by_hour([issued(at(8) + k * M) for k in range(10)]
                    + [called(at(8) + k * M, at(9) + k * 2 * M) for k in range(10)],
                    DAY, TZ, CTRS, {}, now=at(12))["hours"]
    assert hours[0]["wait_s"]["p90"] == 68 * 60.0  # waits of 60 to 69 minutes


def test_transfers_and_parks_keep_the_counter_s_time() -> None:
    t = {"id": "s.1", "service": "lab", "rank": 4, "issued_ms": at(8), "called_ms": at(9),
         "started_ms": at(9) + 2 * M, "origin_service": "lab", "returned": 0}
    _, park = record_for("parked", {"ticket": t, "counter": "2", "from": "serving"}, "9-1", TZ,
                         ts=at(9) + 7 * M, actor="dr-wang") or ("", {})
    assert park == {"o": "9-1", "s": "lab", "r": 4, "k": "h", "ctr": "2",
                    "a": at(9) + 2 * M, "b": at(9) + 7 * M, "u": "dr-wang"}
    _, moved = record_for("transferred", {"ticket": t | {"service": "xray"}, "counter": "1",
                                          "from": "called", "from_service": "lab",
                                          "to_service": "xray"}, "9-2", TZ, ts=at(9.5),
                          actor="nurse-li") or ("", {})
    assert (moved["k"], moved["ctr"], moved["a"], moved["b"]) == ("t", "1", at(9), at(9.5))
    # Moved by id from a queue: no counter time.
    _, by_id = record_for("transferred", {"ticket": t, "from": "waiting", "to_service": "x"},
                          "9-3", TZ, ts=at(9.5)) or ("", {})
    assert "a" not in by_id and "ctr" not in by_id
    # An older transfer record without the time counts none (unknown), not a zero.
    old = {"o": "1-1", "s": "xray", "r": 4, "k": "t", "f": "lab"}
    rows = by_counter([ctr("o", "1", at(8)), moved, old, park], DAY, TZ, ["1", "2"], {},
                      now=at(10))["counters"]
    assert [(r["counter"], r["handed_on"], r["busy_s"]) for r in rows] == [
        ("1", 1, 1800.0), ("2", 1, 300.0)]
    assert [r["staff"] for r in by_staff([old, park], DAY)["staff"]] == ["dr-wang"]


def test_arrivals_per_counter_needs_some_open_time() -> None:
    """From the unrounded counters open; null below 5 counter-minutes in the hour."""
    def nine(open_min: float) -> dict[str, Any]:
        recs = [ctr("o", "1", at(10) - int(open_min * M)), issued(at(9.1))]
        return by_hour(recs, DAY, TZ, CTRS, {}, now=at(11))["hours"][0]

    one = nine(1)
    assert (one["counters_open"], one["arrivals_per_counter"]) == (0.02, None)
    assert nine(4.9)["arrivals_per_counter"] is None
    # 7 minutes open: 1 / (7/60), not 1 / 0.12.
    assert nine(7)["arrivals_per_counter"] == round(60 / 7, 2)
