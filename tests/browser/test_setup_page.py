"""The set-up page (/setup/{site}) in a real browser against a real demo server: the admin
edits services and counters and saves the whole site; a refused save shows the server's error
by what it is about and keeps every edit; device links are minted with their QR code and a
printable sheet, work at once, and stop working when revoked. The admin token never sits in
the page's address."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DemoServer, wait_js
from tests.browser.test_accessibility import assert_reflows

pytestmark = pytest.mark.browser
WAIT_MS = 15000


def admin(server: DemoServer) -> str:
    return server.token("admin", subject="it-setup", ttl_s=3600)


def site(server: DemoServer, name: str = "demo") -> Any:
    r = httpx.get(f"{server.base}/v1/sites/{name}", timeout=10,
                  headers={"Authorization": f"Bearer {admin(server)}"})
    assert r.status_code == 200, r.text
    return r.json()


def open_setup(ctx: Any, server: DemoServer, name: str = "demo", lang: str = "en") -> Any:
    page = ctx.new_page()
    page.goto(f"{server.base}/setup/{name}?lang={lang}#token={admin(server)}")
    wait_js(page, "window.switchboardSetup && (window.switchboardSetup.doc"
                  " || document.getElementById('signin-error').textContent.endsWith('.'))")
    assert page.evaluate("Boolean(window.switchboardSetup.doc)"), \
        page.locator("#signin-error").inner_text()
    return page


def row(page: Any, kind: str, ident: str) -> Any:
    return page.locator(f"li[data-{kind}='{ident}']")


def test_edit_services_and_counters_then_save(context: Any, demo_server: DemoServer) -> None:
    page = open_setup(context, demo_server)
    # The token left the address at once (history, screenshots), kept for this tab only.
    assert "token" not in page.url
    kept = page.evaluate("sessionStorage.getItem('sb.setup.token')")
    assert kept.startswith("eyJ") and kept.count(".") == 2
    assert page.locator("#title").inner_text() == "Site set-up"
    assert "it-setup" in page.locator("#who").inner_text()
    row(page, "service", "lab").get_by_label("Name (English)").fill("Blood tests")
    counter4 = row(page, "counter", "4")
    counter4.get_by_label("Pharmacy").check()
    counter4.get_by_label("Shifts").fill("08:00-12:00, 13:30-17:30")
    assert page.locator("#save-status").inner_text() == "Unsaved changes."
    page.locator("#save").click()
    page.locator("#save-status", has_text="Saved.").wait_for(timeout=WAIT_MS)
    got = site(demo_server)
    lab = next(s for s in got["services"] if s["id"] == "lab")
    assert lab["name"] == {"zh": "检验科", "en": "Blood tests"}
    c4 = next(c for c in got["counters"] if c["id"] == "4")
    assert c4["services"] == ["lab", "pharmacy"]
    assert c4["shifts"] == [["08:00", "12:00"], ["13:30", "17:30"]]
    # Saving changed nothing else: the other counters keep their weights.
    c2 = next(c for c in got["counters"] if c["id"] == "2")
    assert c2["weights"] == {"internal": 2.0, "paediatrics": 1.0}
    # A reload keeps the sign-in (this tab's sessionStorage) and shows what was saved.
    page.reload()
    wait_js(page, "window.switchboardSetup && window.switchboardSetup.saved")
    assert row(page, "service", "lab").get_by_label("Name (English)").input_value() == \
        "Blood tests"
    # In Chinese too; the language switch keeps keyboard focus.
    page.locator("#lang button[lang='zh-CN']").focus()
    page.keyboard.press("Enter")
    page.locator("#title", has_text="站点设置").wait_for(timeout=WAIT_MS)
    assert page.evaluate("document.activeElement.getAttribute('lang')") == "zh-CN"
    page.locator("#lang button[lang='en']").click()


def test_a_refused_save_shows_the_error_by_its_field_and_keeps_the_edits(
        context: Any, demo_server: DemoServer) -> None:
    demo_server.take("cashier")  # cashier has a waiting ticket: it cannot go
    page = open_setup(context, demo_server)
    internal = row(page, "service", "internal").get_by_label("Name (English)")
    internal.fill("General medicine")
    row(page, "service", "cashier").get_by_role("button", name="Remove").click()
    assert row(page, "service", "cashier").count() == 0
    # Counters that served it no longer do (else the document names an unknown service).
    assert row(page, "counter", "5").locator("label", has_text="Cashier").count() == 0
    page.locator("#save").click()
    error = page.locator("#services-error")
    error.filter(has_text="service_in_use").wait_for(timeout=WAIT_MS)
    assert "cashier" in error.inner_text()
    assert "service_in_use" in page.locator("#save-error").inner_text()
    # Nothing saved; every edit kept, on the page and in the JSON.
    got = site(demo_server)
    assert any(s["id"] == "cashier" for s in got["services"])
    assert next(s for s in got["services"] if s["id"] == "internal")["name"]["en"] == \
        "Internal medicine"
    assert internal.input_value() == "General medicine"
    assert row(page, "service", "cashier").count() == 0
    assert '"General medicine"' in page.locator("#raw").input_value()
    # Put it back (as it was, with the counters that served it), then a bad letter: the
    # error goes under that field, which gets the keyboard focus.
    error.get_by_role("button", name="Put cashier back").click()
    assert row(page, "service", "cashier").count() == 1
    assert row(page, "counter", "5").get_by_label("Cashier").is_checked()
    letter = row(page, "service", "paediatrics").get_by_label("Letter")
    letter.fill("9")
    page.locator("#save").click()
    page.locator("#svc-1-prefix-err").wait_for(timeout=WAIT_MS)
    assert letter.get_attribute("aria-invalid") == "true"
    said = page.locator("#svc-1-prefix-err").inner_text()
    assert said.startswith("The letter is 1 to 3 capital letters") and "bad_request" in said
    assert page.evaluate("document.activeElement.id") == "svc-1-prefix"
    assert internal.input_value() == "General medicine"
    letter.fill("B")
    page.locator("#save").click()
    page.locator("#save-status", has_text="Saved.").wait_for(timeout=WAIT_MS)
    assert page.locator("#save-error").inner_text() == ""
    got = site(demo_server)
    assert next(s for s in got["services"] if s["id"] == "internal")["name"]["en"] == \
        "General medicine"
    assert any(s["id"] == "cashier" for s in got["services"])
    # The raw JSON editor saves what the form does not show (here the policy).
    page.locator("#sec-raw").click()
    raw = page.locator("#raw")
    doc = json.loads(raw.input_value())
    doc.setdefault("policy", {})["recall_max"] = 4
    raw.fill(json.dumps(doc, ensure_ascii=False))
    assert page.locator("#save-status").inner_text() == "Unsaved changes."
    page.locator("#save").click()
    page.locator("#save-status", has_text="Saved.").wait_for(timeout=WAIT_MS)
    assert site(demo_server)["policy"]["recall_max"] == 4
    raw.fill("{ not json")
    assert page.locator("#save").is_disabled()
    assert "Not valid JSON" in page.locator("#raw-error").inner_text()


def test_a_token_revoked_mid_edit_asks_for_a_new_one_and_keeps_the_edits(
        context: Any, demo_server: DemoServer) -> None:
    page = context.new_page()
    page.goto(f"{demo_server.base}/setup/demo?lang=en"
              f"#token={demo_server.token('admin', subject='night-admin')}")
    wait_js(page, "window.switchboardSetup && window.switchboardSetup.saved")
    name = row(page, "counter", "6").get_by_label("Name (English)")
    name.fill("Window 6")
    r = httpx.post(f"{demo_server.base}/v1/revocations", json={"subject": "night-admin"},
                   headers={"Authorization": f"Bearer {admin(demo_server)}"}, timeout=10)
    assert r.status_code == 200, r.text
    page.locator("#save").click()
    field = page.get_by_role("textbox", name="Admin token")
    field.wait_for(timeout=WAIT_MS)
    assert "revoked" in page.locator("#signin-error").inner_text()
    field.fill(admin(demo_server))
    field.press("Enter")
    name.wait_for(timeout=WAIT_MS)
    assert name.input_value() == "Window 6"
    page.locator("#save").click()
    page.locator("#save-status", has_text="Saved.").wait_for(timeout=WAIT_MS)
    assert next(c for c in site(demo_server)["counters"] if c["id"] == "6")["name"]["en"] == \
        "Window 6"


def test_device_links_work_then_stop_when_revoked(context: Any,
                                                  demo_server: DemoServer) -> None:
    page = open_setup(context, demo_server)
    console = row(page, "device", "console:1")
    # Named after the site too: revoking it must not log out another site's console 1.
    assert console.get_by_label("Device name").input_value() == "demo-console-1"
    console.get_by_label("Device name").fill("console-room1")
    console.get_by_role("button", name="Make a link").click()
    link = console.locator("a.st-url")
    link.wait_for(timeout=WAIT_MS)
    url = link.get_attribute("href")
    assert url.startswith(f"{demo_server.base}/counter/demo/1?token=")
    wait_js(page, "document.querySelector(\"li[data-device='console:1'] img\").naturalWidth > 0")
    # The console opens with it and works: live, and its buttons act on counter 1.
    clerk = context.new_page()
    clerk.goto(url + "&lang=en")
    wait_js(clerk, "window.switchboardCounter"
                   " && window.switchboardCounter.client.state.status === 'online'")
    # The board and the kiosk get theirs too; the printable sheet has one card per link.
    for key in ("board:1", "kiosk:1"):
        row(page, "device", key).get_by_role("button", name="Make a link").click()
        row(page, "device", key).locator("a.st-url").wait_for(timeout=WAIT_MS)
    kiosk_url = row(page, "device", "kiosk:1").locator("a.st-url").get_attribute("href")
    assert httpx.get(kiosk_url, timeout=10).status_code == 200
    # The public booking page's link (for the clinic's website): added on request.
    page.locator("#add-book").click()
    book = row(page, "device", "book:1")
    assert book.get_by_label("Device name").input_value() == "demo-web-booking-1"
    book.get_by_role("button", name="Make a link").click()
    book.locator("a.st-url").wait_for(timeout=WAIT_MS)
    book_url = book.locator("a.st-url").get_attribute("href")
    assert book_url.startswith(f"{demo_server.base}/book/demo?token=")
    assert httpx.get(book_url, timeout=10).status_code == 200
    page.evaluate("window.print = () => { window.printed = true; }")
    page.locator("#print").click()
    wait_js(page, "window.printed === true")
    cards = page.locator("#sheet .st-sheet-card")
    assert cards.count() == 4
    assert url in cards.nth(0).inner_text() and "console-room1" in cards.nth(0).inner_text()
    # Revoke (a second, explicit step): the open console is told at once, the link is dead.
    console.get_by_role("button", name="Revoke").click()
    console.get_by_role("button", name="Revoke every link of console-room1").click()
    console.locator(".st-note", has_text="console-room1").wait_for(timeout=WAIT_MS)
    wait_js(clerk, "window.switchboardCounter.client.state.status === 'denied'")
    assert clerk.locator(".conn-banner.denied").is_visible()
    assert httpx.get(url, timeout=10).status_code == 401
    page.locator("#revoked li[data-subject='console-room1']").wait_for(timeout=WAIT_MS)
    # The kiosk's link is another subject: it still works. A new console link works too.
    assert httpx.get(kiosk_url, timeout=10).status_code == 200
    page.wait_for_timeout(20)  # minted after the revocation's cut-off (ms resolution)
    console.get_by_role("button", name="Make a link").click()
    console.locator("a.st-url").wait_for(timeout=WAIT_MS)
    again = console.locator("a.st-url").get_attribute("href")
    assert again != url and httpx.get(again, timeout=10).status_code == 200


def test_sign_in_by_pasting_and_a_new_site(context: Any, demo_server: DemoServer) -> None:
    page = context.new_page()
    page.goto(f"{demo_server.base}/setup/clinic?lang=en")
    field = page.get_by_role("textbox", name="Admin token")
    field.wait_for(timeout=WAIT_MS)
    field.fill(demo_server.token("agent", site="demo", counter="1"))
    field.press("Enter")
    page.locator("#signin-error", has_text="not an admin token").wait_for(timeout=WAIT_MS)
    field.fill("not-a-token")
    field.press("Enter")
    page.locator("#signin-error", has_text="not valid").wait_for(timeout=WAIT_MS)
    field.fill(admin(demo_server))
    field.press("Enter")
    page.locator("#new-site", has_text="does not exist yet").wait_for(timeout=WAIT_MS)
    page.get_by_label("Time zone").fill("Asia/Shanghai")  # chosen: never this PC's, silently
    page.locator("#add-service").click()
    svc = page.locator("#services li").first
    svc.get_by_label("Name (中文)").fill("全科")
    svc.get_by_label("Name (English)").fill("General practice")
    page.locator("#add-counter").click()
    assert page.locator("#devices-unsaved").is_visible()
    page.locator("#save").click()
    page.locator("#save-status", has_text="Saved.").wait_for(timeout=WAIT_MS)
    got = site(demo_server, "clinic")
    assert got["services"][0]["name"] == {"zh": "全科", "en": "General practice"}
    assert got["counters"][0]["services"] == [got["services"][0]["id"]]
    # Its counter's console can now be given a link.
    row(page, "device", f"console:{got['counters'][0]['id']}").wait_for(timeout=WAIT_MS)
    # Forgetting the token signs out (and leaves nothing in this tab).
    page.locator("#signout").click()
    page.get_by_role("textbox", name="Admin token").wait_for(timeout=WAIT_MS)
    assert page.evaluate("sessionStorage.getItem('sb.setup.token')") is None


def test_the_page_itself_holds_no_site_data_and_refuses_bad_ids(
        demo_server: DemoServer) -> None:
    r = httpx.get(f"{demo_server.base}/setup/demo", timeout=10)
    assert r.status_code == 200 and "default-src 'self'" in r.headers["content-security-policy"]
    assert "Community Clinic" not in r.text and r.headers["cache-control"] == "no-store"
    assert r.headers["x-frame-options"] == "DENY" and r.headers["referrer-policy"] == "no-referrer"
    assert httpx.get(f"{demo_server.base}/setup/a%20b", timeout=10).status_code == 400


@pytest.mark.parametrize("width, height", [(1280, 800), (768, 1024)])  # a desk; a tablet
def test_fits_a_desk_and_a_tablet_without_sideways_scrolling(
        browser: Any, demo_server: DemoServer, width: int, height: int) -> None:
    ctx = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height},
                              has_touch=width < 1000)
    try:
        page = open_setup(ctx, demo_server, lang="zh")
        device = row(page, "device", "board:1")
        device.get_by_role("button", name="生成链接").click()
        device.locator("a.st-url").wait_for(timeout=WAIT_MS)
        page.locator("#sec-raw").click()
        assert_reflows(page, f"set-up page at {width} px")
    finally:
        ctx.close()


def test_by_keyboard_and_a_busy_counter(context: Any, demo_server: DemoServer) -> None:
    """Everything by keyboard: a link made with Enter, a refused name said by its field,
    revoking asks once more and Cancel goes back; a counter with a ticket cannot go."""
    page = open_setup(context, demo_server)
    device = row(page, "device", "console:2")
    subject = device.get_by_label("Device name")
    subject.fill("")
    subject.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Make a link"
    page.keyboard.press("Enter")
    device.locator(".st-error", has_text="subject").wait_for(timeout=WAIT_MS)
    assert subject.get_attribute("aria-invalid") == "true"
    subject.fill("console-2b")
    subject.press("Tab")
    page.keyboard.press("Enter")
    device.locator("a.st-url").wait_for(timeout=WAIT_MS)
    assert device.locator(".st-error").count() == 0
    device.get_by_role("button", name="Revoke", exact=True).focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.textContent") == \
        "Revoke every link of console-2b"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Cancel: nothing revoked, focus back on Revoke
    assert page.evaluate("document.activeElement.textContent") == "Revoke"
    assert httpx.get(device.locator("a.st-url").get_attribute("href"),
                     timeout=10).status_code == 200
    # Counter 3 is serving someone: it cannot be removed; the refusal offers it back.
    demo_server.take("paediatrics")
    demo_server.counter("3", "call-next")
    page.reload()
    wait_js(page, "window.switchboardSetup && window.switchboardSetup.saved")
    row(page, "counter", "3").get_by_role("button", name="Remove").press("Enter")
    page.locator("#save").press("Enter")
    error = page.locator("#counters-error")
    error.filter(has_text="counter_busy").wait_for(timeout=WAIT_MS)
    assert page.evaluate("document.activeElement.id") == "counters-error"
    error.get_by_role("button", name="Put 3 back").press("Enter")
    assert row(page, "counter", "3").count() == 1
    assert page.locator("#save-status").inner_text() == "No changes."
    demo_server.counter("3", "complete")


def test_another_admins_save_is_not_undone_silently(context: Any,
                                                    demo_server: DemoServer) -> None:
    """Page A read the site; admin B saved a change; A's save put back the whole document it
    had read and undid B's change without a word (review). Now A is told, keeps its edits,
    and a second save replaces B's change knowingly."""
    page = open_setup(context, demo_server)
    row(page, "service", "cashier").get_by_label("Name (English)").fill("Payments")
    other = site(demo_server)
    other.pop("version")  # admin B, replacing on purpose
    other["services"][0]["name"] = {"zh": "内科门诊", "en": "Outpatients"}
    r = httpx.put(f"{demo_server.base}/v1/sites/demo", json=other, timeout=10,
                  headers={"Authorization": f"Bearer {admin(demo_server)}"})
    assert r.status_code == 200, r.text
    page.locator("#save").click()
    page.get_by_text("Someone else saved this site after this page read it").first.wait_for(
        timeout=WAIT_MS)
    now = site(demo_server)
    assert now["services"][0]["name"]["en"] == "Outpatients"  # B's change stands
    assert row(page, "service", "cashier").get_by_label("Name (English)").input_value() == \
        "Payments"  # A's edit is kept
    page.locator("#save").click()  # knowingly
    page.locator("#save-status", has_text="Saved.").wait_for(timeout=WAIT_MS)
    cashier = next(s for s in site(demo_server)["services"] if s["id"] == "cashier")
    assert cashier["name"]["en"] == "Payments"
