"""Screenshots of every page for docs/screenshots/ (and the README), from a real demo server.

    python -m tests.browser.screenshots [--out docs/screenshots]

Starts ``switchboard serve --demo`` in a temporary folder, makes a morning's worth of queue
activity through the HTTP API, and photographs each page in Debian's Chromium (the same
launch as the browser tests; Playwright downloads nothing). Chinese text needs a CJK font on
the machine (Debian: fonts-noto-cjk). The dispatch pages (technician device, job tracking,
enterprise dashboard) get their own demo server and worker (tests/browser/dispatch_shots.py);
``--pages queue`` or ``--pages dispatch`` takes one set only, ``--pages sms`` the phone page,
``--pages booking`` the two booking pages. Without a CJK font it stops and says so (Chinese
would be photographed as empty boxes).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from tests.browser import dispatch_shots
from tests.browser.conftest import (
    ARGS,
    AUTOPLAY_ALLOWED,
    AUTOPLAY_BLOCKED,
    CHROMIUM,
    DemoServer,
    wait_js,
)

TV = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}
KIOSK = {"width": 1280, "height": 1024}


def activity(s: DemoServer) -> dict[str, Any]:
    """Tickets in every service, calls at four counters, one in service, one counter paused."""
    tickets: dict[str, list[Any]] = {}
    for service, n in (("internal", 6), ("paediatrics", 3), ("lab", 4), ("pharmacy", 3),
                       ("cashier", 2)):
        tickets[service] = [s.take(service) for _ in range(n)]
    for counter in ("4", "5", "3", "2", "1"):
        s.counter(counter, "call-next")
    s.counter("4", "start")
    s.counter("6", "pause")
    s.counter("2", "recall")
    return tickets


def cjk_font() -> bool:
    """Whether fontconfig knows a font with Chinese glyphs (what Chromium will use)."""
    import shutil
    import subprocess
    if not shutil.which("fc-list"):
        return True  # cannot tell: go on
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    return bool(found.stdout.strip())


def shoot(page: Any, out: Path, name: str) -> None:
    page.wait_for_timeout(400)  # let fonts and the last frame settle
    page.screenshot(path=str(out / name))
    print("wrote", out / name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="docs/screenshots")
    ap.add_argument("--pages", choices=["all", "queue", "dispatch", "sms", "booking"],
                    default="all")
    args = ap.parse_args()
    if not cjk_font():
        raise SystemExit("no Chinese font on this machine: Chinese would be photographed as "
                         "empty boxes. Install one first: apt-get install fonts-noto-cjk "
                         "(or fonts-wqy-zenhei)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ["PLAYWRIGHT_BROWSERS_PATH"] = tempfile.mkdtemp(prefix="no-browsers-")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        if args.pages not in ("queue", "sms", "booking"):
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, AUTOPLAY_ALLOWED])
            dispatch_shots.main(browser, out)
            browser.close()
        if args.pages == "dispatch":
            return
        s = DemoServer(Path(tmp) / "data").start()
        if args.pages in ("sms", "booking"):
            try:
                activity(s)
                browser = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS])
                (sms_shot if args.pages == "sms" else booking_shots)(browser, s, out)
                browser.close()
            finally:
                s.stop()
            return
        try:
            tickets = activity(s)
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, AUTOPLAY_ALLOWED])
            pages(browser, s, tickets, out)
            browser.close()
            blocked = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, AUTOPLAY_BLOCKED])
            page = blocked.new_page(viewport=TV)
            page.goto(s.page_url("board", lang="en"))
            page.locator("#sound-gate").wait_for(state="visible")
            shoot(page, out, "board-sound-blocked.png")
            s.kill9()
            page.locator(".conn-banner.offline").wait_for(state="visible", timeout=15000)
            shoot(page, out, "board-offline.png")
            blocked.close()
        finally:
            s.stop()


def sms_shot(browser: Any, s: DemoServer, out: Path) -> None:
    """Text to join on the demo's phone page: a ticket by text, then where it stands."""
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN",
                                is_mobile=True, has_touch=True)
    page = phone.new_page()
    gateway = s.token("partner", site="demo", subject="sms-gateway", channels=["sms"])
    page.goto(f"{s.base}/phone/demo?token={gateway}&lang=zh")
    page.locator("#thread .p-empty").wait_for()
    page.locator("#quick button", has_text="B 儿科").click()
    page.locator("#thread .p-in").first.wait_for()
    page.locator("#text").fill("还要多久？")
    page.locator("#send").click()
    page.locator("#thread .p-in").nth(1).wait_for()
    shoot(page, out, "sms-zh.png")
    phone.close()


