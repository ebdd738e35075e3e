"""Address geocoding, pluggable through geopy. None is configured by default: Switchboard
assumes no network, so a job needs a ``location`` unless a geocoder is given.

    engine = DispatchEngine(store, geocoder=GeopyGeocoder(Nominatim(user_agent="acme")))
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol


class Geocoder(Protocol):
    async def geocode(self, address: str) -> tuple[float, float] | None: ...


class GeopyGeocoder:
    """Any geopy geocoder (synchronous ones run in a thread)."""

    def __init__(self, geocoder: Any) -> None:
        self.geocoder = geocoder

    async def geocode(self, address: str) -> tuple[float, float] | None:
        loc = await asyncio.to_thread(self.geocoder.geocode, address)
        return None if loc is None else (float(loc.latitude), float(loc.longitude))


class TableGeocoder:
    """A fixed address book (tests, demos, a customer's known sites)."""

    def __init__(self, table: dict[str, tuple[float, float]]) -> None:
        self.table = {k.strip().lower(): v for k, v in table.items()}

    async def geocode(self, address: str) -> tuple[float, float] | None:
        return self.table.get(address.strip().lower())
