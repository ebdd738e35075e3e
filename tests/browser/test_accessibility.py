"""Accessibility of the queue pages, measured in a real browser against a real server: what
people with low vision, screen-reader users, keyboard-only users and older people at the kiosk
meet. Each test checks behaviour (layout boxes at 320 px, computed contrast ratios, what a
live region does after a live update, the pixels a focused control changes), not markup."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import test_restart
from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser
server = test_restart.server  # a server of the test's own, to kill
WAIT_MS = 15000


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(locale="en-US", viewport={"width": 320, "height": 640},
                              has_touch=True)
    yield ctx
    ctx.close()


# Every element whose box sticks out of the viewport, left or right (innermost only): content
# there is lost, or reached only by scrolling sideways line by line. Elements inside `skip`
# (a map: a picture larger than its frame, which clips it) are not counted.
OUTSIDE = """(skip) => {
  const w = document.documentElement.clientWidth;
  const out = (e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && (r.right > w + 1 || r.left < -1) && !(skip && e.closest(skip));
  };
  return [...document.querySelectorAll('body *')]
    .filter((e) => out(e) && ![...e.children].some(out))
    .map((e) => `${e.tagName}.${e.getAttribute('class') ?? ''}#${e.id} `
      + `"${(e.textContent ?? '').trim().slice(0, 24)}"`);
}"""


def assert_reflows(page: Any, where: str, skip: str | None = None) -> None:
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, \
        f"{where}: scrolls sideways at {width} px"
    assert page.evaluate(OUTSIDE, skip) == [], f"{where}: content outside a {width} px screen"


@pytest.mark.parametrize("text", ["normal", "large"])
@pytest.mark.parametrize("width", [320, 640])  # a phone-sized window; a 1280 px kiosk at 200 %
def test_kiosk_fits_a_narrow_screen_without_sideways_scrolling(
        browser: Any, demo_server: DemoServer, width: int, text: str) -> None:
    """WCAG 1.4.10 (reflow): at 320 CSS px, and at 200 % zoom of the kiosk, in normal and
    large text, the services, the check-in keypad and the printed ticket fit the width."""
    ctx = browser.new_context(locale="en-US", viewport={"width": width, "height": 720},
                              has_touch=True)
    try:
        page = ctx.new_page()
        large = "&text=large" if text == "large" else ""
        page.goto(demo_server.page_url("kiosk", lang="en") + large)
        page.locator(".k-service").first.wait_for(timeout=WAIT_MS)
        wait_js(page, "window.switchboardKiosk.client.state.status === 'online'")
        assert_reflows(page, "services")
        # Keys, not taps: the demo's live counts can move a card under a tap mid-way.
        page.locator("#appt-btn").press("Enter")
        page.locator("#checkin-back").wait_for(timeout=WAIT_MS)
        assert_reflows(page, "check-in")
        page.locator("#checkin-back").press("Enter")
        page.locator(".k-service").first.press("Enter")
        page.locator("#screen-ticket").wait_for(timeout=WAIT_MS)
        assert_reflows(page, "ticket")
    finally:
        ctx.close()


# What happens inside the page's live regions: every text the region has after a change,
# with the time, recorded by a MutationObserver (a screen reader re-reads a region whose
# nodes are replaced, even with the same text).
WATCH_LIVE = """(sel) => {
  window.liveLog = [];
  const region = (n) => (n.nodeType === 1 ? n : n.parentElement)?.closest(sel);
  new MutationObserver((ms) => {
    for (const el of new Set(ms.map((m) => region(m.target)).filter(Boolean))) {
      window.liveLog.push({ id: el.id || el.className, text: el.textContent.trim(),
                            live: el.getAttribute('aria-live') || el.getAttribute('role') });
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""
LIVE = "[aria-live]:not([aria-live='off']), [role=status], [role=alert]"


def test_board_announces_a_call_once_and_again_only_on_a_recall(
        browser: Any, demo_server: DemoServer) -> None:
    """The board's "now calling" is an assertive live region: a new call is put in it once;
    the end of the nine-second flash must not rebuild it (a screen reader would shout the
    same call again), and a recall does put it in again."""
    tv = browser.new_context(locale="en-US", viewport={"width": 1920, "height": 1080})
    try:
        board = tv.new_page()
        board.goto(demo_server.page_url("board", lang="en"))
        wait_js(board, "window.switchboardBoard && window.switchboardBoard.offset")
        hero = board.locator("#hero")
        assert hero.get_attribute("aria-live") == "assertive"
        assert hero.get_attribute("aria-atomic") == "true"
        board.evaluate(WATCH_LIVE, "#hero")
        demo_server.take("lab")
        called = demo_server.counter("4", "call-next")
        hero.locator(".hero-number", has_text=called["number"]).wait_for(timeout=WAIT_MS)
        wait_js(board, "document.getElementById('hero').classList.contains('flash')")
        wait_js(board, "!document.getElementById('hero').classList.contains('flash')", 15)
        board.wait_for_timeout(300)
        log = board.evaluate("window.liveLog")
        assert len(log) == 1 and called["number"] in log[0]["text"], log

        demo_server.counter("4", "recall")
        hero.locator(".badge-recall").wait_for(timeout=WAIT_MS)
        log = board.evaluate("window.liveLog")
        assert len(log) == 2 and called["number"] in log[1]["text"], log
    finally:
        tv.close()


def test_offline_is_announced_once_not_every_second(browser: Any,
                                                    server: DemoServer) -> None:
    """The connection banner counts down to the next try ("retrying in 4 s") every second.
    Screen-reader users on the tracker and at the kiosk are told once that the page is
    offline (politely), not read each tick of the countdown; and told when it is back."""
    ticket = server.take("internal")
    phone = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    stand = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1024})
    try:
        # Both pages' clocks flow as the real one, until the test moves them past the
        # countdown's seconds and retries (timers all, fired on the way).
        tracker = phone.new_page()
        tracker.clock.install()
        tracker.goto(server.base + ticket["tracker"] + "&lang=en")
        kiosk = stand.new_page()
        kiosk.clock.install()
        kiosk.goto(server.page_url("kiosk", lang="en"))
        wait_js(tracker, "window.switchboardTicket.client.state.status === 'online'")
        wait_js(kiosk, "window.switchboardKiosk.client.state.status === 'online'")
        for page in (tracker, kiosk):
            page.evaluate(WATCH_LIVE, LIVE)

        server.kill9()
        for page in (tracker, kiosk):
            page.locator(".conn-banner.offline").wait_for(state="visible", timeout=WAIT_MS)
        for page in (tracker, kiosk):
            page.clock.run_for(6000)  # six ticks of the countdown, and the retries
        for page in (tracker, kiosk):
            banner = page.locator(".conn-banner").inner_text()
            assert "Offline since" in banner  # the visible banner is unchanged
            said = [e["text"] for e in page.evaluate("window.liveLog") if e["text"]]
            assert len(said) == 1 and said[0].startswith("Offline since"), said
            assert "retrying" not in said[0]
            # Whatever says it is a polite region, not an alert.
            assert page.evaluate("window.liveLog")[0]["live"] in ("polite", "status")

        server.start()
        for page in (tracker, kiosk):
            page.locator(".conn-banner").wait_for(state="hidden", timeout=30000)
            said = [e["text"] for e in page.evaluate("window.liveLog") if e["text"]]
            assert len(said) == 2 and said[1] == "Connected again", said
    finally:
        phone.close()
        stand.close()


def png_rgb(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of a Playwright screenshot (8-bit PNG)."""
    pos, idat, w, h, bpp = 8, b"", 0, 0, 3
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            bpp = 4 if colour == 6 else 3
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, rows, prev = zlib.decompress(idat), [], bytes(w * bpp)
    stride = w * bpp + 1
    for y in range(h):
        f, line = raw[y * stride], bytearray(raw[y * stride + 1:(y + 1) * stride])
        for i in range(len(line)):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pred = (0, a, b, (a + b) // 2,
                    a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c)
                    else b if abs(p - b) <= abs(p - c) else c)[f]
            line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = bytes(line)
    return w, h, [bytes(x for i in range(0, len(r), bpp) for x in r[i:i + 3]) for r in rows]


def luminance(rgb: tuple[int, ...]) -> float:
    def ch(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4
    return 0.2126 * ch(rgb[0]) + 0.7152 * ch(rgb[1]) + 0.0722 * ch(rgb[2])


def ratio(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def focus_change(page: Any, selector: str) -> tuple[int, int]:
    """Tab to `selector`; how many pixels around it its focus indicator changes by a 3:1
    contrast at least (WCAG 2.4.11/2.4.13: focused against not focused), and the
    perimeter of the control (a one-pixel ring round it)."""
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            break
    else:
        raise AssertionError(f"Tab never reaches {selector}")
    box = page.evaluate("(() => { const r = document.activeElement.getBoundingClientRect();"
                        " return [r.x, r.y, r.width, r.height]; })()")
    clip = {"x": max(0, box[0] - 6), "y": max(0, box[1] - 6),
            "width": box[2] + 12, "height": box[3] + 12}
    focused = png_rgb(page.screenshot(clip=clip))
    page.evaluate("document.activeElement.blur()")
    page.wait_for_timeout(100)
    plain = png_rgb(page.screenshot(clip=clip))
    changed = 0
    for r1, r2 in zip(focused[2], plain[2], strict=True):
        for i in range(0, len(r1), 3):
            if r1[i:i + 3] != r2[i:i + 3] and ratio(tuple(r1[i:i + 3]), tuple(r2[i:i + 3])) >= 3:
                changed += 1
    return changed, round(2 * (box[2] + box[3]))


@pytest.mark.parametrize("where", ["tracker", "kiosk", "counter", "home"])
def test_keyboard_focus_is_visible_on_language_and_state_switches(
        browser: Any, demo_server: DemoServer, where: str) -> None:
    """Keyboard users see where they are: the 中文 / EN switch (every page) and the counter's
    open / pause / close switch draw their focus ring inside a box that clips what is
    outside it. Each must change at least a one-pixel ring's worth of pixels round the
    control by 3:1, also on the tracker's blue header."""
    width = 390 if where == "tracker" else 1280
    ctx = browser.new_context(locale="en-US", viewport={"width": width, "height": 800})
    try:
        page = ctx.new_page()
        if where == "tracker":
            page.goto(demo_server.base + demo_server.take("pharmacy")["tracker"] + "&lang=en")
        elif where == "counter":
            page.goto(demo_server.page_url("counter:5", lang="en"))
        else:
            page.goto(demo_server.page_url("kiosk", lang="en") if where == "kiosk"
                      else demo_server.base + "/?lang=en")
        page.locator(".lang-switch button").first.wait_for(timeout=WAIT_MS)
        targets = [".lang-switch button[aria-pressed='false']",
                   ".lang-switch button[aria-pressed='true']"]
        if where == "counter":
            wait_js(page, "document.querySelector('#state-group button:not([disabled])')")
            targets.append("#state-group button:not([disabled])")
        for sel in targets:
            changed, perimeter = focus_change(page, sel)
            assert changed >= perimeter, f"{where} {sel}: {changed} px change, want {perimeter}"
    finally:
        ctx.close()


# Every control a finger can reach, with its box, where it is smaller than 44 × 44 CSS px.
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, a[href], input, select, textarea, [role=button], [tabindex]:not([tabindex="-1"])')]
  .filter((e) => e.checkVisibility())
  .map((e) => [e.textContent.trim().slice(0, 20) || e.id, e.getBoundingClientRect()])
  .filter(([, r]) => r.width < 44 || r.height < 44)
  .map(([n, r]) => `${n}: ${Math.round(r.width)}×${Math.round(r.height)}`)"""


@pytest.mark.parametrize("width", [320, 390])
def test_tracker_and_kiosk_touch_targets_are_44_px(browser: Any, demo_server: DemoServer,
                                                  width: int) -> None:
    """Older people and staff on touch screens: every control on the phone tracker (with
    its cancel dialog open too) and on each kiosk screen is at least 44 × 44 CSS px."""
    ctx = browser.new_context(locale="en-US", viewport={"width": width, "height": 800},
                              has_touch=True, is_mobile=True)
    try:
        phone = ctx.new_page()
        phone.goto(demo_server.base + demo_server.take("cashier")["tracker"] + "&lang=en")
        phone.locator("#cancel-btn").wait_for(timeout=WAIT_MS)
        assert phone.evaluate(SMALL_TARGETS) == []
        phone.locator("#cancel-btn").press("Enter")
        phone.locator("#cancel-dialog[open]").wait_for(timeout=WAIT_MS)
        assert phone.evaluate(SMALL_TARGETS) == []

        kiosk = ctx.new_page()
        kiosk.goto(demo_server.page_url("kiosk", lang="en"))
        kiosk.locator(".k-service").first.wait_for(timeout=WAIT_MS)
        assert kiosk.evaluate(SMALL_TARGETS) == []
        kiosk.locator("#appt-btn").press("Enter")
        kiosk.locator("#keypad button").first.wait_for(timeout=WAIT_MS)
        assert kiosk.evaluate(SMALL_TARGETS) == []
    finally:
        ctx.close()


@pytest.mark.parametrize("width", [320, 1440])
def test_counter_console_touch_targets_are_44_px(browser: Any, demo_server: DemoServer,
                                                 width: int) -> None:
    """Counter staff on a touch screen (and one zoomed to 320 px): every control of the
    console is at least 44 × 44 CSS px: the queue's Call buttons (they were 36 px), the
    language switch, a parked ticket's Back to queue, the actions and the transfer dialog."""
    for _ in range(3):
        demo_server.take("pharmacy")
    parked = demo_server.counter("5", "call-next")
    demo_server.counter("5", "park")
    ctx = browser.new_context(locale="en-US", viewport={"width": width, "height": 900},
                              has_touch=True)
    try:
        page = ctx.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(demo_server.page_url("counter:5", lang="en"))
        page.locator(".q-item button").first.wait_for()
        page.locator("#parked-list button").first.wait_for()
        page.locator("#actions [data-op='call-next']:not([disabled])").wait_for()
        assert page.evaluate(SMALL_TARGETS) == []
        page.locator("#actions [data-op='call-next']").press("Enter")
        page.locator("#actions [data-op='transfer']:not([disabled])").press("Enter")
        page.locator("#transfer-dialog[open]").wait_for()
        assert page.evaluate(SMALL_TARGETS) == []
        assert_reflows(page, "counter with transfer open")
        page.locator("#transfer-cancel").press("Enter")
        # Complete of a patient only called asks first (counter.js confirmComplete).
        page.locator("#actions [data-op='complete']").press("Enter")
        page.locator("#complete-yes").press("Enter")
        page.locator("#actions [data-op='complete'][disabled]").wait_for()
    finally:
        ctx.close()
        demo_server.counter("5", "unpark", {"ticket": parked["id"]})



# WCAG contrast of every piece of text under `root` against what is behind it (computed
# colours, opacity and translucent backgrounds blended up the tree): [text, ratio, needed]
# where it is too low. Large text (24 px, or 18.66 px bold) needs 3:1, the rest 4.5:1.
# Disabled controls are exempt (WCAG 1.4.3).
LOW_CONTRAST = """(root) => {
  const rgba = (c) => {
    const p = c.match(/[\\d.]+/g).map(Number);
    return [p[0], p[1], p[2], p[3] ?? 1];
  };
  const over = (f, b) => [0, 1, 2].map((i) => f[i] * f[3] + b[i] * (1 - f[3])).concat(1);
  const ch = (v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
  const lum = (c) => 0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2]);
  const behind = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    return layers.reverse().reduce((b, c) => over(c, b), [255, 255, 255, 1]);
  };
  const out = [];
  const walk = document.createTreeWalker(document.querySelector(root), NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walk.nextNode()) {
    const el = walk.currentNode.parentElement;
    if (!walk.currentNode.textContent.trim() || seen.has(el) || !el.checkVisibility()) continue;
    if (el.closest(':disabled, .visually-hidden')) continue;
    seen.add(el);
    const cs = getComputedStyle(el);
    let alpha = 1;
    for (let e = el; e; e = e.parentElement) alpha *= Number(getComputedStyle(e).opacity);
    const bg = behind(el);
    const fg = rgba(cs.color);
    const text = over([fg[0], fg[1], fg[2], fg[3] * alpha], bg);
    const [hi, lo] = [lum(text), lum(bg)].sort((a, b) => b - a);
    const r = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(cs.fontSize);
    const need = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700) ? 3 : 4.5;
    const what = walk.currentNode.textContent.trim().slice(0, 30);
    if (r < need) out.push([what, Math.round(r * 100) / 100, need]);
  }
  return out;
}"""


def settle(page: Any) -> None:
    """Wait for finite animations and transitions (a button fading to its colours) to end."""
    wait_js(page, "document.getAnimations().every((a) => a.playState !== 'running'"
                  " || a.effect.getComputedTiming().iterations === Infinity)")


def test_kiosk_high_contrast_keeps_errors_and_offline_readable(browser: Any,
                                                               server: DemoServer) -> None:
    """High contrast is for people with low vision. In it, every text passes WCAG contrast,
    also the service with no counter open, the offline banner and the error after a failed
    tap (white on light red was 2.6:1)."""
    server.counter("4", "close")  # the lab: no counter open
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1024})
    try:
        kiosk = ctx.new_page()
        kiosk.goto(server.page_url("kiosk", lang="en") + "&contrast=high")
        kiosk.locator(".k-svc-closed").wait_for(timeout=WAIT_MS)
        settle(kiosk)
        assert kiosk.evaluate(LOW_CONTRAST, "body") == []
        server.kill9()
        kiosk.locator(".conn-banner.offline").wait_for(state="visible", timeout=WAIT_MS)
        kiosk.locator(".k-service").first.press("Enter")
        kiosk.locator(".k-alert").wait_for(timeout=WAIT_MS)
        assert kiosk.evaluate(LOW_CONTRAST, ".conn-banner") == []
        assert kiosk.evaluate(LOW_CONTRAST, ".k-alert") == []
        settle(kiosk)
        assert kiosk.evaluate(LOW_CONTRAST, "body") == []
    finally:
        ctx.close()



@pytest.mark.parametrize("size", [(1920, 1080), (390, 844)])
def test_board_closed_and_paused_counters_stay_readable(browser: Any, demo_server: DemoServer,
                                                       size: tuple[int, int]) -> None:
    """A closed or paused counter on the waiting-room board is dimmed, but its name and
    "Closed" must still be readable for people with low vision: 4.5:1 (it was 3.8:1)."""
    demo_server.counter("3", "close")
    demo_server.counter("6", "pause")
    tv = browser.new_context(locale="en-US", viewport={"width": size[0], "height": size[1]})
    try:
        board = tv.new_page()
        board.goto(demo_server.page_url("board", lang="en"))
        board.locator(".counter-tile.st-closed").wait_for(timeout=WAIT_MS)
        board.locator(".counter-tile.st-paused").wait_for(timeout=WAIT_MS)
        settle(board)
        assert board.evaluate(LOW_CONTRAST, "#counters") == []
        assert board.evaluate(LOW_CONTRAST, "body") == []
    finally:
        tv.close()
        demo_server.counter("3", "open")
        demo_server.counter("6", "open")


@pytest.mark.parametrize("where", ["home", "counter"])
def test_home_and_counter_console_fit_320_px(context: Any, demo_server: DemoServer,
                                             where: str) -> None:
    """WCAG 1.4.10 (reflow): the front page and the counter console (a staff member zooming
    to 400 %) fit 320 CSS px without sideways scrolling, with a ticket in the queue."""
    page = context.new_page()
    if where == "home":
        page.goto(demo_server.base + "/?lang=en")
        page.locator(".h-card").first.wait_for(timeout=WAIT_MS)
    else:
        demo_server.take("pharmacy")
        page.goto(demo_server.page_url("counter:5", lang="en"))
        page.locator(".q-item").first.wait_for(timeout=WAIT_MS)
    assert_reflows(page, where)


# Text in the other language without a lang of its own (a screen reader would read Chinese
# with an English voice, or the reverse): [text, the lang it is read in].
WRONG_LANG = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const node = walk.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !el.checkVisibility()) continue;
    if (el.closest('[aria-hidden=true]')) continue;
    const lang = el.closest('[lang]').lang;
    const han = /\\p{Script=Han}/u.test(node.textContent);
    const words = (node.textContent.match(/[A-Za-z]{4,}/g) ?? [])
      .filter((w) => w !== 'Switchboard');
    if ((han && !lang.startsWith('zh')) || (!han && words.length && lang.startsWith('zh'))) {
      out.push([node.textContent.trim().slice(0, 30), lang]);
    }
  }
  return out;
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_board_marks_the_second_language(browser: Any, demo_server: DemoServer,
                                         lang: str) -> None:
    """The bilingual board shows each label in both languages: every Chinese text sits in a
    zh element and every English one in an en element, so a screen reader (on the board's
    phone layout) switches voice instead of spelling out the other language."""
    ctx = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    try:
        board = ctx.new_page()
        board.goto(demo_server.page_url("board", lang=lang))
        wait_js(board, "window.switchboardBoard && window.switchboardBoard.offset")
        assert board.evaluate(WRONG_LANG) == []
    finally:
        ctx.close()


