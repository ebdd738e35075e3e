"""A hospital IT admin's first real install (review): the secret's messages say what to do
when the server's key is in its environment (a systemd unit's EnvironmentFile), an admin
token cannot be "scoped" to a site it ignores, a typo'd site is refused, and the server says
(at start-up, then in its log) that no worker runs with it."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import jwt
import pytest

from queueing import redisconn
from queueing.demo import demo_site
from queueing.engine import Engine
from queueing.store import Store
from realtime import cli, readiness
from realtime.auth import load_secret
from realtime.backup import backup
from realtime.cli import main, next_step
from realtime.redisproc import EmbeddedRedis
from realtime.settings import Settings
from realtime.worker import HEARTBEAT_KEY
from tests.conftest import free_port
from tests.integration.conftest import ADMIN

KEY = "k" * 40


@pytest.fixture(autouse=True)
def _no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_SECRET", raising=False)


def _put(url: str, *sites: str) -> None:
    async def run() -> None:
        redis = redisconn.connect(url)
        try:
            await redis.flushall()
            for site in sites:
                await Engine(Store(redis)).put_site(site, demo_site(), ADMIN)
        finally:
            await redis.aclose()
    asyncio.run(run())


# -- 1. the secret ----------------------------------------------------------------------------

def test_no_secret_beside_a_running_server_says_to_give_its_environment(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A server that ran here with SWITCHBOARD_SECRET: its Redis's files, no secret file.
    (tmp_path / "appendonly.aof").write_text("")
    with pytest.raises(SystemExit) as stop:
        load_secret(None, tmp_path, create=False)
    said = str(stop.value.code)
    assert "run `switchboard serve` once" not in said
    assert "--env-file" in said and "/etc/switchboard/env" in said and "服务器的密钥" in said
    # No server ever used the folder: point at the data folder first.
    with pytest.raises(SystemExit) as stop:
        load_secret(None, tmp_path / "elsewhere", create=False)
    assert "no server has used" in str(stop.value.code) and "--data-dir" in str(stop.value.code)


def test_env_file_gives_the_token_command_the_servers_secret(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = tmp_path / "env"
    env.write_text(f"# as /etc/switchboard/env\n\nexport SWITCHBOARD_SECRET='{KEY}'\n"
                   "SWITCHBOARD_PUBLIC_URL=https://queue.example.org\n")
    assert main(["token", "admin", "--subject", "it", "--data-dir", str(tmp_path / "d"),
                 "--env-file", str(env)]) == 0
    tok = capsys.readouterr().out.strip()
    assert jwt.decode(tok, KEY, algorithms=["HS256"])["sub"] == "it"
    # The command's settings; tests/conftest.py puts the process's back after this test.
    assert os.environ["SWITCHBOARD_PUBLIC_URL"] == "https://queue.example.org"
    assert main(["token", "admin", "--env-file", str(tmp_path / "missing")]) == 2
    assert "--env-file" in capsys.readouterr().err
    env.write_text("not a setting\n")
    assert main(["token", "admin", "--env-file", str(env)]) == 2
    assert "line 1 is not NAME=value" in capsys.readouterr().err


def test_start_up_hint_names_the_env_file_when_the_key_is_in_the_environment() -> None:
    settings = Settings(data_dir="/var/lib/switchboard")
    plain = next_step(settings)
    assert "--data-dir /var/lib/switchboard" in plain and "--env-file" not in plain
    hint = next_step(settings, env_secret=True)
    assert "switchboard token admin --subject YOUR-NAME --data-dir /var/lib/switchboard " \
        "--env-file" in hint and "/etc/switchboard/env" in hint
    assert "switchboard worker --data-dir /var/lib/switchboard" in cli.worker_step(settings)
    ext = cli.worker_step(Settings(redis_url="redis://:pw@db:6379/0"))
    assert "--redis-url" in ext and "pw" not in ext


def test_backup_of_a_folder_without_secret_says_where_the_key_is(
        redis_server: EmbeddedRedis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
        ) -> None:
    data = tmp_path / "data"
    data.mkdir()
    assert main(["backup", "--out", str(tmp_path / "b.tar.gz"), "--data-dir", str(data),
                 "--redis-url", redis_server.url]) == 0
    err = capsys.readouterr().err
    assert "give the server's data folder" not in err
    assert f"{data} has none" in err and "SWITCHBOARD_SECRET" in err


def test_restore_without_any_secret_warns_loudly(
        redis_server: EmbeddedRedis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
        ) -> None:
    out = tmp_path / "nosecret.tar.gz"
    assert backup(out, redis_server.url, None)["secret"] is False
    target = tmp_path / "new"
    assert main(["restore", str(out), "--data-dir", str(target)]) == 0
    said = capsys.readouterr()
    assert "secret kept" not in said.out and "no token secret in the backup" in said.out
    assert "WARNING" in said.err and "same SWITCHBOARD_SECRET" in said.err
    assert "stops working" in said.err and not (target / "secret").exists()
    # A folder with its own secret: kept, and no warning.
    load_secret(None, tmp_path / "own")
    assert main(["restore", str(out), "--data-dir", str(tmp_path / "own")]) == 0
    said = capsys.readouterr()
    assert "this folder's token secret kept (the backup has none)" in said.out
    assert "WARNING" not in said.err
    # --keep-secret into a folder with none: the backup's is left out, and said.
    with_secret = tmp_path / "with.tar.gz"
    load_secret(None, tmp_path / "src")
    assert backup(with_secret, redis_server.url, tmp_path / "src")["secret"]
    with tarfile.open(with_secret) as tar:
        assert "secret" in tar.getnames()
    assert main(["restore", str(with_secret), "--data-dir", str(tmp_path / "kept"),
                 "--keep-secret"]) == 0
    said = capsys.readouterr()
    assert "--keep-secret left out the backup's" in said.err


# -- 2. admin tokens are not scoped -----------------------------------------------------------

@pytest.mark.parametrize("flags", [["--site", "clinic-east"], ["--region", "city"],
                                   ["--site", "a", "--counter", "1"]])
def test_an_admin_token_with_a_scope_is_refused(tmp_path: Path, flags: list[str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    load_secret(None, tmp_path)
    assert main(["token", "admin", "--subject", "clinic-manager", *flags, "--data-dir",
                 str(tmp_path)]) == 2
    said = capsys.readouterr()
    assert said.out == "" and "admin token is not scoped" in said.err
    assert flags[0] in said.err and "supervisor" in said.err


# -- 4. a typo'd site -------------------------------------------------------------------------

def test_a_token_for_a_site_the_server_lacks_is_refused_with_the_closest(
        redis_server: EmbeddedRedis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
        ) -> None:
    _put(redis_server.url, "main-hospital", "clinic-east")
    load_secret(None, tmp_path)
    base = ["--data-dir", str(tmp_path), "--redis-url", redis_server.url]
    assert main(["token", "kiosk", "--site", "main-hosptial", *base]) == 2
    said = capsys.readouterr()
    assert said.out == ""
    assert "no site 'main-hosptial'" in said.err
    assert "its sites: clinic-east, main-hospital" in said.err
    assert "did you mean 'main-hospital'?" in said.err and "--force" in said.err
    assert main(["token", "kiosk", "--site", "main-hosptial", "--force", *base]) == 0
    said = capsys.readouterr()
    assert said.out.strip() and "warning" in said.err
    assert main(["token", "kiosk", "--site", "main-hospital", *base]) == 0
    _put(redis_server.url)
    assert main(["token", "display", "--site", "ward", *base]) == 2
    assert "it has no sites yet" in capsys.readouterr().err


# -- 3. the worker ----------------------------------------------------------------------------

def test_worker_watch_warns_after_a_grace_then_at_most_every_n(
        caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    watch = readiness.WorkerWatch("switchboard worker --data-dir X", every_s=600, grace_s=90,
                        now=lambda: now[0])
    caplog.set_level(logging.INFO, "switchboard.http")
    assert not watch.note(None)  # just started: a worker started beside it beats soon
    now[0] = 91
    assert watch.note(None)
    assert "switchboard worker --data-dir X" in caplog.text and "day close" in caplog.text
    now[0] = 300
    assert not watch.note(None) and not watch.note(500.0)  # once per 10 minutes
    now[0] = 700
    assert watch.note(120.0)  # still missing (last seen 2 min ago)
    caplog.clear()
    assert not watch.note(5.0)
    assert "seen again" in caplog.text
    now[0] = 720
    assert watch.note(None)  # missing again: said at once


async def test_worker_seen_by_redis_time(redis_server: EmbeddedRedis) -> None:
    redis = redisconn.connect(redis_server.url)
    try:
        await redis.delete(HEARTBEAT_KEY)
        assert await readiness.worker_seen_s(redis) is None
        secs, micros = await redis.time()
        await redis.set(HEARTBEAT_KEY, int(secs) * 1000 + int(micros) // 1000 - 40_000)
        seen = await readiness.worker_seen_s(redis)
        assert seen is not None and 39 < seen < 45
    finally:
        await redis.delete(HEARTBEAT_KEY)
        await redis.aclose()


def test_a_real_server_says_at_start_that_it_needs_a_worker(tmp_path: Path) -> None:
    """``switchboard serve`` (no --demo), its key from the environment as a systemd unit
    gives it: the hint names --env-file and the worker's command."""
    env = {**os.environ, "SWITCHBOARD_SECRET": KEY, "PYTHONUNBUFFERED": "1"}
    data = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-m", "realtime.cli", "serve", "--port",
                             str(free_port()), "--data-dir", str(data)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("Worker /" in x for x in lines):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    text = "".join(lines)
    assert f"switchboard token admin --subject YOUR-NAME --data-dir {data} --env-file" in text
    assert f"`switchboard worker --data-dir {data}`" in text, text
