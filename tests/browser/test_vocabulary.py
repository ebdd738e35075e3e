"""A site's words (its `vocabulary`, clients/web/js/vocabulary.js): a government service
centre's kiosk, counter console, public booking page and floor overview say no "doctor" or
"patient" (医生、患者、就诊、挂号 …) in English or Chinese, while a clinic's still do. A reviewer
from a government centre found clinic words on every page. Real Chromium against a demo
server whose site is switched between the two."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from realtime.auth import make_token
from tests.browser.conftest import SECRET, DemoServer, wait_js
from tests.browser.test_supervise_appointments import _site

pytestmark = pytest.mark.browser
WAIT_MS = 15000
# Clinic words. Not the priority classes' "急诊"/"复诊": those are the site's own names
# (priority_classes), not the pages' words.
CLINIC = re.compile("|".join([
    "doctor", "patient", "医生", "患者", "病人", "就诊", "诊室", "科室", "挂号", "本院", "院内",
    "候诊", "停诊", "接诊", "转科"]), re.IGNORECASE)
# In what a page shows: the demo's own names ("1号诊室", "Dr Wang") are the site's data.
SHOWN = re.compile(r"doctor|patient|医生|患者|病人|就诊|挂号", re.IGNORECASE)

# Every string of the tables that hold words of the vocabulary, as the open page's own
# modules give them (the same module instances: the boot's vocabulary is in force).
SWEEP = """async () => {
  const i = await import('/static/js/i18n.js');
  const br = await import('/static/js/booking-rules.js');
  const bs = await import('/static/js/booking-strings.js');
  const cb = await import('/static/js/counter-booking.js');
  const sa = await import('/static/js/supervise-appts.js');
  const v = await import('/static/js/vocabulary.js');
  const texts = [];
  for (const lang of ['en', 'zh']) {
    const t = i.translator(lang);
    for (const k of Object.keys(i.STRINGS[lang])) texts.push(t(k));
    const b = br.bookingTranslator(lang);
    for (const k of Object.keys(bs.BOOKING_STRINGS[lang])) texts.push(b(k));
    for (const k of Object.keys(cb.STRINGS[lang])) texts.push(cb.codeText(k, {}, lang));
    texts.push(...Object.values(v.withTerms(sa.STRINGS)[lang]));
  }
  return { vocabulary: v.vocabulary(), texts, left: texts.filter((s) => s.includes('{@')) };
}"""


def _speak(server: DemoServer, vocabulary: str) -> None:
    r = httpx.put(f"{server.base}/v1/sites/demo", json={**_site(server), "vocabulary": vocabulary},
                  headers={"Authorization": f"Bearer {server.token('admin')}"}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["vocabulary"] == vocabulary


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    p = ctx.new_page()
    p.set_default_timeout(WAIT_MS)
    yield p
    ctx.close()


def _sweep(page: Any, vocabulary: str) -> list[str]:
    got = page.evaluate(SWEEP)
    assert got["vocabulary"] == vocabulary
    assert got["left"] == []  # every term filled in
    return [s for s in got["texts"] if CLINIC.search(s)]


def _open_pages(page: Any, server: DemoServer) -> dict[str, str]:
    """The visible words of the kiosk (zh), the console with its appointment form (en), the
    public booking page (zh) and the floor overview's appointments (en), each swept."""
    shown: dict[str, str] = {}
    page.goto(server.page_url("kiosk", lang="zh"))
    page.locator("#app button:visible").first.wait_for()
    shown["kiosk"] = page.locator("body").inner_text()
    shown["kiosk sweep"] = "\n".join(_sweep(page, _vocab(server)))
    page.goto(server.page_url("counter:4", lang="en"))
    page.locator("#book-open:not([hidden])").wait_for()
    page.locator("#book-open").click()
    page.locator("#book-customer-label:not(:empty)").wait_for()
    page.locator("#book-go").click()  # no time chosen: "choose a time"; then no customer
    shown["console"] = page.locator("body").inner_text()
    shown["console label"] = page.locator("#book-customer-label").inner_text()
    web = make_token(SECRET, "partner", site="demo", channels=["web"], subject="web-page")
    page.goto(f"{server.base}/book/demo?token={web}&lang=zh")
    page.locator("#services button").first.wait_for()
    shown["book"] = page.locator("body").inner_text()
    shown["book title"] = page.locator("#title").inner_text()
    token = server.token("supervisor", site="demo")
    page.goto(f"{server.base}/supervise/demo?token={token}&lang=en")
    page.locator("#appts:not([hidden])").wait_for()
    wait_js(page, "document.querySelectorAll('#appt-head th').length === 4")
    shown["overview"] = page.locator("body").inner_text()
    shown["overview head"] = page.locator("#appt-head").inner_text()
    return shown


