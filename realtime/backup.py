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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import redis

from realtime.redisproc import EmbeddedRedis, find_binary, private_dir

FORMAT = 1
MEMBERS = ("manifest.json", "dump.rdb", "secret")
# What a data folder holds that a restore replaces (the lock and logs stay).
STATE = ("appendonlydir", "appendonly.aof", "dump.rdb", "secret")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why (exit status 1)."""


@dataclass(frozen=True)
class Restored:
    keys: int
    moved_to: Path | None
    secret: bool


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
    target = ["-s", url.removeprefix("unix://")] if url.startswith("unix://") else ["-u", url]
    client = _client(url)
    try:
        info = _info(client, "server")
        keys = _dbsize(client)
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        raise BackupError(f"Redis at {url} is unreachable ({exc}); is the server running?"
                          ) from None
    finally:
        client.close()
    with tempfile.TemporaryDirectory(prefix="switchboard-backup-") as tmp:
        rdb = Path(tmp) / "dump.rdb"
        run = subprocess.run([cli, *target, "--rdb", str(rdb)], capture_output=True, text=True,
                             timeout=3600)
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
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=2).encode())
            _add_bytes(tar, "dump.rdb", rdb.read_bytes())
            if manifest["secret"]:
                assert secret is not None
                _add_bytes(tar, "secret", secret.read_bytes())
        partial.replace(out)  # a crash mid-way never leaves a truncated file under the name
    return manifest


def restore(archive: Path, data_dir: Path, server: str | None = None,
            keep_secret: bool = False, timeout_s: float = 600.0) -> Restored:
    """Replace the state in ``data_dir`` (its server stopped) with the archive's."""
    members = _read(archive)
    manifest = json.loads(members["manifest.json"])
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: unknown backup format {manifest.get('format')!r}")
    private_dir(data_dir)
    guard = EmbeddedRedis(data_dir, server)
    guard.lock()  # DataDirInUse while a serve runs on the folder
    try:
        moved = _move_aside(data_dir, keep_secret)
        (data_dir / "dump.rdb").write_bytes(members["dump.rdb"])
        if "secret" in members and not keep_secret:
            path = data_dir / "secret"
            path.touch(mode=0o600)
            path.write_bytes(members["secret"])
        keys = _rewrite_aof(data_dir, find_binary(server), timeout_s)
        (data_dir / "dump.rdb").unlink(missing_ok=True)
        (data_dir / "restore-redis.log").unlink(missing_ok=True)
    finally:
        guard.unlock()
    return Restored(keys, moved, "secret" in members and not keep_secret)


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
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _read(archive: Path) -> dict[str, bytes]:
    """The archive's members, checked: regular files of the known names, nothing else."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            out: dict[str, bytes] = {}
            for m in tar.getmembers():
                if m.name not in MEMBERS or not m.isfile() or m.name in out:
                    raise BackupError(f"{archive}: unexpected member {m.name!r}; "
                                      "not a switchboard backup")
                f = tar.extractfile(m)
                assert f is not None
                out[m.name] = f.read()
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise BackupError(f"{archive}: cannot read it as a backup ({exc})") from None
    if "manifest.json" not in out or "dump.rdb" not in out:
        raise BackupError(f"{archive}: no manifest.json or dump.rdb; not a switchboard backup")
    return out


def _move_aside(data_dir: Path, keep_secret: bool) -> Path | None:
    present = [n for n in STATE if (data_dir / n).exists() and not (keep_secret and n == "secret")]
    if not present:
        return None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    dest = data_dir / f"before-restore-{stamp}"
    dest.mkdir(mode=0o700)
    for name in present:
        (data_dir / name).rename(dest / name)
    return dest


def _rewrite_aof(data_dir: Path, binary: str, timeout_s: float) -> int:
    """Load ``dump.rdb`` in a private Redis, write the append-only file from it, stop."""
    sock = data_dir / "restore.sock"
    sock.unlink(missing_ok=True)
    log = data_dir / "restore-redis.log"
    proc = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
         "--dir", str(data_dir), "--dbfilename", "dump.rdb", "--appendonly", "no",
         "--save", "", "--daemonize", "no", "--logfile", str(log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(unix_socket_path=str(sock), socket_timeout=30)
    try:
        deadline = time.monotonic() + timeout_s
        keys = -1
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = log.read_text()[-2000:] if log.exists() else ""
                raise BackupError(f"redis-server could not load the backup:\n{tail}")
            with contextlib.suppress(redis.ConnectionError, redis.BusyLoadingError,
                                     FileNotFoundError):
                if sock.exists() and client.ping():
                    keys = _dbsize(client)
                    break
            time.sleep(0.05)
        else:
            raise BackupError("redis-server did not load the backup in time")
        client.config_set("appendonly", "yes")  # rewrites the AOF from the loaded data
        while time.monotonic() < deadline:
            p = _info(client, "persistence")
            if (p.get("aof_enabled") == 1 and not p.get("aof_rewrite_in_progress")
                    and not p.get("aof_rewrite_scheduled")):
                if p.get("aof_last_bgrewrite_status") != "ok":
                    raise BackupError("Redis could not write the append-only file; see "
                                      f"{log}")
                break
            time.sleep(0.05)
        else:
            raise BackupError("the append-only file was not written in time")
        with contextlib.suppress(redis.ConnectionError):
            client.shutdown(nosave=True)
        proc.wait(30)
        return keys
    finally:
        client.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.unlink(missing_ok=True)
