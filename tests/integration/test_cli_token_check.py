"""`switchboard token` checks --site/--counter against the running server's Redis: a console
token for a counter the site does not have is refused (it would open a page saying "no such
counter" on the day), so is a site it does not have (--force: minted, warned about), and
no server means no check."""

from __future__ import annotations

import asyncio
from pathlib import Path

import jwt
import pytest

from queueing import redisconn
from queueing.demo import demo_site
from queueing.engine import Engine
from queueing.store import Store
from realtime.auth import load_secret
from realtime.cli import main
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import ADMIN


def _put_demo(url: str) -> None:
    async def run() -> None:
        redis = redisconn.connect(url)
        try:
            await redis.flushall()
            await Engine(Store(redis)).put_site("demo", demo_site(), ADMIN)
        finally:
            await redis.aclose()
    asyncio.run(run())


def test_a_token_for_a_counter_the_site_lacks_is_refused(
        redis_server: EmbeddedRedis, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_SECRET", raising=False)
    _put_demo(redis_server.url)
    load_secret(None, tmp_path)
    base = ["--data-dir", str(tmp_path), "--redis-url", redis_server.url]
    assert main(["token", "agent", "--site", "demo", "--counter", "1", *base]) == 0
    token = capsys.readouterr().out.strip()
    assert jwt.decode(token, options={"verify_signature": False})["counter"] == "1"

    assert main(["token", "agent", "--site", "demo", "--counter", "lab3", *base]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert "has no counter 'lab3'" in out.err and "its counters: 1, 2" in out.err
    # Deliberately, ahead of the site's next version: --no-check.
    assert main(["token", "agent", "--site", "demo", "--counter", "lab3", "--no-check",
                 *base]) == 0
    assert capsys.readouterr().out.strip()

    # A site the server does not have: refused (a typo opens nothing on the day), with its
    # sites; --force mints it for one to be put later (screens are often provisioned first).
    assert main(["token", "display", "--site", "opdd", *base]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "no site 'opdd' (its sites: demo" in out.err
    assert main(["token", "display", "--site", "opdd", "--force", *base]) == 0
    out = capsys.readouterr()
    assert out.out.strip() and "no site 'opdd'" in out.err


def test_no_server_no_check(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_SECRET", raising=False)
    # The data folder has no running Redis: the token is minted as before.
    load_secret(None, tmp_path)
    assert main(["token", "agent", "--site", "demo", "--counter", "lab3", "--data-dir",
                 str(tmp_path)]) == 0
    out = capsys.readouterr()
    # Minted, with its expiry and a line saying it was not checked (it was silent: a typo'd
    # --counter against an external Redis the shell did not name went unnoticed).
    assert out.out.strip() and "switchboard token: expires " in out.err
    assert "not checked against the server" in out.err and out.err.count("\n") == 2
    # A --redis-url that is no Redis URL: refused with the reason, not a traceback.
    assert main(["token", "agent", "--site", "demo", "--counter", "1", "--data-dir",
                 str(tmp_path), "--redis-url", "garbage"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.startswith("switchboard token: --redis-url:")