def booking_shots(browser: Any, s: DemoServer, out: Path) -> None:
    """Booking online (the site's page, in Chinese) and the person's own page after it (in
    English)."""
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN",
                                is_mobile=True, has_touch=True)
    page = phone.new_page()
    web = s.token("partner", site="demo", subject="web-booking", channels=["web"])
    page.goto(f"{s.base}/book/demo?token={web}&lang=zh")
    page.locator("#services button", has_text="儿科").click()
    page.locator("#times .b-time").nth(2).click()
    page.locator("#phone").fill("138 0013 8000")
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, out, "book-zh.png")
    # The number is proved by a texted code (the demo shows the text on the page).
    page.locator("#code-send").click()
    page.locator("#code-hint", has_text="短信内容为").wait_for()
    code = page.locator("#code-hint").inner_text().split("“")[1][:6]
    page.locator("#code").fill(code)
    page.locator("#book-go").click()
    page.wait_for_url("**/booking/**")
    page.locator("#lang button", has_text="EN").click()
    page.locator("#act-cancel").wait_for()
    shoot(page, out, "booking-en.png")
    phone.close()


def pages(browser: Any, s: DemoServer, tickets: dict[str, list[Any]], out: Path) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = ctx.new_page()
    page.goto(s.base + "/?lang=en")
    page.locator(".h-card").first.wait_for()
    shoot(page, out, "front.png")

    for lang in ("zh", "en"):
        page = browser.new_page(viewport=TV)
        page.goto(s.page_url("board", lang=lang))
        wait_js(page, "window.switchboardBoard && window.switchboardBoard.offset")
        shoot(page, out, f"board-{lang}.png")

    waiting = tickets["internal"][-1]
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN",
                                is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(s.base + waiting["tracker"])
    wait_js(page, "window.switchboardTicket && window.switchboardTicket.ticket")
    shoot(page, out, "ticket-waiting-zh.png")

    called = tickets["paediatrics"][0]  # called at counter 3 by activity()
    phone_en = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="en-US",
                                   is_mobile=True, has_touch=True)
    page = phone_en.new_page()
    page.goto(s.base + called["tracker"])
    page.wait_for_selector("body[data-phase='called']")
    shoot(page, out, "ticket-your-turn-en.png")

    desk = browser.new_context(viewport=DESK, locale="en-US")
    page = desk.new_page()
    page.goto(s.page_url("counter:2", lang="en"))
    page.locator(".q-item").first.wait_for()
    # Reception looked up a ticket of a queue this counter does not serve.
    page.locator("#find-number").fill(tickets["lab"][-1]["number"])
    page.locator("#find-number").press("Enter")
    page.locator(".found-card").wait_for()
    page.locator("#find-number").blur()
    shoot(page, out, "counter-en.png")

    page = desk.new_page()
    page.goto(f"{s.base}/supervise/demo?token={s.token('supervisor', site='demo')}&lang=en")
    wait_js(page, "window.switchboardSupervise && window.switchboardSupervise.stats !== null")
    shoot(page, out, "supervise-en.png")

    sms_shot(browser, s, out)

    kiosk = browser.new_context(viewport=KIOSK, locale="zh-CN")
    page = kiosk.new_page()
    page.goto(s.page_url("kiosk"))
    page.locator(".k-svc-waiting").first.wait_for()
    shoot(page, out, "kiosk-zh.png")
    page.locator("[data-service='lab']").click()
    page.locator("#screen-ticket").wait_for()
    wait_js(page, "document.getElementById('t-qr').naturalWidth > 0")
    shoot(page, out, "kiosk-ticket-zh.png")
    page.locator("#done-btn").click()
    page.locator("#large-btn").click()
    page.locator("#contrast-btn").click()
    page.get_by_role("button", name="EN").click()
    shoot(page, out, "kiosk-large-contrast-en.png")
    page.locator("#contrast-btn").click()
    page.locator("#large-btn").click()
    page.locator("#appt-btn").click()
    for key in "K7QX3M":
        page.locator(".k-key", has_text=key).first.click()
    page.locator("#checkin-submit").click()
    page.locator("#checkin-error").filter(has_text="could not find").wait_for()
    shoot(page, out, "kiosk-checkin-en.png")


if __name__ == "__main__":
    main()
