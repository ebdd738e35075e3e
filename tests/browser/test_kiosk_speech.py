"""The kiosk's speech mode for blind and low-vision visitors, and its keyboard order.

"Speech" is the first control of the kiosk's accessibility bar (the first Tab stop where the bar
is in the header). On, the kiosk says each screen as it shows, the focused control, and after a
ticket: its number as the board says it in a call (the number as printed), the people ahead,
the estimate and where to wait (the site's waiting area for the service); R or "Repeat" says
the screen again. Off for the next visitor: the kiosk going back to its start turns it off.
Without the Web Speech API the toggle says so. Chromium here has no voices: an init script
stands in for window.speechSynthesis and records what is said.

On a tall portrait kiosk the bar sits along the bottom (within reach from a wheelchair): Tab
reaches the screen's choices first, then the bar, as seen (WCAG 2.4.3); it reached the bar
first, right after the title. Before the choices, the first Tab stop there is Speech again,
shown at the top while focused (#speech-first, as a skip link): a keypad's first Tab and Enter
turn speech on, on every layout.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser
WAIT_MS = 15000
PHARMACY = ".k-service[data-service='pharmacy']"
HALL = {"en": "Hall B", "zh": "B区候诊厅"}

# What the page's speechSynthesis does here: records each utterance (and each cancel) in order.
STUB = """(() => {
  const log = [];
  Object.defineProperty(window, '__spoken', { value: log });
  const synth = {
    speaking: false, pending: false, paused: false,
    speak(u) { log.push({ text: u.text, lang: u.lang }); setTimeout(() => u.onend?.({}), 0); },
    cancel() { log.push({ cancel: true }); },
    getVoices() { return []; }, pause() {}, resume() {},
    addEventListener() {}, removeEventListener() {},
  };
  Object.defineProperty(window, 'speechSynthesis', { value: synth, configurable: true });
})();"""
NO_SPEECH = """Object.defineProperty(window, 'speechSynthesis',
  { value: undefined, configurable: true });"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo site with one waiting area: Hall B, in front of counters 5 and 6 (pharmacy
    and cashier); the other counters are in none."""
    s = DemoServer(tmp_path_factory.mktemp("kiosk-speech")).start()
    admin = {"Authorization": f"Bearer {s.token('admin')}"}
    cfg = httpx.get(f"{s.base}/v1/sites/demo", headers=admin, timeout=10).json()
    cfg["areas"] = [{"id": "hall-b", "name": HALL, "counters": ["5", "6"]}]
    r = httpx.put(f"{s.base}/v1/sites/demo", headers=admin, json=cfg, timeout=10)
    assert r.status_code == 200, r.text
    yield s
    s.stop()


def open_kiosk(browser: Any, server: DemoServer, lang: str, *, script: str = STUB,
               viewport: tuple[int, int] = (1280, 1024), clock: bool = False) -> Any:
    width, height = viewport
    ctx = browser.new_context(locale="en-US", viewport={"width": width, "height": height})
    ctx.add_init_script(script)
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    if clock:
        page.clock.install(time=dt.datetime(2030, 5, 6, 9, 0, tzinfo=dt.UTC))
    page.goto(server.page_url("kiosk", lang=lang))
    page.locator(PHARMACY).wait_for()
    if clock:
        page.clock.pause_at(dt.datetime(2030, 5, 6, 9, 1, tzinfo=dt.UTC))
    return page


def spoken(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate("window.__spoken.slice()"))


def said(page: Any) -> list[str]:
    return [u["text"] for u in spoken(page) if "text" in u]


def focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement.id || document.activeElement.className"))


def speech_on_by_keyboard(page: Any) -> None:
    """The first Tab reaches "Speech"; Enter turns it on."""
    page.keyboard.press("Tab")
    assert focused(page) == "speech-btn"
    page.keyboard.press("Enter")
    expect(page.locator("#speech-btn")).to_have_attribute("aria-pressed", "true")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_speech_says_the_screen_the_focus_and_the_ticket(browser: Any, server: DemoServer,
                                                         lang: str) -> None:
    zh = lang == "zh"
    page = open_kiosk(browser, server, lang)
    toggle = page.locator("#speech-btn")
    expect(toggle).to_have_accessible_name("语音播报" if zh else "Speech")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#repeat-btn")).to_be_hidden()
    assert said(page) == []  # off until a visitor turns it on
    speech_on_by_keyboard(page)
    start = said(page)[-1]
    assert start.startswith("语音播报已开启。" if zh else "Speech is on.")
    assert ("请选择业务。" if zh else "Please choose a service.") in start
    assert ("取药" if zh else "Pharmacy") in start
    expect(page.locator("#repeat-btn")).to_be_visible()
    expect(page.locator("#repeat-btn")).to_have_accessible_name("重听" if zh else "Repeat")
    # Every utterance in the page's language.
    assert {u["lang"] for u in spoken(page) if "text" in u} == {"zh-CN" if zh else "en"}

    # The focused button is said: the service's name (not its second language's), its queue.
    page.locator(PHARMACY).focus()
    label = said(page)[-1]
    assert label.startswith("取药，" if zh else "Pharmacy, "), label
    assert ("Pharmacy" in label) is not zh
    assert re.search(r"人等候|waiting", label), label

    # A language's button in that language and its voice; a toggle with its state.
    page.locator("#lang button[lang='en']").focus()
    assert spoken(page)[-1] == {"text": "English", "lang": "en"}
    page.locator("#lang button[lang='zh-CN']").focus()
    assert spoken(page)[-1] == {"text": "中文", "lang": "zh-CN"}
    page.locator("#large-btn").focus()
    assert said(page)[-1] == ("大字模式，已关闭" if zh else "Large text, off")

    page.locator(PHARMACY).focus()
    n = len(spoken(page))
    page.keyboard.press("Enter")
    page.locator("#screen-ticket").wait_for()
    tk = page.evaluate("window.switchboardKiosk.ticket")
    number = tk["number"]
    wait_js(page, f"window.__spoken.slice({n}).some((u) => (u.text ?? '').includes('{number}'))")
    ahead = page.locator("#t-ahead").text_content()
    est = page.evaluate(
        "import('/static/js/i18n.js').then((m) => m.formatEstimate("
        f"window.switchboardKiosk.ticket.estimate, '{lang}'))") if tk.get("estimate") else None
    if zh:
        expected = (f"您的号码是 {number} 号。取药。{ahead}。"
                    + (f"预计等待 {est}。" if est else "")
                    + "请到B区候诊厅等候叫号。按 R 键或“重听”可再听一遍。")
    else:
        expected = (f"Your number is {number}. Pharmacy. {ahead}. "
                    + (f"Estimated wait {est}. " if est else "")
                    + "Please wait in Hall B and listen for your number. "
                    "Press R or Repeat to hear this again.")
    after = spoken(page)[n:]
    texts = [u["text"] for u in after if "text" in u]
    i = texts.index(expected)
    # The ticket is said in full, then Done (where the focus lands), after it, not instead.
    assert texts[i + 1] == ("完成" if zh else "Done"), texts
    last = [u for u in after if "text" in u or "cancel" in u]
    assert last[-2:] == [{"text": expected, "lang": "zh-CN" if zh else "en"},
                         {"text": "完成" if zh else "Done", "lang": "zh-CN" if zh else "en"}]

    # R says it again, cutting in.
    n = len(spoken(page))
    page.keyboard.press("r")
    assert spoken(page)[n:] == [{"cancel": True},
                                {"text": expected, "lang": "zh-CN" if zh else "en"}]
    page.context.close()


def test_where_to_wait_is_the_waiting_area_or_said_plainly(browser: Any,
                                                           server: DemoServer) -> None:
    """A service no waiting area serves (internal medicine, rooms 1 and 2): "the waiting
    area", as the site's words say it (候诊区 in a clinic)."""
    page = open_kiosk(browser, server, "en")
    page.locator("#speech-btn").click()
    page.locator(".k-service[data-service='internal']").click()
    page.locator("#screen-ticket").wait_for()
    number = page.evaluate("window.switchboardKiosk.ticket.number")
    text = wait_js(page, f"window.__spoken.find((u) => (u.text ?? '').includes('{number}'))")
    assert "Please wait in the waiting area and listen for your number." in text["text"]
    assert "Hall B" not in text["text"]
    page.context.close()


