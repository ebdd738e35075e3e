"""The technician's device, from the WCAG 2.2 AA audit of the staff pages:

- the GPS line ticks with every fix (twice a second while driving); it was a live region, so
  a screen reader read out every fix. Only what matters is said now (4.1.3, 2.2.2);
- a phone zoomed to 200 % (or a 1280 px screen at 400 %) is 320 px wide or less, which hid
  the job's window, time on site, skills, address, the route and the map as on a wristband;
  a wristband is now said so by its link (1.4.10);
- the GPS line on the small screens' dark page and the Accept button's key read 3.2-3.8:1
  (1.4.3);
- the single-key shortcuts could not be turned off (2.1.4).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import DemoServer, wait_js
from tests.browser.dispatch_support import DispatchDemo
from tests.browser.test_dispatch_field_review import offer

pytestmark = pytest.mark.browser

# What every live region of the page says, as it changes.
OBSERVE = """() => {
  window.__said = [];
  const live = [...document.querySelectorAll('[aria-live],[role=status],[role=alert]')]
    .filter((e) => e.getAttribute('aria-live') !== 'off');
  const mo = new MutationObserver(() => {
    for (const e of live) {
      const text = e.textContent.trim();
      if (e.__last !== text) { e.__last = text; window.__said.push([e.id || e.className, text]); }
    }
  });
  for (const e of live) {
    e.__last = e.textContent.trim();
    mo.observe(e, { subtree: true, childList: true, characterData: true });
  }
  window.__gpsText = [];
  const gps = document.getElementById('gps');
  new MutationObserver(() => window.__gpsText.push(gps.textContent))
    .observe(gps, { subtree: true, childList: true, characterData: true });
}"""

# The contrast of an element's text on what is behind it (its own background, blended over
# its ancestors' down to the first opaque one).
CONTRAST = """(sel) => {
  const el = document.querySelector(sel);
  const rgba = (c) => {
    const m = c.match(/[\\d.]+/g).map(Number);
    return [m[0], m[1], m[2], m[3] ?? 1];
  };
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) layers.push(c);
    if (c[3] >= 1) break;
  }
  let bg = [255, 255, 255];
  for (const [r, g, b, a] of layers.reverse()) {
    bg = [r * a + bg[0] * (1 - a), g * a + bg[1] * (1 - a), b * a + bg[2] * (1 - a)];
  }
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const fg = rgba(getComputedStyle(el).color);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DispatchDemo]:
    d = DispatchDemo(DemoServer(tmp_path_factory.mktemp("a11y-tech")).start())
    d.start_worker()
    yield d
    d.stop()


@contextlib.contextmanager
def device(browser: Any, demo: DispatchDemo, tech: str, *, width: int = 390, height: int = 800,
           query: str = "", online: bool = True) -> Iterator[Any]:
    """``tech`` (a skill of its own, so that its offers are the test's) on its device page."""
    demo.put_tech(tech, 31.3400, 121.3200, skills=[f"skill-{tech.split('.')[1]}"], name="Sun Li")
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
    try:
        page = ctx.new_page()
        page.clock.install()  # flowing as the real one, until a test moves it on
        page.goto(demo.tech_url(tech, lang="en") + query)
        wait_js(page, "window.switchboardTech && window.switchboardTech.state.ready")
        if online:
            page.locator(".act-online").click()
            page.wait_for_selector("body[data-status='available']", timeout=30000)
        yield page
    finally:
        ctx.close()


def full_job() -> dict[str, Any]:
    """A job with all its details: a window, a time on site, a customer and address."""
    now = int(time.time() * 1000)
    return {"customer": "Mrs Qian", "address": "88 Long Road", "duration_s": 2700,
            "window": {"start_ms": now + 1800_000, "end_ms": now + 9000_000}}


