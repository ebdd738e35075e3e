from __future__ import annotations

import pytest

from queueing.errors import InvalidTransition
from queueing.model import TicketStatus as S
from queueing.transitions import ALLOWED, RESULT, Op, check, sources


def test_every_op_has_a_result_and_sources() -> None:
    assert set(ALLOWED) == set(Op) == set(RESULT)
    for op in Op:
        assert sources(op)


def test_complete_needs_a_called_or_serving_ticket() -> None:
    assert check(Op.COMPLETE, S.SERVING) is S.DONE
    assert check(Op.COMPLETE, S.CALLED) is S.DONE
    with pytest.raises(InvalidTransition) as err:
        check(Op.COMPLETE, S.WAITING)
    assert err.value.code == "invalid_transition"
    assert err.value.details == {"op": "complete", "status": "waiting"}


@pytest.mark.parametrize("status", [S.DONE, S.CANCELLED, S.NO_SHOW])
def test_terminal_states_accept_nothing(status: S) -> None:
    for op in Op:
        with pytest.raises(InvalidTransition):
            check(op, status)


def test_cannot_cancel_a_served_ticket() -> None:
    with pytest.raises(InvalidTransition):
        check(Op.CANCEL, S.SERVING)
