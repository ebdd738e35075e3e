"""Reception moves a waiting ticket to the right queue from the console, and the holder's
phone follows; a cancelled ticket's page says who cancelled it (its holder, staff, or the
end of the day), in a real browser against a real server and Redis."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser
WAIT_MS = 15000


@contextmanager
def english(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(locale="en-US")
    try:
        yield ctx
    finally:
        ctx.close()


def _phone(context: Any, demo_server: DemoServer, ticket: dict[str, Any]) -> Any:
    page = context.new_page()
    page.goto(demo_server.base + ticket["tracker"])
    wait_js(page, "window.switchboardTicket && window.switchboardTicket.ticket")
    return page


def test_console_moves_a_waiting_ticket_and_the_phone_follows(
        browser: Any, demo_server: DemoServer) -> None:
    with english(browser) as context:
        _move(context, demo_server)


def _move(context: Any, demo_server: DemoServer) -> None:
    t = demo_server.take("internal")
    phone = _phone(context, demo_server, t)
    console = context.new_page()
    console.goto(demo_server.page_url("counter:1", lang="en"))
    item = console.locator(f".q-item:has-text('{t['number']}')")
    item.wait_for(timeout=WAIT_MS)
    item.get_by_role("button", name=f"Transfer {t['number']}").click()
    console.locator("#transfer-dialog[open]").wait_for(timeout=WAIT_MS)
    assert console.locator("#transfer-title").inner_text() == f"Transfer {t['number']} to…"
    console.locator("#transfer-options button", has_text="Laboratory").click()
    console.locator(".toast", has_text=f"{t['number']} moved to Laboratory").wait_for(
        timeout=WAIT_MS)
    # Counter 1 serves internal medicine only: the ticket leaves its list.
    item.wait_for(state="detached", timeout=WAIT_MS)
    phone.locator("#status", has_text="You were moved to Laboratory").wait_for(timeout=WAIT_MS)
    assert phone.locator(".fig-pos dd").inner_text().isdigit()
    agent = {"Authorization": f"Bearer {demo_server.token('agent', site='demo', counter='4')}"}
    got = httpx.get(f"{demo_server.base}/v1/tickets/{t['id']}", headers=agent).json()
    assert (got["service"], got["status"], got["transferred_from"]) == (
        "lab", "transferred", "internal")
    # Counter 4 (the lab) lists it and calls it like anyone there.
    lab = context.new_page()
    lab.goto(demo_server.page_url("counter:4", lang="en"))
    lab.locator(f".q-item:has-text('{t['number']}')").wait_for(timeout=WAIT_MS)
    called = demo_server.counter("4", "call", {"ticket": t["id"]})
    assert called["status"] == "called"
    phone.locator("#status", has_text="your turn").wait_for(timeout=WAIT_MS)
    demo_server.counter("4", "complete")


def test_a_cancelled_ticket_says_who_cancelled_it(browser: Any,
                                                  demo_server: DemoServer) -> None:
    with english(browser) as context:
        _cancel(context, demo_server)


def _cancel(context: Any, demo_server: DemoServer) -> None:
    mine, staff, late = (demo_server.take("paediatrics") for _ in range(3))
    pages = {k: _phone(context, demo_server, t) for k, t in
             (("mine", mine), ("staff", staff), ("late", late))}
    # The holder cancels from the page itself.
    pages["mine"].locator("#cancel-btn").click()
    pages["mine"].locator("#cancel-yes").click()
    pages["mine"].locator("#status", has_text="You cancelled this ticket.").wait_for(
        timeout=WAIT_MS)
    demo_server.post(f"/v1/tickets/{staff['id']}/cancel",
                     demo_server.token("agent", site="demo", counter="3"))
    pages["staff"].locator("#status", has_text="Staff cancelled this ticket.").wait_for(
        timeout=WAIT_MS)
    day = demo_server.post("/v1/sites/demo/close-day", demo_server.token("admin"))
    # The close also closed the counters left open; the next morning's agents open them.
    assert day["counters_closed"]
    for c in day["counters_closed"]:
        demo_server.post(f"/v1/sites/demo/counters/{c}/open",
                         demo_server.token("agent", site="demo", counter=c))
    pages["late"].locator("#status", has_text="The service has closed for the day").wait_for(
        timeout=WAIT_MS)
    # A page opened afterwards (from the SMS link, say) says the same, in Chinese too.
    zh = context.browser.new_context(locale="zh-CN")
    try:
        again = zh.new_page()
        again.goto(demo_server.base + late["tracker"] + "&lang=zh")
        again.locator("#status", has_text="今日服务已结束").wait_for(timeout=WAIT_MS)
    finally:
        zh.close()


def test_reception_finds_a_ticket_by_number_and_moves_or_cancels_it(
        browser: Any, demo_server: DemoServer) -> None:
    """Counter 4 (the lab) does not list internal medicine's queue: the agent types the
    number the patient gives, moves that ticket to the lab, and cancels another one."""
    with english(browser) as context:
        wrong, gone = demo_server.take("internal"), demo_server.take("internal")
        console = context.new_page()
        console.goto(demo_server.page_url("counter:4", lang="en"))
        console.locator("#find-number").fill(wrong["number"].lower())
        console.locator("#find-number").press("Enter")  # N typed here calls nobody
        card = console.locator(f".found-card:has-text('{wrong['number']}')")
        card.wait_for(timeout=WAIT_MS)
        assert "Internal medicine" in card.inner_text() and "place" in card.inner_text()
        card.get_by_role("button", name="Transfer").click()
        console.locator("#transfer-options button", has_text="Laboratory").click()
        console.locator(".toast", has_text=f"{wrong['number']} moved to Laboratory").wait_for(
            timeout=WAIT_MS)
        card.locator("strong", has_text="Laboratory").wait_for(timeout=WAIT_MS)
        # Now the lab's own: in this counter's list, and callable from the card.
        console.locator(f".q-item:has-text('{wrong['number']}')").wait_for(timeout=WAIT_MS)
        console.locator("#find-number").fill(gone["number"])
        console.locator("#find-go").click()
        card = console.locator(f".found-card:has-text('{gone['number']}')")
        card.get_by_role("button", name="Cancel ticket").click()
        console.locator("#drop-dialog[open]").wait_for(timeout=WAIT_MS)
        console.locator("#drop-yes").click()
        console.locator(".toast", has_text=f"{gone['number']} cancelled").wait_for(
            timeout=WAIT_MS)
        console.locator("#found", has_text=f"No open ticket {gone['number']}").wait_for(
            timeout=WAIT_MS)
        token = demo_server.token("agent", site="demo", counter="4")
        got = httpx.get(f"{demo_server.base}/v1/tickets/{gone['id']}",
                        headers={"Authorization": f"Bearer {token}"}).json()
        assert (got["status"], got["cancel_reason"]) == ("cancelled", "by_staff")
        # The card is live: another counter calling the ticket shows at once.
        other = demo_server.take("internal")
        console.locator("#find-number").fill(other["number"])
        console.locator("#find-number").press("Enter")
        card = console.locator(f".found-card:has-text('{other['number']}')")
        card.wait_for(timeout=WAIT_MS)
        demo_server.counter("1", "call", {"ticket": other["id"]})
        card.locator(".muted", has_text="Calling · at Room 1").wait_for(timeout=WAIT_MS)
        demo_server.counter("1", "complete")
        console.locator("#found", has_text=f"No open ticket {other['number']}").wait_for(
            timeout=WAIT_MS)
        nobody = console.locator("#find-number")
        nobody.fill("Z999")
        nobody.press("Enter")
        console.locator("#found", has_text="No open ticket Z999 here.").wait_for(
            timeout=WAIT_MS)


def test_a_window_issues_a_ticket_for_someone(browser: Any, demo_server: DemoServer) -> None:
    """An elderly patient at the lab's window: the agent issues an internal-medicine ticket
    in the priority class with an SMS number; one ticket even if Issue is clicked twice; the
    slip shows the number and a QR code of the tracker."""
    with english(browser) as context:
        console = context.new_page()
        console.goto(demo_server.page_url("counter:4", lang="en"))
        console.locator("#issue-open").click()
        console.locator("#issue-dialog[open]").wait_for(timeout=WAIT_MS)
        # The counter's own service is chosen first; the site's classes are offered.
        assert console.locator("#issue-services [aria-pressed='true']").inner_text().endswith(
            "Laboratory")
        wait_js(console, "document.querySelector('#issue-class').options.length > 1")
        console.locator("#issue-services button", has_text="Internal medicine").click()
        console.locator("#issue-class").select_option("priority")
        console.locator("#issue-name").fill("王秀英")
        console.locator("#issue-phone").fill("+8613800000000")
        console.locator("#issue-go").dblclick()
        console.locator("#issued:not([hidden])").wait_for(timeout=WAIT_MS)
        number = console.locator("#issued-number").inner_text()
        assert number.startswith("A")
        assert console.locator("#issued-service").inner_text() == "Internal medicine"
        wait_js(console, "document.getElementById('issued-qr').naturalWidth > 0")
        token = demo_server.token("agent", site="demo", counter="4")
        found = httpx.get(f"{demo_server.base}/v1/sites/demo/tickets",
                          params={"number": number},
                          headers={"Authorization": f"Bearer {token}"}).json()["tickets"]
        assert len(found) == 1
        assert (found[0]["channel"], found[0]["priority"], found[0]["customer"]) == (
            "window", "priority", "王秀英")
        # Issued twice? The second click replayed the first (same Idempotency-Key).
        queue = httpx.get(f"{demo_server.base}/v1/sites/demo/services/internal/queue",
                          headers={"Authorization": f"Bearer {token}"}).json()
        assert [t["customer"] for t in queue["tickets"]].count("王秀英") == 1
        console.locator("#issued-done").click()
        console.locator("#issue-dialog").wait_for(state="hidden", timeout=WAIT_MS)
        # The next ticket is a new one (a new key), with the form cleared.
        console.locator("#issue-open").click()
        assert console.locator("#issue-name").input_value() == ""
        console.locator("#issue-go").click()
        console.locator("#issued:not([hidden])").wait_for(timeout=WAIT_MS)
        assert console.locator("#issued-number").inner_text() != number


def test_console_forms_keep_focus_and_start_fresh(browser: Any,
                                                  demo_server: DemoServer) -> None:
    """Keyboard users: choosing a service in the New-ticket form keeps focus on it; the found
    ticket's card keeps focus on its button while the ticket moves up. And each new form
    starts on the default class: an emergency chosen for one person is not the next one's."""
    with english(browser) as context:
        console = context.new_page()
        console.goto(demo_server.page_url("counter:4", lang="en"))
        console.locator("#issue-open").click()
        wait_js(console, "document.querySelector('#issue-class').options.length > 1")
        pharmacy = console.locator("#issue-services button", has_text="Pharmacy")
        pharmacy.focus()
        console.keyboard.press("Space")
        assert pharmacy.get_attribute("aria-pressed") == "true"
        assert console.evaluate("document.activeElement.dataset.service") == "pharmacy"
        console.locator("#issue-class").select_option("emergency")
        console.locator("#issue-go").click()
        console.locator("#issued:not([hidden])").wait_for(timeout=WAIT_MS)
        console.locator("#issued-done").click()
        console.locator("#issue-open").click()
        assert console.locator("#issue-class").input_value() == "walk_in"
        assert console.locator("#issue-services [aria-pressed='true']").inner_text().endswith(
            "Laboratory")
        console.locator("#issue-cancel").click()

        ahead, mine = demo_server.take("cashier"), demo_server.take("cashier")
        console.locator("#find-number").fill(mine["number"])
        console.locator("#find-number").press("Enter")
        card = console.locator(f".found-card:has-text('{mine['number']}')")
        card.locator(".found-status", has_text="place 2").wait_for(timeout=WAIT_MS)
        card.get_by_role("button", name="Transfer").focus()
        demo_server.post(f"/v1/tickets/{ahead['id']}/cancel", ahead["token"])
        card.locator(".found-status", has_text="place 1").wait_for(timeout=WAIT_MS)
        assert console.evaluate("document.activeElement.dataset.act") == "transfer"
