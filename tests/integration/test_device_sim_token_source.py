"""The device simulator took its dispatcher token only as ``--token``: on the command line,
every user of the machine saw it in ``ps`` for the whole run. It takes it from
``--token-file`` (or standard input) and ``SWITCHBOARD_TOKEN`` as well. Real server, real
Redis, the simulator as its own process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from clients.device_sim import token_from
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server, running_server
from tests.integration.test_device_sim_fixes import ROOT, _city, _get, _until


def test_where_the_token_comes_from(tmp_path: Path) -> None:
    f = tmp_path / "token"
    f.write_text("\n  tok-file  \nsecond line\n")
    assert token_from(str(f), None, "tok-env") == "tok-file"
    assert token_from(None, "tok-flag", "tok-env") == "tok-flag"
    assert token_from(None, None, " tok-env\n") == "tok-env"
    with pytest.raises(ValueError, match="SWITCHBOARD_TOKEN"):
        token_from(None, None, None)
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ValueError, match="no token"):
        token_from(str(tmp_path / "empty"), None, None)


@pytest.fixture
async def city(redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
               ) -> AsyncIterator[Server]:
    async with running_server(redis_server.url, tmp_path) as srv:
        await _city(srv)
        yield srv


@pytest.mark.parametrize("how", ["env", "file"])
async def test_the_token_is_not_on_the_command_line(city: Server, tmp_path: Path,
                                                    how: str) -> None:
    token = city.token("dispatcher", region="city")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = ["--base", city.base, "--region", "city", "--techs", "city.t1", "--minutes", "5"]
    if how == "env":
        env["SWITCHBOARD_TOKEN"] = token
    else:
        (tmp_path / "token").write_text(token + "\n")
        (tmp_path / "token").chmod(0o600)
        args += ["--token-file", str(tmp_path / "token")]
        env.pop("SWITCHBOARD_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clients.device_sim", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        await _until(city, "/v1/technicians/city.t1", "available")  # it went online with it
        cmdline = await asyncio.to_thread(Path(f"/proc/{proc.pid}/cmdline").read_bytes)
        assert token.encode() not in cmdline and b"city.t1" in cmdline
        proc.send_signal(signal.SIGINT)  # the orderly end: offline, exit 0
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    assert (await _get(city, "/v1/technicians/city.t1"))["status"] == "offline"


async def test_no_token_is_a_usage_error() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SWITCHBOARD_TOKEN"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clients.device_sim", "--region", "city", cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2 and b"--token-file PATH, SWITCHBOARD_TOKEN" in err
