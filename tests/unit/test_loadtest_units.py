"""The load generator's own parts, without a server: frames in and out of the lean client,
what each dialect reads from a message, and the loss arithmetic."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec

from loadtest import dialects, generator
from loadtest.dialects import Msg, Reply, Subscribed
from loadtest.report import best_ok, render
from loadtest.run import percentile
from loadtest.wsclient import CLOSE, PING, TEXT, WSClient, client_frame
from realtime.protocol import MSGPACK, Event, Snapshot, encode, ws_frame


def _unmask(frame: bytes) -> tuple[int, bytes]:
    n = frame[1] & 0x7F
    at = 2
    if n == 126:
        n, at = int.from_bytes(frame[2:4], "big"), 4
    key, body = frame[at:at + 4], frame[at + 4:]
    return frame[0] & 0x0F, bytes(b ^ key[i % 4] for i, b in enumerate(body))


def test_client_frames_are_masked_and_readable() -> None:
    for payload in (b"", b"x", b"y" * 200):
        f = client_frame(TEXT, payload)
        assert f[1] & 0x80 and _unmask(f) == (TEXT, payload)


class _Transport:
    def __init__(self) -> None:
        self.out: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.out.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


async def test_client_reads_split_and_batched_frames_and_answers_pings() -> None:
    got: list[bytes] = []
    c = WSClient("h:1", "/ws", lambda p, o: got.append(p))
    t = _Transport()
    c.connection_made(t)
    handshake = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
    frames = ws_frame(b"one") + ws_frame(b"two" * 100) + bytes((0x80 | PING, 2)) + b"hi"
    data = handshake + frames + ws_frame(b"three")
    for i in range(0, len(data), 7):  # arrives in pieces
        c.data_received(data[i:i + 7])
    assert c.opened.done() and got == [b"one", b"two" * 100, b"three"]
    assert _unmask(t.out[-1]) == (0xA, b"hi")  # pong with the ping's payload
    c.data_received(bytes((0x80 | CLOSE, 2)) + (4008).to_bytes(2, "big"))
    assert c.closed and c.close_code == 4008 and t.closed
    await asyncio.sleep(0)


def test_switchboard_dialect_reads_offsets_calls_and_places() -> None:
    d = dialects.make("switchboard")
    called = encode(Event("board:s", "e1", "1700000000123-4", "called", {"number": "A007"}))
    m = d.parse(called)
    assert m == Msg("board:s", None, 1700000000123, "1700000000123-4", True)
    waiting = encode(Event("board:s", "e1", "1700000000124-0", "waiting", {"waiting": {}}))
    assert d.parse(waiting).counted is False  # type: ignore[union-attr]
    pos = encode(Event("ticket:s.1", "e1", "1700000000125-0", "position", {"position": 3}))
    assert d.parse(pos) == Msg("ticket:s.1", -3, 1700000000125, "1700000000125-0", True)
    snap = encode(Snapshot("ticket:s.1", "e1", "1-0", {"position": 5, "status": "waiting"}))
    assert d.parse(snap) == Subscribed("ticket:s.1", -5, False, "e1", "1-0", "waiting")
    tech = dialects.make("switchboard", "msgpack")
    offer = encode(Event("tech:r.t1", "e", "9-0", "offer", {"j": "r.j1", "dl": 1}), MSGPACK)
    assert tech.parse(offer).job == "r.j1"  # type: ignore[union-attr]
    where = encode(Event("tech:r.t1", "e", "9-1", "position", {"lat": 1, "lon": 2, "t": 77}),
                   MSGPACK)
    assert tech.parse(where) == Msg("tech:r.t1", 77, 9, "9-1", False)


def test_peer_dialects() -> None:
    body: dict[str, Any] = {"topic": "board:s", "seq": 4, "ts": 1000, "type": "called",
                            "data": {"number": "A004"}}
    assert dialects.make("bare").parse(msgspec.json.encode(body)) == \
        Msg("board:s", 4, 1000, "", True)
    sio = dialects.make("socketio")
    assert sio.parse(b'0{"sid":"x"}') == Reply((b"40",))
    assert sio.parse(b'40{"sid":"y"}') == Reply((), ready=True)
    assert sio.parse(b"2") == Reply((b"3",))
    assert sio.parse(b"42" + msgspec.json.encode(["msg", body])) == \
        Msg("board:s", 4, 1000, "", True)


def test_sequence_bookkeeping_counts_gaps_and_disorder() -> None:
    gen = generator.Generator({"dialect": "bare", "port": 1, "conns": [("t", None)]})
    gen.start()
    conn = gen.conns[0]
    for seq in (1, 2, 4, 4, 3, 5):
        conn.on_message(msgspec.json.encode({"topic": "t", "seq": seq, "ts": 0}), TEXT)
    assert (conn.got, conn.gaps, conn.unordered) == (4, 1, 1)
    r = gen.result()
    assert r["per_topic"]["t"][:4] == [1, 4, 1, 1] and r["delivered"] == 6


def test_percentiles_and_split() -> None:
    hist = {1: 50, 2: 45, 10: 4, 100: 1}
    assert [percentile(hist, 100, q) for q in (0.5, 0.95, 0.99, 1.0)] == [1, 2, 10, 100]
    assert percentile({}, 0, 0.5) is None
    assert generator.split(range(5), 2) == [[0, 2, 4], [1, 3]]


def test_report_ratio_and_best_rate() -> None:
    base = {"scenario": "boards", "target": "switchboard", "sweep": "boards@10/s", "n": 10,
            "connections": 10, "p50_ms": 5.0, "p95_ms": 9.0, "p99_ms": 20.0,
            "max_ms": 30.0, "delivered_per_s": 100.0, "lost": 0, "errors": 0,
            "server_cpu_pct": 5.0, "rss_per_conn_kb": 20.0}
    bare = {**base, "target": "bare", "delivered_per_s": 120.0, "p99_ms": 10.0}
    slow = {**base, "target": "python-socketio", "p99_ms": 500.0}
    assert best_ok([base, bare, slow], "boards@10/s", "bare") == 120.0
    assert best_ok([base, bare, slow], "boards@10/s", "python-socketio") == 0.0
    text = render([base, bare, slow], Path("/nonexistent"), plots=False)
    assert "1.20× / p99 0.5×" in text
