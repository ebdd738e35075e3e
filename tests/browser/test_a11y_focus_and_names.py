"""An accessibility review with Chromium's own accessibility tree and the keyboard only:

- focus is never lost to the page after an action (WCAG 2.4.3): the booking page's service
  (its buttons are rebuilt) goes on to the time step's heading; the counter console's "Call"
  in the queue list and a shortcut pressed there go to the current-ticket panel (the kiosk's
  Done: test_kiosk_start_reset.py);
- the console's single-key shortcuts can be turned off, for this device (WCAG 2.1.4), and
  never fire while typing;
- names are said once: a time button and the tracking map have no description repeating
  their name (Chromium's tree, as a screen reader gets it).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from realtime.auth import make_token
from tests.browser.conftest import SECRET, DemoServer, wait_js
from tests.browser.test_js_units import page  # noqa: F401  (a blank page serving clients/web)

pytestmark = pytest.mark.browser
WAIT_MS = 15000


def ax_nodes(pg: Any) -> list[dict[str, Any]]:
    """Chromium's accessibility tree: {role, name, description} of each node not ignored."""
    cdp = pg.context.new_cdp_session(pg)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    return [{k: (n.get(k) or {}).get("value", "") for k in ("role", "name", "description")}
            for n in nodes if not n.get("ignored")]


def focused(pg: Any) -> Any:
    return pg.evaluate("""() => { const e = document.activeElement;
      return e === document.body || !e ? 'body' : (e.id || e.className || e.tagName); }""")


# -- the booking page ---------------------------------------------------------------------

def test_book_service_with_the_keyboard_moves_on_and_times_are_named_once(
        context: Any, demo_server: DemoServer) -> None:
    web = make_token(SECRET, "partner", site="demo", channels=["web"], subject="web-page")
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    pg.goto(f"{demo_server.base}/book/demo?token={web}&lang=en")
    lab = pg.locator("#services button", has_text="Laboratory")
    lab.focus()
    pg.keyboard.press("Enter")
    expect(pg.locator("#services button", has_text="Laboratory")).to_have_attribute(
        "aria-pressed", "true")
    expect(pg.locator("#when-title")).to_be_focused()
    assert focused(pg) == "when-title"
    pg.locator("#times .b-time").first.wait_for()
    buttons = [n for n in ax_nodes(pg) if n["role"] == "button" and " · " in n["name"]]
    assert buttons, "no time buttons in the tree"
    for b in buttons:
        assert b["description"] == "", b  # was the name again (a title as well)
    assert pg.locator("#times .b-time[title]").count() == 0


# -- the tracking page's map (its module, without a server) --------------------------------

def test_the_map_image_is_named_once(page: Any) -> None:  # noqa: F811  (the fixture)
    """As the tracking page draws it: the image's name is its label, with no description
    saying it again; the page's own #map-title stays the only element with that id."""
    pg = page
    pg.evaluate("""async () => {
      document.body.innerHTML = "<h2 id='map-title'>Map</h2>"
        + "<div id='map' style='width:320px;height:240px'></div>";
      const m = await import('/static/js/map.js');
      const box = document.getElementById('map');
      const map = new m.MapView(box, { label: 'Where your technician is' });
      map.update({ zones: [], lines: [], techs: [],
        jobs: [{ id: 'home', lat: 31.2, lon: 121.4, kind: 'home', label: 'You', title: 'You' }] });
      map.setLabel('Where your technician is — 1.2 km away');
    }""")
    images = [n for n in ax_nodes(pg) if n["role"] == "image"]
    assert images == [{"role": "image", "name": "Where your technician is — 1.2 km away",
                       "description": ""}]
    assert pg.locator("#map-title").count() == 1


# -- the counter console ------------------------------------------------------------------

def open_console(context: Any, server: DemoServer, counter: str) -> Any:
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    pg.goto(server.page_url(f"counter:{counter}", lang="en"))
    wait_js(pg, "window.switchboardCounter && window.switchboardCounter.counter.state")
    if pg.evaluate("window.switchboardCounter.counter.state") != "open":
        server.counter(counter, "open")
        wait_js(pg, "window.switchboardCounter.counter.state === 'open'")
    return pg


