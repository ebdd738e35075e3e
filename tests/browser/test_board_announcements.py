"""The display board's spoken calls when it falls behind (a burst of calls, a slow voice, a
throttled tab): it said every call in turn, up to `announce_ttl_s` (120 s) late. Now a call
is said only while it is news — within `?speak_within_s=` (30 s) of the call, the newest for
its counter and ticket (a recall is said), and still waiting at its counter — and the screen
still lists every call.

The pure rules (board-speech.js) are fed by hand; then two boards on a real server, in real
Chromium, with a fake speech engine (the browser's side, which headless Chromium has none
of) that records what it was asked to say, and the chime held until the burst is in: the
board falls behind on purpose.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import DemoServer, wait_js
from tests.browser.test_js_units import page, run  # noqa: F401  (the unit page fixture)

pytestmark = pytest.mark.browser

# -- the rules, fed by hand -----------------------------------------------------------------

RULES = """
  const s = await import('/static/js/board-speech.js');
  const call = (number, counter, at, validUntil = 1e9) =>
    s.queuedCall({number, counter, at: new Date(at).toISOString()},
                 [{lang: 'en', text: number, validUntil}], 0);
  const board = arg.board;  // counter -> its current {number, status}
  const reasons = (queue, now, maxAgeMs = 30000) => {
    const picked = [];
    let q = queue;
    for (;;) {
      const {next, dropped, rest} = s.nextCall(q, (c, index) =>
        s.silence(c, {queue: q, index, now, maxAgeMs, current: (id) => board[id]}));
      picked.push(...dropped.map((d) => [d.call.number, d.reason]));
      if (!next) return picked;
      picked.push([next.number, 'say']);
      q = rest;
    }
  };
