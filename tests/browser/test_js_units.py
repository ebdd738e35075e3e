# ruff: noqa: E501  (the JavaScript under test is embedded; its lines follow JS, not PEP 8)
"""Unit tests of the pages' JavaScript modules, run in Chromium (no server: the files are
served to the page by Playwright from clients/web/).

msgpack is checked byte for byte against msgspec (the server's encoder), both ways; the
protocol client against a fake WebSocket and a hand-driven clock; the board's state and
announcement rules, the queue list and the formatters by feeding them messages.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from tests.browser.conftest import WEB

pytestmark = pytest.mark.browser
ORIGIN = "http://sb.test"


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context()
    pg = ctx.new_page()

    def serve(route: Any) -> None:
        path = route.request.url.removeprefix(ORIGIN).split("?")[0]
        if path == "/":
            route.fulfill(body="<!doctype html><title>unit</title>", content_type="text/html")
            return
        file = WEB / path.removeprefix("/static/")
        if not path.startswith("/static/") or not file.is_file():
            route.fulfill(status=404, body="")
            return
        ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        route.fulfill(body=file.read_bytes(), content_type=ctype)

    pg.route(f"{ORIGIN}/**", serve)
    pg.goto(f"{ORIGIN}/")
    yield pg
    ctx.close()


def run(page: Any, body: str, arg: Any = None) -> Any:
    """Run an async function body with the modules imported as m.msgpack, m.client, …"""
    return page.evaluate(
        """async ([body, arg]) => {
          const names = ['msgpack', 'client', 'board-state', 'queue-list', 'i18n', 'announcer'];
          const m = {};
          for (const n of names) m[n.replace('-', '_')] = await import(`/static/js/${n}.js`);
          return await (new Function('m', 'arg', `return (async () => { ${body} })()`))(m, arg);
        }""", [body, arg])


# -- msgpack ------------------------------------------------------------------------------

VALUES: list[Any] = [
    None, True, False, 0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**53 - 1,
    -1, -32, -33, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1, -(2**53) + 1,
    0.5, -1.25, 1e300, "", "a", "x" * 31, "x" * 32, "y" * 255, "y" * 256, "z" * 65535,
    "z" * 65536, "请 A001 号到 1号诊室", "emoji 🚑", [], list(range(15)), list(range(16)),
    list(range(70000)), {}, {f"k{i}": i for i in range(15)}, {f"k{i}": i for i in range(16)},
    {"op": "event", "topic": "board:demo", "epoch": "ab12", "offset": "1795446392690-0",
     "type": "called", "data": {"number": "A001", "announcement": {"zh": "请", "en": "go"},
                                "valid_until_ms": 1795446512690, "expired": False,
                                "nested": [[1, [2, [3, {"x": None}]]]]}},
]


def test_msgpack_decodes_what_msgspec_encodes(page: Any) -> None:
    blobs = [list(msgspec.msgpack.encode(v)) for v in VALUES]
    decoded = run(page, """return arg.map((b) => m.msgpack.decode(new Uint8Array(b)));""", blobs)
    assert decoded == VALUES


def test_msgpack_encodes_byte_for_byte_like_msgspec(page: Any) -> None:
    encoded = run(page, """return arg.map((v) => Array.from(m.msgpack.encode(v)));""", VALUES)
    for value, got in zip(VALUES, encoded, strict=True):
        assert bytes(got) == msgspec.msgpack.encode(value), repr(value)[:80]


def test_msgpack_binary_big_integers_and_timestamps(page: Any) -> None:
    when = dt.datetime(2026, 11, 23, 8, 30, 15, 250000, tzinfo=dt.UTC)
    blob = msgspec.msgpack.encode({"bin": b"\x00\x01\xff", "big": 2**63 + 5, "neg": -(2**62),
                                   "at": when})
    out = run(page, """
      const v = m.msgpack.decode(new Uint8Array(arg));
      const back = m.msgpack.encode({bin: v.bin, big: v.big, neg: v.neg, at: v.at});
      return {bin: Array.from(v.bin), isBin: v.bin instanceof Uint8Array, big: String(v.big),
              bigType: typeof v.big, neg: String(v.neg), at: v.at.toISOString(),
              back: Array.from(back)};""", list(blob))
    assert out["bin"] == [0, 1, 255] and out["isBin"]
    assert out["big"] == str(2**63 + 5) and out["bigType"] == "bigint"
    assert out["neg"] == str(-(2**62))
    assert out["at"] == "2026-11-23T08:30:15.250Z"
    back = msgspec.msgpack.decode(bytes(out["back"]))
    assert back == {"bin": b"\x00\x01\xff", "big": 2**63 + 5, "neg": -(2**62), "at": when}


def test_msgpack_refuses_bad_input(page: Any) -> None:
    errors = run(page, """
      const out = [];
      for (const bytes of [[0x92, 0x01], [0xa5, 0x61], [0xc1], [0x01, 0x02], [0xdd, 0xff, 0xff, 0xff, 0xff]]) {
        try { m.msgpack.decode(new Uint8Array(bytes)); out.push('no error'); }
        catch (e) { out.push(e.name); }
      }
      const o = m.msgpack.decode(new Uint8Array([0x81, 0xa9, ...new TextEncoder().encode('__proto__'), 0x01]));
      out.push(Object.getPrototypeOf(o) === Object.prototype && o.__proto__ === 1 ? 'safe' : 'polluted');
      return out;""")
    assert errors == ["RangeError"] * 5 + ["safe"]


# -- protocol client: the pure core --------------------------------------------------------

def test_core_resumes_each_topic_from_its_last_offset(page: Any) -> None:
    out = run(page, """
      const c = new m.client.ClientCore();
      const first = c.add('board:demo');
      c.add('ticket:demo.1');
      const r1 = c.receive({op: 'snapshot', topic: 'board:demo', epoch: 'e1', offset: '10-0', data: {}, resync: false, id: 1});
      const r2 = c.receive({op: 'event', topic: 'board:demo', epoch: 'e1', offset: '12-0', type: 'called', data: {}});
      const dup = c.receive({op: 'event', topic: 'board:demo', epoch: 'e1', offset: '12-0', type: 'called', data: {}});
      const older = c.receive({op: 'event', topic: 'board:demo', epoch: 'e1', offset: '11-5', type: 'called', data: {}});
      const other = c.receive({op: 'event', topic: 'board:other', epoch: 'e1', offset: '13-0', type: 'x', data: {}});
      const again = c.opened();
      return {first, r1, r2, dup, older, other, again};""")
    assert "since" not in out["first"] and out["first"]["op"] == "subscribe"
    assert out["r1"] == {"deliver": "board:demo"} and out["r2"] == {"deliver": "board:demo"}
    assert out["dup"] == {"ignore": "duplicate"} and out["older"] == {"ignore": "duplicate"}
    assert out["other"] == {"ignore": "not subscribed"}
    by_topic = {m["topic"]: m for m in out["again"]}
    assert by_topic["board:demo"]["since"] == {"epoch": "e1", "offset": "12-0"}
    assert "since" not in by_topic["ticket:demo.1"]


def test_core_errors_retry_when_temporary_and_stop_when_not(page: Any) -> None:
    out = run(page, """
      const c = new m.client.ClientCore();
      const a = c.add('board:demo'), b = c.add('ticket:demo.x');
      const temp = c.receive({op: 'error', code: 'unavailable', message: '', temporary: true, id: a.id});
      const fail = c.receive({op: 'error', code: 'unknown_topic', message: '', temporary: false, id: b.id});
      const loose = c.receive({op: 'error', code: 'rate_limited', message: '', temporary: true});
      return {temp, fail, loose, again: c.opened().map((x) => x.topic)};""")
    assert out["temp"]["retry"] == "board:demo"
    assert out["fail"]["fail"] == "ticket:demo.x"
    assert "error" in out["loose"] and "retry" not in out["loose"]
    assert out["again"] == ["board:demo"], "a refused topic is not asked for again"


def test_backoff_doubles_with_jitter_and_a_cap(page: Any) -> None:
    out = run(page, """
      const d = (a, r) => m.client.backoffDelay(a, 500, 8000, () => r);
      return [[1,2,3,4,5,6,7].map((a) => d(a, 0.5)), d(1, 0), d(1, 0.999), d(9, 0.999)];""")
    assert out[0] == [500, 1000, 2000, 4000, 8000, 8000, 8000]
    assert out[1] == 250 and 745 <= out[2] <= 750 and out[3] <= 12000


# -- protocol client: the websocket shell, with a fake socket and a hand-driven clock ----

FAKE = """
  const clock = {now: 1000, timers: []};
  const sockets = [];
  class FakeWS {
    constructor(url, protocols) { this.url = url; this.protocols = protocols; this.readyState = 0;
      this.sent = []; this.protocol = ''; sockets.push(this); }
    send(f) { this.sent.push(typeof f === 'string' ? JSON.parse(f) : {binary: Array.from(f)}); }
    close() { this.readyState = 3; }
    open(protocol) { this.readyState = 1; this.protocol = protocol ?? this.protocols[0]; this.onopen?.(); }
    recv(msg) { this.onmessage?.({data: JSON.stringify(msg)}); }
    recvBinary(bytes) { this.onmessage?.({data: bytes.buffer}); }
    die(code) { this.readyState = 3; this.onclose?.({code: code ?? 1006, reason: ''}); }
  }
  const advance = (ms) => {
    const end = clock.now + ms;
    for (;;) {
      clock.timers.sort((a, b) => a.at - b.at);
      const t = clock.timers[0];
      if (!t || t.at > end) break;
      clock.timers.shift();
      clock.now = t.at;
      t.fn();
    }
    clock.now = end;
  };
  const opts = {WebSocket: FakeWS, url: 'ws://sb.test/ws', token: 'tok', watch: false,
    now: () => clock.now, random: () => 0.5, minBackoffMs: 500, maxBackoffMs: 8000,
    pingIntervalMs: 15000, pongTimeoutMs: 6000,
    setTimeout: (fn, ms) => { const t = {fn, at: clock.now + ms}; clock.timers.push(t); return t; },
    clearTimeout: (t) => { clock.timers = clock.timers.filter((x) => x !== t); }};
