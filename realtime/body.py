"""Reading request bodies: size limit first, then strict decoding into a msgspec type."""

from __future__ import annotations

import asyncio
import re
from typing import TypeVar

import msgspec
from starlette.requests import Request

from queueing.errors import BadRequest, PayloadTooLarge, RequestTimeout, UnknownField
from queueing.model import PLAIN, PLAIN_LINES

T = TypeVar("T")


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body over {limit} bytes", limit=limit)
    chunks: list[bytes] = []
    size = 0
    # A body trickled a byte at a time would hold the request (and its socket) for ever.
    timeout_s = request.app.state.sb.settings.http_read_timeout_s
    try:
        async with asyncio.timeout(timeout_s):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"request body over {limit} bytes", limit=limit)
                chunks.append(chunk)
    except TimeoutError as exc:
        raise RequestTimeout(f"the request body did not arrive within {timeout_s:g} s",
                             timeout_s=timeout_s) from exc
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
        raise BadRequest(_plain_words(text)) from exc
    except msgspec.DecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from exc


_PATTERN = re.compile(r"Expected `str` matching regex '(?P<p>.*)' - at `(?P<at>[^`]*)`")
_PLAIN_SAYS = {PLAIN: "plain text: no control characters (line breaks, tabs) and no "
               "bidirectional overrides (U+202A-U+202E, U+2066-U+2069)",
               PLAIN_LINES: "text without control characters other than line breaks and "
               "tabs, and without bidirectional overrides (U+202A-U+202E, U+2066-U+2069)"}


def _plain_words(text: str) -> str:
    """msgspec names the regex a free-text field failed; say what it means instead."""
    m = _PATTERN.fullmatch(text)
    if m is None:
        return text
    for pattern, says in _PLAIN_SAYS.items():
        if m["p"] == repr(pattern)[1:-1]:  # msgspec quotes the pattern with repr
            return f"{m['at']} must be {says}"
    return text


async def json_body(request: Request, into: type[T], limit: int, allow_empty: bool = False) -> T:
    return decode(await read_body(request, limit), into, allow_empty)


def read_back(raw: bytes, ident: str, what: str, top: tuple[str, ...] = (),
              nested: dict[str, tuple[str, ...]] | None = None
              ) -> tuple[bytes, dict[str, object]]:
    """A document as its ``GET`` answered it, made fit to ``PUT`` back: its ``id`` (which
    must be ``ident``, the URL's ``what``) and the read-only fields ``top`` (and, in each
    item of a list ``nested`` names, those fields) are set aside and returned. A body that is
    not a JSON object goes on as it is: ``decode`` says what is wrong with it."""
    try:
        doc = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return raw, {}
    if not isinstance(doc, dict):
        return raw, {}
    if doc.get("id", ident) != ident:
        raise BadRequest(f"the document's id {str(doc['id'])[:64]!r} is not the {what} "
                         f"{ident!r} of the URL", field="id")
    aside = {k: doc.pop(k) for k in ("id", *top) if k in doc}
    for list_key, fields in (nested or {}).items():
        for item in doc.get(list_key) or []:
            if isinstance(item, dict):
                for f in fields:
                    item.pop(f, None)
    return msgspec.json.encode(doc), aside
