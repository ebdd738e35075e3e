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


def test_service_without_a_counter_is_refused(tmp_path: Path) -> None:
    good = json.loads((SCENARIOS / "clinic.json").read_text())
    gp = good["services"][0]["id"]
    path = tmp_path / "bad.json"
    # No counter serves the service at all.
    counters = [c for c in good["counters"] if gp not in c["services"]]
    path.write_text(json.dumps({**good, "counters": counters}))
    with pytest.raises(ScenarioError, match=f"service {gp}: no counter serves it"):
        load(path)
    # Counters serve it, but none is on shift while the doors are open.
    off = [c | {"shifts": [[0, good["open_h"]]]} if gp in c["services"] else c
           for c in good["counters"]]
    path.write_text(json.dumps({**good, "counters": off}))
    with pytest.raises(ScenarioError, match=f"service {gp}: no counter serving it is on shift"):
        load(path)


def test_cli_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "truncated.json"
    path.write_text("{")
    assert main(["--config", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "not valid JSON" in err and "truncated" in err and "Traceback" not in err
    assert len(err.splitlines()) == 1
    for days in ("0", "-1", "x"):
        with pytest.raises(SystemExit) as exit_:
            main(["--config", str(SCENARIOS / "mmc.json"), "--days", days, "--quiet"])
        assert exit_.value.code == 2
        assert "--days" in capsys.readouterr().err


def test_cli_truncated_config_subprocess(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "truncated.json"
    path.write_text("{")
    run = subprocess.run([sys.executable, "-m", "queueing.simulate", "--config", str(path)],
                         capture_output=True, text=True, cwd=SCENARIOS.parents[1], timeout=60)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "not valid JSON" in run.stderr


def test_scenario_struct_roundtrip() -> None:
    sc = load(SCENARIOS / "government.json")
    assert msgspec.json.decode(msgspec.json.encode(sc), type=type(sc)) == sc
