"""The ticket tracker as the person waiting sees it, on a phone (390×844 and 320 px wide,
touch, text at 200 %), in Chinese and English, against a real server and Redis: what the
wait's range means, what to do when the phone loses its signal, what a bad link tells them.
Each test fails without the fix it names (patient-side review, 2026-12-06)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from realtime.auth import LEEWAY_S, make_token
from tests.browser.conftest import SECRET, DemoServer, wait_js

pytestmark = pytest.mark.browser
WAIT_MS = 15000


@contextmanager
def phone(browser: Any, locale: str = "en-US", width: int = 390,
          height: int = 844) -> Iterator[Any]:
    ctx = browser.new_context(locale=locale, viewport={"width": width, "height": height},
                              has_touch=True, is_mobile=True)
    try:
        yield ctx
    finally:
        ctx.close()


def _tracker(ctx: Any, server: DemoServer, ticket: dict[str, Any]) -> Any:
    page = ctx.new_page()
    page.goto(server.base + ticket["tracker"])
    wait_js(page, "window.switchboardTicket && window.switchboardTicket.ticket "
                  "&& window.switchboardTicket.client.state.status === 'online'")
    return page


def _drain(server: DemoServer, counter: str) -> None:
    """Serve everyone waiting for the counter's services, so a new ticket is near the front."""
    agent = {"Authorization": f"Bearer {server.token('agent', site='demo', counter=counter)}"}
    url = f"{server.base}/v1/sites/demo/counters/{counter}"
    httpx.post(f"{url}/open", headers=agent, timeout=10)
    httpx.post(f"{url}/complete", headers=agent, timeout=10)
    while httpx.post(f"{url}/call-next", headers=agent, timeout=10).is_success:
        httpx.post(f"{url}/complete", headers=agent, timeout=10)


