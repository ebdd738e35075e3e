# ruff: noqa: E501  (the JavaScript under test is embedded; its lines follow JS, not PEP 8)
"""The dispatch pages in a real browser against a real server, worker and Redis: a technician
accepts an offer on the device page (msgpack), drives a simulated route, and the customer's
tracking page and the enterprise dashboard show it moving; arrival and completion reach
both. A wristband gets an offer full screen and declines it with one of two large buttons,
while its GPS comes from the browser's geolocation. Actions taken offline are sent once the
connection is back. The page routes answer bad links with error pages.

The pages' pure modules (map geometry, the technician state, the outbox, the dashboard's
figures) are unit-tested in the same browser, without a server.
"""

from __future__ import annotations

import math
import mimetypes
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from dispatch.demo import region_config
from tests.browser.conftest import WEB, wait_js
from tests.browser.dispatch_support import ORG, DispatchDemo

pytestmark = pytest.mark.browser
WAIT_MS = 30000
TECH = "city.tb"
# At the north-west corner of Puxi, away from the demo's own technicians and jobs.
HOME = (31.3400, 121.3200)
SITE = (31.3290, 121.3260)  # about 1.3 km south-south-east of HOME
SKILL = "browser-test"  # only the test's technician has it: the offer is certain to be ours


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DispatchDemo]:
    d = DispatchDemo.start(tmp_path_factory.mktemp("dispatch"))
    d.put_tech(TECH, *HOME, skills=[SKILL], name="周敏 Zhou Min")
    yield d
    d.stop()


def metres(a: dict[str, float] | tuple[float, float], b: tuple[float, float]) -> float:
    la, lo = (a["lat"], a["lon"]) if isinstance(a, dict) else a
    dy = (b[0] - la) * 111320
    dx = (b[1] - lo) * 111320 * math.cos(math.radians(la))
    return math.hypot(dx, dy)


def new_job(demo: DispatchDemo, customer: str) -> dict[str, Any]:
    job: dict[str, Any] = demo.create_job(*SITE, skills=[SKILL], priority=90, org=ORG, duration_s=1800,
                                          customer=customer, address="宝山区 沪太路 8号")
    return job


