# ruff: noqa: E501  (the JavaScript under test is embedded; its lines follow JS, not PEP 8)
"""The dispatcher console (/dispatch/{region}) in a real browser against a real server (no
demo), its worker and Redis: a region with two technicians; a job assigned to one of them is
listed with its technician; a job outside every zone is listed as unassignable with its
reason in words, and Retry answers on the page; a job created while the page is open appears
without a reload (from the region's topic, not a poll); the labels are in English and in Chinese; other regions' dispatchers and
organisations are refused.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DemoServer, wait_js
from tests.browser.dispatch_support import DispatchDemo
from tests.browser.test_accessibility import SMALL_TARGETS, assert_reflows
from tests.browser.test_touch_targets import LANG_BOXES

pytestmark = pytest.mark.browser
WAIT_MS = 30000
REGION = "north"
ZONE = [[121.50, 31.19], [121.60, 31.19], [121.60, 31.27], [121.50, 31.27]]
INSIDE = (31.2240, 121.5440)
OUTSIDE = (31.3000, 121.3000)  # in no zone
TECHS = {"north.t01": ("王伟 Wang Wei", (31.2304, 121.5450)),
         "north.t02": ("李娜 Li Na", (31.2500, 121.5800))}


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DispatchDemo]:
    d = DispatchDemo(DemoServer(tmp_path_factory.mktemp("console"), demo=False).start())
    d.start_worker()
    d.call("PUT", f"/v1/regions/{REGION}", {
        "name": {"zh": "北区", "en": "North"}, "timezone": "Asia/Shanghai",
        "zones": [{"id": "pudong", "name": {"zh": "浦东", "en": "Pudong"}, "polygon": ZONE}]})
    for tid, (name, home) in TECHS.items():
        d.call("PUT", f"/v1/technicians/{tid}", {
            "name": name, "skills": ["electric"], "zones": ["pudong"],
            "home": {"lat": home[0], "lon": home[1]},
            "shift": {"start": "00:00", "end": "24:00"}})
        now = int(time.time() * 1000)
        d.call("POST", f"/v1/technicians/{tid}/actions", {"actions": [
            {"aid": f"on-{tid}-{now}", "k": "online", "t": now}]})
        d.fixes(tid, [home])
    yield d
    d.stop()


def dispatcher(desk: DispatchDemo, region: str = REGION) -> str:
    return desk.server.token("dispatcher", region=region)


def console_url(desk: DispatchDemo, lang: str) -> str:
    return f"{desk.base}/dispatch/{REGION}?token={dispatcher(desk)}&lang={lang}"


def new_job(desk: DispatchDemo, where: tuple[float, float], customer: str) -> dict[str, Any]:
    job: dict[str, Any] = desk.call("POST", f"/v1/regions/{REGION}/jobs", {
        "location": {"lat": where[0], "lon": where[1]}, "skills": ["electric"],
        "customer": customer, "address": f"{customer} road 1"}, token=dispatcher(desk))
    return job


def wait_status(desk: DispatchDemo, jid: str, *statuses: str, timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        job = desk.job(jid)
        if job["status"] in statuses:
            return job
        assert time.monotonic() < deadline, f"{jid} stayed {job['status']} ({job['reason']})"
        time.sleep(0.2)


@pytest.mark.timeout(240)
def test_console_lists_assigned_and_unassignable_jobs_and_retries(browser: Any,
                                                                   desk: DispatchDemo) -> None:
    # One job in the zone: the worker offers it; its technician accepts on its device.
    job = new_job(desk, INSIDE, "Chen")
    offered = wait_status(desk, job["id"], "offered")
    tech = offered["technician"]
    desk.actions(tech, ("accept", job["id"]))
    wait_status(desk, job["id"], "assigned")
    # One outside every zone: unassignable, reason outside_zones.
    far = new_job(desk, OUTSIDE, "Far")
    assert wait_status(desk, far["id"], "unassignable")["reason"] == "outside_zones"

    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 720})
    errors: list[str] = []
    try:
        page = ctx.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.set_default_timeout(WAIT_MS)
        page.goto(console_url(desk, "en"))
        # Its technician's name in English ("Wang Wei" of "王伟 Wang Wei"), from its topic.
        page.locator(f"[data-group='assigned'] [data-job='{job['id']}']",
                     has_text=TECHS[tech][0].split(" ", 1)[1]).wait_for()
        lost = page.locator(f"[data-group='unassignable'] [data-job='{far['id']}']")
        lost.wait_for()
        assert "outside every service zone" in lost.inner_text()
        heading = page.locator("[data-group='unassignable'] h3").inner_text()
        assert heading.startswith("Unassignable")
        # The technicians, live from their topics: the one with the job shows it.
        row = page.locator(f"[data-tech='{tech}']")
        row.wait_for()
        wait_js(page, f"document.querySelector(\"[data-tech='{tech}']\").dataset.status"
                      " !== 'offline'")
        assert "GPS" in row.inner_text()
        page.locator("#kpis [data-kpi='created']").wait_for()
        assert int(page.locator("#kpis [data-kpi='created'] .dc-kpi-n").inner_text()) >= 2
        assert page.locator("#dc-conn").inner_text().endswith("Live")

        # Retry: the API's answer is shown under the job.
        lost.get_by_role("button", name="Retry").click()
        note = page.locator(f"[data-job='{far['id']}'] .dc-result")
        note.wait_for()
        assert "Offered to everyone again" in note.inner_text()

        # A job cancelled meanwhile: Retry's refusal is shown with its code. (The region's
        # topic says "cancelled" at once; the page is kept from hearing it for this case.)
        gone = new_job(desk, OUTSIDE, "Gone")
        gone_row = page.locator(f"[data-job='{gone['id']}']")
        page.locator(f"[data-group='unassignable'] [data-job='{gone['id']}']").wait_for()
        page.evaluate("""() => { const c = window.switchboardConsole.client;
          window.heldRegion = c.handlers.get('region:north'); c.handlers.set('region:north', new Set()); }""")
        desk.call("POST", f"/v1/jobs/{gone['id']}/cancel", {}, token=dispatcher(desk))
        time.sleep(0.5)
        gone_row.get_by_role("button", name="Retry").click()
        page.evaluate("() => window.switchboardConsole.client.handlers.set('region:north', window.heldRegion)")
        page.locator(".toast.error", has_text="invalid_transition").wait_for()
        gone_row.wait_for(state="detached")

        # A job created while the page is open appears without a reload.
        later = new_job(desk, INSIDE, "Later")
        page.locator(f"[data-job='{later['id']}']").wait_for(timeout=15000)
        assert "Later" in page.locator(f"[data-job='{later['id']}']").inner_text()
        page.screenshot(path=str(desk.server.data_dir / "console-en.png"))

        # The same page in Chinese.
        page.get_by_role("button", name="中文").click()
        page.locator("[data-group='unassignable'] h3", has_text="无法派单").wait_for()
        assert "已重新向所有技师派单" in note.inner_text()
        assert lost.get_by_role("button", name="重新派单").is_visible()
        assert page.locator("#jobs-title").inner_text() == "未完成的工单"
        assert "地址不在任何服务区内" in page.locator(f"[data-job='{far['id']}']").inner_text()
    finally:
        ctx.close()
    # The browser logs the refused retry (409) it was asked to make; nothing else.
    assert [e for e in errors if "409" not in e] == [], errors


@pytest.mark.timeout(120)
def test_console_opens_in_chinese_and_refuses_other_tokens(browser: Any,
                                                           desk: DispatchDemo) -> None:
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    try:
        page = ctx.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(console_url(desk, "zh"))
        page.locator("#techs [data-tech='north.t02']").wait_for()
        assert page.locator("#techs-title").inner_text() == "技师"
        assert page.locator("#dc-sub").inner_text().startswith("调度台")
        assert page.locator("#dc-name").inner_text() == "北区"
    finally:
        ctx.close()
    # Another region's dispatcher, an organisation and no token at all are refused.
    for token in (dispatcher(desk, "south"), desk.server.token("org", org="north.acme"), ""):
        r = httpx.get(f"{desk.base}/dispatch/{REGION}?token={token}", timeout=10)
        assert r.status_code in (401, 403), r.status_code
    assert httpx.get(f"{desk.base}/dispatch/nowhere?token={desk.admin}",
                     timeout=10).status_code == 404


@pytest.mark.timeout(180)
@pytest.mark.parametrize("width", [320, 640, 1280])
def test_console_controls_are_44_px_targets_and_it_fits(browser: Any, desk: DispatchDemo,
                                                        width: int) -> None:
    """As test_touch_targets.py measures the other pages: every control (Retry, 中文 / EN)
    at least 44 × 44 CSS px, and the page fits a phone's width, a desktop at 200 % and a
    laptop."""
    if not any(j["status"] == "unassignable" for j in desk.call(
            "GET", f"/v1/regions/{REGION}/jobs")["jobs"]):
        new_job(desk, OUTSIDE, "Narrow")
    ctx = browser.new_context(locale="en-US", viewport={"width": width, "height": 800},
                              has_touch=True)
    try:
        page = ctx.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(console_url(desk, "en"))
        page.locator("[data-retry]").first.wait_for()
        page.locator("#kpis .dc-kpi").first.wait_for()
        switch = page.evaluate(LANG_BOXES)
        assert [name for name, _, _ in switch] == ["中文", "EN"], switch
        assert all(w >= 44 and h >= 44 for _, w, h in switch), switch
        assert page.evaluate(SMALL_TARGETS) == [], width
        assert_reflows(page, f"console at {width} px")
    finally:
        ctx.close()


@pytest.mark.timeout(120)
def test_console_follows_the_region_topic_without_reading_again(browser: Any,
                                                                desk: DispatchDemo) -> None:
    """A job created, and then cancelled, while the page is open shows up and goes from the
    region's topic: no HTTP read of the job list in between (the safety net reads once a
    minute; the page was opened seconds before)."""
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 720})
    try:
        page = ctx.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(console_url(desk, "en"))
        wait_js(page, "window.switchboardConsole?.events > 0")
        reads = page.evaluate("window.switchboardConsole.reads")
        fresh = new_job(desk, OUTSIDE, "Live")
        row = page.locator(f"[data-job='{fresh['id']}']")
        row.wait_for(timeout=5000)
        page.locator(f"[data-group='unassignable'] [data-job='{fresh['id']}']").wait_for(
            timeout=10000)  # the worker's pass, with its reason
        assert "outside every service zone" in row.inner_text()
        desk.call("POST", f"/v1/jobs/{fresh['id']}/cancel", {}, token=dispatcher(desk))
        row.wait_for(state="detached", timeout=5000)
        assert page.evaluate("window.switchboardConsole.reads") == reads
    finally:
        ctx.close()


@pytest.mark.timeout(180)
def test_console_says_when_it_is_offline_and_catches_up(browser: Any,
                                                        desk: DispatchDemo) -> None:
    """Offline: the banner says since when and that it retries, the chip says Offline; back
    online, a job created meanwhile is listed without a reload."""
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 720})
    try:
        page = ctx.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(console_url(desk, "en"))
        wait_js(page, "document.body.dataset.conn === 'online'")
        ctx.set_offline(True)
        banner = page.locator(".conn-banner.offline")
        banner.wait_for(state="visible")
        assert banner.inner_text().startswith("Offline since"), banner.inner_text()
        page.locator("#dc-conn", has_text="Offline").wait_for()
        meanwhile = new_job(desk, OUTSIDE, "Meanwhile")
        ctx.set_offline(False)
        wait_js(page, "document.body.dataset.conn === 'online'", timeout_s=30)
        page.locator(f"[data-job='{meanwhile['id']}']").wait_for(timeout=15000)
        assert banner.is_hidden()
    finally:
        ctx.close()


def test_console_state_groups_folds_and_ages(browser: Any, desk: DispatchDemo) -> None:
    """The pure part (dispatch-console-state.js): groups in the desk's order (unassignable
    first, oldest first within one), a technician folded from its topic's messages, the age
    of a fix in words' units, and the KPI tiles."""
    ctx = browser.new_context(locale="en-US")
    try:
        page = ctx.new_page()
        page.goto(console_url(desk, "en"))
        r = page.evaluate("""async () => {
          const m = await import('/static/js/dispatch-console-state.js');
          const jobs = [{ id: 'a', status: 'assigned', created_ms: 2 }, { id: 'b', status: 'unassignable', created_ms: 5 },
                        { id: 'c', status: 'unassignable', created_ms: 1 }, { id: 'd', status: 'done', created_ms: 0 }];
          let v = m.foldTech(null, { op: 'snapshot', data: { id: 't', name: 'N', status: 'available', active_job: null, position: null } });
          v = m.foldTech(v, { op: 'event', type: 'position', data: { lat: 1, lon: 2, t: 99 } });
          const moved = v.position.t;
          v = m.foldTech(v, { op: 'event', type: 'status', data: { status: 'on_break', reason: 'break' } });
          let r0 = m.foldRegion(null, { op: 'snapshot', data: { jobs: [{ id: 'a', status: 'new' }, { id: 'b', status: 'offered', eta_ms: 1 }],
            techs: [{ id: 't1', status: 'offline' }, { id: 't2', status: 'available' }], kpis: { jobs_created: 2, jobs_done: 0 } } });
          const before = r0;
          r0 = m.foldRegion(r0, { op: 'event', type: 'job', data: { job: { id: 'a', status: 'cancelled' }, change: 'job_cancelled', reason: 'x',
            techs: [{ id: 't1', status: 'available' }, { id: 't2', removed: true }], kpis: { jobs_done: 1 } } });
          r0 = m.foldRegion(r0, { op: 'event', type: 'etas', data: { etas: { b: 99 } } });
          r0 = m.foldRegion(r0, { op: 'event', type: 'job', data: { job: { id: 'c', status: 'unassignable', reason: 'skills' } } });
          const region = { jobs: r0.jobs.map((j) => [j.id, j.status, j.eta_ms ?? null]), techs: [...r0.techs.values()].map((x) => [x.id, x.status]),
                           kpis: r0.kpis, untouched: before.jobs.length + before.techs.size };
          return { region, groups: m.groupJobs(jobs).map(([s, l]) => [s, l.map((j) => j.id)]), moved, status: v.status,
                   removed: m.foldTech(v, { op: 'event', type: 'removed', data: { tech: 't' } }),
                   ages: [m.gpsAge(null, 0), m.gpsAge(0, 30000), m.gpsAge(0, 600000), m.gpsAge(0, 7200000)],
                   tiles: m.kpiTiles({ jobs_created: 3, dispatch_response_mean_s: 30, on_time_rate: 0.975 }, (n) => `${n}m`)
                     .map(([id, , text]) => [id, text]) };
        }""")
    finally:
        ctx.close()
    assert r["groups"] == [["unassignable", ["c", "b"]], ["assigned", ["a"]]]
    # The region topic folded: an ended job leaves, ETAs move, technicians and tiles merge,
    # and the previous state is not changed.
    assert r["region"] == {"jobs": [["b", "offered", 99], ["c", "unassignable", None]],
                           "techs": [["t1", "available"]],
                           "kpis": {"jobs_created": 2, "jobs_done": 1}, "untouched": 4}
    assert (r["moved"], r["status"], r["removed"]) == (99, "on_break", None)
    assert r["ages"] == [["dc_gps_never", 0], ["dc_gps_age_s", 30], ["dc_gps_age_m", 10],
                         ["dc_gps_age_h", 2]]
    assert dict(r["tiles"]) == {"created": "3", "done": "0", "response": "1m",
                                "on_time": "98 %", "util": "—", "empty": "—", "km": "0.0"}
