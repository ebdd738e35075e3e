"""Named errors of the live dispatch system (everything in ``dispatch`` outside the solver).

``dispatch`` may not import ``queueing``, so its wire errors have their own root,
``DispatchFailure``, under the solver's ``DispatchError``; it carries the same fields as
``queueing.errors.SwitchboardError`` (a stable ``code``, an HTTP ``status``, ``temporary``,
``message``, ``details``, ``to_dict()``) and ``realtime.errors`` maps it the same way. Every
code is listed in docs/protocol.md (a test keeps that true).

    DispatchError (dispatch.solver.errors)
    └── DispatchFailure         (500, internal)
        ├── BadRequest          (400, bad_request)       malformed or wrongly typed input
        ├── NotFound            (404, not_found)
        │   ├── UnknownRegion   (404, unknown_region)
        │   ├── UnknownTechnician (404, unknown_technician)
        │   ├── UnknownJob      (404, unknown_job)
        │   └── UnknownOrg      (404, unknown_org)
        ├── Conflict            (409, conflict)
        │   ├── InvalidTransition (409, invalid_transition)  the job/technician status forbids it
        │   ├── OfferClosed     (409, offer_closed)      answered an offer that is not open to you
        │   ├── ActionMismatch  (409, action_mismatch)   an action id reused for another action
        │   ├── StaleToken      (409, stale_token)       a plan from a worker whose lock was lost
        │   ├── TechnicianBusy  (409, technician_busy)   removing a technician with work
        │   └── RegionBusy      (409, region_busy, temporary)  another worker holds the region
        ├── FixRejected         (422, fix_rejected)      a GPS fix that is not applied
        │   ├── FixFromFuture   (422, gps_future)
        │   ├── FixStale        (422, gps_stale)     older than the offline-replay window
        │   ├── FixOutOfOrder   (422, gps_out_of_order)
        │   └── FixTooFast      (422, gps_too_fast)
        └── Unavailable         (503, unavailable, temporary)
"""

from __future__ import annotations

from typing import Any, ClassVar

from dispatch.solver.errors import DispatchError


class DispatchFailure(DispatchError):
    """Root of every dispatch error a client can be told about."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    temporary: ClassVar[bool] = False

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.temporary:
            body["temporary"] = True
        if self.details:
            body["details"] = self.details
        return body


class BadRequest(DispatchFailure):
    code = "bad_request"
    status = 400


class NotFound(DispatchFailure):
    code = "not_found"
    status = 404


class UnknownRegion(NotFound):
    code = "unknown_region"


class UnknownTechnician(NotFound):
    code = "unknown_technician"


class UnknownJob(NotFound):
    code = "unknown_job"


class UnknownOrg(NotFound):
    code = "unknown_org"


class Conflict(DispatchFailure):
    code = "conflict"
    status = 409


class InvalidTransition(Conflict):
    code = "invalid_transition"


class OfferClosed(Conflict):
    """The offer expired, was withdrawn, answered already, or is another technician's."""

    code = "offer_closed"


class ActionMismatch(Conflict):
    """A device reused an action id for a different action."""

    code = "action_mismatch"


class StaleToken(Conflict):
    """A plan whose fencing token is older than one already accepted: the worker lost its
    lock while it computed, and its result is refused."""

    code = "stale_token"


class TechnicianBusy(Conflict):
    """A technician cannot be removed while a job is assigned to it or under way."""

    code = "technician_busy"


class RegionBusy(Conflict):
    code = "region_busy"
    temporary = True


class FixRejected(DispatchFailure):
    """A GPS fix that is not applied; ``details["reason"]`` is the reason code."""

    code = "fix_rejected"
    status = 422


class FixFromFuture(FixRejected):
    code = "gps_future"


class FixStale(FixRejected):
    """A fix older than a device's offline buffer may be (a time in seconds, 1970)."""

    code = "gps_stale"


class FixOutOfOrder(FixRejected):
    code = "gps_out_of_order"


class FixTooFast(FixRejected):
    code = "gps_too_fast"


class Unavailable(DispatchFailure):
    code = "unavailable"
    status = 503
    temporary = True


def all_error_classes() -> list[type[DispatchFailure]]:
    """Every dispatch error class, for documentation checks."""
    seen: list[type[DispatchFailure]] = []
    stack: list[type[DispatchFailure]] = [DispatchFailure]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen


def error_for(code: str) -> type[DispatchFailure]:
    """The class for a code a Lua script returned."""
    for cls in all_error_classes():
        if cls.code == code:
            return cls
    return DispatchFailure
