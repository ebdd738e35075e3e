"""`switchboard token dispatcher` prints the console's link at the server's address: the
port it was started on (`--port`, or SWITCHBOARD_PORT as `serve` reads it) or its public
address (`--base-url`, or SWITCHBOARD_PUBLIC_URL), not always port 8000."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime.auth import load_secret
from realtime.cli import main


def _link(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    args = ["token", "dispatcher", "--region", "city", "--no-check",
            "--data-dir", str(tmp_path), *extra]
    assert main(args) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    [line] = [x for x in out.err.splitlines() if x.startswith("console / 调度台: ")]
    link = line.split(": ", 1)[1]
    assert link.endswith(f"/dispatch/city?token={token}")
    return link.split("/dispatch/", 1)[0]


@pytest.fixture(autouse=True)
def _clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SWITCHBOARD_SECRET", "SWITCHBOARD_PORT", "SWITCHBOARD_PUBLIC_URL",
                 "SWITCHBOARD_HOST"):
        monkeypatch.delenv(name, raising=False)
    load_secret(None, tmp_path)


def test_the_link_follows_the_servers_port(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert _link(tmp_path, capsys) == "http://127.0.0.1:8000"  # serve's default
    # `serve --demo --port 8731`: the same flag here.
    assert _link(tmp_path, capsys, "--port", "8731") == "http://127.0.0.1:8731"
    # The setting serve reads, exported for both.
    monkeypatch.setenv("SWITCHBOARD_PORT", "8731")
    assert _link(tmp_path, capsys) == "http://127.0.0.1:8731"
    assert _link(tmp_path, capsys, "--port", "9000") == "http://127.0.0.1:9000"


def test_the_link_uses_the_public_address(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    assert _link(tmp_path, capsys, "--base-url", "https://queue.example.org/") == \
        "https://queue.example.org"
    monkeypatch.setenv("SWITCHBOARD_PUBLIC_URL", "https://q.example.org/sb")
    assert _link(tmp_path, capsys, "--port", "8731") == "https://q.example.org/sb"
    assert _link(tmp_path, capsys, "--base-url", "http://10.0.0.5:8731") == \
        "http://10.0.0.5:8731"
    # Not an address: refused with the setting's name, nothing minted.
    with pytest.raises(SystemExit, match="at `--base-url`"):
        main(["token", "dispatcher", "--region", "city", "--no-check", "--data-dir",
              str(tmp_path), "--base-url", "queue.example.org"])
