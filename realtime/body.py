"""Reading request bodies: size limit first, then strict decoding into a msgspec type."""

from __future__ import annotations

from typing import TypeVar

import msgspec
from starlette.requests import Request

from queueing.errors import BadRequest, PayloadTooLarge, UnknownField

T = TypeVar("T")


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body over {limit} bytes", limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body over {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def decode(raw: bytes, into: type[T], allow_empty: bool = False) -> T:
    """JSON → ``into``, with errors that say what and where (``$.services[0].prefix``)."""
    if not raw.strip():
        if allow_empty:
            raw = b"{}"
        else:
            raise BadRequest("a JSON body is required")
    try:
        return msgspec.json.decode(raw, type=into)
    except msgspec.ValidationError as exc:
        text = str(exc)
        if "unknown field" in text:
            raise UnknownField(text) from exc
        raise BadRequest(text) from exc
    except msgspec.DecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from exc


async def json_body(request: Request, into: type[T], limit: int, allow_empty: bool = False) -> T:
    return decode(await read_body(request, limit), into, allow_empty)
