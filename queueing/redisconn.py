"""Redis clients whose commands are packed by hiredis.

redis-py's asyncio connection packs every command in Python (``Connection.pack_command``:
an ``Encoder.encode`` and a few ``bytes.join`` per argument). A booking is one EVALSHA with
18 arguments plus its arq job writes, and profiling the booking rush showed a third of the
client's CPU in that packing. redis-py's synchronous client already packs with
``hiredis.pack_command`` when hiredis is installed (``redis.connection.HiredisRespSerializer``);
its asyncio client does not. ``connect`` gives an asyncio client whose connections do, with
the same bytes on the wire (tested against redis-py's packer) and the same ``DataError`` for
values Redis cannot take (None, bools, objects).

Every long-lived client in the server, the worker and the benches is made here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import (
    AbstractConnection,
    Connection,
    ConnectionPool,
    SSLConnection,
    UnixDomainSocketConnection,
)
from redis.exceptions import DataError

_pack: Callable[[tuple[Any, ...]], bytes] | None
try:
    import hiredis
    _pack = hiredis.pack_command
except (ImportError, AttributeError):  # pragma: no cover - hiredis is a dependency
    _pack = None


class _HiredisPacking:
    """``pack_command`` in C: one bytes object per command."""

    def pack_command(self, *args: Any) -> list[bytes]:
        head = args[0]
        # As redis-py: a command name with a space ("CONFIG GET") is several arguments.
        if isinstance(head, str):
            if " " in head:
                args = tuple(head.encode().split()) + args[1:]
        elif b" " in head:
            args = tuple(head.split()) + args[1:]
        try:
            return [_pack(args)]  # type: ignore[misc]
        except TypeError as exc:
            raise DataError(str(exc)) from exc


class HiredisConnection(_HiredisPacking, Connection):
    pass


class HiredisUnixConnection(_HiredisPacking, UnixDomainSocketConnection):
    pass


class HiredisSSLConnection(_HiredisPacking, SSLConnection):
    pass


def connection_class(url: str) -> type[AbstractConnection] | None:
    """The hiredis-packing connection class for ``url``'s scheme (None without hiredis)."""
    if _pack is None:  # pragma: no cover
        return None
    if url.startswith("unix://"):
        return HiredisUnixConnection
    if url.startswith("rediss://"):
        return HiredisSSLConnection
    return HiredisConnection


def connect(url: str, **kwargs: Any) -> Redis:
    """``Redis.from_url(url, **kwargs)`` with commands packed by hiredis."""
    # parse_url sets the connection class of a unix:// URL over any keyword, so the pool
    # is made with it and given ours before its first connection.
    pool = ConnectionPool.from_url(url, **kwargs)
    cls = connection_class(url)
    if cls is not None:
        pool.connection_class = cls
    client: Redis = Redis.from_pool(pool)  # the client owns the pool and closes it
    return client
