"""The site document in docs/deployment.md is one a server accepts (docs must not drift)."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from queueing.model import SiteConfig, validate_site

DOC = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"


def test_the_first_site_example_is_a_valid_site() -> None:
    text = DOC.read_text()
    m = re.search(r"^cat > clinic\.json <<'JSON'\n(.*?)^JSON$", text, re.M | re.S)
    assert m is not None, "the example moved"
    cfg = msgspec.json.decode(m.group(1).encode(), type=SiteConfig)
    validate_site(cfg)  # the same checks as PUT
    assert {c.id for c in cfg.counters} == {"room1", "lab1"}
    assert "--counter room1" in text and "/counter/clinic/room1?token=" in text
