"""``switchboard backup`` / ``restore`` with real redis-server processes: a snapshot taken
while the embedded Redis serves, restored into another data folder and started by the same
embedded set-up ``serve`` uses; refusals leave the target as it was."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from realtime.auth import load_secret
from realtime.backup import BackupError, backup, restore
from realtime.cli import main
from realtime.redisproc import DataDirInUse, EmbeddedRedis


def _fill(url: str) -> None:
    r = redis.Redis(unix_socket_path=url.removeprefix("unix://"))
    r.hset("sb:t:demo.1", mapping={"number": "A001", "status": "waiting"})
    r.zadd("sb:q:demo:internal", {"demo.1": 1.0, "demo.2": 2.0})
    r.xadd("sb:s:demo", {"type": "issued", "data": "号码 A001"})
    r.set("sb:ttl", "soon", ex=3600)
    r.close()


def _contents(url: str) -> dict[str, Any]:
    r: Any = redis.Redis(unix_socket_path=url.removeprefix("unix://"), decode_responses=True)
    out = {"t": r.hgetall("sb:t:demo.1"), "q": r.zrange("sb:q:demo:internal", 0, -1,
                                                        withscores=True),
           "s": [f for _, f in r.xrange("sb:s:demo")], "ttl": 0 < r.ttl("sb:ttl") <= 3600,
           "keys": r.dbsize()}
    r.close()
    return out


@pytest.fixture
def source(tmp_path: Path) -> Iterator[tuple[EmbeddedRedis, str]]:
    emb = EmbeddedRedis(tmp_path / "a")
    url = emb.start()
    load_secret(None, tmp_path / "a")
    _fill(url)
    yield emb, url
    emb.stop()


def test_backup_while_serving_then_restore_elsewhere(source: tuple[EmbeddedRedis, str],
                                                     tmp_path: Path) -> None:
    emb, url = source
    before = _contents(url)
    out = tmp_path / "backups" / "b.tar.gz"
    m = backup(out, url, emb.data_dir)
    assert m["secret"] and m["keys_at_start"] == 4 and m["rdb_bytes"] > 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # personal data and the token key
    with tarfile.open(out) as tar:
        assert sorted(tar.getnames()) == ["dump.rdb", "manifest.json", "secret"]
        assert all(stat.S_IMODE(i.mode) == 0o600 for i in tar.getmembers())
    emb.stop()

    target = tmp_path / "b"
    r = restore(out, target)
    assert r.keys == 4 and r.moved_to is None and r.secret and r.archive_secret
    assert not (target / "dump.rdb").exists()  # the append-only file holds it now
    assert load_secret(None, target, create=False) == load_secret(None, emb.data_dir)
    again = EmbeddedRedis(target)
    try:
        assert _contents(again.start()) == before
    finally:
        again.stop()


def test_restore_moves_what_was_there_aside_and_can_keep_the_secret(
        source: tuple[EmbeddedRedis, str], tmp_path: Path) -> None:
    emb, url = source
    out = tmp_path / "b.tar.gz"
    backup(out, url, emb.data_dir)
    target = tmp_path / "c"
    other = EmbeddedRedis(target)
    redis.Redis(unix_socket_path=other.start().removeprefix("unix://")).set("mine", "1")
    own_secret = load_secret(None, target)
    # While a server runs on the folder: refused, nothing moved.
    with pytest.raises(DataDirInUse):
        restore(out, target)
    assert not list(target.glob("before-restore-*"))
    other.stop()
    r = restore(out, target, keep_secret=True)
    assert r.moved_to is not None and r.moved_to.name.startswith("before-restore-")
    assert {p.name for p in r.moved_to.iterdir()} >= {"appendonlydir"} or \
        (r.moved_to / "appendonly.aof").exists()
    assert load_secret(None, target, create=False) == own_secret and not r.secret
    again = EmbeddedRedis(target)
    try:
        url2 = again.start()
        assert _contents(url2)["keys"] == 4
        assert redis.Redis(unix_socket_path=url2.removeprefix("unix://")).get("mine") is None
    finally:
        again.stop()


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("members", [
    {"manifest.json": b'{"format": 1}', "dump.rdb": b"x", "../secret": b"k"},
    {"manifest.json": b'{"format": 1}'},
    {"manifest.json": b'{"format": 99}', "dump.rdb": b"REDIS0009"},
    {"manifest.json": b'not json', "dump.rdb": b"REDIS0009"},
    {"manifest.json": b'[1]', "dump.rdb": b"REDIS0009"},
    # A valid archive whose snapshot Redis cannot load (corrupt, or from a newer Redis):
    # found in the staging folder, before the folder's state is touched.
    {"manifest.json": b'{"format": 1}', "dump.rdb": b"REDIS0099garbage", "secret": b"new"},
    None,  # not a tar.gz at all
])
def test_bad_archives_are_refused_before_anything_moves(tmp_path: Path,
                                                         members: dict[str, bytes] | None
                                                         ) -> None:
    path = tmp_path / "x.tar.gz"
    if members is None:
        path.write_bytes(os.urandom(200))
    else:
        _tar(path, members)
    target = tmp_path / "d"
    target.mkdir()
    (target / "secret").write_text("keep me\n")
    (target / "appendonly.aof").write_text("*1\r\n$4\r\nPING\r\n")
    with pytest.raises(BackupError):
        restore(path, target)
    assert (target / "secret").read_text() == "keep me\n"
    assert (target / "appendonly.aof").exists()
    assert sorted(p.name for p in target.iterdir()) == ["appendonly.aof", "secret",
                                                        "switchboard.lock"]


def test_an_archive_without_a_secret_keeps_the_folders(source: tuple[EmbeddedRedis, str],
                                                      tmp_path: Path) -> None:
    """A backup of an external Redis has no secret: restoring it must not take away the
    folder's, which every kiosk, board and device link is signed with."""
    _, url = source
    out = tmp_path / "nosecret.tar.gz"
    assert backup(out, url, None)["secret"] is False
    target = tmp_path / "e"
    own = load_secret(None, target)
    r = restore(out, target)
    assert not r.secret and not r.archive_secret
    assert load_secret(None, target, create=False) == own


