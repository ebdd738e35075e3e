"""The ordering policy, fed inputs directly (no Redis)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from queueing.policy import (
    Entry,
    Head,
    ServiceQueue,
    aging_budget,
    choose_head,
    order_key,
    plan_insertion,
)

WALK_IN, PRIORITY, EMERGENCY = 4, 1, 0


def test_key_orders_class_before_time() -> None:
    assert order_key(PRIORITY, 2_000_000_000_000) < order_key(WALK_IN, 1_000_000_000_000)
    assert order_key(WALK_IN, 1) < order_key(WALK_IN, 2)


def test_budget_is_factor_minus_one_times_place() -> None:
    assert aging_budget(0, 2.0) == 1
    assert aging_budget(9, 2.0) == 10
    assert aging_budget(9, 1.0) == 0
    assert aging_budget(3, 1.5) == 2


def test_walk_ins_keep_arrival_order() -> None:
    q = ServiceQueue(factor=2.0)
    for i in range(5):
        q.insert(f"w{i}", order_key(WALK_IN, i))
    assert q.ids() == ["w0", "w1", "w2", "w3", "w4"]


def test_priority_overtakes_walk_ins_and_spends_their_budget() -> None:
    q = ServiceQueue(factor=2.0)
    q.insert("w0", order_key(WALK_IN, 0))  # budget 1
    q.insert("w1", order_key(WALK_IN, 1))  # budget 2
    ins = q.insert("p", order_key(PRIORITY, 2))
    assert ins.index == 0 and ins.overtaken == ("w0", "w1")
    assert q.ids() == ["p", "w0", "w1"]
    assert [e.budget for e in q.entries] == [1, 0, 1]


def test_exhausted_budget_blocks_overtaking_but_not_emergency() -> None:
    q = ServiceQueue(factor=1.0)  # factor 1: strict arrival order for non-preempting classes
    q.insert("w0", order_key(WALK_IN, 0))
    q.insert("p", order_key(PRIORITY, 1))
    assert q.ids() == ["w0", "p"]
    q.insert("e", order_key(EMERGENCY, 2), preempt=True)
    assert q.ids() == ["e", "w0", "p"]


def test_plan_insertion_is_pure() -> None:
    queue = [Entry("a", 5.0, 1), Entry("b", 9.0, 0)]
    ins = plan_insertion(queue, 7.0, False, 2.0)
    assert ins.index == 2  # b's budget is spent
    assert [e.budget for e in queue] == [1, 0]


def test_choose_head_prefers_class_then_weighted_wait() -> None:
    now = 100_000
    a = Head("a", "ta", rank=WALK_IN, ref_ms=now - 10_000, weight=1.0)
    b = Head("b", "tb", rank=WALK_IN, ref_ms=now - 6_000, weight=2.0)
    assert choose_head([a, b], now) == b  # 12 s weighted beats 10 s
    c = Head("c", "tc", rank=PRIORITY, ref_ms=now, weight=1.0)
    assert choose_head([a, b, c], now) == c
    assert choose_head([], now) is None


@settings(max_examples=200, deadline=None)
@given(factor=st.sampled_from([1.0, 1.5, 2.0, 3.0]), seed=st.integers(0, 10_000))
def test_no_ticket_called_later_than_factor_times_fifo_place(factor: float, seed: int) -> None:
    """The aging guarantee: calls after joining <= factor * (place in arrival order)."""
    rng = random.Random(seed)
    q = ServiceQueue(factor=factor)
    joined: dict[str, tuple[int, int]] = {}  # id -> (calls so far when joining, ahead)
    calls = 0
    preempting: set[str] = set()
    for step in range(300):
        if rng.random() < 0.55:
            tid = f"t{step}"
            cls = rng.choices([EMERGENCY, PRIORITY, WALK_IN], [0.02, 0.3, 0.68])[0]
            pre = cls == EMERGENCY
            if pre:
                preempting.add(tid)
            ahead_fifo = len(q)  # in plain arrival order everyone waiting is ahead
            q.insert(tid, order_key(cls, step), preempt=pre)
            joined[tid] = (calls, ahead_fifo)
        elif len(q):
            entry = q.pop()
            assert entry is not None
            calls += 1
            start, ahead = joined[entry.id]
            if not preempting:  # the bound holds when no preempting class is present
                assert calls - start <= factor * (ahead + 1) + 1e-9
