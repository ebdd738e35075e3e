"""Pages left open follow a change of the site's words (its ``vocabulary``) without a reload:
the board, the kiosk, a counter console and the floor overview each apply the ``site``
message's words (vocabulary-boot.js ``applySiteWords``) and draw again. A clinic turned
government service centre kept "Patient ID" on the open console and "Patient · doctor" on
the overview until someone reloaded them. Chromium against a demo server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import DemoServer, wait_js
from tests.browser.test_vocabulary import _speak

pytestmark = pytest.mark.browser
WAIT_S = 10.0

# The words in force in an open page's own modules (the same instances its script uses):
# the vocabulary, and the shared "almost your turn" line in Chinese (候诊区 / 等候区).
WORDS = """async () => {
  const v = await import('/static/js/vocabulary.js');
  const i = await import('/static/js/i18n.js');
  return [v.vocabulary(), i.translator('zh')('almost')];
}"""


def _open(context: Any, server: DemoServer) -> dict[str, Any]:
    pages: dict[str, Any] = {}
    for kind, lang in (("board", "zh"), ("kiosk", "zh")):
        p = context.new_page()
        p.goto(server.page_url(kind, lang=lang))
        pages[kind] = p
    # Each is subscribed (its snapshot is in) before the change is made.
    pages["kiosk"].locator(".k-svc-waiting").first.wait_for()
    wait_js(pages["board"], "window.switchboardBoard && window.switchboardBoard.state.ready")
    c = context.new_page()
    c.goto(server.page_url("counter:4", lang="en"))
    c.locator("#book-open:not([hidden])").wait_for()
    c.locator("#book-open").click()
    c.locator("#book-customer-label:not(:empty)").wait_for()
    wait_js(c, "window.switchboardCounter && window.switchboardCounter.counter.state")
    pages["counter"] = c
    s = context.new_page()
    s.goto(f"{server.base}/supervise/demo?token={server.token('supervisor', site='demo')}"
           "&lang=en")
    s.locator("#appts:not([hidden])").wait_for()
    wait_js(s, "document.querySelectorAll('#appt-head th').length === 4")
    wait_js(s, "window.switchboardSupervise && window.switchboardSupervise.board.ready")
    pages["overview"] = s
    return pages


def test_open_pages_speak_the_sites_new_words(context: Any, demo_server: DemoServer) -> None:
    _speak(demo_server, "clinic")
    pages = _open(context, demo_server)
    for kind in ("board", "kiosk"):
        assert pages[kind].evaluate(WORDS) == ["clinic", "快到您了，请回到候诊区等候。"], kind
    assert pages["counter"].locator("#book-customer-label").inner_text() == (
        "Patient ID or mobile number")
    head = pages["overview"].locator("#appt-head")
    assert "Patient" in head.inner_text() and "Service · doctor" in head.inner_text()
    _speak(demo_server, "government")
    for kind in ("board", "kiosk"):
        wait_js(pages[kind], "import('/static/js/vocabulary.js').then((v) => "
                             "v.vocabulary() === 'government')", timeout_s=WAIT_S)
        assert pages[kind].evaluate(WORDS) == ["government", "快到您了，请回到等候区等候。"], kind
    pages["counter"].locator("#book-customer-label", has_text="ID number or mobile number"
                             ).wait_for(timeout=WAIT_S * 1000)
    assert pages["counter"].locator("#book-customer-label").inner_text() == (
        "ID number or mobile number")
    pages["overview"].locator("#appt-head", has_text="Citizen").wait_for(timeout=WAIT_S * 1000)
    assert "Service · clerk" in head.inner_text() and "Patient" not in head.inner_text()
    # And back: a page follows every change, not only the first.
    _speak(demo_server, "clinic")
    pages["overview"].locator("#appt-head", has_text="Patient").wait_for(timeout=WAIT_S * 1000)
    pages["counter"].locator("#book-customer-label", has_text="Patient ID").wait_for(
        timeout=WAIT_S * 1000)
    wait_js(pages["kiosk"], "import('/static/js/vocabulary.js').then((v) => "
                            "v.vocabulary() === 'clinic')", timeout_s=WAIT_S)
