"""Travel model, matrix providers and zones (pure)."""

from __future__ import annotations

import numpy as np

from dispatch.geo import (
    GeodesicProvider,
    OsrmProvider,
    SpeedProfile,
    geodesic_m,
    great_circle_matrix,
    haversine_m,
    provider_for,
)
from dispatch.model import Zone
from dispatch.zones import ZoneIndex, serves, zone_token

A, B = (52.3702, 4.8952), (52.3791, 4.9003)


def test_single_pair_and_matrix_agree() -> None:
    assert abs(haversine_m(A, B) - geodesic_m(A, B)) / geodesic_m(A, B) < 0.005
    rng = np.random.default_rng(1)
    lat, lon = 52.37 + rng.normal(0, 0.05, 50), 4.9 + rng.normal(0, 0.08, 50)
    m = great_circle_matrix(lat, lon, lat, lon)
    for i, j in ((0, 1), (3, 40), (17, 9)):
        assert abs(m[i, j] - haversine_m((lat[i], lon[i]), (lat[j], lon[j]))) < 1.0
    dur, dist = GeodesicProvider().matrices(lat, lon, 12)
    assert dur.dtype == np.int64 and dist.dtype == np.int64
    assert (np.diag(dur) == 0).all() and (dur == dur.T).all()
    # 30 km/h, detour 1.3: duration = road metres / 8.33 m/s, rounded up.
    assert abs(dur[3, 40] - np.ceil(dist[3, 40] / (30 / 3.6))) <= 1


def test_speed_profile_by_hour() -> None:
    rush = SpeedProfile(30.0, 1.3, tuple(0.5 if h in (8, 17) else 1.0 for h in range(24)))
    p = GeodesicProvider(rush)
    assert p.pair(A, B, 8)[0] > 1.9 * p.pair(A, B, 12)[0]
    assert p.pair(A, B, 8)[1] == p.pair(A, B, 12)[1]  # distance does not depend on the hour


def test_osrm_falls_back_when_unreachable() -> None:
    p = provider_for(30.0, 1.3, "http://127.0.0.1:9/", None)
    assert isinstance(p, OsrmProvider)
    lat, lon = np.array([A[0], B[0]]), np.array([A[1], B[1]])
    dur, dist = p.matrices(lat, lon, 12)
    want = GeodesicProvider().matrices(lat, lon, 12)
    assert (dur == want[0]).all() and (dist == want[1]).all()
    assert p.pair(A, B, 12) == GeodesicProvider().pair(A, B, 12)


def test_zones() -> None:
    west = Zone("west", [(4.80, 52.30), (4.90, 52.30), (4.90, 52.45), (4.80, 52.45)])
    east = Zone("east", [(4.89, 52.30), (5.00, 52.30), (5.00, 52.45), (4.89, 52.45)])
    idx = ZoneIndex.build([west, east])
    assert idx.containing(52.37, 4.85) == {"west"}
    assert idx.containing(52.37, 4.895) == {"west", "east"}
    assert idx.containing(52.60, 4.85) == frozenset()
    assert idx.containing_many([52.37, 52.37, 52.6], [4.85, 4.95, 4.85]) == [
        frozenset({"west"}), frozenset({"east"}), frozenset()]
    assert zone_token(frozenset({"west", "east"})) == "zone:east+west"
    assert serves(frozenset(), frozenset({"east"}))  # no zones listed: serves all
    assert not serves(frozenset({"west"}), frozenset({"east"}))
    assert ZoneIndex.build([]).empty
