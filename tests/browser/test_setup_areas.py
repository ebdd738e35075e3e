"""Waiting areas on the set-up page, and the boards made for them, in Chromium against a real
server. Before, areas were made by writing JSON, and a display token for one room's TV opened
any room's board: now the page has a "Waiting areas" section (add, name, tick counters,
remove; a counter leaving the site leaves its areas; an area with no counter is pointed out
before saving; the server's refusal lands on the area's row), and a board made for an area
is locked to it, whatever its address says. A quiet room's board reloaded after a busy spell
in another room showed no recent calls (the site's last calls were all the other room's): it
now gets its own."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DemoServer, wait_js
from tests.browser.test_accessibility import assert_reflows
from tests.browser.test_board_announcements import FAKE_VOICE
from tests.browser.test_js_units import page, run  # noqa: F401  (the unit page fixture)
from tests.browser.test_setup_page import WAIT_MS, open_setup, row, site

pytestmark = pytest.mark.browser


def test_areas_are_made_checked_and_saved_on_the_form(context: Any,
                                                      demo_server: DemoServer) -> None:
    pg = open_setup(context, demo_server)
    assert pg.locator("#sec-areas").inner_text() == "Waiting areas"
    pg.locator("#add-area").click()
    area = row(pg, "area", "area1")
    # The new area's Chinese name has the focus; its counters are a labelled group.
    assert pg.evaluate("document.activeElement.id") == "area-0-zh"
    area.get_by_label("Name (English)").fill("Waiting room 1")
    # Saved with no counter ticked: said on the area's counters, which get the focus.
    pg.locator("#save").click()
    err = pg.locator("#area-0-counters-err")
    err.wait_for(timeout=WAIT_MS)
    assert "Choose at least one counter for waiting area area1" in err.inner_text()
    assert pg.evaluate("document.activeElement.id") == "area-0-counters"
    group = pg.get_by_role("group", name="Counters in this area")
    assert group.get_attribute("aria-invalid") == "true"
    for name in ("Room 1", "Room 2"):
        area.get_by_label(name, exact=False).first.check()
    area.get_by_label("ID").fill("wr1")
    pg.locator("#save").click()
    pg.locator("#save-status", has_text="Saved.").wait_for(timeout=WAIT_MS)
    saved = site(demo_server)["areas"]
    assert [(a["id"], a["name"]["en"], a["counters"]) for a in saved] == [
        ("wr1", "Waiting room 1", ["1", "2"])]
    # A board locked to it appears among the devices, named after the area.
    board = row(pg, "device", "board:wr1@area")
    assert "Waiting room 1" in board.locator("h3").inner_text()
    assert board.get_by_label("Device name").input_value() == "demo-board-wr1"
    board.get_by_role("button", name="Make a link").click()
    board.locator("a.st-url").wait_for(timeout=WAIT_MS)
    url = board.locator("a.st-url").get_attribute("href")
    assert url.startswith(f"{demo_server.base}/board/demo?area=wr1&token=")

    # A counter named in the JSON that the site lacks: the server's refusal is shown on the
    # area's row (its counters), the edits kept.
    doc = pg.evaluate("window.switchboardSetup.doc")
    doc["areas"][0]["counters"].append("42")
    pg.locator("#raw-box summary").click()
    pg.locator("#raw").fill(json.dumps(doc))
    pg.locator("#sec-areas").click()
    pg.locator("#save").click()
    err.wait_for(timeout=WAIT_MS)
    assert err.inner_text().startswith("Counter 42 is not one of the site’s counters")
    assert "unknown counter '42'" in err.inner_text()
    assert pg.locator("#save-error").inner_text().startswith("Not saved")
    assert row(pg, "area", "wr1").get_by_label("42 (?)").is_checked()
    row(pg, "area", "wr1").get_by_label("42 (?)").click()  # unticked, it goes
    assert row(pg, "area", "wr1").get_by_label("42 (?)").count() == 0
    assert pg.evaluate("window.switchboardSetup.doc.areas[0].counters") == ["1", "2"]
    # A counter removed from the site leaves its areas too.
    row(pg, "counter", "2").get_by_role("button", name="Remove").click()
    assert pg.evaluate("window.switchboardSetup.doc.areas[0].counters") == ["1"]
    # In Chinese too.
    pg.locator("#lang button[lang='zh-CN']").click()
    pg.locator("#sec-areas", has_text="等候区").wait_for(timeout=WAIT_MS)
    assert pg.locator("#add-area").inner_text() == "+ 添加等候区"


def put_rooms(server: DemoServer) -> None:
    doc = site(server)
    doc.pop("id", None)
    for c in doc["counters"]:
        c.pop("state", None)
        c.pop("ticket", None)
    doc["areas"] = [{"id": "wr1", "name": {"zh": "一号", "en": "Room one"}, "counters": ["1"]},
                    {"id": "wr2", "name": {"zh": "二号", "en": "Room two"}, "counters": ["4"]}]
    put = httpx.put(f"{server.base}/v1/sites/demo", json=doc, timeout=10,
                    headers={"Authorization": f"Bearer {server.token('admin')}"})
    assert put.status_code == 200, put.text


def open_board(ctx: Any, server: DemoServer, token: str, area: str) -> Any:
    pg = ctx.new_page()
    pg.goto(f"{server.base}/board/demo?token={token}&lang=en&area={area}")
    wait_js(pg, "window.switchboardBoard && document.body.dataset.conn === 'online'"
                " && window.switchboardBoard.offset")
    return pg


def test_a_board_made_for_an_area_shows_that_area_whatever_its_address_says(
        browser: Any, demo_server: DemoServer) -> None:
    put_rooms(demo_server)
    token = demo_server.token("display", site="demo", area="wr2")
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    ctx.add_init_script(FAKE_VOICE)
    try:
        pg = open_board(ctx, demo_server, token, "wr1")
        assert pg.evaluate("window.switchboardBoard.area") == "wr2"
        assert pg.evaluate("window.switchboardBoard.areaLocked") is True
        assert "Room two" in pg.locator("#site-sub").inner_text()
        tiles = pg.evaluate("[...document.querySelectorAll('#counters .counter-tile')]"
                            ".map((t) => t.dataset.counter)")
        assert tiles == ["4"]
    finally:
        ctx.close()


def test_board_area_reads_the_token(page: Any) -> None:  # noqa: F811
    got = run(page, """
      const s = m.board_state;
      const b64url = (text) => btoa(text).replace(/=+$/, '').replace(/\\+/g, '-')
        .replace(/\\//g, '_');
      const jwt = (claims) => ['x', b64url(JSON.stringify(claims)), 'sig'].join('.');
      return [s.boardArea('wr1', jwt({role: 'display', area: 'wr2'})),
              s.boardArea('wr1', jwt({role: 'display'})),
              s.boardArea(null, null),
              s.boardArea(null, 'not a token'),
              s.boardTopic('opd', 'wr1'), s.boardTopic('opd', null)];
    """)
    assert got == [{"id": "wr2", "locked": True, "ignored": "wr1"},
                   {"id": "wr1", "locked": False, "ignored": None},
                   {"id": None, "locked": False, "ignored": None},
                   {"id": None, "locked": False, "ignored": None},
                   "board:opd:wr1", "board:opd"]


def test_a_site_without_counters_says_to_add_one_first(context: Any,
                                                       demo_server: DemoServer) -> None:
    pg = open_setup(context, demo_server, name="fresh-areas")
    add = pg.locator("#add-area")
    assert add.get_attribute("aria-disabled") == "true"
    note = pg.locator("#add-area-note")
    assert note.is_visible() and note.inner_text().startswith("Add a counter first")
    add.focus()  # still reachable, and it says why it does nothing
    pg.keyboard.press("Enter")
    assert pg.evaluate("document.activeElement.id") == "add-area-note"
    assert pg.evaluate("window.switchboardSetup.doc.areas") is None
    pg.locator("#add-counter").click()
    assert add.get_attribute("aria-disabled") == "false" and not note.is_visible()


def served(server: DemoServer, service: str, counter: str) -> str:
    number = str(server.take(service)["number"])
    for op in ("call-next", "start", "complete"):
        server.counter(counter, op)
    return number


def test_a_quiet_rooms_board_reloaded_after_a_busy_spell_shows_its_calls(
        browser: Any, demo_server: DemoServer) -> None:
    put_rooms(demo_server)
    for c in ("1", "4"):
        demo_server.counter(c, "open")
    quiet = [served(demo_server, "internal", "1") for _ in range(2)]
    for _ in range(22):  # more calls in room two than the site's recent list keeps (20)
        served(demo_server, "lab", "4")
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    ctx.add_init_script(FAKE_VOICE)
    try:
        pg = open_board(ctx, demo_server, demo_server.token("display", site="demo"), "wr1")
        shown = pg.evaluate("[...document.querySelectorAll('#recent .rr-number')]"
                            ".map((e) => e.textContent)")
        assert shown[:2] == quiet[::-1]
    finally:
        ctx.close()


def test_the_areas_and_area_boards_fit_a_tablet(browser: Any, demo_server: DemoServer) -> None:
    put_rooms(demo_server)
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 768, "height": 1024},
                              has_touch=True)
    try:
        pg = open_setup(ctx, demo_server, lang="zh")
        assert row(pg, "area", "wr2").is_visible()
        assert row(pg, "device", "board:wr2@area").get_by_label("显示范围").input_value() == "wr2"
        assert_reflows(pg, "set-up page with areas at 768 px")
    finally:
        ctx.close()
