"""The floor overview as a floor supervisor reads it (review of the overview): a stuck queue
is flagged at once, the live part comes first, counters say how long they have been calling,
free or paused (ticking without events, flagged when too long), and recent calls and counter
changes are listed as they come; the footer says the page is live."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser
WAIT_MS = 15000
READY = "window.switchboardSupervise && window.switchboardSupervise.board.ready"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    s = DemoServer(tmp_path_factory.mktemp("floor-live")).start()
    yield s
    s.stop()


def _open(ctx: Any, server: DemoServer, lang: str = "en") -> Any:
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{server.base}/supervise/demo?token="
              f"{server.token('supervisor', site='demo')}&lang={lang}")
    wait_js(page, READY)
    return page


def test_a_queue_with_people_and_no_counter_open_is_flagged_at_once(
        browser: Any, server: DemoServer) -> None:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 768})
    try:
        server.counter("4", "close")  # the lab's only counter
        server.take("lab")
        server.take("lab")
        page = _open(ctx, server)
        row = page.locator("tr[data-service='lab']")
        # Flagged at once: the wait is seconds, far from LATE_MIN.
        row.locator(".s-stuck-note", has_text="2 waiting, no counter open").wait_for()
        assert "s-stuck" in (row.get_attribute("class") or "")
        # In Chinese too.
        page.locator("#lang button[lang='zh-CN']").click()
        row.locator(".s-stuck-note", has_text="2人等候，无窗口开放").wait_for()
        page.locator("#lang button[lang='en']").click()
        # A counter opens: no longer stuck.
        server.counter("4", "open")
        row.locator(".s-stuck-note").wait_for(state="detached")
        assert "s-stuck" not in (row.get_attribute("class") or "")
    finally:
        ctx.close()


def test_the_live_part_comes_first(browser: Any, server: DemoServer) -> None:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 768})
    try:
        page = _open(ctx, server)
        wait_js(page, "window.switchboardSupervise.stats !== null")
        top = page.evaluate("""() => Object.fromEntries(['svc-title', 'counters', 'recent',
            'hours', 'byctr', 'audit'].map((id) => [id,
            document.getElementById(id).getBoundingClientRect().top + scrollY]))""")
        # The counters' cards start within the first screen, above history and day figures.
        assert top["counters"] < 768, top
        assert top["svc-title"] < top["counters"] < top["recent"], top
        for later in ("hours", "byctr", "audit"):
            if top[later]:  # a hidden section has no box
                assert top[later] > top["recent"], top
    finally:
        ctx.close()


def test_counters_say_how_long_and_flag_idle_and_unanswered(browser: Any,
                                                            server: DemoServer) -> None:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 768})
    try:
        page = ctx.new_page()
        page.set_default_timeout(WAIT_MS)
        # The page's clock is driven by the test: minutes pass without any event.
        page.clock.install()
        server.counter("3", "open")
        server.counter("2", "pause")
        page.goto(f"{server.base}/supervise/demo?token="
                  f"{server.token('supervisor', site='demo')}&lang=en")
        wait_js(page, READY)
        # Counter 3 (paediatrics) is free; a paediatrics ticket waits (counter 2 paused).
        server.take("paediatrics")
        free = page.locator("li[data-counter='3']")
        free.locator(".s-elapsed", has_text="Free").wait_for()
        # Paused since before the page opened: read back from the day's trail.
        page.locator("li[data-counter='2'] .s-elapsed", has_text="Paused for").wait_for()
        # Counter 1 calls: "Calling for under 1 min", not flagged yet.
        server.take("internal")
        server.counter("1", "open")
        server.counter("1", "call-next")
        calling = page.locator("li[data-counter='1']")
        calling.locator(".s-elapsed", has_text="Calling for under 1 min").wait_for()
        assert "s-alert" not in (calling.get_attribute("class") or "")
        assert "s-alert" not in (free.get_attribute("class") or "")
        # Six minutes pass, no event: the cards tick and both are flagged.
        page.clock.fast_forward("06:00")
        calling.locator(".s-elapsed", has_text="Calling for 6 min").wait_for()
        calling.locator(".s-alert-note", has_text="Call not answered").wait_for()
        free.locator(".s-elapsed", has_text="Free for 6 min").wait_for()
        free.locator(".s-alert-note", has_text="Free while people wait").wait_for()
        assert "s-alert" in (free.get_attribute("class") or "")
        page.locator("li[data-counter='2'] .s-elapsed", has_text="Paused for 6 min").wait_for()
        # Service starts: timed from the start (the board's `started`), not "called … ago".
        server.counter("1", "start")
        calling.locator(".s-elapsed", has_text="Serving for").wait_for()
        assert "called" not in calling.locator(".s-elapsed").inner_text()
    finally:
        ctx.close()
        server.counter("2", "open")
        server.counter("1", "complete")


def test_recent_calls_and_counter_changes_and_a_live_footer(browser: Any,
                                                            server: DemoServer) -> None:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 768})
    try:
        page = _open(ctx, server)
        page.locator("#updated", has_text="Live").wait_for()
        server.take("pharmacy")
        called = server.counter("5", "call-next")
        page.locator("#recent li", has_text=f"{called['number']} called to Counter 5").wait_for()
        server.counter("5", "complete")
        server.counter("6", "pause")
        page.locator("#recent li", has_text="Counter 6 paused").first.wait_for()
        assert "last change at" in page.locator("#updated").inner_text()
        # Newest first: the pause above the call.
        items = page.locator("#recent li").all_inner_texts()
        assert any("Counter 6 paused" in x for x in items[:1]), items
        server.counter("6", "open")
        page.locator("#recent li", has_text="Counter 6 opened").wait_for()
    finally:
        ctx.close()


def test_the_longest_wait_names_its_ticket(browser: Any, server: DemoServer) -> None:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 768})
    try:
        server.counter("4", "close")
        first = server.take("lab")
        page = _open(ctx, server)
        wait_js(page, "(window.switchboardSupervise.queues.lab || []).length > 0")
        cell = page.locator("tr[data-service='lab'] td.s-longest")
        # The lab's first ticket still waiting (earlier tests may have left some).
        lab = page.evaluate("window.switchboardSupervise.queues.lab.map((t) => t.number)")
        assert first["number"] in lab
        cell.filter(has_text=min(lab)).wait_for()
    finally:
        ctx.close()
        server.counter("4", "open")


def test_ticket_history_phone_numbers_short_numbers_and_where_it_is_now(
        browser: Any, server: DemoServer) -> None:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 768})
    try:
        server.counter("4", "close")
        server.take("lab")
        mine = server.take("lab")
        _recorded(server, mine["id"])
        page = _open(ctx, server)
        # A phone number: said plainly, not "Nothing recorded today".
        page.locator("#au-number").fill("138 0013 8000")
        page.locator("#audit button[type=submit]").click()
        page.locator("#au-status", has_text="Phone numbers cannot be searched here").wait_for()
        # "c7" as typed, "C007" as printed; and where the ticket is now.
        digits = int(mine["number"][1:])
        page.locator("#au-number").fill(f"c{digits}")
        page.locator("#audit button[type=submit]").click()
        status = page.locator("#au-status", has_text=f"{mine['number']}: 1 steps.")
        status.wait_for()
        lab = page.evaluate("window.switchboardSupervise.queues.lab.map((t) => t.id)")
        pos = lab.index(mine["id"]) + 1
        assert f"Now: waiting for Laboratory, number {pos} in line ({pos - 1} ahead)." in \
            status.inner_text()
        page.locator("#lang button[lang='zh-CN']").click()
        page.locator("#au-status", has_text=f"排第 {pos} 位").wait_for()
        page.locator("#au-number").fill("+8613800138000")
        page.locator("#audit button[type=submit]").click()
        page.locator("#au-status", has_text="这里不能按电话号码查询").wait_for()
    finally:
        ctx.close()
        server.counter("4", "open")


def _recorded(server: DemoServer, ticket: str) -> None:
    """Wait until the audit trail holds the ticket's issue: it is recorded by the stats
    consumer after the step, and on a loaded machine the page's one search could come first
    (a clean-clone run waited 15 s for "C005: 1 steps." that never came)."""
    token = server.token("supervisor", site="demo")
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        r = httpx.get(f"{server.base}/v1/sites/demo/audit", params={"ticket": ticket},
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)
        if r.status_code == 200 and r.json()["records"]:
            return
        time.sleep(0.1)
    raise AssertionError(f"the trail never recorded {ticket}")


CHANNELS = """async () => {
  const m = await import('/static/js/supervise-audit.js');
  const missing = [];
  for (const lang of ['en', 'zh']) {
    for (const ch of %s) {
      for (const k of [`au_ch_${ch}`, `au_via_${ch}`]) {
        if (!m.STRINGS[lang][k]) missing.push(`${lang}:${k}`);
      }
    }
  }
  return missing;
}"""


def test_every_channel_is_worded_in_both_languages(browser: Any, server: DemoServer) -> None:
    from queueing.model import Channel
    ctx = browser.new_context()
    try:
        page = _open(ctx, server)
        channels = [c.value for c in Channel]
        assert "window" in channels
        assert page.evaluate(CHANNELS % channels) == []
    finally:
        ctx.close()


def test_times_come_from_the_board_and_parked_people_are_shown(browser: Any,
                                                              server: DemoServer) -> None:
    """Counter times come with the board (``since``, ``free_since``): no audit scan per
    counter on load (it cost several full-day scans per page on a large site). A ticket set
    aside shows under its service (it appeared nowhere on the page)."""
    ctx = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 768})
    scans: list[str] = []
    try:
        server.counter("5", "open")
        page = ctx.new_page()
        page.on("request", lambda r: scans.append(r.url) if "/audit?" in r.url else None)
        page.set_default_timeout(WAIT_MS)
        page.goto(f"{server.base}/supervise/demo?token="
                  f"{server.token('supervisor', site='demo')}&lang=en")
        wait_js(page, READY)
        page.locator("li[data-counter='5'] .s-elapsed", has_text="Free for").wait_for()
        assert not [u for u in scans if "counter=" in u], scans
        t = server.take("pharmacy")
        called = server.counter("5", "call-next")
        assert called["id"] == t["id"]
        server.counter("5", "park")
        row = page.locator("tr[data-service='pharmacy']")
        row.locator(".s-parked", has_text="1 set aside").wait_for()
        page.locator("li[data-counter='5'] .s-elapsed", has_text="Free").wait_for()
        server.post(f"/v1/tickets/{t['id']}/cancel", server.token("agent", site="demo",
                                                                  counter="5"))
        row.locator(".s-parked").wait_for(state="detached")
    finally:
        ctx.close()
        server.counter("5", "close")