def test_counter_console_text_passes_contrast_with_a_ticket_called(
        context: Any, demo_server: DemoServer) -> None:
    """Staff read the console all day: with a ticket called (the green Complete and blue
    Call next buttons lit, with their shortcut keys) every text passes WCAG contrast."""
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.set_viewport_size({"width": 1440, "height": 900})
    demo_server.take("paediatrics")
    page.goto(demo_server.page_url("counter:3", lang="en"))
    page.locator("#actions [data-op='call-next']:not([disabled])").wait_for()
    settle(page)
    assert page.evaluate(LOW_CONTRAST, "body") == []
    page.locator("#actions [data-op='call-next']").press("Enter")
    page.locator("#actions [data-op='complete']:not([disabled])").wait_for()
    settle(page)
    assert page.evaluate(LOW_CONTRAST, "body") == []
    page.locator("#actions [data-op='complete']").press("Enter")
    page.locator("#complete-yes").press("Enter")  # only called: it asks first
    page.locator("#actions [data-op='complete'][disabled]").wait_for()


def test_kiosk_reads_out_the_ticket_where_focus_lands(context: Any,
                                                      demo_server: DemoServer) -> None:
    """A blind person taking a ticket by keyboard: focus moves to Done on the ticket screen,
    which was filled while hidden (screen readers need not voice a live region that
    appears with its text already in it). What focus lands on
    must carry the ticket: number, service and people ahead in its description. Two
    people are put in line first: with nobody ahead the kiosk says "Nobody ahead of you",
    so the words depended on what ran before."""
    for _ in range(2):
        demo_server.take("pharmacy")
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 1024})
    page.goto(demo_server.page_url("kiosk", lang="en"))
    page.locator(".k-service[data-service='pharmacy']").press("Enter")
    page.locator("#screen-ticket").wait_for(timeout=WAIT_MS)
    ticket = page.evaluate("window.switchboardKiosk.ticket")
    assert ticket["people_ahead"] >= 2, ticket
    focused = page.locator("*:focus")
    expect(focused).to_have_accessible_name("Done")
    expect(focused).to_have_accessible_description(re.compile(
        rf"{ticket['number']}.*Pharmacy.*{ticket['people_ahead']} people ahead"))
