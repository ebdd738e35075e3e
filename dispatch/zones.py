"""Service zones (shapely polygons): which zones contain a job, who may serve it.

A job inside no zone of a region that has zones is unassignable (``outside_zones``). A
technician serves the zones listed in its spec, or every zone when it lists none. The solver
has no notion of zones, so they become skill tokens (``zone:<key>`` where the key names the
set of zones containing the job): a technician holds a token when it serves any of that set.
The number of distinct tokens is the number of distinct zone overlaps among open jobs —
small in practice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

from dispatch.model import Zone


@dataclass(frozen=True)
class ZoneIndex:
    ids: tuple[str, ...]
    polygons: tuple[Polygon, ...]

    @classmethod
    def build(cls, zones: Sequence[Zone]) -> ZoneIndex:
        polys = tuple(Polygon(z.polygon) for z in zones)  # (lon, lat) = (x, y)
        for p in polys:
            shapely.prepare(p)
        return cls(tuple(z.id for z in zones), polys)

    @property
    def empty(self) -> bool:
        return not self.ids

    def containing(self, lat: float, lon: float) -> frozenset[str]:
        """Ids of the zones containing the point (boundary counts as inside)."""
        pt = shapely.Point(lon, lat)
        return frozenset(z for z, p in zip(self.ids, self.polygons, strict=True)
                         if p.covers(pt))

    def containing_many(self, lat: Iterable[float], lon: Iterable[float]
                        ) -> list[frozenset[str]]:
        pts = shapely.points(np.asarray(list(lon)), np.asarray(list(lat)))
        inside = [shapely.covers(p, pts) for p in self.polygons]
        return [frozenset(z for z, mask in zip(self.ids, inside, strict=True) if mask[i])
                for i in range(len(pts))]


def zone_token(zone_ids: frozenset[str]) -> str:
    return "zone:" + "+".join(sorted(zone_ids))


def serves(tech_zones: frozenset[str], job_zones: frozenset[str]) -> bool:
    """A technician without zones serves them all."""
    return not tech_zones or bool(tech_zones & job_zones)
