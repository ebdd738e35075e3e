"""What the generator says to each kind of server, and how it reads what comes back.

Every server under test gets the same generator logic; only this layer differs:

- ``switchboard``: the real protocol (docs/protocol.md), JSON or msgpack. The latency clock
  is the message ``offset``: a Redis stream id whose first part is the Redis server's time
  in ms at the change. The sequence number that losses are counted from is the ticket
  number for board calls (tickets are called in number order in these scenarios) and the
  place in the queue for a ticket holder (each call moves it one place).
- ``bare``: the ceiling peer (loadtest/peers/bare_server.py): JSON frames
  ``{"op": "subscribe", "topic"}`` in, ``{"topic", "seq", "ts", "type", "data"}`` out.
- ``socketio``: Engine.IO v4 over a plain websocket (``0{..}`` open, ``40`` connect,
  ``42["event", data]``, ``2``/``3`` ping/pong), the same payload as ``bare``.

``parse`` returns one of the small tuples below; the generator does the counting.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import msgspec

SB_JSON = "switchboard.v1.json"
SB_MSGPACK = "switchboard.v1.msgpack"


class Msg(NamedTuple):
    """A data message. ``counted``: one of the changes the driver made and the loss check
    counts (a board call, a ticket's move, a peer's publish). ``seq``: where the topic's
    sequence stands after it (a peer's publish number, minus a ticket's position), or None.
    ``offset``: the Switchboard offset (order check and resume); "" for peers."""

    topic: str
    seq: int | None
    ts_ms: int
    offset: str
    counted: bool
    job: str = ""  # an offer's job id (the device answers it)


class Subscribed(NamedTuple):
    topic: str
    seq: int | None  # the sequence position the snapshot stands at, when it has one
    resync: bool
    epoch: str
    offset: str
    status: str = ""  # the snapshot's ``status`` (a booking's, a ticket's), if any


class Failed(NamedTuple):
    code: str
    message: str


class Reply(NamedTuple):
    """Control traffic the generator must answer (socket.io ping, connect ack). ``ready``:
    the connection may now subscribe (socket.io's namespace is connected)."""

    frames: tuple[bytes, ...]
    ready: bool = False


Parsed = Msg | Subscribed | Failed | Reply | None


# -- switchboard --------------------------------------------------------------------------

class _SbData(msgspec.Struct):
    number: str | None = None
    position: int | dict[str, Any] | None = None  # a place in a queue, or a technician's
    status: str | None = None
    t: int | None = None  # a technician position's fix time
    j: str | None = None  # an offer's job


class _SbMsg(msgspec.Struct):
    op: str
    topic: str = ""
    epoch: str = ""
    offset: str = ""
    type: str = ""
    resync: bool = False
    code: str = ""
    message: str = ""
    data: _SbData | None = None


class Switchboard:
    name = "switchboard"
    resumable = True
    wait_ready = False

    def __init__(self, encoding: str = "json") -> None:
        # Board (and counter) events the loss check counts: calls, one per call made.
        self.counted_types = frozenset({"called"})
        self.msgpack = self.binary = encoding == "msgpack"
        self.subprotocol = SB_MSGPACK if self.msgpack else SB_JSON
        dec = msgspec.msgpack.Decoder(_SbMsg) if self.msgpack else msgspec.json.Decoder(_SbMsg)
        self._decode = dec.decode
        enc = msgspec.msgpack.Encoder() if self.msgpack else msgspec.json.Encoder()
        self._encode = enc.encode

    def path(self, token: str | None) -> str:
        return f"/ws?token={token}" if token else "/ws"

    def encode(self, msg: dict[str, Any]) -> bytes:
        return self._encode(msg)

    def subscribe(self, topic: str, since: tuple[str, str] | None = None) -> tuple[bytes, ...]:
        msg: dict[str, Any] = {"op": "subscribe", "topic": topic, "id": 1}
        if since is not None:
            msg["since"] = {"epoch": since[0], "offset": since[1]}
        return (self._encode(msg),)

    def parse(self, payload: bytes) -> Parsed:
        m = self._decode(payload)
        op = m.op
        if op == "event":
            ts = int(m.offset.partition("-")[0])
            topic = m.topic
            if topic.startswith("ticket:"):
                d = m.data
                pos = d.position if d is not None else None
                if not isinstance(pos, int):
                    pos = None
                return Msg(topic, -pos if pos is not None else None, ts, m.offset,
                           pos is not None)
            if topic.startswith("tech:"):
                d = m.data
                if m.type == "offer":
                    return Msg(topic, None, ts, m.offset, True, (d.j or "") if d else "")
                # A position is state: its fix time tells whether the latest arrived.
                return Msg(topic, d.t if d is not None and m.type == "position" else None,
                           ts, m.offset, False)
            return Msg(topic, None, ts, m.offset, m.type in self.counted_types)
        if op == "snapshot":
            d = m.data
            seq = -d.position if (m.topic.startswith("ticket:") and d is not None
                                  and isinstance(d.position, int)) else None
            return Subscribed(m.topic, seq, m.resync, m.epoch, m.offset,
                              (d.status or "") if d is not None else "")
        if op == "error":
            return Failed(m.code, m.message)
        return None


# -- peers ---------------------------------------------------------------------------------

class _PeerMsg(msgspec.Struct):
    topic: str
    seq: int = 0
    ts: int = 0
    type: str = ""


class Bare:
    name = "bare"
    resumable = False
    wait_ready = False
    binary = False
    subprotocol = None

    def __init__(self) -> None:
        self._decode = msgspec.json.Decoder(_PeerMsg).decode

    def path(self, token: str | None) -> str:
        return "/"

    def subscribe(self, topic: str, since: tuple[str, str] | None = None) -> tuple[bytes, ...]:
        return (msgspec.json.encode({"op": "subscribe", "topic": topic}),)

    def parse(self, payload: bytes) -> Parsed:
        m = self._decode(payload)
        if m.type == "subscribed":
            return Subscribed(m.topic, None, False, "", "")
        return Msg(m.topic, m.seq, m.ts, "", True)


_sio_event = msgspec.json.Decoder(tuple[str, _PeerMsg])


class SocketIO:
    """Engine.IO v4 / Socket.IO v5 over the websocket transport only."""

    name = "socketio"
    resumable = False
    wait_ready = True
    binary = False
    subprotocol = None

    def path(self, token: str | None) -> str:
        return "/socket.io/?EIO=4&transport=websocket"

    def subscribe(self, topic: str, since: tuple[str, str] | None = None) -> tuple[bytes, ...]:
        # Sent once the namespace is connected (``40`` acknowledged, see parse()).
        return (b'42' + msgspec.json.encode(["subscribe", topic]),)

    def parse(self, payload: bytes) -> Parsed:
        if payload[:2] == b"42":
            event, m = _sio_event.decode(payload[2:])
            if event == "subscribed":
                return Subscribed(m.topic, None, False, "", "")
            return Msg(m.topic, m.seq, m.ts, "", True)
        if payload == b"2":
            return Reply((b"3",))
        if payload[:1] == b"0":
            return Reply((b"40",))  # Engine.IO open → connect to the default namespace
        if payload[:2] == b"40":
            return Reply((), ready=True)  # namespace connected: now subscribe
        if payload[:2] == b"44":
            return Failed("connect_error", payload[2:].decode(errors="replace"))
        return None


Dialect = Switchboard | Bare | SocketIO


def make(name: str, encoding: str = "json") -> Dialect:
    if name == "switchboard":
        return Switchboard(encoding)
    if name == "bare":
        return Bare()
    if name in ("socketio", "python-socketio", "node-socketio"):
        return SocketIO()
    raise ValueError(f"unknown dialect {name}")
