"""Quiet hours: when a site sends no text about a booking that can wait. Pure.

``quiet_hours`` (the booking policy, docs/appointments.md) is ``[from, until]`` in the
site's local wall-clock time, e.g. ``["21:00", "08:00"]``: from 21:00 until 08:00 the next
morning (``from`` later than ``until`` wraps midnight). What happens to each text in them:

- a **reminder** due then is sent when they end, if that is still before the appointment
  starts (otherwise it is not sent); of two reminders of a booking that would both wait for
  the same morning, only the nearer one to the appointment goes (tasks.py);
- an **offer** of a freed place from the waiting list is texted when they end, and its
  ``offer_ttl_s`` counts from then; a place whose slot starts before they end is offered
  to nobody (the store's ``bk_offer_next``; consumer.py);
- a **suspension**, its lifting, and a **cancellation by staff** wait for the end too, unless
  the appointment starts within ``URGENT_S`` of it (the person must know before they leave
  home): then they go at once (``urgent``);
- texts that answer what the person is doing (booked, moved, waiting list, a ticket's
  calls, codes) go at once;
- the **day's close** cancelling a ticket still open (``cancelled_day_closed``) is not sent
  at night: in the quiet hours, or from 22:00 to 07:00 (``NIGHT``) where the site has none
  (``at_night``). It is dropped, not held: "closed for today" read at 08:00 is about
  yesterday, and the person was told when the last counter of their service closed that
  the ticket ends with the day (consumer.py, ``no_counter``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from queueing.booking.model import minutes
from queueing.booking.schedule import passes

# A suspension or a staff cancellation of an appointment starting less than this after
# quiet hours end goes out at once, at night too.
URGENT_S = 3 * 3600
# A site without quiet hours: its night, when no text about the day's close goes.
NIGHT = ("22:00", "07:00")


def quiet_end(now_ms: int, tz: ZoneInfo, hours: Sequence[str] | None) -> int | None:
    """When the quiet hours ``now_ms`` falls in end (ms), or None: not in quiet hours (or
    the site has none)."""
    if not hours or len(hours) != 2:
        return None
    start, end = minutes(hours[0]), minutes(hours[1])
    if start % 1440 == end % 1440:
        return None
    t = datetime.fromtimestamp(now_ms / 1000, tz)
    m, day = t.hour * 60 + t.minute, t.date()
    if start < end:
        return passes(day, end, tz) if start <= m < end else None
    if m >= start:
        return passes(day + timedelta(days=1), end, tz)
    if m < end:
        return passes(day, end, tz)
    return None


def urgent(start_ms: int, end_ms: int) -> bool:
    """A text about an appointment starting at ``start_ms`` must go at once though quiet
    hours last until ``end_ms``."""
    return start_ms < end_ms + URGENT_S * 1000


def at_night(now_ms: int, tz: ZoneInfo, hours: Sequence[str] | None) -> bool:
    """``now_ms`` is within the site's quiet hours, or ``NIGHT`` where it has none."""
    return quiet_end(now_ms, tz, hours if hours and len(hours) == 2 else NIGHT) is not None
