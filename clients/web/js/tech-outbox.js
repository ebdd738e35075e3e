// What a technician's device has to tell the server, kept until the server confirms it: GPS
// fixes (`gps`) and actions (`act`: accept, depart, arrive, complete…). Pure: no socket, no
// timers — the page asks what is due(), stamps what it sends, and hands every reply back.
//
// - Everything goes out in the order it happened, a few at a time (`window` unconfirmed at
//   most, `rate` a second at most), so a device back online after an hour underground drains
//   its backlog without tripping the server's rate limit (50 messages a second).
// - An action keeps its `aid` until the server answers it. After a reconnect, whatever was
//   sent but not answered goes again; the server applies an action once per aid (a replay is
//   answered `pong` and changes nothing) and refuses an already applied fix as out of order.
// - Actions survive a reload (`store`: localStorage); fixes are only worth keeping while the
//   page lives, and the oldest are thinned when offline for long.
// - Wire ids start at ID_BASE so replies never collide with the client's subscribe ids.

export const ID_BASE = 1_000_000;
// Errors worth another try later (docs/protocol.md: temporary errors).
const TEMPORARY = new Set(['rate_limited', 'unavailable', 'internal', 'slow', 'region_busy']);

export function actionId(random = Math.random, now = Date.now()) {
  const r = Math.floor(random() * 36 ** 6).toString(36).padStart(6, '0');
  return `w${now.toString(36)}-${r}`;
}

export class Outbox {
  constructor({ store = null, key = 'sb.outbox', window = 6, rate = 20, ackTimeoutMs = 10000, maxFixes = 500, random = Math.random } = {}) {
    this.store = store;
    this.key = key;
    this.window = window;
    this.rate = rate;
    this.recent = []; // send times of the last second
    this.ackTimeoutMs = ackTimeoutMs;
    this.maxFixes = maxFixes;
    this.random = random;
    this.entries = []; // {kind: 'act' | 'gps', msg, wire: id | null, sentAt}
    this.nextWire = ID_BASE;
    this.lastFixT = 0;
    this.load();
  }

  /** Queue an action; returns its entry (its msg.aid is the action's id). */
  act(k, t, { job = '', reason = '' } = {}) {
    const msg = { op: 'act', aid: actionId(this.random, t), k, t };
    if (job) msg.j = job;
    if (reason) msg.r = reason;
    const entry = { kind: 'act', msg, wire: null, sentAt: 0 };
    this.entries.push(entry);
    this.save();
    return entry;
  }

  /** Queue a fix ({t, la, lo, s?, a?}); times are made strictly increasing (the server refuses
   *  a fix that is not newer than the last one). */
  fix({ t, la, lo, s, a }) {
    const msg = { op: 'gps', t: Math.max(Math.round(t), this.lastFixT + 1), la: round6(la), lo: round6(lo) };
    if (s != null && Number.isFinite(s)) msg.s = Math.max(0, Math.round(s * 10) / 10);
    if (a != null && Number.isFinite(a)) msg.a = Math.max(0, Math.round(a));
    this.lastFixT = msg.t;
    const entry = { kind: 'gps', msg, wire: null, sentAt: 0 };
    this.entries.push(entry);
    this.thin();
    return entry;
  }

  /** Entries to send now: the oldest unsent, while fewer than `window` await an answer and
   *  fewer than `rate` went in the last second. */
  due(now) {
    this.expire(now);
    this.recent = this.recent.filter((at) => now - at < 1000);
    const room = Math.min(this.window - this.entries.filter((e) => e.wire != null).length,
                          this.rate - this.recent.length);
    return room > 0 ? this.entries.filter((e) => e.wire == null).slice(0, room) : [];
  }

  /** The message to put on the wire for `entry` (with a fresh id), marking it sent. */
  sending(entry, now) {
    entry.wire = this.nextWire++;
    entry.sentAt = now;
    this.recent.push(now);
    return { ...entry.msg, id: entry.wire };
  }

  /**
   * A `pong` or `error` the server sent with one of our ids → {entry, ok, error?, retry?}, or
   * null when it is not ours. Answered entries leave the box; temporary errors stay for later.
   */
  reply(msg) {
    if (msg?.id == null || msg.id < ID_BASE) return null;
    const i = this.entries.findIndex((e) => e.wire === msg.id);
    if (i < 0) return null;
    const entry = this.entries[i];
    if (msg.op === 'error' && (msg.temporary || TEMPORARY.has(msg.code))) {
      entry.wire = null;
      return { entry, ok: false, error: msg, retry: true };
    }
    this.entries.splice(i, 1);
    if (entry.kind === 'act') this.save();
    return msg.op === 'pong' ? { entry, ok: true } : { entry, ok: false, error: msg };
  }

  /** A new connection: what was sent and not answered goes again, in its order. */
  reconnected() {
    for (const e of this.entries) e.wire = null;
  }

  /** Unanswered for too long (a reply lost with a connection that did not notice): resend. */
  expire(now) {
    for (const e of this.entries) if (e.wire != null && now - e.sentAt > this.ackTimeoutMs) e.wire = null;
  }

  /** Whether an action of kind `k` (for `job`) waits to be confirmed. */
  pendingAct(k, job = '') {
    return this.entries.some((e) => e.kind === 'act' && e.msg.k === k && (e.msg.j ?? '') === job);
  }

  counts() {
    let acts = 0;
    let fixes = 0;
    for (const e of this.entries) if (e.kind === 'act') acts += 1; else fixes += 1;
    return { acts, fixes, total: acts + fixes };
  }

  /** Over maxFixes unsent fixes: drop every other of the oldest half (the track keeps its
   *  shape; the newest fixes, which move ETAs, are all kept). */
  thin() {
    const fixes = this.entries.filter((e) => e.kind === 'gps' && e.wire == null);
    if (fixes.length <= this.maxFixes) return;
    const drop = new Set(fixes.slice(0, Math.floor(fixes.length / 2)).filter((_, i) => i % 2 === 1));
    this.entries = this.entries.filter((e) => !drop.has(e));
  }

  load() {
    if (!this.store) return;
    try {
      const saved = JSON.parse(this.store.getItem(this.key) || '[]');
      for (const msg of saved) if (msg?.op === 'act' && msg.aid) this.entries.push({ kind: 'act', msg, wire: null, sentAt: 0 });
    } catch { /* nothing saved, or unreadable: start empty */ }
  }

  save() {
    if (!this.store) return;
    const acts = this.entries.filter((e) => e.kind === 'act').map((e) => e.msg);
    try {
      if (acts.length) this.store.setItem(this.key, JSON.stringify(acts));
      else this.store.removeItem(this.key);
    } catch { /* private mode or full: actions still go while the page lives */ }
  }
}

function round6(x) {
  return Math.round(x * 1e6) / 1e6;
}
