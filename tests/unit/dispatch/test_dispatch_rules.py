"""Pure rules of live dispatch: GPS fix checks, drift triggers, the geofence, transitions."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch import geofence as gf
from dispatch import gps
from dispatch.errors import InvalidTransition
from dispatch.model import JobStatus, TechStatus
from dispatch.transitions import JOB_ALLOWED, Op, TechOp, check, check_tech, sources, table

T0 = 1_795_000_000_000
HOME = (52.37, 4.89)


def north(m: float) -> tuple[float, float]:
    return HOME[0] + m / 111_195, HOME[1]


def test_fix_reasons() -> None:
    last = gps.Fix(T0, *HOME)
    assert gps.check(gps.Fix(T0 + 11_000, *HOME), last, T0, 10, 200) == gps.FUTURE
    assert gps.check(gps.Fix(T0 + 9_000, *north(100)), last, T0, 10, 200) is None
    assert gps.check(gps.Fix(T0, *HOME), last, T0, 10, 200) == gps.OUT_OF_ORDER
    assert gps.check(gps.Fix(T0 - 1, *HOME), last, T0, 10, 200) == gps.OUT_OF_ORDER
    # 1,000 m in 10 s is 360 km/h; in 20 s it is 180 km/h.
    assert gps.check(gps.Fix(T0 + 10_000, *north(1000)), last, T0 + 10_000, 10, 200) \
        == gps.TOO_FAST
    assert gps.check(gps.Fix(T0 + 20_000, *north(1000)), last, T0 + 20_000, 10, 200) is None
    # Jitter: 40 m in 0.5 s is 288 km/h, but within the slack of a 30 m accuracy fix.
    assert gps.check(gps.Fix(T0 + 500, *north(40), accuracy=30), last, T0 + 500, 10,
                     200) is None
    assert gps.check(gps.Fix(T0, *HOME), None, T0, 10, 200) is None


def test_drift_reasons() -> None:
    fix = gps.Fix(T0, *north(1500))
    assert gps.drift_reason(fix, HOME, None, None, 1000, 600) == "gps_drift"
    assert gps.drift_reason(fix, north(1000), None, None, 1000, 600) is None
    # En route: the ETA decides, not the distance.
    assert gps.drift_reason(fix, HOME, T0 + 600_000, 300, 1000, 600) is None
    assert gps.drift_reason(fix, HOME, T0 + 600_000, 1300, 1000, 600) == "eta_drift"
    assert gps.drift_reason(fix, None, None, None, 1000, 600) is None


P = gf.Params(enter_m=80, exit_m=160, dwell_s=30)


def run(distances: list[float], start: gf.Geofence | None = None) -> list[tuple[int, str]]:
    g = start or gf.Geofence("j", gf.AWAY, 0)
    out = []
    for i, d in enumerate(distances):
        g, ev = gf.step(g, d, T0 + i * 1000, P)
        if ev:
            out.append((i, ev))
    return out


def test_geofence_needs_dwell_and_hysteresis() -> None:
    assert run([100.0] * 100) == []  # near but never inside the enter radius
    assert run([70.0] * 29) == []  # inside, but not for the dwell yet
    assert run([70.0] * 31) == [(30, gf.ARRIVE)]
    # In and out around the enter radius: arrival counts from the first time inside, as long
    # as the fixes stay within the exit radius.
    assert run([70.0, 150.0] * 20) == [(30, gf.ARRIVE)]
    # A fix beyond the exit radius before the dwell restarts the approach.
    assert run([70.0] * 20 + [200.0] + [70.0] * 31) == [(51, gf.ARRIVE)]


def test_geofence_leaving_needs_dwell_outside() -> None:
    inside = gf.Geofence("j", gf.INSIDE, T0)
    assert run([150.0] * 100, inside) == []
    assert run([200.0] * 10 + [100.0] + [200.0] * 10, inside) == []
    assert run([200.0] * 31, inside) == [(30, gf.LEAVE)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=159.0), min_size=1, max_size=300))
def test_drift_inside_the_exit_radius_never_leaves(distances: list[float]) -> None:
    inside = gf.Geofence("j", gf.INSIDE, T0)
    assert all(ev != gf.LEAVE for _, ev in run(distances, inside))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**31))
def test_noisy_approach_arrives_at_most_once(seed: int) -> None:
    rng = random.Random(seed)
    dist = [max(0.0, 500 - 5 * i + rng.gauss(0, 40)) for i in range(100)]
    dist += [abs(rng.gauss(0, 50)) for _ in range(300)]
    events = run(dist)
    assert [e for _, e in events].count(gf.ARRIVE) <= 1
    assert gf.LEAVE not in [e for _, e in events] or max(dist[100:]) > P.exit_m


def test_geofence_encoding_and_reset() -> None:
    g = gf.Geofence("city.j-1", gf.ENTERING, T0)
    assert gf.Geofence.decode(g.encode()) == g
    assert gf.Geofence.decode("") == gf.Geofence()
    assert gf.for_job(g, "city.j-1") is g
    assert gf.for_job(g, "city.j-2", inside=True).state == gf.INSIDE


def test_transition_tables() -> None:
    assert check(Op.ACCEPT, JobStatus.OFFERED) is JobStatus.ASSIGNED
    assert check(Op.ARRIVE, JobStatus.ASSIGNED) is JobStatus.ON_SITE
    with pytest.raises(InvalidTransition):
        check(Op.DEPART, JobStatus.OFFERED)
    with pytest.raises(InvalidTransition):
        check(Op.OFFER, JobStatus.EN_ROUTE)  # committed jobs are never re-offered
    assert check_tech(TechOp.BREAK, TechStatus.AVAILABLE) is TechStatus.ON_BREAK
    with pytest.raises(InvalidTransition):
        check_tech(TechOp.OFFLINE, TechStatus.EN_ROUTE)
    assert sources(Op.COMPLETE) == "en_route,on_site"
    t = table()
    assert set(t["job"]) == {op.value for op in Op} and set(t["tech"]) == {o.value for o in TechOp}
    for op in (Op.OFFER, Op.WITHDRAW, Op.UNASSIGNABLE):
        assert not {JobStatus.EN_ROUTE, JobStatus.ON_SITE} & JOB_ALLOWED[op]


def test_haversine_mirror_in_lua_uses_same_radius() -> None:
    from pathlib import Path

    from dispatch.geo import EARTH_RADIUS_M
    lua = (Path(__file__).parents[3] / "dispatch" / "lua" / "gps.lua").read_text()
    assert f"2 * {EARTH_RADIUS_M}" in lua
    assert math.isclose(EARTH_RADIUS_M, 6_371_008.8)
