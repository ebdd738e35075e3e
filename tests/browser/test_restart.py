"""A board and a ticket tracker stay correct when the server dies: kill -9 the server (and
its Redis) while both pages are open; both say they are offline; start it again on the same
port and data folder; both resume by themselves with the right state, the board announces
nothing stale, and the next call goes through as usual."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DemoServer]:
    s = DemoServer(tmp_path / "data").start()
    yield s
    s.stop()


def test_pages_resume_after_the_server_is_killed_and_restarted(browser: Any,
                                                               server: DemoServer) -> None:
    first, second = server.take("internal"), server.take("internal")
    tv = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-US")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    stand = browser.new_context(viewport={"width": 1280, "height": 1024}, locale="en-US")
    try:
        kiosk = stand.new_page()
        kiosk.goto(server.page_url("kiosk", lang="en"))
        board = tv.new_page()
        board.goto(server.page_url("board", lang="en"))
        tracker = phone.new_page()
        tracker.goto(server.base + second["tracker"])
        wait_js(board, "window.switchboardBoard && window.switchboardBoard.offset")
        wait_js(tracker, "window.switchboardTicket && window.switchboardTicket.ticket")
        wait_js(kiosk, "window.switchboardKiosk.client.state.status === 'online'")
        assert tracker.locator(".fig-pos dd").inner_text() == "2"

        server.counter("1", "call-next")
        wait_js(board, "window.switchboardBoard.spoken.length >= 2")
        tracker.locator(".fig-pos dd", has_text="1").wait_for()
        offset_before = board.evaluate("window.switchboardBoard.offset")

        server.kill9()
        for page in (board, tracker, kiosk):
            page.locator(".conn-banner.offline").wait_for(state="visible", timeout=15000)
            assert "Offline since" in page.locator(".conn-banner").inner_text()
        # The kiosk's banner sits under its header: language and large text stay usable.
        head = kiosk.locator(".k-head").bounding_box()
        banner = kiosk.locator(".conn-banner").bounding_box()
        assert head and banner and banner["y"] >= head["y"] + head["height"] - 1
        kiosk.locator("#large-btn").click(timeout=5000)
        assert tracker.locator("#number").inner_text() == second["number"], "last state kept"

        server.start()
        for page in (board, tracker, kiosk):
            page.locator(".conn-banner").wait_for(state="hidden", timeout=30000)
        wait_js(board, "window.switchboardBoard.client.state.status === 'online'")
        # Right state after the resume; the call made before the crash is not spoken again.
        assert board.locator("[data-counter='1'] .ct-number").inner_text() == first["number"]
        assert board.locator("#hero .hero-number").inner_text() == first["number"]
        assert tracker.locator(".fig-pos dd").inner_text() == "1"
        said = board.evaluate("window.switchboardBoard.spoken")
        assert len(said) == 2 and all(first["number"] in s["text"] for s in said)
        offset_after = board.evaluate("window.switchboardBoard.offset")
        assert tuple(map(int, offset_after.split("-"))) >= tuple(map(int, offset_before.split("-")))
        assert board.evaluate("window.switchboardBoard.state.resyncs") == 0, "resumed, not resynced"

        # Live again: the next call is shown, spoken once, and reaches the phone.
        server.counter("1", "complete")
        server.counter("1", "call-next")
        said = wait_js(board, "window.switchboardBoard.spoken.length >= 4 && "
                              "window.switchboardBoard.spoken")
        n = second["number"]
        assert [s["text"] for s in said[2:]] == [f"请 {n} 号到 1号诊室",
                                                 f"Ticket {n}, please go to Room 1"]
        tracker.wait_for_selector("body[data-phase='called']", timeout=15000)
        assert "Room 1" in tracker.locator("#status").inner_text()
    finally:
        tv.close()
        phone.close()
        stand.close()