def test_next_visitor_starts_without_speech(browser: Any, server: DemoServer) -> None:
    """Done keeps it for whoever is still there (as large text); the kiosk going back to its
    start by itself (the ticket screen left alone, after its warning, which is said) turns it
    off: nothing more is said."""
    page = open_kiosk(browser, server, "en", clock=True)
    page.locator("#speech-btn").click()
    page.locator(PHARMACY).press("Enter")
    page.locator("#screen-ticket").wait_for()
    page.locator("#done-btn").press("Enter")
    assert page.evaluate("window.switchboardKiosk.screen") == "services"
    assert page.evaluate("window.switchboardKiosk.speech") is True
    page.locator(PHARMACY).press("Enter")
    page.locator("#screen-ticket").wait_for()
    page.clock.run_for(26_000)  # the warning is up
    assert page.evaluate("document.getElementById('idle-dialog').open")
    assert any(t.startswith("Do you need more time?") for t in said(page))
    page.clock.run_for(21_000)
    assert page.evaluate("window.switchboardKiosk.screen") == "services"
    assert page.evaluate("window.switchboardKiosk.speech") is False
    expect(page.locator("#speech-btn")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#repeat-btn")).to_be_hidden()
    n = len(said(page))
    page.locator(PHARMACY).focus()
    page.keyboard.press("r")
    assert len(said(page)) == n
    page.context.close()


def test_speech_left_on_at_the_start_goes_after_the_warning(browser: Any,
                                                             server: DemoServer) -> None:
    """Speech on at the start screen (Done kept it), then nobody: as for large text, the
    warning at 90 s (said, and saying speech goes too), speech off at 120 s."""
    page = open_kiosk(browser, server, "en", clock=True)
    page.locator("#speech-btn").click()
    page.clock.run_for(89_000)
    assert not page.evaluate("document.getElementById('idle-dialog').open")
    page.clock.run_for(1_000)
    expect(page.locator("#idle-text")).to_have_text(
        "In 30 s this screen goes back to the kiosk’s usual text size, contrast and language, "
        "and speech turns off.")
    assert said(page)[-2:] == [
        "Do you need more time? In 30 s this screen goes back to the kiosk’s usual text size, "
        "contrast and language, and speech turns off. More time.", "More time"]
    assert page.evaluate("window.switchboardKiosk.speech") is True
    page.clock.run_for(30_000)
    assert page.evaluate("window.switchboardKiosk.speech") is False
    expect(page.locator("#speech-btn")).to_have_attribute("aria-pressed", "false")
    page.context.close()


def test_without_speech_synthesis_the_toggle_says_so(browser: Any, server: DemoServer) -> None:
    page = open_kiosk(browser, server, "zh", script=NO_SPEECH)
    toggle = page.locator("#speech-btn")
    expect(toggle).to_have_accessible_name("语音播报：本机不支持")
    expect(toggle).to_have_attribute("aria-disabled", "true")
    toggle.focus()  # still reachable, so a keypad finds it and hears what it says
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#repeat-btn")).to_be_hidden()
    page.context.close()


def tab_stops(page: Any, count: int) -> list[dict[str, Any]]:
    """The first `count` Tab stops from the top: each one's id (or first class) and the top
    of its box on the screen."""
    stops = []
    for _ in range(count):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("""() => { const el = document.activeElement;
          return { id: el.id || (el.closest('#lang') ? 'lang' : el.classList[0]),
                   top: Math.round(el.getBoundingClientRect().top + scrollY) }; }"""))
    return stops


