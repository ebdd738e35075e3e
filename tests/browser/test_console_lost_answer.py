"""A counter console press whose answer is lost on the way back (the request reached the
server, the ticket was called) is sent again with the same Idempotency-Key and answered with
what it did: the clerk sees "Called A001", exactly one patient is called, and a lost recall
is one recall. Before, the console said "Network error" and a press again was
``counter_busy``; a retried recall was a second call towards the recall limit.

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
OPS = "**/v1/sites/demo/counters/1/*"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """A demo server of this module's own: the tests count the tickets in its queues."""
    s = DemoServer(tmp_path_factory.mktemp("console-lost")).start()
    yield s
    s.stop()


@pytest.fixture
def console(browser: Any, server: DemoServer) -> Iterator[Any]:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(server.page_url("counter:1", lang="en"))
    wait_js(page, "window.switchboardCounter && window.switchboardCounter.client.state.status"
                  " === 'online' && window.switchboardCounter.counter.state")
    yield page
    ctx.close()


def get(server: DemoServer, path: str) -> Any:
    r = httpx.get(server.base + path, timeout=10,
                  headers={"Authorization": f"Bearer {server.token('admin')}"})
    assert r.status_code == 200, r.text
    return r.json()


def waiting(server: DemoServer) -> list[str]:
    return [t["number"] for t in get(server, "/v1/sites/demo/services/internal/queue")["tickets"]]


def at_counters(server: DemoServer) -> list[str]:
    return [c["ticket"] for c in get(server, "/v1/sites/demo")["counters"] if c.get("ticket")]


def lose_first_answer(page: Any) -> list[dict[str, Any]]:
    """Every counter operation reaches the server; the first one's answer never comes back.
    What was sent and answered, in order: {op, key, status, replayed, lost}."""
    seen: list[dict[str, Any]] = []

    def handle(route: Any) -> None:
        answer = route.fetch()
        lost = not seen
        seen.append({"op": route.request.url.rsplit("/", 1)[1],
                     "key": route.request.headers.get("idempotency-key"),
                     "status": answer.status, "lost": lost,
                     "replayed": answer.headers.get("idempotent-replayed") == "true"})
        if lost:
            route.abort("connectionreset")
        else:
            route.fulfill(response=answer)

    page.route(OPS, handle)
    return seen


def free_counter(server: DemoServer) -> None:
    """Counter 1 with no current ticket (whatever a test before left there)."""
    agent = server.token("agent", site="demo", counter="1")
    httpx.post(f"{server.base}/v1/sites/demo/counters/1/complete", timeout=10,
               headers={"Authorization": f"Bearer {agent}"})


def button(page: Any, op: str) -> Any:
    return page.locator(f"#actions [data-op='{op}']")


def test_a_lost_call_next_answer_is_retried_and_calls_one_patient(
        console: Any, server: DemoServer) -> None:
    free_counter(server)
    a, b = server.take("internal"), server.take("internal")
    wait_js(console, "document.querySelector(\"#actions [data-op='call-next']\") && "
                     "!document.querySelector(\"#actions [data-op='call-next']\").disabled")
    seen = lose_first_answer(console)
    button(console, "call-next").click()
    console.locator(".toast", has_text=f"Called {a['number']}").wait_for()
    assert [(s["op"], s["lost"], s["status"], s["replayed"]) for s in seen] == [
        ("call-next", True, 200, False), ("call-next", False, 200, True)]
    assert seen[0]["key"] and seen[0]["key"] == seen[1]["key"]
    assert console.evaluate("window.switchboardCounter.counter.ticket.id") == a["id"]
    assert at_counters(server) == [a["id"]]
    assert waiting(server) == [b["number"]]
    assert console.locator(".toast", has_text="Network error").count() == 0
    # The next press is another press: a key of its own.
    console.unroute(OPS)
    keys: list[str] = []
    console.route(OPS, lambda route: (keys.append(route.request.headers["idempotency-key"]),
                                      route.continue_()))
    button(console, "recall").click()
    wait_js(console, "window.switchboardCounter.counter.ticket.calls === 2")
    assert len(keys) == 1 and keys[0] != seen[0]["key"]
    console.unroute(OPS)
    server.counter("1", "complete")


def test_a_lost_recall_answer_is_one_recall(console: Any, server: DemoServer) -> None:
    free_counter(server)
    server.take("internal")
    t = server.counter("1", "call-next")  # the longest waiting (one of the test before, maybe)
    console.locator("#current", has_text=t["number"]).wait_for()
    seen = lose_first_answer(console)
    button(console, "recall").click()
    wait_js(console, "window.switchboardCounter.counter.ticket.calls === 2 && "
                     "!document.querySelector(\"#actions [data-op='recall']\").disabled")
    assert [(s["op"], s["replayed"]) for s in seen] == [("recall", False), ("recall", True)]
    agent = server.token("agent", site="demo", counter="1")
    r = httpx.get(f"{server.base}/v1/tickets/{t['id']}", timeout=10,
                  headers={"Authorization": f"Bearer {agent}"})
    assert (r.json()["status"], r.json()["calls"]) == ("called", 2)
    console.unroute(OPS)
    server.counter("1", "complete")


def test_a_lost_transfer_answer_from_the_queue_list_is_one_move(
        console: Any, server: DemoServer) -> None:
    """Reception moves a waiting patient to the laboratory; the answer is lost: the press is
    sent again with its key and answered with the move (before: "This ticket cannot do
    that now", a 409, for a move that was made)."""
    t = server.take("internal")
    item = console.locator(".q-item", has_text=t["number"])
    item.get_by_role("button", name=f"Transfer {t['number']}").click()
    seen: list[dict[str, Any]] = []

    def handle(route: Any) -> None:
        answer = route.fetch()
        seen.append({"key": route.request.headers.get("idempotency-key"),
                     "status": answer.status,
                     "replayed": answer.headers.get("idempotent-replayed") == "true"})
        if len(seen) == 1:
            route.abort("connectionreset")
        else:
            route.fulfill(response=answer)

    moves = f"**/v1/tickets/{t['id']}/transfer"
    console.route(moves, handle)
    console.locator("#transfer-options button", has_text="Laboratory").click()
    console.locator(".toast", has_text=f"{t['number']} moved to Laboratory").wait_for()
    assert [(s["status"], s["replayed"]) for s in seen] == [(200, False), (200, True)]
    assert seen[0]["key"] and seen[0]["key"] == seen[1]["key"]
    assert console.locator(".toast.error").count() == 0
    assert t["number"] not in waiting(server)
    lab = [x["id"] for x in get(server, "/v1/sites/demo/services/lab/queue")["tickets"]]
    assert lab.count(t["id"]) == 1
    console.unroute(moves)
