"""/openapi.json lists, per route, the codes every route of its kind answers (401/403 with
a token, 400/413 with a body, 429 for public tokens' writes) besides its own, one response
per status; and a route that declares its answer's type gets a generated schema."""

from __future__ import annotations

from typing import Any

import msgspec

import realtime.app  # noqa: F401 - every module registers its routes on import
from realtime.docs import OPERATIONS, Operation, openapi


def _responses(spec: dict[str, Any], path: str, method: str = "post") -> dict[str, Any]:
    out: dict[str, Any] = spec["paths"][path][method]["responses"]
    return out


def _codes(resp: dict[str, Any], status: str) -> set[str]:
    return set(resp[status]["description"].removeprefix("Error: ").split(", "))


def test_shared_codes_are_folded_in() -> None:
    spec = openapi()
    tickets = _responses(spec, "/v1/sites/{site}/tickets")
    assert {"rate_limited", "forbidden", "unauthorized", "payload_too_large",
            "unknown_service"} <= _codes(tickets, "4XX")
    assert _codes(tickets, "401") == {"unauthorized"} and _codes(tickets, "429") == {
        "rate_limited"}
    assert "Retry-After" in tickets["429"]["headers"]
    assert tickets["413"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}
    gps = _responses(spec, "/v1/technicians/{tech}/gps")
    assert {"unknown_technician", "bad_request", "forbidden"} <= _codes(gps, "4XX")
    assert "rate_limited" not in _codes(gps, "4XX")  # a technician's token is not public
    assert "rate_limited" in _codes(_responses(spec, "/v1/sites/{site}/check-in"), "4XX")
    # Reading is not limited; a route without a token has no 401/403.
    assert "rate_limited" not in _codes(_responses(spec, "/v1/sites/{site}", "get"), "4XX")
    health = _responses(spec, "/healthz", "get")
    assert set(health) == {"200"}
    ready = _responses(spec, "/readyz", "get")
    assert _codes(ready, "503") == {"unavailable", "clock_skew", "worker_down"}
    assert "4XX" not in ready


def test_a_declared_answer_type_gets_a_generated_schema() -> None:
    class Answer(msgspec.Struct):
        counter: str
        offset: str | None = None

    op = Operation("get", "/v1/test-answer", "test", "admin", response=Answer)
    OPERATIONS.append(op)
    try:
        spec = openapi()
    finally:
        OPERATIONS.remove(op)
    ok = spec["paths"]["/v1/test-answer"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Answer"}
    schema = spec["components"]["schemas"]["Answer"]
    assert schema["required"] == ["counter"] and set(schema["properties"]) == {
        "counter", "offset"}