def _vocab(server: DemoServer) -> str:
    return str(_site(server)["vocabulary"])


def test_a_government_centre_shows_no_clinic_words(page: Any, demo_server: DemoServer) -> None:
    _speak(demo_server, "government")
    shown = _open_pages(page, demo_server)
    for where in ("kiosk", "console", "book", "overview"):
        assert not SHOWN.search(shown[where]), (where, SHOWN.findall(shown[where]))
    assert shown["kiosk sweep"] == ""
    assert shown["console label"] == "ID number or mobile number"
    assert shown["book title"] == "预约办事"
    assert "Citizen" in shown["overview head"] and "Service · clerk" in shown["overview head"]
    assert _sweep(page, "government") == []  # the overview's own modules too


def test_a_clinic_still_speaks_a_clinics_words(page: Any, demo_server: DemoServer) -> None:
    _speak(demo_server, "clinic")
    shown = _open_pages(page, demo_server)
    assert shown["console label"] == "Patient ID or mobile number"
    assert shown["book title"] == "预约挂号"
    assert "Patient" in shown["overview head"] and "Service · doctor" in shown["overview head"]
    swept = "\n".join(_sweep(page, "clinic"))
    for word in ("That doctor or room is not available then.", "该医生或诊室在此时间停诊。",
                 "请回到候诊区等候", "请先选择科室或业务。", "患者编号或手机号"):
        assert word in swept, word


def test_a_site_without_a_vocabulary_uses_neutral_words(page: Any,
                                                        demo_server: DemoServer) -> None:
    site = _site(demo_server)
    site.pop("vocabulary", None)
    r = httpx.put(f"{demo_server.base}/v1/sites/demo", json=site, timeout=10,
                  headers={"Authorization": f"Bearer {demo_server.token('admin')}"})
    assert r.status_code == 200 and "vocabulary" not in r.json()
    page.goto(demo_server.page_url("kiosk", lang="en"))
    page.locator("#app button:visible").first.wait_for()
    assert _sweep(page, "general") == []
    # Every vocabulary names the same terms in each language: none is left unfilled.
    parity = page.evaluate("""async () => {
      const { TERMS } = await import('/static/js/vocabulary.js');
      const keys = (kind, lang) => Object.keys(TERMS[kind][lang]).sort().join();
      return Object.keys(TERMS).flatMap((kind) => ['en', 'zh']
        .filter((lang) => keys(kind, lang) !== keys('general', lang))
        .map((lang) => `${kind}.${lang}`));
    }""")
    assert parity == []


def test_the_setup_page_sets_the_vocabulary_and_shows_a_refusal_by_it(
        page: Any, demo_server: DemoServer) -> None:
    _speak(demo_server, "clinic")
    page.goto(f"{demo_server.base}/setup/demo?lang=zh#token={demo_server.token('admin')}")
    wait_js(page, "window.switchboardSetup && window.switchboardSetup.saved")
    choice = page.locator("#site-vocabulary")
    assert choice.input_value() == "clinic"
    assert page.locator("label[for=site-vocabulary]").inner_text() == "页面用语"
    choice.select_option("government")
    page.locator("#save").click()
    page.locator("#save-status", has_text="已保存").wait_for()
    assert _site(demo_server)["vocabulary"] == "government"
    # The default is left out of the document, as the server leaves it out.
    choice.select_option("general")
    page.locator("#save").click()
    page.locator("#save-status", has_text="已保存").wait_for()
    assert "vocabulary" not in _site(demo_server)
    # One the server does not know (typed in the JSON): refused, shown by the field, and
    # the site is as it was.
    page.locator("#raw-box summary").click()
    raw = page.locator("#raw")
    raw.fill(raw.input_value().replace('"timezone"', '"vocabulary": "hospital", "timezone"', 1))
    page.locator("#save").click()
    page.locator("#site-vocabulary-err", has_text="bad_request").wait_for()
    assert choice.get_attribute("aria-invalid") == "true"
    assert "vocabulary" not in _site(demo_server)
