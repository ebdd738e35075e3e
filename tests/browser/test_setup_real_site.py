"""A real (non-demo) site set up from the docs, as a hospital's IT person would (review):
the front page says how to start, the set-up page's Site card sets the name, time zone and day
close, device links and the kiosk's QR code start with SWITCHBOARD_PUBLIC_URL, and a busy
counter shows the number it is serving. Without the public address, a set-up page opened on
this machine's own address warns that its links reach no other device."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.browser.conftest import DemoServer, wait_js
from tests.browser.test_accessibility import assert_reflows
from tests.browser.test_setup_page import admin, open_setup, row, site

pytestmark = pytest.mark.browser
WAIT_MS = 15000
PUBLIC = "https://queue.example.org/q"


@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """``switchboard serve`` without --demo, at a public address (a proxy in front)."""
    server = DemoServer(tmp_path_factory.mktemp("real"), demo=False,
                        env={"SWITCHBOARD_PUBLIC_URL": PUBLIC + "/"}).start()
    yield server
    server.stop()


def test_a_real_server_says_how_to_start(context: Any, real_server: DemoServer) -> None:
    # `switchboard serve` printed the next step: an admin token, then the set-up page.
    log = real_server.log_tail()
    assert "switchboard token admin --subject YOUR-NAME --data-dir" in log, log
    assert f"{PUBLIC}/setup/SITE" in log
    page = context.new_page()
    page.goto(f"{real_server.base}/?lang=en")
    page.locator("#demo-title", has_text="Set up a site").wait_for(timeout=WAIT_MS)
    steps = page.locator("#steps").inner_text()
    assert "switchboard token admin --subject YOUR-NAME" in steps and "/setup/SITE" in steps
    assert "SWITCHBOARD_PUBLIC_URL" in steps and "--demo" not in page.inner_text("main")
    # Field service has its own way in: the worker, the deployment guide, the console.
    assert "switchboard worker" in steps and "/dispatch/REGION" in steps
    assert page.locator("a[href='/docs']").count() == 1  # the API reference this server serves
    page.get_by_label("Site id").fill("ward")
    page.get_by_role("button", name="Open the set-up page").click()
    page.wait_for_url(f"{real_server.base}/setup/ward")
    page.goto(f"{real_server.base}/?lang=zh")
    page.locator("#demo-title", has_text="设置站点").wait_for(timeout=WAIT_MS)
    assert "管理员令牌" in page.locator("#steps").inner_text()
    assert page.get_by_role("button", name="打开设置页面").is_visible()
    page.set_viewport_size({"width": 320, "height": 640})  # a phone: no sideways scrolling
    assert_reflows(page, "a real server's front page at 320 px")


def test_a_new_site_gets_its_name_time_zone_and_day_close(context: Any,
                                                           real_server: DemoServer) -> None:
    page = open_setup(context, real_server, "ward")
    card = page.locator("#site-fields")
    # The Site card showed "[object HTMLDivElement],…" instead of its fields.
    assert "[object" not in card.inner_text()
    card.get_by_label("Name (中文)").fill("住院部")
    card.get_by_label("Name (English)").fill("Inpatients")
    card.get_by_label("Time zone").fill("Europe/London")
    close = card.get_by_label("Day close (HH:MM)")
    assert close.input_value() == "03:00"  # a new site closes its day (null: never)
    assert "Empty: never" in page.locator("#site-close-help").inner_text()
    close.fill("25:00")
    page.locator("#add-service").click()
    svc = page.locator("#services li").first
    svc.get_by_label("Name (English)").fill("Admissions")  # English only: no {"zh": ""}
    svc.get_by_label("Letter").fill("R")
    page.locator("#add-counter").click()
    page.locator("#save").click()
    page.locator("#site-close-err").wait_for(timeout=WAIT_MS)
    assert close.get_attribute("aria-invalid") == "true"
    assert httpx.get(f"{real_server.base}/v1/sites/ward", timeout=10, headers={
        "Authorization": f"Bearer {admin(real_server)}"}).status_code == 404
    close.fill("02:30")
    page.locator("#save").click()
    page.locator("#save-status", has_text="Saved.").wait_for(timeout=WAIT_MS)
    got = site(real_server, "ward")
    assert got["name"] == {"zh": "住院部", "en": "Inpatients"}
    assert got["timezone"] == "Europe/London"
    assert got["policy"]["day_close"] == "02:30"
    # An existing site keeps what it has: here "never" (emptied), not the new-site 03:00.
    close.fill("")
    page.locator("#save").click()
    page.locator("#save-status", has_text="Saved.").wait_for(timeout=WAIT_MS)
    assert site(real_server, "ward")["policy"].get("day_close") is None
    page.reload()
    wait_js(page, "window.switchboardSetup && window.switchboardSetup.saved")
    assert close.input_value() == ""
    # In Chinese, the same fields.
    page.locator("#lang button[lang='zh-CN']").click()
    page.locator("#title", has_text="站点设置").wait_for(timeout=WAIT_MS)
    assert "[object" not in card.inner_text()
    assert card.get_by_label("名称（English）").input_value() == "Inpatients"
    assert card.get_by_label("时区").input_value() == "Europe/London"
    assert "留空表示从不" in page.locator("#site-close-help").inner_text()


def test_links_and_the_kiosk_qr_start_with_the_public_url(context: Any,
                                                          real_server: DemoServer) -> None:
    page = open_setup(context, real_server, "ward")
    assert page.locator("#devices-local").is_hidden()
    assert PUBLIC in page.locator("#devices-base").inner_text()
    kiosk = row(page, "device", "kiosk:1")
    kiosk.get_by_role("button", name="Make a link").click()
    kiosk.locator("a.st-url").wait_for(timeout=WAIT_MS)
    url = kiosk.locator("a.st-url").get_attribute("href")
    assert url.startswith(f"{PUBLIC}/kiosk/ward?token="), url  # not 127.0.0.1
    qr = kiosk.locator("img").get_attribute("src")
    assert parse_qs(urlsplit(qr).query)["data"] == [url]
    # The kiosk itself, opened at the internal address: its ticket's QR code is the public one.
    k = context.new_page()
    k.goto(real_server.base + url.removeprefix(PUBLIC) + "&lang=en")
    k.get_by_role("button", name="Admissions").click()
    k.locator("#screen-ticket").wait_for(timeout=WAIT_MS)
    ticket = k.evaluate("window.switchboardKiosk.ticket")
    data = parse_qs(urlsplit(k.locator("#t-qr").get_attribute("src")).query)["data"][0]
    assert data == PUBLIC + ticket["tracker"], data


def test_a_busy_counter_shows_the_number_it_serves(context: Any,
                                                   real_server: DemoServer) -> None:
    """The site "ward" saved by the test above."""
    got = site(real_server, "ward")
    service, counter = got["services"][0]["id"], got["counters"][0]["id"]
    real_server.post("/v1/sites/ward/tickets", real_server.token("kiosk", site="ward"),
                     {"service": service, "channel": "kiosk"})
    agent = real_server.token("agent", site="ward", counter=counter)
    real_server.post(f"/v1/sites/ward/counters/{counter}/open", agent)
    real_server.post(f"/v1/sites/ward/counters/{counter}/call-next", agent)
    busy = next(c for c in site(real_server, "ward")["counters"] if c["id"] == counter)
    ticket = httpx.get(f"{real_server.base}/v1/tickets/{busy['ticket']}", timeout=10,
                       headers={"Authorization": f"Bearer {admin(real_server)}"}).json()
    assert ticket["number"].startswith("R")
    page = open_setup(context, real_server, "ward")
    chip = row(page, "counter", counter).locator(".chip")
    chip.filter(has_text=ticket["number"]).wait_for(timeout=WAIT_MS)
    assert ticket["id"] not in chip.inner_text()  # not "ticket ward.2a335c1cab1d"
    real_server.post(f"/v1/sites/ward/counters/{counter}/complete", agent)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_links_made_on_this_machine_s_own_address_are_warned_about(
        context: Any, demo_server: DemoServer, host: str) -> None:
    page = context.new_page()
    page.goto(f"http://{host}:{demo_server.port}/setup/demo?lang=en#token={admin(demo_server)}")
    wait_js(page, "window.switchboardSetup && window.switchboardSetup.saved")
    warn = page.locator("#devices-local")
    assert warn.is_visible()
    said = warn.inner_text()
    assert f"http://{host}:{demo_server.port}" in said and "SWITCHBOARD_PUBLIC_URL" in said
    assert "cannot open them" in said
    assert page.locator("#devices-base").is_hidden()
    page.locator("#lang button[lang='zh-CN']").click()
    page.locator("#title", has_text="站点设置").wait_for(timeout=WAIT_MS)
    assert "打不开" in warn.inner_text()
    # The existing site's card: its fields, not "[object HTMLDivElement]", in Chinese too.
    assert page.locator("#site-fields").get_by_label("名称（中文）").input_value() == \
        site(demo_server)["name"]["zh"]
    assert page.locator("#site-fields").get_by_label("日终时间（时:分）").input_value() == \
        site(demo_server)["policy"]["day_close"]