def _minutes(estimate: dict[str, Any]) -> tuple[int, int, int]:
    """The range as the page rounds it, and the likeliest wait in it."""
    a = max(1, estimate["low_s"] // 60)
    b = max(a, -(-estimate["high_s"] // 60))
    return a, b, min(b, max(a, round(estimate["wait_s"] / 60)))


def test_the_range_is_explained_with_the_likeliest_wait(browser: Any,
                                                        demo_server: DemoServer) -> None:
    """"7–24 min" alone left people guessing whether 7 or 24 was meant: the page now says
    the likeliest wait and that 8 in 10 are called within the range (docs/estimates.md)."""
    for _ in range(5):
        demo_server.take("pharmacy")
    t = demo_server.take("pharmacy")
    for locale in ("en-US", "zh-CN"):
        with phone(browser, locale) as ctx:
            page = _tracker(ctx, demo_server, t)
            est = wait_js(page, "window.switchboardTicket.ticket.estimate")
            a, b, n = _minutes(est)
            assert a < b, est  # six in line: a range, not one number
            note = page.locator("#est-note")
            note.wait_for(timeout=WAIT_MS)
            if locale == "en-US":
                assert note.inner_text() == (
                    f"Most likely about {n} min. 8 in 10 people are called within {a}–{b} min: "
                    "it depends on how long the people ahead of you take.")
                assert "keep this page open" in page.locator("#status").inner_text()
            else:
                assert note.inner_text().startswith(
                    f"最可能约 {n} 分钟。10 人中约有 8 人在 {a}–{b} 分钟内被叫到")
                assert "请保持本页面打开" in page.locator("#status").inner_text()


def test_no_range_note_once_it_is_almost_your_turn(browser: Any,
                                                   demo_server: DemoServer) -> None:
    """Near the front the page says "come back", and nothing else competes with it."""
    _drain(demo_server, "4")
    t = demo_server.take("lab")
    with phone(browser) as ctx:
        page = _tracker(ctx, demo_server, t)
        wait_js(page, "window.switchboardTicket.phase === 'almost'")
        assert page.locator("#est-note").is_hidden()


def test_losing_the_signal_while_waiting_says_you_may_have_been_called(
        browser: Any, demo_server: DemoServer) -> None:
    """Offline, the page kept showing "Almost your turn · You are next" as if live while the
    counter called the number: it now says the figures may be old and to watch the screen,
    and says nothing once it is connected again."""
    for _ in range(3):
        demo_server.take("cashier")
    t = demo_server.take("cashier")
    for locale, words in (("en-US", "You may have been called meanwhile"),
                          ("zh-CN", "这期间您可能已被叫号")):
        with phone(browser, locale) as ctx:
            page = _tracker(ctx, demo_server, t)
            stale = page.locator("#stale")
            assert stale.is_hidden()
            ctx.set_offline(True)
            stale.wait_for(state="visible", timeout=WAIT_MS)
            assert words in stale.inner_text()
            assert "stale" in (page.locator("#figures").get_attribute("class") or "")
            ctx.set_offline(False)
            stale.wait_for(state="hidden", timeout=30000)
            assert "stale" not in (page.locator("#figures").get_attribute("class") or "")


def test_no_stale_warning_once_called(browser: Any, demo_server: DemoServer) -> None:
    """Called, the page already says where to go: going offline then adds no "you may have
    been called" warning."""
    _drain(demo_server, "3")
    t = demo_server.take("paediatrics")
    demo_server.post("/v1/sites/demo/counters/3/call", demo_server.token(
        "agent", site="demo", counter="3"), {"ticket": t["id"]})
    with phone(browser) as ctx:
        ctx.clock.install()  # flowing as the real one, until the test moves it past 3 s
        page = _tracker(ctx, demo_server, t)
        wait_js(page, "window.switchboardTicket.phase === 'called'")
        ctx.set_offline(True)
        wait_js(page, "window.switchboardTicket.client.state.status === 'offline'")
        page.clock.run_for(3500)  # past STALE_AFTER_MS; the page's 1 s render fires on the way
        assert page.locator("#stale").is_hidden()
        ctx.set_offline(False)
    demo_server.counter("3", "complete")


@pytest.mark.parametrize(("width", "zoom"), [(320, "200%"), (390, "200%"), (320, "150%")])
def test_large_text_fits_a_small_phone(browser: Any, demo_server: DemoServer,
                                       width: int, zoom: str) -> None:
    """With text at 150–200 % the number and the three figures made the page wider than the
    phone (599 px on a 320 px screen): everything now fits, the figures one under another."""
    for _ in range(4):
        demo_server.take("internal")
    t = demo_server.take("internal")
    for locale in ("en-US", "zh-CN"):
        with phone(browser, locale, width=width, height=700) as ctx:
            page = _tracker(ctx, demo_server, t)
            page.evaluate(f"() => {{ document.documentElement.style.fontSize = '{zoom}'; }}")
            page.wait_for_timeout(200)
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            boxes = page.evaluate(
                "[...document.querySelectorAll('.fig')].map((e) => e.getBoundingClientRect().top)")
            assert len(set(boxes)) == 3, boxes  # stacked


def test_minutes_stay_together_on_a_320px_phone(browser: Any, demo_server: DemoServer) -> None:
    """"9–27 分钟" broke as "9–27 分 / 钟" on a 320 px phone in Chinese (the ranges the
    review saw are set into the figure, so the test does not hang on today's estimate)."""
    t = demo_server.take("paediatrics")
    with phone(browser, "zh-CN", width=320, height=700) as ctx:
        page = _tracker(ctx, demo_server, t)
        wait_js(page, "document.querySelector('.fig-est dd')")
        for text in ("9–27 分钟", "17–58 分钟", "47–79 分钟"):
            tops = page.evaluate("""(text) => {
                const dd = document.querySelector('.fig-est dd');
                dd.textContent = text;
                const r = document.createRange();
                r.setStart(dd.firstChild, text.indexOf('分钟'));
                r.setEnd(dd.firstChild, text.indexOf('分钟') + 2);
                return [...r.getClientRects()].map((x) => Math.round(x.top));
            }""", text)
            assert len(set(tops)) == 1, (text, tops)


def test_a_ticket_moved_in_chinese_reads_without_a_stray_space(
        browser: Any, demo_server: DemoServer) -> None:
    t = demo_server.take("internal")
    with phone(browser, "zh-CN") as ctx:
        page = _tracker(ctx, demo_server, t)
        demo_server.post(f"/v1/tickets/{t['id']}/transfer",
                         demo_server.token("agent", site="demo", counter="1"), {"service": "lab"})
        moved = page.locator("#status", has_text="您已转到检验科，按原取号时间排队。")
        moved.wait_for(timeout=WAIT_MS)


@pytest.mark.parametrize(("case", "en", "zh"), [
    ("expired", "This ticket link has expired", "此号票链接已过期"),
    ("bad_token", "Your place in line does not depend on it", "您的排队不受影响"),
    ("no_token", "Your place in line does not depend on it", "您的排队不受影响"),
    ("other_ticket", "scan the QR code on your ticket again", "重新扫描号票上的二维码"),
    ("unknown", "scan the QR code on your ticket again", "重新扫描号票上的二维码"),
])
def test_a_bad_link_says_what_to_do(browser: Any, demo_server: DemoServer, case: str,
                                    en: str, zh: str) -> None:
    """"Ask staff for a new one" sent people to the desk for a link they do not need: the
    number on their paper ticket still counts. The page says so, or to scan the QR again;
    yesterday's expired link says to take a new ticket for today."""
    t = demo_server.take("internal")
    other = demo_server.take("internal")
    links = {
        "expired": f"/ticket/{t['id']}?token="
                   + make_token(SECRET, "ticket", site="demo", ticket=t["id"], ttl_s=-60),
        "no_token": f"/ticket/{t['id']}",
        "bad_token": f"/ticket/{t['id']}?token={t['token'][:-6]}",
        "other_ticket": f"/ticket/{t['id']}?token={other['token']}",
        "unknown": "/ticket/demo.ffffffffffff?token="
                   + demo_server.token("ticket", site="demo", ticket="demo.ffffffffffff"),
    }
    for locale, words in (("en-US", en), ("zh-CN", zh)):
        with phone(browser, locale) as ctx:
            page = ctx.new_page()
            page.goto(demo_server.base + links[case])
            screen = page.locator(".error-screen h1")
            screen.wait_for(timeout=WAIT_MS)
            assert words in screen.inner_text()
            assert "Ask staff for a new one" not in screen.inner_text()


def test_reopened_without_signal_the_page_shows_the_last_known_ticket(
        browser: Any, tmp_path: Path) -> None:
    """Reopened (or reloaded by the phone) with no signal, the tracker was the browser's "no
    internet" page: not even the number. It now opens from the copy kept on the phone, with
    the last state seen, marked as possibly out of date."""
    server = DemoServer(tmp_path / "offline").start()
    try:
        for _ in range(3):
            server.take("pharmacy")
        t = server.take("pharmacy")
        with phone(browser) as ctx:
            page = _tracker(ctx, server, t)
            wait_js(page, "Boolean(navigator.serviceWorker.controller)")
            assert wait_js(page, "window.switchboardTicket.kept()")
            server.take("pharmacy")  # behind: changes nothing ahead
            page.reload()  # online, through the worker: the copy follows
            wait_js(page, "window.switchboardTicket.client.state.status === 'online'")
            server.stop()  # no signal: nothing answers
            page.reload()
            assert page.locator("#number").inner_text() == t["number"]
            assert page.evaluate("window.switchboardTicket.fromStore")
            assert page.locator(".fig-ahead dd").inner_text() == "3"
            stale = page.locator("#stale")
            stale.wait_for(state="visible", timeout=WAIT_MS)
            assert "You may have been called meanwhile" in stale.inner_text()
    finally:
        server.stop()


def test_a_booked_person_sees_their_appointment_time(browser: Any,
                                                    demo_server: DemoServer) -> None:
    """Booked online yesterday, checked in this morning: the tracker said nothing of the
    booking, so people asked whether it had counted. It shows the appointment time now."""
    partner = make_token(SECRET, "partner", site="demo", subject="review-app")
    # Within the hour (check-in opens an hour early), not about to start (5-minute slots).
    slot = demo_server.slot_soon("lab", 60, 3600)
    booking = demo_server.post("/v1/sites/demo/bookings", partner,
                               {"slot": slot["slot"], "customer": "review-zhang", "channel": "app"})
    ticket = demo_server.post("/v1/sites/demo/check-in", booking["token"],
                              {"code": booking["code"]})
    hhmm = slot["start"][11:16]
    for locale, text in (("en-US", f"Appointment at {hhmm}"), ("zh-CN", f"预约时间 {hhmm}")):
        with phone(browser, locale) as ctx:
            page = _tracker(ctx, demo_server, ticket)
            assert page.locator("#appt").inner_text() == text
    walk_in = demo_server.take("lab")
    with phone(browser) as ctx:
        assert _tracker(ctx, demo_server, walk_in).locator("#appt").is_hidden()


def test_chinese_texts_read_naturally(browser: Any, demo_server: DemoServer) -> None:
    """"正在 1号诊室 为您办理", "暂时挂起" (a software word) and a bare "保留" in the cancel
    dialog: the Chinese now reads as a person would say it."""
    _drain(demo_server, "3")
    t = demo_server.take("paediatrics")
    agent = demo_server.token("agent", site="demo", counter="3")
    with phone(browser, "zh-CN") as ctx:
        page = _tracker(ctx, demo_server, t)
        page.locator("#cancel-btn").tap()
        assert page.locator("#cancel-keep").inner_text() == "不取消，继续排队"
        page.locator("#cancel-keep").tap()
        demo_server.post("/v1/sites/demo/counters/3/call-next", agent)
        page.locator("#status", has_text="请到3号诊室").wait_for(timeout=WAIT_MS)
        demo_server.post("/v1/sites/demo/counters/3/park", agent)
        page.locator("#status", has_text="您的号暂时被搁置，工作人员稍后会再次叫您。").wait_for(
            timeout=WAIT_MS)
        demo_server.post("/v1/sites/demo/counters/3/call", agent, {"ticket": t["id"]})
        demo_server.post("/v1/sites/demo/counters/3/start", agent)
        page.locator("#status", has_text="正在3号诊室为您办理。").wait_for(timeout=WAIT_MS)
    demo_server.counter("3", "complete")


def test_a_link_that_expires_while_waiting_says_the_page_stopped(
        browser: Any, demo_server: DemoServer) -> None:
    """The link's token ran out with the page open: the figures stayed as if live, under a
    banner about the link. The page now says it no longer updates and where to look."""
    for _ in range(3):
        demo_server.take("cashier")
    t = demo_server.take("cashier")
    short = make_token(SECRET, "ticket", site="demo", ticket=t["id"], ttl_s=4,
                       now=time.time() - LEEWAY_S)  # refused 4 s from now (exp + leeway)
    with phone(browser) as ctx:
        page = _tracker(ctx, demo_server, {**t, "tracker": f"/ticket/{t['id']}?token={short}"})
        assert page.locator("#stale").is_hidden()
        wait_js(page, "window.switchboardTicket.client.state.status === 'denied'")
        stale = page.locator("#stale")
        stale.wait_for(state="visible", timeout=WAIT_MS)
        assert "This page no longer updates" in stale.inner_text()


def test_a_missed_call_sent_back_to_the_queue_is_told(browser: Any,
                                                      demo_server: DemoServer) -> None:
    """Called, not there, and put back in line by the counter (a no-show returned): the page
    went back to "You are in line" as if nothing had happened. It now says they were called
    and are back in line, to stay in the waiting area."""
    _drain(demo_server, "3")
    t = demo_server.take("paediatrics")
    for _ in range(3):
        demo_server.take("paediatrics")
    with phone(browser) as ctx:
        page = _tracker(ctx, demo_server, t)
        demo_server.counter("3", "call-next")
        page.locator("#status", has_text="It’s your turn").wait_for(timeout=WAIT_MS)
        assert demo_server.counter("3", "no-show")["status"] == "waiting"
        page.locator("#status", has_text="and are back in line").wait_for(timeout=WAIT_MS)
        assert "Please stay in the waiting area" in page.locator("#status").inner_text()
