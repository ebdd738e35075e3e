"""The display board's counter tiles with a real hospital's long names, in both languages: the
tile's name ran on one line, cut off at the tile's edge, and the second-language name beside it
was cut to "Labor…" or not shown at all ("Endocrinology and Me", "内分泌与代谢性疾病专家门诊第
三诊室" with no English). Now each wraps onto two lines and shrinks (the number gives way a
little too) until the tile holds them; only a name too long even at the smallest size is cut,
with "…", inside its tile. At 1920×1080, 1280×720 and a portrait 1080×1920 TV; on a board of
six counters (tall tiles) and of twelve (short tiles, no second language)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

from queueing.demo import demo_site
from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser

LONG = {  # counter id: (English, Chinese), as hospitals name their rooms and desks
    "1": ("Endocrinology and Diabetes Clinic 3", "内分泌与代谢性疾病专家门诊第三诊室"),
    "2": ("Registration and Medical Records 2", "挂号收费及病案复印综合服务窗口2"),
    "3": ("Paediatric Respiratory Clinic 12", "儿童呼吸专科门诊12号诊室"),
    "4": ("Laboratory Blood Sampling Desk 4", "检验科采血窗口4"),
}
# Too long for any tile even at the smallest size: cut with "…", but inside its tile.
TOO_LONG = ("Department of Endocrinology, Metabolic Diseases and Clinical Nutrition, "
            "Outpatient Clinic 5", "内分泌代谢病与临床营养科专家门诊及慢病管理中心第五诊室")
VIEWPORTS = [(1920, 1080), (1280, 720), (1080, 1920)]
SERVICE = {"1": "internal", "2": "internal", "3": "paediatrics", "4": "lab"}

# Every tile: its name's lines, state and number — what they say, whether they are cut
# (scrollWidth > clientWidth, scrollHeight > clientHeight), whether they lie inside the tile,
# whether the name runs into the state or the number under it.
MEASURE = """() => [...document.querySelectorAll('#counters .counter-tile')].map((tile) => {
  const rect = (el) => el.getBoundingClientRect();
  const t = rect(tile);
  const name = rect(tile.querySelector('.ct-name'));
  const part = (el) => {
    const r = rect(el);
    const beside = r.left >= name.right - 0.5 || r.right <= name.left + 0.5;
    return {cls: el.className, text: el.textContent.replaceAll('\\u00a0', ' '),
            shown: el.getClientRects().length > 0, px: parseFloat(getComputedStyle(el).fontSize),
            cutX: el.scrollWidth > el.clientWidth, cutY: el.scrollHeight > el.clientHeight + 1,
            inside: r.left >= t.left - 0.5 && r.right <= t.right + 0.5
                    && r.top >= t.top - 0.5 && r.bottom <= t.bottom + 0.5,
            under: !el.closest('.ct-name') && !beside && r.top < name.bottom - 0.5};
  };
  return {id: tile.dataset.counter,
          namePx: parseFloat(getComputedStyle(tile.querySelector('.ct-name')).fontSize),
          parts: [...tile.querySelectorAll('.ct-name .l1, .ct-name .l2, .ct-state, .ct-number')]
            .map(part)};
})"""


def put_site(s: DemoServer, site_id: str, names: dict[str, tuple[str, str]],
             extra: int = 0) -> None:
    site: dict[str, Any] = msgspec.to_builtins(demo_site())
    site["id"] = site_id
    for n in range(extra):  # more counters, so the tiles turn short
        site["counters"].append({"id": str(7 + n), "name": {"zh": f"{7 + n}号窗口"},
                                 "services": ["lab"]})
    for c in site["counters"]:
        if c["id"] in names:
            en, zh = names[c["id"]]
            c["name"] = {"zh": zh, "en": en}
    admin = {"Authorization": f"Bearer {s.token('admin')}"}
    r = httpx.put(f"{s.base}/v1/sites/{site_id}", json=site, headers=admin, timeout=10)
    assert r.status_code == 200, r.text
    kiosk = s.token("kiosk", site=site_id)
    for counter, service in SERVICE.items():
        s.post(f"/v1/sites/{site_id}/tickets", kiosk, {"service": service, "channel": "kiosk"})
        agent = s.token("agent", site=site_id, counter=counter)
        s.post(f"/v1/sites/{site_id}/counters/{counter}/open", agent)
        s.post(f"/v1/sites/{site_id}/counters/{counter}/call-next", agent)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    s = DemoServer(tmp_path_factory.mktemp("tiles")).start()
    put_site(s, "hosp", {**LONG, "5": TOO_LONG})
    put_site(s, "big", {**LONG, **{str(7 + n): LONG[str(1 + n % 4)] for n in range(6)}}, 6)
    yield s
    s.stop()


def measure(browser: Any, server: DemoServer, site: str, size: tuple[int, int],
            lang: str | None) -> list[dict[str, Any]]:
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    try:
        page = ctx.new_page()
        page.goto(f"{server.base}/board/{site}?token={server.token('display', site=site)}"
                  + (f"&lang={lang}" if lang else ""))
        wait_js(page, "window.switchboardBoard && document.body.dataset.conn === 'online' "
                      "&& document.querySelectorAll('#counters .st-called').length === 4")
        page.wait_for_timeout(150)  # fonts settle; the fitting runs in the same frame
        return page.evaluate(MEASURE)  # type: ignore[no-any-return]
    finally:
        ctx.close()


@pytest.mark.parametrize("size", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
@pytest.mark.parametrize("lang", ["en", None], ids=["en", "zh+en"])
def test_long_names_in_both_languages_fit_their_tiles(
        browser: Any, server: DemoServer, size: tuple[int, int], lang: str | None) -> None:
    tiles = measure(browser, server, "hosp", size, lang)
    assert len(tiles) == 6
    for tile in tiles:
        for p in tile["parts"]:
            assert p["shown"] and p["inside"] and not p["under"], (size, lang, tile["id"], p)
        if tile["id"] == "5":
            continue  # TOO_LONG: below
        name = [p for p in tile["parts"] if p["cls"].startswith("l")]
        if tile["id"] in LONG:
            en, zh = LONG[tile["id"]]
            # The whole name in both languages (the board's language first), uncut.
            assert [p["text"] for p in name] == ([en, zh] if lang == "en" else [zh, en]), name
        for p in name:
            assert p["shown"] and not p["cutX"] and not p["cutY"], (size, lang, tile["id"], p)
            assert "clamped" not in p["cls"], (size, lang, tile["id"], p)
        # The second language shrinks to 70 % of its size (0.62 of the name's) at the least.
        assert name[1]["px"] >= 0.7 * 0.62 * tile["namePx"] - 0.5, (size, lang, name)


@pytest.mark.parametrize("size", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_a_name_too_long_for_any_tile_is_cut_with_an_ellipsis_inside_it(
        browser: Any, server: DemoServer, size: tuple[int, int]) -> None:
    for lang in ("en", None):
        tile = next(t for t in measure(browser, server, "hosp", size, lang) if t["id"] == "5")
        for p in tile["parts"]:
            assert p["inside"] and not p["under"], (size, lang, p)
            assert not p["cutX"], (size, lang, p)


@pytest.mark.parametrize("size", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_twelve_counters_short_tiles_keep_long_names_inside(
        browser: Any, server: DemoServer, size: tuple[int, int]) -> None:
    for lang in ("en", None):
        tiles = measure(browser, server, "big", size, lang)
        assert len(tiles) == 12
        for tile in tiles:
            # A short tile shows no second language (as before); all the rest is whole.
            shown = [p for p in tile["parts"] if p["shown"]]
            for p in shown:
                assert p["inside"] and not p["under"], (size, lang, tile["id"], p)
                assert not p["cutX"], (size, lang, tile["id"], p)
                if p["cls"].startswith("l"):  # the name: whole, never cut
                    assert "clamped" not in p["cls"] and not p["cutY"], (size, lang, tile["id"], p)
