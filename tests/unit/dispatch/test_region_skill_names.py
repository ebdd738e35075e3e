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
