"""No bearer token reaches the server's log: request lines and websocket handshakes carry
``?token=`` (pages, QR links, screens), and uvicorn logs both."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import websockets

from realtime.logfilter import redact
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import running_server


def test_redact_keeps_everything_but_the_token() -> None:
    assert redact("GET /board/demo?token=eyJ.a-b_c&lang=zh") == (
        "GET /board/demo?token=[redacted]&lang=zh")
    assert redact('"WebSocket /ws?access_token=abc" [accepted]') == (
        '"WebSocket /ws?access_token=[redacted]" [accepted]')
    assert redact("/v1/tickets/x?tokens=1&notoken=2") == "/v1/tickets/x?tokens=1&notoken=2"


async def test_access_and_handshake_logs_hold_no_token(redis_server: EmbeddedRedis,
                                                       tmp_path: Path) -> None:
    secret_looking = "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"
    async with running_server(redis_server.url, tmp_path, log_level="info") as s:
        out = io.StringIO()
        handlers = [h for name in ("uvicorn", "uvicorn.access")
                    for h in logging.getLogger(name).handlers]
        assert handlers
        old = [h.setStream(out) for h in handlers]  # type: ignore[attr-defined]
        try:
            token = s.token("display", site="demo")
            r = await s.client.get(f"/board/demo?token={token}")
            assert r.status_code in (200, 404)
            await s.client.get(f"/healthz?token={secret_looking}")
            url = s.base.replace("http", "ws") + f"/ws?token={token}"
            async with websockets.connect(url, origin=None) as ws:
                await ws.send('{"op": "ping", "id": 1}')
                await ws.recv()
        finally:
            for h, stream in zip(handlers, old, strict=True):
                h.setStream(stream)  # type: ignore[attr-defined]
    text = out.getvalue()
    assert "/board/demo?token=[redacted]" in text and "/healthz?token=[redacted]" in text
    assert "WebSocket /ws?token=[redacted]" in text
    assert token not in text and secret_looking not in text


def test_log_level_governs_switchboards_own_logs(tmp_path: Path) -> None:
    """`serve --log-level error` (or SWITCHBOARD_LOG_LEVEL) quiets Switchboard's own INFO
    lines too, not only uvicorn's; the default still says where its Redis is."""
    import os
    import subprocess
    import sys

    from tests.conftest import free_port

    def first_lines(*extra: str, env: dict[str, str] | None = None) -> str:
        # An address that cannot be bound: serve logs its Redis line (INFO), then exits.
        proc = subprocess.run(
            [sys.executable, "-m", "realtime.cli", "serve", "--data-dir",
             str(tmp_path / "d"), "--port", str(free_port()), "--host", "256.0.0.1",
             *extra], capture_output=True, text=True, timeout=60,
            env={**os.environ, **(env or {})})
        return proc.stderr

    assert "INFO switchboard: embedded Redis" in first_lines()
    assert "INFO switchboard" not in first_lines("--log-level", "error")
    assert "INFO switchboard" not in first_lines(env={"SWITCHBOARD_LOG_LEVEL": "warning"})
