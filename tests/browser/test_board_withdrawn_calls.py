"""A withdrawn call leaves the board's "Now calling" panel, and the public board publishes its
accuracy only once it means something.

1. Room 1 called A048, then parked it (how a wrong call is undone): its tile went to "—" but
   the big panel kept "A048 → Room 1" until the next call, and the wrong patient walked in.
   Now a call whose ticket leaves its counter without being served there (parked, no-show,
   transferred, cancelled, called elsewhere) leaves the panel at once — shown, queued or idle —
   for the newest call still standing, or none; the voice does not say it either. A call whose
   patient was served (started) may stay as the last call: it sends nobody anywhere.
2. "今天 0% 的人在我们预估的时间范围内被叫到" after 10 scored calls, on the waiting-room TV:
   the line now needs 50 scored calls and a figure that alarms nobody (≥ 60 %)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import DemoServer, wait_js
from tests.browser.test_board_announcements import DRAINED, FAKE_VOICE, HOLD
from tests.browser.test_board_hero_pace import free
from tests.browser.test_js_units import page, run  # noqa: F401  (the unit page fixture)

pytestmark = pytest.mark.browser

HERO = "(document.querySelector('#hero .hero-number')?.textContent ?? null)"
TILE = "(document.querySelector('#counters [data-counter=\"{c}\"] .ct-number')?.textContent)"


@pytest.fixture(scope="module")
def server(demo_server: DemoServer) -> DemoServer:
    return demo_server


def open_board(browser: Any, server: DemoServer, extra: str = "",
               stats: dict[str, Any] | None = None) -> tuple[Any, Any]:
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    ctx.add_init_script(FAKE_VOICE)
    pg = ctx.new_page()
    # The page's clock flows as the real one; a test moves it past the panel's 5 s instead
    # of waiting them out (run_for fires every timer due on the way, as the seconds would).
    pg.clock.install()
    if stats is not None:
        def fake(route: Any) -> None:
            route.fulfill(status=200, content_type="application/json", body=json.dumps(stats))
        pg.route("**/v1/sites/demo/stats*", fake)
    pg.goto(server.page_url("board", lang="en") + extra)
    wait_js(pg, "window.switchboardBoard && window.switchboardBoard.offset "
                "&& window.switchboardBoard.sound === 'on'")
    return ctx, pg


@pytest.fixture
def board(browser: Any, server: DemoServer) -> Iterator[Any]:
    ctx, pg = open_board(browser, server)
    yield pg
    ctx.close()


@pytest.mark.parametrize("op", ["park", "no-show", "transfer", "cancel"])
def test_a_withdrawn_call_leaves_the_panel_at_once(board: Any, server: DemoServer,
                                                    op: str) -> None:
    s = server
    free(s, "1", "2")
    s.take("internal")
    called = s.counter("1", "call-next")
    a = called["number"]
    wait_js(board, f"{HERO} === '{a}'")
    board.wait_for_timeout(1500)
    # Within the call's 5 s on the panel: it goes anyway.
    if op == "cancel":  # by staff, at reception
        s.post(f"/v1/tickets/{called['id']}/cancel", s.token("agent", site="demo", counter="2"))
    else:
        s.counter("1", op, {"service": "lab"} if op == "transfer" else None)
    wait_js(board, TILE.format(c="1") + " === '—'")
    wait_js(board, f"{HERO} !== '{a}'", timeout_s=2)
    board.clock.run_for(6000)  # and does not come back when the panel goes idle
    assert board.evaluate(f"() => {HERO}") != a
    assert a not in [r.get("number") for r in [board.evaluate(
        "window.switchboardBoard.hero.shown ?? {}")]]


def test_after_a_withdrawn_call_the_panel_shows_the_call_still_standing(
        board: Any, server: DemoServer) -> None:
    s = server
    free(s, "1", "2")
    s.take("internal")
    b = s.counter("2", "call-next")["number"]  # still waiting for its patient at counter 2
    wait_js(board, f"{HERO} === '{b}'")
    s.take("internal")
    a = s.counter("1", "call-next")["number"]
    wait_js(board, f"{HERO} === '{a}'", timeout_s=10)
    s.counter("1", "park")
    wait_js(board, f"{HERO} === '{b}'", timeout_s=3)
    free(s, "2")
    wait_js(board, f"{HERO} === null", timeout_s=3)  # nothing stands: no call on the panel
    assert board.evaluate("document.querySelector('#hero .hero-empty')?.textContent") == (
        "Please wait for your number to be called")  # not "No calls yet": there were calls


def test_a_no_show_taken_back_stands_again(board: Any, server: DemoServer) -> None:
    """`undone` (docs/protocol.md) puts the ticket back at its counter, called: the call stands
    again (as its tile says), without being announced again. It never withdraws another call:
    a counter that has called someone since has nothing to undo."""
    s = server
    free(s, "1")
    s.take("internal")
    a = s.counter("1", "call-next")["number"]
    wait_js(board, f"{HERO} === '{a}'")
    wait_js(board, DRAINED, timeout_s=20)  # said once, in full
    said = len(board.evaluate("window.switchboardBoard.spoken"))
    s.counter("1", "no-show")
    wait_js(board, f"{HERO} !== '{a}'", timeout_s=3)
    s.counter("1", "undo")
    wait_js(board, TILE.format(c="1") + f" === '{a}'")
    wait_js(board, f"{HERO} === '{a}'", timeout_s=3)
    board.wait_for_timeout(1500)
    assert len(board.evaluate("window.switchboardBoard.spoken")) == said


def test_a_served_call_stays_as_the_last_call(board: Any, server: DemoServer) -> None:
    s = server
    free(s, "1")
    s.take("internal")
    a = s.counter("1", "call-next")["number"]
    wait_js(board, f"{HERO} === '{a}'")
    s.counter("1", "start")
    s.counter("1", "complete")
    wait_js(board, TILE.format(c="1") + " === '—'")
    board.clock.run_for(6000)  # past its 5 s: the idle panel keeps the last call
    assert board.evaluate(f"() => {HERO}") == a


def test_a_call_withdrawn_before_it_is_said_is_neither_said_nor_shown(
        board: Any, server: DemoServer) -> None:
    s = server
    free(s, "1", "6")
    board.evaluate(HOLD)  # the announcer is held at its first chime
    s.take("internal")
    s.take("pharmacy")
    a = s.counter("1", "call-next")["number"]
    wait_js(board, f"{HERO} === '{a}'")
    d = s.counter("6", "call-next")["number"]
    wait_js(board, "window.switchboardBoard.hero.queued.length === 1")
    s.counter("6", "park")  # a wrong call, undone while it waits its turn
    wait_js(board, TILE.format(c="6") + " === '—'")
    assert board.evaluate("window.switchboardBoard.hero.queued") == []
    board.evaluate("window.releaseChime()")
    wait_js(board, DRAINED, timeout_s=20)
    board.clock.run_for(5500)
    said = [x["text"] for x in board.evaluate("window.switchboardBoard.spoken")]
    assert said and not any(d in t for t in said), said
    skipped = board.evaluate("window.switchboardBoard.skipped")
    assert {"number": d, "reason": "answered"} in [
        {"number": x["number"], "reason": x["reason"]} for x in skipped], skipped
    assert board.evaluate(f"() => {HERO}") == a


# -- the accuracy line -------------------------------------------------------------------------

def stats(n: int, coverage: float | None) -> dict[str, Any]:
    return {"site": "demo", "date": "2026-12-07",
            "accuracy": {"n": n, "mae_s": 300.0, "rmse_s": 400.0, "bias_s": 10.0,
                         "p_over": 0.5, "coverage_p10_p90": coverage}, "services": {}}


@pytest.mark.parametrize(("n", "coverage", "shown"), [
    (10, 0.0, ""),  # the clerk's board: noise from 10 calls
    (10, 0.9, ""),
    (49, 0.85, ""),
    (50, 0.3, "Today 30% of people were called within our estimated range"),  # honest
    (50, 0.82, "Today 82% of people were called within our estimated range"),
    (0, None, ""),
])
def test_the_public_board_shows_accuracy_only_when_it_means_something(
        browser: Any, server: DemoServer, n: int, coverage: float | None, shown: str) -> None:
    ctx, pg = open_board(browser, server, stats=stats(n, coverage))
    try:
        pg.wait_for_timeout(800)  # the stats answered (fulfilled at once)
        assert pg.evaluate("document.getElementById('accuracy').textContent") == shown
    finally:
        ctx.close()


def test_the_rules_fed_by_hand(page: Any) -> None:  # noqa: F811
    out = run(page, """
      const b = m.board_state;
      const acc = [[10, 0], [49, 0.9], [50, 0.59], [50, 0.6], [200, 0.834], [null, 0.9]]
        .map(([n, c]) => b.publicAccuracy({n, coverage_p10_p90: c}));
      const ev = (type, data) => ({op: 'event', type, epoch: 'e', offset: '1', data});
      const ctr = (id, current) => ({id, state: 'open', current});
      const at = (id, status) => ev('counter', {counter: ctr(id, {number: 'A048', status})});
      let s = b.reduce(b.emptyBoard(), {op: 'snapshot', epoch: 'e', offset: '0', data: {
        name: {}, counters: [ctr('1', null), ctr('2', null)], recent: [], services: []}});
      s = b.reduce(s, ev('called', {number: 'A048', counter: '1', at: '2026-12-07T08:00:00Z'}));
      const called = b.panelCall(s)?.number;
      const parked = b.reduce(s, ev('counter', {counter: ctr('1', null)}));
      const serving = b.reduce(s, at('1', 'serving'));
      const done = b.reduce(serving, ev('counter', {counter: ctr('1', null)}));
      const elsewhere = b.reduce(s, ev('recalled', {number: 'A048', counter: '2',
                                                    at: '2026-12-07T08:01:00Z'}));
      const undone = b.reduce(parked, at('1', 'called'));
      const call = {number: 'A048', counter: '1'};
      return {acc, called, parked: [b.withdrawn(parked, call), b.panelCall(parked)],
              served: [b.withdrawn(done, call), b.panelCall(done)?.number],
              elsewhere: [b.withdrawn(elsewhere, call), b.panelCall(elsewhere)?.counter],
              undone: b.panelCall(undone)?.number,
              other: b.withdrawn(s, {number: 'X1', counter: '9'})};""")
    assert out["acc"] == [None, None, 59, 60, 83, None]
    assert out["called"] == "A048"
    assert out["parked"] == [True, None]
    assert out["served"] == [False, "A048"]
    assert out["elsewhere"] == [True, "2"]
    assert out["undone"] == "A048"  # a no-show taken back: at its counter again, it stands
    assert out["other"] is False  # another area's counter: not this board's to judge


def test_the_pace_drops_a_withdrawn_call(page: Any) -> None:  # noqa: F811
    out = run(page, """
      const h = await import('/static/js/board-hero.js');
      const call = (number, counter, at) => ({number, counter, at, key: `${number}|${at}`,
                                              items: [], data: {number, counter}});
      let hero = h.heroPush(h.heroIdle(), call('A1', '1', 0));
      hero = h.heroPush(hero, call('B1', '2', 100));
      hero = h.heroStep(hero, 0);
      const gone = new Set();
      const opts = () => ({gone: (c) => gone.has(c.number)});
      gone.add('A1');
      hero = h.heroStep(hero, 1000, opts());  // shown for 1 s only: off at once, B1 next
      const next = hero.shown?.number;
      gone.add('B1');  // the newest too
      hero = h.heroStep(hero, 1200, opts());
      return {next, after: hero.shown, queue: hero.queue.length,
              idle: h.heroCall(hero, null)};""")
    assert out == {"next": "B1", "after": None, "queue": 0, "idle": None}
