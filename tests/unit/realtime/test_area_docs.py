"""Waiting areas are written down where clients and operators look (found in review: the
area board topic, the locked display token's refusal and ``duplicate_counter`` were in the
code only): each refusal reason the code gives is in protocol.md and configuration.md, and
the area board's topic is in both protocol documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from queueing.errors import BadRequest, Forbidden
from queueing.model import validate_site
from realtime.auth import make_token, verify
from tests.unit.queueing.test_site_areas import site

DOCS = Path(__file__).parents[3] / "docs"
TOPIC = "board:{site}:{area}"

REFUSED_AREAS: list[list[dict[str, Any]]] = [
    [{"id": "wr1", "name": "A", "counters": ["nope"]}],
    [{"id": "wr1", "name": "A", "counters": ["1"]}, {"id": "wr1", "name": "B", "counters": ["2"]}],
    [{"id": "wr1", "name": "A", "counters": ["1", "1"]}],
]


def _reason_of_refused_areas(areas: list[dict[str, Any]]) -> str:
    with pytest.raises(BadRequest) as exc:
        validate_site(site(areas))
    return str(exc.value.details["reason"])


@pytest.mark.parametrize("areas", REFUSED_AREAS)
def test_each_refusal_of_a_sites_areas_is_documented(areas: list[dict[str, Any]]) -> None:
    reason = _reason_of_refused_areas(areas)
    for doc in ("protocol.md", "configuration.md"):
        assert f'"{reason}"' in (DOCS / doc).read_text() or f"`{reason}`" in (
            DOCS / doc).read_text(), (doc, reason)


def test_the_locked_display_tokens_refusal_is_documented() -> None:
    p = verify("s" * 40, make_token("s" * 40, "display", site="opd", area="wr1"))
    with pytest.raises(Forbidden) as exc:
        p.require_board("opd", None)
    reason = exc.value.details["reason"]
    for doc in ("protocol.md", "configuration.md"):
        assert f'"{reason}"' in (DOCS / doc).read_text(), doc
    spec = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())
    assert reason in spec["channels"]["hub"]["description"]


def test_the_area_board_topic_is_in_both_protocol_documents() -> None:
    prose = (DOCS / "protocol.md").read_text()
    assert f"| `{TOPIC}` |" in prose  # a row of the topic table
    spec = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())
    assert TOPIC in spec["channels"]["hub"]["description"]
    examples = spec["components"]["schemas"]["Topic"]["examples"]
    assert any(e.count(":") == 2 and e.startswith("board:") for e in examples)


def test_minting_an_area_board_token_is_in_the_deployment_guide() -> None:
    guide = (DOCS / "deployment.md").read_text()
    assert "switchboard token display --site clinic --area" in guide