def test_tab_order_on_a_tall_portrait_kiosk_follows_the_screen(browser: Any,
                                                               server: DemoServer) -> None:
    """1080 x 1920: Speech at the top first (#speech-first), the services (top to bottom),
    then the bar along the bottom, "Speech" first in it."""
    page = open_kiosk(browser, server, "en", viewport=(1080, 1920))
    screen = ["k-service"] * page.locator(".k-service").count()
    if page.locator("#appt-btn").is_visible():  # check-in, where the site takes bookings
        screen.append("appt-btn")
    stops = tab_stops(page, len(screen) + 6)
    ids = [s["id"] for s in stops]
    assert ids == ["speech-first", *screen, "speech-btn", "large-btn", "contrast-btn", "lang",
                   "lang"], ids
    tops = [s["top"] for s in stops]
    assert tops == sorted(tops), stops
    # Bar at the bottom: below everything on the screen.
    assert tops[len(screen) + 1] > tops[len(screen)] + 100
    # Turned on, Repeat comes right after it; the keyboard's focus stays on the toggle.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "speech-btn"
    page.keyboard.press("Enter")
    assert focused(page) == "speech-btn"
    page.keyboard.press("Tab")
    assert focused(page) == "repeat-btn"
    # Repeat shown and large text: the bar wraps to two rows, and still covers nothing (the
    # room kept under the screens grows with it).
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#large-btn")).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(100)
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    box = page.evaluate("""() => {
      const last = [...document.querySelectorAll('#screen-services button')]
        .filter((b) => !b.hidden).pop();
      return { bottom: last.getBoundingClientRect().bottom,
               bar: document.getElementById('k-tools').getBoundingClientRect().top,
               rows: document.getElementById('k-tools').getBoundingClientRect().height }; }""")
    assert box["bottom"] <= box["bar"], box
    page.context.close()


