"""The enterprise dashboard's tiles count one local day's jobs (those due that day: the window
ends then, or without a window, ordered then) by status, from GET /v1/orgs/{org}/kpis?date=:
today by default, read again as the org:{id} view changes (live, no reload), another day by
the arrows (and in the address), back to today, and rolled over at the region's midnight (the
page's clock moved there). English and Chinese. Real browser, server and Redis (no worker)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import wait_js
from tests.browser.dispatch_support import DispatchDemo

pytestmark = pytest.mark.browser
TZ = ZoneInfo("Asia/Shanghai")  # the demo region's
ORG = "city.daytiles"  # only this module's jobs
SITE = (31.3290, 121.3260)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DispatchDemo]:
    d = DispatchDemo.start(tmp_path_factory.mktemp("dispatch-daytiles"), worker=False)
    d.call("PUT", f"/v1/orgs/{ORG}", {"name": "Day tiles Ltd"})
    yield d
    d.stop()


def midnight(days: int) -> datetime:
    """The local midnight starting the day ``days`` after today."""
    d = (datetime.now(TZ) + timedelta(days=days)).date()
    return datetime(d.year, d.month, d.day, tzinfo=TZ)


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def tile(page: Any, kind: str) -> str:
    return str(page.locator(f".kpi-{kind} .o-kpi-n").inner_text())


def tiles_are(page: Any, want: dict[str, int]) -> None:
    cond = " && ".join(f"document.querySelector('.kpi-{k} .o-kpi-n')?.textContent === '{n}'"
                       for k, n in want.items())
    try:
        wait_js(page, cond, 20)
    except Exception:
        got = {k: tile(page, k) for k in want}
        raise AssertionError(f"tiles {got}, expected {want}") from None


def job(demo: DispatchDemo, end: datetime | None, customer: str) -> Any:
    fields: dict[str, Any] = {"org": ORG, "customer": customer}
    if end:
        fields["window"] = {"start_ms": ms(end - timedelta(hours=2)), "end_ms": ms(end)}
    return demo.create_job(*SITE, **fields)


@pytest.mark.timeout(180)
def test_tiles_are_one_days_jobs_live_by_the_arrows_and_at_midnight(
        browser: Any, demo: DispatchDemo) -> None:
    today, tomorrow = midnight(0).date().isoformat(), midnight(1).date().isoformat()
    late_today = midnight(1) - timedelta(minutes=1)
    a = job(demo, late_today, "Ward 1")  # due today
    job(demo, None, "Ward 2")  # no window: due today, the day it was ordered
    job(demo, midnight(1) + timedelta(hours=12), "Ward 3")  # due tomorrow
    job(demo, midnight(2) + timedelta(hours=12), "Ward 4")  # the day after
    k = demo.call("GET", f"/v1/orgs/{ORG}/kpis")
    assert (k["day"], k["due"]) == (today, {"new": 2})
    assert demo.call("GET", f"/v1/orgs/{ORG}/kpis?date={tomorrow}")["due"] == {"new": 1}

    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.clock.install()  # flowing as the real one, until the test moves it to midnight
        page.goto(f"{demo.base}/org/{ORG}?token={demo.server.token('org', org=ORG)}&lang=en")
        # Today's two, not all four the organisation has.
        tiles_are(page, {"total": 2, "open": 2, "done": 0, "way": 0})
        assert page.locator("#day-label").inner_text().startswith("Today · ")
        assert page.locator("#day-back").is_hidden()
        assert page.locator("#kpi-today").inner_text().startswith("Today: 4 ordered")

        # Live: a job of today's cancelled elsewhere leaves the open tile (no reload).
        demo.call("POST", f"/v1/jobs/{a['id']}/cancel", {"reason": "test"})
        tiles_are(page, {"total": 2, "open": 1})

        # The next day: its one job; the address says which day.
        page.locator("#day-next").click()
        tiles_are(page, {"total": 1, "open": 1})
        assert page.locator("#day-label").inner_text().startswith("Tomorrow · ")
        assert f"date={tomorrow}" in page.url
        assert page.locator("#kpi-today").inner_text() == ""  # a day ahead has no figures yet
        page.locator("#day-next").click()
        tiles_are(page, {"total": 1})
        page.locator("#day-back").click()
        tiles_are(page, {"total": 2, "open": 1})
        assert "date=" not in page.url and page.locator("#day-back").is_hidden()
        page.locator("#day-prev").click()  # yesterday: nothing due
        tiles_are(page, {"total": 0, "open": 0})
        assert page.locator("#day-label").inner_text().startswith("Yesterday · ")
        page.locator("#day-back").click()
        tiles_are(page, {"total": 2})

        # Chinese words for the same day.
        page.locator("#lang button", has_text="中文").click()
        wait_js(page, "document.getElementById('day-label').textContent.startsWith('今天')")
        assert page.locator(".kpi-total .o-kpi-label").inner_text() == "当日工单"

        # Local midnight: the tiles become the new day's (tomorrow's one job), by themselves.
        left = ms(midnight(1)) - int(page.evaluate("Date.now()")) + 2000
        page.clock.fast_forward(left)
        wait_js(page, "document.getElementById('day-label').textContent.startsWith('今天')"
                      f" && document.getElementById('day-label').dateTime === '{tomorrow}'", 20)
        tiles_are(page, {"total": 1, "open": 1})
    finally:
        ctx.close()
