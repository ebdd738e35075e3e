"""The public booking page leaves out a service no counter serves (queueing/served.py): it
listed the laboratory's free times after its only counter stopped serving it, and every
booking of one was refused with 409 ``service_not_served``. Now the page offers only what a
counter serves and says which are not bookable, in English and Chinese; a service refused
so after the page was opened leaves the list too. Chromium against a demo server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from realtime.auth import make_token
from tests.browser.conftest import SECRET, DemoServer
from tests.browser.test_supervise_appointments import _site

pytestmark = pytest.mark.browser
WAIT_MS = 15000


def _put(server: DemoServer, doc: dict[str, Any]) -> None:
    r = httpx.put(f"{server.base}/v1/sites/demo", json=doc, timeout=10,
                  headers={"Authorization": f"Bearer {server.token('admin')}"})
    assert r.status_code == 200, r.text


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(locale="en-GB", viewport={"width": 420, "height": 900})
    p = ctx.new_page()
    p.set_default_timeout(WAIT_MS)
    yield p
    ctx.close()


def test_the_booking_page_leaves_out_a_service_no_counter_serves(
        page: Any, demo_server: DemoServer) -> None:
    before = _site(demo_server)
    doc = {**before, "counters": [
        {**c, "services": ["cashier"]} if c["id"] == "4" else c for c in before["counters"]]}
    _put(demo_server, doc)  # counter 4 was the laboratory's only one
    try:
        web = make_token(SECRET, "partner", site="demo", channels=["web"], subject="web-page")
        page.goto(f"{demo_server.base}/book/demo?token={web}&lang=en")
        services = page.locator("#services button")
        services.first.wait_for()
        assert services.all_inner_texts() == ["Internal medicine", "Paediatrics"]
        assert page.locator("#not-offered").inner_text() == (
            "Not bookable at the moment: Laboratory. Please call us.")
        page.locator("#lang button", has_text="中文").click()
        page.locator("#services button", has_text="内科").wait_for()
        assert services.all_inner_texts() == ["内科", "儿科"]
        assert page.locator("#not-offered").inner_text() == "以下暂不能预约：检验科。请致电咨询。"
    finally:
        _put(demo_server, {k: v for k, v in before.items() if k != "version"})
    # The rule itself: a refusal since the page opened leaves the list too; a site document
    # without counters (an older server) leaves nothing out for that.
    got = page.evaluate("""async () => {
      const b = await import('/static/js/book.js');
      const svc = [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'x' }];
      const res = [{ services: ['a', 'b', 'c'] }];
      const counters = [{ services: ['a', 'b'] }, { services: ['x'] }];
      const ids = (o) => [o.offered.map((s) => s.id), o.unserved.map((s) => s.id)];
      return [ids(b.offerable(svc, counters, res)),
              ids(b.offerable(svc, counters, res, new Set(['b']))),
              ids(b.offerable(svc, undefined, res))];
    }""")
    assert got == [[["a", "b"], ["c"]], [["a"], ["b", "c"]], [["a", "b", "c"], []]]
