"""The baseline the simulator compares with: a greedy nearest-available dispatcher. Pure.

What many dispatch desks do by hand: when a job comes in, offer it to the *nearest available*
technician (online, not busy, not holding an offer, with the skills, serving the job's zone);
a decline or silence moves on to the next nearest available one. If nobody is available the
job waits; when a technician becomes available it is offered the most urgent waiting job it
can do, nearest first among equals. No planning ahead, no reassignment (churn 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dispatch.geo import haversine_m
from dispatch.zones import serves


@dataclass
class GTech:
    id: str
    lat: float
    lon: float
    skills: frozenset[str]
    zones: frozenset[str] = frozenset()
    available: bool = False  # online, idle, no job, no open offer


@dataclass
class GJob:
    id: str
    lat: float
    lon: float
    skills: frozenset[str]
    zones: frozenset[str]  # zones containing it (empty: the region has none)
    priority: int = 0
    created_ms: int = 0


@dataclass
class Greedy:
    techs: dict[str, GTech] = field(default_factory=dict)
    jobs: dict[str, GJob] = field(default_factory=dict)
    waiting: list[str] = field(default_factory=list)  # jobs nobody holds
    tried: dict[str, set[str]] = field(default_factory=dict)  # job → technicians asked
    offered: dict[str, str] = field(default_factory=dict)  # job → technician asked now
    # (technician, job) → whether it can still do the job today (shift end); default yes
    fits: Callable[[str, str], bool] = field(default=lambda tid, jid: True)

    def can(self, t: GTech, j: GJob) -> bool:
        return (j.skills <= t.skills and (not j.zones or serves(t.zones, j.zones))
                and t.id not in self.tried.get(j.id, set()) and self.fits(t.id, j.id))

    def nearest(self, j: GJob) -> GTech | None:
        free = [t for t in self.techs.values() if t.available and self.can(t, j)]
        if not free:
            return None
        return min(free, key=lambda t: (haversine_m((t.lat, t.lon), (j.lat, j.lon)), t.id))

    def _offer(self, j: GJob, t: GTech) -> tuple[str, str]:
        t.available = False
        self.offered[j.id] = t.id
        self.tried.setdefault(j.id, set()).add(t.id)
        if j.id in self.waiting:
            self.waiting.remove(j.id)
        return j.id, t.id

    def job_created(self, j: GJob) -> list[tuple[str, str]]:
        """A new job: the offers to make now, as (job, technician)."""
        self.jobs[j.id] = j
        t = self.nearest(j)
        if t is None:
            self._wait(j.id)
            return []
        return [self._offer(j, t)]

    def _wait(self, jid: str) -> None:
        if jid not in self.waiting:
            self.waiting.append(jid)
            self.waiting.sort(key=lambda x: (-self.jobs[x].priority, self.jobs[x].created_ms))

    def answered(self, jid: str, tid: str, accepted: bool) -> list[tuple[str, str]]:
        """An answer (a timeout is a decline): on a decline, the next nearest available."""
        self.offered.pop(jid, None)
        if accepted:
            return []
        self.techs[tid].available = True
        out = []
        j = self.jobs[jid]
        t = self.nearest(j)
        if t is None:
            self._wait(jid)
        else:
            out.append(self._offer(j, t))
        return out + self.free(tid, self.techs[tid].lat, self.techs[tid].lon)

    def free(self, tid: str, lat: float, lon: float) -> list[tuple[str, str]]:
        """The technician is available (online, idle): the most urgent waiting job it can do."""
        t = self.techs[tid]
        t.lat, t.lon, t.available = lat, lon, True
        options = [self.jobs[j] for j in self.waiting if self.can(t, self.jobs[j])]
        if not options:
            return []
        top = max(o.priority for o in options)
        best = min((o for o in options if o.priority == top),
                   key=lambda o: (haversine_m((lat, lon), (o.lat, o.lon)), o.created_ms))
        return [self._offer(best, t)]

    def busy(self, tid: str) -> None:
        self.techs[tid].available = False

    def pending(self) -> Iterable[str]:
        return iter(self.waiting)
