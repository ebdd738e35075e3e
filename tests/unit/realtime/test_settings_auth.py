from __future__ import annotations

import logging
from pathlib import Path

import jwt
import pytest

from queueing.errors import Forbidden, Unauthorized
from realtime.auth import load_secret, make_token, verify
from realtime.cli import main
from realtime.settings import FIELDS, from_env, to_env


def test_env_is_cast_and_flags_win() -> None:
    s = from_env({"SWITCHBOARD_PORT": "9000", "SWITCHBOARD_DEMO": "true",
                  "SWITCHBOARD_ALLOWED_ORIGINS": "http://a, http://b"}, port=9100)
    assert s.port == 9100 and s.demo is True
    assert s.allowed_origins == ["http://a", "http://b"]


def test_unknown_variables_are_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "switchboard.settings"):
        from_env({"SWITCHBOARD_PROT": "1"})
    assert "SWITCHBOARD_PROT" in caplog.text


def test_other_tools_variables_are_not_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    """The device simulator's token and the memory tracing share the prefix: a shell that
    exports them and then starts the server is not told they are unknown settings."""
    with caplog.at_level(logging.WARNING, "switchboard.settings"):
        from_env({"SWITCHBOARD_TOKEN": "x", "SWITCHBOARD_TRACEMALLOC": "5",
                  "SWITCHBOARD_TRACEMALLOC_DIR": "/tmp"})
    assert caplog.text == ""


def test_invalid_values_stop_start_up() -> None:
    with pytest.raises(SystemExit, match="SWITCHBOARD_PORT"):
        from_env({"SWITCHBOARD_PORT": "eighty"})
    # Named as the operator wrote them (the message said `$.kiosk_rate_per_min`).
    with pytest.raises(SystemExit, match="at `SWITCHBOARD_KIOSK_RATE_PER_MIN`"):
        from_env({"SWITCHBOARD_KIOSK_RATE_PER_MIN": "-3"})
    with pytest.raises(SystemExit, match="at `--port`"):
        from_env({}, port="abc")


def test_env_round_trip_for_workers() -> None:
    s = from_env({}, port=8123, allowed_origins=["https://x.example"], redis_url="unix:///tmp/r.sock")
    assert from_env(to_env(s)) == s


def test_configuration_doc_lists_every_setting() -> None:
    doc = (Path(__file__).parents[3] / "docs" / "configuration.md").read_text()
    missing = [f for f in FIELDS if f"SWITCHBOARD_{f.upper()}" not in doc]
    assert not missing, f"docs/configuration.md lacks {missing}"


def test_tokens_carry_scope() -> None:
    tok = make_token("k" * 32, "agent", site="s1", counter="3")
    p = verify("k" * 32, tok)
    assert (p.role, p.site, p.counter) == ("agent", "s1", "3")
    p.require_counter("s1", "3")
    with pytest.raises(Forbidden):
        p.require_counter("s1", "4")
    with pytest.raises(Forbidden):
        p.require("kiosk", site="s1")
    with pytest.raises(Unauthorized):
        verify("other" * 8, tok)
    with pytest.raises(ValueError, match="counter"):
        make_token("k" * 32, "agent", site="s1")


def test_token_command_uses_the_data_folder_secret(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_SECRET", raising=False)
    secret = load_secret(None, tmp_path)
    assert (tmp_path / "secret").stat().st_mode & 0o077 == 0
    assert main(["token", "display", "--site", "demo", "--data-dir", str(tmp_path)]) == 0
    p = verify(secret, capsys.readouterr().out.strip())
    assert (p.role, p.site) == ("display", "demo")
    assert main(["token", "agent", "--site", "demo", "--data-dir", str(tmp_path)]) == 2
    # Partners each need their own subject (their bookings and keys are theirs alone).
    assert main(["token", "partner", "--site", "demo", "--data-dir", str(tmp_path)]) == 2
    assert "--subject" in capsys.readouterr().err
    assert main(["token", "partner", "--site", "demo", "--subject", "acme-app", "--data-dir",
                 str(tmp_path)]) == 0
    assert verify(secret, capsys.readouterr().out.strip()).subject == "acme-app"
    capsys.readouterr()
    for bad in ("0", "-5", "soon"):  # 0 gave the default year, -5 an expired token
        with pytest.raises(SystemExit) as exited:
            main(["token", "kiosk", "--site", "demo", "--ttl-s", bad, "--data-dir",
                  str(tmp_path)])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert "argument --ttl-s" in err and ("at least 1" in err or "not a whole" in err)
    assert main(["token", "kiosk", "--site", "demo", "--ttl-s", "90", "--data-dir",
                 str(tmp_path)]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), secret, algorithms=["HS256"])
    assert claims["role"] == "kiosk" and claims["exp"] - claims["iat"] == 90
    # Defaults by role: a wall device a year, a workstation or wristband 30 days, the rest a
    # day (a console minted on Monday said "link not valid" on Tuesday).
    for argv, ttl in ((["display", "--site", "demo"], 365 * 86400),
                      (["agent", "--site", "demo", "--counter", "1"], 30 * 86400),
                      (["tech", "--tech", "city.t1"], 30 * 86400),
                      (["dispatcher", "--region", "city"], 30 * 86400),
                      (["admin"], 86400)):
        assert main(["token", *argv, "--data-dir", str(tmp_path)]) == 0
        claims = jwt.decode(capsys.readouterr().out.strip(), secret, algorithms=["HS256"])
        assert claims["exp"] - claims["iat"] == ttl, argv
        assert claims["jti"]  # every token can be revoked on its own


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s" * 32
    token = make_token(secret, "kiosk", site="x", ttl_s=60)
    first = verify(secret, token)
    assert verify(secret, token) is first  # the second use is the remembered verification
    import realtime.auth as auth
    real = auth.time.time
    monkeypatch.setattr(auth.time, "time", lambda: real() + 61 + auth.LEEWAY_S)  # past the leeway
    with pytest.raises(Unauthorized, match="expired"):
        verify(secret, token)


def test_a_token_is_remembered_per_secret() -> None:
    token = make_token("a" * 32, "admin")
    assert verify("a" * 32, token).role == "admin"
    with pytest.raises(Unauthorized, match="not valid"):
        verify("b" * 32, token)
