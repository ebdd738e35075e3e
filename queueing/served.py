"""Which services a site serves: those some counter lists, whatever the counter's state.

A ticket in a service no counter lists is never called: it waits, "nobody ahead", until the
day's close cancels it. So issuing one and transferring one there are refused
(``ServiceNotServed``, 409 ``service_not_served``), in the store's scripts, where the check
and the write are one step (queueing/lua/prelude.lua ``served``). A counter that is closed
now still serves its services: it may open later. A booked person who checks in is still
admitted (the booking was taken while the service was offered; staff call or transfer the
ticket by hand).

A service whose last counter stops listing it keeps its waiting tickets: they are not
cancelled or moved (an admin editing counters must not silently end people's wait).
The site document as read (``GET /v1/sites/{site}``, and a ``PUT``'s answer) lists them under
``unserved``: ``{service: tickets waiting}``, for an admin or supervisor to serve, transfer
or cancel them.
"""

from __future__ import annotations

from collections.abc import Mapping

from queueing.errors import Conflict
from queueing.model import SiteConfig


class ServiceNotServed(Conflict):
    """No counter of the site lists the service: its tickets would never be called.
    ``details.service`` names it. (A subclass of ``Conflict``: 409.)"""

    code = "service_not_served"


def served(cfg: SiteConfig) -> frozenset[str]:
    """The ids of the services some counter of ``cfg`` lists."""
    return frozenset(s for c in cfg.counters for s in c.services)


def refusal(service: str) -> ServiceNotServed:
    return ServiceNotServed(f"no counter serves {service!r}: a ticket there would never be "
                            "called (add it to a counter's services first)", service=service)


def unserved(cfg: SiteConfig) -> list[str]:
    """The ids of the services no counter of ``cfg`` lists, in the document's order."""
    live = served(cfg)
    return [s.id for s in cfg.services if s.id not in live]


def stranded(waiting: Mapping[str, int]) -> dict[str, int]:
    """``{service: tickets waiting}`` of the unserved services that still hold some."""
    return {svc: n for svc, n in waiting.items() if n > 0}
