"""A bilingual board shows both languages at 1920x1080 (and 1280x720, the same layout smaller),
on boards of 12 and 20 counters:
  - the counter tiles of a 12-counter site (short tiles, under 7.5rem) hid the English name
    (the short-tile rule dropped the second language below 7.5rem);
  - the recent-calls list named counters in the board's language only ("2号诊室");
  - the "Now calling" panel lost its English line ("Ticket A001, please go to Room 2") after a
    reload or reconnect: the snapshot's calls had no announcement texts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

from queueing.demo import demo_site
from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser

VIEWPORTS = [(1920, 1080), (1280, 720)]
COUNTERS = [12, 20]  # short tiles (three rows of four), shorter (four rows of five)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    s = DemoServer(tmp_path_factory.mktemp("bilingual")).start()
    for count in COUNTERS:
        site: dict[str, Any] = msgspec.to_builtins(demo_site())
        for n in range(7, count + 1):
            site["counters"].append({"id": str(n), "name": {"zh": f"{n}号窗口",
                                     "en": f"Counter {n}"}, "services": ["lab"]})
        name = f"bi{count}"
        r = httpx.put(f"{s.base}/v1/sites/{name}", json=site, timeout=10,
                      headers={"Authorization": f"Bearer {s.token('admin')}"})
        assert r.status_code == 200, r.text
        kiosk = s.token("kiosk", site=name)
        s.post(f"/v1/sites/{name}/tickets", kiosk, {"service": "internal", "channel": "kiosk"})
        agent = s.token("agent", site=name, counter="2")
        s.post(f"/v1/sites/{name}/counters/2/open", agent)
        s.post(f"/v1/sites/{name}/counters/2/call-next", agent)
    yield s
    s.stop()


TILES = """() => [...document.querySelectorAll('#counters .counter-tile')].map((tile) => {
  const t = tile.getBoundingClientRect();
  const l2 = tile.querySelector('.ct-name .l2');
  const r = l2?.getBoundingClientRect();
  const cs = getComputedStyle(tile);
  const inner = tile.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
  return {id: tile.dataset.counter, inner,
          l2: l2 && l2.getClientRects().length ? l2.textContent.replaceAll('\\u00a0', ' ') : null,
          clamped: !!l2 && l2.classList.contains('clamped'),
          inside: !!r && r.left >= t.left - 0.5 && r.right <= t.right + 0.5
                  && r.top >= t.top - 0.5 && r.bottom <= t.bottom + 0.5};
})"""


@pytest.mark.parametrize("count", COUNTERS)
@pytest.mark.parametrize("size", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_a_bilingual_board_shows_both_languages(browser: Any, server: DemoServer,
                                                size: tuple[int, int], count: int) -> None:
    site = f"bi{count}"
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    try:
        page = ctx.new_page()
        page.goto(f"{server.base}/board/{site}?token={server.token('display', site=site)}")
        for attempt in ("first load", "after a reload"):
            wait_js(page, "window.switchboardBoard && document.body.dataset.conn === 'online' "
                          "&& document.querySelector('#hero .hero-number')")
            page.wait_for_timeout(200)  # fonts settle; fitting runs in the same frame
            tiles = page.evaluate(TILES)
            assert len(tiles) == count
            # Short tiles (under the 7.5rem of the short-tile layout; 1rem = height / 67.5).
            assert tiles[0]["inner"] < 7.5 * size[1] / 67.5, tiles[0]
            for tile in tiles:
                room = tile["id"] in ("1", "2", "3")
                en = f"{'Room' if room else 'Counter'} {tile['id']}"
                assert tile["l2"] == en and tile["inside"], (size, attempt, tile)
                assert not tile["clamped"], (size, attempt, tile)
            # The recent calls: the counter in Chinese, and in English under it.
            row = page.locator("#recent .recent-row").first
            assert row.locator(".rr-counter .l1").inner_text().replace("\xa0", " ") == "2号诊室"
            assert row.locator(".rr-counter .l2").inner_text().replace("\xa0", " ") == "Room 2"
            assert row.locator(".rr-counter .l2").get_attribute("lang") == "en"
            # The panel: the English line with the call's own text, also after a reload.
            second = page.locator("#hero .hero-second")
            assert second.inner_text() == "Ticket A001, please go to Room 2", (size, attempt)
            page.reload()
    finally:
        ctx.close()
