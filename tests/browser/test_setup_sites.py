"""The set-up page on a real server (no --demo) as a hospital's IT admin setting up three
sites found it (review): a mistyped id made a permanent site; no page listed the sites or
said which one was meant; nothing said that no worker ran; a new site's time zone was the
admin's PC's, silently, and there was no country; every site was set up from nothing.

Now the page lists the server's sites, names the existing ids a new one is close to (and
says the server refuses one equal but for case), deletes a never-used site after a
confirmation (one with history stays: site_in_use), shows a banner while no worker is seen,
has the zone chosen from the tz database's list (this PC's only offered) with the country
field and the zone's country as its hint, names the zone of link expiry times, and starts a
new site from another's set-up (and booking schedule)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from loadtest.rush import schedule
from tests.browser.conftest import DemoServer, wait_js
from tests.browser.test_setup_page import admin, open_setup

pytestmark = pytest.mark.browser
WAIT_MS = 15000
MAIN = {"name": {"zh": "总院", "en": "Main hospital"}, "timezone": "Asia/Shanghai",
        "languages": ["zh", "en"],
        "services": [{"id": "gp", "name": {"zh": "全科", "en": "GP"}, "prefix": "G"},
                     {"id": "lab", "name": {"zh": "检验", "en": "Lab"}, "prefix": "L"}],
        "counters": [{"id": "1", "name": "1", "services": ["gp"]},
                     {"id": "2", "name": "2", "services": ["gp", "lab"],
                      "shifts": [["08:00", "12:00"]]}],
        "areas": [{"id": "east", "name": "East", "counters": ["1", "2"]}],
        "vocabulary": "clinic", "policy": {"day_close": "02:00", "recall_max": 2}}
PLAIN = {k: v for k, v in MAIN.items() if k != "areas"}


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    server = DemoServer(tmp_path_factory.mktemp("sites"), demo=False).start()
    try:
        h = {"Authorization": f"Bearer {admin(server)}"}
        r = httpx.put(f"{server.base}/v1/sites/main-hospital", json=MAIN, headers=h, timeout=10)
        assert r.status_code == 200, r.text
        book = schedule(30)
        r = httpx.put(f"{server.base}/v1/sites/main-hospital/booking", headers=h, timeout=10,
                      json={**book, "templates": [{**t, "service": "gp"}
                                                  for t in book["templates"]],
                            "resources": [{**x, "services": ["gp"]}
                                          for x in book["resources"]]})
        assert r.status_code == 200, r.text
        yield server
    finally:
        server.stop()


def _api(server: DemoServer, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(method, f"{server.base}{path}", timeout=10,
                         headers={"Authorization": f"Bearer {admin(server)}"}, **kw)


def test_a_typo_names_the_existing_sites_and_a_case_twin(context: Any,
                                                         real: DemoServer) -> None:
    page = open_setup(context, real, "main-hosptial")
    links = page.locator("#sites-list a")
    assert links.all_inner_texts() == ["main-hospital"]
    assert links.first.get_attribute("href") == "/setup/main-hospital"
    near = page.locator("#near-sites")
    assert "Did you mean an existing site?" in near.inner_text()
    assert near.locator("a[href='/setup/main-hospital']").count() == 1
    page = open_setup(context, real, "Main-Hospital")
    warn = page.locator("#near-sites .st-warn")
    assert "differs from “Main-Hospital” only by capital letters" in warn.inner_text()
    # Saving it anyway is refused by the server, and says why.
    page.locator("#site-tz").fill("Asia/Shanghai")
    page.locator("#save").click()
    page.locator("#save-error", has_text="site_id_case").wait_for(timeout=WAIT_MS)
    assert _api(real, "GET", "/v1/sites").json()["sites"] == ["main-hospital"]
    # In Chinese too.
    page = open_setup(context, real, "main-hosptial", lang="zh")
    assert "是否指已有站点" in page.locator("#near-sites").inner_text()
    assert page.locator("#sites-title").inner_text() == "本服务器上的站点"


def test_a_never_used_site_is_deleted_after_a_confirmation(context: Any,
                                                          real: DemoServer) -> None:
    r = _api(real, "PUT", "/v1/sites/mian", json=PLAIN)
    assert r.status_code == 200, r.text
    page = open_setup(context, real, "mian")
    assert page.locator("#sites-list a").all_inner_texts() == ["main-hospital", "mian (this page)"]
    first = page.locator("#delete-site")
    assert first.inner_text() == "Delete site “mian”…"
    first.click()
    yes = page.locator("#delete-yes")
    assert yes.is_visible() and not first.is_visible()
    assert page.evaluate("document.activeElement.id") == "delete-yes"
    page.locator("#delete-no").click()  # cancelled: nothing happens
    assert _api(real, "GET", "/v1/sites/mian").status_code == 200
    first.click()
    yes.click()
    page.locator("#new-site-text", has_text="was deleted").wait_for(timeout=WAIT_MS)
    assert _api(real, "GET", "/v1/sites/mian").status_code == 404
    assert page.locator("#sites-list a").all_inner_texts() == ["main-hospital"]
    assert page.locator("#delete-box").is_hidden()
    # A site with history is not deleted: the page says so, the site stays.
    assert _api(real, "PUT", "/v1/sites/used", json=PLAIN).status_code == 200
    r = _api(real, "POST", "/v1/sites/used/tickets", json={"service": "gp", "channel": "kiosk"})
    assert r.status_code == 201, r.text
    page = open_setup(context, real, "used")
    page.locator("#delete-site").click()
    page.locator("#delete-yes").click()
    page.locator("#delete-status", has_text="has history").wait_for(timeout=WAIT_MS)
    assert _api(real, "GET", "/v1/sites/used").status_code == 200


def test_a_banner_says_while_no_worker_runs(browser: Any, real: DemoServer) -> None:
    ctx = browser.new_context(locale="en-GB")
    try:
        page = ctx.new_page()
        page.clock.install()
        page.goto(f"{real.base}/setup/main-hospital?lang=en#token={admin(real)}")
        banner = page.locator("#worker-down")
        banner.wait_for(timeout=WAIT_MS)
        assert "No worker is running" in banner.inner_text()
        assert banner.get_attribute("role") == "alert"
        page.locator("#lang button[lang='zh-CN']").click()
        assert "没有运行后台进程" in banner.inner_text()
        # A worker is seen again (its heartbeat): the banner goes at the next check.
        db = redis.Redis(unix_socket_path=str(real.data_dir / "redis.sock"))
        db.set("sb:worker:heartbeat", int(time.time() * 1000))
        assert httpx.get(f"{real.base}/readyz?worker=1", timeout=10).status_code == 200
        page.clock.run_for(31_000)
        wait_js(page, "document.getElementById('worker-down').hidden")
        db.delete("sb:worker:heartbeat")
        db.close()
    finally:
        ctx.close()


def test_a_new_sites_zone_is_chosen_with_its_country(browser: Any, real: DemoServer) -> None:
    ctx = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    try:
        page = open_setup(ctx, real, "north")
        tz = page.locator("#site-tz")
        assert tz.input_value() == ""  # not the admin's PC's zone, silently
        assert tz.get_attribute("list") == "tz-list"
        zones = page.evaluate("[...document.querySelectorAll('#tz-list option')]"
                              ".map((o) => o.value)")
        assert "Asia/Shanghai" in zones and "Europe/London" in zones and len(zones) > 300
        page.locator("#add-service").click()
        page.locator("#services li").first.get_by_label("Name (English)").fill("GP")
        page.locator("#save").click()
        page.locator("#site-tz-err", has_text="Choose the site’s time zone").wait_for(
            timeout=WAIT_MS)
        assert _api(real, "GET", "/v1/sites/north").status_code == 404
        # This PC's zone is offered, as a choice to confirm.
        offer = page.locator("#site-tz-browser")
        assert offer.inner_text() == "Use this computer’s zone: Europe/London"
        offer.click()
        assert tz.input_value() == "Europe/London"
        page.locator("#site-tz-help", has_text="That zone is in GB.").wait_for(timeout=WAIT_MS)
        assert page.locator("#site-country").get_attribute("placeholder") == "GB"
        tz.fill("UTC")
        page.locator("#site-tz-help", has_text="of no country").wait_for(timeout=WAIT_MS)
        assert "Empty: none" in page.locator("#site-country-help").inner_text()
        page.get_by_label("Country (ISO code, for phone numbers)").fill("gb")
        page.locator("#save").click()
        page.locator("#save-status", has_text="Saved.").wait_for(timeout=WAIT_MS)
        got = _api(real, "GET", "/v1/sites/north").json()
        assert (got["timezone"], got["country"]) == ("UTC", "GB")
        # A link's expiry names the zone it is given in (the site's).
        page.locator("#dev-0-mint").click()
        valid = page.locator(".st-link p.muted").first
        valid.wait_for(timeout=WAIT_MS)
        assert valid.inner_text().startswith("Valid until") and "(UTC)" in valid.inner_text()
        assert "(UTC)" in page.locator("#who").inner_text()
    finally:
        ctx.close()


def test_a_new_site_starts_from_another_sites_set_up(context: Any, real: DemoServer) -> None:
    page = open_setup(context, real, "west")
    page.locator("#copy-from").select_option("main-hospital")
    page.locator("#copy-booking").check()
    page.locator("#copy-go").click()
    page.locator("#copy-status", has_text="Copied from “main-hospital”").wait_for(
        timeout=WAIT_MS)
    assert page.locator("#services li").count() == 2
    assert page.locator("#site-name-en").input_value() == "west"  # its own name to give
    page.locator("#site-name-en").fill("West clinic")
    page.locator("#save").click()
    page.locator("#save-status", has_text="booking schedule of “main-hospital” was copied"
                 ).wait_for(timeout=WAIT_MS)
    main, west = (_api(real, "GET", f"/v1/sites/{s}").json() for s in ("main-hospital", "west"))
    for key in ("services", "counters", "areas", "vocabulary", "policy", "timezone",
                "priority_classes"):
        assert west.get(key) == main.get(key), key
    assert west["name"] == {"zh": "west", "en": "West clinic"}
    schedules = [_api(real, "GET", f"/v1/sites/{s}/booking").json()["schedule"]
                 for s in ("main-hospital", "west")]
    assert schedules[0] == schedules[1]


def test_the_front_page_lists_the_sites_to_an_admin_tab(context: Any, real: DemoServer) -> None:
    page = context.new_page()
    page.goto(f"{real.base}/?lang=en")
    page.locator("#setup-form").wait_for(timeout=WAIT_MS)
    assert page.locator("#sites").is_hidden()  # no token in this tab: nothing to list
    page = open_setup(context, real, "main-hospital")  # signed in: the token in this tab
    page.goto(f"{real.base}/?lang=en")
    links = page.locator("#sites a")
    links.first.wait_for(timeout=WAIT_MS)
    assert "main-hospital" in links.all_inner_texts()
    assert page.locator("#setup-site").get_attribute("list") == "site-ids"
    assert "main-hospital" in page.evaluate(
        "[...document.querySelectorAll('#site-ids option')].map((o) => o.value)")
