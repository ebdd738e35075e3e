"""Which services a site serves (some counter lists them, open or not), the tickets left in
one that no counter serves any more, and the language a desk ticket's texts may take."""

from __future__ import annotations

import pytest

from queueing import served
from queueing.booking import langs
from queueing.errors import BadRequest, error_for
from queueing.model import Counter, Service, SiteConfig

CFG = SiteConfig(name="x", timezone="UTC", languages=["zh-CN", "en"], services=[
    Service("gp", "GP", "A"), Service("pharmacy", "Pharmacy", "B"),
    Service("passports", "Passports", "P")],
    counters=[Counter("1", "Room 1", ["gp"]), Counter("2", "Window 2", ["pharmacy", "gp"])])


def test_served_is_what_some_counter_lists() -> None:
    assert served.served(CFG) == {"gp", "pharmacy"}


def test_unserved_and_the_tickets_left_in_them() -> None:
    assert served.unserved(CFG) == ["passports"]
    assert served.stranded({"passports": 2, "other": 0}) == {"passports": 2}


def test_the_error_is_a_conflict_with_a_stable_code() -> None:
    err = served.refusal("passports")
    assert (err.code, err.status, err.details) == ("service_not_served", 409,
                                                   {"service": "passports"})
    assert error_for("service_not_served") is served.ServiceNotServed  # a script's reply


def test_a_desk_ticket_s_language_must_be_the_site_s() -> None:
    assert langs.required("zh", CFG.languages) == "zh-CN"
    assert langs.required("en", CFG.languages) == "en"
    assert langs.required(None, CFG.languages) is None
    with pytest.raises(BadRequest) as e:
        langs.required("fr", CFG.languages)
    assert e.value.details == {"field": "lang", "reason": "unsupported_language",
                               "allowed": ["zh-CN", "en"]}
