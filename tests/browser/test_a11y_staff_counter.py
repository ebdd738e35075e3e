"""The counter console, from the WCAG 2.2 AA audit of the staff pages:

- keyboard focus on a queue row's button was lost (to the page) each time the lists were
  drawn again: every 30 s and each change of a queue (2.4.3);
- error messages went after 5 s, read or not (2.2.1);
- the Undo bar at the foot covered the focused control on a small screen (2.4.11), and had no
  key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser
WAIT_MS = 15000

FOCUS = """() => { const e = document.activeElement;
  return { marked: e.__mark ?? null, label: e.getAttribute('aria-label'),
           ticket: e.closest('.q-item')?.dataset.ticket ?? null, tag: e.tagName }; }"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    s = DemoServer(tmp_path_factory.mktemp("a11y-counter")).start()
    yield s
    s.stop()


@pytest.fixture
def console(browser: Any, server: DemoServer) -> Iterator[Any]:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 768})
    yield ctx.new_page()
    ctx.close()


def rows(page: Any) -> list[str]:
    return list(page.locator("#queues .q-item").evaluate_all(
        "(els) => els.map((e) => e.dataset.ticket)"))


def test_focus_stays_on_its_button_when_the_queue_changes(console: Any, server: DemoServer) -> None:
    a, b, c = (server.take("lab") for _ in range(3))
    console.goto(server.page_url("counter:4", lang="en"))
    wait_js(console, f"document.querySelectorAll('#queues .q-item').length >= 3 && "
                     f"document.querySelector(\".q-item[data-ticket='{c['id']}']\")")
    button = console.locator(f".q-item[data-ticket='{b['id']}'] button[aria-label^='Transfer']")
    button.focus()
    console.evaluate("document.activeElement.__mark = 'b-transfer'")
    # A new ticket joins the list: the same button keeps the focus (it was made anew).
    d = server.take("lab")
    wait_js(console, f"document.querySelector(\".q-item[data-ticket='{d['id']}']\")")
    assert console.evaluate(FOCUS) == {"marked": "b-transfer", "label": f"Transfer {b['number']}",
                                       "ticket": b["id"], "tag": "BUTTON"}
    # The ticket before it is called: still there.
    server.counter("4", "call", {"ticket": a["id"]})
    wait_js(console, f"!document.querySelector(\".q-item[data-ticket='{a['id']}']\")")
    assert console.evaluate(FOCUS)["marked"] == "b-transfer"
    # The focused ticket itself leaves (called from another device of the counter): the same
    # button of the ticket now in its place.
    server.counter("4", "complete")
    server.counter("4", "call", {"ticket": b["id"]})
    wait_js(console, f"!document.querySelector(\".q-item[data-ticket='{b['id']}']\")")
    now = console.evaluate(FOCUS)
    assert now["label"] == f"Transfer {c['number']}", (now, rows(console))
    assert now["ticket"] == c["id"], (now, rows(console))
    server.counter("4", "complete")


def test_an_error_stays_until_dismissed(console: Any, server: DemoServer) -> None:
    console.clock.install()  # flowing as the real one, until the test moves it past 5 s
    console.goto(server.page_url("counter:2", lang="en"))
    console.locator("#find-number").wait_for()
    wait_js(console, "document.body.dataset.state")
    toast = console.locator("body > .toast")
    console.locator("#find-number").fill("A#1")
    console.locator("#find-go").click()
    toast.filter(has_text="No ticket number reads").wait_for(timeout=WAIT_MS)
    console.clock.run_for(6500)  # it went after 5 s (a timer, fired on the way)
    assert toast.is_visible() and "toast error" in (toast.get_attribute("class") or "")
    close = toast.locator(".toast-close")
    assert close.get_attribute("aria-label") == "Close"
    close.click()
    assert toast.is_hidden()
    # Escape puts it away too; and so does the next action.
    console.locator("#find-go").click()
    toast.filter(has_text="No ticket number reads").wait_for(timeout=WAIT_MS)
    console.locator("#find-number").press("Escape")
    assert toast.is_hidden()


def test_the_undo_bar_covers_no_focused_control_and_u_undoes(browser: Any,
                                                             server: DemoServer) -> None:
    t = server.take("internal")
    waiting = [server.take("internal") for _ in range(6)]  # a long page, scrolled by Tab
    server.counter("1", "call", {"ticket": t["id"]})
    server.counter("1", "start")
    ctx = browser.new_context(locale="en-US", viewport={"width": 683, "height": 384})
    try:
        page = ctx.new_page()
        page.goto(server.page_url("counter:1", lang="en"))
        done = page.locator("#actions button[data-op='complete']:not([disabled])")
        done.click(timeout=WAIT_MS)
        bar = page.locator("#undo-toast")
        bar.wait_for(state="visible", timeout=WAIT_MS)
        page.locator("#find-number").focus()
        covered = []
        for _ in range(40):
            page.keyboard.press("Tab")
            hit = page.evaluate("""() => {
              const e = document.activeElement;
              if (!e || e === document.body || e.closest('.undo-toast, .toast')) return null;
              const r = e.getBoundingClientRect();
              const pts = [[r.left + r.width / 2, r.top + r.height / 2], [r.left + 3, r.top + 3],
                           [r.right - 3, r.bottom - 3]];
              const over = pts.some(([x, y]) =>
                document.elementFromPoint(x, y)?.closest('.undo-toast, .toast'));
              return over ? (e.getAttribute('aria-label') || e.id || e.textContent.trim()) : null;
            }""")
            if hit:
                covered.append(hit)
        assert covered == [], covered
        assert "U\nUndo" in page.locator("#keys").inner_text()
        assert page.locator("#undo-go").get_attribute("aria-keyshortcuts") == "U"
        page.locator("body").press("Escape")
        page.evaluate("document.activeElement.blur()")
        page.keyboard.press("u")
        back = page.locator(".toast", has_text=f"{t['number']} is back at this counter")
        back.wait_for(timeout=WAIT_MS)
        server.counter("1", "complete")
        for w in waiting:
            server.post(f"/v1/tickets/{w['id']}/cancel",
                        server.token("agent", site="demo", counter="1"))
    finally:
        ctx.close()
