"""A region names its skills for the devices; names are checked like every other field."""

from __future__ import annotations

import msgspec
import pytest

from dispatch.demo import region_config
from dispatch.model import RegionConfig
from realtime.pages import public_region


def test_skill_names_decode_and_reach_the_pages() -> None:
    cfg = msgspec.json.decode(
        b'{"skill_names": {"electric": {"zh": "\xe7\x94\xb5\xe5\xb7\xa5", "en": "Electrical"},'
        b' "hvac": "HVAC"}}', type=RegionConfig)
    assert cfg.skill_names == {"electric": {"zh": "电工", "en": "Electrical"}, "hvac": "HVAC"}
    assert public_region("city", cfg, zones=False)["skill_names"] == cfg.skill_names
    assert region_config().skill_names["electric"] == {"zh": "电工", "en": "Electrical"}


@pytest.mark.parametrize("bad", [
    b'{"skill_names": {"no spaces": "x"}}',  # not a skill id
    b'{"skill_names": {"electric": {"Chinese": "x"}}}',  # not a language tag
    b'{"skill_names": {"electric": 5}}',
    b'{"skill_names": {"electric": ""}}',  # an empty label shows nothing
    b'{"skill_names": {"electric": {}}}',
    b'{"skill_names": {"electric": "' + b"x" * 201 + b'"}}',
])
def test_bad_skill_names_are_refused(bad: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(bad, type=RegionConfig)


def test_region_and_zone_names_may_be_per_language() -> None:
    """A bilingual city names its region and zones in each language (they were one string)."""
    doc = ('{"name": {"zh": "浦东", "en": "Pudong"}, "zones": [{"id": "n", "name": {"zh": "北区",'
           ' "en": "North"}, "polygon": [[121.4, 31.2], [121.5, 31.2], [121.5, 31.3]]},'
           ' {"id": "s", "name": "South",'
           ' "polygon": [[121.4, 31.1], [121.5, 31.1], [121.5, 31.2]]},'
           ' {"id": "x", "polygon": [[121.4, 31.0], [121.5, 31.0], [121.5, 31.1]]}]}')
    cfg = msgspec.json.decode(doc.encode(), type=RegionConfig)
    out = public_region("city", cfg, zones=True)
    assert out["name"] == {"zh": "浦东", "en": "Pudong"}
    assert [z["name"] for z in out["zones"]] == [{"zh": "北区", "en": "North"}, "South", ""]
    # Round trip: what GET answers is what PUT took.
    assert msgspec.json.decode(msgspec.json.encode(cfg), type=RegionConfig) == cfg


@pytest.mark.parametrize("bad", [
    b'{"name": {}}', b'{"name": {"ZH": "x"}}', b'{"name": {"zh": ""}}', b'{"name": 5}',
    b'{"zones": [{"id": "z", "name": {"zh": 1}, "polygon": [[0, 0], [1, 0], [1, 1]]}]}',
])
def test_bad_region_or_zone_names_are_refused(bad: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(bad, type=RegionConfig)
