"""A clinic clerk's day at the counter console, in real Chromium against a demo server: the
recall that marks a no-show says so (and empties the panel at once), Complete of a patient
who never came in asks first, a parked patient is called back from the parked list, transfers
say where to, the panel says why nobody can be called, the Find result does not go stale,
and the shortcuts switch shows its state."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser
WAIT_MS = 15000


def console(context: Any, demo_server: DemoServer, counter: str, lang: str = "en") -> Any:
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(demo_server.page_url(f"counter:{counter}", lang=lang))
    wait_js(page, "window.switchboardCounter && window.switchboardCounter.client.state.status"
                  " === 'online' && window.switchboardCounter.counter.state")
    return page


def op(page: Any, name: str) -> Any:
    return page.locator(f"#actions [data-op='{name}']")


def test_the_recall_that_marks_a_no_show_says_so_and_empties_the_panel(
        context: Any, demo_server: DemoServer) -> None:
    t = demo_server.take("internal")
    page = console(context, demo_server, "1")
    page.get_by_role("button", name=f"Call {t['number']}").click()
    page.locator("#current", has_text=t["number"]).wait_for()
    expect(op(page, "recall")).to_contain_text("Recall")
    expect(page.locator("#recall-hint")).to_have_count(0)
    op(page, "recall").click()
    # The second recall is the last one: said on the button and, as the one after it ends
    # the call, under the ticket.
    expect(op(page, "recall")).to_contain_text("Recall (last)")
    expect(page.locator("#recall-hint")).to_have_text(
        f"Last recall: the one after it marks {t['number']} a no-show.")
    op(page, "recall").click()
    expect(op(page, "recall")).to_contain_text("Recall = no-show")
    expect(page.locator("#recall-hint")).to_have_text(
        f"Called 3 times: the next Recall marks {t['number']} a no-show.")
    expect(op(page, "recall")).to_have_attribute("aria-describedby", "recall-hint")
    # The longer label wraps in its column: the row of actions stays inside the card.
    assert page.evaluate("""() => { const box = document.getElementById('actions')
      .getBoundingClientRect(); return [...document.querySelectorAll('#actions button')]
      .every((b) => b.getBoundingClientRect().right <= box.right + 1); }""")
    op(page, "recall").click()
    # The answer is the ticket back in the queue (a first no-show returns once): not a call.
    expect(page.locator(".undo-toast, .toast").filter(
        has_text=f"{t['number']} marked no-show (3 calls)").first).to_be_visible()
    # Empty at once, from the answer (not 1.5–3 s later from the topic), Call next ready.
    assert page.evaluate("window.switchboardCounter.counter.ticket") is None
    expect(page.locator("#current .c-empty")).to_be_visible(timeout=1000)
    expect(op(page, "call-next")).to_be_enabled(timeout=1000)
    # The ticket is waiting again, a little further back (a first no-show returns once).
    agent = {"Authorization": f"Bearer {demo_server.token('agent', site='demo', counter='1')}"}
    status = httpx.get(f"{demo_server.base}/v1/tickets/{t['id']}", headers=agent, timeout=10).json()
    assert status["status"] == "waiting"
    # Undo (the server's, docs/protocol.md): back at this counter, called, as it was.
    page.locator("#undo-toast").get_by_role("button", name="Undo").click()
    page.locator("#current", has_text=t["number"]).wait_for()
    page.locator(".toast", has_text=f"{t['number']} is back at this counter").wait_for()
    assert page.evaluate("window.switchboardCounter.counter.ticket.status") == "called"
    expect(page.locator("#undo-toast")).to_be_hidden()
    status = httpx.get(f"{demo_server.base}/v1/tickets/{t['id']}", headers=agent, timeout=10)
    assert status.json()["status"] == "called"
    demo_server.counter("1", "complete")


def test_the_recall_no_show_in_chinese(context: Any, demo_server: DemoServer) -> None:
    t = demo_server.take("internal")
    page = console(context, demo_server, "1", lang="zh")
    page.get_by_role("button", name=f"呼叫 {t['number']}").click()
    page.locator("#current", has_text=t["number"]).wait_for()
    for _ in range(2):
        op(page, "recall").click()
        page.wait_for_timeout(200)
    expect(op(page, "recall")).to_contain_text("重呼即过号")
    op(page, "recall").click()
    expect(page.locator("#undo-text")).to_have_text(
        f"{t['number']} 已标记过号（呼叫 3 次），已回队一次（稍后叫号）")
    expect(page.locator("#current .c-empty")).to_be_visible(timeout=1000)
    demo_server.counter("1", "call", {"ticket": t["id"]})
    demo_server.counter("1", "complete")


def test_complete_of_a_patient_only_called_asks_first_and_c_waits_for_start(
        context: Any, demo_server: DemoServer) -> None:
    first, second = demo_server.take("paediatrics"), demo_server.take("paediatrics")
    page = console(context, demo_server, "3")
    page.locator("#keys-title").click()
    page.keyboard.press("n")
    page.locator("#current", has_text=first["number"]).wait_for()
    # While calling, Start is the primary action; Complete is plain.
    expect(op(page, "start")).to_have_class("btn btn-primary")
    expect(op(page, "complete")).not_to_have_class("btn btn-ok")
    # C by habit: nothing ends, the console says why.
    page.keyboard.press("c")
    page.locator(".toast", has_text="Start first (S)").wait_for()
    assert page.evaluate("window.switchboardCounter.counter.ticket.status") == "called"
    # The button asks, in a dialog; Go back has the focus and Escape keeps the patient.
    op(page, "complete").click()
    dialog = page.locator("#complete-dialog[open]")
    expect(dialog).to_contain_text(f"Complete {first['number']} without starting?")
    expect(page.locator("#complete-no")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert page.evaluate("window.switchboardCounter.counter.ticket.status") == "called"
    # Enter on the focused Go back: still nothing ended.
    op(page, "complete").click()
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    assert page.evaluate("window.switchboardCounter.counter.ticket.status") == "called"
    # By keyboard to Complete anyway.
    op(page, "complete").focus()
    page.keyboard.press("Enter")
    page.locator("#complete-yes").focus()
    page.keyboard.press("Enter")
    page.locator("#current .c-empty").wait_for()
    agent = {"Authorization": f"Bearer {demo_server.token('agent', site='demo', counter='3')}"}
    assert httpx.get(f"{demo_server.base}/v1/tickets/{first['id']}", headers=agent,
                     timeout=10).json()["status"] == "done"
    # Ended by mistake after all: Undo brings the patient back (as they were: called).
    page.locator("#undo-text", has_text=f"{first['number']}: Complete").wait_for()
    page.locator("#undo-go").click()
    page.locator("#current", has_text=first["number"]).wait_for()
    assert httpx.get(f"{demo_server.base}/v1/tickets/{first['id']}", headers=agent,
                     timeout=10).json()["status"] == "called"
    demo_server.counter("3", "complete")
    page.locator("#current .c-empty").wait_for()
    # S then C: Complete green once serving, and C does it.
    page.locator("#keys-title").click()
    page.keyboard.press("n")
    page.locator("#current", has_text=second["number"]).wait_for()
    page.keyboard.press("s")
    expect(op(page, "complete")).to_have_class("btn btn-ok")
    page.keyboard.press("c")
    page.locator("#current .c-empty").wait_for()
    page.locator("#undo-text", has_text=f"{second['number']}: Complete").wait_for()


def test_a_parked_patient_is_called_back_from_the_parked_list(
        context: Any, demo_server: DemoServer) -> None:
    t = demo_server.take("pharmacy")
    demo_server.counter("5", "call", {"ticket": t["id"]})
    demo_server.counter("5", "park")
    page = console(context, demo_server, "5")
    item = page.locator("#parked-list li", has_text=t["number"])
    item.wait_for()
    # The service in full, not cut off beside three buttons.
    svc = item.locator(".p-svc")
    expect(svc).to_have_text("Pharmacy")
    assert svc.evaluate("(e) => e.scrollWidth <= e.clientWidth + 1 && e.clientWidth > 40")
    item.get_by_role("button", name=f"Call {t['number']}").click()
    page.locator("#current", has_text=t["number"]).wait_for()
    page.locator(".toast", has_text=f"Called {t['number']}").wait_for()
    page.locator("#parked-list li", has_text=t["number"]).wait_for(state="detached")
    assert page.evaluate("window.switchboardCounter.counter.ticket.status") == "called"
    demo_server.counter("5", "no-show")
    demo_server.counter("5", "call", {"ticket": t["id"]})
    demo_server.counter("5", "complete")


def test_transfers_say_where_to_and_mark_services_with_no_counter_open(
        context: Any, demo_server: DemoServer) -> None:
    t = demo_server.take("internal")
    demo_server.counter("4", "close")
    try:
        page = console(context, demo_server, "2")
        page.get_by_role("button", name=f"Call {t['number']}").click()
        page.locator("#current", has_text=t["number"]).wait_for()
        op(page, "transfer").click()
        lab = page.locator("#transfer-options button", has_text="Laboratory")
        # Marked, not hidden: the lab may open in five minutes.
        expect(lab).to_contain_text("no counter open now")
        expect(page.locator("#transfer-options button", has_text="Pharmacy")).not_to_contain_text(
            "no counter open now")
        lab.click()
        page.locator(".toast", has_text=f"{t['number']} moved to Laboratory").wait_for()
    finally:
        demo_server.counter("4", "open")
    # In the lab's list it came by transfer, not from the kiosk.
    lab_page = console(context, demo_server, "4")
    row = lab_page.locator(f".q-item:has-text('{t['number']}')")
    expect(row).to_contain_text("Transferred")
    expect(row).not_to_contain_text("Kiosk")
    demo_server.counter("4", "call", {"ticket": t["id"]})
    demo_server.counter("4", "complete")


def test_closed_and_paused_say_so_and_disabled_buttons_look_disabled(
        context: Any, demo_server: DemoServer) -> None:
    page = console(context, demo_server, "6")
    page.locator("#keys-title").click()
    page.keyboard.press("l")
    expect(page.locator("#current .c-empty")).to_have_text("Counter closed — open it to call.")
    page.locator("#state-group .st-paused:not([disabled])").wait_for()
    page.keyboard.press("b")
    expect(page.locator("#current .c-empty")).to_have_text(
        "Paused — open the counter again to call.")
    page.locator("#state-group .st-open:not([disabled])").wait_for()  # not busy
    page.keyboard.press("o")
    expect(page.locator("#current .c-empty")).to_have_text("No ticket. Call the next one.")
    # A disabled Complete: grey and dashed, not a pale green that reads as "press me".
    complete = op(page, "complete")
    expect(complete).to_be_disabled()
    # Retrying assertions: the actions row is re-rendered when the counter's state arrives, and
    # a button read between its removal and its successor has no computed style at all.
    expect(complete).to_have_css("border-top-style", "dashed")
    expect(complete).to_have_css("opacity", "1")
    expect(complete).not_to_have_css("background-color", "rgb(19, 122, 58)")


def test_the_find_result_goes_away_and_never_takes_the_focus(
        context: Any, demo_server: DemoServer) -> None:
    page = console(context, demo_server, "4")
    page.locator("#book-open:not([hidden])").wait_for()
    box = page.locator("#find-number")
    box.fill("ZZZ222")  # reads as an appointment code; no such booking
    box.press("Enter")
    card = page.locator(".found-card.found-code")
    card.wait_for()
    # Room for its words: not ~100 px.
    width = card.locator(".found-info").evaluate("(e) => e.getBoundingClientRect().width")
    assert width > 250, width
    # L, pressed away from the box, closes the counter; the focus stays out of the card.
    page.locator("#keys-title").click()
    page.keyboard.press("l")
    expect(page.locator("#current .c-empty")).to_have_text("Counter closed — open it to call.")
    assert not page.evaluate("document.getElementById('found').contains(document.activeElement)")
    page.locator("#state-group .st-open:not([disabled])").wait_for()
    page.keyboard.press("o")
    expect(page.locator("#current .c-empty")).to_have_text("No ticket. Call the next one.")
    assert not page.evaluate("document.getElementById('found').contains(document.activeElement)")
    # Emptying the search box takes the result away.
    box.fill("")
    expect(page.locator("#found .found-card")).to_have_count(0)


def test_the_shortcuts_switch_shows_its_state_and_chinese_open_differs_from_start(
        context: Any, demo_server: DemoServer) -> None:
    page = console(context, demo_server, "6")
    toggle = page.locator("#keys-toggle")
    expect(toggle).to_have_text("Single-key shortcuts: on")
    on = toggle.evaluate("(e) => getComputedStyle(e).backgroundColor")
    toggle.click()
    expect(toggle).to_have_text("Single-key shortcuts: off")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.mouse.move(0, 0)
    page.wait_for_timeout(400)  # the buttons' colour transition
    off = toggle.evaluate("(e) => getComputedStyle(e).backgroundColor")
    assert on != off, (on, off)
    toggle.click()
    expect(toggle).to_have_text("Single-key shortcuts: on")
    zh = console(context, demo_server, "6", lang="zh")
    expect(zh.locator("#state-group .st-open")).to_contain_text("开启窗口")
    expect(op(zh, "start")).to_contain_text("开始办理")
    assert "开始服务" not in zh.locator("body").inner_text()


def test_a_find_result_left_alone_goes_after_a_minute(context: Any,
                                                      demo_server: DemoServer) -> None:
    """The "Check in the appointment" card stayed up for minutes: left alone (no pointer or
    focus on it), it goes after a minute."""
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.clock.install()
    page.goto(demo_server.page_url("counter:4", lang="en"))
    page.locator("#book-open:not([hidden])").wait_for()
    page.locator("#find-number").fill("ZZZ333")
    page.locator("#find-number").press("Enter")
    page.locator(".found-card", has_text="Check in the appointment").wait_for()
    page.mouse.move(5, 5)
    page.clock.fast_forward("00:30")
    expect(page.locator(".found-card")).to_have_count(1)
    page.clock.fast_forward("00:35")
    expect(page.locator("#found .found-card")).to_have_count(0)