"""


def test_a_burst_collapses_to_the_newest_call_per_counter_and_ticket(page: Any) -> None:  # noqa: F811
    board = {"1": {"number": "A003", "status": "called"},
             "2": {"number": "A002", "status": "called"},
             "3": {"number": "B001", "status": "serving"},
             "4": {"number": "C001", "status": "called"}}
    out = run(page, RULES + """
      const t0 = 1_000_000;
      return reasons([
        call('A001', '1', t0), call('A002', '2', t0 + 100), call('B001', '3', t0 + 200),
        call('C001', '4', t0 + 300), call('A003', '1', t0 + 400), call('A002', '2', t0 + 500),
      ], t0 + 2000);""", {"board": board})
    assert out == [["A001", "superseded"],   # counter 1 called A003 since
                   ["A002", "superseded"],   # recalled since: the recall is said instead
                   ["B001", "answered"],     # the patient is at counter 3 already
                   ["C001", "say"], ["A003", "say"], ["A002", "say"]]


def test_a_call_older_than_the_limit_or_its_validity_is_not_said(page: Any) -> None:  # noqa: F811
    board = {"1": {"number": "A001", "status": "called"},
             "2": {"number": "A002", "status": "called"}, "3": None}
    out = run(page, RULES + """
      const t0 = 1_000_000;
      return {
        late: reasons([call('A001', '1', t0), call('A002', '2', t0 + 25000)], t0 + 31000),
        limit10: reasons([call('A002', '2', t0)], t0 + 11000, 10000),
        expired: reasons([call('A001', '1', t0, t0 + 5000)], t0 + 6000),
        finished: reasons([call('B001', '3', t0)], t0 + 1000),   // counter 3 serves nobody now
        unknownCounter: reasons([call('Q001', '7', t0)], t0 + 1000),
        limits: [undefined, null, '', 'abc', '1', '20', '9999'].map(s.speakWithinMs),
      };""", {"board": board})
    assert out["late"] == [["A001", "late"], ["A002", "say"]]
    assert out["limit10"] == [["A002", "late"]]
    assert out["expired"] == [["A001", "expired"]]
    assert out["finished"] == [["B001", "answered"]]
    assert out["unknownCounter"] == [["Q001", "say"]], "a counter the board does not know: said"
    assert out["limits"] == [30000, 30000, 30000, 30000, 5000, 20000, 600000]


def test_the_rest_of_a_call_is_not_said_once_its_counter_calls_again(page: Any) -> None:  # noqa: F811
    out = run(page, """
      const s = await import('/static/js/board-speech.js');
      let now = 1000;
      let release;
      const gate = new Promise((r) => { release = r; });
      const a = new m.announcer.Announcer({now: () => now});
      a.sound = 'on';
      a.chime = async () => {};
      a.say = async (item) => { a.spoken.push(item.text); if (item.text === 'one-zh') await gate; };
      const items = (n) => ['zh', 'en'].map((lang) => ({lang, text: `${n}-${lang}`}));
      const at = (number) => ({call: s.queuedCall({number, counter: '1'}, [], now)});
      a.announce(items('one'), at('A001'));
      while (!a.spoken.length) await new Promise((r) => setTimeout(r, 5));  // saying one-zh
      a.announce(items('two'), at('A002'));
      release();
      while (a.busy || a.queue.length) await new Promise((r) => setTimeout(r, 20));
      return {spoken: a.spoken, skipped: a.skipped.map((k) => [k.number, k.reason])};""")
    assert out["spoken"] == ["one-zh", "two-zh", "two-en"]
    assert out["skipped"] == [["A001", "superseded"]]


# -- two boards on a real server ------------------------------------------------------------

# The browser's speech engine, faked: each utterance "takes" 300 ms and is recorded.
FAKE_VOICE = """(() => {
  const fake = {
    speaking: false, pending: false, paused: false, getVoices: () => [],
    cancel() {}, pause() {}, resume() {}, addEventListener() {}, removeEventListener() {},
    speak(u) { setTimeout(() => u.onend && u.onend({}), u.volume === 0 ? 0 : 300); },
  };
  Object.defineProperty(window, 'speechSynthesis', {value: fake, configurable: true});
})();"""

# The board's chime waits for the test: until then the board is "behind".
HOLD = """() => {
  const a = window.switchboardBoard.announcer;
  const chime = a.chime.bind(a);
  const gate = new Promise((r) => { window.releaseChime = r; });
  a.chime = async () => { await gate; return chime(); };
}"""

DRAINED = ("!window.switchboardBoard.announcer.busy "
           "&& window.switchboardBoard.announcer.queue.length === 0")


@pytest.fixture
def boards(browser: Any, demo_server: DemoServer) -> Iterator[dict[str, Any]]:
    """The default board and one told `?speak_within_s=5`, both held at their first chime."""
    contexts, pages = [], {}
    for name, extra in (("default", ""), ("within5", "&speak_within_s=5")):
        ctx = browser.new_context(viewport={"width": 1280, "height": 720})
        ctx.add_init_script(FAKE_VOICE)
        contexts.append(ctx)
        pg = ctx.new_page()
        pg.clock.install()  # flowing as the real one, until a test moves it on
        pg.goto(demo_server.page_url("board", lang="en") + extra)
        wait_js(pg, "window.switchboardBoard && window.switchboardBoard.offset "
                    "&& window.switchboardBoard.sound === 'on'")
        pg.evaluate(HOLD)
        pages[name] = pg
    yield pages
    for ctx in contexts:
        ctx.close()


def said(board: Any) -> list[str]:
    return [s["text"] for s in board.evaluate("window.switchboardBoard.spoken")]


def en(number: str, counter: str) -> str:
    return f"Ticket {number}, please go to {counter}"


def test_a_board_behind_says_only_the_calls_still_news(
        boards: dict[str, Any], demo_server: DemoServer) -> None:
    s = demo_server
    taken = {svc: [s.take(svc)["number"] for _ in range(n)]
             for svc, n in (("internal", 3), ("paediatrics", 1), ("lab", 2), ("pharmacy", 1))}
    a1, a2, a3 = taken["internal"]
    b1, (c1, c2), d1 = taken["paediatrics"][0], taken["lab"], taken["pharmacy"][0]
    # The burst: six counters call within a second or two; counter 1 finishes A001 and calls
    # again, counter 2 recalls, the patient called to room 3 arrives at once.
    calls = [("1", "call-next"), ("2", "call-next"), ("3", "call-next"), ("4", "call-next"),
             ("5", "call-next"), ("1", "complete"), ("1", "call-next"), ("2", "recall"),
             ("3", "start")]
    for counter, op in calls:
        s.counter(counter, op)
    for board in boards.values():
        wait_js(board, "(() => { const b = window.switchboardBoard.state;"
                       " return b.counters.find((c) => c.id === '3')?.current?.status"
                       f" === 'serving' && b.recent.some((r) => r.number === '{a3}'); }})()")
        # The screen lists every call, at once, whatever is said.
        recent = board.evaluate("window.switchboardBoard.state.recent.map((r) => r.number)")
        assert set(recent) == {a1, a2, a3, b1, c1, d1}, recent
        assert said(board) == []

    default, within5 = boards["default"], boards["within5"]
    default.evaluate("window.releaseChime()")
    wait_js(default, DRAINED + " && window.switchboardBoard.spoken.length >= 8")
    # Said, oldest first: C001 (counter 4), D001 (counter 5), A003 (counter 1's new call),
    # A002's recall — in Chinese then English. Not A001 (counter 1 moved on), not A002's first
    # call (its recall came), not B001 (already at room 3).
    assert said(default)[1::2] == [en(c1, "Counter 4"), en(d1, "Counter 5"),
                                   en(a3, "Room 1"), en(a2, "Room 2")]
    skipped = default.evaluate("window.switchboardBoard.skipped")
    assert [(k["number"], k["reason"]) for k in skipped] == [
        (a1, "superseded"), (a2, "superseded"), (b1, "answered")]

    # The other board stays behind past its 5 s: nothing of the burst is said any more.
    within5.clock.run_for(5500)
    within5.evaluate("window.releaseChime()")
    wait_js(within5, DRAINED)
    assert said(within5) == []
    skipped = within5.evaluate("window.switchboardBoard.skipped")
    reasons = {(k["number"], k["reason"]) for k in skipped}
    assert reasons == {(a1, "superseded"), (a2, "superseded"), (b1, "answered"),
                       (c1, "late"), (d1, "late"), (a3, "late"), (a2, "late")}
    # Its clock agrees with the server's again, as after a real wait (moved on, it was 5.5 s
    # ahead: a new call would have been 'late' at once).
    within5.clock.set_system_time(time.time())

    # A call after the burst is said at once, on both.
    s.counter("4", "complete")
    s.counter("4", "call-next")
    for board in (default, within5):
        wait_js(board, DRAINED + " && window.switchboardBoard.spoken"
                                 f".some((x) => x.text === '{en(c2, 'Counter 4')}')")
    assert said(within5) == [f"请 {c2} 号到 4号窗口", en(c2, "Counter 4")]
