"""The default priority classes speak the site's words: a bank branch or a government
centre saved with the defaults showed 急诊 ("emergency room") and 复诊 on its consoles, while
its pages said "counter" and "customer". A name the site wrote itself is kept."""

from __future__ import annotations

from typing import Any

import msgspec

from queueing.demo import demo_site
from queueing.model import SiteConfig


def _site(**extra: Any) -> dict[str, Any]:
    doc = msgspec.to_builtins(demo_site())
    doc.pop("priority_classes", None)
    doc.pop("vocabulary", None)
    return doc | extra


def _names(cfg: SiteConfig) -> dict[str, dict[str, str] | None]:
    return {c.id: c.name for c in cfg.priority_classes}


def test_the_default_classes_are_named_by_the_sites_words() -> None:
    general = msgspec.convert(_site(), SiteConfig)
    assert general.vocabulary == "general"
    assert _names(general)["emergency"] == {"zh": "加急", "en": "Urgent"}
    assert _names(general)["revisit"] == {"zh": "复访", "en": "Return visit"}
    assert _names(general)["walk_in"] == {"zh": "普通", "en": "Walk-in"}  # not a clinic's word
    gov = msgspec.convert(_site(vocabulary="government"), SiteConfig)
    assert _names(gov)["revisit"] == {"zh": "再次办理", "en": "Return visit"}
    clinic = msgspec.convert(_site(vocabulary="clinic"), SiteConfig)
    assert _names(clinic)["emergency"] == {"zh": "急诊", "en": "Emergency"}
    assert _names(clinic)["revisit"] == {"zh": "复诊", "en": "Revisit"}


def test_a_change_of_words_renames_default_names_both_ways() -> None:
    # Saved as a government centre (its classes as read back), then made a clinic: the
    # document the set-up page sends back carries the government names; they follow.
    gov = msgspec.convert(_site(vocabulary="government"), SiteConfig)
    doc = msgspec.json.decode(msgspec.json.encode(gov))
    assert doc["priority_classes"][0]["name"] == {"zh": "加急", "en": "Urgent"}
    clinic = msgspec.convert(doc | {"vocabulary": "clinic"}, SiteConfig)
    assert _names(clinic)["emergency"] == {"zh": "急诊", "en": "Emergency"}
    # Stored and read back (the engine's path): the same.
    again = msgspec.json.decode(msgspec.json.encode(clinic), type=SiteConfig)
    assert _names(again) == _names(clinic)


def test_the_sites_own_names_are_kept() -> None:
    own = [{"id": "emergency", "preempt": True, "name": {"zh": "绿色通道", "en": "Fast lane"}},
           {"id": "revisit", "name": {"zh": "复诊", "en": "Follow-up"}},  # not a default pair
           {"id": "walk_in", "self_service": True}]
    cfg = msgspec.convert(_site(vocabulary="government", priority_classes=own), SiteConfig)
    assert _names(cfg) == {"emergency": {"zh": "绿色通道", "en": "Fast lane"},
                           "revisit": {"zh": "复诊", "en": "Follow-up"}, "walk_in": None}
