"""The simulator's world with the greedy baseline (no Redis): a small day, deterministic."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

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


def test_bad_scenarios_are_refused_with_the_field_not_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from dispatch.simulate import check, main
    check(load(str(SCENARIOS / "city.json")))  # the shipped one passes
    cases = [({"timezone": "Mars/Base"}, "timezone"), ({"date": "2026-02-30"}, "date"),
             ({"duration_min": [90, 30]}, "duration_min"),
             ({"technicians": {"shift": ["12:00", "08:00"]}}, "technicians.shift"),
             ({"technicians": {"shift": ["8h", "18:00"]}}, "technicians.shift"),
             ({"policy": {"nonsense": 1}}, "policy"),
             ({"batches": [{"org": "a", "hour": 9, "jobs": 2, "centre": [52.37, 4.9],
                            "duration_min": [0, 10]}]}, "batches[0].duration_min")]
    for body, field in cases:
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(body))
        assert main(["--config", str(path)]) == 2, body
        err = capsys.readouterr().err
        assert err.startswith("dispatch.simulate: ") and field in err, (body, err)
        assert "Traceback" not in err
