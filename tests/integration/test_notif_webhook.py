"""The webhook notifier against a real local HTTP receiver (the gateway side is a fake:
we do not own it); the HMAC-SHA256 signature is checked the way a receiver would."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from queueing.booking.notify import (
    LogNotifier,
    Notification,
    NotifyFailed,
    WebhookNotifier,
    from_settings,
    sign,
    verify_signature,
)
from tests.conftest import free_port

SECRET = "hook-secret-0123456789"


@dataclass
class Receiver:
    url: str
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    status: int = 204


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    port = free_port()
    rec = Receiver(f"http://127.0.0.1:{port}/hook")

    async def hook(request: Request) -> Response:
        rec.got.append((dict(request.headers), await request.body()))
        return Response(status_code=rec.status)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    for _ in range(1000):  # uvicorn has no "started" event to wait on
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield rec
    finally:
        server.should_exit = True
        await task


def note(**kw: object) -> Notification:
    base: dict[str, object] = {"id": "demo:reminder:b1:7200:1", "kind": "reminder",
                               "site": "demo", "to": "+8613800000000",
                               "text": {"en": "Reminder"}, "at": "2026-11-18T10:00:00+08:00",
                               "booking": "demo.0123456789ab"}
    base.update(kw)
    return Notification(**base)  # type: ignore[arg-type]


async def test_posts_signed_json() -> None:
    async with receiver() as rec:
        n = WebhookNotifier(rec.url, SECRET, timeout_s=5)
        await n.send(note())
        await n.aclose()
    (headers, body), = rec.got
    assert headers["content-type"] == "application/json"
    assert headers["x-switchboard-delivery"] == "demo:reminder:b1:7200:1"
    assert headers["x-switchboard-kind"] == "reminder"
    assert verify_signature(SECRET, headers, body, time.time())
    assert b'"to":"+8613800000000"' in body
    # What a receiver must refuse: another secret, a changed body, an old timestamp.
    assert not verify_signature("wrong" + SECRET, headers, body, time.time())
    assert not verify_signature(SECRET, headers, body.replace(b"Reminder", b"Remindxr"),
                                time.time())
    assert not verify_signature(SECRET, headers, body, time.time() + 3600)
    ts = headers["x-switchboard-timestamp"]
    assert headers["x-switchboard-signature"] == sign(SECRET, ts, body)


async def test_failures_are_reported_for_retry() -> None:
    async with receiver() as rec:
        rec.status = 503
        n = WebhookNotifier(rec.url, SECRET, timeout_s=5)
        with pytest.raises(NotifyFailed, match="503"):
            await n.send(note())
        await n.aclose()
    gone = WebhookNotifier(f"http://127.0.0.1:{free_port()}/hook", SECRET, timeout_s=2)
    with pytest.raises(NotifyFailed, match="unreachable"):
        await gone.send(note())
    await gone.aclose()


async def test_log_notifier_and_settings() -> None:
    log = from_settings(None, None, 5)
    assert isinstance(log, LogNotifier)
    await log.send(note())
    assert log.sent[0].id == "demo:reminder:b1:7200:1"
    with pytest.raises(ValueError, match="SECRET"):
        from_settings("http://127.0.0.1:1/hook", None, 5)
