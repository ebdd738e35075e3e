"""The ticket tracker, second patient-side review (2026-12-06): the points the first left open.
On a phone 320 px wide with text at 200 %, in English and Chinese, against a real server:
the cancel dialog fits, a refused link says what fits the ticket (not "ask staff for a new
one"), a saved "your turn" reopened much later offline says how old it is and is not shown
as current, the figures' words stay whole, the banner leaves the header usable.
Each test fails without the change it names."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from realtime.auth import LEEWAY_S, make_token
from tests.browser.conftest import SECRET, DemoServer, wait_js
from tests.browser.test_patient_review import _drain
from tests.browser.test_patient_review import phone as patient_phone

pytestmark = pytest.mark.browser
WAIT_MS = 15000
READY = ("window.switchboardTicket && window.switchboardTicket.ticket "
         "&& window.switchboardTicket.client.state.status === 'online'")


@contextmanager
def phone(browser: Any, locale: str = "en-US", width: int = 320,
          height: int = 640) -> Iterator[Any]:
    """A phone 320 px wide (the first review's, at its size)."""
    with patient_phone(browser, locale, width=width, height=height) as ctx:
        yield ctx


def _open(ctx: Any, server: DemoServer, tracker: str, zoom: str = "200%") -> Any:
    page = ctx.new_page()
    page.goto(server.base + tracker)
    wait_js(page, READY)
    page.evaluate(f"() => {{ document.documentElement.style.fontSize = '{zoom}'; }}")
    page.wait_for_timeout(150)
    return page


def _take(server: DemoServer, service: str, channel: str) -> Any:
    return server.post("/v1/sites/demo/tickets", server.token("kiosk", site="demo"),
                       {"service": service, "channel": channel})


def _rect(page: Any, selector: str) -> dict[str, float]:
    return page.evaluate(
        "(s) => JSON.parse(JSON.stringify(document.querySelector(s).getBoundingClientRect()))",
        selector)


def _hit(page: Any, selector: str) -> bool:
    """Whether a tap at the middle of ``selector`` lands on it (not on something over it)."""
    return page.evaluate("""(s) => {
        const el = document.querySelector(s);
        const r = el.getBoundingClientRect();
        const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return Boolean(at) && (el === at || el.contains(at));
    }""", selector)


# -- 1. the cancel dialog ------------------------------------------------------------------

@pytest.mark.parametrize(("height", "locale"), [
    (640, "en-US"), (640, "zh-CN"), (568, "en-US"), (420, "en-US"), (420, "zh-CN")])
def test_cancel_dialog_fits_a_small_phone_with_large_text(
        browser: Any, demo_server: DemoServer, height: int, locale: str) -> None:
    """At 200 % on a 320 px phone the dialog was taller than the screen: "Yes, cancel" lay
    below it (bottom 759 px on a 640 px screen), reached only by scrolling the page behind.
    It now fits: both buttons are on screen and tappable, the words scroll inside if they
    must, and the page behind does not move."""
    for _ in range(3):
        demo_server.take("pharmacy")
    t = demo_server.take("pharmacy")
    with phone(browser, locale, height=height) as ctx:
        page = _open(ctx, demo_server, t["tracker"])
        page.locator("#cancel-btn").scroll_into_view_if_needed()
        page.locator("#cancel-btn").tap()
        page.locator("#cancel-dialog[open]").wait_for(timeout=WAIT_MS)
        page.wait_for_timeout(100)
        before = page.evaluate("window.scrollY")
        dlg = _rect(page, "#cancel-dialog")
        assert dlg["top"] >= 0 and dlg["bottom"] <= height, dlg
        assert dlg["left"] >= 0 and dlg["right"] <= 320, dlg
        for button in ("#cancel-keep", "#cancel-yes"):
            r = _rect(page, button)
            assert r["top"] >= dlg["top"] and r["bottom"] <= dlg["bottom"], (button, r, dlg)
            assert r["height"] >= 44, r
            assert _hit(page, button), button
        # The words may scroll inside the dialog; the buttons stay where they are.
        body_scrolls = page.evaluate(
            "(() => { const b = document.querySelector('#cancel-dialog .cd-body');"
            " b.scrollTop = b.scrollHeight; return b.scrollHeight > b.clientHeight; })()")
        if height >= 640:
            assert not body_scrolls  # a common phone at 200 %: all of it in view
        assert _hit(page, "#cancel-yes") and _hit(page, "#cancel-keep")
        # A swipe on the shade does not scroll the page behind.
        page.mouse.move(160, 4)
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(300)
        assert page.evaluate("window.scrollY") == before
        page.locator("#cancel-keep").tap()
        page.locator("#cancel-dialog").wait_for(state="hidden", timeout=WAIT_MS)
        assert page.evaluate("window.switchboardTicket.ticket.status") == "waiting"


# -- 2. a refused link says what fits -----------------------------------------------------

@pytest.mark.parametrize(("case", "en", "zh"), [
    ("kiosk", "or ask at reception", "或到服务台咨询"),
    ("sms", "you will still get a text when it is your turn", "轮到您时仍会短信通知您"),
    ("web", "once there, watch the waiting-area screen", "到达后请看等候区叫号屏"),
    ("ended", "This ticket has ended", "此号票已结束"),
])
def test_a_refused_link_says_what_fits_the_ticket(browser: Any, demo_server: DemoServer,
                                                  case: str, en: str, zh: str) -> None:
    """The banner said "Ask staff for a new one" to everyone: to a person who took the
    ticket by text or online (no staff at hand), and to one whose ticket was over (nothing
    to ask for). It now says what fits; staff are named only for a ticket taken on site."""
    t = _take(demo_server, "cashier", "kiosk" if case == "ended" else case)
    # Minted a leeway ago: refused 8 s from now, as HTTP and the socket allow LEEWAY_S past exp.
    short = make_token(SECRET, "ticket", site="demo", ticket=t["id"], ttl_s=8,
                       now=time.time() - LEEWAY_S)
    with phone(browser) as ctx:
        page = _open(ctx, demo_server, f"/ticket/{t['id']}?token={short}")
        wait_js(page, "window.switchboardTicket.seenAt")
        if case == "ended":
            demo_server.post(f"/v1/tickets/{t['id']}/cancel", t["token"])
            wait_js(page, "window.switchboardTicket.ticket.status === 'cancelled'")
        wait_js(page, "window.switchboardTicket.client.state.status === 'denied'", 20)
        banner = page.locator(".conn-banner.denied")
        banner.wait_for(timeout=WAIT_MS)
        text = banner.inner_text()
        assert en in text, text
        assert "Ask staff" not in text and "new one" not in text
        if case != "ended":
            assert "This link has expired." in text
            assert ("reception" in text) == (case == "kiosk"), text
        # The banner no longer lies over the header: the language switch can be tapped.
        other = page.locator(".lang-switch button[aria-pressed='false']")
        other.scroll_into_view_if_needed()
        assert _hit(page, ".lang-switch button[aria-pressed='false']")
        other.tap()
        page.locator(".conn-banner.denied", has_text=zh).wait_for(timeout=WAIT_MS)
        zh_text = banner.inner_text()
        assert "工作人员索取" not in zh_text
        assert ("服务台" in zh_text) == (case == "kiosk"), zh_text


def test_an_ended_tickets_link_opened_later_says_it_has_ended(
        browser: Any, demo_server: DemoServer) -> None:
    """Reopened after its link ran out, a ticket the phone last saw cancelled said to take a
    new ticket for today or ask at reception: it says the ticket has ended."""
    t = demo_server.take("cashier")
    expired = make_token(SECRET, "ticket", site="demo", ticket=t["id"], ttl_s=-60)
    with phone(browser) as ctx:
        page = _open(ctx, demo_server, t["tracker"], zoom="100%")
        demo_server.post(f"/v1/tickets/{t['id']}/cancel", t["token"])
        wait_js(page, "window.switchboardTicket.ticket.status === 'cancelled'")
        page.goto(f"{demo_server.base}/ticket/{t['id']}?token={expired}")
        screen = page.locator(".error-screen h1")
        screen.wait_for(timeout=WAIT_MS)
        assert "This ticket has ended" in screen.inner_text()
        assert "take a new ticket" in screen.inner_text()
        assert "ask at reception" not in screen.inner_text()


# -- 3. a saved "your turn" reopened later, offline ---------------------------------------

# Run at the start of each load, before the page's scripts (a page leaving saves its state on
# "pagehide", so the copy is aged between the pages): the copy on the phone is made as old as
# if last seen `test.age` minutes ago (and, when called, called then).
AGE_SAVED_STATE = """(() => {
    const min = Number(localStorage.getItem('test.age'));
    if (!min) return;
    localStorage.removeItem('test.age');
    const kept = JSON.parse(localStorage.getItem('sb.ticket.last'));
    const then = Date.now() - min * 60000;
    kept.at = then;
    kept.seen = then;
    if (kept.ticket.called_at) kept.ticket.called_at = new Date(then).toISOString();
    localStorage.setItem('sb.ticket.last', JSON.stringify(kept));
})();"""


def _kept_then_signal_lost(page: Any, server: DemoServer) -> None:
    """The page kept on the phone (by its service worker, followed by a reload online), then
    no signal: nothing answers."""
    wait_js(page, "Boolean(navigator.serviceWorker.controller)")
    assert wait_js(page, "window.switchboardTicket.kept()")
    page.reload()
    wait_js(page, READY)
    assert page.locator("#as-of").is_hidden()  # live: no age shown
    server.stop()


def _reopen_aged(page: Any, minutes: float) -> None:
    page.evaluate("(m) => localStorage.setItem('test.age', String(m))", minutes)
    page.reload()
    wait_js(page, "window.switchboardTicket && window.switchboardTicket.fromStore")


def test_a_saved_call_reopened_later_offline_is_not_shown_as_current(
        browser: Any, tmp_path: Path) -> None:
    """Called, phone in the pocket, reopened 25 minutes later with no signal: the page
    showed "It's your turn · Please go to Room 3" from the phone's copy as if live. It now
    says how old that is ("As of 10:42, 25 min ago — offline"), and an old call is told as
    a past call that may be over, not as the turn now; a call a minute old still shows as
    the turn, with its age."""
    server = DemoServer(tmp_path / "offline").start()
    try:
        _drain(server, "3")
        t = server.take("paediatrics")
        server.post("/v1/sites/demo/counters/3/call", server.token(
            "agent", site="demo", counter="3"), {"ticket": t["id"]})
        with phone(browser) as ctx:
            ctx.add_init_script(AGE_SAVED_STATE)
            page = _open(ctx, server, t["tracker"], zoom="100%")
            wait_js(page, "window.switchboardTicket.phase === 'called'")
            _kept_then_signal_lost(page, server)

            _reopen_aged(page, 25)
            status = page.locator("#status")
            status.filter(has_text="that call may be over").wait_for(timeout=WAIT_MS)
            assert "your turn" not in status.inner_text()
            assert re.search(r"You were called to Room 3 at \d\d:\d\d\.",
                             status.inner_text()), status.inner_text()
            as_of = page.locator("#as-of")
            assert re.fullmatch(r"As of \d\d:\d\d, 25 min ago — offline",
                                as_of.inner_text()), as_of.inner_text()
            assert page.evaluate("window.switchboardTicket.shown") == "called_old"
            assert not page.title().startswith("▶")
            page.locator(".lang-switch button", has_text="中文").tap()
            page.locator("#as-of", has_text="（25 分钟前）· 离线").wait_for(timeout=WAIT_MS)
            assert re.fullmatch(r"截至 \d\d:\d\d（25 分钟前）· 离线", as_of.inner_text())
            assert "曾叫您到3号诊室" in status.inner_text()
            assert "轮到您了" not in status.inner_text()

            _reopen_aged(page, 1.5)
            page.locator("#as-of", has_text="1 分钟前").wait_for(timeout=WAIT_MS)
            assert page.evaluate("window.switchboardTicket.shown") == "called"
            assert "请到3号诊室" in status.inner_text()
    finally:
        server.stop()


def test_a_saved_place_in_line_reopened_offline_says_how_old_it_is(
        browser: Any, tmp_path: Path) -> None:
    """Waiting, reopened with no signal: the age is shown beside the warning."""
    server = DemoServer(tmp_path / "offline-wait").start()
    try:
        t = [server.take("pharmacy") for _ in range(4)][-1]
        with phone(browser) as ctx:
            ctx.add_init_script(AGE_SAVED_STATE)
            _kept_then_signal_lost(_open(ctx, server, t["tracker"], zoom="100%"), server)
            page = ctx.pages[0]
            _reopen_aged(page, 12)
            as_of = page.locator("#as-of")
            as_of.wait_for(state="visible", timeout=WAIT_MS)
            assert re.fullmatch(r"As of \d\d:\d\d, 12 min ago — offline", as_of.inner_text())
            assert page.locator("#stale").is_visible()
            assert page.locator(".fig-ahead dd").inner_text() == "3"
    finally:
        server.stop()


def test_what_is_current_is_kept_while_live(browser: Any, demo_server: DemoServer) -> None:
    """The copy on the phone says when it was last known current, not only when it last
    changed: a quiet half hour online is not "30 min ago" once the signal goes."""
    t = demo_server.take("cashier")
    with phone(browser) as ctx:
        page = _open(ctx, demo_server, t["tracker"], zoom="100%")
        first = wait_js(page, "window.switchboardTicket.seenAt")
        time.sleep(1.5)
        assert wait_js(page, f"window.switchboardTicket.seenAt > {first} && "
                             "window.switchboardTicket.seenAt")


# -- 4. what the review saw on the screen -------------------------------------------------

@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_figures_keep_their_words_whole_at_200_percent(browser: Any, demo_server: DemoServer,
                                                       locale: str) -> None:
    """At 200 % on 320 px the label read "Estima / ted wait" and the value "6– / 20 / min":
    words now stay whole, the value going under its label when both do not fit."""
    for _ in range(5):
        demo_server.take("internal")
    t = demo_server.take("internal")
    with phone(browser, locale) as ctx:
        page = _open(ctx, demo_server, t["tracker"])
        wait_js(page, "document.querySelector('.fig-est dd')")
        for text in ("6–20 min" if locale == "en-US" else "6–20 分钟", "47–79 分钟"):
            page.evaluate("(s) => { document.querySelector('.fig-est dd').textContent = s; }", text)
            broken = page.evaluate("""() => {
                const out = [];
                for (const el of document.querySelectorAll('.fig dt, .fig dd')) {
                  const node = el.firstChild;
                  if (!node) continue;
                  const words = [...node.textContent.matchAll(/\\S+/g)];
                  for (const w of words) {
                    const r = document.createRange();
                    r.setStart(node, w.index);
                    r.setEnd(node, w.index + w[0].length);
                    const tops = new Set([...r.getClientRects()].map((x) => Math.round(x.top)));
                    if (tops.size > 1) out.push(w[0]);
                  }
                }
                return out;
            }""")
            assert broken == [], (text, broken)
            assert page.evaluate("document.documentElement.scrollWidth") <= 320
