"""The simulator's world with the greedy baseline (no Redis): a small day, deterministic."""

from __future__ import annotations

import asyncio
from pathlib import Path

from dispatch.simworld import GreedyDispatcher, Scenario, TechMix, World, generate, load

SCENARIOS = Path(__file__).parents[3] / "dispatch" / "scenarios"


def small() -> Scenario:
    return Scenario(name="tiny", jobs_per_hour=[0.0] * 8 + [4.0] * 4 + [0.0] * 12,
                    technicians=TechMix(count=4), gps_every_s=120)


def test_generation_is_deterministic() -> None:
    a = generate(small(), 3)
    b = generate(small(), 3)
    assert [(j.id, j.created_ms, j.lat) for j in a[1]] == [(j.id, j.created_ms, j.lat)
                                                          for j in b[1]]
    assert [t.home for t in a[0]] == [t.home for t in b[0]]


def test_greedy_day_serves_jobs_and_reports() -> None:
    sc = small()
    rep = asyncio.run(World(sc, 3, GreedyDispatcher(sc.offer_timeout_s, 1.0)).run())
    assert rep["jobs"] > 5 and rep["served"] >= rep["jobs"] - 2
    assert rep["dispatch_response_mean_s"] is not None and rep["km_driven"] > 0
    assert 0 < rep["utilisation"] < 1
    again = asyncio.run(World(sc, 3, GreedyDispatcher(sc.offer_timeout_s, 1.0)).run())
    assert again == rep


def test_shipped_scenario_is_valid() -> None:
    for path in SCENARIOS.glob("*.json"):
        sc = load(str(path))
        assert len(sc.jobs_per_hour) == 24 and sc.technicians.count > 0
