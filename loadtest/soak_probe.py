"""What the soak test samples every few seconds, from outside the server: each process's
RSS, open descriptors and threads (``/proc``), the server's ``/metrics``, and Redis
(``INFO``, ``DBSIZE``, every key grouped by pattern with its count, and the longest stream,
sorted set, hash or list of each group with its ``MEMORY USAGE``).

Every value is a number in one flat dict, named so the unit is in the name
(``server_rss_mb``, ``redis:sb:{site:*}:events:len``); ``loadtest.soak_stats`` turns the
samples into growth per hour.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import httpx
from redis.asyncio import Redis

from loadtest.soak_stats import key_group, parse_metrics

# At most this many keys are scanned per sample (a server with more is not a soak test's).
MAX_KEYS = 200_000
LENGTH = {"stream": "XLEN", "zset": "ZCARD", "hash": "HLEN", "list": "LLEN", "set": "SCARD"}
# /metrics lines kept as levels (gauges); counters only go up and say nothing about leaks.
GAUGES = ("switchboard_connections", "switchboard_subscriptions",
          "switchboard_hub_table_entries", "process_open_fds", "process_resident_memory_bytes")


def proc_stats(pid: int) -> dict[str, float]:
    """RSS (MB), open descriptors and threads of one process, read from /proc."""
    out: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in open(f"/proc/{pid}/status"):  # noqa: SIM115 - read whole at once
            if line.startswith("VmRSS:"):
                out["rss_mb"] = round(int(line.split()[1]) / 1024, 2)
            elif line.startswith("Threads:"):
                out["threads"] = int(line.split()[1])
    with contextlib.suppress(OSError):
        out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return out


def metrics_levels(text: str) -> dict[str, float]:
    """The gauge lines of /metrics, named for the soak's table."""
    out = {}
    for name, v in parse_metrics(text).items():
        if name.startswith(GAUGES):
            short = (name.replace("switchboard_hub_table_entries{table=\"", "hub_")
                     .replace("\"}", "").replace("switchboard_", "metrics_"))
            if short == "process_resident_memory_bytes":
                out["metrics_rss_mb"] = round(v / 2**20, 2)
            else:
                out[short] = v
    return out


async def server_metrics(http: httpx.AsyncClient) -> dict[str, float]:
    try:
        r = await http.get("/metrics", timeout=10)
    except httpx.HTTPError:
        return {"metrics_scrape_failed": 1.0}
    return metrics_levels(r.text)


async def redis_stats(redis: Redis, expiring: set[str]) -> dict[str, float]:
    """Memory, key counts, and per key group: how many, the longest, its memory.
    Adds to ``expiring`` the groups whose sampled keys all carry a TTL."""
    info = await redis.info("memory")
    out: dict[str, float] = {"redis_used_mb": round(info["used_memory"] / 2**20, 3),
                             "redis_rss_mb": round(info["used_memory_rss"] / 2**20, 2)}
    ks = await redis.info("keyspace")
    db = ks.get("db0") or {}
    out["redis_keys"] = float(await redis.dbsize())
    out["redis_keys_with_ttl"] = float(db.get("expires", 0))
    out["redis_keys_persistent"] = out["redis_keys"] - out["redis_keys_with_ttl"]
    groups: dict[str, list[bytes]] = {}
    n = 0
    async for key in redis.scan_iter(count=1000):
        groups.setdefault(key_group(key.decode(errors="replace")), []).append(key)
        n += 1
        if n >= MAX_KEYS:
            break
    for group, members in groups.items():
        out[f"redis:{group}:keys"] = float(len(members))
        await _group_sizes(redis, group, members, out, expiring)
    return out


async def _group_sizes(redis: Redis, group: str, members: list[bytes],
                       out: dict[str, float], expiring: set[str]) -> None:
    """The longest member of a group (by its type's length) and the group's memory, from
    at most 200 members (a group of 10,000 ticket hashes is measured on a sample)."""
    sample = members[:200]
    async with redis.pipeline(transaction=False) as pipe:
        for k in sample:
            pipe.type(k)
            pipe.pttl(k)
        typed = await pipe.execute()
    types = [t.decode() if isinstance(t, bytes) else str(t) for t in typed[0::2]]
    ttls = typed[1::2]
    if ttls and all(int(x) > 0 for x in ttls):
        expiring.add(f"redis:{group}:keys")
    async with redis.pipeline(transaction=False) as pipe:
        for k, t in zip(sample, types, strict=True):
            pipe.execute_command(LENGTH.get(t, "STRLEN"), k)
            pipe.memory_usage(k)
        sized = await pipe.execute()
    lengths = [int(x or 0) for x in sized[0::2]]
    mem = [int(x or 0) for x in sized[1::2]]
    if types and types[0] in LENGTH:
        out[f"redis:{group}:max_len"] = float(max(lengths, default=0))
    if group.endswith(":events"):  # each site's and region's stream on its own
        for k, n in zip(sample, lengths, strict=True):
            out[f"redis:{k.decode(errors='replace')}:len"] = float(n)
    # Memory of the group, scaled up from the sample.
    out[f"redis:{group}:kb"] = round(sum(mem) * len(members) / max(1, len(sample)) / 1024, 1)


def processes_of(target: Any) -> dict[str, int]:
    """Server-side pids by a short role name: ``server`` (the hub), ``redis``, ``worker``."""
    out: dict[str, int] = {}
    for role, p in target.processes():
        name = {"server": "server", "supervisor": "server", "worker": "server",
                "arq worker": "worker", "redis": "redis"}.get(role, role)
        if role == "supervisor":
            continue  # with --workers 1 serve is one process; supervisors hold no clients
        out.setdefault(name, p.pid)
    return out


async def sample(t: float, pids: dict[str, int], http: httpx.AsyncClient,
                 redis: Redis | None, expiring: set[str], extra: dict[str, float]
                 ) -> dict[str, Any]:
    values: dict[str, float] = {}
    for role, pid in pids.items():
        for k, v in proc_stats(pid).items():
            values[f"{role}_{k}"] = v
    values.update(await server_metrics(http))
    if redis is not None:
        values.update(await redis_stats(redis, expiring))
    values.update(extra)
    return {"t": round(t, 2), "values": values}
