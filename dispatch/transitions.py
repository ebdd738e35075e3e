"""Job and technician states and the operations that move between them.

The tables here are the single source of truth: the engine passes each operation's allowed
source states to the Redis script that performs it (as queueing does), so Python and Lua
cannot disagree. ``check`` is the pure reference the tests use.
"""

from __future__ import annotations

import enum

from dispatch.errors import InvalidTransition
from dispatch.model import JobStatus as J
from dispatch.model import TechStatus as T


class Op(enum.StrEnum):
    OFFER = "offer"  # a plan gives the job to a technician
    ACCEPT = "accept"
    DECLINE = "decline"
    EXPIRE = "expire"  # an offer nobody answered in time
    WITHDRAW = "withdraw"  # a plan takes the job away from its technician
    DEPART = "depart"
    ARRIVE = "arrive"
    COMPLETE = "complete"
    FAIL = "fail"
    CANCEL = "cancel"
    UNASSIGNABLE = "unassignable"
    RETRY = "retry"  # a dispatcher asks everyone again, those who declined included
    # A job judged unassignable (time_window) against today's shifts while it is booked for
    # a later day: new again, to be planned on its day (lua/job_ahead.lua).
    REEVALUATE = "reevaluate"


PLANNABLE = frozenset({J.NEW, J.OFFERED, J.ASSIGNED, J.UNASSIGNABLE})

JOB_ALLOWED: dict[Op, frozenset[J]] = {
    Op.OFFER: PLANNABLE,
    Op.ACCEPT: frozenset({J.OFFERED}),
    Op.DECLINE: frozenset({J.OFFERED}),
    Op.EXPIRE: frozenset({J.OFFERED}),
    Op.WITHDRAW: frozenset({J.OFFERED, J.ASSIGNED}),
    Op.DEPART: frozenset({J.ASSIGNED}),
    # Arriving without a "depart" (the device forgot it) is an implicit departure.
    Op.ARRIVE: frozenset({J.ASSIGNED, J.EN_ROUTE}),
    # Completing without an "arrive" is allowed (the geofence may miss a site).
    Op.COMPLETE: frozenset({J.EN_ROUTE, J.ON_SITE}),
    Op.FAIL: frozenset({J.ASSIGNED, J.EN_ROUTE, J.ON_SITE}),
    Op.CANCEL: frozenset({J.NEW, J.OFFERED, J.ASSIGNED, J.EN_ROUTE, J.ON_SITE, J.UNASSIGNABLE}),
    Op.UNASSIGNABLE: frozenset({J.NEW, J.OFFERED, J.ASSIGNED, J.UNASSIGNABLE}),
    Op.RETRY: frozenset({J.NEW, J.UNASSIGNABLE}),
    Op.REEVALUATE: frozenset({J.UNASSIGNABLE}),
}

JOB_RESULT: dict[Op, J] = {
    Op.OFFER: J.OFFERED,
    Op.ACCEPT: J.ASSIGNED,
    Op.DECLINE: J.NEW,
    Op.EXPIRE: J.NEW,
    Op.WITHDRAW: J.NEW,
    Op.DEPART: J.EN_ROUTE,
    Op.ARRIVE: J.ON_SITE,
    Op.COMPLETE: J.DONE,
    Op.FAIL: J.FAILED,
    Op.CANCEL: J.CANCELLED,
    Op.UNASSIGNABLE: J.UNASSIGNABLE,
    Op.RETRY: J.NEW,
    Op.REEVALUATE: J.NEW,
}


class TechOp(enum.StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    BREAK = "break"
    RESUME = "resume"
    DEPART = "depart"  # to a job: en_route
    ARRIVE = "arrive"
    FINISH = "finish"  # a job completed or failed: available again


TECH_ALLOWED: dict[TechOp, frozenset[T]] = {
    TechOp.ONLINE: frozenset({T.OFFLINE}),
    # Going offline or on a break with a job under way is refused: finish or fail it first.
    TechOp.OFFLINE: frozenset({T.AVAILABLE, T.ON_BREAK}),
    TechOp.BREAK: frozenset({T.AVAILABLE}),
    TechOp.RESUME: frozenset({T.ON_BREAK}),
    TechOp.DEPART: frozenset({T.AVAILABLE}),
    TechOp.ARRIVE: frozenset({T.AVAILABLE, T.EN_ROUTE}),
    TechOp.FINISH: frozenset({T.EN_ROUTE, T.ON_SITE}),
}

TECH_RESULT: dict[TechOp, T] = {
    TechOp.ONLINE: T.AVAILABLE,
    TechOp.OFFLINE: T.OFFLINE,
    TechOp.BREAK: T.ON_BREAK,
    TechOp.RESUME: T.AVAILABLE,
    TechOp.DEPART: T.EN_ROUTE,
    TechOp.ARRIVE: T.ON_SITE,
    TechOp.FINISH: T.AVAILABLE,
}


def check(op: Op, status: J) -> J:
    """The job state ``op`` leads to from ``status``, or InvalidTransition."""
    if status not in JOB_ALLOWED[op]:
        raise InvalidTransition(
            f"cannot {op.value} a job that is {status.value}", op=op.value, status=status.value
        )
    return JOB_RESULT[op]


def check_tech(op: TechOp, status: T) -> T:
    if status not in TECH_ALLOWED[op]:
        raise InvalidTransition(
            f"cannot {op.value} a technician who is {status.value}",
            op=op.value,
            status=status.value,
        )
    return TECH_RESULT[op]


def sources(op: Op) -> str:
    """Allowed source states of ``op`` as a comma list, for the Redis scripts."""
    return ",".join(sorted(s.value for s in JOB_ALLOWED[op]))


def tech_sources(op: TechOp) -> str:
    return ",".join(sorted(s.value for s in TECH_ALLOWED[op]))


def table() -> dict[str, dict[str, str]]:
    """Every transition as ``{"job": {op: sources}, "tech": {op: sources}}`` — what the
    scripts receive, so a Lua rule can only come from here."""
    return {
        "job": {op.value: sources(op) for op in Op},
        "tech": {op.value: tech_sources(op) for op in TechOp},
    }