"""


def test_client_reconnects_with_backoff_and_resubscribes_since(page: Any) -> None:
    out = run(page, FAKE + """
      const states = [];
      const got = [];
      const client = new m.client.Client(opts);
      client.onState((s) => states.push([s.status, s.since, s.retryAt]));
      client.subscribe('board:demo', (msg) => got.push(msg.offset));
      client.start();
      sockets[0].open();
      const firstSub = sockets[0].sent[0];
      sockets[0].recv({op: 'snapshot', topic: 'board:demo', epoch: 'e', offset: '5-0', data: {}, resync: false});
      sockets[0].recv({op: 'event', topic: 'board:demo', epoch: 'e', offset: '7-0', type: 'called', data: {}});
      clock.now = 2000; sockets[0].die(1006);
      const afterDrop = client.state;
      advance(499); const beforeRetry = sockets.length;
      advance(1); const afterRetry = sockets.length;
      sockets[1].die(1006);       // still down: attempt 2 waits twice as long, offline since 2000
      const attempt2 = client.state;
      advance(1000); sockets[2].open();
      const resub = sockets[2].sent[0];
      return {url: sockets[0].url, protocols: sockets[0].protocols, firstSub, got, afterDrop,
              beforeRetry, afterRetry, attempt2, resub, final: client.state.status};""")
    assert out["url"] == "ws://sb.test/ws?token=tok"
    assert out["protocols"] == ["switchboard.v1.json"]
    assert "since" not in out["firstSub"]
    assert out["got"] == ["5-0", "7-0"]
    assert out["afterDrop"]["status"] == "offline" and out["afterDrop"]["since"] == 2000
    assert out["afterDrop"]["retryAt"] == 2500
    assert (out["beforeRetry"], out["afterRetry"]) == (1, 2)
    assert out["attempt2"]["since"] == 2000 and out["attempt2"]["retryAt"] == 2500 + 1000
    assert out["resub"]["since"] == {"epoch": "e", "offset": "7-0"}
    assert out["final"] == "online"


def test_client_stops_on_a_refused_token(page: Any) -> None:
    out = run(page, FAKE + """
      const client = new m.client.Client(opts);
      client.subscribe('board:demo', () => {});
      client.start();
      sockets[0].open();
      sockets[0].die(4001);
      advance(60000);
      return {status: client.state.status, code: client.state.code, sockets: sockets.length};""")
    assert out == {"status": "denied", "code": 4001, "sockets": 1}


def test_client_drops_a_silent_connection_and_probes_on_wake(page: Any) -> None:
    out = run(page, FAKE + """
      const client = new m.client.Client(opts);
      client.subscribe('ticket:demo.1', () => {});
      client.start();
      sockets[0].open();
      advance(15000);                       // quiet for a ping interval: ping
      const ping = sockets[0].sent.at(-1);
      advance(6000);                        // no pong: dropped, retry scheduled
      const dropped = {status: client.state.status, sockets: sockets.length};
      advance(500); sockets[1].open();
      // The phone sleeps, then wakes: check() pings at once; a pong keeps the connection.
      client.check();
      const probe = sockets[1].sent.at(-1);
      sockets[1].recv({op: 'pong'});
      advance(5000);
      const kept = sockets.length;
      // Offline and waiting for a long backoff: waking reconnects now.
      sockets[1].die(1006); sockets.at(-1);
      const waiting = client.state.retryAt - clock.now;
      client.check();
      const now = sockets.length;
      // The browser's 'offline' event: offline at once, not a ping interval + pong timeout later.
      sockets.at(-1).open(); clock.now += 1000;
      client.wentOffline();
      const gone = {status: client.state.status, since: client.state.since - clock.now};
      return {ping, dropped, probe, kept, waiting, now, gone};""")
    assert out["ping"] == {"op": "ping"} and out["probe"] == {"op": "ping"}
    assert out["dropped"] == {"status": "offline", "sockets": 1}
    assert out["kept"] == 2
    assert out["waiting"] > 0 and out["now"] == 3
    assert out["gone"] == {"status": "offline", "since": 0}


def test_client_speaks_msgpack(page: Any) -> None:
    snapshot = msgspec.msgpack.encode({"op": "snapshot", "topic": "board:demo", "epoch": "e",
                                       "offset": "9-1", "data": {"site": "demo"},
                                       "resync": True})
    out = run(page, FAKE + """
      const got = [];
      const client = new m.client.Client({...opts, encoding: 'msgpack'});
      client.subscribe('board:demo', (msg) => got.push(msg));
      client.start();
      sockets[0].open('switchboard.v1.msgpack');
      sockets[0].recvBinary(new Uint8Array(arg));
      return {protocols: sockets[0].protocols, sent: sockets[0].sent[0], got};""",
               list(snapshot))
    assert out["protocols"] == ["switchboard.v1.msgpack"]
    sent = msgspec.msgpack.decode(bytes(out["sent"]["binary"]))
    assert sent["op"] == "subscribe" and sent["topic"] == "board:demo" and "since" not in sent
    assert out["got"] == [msgspec.msgpack.decode(snapshot)]


# -- board state and announcements -------------------------------------------------------

CALL = {"number": "A007", "counter": "1", "service": "internal", "at": "2026-01-01T00:00:00Z",
        "announcement": {"zh": "请 A007 号到 1号诊室", "en": "Ticket A007, please go to Room 1"},
        "valid_until_ms": 2_000_000, "recalls": 0}


def test_board_announces_live_calls_in_site_order_and_never_stale_ones(page: Any) -> None:
    out = run(page, """
      const A = (msg, now) => m.board_state.announcementsFor(msg, now, ['zh', 'en']);
      const ev = (data, type = 'called') => ({op: 'event', topic: 'board:demo', epoch: 'e', offset: '1-0', type, data});
      return {
        live: A(ev(arg), 1_000_000),
        recall: A(ev(arg, 'recalled'), 1_000_000).length,
        expiredFlag: A(ev({...arg, expired: true}), 1_000_000),
        pastValidity: A(ev(arg), 2_000_000),
        snapshot: A({op: 'snapshot', topic: 'board:demo', data: {recent: [arg]}}, 0),
        counterEvent: A(ev(arg, 'counter'), 0),
      };""", CALL)
    assert out["live"] == [
        {"lang": "zh", "text": "请 A007 号到 1号诊室", "validUntil": 2_000_000},
        {"lang": "en", "text": "Ticket A007, please go to Room 1", "validUntil": 2_000_000}]
    assert out["recall"] == 2
    assert out["expiredFlag"] == [] and out["pastValidity"] == [] and out["snapshot"] == []
    assert out["counterEvent"] == []


def test_announcer_drops_a_call_that_expired_while_waiting_its_turn(page: Any) -> None:
    out = run(page, """
      let now = 1000;
      const a = new m.announcer.Announcer({now: () => now});
      a.sound = 'on';
      a.chime = async () => { now += 5000; };   // each chime takes "5 s" of the clock
      a.announce([{lang: 'zh', text: 'one', validUntil: 20000}, {lang: 'en', text: 'one-en', validUntil: 20000}]);
      a.announce([{lang: 'zh', text: 'two', validUntil: 5500}]);   // expires during call one
      a.announce([{lang: 'zh', text: 'three', validUntil: 60000}]);
      while (a.busy || a.queue.length) await new Promise((r) => setTimeout(r, 20));
      const spoken = a.spoken.map((s) => [s.lang, s.text, s.speechLang]);
      a.sound = 'blocked';
      a.announce([{lang: 'zh', text: 'muted', validUntil: 90000}]);
      while (a.busy || a.queue.length) await new Promise((r) => setTimeout(r, 20));
      return {spoken, after: a.spoken.length};""")
    assert out["spoken"] == [["zh", "one", "zh-CN"], ["en", "one-en", "en-GB"],
                             ["zh", "three", "zh-CN"]]
    assert out["after"] == 3, "nothing is queued up while sound is blocked, to be said late"


def test_board_state_follows_snapshots_events_and_a_resume(page: Any) -> None:
    out = run(page, """
      const R = m.board_state.reduce;
      let s = m.board_state.emptyBoard();
      s = R(s, {op: 'snapshot', epoch: 'e', offset: '1-0', resync: false, data: {
        name: {en: 'Clinic'}, languages: ['zh', 'en'],
        counters: [{id: '1', name: {en: 'Room 1'}, state: 'open', current: null},
                   {id: '2', name: {en: 'Room 2'}, state: 'open', current: null}],
        recent: [{number: 'A001', counter: '2', service: 'internal', at: 't0'}],
        services: [{id: 'internal', name: {en: 'IM'}, prefix: 'A', waiting: 3, estimate: null}]}});
      const afterSnapshot = {last: s.lastCall.number, offset: s.offset};
      s = R(s, {op: 'event', epoch: 'e', offset: '2-0', type: 'called', data: {...arg, waiting: {internal: {waiting: 2, estimate: {wait_s: 300, low_s: 120, high_s: 600}}}}});
      const afterCall = {c1: s.counters[0].current.number, recent: s.recent.map((r) => r.number), waiting: s.services[0].waiting};
      s = R(s, {op: 'event', epoch: 'e', offset: '3-0', type: 'recalled', data: arg});
      const afterRecall = s.recent.map((r) => r.number);
      // A resume: a replayed counter event (id and state only), then the current state merged.
      s = R(s, {op: 'event', epoch: 'e', offset: '4-0', type: 'counter', data: {counter: {id: '2', state: 'paused'}}});
      const replayed = {state: s.counters[1].state, name: s.counters[1].name.en};
      s = R(s, {op: 'event', epoch: 'e', offset: '5-0', type: 'waiting', data: {waiting: {internal: {waiting: 1, estimate: null}},
        counters: [{id: '1', name: {en: 'Room 1'}, state: 'open', current: null}, {id: '2', name: {en: 'Room 2'}, state: 'paused', current: null}]}});
      const resumed = {c1: s.counters[0].current, waiting: s.services[0].waiting, offset: s.offset};
      s = R(s, {op: 'snapshot', epoch: 'e2', offset: '1-0', resync: true, data: {name: {}, languages: [], counters: [], recent: [], services: []}});
      return {afterSnapshot, afterCall, afterRecall, replayed, resumed, resync: [s.resyncs, s.counters.length, s.lastCall]};""",
               CALL)
    assert out["afterSnapshot"] == {"last": "A001", "offset": "1-0"}
    assert out["afterCall"] == {"c1": "A007", "recent": ["A007", "A001"], "waiting": 2}
    assert out["afterRecall"] == ["A007", "A001"], "a recall moves the call up, no duplicate"
    assert out["replayed"] == {"state": "paused", "name": "Room 2"}
    assert out["resumed"] == {"c1": None, "waiting": 1, "offset": "5-0"}
    assert out["resync"] == [1, 0, None]


def test_board_state_clears_the_closed_day_s_calls(page: Any) -> None:
    """After a day close the hero and the recent list lose the day's calls: on Monday,
    Friday's 'now calling G008' must not sit over the new G008's head."""
    out = run(page, """
      const R = m.board_state.reduce;
      const snap = (s) => R(s, {op: 'snapshot', epoch: 'e', offset: '1-0', data: {
        name: {}, languages: ['en'], counters: [], services: [],
        recent: [{number: 'G009', counter: '2', service: 'gp', at: '2026-12-04T18:05:00.000+00:00'},
                 {number: 'G008', counter: '1', service: 'gp', at: '2026-12-04T17:55:00.000+00:00'}]}});
      let live = R(snap(m.board_state.emptyBoard()), {op: 'event', epoch: 'e', offset: '2-0',
        type: 'day_closed', data: {before_ms: Date.parse('2026-12-04T20:00:00Z'), recent: [], counters: []}});
      // Replayed (no list): the cut-off applies; a call after it stays.
      let replayed = R(snap(m.board_state.emptyBoard()), {op: 'event', epoch: 'e', offset: '2-0',
        type: 'day_closed', data: {before_ms: Date.parse('2026-12-04T18:00:00Z')}});
      return {live: [live.recent.length, live.lastCall], replayed: [replayed.recent.map((r) => r.number),
              replayed.lastCall && replayed.lastCall.number]};""")
    assert out["live"] == [0, None]
    assert out["replayed"] == [["G009"], "G009"]


def test_queue_list_applies_changes(page: Any) -> None:
    out = run(page, """
      const Q = m.queue_list.applyQueue;
      const t = (id) => ({id, number: id.toUpperCase()});
      let q = Q([], {op: 'snapshot', data: {tickets: [t('a'), t('b'), t('c')]}});
      q = Q(q, {op: 'event', type: 'changed', data: {removed: ['a'], inserted: []}});
      q = Q(q, {op: 'event', type: 'changed', data: {removed: [], inserted: [{after: 'b', ticket: t('x')}, {after: null, ticket: t('e')}, {after: 'c', ticket: t('z')}]}});
      return q.map((x) => x.id);""")
    assert out == ["e", "b", "x", "c", "z"]


def test_i18n_ranges_and_language_choice(page: Any) -> None:
    out = run(page, """
      const f = m.i18n.formatEstimate, p = m.i18n.pickLanguage;
      return [f(null, 'en'), f({wait_s: 600, low_s: 300, high_s: 900}, 'en'), f({wait_s: 600, low_s: 300, high_s: 900}, 'zh'),
              f({wait_s: 30, low_s: 10, high_s: 50}, 'en'), f({wait_s: 120, low_s: 120, high_s: 120}, 'en'),
              p({site: ['zh', 'en'], browser: ['en-US']}), p({site: ['zh', 'en'], browser: ['en-US'], preferBrowser: true}),
              p({param: 'en', site: ['zh']}), p({stored: 'zh', site: ['en'], browser: ['en'], preferBrowser: true}),
              p({site: ['zh', 'en'], browser: ['fr-FR', 'zh-TW'], preferBrowser: true})];""")
    assert out == ["—", "5–15 min", "5–15 分钟", "under 1 min", "2 min",
                   "zh", "en", "en", "zh", "zh"]
