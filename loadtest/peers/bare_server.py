"""The ceiling: a bare ``websockets`` broadcast server, one process, no Redis, no auth.

    python -m loadtest.peers.bare_server --port PORT

Rooms are sets of connections; a publish encodes each item once and hands it to
``websockets.broadcast``, which writes it to every connection without awaiting any.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import defaultdict
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection, broadcast, serve

rooms: defaultdict[str, set[ServerConnection]] = defaultdict(set)


async def handler(ws: ServerConnection) -> None:
    joined: list[str] = []
    try:
        async for raw in ws:
            msg: dict[str, Any] = json.loads(raw)
            op = msg.get("op")
            if op == "subscribe":
                topic = str(msg["topic"])
                rooms[topic].add(ws)
                joined.append(topic)
                await ws.send(json.dumps({"topic": topic, "type": "subscribed"}))
            elif op == "publish":
                ts = int(time.time() * 1000)
                for it in msg["items"]:
                    room = rooms.get(it["topic"])
                    if room:
                        broadcast(room, json.dumps({"topic": it["topic"], "seq": it["seq"],
                                                    "ts": ts, "type": it["type"],
                                                    "data": it["data"]}))
    except websockets.ConnectionClosed:
        pass
    finally:
        for topic in joined:
            rooms[topic].discard(ws)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, compression=None, max_size=2**24,
                     ping_interval=20, ping_timeout=20, backlog=4096) as server:
        await server.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    try:
        import uvloop
        uvloop.run(main(args.port))
    except ImportError:  # pragma: no cover
        asyncio.run(main(args.port))
