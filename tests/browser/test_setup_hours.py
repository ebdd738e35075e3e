"""Ticket issuing hours on the set-up page, in Chromium against a real (non-demo) server.

The server takes ``policy.hours`` (per-weekday intervals, closed dates with names, services'
own weeks) but the set-up page had no editor for it: an admin had to PUT JSON. Now a
"Ticket issuing hours" section turns them on or off, edits each weekday's intervals (added,
removed, Monday copied to the other weekdays), closed dates with a name per language and a
service's own week; it checks times and empty intervals before asking, shows the server's
refusal on the field it names, says what the saved hours mean now (GET .../hours), and an
untouched site's hours are saved back exactly."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests.browser.conftest import DemoServer
from tests.browser.test_accessibility import assert_reflows
from tests.browser.test_setup_page import open_setup
from tests.browser.test_setup_sites import _api

pytestmark = pytest.mark.browser
WAIT_MS = 15000
SITE: dict[str, Any] = {"name": {"zh": "东院", "en": "East campus"}, "timezone": "Asia/Shanghai",
        "languages": ["zh", "en"],
        "services": [{"id": "gp", "name": {"zh": "全科", "en": "GP"}, "prefix": "G"},
                     {"id": "lab", "name": {"zh": "检验", "en": "Lab"}, "prefix": "L"}],
        "counters": [{"id": "1", "name": "1", "services": ["gp", "lab"]}],
        "policy": {"day_close": "02:00", "recall_max": 3}}
HOURS: dict[str, Any] = {
    "week": {"mon": [["07:30", "12:00"], ["13:30", "16:30"]], "wed": [["22:00", "02:00"]],
             "sat": [["08:00", "24:00"]]},
    "closed": [{"date": "2031-01-01", "name": "New Year"},
               {"date": "2031-05-01", "name": {"zh": "劳动节", "en": "Labour Day"}},
               {"date": "2031-10-01"}],
    "services": {"lab": {"mon": [["07:30", "11:00"]]}}}
SHORT = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    server = DemoServer(tmp_path_factory.mktemp("hours"), demo=False).start()
    try:
        yield server
    finally:
        server.stop()


def put_site(server: DemoServer, site: str, doc: dict[str, Any]) -> None:
    r = _api(server, "PUT", f"/v1/sites/{site}", json=doc)
    assert r.status_code == 200, r.text


def get_site(server: DemoServer, site: str) -> dict[str, Any]:
    r = _api(server, "GET", f"/v1/sites/{site}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def at_words(day: str, time: str, today: str) -> str:
    """When, as the kiosk says it (js/issuing-hours.js): "today at 08:00", "Tue 9 Dec at 08:00"."""
    if day == today:
        return f"today at {time}"
    d = date.fromisoformat(day)
    return f"{SHORT[d.weekday()]} {d.day} {d:%b} at {time}"


def says(status: dict[str, Any], today: str) -> str:
    """What the page should say for one status of GET /v1/sites/{site}/hours."""
    if status["open_now"]:
        closes = status["closes_at"]
        if closes is None:
            return "Open now"
        return f"Open now, until {at_words(closes[:10], closes[11:16], today)}"
    at = status["next_open_local"]
    if at is None:
        return "Closed for tickets"
    return f"Closed for tickets — opens {at_words(at['date'], at['time'], today)}"


def span(pg: Any, scope: str, day: str, i: int, end: str) -> Any:
    return pg.locator(f"#hr-{scope}-{day}-{i}-{end}")


def test_hours_are_set_checked_saved_and_shown_again(context: Any, real: DemoServer) -> None:
    put_site(real, "east", SITE)
    pg = open_setup(context, real, "east")
    assert pg.locator("#sec-hours").inner_text() == "Ticket issuing hours"
    pg.locator("#hours-now", has_text="Always open").wait_for(timeout=WAIT_MS)
    off = pg.get_by_label("Always open (no issuing hours)")
    assert off.is_checked()
    # Keyboard: the radio group is reached and changed with the arrow keys.
    off.focus()
    pg.keyboard.press("ArrowDown")
    assert pg.get_by_label("Only at set hours").is_checked()
    assert pg.evaluate("document.activeElement.id") == "hours-on"
    # Monday to Friday start at 08:00-17:00; the weekend takes no ticket.
    assert span(pg, "site", "fri", 0, "until").input_value() == "17:00"
    assert pg.locator("li[data-day='sat'][data-scope='site']").inner_text().count("Closed") == 1
    span(pg, "site", "mon", 0, "from").fill("07:30")
    span(pg, "site", "mon", 0, "until").fill("12:00")
    pg.get_by_role("button", name="Add hours on Monday", exact=True).click()
    assert pg.evaluate("document.activeElement.id") == "hr-site-mon-1-from"
    pg.keyboard.type("13:30")
    pg.get_by_label("Monday 2 until").fill("16:30")
    pg.locator("#hr-site-copy-mon").click()
    assert pg.locator("#hours-copied").inner_text() == "Monday’s hours copied to Tuesday–Friday."
    assert span(pg, "site", "thu", 1, "until").input_value() == "16:30"
    pg.get_by_role("button", name="Add hours on Saturday", exact=True).click()
    span(pg, "site", "sat", 0, "until").fill("12:00")
    # Checked on the page first: a time that is no HH:MM, an empty interval.
    span(pg, "site", "wed", 0, "from").fill("7:30")
    pg.locator("#save").click()
    err = pg.locator("#hr-site-wed-0-from-err")
    err.wait_for(timeout=WAIT_MS)
    assert "Write the start as HH:MM (00:00–23:59), not “7:30”" in err.inner_text()
    assert pg.evaluate("document.activeElement.id") == "hr-site-wed-0-from"
    assert span(pg, "site", "wed", 0, "from").get_attribute("aria-invalid") == "true"
    span(pg, "site", "wed", 0, "from").fill("12:00")
    pg.locator("#save").click()
    err = pg.locator("#hr-site-wed-0-from-err", has_text="from 12:00 until 12:00 is empty")
    err.wait_for(timeout=WAIT_MS)
    assert "policy" not in get_site(real, "east") or "hours" not in get_site(real, "east")["policy"]
    span(pg, "site", "wed", 0, "from").fill("07:30")
    # Wednesday's afternoon removed; a holiday with its names; the lab's own Monday.
    pg.get_by_role("button", name="Remove Wednesday 13:30–16:30").click()
    assert pg.evaluate("document.activeElement.id") == "hr-site-wed-0-from"
    pg.locator("#hr-closed-add").click()
    assert pg.evaluate("document.activeElement.id") == "hr-closed-0-date"
    pg.locator("#hr-closed-0-date").fill("2031-12-25")
    pg.locator("#hr-closed-0-name-en").fill("Christmas Day")
    pg.locator("#hr-closed-0-name-zh").fill("圣诞节")
    pg.get_by_label("Own hours for Lab").check()
    span(pg, "s-lab", "mon", 1, "from").wait_for(timeout=WAIT_MS)
    pg.get_by_role("button", name="Remove Lab · Monday 13:30–16:30").click()
    span(pg, "s-lab", "mon", 0, "until").fill("11:00")
    pg.locator("#save").click()
    pg.locator("#save-status", has_text="Saved.").wait_for(timeout=WAIT_MS)
    week = {d: [["07:30", "12:00"], ["13:30", "16:30"]] for d in ("mon", "tue", "thu", "fri")}
    week["wed"] = [["07:30", "12:00"]]
    want = {"week": {**week, "sat": [["08:00", "12:00"]]},
            "closed": [{"date": "2031-12-25", "name": {"zh": "圣诞节", "en": "Christmas Day"}}],
            "services": {"lab": {**{d: [["07:30", "12:00"], ["13:30", "16:30"]]
                                    for d in ("tue", "thu", "fri")},
                                 "mon": [["07:30", "11:00"]], "wed": [["07:30", "12:00"]],
                                 "sat": [["08:00", "12:00"]]}}}
    got = get_site(real, "east")["policy"]
    assert {k: dict(v) if isinstance(v, dict) else v for k, v in got["hours"].items()} == want
    assert got["day_close"] == "02:00" and got["recall_max"] == 3  # the rest of the policy
    # What they mean now, as the server says it.
    now = _api(real, "GET", "/v1/sites/east/hours").json()
    line = pg.locator("#hours-now")
    line.filter(has_text=re.compile("Open now|Closed")).wait_for(timeout=WAIT_MS)
    text = line.inner_text()
    assert text.startswith("Now, as saved (Asia/Shanghai):")
    assert says(now, now["date"]) in text, (text, now)
    assert "null" not in text and "undefined" not in text
    assert f"Lab: {says(now['services']['lab'], now['date'])}" in text, (text, now)
    # A reload shows them as saved.
    pg = open_setup(context, real, "east")
    assert pg.get_by_label("Only at set hours").is_checked()
    assert span(pg, "site", "fri", 1, "from").input_value() == "13:30"
    assert span(pg, "site", "sat", 0, "until").input_value() == "12:00"
    assert pg.locator("#hr-closed-0-date").input_value() == "2031-12-25"
    assert pg.locator("#hr-closed-0-name-en").input_value() == "Christmas Day"
    assert pg.get_by_label("Own hours for Lab").is_checked()
    assert not pg.get_by_label("Own hours for GP").is_checked()
    assert span(pg, "s-lab", "mon", 0, "until").input_value() == "11:00"
    assert pg.locator("#save-status").inner_text() == "No changes."
    # Off, then on again: the hours come back as they were (nothing to save).
    pg.get_by_label("Always open (no issuing hours)").check()
    assert pg.locator("#hr-site-week").count() == 0
    assert pg.locator("#save-status").inner_text() == "Unsaved changes."
    pg.get_by_label("Only at set hours").check()
    assert pg.locator("#save-status").inner_text() == "No changes."
    # In Chinese.
    pg.locator("#lang button[lang='zh-CN']").click()
    pg.locator("#sec-hours", has_text="取号时间").wait_for(timeout=WAIT_MS)
    assert pg.locator("#hr-site-copy-mon").inner_text() == "将周一复制到周二至周五"
    assert "当前（按已保存的设置，Asia/Shanghai）" in pg.locator("#hours-now").inner_text()


def test_the_servers_refusal_is_shown_on_the_field_it_names(context: Any,
                                                             real: DemoServer) -> None:
    put_site(real, "west", {**SITE, "policy": {"hours": copy.deepcopy(HOURS)}})
    pg = open_setup(context, real, "west")
    # A date the page's check lets through (its form is right) but the calendar lacks.
    doc = pg.evaluate("window.switchboardSetup.doc")
    doc["policy"]["hours"]["closed"][1]["date"] = "2031-02-30"
    pg.locator("#raw-box summary").click()
    pg.locator("#raw").fill(json.dumps(doc))
    pg.locator("#sec-hours").click()
    pg.locator("#save").click()
    err = pg.locator("#hr-closed-1-date-err")
    err.wait_for(timeout=WAIT_MS)
    assert "bad_request: policy.hours.closed: '2031-02-30' is no date" in err.inner_text()
    assert pg.locator("#hr-closed-1-date").get_attribute("aria-invalid") == "true"
    assert pg.evaluate("document.activeElement.id") == "hr-closed-1-date"
    assert pg.locator("#save-error").inner_text().startswith("Not saved")
    assert get_site(real, "west")["policy"]["hours"]["closed"][1]["date"] == "2031-05-01"
    # Fixed on the field, it saves.
    pg.locator("#hr-closed-1-date").fill("2031-05-02")
    pg.locator("#save").click()
    pg.locator("#save-status", has_text="Saved.").wait_for(timeout=WAIT_MS)
    assert get_site(real, "west")["policy"]["hours"]["closed"][1] == {
        "date": "2031-05-02", "name": {"zh": "劳动节", "en": "Labour Day"}}


def test_saving_other_edits_keeps_the_hours_exactly(context: Any, real: DemoServer) -> None:
    for site, hours in (("north", HOURS), ("south", {"closed": [{"date": "2031-01-01"}]})):
        put_site(real, site, {**SITE, "policy": {**SITE["policy"], "hours": hours}})
        before = get_site(real, site)["policy"]
        pg = open_setup(context, real, site)
        assert pg.locator("#save-status").inner_text() == "No changes."
        assert pg.get_by_label("Only at set hours").is_checked()
        if site == "north":  # a string name shows in the site's first language's field
            assert pg.locator("#hr-closed-0-name-zh").input_value() == "New Year"
            assert span(pg, "site", "wed", 0, "until").input_value() == "02:00"
        else:  # no week: every day, all day
            assert "Every day, all day" in pg.locator("#hours").inner_text()
        pg.locator("li[data-service='gp']").get_by_label("Name (English)").fill("General")
        pg.locator("#site-close").fill("03:00")
        pg.locator("#save").click()
        pg.locator("#save-status", has_text="Saved.").wait_for(timeout=WAIT_MS)
        after = get_site(real, site)
        assert after["policy"] == {**before, "day_close": "03:00"}
        assert after["policy"]["hours"] == hours
        assert after["services"][0]["name"]["en"] == "General"


@pytest.mark.parametrize("width,height", [(1366, 768), (1024, 768)])
def test_the_hours_editor_fits_a_laptop_and_a_tablet(browser: Any, real: DemoServer,
                                                     width: int, height: int) -> None:
    put_site(real, "fit", {**SITE, "policy": {"hours": HOURS}})
    ctx = browser.new_context(viewport={"width": width, "height": height},
                              has_touch=width < 1366)
    try:
        for lang in ("en", "zh"):
            pg = open_setup(ctx, real, "fit", lang=lang)
            pg.locator("#hr-site-mon-1-until").scroll_into_view_if_needed()
            assert_reflows(pg, f"set-up page's hours at {width} px ({lang})")
            # A day, its two intervals and its button on one line on both.
            day = pg.locator("li[data-day='mon'][data-scope='site']").bounding_box()
            assert day is not None and day["height"] < 60, day
    finally:
        ctx.close()
