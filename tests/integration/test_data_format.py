"""The data's format version (realtime/dataformat.py; hospital IT admin's review): nothing
stopped an old server binary from starting on a data folder a newer one had migrated, or an
old worker from running against a new server's data. ``serve`` stamps ``sb:meta`` (absent or
older -> this build's format) and refuses newer data; ``worker`` refuses newer data and waits
while the data is older than its build, until its server has migrated it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from realtime import cli
from realtime.buildinfo import version
from realtime.dataformat import FORMAT, META_KEY
from realtime.redisproc import EmbeddedRedis
from realtime.settings import Settings
from realtime.worker import HEARTBEAT_KEY
from tests.conftest import free_port


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SWITCHBOARD_SECRET", "SWITCHBOARD_REDIS_URL", "SWITCHBOARD_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def _meta(url: str, fields: dict[str, Any] | None = None) -> dict[bytes, bytes]:
    """``sb:meta`` of the Redis at ``url``, after writing ``fields`` to it when given."""
    async def run() -> dict[bytes, bytes]:
        redis = Redis.from_url(url)
        try:
            if fields:
                await redis.hset(META_KEY, mapping=fields)
            return await redis.hgetall(META_KEY)  # type: ignore[no-any-return]
        finally:
            await redis.aclose()
    return asyncio.run(run())


def _folder(data: Path, fields: dict[str, Any] | None) -> None:
    """A data folder whose Redis holds ``sb:meta`` = ``fields`` (None: never stamped)."""
    data.mkdir()
    redis = EmbeddedRedis(data)
    redis.start()
    try:
        _meta(redis.url, {"keep": "1"})  # the folder holds data
        if fields:
            _meta(redis.url, fields)
    finally:
        redis.stop()


def _serve(data: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict[bytes, bytes]]:
    """``switchboard serve`` on ``data``; instead of serving HTTP it reads ``sb:meta``."""
    seen: dict[bytes, bytes] = {}

    def run_uvicorn(settings: Settings) -> None:
        seen.update(_meta(settings.redis_url or ""))
    monkeypatch.setattr(cli, "_run_uvicorn", run_uvicorn)
    rc = cli.main(["serve", "--port", str(free_port()), "--data-dir", str(data)])
    return rc, seen


def test_serve_writes_the_format_when_absent(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    before_ms = time.time() * 1000 - 5000
    rc, meta = _serve(tmp_path / "new", monkeypatch)
    assert rc == 0
    assert int(meta[b"format"]) == FORMAT and meta[b"written_by"].decode() == version()
    assert int(meta[b"written_at"]) > before_ms


def test_serve_bumps_an_older_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _folder(tmp_path / "d", {"format": FORMAT - 1, "written_by": "0.0.1", "written_at": 1})
    rc, meta = _serve(tmp_path / "d", monkeypatch)
    assert rc == 0
    assert int(meta[b"format"]) == FORMAT and meta[b"written_by"].decode() == version()
    assert int(meta[b"written_at"]) > 1
    assert meta[b"keep"] == b"1"  # the data itself untouched


def test_serve_refuses_newer_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    newer = {"format": FORMAT + 1, "written_by": "9.9.9", "written_at": 1}
    _folder(tmp_path / "d", newer)
    rc, meta = _serve(tmp_path / "d", monkeypatch)
    err = capsys.readouterr().err
    assert rc == 2 and not meta, "it must not serve"
    assert f"format {FORMAT + 1}" in err and f"format {FORMAT}" in err and "9.9.9" in err
    assert "Upgrade this binary" in err and "restore the backup" in err and "数据格式" in err
    # Nothing written: the newer data's stamp stands.
    redis = EmbeddedRedis(tmp_path / "d")
    redis.start()
    try:
        assert int(_meta(redis.url)[b"format"]) == FORMAT + 1
    finally:
        redis.stop()


def _worker(data: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "realtime.cli", "worker", "--data-dir",
                             str(data), *extra], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is None or proc.stdout.closed:
        return ""
    out = proc.stdout.read()
    proc.stdout.close()
    return out


def test_worker_refuses_newer_data(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    redis = EmbeddedRedis(data)
    redis.start()
    _meta(redis.url, {"format": FORMAT + 1, "written_by": "9.9.9"})
    proc = _worker(data)
    try:
        rc = proc.wait(60)
        out = _stop(proc)
        assert rc == 2, out
        assert f"format {FORMAT + 1}" in out and f"format {FORMAT}" in out and "数据格式" in out
        assert "Traceback" not in out
        assert not asyncio.run(_exists(redis.url, HEARTBEAT_KEY)), "it ran a job"
    finally:
        _stop(proc)
        redis.stop()


async def _exists(url: str, key: str) -> bool:
    redis = Redis.from_url(url)
    try:
        return bool(await redis.exists(key))
    finally:
        await redis.aclose()


def test_worker_waits_for_its_server_to_migrate_older_data(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    redis = EmbeddedRedis(data)
    redis.start()
    _meta(redis.url, {"format": FORMAT - 1, "written_by": "0.0.1"})
    proc = _worker(data)
    try:
        time.sleep(6)
        assert proc.poll() is None, _stop(proc)
        assert not asyncio.run(_exists(redis.url, HEARTBEAT_KEY)), "it ran on older data"
        _meta(redis.url, {"format": FORMAT, "written_by": version()})  # the new server's stamp
        deadline = time.monotonic() + 30
        while not asyncio.run(_exists(redis.url, HEARTBEAT_KEY)):
            assert time.monotonic() < deadline and proc.poll() is None, _stop(proc)
            time.sleep(0.2)
        out = _stop(proc)
        assert out.count("waiting for a server of this release") == 1, out
    finally:
        _stop(proc)
        redis.stop()


def test_burst_worker_on_older_data_says_so(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    redis = EmbeddedRedis(data)
    redis.start()
    try:
        _meta(redis.url, {"format": FORMAT - 1})
        proc = _worker(data, "--burst")
        rc = proc.wait(60)
        out = _stop(proc)
        assert rc == 1 and "waiting for a server of this release" in out, out
    finally:
        redis.stop()


def test_version_shows_the_binarys_and_the_datas_format(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d"
    data.mkdir()
    redis = EmbeddedRedis(data)
    redis.start()
    try:
        _meta(redis.url, {"format": FORMAT, "written_by": "0.9.1", "written_at": 1_800_000_000_000})
        monkeypatch.setenv("SWITCHBOARD_DATA_DIR", str(data))
        with pytest.raises(SystemExit) as done:
            cli.main(["--version"])
        out = capsys.readouterr().out
        assert done.value.code == 0
        assert out.startswith(f"switchboard {version()} (data format {FORMAT})"), out
        assert f"data format {FORMAT}, written by switchboard 0.9.1 on 2027-01-15" in out, out
    finally:
        redis.stop()