FIRST_BOX = """() => { const r = document.getElementById('speech-first').getBoundingClientRect();
  return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width,
           height: r.height, shown: document.getElementById('speech-first').checkVisibility() };
}"""


@pytest.mark.parametrize("extra", ["", "&text=large&contrast=high"])
def test_speech_is_the_first_tab_stop_on_a_tall_portrait_kiosk(browser: Any, server: DemoServer,
                                                               extra: str) -> None:
    """1080 x 1920, the bar (with Speech) along the bottom, after the screens in Tab order: a
    blind visitor's first Tab reached the first service, and Speech only after every service.
    Now the first Tab reaches Speech, shown big at the top of the screen while focused (where
    it comes in the order, as a skip link), and Enter turns speech on there; the focus stays
    on it, and the next Tab is the first service, said after. Unfocused, it is off the screen;
    the bar's Speech says the same (one toggle)."""
    width, height = 1080, 1920
    ctx = browser.new_context(locale="en-US", viewport={"width": width, "height": height})
    ctx.add_init_script(STUB)
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(server.page_url("kiosk", lang="en") + extra)
    page.locator(PHARMACY).wait_for()
    box = page.evaluate(FIRST_BOX)
    assert box["bottom"] <= 0, box  # not seen, not under a finger
    page.keyboard.press("Tab")
    assert focused(page) == "speech-first"
    first = page.locator("#speech-first")
    expect(first).to_have_accessible_name("Speech")
    expect(first).to_have_attribute("aria-pressed", "false")
    box = page.evaluate(FIRST_BOX)
    assert box["shown"] and box["top"] >= 0 and box["bottom"] <= height * 0.15, box
    assert box["left"] >= 0 and box["right"] <= width and box["height"] >= 88, box
    page.keyboard.press("Enter")
    for sel in ("#speech-first", "#speech-btn"):
        expect(page.locator(sel)).to_have_attribute("aria-pressed", "true")
    assert focused(page) == "speech-first"
    assert said(page)[-1].startswith("Speech is on.")
    assert "Please choose a service." in said(page)[-1]
    page.keyboard.press("Tab")
    assert focused(page) == "k-service"
    assert said(page)[-1].startswith(
        page.locator(".k-service .k-svc-name").first.text_content() + ", ")
    assert page.evaluate(FIRST_BOX)["bottom"] <= 0
    # The bar's Speech turns it off for both.
    page.locator("#speech-btn").click()
    for sel in ("#speech-first", "#speech-btn"):
        expect(page.locator(sel)).to_have_attribute("aria-pressed", "false")
    page.context.close()


def test_landscape_keeps_the_bar_in_the_header_speech_first(browser: Any,
                                                             server: DemoServer) -> None:
    """A landscape kiosk (the bar in the header, by the title): the bar first, as seen."""
    page = open_kiosk(browser, server, "en", viewport=(1280, 1024))
    assert page.evaluate("document.getElementById('k-tools').parentElement.className") == "k-head"
    ids = [s["id"] for s in tab_stops(page, 6)]
    assert ids == ["speech-btn", "large-btn", "contrast-btn", "lang", "lang", "k-service"], ids
    expect(page.locator("#speech-first")).to_be_hidden()  # the portrait's first stop only
    page.context.close()


