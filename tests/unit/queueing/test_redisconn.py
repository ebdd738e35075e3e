"""Commands packed by hiredis are byte-for-byte what redis-py packs."""

from __future__ import annotations

import pytest
from redis.asyncio.connection import Connection
from redis.exceptions import DataError

from queueing.redisconn import (
    HiredisConnection,
    HiredisSSLConnection,
    HiredisUnixConnection,
    connect,
)

COMMANDS = [
    ("SET", "k", "v"),
    ("EVALSHA", "a" * 40, 1, "{s}:events", 1795000000000, "bench", "ü-ñ", b"\x00\xff\r\n",
     1.5, 0.1, 1e20, -3, 2**70, 1 / 3, ""),
    ("CONFIG GET", "maxmemory"),
    (b"CLIENT SETNAME", b"x"),
    ("XADD", "s", "*", "d", "x" * 100_000),
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: str(a[0]))
def test_same_bytes_as_redis_py(args: tuple[object, ...]) -> None:
    ours = b"".join(HiredisConnection().pack_command(*args))
    theirs = b"".join(Connection().pack_command(*args))
    assert ours == theirs


def test_pipelines_pack_the_same() -> None:
    ours = b"".join(HiredisConnection().pack_commands(COMMANDS))
    theirs = b"".join(Connection().pack_commands(COMMANDS))
    assert ours == theirs


@pytest.mark.parametrize("bad", [None, True, object()])
def test_values_redis_cannot_take_are_a_data_error(bad: object) -> None:
    with pytest.raises(DataError):
        HiredisConnection().pack_command("SET", "k", bad)


@pytest.mark.parametrize(("url", "cls", "kw"), [
    ("unix:///tmp/sb.sock", HiredisUnixConnection, {"path": "/tmp/sb.sock"}),
    ("redis://127.0.0.1:6390/2", HiredisConnection, {"host": "127.0.0.1", "port": 6390,
                                                     "db": 2}),
    ("rediss://127.0.0.1:6390/0", HiredisSSLConnection, {"host": "127.0.0.1"}),
])
def test_connect_picks_the_class_by_scheme(url: str, cls: type, kw: dict[str, object]) -> None:
    client = connect(url, max_connections=7)
    pool = client.connection_pool
    assert pool.connection_class is cls and pool.max_connections == 7
    assert kw.items() <= pool.connection_kwargs.items()
