"""Screenshots of the dispatch pages (called by tests/browser/screenshots.py).

Starts the dispatch demo (``serve --demo`` and a worker) and gives the region a morning in
progress through the HTTP API, as devices and dispatchers would: the disinfection crew
accepts some of ACME's batch, one technician finished a job and is on site at the next, the
others drive (GPS fixes); an ACME job with a window about to close is at risk; technician 1
(王伟) drives to its first job when a new urgent job is offered to it. Then each page is
photographed: the device (phone, wristband and depot screen, with the offer and after it),
the customer's tracking page, the enterprise dashboard.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from tests.browser.conftest import wait_js
from tests.browser.dispatch_support import ORG, DispatchDemo

PHONE = {"width": 390, "height": 844}
BAND = {"width": 300, "height": 300}
DESK = {"width": 1440, "height": 900}
T1 = "city.t1"


def shoot(page: Any, out: Path, name: str) -> None:
    page.wait_for_timeout(600)  # fonts, the last frame, markers gliding into place
    page.screenshot(path=str(out / name))
    print("wrote", out / name)


def between(a: tuple[float, float], b: tuple[float, float], f: float) -> tuple[float, float]:
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)


def drive(d: DispatchDemo, tech: str, start: tuple[float, float], job: dict[str, Any], share: float,
          end_ms: int, stay_s: int = 0) -> tuple[float, float]:
    """Fixes from ``start`` toward the job, ``share`` of the way (1: there, and ``stay_s``
    on site, which the geofence takes as an arrival), 20 s apart, the last at ``end_ms``."""
    goal = (job["lat"], job["lon"])
    n = 8
    points = [between(start, goal, share * i / n) for i in range(n + 1)]
    points += [goal] * (stay_s // 20)
    d.fixes(tech, points, every_ms=20_000, end_ms=end_ms)
    return points[-1]


def offered_stops(d: DispatchDemo, tech: str, org: str | None = None) -> list[dict[str, Any]]:
    jobs = [d.job(s["j"]) for s in d.tech(tech)["route"] if s.get("j")]
    return [j for j in jobs if j["status"] == "offered" and j["technician"] == tech
            and (org is None or j["org"] == org)]


def accept_all(d: DispatchDemo, tech: str, most: int = 100, org: str | None = None
               ) -> list[dict[str, Any]]:
    jobs = offered_stops(d, tech, org)[:most]
    if jobs:
        d.actions(tech, *[("accept", j["id"]) for j in jobs])
    return jobs


def morning(d: DispatchDemo) -> dict[str, Any]:
    """The region's state for the photographs; returns the jobs worth a tracking page."""
    now = int(time.time() * 1000)
    scene: dict[str, Any] = {}
    # The disinfection crew accepts up to three jobs each; the rest of the batch stays offered.
    crew = {t: accept_all(d, t, 3, ORG) for t in ("city.t4", "city.t5", "city.t6", "city.t8")}
    homes = {t: (d.tech(t)["home"]["lat"], d.tech(t)["home"]["lon"]) for t in crew}
    # The busiest finished its first job and is on site at the next; the others drive.
    ranked = sorted((t for t in crew if crew[t]), key=lambda t: -len(crew[t]))
    for i, tech in enumerate(ranked):
        jobs = crew[tech]
        if i == 0 and len(jobs) >= 2:
            d.actions(tech, ("depart", jobs[0]["id"]))
            here = drive(d, tech, homes[tech], jobs[0], 1.0, now - 200_000, stay_s=60)
            d.actions(tech, ("complete", jobs[0]["id"]), ("depart", jobs[1]["id"]))
            drive(d, tech, here, jobs[1], 1.0, now - 2_000, stay_s=60)
            scene["on_site"] = jobs[1]
        else:
            d.actions(tech, ("depart", jobs[0]["id"]))
            drive(d, tech, homes[tech], jobs[0], 0.6 - 0.2 * (i % 2), now - 8_000)
    # An ACME job whose window closes in 20 minutes, with the crew busy: at risk.
    d.create_job(31.250, 121.525, skills=["disinfection"], org=ORG, duration_s=1800,
                 window={"start_ms": now, "end_ms": now + 20 * 60_000},
                 customer="ACME 仓库 Warehouse")
    # Technician 1 accepts its offers and drives to the first.
    t1 = accept_all(d, T1)
    if t1:
        home = d.tech(T1)["home"]
        d.actions(T1, ("depart", t1[0]["id"]))
        scene["t1_at"] = drive(d, T1, (home["lat"], home["lon"]), t1[0], 0.35, now - 1_000)
        scene["t1_job"] = t1[0]
    return scene


