"""The site's waiting ``areas`` (rooms, a corridor), each a board's choice of counters: ids
unique, counters the site's own (a counter may be in several areas), refused with
``details.field`` "areas" and a ``details.reason`` otherwise."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from queueing.demo import demo_site
from queueing.errors import BadRequest
from queueing.model import SiteConfig, validate_site


def site(areas: list[dict[str, Any]]) -> SiteConfig:
    doc = msgspec.to_builtins(demo_site())
    doc["areas"] = areas
    return msgspec.json.decode(msgspec.json.encode(doc), type=SiteConfig)


def test_no_areas_by_default_and_left_out_of_the_document() -> None:
    cfg = demo_site()
    validate_site(cfg)
    assert cfg.areas == [] and "areas" not in msgspec.to_builtins(cfg)


def test_areas_with_a_counter_in_two_of_them_are_kept() -> None:
    areas: list[dict[str, Any]] = [
        {"id": "wr1", "name": {"zh": "一号候诊区", "en": "Waiting room 1"}, "counters": ["1", "2"]},
        {"id": "wr2", "name": "Waiting room 2", "counters": ["4", "5", "6"]},
        {"id": "corridor", "name": "Corridor", "counters": ["2", "4"]}]
    cfg = site(areas)
    validate_site(cfg)
    again = msgspec.json.decode(msgspec.json.encode(cfg), type=SiteConfig)
    assert msgspec.to_builtins(again)["areas"] == areas


def refusal(areas: list[dict[str, Any]]) -> BadRequest:
    with pytest.raises(BadRequest) as exc:
        validate_site(site(areas))
    return exc.value


def test_an_unknown_counter_is_refused_naming_it() -> None:
    err = refusal([{"id": "wr1", "name": "Room", "counters": ["1", "99"]}])
    assert err.code == "bad_request"
    assert err.details == {"field": "areas", "reason": "unknown_counter", "area": "wr1",
                           "counter": "99"}
    assert "'99'" in err.message


def test_a_duplicate_area_id_is_refused() -> None:
    err = refusal([{"id": "wr1", "name": "A", "counters": ["1"]},
                   {"id": "wr1", "name": "B", "counters": ["2"]}])
    assert err.details == {"field": "areas", "reason": "duplicate_area", "area": "wr1"}


@pytest.mark.parametrize("bad", [{"id": "wr 1", "name": "A", "counters": ["1"]},
                                 {"id": "wr1", "name": "A", "counters": []},
                                 {"id": "wr1", "counters": ["1"]},
                                 {"id": "wr1", "name": "A", "counters": ["1"], "board": 1}])
def test_a_malformed_area_is_refused_by_the_schema(bad: dict[str, Any]) -> None:
    doc = msgspec.to_builtins(demo_site())
    doc["areas"] = [bad]
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(msgspec.json.encode(doc), type=SiteConfig)
