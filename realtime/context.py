"""What one server process holds: settings, the Redis connection, the engines, the hub."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from starlette.requests import HTTPConnection

from queueing.engine import Actor, Engine
from realtime.auth import Principal, verify
from realtime.revocation import Revocations
from realtime.settings import Settings


@dataclass
class Context:
    settings: Settings
    redis: Redis
    engine: Engine
    secret: str
    hub: Any = None  # realtime.hub.Hub, attached at start-up
    revocations: Revocations = field(default_factory=Revocations)

    def verify(self, token: str | None) -> Principal:
        """The token's principal: signed by this server, not expired, not revoked."""
        return verify(self.secret, token, self.revocations)


def ctx(conn: HTTPConnection) -> Context:
    c: Context = conn.app.state.sb
    return c


def bearer(conn: HTTPConnection) -> str | None:
    """The token from ``Authorization: Bearer …`` or, for pages and QR links, ``?token=``."""
    header = conn.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return conn.query_params.get("token")


def principal(conn: HTTPConnection) -> Principal:
    return ctx(conn).verify(bearer(conn))


def actor(p: Principal, via: str = "api") -> Actor:
    return Actor(subject=p.subject, via=via)
