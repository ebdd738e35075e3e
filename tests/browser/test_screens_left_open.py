# ruff: noqa: E501  (the JavaScript under test is embedded; its lines follow JS, not PEP 8)
"""Screens left open for days keep only what they show (loadtest/screens_soak.py measures
the heap, DOM and listeners over hours; these are the leaks it found, each held here).

The enterprise dashboard (/org/{org}) kept every job it had ever placed on its map (job id →
position) and a point of every technician's way to every job, for as long as it was open:
it now keeps them only for the jobs in its view, and at most TRAIL_PER_JOB points a job.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import wait_js
from tests.browser.dispatch_support import ORG, DispatchDemo

pytestmark = pytest.mark.browser
TECH = "city.tleak"
# In the far north of Puxi, away from the demo's technicians, jobs and other tests' ones.
HOME = (31.3450, 121.3050)
SITE = (31.3000, 121.3050)  # 5 km south: far enough that a few fixes never arrive
SKILL = "leak-test"  # only this technician has it
NOBODY = "leak-nobody"  # no technician has it: such jobs stay open, unassigned


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DispatchDemo]:
    d = DispatchDemo.start(tmp_path_factory.mktemp("screens"))
    d.put_tech(TECH, *HOME, skills=[SKILL], name="Leak Test")
    yield d
    d.stop()


@pytest.fixture
def dash(browser: Any, demo: DispatchDemo) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    page = ctx.new_page()
    page.goto(demo.org_url())
    wait_js(page, "window.switchboardOrg && window.switchboardOrg.view")
    yield page
    ctx.close()


def view_ids(page: Any) -> set[str]:
    return set(page.evaluate("window.switchboardOrg.view.jobs.map((j) => j.id)"))


@pytest.mark.timeout(120)
def test_dashboard_forgets_the_places_of_jobs_that_left_its_view(dash: Any, demo: DispatchDemo) -> None:
    jobs = [demo.create_job(SITE[0] + 0.001 * k, SITE[1], skills=[NOBODY], org=ORG, duration_s=600,
                            customer=f"Leak {k}")["id"] for k in range(6)]
    for jid in jobs:
        dash.locator(f"#jobs tr[data-job='{jid}']").wait_for(timeout=30000)
    wait_js(dash, f"{jobs!r}.every((id) => window.switchboardOrg.places.get(id))")
    for jid in jobs:
        demo.call("POST", f"/v1/jobs/{jid}/cancel", {})
    wait_js(dash, f"{jobs!r}.every((id) => !window.switchboardOrg.view.jobs.some((j) => j.id === id))", 30)
    kept = set(dash.evaluate("[...window.switchboardOrg.places.keys()]"))
    assert not kept & set(jobs), "the cancelled jobs' places are still kept"
    assert kept <= view_ids(dash)


@pytest.mark.timeout(180)
def test_dashboard_keeps_the_way_only_of_jobs_on_the_way(dash: Any, demo: DispatchDemo) -> None:
    demo.actions(TECH, ("online", ""))
    job = demo.create_job(*SITE, skills=[SKILL], priority=90, org=ORG, duration_s=1800, customer="Leak way")
    jid = job["id"]
    deadline = time.monotonic() + 60
    while demo.job(jid)["status"] != "offered":
        assert time.monotonic() < deadline, "the worker made no offer"
        time.sleep(0.3)
    demo.actions(TECH, ("accept", jid), ("depart", jid))
    # Three fixes 150 m apart, 5 s between on the device's clock (the server refuses faster
    # than 200 km/h): taken over the last 10 s, each sent once the dashboard showed the one
    # before (positions go out latest-wins: sent at once, the dashboard might see only the last).
    first = int(time.time() * 1000) - 10_000
    for k in range(3):
        lat = HOME[0] - 0.00135 * (k + 1)
        demo.fixes(TECH, [(lat, HOME[1])], end_ms=first + 5000 * k)
        wait_js(dash, f"window.switchboardOrg.moves.some((x) => x.job === '{jid}' && Math.abs(x.lat - {lat!r}) < 1e-6)", 30)
    moves = wait_js(dash, f"(() => {{ const m = window.switchboardOrg.moves.filter((x) => x.job === '{jid}'); return m.length >= 2 && m; }})()", 30)
    assert moves[-1]["lat"] < moves[0]["lat"]
    demo.call("POST", f"/v1/jobs/{jid}/cancel", {})
    wait_js(dash, f"!window.switchboardOrg.view.on_the_way.some((w) => w.job === '{jid}')", 30)
    left = dash.evaluate(f"window.switchboardOrg.moves.filter((x) => x.job === '{jid}').length")
    assert left == 0, f"{left} points of a job no longer on the way are still kept"
    demo.actions(TECH, ("offline", ""))


def test_trail_keeps_at_most_its_points_per_job(dash: Any) -> None:
    out = dash.evaluate("""async () => {
      const m = await import('/static/js/org-state.js');
      let moves = [];
      const way = (n) => [{ job: 'a', technician: 'T', lat: 31 + n / 1000, lon: 121 }, { job: 'b', technician: 'U', lat: 30, lon: 120 }];
      for (let n = 0; n < 3 * m.TRAIL_PER_JOB; n += 1) moves = m.trail(moves, way(n));
      const same = m.trail(moves, way(3 * m.TRAIL_PER_JOB - 1)).length;
      const a = moves.filter((x) => x.job === 'a');
      return { a: a.length, b: moves.filter((x) => x.job === 'b').length, first: a[0].lat, last: a.at(-1).lat,
               max: m.TRAIL_PER_JOB, total: moves.length, same, gone: m.trail(moves, [{ job: 'b', technician: 'U', lat: 30, lon: 120 }]).length };
    }""")
    assert out["a"] == out["max"], out  # the newest points of a job still on the way
    assert out["last"] == pytest.approx(31 + (3 * out["max"] - 1) / 1000) and out["first"] == pytest.approx(31 + (2 * out["max"]) / 1000)
    assert out["b"] == 1, "a technician standing still is one point"
    assert out["same"] == out["total"], "the same place again adds nothing"
    assert out["gone"] == 1, "a job no longer on the way takes its points with it"
