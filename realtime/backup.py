"""``switchboard backup`` and ``switchboard restore``: the whole state in one file, and back.

Backup asks Redis for a point-in-time snapshot over the replication protocol
(``redis-cli --rdb``, shipped beside every redis-server): consistent across every key,
taken while the server keeps serving, from the embedded Redis (its socket in the data
folder) or any ``--redis-url``. The archive (``.tar.gz``, mode 0600: it holds personal
data) has ``dump.rdb``, the data folder's token ``secret`` when there is one (so the
kiosks', boards' and devices' links keep working after a restore) and ``manifest.json``.

Restore writes an archive into a data folder whose server is stopped (it takes the same
lock as ``serve``). What the folder held is moved, not deleted, to
``before-restore-<UTC time>/``. The embedded Redis runs with an append-only file, which it
loads in preference to a snapshot, so restore starts a Redis of its own on the snapshot and
turns the append-only file on (Redis rewrites it from the loaded data), then stops it:
the next ``serve`` starts exactly where the backup was taken.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlsplit, urlunsplit

import redis

from realtime.redisproc import EmbeddedRedis, die_with_parent, find_binary, private_dir

FORMAT = 1
MEMBERS = ("manifest.json", "dump.rdb", "secret")
# What a data folder holds that a restore replaces (the lock and logs stay; the secret
# only when the archive brings one).
STATE = ("appendonlydir", "appendonly.aof", "dump.rdb")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why (exit status 1)."""


@dataclass(frozen=True)
class Restored:
    keys: int
    moved_to: Path | None
    secret: bool  # the archive's secret replaced the folder's
    archive_secret: bool  # the archive had one


def redis_cli(server: str) -> str:
    """The redis-cli next to ``server`` (same build), else the one on PATH."""
    beside = Path(server).with_name("redis-cli")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("redis-cli")
    if found is None:
        raise BackupError("no redis-cli found next to redis-server or on PATH")
    return found


def backup(out: Path, url: str, data_dir: Path | None, server: str | None = None) -> dict[str, Any]:
    """Write the archive to ``out``; returns its manifest."""
    cli = redis_cli(find_binary(server))
    target, env = _cli_target(url)
    client = _client(url)
    try:
        info = _info(client, "server")
        keys = _dbsize(client)
    except (redis.RedisError, OSError) as exc:
        raise BackupError(f"Redis at {safe_url(url)} is unreachable ({exc}); is the server "
                          "running?") from None
    finally:
        client.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    # The snapshot is written next to the archive (not /tmp, often in memory) and streamed
    # into it: a large dataset is never held in this process's memory.
    with tempfile.TemporaryDirectory(prefix=".switchboard-backup-", dir=out.parent) as tmp:
        rdb = Path(tmp) / "dump.rdb"
        try:
            run = subprocess.run([cli, *target, "--rdb", str(rdb)], capture_output=True,
                                 text=True, timeout=3600, env=env)
        except subprocess.TimeoutExpired:
            raise BackupError("redis-cli --rdb took more than an hour; gave up") from None
        if run.returncode != 0 or not rdb.is_file() or rdb.stat().st_size == 0:
            raise BackupError(f"redis-cli --rdb failed: {(run.stderr or run.stdout).strip()}")
        secret = data_dir / "secret" if data_dir is not None else None
        manifest = {
            "format": FORMAT, "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            # Keys when the backup began (the server kept writing; the snapshot is a moment
            # later): for the operator's eye, not a checksum.
            "redis_version": info.get("redis_version"), "keys_at_start": keys,
            "rdb_bytes": rdb.stat().st_size,
            "secret": bool(secret is not None and secret.is_file()),
        }
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=2).encode())
                tar.add(rdb, arcname="dump.rdb", filter=_private)
                if manifest["secret"]:
                    assert secret is not None
                    _add_bytes(tar, "secret", secret.read_bytes())
            partial.replace(out)  # a crash mid-way never leaves a truncated file under the name
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise BackupError(f"cannot write {out}: {exc}") from None
    return manifest


def restore(archive: Path, data_dir: Path, server: str | None = None,
            keep_secret: bool = False, timeout_s: float = 600.0) -> Restored:
    """Replace the state in ``data_dir`` (its server stopped) with the archive's.

    Everything is prepared in a staging folder inside ``data_dir`` first (the archive
    unpacked, loaded by a private Redis, its append-only file written); only when that
    worked is the folder's state moved aside and the new one moved in, so a bad archive,
    a too-old redis-server or an interrupted restore leaves the folder as it was."""
    private_dir(data_dir)
    guard = EmbeddedRedis(data_dir, server)
    guard.lock()  # DataDirInUse while a serve runs on the folder
    stage = data_dir / f"restore-staging-{_stamp()}"
    try:
        stage.mkdir(mode=0o700)
        has_secret = _unpack(archive, stage)
        keys = _rewrite_aof(stage, find_binary(server), timeout_s)
        for name in ("dump.rdb", "restore-redis.log", "redis.pid"):
            (stage / name).unlink(missing_ok=True)
        use_secret = has_secret and not keep_secret
        if not use_secret:
            (stage / "secret").unlink(missing_ok=True)
        moved = _swap(data_dir, stage)
    except OSError as exc:
        raise BackupError(f"restore into {data_dir} failed ({exc}); the folder is as it was"
                          ) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        guard.unlock()
    return Restored(keys, moved, use_secret, has_secret)


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    return info


