"""Reading request bodies: size limit first, then strict decoding into a msgspec type."""

from __future__ import annotations

import asyncio
import re
from typing import TypeVar

import msgspec
from starlette.requests import Request

from queueing import phone
from queueing.errors import (
    BadRequest,
    InvalidPhoneNumber,
    PayloadTooLarge,
    RequestTimeout,
    UnknownField,
)
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
            raise UnknownField(text, **_field_of(text)) from exc
        if _failed_pattern(text) == PHONE:  # the reason docs/sms.md promises
            raise InvalidPhoneNumber(_plain_words(text), reason="invalid_phone_number",
                                     **_field_of(text)) from exc
        raise BadRequest(_plain_words(text), **_field_of(text)) from exc
    except msgspec.DecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from exc


_PATTERN = re.compile(r"Expected `str` matching regex '(?P<p>.*)' - at `(?P<at>[^`]*)`")
_AT = re.compile(r" - at `\$\.?(?P<at>[^`]*)`$")
_LANG = r"^[a-z]{2}(-[A-Za-z]{2,4})?$"
PHONE = f"^{phone.PATTERN}$"  # a number field as written (realtime/sms_api.py, verify.py)
_PLAIN_SAYS = {PLAIN: "plain text: no control characters (line breaks, tabs) and no "
               "bidirectional overrides (U+202A-U+202E, U+2066-U+2069)",
               PLAIN_LINES: "text without control characters other than line breaks and "
               "tabs, and without bidirectional overrides (U+202A-U+202E, U+2066-U+2069)",
               # The other patterns of queueing/model.py and dispatch/model.py, in words.
               r"^([01]\d|2[0-3]):[0-5]\d$": "a time of day as HH:MM, e.g. 08:00",
               r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$": "a time of day as HH:MM, e.g. 08:00 "
               "(24:00 for the end of the day)",
               r"^[A-Za-z0-9_-]{1,64}$": "1 to 64 letters, digits, '_' or '-'",
               r"^[A-Za-z0-9_.-]{1,40}$": "1 to 40 letters, digits, '.', '_' or '-'",
               r"^[A-Z]{1,3}$": "1 to 3 capital letters",
               r"^[A-Z]{2}$": "a two-letter country code in capitals, e.g. CN",
               _LANG: "a language code such as en or zh-CN",
               PHONE: "a phone number: 6 to 32 digits, spaces, dashes, dots or brackets, "
               "with + and the country code first for another country (+86 138 0013 8000)"}


def _failed_pattern(text: str) -> str | None:
    """The pattern (as written in the code) a field failed, if msgspec says it is one."""
    m = _PATTERN.fullmatch(text)
    if m is None:
        return None
    # msgspec quotes the pattern with repr
    return next((p for p in _PLAIN_SAYS if m["p"] == repr(p)[1:-1]), None)


def _plain_words(text: str) -> str:
    """msgspec names the regex a field failed; say what it means instead."""
    pattern = _failed_pattern(text)
    if pattern is None:
        return text
    at = _PATTERN.fullmatch(text)["at"]  # type: ignore[index]
    return f"{at} must be {_PLAIN_SAYS[pattern]}"


_NAMED = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]+)`")


def _field_of(text: str) -> dict[str, str]:
    """``details.field`` from msgspec's ``- at `$.shift.start``` and, for a field missing
    or unknown, its name (``shift.start`` for "missing required field `start` - at
    `$.shift`"); none for the whole body. Every other refusal of a field names it too."""
    m, named = _AT.search(text), _NAMED.search(text)
    path = [p for p in (m["at"] if m else "", named["name"] if named else "") if p]
    return {"field": ".".join(path)} if path else {}


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