@pytest.mark.timeout(300)
def test_accepted_offer_moves_on_the_tracking_page_and_the_dashboard(browser: Any, demo: DispatchDemo) -> None:
    phone_ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    home_ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    desk_ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    try:
        # The region names its skills per language (the device showed raw ids).
        cfg = msgspec.to_builtins(region_config())
        cfg["skill_names"][SKILL] = {"zh": "浏览器测试", "en": "Browser check"}
        demo.call("PUT", "/v1/regions/city", cfg)
        # The technician opens the device page (simulated route) and starts the shift.
        device = phone_ctx.new_page()
        device.goto(demo.tech_url(TECH, speed=90))
        wait_js(device, "window.switchboardTech && window.switchboardTech.state.ready")
        assert device.evaluate("window.switchboardTech.client.ws.protocol") == "switchboard.v1.msgpack"
        device.get_by_role("button", name="Start shift").click()
        device.wait_for_selector("body[data-status='available']", timeout=WAIT_MS)

        # A job only this technician can do: the worker offers it, the device says so.
        job = new_job(demo, "Browser test 1")
        jid = job["id"]
        card = device.locator(f"[data-offer='{jid}']")
        card.wait_for(timeout=60000)
        assert "New job offer" in device.locator("#offer-say").inner_text()
        secs = int(card.locator(".offer-secs").inner_text())
        assert 0 < secs <= 120
        assert card.locator(".badge-urgent").inner_text() == "Urgent"
        assert "Browser check" in card.inner_text() and SKILL not in card.inner_text()
        card.get_by_role("button", name="Accept").click()
        device.locator(".act-depart").wait_for(timeout=WAIT_MS)
        assert demo.job(jid)["status"] == "assigned"
        assert card.count() == 0

        # The customer (in Chinese) and the organisation follow the job.
        track = home_ctx.new_page()
        track.goto(demo.track_url(job))
        wait_js(track, "window.switchboardTrack && window.switchboardTrack.job")
        track.wait_for_selector("body[data-status='assigned']", timeout=WAIT_MS)
        assert "师傅将为您上门服务" in track.locator("#headline").inner_text()
        dash = desk_ctx.new_page()
        dash.goto(demo.org_url())
        wait_js(dash, "window.switchboardOrg && window.switchboardOrg.view")
        dash.locator(f"#jobs tr[data-job='{jid}']").wait_for(timeout=WAIT_MS)

        # Start driving (keyboard): the simulated route sends a fix a second toward the job.
        device.keyboard.press("s")
        device.wait_for_selector("body[data-status='en_route']", timeout=WAIT_MS)
        track.wait_for_selector("body[data-status='en_route']", timeout=WAIT_MS)
        assert "正在赶来" in track.locator("#headline").inner_text()

        # The tracking page shows the technician moving closer, on its map too.
        seen = wait_js(track, "window.switchboardTrack.positions.length >= 4 && window.switchboardTrack.positions", 60)
        dists = [metres(p, SITE) for p in seen]
        assert dists[-1] < dists[0] - 50, dists
        marker = track.locator(".m-tech")
        lat1 = float(marker.get_attribute("data-lat") or 0)
        wait_js(track, f"Number(document.querySelector('.m-tech').dataset.lat) !== {lat1}", 20)
        assert "距您" in track.locator("#map-caption").inner_text()
        assert track.locator("#eta .tr-eta-value").inner_text()

        # …and so does the dashboard: the technician on the map, on its way to our job.
        moves = wait_js(dash, f"(() => {{ const m = window.switchboardOrg.moves.filter((x) => x.job === '{jid}'); return m.length >= 2 && m; }})()", 60)
        assert metres(moves[-1], SITE) < metres(moves[0], SITE)
        # English dashboard: the Latin part of the bilingual name, its first word only.
        way = dash.locator(f"#on-way [data-job='{jid}']").inner_text()
        assert way.startswith("Zhou") and "Min" not in way and "周敏" not in way, way
        assert dash.locator(f".m-tech[data-id$='|{jid}']").count() == 1
        assert "On the way" in dash.locator(f"#jobs tr[data-job='{jid}']").inner_text()

        # "Arrived" goes out and the connection drops before the answer: the device sends it
        # again (same aid) on reconnect, and the server applies it once.
        device.evaluate(f"""() => {{ const t = window.switchboardTech;
            t.act('arrive', '{jid}'); t.client.drop('test: lost before the answer'); }}""")
        track.wait_for_selector("body[data-status='on_site']", timeout=WAIT_MS)
        wait_js(device, "window.switchboardTech.pending.acts === 0")
        sent = device.evaluate("window.switchboardTech.sentActs")
        assert len(sent) >= 2 and sent[-1] == sent[-2], sent  # the same action, twice
        assert "已到达" in track.locator("#headline").inner_text()

        # The device shows "on site" from its own topic (the answer to "arrived" can come
        # first): a technician completes from there, and so does the test.
        device.wait_for_selector("body[data-status='on_site']", timeout=WAIT_MS)
        # Offline: "done" waits in the outbox and goes once the connection is back.
        device.evaluate("window.switchboardTech.client.stop()")
        device.keyboard.press("c")
        wait_js(device, "window.switchboardTech.pending.acts === 1")
        assert "sent when the connection is back" in device.locator(".toast").inner_text()
        device.evaluate("window.switchboardTech.client.start()")
        track.wait_for_selector("body[data-status='done']", timeout=WAIT_MS)
        dash.locator(f"#jobs tr[data-job='{jid}']").wait_for(state="detached", timeout=WAIT_MS)
        assert demo.job(jid)["status"] == "done"
        assert device.evaluate("window.switchboardTech.actErrors") == []
        last = device.evaluate("window.switchboardTech.position")
    finally:
        for ctx in (phone_ctx, home_ctx, desk_ctx):
            ctx.close()

    # A wristband with the browser's GPS: an offer fills the screen; decline it.
    band_ctx = browser.new_context(viewport={"width": 300, "height": 300}, locale="zh-CN", has_touch=True,
                                   permissions=["geolocation"],
                                   geolocation={"latitude": last["lat"], "longitude": last["lon"], "accuracy": 8})
    try:
        band = band_ctx.new_page()
        band.goto(demo.tech_url(TECH, sim=False))
        wait_js(band, "window.switchboardTech && window.switchboardTech.state.ready")
        assert band.evaluate("window.switchboardTech.gps") == "gps"
        job2 = new_job(demo, "Browser test 2")
        offer = band.locator(f"[data-offer='{job2['id']}']")
        offer.wait_for(timeout=60000)
        band.wait_for_selector("body.has-offer", timeout=WAIT_MS)
        box = band.locator("#offers").bounding_box()
        assert box["width"] >= 299 and box["height"] >= 299
        decline = offer.get_by_role("button", name="拒绝")
        accept = offer.get_by_role("button", name="接单")
        for b in (decline, accept):
            bb = b.bounding_box()
            assert bb["height"] >= 80 and bb["width"] >= 120
        decline.click()
        offer.wait_for(state="detached", timeout=WAIT_MS)
        # The device's own GPS fix reached the server, and came back on its topic.
        north = last["lat"] + 0.0003  # 33 m: a walk, not a jump the server would refuse
        band_ctx.set_geolocation({"latitude": north, "longitude": last["lon"], "accuracy": 8})
        try:
            wait_js(band, f"window.switchboardTech.state.view.position?.lat > {north - 0.0001}", 60)
        except AssertionError:
            raise AssertionError(band.evaluate("""() => { const t = window.switchboardTech;
                return JSON.stringify({ rejected: t.rejected, pending: t.pending, gps: t.gps, here: t.position,
                                        view: t.state.view.position, status: t.state.view.status }); }""")
                                 + f" server: {demo.tech(TECH)['position']}, last: {last}") from None
        assert abs(demo.tech(TECH)["position"]["lat"] - north) < 1e-6
    finally:
        band_ctx.close()


