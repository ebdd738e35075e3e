"""The queue pages in a real browser against a real server and Redis: a ticket from the kiosk
to the tracker, the console, the board's spoken call and back to the tracker; the board with
sound blocked; the page routes' answers to bad links."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import AUTOPLAY_BLOCKED, DemoServer, launch, wait_js

pytestmark = pytest.mark.browser
WAIT_MS = 15000


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(locale="en-US")
    yield ctx
    ctx.close()


def spoken(board: Any) -> list[dict[str, Any]]:
    return board.evaluate("window.switchboardBoard.spoken")  # type: ignore[no-any-return]


def wait_spoken(board: Any, n: int) -> list[dict[str, Any]]:
    wait_js(board, f"window.switchboardBoard.spoken.length >= {n}")
    return spoken(board)


def test_kiosk_ticket_is_tracked_called_announced_and_its_holder_told(
        browser: Any, demo_server: DemoServer) -> None:
    tv = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    kiosk_ctx = browser.new_context(viewport={"width": 1280, "height": 1024}, locale="zh-CN")
    phone_ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US",
                                    has_touch=True, is_mobile=True, permissions=["notifications"])
    agent_ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    try:
        board = tv.new_page()
        board.goto(demo_server.page_url("board"))
        wait_js(board, "window.switchboardBoard && window.switchboardBoard.offset")
        assert board.evaluate("window.switchboardBoard.sound") == "on"
        # The footer says when the board last heard from the server, not a stream offset.
        assert re.fullmatch(r"更新于 \d\d:\d\d:\d\d", board.locator("#offset").inner_text())

        # Kiosk: take a ticket for internal medicine; it shows with a working QR code.
        kiosk = kiosk_ctx.new_page()
        kiosk.goto(demo_server.page_url("kiosk"))
        kiosk.get_by_role("button", name="内科").click()
        kiosk.locator("#screen-ticket").wait_for(timeout=WAIT_MS)
        ticket = kiosk.evaluate("window.switchboardKiosk.ticket")
        number = ticket["number"]
        assert kiosk.locator("#t-number").inner_text() == number
        wait_js(kiosk, "document.getElementById('t-qr').naturalWidth > 0")
        assert "%2Fticket%2F" in (kiosk.locator("#t-qr").get_attribute("src") or "")

        # The tracker (opened from the QR code's link): number, place in line.
        phone = phone_ctx.new_page()
        phone.goto(demo_server.base + ticket["tracker"])
        wait_js(phone, "window.switchboardTicket && window.switchboardTicket.ticket")
        assert phone.locator("#number").inner_text() == number
        assert phone.locator(".fig-pos dd").inner_text() == str(ticket["position"])
        assert phone.locator(".fig-ahead dd").inner_text() in ("You are next",
                                                                str(ticket["position"] - 1))

        # The console: its queue shows the ticket; N calls it.
        console = agent_ctx.new_page()
        console.goto(demo_server.page_url("counter:1"))
        console.locator(f".q-item:has-text('{number}')").wait_for(timeout=WAIT_MS)
        console.keyboard.press("n")
        console.locator("#current .c-number", has_text=number).wait_for(timeout=WAIT_MS)

        # The board shows the call, flashes it, and says it in Chinese, then English.
        board.locator("#hero .hero-number", has_text=number).wait_for(timeout=WAIT_MS)
        assert board.locator("#hero").get_attribute("class") == "hero-call flash"
        said = wait_spoken(board, 2)
        assert [(s["lang"], s["text"]) for s in said[:2]] == [
            ("zh", f"请 {number} 号到 1号诊室"), ("en", f"Ticket {number}, please go to Room 1")]
        assert board.locator("[data-counter='1'] .ct-number").inner_text() == number

        # The phone: it's your turn, at Room 1 — with an alert.
        phone.wait_for_selector("body[data-phase='called']", timeout=WAIT_MS)
        status = phone.locator("#status").inner_text()
        assert "It’s your turn" in status and "Room 1" in status
        # First in line: "almost" at once, then "your turn" — each once.
        alerts = wait_js(phone, "window.switchboardTicket.alerts.length >= 2 && "
                                "window.switchboardTicket.alerts")
        assert [a["kind"] for a in alerts] == ["almost", "your_turn"]
        # …shown as a system notification through the tracker's service worker.
        shown = wait_js(phone, "window.switchboardTicket.notifications()"
                               ".then((n) => n.length && n)")
        assert shown[-1]["title"] == f"It’s your turn · {number}"
        assert shown[-1]["body"] == "Please go to Room 1"

        # A recall is announced again; start and complete reach the phone.
        console.keyboard.press("r")
        said = wait_spoken(board, 4)
        assert [s["lang"] for s in said[2:4]] == ["zh", "en"]
        console.keyboard.press("s")
        phone.wait_for_selector("body[data-phase='serving']", timeout=WAIT_MS)
        console.keyboard.press("c")
        phone.wait_for_selector("body[data-phase='done']", timeout=WAIT_MS)
        console.locator("#current .c-empty").wait_for(timeout=WAIT_MS)
        assert len(spoken(board)) == 4
    finally:
        for ctx in (tv, kiosk_ctx, phone_ctx, agent_ctx):
            ctx.close()


def test_a_parked_ticket_is_on_every_console_of_its_service(browser: Any,
                                                          demo_server: DemoServer) -> None:
    """Parked on counter 2, the ticket shows on counter 1's console opened in a fresh browser
    (another PC: nothing in its storage), and is brought back from there."""
    agent = {"Authorization": f"Bearer {demo_server.token('agent', site='demo', counter='2')}"}
    with httpx.Client(base_url=demo_server.base, headers=agent, timeout=10) as api:
        counter = api.get("/v1/sites/demo").json()["counters"][1]
        if counter["ticket"]:
            api.post("/v1/sites/demo/counters/2/complete")
        api.post("/v1/sites/demo/counters/2/open")
        t = api.post("/v1/sites/demo/tickets", json={"service": "paediatrics",
                                                     "channel": "window"}).json()
        assert api.post("/v1/sites/demo/counters/2/call", json={"ticket": t["id"]}).is_success
        assert api.post("/v1/sites/demo/counters/2/park").json()["status"] == "parked"
    ctx = browser.new_context(locale="en-US")
    try:
        console = ctx.new_page()
        console.goto(demo_server.page_url("counter:3"))  # paediatrics too
        item = console.locator("#parked-list li", has_text=t["number"])
        item.wait_for(timeout=WAIT_MS)
        item.get_by_role("button", name="Back to queue").click()
        console.locator("#parked-list li", has_text=t["number"]).wait_for(state="detached",
                                                                          timeout=WAIT_MS)
        console.locator(f".q-item:has-text('{t['number']}')").wait_for(timeout=WAIT_MS)
    finally:
        ctx.close()


def test_call_next_waits_for_someone_to_call(context: Any, demo_server: DemoServer) -> None:
    """Counter 5 (pharmacy, cashier) with nobody waiting: "call next" is disabled and N says
    why; the first ticket enables it, and N calls it."""
    console = context.new_page()
    console.goto(demo_server.page_url("counter:5", lang="en"))
    button = console.locator("#actions button[data-op='call-next']")
    wait_js(console, "document.querySelectorAll('.q-empty').length === 2")
    assert button.is_disabled()
    console.keyboard.press("n")
    console.locator(".toast", has_text="Nobody is waiting.").wait_for(timeout=WAIT_MS)
    t = demo_server.take("cashier")
    console.locator(f".q-item:has-text('{t['number']}')").wait_for(timeout=WAIT_MS)
    assert button.is_enabled()
    console.keyboard.press("n")
    console.locator("#current .c-number", has_text=t["number"]).wait_for(timeout=WAIT_MS)
    demo_server.counter("5", "complete")


def test_kiosk_large_text_makes_all_of_it_larger(context: Any, demo_server: DemoServer) -> None:
    kiosk = context.new_page()
    kiosk.goto(demo_server.page_url("kiosk"))
    name = kiosk.locator(".k-svc-name").first
    name.wait_for(timeout=WAIT_MS)
    size = "(e) => parseFloat(getComputedStyle(e).fontSize)"
    before = name.evaluate(size)
    kiosk.locator("#large-btn").click()
    wait_js(kiosk, "document.documentElement.classList.contains('k-large')")
    assert name.evaluate(size) >= 1.25 * before  # the sizes are rem: the root must grow


def test_board_with_audio_blocked_asks_for_a_click(pw: Any, demo_server: DemoServer) -> None:
    blocked = launch(pw, AUTOPLAY_BLOCKED)
    try:
        page = blocked.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(demo_server.page_url("board", lang="en"))
        wait_js(page, "window.switchboardBoard && window.switchboardBoard.offset")
        gate = page.locator("#sound-gate")
        gate.wait_for(state="visible", timeout=WAIT_MS)
        assert "click" in gate.inner_text().lower()
        assert page.locator("#sound-chip").inner_text().strip() == "Sound off"
        assert page.locator("body").get_attribute("data-sound") == "blocked"

        # A call while blocked is shown, not spoken (and not saved up to be spoken late).
        t = demo_server.take("lab")
        demo_server.counter("4", "call-next")
        page.locator("#hero .hero-number", has_text=t["number"]).wait_for(timeout=WAIT_MS)
        assert spoken(page) == []

        page.get_by_role("button", name="Turn sound on").click()
        page.wait_for_selector("body[data-sound='on']", timeout=WAIT_MS)
        assert gate.is_hidden()
        assert spoken(page) == []
        demo_server.counter("4", "recall")
        said = wait_spoken(page, 2)
        assert [s["text"] for s in said] == [f"请 {t['number']} 号到 4号窗口",
                                              f"Ticket {t['number']}, please go to Counter 4"]
        demo_server.counter("4", "complete")
    finally:
        blocked.close()


def test_board_speaks_msgpack_to_the_real_hub(context: Any, demo_server: DemoServer) -> None:
    page = context.new_page()
    page.goto(demo_server.page_url("board"))
    snap = page.evaluate("""async (token) => {
      const {Client} = await import('/static/js/client.js');
      const c = new Client({token, encoding: 'msgpack', watch: false});
      const first = new Promise((resolve) => c.subscribe('board:demo', resolve));
      c.start();
      const msg = await first;
      const protocol = c.ws.protocol;
      c.stop();
      return {op: msg.op, site: msg.data.site, counters: msg.data.counters.length, protocol};
    }""", demo_server.token("display", site="demo"))
    assert snap == {"op": "snapshot", "site": "demo", "counters": 6,
                    "protocol": "switchboard.v1.msgpack"}


def test_pages_answer_bad_links_with_an_error_page(context: Any,
                                                   demo_server: DemoServer) -> None:
    display = demo_server.token("display", site="demo")
    cases = [
        ("/board/demo?token=nonsense&lang=en", 401, "not valid"),
        (f"/board/nowhere?token={demo_server.token('display', site='nowhere')}&lang=en", 404,
         "no such site"),
        (f"/counter/demo/1?token={display}&lang=en", 403, "does not open"),
        (f"/counter/demo/99?token={demo_server.token('admin')}&lang=en", 404, "no such counter"),
    ]
    page = context.new_page()
    for path, status, text in cases:
        response = page.goto(demo_server.base + path)
        assert response.status == status, path
        assert text in page.locator(".error-screen h1").inner_text(), path
    r = httpx.get(demo_server.base + "/board/demo", params={"token": display})
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    qr = httpx.get(demo_server.base + "/qr.svg", params={"data": "http://x/ticket/demo.1"})
    assert qr.status_code == 200 and qr.text.startswith("<svg")
    assert httpx.get(demo_server.base + "/qr.svg").status_code == 400


def test_front_page_lists_demo_pages_with_working_tokens(context: Any,
                                                         demo_server: DemoServer) -> None:
    page = context.new_page()
    page.goto(demo_server.base + "/")
    links = page.locator(".h-links a")
    links.first.wait_for(timeout=WAIT_MS)
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert sum(1 for h in hrefs if h and h.startswith("/board/demo?token=")) == 2
    assert sum(1 for h in hrefs if h and h.startswith("/counter/demo/")) == 6
    kiosk = next(h for h in hrefs if h and h.startswith("/kiosk/demo"))
    page.goto(demo_server.base + kiosk)
    page.locator(".k-service").first.wait_for(timeout=WAIT_MS)
