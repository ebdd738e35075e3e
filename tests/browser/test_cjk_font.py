"""The browser tests measure Chinese in real glyphs, as a hospital's screens show it: without
a CJK font Chromium draws every character as an empty box of another width, and a name that
overflows its tile would pass (a portrait board's counter numbers shrank by a quarter with
the font and not without it). scripts/test installs fonts-noto-cjk."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_a_cjk_font_is_installed() -> None:
    fc_list = shutil.which("fc-list")
    assert fc_list, "fontconfig's fc-list is missing (it comes with chromium)"
    out = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    assert out.strip(), "no CJK font: apt-get install fonts-noto-cjk (scripts/test does)"


def test_chinese_is_drawn_in_glyphs_not_boxes(browser: Any) -> None:
    """Two different characters drawn with the page's own font stack differ; boxes do not."""
    page = browser.new_page()
    try:
        page.set_content("<canvas id=c width=200 height=60></canvas>")
        same = page.evaluate("""() => {
          const g = document.getElementById('c').getContext('2d');
          const draw = (ch) => { g.clearRect(0, 0, 200, 60); g.font = '40px sans-serif';
            g.fillText(ch, 10, 45); return g.getImageData(0, 0, 200, 60).data.join(','); };
          return draw('内') === draw('科');
        }""")
        assert not same, "内 and 科 look the same: Chinese is drawn as boxes"
    finally:
        page.close()
