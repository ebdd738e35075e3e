"""The enterprise dashboard's "today" line: the organisation's KPIs for the region's local
day (GET /v1/orgs/{org}/kpis), read when the page opens and again when one of its jobs ends;
in English and Chinese. Real browser, server and Redis (no worker: nothing is planned)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import wait_js
from tests.browser.dispatch_support import ORG, DispatchDemo

pytestmark = pytest.mark.browser
SITE = (31.3290, 121.3260)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DispatchDemo]:
    d = DispatchDemo.start(tmp_path_factory.mktemp("dispatch"), worker=False)
    yield d
    d.stop()


def _line(page: Any) -> str:
    return str(page.locator("#kpi-today").inner_text())


@pytest.mark.timeout(120)
def test_the_dashboard_shows_today(browser: Any, demo: DispatchDemo) -> None:
    job = demo.create_job(*SITE, org=ORG, customer="Wang")
    k = demo.call("GET", f"/v1/orgs/{ORG}/kpis")
    assert k["kept"] is True and k["jobs_created"] >= 1
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(demo.org_url(lang="en"))
        wait_js(page, "document.getElementById('kpi-today').textContent.startsWith('Today:')")
        assert re.search(rf"\b{k['jobs_created']} ordered · {k['jobs_done']} done\b", _line(page))
        # A job that ends reads today's figures again (no waiting for the minute).
        demo.call("POST", f"/v1/jobs/{job['id']}/cancel", {"reason": "test"})
        more = demo.create_job(*SITE, org=ORG, customer="Li")
        demo.call("POST", f"/v1/jobs/{more['id']}/cancel", {"reason": "test"})
        n = demo.call("GET", f"/v1/orgs/{ORG}/kpis")["jobs_created"]
        wait_js(page, f"document.getElementById('kpi-today').textContent.includes('{n} ordered')")
        page.locator("#lang button", has_text="中文").click()
        wait_js(page, "document.getElementById('kpi-today').textContent.startsWith('今日')")
        assert f"下单 {n}" in _line(page)
    finally:
        ctx.close()
