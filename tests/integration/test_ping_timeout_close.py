"""A websocket client that answers no keepalive ping is closed with 1011 "keepalive ping
timeout", as uvicorn does; that close is now counted (``switchboard_ping_timeouts_total``)
and logged. It was invisible: the slow-close counter stayed at 0, the log said nothing."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import struct
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from realtime import ws
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import running_server


def _count() -> float:
    return REGISTRY.get_sample_value("switchboard_ping_timeouts_total") or 0.0


async def test_a_client_answering_no_ping_is_closed_1011_counted_and_logged(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(ws, "_ping_timeouts", ws._PingTimeouts())  # no earlier line's limit
    async with running_server(redis_server.url, tmp_path, ws_ping_interval_s=0.3,
                              ws_ping_timeout_s=0.3) as s:
        before = _count()
        host, port = s.base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(f"GET /ws?token={s.token('admin')} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        await writer.drain()
        with caplog.at_level(logging.INFO, logger="switchboard.ws"):
            # Reads what comes (pings too) and answers none of them, until the server closes.
            got = await asyncio.wait_for(reader.read(-1), 15)
        writer.close()
        assert got.startswith(b"HTTP/1.1 101"), got[:200]
        # The close frame: 0x88, its length, then code 1011 and the reason.
        assert b"\x88" + bytes([2 + len(b"keepalive ping timeout")]) + struct.pack(
            "!H", 1011) + b"keepalive ping timeout" in got, got[-80:]
        assert _count() == before + 1
    lines = [r for r in caplog.records if r.name == "switchboard.ws"]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO, lines
    assert "closed (1011): no answer to a keepalive ping within 0.3 s" in lines[0].getMessage()
