"""Priority tickets at the kiosk: where the site lets a kiosk choose a class (``self_service``,
"kiosk may choose" on the set-up page), a service tapped asks "Standard" or the class by its
own configured name (older people, people with disabilities, pregnant women); the ticket
comes out in that class. Where no class is choosable the kiosk asks nothing (the demo site).
A reviewer at a government service centre found the kiosk had no such button at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DemoServer, wait_js
from tests.browser.test_accessibility import SMALL_TARGETS, settle

pytestmark = pytest.mark.browser
WAIT_MS = 15000
PHARMACY = ".k-service[data-service='pharmacy']"


def admin(server: DemoServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token('admin')}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """A demo site whose "priority" class (优先) a kiosk may choose."""
    s = DemoServer(tmp_path_factory.mktemp("kiosk-priority")).start()
    cfg = httpx.get(f"{s.base}/v1/sites/demo", headers=admin(s), timeout=10).json()
    cfg["priority_classes"] = [
        {"id": "emergency", "preempt": True, "name": {"zh": "急诊", "en": "Emergency"}},
        {"id": "priority", "name": {"zh": "优先", "en": "Priority"}, "self_service": True},
        {"id": "walk_in", "name": {"zh": "普通", "en": "Walk-in"}, "self_service": True},
    ]
    r = httpx.put(f"{s.base}/v1/sites/demo", headers=admin(s), json=cfg, timeout=10)
    assert r.status_code == 200, r.text
    yield s
    s.stop()


def open_kiosk(browser: Any, server: DemoServer, lang: str = "en",
               width: int = 1280, extra: str = "") -> Any:
    ctx = browser.new_context(locale="en-US", viewport={"width": width, "height": 1024},
                              has_touch=True)
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    page.clock.install()  # flowing as the real one, until a test moves it on
    page.goto(server.page_url("kiosk", lang=lang) + extra)
    page.locator(PHARMACY).wait_for()
    page.evaluate("window.switchboardKiosk.classesLoaded")
    return page


def server_ticket(server: DemoServer, ticket_id: str) -> dict[str, Any]:
    r = httpx.get(f"{server.base}/v1/tickets/{ticket_id}", headers=admin(server), timeout=10)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_priority_ticket_from_the_kiosk(browser: Any, server: DemoServer,
                                          tmp_path: Path) -> None:
    page = open_kiosk(browser, server)
    try:
        page.locator(PHARMACY).tap()
        page.locator("#screen-priority").wait_for()
        assert page.locator("#priority-title").text_content() == "Do you need priority?"
        choices = page.locator("#priority-choices button")
        assert choices.all_text_contents() == [
            "Standard普通Wait your turn in the usual order",
            "Priority优先Older people, people with disabilities, pregnant women"]
        # Their accessible names are what they say, line by line.
        snap = page.locator("#priority-choices").aria_snapshot()
        assert 'button "Priority 优先 Older people, people with disabilities, pregnant women"' \
            in snap, snap
        settle(page)
        assert page.evaluate(SMALL_TARGETS) == []
        page.screenshot(path=str(tmp_path / "kiosk-priority-en.png"))
        page.locator("#priority-choices .k-choice-priority").tap()
        page.locator("#screen-ticket").wait_for()
        shown = page.evaluate("window.switchboardKiosk.ticket")
        assert shown["priority"] == "priority"
        assert server_ticket(server, shown["id"])["priority"] == "priority"
    finally:
        page.context.close()


def test_standard_is_the_sites_default_class(browser: Any, server: DemoServer,
                                             tmp_path: Path) -> None:
    page = open_kiosk(browser, server, lang="zh")
    try:
        page.locator(PHARMACY).tap()
        page.locator("#screen-priority").wait_for()
        assert page.locator("#priority-title").text_content() == "是否需要优先办理？"
        page.screenshot(path=str(tmp_path / "kiosk-priority-zh.png"))
        page.locator("#priority-choices .k-choice-standard").tap()
        page.locator("#screen-ticket").wait_for()
        shown = page.evaluate("window.switchboardKiosk.ticket")
        assert server_ticket(server, shown["id"])["priority"] == "walk_in"
    finally:
        page.context.close()


def test_back_returns_to_the_services_with_nothing_taken(browser: Any, server: DemoServer,
                                                        tmp_path: Path) -> None:
    """On a narrow screen in large text and high contrast: the choices fit, one above the
    other; Back takes no ticket."""
    page = open_kiosk(browser, server, width=320, extra="&text=large&contrast=high")
    try:
        page.locator(PHARMACY).tap()
        page.locator("#screen-priority").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        settle(page)
        assert page.evaluate(SMALL_TARGETS) == []
        page.screenshot(path=str(tmp_path / "kiosk-priority-320.png"), full_page=True)
        page.locator("#priority-back").tap()
        wait_js(page, "window.switchboardKiosk.screen === 'services'")
        assert page.evaluate("window.switchboardKiosk.ticket") is None
    finally:
        page.context.close()


def test_the_choice_left_alone_warns_then_goes_back_to_the_start(
        browser: Any, server: DemoServer) -> None:
    """Someone who walked away from the choice: the warning says no ticket was taken; then
    the next person finds the services."""
    page = open_kiosk(browser, server)
    try:
        page.locator(PHARMACY).tap()
        page.locator("#screen-priority").wait_for()
        page.clock.run_for(30_000)
        page.locator("#idle-dialog[open]").wait_for()
        assert "No ticket has been taken yet" in (page.locator("#idle-text").text_content()
                                                  or "")
        page.clock.run_for(20_000)
        wait_js(page, "window.switchboardKiosk.screen === 'services'")
        assert page.evaluate("window.switchboardKiosk.ticket") is None
    finally:
        page.context.close()


def test_no_choice_where_the_site_has_no_kiosk_class(browser: Any,
                                                     demo_server: DemoServer) -> None:
    """The demo site as shipped: only its default class is self-service; a tap is a ticket."""
    page = open_kiosk(browser, demo_server)
    try:
        page.locator(PHARMACY).tap()
        page.locator("#screen-ticket").wait_for()
        assert page.evaluate("window.switchboardKiosk.ticket.priority") == "walk_in"
    finally:
        page.context.close()
