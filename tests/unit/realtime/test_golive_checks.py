"""What a Friday-before-go-live test found: token lifetimes and refusals, clock skew, Redis
refusing writes, settings checked where both processes load them, ``--version``."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import jwt
import pytest
from redis.exceptions import OutOfMemoryError, ReadOnlyError, ResponseError

from queueing.errors import Unauthorized
from realtime import clock
from realtime.auth import LEEWAY_S, make_token, verify
from realtime.cli import _default_ttl, expiry_note, main, settle
from realtime.errors import write_refusal
from realtime.settings import Settings, from_env

KEY = "k" * 32


def _reason(token: str, secret: str = KEY) -> str:
    with pytest.raises(Unauthorized) as err:
        verify(secret, token)
    return str(err.value.details["reason"])


def test_integration_tokens_last_as_long_as_devices() -> None:
    """A partner token (the SMS gateway's, the booking page's) stopped after 30 days."""
    s = Settings()
    assert _default_ttl("partner", s) == s.device_token_ttl_s == _default_ttl("kiosk", s)
    assert _default_ttl("agent", s) == s.staff_token_ttl_s


def test_token_prints_its_expiry_on_stderr(tmp_path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    (tmp_path / "secret").write_text(KEY + "\n")
    rc = main(["token", "partner", "--site", "opd", "--subject", "sms-gateway", "--channels",
               "sms", "--data-dir", str(tmp_path), "--no-check"])
    out, err = capsys.readouterr()
    assert rc == 0
    claims = jwt.decode(out.strip(), KEY, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == pytest.approx(365 * 86400, abs=1)
    assert "expires 20" in err and "(in 365 days" in err and out.count(".") == 2


def test_expiry_note_names_the_date() -> None:
    tok = make_token(KEY, "kiosk", site="s", ttl_s=86400, now=1_800_000_000)
    assert expiry_note(tok).startswith("expires 2027-01-16 08:00 UTC (in 1 days")


def test_a_token_from_a_host_a_little_ahead_is_accepted() -> None:
    assert verify(KEY, make_token(KEY, "kiosk", site="s", now=time.time() + 3)).site == "s"
    just_expired = make_token(KEY, "kiosk", site="s", ttl_s=10, now=time.time() - 20)
    assert verify(KEY, just_expired).site == "s"  # within the leeway


# Made when the test runs, not when it is collected: a whole suite can take longer than
# the leeway between the two (a token "10 minutes ahead" was valid by its turn).
@pytest.mark.parametrize("token,reason", [
    (lambda: make_token(KEY, "kiosk", site="s", now=time.time() + LEEWAY_S + 600),
     "not_yet_valid"),
    (lambda: make_token(KEY, "kiosk", site="s", ttl_s=10, now=time.time() - LEEWAY_S - 60),
     "expired"),
    (lambda: make_token("x" * 32, "kiosk", site="s"), "bad_signature"),
    (lambda: "nonsense", "malformed"),
    (lambda: jwt.encode({"role": "kiosk", "sub": "k", "iat": time.time()}, KEY),
     "missing_claim"),
])
def test_refusals_say_why(token: Callable[[], str], reason: str) -> None:
    assert _reason(token()) == reason


def test_clock_judged_against_redis_and_the_data() -> None:
    now = 1_800_000_000.0
    assert clock.judge(now, now + 3, now + 2) is None
    behind = clock.judge(now, now + 7200, None)
    assert behind is not None and behind.source == "redis" and behind.behind_s == 7200
    ahead = clock.judge(now + 16 * 3600, now, None)
    assert ahead is not None and ahead.behind_s < 0 and "ahead of" in ahead.message()
    data = clock.judge(now, now, now + 7200)
    assert data is not None and data.source == "data" and "2.0 h behind" in data.message()
    assert clock.judge(now, now, now - 86400) is None  # a quiet night is no skew


@pytest.mark.parametrize("exc,reason", [
    # As redis-server 7 answered with its data folder on a full file system (a tmpfs),
    # to SET, to a script's write, and to PING alike.
    (ResponseError("MISCONF Errors writing to the AOF file: No space left on device"),
     "disk_full"),
    (ResponseError("MISCONF Errors writing to the AOF file: No space left on device script: "
                   "c1e43c3aa97ad5311d37ce7cb6154c6836988fa3, on @user_script:1."),
     "disk_full"),
    (ResponseError("MISCONF Redis is configured to save RDB snapshots, but it's currently "
                   "unable to persist to disk."), "disk_error"),
    (OutOfMemoryError("command not allowed when used memory > 'maxmemory'."),
     "out_of_memory"),
    (ResponseError("OOM command not allowed when used memory > 'maxmemory'. script: x"),
     "out_of_memory"),
    (ReadOnlyError("You can't write against a read only replica."), "read_only"),
    (ResponseError("WRONGTYPE Operation against a key"), None),
])
def test_write_refusals_are_named(exc: Exception, reason: str | None) -> None:
    assert write_refusal(exc) == reason


@pytest.mark.parametrize("env,named", [
    ({"SWITCHBOARD_NOTIFY_WEBHOOK_URL": "https://gw.example/sb"},
     "SWITCHBOARD_NOTIFY_WEBHOOK_SECRET"),
    ({"SWITCHBOARD_ALLOWED_ORIGINS": "queue.example.org"}, "SWITCHBOARD_ALLOWED_ORIGINS"),
    ({"SWITCHBOARD_ALLOWED_ORIGINS": "https://queue.example.org/"},
     "SWITCHBOARD_ALLOWED_ORIGINS"),
])
def test_bad_settings_stop_start_up_naming_them(env: dict[str, str], named: str) -> None:
    with pytest.raises(SystemExit, match=named):
        from_env(env)


def test_good_origins_and_webhook_pass() -> None:
    s = from_env({"SWITCHBOARD_ALLOWED_ORIGINS": "https://q.example.org, http://h:8080, *",
                  "SWITCHBOARD_NOTIFY_WEBHOOK_URL": "https://gw.example/sb",
                  "SWITCHBOARD_NOTIFY_WEBHOOK_SECRET": "s"})
    assert s.allowed_origins == ["https://q.example.org", "http://h:8080", "*"]


def test_an_unknown_setting_is_warned_once(caplog: pytest.LogCaptureFixture) -> None:
    env = {"SWITCHBOARD_NOT_A_SETTING_XYZ": "1"}
    with caplog.at_level(logging.WARNING, "switchboard.settings"):
        for _ in range(4):
            from_env(env)
    assert sum("NOT_A_SETTING_XYZ" in r.getMessage() for r in caplog.records) == 1


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("switchboard 0.")


def test_settle_leaves_no_pending_task(caplog: pytest.LogCaptureFixture) -> None:
    """The worker's loop after a Redis error: its tasks are cancelled and awaited before it
    is closed, so nothing logs "Task was destroyed but it is pending!"."""
    import gc
    loop = asyncio.new_event_loop()
    stopped: list[bool] = []

    async def forever() -> None:
        await asyncio.sleep(3600)

    async def shutdown() -> None:
        stopped.append(True)

    tasks = [loop.create_task(forever(), name=f"nt:{i}") for i in range(3)]
    loop.run_until_complete(asyncio.sleep(0))
    with caplog.at_level(logging.ERROR, "asyncio"):
        settle(loop, shutdown())
        loop.close()
        del tasks
        gc.collect()
    assert stopped == [True]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
