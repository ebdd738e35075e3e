// The display board's state, as pure functions of the `board:{site}` messages
// (docs/protocol.md): reduce(state, msg) → new state; announcementsFor(msg, now) → what to say.

export const RECENT_MAX = 10;

export function emptyBoard() {
  return { ready: false, name: null, languages: [], counters: [], recent: [], services: [],
           epoch: null, offset: null, lastCall: null, resyncs: 0 };
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
  return next;
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
  return { ...next, recent: recent.slice(0, RECENT_MAX),
           lastCall: { ...d, type, expired: !!d.expired } };
}

// The day was closed: its calls leave the screen (numbers start again at 001 the next
// day). Live, the event carries the list that remains; replayed, the cut-off to apply.
function applyDayClosed(state, d) {
  const recent = Array.isArray(d.recent)
    ? d.recent.slice(0, RECENT_MAX)
    : state.recent.filter((r) => !(Date.parse(r.at) < d.before_ms));
  return { ...state, recent, lastCall: latestCall(state.lastCall, recent[0]) };
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
