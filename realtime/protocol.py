"""The websocket wire protocol, as pure code: parse client frames, encode server frames.

No I/O here: the hub feeds bytes in and sends what comes out. docs/protocol.md and
docs/asyncapi.yaml describe every message and error code below; a test fails if the code
has one the documents lack.

Client → server (``op``): ``auth``, ``subscribe``, ``unsubscribe``, ``ping``, and the
publish ops later parts register (GPS fixes, offer answers) through ``register_publish``.
Server → client: ``snapshot``, ``event``, ``error``, ``pong``.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

import msgspec

JSON: Final = "switchboard.v1.json"
MSGPACK: Final = "switchboard.v1.msgpack"
SUBPROTOCOLS: Final = (JSON, MSGPACK)

TopicName = Annotated[str, msgspec.Meta(min_length=3, max_length=200,
                                        pattern=r"^[a-z]+(:[A-Za-z0-9_.\-]+)+(?!\n)$")]


class Since(msgspec.Struct, forbid_unknown_fields=True):
    epoch: Annotated[str, msgspec.Meta(max_length=64)]
    offset: Annotated[str, msgspec.Meta(max_length=64, pattern=r"^\d+-\d+(?!\n)$")]

    def __post_init__(self) -> None:
        # A stream id is two unsigned 64-bit numbers; a larger one is the client's error
        # (invalid_message), not a store failure to retry for ever.
        if any(int(part) >= 1 << 64 for part in self.offset.split("-")):
            raise ValueError("offset parts must be below 2^64")


class ClientMessage(msgspec.Struct, tag_field="op", forbid_unknown_fields=True):
    pass


class Auth(ClientMessage, tag="auth"):
    token: Annotated[str, msgspec.Meta(max_length=4096)]
    id: int | None = None


class Subscribe(ClientMessage, tag="subscribe"):
    topic: TopicName
    since: Since | None = None
    id: int | None = None


class Unsubscribe(ClientMessage, tag="unsubscribe"):
    topic: TopicName
    id: int | None = None


class Ping(ClientMessage, tag="ping"):
    id: int | None = None


_PUBLISH: list[type[ClientMessage]] = []


def register_publish(cls: type[ClientMessage]) -> type[ClientMessage]:
    """Add a client → server op (a tagged ClientMessage subclass) to the protocol."""
    _PUBLISH.append(cls)
    _decoders.clear()
    return cls


def client_types() -> tuple[type[ClientMessage], ...]:
    return (Auth, Subscribe, Unsubscribe, Ping, *_PUBLISH)


# -- server messages ---------------------------------------------------------------------

class Snapshot(msgspec.Struct, tag_field="op", tag="snapshot"):
    topic: str
    epoch: str
    offset: str
    data: Any
    resync: bool = False
    id: int | None = None


class Event(msgspec.Struct, tag_field="op", tag="event"):
    topic: str
    epoch: str
    offset: str
    type: str
    data: Any


class Error(msgspec.Struct, tag_field="op", tag="error", omit_defaults=True):
    """``details``: the same machine-readable fields an HTTP error body has for the same
    refusal (``reason`` of an ``unauthorized``, ``role``/``field`` of a ``forbidden``,
    ``retry_after_s`` of a ``rate_limited``); left out when there are none."""

    code: str
    message: str
    temporary: bool = False
    id: int | None = None
    details: dict[str, Any] | None = None


class Pong(msgspec.Struct, tag_field="op", tag="pong", omit_defaults=True):
    id: int | None = None


ServerMessage = Snapshot | Event | Error | Pong

# -- errors ------------------------------------------------------------------------------


class ProtocolError(Exception):
    """A frame the server cannot act on. Sent back as ``error``; the connection stays."""

    def __init__(self, code: str, message: str, id: int | None = None,
                 temporary: bool = False, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.id = id
        self.temporary = temporary
        self.details = details or None

    def to_message(self) -> Error:
        return Error(self.code, self.message, self.temporary, self.id, self.details)


def error_frame(exc: Any, msg_id: int | None = None) -> Error:
    """A domain error (``SwitchboardError``, ``DispatchFailure``: ``code``, ``message``,
    ``temporary``, ``details``) as an ``error`` frame, its details kept as HTTP keeps them."""
    return Error(exc.code, exc.message, bool(exc.temporary), msg_id,
                 dict(getattr(exc, "details", None) or {}) or None)


# Every error code the hub sends, with its meaning (docs/protocol.md must list each).
ERROR_CODES: dict[str, str] = {
    "bad_frame": "the frame is not valid JSON / msgpack, or not an object",
    "unknown_op": "the op is not one this server knows",
    "invalid_message": "a field is missing, unknown or of the wrong type",
    "frame_too_large": "the frame is larger than the server accepts",
    "rate_limited": "too many messages per second; slow down (temporary)",
    "too_many_subscriptions": "the connection already holds the maximum subscriptions",
    "unauthorized": "no valid token: send {op: auth} or connect with ?token=",
    "forbidden": "the token does not allow this topic or op",
    "unknown_topic": "no such topic namespace, or the thing it names does not exist",
    "not_subscribed": "unsubscribe from a topic the connection is not subscribed to",
    "slow": "the connection could not keep up with events; it is closed, resume with since",
    "unavailable": "the store is unreachable, busy for a moment or refusing writes "
                   "(details.reason); retry later (temporary)",
    "internal": "an unexpected server error; it was logged (temporary)",
}

# Close codes (4000-4999 are the application's).
CLOSE_SLOW: Final = 4008
CLOSE_UNAUTHORIZED: Final = 4001
CLOSE_ABUSE: Final = 4009
CLOSE_ORIGIN: Final = 4003
CLOSE_CODES: dict[int, str] = {
    CLOSE_UNAUTHORIZED: "unauthorized: no valid token in time",
    CLOSE_ORIGIN: "origin not allowed",
    CLOSE_SLOW: "slow: could not keep up with events; resume with since",
    CLOSE_ABUSE: "abuse: repeated protocol or limit violations",
}

# -- parse / encode --------------------------------------------------------------------

_decoders: dict[str, Any] = {}


def _decoder(kind: str) -> Any:
    dec = _decoders.get(kind)
    if dec is None:
        union = client_types()
        typ = union[0] if len(union) == 1 else _union(union)
        dec = (msgspec.json.Decoder(typ) if kind == JSON else msgspec.msgpack.Decoder(typ))
        _decoders[kind] = dec
    return dec


def _union(types: tuple[type[ClientMessage], ...]) -> Any:
    out: Any = types[0]
    for t in types[1:]:
        out = out | t
    return out


_peek_json = msgspec.json.Decoder(dict[str, Any])
_peek_msgpack = msgspec.msgpack.Decoder(dict[str, Any])


def parse(frame: bytes | str, kind: str = JSON, max_bytes: int = 65536) -> ClientMessage:
    """Decode one client frame; raise ProtocolError with a stable code if it is unusable."""
    # The limit is in bytes: a text frame is measured encoded (one CJK character is three).
    # Its length in characters is a lower bound, so a frame over that is refused unencoded.
    raw = frame if isinstance(frame, bytes) or len(frame) > max_bytes else frame.encode()
    if len(raw) > max_bytes:
        size = len(raw) if isinstance(raw, bytes) else f"at least {len(raw)}"
        raise ProtocolError("frame_too_large", f"frame of {size} bytes; the limit is {max_bytes}")
    assert isinstance(raw, bytes)
    try:
        return _decoder(kind).decode(raw)  # type: ignore[no-any-return]
    except msgspec.ValidationError as exc:
        try:
            raise _explain(raw, kind, exc) from exc
        except RecursionError:
            raise ProtocolError("bad_frame", "nested too deeply") from None
    except msgspec.DecodeError as exc:
        raise ProtocolError("bad_frame", f"not valid {_name(kind)}: {exc}") from exc
    except RecursionError:
        raise ProtocolError("bad_frame", "nested too deeply") from None


def _explain(raw: bytes, kind: str, exc: msgspec.ValidationError) -> ProtocolError:
    try:
        obj = (_peek_json if kind == JSON else _peek_msgpack).decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return ProtocolError("bad_frame", "a frame must be an object with an op")
    msg_id = obj.get("id") if type(obj.get("id")) is int else None  # not True/False
    op = obj.get("op")
    known = sorted(str(t.__struct_config__.tag) for t in client_types())
    if op is None:  # absent (or null): the frame is no op at all
        return ProtocolError("invalid_message", f"op is required; known: {known}", msg_id)
    if op not in known:
        return ProtocolError("unknown_op", f"unknown op {op!r}; known: {known}", msg_id)
    return ProtocolError("invalid_message", str(exc), msg_id)


def _name(kind: str) -> str:
    return "JSON" if kind == JSON else "msgpack"


_json_enc = msgspec.json.Encoder()
_msgpack_enc = msgspec.msgpack.Encoder()


def encode(msg: Any, kind: str = JSON) -> bytes:
    """One server frame. JSON frames go out as text, msgpack frames as binary."""
    return _json_enc.encode(msg) if kind == JSON else _msgpack_enc.encode(msg)


def ws_frame(payload: bytes, kind: str = JSON) -> bytes:
    """``payload`` as one whole websocket frame from the server (RFC 6455 §5.2): FIN set,
    text for JSON and binary for msgpack, unmasked, no extension. A server frame is the
    same bytes for every receiver, so the hub builds it once per message and writes it to
    each subscriber's socket as it is (per-message compression is off for this reason)."""
    n = len(payload)
    first = 0x81 if kind == JSON else 0x82
    if n < 126:
        return bytes((first, n)) + payload
    if n < 65536:
        return bytes((first, 126)) + n.to_bytes(2, "big") + payload
    return bytes((first, 127)) + n.to_bytes(8, "big") + payload


SERVER_TYPES: Final = {"snapshot": Snapshot, "event": Event, "error": Error, "pong": Pong}
Lane = Literal["event", "state"]
