"""Command-line counts, rates and durations are refused by argparse (exit 2) before a
server starts or a simulation runs."""

from __future__ import annotations

import argparse

import pytest

from loadtest.cli import main as loadtest_main
from queueing.argtypes import number, whole
from queueing.simulate import main as simulate_main


def test_whole_numbers() -> None:
    assert whole(1)("3") == 3 and whole(0)("0") == 0
    for raw, message in (("0", "at least 1, got 0"), ("-2", "at least 1"),
                         ("1.5", "not a whole number"), ("x", "not a whole number")):
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            whole(1)(raw)


def test_numbers() -> None:
    assert number(0)("0.5") == 0.5 and number(0, above=False)("0") == 0.0
    for raw, message in (("0", "above 0"), ("-1", "above 0"), ("nan", "finite"),
                         ("inf", "finite"), ("fast", "not a number")):
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            number(0)(raw)


@pytest.mark.parametrize("argv", [
    ["boards", "--screens", "0", "--calls-per-s", "1"],
    ["boards", "--screens", "5", "--calls-per-s", "-1"],
    ["trackers", "--trackers", "10", "--calls-per-s", "1", "--services", "0"],
    ["devices", "--devices", "2", "--hz", "nan"],
    ["boards", "--screens", "2", "--calls-per-s", "1", "--duration", "0"],
    ["rush", "--attempts", "10", "--slots", "2", "--concurrency", "0"],
    ["mixed", "--workers", "0"],
])
def test_loadtest_refuses_before_starting_anything(argv: list[str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        loadtest_main(argv)
    assert exc.value.code == 2
    assert "error: argument --" in capsys.readouterr().err


def test_simulate_refuses_zero_days(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        simulate_main(["--config", "queueing/scenarios/clinic.json", "--days", "0"])
    assert exc.value.code == 2 and "--days: must be at least 1" in capsys.readouterr().err
