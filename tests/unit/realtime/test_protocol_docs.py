"""The protocol documents must describe everything the code can send or accept."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from queueing.errors import all_error_classes
from realtime.errors import HTTP_CODES
from realtime.hub import queue_topics  # noqa: F401 - registers the queue namespaces
from realtime.hub.topics import NAMESPACES
from realtime.protocol import CLOSE_CODES, ERROR_CODES, SERVER_TYPES, client_types

DOCS = Path(__file__).parents[3] / "docs"
PROSE = (DOCS / "protocol.md").read_text()
SPEC = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())


def _in_prose(word: str) -> bool:
    return re.search(rf"`{re.escape(word)}`", PROSE) is not None


def test_ops_documented() -> None:
    messages = SPEC["components"]["messages"]
    for cls in client_types():
        op = str(cls.__struct_config__.tag)
        assert _in_prose(op), f"client op {op} missing from protocol.md"
        assert op in messages, f"client op {op} missing from asyncapi.yaml"
    for op in SERVER_TYPES:
        assert _in_prose(op) and op in messages, op


def test_topics_and_event_types_documented() -> None:
    enum = set(SPEC["components"]["schemas"]["EventType"]["enum"])
    for name, ns in NAMESPACES.items():
        assert f"`{name}:" in PROSE, f"namespace {name} missing from protocol.md"
        for t in ns.event_types:
            assert _in_prose(t), f"{name} event type {t} missing from protocol.md"
            assert t in enum, f"{name} event type {t} missing from asyncapi.yaml"


def test_error_codes_documented() -> None:
    enum = set(SPEC["components"]["schemas"]["ErrorCode"]["enum"])
    for code in ERROR_CODES:
        assert _in_prose(code) and code in enum, code
    for code in CLOSE_CODES:
        assert str(code) in PROSE and code in SPEC["components"]["schemas"]["CloseCode"]["enum"]
    for cls in all_error_classes():
        assert _in_prose(cls.code), f"HTTP error code {cls.code} missing from protocol.md"
    for code in HTTP_CODES.values():
        assert _in_prose(code), code
