"""The data's format version: which build's layout the data in Redis is in, so a binary older
than the data never runs on it (an old server restarted on a folder a newer one migrated, an
old worker left running beside an upgraded server).

``sb:meta`` (a hash) holds ``format`` (an integer), ``written_by`` (the release that wrote
it) and ``written_at`` (Redis's time, ms). ``switchboard serve`` stamps it at start, before
anything else touches the data: absent (a new folder, or data from before the stamp) or
older -> this build's migrations run, then ``format`` is set to ``FORMAT``; newer -> the
server refuses to start (exit 2). ``switchboard worker`` reads it before each run: newer ->
refuses (exit 2); older -> waits until a server of its build has migrated the data (a worker
writing in the new format into data an old server still uses, or the reverse, is what the
release notes' "stop the old worker first" guarded by hand); absent -> runs (no server of a
stamping build has started on this data yet: a worker started before its server)."""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from realtime.buildinfo import version

META_KEY = "sb:meta"

# This build's data format. Raise it (and add a line to MIGRATIONS) with any change an older
# build must not run on.
FORMAT = 2

# What moving the data to each format does. Both are lazy today: nothing runs at start-up
# but the stamp.
MIGRATIONS: dict[int, str] = {
    1: "data written before the format was stamped (no sb:meta)",
    2: "suspension records indexed per site (bk:spu) and given their lifetime "
       "(queueing/booking/lua/spmigrate.lua): lazily, once per site and process, when a "
       "server or worker first loads the site's booking schedule",
}

log = logging.getLogger("switchboard")


class Stored(msgspec.Struct, frozen=True):
    """What ``sb:meta`` says (``format`` None: never stamped)."""
    format: int | None
    written_by: str = ""
    written_at_ms: int = 0

    def said(self) -> str:
        if self.format is None:
            return "no data format stamped"
        by = f", written by switchboard {self.written_by}" if self.written_by else ""
        return f"data format {self.format}{by}"


async def read(redis: Any) -> Stored:
    fmt, by, at = await redis.hmget(META_KEY, "format", "written_by", "written_at")
    return Stored(None if fmt is None else int(fmt), _text(by), int(at or 0))


def _text(raw: bytes | str | None) -> str:
    return raw.decode() if isinstance(raw, bytes) else (raw or "")


# Atomic, for two servers starting at once on one (external) Redis: stamp unless newer.
_STAMP = """
local old = redis.call('HGET', KEYS[1], 'format')
if old and tonumber(old) >= tonumber(ARGV[1]) then return {old, 0} end
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'format', ARGV[1], 'written_by', ARGV[2],
           'written_at', tostring(t[1] * 1000 + math.floor(t[2] / 1000)))
return {old or '', 1}
"""


def newer_refusal(stored: Stored, command: str) -> str:
    """The message of a binary older than its data (EN + ZH)."""
    return (f"switchboard {command}: the data is in format {stored.format}"
            f"{f' (written by switchboard {stored.written_by})' if stored.written_by else ''}, "
            f"newer than this binary's format {FORMAT} (switchboard {version()}): a newer "
            "Switchboard has migrated it. Upgrade this binary to that release or later, or, "
            "to go back, stop every server and worker and restore the backup taken before the "
            "upgrade (`switchboard restore`; docs/deployment.md, \"Upgrades\"). Refusing to "
            f"start. / 数据格式为 {stored.format}，比本程序的格式 {FORMAT} 新（已被新版本迁移）："
            "请将本程序升级到该版本或更新版本；如需回退，请停止所有服务与 worker，并恢复升级前的"
            "备份（switchboard restore）。拒绝启动。")


async def stamp(redis: Any) -> tuple[Stored, str | None]:
    """``serve``'s step at start: the data as it was and, when it is newer than this build,
    the refusal to print (nothing written). Otherwise this build's migrations from the
    stored format on have run (lazy today: see MIGRATIONS) and the format is this build's."""
    before = await read(redis)
    if before.format is not None and before.format > FORMAT:
        return before, newer_refusal(before, "serve")
    old, wrote = await redis.eval(_STAMP, 1, META_KEY, FORMAT, version())
    if int(wrote):
        since = 1 if before.format is None else before.format
        pending = [f"{n}: {what}" for n, what in sorted(MIGRATIONS.items()) if n > since]
        log.info("data format %s -> %s (switchboard %s)%s", _text(old) or "unstamped",
                 FORMAT, version(), "; migrations: " + "; ".join(pending) if pending else "")
    elif int(old) > FORMAT:  # a newer server stamped it between the read and the script
        now = await read(redis)
        return now, newer_refusal(now, "serve")
    return before, None


def worker_verdict(stored: Stored) -> str | None:
    """``refuse`` (the data is newer than this worker), ``wait`` (older: its server has not
    migrated it yet) or None (run)."""
    if stored.format is None or stored.format == FORMAT:
        return None
    return "refuse" if stored.format > FORMAT else "wait"


def waiting_message(stored: Stored) -> str:
    return (f"worker: the data is in format {stored.format}, older than this worker's "
            f"{FORMAT} (switchboard {version()}): waiting for a server of this release to "
            "start on it and migrate it (stop the old server, start the new one) / 数据格式"
            f"{stored.format} 比本 worker 的格式 {FORMAT} 旧：等待新版本服务启动并迁移数据")


def describe_binary() -> str:
    """``switchboard --version``'s line."""
    return f"switchboard {version()} (data format {FORMAT})"
