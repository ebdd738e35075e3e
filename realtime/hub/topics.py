"""Topic namespaces: each resolves a topic name to a feed, a scope rule and its messages.

A namespace is pluggable: queue topics live in ``queue_topics``; dispatch adds its own
(``tech``, ``job``, ``org``) by calling ``register``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from realtime.auth import Principal
from realtime.hub.entry import Entry
from realtime.protocol import ProtocolError


@dataclass(frozen=True, slots=True)
class Ref:
    topic: str
    namespace: str
    parts: tuple[str, ...]
    source: str  # key of the feed that carries it (a site id, a region id)


@dataclass(frozen=True, slots=True)
class Message:
    type: str
    data: Any
    is_event: bool = True


class Namespace(Protocol):
    name: str
    feed_kind: str
    replayable: bool
    event_types: tuple[str, ...]

    def parse(self, topic: str, parts: tuple[str, ...]) -> Ref: ...

    def authorize(self, p: Principal, ref: Ref) -> None: ...

    async def snapshot(self, feed: Any, ref: Ref) -> Any: ...

    def live(self, feed: Any, ref: Ref, entry: Entry, change: Any) -> Message | None: ...

    def history(self, feed: Any, ref: Ref, entry: Entry, now_ms: int) -> Message | None: ...

    def current(self, feed: Any, ref: Ref) -> Message | None: ...

    def affected(self, feed: Any, entry: Entry, change: Any) -> Iterable[str]: ...


NAMESPACES: dict[str, Namespace] = {}


def register(ns: Namespace) -> None:
    NAMESPACES[ns.name] = ns


def resolve(topic: str) -> tuple[Namespace, Ref]:
    name, _, rest = topic.partition(":")
    ns = NAMESPACES.get(name)
    if ns is None or not rest:
        raise ProtocolError("unknown_topic", f"unknown topic namespace {name!r}; known: "
                            f"{sorted(NAMESPACES)}")
    return ns, ns.parse(topic, tuple(rest.split(":")))