def test_a_wrong_code_is_said(browser: Any, server: DemoServer) -> None:
    """Check-in by keyboard with speech on: a code not found was shown under the field (and
    marked for a screen reader), but the kiosk's voice said nothing, so a blind visitor
    heard no answer at all. Now the error is said, then the field (where the focus is)."""
    page = open_kiosk(browser, server, "en")
    page.locator("#speech-btn").click()
    page.locator("#appt-btn").click()
    page.locator("#code").wait_for()
    assert focused(page) == "code"
    page.keyboard.type("ZZZZZZ")
    n = len(spoken(page))
    page.keyboard.press("Enter")
    expect(page.locator("#checkin-error")).not_to_be_empty()
    error = page.locator("#checkin-error").text_content()
    assert error.startswith("We could not find that code."), error
    wait_js(page, f"window.__spoken.slice({n}).some((u) => u.text === {error!r})")
    assert said(page)[-1] == error
    page.locator("#checkin-submit").focus()
    page.keyboard.press("Enter")  # from the button: the error, then the field it goes back to
    wait_js(page, "document.activeElement.id === 'code'")
    label = page.locator("#code-label").text_content()
    assert said(page)[-2:] == [error, f"{label}: Z Z Z Z Z Z"], said(page)[-3:]
    page.context.close()


def test_a_ticket_that_could_not_be_taken_is_said(browser: Any, server: DemoServer) -> None:
    """A service chosen by keyboard with speech on, and the ticket request failing (here
    refused as an unknown service): the start screen came back, said as if nothing had
    happened, and the keyboard's focus was lost to the page (Tab started again at the top).
    Now the error is said first, then the screen, and the focus is back on the service."""
    page = open_kiosk(browser, server, "en")
    page.route("**/v1/sites/demo/tickets", lambda route: route.fulfill(
        status=404, content_type="application/json",
        body='{"code": "unknown_service", "message": "no such service"}'))
    page.locator("#speech-btn").click()
    page.locator(PHARMACY).focus()
    page.keyboard.press("Enter")
    page.locator(".k-alert").wait_for()
    error = page.locator(".k-alert").text_content()
    wait_js(page, "document.activeElement.dataset.service === 'pharmacy'")
    texts = said(page)
    i = max(k for k, x in enumerate(texts) if x.startswith(error))
    assert "Please choose a service." in texts[i], texts[i]
    assert texts[i + 1].startswith("Pharmacy, "), texts[i:]
    page.context.close()


def test_what_is_typed_is_said(browser: Any, server: DemoServer) -> None:
    """The check-in code typed with speech on, by the screen's keypad (Tab to a key, Enter)
    or a keyboard: nothing was said (the focus stays on the key), so a blind visitor could
    not know what the field held. Now each key says the field as it is, a character at a
    time (a code, not a word: "H 4", as a phone number "1 3 8", not an amount)."""
    page = open_kiosk(browser, server, "en")
    page.locator("#speech-btn").click()
    page.locator("#appt-btn").click()
    page.locator("#keypad button").first.wait_for()
    label = page.locator("#code-label").text_content()
    keys = page.locator("#keypad button")
    for key, words in [("H", "H"), ("4", "H 4"), ("Delete", "H"), ("Clear", "")]:
        keys.filter(has_text=re.compile(f"^{key}$")).focus()
        page.keyboard.press("Enter")
        assert said(page)[-1] == f"{label}: {words}".rstrip(": "), (key, said(page)[-2:])
    page.locator("#code").focus()
    page.keyboard.type("k7")
    assert said(page)[-2:] == [f"{label}: k", f"{label}: k 7"], said(page)[-3:]
    page.context.close()


@pytest.mark.parametrize(("lang", "words"), [("en", "Speech is off."), ("zh", "语音播报已关闭。")])
def test_turning_speech_off_says_so(browser: Any, server: DemoServer, lang: str,
                                    words: str) -> None:
    """Speech turned off said nothing: a blind visitor could not tell whether the key
    worked. Now it says so, cutting in on what was being said, and nothing is cancelled or
    said after it (it is left to finish)."""
    page = open_kiosk(browser, server, lang)
    speech_on_by_keyboard(page)
    n = len(spoken(page))
    page.keyboard.press("Enter")  # the focus is still on "Speech"
    expect(page.locator("#speech-btn")).to_have_attribute("aria-pressed", "false")
    page.wait_for_timeout(300)
    assert spoken(page)[n:] == [{"cancel": True},
                                {"text": words, "lang": "zh-CN" if lang == "zh" else "en"}]
    assert page.evaluate("window.switchboardKiosk.speech") is False
    page.locator(PHARMACY).focus()
    page.keyboard.press("r")
    assert len(spoken(page)) == n + 2  # off: nothing more is said
    page.context.close()
