// The display board's state, as pure functions of the `board:{site}` messages
// (docs/protocol.md): reduce(state, msg) → new state; announcementsFor(msg, now) → what to say.

export const RECENT_MAX = 10;

export function emptyBoard() {
  return { ready: false, name: null, languages: [], counters: [], recent: [], services: [],
           epoch: null, offset: null, lastCall: null, served: {}, resyncs: 0 };
}

/** The board after `msg`. A snapshot replaces everything (resync or not); events patch. */
export function reduce(state, msg) {
  if (msg.op === 'snapshot') {
    const d = msg.data;
    return {
      ready: true, name: d.name, languages: d.languages ?? [], epoch: msg.epoch, offset: msg.offset,
      counters: (d.counters ?? []).map((c) => ({ ...c })),
      recent: (d.recent ?? []).slice(0, RECENT_MAX),
      services: (d.services ?? []).map((s) => ({ ...s })),
      lastCall: latestCall(state.lastCall, d.recent?.[0]), resyncs: state.resyncs + (msg.resync ? 1 : 0),
      served: noteServed({}, d.counters),
    };
  }
  if (msg.op !== 'event') return state;
  const d = msg.data ?? {};
  let next = { ...state, epoch: msg.epoch, offset: msg.offset };
  if (msg.type === 'called' || msg.type === 'recalled') next = applyCall(next, msg.type, d);
  if (msg.type === 'counter' && d.counter) next = patchCounter(next, d.counter);
  if (msg.type === 'day_closed') next = applyDayClosed(next, d);
  // The current state rides on events (and on the last message of a resume).
  if (d.waiting) next = applyWaiting(next, d.waiting);
  if (Array.isArray(d.counters)) next = { ...next, counters: d.counters.map((c) => ({ ...c })) };
  const seen = msg.type === 'counter' && d.counter ? [d.counter] : d.counters;
  if (Array.isArray(seen)) next = { ...next, served: noteServed(next.served ?? {}, seen) };
  return next;
}

// The ticket each counter was last seen serving (started), by number: a call whose patient
// arrived. Forgotten when the counter calls again and when the day closes.
function noteServed(served, counters) {
  let out = served;
  for (const c of counters ?? []) {
    if (c?.current?.status === 'serving' && out[c.id] !== c.current.number) out = { ...out, [c.id]: c.current.number };
  }
  return out;
}

/**
 * Whether `call` ({number, counter}) was withdrawn: its ticket is no longer its counter's
 * current one and the board never saw it served there (parked — how a wrong call is undone —,
 * no-show, transferred, cancelled, or completed straight from "called", which the board cannot
 * tell from a park), or it was called since at another counter. Such a call must leave the
 * "Now calling" panel at once: on it, the wrong patient walks in. A call whose patient was seen
 * served (started) is not withdrawn: it may stay as the last call, it sends nobody anywhere
 * (its patient is already in), and the panel does not go blank between patients. A counter
 * the board does not know (another waiting area's) withdraws nothing.
 */
export function withdrawn(state, call) {
  if (!call || call.counter == null) return false;
  const again = state.recent.find((r) => r.number === call.number);
  if (again && again.counter !== call.counter) return true;
  const counter = state.counters.find((c) => c.id === call.counter);
  if (!counter) return false;
  if (counter.current?.number === call.number) return false;
  return state.served?.[call.counter] !== call.number;
}

/**
 * The call an idle "Now calling" panel shows: the board's latest call unless withdrawn, else
 * the newest of the recent calls that still stands (a call the panel showed before it), else
 * none (the panel says there is no call). After a reload the board has not seen who was
 * served, so only calls still at their counter stand then: a blank panel sends nobody to the
 * wrong room, a stale one may.
 */
export function panelCall(state) {
  if (state.lastCall && !withdrawn(state, state.lastCall)) return state.lastCall;
  const r = state.recent.find((x) => !withdrawn(state, x));
  if (!r) return null;
  return { number: r.number, counter: r.counter, service: r.service, at: r.at, type: r.recall ? 'recalled' : 'called',
           ...(r.announcement ? { announcement: r.announcement } : {}) };
}

// The hero shows the latest call; after a snapshot that is the first of `recent` with its
// announcement texts (the second language's line under the counter), keeping what the live
// event said about it when it is the same call.
function latestCall(previous, recent) {
  if (!recent) return null;
  if (previous && previous.number === recent.number && previous.counter === recent.counter) return previous;
  return { number: recent.number, counter: recent.counter, service: recent.service, at: recent.at, type: 'called',
           ...(recent.announcement ? { announcement: recent.announcement } : {}) };
}

function applyCall(state, type, d) {
  const current = { number: d.number, service: d.service, status: 'called', at: d.at };
  const next = patchCounter(state, { id: d.counter, current, ...(d.counter_name ? { name: d.counter_name } : {}) });
  const entry = { number: d.number, counter: d.counter, service: d.service, at: d.at, recall: type === 'recalled' };
  const recent = [entry, ...state.recent.filter((r) => !(r.number === d.number && r.counter === d.counter))];
  // A new call at the counter: who it served before no longer matters to the panel.
  const served = { ...(state.served ?? {}) };
  delete served[d.counter];
  return { ...next, recent: recent.slice(0, RECENT_MAX), served,
           lastCall: { ...d, type, expired: !!d.expired } };
}