def test_dashboard_on_a_phone_shows_jobs_as_cards(browser: Any, demo: DispatchDemo) -> None:
    """On a phone the jobs table became a strip to scroll sideways: each job is a card now,
    every value named by its column, and the page is no wider than the screen."""
    job = new_job(demo, "Phone dashboard card")
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    try:
        page = ctx.new_page()
        page.goto(demo.org_url(lang="en"))
        row = page.locator("#jobs tr[data-job]").first
        row.wait_for(timeout=WAIT_MS)
        r = page.evaluate("""() => {
          const row = document.querySelector('#jobs tr[data-job]');
          const td = row.querySelector('td[data-label]');
          return { page: document.documentElement.scrollWidth, row: row.getBoundingClientRect().width,
                   display: getComputedStyle(row).display, before: getComputedStyle(td, '::before').content,
                   head: document.querySelector('#jobs-head').closest('thead').getBoundingClientRect().height };
        }""")
        assert r["display"] == "grid" and r["page"] <= 390 and r["row"] <= 390, r
        assert r["before"] == '"Customer"' and r["head"] <= 1, r
        # The organisation's own words for each job ("Ward 12") name it on its dashboard.
        page.locator(f"#jobs tr[data-job='{job['id']}']", has_text="Phone dashboard card") \
            .wait_for(timeout=WAIT_MS)
    finally:
        ctx.close()


def test_dispatch_pages_answer_bad_links_with_an_error_page(browser: Any, demo: DispatchDemo) -> None:
    ctx = browser.new_context(locale="en-US")
    s = demo.server
    job = new_job(demo, "Bad links")
    cases = [
        (f"/tech/{TECH}?token=nonsense&lang=en", 401, "not valid"),
        (f"/tech/city.t2?token={s.token('tech', tech=TECH)}&lang=en", 403, "does not open"),
        (f"/tech/city.nobody?token={s.token('admin')}&lang=en", 404, "no such technician"),
        (f"/track/{job['id']}?token={s.token('customer', job='city.j-other')}&lang=en", 403, "does not open"),
        (f"/track/city.j-000000000000?token={s.token('dispatcher', region='city')}&lang=en", 404, "could not find this job"),
        (f"/org/city.acme?token={s.token('org', org='city.other')}&lang=en", 403, "does not open"),
        (f"/org/city.other?token={s.token('admin')}&lang=en", 404, "no such organisation"),
    ]
    try:
        page = ctx.new_page()
        for path, status, text in cases:
            response = page.goto(demo.base + path)
            assert response.status == status, path
            assert text in page.locator(".error-screen h1").inner_text(), path
        # The organisation's own token opens its jobs' tracking pages too.
        r = httpx.get(f"{demo.base}/track/{job['id']}", params={"token": s.token("org", org=ORG)})
        assert r.status_code == 200
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert '"place":{"lat":31.329' in r.text
        # The front page lists the dispatch demo with working links.
        page.goto(demo.base + "/?lang=en")
        page.locator(".kind-org").wait_for(timeout=WAIT_MS)
        for kind in ("tech", "track", "org", "console"):
            href = page.locator(f".kind-{kind}").get_attribute("href")
            assert httpx.get(demo.base + href).status_code == 200, kind
    finally:
        ctx.close()


# -- unit tests of the pure modules ----------------------------------------------------------

ORIGIN = "http://sb.test"


