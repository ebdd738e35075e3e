"""docs/protocol.md and docs/asyncapi.yaml describe every dispatch topic, event type, device
op and error code (the queue's doc test only sees what its own imports register)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from dispatch.errors import all_error_classes
from realtime.hub import dispatch_topics  # noqa: F401 - registers tech, job, org and ops
from realtime.hub.topics import NAMESPACES
from realtime.protocol import client_types

DOCS = Path(__file__).parents[3] / "docs"
PROSE = (DOCS / "protocol.md").read_text()
SPEC = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())
DEVICE_CODES = ("gps_future", "gps_out_of_order", "gps_too_fast", "offer_closed",
                "action_mismatch", "invalid_transition", "unknown_job", "unknown_technician")


def _in_prose(word: str) -> bool:
    return re.search(rf"`{re.escape(word)}`", PROSE) is not None


def test_dispatch_namespaces_and_event_types_documented() -> None:
    enum = set(SPEC["components"]["schemas"]["EventType"]["enum"])
    for name in ("tech", "job", "org"):
        ns = NAMESPACES[name]
        assert ns.feed_kind == "region"
        assert f"`{name}:" in PROSE
        for t in ns.event_types:
            assert _in_prose(t) and t in enum, (name, t)


def test_device_ops_documented() -> None:
    messages = SPEC["components"]["messages"]
    ops = {str(c.__struct_config__.tag) for c in client_types()}
    assert {"gps", "act"} <= ops
    for op in ("gps", "act"):
        assert _in_prose(op) and op in messages


def test_dispatch_error_codes_documented() -> None:
    for cls in all_error_classes():
        assert _in_prose(cls.code), f"dispatch error code {cls.code} missing from protocol.md"
    enum = set(SPEC["components"]["schemas"]["ErrorCode"]["enum"])
    for code in DEVICE_CODES:
        assert code in enum and _in_prose(code), code