// The day was closed: its calls leave the screen (numbers start again at 001 the next
// day). Live, the event carries the list that remains; replayed, the cut-off to apply.
function applyDayClosed(state, d) {
  const recent = Array.isArray(d.recent)
    ? d.recent.slice(0, RECENT_MAX)
    : state.recent.filter((r) => !(Date.parse(r.at) < d.before_ms));
  return { ...state, recent, served: {}, lastCall: latestCall(state.lastCall, recent[0]) };
}

function patchCounter(state, patch) {
  const counters = state.counters.some((c) => c.id === patch.id)
    ? state.counters.map((c) => (c.id === patch.id ? { ...c, ...patch } : c))
    : [...state.counters, { state: 'open', current: null, ...patch }];
  return { ...state, counters };
}

function applyWaiting(state, waiting) {
  return { ...state, services: state.services.map((s) => (waiting[s.id] ? { ...s, ...waiting[s.id] } : s)) };
}

/**
 * What a call event should make the board say, in each of the site's languages, or [] when
 * it must stay silent: not a call, a replay marked expired, or past `valid_until_ms` by the
 * server's clock (`nowMs` is the local clock corrected by the server's). Snapshots are never
 * announced: they show state, they are not news.
 */
export function announcementsFor(msg, nowMs, languages) {
  if (msg.op !== 'event' || (msg.type !== 'called' && msg.type !== 'recalled')) return [];
  const d = msg.data ?? {};
  if (d.expired === true) return [];
  if (typeof d.valid_until_ms === 'number' && d.valid_until_ms <= nowMs) return [];
  const texts = d.announcement ?? {};
  const order = languages?.length ? languages : Object.keys(texts);
  return order.filter((lang) => texts[lang]).map((lang) => ({ lang, text: texts[lang], validUntil: d.valid_until_ms ?? null }));
}

/**
 * The waiting area a board shows, and whether its token locks it there: a display token
 * minted for one area (its `area` claim) opens that area's board only, whatever `?area=`
 * says (the hub refuses it any other); otherwise `?area=` (null: the whole site). `jwt` is
 * read, not verified: the server verifies it.
 */
export function boardArea(paramArea, jwt) {
  let claim = null;
  try {
    const part = String(jwt ?? '').split('.')[1] ?? '';
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const text = new TextDecoder().decode(Uint8Array.from(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '=')), (c) => c.charCodeAt(0)));
    claim = JSON.parse(text).area ?? null;
  } catch { /* not a token we can read: as without one */ }
  if (claim) return { id: String(claim), locked: true, ignored: paramArea && paramArea !== claim ? paramArea : null };
  return { id: paramArea || null, locked: false, ignored: null };
}

/** The board topic a board follows: its area's (`board:{site}:{area}`) or the site's. */
export const boardTopic = (siteId, areaId) => (areaId ? `board:${siteId}:${areaId}` : `board:${siteId}`);

/**
 * `msg` as a board set to one waiting area sees it: only the counters in `counters` (a Set of
 * ids; null: the whole site). Their tiles, recent calls and calls stay; another room's call
 * still moves the stream position and brings the waiting figures, but is no call here. The
 * display token sees the whole site anyway, so narrowing on the board hides nothing.
 */
export function forArea(msg, counters) {
  if (!counters || !msg?.data || (msg.op !== 'snapshot' && msg.op !== 'event')) return msg;
  const inside = (id) => counters.has(id);
  const d = { ...msg.data };
  if (Array.isArray(d.counters)) d.counters = d.counters.filter((c) => inside(c.id));
  if (Array.isArray(d.recent)) d.recent = d.recent.filter((r) => inside(r.counter));
  if (msg.op === 'event' && (msg.type === 'called' || msg.type === 'recalled') && !inside(d.counter)) {
    const rest = { ...(d.waiting ? { waiting: d.waiting } : {}), ...(d.counters ? { counters: d.counters } : {}) };
    return { ...msg, type: 'waiting', data: rest, outside: true };
  }
  if (msg.op === 'event' && msg.type === 'counter' && d.counter && !inside(d.counter.id)) delete d.counter;
  return { ...msg, data: d };
}

// The day's accuracy on the public board (GET /v1/sites/{site}/stats `accuracy`). A figure
// from a few calls is noise: "0 %" after 10 scored calls alarmed a waiting room. So it is
// shown only once PUBLIC_ACCURACY_MIN_N calls are scored today (the stats carry no confidence
// interval; at 50, a P10–P90 coverage near 80 % is known to about ±11 points): a figure from
// 10 calls is noise on a public screen. Above that it is shown whatever it is — a board that
// published only its good days would not be an honest one (the supervisor's pages show the
// raw figures always).
export const PUBLIC_ACCURACY_MIN_N = 50;

/** The percentage to publish (an integer), or null to show no accuracy line. */
export function publicAccuracy(acc) {
  const cover = acc?.coverage_p10_p90;
  if (!(acc?.n >= PUBLIC_ACCURACY_MIN_N) || typeof cover !== 'number' || !Number.isFinite(cover)) return null;
  return Math.round(cover * 100);
}
