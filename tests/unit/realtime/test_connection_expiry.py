"""A connection closed for a revoked token lets go of its expiry timer (it held the whole
connection in the event loop's timer heap until the token's exp: a year for a kiosk)."""

from __future__ import annotations

import asyncio

from realtime.auth import Principal
from realtime.hub.hub import Connection


async def test_expire_cancels_the_pending_expiry_timer() -> None:
    sent: list[object] = []

    async def send(msg: dict[str, object]) -> None:
        sent.append(msg)

    conn = Connection(send, "json", 100)
    conn.principal = Principal("display", "display:demo", site="demo")
    timer = asyncio.get_running_loop().call_later(3600, conn.expire, 4001, "token expired")
    conn.expiry = timer
    conn.expire(4001, "token revoked", "the token has been revoked")
    assert timer.cancelled() and conn.expiry is None and conn.principal is None
    conn.stop()
