"""Queue ordering policy: pure functions, no I/O, time passed in.

The order of a service's queue is an explicit list. A new ticket is inserted by its key
(priority class rank, then appointment time or arrival time), walking back from the tail past
tickets with a later key. Every ticket it passes is *overtaken* and spends one unit of its
aging budget; a ticket whose budget is spent cannot be passed, except by a preempting class
(emergency). A ticket inserted with ``ahead`` tickets in front of it gets the budget
``floor((aging_factor - 1) * (ahead + 1))``, so it is called no later than
``aging_factor × (ahead + 1)`` calls of its service after it joined: never more than that
factor later than in plain arrival order (preempting tickets aside). That is the no-starvation
guarantee, and because the order is a list, a person's position only changes when someone
ahead leaves or is let in, never by the clock.

The Redis scripts (q_insert in queueing/lua/prelude.lua) implement the same walk; tests check the
two agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

# Keys are rank * RANK_SPAN + reference time in epoch ms: exact in a double up to rank 899.
RANK_SPAN = 10**13


def order_key(rank: int, ref_ms: int) -> float:
    """Sort key of a ticket: its class rank first, then its reference time."""
    return float(rank * RANK_SPAN + ref_ms)


def keeps_appointment(appointment_ms: int, now_ms: int, early_s: int) -> bool:
    """Whether a booked person checking in at ``now_ms`` takes their appointment's place.

    Only from ``early_s`` before the appointment: a class rank is compared before any time,
    so a booked ticket let in with its class an hour early would go ahead of every walk-in
    already waiting ("someone after me went first"). Earlier than that, the ticket waits as
    a walk-in from its check-in (the default class, the check-in time): it is called when a
    walk-in who came then would be, never later, and its position and estimate say so.
    """
    return now_ms >= promote_at(appointment_ms, early_s)


def promote_at(appointment_ms: int, early_s: int) -> int:
    """When an early check-in takes its appointment's place: ``early_s`` before the time.

    Until then it waits as a walk-in (``keeps_appointment``); from then on it ranks as the
    appointment's class, ordered by its appointment time (``plan_promotion``), so arriving
    early never makes a booked person's turn later than arriving at that moment would."""
    return appointment_ms - early_s * 1000


def aging_budget(ahead: int, factor: float) -> int:
    """How many later tickets may still overtake a ticket that joined with ``ahead`` in front."""
    return math.floor((factor - 1.0) * (ahead + 1) + 1e-9)


@dataclass(slots=True)
class Entry:
    """One waiting ticket as the ordering sees it."""

    id: str
    key: float
    budget: int = 0


@dataclass(frozen=True, slots=True)
class Insertion:
    index: int  # where the ticket goes; 0 is the head
    overtaken: tuple[str, ...]  # ids whose budget the insertion spends
    budget: int  # the new ticket's own budget


def plan_insertion(queue: Sequence[Entry], key: float, preempt: bool, factor: float,
                   back: int = 0) -> Insertion:
    """Where a ticket with ``key`` enters ``queue`` (head first), and whom it overtakes.

    ``back`` puts it that many places behind where its key and the budgets stop it (never
    past the tail): a returned no-show (``no_show_return_after``), so the next call-next does
    not call the person who just did not come again at once. Those it no longer passes
    keep their budget."""
    index = len(queue)
    while index > 0:
        prev = queue[index - 1]
        if prev.key <= key or (prev.budget <= 0 and not preempt):
            break
        index -= 1
    index = min(index + max(back, 0), len(queue))
    overtaken = tuple(e.id for e in queue[index:])
    return Insertion(index, overtaken, aging_budget(index, factor))


def plan_promotion(queue: Sequence[Entry], ticket_id: str, key: float, preempt: bool,
                   factor: float) -> Insertion | None:
    """Where a waiting ticket goes when its key becomes ``key`` (an early check-in promoted
    to its appointment's class); None if it is not in ``queue``.

    The ticket leaves its place and walks forward from there exactly as an on-time
    check-in's insertion walks from the tail (``plan_insertion``): past later keys while
    their budgets allow. Those behind it were not overtaken by it, and it never moves back.
    ``index`` counts the queue without the ticket; it gets the budget of that place."""
    ids = [e.id for e in queue]
    if ticket_id not in ids:
        return None
    old = ids.index(ticket_id)
    return plan_insertion(queue[:old], key, preempt, factor)


@dataclass(slots=True)
class ServiceQueue:
    """A reference model of one service's queue, used by the simulator and by tests."""

    factor: float = 2.0
    entries: list[Entry] = field(default_factory=list)

    def insert(self, ticket_id: str, key: float, preempt: bool = False,
               back: int = 0) -> Insertion:
        ins = plan_insertion(self.entries, key, preempt, self.factor, back)
        for e in self.entries[ins.index:]:
            e.budget -= 1
        self.entries.insert(ins.index, Entry(ticket_id, key, ins.budget))
        return ins

    def promote(self, ticket_id: str, key: float, preempt: bool = False) -> Insertion | None:
        """Give a waiting ticket a new key in place (``plan_promotion``)."""
        ins = plan_promotion(self.entries, ticket_id, key, preempt, self.factor)
        if ins is None:
            return None
        self.remove(ticket_id)
        for e in self.entries[ins.index:ins.index + len(ins.overtaken)]:
            e.budget -= 1
        self.entries.insert(ins.index, Entry(ticket_id, key, ins.budget))
        return ins

    def pop(self) -> Entry | None:
        return self.entries.pop(0) if self.entries else None

    def remove(self, ticket_id: str) -> bool:
        for i, e in enumerate(self.entries):
            if e.id == ticket_id:
                del self.entries[i]
                return True
        return False

    def ids(self) -> list[str]:
        return [e.id for e in self.entries]

    def __len__(self) -> int:
        return len(self.entries)


@dataclass(frozen=True, slots=True)
class Head:
    """The first ticket of one of a counter's services, as a candidate for call-next."""

    service: str
    ticket: str
    rank: int
    ref_ms: int
    weight: float = 1.0


def choose_head(heads: Sequence[Head], now_ms: int) -> Head | None:
    """Which service's head a counter calls: best class first, then longest weighted wait.

    A counter serving several services compares only their heads (each queue's own order is
    already decided): a higher class wins; within a class, the wait so far times the
    counter's weight for that service; ties go to the earlier reference time, then the id.
    """
    if not heads:
        return None
    return min(heads, key=lambda h: (h.rank, -max(0, now_ms - h.ref_ms) * h.weight, h.ref_ms,
                                     h.ticket))