def safe_url(url: str) -> str:
    """``url`` without its password (it goes in error messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _cli_target(url: str) -> tuple[list[str], dict[str, str]]:
    """redis-cli's arguments for ``url``; a password goes in its environment (REDISCLI_AUTH),
    not on the command line where every local account could read it."""
    env = dict(os.environ)
    if url.startswith("unix://"):
        return ["-s", url.removeprefix("unix://")], env
    parts = urlsplit(url)
    if parts.password is not None:
        env["REDISCLI_AUTH"] = unquote(parts.password)
        user = f"{parts.username}@" if parts.username else ""
        host = parts.netloc.rsplit("@", 1)[-1]
        url = urlunsplit(parts._replace(netloc=user + host))
    return ["-u", url], env


def _client(url: str) -> redis.Redis:
    if url.startswith("unix://"):
        return redis.Redis(unix_socket_path=url.removeprefix("unix://"), socket_timeout=10)
    return redis.Redis.from_url(url, socket_timeout=10)


# redis-py's sync client is typed as sync-or-async; these are the sync answers.
def _info(client: redis.Redis, section: str) -> dict[str, Any]:
    return cast(dict[str, Any], client.info(section))


def _dbsize(client: redis.Redis) -> int:
    return int(cast(int, client.dbsize()))


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = _private(tarfile.TarInfo(name))
    info.size = len(data)
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _unpack(archive: Path, stage: Path) -> bool:
    """Check the archive (known regular members only, a manifest of this format) and write
    ``dump.rdb`` and ``secret`` into ``stage``, streamed. True if it holds a secret."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            seen: dict[str, tarfile.TarInfo] = {}
            for m in tar.getmembers():
                if m.name not in MEMBERS or not m.isfile() or m.name in seen:
                    raise BackupError(f"{archive}: unexpected member {m.name!r}; "
                                      "not a switchboard backup")
                seen[m.name] = m
            if "manifest.json" not in seen or "dump.rdb" not in seen:
                raise BackupError(f"{archive}: no manifest.json or dump.rdb; "
                                  "not a switchboard backup")
            if seen["manifest.json"].size > 65536 or seen.get(
                    "secret", seen["manifest.json"]).size > 65536:
                raise BackupError(f"{archive}: not a switchboard backup (oversized members)")
            raw = tar.extractfile(seen["manifest.json"])
            assert raw is not None
            try:
                manifest = json.loads(raw.read())
            except ValueError:
                manifest = None
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                fmt = manifest.get("format") if isinstance(manifest, dict) else None
                raise BackupError(f"{archive}: unknown backup format {fmt!r}")
            for name in ("dump.rdb", "secret"):
                if name in seen:
                    src = tar.extractfile(seen[name])
                    assert src is not None
                    fd = os.open(stage / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
            return "secret" in seen
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise BackupError(f"{archive}: cannot read it as a backup ({exc})") from None
    except FileNotFoundError:
        raise BackupError(f"{archive}: no such file") from None


def _swap(data_dir: Path, stage: Path) -> Path | None:
    """Move the folder's state aside and the staged one in; on a failure half-way, put
    everything back. Returns where the old state went (None if there was none)."""
    incoming = [p.name for p in stage.iterdir()]
    old = [n for n in {*STATE, *incoming} if (data_dir / n).exists()]
    dest = data_dir / f"before-restore-{_stamp()}" if old else None
    done: list[tuple[Path, Path]] = []
    try:
        if dest is not None:
            dest.mkdir(mode=0o700)
            for name in old:
                (data_dir / name).rename(dest / name)
                done.append((data_dir / name, dest / name))
        for name in incoming:
            (stage / name).rename(data_dir / name)
            done.append((stage / name, data_dir / name))
    except OSError:
        for a, b in reversed(done):
            b.rename(a)
        if dest is not None:
            dest.rmdir()
        raise
    return dest


def _rewrite_aof(stage: Path, binary: str, timeout_s: float) -> int:
    """Load ``stage/dump.rdb`` in a private Redis, have it write its append-only file into
    ``stage``, stop it; returns the keys loaded. The Redis dies with this process."""
    sockdir = Path(tempfile.mkdtemp(prefix="sbr-"))  # short: unix socket paths are limited
    sock = sockdir / "s.sock"
    log = stage / "restore-redis.log"

    def tail() -> str:
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    proc = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
         "--dir", str(stage), "--dbfilename", "dump.rdb", "--appendonly", "no",
         "--save", "", "--daemonize", "no", "--logfile", str(log),
         "--pidfile", str(stage / "redis.pid")],
        preexec_fn=die_with_parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(unix_socket_path=str(sock), socket_timeout=30)
    try:
        deadline = time.monotonic() + timeout_s
        keys = -1
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BackupError(f"redis-server ({binary}) could not load the backup; a "
                                  f"backup needs a redis-server at least as new as the one "
                                  f"that took it:\n{tail()}")
            with contextlib.suppress(redis.ConnectionError, redis.BusyLoadingError,
                                     FileNotFoundError):
                if sock.exists() and client.ping():
                    keys = _dbsize(client)
                    break
            time.sleep(0.05)
        else:
            raise BackupError("redis-server did not load the backup in time")
        try:
            client.config_set("appendonly", "yes")  # rewrites the AOF from the loaded data
            while time.monotonic() < deadline:
                p = _info(client, "persistence")
                if (p.get("aof_enabled") == 1 and not p.get("aof_rewrite_in_progress")
                        and not p.get("aof_rewrite_scheduled")):
                    if p.get("aof_last_bgrewrite_status") != "ok":
                        raise BackupError("Redis could not write the append-only file:\n"
                                          + tail())
                    break
                time.sleep(0.05)
            else:
                raise BackupError("the append-only file was not written in time")
            with contextlib.suppress(redis.ConnectionError):
                client.shutdown(nosave=True)
        except redis.RedisError as exc:
            raise BackupError(f"Redis refused to write the append-only file ({exc}):\n"
                              + tail()) from None
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(30)
        return keys
    finally:
        client.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(sockdir, ignore_errors=True)
