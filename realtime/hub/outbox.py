"""A connection's bounded outgoing queue with two lanes. Pure data structure, no I/O.

- Events (calls, offers, queue deltas) are never dropped. If more than ``max_events`` wait
  for one connection, ``push`` reports overflow and the hub closes it with ``slow``; the
  client resumes from its last offset and loses nothing.
- State updates (a position, an estimate, a GPS position) merge latest-wins per topic: a
  newer one replaces the one still waiting, and moves behind anything queued since, so
  offsets per topic still arrive in increasing order. An event for a topic carries that
  topic's current state, so it also retires the topic's waiting state update.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class _Item:
    frame: bytes | str
    topic: str
    is_event: bool
    alive: bool = True
    answer: bool = False  # the direct answer to a client's frame: never withdrawn


class Outbox:
    # A list read from ``_head`` rather than a deque: an idle connection's empty list costs
    # 56 bytes where a deque costs 600+, and thousands of screens sit idle most of the time.
    __slots__ = ("_head", "_items", "_state", "events", "max_events", "merged")

    def __init__(self, max_events: int) -> None:
        self.max_events = max_events
        self._items: list[_Item] = []
        self._head = 0
        self._state: dict[str, _Item] = {}
        self.events = 0
        self.merged = 0  # state updates replaced before they were sent

    def push(self, frame: bytes | str, topic: str, is_event: bool, answer: bool = False) -> bool:
        """Queue one frame; False if the event lane is over its bound (close as slow).

        ``answer`` marks the reply to a client's frame (a subscribe's snapshot): an
        unsubscribe read right behind it forgets the topic's other frames, not the answer."""
        old = self._state.pop(topic, None) if self._state else None
        if old is not None:
            old.alive = False
            self.merged += 1
        item = _Item(frame, topic, is_event, True, answer)
        if is_event:
            self.events += 1
        else:
            self._state[topic] = item
        self._items.append(item)
        return self.events <= self.max_events

    def pop(self) -> bytes | str | None:
        items = self._items
        while self._head < len(items):
            item = items[self._head]
            self._head += 1
            if self._head == len(items):
                items.clear()
                self._head = 0
            if not item.alive:
                continue
            if item.is_event:
                self.events -= 1
            elif self._state.get(item.topic) is item:
                del self._state[item.topic]
            return item.frame
        return None

    def take(self) -> list[bytes | str]:
        """Everything waiting, in order, leaving the outbox empty."""
        items, head = self._items, self._head
        out = [i.frame for i in (items[head:] if head else items) if i.alive]
        items.clear()
        self._head = 0
        self._state.clear()
        self.events = 0
        return out

    def drop_topic(self, topic: str) -> None:
        """Forget what waits for a topic the client unsubscribed from (answers stay)."""
        for item in self._items[self._head:]:
            if item.topic == topic and item.alive and not item.answer:
                item.alive = False
                if item.is_event:
                    self.events -= 1
        self._state.pop(topic, None)

    def __len__(self) -> int:
        return sum(1 for i in self._items[self._head:] if i.alive)
