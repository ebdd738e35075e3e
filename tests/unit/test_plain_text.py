"""Free text that people read on screens: no control characters, no bidi overrides; the
error says so in words (not msgspec's regex)."""

from __future__ import annotations

import pytest

from dispatch.model import BatchRequest, JobRequest, OrgSpec, TechnicianSpec
from queueing.booking.model import BookingRequest
from queueing.errors import BadRequest
from queueing.model import TicketRequest
from realtime.body import decode

POINT = '"location": {"lat": 1, "lon": 1}'
CASES = [
    (TicketRequest, '{"service": "a", "channel": "kiosk", "customer": %s}', "$.customer"),
    (BookingRequest, '{"slot": "clinic.gp.20261207T0900Z", "channel": "app", '
                     '"customer": %s}', "$.customer"),
    (JobRequest, '{' + POINT + ', "address": %s}', "$.address"),
    (JobRequest, '{' + POINT + ', "customer": %s}', "$.customer"),
    (TechnicianSpec, '{"name": %s, "home": {"lat": 1, "lon": 1}}', "$.name"),
    (OrgSpec, '{"name": %s}', "$.name"),
    (BatchRequest, '{"jobs": [{' + POINT + '}], "name": %s}', "$.name"),
]


@pytest.mark.parametrize("bad", ['"a\\u202eb"', '"a\\u2067b"', '"a\\nb"', '"a\\tb"',
                                 '"a\\u0000"', '"ab\\n"', '"a\\u009bb"', '"\\u007f"'])
@pytest.mark.parametrize("into, body, at", CASES)
def test_control_and_bidi_override_characters_refused(into: type, body: str, at: str,
                                                      bad: str) -> None:
    with pytest.raises(BadRequest) as err:
        decode((body % bad).encode(), into)
    assert err.value.message.startswith(f"{at} must be ")
    assert "regex" not in err.value.message and "bidirectional" in err.value.message


@pytest.mark.parametrize("good", ['"Zoë Ó Briain"', '"王小明"', '"محمد\\u200fعلي"',
                                  '"Ana-María (interpreter)"', '"שלום"'])
@pytest.mark.parametrize("into, body, at", CASES)
def test_names_in_any_script_pass(into: type, body: str, at: str, good: str) -> None:
    decode((body % good).encode(), into)


def test_a_job_note_keeps_its_line_breaks_but_not_other_controls() -> None:
    ok = decode(('{' + POINT + ', "note": "ring twice\\n2nd floor\\tleft"}').encode(),
                JobRequest)
    assert ok.note == "ring twice\n2nd floor\tleft"
    for bad in ('"a\\u0007"', '"a\\u202eb"', '"a\\u001b[2J"'):
        with pytest.raises(BadRequest, match=r"^\$\.note must be text without control"):
            decode(f'{{{POINT}, "note": {bad}}}'.encode(), JobRequest)
