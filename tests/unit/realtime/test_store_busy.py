"""Redis saying "not now" (BUSY, LOADING, ...) is a temporary 503 naming why, not a 500
with a traceback."""

from __future__ import annotations

import json
import logging
import math

import pytest
from redis.exceptions import (
    BusyLoadingError,
    ConnectionError,
    MasterDownError,
    ResponseError,
    TryAgainError,
)
from starlette.requests import Request

from realtime import errors

BUSY_TEXT = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."


@pytest.mark.parametrize("exc,reason", [
    # As redis-server 7.0 and redis-py 5.3 gave them.
    (ResponseError(BUSY_TEXT), "busy"),
    (ResponseError("BUSY Redis is busy running a module command."), "busy"),
    (BusyLoadingError("Redis is loading the dataset in memory"), "loading"),
    (ResponseError("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set "
                   "to 'no'."), "primary_down"),
    (MasterDownError("Link with MASTER is down"), "primary_down"),
    (ResponseError("NOREPLICAS Not enough good replicas to write."), "no_replicas"),
    (ResponseError("NOREPLICAS Not enough good replicas to write. script: c1e4, on "
                   "@user_script:1."), "no_replicas"),
    (TryAgainError("Multiple keys request during rehashing of slot"), "try_again"),
    # Answers about a key, not about the store's state.
    (ResponseError("BUSYKEY Target key name already exists."), None),
    (ResponseError("BUSYGROUP Consumer Group name already exists"), None),
    (ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"), None),
    (ConnectionError("Connection refused"), None),
])
def test_busy_replies_are_named(exc: Exception, reason: str | None) -> None:
    assert errors.busy_reason(exc) == reason


def _request() -> Request:
    return Request({"type": "http", "method": "POST", "path": "/v1/sites/demo/tickets",
                    "headers": [], "query_string": b"", "scheme": "http",
                    "server": ("127.0.0.1", 80)})


async def test_busy_is_a_temporary_503_logged_once_per_10_s(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """It was 500 ``internal`` with a traceback for every request of a 7-second script."""
    monkeypatch.setattr(errors, "_last_busy_log", [-math.inf])
    with caplog.at_level(logging.WARNING, logger="switchboard.http"):
        answers = [await errors.store_refused(_request(), ResponseError(BUSY_TEXT))
                   for _ in range(3)]
    for r in answers:
        assert r.status_code == 503 and r.headers["Retry-After"] == "1"
        body = json.loads(bytes(r.body))
        assert body["code"] == "unavailable" and body["temporary"] is True
        assert body["details"] == {"reason": "busy"} and "busy" in body["message"]
    lines = [r for r in caplog.records if r.name == "switchboard.http"]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING, lines
    assert "store busy (busy)" in lines[0].getMessage() and lines[0].exc_info is None


async def test_loading_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """LOADING (a ConnectionError to redis-py) was a bare "unreachable" 503."""
    monkeypatch.setattr(errors, "_last_busy_log", [-math.inf])
    r = await errors.store_unavailable(_request(), BusyLoadingError("Redis is loading"))
    assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    assert json.loads(bytes(r.body))["details"] == {"reason": "loading"}


async def test_another_error_reply_is_still_a_500(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="switchboard.http"):
        r = await errors.store_refused(_request(), ResponseError("WRONGTYPE Operation"))
    assert r.status_code == 500 and json.loads(bytes(r.body))["code"] == "internal"
