"""``error`` frames carry an HTTP error's ``details`` (JSON and msgpack alike) and cost
nothing more when there are none; a frame without ``op`` is an ``invalid_message``."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
import yaml

from queueing.errors import Forbidden, Unauthorized
from realtime.protocol import JSON, MSGPACK, Error, ProtocolError, encode, error_frame, parse
from realtime.ws import Bucket, expires_in_s


def test_details_go_out_on_both_subprotocols() -> None:
    frame = error_frame(Unauthorized("the token has expired", reason="expired"), 3)
    want = {"op": "error", "code": "unauthorized", "message": "the token has expired",
            "id": 3, "details": {"reason": "expired"}}
    assert msgspec.json.decode(encode(frame, JSON)) == want
    assert msgspec.msgpack.decode(encode(frame, MSGPACK)) == want
    assert error_frame(Forbidden("no", role="display")).details == {"role": "display"}


def test_no_details_costs_no_byte() -> None:
    plain = Error("not_subscribed", "not subscribed to board:demo", False, 1)
    assert encode(ProtocolError("not_subscribed", "not subscribed to board:demo", 1,
                                details={}).to_message(), MSGPACK) == encode(plain, MSGPACK)
    assert b"details" not in encode(plain, JSON)


@pytest.mark.parametrize("kind", [JSON, MSGPACK])
def test_a_frame_without_op_is_invalid(kind: str) -> None:
    raw = encode({"topic": "board:demo", "id": 4}, kind)
    with pytest.raises(ProtocolError) as err:
        parse(raw, kind)
    assert err.value.code == "invalid_message" and err.value.id == 4
    assert err.value.message.startswith("op is required")
    with pytest.raises(ProtocolError) as err:
        parse(encode({"op": "nope"}, kind), kind)
    assert err.value.code == "unknown_op"


def test_rate_limit_wait_and_token_leeway() -> None:
    bucket = Bucket(rate=4, burst=1)
    now = bucket.at
    assert bucket.take(now) and not bucket.take(now)
    assert bucket.wait_s() == 0.25
    # A socket keeps its token as long as HTTP accepts it: exp plus the 60 s leeway.
    assert expires_in_s(1000.0, 1000.0) == 60.0
    assert expires_in_s(1000.0, 1059.5) == 0.5
    assert expires_in_s(1000.0, 2000.0) == 0.0


def test_the_error_frame_is_documented_field_by_field() -> None:
    docs = Path(__file__).parents[3] / "docs"
    spec = yaml.safe_load((docs / "asyncapi.yaml").read_text())
    props = spec["components"]["messages"]["error"]["payload"]["properties"]
    assert set(props) == {"op", *Error.__struct_fields__}
    assert props["details"]["type"] == "object"
    prose = (docs / "protocol.md").read_text()
    for word in ("details.retry_after_s", "details.reason", "`details`?"):
        assert word in prose, word
