"""A ticket the server made but whose answer the kiosk never got: the visitor, told "Network
error — please try again", taps the same service again and gets that ticket, not a second
one (a government service centre's reviewer got V001 and V002, the first later called and
marked absent). The kiosk keeps one Idempotency-Key per visitor's choice until a ticket
shows or the kiosk is back at its start. Also: the slip says "1 person ahead".

The answers are dropped by Playwright's ``page.route``: each request still reaches the real
server (``route.fetch``), only its answer is lost (``route.abort``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser
WAIT_MS = 15000
TICKETS = "**/v1/sites/demo/tickets"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """A demo server of this module's own: the tests count the tickets in its queues."""
    s = DemoServer(tmp_path_factory.mktemp("kiosk-lost")).start()
    yield s
    s.stop()


@pytest.fixture
def kiosk(browser: Any, server: DemoServer) -> Iterator[Any]:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1024},
                              has_touch=True)
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    page.clock.install()  # flowing as the real one, until a test moves it on
    page.goto(server.page_url("kiosk", lang="en"))
    page.locator(".k-service[data-service='pharmacy']").wait_for()
    yield page
    ctx.close()


def queue(server: DemoServer, service: str) -> list[str]:
    """The numbers waiting for ``service``, in line order."""
    token = server.token("supervisor", site="demo")
    r = httpx.get(f"{server.base}/v1/sites/demo/services/{service}/queue", timeout=10,
                  headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    body = r.json()
    items = body["tickets"] if isinstance(body, dict) else body
    return [t["number"] for t in items]


def drop_answers(page: Any, count: int) -> list[str]:
    """The next ``count`` ticket requests reach the server; their answers never come back.
    The numbers the server gave them, as it gave them."""
    made: list[str] = []

    def handle(route: Any) -> None:
        if len(made) >= count:
            route.continue_()
            return
        answer = route.fetch()
        made.append(answer.json().get("number", f"status {answer.status}"))
        route.abort("connectionreset")

    page.route(TICKETS, handle)
    return made


def test_a_tap_again_after_a_lost_answer_shows_the_ticket_already_made(
        kiosk: Any, server: DemoServer) -> None:
    before = queue(server, "pharmacy")
    made = drop_answers(kiosk, 3)  # the kiosk's own three tries
    kiosk.locator(".k-service[data-service='pharmacy']").tap()
    kiosk.locator(".k-alert", has_text="Network error").wait_for()
    assert kiosk.evaluate("window.switchboardKiosk.screen") == "services"
    assert len(made) == 3 and len(set(made)) == 1, made  # one ticket, answered thrice
    first = made[0]
    kiosk.locator(".k-service[data-service='pharmacy']").tap()  # the answer gets through
    kiosk.locator("#screen-ticket").wait_for()
    assert kiosk.locator("#t-number").text_content() == first
    assert queue(server, "pharmacy") == [*before, first]  # exactly one ticket made


def test_the_next_visitor_gets_a_ticket_of_their_own(kiosk: Any, server: DemoServer) -> None:
    """Done, or the start screen left alone: whoever taps next is someone else, with a new
    key (the lost ticket is not handed to them)."""
    made = drop_answers(kiosk, 3)
    kiosk.locator(".k-service[data-service='pharmacy']").tap()
    kiosk.locator(".k-alert", has_text="Network error").wait_for()
    lost = made[0]
    kiosk.clock.run_for(61_000)  # the start screen left alone: the kiosk's idle state
    kiosk.locator(".k-service[data-service='pharmacy']").tap()
    kiosk.locator("#screen-ticket").wait_for()
    mine = kiosk.locator("#t-number").text_content()
    assert mine != lost
    # Done: the next one after that is another ticket again, not a replay of this one.
    kiosk.locator("#done-btn").tap()
    kiosk.locator(".k-service[data-service='pharmacy']").tap()
    kiosk.locator("#screen-ticket").wait_for()
    assert kiosk.locator("#t-number").text_content() not in (lost, mine)


def test_a_different_service_after_a_lost_answer_is_a_new_request(
        kiosk: Any, server: DemoServer) -> None:
    made = drop_answers(kiosk, 3)
    kiosk.locator(".k-service[data-service='pharmacy']").tap()
    kiosk.locator(".k-alert", has_text="Network error").wait_for()
    kiosk.locator(".k-service[data-service='lab']").tap()
    kiosk.locator("#screen-ticket").wait_for()
    shown = kiosk.evaluate("window.switchboardKiosk.ticket")
    assert shown["service"] == "lab" and shown["number"] != made[0]


def test_people_ahead_in_english_and_chinese(kiosk: Any, server: DemoServer) -> None:
    """0, 1 and more people ahead, on a service nobody else uses in this module."""
    seen = []
    for _ in range(3):
        kiosk.locator(".k-service[data-service='internal']").tap()
        kiosk.locator("#screen-ticket").wait_for()
        seen.append(kiosk.locator("#t-ahead").text_content())
        kiosk.locator("#lang button[lang='zh-CN']").tap()
        seen.append(kiosk.locator("#t-ahead").text_content())
        kiosk.locator("#done-btn").tap()  # back in English (the kiosk's own language)
        wait_js(kiosk, "window.switchboardKiosk.screen === 'services'")
        wait_js(kiosk, "document.documentElement.lang === 'en'")
    assert seen == ["Nobody ahead of you", "前面没有人", "1 person ahead", "前面 1 人",
                    "2 people ahead", "前面 2 人"]