def test_console_call_and_shortcut_keep_focus_on_the_current_ticket(
        context: Any, demo_server: DemoServer) -> None:
    """Enter on "Call A00x" in the queue list: the list is rebuilt, focus goes to the
    current-ticket panel (its number is there); X pressed on a queue list button, the same."""
    first, second = demo_server.take("paediatrics"), demo_server.take("paediatrics")
    pg = open_console(context, demo_server, "3")
    call = pg.get_by_role("button", name=f"Call {first['number']}")
    call.focus()
    pg.keyboard.press("Enter")
    pg.locator("#current", has_text=first["number"]).wait_for()
    panel = pg.locator("section.c-current")
    expect(panel).to_be_focused()
    panel.get_by_role("button", name="No-show").wait_for()
    move = pg.get_by_role("button", name=f"Transfer {second['number']}")
    move.focus()
    pg.keyboard.press("x")
    pg.locator("#current", has_text="No ticket").or_(
        pg.locator("#current .c-empty")).first.wait_for()
    expect(panel).to_be_focused()
    assert focused(pg) != "body"


def test_console_single_key_shortcuts_can_be_turned_off_for_this_device(
        context: Any, demo_server: DemoServer) -> None:
    """On by default, with a toggle button (44 px) in the shortcuts help; never while typing in the
    find box; turned off, letters do nothing (the buttons still do), the buttons announce no
    shortcut, and a reload on the same device keeps it off."""
    demo_server.take("lab")
    pg = open_console(context, demo_server, "4")
    toggle = pg.get_by_role("button", name="Single-key shortcuts")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    box = toggle.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44, box
    expect(pg.locator("#keys")).to_be_visible()
    pg.locator("#find-number").fill("")
    pg.locator("#find-number").press("n")  # typing: not "call next"
    pg.wait_for_timeout(300)
    assert pg.evaluate("window.switchboardCounter.counter.ticket") is None
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(pg.locator("#keys")).to_be_hidden()
    expect(pg.locator("#keys-off")).to_be_visible()
    pg.reload()
    wait_js(pg, "window.switchboardCounter && window.switchboardCounter.counter.state")
    toggle = pg.get_by_role("button", name="Single-key shortcuts")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    pg.locator("#keys-title").click()
    pg.keyboard.press("n")
    pg.wait_for_timeout(500)
    assert pg.evaluate("window.switchboardCounter.counter.ticket") is None
    call_next = pg.locator("#actions button[data-op='call-next']")
    assert call_next.get_attribute("aria-keyshortcuts") is None
    call_next.click()
    wait_js(pg, "window.switchboardCounter.counter.ticket")
    pg.locator("#keys-title").click()
    pg.keyboard.press("l")  # not "close the counter"
    pg.wait_for_timeout(500)
    assert pg.evaluate("window.switchboardCounter.counter.state") == "open"
    toggle.click()
    pg.locator("#keys-title").click()
    pg.keyboard.press("s")  # C completes only a patient being served (counter.js keyWhen)
    wait_js(pg, "window.switchboardCounter.counter.ticket.status === 'serving'")
    pg.keyboard.press("c")
    wait_js(pg, "window.switchboardCounter.counter.ticket === null")


# -- the SMS demo page's words ------------------------------------------------------------

def test_the_phone_page_speaks_the_sites_words(context: Any, demo_server: DemoServer) -> None:
    """Its introduction says who would text in the site's vocabulary: 患者 at a clinic,
    办事群众 at a government centre (it said 患者 everywhere)."""
    from tests.browser.test_vocabulary import _speak

    gateway = make_token(SECRET, "partner", site="demo", channels=["sms"], subject="sms-gateway")
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    _speak(demo_server, "government")
    try:
        pg.goto(f"{demo_server.base}/phone/demo?token={gateway}&lang=zh")
        expect(pg.locator("#intro")).to_contain_text("输入办事群众会发的内容")
        assert "患者" not in pg.locator("#intro").inner_text()
        pg.goto(f"{demo_server.base}/phone/demo?token={gateway}&lang=en")
        expect(pg.locator("#intro")).to_contain_text("type what a citizen would text")
    finally:
        _speak(demo_server, "clinic")
    pg.goto(f"{demo_server.base}/phone/demo?token={gateway}&lang=zh")
    expect(pg.locator("#intro")).to_contain_text("输入患者会发的内容")