def test_command_line(source: tuple[EmbeddedRedis, str], tmp_path: Path,
                      capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
                      ) -> None:
    emb, _ = source
    out = tmp_path / "cli.tar.gz"
    assert main(["backup", "--out", str(out), "--data-dir", str(emb.data_dir)]) == 0
    assert "secret included" in capsys.readouterr().out
    assert main(["restore", str(out), "--data-dir", str(emb.data_dir)]) == 1  # running
    assert "in use by another switchboard" in capsys.readouterr().err
    with monkeypatch.context() as env:  # an external Redis is restored with its own tools
        env.setenv("SWITCHBOARD_REDIS_URL", "redis://127.0.0.1:1/0")
        assert main(["restore", str(out)]) == 2
    # An external Redis with --data-dir beside it: the folder's secret goes in too.
    assert main(["backup", "--out", str(tmp_path / "ext.tar.gz"), "--data-dir",
                 str(emb.data_dir), "--redis-url", emb.url]) == 0
    assert "secret included" in capsys.readouterr().out
    # ... and so with the folder given as the variable, as the systemd unit gives it.
    with monkeypatch.context() as env:
        env.setenv("SWITCHBOARD_DATA_DIR", str(emb.data_dir))
        env.setenv("SWITCHBOARD_REDIS_URL", emb.url)
        assert main(["backup", "--out", str(tmp_path / "env.tar.gz")]) == 0
        assert "secret included" in capsys.readouterr().out
    # Without a folder: said, on stderr, with what to do.
    assert main(["backup", "--out", str(tmp_path / "bare.tar.gz"), "--redis-url",
                 emb.url]) == 0
    said = capsys.readouterr()
    assert "secret not included" in said.out and "keep it with the backups" in said.err
    assert main(["backup", "--out", str(tmp_path / "n.tar.gz"),
                 "--redis-url", "redis://127.0.0.1:1/0"]) == 1
    assert "unreachable" in capsys.readouterr().err
    assert not (tmp_path / "n.tar.gz").exists()

