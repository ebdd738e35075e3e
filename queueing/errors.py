"""Named errors of the queue domain.

Every error carries a stable ``code`` (listed in docs/protocol.md), an HTTP ``status`` the
HTTP adapter uses, and a ``temporary`` flag telling a client whether retrying the same request
later can succeed. Fields are data, not formatted strings, so transports can serialise them.

    SwitchboardError
    ├── BadRequest            (400, bad_request)      malformed or wrongly typed input
    │   ├── UnknownField      (400, unknown_field)
    │   ├── UnknownPriority   (400, unknown_priority)
    │   └── InvalidPhoneNumber (400, bad_request)     details.reason, details.field
    ├── Unauthorized          (401, unauthorized)     missing or invalid token
    ├── Forbidden             (403, forbidden)        token valid, scope wrong
    ├── NotFound              (404, not_found)
    │   ├── UnknownSite       (404, unknown_site)
    │   ├── UnknownService    (404, unknown_service)
    │   ├── UnknownCounter    (404, unknown_counter)
    │   ├── UnknownTicket     (404, unknown_ticket)
    │   ├── QueueEmpty        (404, queue_empty)
    │   ├── BookingNotConfigured (404, booking_not_configured)
    │   ├── UnknownResource   (404, unknown_resource)
    │   ├── UnknownSlot       (404, unknown_slot)
    │   ├── UnknownBooking    (404, unknown_booking)
    │   └── UnknownSuspension (404, unknown_suspension)
    ├── Conflict              (409, conflict)
    │   ├── InvalidTransition (409, invalid_transition)
    │   ├── CounterNotOpen    (409, counter_not_open)
    │   ├── CounterBusy       (409, counter_busy)
    │   ├── CounterIdle       (409, counter_idle)
    │   ├── RecallLimit       (409, recall_limit)
    │   ├── NothingToUndo     (409, nothing_to_undo)
    │   ├── UndoExpired       (409, undo_expired)
    │   ├── TicketChanged     (409, ticket_changed)
    │   ├── ServiceInUse      (409, service_in_use)
    │   ├── SiteClosed        (409, site_closed)         outside the site's issuing hours
    │   ├── ServiceClosed     (409, service_closed)      outside the service's own hours
    │   ├── SlotFull          (409, slot_full)           appointments from here down
    │   ├── ChannelQuota      (409, channel_quota)
    │   ├── Overlap           (409, overlap)
    │   ├── TooManyBookings   (409, too_many_bookings)
    │   ├── SlotClosed        (409, slot_closed)
    │   ├── ResourceSuspended (409, resource_suspended)
    │   ├── HoldExpired       (409, hold_expired)
    │   ├── OfferExpired      (409, offer_expired)
    │   ├── NotOffered        (409, not_offered)
    │   ├── TooEarly          (409, too_early)
    │   ├── TooLate           (409, too_late)
    │   └── ScheduleChanged   (409, schedule_changed, temporary)
    ├── IdempotencyMismatch   (422, idempotency_mismatch)
    ├── PayloadTooLarge       (413, payload_too_large)
    ├── RequestTimeout        (408, request_timeout)
    ├── RateLimited           (429, rate_limited, temporary)
    └── Unavailable           (503, unavailable, temporary)
"""

from __future__ import annotations

from typing import Any, ClassVar


class SwitchboardError(Exception):
    """Root of every error Switchboard reports to a client."""

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


class BadRequest(SwitchboardError):
    code = "bad_request"
    status = 400


class UnknownField(BadRequest):
    code = "unknown_field"


class UnknownPriority(BadRequest):
    code = "unknown_priority"


class InvalidPhoneNumber(BadRequest):
    """Not a possible phone number, or a national one where the site has no country
    (queueing/phone.py). Still ``bad_request`` (a client that knows that code needs no new
    one); ``details.reason`` says which: ``invalid_phone_number``, ``needs_country_code``."""


class Unauthorized(SwitchboardError):
    code = "unauthorized"
    status = 401


class Forbidden(SwitchboardError):
    code = "forbidden"
    status = 403


class NotFound(SwitchboardError):
    code = "not_found"
    status = 404


class UnknownSite(NotFound):
    code = "unknown_site"


class UnknownService(NotFound):
    code = "unknown_service"


class UnknownCounter(NotFound):
    code = "unknown_counter"


class UnknownTicket(NotFound):
    code = "unknown_ticket"


class QueueEmpty(NotFound):
    code = "queue_empty"


