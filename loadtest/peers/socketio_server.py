"""python-socketio with its Redis manager, served by uvicorn: the usual Python way.

    SIO_REDIS_URL=unix:///path/redis.sock uvicorn --factory \
        loadtest.peers.socketio_server:create_app --port PORT --workers W

Each worker holds its own sockets; an emit goes through Redis pub/sub to every worker
(AsyncRedisManager), which delivers it to its local members of the room.
"""

from __future__ import annotations

import os
import time
from typing import Any

import socketio


def create_app() -> Any:
    mgr = socketio.AsyncRedisManager(os.environ["SIO_REDIS_URL"])
    sio = socketio.AsyncServer(async_mode="asgi", client_manager=mgr, transports=["websocket"],
                               cors_allowed_origins=[], logger=False, engineio_logger=False,
                               ping_interval=20, ping_timeout=20, max_http_buffer_size=2**24)

    @sio.on("subscribe")  # type: ignore[untyped-decorator]
    async def subscribe(sid: str, topic: str) -> None:
        await sio.enter_room(sid, topic)
        await sio.emit("subscribed", {"topic": topic, "type": "subscribed"}, to=sid)

    @sio.on("publish")  # type: ignore[untyped-decorator]
    async def publish(sid: str, msg: dict[str, Any]) -> None:
        ts = int(time.time() * 1000)
        for it in msg["items"]:
            await sio.emit("msg", {"topic": it["topic"], "seq": it["seq"], "ts": ts,
                                   "type": it["type"], "data": it["data"]}, room=it["topic"])

    return socketio.ASGIApp(sio)
