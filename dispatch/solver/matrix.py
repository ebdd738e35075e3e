"""Travel matrices from coordinates, for generated cities and tests.

Production matrices come from a road router; this is the fallback the benchmarks use: the
great-circle (haversine) distance times a detour factor (roads are not straight), divided by a
typical urban speed.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

EARTH_RADIUS_M = 6_371_000.0


def haversine_m(lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.float64]:
    """Great-circle distances in metres between all pairs of points (degrees in)."""
    phi, lam = np.radians(lat), np.radians(lon)
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    a = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


def travel_matrices(
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    detour: float = 1.3,
    speed_mps: float = 8.0,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(duration in whole seconds, distance in whole metres), both int64 with a zero diagonal."""
    road = haversine_m(lat, lon) * detour
    distance = np.rint(road).astype(np.int64)
    duration = np.ceil(road / speed_mps).astype(np.int64)
    return duration, distance
