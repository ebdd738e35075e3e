"""A browser set to UTC at a site in Asia/Shanghai (kiosk and TV images often run in UTC):
the counter console's "this link stops working … at" and the set-up page's token expiry were
in the device's zone, next to the site's times on the same page, and the phone page's texts
too. They are in the site's zone now. A staff page whose link ran out said "Ask staff for a
new one" (the clerk is staff) and kept saying, in the future tense, when it would stop: it
sends them to the administrator and says when it stopped. Public pages keep their words."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from realtime.auth import make_token
from tests.browser.conftest import SECRET, DemoServer, wait_js

pytestmark = pytest.mark.browser
DEVICE_TZ = "UTC"
WAIT_MS = 15000
CONSOLE_READY = "window.switchboardCounter && document.body.dataset.state"


def _exp(token: str) -> float:
    part = token.split(".")[1]
    return float(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))["exp"])


def _site_zone(page: Any) -> str:
    return str(page.evaluate("JSON.parse(document.getElementById('boot').textContent)"
                             ".site.timezone"))


def _clock(epoch_s: float, zone: str) -> str:
    return dt.datetime.fromtimestamp(epoch_s, ZoneInfo(zone)).strftime("%H:%M")


@pytest.fixture
def utc(browser: Any) -> Any:
    ctx = browser.new_context(locale="en-GB", timezone_id=DEVICE_TZ,
                              viewport={"width": 1280, "height": 800})
    yield ctx
    ctx.close()


def test_the_consoles_link_expiry_is_in_the_sites_zone(utc: Any,
                                                       demo_server: DemoServer) -> None:
    token = make_token(SECRET, "agent", site="demo", counter="2", ttl_s=2 * 86400)
    page = utc.new_page()
    page.goto(f"{demo_server.base}/counter/demo/2?token={token}&lang=en")
    wait_js(page, CONSOLE_READY)
    zone = _site_zone(page)
    assert zone == "Asia/Shanghai"  # eight hours from the device's: never the same clock
    notice = page.locator(".link-expiry")
    notice.wait_for(timeout=WAIT_MS)
    text = notice.inner_text()
    exp = _exp(token)
    local = dt.datetime.fromtimestamp(exp, ZoneInfo(zone))
    assert f"{local.day} {local:%B} {local.year}" in text, text
    assert _clock(exp, zone) in text, text
    assert _clock(exp, DEVICE_TZ) not in text, text


def test_the_setup_pages_token_expiry_is_in_the_sites_zone(utc: Any,
                                                           demo_server: DemoServer) -> None:
    token = make_token(SECRET, "admin", subject="it-setup", ttl_s=3600)
    page = utc.new_page()
    page.goto(f"{demo_server.base}/setup/demo?lang=en#token={token}")
    wait_js(page, "window.switchboardSetup && window.switchboardSetup.saved")
    who = page.locator("#who")
    who.wait_for(timeout=WAIT_MS)
    text = who.inner_text()
    exp = _exp(token)
    assert "valid until" in text, text
    assert _clock(exp, "Asia/Shanghai") in text, text
    assert _clock(exp, DEVICE_TZ) not in text, text


def test_the_phone_pages_texts_are_on_the_sites_clock(utc: Any,
                                                      demo_server: DemoServer) -> None:
    page = utc.new_page()
    page.goto(demo_server.base + "/")
    page.locator("a.kind-phone").click()
    page.locator("#thread .p-empty").wait_for(timeout=WAIT_MS)
    zone = _site_zone(page)
    before = time.time()
    page.locator("#text").fill("HELP")
    page.locator("#send").click()
    reply = page.locator("#thread .p-in").first
    reply.wait_for(timeout=WAIT_MS)
    times = {_clock(before, zone), _clock(time.time(), zone)}
    meta = page.locator("#thread .p-meta").all_inner_texts()
    assert meta and all(any(t in m for t in times) for m in meta), (times, meta)
    assert not any(_clock(before, DEVICE_TZ) in m for m in meta), meta


@pytest.mark.parametrize(("lang", "says", "not_says"), [
    ("en", "Ask your administrator for a new one.", "Ask staff"),
    ("zh", "请向管理员索取新链接", "工作人员"),
])
def test_an_expired_console_link_sends_the_clerk_to_the_administrator(
        utc: Any, demo_server: DemoServer, lang: str, says: str, not_says: str) -> None:
    expired = make_token(SECRET, "agent", site="demo", counter="2", ttl_s=-120)
    page = utc.new_page()
    page.goto(f"{demo_server.base}/counter/demo/2?token={expired}&lang={lang}")
    screen = page.locator(".error-screen h1")
    screen.wait_for(timeout=WAIT_MS)
    text = screen.inner_text()
    assert says in text and not_says not in text, text
    assert not page.locator(".link-expiry").is_visible()


def test_a_console_left_open_past_its_link_says_it_stopped(utc: Any,
                                                           demo_server: DemoServer) -> None:
    """The link runs out while the console is open: the notice above says when it stopped, no
    longer when it will; when the connection is refused (here: the link revoked, sooner than
    the server's minute of leeway), it is with the staff's words."""
    token = make_token(SECRET, "agent", site="demo", counter="2", ttl_s=6)
    page = utc.new_page()
    page.goto(f"{demo_server.base}/counter/demo/2?token={token}&lang=en")
    wait_js(page, CONSOLE_READY)
    notice = page.locator(".link-expiry")
    notice.wait_for(timeout=WAIT_MS)
    assert "stops working on" in notice.inner_text()
    page.wait_for_timeout(max(0.0, _exp(token) - time.time()) * 1000 + 800)
    text = page.locator("body").inner_text()
    assert "stops working" not in text, text
    assert "This link stopped working on" in notice.inner_text()
    assert _clock(_exp(token), "Asia/Shanghai") in notice.inner_text()
    r = httpx.post(f"{demo_server.base}/v1/revocations", json={"token": token}, timeout=10,
                   headers={"Authorization": f"Bearer {demo_server.token('admin')}"})
    assert r.status_code < 300, r.text
    page.locator(".conn-banner.denied").wait_for(timeout=WAIT_MS)
    banner = page.locator(".conn-banner.denied").inner_text()
    assert "Ask your administrator for a new one." in banner and "Ask staff" not in banner
    assert "stops working" not in page.locator("body").inner_text()


def test_public_pages_keep_their_words(utc: Any, demo_server: DemoServer) -> None:
    """A ticket's link that does not work still sends the person to reception; a waiting-room
    board's to staff: nothing about an administrator."""
    t = demo_server.take("cashier")
    forged = make_token("another-secret-0123456789abcdef0123456789", "ticket", site="demo",
                        ticket=t["id"], ttl_s=3600)
    page = utc.new_page()
    page.goto(f"{demo_server.base}/ticket/{t['id']}?token={forged}&lang=en")
    screen = page.locator(".error-screen h1")
    screen.wait_for(timeout=WAIT_MS)
    text = screen.inner_text()
    assert "ask at reception" in text and "administrator" not in text, text
    board = make_token(SECRET, "display", site="demo", ttl_s=-120)
    page.goto(f"{demo_server.base}/board/demo?token={board}&lang=en")
    screen = page.locator(".error-screen h1")
    screen.wait_for(timeout=WAIT_MS)
    text = screen.inner_text()
    assert "Ask staff for a new one." in text and "administrator" not in text, text


def test_a_console_action_refused_for_its_link_says_ask_the_administrator(
        utc: Any, demo_server: DemoServer) -> None:
    """An action whose answer is 401 (the link expired or was revoked between the page's
    check and the press) toasted the server's English message; now the staff's words."""
    token = make_token(SECRET, "agent", site="demo", counter="2")
    page = utc.new_page()
    page.goto(f"{demo_server.base}/counter/demo/2?token={token}&lang=zh")
    wait_js(page, CONSOLE_READY)
    refused = {"code": "unauthorized", "message": "token expired", "temporary": False,
               "details": {"reason": "expired"}}
    page.route("**/v1/sites/demo/counters/2/*", lambda route: route.fulfill(
        status=401, content_type="application/json", body=json.dumps(refused)))
    state = page.evaluate("document.body.dataset.state")
    page.keyboard.press("b" if state == "open" else "o")  # pause an open counter, else open it
    toast = page.locator(".toast", has_text="请向管理员索取新链接")
    toast.wait_for(timeout=WAIT_MS)
    assert "token expired" not in toast.inner_text()
