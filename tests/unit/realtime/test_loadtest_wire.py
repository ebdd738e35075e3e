"""The hub's fan-out fast path, piece by piece (pure, no sockets): the pre-built websocket
frame is the one the websockets library would build, the outbox hands out what waits in
order with state merged, and the lighter queue and flag behave as uvicorn needs.

(The performance work of issue 7; named test_loadtest_* as that work's tests.)
"""

from __future__ import annotations

import asyncio

import pytest
from websockets.frames import Frame, Opcode

from realtime.hub.outbox import Outbox
from realtime.protocol import JSON, MSGPACK, ws_frame
from realtime.ws import _Flag, _Inbox


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70_000])
@pytest.mark.parametrize(("kind", "opcode"), [(JSON, Opcode.TEXT), (MSGPACK, Opcode.BINARY)])
def test_frame_is_what_websockets_builds(size: int, kind: str, opcode: Opcode) -> None:
    payload = bytes(i % 251 for i in range(size))
    assert ws_frame(payload, kind) == Frame(opcode, payload).serialize(mask=False,
                                                                       extensions=[])


def test_take_gives_everything_in_order_with_state_merged() -> None:
    box = Outbox(max_events=10)
    box.push(b"e1", "board:s", True)
    box.push(b"w1", "board:s", False)
    box.push(b"e2", "ticket:t", True)
    box.push(b"w2", "board:s", False)  # replaces w1, goes behind e2
    assert box.merged == 1 and len(box) == 3
    assert box.take() == [b"e1", b"e2", b"w2"]
    assert box.take() == [] and len(box) == 0 and box.events == 0
    box.push(b"w3", "board:s", False)  # nothing left over from before
    assert box.pop() == b"w3" and box.pop() is None


def test_pop_and_take_mix_and_the_event_bound_holds() -> None:
    box = Outbox(max_events=2)
    assert box.push(b"a", "x", True) and box.push(b"b", "x", True)
    assert not box.push(b"c", "x", True)  # over the bound: the hub closes it as slow
    assert box.pop() == b"a"
    assert box.take() == [b"b", b"c"] and box.events == 0


def test_drop_topic_forgets_only_that_topic() -> None:
    box = Outbox(max_events=10)
    box.push(b"a", "x", True)
    box.push(b"b", "y", True)
    box.push(b"c", "x", False)
    assert box.pop() == b"a"
    box.drop_topic("x")
    assert box.take() == [b"b"] and box.events == 0


def test_drop_topic_keeps_the_answer_to_a_subscribe() -> None:
    box = Outbox(max_events=10)
    box.push(b"snapshot", "x", True, answer=True)
    box.push(b"event", "x", True)
    box.push(b"state", "x", False)
    box.drop_topic("x")
    assert box.take() == [b"snapshot"] and box.events == 0


async def test_inbox_is_a_queue_for_one_reader() -> None:
    inbox = _Inbox()
    assert inbox.empty()
    inbox.put_nowait(1)
    assert await inbox.get() == 1
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait(2)
    inbox.put_nowait(3)
    assert await reader == 2 and not inbox.empty() and await inbox.get() == 3


async def test_flag_is_an_event() -> None:
    flag = _Flag()
    assert isinstance(flag, asyncio.Event) and not flag.is_set()
    waiter = asyncio.create_task(flag.wait())
    await asyncio.sleep(0)
    flag.set()
    assert await waiter is True
    flag.clear()
    assert not flag.is_set()


def test_gc_policy_freezes_when_connections_settle_and_thaws_below_the_floor() -> None:
    import gc

    from realtime.hub.hub import GcPolicy
    policy = GcPolicy(min_connections=100, full_every_s=600)
    try:
        assert policy.step(50, 0.0) == ""  # few connections: leave the collector alone
        assert policy.step(1000, 1.0) == "freeze" and gc.get_freeze_count() > 0
        assert policy.step(1020, 2.0) == ""  # less than 5 % more: nothing to do
        assert policy.step(1100, 3.0) == "freeze"
        assert policy.step(700, 4.0) == "full"  # a quarter gone: reclaim their cycles
        assert policy.step(700, policy.full_at + 601) == "full"  # and every 10 minutes
        assert policy.step(10, 5.0) == "thaw" and gc.get_freeze_count() == 0
    finally:
        policy.stop()
        gc.unfreeze()
