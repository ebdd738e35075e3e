"""Stream entries as the hub sees them, and stream-id arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

_decode = msgspec.json.Decoder().decode


@dataclass(frozen=True, slots=True)
class Entry:
    id: str  # the stream id: the offset clients resume from
    type: str
    ts: int  # server time of the change, epoch ms
    actor: str
    via: str
    data: dict[str, Any]


def decode_entry(eid: bytes | str, fields: dict[bytes, bytes]) -> Entry:
    return Entry(eid.decode() if isinstance(eid, bytes) else eid, fields[b"t"].decode(),
                 int(fields[b"ts"]), fields.get(b"a", b"").decode(),
                 fields.get(b"ch", b"").decode(), _decode(fields[b"d"]))


def parse_id(offset: str) -> tuple[int, int]:
    ms, _, seq = offset.partition("-")
    return int(ms), int(seq or 0)


def id_lt(a: str, b: str) -> bool:
    return parse_id(a) < parse_id(b)
