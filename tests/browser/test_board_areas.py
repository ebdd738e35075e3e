"""Waiting areas: one site (shared kiosks, transfers between rooms) whose waiting rooms each
have a board showing and saying only their own counters' calls (`/board/{site}?area=wr1`).
Before, every board showed and said every counter of the site. The site's `areas` are
checked when it is put (unknown counter, duplicate area: 400 with details.field "areas",
the document unchanged); a board set to an area the site lacks says so instead of showing
every room."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

from queueing.demo import demo_site
from tests.browser.conftest import DemoServer, wait_js
from tests.browser.test_board_announcements import FAKE_VOICE
from tests.browser.test_js_units import page, run  # noqa: F401  (the unit page fixture)
from tests.browser.test_setup_page import open_setup, row

pytestmark = pytest.mark.browser

SITE = "opd"
AREAS = [
    {"id": "wr1", "name": {"zh": "一号候诊区", "en": "Waiting room 1"},
     "counters": ["1", "2", "3"]},
    {"id": "wr2", "name": {"zh": "二号候诊区", "en": "Waiting room 2"},
     "counters": ["4", "5", "6"]},
    # A corridor between the two: a counter may be in two areas.
    {"id": "corridor", "name": {"zh": "走廊", "en": "Corridor"}, "counters": ["3", "4"]},
]


def doc(areas: list[dict[str, Any]]) -> dict[str, Any]:
    site: dict[str, Any] = msgspec.to_builtins(demo_site())
    return {**site, "areas": areas}


def put(s: DemoServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.put(f"{s.base}/v1/sites/{SITE}", json=body, timeout=10,
                     headers={"Authorization": f"Bearer {s.token('admin')}"})


def get(s: DemoServer) -> dict[str, Any]:
    r = httpx.get(f"{s.base}/v1/sites/{SITE}", timeout=10,
                  headers={"Authorization": f"Bearer {s.token('admin')}"})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    s = DemoServer(tmp_path_factory.mktemp("areas")).start()
    assert put(s, doc(AREAS)).status_code == 200
    yield s
    s.stop()


def call(s: DemoServer, service: str, counter: str) -> str:
    kiosk = s.token("kiosk", site=SITE)
    body = {"service": service, "channel": "kiosk"}
    number = s.post(f"/v1/sites/{SITE}/tickets", kiosk, body)["number"]
    agent = s.token("agent", site=SITE, counter=counter)
    s.post(f"/v1/sites/{SITE}/counters/{counter}/open", agent)
    called = s.post(f"/v1/sites/{SITE}/counters/{counter}/call-next", agent)
    assert number in str(called), called
    return str(number)


def board(browser: Any, s: DemoServer, area: str | None) -> Any:
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    ctx.add_init_script(FAKE_VOICE)
    pg = ctx.new_page()
    pg.goto(f"{s.base}/board/{SITE}?token={s.token('display', site=SITE)}&lang=en"
              + (f"&area={area}" if area else ""))
    return pg


def ready(pg: Any) -> None:
    wait_js(pg, "window.switchboardBoard && document.body.dataset.conn === 'online' "
                  "&& window.switchboardBoard.offset && window.switchboardBoard.sound === 'on'")


SHOWN = """() => ({
  tiles: [...document.querySelectorAll('#counters .counter-tile')].map((t) => t.dataset.counter),
  recent: [...document.querySelectorAll('#recent .rr-number')].map((e) => e.textContent),
  hero: document.querySelector('#hero .hero-number')?.textContent ?? null,
  services: [...document.querySelectorAll('#services .svc-prefix')].map((e) => e.textContent),
  sub: document.getElementById('site-sub').textContent,
})"""


def test_areas_are_checked_when_the_site_is_put(server: DemoServer) -> None:
    before = get(server)
    assert before["areas"] == AREAS
    for areas, reason in (
            ([{"id": "wr1", "name": "Room", "counters": ["1", "42"]}], "unknown_counter"),
            ([AREAS[0], {**AREAS[1], "id": "wr1"}], "duplicate_area")):
        r = put(server, doc(areas))
        assert r.status_code == 400, r.text
        err = r.json()
        assert err["code"] == "bad_request"
        assert err["details"]["field"] == "areas" and err["details"]["reason"] == reason, err
        assert get(server)["areas"] == AREAS  # unchanged


def test_each_room_shows_and_says_only_its_counters(browser: Any, server: DemoServer) -> None:
    rooms = {name: board(browser, server, name) for name in ("wr1", "wr2", "corridor")}
    whole = board(browser, server, None)
    try:
        for pg in [*rooms.values(), whole]:
            ready(pg)
        a = call(server, "internal", "2")   # room 2: waiting room 1
        d = call(server, "pharmacy", "5")   # counter 5: waiting room 2
        c = call(server, "lab", "4")        # counter 4: waiting room 2 and the corridor
        wait_js(whole, "document.querySelectorAll('#recent .rr-number').length === 3")
        for pg in rooms.values():
            wait_js(pg, "window.switchboardBoard.state.recent.length > 0")
            pg.wait_for_timeout(1500)  # any call of another room would be in by now
        shown = {name: pg.evaluate(SHOWN) for name, pg in rooms.items()}

        wr1, wr2, corridor = shown["wr1"], shown["wr2"], shown["corridor"]
        assert wr1["tiles"] == ["1", "2", "3"] and wr1["recent"] == [a] and wr1["hero"] == a
        assert wr1["services"] == ["A", "B"], wr1  # internal medicine, paediatrics
        assert wr1["sub"].startswith("Waiting room 1"), wr1
        assert wr2["tiles"] == ["4", "5", "6"] and wr2["recent"] == [c, d]
        assert wr2["services"] == ["C", "D", "E"], wr2
        assert corridor["tiles"] == ["3", "4"] and corridor["recent"] == [c]
        # Said: only the room's own calls.
        wait_js(rooms["wr1"], "window.switchboardBoard.spoken.length >= 2")
        said = spoken_texts(rooms["wr1"])
        assert said and all(a in t and d not in t and c not in t for t in said), said
        wait_js(rooms["wr2"], f"window.switchboardBoard.spoken.some((s) => s.text.includes('{c}'))")
        assert not any(a in t for t in spoken_texts(rooms["wr2"]))
        assert not any(a in t or d in t for t in spoken_texts(rooms["corridor"]))

        # After a reload (the snapshot), still only the room's own.
        pg = rooms["wr1"]
        pg.reload()
        ready(pg)
        again = pg.evaluate(SHOWN)
        assert again["tiles"] == ["1", "2", "3"] and again["recent"] == [a] and again["hero"] == a
    finally:
        for pg in [*rooms.values(), whole]:
            pg.context.close()


def spoken_texts(pg: Any) -> list[str]:
    return [str(s["text"]) for s in pg.evaluate("window.switchboardBoard.spoken")]


def test_an_unknown_area_says_so_instead_of_showing_every_room(
        browser: Any, server: DemoServer) -> None:
    pg = board(browser, server, "wr9")
    try:
        wait_js(pg, "document.body.dataset.area === 'unknown'")
        text = pg.locator(".error-screen").inner_text()
        assert "waiting area" in text and "?area=wr9" in text, text
        assert pg.locator("#counters").count() == 0
    finally:
        pg.context.close()


def test_a_board_whose_area_is_removed_says_so(browser: Any, server: DemoServer) -> None:
    pg = board(browser, server, "corridor")
    try:
        ready(pg)
        assert put(server, doc(AREAS[:2])).status_code == 200
        wait_js(pg, "document.body.dataset.area === 'unknown'")
    finally:
        pg.context.close()
        assert put(server, doc(AREAS)).status_code == 200


def test_the_setup_page_keeps_the_areas_when_it_saves(browser: Any, server: DemoServer) -> None:
    """The set-up page has no form for areas yet: saving the rest must not drop them."""
    ctx = browser.new_context()
    try:
        pg = open_setup(ctx, server, SITE)
        row(pg, "service", "lab").get_by_label("Name (English)").fill("Blood tests")
        pg.locator("#save").click()
        pg.locator("#save-status", has_text="Saved.").wait_for(timeout=15000)
        saved = get(server)
        assert saved["services"][2]["name"]["en"] == "Blood tests"
        assert saved["areas"] == AREAS
    finally:
        ctx.close()


def test_for_area_narrows_the_board_topic(page: Any) -> None:  # noqa: F811
    """board-state.js forArea, fed by hand: what a board set to counters 1 and 2 sees."""
    out = run(page, """
      const s = m.board_state;
      const area = new Set(['1', '2']);
      const counters = [{id: '1'}, {id: '2'}, {id: '5'}];
      const snap = s.forArea({op: 'snapshot', data: {counters, recent: [
        {number: 'D001', counter: '5'}, {number: 'A001', counter: '2'}]}}, area);
      const here = s.forArea({op: 'event', type: 'called', data: {number: 'A002', counter: '1',
        counters, waiting: {internal: {waiting: 3}}}}, area);
      const there = s.forArea({op: 'event', type: 'called', offset: '9-0', data: {number: 'D002',
        counter: '5', counters, waiting: {pharmacy: {waiting: 1}}, announcement: {en: 'x'}}}, area);
      const tile = s.forArea({op: 'event', type: 'counter', data: {counter: {id: '5'}}}, area);
      const whole = s.forArea({op: 'event', type: 'called', data: {counter: '5'}}, null);
      return {snap: [snap.data.counters.map((c) => c.id), snap.data.recent.map((r) => r.number)],
              here: [here.type, here.data.counters.length], there, tile: tile.data,
              whole: whole.type};""")
    assert out["snap"] == [["1", "2"], ["A001"]]
    assert out["here"] == ["called", 2]
    # Another room's call: no call here (not shown, not said), its figures and position kept.
    assert out["there"] == {"op": "event", "type": "waiting", "offset": "9-0", "outside": True,
                            "data": {"waiting": {"pharmacy": {"waiting": 1}},
                                     "counters": [{"id": "1"}, {"id": "2"}]}}
    assert out["tile"] == {}
    assert out["whole"] == "called"
