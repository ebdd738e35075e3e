from __future__ import annotations

import msgspec
import pytest

from queueing.demo import demo_site
from queueing.errors import BadRequest
from queueing.model import SiteConfig, display_name, validate_site
from queueing.numbering import format_number, local_day


def test_demo_site_is_valid_and_bilingual() -> None:
    cfg = demo_site()
    validate_site(cfg)
    assert len(cfg.services) >= 4 and len(cfg.counters) == 6
    for s in cfg.services:
        assert isinstance(s.name, dict) and {"zh", "en"} <= set(s.name)


def test_round_trip_and_unknown_fields_refused() -> None:
    raw = msgspec.json.encode(demo_site())
    assert msgspec.json.decode(raw, type=SiteConfig) == demo_site()
    bad = raw.replace(b'"timezone"', b'"tz":1,"timezone"', 1)
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.json.decode(bad, type=SiteConfig)


@pytest.mark.parametrize("mutate, field", [
    (lambda c: setattr(c, "timezone", "Mars/Base"), "timezone"),
    (lambda c: c.services.append(c.services[0]), "services"),
    (lambda c: c.counters[0].services.append("ghost"), "counters"),
    # A call text that would be read out to the waiting room with a typo in it.
    (lambda c: setattr(c, "announcements", {"en": "Go {numbr} to {counter}"}), "announcements"),
    (lambda c: setattr(c, "announcements", {"en": "Go {number to {counter}"}), "announcements"),
    (lambda c: setattr(c, "announcements", {"en": "Please come to {counter}"}), "announcements"),
])
def test_whole_document_checks(mutate, field) -> None:  # type: ignore[no-untyped-def]
    cfg = demo_site()
    mutate(cfg)
    with pytest.raises(BadRequest) as err:
        validate_site(cfg)
    assert err.value.details["field"].startswith(field)


def test_local_day_turns_at_site_midnight() -> None:
    # 2026-11-23 15:59:59 UTC is 23:59:59 in Shanghai; one second later it is the 24th.
    ms = 1_795_449_599_000
    assert local_day(ms, "Asia/Shanghai") == "2026-11-23"
    assert local_day(ms + 1000, "Asia/Shanghai") == "2026-11-24"
    assert local_day(ms + 1000, "Europe/London") == "2026-11-23"


def test_numbers() -> None:
    assert format_number("A", 7) == "A007"
    assert format_number("B", 1234) == "B1234"


def test_display_name_falls_back() -> None:
    assert display_name({"zh": "内科", "en": "Internal"}, "en") == "Internal"
    assert display_name({"zh": "内科"}, "en") == "内科"
    assert display_name("Lab", "zh") == "Lab"


def test_roster_from_shifts() -> None:
    from queueing.roster import roster_changes
    cfg = demo_site()
    cfg.counters[0].shifts = [("08:00", "12:00"), ("22:00", "02:00")]
    # 2026-11-23 10:00 in Shanghai
    now = 1_795_399_200_000
    changes = roster_changes(cfg, now)
    # Closes at 12:00, opens at 22:00; the close at 02:00 is beyond the 12 h horizon.
    assert [(c.counter, c.open) for c in changes] == [("1", False), ("1", True)]
    assert [(c.at_ms - now) / 3_600_000 for c in changes] == [2.0, 12.0]
    assert len(roster_changes(cfg, now, horizon_ms=20 * 3_600_000)) == 3


def test_good_announcement_templates_pass() -> None:
    cfg = demo_site()
    cfg.announcements = {"en": "{number} to {counter}", "zh": "请{number}号", "fr": "{number}"}
    validate_site(cfg)
