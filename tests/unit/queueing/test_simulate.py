"""The simulator: Erlang C, determinism by seed, scenario files, a one-day smoke run each."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from queueing.sim.config import ScenarioError, load
from queueing.sim.erlang import erlang_b, erlang_c, mmc_mean_wait
from queueing.sim.run import simulate
from queueing.simulate import main

SCENARIOS = Path(__file__).resolve().parents[3] / "queueing" / "scenarios"


def test_erlang_small_cases() -> None:
    assert erlang_b(1, 0.5) == pytest.approx(0.5 / 1.5)
    assert erlang_c(1, 0.7) == pytest.approx(0.7)  # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    lam, mu = 0.7, 1.0
    assert mmc_mean_wait(lam, mu, 1) == pytest.approx(lam / (mu * (mu - lam)))
    assert mmc_mean_wait(2.0, 1.0, 2) == float("inf")


def test_erlang_c_m_m_5() -> None:
    # c = 5, a = 3.75 erlangs: P(wait) from the textbook sum, 0.4569...
    a, c = 3.75, 5
    import math

    terms = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) * c / (c - a)
    assert erlang_c(c, a) == pytest.approx(top / (terms + top))


@pytest.mark.parametrize("name", ["mmc", "clinic", "government"])
def test_one_day_of_each_scenario(name: str, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    assert main(["--config", str(SCENARIOS / f"{name}.json"), "--days", "1", "--quiet",
                 "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["tickets"] > 50 and report["mean_wait_s"] > 0
    assert set(report["predictors"]) == {"switchboard", "ql", "les", "hol", "hol_refined",
                                         "rolling"}
    for name_, m in report["predictors"].items():
        assert {"mae_s", "rmse_s", "bias_s", "p_over"} <= set(m)
        assert ("coverage_p10_p90" in m) == (name_ == "switchboard")
    assert report["counts"]["unserved"] == 0
    assert ("erlang_c" in report) == (name == "mmc")


def test_deterministic_by_seed() -> None:
    sc = load(SCENARIOS / "clinic.json")
    a = simulate(sc, seed=3, days=2)
    b = simulate(sc, seed=3, days=2)
    c = simulate(sc, seed=4, days=2)
    assert a == b
    assert a["predictors"] != c["predictors"]


def test_oracle_smoke() -> None:
    sc = load(SCENARIOS / "clinic.json")
    report = simulate(sc, days=1, oracle_every=25, oracle_reps=5)
    assert report["oracle"]["oracle"]["n"] == report["oracle"]["switchboard"]["n"] > 0


def test_scenario_errors(tmp_path: Path) -> None:
    good = json.loads((SCENARIOS / "clinic.json").read_text())
    for change, message in (
        ({"typo_key": 1}, "unknown field"),
        ({"close_h": 7}, "open_h must be before close_h"),
        ({"counters": [{"id": "x", "services": ["nope"], "shifts": [[8, 9]]}]},
         "unknown service"),
    ):
        path = tmp_path / "bad.json"
        path.write_text(json.dumps({**good, **change}))
        with pytest.raises(ScenarioError, match=message):
            load(path)
    assert main(["--config", str(tmp_path / "missing.json"), "--quiet"]) == 2


def test_scenario_struct_roundtrip() -> None:
    sc = load(SCENARIOS / "government.json")
    assert msgspec.json.decode(msgspec.json.encode(sc), type=type(sc)) == sc
