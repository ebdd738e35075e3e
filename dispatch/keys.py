"""Redis key names of a dispatch region. All carry the hash tag ``{region:ID}`` (one Cluster
slot), and ids carry their region (``city.t17``, ``city.j-8f2c…``, ``city.acme``), so the key
slot of any technician, job or organisation is in its id."""

from __future__ import annotations

import re

ROOT = "sb"
REGIONS = f"{ROOT}:regions"  # index of region ids (outside any region's slot)
IDENT = re.compile(r"[A-Za-z0-9_-]{1,64}")
LOCAL = re.compile(r"[A-Za-z0-9_-]{1,64}")


def prefix(region: str) -> str:
    return f"{ROOT}:{{region:{region}}}:"


def events(region: str) -> str:
    """The region's event stream: the transactional outbox every script appends to."""
    return prefix(region) + "events"


def region_of(some_id: str) -> str:
    """``city.t17`` → ``city``; '' when the id names no region."""
    region, dot, rest = some_id.partition(".")
    return region if dot and rest and IDENT.fullmatch(region) else ""


def valid_id(some_id: str) -> bool:
    region, _, rest = some_id.partition(".")
    return bool(IDENT.fullmatch(region)) and bool(LOCAL.fullmatch(rest))