def urgent_for_t1(d: DispatchDemo, scene: dict[str, Any]) -> dict[str, Any]:
    """A job only technician 1 can do (appliance + electric), near where it is."""
    lat, lon = scene.get("t1_at", (31.228, 121.446))
    job: dict[str, Any] = d.create_job(lat + 0.006, lon - 0.004, skills=["appliance", "electric"],
                                       priority=90, duration_s=2700, customer="陈女士",
                                       address="静安区 愚园路 168 弄")
    return job


def pages(browser: Any, d: DispatchDemo, out: Path) -> None:
    scene = morning(d)
    token = d.server.token

    # The device, in Chinese on a phone, when the urgent offer arrives.
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN",
                                is_mobile=True, has_touch=True)
    device = phone.new_page()
    device.goto(d.tech_url(T1))
    wait_js(device, "window.switchboardTech && window.switchboardTech.state.ready")
    job = urgent_for_t1(d, scene)
    device.locator(f"[data-offer='{job['id']}']").wait_for(timeout=60000)
    band = browser.new_context(viewport=BAND, device_scale_factor=2, locale="zh-CN", has_touch=True,
                               permissions=["geolocation"], geolocation={
                                   "latitude": scene.get("t1_at", (31.228, 0))[0],
                                   "longitude": scene.get("t1_at", (0, 121.446))[1]})
    wrist = band.new_page()
    wrist.goto(d.tech_url(T1, sim=False))
    wrist.locator(f"[data-offer='{job['id']}']").wait_for(timeout=30000)
    shoot(device, out, "tech-offer-zh.png")
    shoot(wrist, out, "tech-band-offer-zh.png")

    # Accepted: the route with the next job, its ETA and the day's later stops (English).
    device.locator(f"[data-offer='{job['id']}'] .offer-accept").click()
    device.locator(f"[data-offer='{job['id']}']").wait_for(state="detached", timeout=30000)
    wrist.locator(".w-next .n-eta").wait_for(timeout=30000)
    shoot(wrist, out, "tech-band-next-zh.png")
    phone.close()
    band.close()
    phone_en = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="en-US",
                                   is_mobile=True, has_touch=True)
    device = phone_en.new_page()
    device.goto(d.tech_url(T1))
    device.locator(".w-next .n-eta").wait_for(timeout=30000)
    wait_js(device, "window.switchboardTech.position")
    shoot(device, out, "tech-route-en.png")
    phone_en.close()
    # The same device page on a depot screen: the map beside the work.
    depot = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = depot.new_page()
    page.goto(d.tech_url(T1))
    page.locator(".w-next .n-eta").wait_for(timeout=30000)
    wait_js(page, "document.querySelectorAll('.m-job').length >= 2")
    shoot(page, out, "tech-depot-en.png")
    depot.close()

    # The customer's tracking page: on the way (Chinese), and arrived (English).
    for key, lang, name in (("t1_job", "zh", "track-on-the-way-zh.png"),
                            ("on_site", "en", "track-arrived-en.png")):
        j = scene.get(key)
        if not j:
            continue
        ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  locale="zh-CN" if lang == "zh" else "en-US", has_touch=True)
        page = ctx.new_page()
        page.goto(f"{d.base}/track/{j['id']}?token={token('customer', job=j['id'])}")
        wait_js(page, "window.switchboardTrack?.job?.technician")
        shoot(page, out, name)
        ctx.close()

    # The enterprise dashboard, both languages.
    for lang in ("en", "zh"):
        ctx = browser.new_context(viewport=DESK, locale="en-US" if lang == "en" else "zh-CN")
        page = ctx.new_page()
        page.goto(d.org_url(lang=lang))
        wait_js(page, "window.switchboardOrg?.view?.on_the_way.length")
        wait_js(page, "document.querySelectorAll('.m-job').length >= 5")
        shoot(page, out, f"org-{lang}.png")
        ctx.close()


def main(browser: Any, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = DispatchDemo.start(Path(tmp) / "data")
        try:
            pages(browser, d, out)
        finally:
            d.stop()
