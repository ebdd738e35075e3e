"""The display board with a real hospital's counter names ("Registration 1", "Medicine room 1",
"Laboratory desk 12"): on the English and the bilingual board "Now calling" showed
"Medicine ro…" and every row of "Recent calls" "Registrati…", so Registration 1 and 2 looked
the same. Where a patient must go is never cut off, at 1920×1080 and 1366×768."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

from queueing.demo import demo_site
from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser

SITE = "hosp"
NAMES = {  # counter id: (English, Chinese); the services of the demo's counters 1-4
    "1": ("Registration 1", "挂号1"),
    "2": ("Registration 2", "挂号2"),
    "3": ("Laboratory desk 12", "检验12号窗口"),
    "4": ("Medicine room 1", "内科1诊室"),
}
SERVICE = {"1": "internal", "2": "internal", "3": "paediatrics", "4": "lab"}
VIEWPORTS = [{"width": 1920, "height": 1080}, {"width": 1366, "height": 768}]

# Every element that names a counter in "Now calling" and "Recent calls": its text, whether
# it overflows its own box (cut off, an ellipsis: scrollWidth > clientWidth), and whether it
# lies inside its panel.
MEASURE = """() => {
  const rect = (el) => el.getBoundingClientRect();
  const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1
                           && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  const hero = document.querySelector('#hero');
  const recent = document.querySelector('#recent');
  const one = (el, panel) => {
    return {cls: el.className, text: el.textContent.replaceAll('\\u00a0', ' '),
            sw: el.scrollWidth, cw: el.clientWidth,
            inside: inside(rect(el), rect(panel))};
  };
  return [...hero.querySelectorAll('.hero-counter, .hero-second')].map((el) => one(el, hero))
    .concat([...recent.querySelectorAll('.rr-counter > span')].map((el) => one(el, recent)));
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    s = DemoServer(tmp_path_factory.mktemp("hosp")).start()
    site: dict[str, Any] = msgspec.to_builtins(demo_site())
    for c in site["counters"]:
        if c["id"] in NAMES:
            en, zh = NAMES[c["id"]]
            c["name"] = {"zh": zh, "en": en}
    admin = {"Authorization": f"Bearer {s.token('admin')}"}
    r = httpx.put(f"{s.base}/v1/sites/{SITE}", json=site, headers=admin, timeout=10)
    assert r.status_code == 200, r.text
    yield s
    s.stop()


@pytest.fixture
def boards(browser: Any, server: DemoServer) -> Iterator[list[tuple[str, Any]]]:
    """The English and the default (Chinese over English) board at both TV sizes."""
    contexts, pages = [], []
    for viewport in VIEWPORTS:
        for lang in ("en", None):
            ctx = browser.new_context(viewport=viewport)
            contexts.append(ctx)
            page = ctx.new_page()
            page.goto(f"{server.base}/board/{SITE}?token={server.token('display', site=SITE)}"
                      + (f"&lang={lang}" if lang else ""))
            wait_js(page, "window.switchboardBoard && document.body.dataset.conn === 'online'")
            pages.append((f"{viewport['width']}x{viewport['height']} {lang or 'zh+en'}", page))
    yield pages
    for ctx in contexts:
        ctx.close()


def test_counter_names_are_never_cut_off_in_now_calling_or_recent_calls(
        boards: list[tuple[str, Any]], server: DemoServer) -> None:
    kiosk = server.token("kiosk", site=SITE)
    for n, counter in enumerate(NAMES, start=1):
        server.post(f"/v1/sites/{SITE}/tickets", kiosk,
                    {"service": SERVICE[counter], "channel": "kiosk"})
        agent = server.token("agent", site=SITE, counter=counter)
        server.post(f"/v1/sites/{SITE}/counters/{counter}/open", agent)
        server.post(f"/v1/sites/{SITE}/counters/{counter}/call-next", agent)
        en, zh = NAMES[counter]
        for label, page in boards:
            wait_js(page, f"document.querySelectorAll('#recent .rr-counter').length === {n}")
            # The panel keeps each call up 5 s at least (test_board_hero_pace.py): this one's turn.
            name = NAMES[counter][0 if label.endswith(" en") else 1]
            wait_js(page, "(document.querySelector('#hero .hero-counter')?.textContent ?? '')"
                          f".replaceAll('\\u00a0', ' ') === '{name}'", timeout_s=10)
            page.wait_for_timeout(100)  # the fitting runs in the same frame; fonts settle
            shown = page.evaluate(MEASURE)
            hero = [m for m in shown if m["cls"].startswith("hero")]
            rows = [m for m in shown if m["cls"] == "l1"]
            seconds = [m for m in shown if m["cls"] == "l2"]  # the other language, under it
            english = label.endswith(" en")
            # Now calling: the full name (English board) or the English line under the
            # Chinese one (bilingual board).
            assert hero[0]["text"] == (en if english else zh), (label, hero)
            if not english:
                assert en in hero[1]["text"], (label, hero)
            expected = [NAMES[c][0 if english else 1] for c in list(NAMES)[:n]][::-1]
            assert [r["text"] for r in rows] == expected, (label, rows)
            others = [NAMES[c][1 if english else 0] for c in list(NAMES)[:n]][::-1]
            assert [r["text"] for r in seconds] == others, (label, seconds)
            for m in shown:
                assert m["sw"] <= m["cw"], (label, "cut off", m)
                assert m["inside"], (label, "outside its panel", m)


LONG_SITE = {"en": "Citizen Service Centre of the Municipal Government",
             "zh": "市人民政府市民服务中心综合受理大厅"}


def test_a_long_site_name_fits_the_head_on_one_line(browser: Any, server: DemoServer) -> None:
    """Before, a long name wrapped in the head's fixed height: its first line was cut at the
    top of the screen and the subtitle ran into the rule under the head."""
    site: dict[str, Any] = msgspec.to_builtins(demo_site())
    site["name"] = LONG_SITE
    admin = {"Authorization": f"Bearer {server.token('admin')}"}
    r = httpx.put(f"{server.base}/v1/sites/longname", json=site, headers=admin, timeout=10)
    assert r.status_code == 200, r.text
    for viewport in VIEWPORTS:
        for lang in ("en", "zh"):
            ctx = browser.new_context(viewport=viewport)
            page = ctx.new_page()
            page.goto(f"{server.base}/board/longname?lang={lang}"
                      f"&token={server.token('display', site='longname')}")
            wait_js(page, "window.switchboardBoard && document.body.dataset.conn === 'online'")
            page.wait_for_timeout(100)
            m = page.evaluate("""() => {
              const r = (s) => document.querySelector(s).getBoundingClientRect();
              const name = document.querySelector('#site-name');
              const lh = parseFloat(getComputedStyle(name).lineHeight);
              return {name: r('#site-name'), sub: r('#site-sub'), head: r('.b-head'),
                      status: r('.b-status'), lh, sw: name.scrollWidth, cw: name.clientWidth,
                      text: name.textContent};
            }""")
            where = (viewport, lang, m)
            assert m["text"] == LONG_SITE[lang], where
            assert m["name"]["height"] <= m["lh"] * 1.2, where  # one line
            assert m["name"]["top"] >= 0 and m["sub"]["bottom"] <= m["head"]["bottom"], where
            assert m["name"]["right"] <= m["status"]["left"], where  # not under the clock
            assert m["sw"] <= m["cw"], where  # shrunk to fit, not cut
            ctx.close()