@pytest.fixture(scope="module")
def unit(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context()
    pg = ctx.new_page()

    def serve(route: Any) -> None:
        path = route.request.url.removeprefix(ORIGIN).split("?")[0]
        file = WEB / path.removeprefix("/static/")
        if path == "/":
            route.fulfill(body="<!doctype html><title>unit</title>", content_type="text/html")
        elif path.startswith("/static/") and Path(file).is_file():
            route.fulfill(body=file.read_bytes(), content_type=mimetypes.guess_type(file.name)[0] or "text/plain")
        else:
            route.fulfill(status=404, body="")

    pg.route(f"{ORIGIN}/**", serve)
    pg.goto(f"{ORIGIN}/")
    yield pg
    ctx.close()


def run(page: Any, body: str) -> Any:
    """Run an async function body with the modules imported as m.map, m.tech_state, …"""
    return page.evaluate(
        """async (body) => {
          const names = ['map', 'tech-state', 'tech-outbox', 'tech-gps', 'org-state', 'dispatch'];
          const m = {};
          for (const n of names) m[n.replace('-', '_')] = await import(`/static/js/${n}.js`);
          return await (new Function('m', `return (async () => { ${body} })()`))(m);
        }""", body)


def test_map_geometry(unit: Any) -> None:
    r = run(unit, """
      const { mercator, unproject, fitView, toPx, contains, scaleBar, grid, tilesFor, distanceM, formatDistance } = m.map;
      const a = { lat: 31.23, lon: 121.47 }, b = { lat: 31.25, lon: 121.50 };
      const w = mercator(a.lat, a.lon), back = unproject(w.x, w.y);
      const v = fitView([a, b], 400, 300, { pad: 20 });
      const pa = toPx(v, a.lat, a.lon), pb = toPx(v, b.lat, b.lon);
      const one = fitView([a], 400, 300, { minSpanM: 1000 });
      const bar = scaleBar(v, 100);
      const g = grid(v);
      const tiles = tilesFor(v, 'https://t.example/{z}/{x}/{y}.png');
      return { back, pa, pb, inside: contains(v, [a, b]), outside: contains(v, [{ lat: 31.4, lon: 121.47 }]),
               span1: distanceM(unproject(one.x0, one.y0), unproject(one.x0 + 400 / one.scale, one.y0)),
               bar, step: g.step, nLats: g.lats.length, tiles: tiles.length, tile0: tiles[0].url,
               d: Math.round(distanceM(a, b)), f: [formatDistance(850, 'en'), formatDistance(1234, 'zh'), formatDistance(12345, 'en')],
               none: fitView([], 400, 300) };
    """)
    assert abs(r["back"]["lat"] - 31.23) < 1e-9 and abs(r["back"]["lon"] - 121.47) < 1e-9
    # Both points inside the padded box, north up, east right.
    assert 19.99 <= r["pa"][0] < r["pb"][0] <= 380.01 and 19.99 <= r["pb"][1] < r["pa"][1] <= 280.01
    assert r["inside"] and not r["outside"]
    assert r["span1"] >= 1000 * (400 / 300) * 0.99  # the minimum span, on the box's short side
    assert r["bar"]["metres"] in (200, 500, 1000) and r["bar"]["px"] <= 100
    assert r["step"] in (0.002, 0.005, 0.01) and r["nLats"] >= 1
    assert r["tiles"] >= 1 and r["tile0"].startswith("https://t.example/")
    assert 3500 < r["d"] < 3700
    assert r["f"] == ["850 m", "1.2 公里", "12 km"]
    assert r["none"] is None


def test_tech_state_from_views_compact_offers_and_replays(unit: Any) -> None:
    r = run(unit, """
      const { emptyTech, reduce, openOffers, nextStop, actionsFor, driveTarget, laterStops } = m.tech_state;
      const stop = (job, status, extra = {}) => ({ job, status, eta_ms: 1000, lat: 31.2, lon: 121.4, window: null, duration_s: 1800, skills: [], priority: 10, customer: null, address: null, ...extra });
      const view = { id: 't', name: 'N', status: 'available', active_job: null, position: null,
                     route: [stop('j1', 'assigned'), stop('j2', 'offered', { customer: 'C2' })], offers: [{ job: 'j2', deadline_ms: 5000, n: 1 }] };
      let s = reduce(emptyTech(), { op: 'snapshot', epoch: 'e', offset: '1-0', data: view });
      const first = { offers: s.offers.map((o) => [o.job, o.deadline, o.customer]), next: nextStop(s).job, acts: actionsFor(s).map((a) => a.kind) };
      // A compact offer (a wristband's frame), then the offer expiring in a replay (partial data).
      s = reduce(s, { op: 'event', epoch: 'e', offset: '2-0', type: 'offer', data: { j: 'j3', la: 31.3, lo: 121.5, d: 600, dl: 3000, n: 2, p: 90, w: [1, 2] } });
      const withCompact = s.offers.map((o) => [o.job, o.deadline, o.priority]);
      s = reduce(s, { op: 'event', epoch: 'e', offset: '3-0', type: 'offer_expired', data: { job: 'j2', reason: 'timeout' } });
      const afterExpiry = s.offers.map((o) => o.job);
      const open = openOffers(s, 4000).map((o) => o.job);
      s = reduce(s, { op: 'event', epoch: 'e', offset: '4-0', type: 'position', data: { lat: 31.1, lon: 121.1, t: 9 } });
      const pos = s.view.position;
      s = reduce(s, { op: 'event', epoch: 'e', offset: '5-0', type: 'route_changed', data: { ...view, status: 'en_route', active_job: 'j1', route: [stop('j1', 'en_route')], offers: [] } });
      return { first, withCompact, afterExpiry, open, pos, acts: actionsFor(s).map((a) => a.kind),
               target: driveTarget(s), later: laterStops(s).length, last: s.last.type,
               off: actionsFor(reduce(s, { op: 'event', epoch: 'e', offset: '6-0', type: 'status', data: { ...view, status: 'offline', route: [], offers: [] } })).map((a) => a.kind) };
    """)
    assert r["first"] == {"offers": [["j2", 5000, "C2"]], "next": "j1", "acts": ["depart", "break", "offline"]}
    assert r["withCompact"] == [["j3", 3000, 90], ["j2", 5000, 10]]  # earliest deadline first
    assert r["afterExpiry"] == ["j3"]
    assert r["open"] == []  # j3's deadline (3000) has passed at 4000
    assert r["pos"] == {"lat": 31.1, "lon": 121.1, "t": 9}
    assert r["acts"] == ["arrive", "fail"]
    assert r["target"] == {"lat": 31.2, "lon": 121.4, "job": "j1"}
    assert r["later"] == 0 and r["last"] == "route_changed"
    assert r["off"] == ["online"]


def test_outbox_orders_paces_and_replays_until_answered(unit: Any) -> None:
    r = run(unit, """
      const { Outbox, ID_BASE } = m.tech_outbox;
      const store = new Map();
      const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v), removeItem: (k) => store.delete(k) };
      const box = new Outbox({ store: storage, key: 'k', window: 2, rate: 3, random: () => 0.5 });
      const f1 = box.fix({ t: 100, la: 31.1234567, lo: 121.1, s: 3.33 });
      const f2 = box.fix({ t: 100, la: 31.2, lo: 121.2 });  // same ms: made newer
      const a1 = box.act('accept', 150, { job: 'j1' });
      const saved = JSON.parse(store.get('k'));
      const due1 = box.due(0).map((e) => box.sending(e, 0));
      const due2 = box.due(0);  // the window (2) is full
      const r1 = box.reply({ op: 'pong', id: due1[0].id });
      const r2 = box.reply({ op: 'error', id: due1[1].id, code: 'gps_out_of_order', temporary: false });
      const due3 = box.due(10).map((e) => box.sending(e, 10));
      const paced = box.due(20).length; // 3 sent in this second: the rate holds the rest
      box.reconnected();  // the act was sent, never answered: it goes again, same aid
      const again = box.due(2000).map((e) => box.sending(e, 2000));
      const rt = box.reply({ op: 'error', id: again[0].id, code: 'rate_limited', temporary: true });
      const stillThere = box.counts();
      const resend = box.due(3000).map((e) => box.sending(e, 3000));
      box.reply({ op: 'pong', id: resend[0].id });
      const reloaded = new Outbox({ store: storage, key: 'k' }).counts();
      const mine = box.reply({ op: 'pong', id: 3 });
      // Thinning: a long time offline keeps the newest fixes.
      const thin = new Outbox({ maxFixes: 10 });
      for (let i = 0; i < 30; i += 1) thin.fix({ t: i, la: 1, lo: 1 });
      return { f1: f1.msg, f2t: f2.msg.t, aid: a1.msg.aid, saved: saved.map((x) => x.k), due1, due2: due2.length, r1: r1.ok, r2: [r2.ok, r2.retry ?? false],
               due3: due3.map((x) => x.op), paced, again: again.map((x) => [x.op, x.aid]), rt: rt.retry, stillThere, resend: resend.map((x) => x.aid),
               reloaded, mine, base: ID_BASE, thin: thin.counts().fixes, newest: thin.entries.at(-1).msg.t };
    """)
    assert r["f1"] == {"op": "gps", "t": 100, "la": 31.123457, "lo": 121.1, "s": 3.3}
    assert r["f2t"] == 101
    assert r["saved"] == ["accept"]
    assert [m["op"] for m in r["due1"]] == ["gps", "gps"] and r["due1"][0]["id"] == r["base"]
    assert r["due2"] == 0
    assert r["r1"] is True and r["r2"] == [False, False]  # a refused fix is dropped, not retried
    assert r["due3"] == ["act"]
    assert r["paced"] == 0
    assert r["again"] == [["act", r["aid"]]]
    assert r["rt"] is True and r["stillThere"]["acts"] == 1
    assert r["resend"] == [r["aid"]]
    assert r["reloaded"] == {"acts": 0, "fixes": 0, "total": 0}  # answered: forgotten
    assert r["mine"] is None  # a reply to one of the client's own requests is not the outbox's
    assert r["thin"] <= 20 and r["newest"] == 30


def test_simulated_route_drives_to_the_target_and_idles_there(unit: Any) -> None:
    r = run(unit, """
      const { SimulatedRoute, stepToward } = m.tech_gps;
      const fixes = [];
      let clock = 0;
      let target = { lat: 31.001, lon: 121.0 };  // 111 m north
      const sim = new SimulatedRoute({ start: { lat: 31.0, lon: 121.0 }, target: () => target, onFix: (f) => fixes.push(f),
                                       clock: () => clock, speedKmh: 72, everyMs: 1000, idleMs: 5000, setInterval: () => 1, clearInterval: () => {} });
      for (let i = 0; i < 11; i += 1) { sim.tick(); clock += 1000; }
      const step = stepToward({ lat: 31, lon: 121 }, { lat: 31.01, lon: 121 }, 100);
      // The browser's GPS: held back when too soon, then sent (the latest position).
      const sent = [];
      const timers = [];
      let now = 0;
      const gps = new m.tech_gps.DeviceGps({ onFix: (f) => sent.push([f.t, f.la]), clock: () => now, setTimeout: (fn, ms) => timers.push([fn, ms]) });
      gps.watch = 1;
      gps.seen({ latitude: 31.0, longitude: 121 });          // first: at once
      now = 400; gps.seen({ latitude: 31.0003, longitude: 121 });  // 33 m, 0.4 s later: held
      now = 700; gps.seen({ latitude: 31.0006, longitude: 121 });  // still held: the newest wins
      const heldFor = timers.map(([, ms]) => ms);
      now = 1000; timers[0][0]();
      now = 1500; gps.seen({ latitude: 31.0006, longitude: 121 });  // standing: every 3 s
      return { n: fixes.length, first: fixes[0], last: fixes.at(-1), step, sent, heldFor, timers: timers.length };
    """)
    # 20 m a second: six moving fixes reach it, then one idle fix every 5 s.
    assert r["first"]["s"] == 20 and abs(r["first"]["la"] - 31.00018) < 1e-5
    assert r["last"]["la"] == 31.001 and r["last"]["s"] == 0
    assert r["n"] == 7
    assert r["step"]["arrived"] is False and abs(r["step"]["pos"]["lat"] - 31.000898) < 1e-5
    assert r["sent"] == [[0, 31.0], [1000, 31.0006]] and r["heldFor"] == [600]
    assert r["timers"] == 2  # the standing fix waits for its 3 s


def test_dashboard_figures(unit: Any) -> None:
    r = run(unit, """
      const { kpis, segments, sortJobs, alerts, viewOf } = m.org_state;
      const { personName, shortJob, formatEta, lateByMin, liveEta, localHour, zonesIn } = m.dispatch;
      const view = { counts: { done: 3, en_route: 1, on_site: 1, offered: 4, unassignable: 1 }, batches: [],
        jobs: [{ id: 'c.j-bbbb', status: 'offered', eta_ms: 5000, window_end_ms: 9000, at_risk: false },
               { id: 'c.j-aaaa', status: 'offered', eta_ms: null, window_end_ms: 4000, at_risk: true },
               { id: 'c.j-cccc', status: 'en_route', eta_ms: 700000, window_end_ms: 100000, at_risk: true }],
        on_the_way: [], at_risk: ['c.j-cccc', 'c.j-aaaa'] };
      return { k: kpis(view), segs: segments({ done: 3, offered: 1 }, 8).map((s) => [s.status, s.share]),
               order: sortJobs(view.jobs).map((j) => j.id), alerts: alerts(view),
               partial: viewOf({ data: { changed: { job: 'x' } } }), whole: !!viewOf({ data: view }),
               names: [personName('王伟 Wang Wei', 'zh'), personName('王伟 Wang Wei', 'en'), personName('Ann', 'zh')],
               // A zone's name per language, or one string, or none.
               zones: ['zh', 'en', 'fr'].map((l) => zonesIn({ zones: [{ id: 'n', name: { zh: '北区', en: 'North' }, polygon: [] },
                 { id: 's', name: 'South', polygon: [] }, { id: 'x', polygon: [] }] }, l).map((z) => z.name)),
               none: zonesIn(null, 'en'),
               ref: shortJob('city.j-8f2c91a0beef'), eta: formatEta(Date.UTC(2026, 0, 1, 6, 30), Date.UTC(2026, 0, 1, 6, 18), 'en', 'Asia/Shanghai'),
               late: lateByMin(700000, 100000),
               // 1 km north at 36 km/h (10 m/s), detour 1.2: 120 s; at 08:00 in Shanghai, half speed.
               live: liveEta({ lat: 31, lon: 121 }, { lat: 31 + 1000 / 111195, lon: 121 }, 0, { speed_kmh: 36, detour: 1.2 }, 'UTC'),
               rush: liveEta({ lat: 31, lon: 121 }, { lat: 31 + 1000 / 111195, lon: 121 }, 0, { speed_kmh: 36, detour: 1.2, speed_by_hour: Array.from({ length: 24 }, (_, h) => (h === 8 ? 0.5 : 1)) }, 'Asia/Shanghai'),
               hour: localHour(Date.UTC(2026, 0, 1, 23, 30), 'Asia/Shanghai') };
    """)
    assert r["k"] == {"total": 10, "open": 7, "onWay": 1, "done": 3, "risk": 2}  # on site is not on the way
    assert r["segs"] == [["done", 0.375], ["offered", 0.125]]
    assert r["order"] == ["c.j-cccc", "c.j-aaaa", "c.j-bbbb"]
    assert [(a["job"], a["late_min"]) for a in r["alerts"]] == [("c.j-aaaa", None), ("c.j-cccc", 10)]
    assert r["partial"] is None and r["whole"]
    assert r["names"] == ["王伟", "Wang Wei", "Ann"]
    assert r["zones"] == [["北区", "South", ""], ["North", "South", ""], ["北区", "South", ""]]
    assert r["none"] == []
    assert r["ref"] == "8F2C"
    assert r["eta"] == "14:30 · in 12 min"
    assert r["late"] == 10
    assert r["live"] in (120_000, 121_000) and r["rush"] in (240_000, 241_000) and r["hour"] == 7


def test_map_view_draws_zones_markers_and_configured_tiles(unit: Any) -> None:
    r = run(unit, """
      const box = document.createElement('div');
      box.id = 'm';
      box.style.width = '400px';
      box.style.height = '300px';
      box.style.position = 'relative';
      document.body.append(box);
      const map = new m.map.MapView(box, { label: 'Test map', tiles: 'https://tiles.example/{z}/{x}/{y}.png', attribution: '© Example' });
      const zone = { id: 'z', name: 'Zone', polygon: [[121.40, 31.20], [121.50, 31.20], [121.50, 31.26], [121.40, 31.26]] };
      map.update({ zones: [zone], lines: [{ id: 'l', kind: 'route', points: [{ lat: 31.22, lon: 121.44 }, { lat: 31.24, lon: 121.46 }] }],
                   jobs: [{ id: 'j1', lat: 31.24, lon: 121.46, kind: 'next', label: '1' }],
                   techs: [{ id: 't1', lat: 31.22, lon: 121.44, label: 'You' }] });
      const tech1 = box.querySelector('.m-tech');
      map.update({ techs: [{ id: 't1', lat: 31.225, lon: 121.445, label: 'You' }] });
      const out = { images: box.querySelectorAll('image').length, href: box.querySelector('image')?.getAttribute('href'),
                    zones: box.querySelectorAll('.map-zone').length, lines: box.querySelectorAll('.map-line').length,
                    same: box.querySelector('.m-tech') === tech1, lat: tech1.dataset.lat, job: box.querySelector('.m-job').dataset.id,
                    title: box.querySelector('svg').getAttribute('role') === 'img' && box.querySelector('title').textContent,  // named by its <title>
                    attribution: box.querySelector('.map-attribution').textContent, tiles: box.querySelector('svg').classList.contains('has-tiles') };
      map.update({ techs: [] });
      out.gone = box.querySelectorAll('.m-tech').length;
      box.remove();
      return out;
    """)
    assert r["images"] >= 1 and r["href"].startswith("https://tiles.example/") and r["tiles"]
    assert r["zones"] == 1 and r["lines"] == 1 and r["job"] == "j1"
    assert r["same"] and r["lat"] == "31.225"  # the marker moved; it was not replaced
    assert r["title"] == "Test map" and r["attribution"] == "© Example"
    assert r["gone"] == 0


def test_map_labels_do_not_pile_up(unit: Any) -> None:
    """A cluster of jobs (a building complex) showed its labels on top of each other and a
    zone's name under the pins: labels that would cover another are hidden, people and
    places that matter first, and a zone's name moves down clear of the markers."""
    r = run(unit, """
      const { declutter, labelWidth } = m.map;
      const box = (x, y, w = 20) => ({ x, y, w, h: 14 });
      const picked = declutter([
        { key: 'a', priority: 1, spots: [box(0, 0)] },
        { key: 'b', priority: 1, spots: [box(10, 5)] },
        { key: 't', priority: 3, spots: [box(12, 6)] },
        { key: 'z', priority: 0, avoid: true, spots: [box(100, 0), box(100, 16)] },
        { key: 'c', priority: 1, spots: [box(40, 0)] },
      ], [box(95, 0, 30)]);
      const div = document.createElement('div');
      div.id = 'm2';
      div.style.width = '400px';
      div.style.height = '300px';
      document.body.append(div);
      const map = new m.map.MapView(div, { label: 'cluster' });
      const zone = { id: 'z', name: '浦西 Puxi', polygon: [[121.40, 31.20], [121.50, 31.20], [121.50, 31.26], [121.40, 31.26]] };
      const jobs = ['57AC', 'D26B', 'E628', '9F01'].map((label, i) => ({ id: `j${i}`, lat: 31.23 + i * 0.00005, lon: 121.45, kind: i === 2 ? 'risk' : 'assigned', label }));
      map.update({ zones: [zone], jobs, techs: [{ id: 't', lat: 31.23, lon: 121.4502, label: '杨磊' }] });
      const shown = [...div.querySelectorAll('.m-label')].filter((t) => !t.dataset.hidden).map((t) => t.textContent);
      const zoneText = div.querySelector('.map-zone-name');
      // Far apart, every label shows again.
      map.update({ jobs: jobs.map((j, i) => ({ ...j, lat: 31.21 + i * 0.01 })), techs: [] });
      const apart = [...div.querySelectorAll('.m-label')].filter((t) => !t.dataset.hidden).length;
      div.remove();
      return { picked: Object.fromEntries(picked), shown, apart, cjk: labelWidth('浦西') > labelWidth('ab'),
               zoneHidden: !!zoneText.dataset.hidden, zoneY: Number(zoneText.getAttribute('y')), zoneTop: Number(zoneText.dataset.top) };
    """)
    # t first (priority 3) hides a and b, which it overlaps; the zone's name takes its
    # second spot (the first is over a marker); c is clear.
    assert r["picked"] == {"t": 0, "c": 0, "z": 1}
    assert "杨磊" in r["shown"] and "E628" in r["shown"]  # the person, then the job at risk
    assert len(r["shown"]) < 5  # the rest of the pile is hidden
    assert r["apart"] == 4 and r["cjk"]
    assert r["zoneHidden"] or r["zoneY"] - r["zoneTop"] in (0, 16, 32, 48)  # one of its spots


def test_a_tile_url_is_off_by_default_and_allowed_by_the_csp_when_set() -> None:
    from realtime.pages import HEADERS, map_setting
    from realtime.settings import from_env
    assert map_setting(from_env({})) == ({}, HEADERS)
    plain = from_env({"SWITCHBOARD_MAP_TILE_URL": "http://plain.example/{z}/{x}/{y}.png"})
    assert map_setting(plain)[0] == {}
    boot, headers = map_setting(from_env({
        "SWITCHBOARD_MAP_TILE_URL": "https://tiles.example/{z}/{x}/{y}.png",
        "SWITCHBOARD_MAP_ATTRIBUTION": "© Example"}))
    assert boot == {"tiles": "https://tiles.example/{z}/{x}/{y}.png", "attribution": "© Example"}
    assert "img-src 'self' data: https://tiles.example;" in headers["Content-Security-Policy"]
    assert "connect-src 'self'" in headers["Content-Security-Policy"]


def test_a_device_whose_technician_is_removed_says_so(browser: Any, demo: DispatchDemo) -> None:
    """DELETE /v1/technicians/{id} while its device is open: the page stops and says there
    is no such technician (it used to keep showing the last route)."""
    gone = "city.tgone"
    demo.put_tech(gone, *HOME, skills=[SKILL], name="Wu")
    ctx = browser.new_context(locale="en-US")
    try:
        page = ctx.new_page()
        page.goto(demo.tech_url(gone, lang="en"))
        wait_js(page, "window.switchboardTech && window.switchboardTech.state.ready")
        demo.call("DELETE", f"/v1/technicians/{gone}")
        page.locator(".error-screen", has_text="There is no such technician.") \
            .wait_for(timeout=WAIT_MS)
    finally:
        ctx.close()
