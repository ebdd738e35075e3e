"""Whose data is this? The matching rules of an erasure (pure: no Redis, no clock).

An erasure names a person at a site by a phone number, a ticket or a booking
(queueing/erase.py does the I/O). These functions decide, for one stored value, ticket,
booking or event entry, whether it holds that person's data.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Any

# A number as text to join and the verification code take it (realtime/sms_api.PHONE),
# once spaces, dashes, dots and brackets are taken out: "+86 138-0013-8000" is one too.
NUMBER = re.compile(r"\+?[0-9]{6,15}")
_SEPARATORS = str.maketrans("", "", " -().")


def canonical(value: str | None) -> str | None:
    """One spelling per phone number ("+8613800138000"), or None: not a number (a push
    endpoint, a name, a patient id)."""
    if not value:
        return None
    bare = value.translate(_SEPARATORS)
    return "+" + bare.lstrip("+") if NUMBER.fullmatch(bare) else None


def spellings(number: str) -> tuple[str, str]:
    """The two spellings keys are written with ("+86…" and "86…"): text to join writes the
    first, a code asked for without "+" the second."""
    return number, number.lstrip("+")


def alias(booking_id: str) -> str:
    """What an erased booking's ``customer`` becomes: its own, so the booking keeps an index
    of one (one person's limits still apply to it) and no two erased bookings share one."""
    return "erased-" + hashlib.sha256(booking_id.encode()).hexdigest()[:12]


def reference(secret: str, site: str, number: str) -> str:
    """What stands for the number in the erasure's audit entry: a keyed hash, so an admin
    can check whether a number was erased (erase it again: the same reference) but nobody
    can recover it (a plain hash of a phone number is undone by trying every number)."""
    mac = hmac.new(secret.encode(), f"erase:{site}:{number}".encode(), hashlib.sha256)
    return mac.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Person:
    """Who is erased: a number (canonical) and the tickets and bookings named or found."""

    phone: str | None = None
    tickets: frozenset[str] = field(default_factory=frozenset)
    bookings: frozenset[str] = field(default_factory=frozenset)

    def number(self, value: str | None) -> bool:
        return self.phone is not None and canonical(value) == self.phone

    def ticket(self, t: dict[str, Any]) -> bool:
        """A ticket that still holds the person's number or, named, a number or a name."""
        if t.get("id") in self.tickets:
            return bool(t.get("notify") or t.get("customer"))
        return self.number(t.get("notify"))

    def booking(self, b: dict[str, Any]) -> bool:
        bid = str(b.get("id") or "")
        if bid in self.bookings:
            return bool(b.get("notify")) or b.get("customer") != alias(bid)
        return self.number(b.get("notify")) or self.number(b.get("customer"))

    def entry(self, data: dict[str, Any], raw: bytes) -> bool:
        """An event entry (its decoded ``d`` and the raw JSON) that carries the person's
        data: their ticket or booking as it was, or their number anywhere in it."""
        t, b = data.get("ticket"), data.get("booking")
        if isinstance(t, dict) and self.ticket(t):
            return True
        if isinstance(b, dict) and self.booking(b):
            return True
        return self.phone is not None and any(
            b'"' + s.encode() + b'"' in raw for s in spellings(self.phone))
