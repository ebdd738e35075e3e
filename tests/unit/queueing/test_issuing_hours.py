"""Issuing hours (queueing/hours.py): when self-service channels may take a ticket."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from queueing import hours
from queueing.demo import demo_site
from queueing.errors import BadRequest, ServiceClosed, SiteClosed
from queueing.model import SiteConfig, validate_site

LONDON = ZoneInfo("Europe/London")
OFFICE = {"mon": [["07:30", "16:30"]], "tue": [["07:30", "16:30"]],
          "wed": [["07:30", "16:30"]], "thu": [["07:30", "16:30"]],
          "fri": [["07:30", "16:30"]], "sat": [["08:00", "12:00"]]}


def site(**policy_hours: Any) -> SiteConfig:
    raw = msgspec.to_builtins(demo_site())
    raw["timezone"] = "Europe/London"
    raw["policy"] = {"hours": policy_hours}
    cfg = msgspec.convert(raw, SiteConfig)
    validate_site(cfg)
    return cfg


def at(text: str) -> int:
    """Epoch ms of a London wall-clock time ("2026-12-08 00:05"), or of an ISO time with
    an offset."""
    t = datetime.fromisoformat(text)
    return int((t if t.tzinfo else t.replace(tzinfo=LONDON)).timestamp() * 1000)


def iso(ms: int | None) -> str | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, LONDON).isoformat()


def test_no_hours_is_always_open() -> None:
    cfg = demo_site()
    assert hours.status(cfg, at("2026-12-08 00:05")).open_now
    assert hours.refusal(cfg, "internal", at("2026-12-08 03:00")) is None
    assert hours.view(cfg, at("2026-12-08 03:00"))["configured"] is False


def test_office_week_the_reviewers_kiosk_at_five_past_midnight() -> None:
    cfg = site(week=OFFICE)
    s = hours.status(cfg, at("2026-12-08 00:05"))  # a Tuesday
    assert (s.open_now, s.closes_at, iso(s.next_open)) == (
        False, None, "2026-12-08T07:30:00+00:00")
    assert s.today == [("07:30", "16:30")]
    refused = hours.refusal(cfg, "internal", at("2026-12-08 00:05"))
    assert isinstance(refused, SiteClosed) and refused.code == "site_closed"
    assert refused.status == 409
    assert refused.details["next_open"] == "2026-12-08T07:30:00+00:00"
    assert refused.details["next_open_local"] == {"date": "2026-12-08", "weekday": "tue",
                                                  "time": "07:30"}
    assert refused.details["timezone"] == "Europe/London"
    s = hours.status(cfg, at("2026-12-08 10:00"))
    assert s.open_now and iso(s.closes_at) == "2026-12-08T16:30:00+00:00"
    assert hours.refusal(cfg, "internal", at("2026-12-08 16:29")) is None
    assert hours.refusal(cfg, "internal", at("2026-12-08 16:30")) is not None  # until: out
    # Friday evening: Saturday morning; Saturday afternoon: Monday.
    assert iso(hours.status(cfg, at("2026-12-11 17:00")).next_open) == (
        "2026-12-12T08:00:00+00:00")
    assert iso(hours.status(cfg, at("2026-12-12 12:30")).next_open) == (
        "2026-12-14T07:30:00+00:00")
    assert hours.status(cfg, at("2026-12-13 10:00")).today == []  # Sunday: none listed


def test_in_summer_time_the_offset_is_summers() -> None:
    cfg = site(week=OFFICE)
    s = hours.status(cfg, at("2026-07-07 06:00"))
    assert iso(s.next_open) == "2026-07-07T07:30:00+01:00"
    assert hours.when(cfg, s.next_open)["next_open"] == "2026-07-07T07:30:00+01:00"


def test_spring_forward_gap_opens_at_the_jump() -> None:
    # 29 March 2026: London's clocks go from 01:00 GMT to 02:00 BST; 01:30 never shows.
    cfg = site(week={"sun": [["01:30", "03:00"]]})
    before = hours.status(cfg, at("2026-03-29T00:59:00+00:00"))
    assert not before.open_now and iso(before.next_open) == "2026-03-29T02:00:00+01:00"
    opened = hours.status(cfg, at("2026-03-29T01:00:00+00:00"))
    assert opened.open_now and iso(opened.closes_at) == "2026-03-29T03:00:00+01:00"


def test_fall_back_overlap_runs_until_its_end_last_shows() -> None:
    # 25 October 2026: 02:00 BST back to 01:00 GMT; 01:00-02:00 shows twice.
    cfg = site(week={"sun": [["00:00", "01:30"]]})
    s = hours.status(cfg, at("2026-10-25T00:30:00+00:00"))  # 01:30 BST, the first time
    assert s.open_now and iso(s.closes_at) == "2026-10-25T01:30:00+00:00"
    assert hours.status(cfg, at("2026-10-25T01:29:00+00:00")).open_now  # 01:29 GMT
    assert not hours.status(cfg, at("2026-10-25T01:31:00+00:00")).open_now
    # An opening in the repeated hour opens the first time the clock shows it.
    cfg = site(week={"sun": [["01:15", "05:00"]]})
    assert iso(hours.status(cfg, at("2026-10-25T00:00:00+00:00")).next_open) == (
        "2026-10-25T01:15:00+01:00")


def test_interval_past_midnight_belongs_to_the_day_it_starts() -> None:
    cfg = site(week={"fri": [["22:00", "02:00"]]})
    late = hours.status(cfg, at("2026-12-12 01:00"))  # Saturday 01:00, from Friday
    assert late.open_now and iso(late.closes_at) == "2026-12-12T02:00:00+00:00"
    assert not hours.status(cfg, at("2026-12-12 02:00")).open_now
    assert late.today == []  # Saturday itself lists none
    # Friday a closed date: its night goes too.
    cfg = site(week={"fri": [["22:00", "02:00"]]}, closed=[{"date": "2026-12-11"}])
    assert not hours.status(cfg, at("2026-12-12 01:00")).open_now
    assert iso(hours.status(cfg, at("2026-12-12 01:00")).next_open) == (
        "2026-12-18T22:00:00+00:00")


def test_whole_days_that_meet_are_one_opening() -> None:
    cfg = site(week={"mon": [["00:00", "24:00"]], "tue": [["00:00", "24:00"]]})
    s = hours.status(cfg, at("2026-12-07 09:00"))
    assert s.open_now and iso(s.closes_at) == "2026-12-09T00:00:00+00:00"
    always = site(closed=[{"date": "2026-12-25"}])  # no week: every day, all day
    assert hours.status(always, at("2026-12-24 23:59")).closes_at == at("2026-12-25 00:00")


def test_closed_date_says_its_name_and_the_next_opening() -> None:
    name = {"en": "Christmas Day", "zh": "圣诞节"}
    cfg = site(week=OFFICE, closed=[{"date": "2026-12-25", "name": name},
                                    {"date": "2026-12-26"}])
    s = hours.status(cfg, at("2026-12-25 10:00"))  # a Friday
    assert (s.open_now, s.today, s.closed_note) == (False, [], name)
    assert iso(s.next_open) == "2026-12-28T07:30:00+00:00"  # Saturday closed too
    refused = hours.refusal(cfg, "lab", at("2026-12-25 10:00"))
    assert refused is not None and refused.details["closed_note"] == name
    assert "opens mon 2026-12-28 at 07:30" in refused.message
    view = hours.view(cfg, at("2026-12-25 10:00"))
    assert view["open_now"] is False and view["closed_note"] == name
    assert view["next_open"] == "2026-12-28T07:30:00+00:00" and view["date"] == "2026-12-25"


def test_service_hours_end_before_the_sites() -> None:
    cfg = site(week=OFFICE, services={"pharmacy": {d: [["07:30", "15:00"]] for d in
                                                   ("mon", "tue", "wed", "thu", "fri")}})
    now = at("2026-12-08 15:30")
    assert hours.refusal(cfg, "internal", now) is None
    refused = hours.refusal(cfg, "pharmacy", now)
    assert isinstance(refused, ServiceClosed) and refused.code == "service_closed"
    assert refused.details["service"] == "pharmacy"
    assert refused.details["next_open"] == "2026-12-09T07:30:00+00:00"
    # On Saturday the site opens, the pharmacy does not until Monday: the site is open.
    sat = hours.refusal(cfg, "pharmacy", at("2026-12-12 09:00"))
    assert isinstance(sat, ServiceClosed) and sat.details["next_open_local"]["weekday"] == "mon"
    # At night both are closed: the site's refusal, with the service's next opening.
    night = hours.refusal(cfg, "pharmacy", at("2026-12-08 20:00"))
    assert type(night) is SiteClosed and night.details["next_open"].startswith("2026-12-09T07:30")
    view = hours.view(cfg, now)
    assert view["open_now"] and view["services"]["pharmacy"]["open_now"] is False
    assert view["services"]["pharmacy"]["today"] == [["07:30", "15:00"]]


def test_service_within_the_sites_hours_only() -> None:
    # A service's own week wider than the site's is cut to the site's.
    cfg = site(week={"tue": [["09:00", "12:00"]]},
               services={"lab": {"tue": [["07:00", "18:00"]]}})
    s = hours.status(cfg, at("2026-12-08 08:00"), "lab")
    assert not s.open_now and iso(s.next_open) == "2026-12-08T09:00:00+00:00"
    assert iso(hours.status(cfg, at("2026-12-08 10:00"), "lab").closes_at) == (
        "2026-12-08T12:00:00+00:00")


def test_never_open_within_a_year_says_null() -> None:
    cfg = site(week={})
    s = hours.status(cfg, at("2026-12-08 10:00"))
    assert (s.open_now, s.next_open) == (False, None)
    refused = hours.refusal(cfg, "internal", at("2026-12-08 10:00"))
    assert refused is not None and refused.details["next_open"] is None


@pytest.mark.parametrize(("policy_hours", "field"), [
    ({"week": {"mon": [["09:00", "09:00"]]}}, "policy.hours.week"),
    ({"services": {"nope": {"mon": [["09:00", "10:00"]]}}}, "policy.hours.services"),
    ({"services": {"lab": {"mon": [["10:00", "10:00"]]}}}, "policy.hours.services.lab"),
    ({"closed": [{"date": "2026-02-30"}]}, "policy.hours.closed"),
])
def test_hours_that_mean_nothing_are_refused(policy_hours: dict[str, Any], field: str) -> None:
    with pytest.raises(BadRequest) as e:
        site(**policy_hours)
    assert e.value.details["field"] == field


@pytest.mark.parametrize("bad", [
    {"week": {"mon": [["9:00", "10:00"]]}},
    {"week": {"monday": [["09:00", "10:00"]]}},
    {"week": {"mon": [["09:00", "24:01"]]}},
    {"closed": [{"date": "25/12/2026"}]},
    {"opens": "09:00"},
])
def test_malformed_hours_do_not_decode(bad: dict[str, Any]) -> None:
    with pytest.raises((msgspec.ValidationError, BadRequest)):
        site(**bad)