class Conflict(SwitchboardError):
    code = "conflict"
    status = 409


class InvalidTransition(Conflict):
    code = "invalid_transition"


class CounterNotOpen(Conflict):
    code = "counter_not_open"


class CounterBusy(Conflict):
    code = "counter_busy"


class CounterIdle(Conflict):
    code = "counter_idle"


class RecallLimit(Conflict):
    code = "recall_limit"


class NothingToUndo(Conflict):
    """A counter's ``undo`` with no complete or no-show of its own left to take back."""

    code = "nothing_to_undo"


class UndoExpired(Conflict):
    """A counter's ``undo`` later than ``policy.undo_window_s`` after the action."""

    code = "undo_expired"


class TicketChanged(Conflict):
    """A counter's ``undo`` of a ticket something else happened to since."""

    code = "ticket_changed"


class ServiceInUse(Conflict):
    code = "service_in_use"


class SiteClosed(Conflict):
    """A self-service ticket asked for outside the site's issuing hours (``policy.hours``,
    queueing/hours.py). ``details``: ``next_open`` (ISO 8601 with the site's offset, null:
    not within a year), ``next_open_local`` (``date``, ``weekday``, ``time``), ``timezone``,
    ``service``, and ``closed_note`` when today is a closed date with a name. Nothing is
    changed (no number is used)."""

    code = "site_closed"


class ServiceClosed(SiteClosed):
    """As ``SiteClosed``, but the site issues now and this service no longer does today (or
    not yet): its own hours (``policy.hours.services``)."""

    code = "service_closed"


# -- appointments (queueing/booking) ----------------------------------------------------

class BookingNotConfigured(NotFound):
    """The site has no booking schedule (``PUT /v1/sites/{site}/booking`` first)."""

    code = "booking_not_configured"


class UnknownResource(NotFound):
    code = "unknown_resource"


class UnknownSlot(NotFound):
    code = "unknown_slot"


class UnknownBooking(NotFound):
    code = "unknown_booking"


class UnknownSuspension(NotFound):
    code = "unknown_suspension"


class SlotFull(Conflict):
    """No place left in the slot for anyone."""

    code = "slot_full"


class ChannelQuota(Conflict):
    """Places are left, but they are held for other channels until the quota's release."""

    code = "channel_quota"


class Overlap(Conflict):
    """The customer already holds a booking overlapping this slot (or waits for it)."""

    code = "overlap"


class TooManyBookings(Conflict):
    code = "too_many_bookings"


class SlotClosed(Conflict):
    """The slot is past, too soon to book, or beyond the booking horizon."""

    code = "slot_closed"


class ResourceSuspended(Conflict):
    code = "resource_suspended"


class HoldExpired(Conflict):
    code = "hold_expired"


class OfferExpired(Conflict):
    code = "offer_expired"


class NotOffered(Conflict):
    """A waitlisted booking whose turn has not come (no place freed for it yet)."""

    code = "not_offered"


class TooEarly(Conflict):
    code = "too_early"


class TooLate(Conflict):
    code = "too_late"


class SiteChanged(Conflict):
    """The site was saved by someone else since the document being put was read."""

    code = "site_changed"


class ScheduleChanged(Conflict):
    """The booking schedule or the booking changed while the request was decided; retry."""

    code = "schedule_changed"
    temporary = True


class VerificationRequired(Forbidden):
    """The public booking page books for a mobile number only with a code texted to it."""

    code = "verification_required"


class VerificationFailed(Forbidden):
    """The code is not the one texted to the number, has expired, or was tried too often."""

    code = "verification_failed"


class IdempotencyMismatch(SwitchboardError):
    code = "idempotency_mismatch"
    status = 422


class PayloadTooLarge(SwitchboardError):
    code = "payload_too_large"
    status = 413


class RequestTimeout(SwitchboardError):
    code = "request_timeout"
    status = 408


class RateLimited(SwitchboardError):
    code = "rate_limited"
    status = 429
    temporary = True


class Unavailable(SwitchboardError):
    code = "unavailable"
    status = 503
    temporary = True


def all_error_classes() -> list[type[SwitchboardError]]:
    """Every concrete error class, for documentation checks."""
    seen: list[type[SwitchboardError]] = []
    stack: list[type[SwitchboardError]] = [SwitchboardError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen


def error_for(code: str) -> type[SwitchboardError]:
    """The class raised for a code a Lua script returned (subclasses defined later count too)."""
    for cls in all_error_classes():
        if cls.code == code:
            return cls
    return SwitchboardError
