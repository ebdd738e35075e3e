"""A body msgspec refuses names its field in ``details.field`` and says a pattern in words:
a reviewer's technician with shift start "8:00" got the raw regex and no field, and wrong
types named no field either."""

from __future__ import annotations

import pytest

from dispatch.model import TechnicianSpec
from queueing.errors import BadRequest, UnknownField
from realtime.body import decode

TECH = b'"name": "Li Na", "home": {"lat": 31.2, "lon": 121.4}'


@pytest.mark.parametrize("raw, field, says", [
    (b'{%s, "shift": {"start": "8:00", "end": "17:00"}}' % TECH, "shift.start",
     "shift.start must be a time of day as HH:MM, e.g. 08:00"),
    (b'{%s, "skills": ["pipe work"]}' % TECH, "skills[0]",
     "must be 1 to 40 letters, digits"),
    (b'{"name": 5}', "name", "Expected `str`, got `int`"),
    (b'{"home": {"lat": 31.2, "lon": 121.4}}', "name", "missing required field `name`"),
    (b'{"name": "Li Na", "home": {"lat": 31.2}}', "home.lon", "missing required field"),
])
def test_a_refused_field_is_named(raw: bytes, field: str, says: str) -> None:
    with pytest.raises(BadRequest) as err:
        decode(raw, TechnicianSpec)
    assert err.value.details.get("field") == field and says in err.value.message, err.value


def test_unknown_fields_are_named_with_their_path() -> None:
    with pytest.raises(UnknownField) as err:
        decode(b'{%s, "shift": {"start": "08:00", "end": "17:00", "lunch": 1}}' % TECH,
               TechnicianSpec)
    assert err.value.details["field"] == "shift.lunch"


def test_the_whole_body_names_no_field() -> None:
    with pytest.raises(BadRequest) as err:
        decode(b"[]", TechnicianSpec)
    assert "field" not in err.value.details