@pytest.mark.timeout(240)
def test_the_gps_line_is_seen_and_only_its_changes_that_matter_are_said(
        browser: Any, demo: DispatchDemo) -> None:
    with device(browser, demo, "city.tg1") as page:
        card, _job = offer(demo, page, "city.tg1")
        card.locator(".offer-accept").click()
        page.locator(".act-depart").click(timeout=30000)
        wait_js(page, "document.querySelector('#next .chip.js-en_route')", 30)
        gps = page.locator("#gps")
        assert gps.get_attribute("role") is None and gps.get_attribute("aria-live") is None
        page.evaluate(OBSERVE)
        page.clock.run_for(6000)  # six fixes of the simulated drive (a 1 s page timer)
        ticks = page.evaluate("window.__gpsText.length")
        said = [s for s in page.evaluate("window.__said") if s[0] in ("gps", "gps-say")]
        # Driving: a fix a second, the line follows them; nothing of it is read out.
        assert ticks >= 4, ticks
        assert said == [], said
        # Actions held while offline are said once, and so is their going.
        page.context.set_offline(True)
        page.locator(".act-arrive").click(timeout=30000)
        wait_js(page, "document.getElementById('gps-say').textContent.includes('waiting to send')",
                20)
        page.context.set_offline(False)
        wait_js(page, "document.getElementById('gps-say').textContent === 'All sent'", 60)
        said = [s for s in page.evaluate("window.__said") if s[0] in ("gps", "gps-say")]
        assert [s[1] for s in said] == ["1 waiting to send", "All sent"], said


@pytest.mark.timeout(240)
def test_single_key_shortcuts_can_be_turned_off_and_stay_off(browser: Any,
                                                             demo: DispatchDemo) -> None:
    with device(browser, demo, "city.tg2") as page:
        toggle = page.locator("#keys-toggle")
        assert toggle.get_attribute("aria-pressed") == "true"
        assert toggle.inner_text() == "Single-key shortcuts: on"
        toggle.click()
        assert toggle.get_attribute("aria-pressed") == "false"
        assert "Off on this device" in page.locator("#keys").inner_text()
        assert page.locator(".act-break kbd").count() == 0
        page.locator("body").press("b")  # a letter typed by speech input: nothing happens
        page.wait_for_timeout(1500)
        assert page.evaluate("document.body.dataset.status") == "available"
        assert demo.tech("city.tg2")["status"] == "available"
        page.reload()
        wait_js(page, "window.switchboardTech && window.switchboardTech.state.ready")
        assert page.locator("#keys-toggle").get_attribute("aria-pressed") == "false"
        page.locator("body").press("b")
        page.wait_for_timeout(1500)
        assert page.evaluate("document.body.dataset.status") == "available"
        # On again: B takes the break.
        page.locator("#keys-toggle").click()
        assert page.locator(".act-break kbd").count() == 1
        page.locator("body").press("b")
        page.wait_for_selector("body[data-status='on_break']", timeout=30000)


DETAILS = ["#next .n-win", "#next .n-dur", "#next .n-addr", "#route-title"]


@pytest.mark.timeout(300)
def test_a_zoomed_phone_keeps_the_jobs_details_a_wristband_says_so(
        browser: Any, demo: DispatchDemo) -> None:
    # 320 px: a 640 px phone at 200 %, or a 1280 px screen at 400 %.
    with device(browser, demo, "city.tg3", width=320, height=640) as page:
        card, _job = offer(demo, page, "city.tg3", **full_job())
        facts = card.locator(".offer-facts > div")
        assert facts.count() >= 4
        for i in range(facts.count()):  # every fact of the offer, within reach
            assert facts.nth(i).is_visible(), facts.nth(i).inner_text()
        text = card.locator(".offer-facts").inner_text()
        assert "88 Long Road" in text and "45 min" in text, text
        for button in (".offer-decline", ".offer-accept"):
            box = card.locator(button).bounding_box()
            assert box["y"] + box["height"] <= 640, (button, box)
        card.locator(".offer-accept").click()
        page.locator(".act-depart").wait_for(timeout=30000)
        for sel in DETAILS:
            assert page.locator(sel).is_visible(), sel
        # The GPS line on the small screen's dark page reads 4.5:1 and more.
        ratio = page.evaluate(CONTRAST, "#gps .gps-queue")
        assert ratio >= 4.5, ratio
    # A wristband, said so by its link: the one thing at a time.
    with device(browser, demo, "city.tg4", width=300, height=300,
                query="&device=wristband") as page:
        card, _job = offer(demo, page, "city.tg4", **full_job())
        assert page.evaluate("document.body.classList.contains('wristband')")
        card.locator(".offer-accept").click()
        page.locator(".act-depart").wait_for(timeout=30000)
        for sel in DETAILS:
            assert not page.locator(sel).is_visible(), sel


@pytest.mark.timeout(240)
def test_the_accept_buttons_key_reads_4_5_to_1(browser: Any, demo: DispatchDemo) -> None:
    with device(browser, demo, "city.tg5") as page:
        card, _job = offer(demo, page, "city.tg5")
        assert card.locator(".offer-accept kbd").is_visible()
        ratio = page.evaluate(CONTRAST, ".offer-card .offer-accept kbd")
        assert ratio >= 4.5, ratio
