"""A websocket closed for a missed keepalive ping (1011) is said in the log, once per 10 s
at most, with how many more there were (a network outage closes every screen at once)."""

from __future__ import annotations

import logging

import pytest

from realtime import ws


def test_ping_timeout_closes_are_logged_once_per_10_s(caplog: pytest.LogCaptureFixture
                                                      ) -> None:
    notes = ws._PingTimeouts()
    with caplog.at_level(logging.INFO, logger="switchboard.ws"):
        notes.note(100.0, ("10.0.0.7", 51000), 20.0)
        notes.note(101.0, ("10.0.0.8", 51001), 20.0)
        notes.note(105.0, None, 20.0)
        notes.note(110.5, ("10.0.0.9", 51002), 20.0)
    lines = [r.getMessage() for r in caplog.records if r.name == "switchboard.ws"]
    assert lines == [
        "websocket of 10.0.0.7:51000 closed (1011): no answer to a keepalive ping within 20 s",
        "websocket of 10.0.0.9:51002 closed (1011): no answer to a keepalive ping within 20 s "
        "(and 2 more since the last such line)"]
