# ruff: noqa: E501  (the JavaScript under test is embedded; its lines follow JS, not PEP 8)
"""A field-service operator's review of the dispatch pages: the technician device, the
customer's tracking page and the enterprise dashboard, in Chromium."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import wait_js
from tests.browser.dispatch_support import DispatchDemo
from tests.browser.test_dispatch_pages import run, unit

pytestmark = pytest.mark.browser
__all__ = ["unit"]  # the fixture, imported for pytest


def test_a_live_offer_is_not_listed_as_planned_work(unit: Any) -> None:
    # A recompute publishes the plan (the technician's new route, the job still `new`) and
    # then the offer (a compact frame). The device listed the offered job under "later
    # today" with a time, as if accepted, beside its offer card.
    r = run(unit, """
      const { emptyTech, reduce, laterStops, nextStop, openOffers } = m.tech_state;
      const stop = (job, status) => ({ job, status, eta_ms: 1000, lat: 31.2, lon: 121.4, window: null, duration_s: 1800, skills: [], priority: 0, customer: null, address: null });
      const view = { id: 't', name: 'N', status: 'available', active_job: null, position: null, route: [stop('j0', 'assigned')], offers: [] };
      let s = reduce(emptyTech(), { op: 'snapshot', epoch: 'e', offset: '1-0', data: view });
      s = reduce(s, { op: 'event', epoch: 'e', offset: '2-0', type: 'route_changed', data: { ...view, reason: 'job', route: [stop('j0', 'assigned'), stop('j1', 'new')] } });
      s = reduce(s, { op: 'event', epoch: 'e', offset: '3-0', type: 'offer', data: { j: 'j1', la: 31.2, lo: 121.4, d: 1800, dl: 9000, n: 1, p: 0 } });
      return { offers: openOffers(s, 0).map((o) => o.job), next: nextStop(s).job,
               later: laterStops(s).filter((x) => x.status !== 'offered').map((x) => x.job),
               status: s.view.route.map((x) => x.status) };
    """)
    assert r["offers"] == ["j1"] and r["next"] == "j0"
    assert r["later"] == []
    assert r["status"] == ["assigned", "offered"]


def test_dashboard_job_refs_tell_jobs_apart(unit: Any) -> None:
    # 51 jobs of a hospital's batch: two rows read "E6F9" (4 hex digits collide in ~2 % of
    # such batches, and in a 1,000-job batch always). References grow where they must.
    r = run(unit, """
      const refs = m.org_state.jobRefs(['n.j-e6f9a1000000', 'n.j-e6f9b2000000', 'n.j-038a00000000', 'n.j-e6f9a1ff0000', 'n.j-038a00000000']);
      const many = m.org_state.jobRefs(Array.from({ length: 1000 }, (_, i) => `n.j-${(i * 2654435761 % 2 ** 32).toString(16).padStart(8, '0')}0000`));
      return { refs: Object.fromEntries(refs), distinct: new Set(many.values()).size, size: many.size, longest: Math.max(...[...many.values()].map((x) => x.length)) };
    """)
    assert r["refs"] == {"n.j-e6f9a1000000": "E6F9A100", "n.j-e6f9b2000000": "E6F9B2",
                         "n.j-038a00000000": "038A", "n.j-e6f9a1ff0000": "E6F9A1FF"}
    assert r["distinct"] == r["size"] == 1000 and r["longest"] <= 8


def test_a_label_near_the_map_edge_stays_inside(unit: Any) -> None:
    # The tracking page on a phone: the customer's pin sits near the map's right edge and
    # its label read "Your addre", the rest cut off by the map's edge.
    r = run(unit, """
      const div = document.createElement('div');
      div.id = 'm-edge';
      div.style.width = '340px';
      div.style.height = '270px';
      document.body.append(div);
      const map = new m.map.MapView(div, { label: 'edge' });
      map.update({ jobs: [{ id: 'home', lat: 31.2330, lon: 121.4800, kind: 'next', label: 'Your address' }],
                   techs: [{ id: 't', lat: 31.2200, lon: 121.4600, label: 'Alice Wonderland-Smith' }] });
      const svg = div.querySelector('svg').getBoundingClientRect();
      const out = [...div.querySelectorAll('.m-label')].map((t) => { const b = t.getBoundingClientRect(); return [t.textContent, b.left - svg.left, svg.right - b.right]; });
      div.remove();
      return out;
    """)
    assert len(r) == 2
    for text, left, right in r:
        assert left >= 0 and right >= 0, (text, left, right)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DispatchDemo]:
    d = DispatchDemo.start(tmp_path_factory.mktemp("field-review"))
    yield d
    d.stop()


@pytest.mark.timeout(180)
def test_the_tracking_page_speaks_the_customers_words(browser: Any, demo: DispatchDemo) -> None:
    # A job nobody can take yet: the headline said so, and the details below read
    # "Status: Unassignable" (无法派单), and "Offered" while a technician was being asked.
    job = demo.create_job(31.50, 121.00, customer="Field review")  # outside both zones
    jid = job["id"]
    deadline = time.monotonic() + 60
    while demo.job(jid)["status"] != "unassignable":
        assert time.monotonic() < deadline, demo.job(jid)
        time.sleep(0.2)
    for locale, booked, jargon in (("en-US", "Booked", "Unassignable"), ("zh-CN", "已下单", "无法派单")):
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale=locale)
        try:
            page = ctx.new_page()
            page.goto(demo.track_url(job))
            wait_js(page, "window.switchboardTrack && window.switchboardTrack.job")
            page.wait_for_selector("body[data-status='unassignable']", timeout=30000)
            details = page.locator("#details").inner_text()
            assert booked in details and jargon not in details, details
            assert page.locator("#reason").inner_text()  # why, in words
        finally:
            ctx.close()


@contextlib.contextmanager
def on_shift(browser: Any, demo: DispatchDemo, tech: str, width: int = 390,
             locale: str = "en-US") -> Iterator[Any]:
    """A technician with a skill of its own (``skill-<id>``: its offers are certain to be
    the test's) on its device page, shift started."""
    demo.put_tech(tech, 31.3400, 121.3200, skills=[f"skill-{tech.split('.')[1]}"],
                  name="孙丽 Sun Li")
    ctx = browser.new_context(viewport={"width": width, "height": 800}, locale=locale)
    try:
        device = ctx.new_page()
        device.goto(demo.tech_url(tech))
        wait_js(device, "window.switchboardTech && window.switchboardTech.state.ready")
        device.locator(".act-online").click()
        device.wait_for_selector("body[data-status='available']", timeout=30000)
        yield device
    finally:
        ctx.close()


def offer(demo: DispatchDemo, device: Any, tech: str, **fields: Any) -> tuple[Any, dict[str, Any]]:
    """A job only ``tech`` can do; its offer card once the worker has made the offer."""
    job = demo.create_job(31.3290, 121.3260, skills=[f"skill-{tech.split('.')[1]}"], **fields)
    card = device.locator(f"[data-offer='{job['id']}']")
    card.wait_for(timeout=60000)
    return card, job


@contextlib.contextmanager
def accepted_job(browser: Any, demo: DispatchDemo, tech: str, customer: str
                 ) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A technician on shift with an accepted job."""
    with on_shift(browser, demo, tech) as device:
        card, job = offer(demo, device, tech, priority=90, customer=customer)
        card.locator(".offer-accept").click()
        device.locator(".act-depart").wait_for(timeout=30000)
        assert customer in device.locator("#next").inner_text()
        yield device, job


@pytest.mark.timeout(240)
def test_the_device_says_when_an_accepted_job_is_cancelled(browser: Any, demo: DispatchDemo) -> None:
    # The dispatcher cancels the job the technician has accepted (the customer called):
    # the card just turned into the next job, or "no job", with nothing to say why; a
    # technician glancing at the phone on the way kept driving there.
    with accepted_job(browser, demo, "city.tfr", "Mrs Gu") as (device, job):
        demo.call("POST", f"/v1/jobs/{job['id']}/cancel", {"reason": "customer called"})
        said = wait_js(device, "(() => { const t = document.querySelector('.toast'); return t && !t.hidden && t.textContent.includes('cancelled') && t.textContent; })()", 20)
        assert "Mrs Gu" in said, said
        assert "Mrs Gu" not in device.locator("#next").inner_text()


@pytest.mark.timeout(240)
def test_the_device_does_not_cry_wolf_when_a_job_is_done(browser: Any, demo: DispatchDemo) -> None:
    # Completing its own job is not news to announce as lost work.
    with accepted_job(browser, demo, "city.tfs", "Mr Ma") as (device, _job):
        for act in ("depart", "arrive", "complete"):
            device.locator(f".act-{act}").click(timeout=30000)
        wait_js(device, "document.querySelector('.toast').textContent.includes('Job completed')", 20)
        device.wait_for_timeout(1500)
        said = device.locator(".toast").inner_text()
        assert "taken back" not in said and "cancelled" not in said, said


@pytest.mark.timeout(240)
def test_a_long_customer_name_and_address_stay_on_a_small_phone(browser: Any, demo: DispatchDemo) -> None:
    # A 360 px phone, an offer for "Mr Ouyang-Featherstonehaugh" with a long address: the
    # name ran past the card's edge and the page scrolled sideways.
    with on_shift(browser, demo, "city.tfl", width=360, locale="zh-CN") as device:
        card, _job = offer(demo, device, "city.tfl", customer="欧阳先生 Mr Ouyang-Featherstonehaugh",
                           address="西湖区文三路 477号 华星科技大厦 12楼 1208室（请从北门进入，电梯到 12 楼右转）")
        widths = device.evaluate("[document.documentElement.scrollWidth, window.innerWidth, Math.max(...[...document.querySelectorAll('.offer-card, .offer-card dd')].map((e) => e.getBoundingClientRect().right))]")
        assert widths[0] <= widths[1] and widths[2] <= widths[1], widths
        # Accept and decline read on one line each ("接/单" broke in two).
        lines = device.evaluate("[...document.querySelectorAll('.offer-actions .btn > span')].map((e) => Math.round(e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight || '20')))")
        assert lines == [1, 1], lines
        card.locator(".offer-accept").click()
        device.locator(".act-depart").wait_for(timeout=30000)
        widths = device.evaluate("[document.documentElement.scrollWidth, window.innerWidth, Math.max(...[...document.querySelectorAll('#next *')].map((e) => e.getBoundingClientRect().right))]")
        assert widths[0] <= widths[1] and widths[2] <= widths[1], widths
