"""An area naming one counter twice is a slip in the document (the set-up page never makes
one): refused naming it, ``details.reason`` "duplicate_counter". A counter in two areas is
still allowed (a corridor between two rooms)."""

from __future__ import annotations

import pytest

from queueing.errors import BadRequest
from queueing.model import validate_site
from tests.unit.queueing.test_site_areas import site


def test_a_counter_named_twice_in_one_area_is_refused() -> None:
    with pytest.raises(BadRequest) as exc:
        validate_site(site([{"id": "wr1", "name": "Room", "counters": ["1", "2", "1"]}]))
    assert exc.value.details == {"field": "areas", "reason": "duplicate_counter",
                                 "area": "wr1", "counter": "1"}
    assert "'1' twice" in exc.value.message


def test_a_counter_in_two_areas_is_kept() -> None:
    validate_site(site([{"id": "wr1", "name": "A", "counters": ["1", "2"]},
                        {"id": "hall", "name": "B", "counters": ["2", "3"]}]))
