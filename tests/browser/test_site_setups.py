"""Pages of sites set up unlike the demo clinic, in a real browser against a real server: a
site in one language (or in English and Malay) showed "null" in four of its board's headings;
a site without a booking schedule offered appointment check-in at its kiosk, where every code
was then refused as "not found"."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
import redis

from queueing import keys
from queueing.demo import demo_booking, demo_site
from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser
WAIT_MS = 15000
# Text the pages show, never from their scripts or boot block: "null" or "undefined" there
# is a value written out where a word belonged.
SHOWN_TEXT = """() => {
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const out = [];
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (!n.parentElement.closest('script, style')) out.push(n.data);
  }
  return out.join(' ');
}"""
BAD_WORDS = ("null", "undefined", "NaN", "[object Object]")


def one_language_site(languages: list[str]) -> dict[str, Any]:
    """The demo clinic's services and counters, named in ``languages`` only (English words,
    the other language marked), with no Chinese anywhere."""
    site: dict[str, Any] = msgspec.to_builtins(demo_site())

    def rename(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"zh", "en"}:
                return {lang: value["en"] + ("" if lang == "en" else f" ({lang})")
                        for lang in languages}
            return {k: rename(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rename(v) for v in value]
        return value

    return {**rename(site), "languages": languages}


# annex: English only, and takes bookings; outpost: English and Malay, and takes none.
SITES = {"annex": (["en"], True), "outpost": (["en", "ms"], False)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    s = DemoServer(tmp_path_factory.mktemp("setups")).start()
    admin = {"Authorization": f"Bearer {s.token('admin')}"}
    with httpx.Client(base_url=s.base, headers=admin, timeout=10) as api:
        for site, (languages, bookings) in SITES.items():
            r = api.put(f"/v1/sites/{site}", json=one_language_site(languages))
            assert r.status_code == 200, r.text
            if bookings:
                r = api.put(f"/v1/sites/{site}/booking",
                            json=msgspec.to_builtins(demo_booking()))
                assert r.status_code == 200, r.text
    yield s
    s.stop()


def page_urls(s: DemoServer, site: str) -> dict[str, str]:
    """Every queue page of ``site``: board, kiosk, a counter's console, a ticket's tracker."""
    ticket = s.post(f"/v1/sites/{site}/tickets", s.token("kiosk", site=site),
                    {"service": "internal", "channel": "kiosk"})
    return {
        "board": f"/board/{site}?token={s.token('display', site=site)}",
        "kiosk": f"/kiosk/{site}?token={s.token('kiosk', site=site)}",
        "counter": f"/counter/{site}/1?token={s.token('agent', site=site, counter='1')}",
        "ticket": ticket["tracker"],
    }


def kiosk(context: Any, s: DemoServer, site: str, lang: str = "en") -> Any:
    page = context.new_page()
    page.goto(f"{s.base}/kiosk/{site}?token={s.token('kiosk', site=site)}&lang={lang}")
    page.locator(".k-service").first.wait_for(timeout=WAIT_MS)
    return page


@pytest.mark.parametrize("site", list(SITES))
def test_no_page_of_a_site_without_chinese_and_english_shows_null(context: Any,
                                                                  server: DemoServer,
                                                                  site: str) -> None:
    """The board's four headings were "Now calling null", "Counters null", …: the second
    language's part of each was a null given to the DOM's own replaceChildren."""
    for kind, path in page_urls(server, site).items():
        page = context.new_page()
        page.goto(server.base + path)
        wait_js(page, "document.body.dataset.conn === 'online'")
        if kind == "board":
            assert page.locator("#hero-title").inner_text().strip() == "Now calling"
        text = page.evaluate(SHOWN_TEXT)
        assert text.strip(), kind
        for word in BAD_WORDS:
            assert word not in text, (kind, word, text)
        page.close()


def test_kiosk_offers_check_in_only_where_the_site_takes_bookings(context: Any,
                                                                   server: DemoServer) -> None:
    """No schedule, no check-in button (a code could only be refused); the demo clinic and a
    site with a schedule of its own still offer it."""
    assert not kiosk(context, server, "outpost").locator("#appt-btn").is_visible()
    for site in ("annex", "demo"):
        button = kiosk(context, server, site).locator("#appt-btn")
        assert button.is_visible(), site
        assert button.inner_text().strip() == "I have an appointment"


def test_kiosk_check_in_after_the_schedule_went_says_to_ask_at_the_desk(
        context: Any, server: DemoServer) -> None:
    """The schedule goes while the kiosk is open (its button still shown): a code then gets
    "not available here, ask at the desk", never "we could not find that code", and the
    button goes. Last in this module: it takes the annex's schedule away."""
    pages = {lang: kiosk(context, server, "annex", lang) for lang in ("en", "zh")}
    for page in pages.values():
        page.locator("#appt-btn").click()
        page.locator("#code").fill("ABCDEF")
    # No API removes a schedule: its keys go from the server's own Redis.
    with redis.Redis(unix_socket_path=str(server.data_dir / "redis.sock")) as r:
        assert r.delete(keys.prefix("annex") + "bk:config", keys.prefix("annex") + "bk:ver")
    # The booking engine keeps a schedule it read for a couple of seconds: wait that out.
    # (as a desk would: a kiosk token's check-ins are rate-limited)
    token = {"Authorization": f"Bearer {server.token('agent', site='annex', counter='1')}"}
    deadline = time.monotonic() + 15
    while True:
        got = httpx.post(f"{server.base}/v1/sites/annex/check-in", json={"code": "ABCDEF"},
                         headers=token, timeout=10).json().get("code")
        if got == "booking_not_configured" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert got == "booking_not_configured"
    said = {"en": "Appointment check-in is not available here. Please ask at the desk.",
            "zh": "此处不提供预约签到，请到服务台咨询。"}
    for lang, page in pages.items():
        page.locator("#checkin-submit").click()
        error = page.locator("#checkin-error")
        wait_js(page, "document.getElementById('checkin-error').textContent !== ''")
        assert error.inner_text().strip() == said[lang]
        page.locator("#checkin-back").click()
        assert page.locator(".k-service").first.is_visible()
        assert not page.locator("#appt-btn").is_visible(), lang
    # A kiosk opened now does not offer it at all.
    assert not kiosk(context, server, "annex").locator("#appt-btn").is_visible()
