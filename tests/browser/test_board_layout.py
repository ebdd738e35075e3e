"""The display board's layout at the sizes it meets: the 1080p landscape TV it was designed for
(unchanged), a TV mounted in portrait (1080 × 1920, 2160 × 3840) and a phone (390 × 844)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser

LANDSCAPE = {"width": 1920, "height": 1080}
PORTRAIT = {"width": 1080, "height": 1920}
PORTRAIT_4K = {"width": 2160, "height": 3840}
PHONE = {"width": 390, "height": 844}

# Sizes (px) and boxes of what a reader looks for; the boxes of the board's blocks and of the
# elements inside them that must not be cut off.
MEASURE = """() => {
  const px = (el) => parseFloat(getComputedStyle(el).fontSize);
  const box = (el) => { const r = el.getBoundingClientRect();
    return {sel: el.className, left: r.left, top: r.top, right: r.right, bottom: r.bottom}; };
  const all = (sel) => [...document.querySelectorAll(sel)];
  const hero = document.querySelector('#hero .hero-number');
  return {
    vw: innerWidth, vh: innerHeight,
    base: px(document.documentElement),
    hero: px(hero),
    heroBox: box(hero), heroCallBox: box(document.querySelector('#hero')),
    counterNumbers: all('.ct-number').map(px),
    scroll: [document.documentElement.scrollWidth, document.documentElement.scrollHeight,
             document.body.scrollWidth, document.body.scrollHeight],
    blocks: all('.b-head, .b-main, .b-hero, .b-counters, .b-recent, .b-services, .b-foot, '
                + '.hero-call, .hero-side, .counter-tile, .recent-list, .recent-row, .svc-card')
      .filter((el) => el.getClientRects().length).map(box),
    tiles: all('.counter-tile').map((t) => ({
      tile: box(t), number: box(t.querySelector('.ct-number')),
      name: box(t.querySelector('.ct-name')),
    })),
    recentBeside: document.querySelector('.b-recent').getBoundingClientRect().left
                  >= document.querySelector('.b-hero').getBoundingClientRect().right,
  };
}"""


@pytest.fixture(scope="module")
def calls(demo_server: DemoServer) -> DemoServer:
    """Calls at four counters, one in service, one counter paused: a busy morning's board."""
    for service in ("internal", "internal", "paediatrics", "lab", "pharmacy"):
        demo_server.take(service)
    for counter in ("4", "3", "2", "1"):
        demo_server.counter(counter, "call-next")
    demo_server.counter("4", "start")
    demo_server.counter("6", "pause")
    return demo_server


@pytest.fixture
def measure(browser: Any, calls: DemoServer) -> Iterator[Any]:
    contexts: list[Any] = []

    def at(viewport: dict[str, int], lang: str = "en") -> dict[str, Any]:
        ctx = browser.new_context(viewport=viewport)
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(calls.page_url("board", lang=lang))
        wait_js(page, "window.switchboardBoard && window.switchboardBoard.offset "
                      "&& document.querySelector('#hero .hero-number')")
        page.wait_for_timeout(200)  # fonts and the last frame
        return page.evaluate(MEASURE)  # type: ignore[no-any-return]

    yield at
    for ctx in contexts:
        ctx.close()


def inside(inner: dict[str, float], outer: dict[str, float], slack: float = 1.0) -> bool:
    return (inner["left"] >= outer["left"] - slack and inner["top"] >= outer["top"] - slack
            and inner["right"] <= outer["right"] + slack
            and inner["bottom"] <= outer["bottom"] + slack)


def test_landscape_tv_is_the_board_as_designed(measure: Any) -> None:
    m = measure(LANDSCAPE)
    assert m["base"] == 16
    assert m["hero"] == 176
    assert m["recentBeside"], "the recent calls stay in their column beside the hero"
    assert m["scroll"] == [1920, 1080, 1920, 1080]


@pytest.mark.parametrize("viewport", [PORTRAIT, PORTRAIT_4K], ids=["1080x1920", "2160x3840"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_portrait_tv_uses_the_height(measure: Any, viewport: dict[str, int], lang: str) -> None:
    landscape = measure(LANDSCAPE, lang)
    m = measure(viewport, lang)
    scale = viewport["width"] / 1080  # a 4K panel is viewed like a 1080p one, at twice the pixels
    assert m["base"] >= landscape["base"] * scale
    assert m["hero"] >= landscape["hero"] * scale
    assert min(m["counterNumbers"]) >= min(landscape["counterNumbers"]) * scale * 0.9
    assert not m["recentBeside"], "the recent calls go under the counters"
    # One screen, nothing cut off or pushed out of it.
    assert m["scroll"] == [m["vw"], m["vh"], m["vw"], m["vh"]]
    screen = {"left": 0, "top": 0, "right": m["vw"], "bottom": m["vh"]}
    assert [b for b in m["blocks"] if not inside(b, screen)] == []
    assert inside(m["heroBox"], m["heroCallBox"])
    for t in m["tiles"]:
        assert inside(t["number"], t["tile"]) and inside(t["name"], t["tile"]), t


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_phone_is_readable_and_scrolls_only_down(measure: Any, lang: str) -> None:
    m = measure(PHONE, lang)
    assert m["hero"] >= 24
    assert min(m["counterNumbers"]) >= 24
    assert m["scroll"][0] <= m["vw"] and m["scroll"][2] <= m["vw"]
    assert [b for b in m["blocks"] if b["left"] < -1 or b["right"] > m["vw"] + 1] == []
    assert inside(m["heroBox"], m["heroCallBox"])
    for t in m["tiles"]:
        assert inside(t["number"], t["tile"]), t
