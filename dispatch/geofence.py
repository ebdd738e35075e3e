"""Arrival detection from noisy GPS: a state machine with hysteresis and dwell time. Pure.

A technician heading to a job is ``away`` until a fix lands within ``enter_m`` of the job;
it is then ``entering`` and *arrives* once it has stayed within ``exit_m`` for ``dwell_s``
(by fix time). Once ``inside``, only fixes beyond ``exit_m`` (> ``enter_m``) count as leaving,
and a *leave* needs ``dwell_s`` outside too. A GPS wobble around one radius therefore never
produces an arrive/leave pair: the two radii and the dwell both have to be crossed.

    state = Geofence()                       # per technician and job
    state, event = step(state, distance_m, fix_ms, params)   # event: None, ARRIVE, LEAVE
"""

from __future__ import annotations

from dataclasses import dataclass, replace

AWAY, ENTERING, INSIDE, LEAVING = "away", "entering", "inside", "leaving"
ARRIVE, LEAVE = "arrive", "leave"


@dataclass(frozen=True, slots=True)
class Params:
    enter_m: float = 80.0
    exit_m: float = 160.0
    dwell_s: float = 30.0


@dataclass(frozen=True, slots=True)
class Geofence:
    job: str = ""
    state: str = AWAY
    since_ms: int = 0  # when the current entering/leaving phase began

    def encode(self) -> str:
        return f"{self.job}|{self.state}|{self.since_ms}"

    @classmethod
    def decode(cls, raw: str | None) -> Geofence:
        if not raw:
            return cls()
        job, state, since = raw.split("|")
        return cls(job, state, int(since))


def step(g: Geofence, distance_m: float, t_ms: int, p: Params) -> tuple[Geofence, str | None]:
    """Feed one accepted fix's distance to the job; returns the new state and any event."""
    dwell_ms = p.dwell_s * 1000
    if g.state == AWAY:
        if distance_m <= p.enter_m:
            g = replace(g, state=ENTERING, since_ms=t_ms)
            return _settle(g, t_ms, dwell_ms)
        return g, None
    if g.state == ENTERING:
        if distance_m > p.exit_m:
            return replace(g, state=AWAY, since_ms=t_ms), None
        return _settle(g, t_ms, dwell_ms)
    if g.state == INSIDE:
        if distance_m > p.exit_m:
            g = replace(g, state=LEAVING, since_ms=t_ms)
            return _leave(g, t_ms, dwell_ms)
        return g, None
    # LEAVING
    if distance_m <= p.exit_m:
        return replace(g, state=INSIDE, since_ms=t_ms), None
    return _leave(g, t_ms, dwell_ms)


def _settle(g: Geofence, t_ms: int, dwell_ms: float) -> tuple[Geofence, str | None]:
    if t_ms - g.since_ms >= dwell_ms:
        return replace(g, state=INSIDE, since_ms=t_ms), ARRIVE
    return g, None


def _leave(g: Geofence, t_ms: int, dwell_ms: float) -> tuple[Geofence, str | None]:
    if t_ms - g.since_ms >= dwell_ms:
        return replace(g, state=AWAY, since_ms=t_ms), LEAVE
    return g, None


def for_job(g: Geofence, job: str, inside: bool = False) -> Geofence:
    """The state to use for ``job``: reset when the technician's active job changed."""
    if g.job == job:
        return g
    return Geofence(job, INSIDE if inside else AWAY, 0)
