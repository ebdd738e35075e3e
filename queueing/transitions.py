"""Ticket states and the operations that move between them.

The table here is the single source of truth: the engine passes each operation's allowed
source states to the Redis script that performs it, so Python and Lua cannot disagree.
"""

from __future__ import annotations

import enum

from queueing.errors import InvalidTransition
from queueing.model import TicketStatus as S


class Op(enum.StrEnum):
    CALL = "call"
    RECALL = "recall"
    START = "start"
    COMPLETE = "complete"
    NO_SHOW = "no_show"
    PARK = "park"
    UNPARK = "unpark"
    TRANSFER = "transfer"
    MOVE = "move"  # a transfer of a ticket nobody is serving, by its id
    CANCEL = "cancel"


WAITING_STATES = frozenset({S.WAITING, S.TRANSFERRED})
ACTIVE_STATES = frozenset({S.CALLED, S.SERVING})  # at a counter
TERMINAL_STATES = frozenset({S.DONE, S.CANCELLED, S.NO_SHOW})

ALLOWED: dict[Op, frozenset[S]] = {
    Op.CALL: WAITING_STATES | {S.PARKED},
    Op.RECALL: frozenset({S.CALLED}),
    Op.START: frozenset({S.CALLED}),
    # Completing straight from "called" is allowed: agents often skip "start".
    Op.COMPLETE: ACTIVE_STATES,
    Op.NO_SHOW: frozenset({S.CALLED}),
    Op.PARK: ACTIVE_STATES,
    Op.UNPARK: frozenset({S.PARKED}),
    Op.TRANSFER: ACTIVE_STATES,
    Op.MOVE: WAITING_STATES | {S.PARKED},
    Op.CANCEL: WAITING_STATES | {S.CALLED, S.PARKED},
}

RESULT: dict[Op, S] = {
    Op.CALL: S.CALLED,
    Op.RECALL: S.CALLED,
    Op.START: S.SERVING,
    Op.COMPLETE: S.DONE,
    Op.NO_SHOW: S.NO_SHOW,
    Op.PARK: S.PARKED,
    Op.UNPARK: S.WAITING,
    Op.TRANSFER: S.TRANSFERRED,
    Op.MOVE: S.TRANSFERRED,
    Op.CANCEL: S.CANCELLED,
}


def check(op: Op, status: S) -> S:
    """The state ``op`` leads to from ``status``, or InvalidTransition."""
    if status not in ALLOWED[op]:
        raise InvalidTransition(f"cannot {op.value} a ticket that is {status.value}",
                                op=op.value, status=status.value)
    return RESULT[op]


def sources(op: Op) -> list[str]:
    """Allowed source states of ``op`` as strings, for the Redis scripts."""
    return sorted(s.value for s in ALLOWED[op])
