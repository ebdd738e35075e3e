"""`switchboard token` checks dispatch ids against the running server, as it checks sites and
counters: a technician or a job the server does not have is refused (rc 2), a region or an
organisation not put yet is warned about, and an id without its region is refused even with
--no-check (it names nothing anywhere). Found by a reviewer: `token tech --tech t01` and
`customer --job sh.j-nope` were minted silently. Real Redis."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import jwt
import pytest

from dispatch.engine import DispatchEngine
from dispatch.model import JobRequest, OrgSpec, Point, Window
from dispatch.store import Store
from queueing import redisconn
from realtime.auth import load_secret
from realtime.cli import main
from realtime.redisproc import EmbeddedRedis
from tests.integration.test_dispatch_support import ADMIN, config, tech_spec


def _put_region(url: str, window: Window | None = None) -> str:
    """Region sh with technician sh.t01, organisation sh.acme and one job; its id."""

    async def run() -> str:
        redis = redisconn.connect(url)
        try:
            await redis.flushall()
            eng = DispatchEngine(Store(redis))
            await eng.put_region("sh", config(), ADMIN)
            await eng.put_tech("sh.t01", tech_spec(52.37, 4.89), ADMIN)
            await eng.put_org("sh.acme", OrgSpec(name="ACME"), ADMIN)
            job = await eng.create_job("sh", JobRequest(location=Point(52.37, 4.89),
                                                        window=window), ADMIN)
            return str(job["id"])
        finally:
            await redis.aclose()
    return asyncio.run(run())


@pytest.fixture
def base(redis_server: EmbeddedRedis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
         ) -> list[str]:
    monkeypatch.delenv("SWITCHBOARD_SECRET", raising=False)
    load_secret(None, tmp_path)
    return ["--data-dir", str(tmp_path), "--redis-url", redis_server.url]


def test_known_ids_are_minted(base: list[str], redis_server: EmbeddedRedis,
                              capsys: pytest.CaptureFixture[str]) -> None:
    job = _put_region(redis_server.url)
    for args in (["tech", "--tech", "sh.t01"], ["dispatcher", "--region", "sh"],
                 ["org", "--org", "sh.acme"], ["customer", "--job", job]):
        assert main(["token", *args, *base]) == 0, args
        out = capsys.readouterr()
        tok = out.out.strip()
        assert jwt.decode(tok, options={"verify_signature": False})
        # A dispatcher is told where the token opens its console (on stderr: stdout is
        # the token alone, for D=$(switchboard token dispatcher ...)).
        console = f"console / 调度台: http://127.0.0.1:8000/dispatch/sh?token={tok}\n"
        err = [line for line in out.err.splitlines(keepends=True)
               if not line.startswith("switchboard token: expires ")]  # every token says
        assert "".join(err) == (console if args[0] == "dispatcher" else ""), out.err
        assert "switchboard token: expires " in out.err


@pytest.mark.parametrize("args, says", [
    (["tech", "--tech", "sh.nope"], "the server has no technician 'sh.nope'"),
    (["customer", "--job", "sh.j-nope"], "the server has no job 'sh.j-nope'"),
])
def test_unknown_technicians_and_jobs_are_refused(
        base: list[str], redis_server: EmbeddedRedis, capsys: pytest.CaptureFixture[str],
        args: list[str], says: str) -> None:
    _put_region(redis_server.url)
    assert main(["token", *args, *base]) == 2
    out = capsys.readouterr()
    assert out.out == "" and says in out.err and "--no-check" in out.err
    # Deliberately (a technician put later today): --no-check.
    assert main(["token", *args, "--no-check", *base]) == 0
    assert capsys.readouterr().out.strip()


@pytest.mark.parametrize("args, says", [
    (["dispatcher", "--region", "nope"], "no region 'nope' yet"),
    (["org", "--org", "sh.nope"], "no organisation 'sh.nope' yet"),
])
def test_regions_and_organisations_not_put_yet_are_warned_about(
        base: list[str], redis_server: EmbeddedRedis, capsys: pytest.CaptureFixture[str],
        args: list[str], says: str) -> None:
    _put_region(redis_server.url)
    assert main(["token", *args, *base]) == 0
    out = capsys.readouterr()
    assert out.out.strip() and "warning" in out.err and says in out.err


@pytest.mark.parametrize("args", [["tech", "--tech", "t01"], ["org", "--org", "acme"],
                                  ["customer", "--job", "j-1"],
                                  ["dispatcher", "--region", "sh.x"]])
def test_an_id_without_its_region_is_refused_even_unchecked(
        base: list[str], capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    for extra in ([], ["--no-check"]):
        assert main(["token", *args, *base, *extra]) == 2
        out = capsys.readouterr()
        assert out.out == "" and args[2] in out.err


def test_a_customer_token_lasts_until_its_visit(base: list[str], redis_server: EmbeddedRedis,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    # Tomorrow's 09:00-10:00 visit, 30 h from now: a day's token expired before it.
    start = time.time_ns() // 1_000_000 + 30 * 3_600_000
    job = _put_region(redis_server.url, Window(start, start + 3_600_000))
    assert main(["token", "customer", "--job", job, *base]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    assert 31 * 3600 + 86400 - 60 < claims["exp"] - time.time() <= 31 * 3600 + 86400
    # Asked for: as asked.
    assert main(["token", "customer", "--job", job, "--ttl-s", "600", *base]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    assert round(claims["exp"] - claims["iat"]) == 600
