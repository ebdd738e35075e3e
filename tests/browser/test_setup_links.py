"""The set-up page's device links after a reload, on a real (non-demo) server (review: a
hospital IT admin). The page forgot every link it had made (every device back to "Make a
link"); "Make a new link" left the old link working (a re-printed sheet); nothing warned that
the links expire together. Now it reads GET /v1/tokens?site= and shows, per device, the link
made (status, expiry in the site's zone with the days left, last used), says the link cannot
be shown again, replaces it when a new one is made (the old one revoked), revokes a device's
links at this site only, and warns of links expiring within a week with "Renew all
expiring"."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser.conftest import DemoServer
from tests.browser.test_setup_page import open_setup, row
from tests.browser.test_setup_sites import _api

pytestmark = pytest.mark.browser
WAIT_MS = 15000
ZONE = "Asia/Shanghai"


def site_doc(name: str) -> dict[str, Any]:
    return {"name": {"zh": name, "en": name}, "timezone": ZONE, "languages": ["zh", "en"],
            "services": [{"id": "gp", "name": {"zh": "全科", "en": "GP"}, "prefix": "G"}],
            "counters": [{"id": "1", "name": "1", "services": ["gp"]},
                         {"id": "2", "name": "2", "services": ["gp"]}]}


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    server = DemoServer(tmp_path_factory.mktemp("links"), demo=False).start()
    try:
        for site in ("north", "south"):
            r = _api(server, "PUT", f"/v1/sites/{site}", json=site_doc(site))
            assert r.status_code == 200, r.text
        yield server
    finally:
        server.stop()


def mint(server: DemoServer, **body: Any) -> dict[str, Any]:
    r = _api(server, "POST", "/v1/tokens", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def works(server: DemoServer, site: str, token: str) -> int:
    return httpx.get(f"{server.base}/v1/sites/{site}", timeout=10,
                     headers={"Authorization": f"Bearer {token}"}).status_code


def listed(server: DemoServer, site: str) -> dict[str, Any]:
    r = _api(server, "GET", f"/v1/tokens?site={site}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def day(iso: str) -> str:
    """The date as the page writes it in English: "7 Jan 2027"."""
    d = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZoneInfo(ZONE))
    return f"{d.day} {d:%b} {d.year}"


def test_links_made_are_shown_after_a_reload_and_replaced_not_duplicated(
        context: Any, real: DemoServer) -> None:
    console = mint(real, role="agent", site="north", counter="1", subject="north-console-1",
                   ttl_s=3 * 86400)  # expires within the week
    kiosk = mint(real, role="kiosk", site="north", subject="north-kiosk-1")
    assert works(real, "north", kiosk["token"]) == 200
    deadline = time.monotonic() + 30  # last_seen is written in a batch every 10 s
    while not next(t for t in listed(real, "north")["tokens"]
                   if t["jti"] == kiosk["jti"])["last_seen"]:
        assert time.monotonic() < deadline, "the kiosk's use was never recorded"
        time.sleep(0.5)
    page = open_setup(context, real, "north")
    c_row = row(page, "device", "console:1")
    c_row.locator(".st-issued").wait_for(timeout=WAIT_MS)
    lists = {t["jti"]: t for t in listed(real, "north")["tokens"]}
    text = c_row.inner_text()
    left = lists[console["jti"]]["days_left"]
    assert f"valid until {day(console['expires_at'])} ({ZONE}), {left} days left" in text, text
    assert "never used" in text and "cannot be shown again" in text, text
    assert c_row.get_by_role("button", name="Renew (the old link stops working)").is_visible()
    k_row = row(page, "device", "kiosk:1")
    text = k_row.inner_text()
    assert "active — valid until" in text and "last used just now" in text, text
    assert "never used" not in text
    assert row(page, "device", "console:2").get_by_role(
        "button", name="Make a link", exact=True).is_visible()  # none made for counter 2
    # The banner: one link of this site expires within 7 days.
    banner = page.locator("#links-soon")
    assert banner.is_visible()
    assert "1 of this site’s links" in banner.inner_text(), banner.inner_text()
    # Fits a 1366 px laptop: nothing wider than the window.
    page.set_viewport_size({"width": 1366, "height": 768})
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    # A new kiosk link (keyboard): the old one is revoked by the server before it answers.
    button = k_row.get_by_role("button", name="Make a new link (the old one stops working)")
    button.focus()
    page.keyboard.press("Enter")
    k_row.locator(".st-note", has_text="The old link was revoked").wait_for(timeout=WAIT_MS)
    new_url = k_row.locator("a.st-url").get_attribute("href")
    assert works(real, "north", kiosk["token"]) == 401
    assert works(real, "north", new_url.split("token=")[1]) == 200
    kiosks = [t for t in listed(real, "north")["tokens"] if t["role"] == "kiosk"]
    assert sorted(t["status"] for t in kiosks) == ["active", "revoked"]
    # A reload still knows both devices' links: the new kiosk link, the console's.
    page = open_setup(context, real, "north")
    k_row = row(page, "device", "kiosk:1")
    k_row.locator(".st-issued", has_text="never used").wait_for(timeout=WAIT_MS)
    assert row(page, "device", "console:1").locator(".st-issued").is_visible()
    # Renew all expiring, after a confirmation: the console's old link stops working.
    page.get_by_role("button", name="Renew all expiring (1)").press("Enter")
    assert page.evaluate("document.activeElement.id") == "renew-yes"
    page.keyboard.press("Enter")
    page.locator("#renew-status", has_text="Links renewed: 1.").wait_for(timeout=WAIT_MS)
    assert works(real, "north", console["token"]) == 401
    c_row = row(page, "device", "console:1")
    c_row.locator(".st-note", has_text="The old link was revoked").wait_for(timeout=WAIT_MS)
    assert works(real, "north", c_row.locator("a.st-url").get_attribute("href")
                 .split("token=")[1]) == 200
    assert listed(real, "north")["summary"]["expiring_soon"] == 0
    assert "of this site’s links" not in page.locator("#links-soon").inner_text()
    # In Chinese.
    page = open_setup(context, real, "north", lang="zh")
    text = row(page, "device", "kiosk:1").locator(".st-issued").inner_text()
    assert "有效期至" in text and "从未使用" in text and "无法再次显示" in text, text


def test_revoking_a_device_revokes_its_links_at_this_site_only(context: Any,
                                                               real: DemoServer) -> None:
    here = mint(real, role="display", site="north", subject="lobby-tv")
    there = mint(real, role="display", site="south", subject="lobby-tv")
    page = open_setup(context, real, "north")
    tv = row(page, "device", "board:lobby-tv")  # a link made elsewhere gets its row
    tv.locator(".st-issued", has_text="active").wait_for(timeout=WAIT_MS)
    assert tv.get_by_label("Device name").input_value() == "lobby-tv"
    tv.get_by_role("button", name="Revoke", exact=True).press("Enter")
    assert page.evaluate("document.activeElement.textContent") == "Revoke every link of lobby-tv"
    page.keyboard.press("Enter")
    tv.locator(".st-issued", has_text="revoked: it no longer works").wait_for(timeout=WAIT_MS)
    assert tv.get_by_role("button", name="Make a link", exact=True).is_visible()
    assert works(real, "north", here["token"]) == 401
    assert works(real, "south", there["token"]) == 200  # the other site's lobby TV keeps going
    page.locator("#revoked li[data-subject='lobby-tv']").wait_for(timeout=WAIT_MS)
