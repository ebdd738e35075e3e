/**
 * Switchboard's websocket client for the browser: the protocol of docs/protocol.md.
 *
 *   const client = new Client({ token });
 *   client.onState((s) => banner.show(s));           // connecting | online | offline | denied
 *   client.subscribe('board:demo', (msg) => render(msg));
 *   client.start();
 *
 * It keeps the last epoch and offset of every topic and, when the connection drops (network,
 * a server killed and restarted, a `slow` close, a phone that slept), reconnects with
 * exponential backoff and jitter and resubscribes each topic `since` that position: the page
 * gets exactly what it missed, or a snapshot with `resync: true`, which replaces its state.
 * A connection that stops answering pings is dropped and replaced; waking up (tab visible
 * again, network back) probes at once. Both encodings: `json` (text) and `msgpack` (binary,
 * for devices where bytes count).
 *
 * The protocol logic is ClientCore, which does no I/O (tests feed it messages); Client only
 * moves frames and runs timers.
 */
import * as msgpack from './msgpack.js';

export const JSON_PROTOCOL = 'switchboard.v1.json';
export const MSGPACK_PROTOCOL = 'switchboard.v1.msgpack';
// Close codes after which retrying cannot help: the token or the origin is refused.
const FINAL_CLOSES = new Set([4001, 4003]);

/** Delay before reconnect attempt `attempt` (1, 2, …): doubling, capped, jittered ×0.5–1.5 so
 *  a thousand screens that lost the same server do not all come back in the same instant. */
export function backoffDelay(attempt, minMs, maxMs, random = Math.random) {
  const base = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.5 + random()));
}

/** Order of two stream offsets "ms-seq": negative, zero or positive. */
export function compareOffsets(a, b) {
  const [am, as] = String(a).split('-').map(Number);
  const [bm, bs] = String(b).split('-').map(Number);
  return am - bm || as - bs;
}

/**
 * The protocol state without I/O: the topics followed and the last position seen in each,
 * what to send on (re)connect, and what each received message means.
 */
export class ClientCore {
  constructor() {
    this.topics = new Map(); // topic → {position: {epoch, offset} | null, failed: error | null}
    this.requests = new Map(); // subscribe id → topic, to match error replies
    this.nextId = 0;
  }

  /** Follow `topic`; returns the subscribe message to send now if connected. */
  add(topic, since = null) {
    if (!this.topics.has(topic)) this.topics.set(topic, { position: since, failed: null });
    return this.subscribeMessage(topic);
  }

  remove(topic) {
    this.topics.delete(topic);
    return { op: 'unsubscribe', topic };
  }

  position(topic) {
    return this.topics.get(topic)?.position ?? null;
  }

  subscribeMessage(topic) {
    const t = this.topics.get(topic);
    const id = ++this.nextId;
    this.requests.set(id, topic);
    const msg = { op: 'subscribe', topic, id };
    if (t?.position) msg.since = { epoch: t.position.epoch, offset: t.position.offset };
    return msg;
  }

  /** A new connection: the subscribe messages that resume every topic still followed. */
  opened() {
    this.requests.clear();
    return [...this.topics].filter(([, t]) => !t.failed).map(([topic]) => this.subscribeMessage(topic));
  }

  /**
   * One message from the server → what it means for the page:
   *   {deliver: topic}             hand msg to that topic's listeners
   *   {retry: topic, error}        a temporary failure to subscribe: try again later
   *   {fail: topic, error}         the topic cannot be followed (forbidden, unknown)
   *   {error}                      an error not tied to a topic
   *   {pong: true} / {ignore: why} nothing for the page
   */
  receive(msg) {
    if (!msg || typeof msg !== 'object') return { ignore: 'not an object' };
    const { op } = msg;
    if (op === 'snapshot' || op === 'event') {
      const t = this.topics.get(msg.topic);
      if (!t) return { ignore: 'not subscribed' };
      const last = t.position;
      // Offsets increase strictly per topic: an event at or before the last one seen is a
      // duplicate (a resume racing a live message) and must not be shown — or spoken — twice.
      if (op === 'event' && last && last.epoch === msg.epoch && compareOffsets(msg.offset, last.offset) <= 0) {
        return { ignore: 'duplicate' };
      }
      t.position = { epoch: msg.epoch, offset: msg.offset };
      t.failed = null;
      return { deliver: msg.topic };
    }
    if (op === 'error') {
      const topic = msg.id != null ? this.requests.get(msg.id) : undefined;
      if (topic === undefined || !this.topics.has(topic)) return { error: msg };
      this.requests.delete(msg.id);
      if (msg.temporary) return { retry: topic, error: msg };
      this.topics.get(topic).failed = msg;
      return { fail: topic, error: msg };
    }
    if (op === 'pong') return { pong: true };
    return { ignore: `unknown op ${op}` };
  }
}

/**
 * The websocket shell around ClientCore. Options: token, url (default: this page's /ws),
 * encoding ('json' | 'msgpack'), minBackoffMs, maxBackoffMs, pingIntervalMs, pongTimeoutMs,
 * and for tests WebSocket (constructor), now, random, setTimeout, clearTimeout, watch (listen
 * to page visibility and network events; default true).
 */
export class Client {
  constructor(options = {}) {
    const loc = globalThis.location;
    this.url = options.url ?? `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
    this.token = options.token ?? null;
    this.encoding = options.encoding === 'msgpack' ? 'msgpack' : 'json';
    this.minBackoffMs = options.minBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 8000;
    this.pingIntervalMs = options.pingIntervalMs ?? 15000;
    this.pongTimeoutMs = options.pongTimeoutMs ?? 6000;
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.now = options.now ?? (() => Date.now());
    this.random = options.random ?? Math.random;
    this.setTimeout = options.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
    this.clearTimeout = options.clearTimeout ?? ((id) => globalThis.clearTimeout(id));
    this.watch = options.watch ?? true;
    this.core = new ClientCore();
    this.handlers = new Map(); // topic → Set of listeners
    this.stateListeners = new Set();
    this.errorListeners = new Set();
    this.state = { status: 'idle', since: this.now(), attempt: 0, retryAt: null, code: null };
    this.ws = null;
    this.attempt = 0;
    this.timers = {};
    this.lastReceived = 0;
    this.stopped = true;
    this.connects = 0;
  }

  // -- the page's API ------------------------------------------------------------------

  /** Follow `topic`; `listener(msg)` gets its snapshot, events and errors. Returns an
   *  unsubscribe function. */
  subscribe(topic, listener) {
    if (!this.handlers.has(topic)) this.handlers.set(topic, new Set());
    this.handlers.get(topic).add(listener);
    const msg = this.core.add(topic);
    if (this.isOpen()) this.sendFrame(msg);
    return () => this.unsubscribe(topic, listener);
  }

  unsubscribe(topic, listener) {
    const set = this.handlers.get(topic);
    if (set && listener) set.delete(listener);
    if (set && set.size) return;
    this.handlers.delete(topic);
    const msg = this.core.remove(topic);
    if (this.isOpen()) this.sendFrame(msg);
  }

  onState(listener) { this.stateListeners.add(listener); listener(this.state); return () => this.stateListeners.delete(listener); }
  onError(listener) { this.errorListeners.add(listener); return () => this.errorListeners.delete(listener); }
  position(topic) { return this.core.position(topic); }
  isOpen() { return !!this.ws && this.ws.readyState === 1; }

  /** Send a client message (publish ops such as GPS fixes); false when not connected. */
  send(msg) {
    if (!this.isOpen()) return false;
    this.sendFrame(msg);
    return true;
  }

  start() {
    if (!this.stopped) return this;
    this.stopped = false;
    if (this.watch && globalThis.addEventListener) this.listen();
    this.connect();
    return this;
  }

  stop() {
    this.stopped = true;
    this.clearTimers();
    if (this.ws) this.detach(this.ws).close(1000);
    this.ws = null;
    if (this.unlisten) this.unlisten();
    this.setState({ status: 'idle', attempt: 0, retryAt: null, code: null });
  }

  /** "Are we really connected?": reconnect now if not; if so, make sure with a ping. Pages
   *  call it on wake; it is also bound to visibility, focus and network events. */
  check() {
    if (this.stopped || this.state.status === 'denied') return;
    if (this.isOpen()) {
      this.ping(Math.min(this.pongTimeoutMs, 4000));
    } else if (!this.ws) {
      this.attempt = 0;
      this.clearTimer('retry');
      this.connect();
    }
  }

  // -- connection ----------------------------------------------------------------------

  connect() {
    this.clearTimer('retry');
    const url = this.token ? `${this.url}${this.url.includes('?') ? '&' : '?'}token=${encodeURIComponent(this.token)}` : this.url;
    let ws;
    try {
      ws = new this.WebSocket(url, [this.encoding === 'msgpack' ? MSGPACK_PROTOCOL : JSON_PROTOCOL]);
    } catch (err) {
      this.lost(null, String(err));
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    if (this.state.status !== 'offline') this.setState({ status: 'connecting', retryAt: null });
    ws.onopen = () => ws === this.ws && this.opened();
    ws.onmessage = (ev) => ws === this.ws && this.received(ev.data);
    ws.onclose = (ev) => ws === this.ws && this.lost(ev.code, ev.reason);
    ws.onerror = () => {}; // a close event always follows
  }

  opened() {
    this.attempt = 0;
    this.connects += 1;
    this.lastReceived = this.now();
    this.setState({ status: 'online', attempt: 0, retryAt: null, code: null });
    for (const msg of this.core.opened()) this.sendFrame(msg);
    this.schedulePing();
  }

  lost(code, reason) {
    if (this.ws) this.detach(this.ws);
    this.ws = null;
    this.clearTimers();
    if (this.stopped) return;
    if (FINAL_CLOSES.has(code)) {
      this.setState({ status: 'denied', code, reason, retryAt: null });
      return;
    }
    this.attempt += 1;
    const delay = backoffDelay(this.attempt, this.minBackoffMs, this.maxBackoffMs, this.random);
    const offline = this.state.status === 'offline';
    this.setState({ status: 'offline', since: offline ? this.state.since : this.now(),
                    attempt: this.attempt, retryAt: this.now() + delay, code });
    this.timers.retry = this.setTimeout(() => { this.timers.retry = null; this.connect(); }, delay);
  }

  /** Drop a connection we no longer trust (no pong): don't wait for TCP to notice. */
  drop(reason) {
    const ws = this.ws;
    if (!ws) return;
    this.detach(ws);
    try { ws.close(4000, reason); } catch { /* already closing */ }
    this.lost(null, reason);
  }

  detach(ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    return ws;
  }

  // -- frames --------------------------------------------------------------------------

  sendFrame(msg) {
    const binary = this.ws.protocol === MSGPACK_PROTOCOL;
    this.ws.send(binary ? msgpack.encode(msg) : JSON.stringify(msg));
  }

  received(data) {
    this.lastReceived = this.now();
    this.clearTimer('pong');
    let msg;
    try {
      msg = typeof data === 'string' ? JSON.parse(data) : msgpack.decode(new Uint8Array(data));
    } catch (err) {
      this.emitError({ code: 'bad_frame', message: String(err) });
      return;
    }
    const r = this.core.receive(msg);
    if (r.deliver) this.emit(r.deliver, msg);
    else if (r.fail) this.emit(r.fail, msg);
    else if (r.retry) this.retryTopic(r.retry);
    else if (r.error) this.emitError(msg);
  }

  emit(topic, msg) {
    for (const fn of [...(this.handlers.get(topic) ?? [])]) {
      try { fn(msg); } catch (err) { console.error('switchboard listener failed', err); }
    }
  }

  emitError(err) {
    for (const fn of this.errorListeners) fn(err);
  }

  retryTopic(topic) {
    const key = `sub:${topic}`;
    this.clearTimer(key);
    const delay = backoffDelay(2, this.minBackoffMs, this.maxBackoffMs, this.random);
    this.timers[key] = this.setTimeout(() => {
      this.timers[key] = null;
      if (this.isOpen() && this.handlers.has(topic)) this.sendFrame(this.core.subscribeMessage(topic));
    }, delay);
  }

  // -- liveness ------------------------------------------------------------------------

  schedulePing() {
    this.clearTimer('ping');
    this.timers.ping = this.setTimeout(() => {
      this.timers.ping = null;
      // Only ping a quiet connection: any frame is proof of life.
      if (this.now() - this.lastReceived >= this.pingIntervalMs * 0.9) this.ping(this.pongTimeoutMs);
      this.schedulePing();
    }, this.pingIntervalMs);
  }

  ping(timeoutMs) {
    if (!this.isOpen() || this.timers.pong) return;
    this.sendFrame({ op: 'ping' });
    this.timers.pong = this.setTimeout(() => { this.timers.pong = null; this.drop('no pong'); }, timeoutMs);
  }

  /** The browser says the network is gone: show it now, not when a ping goes unanswered
   * (up to ping interval + pong timeout later); 'online' reconnects at once. */
  wentOffline() {
    if (this.ws) this.drop('browser offline');
  }

  listen() {
    const wake = () => { if (globalThis.document?.visibilityState !== 'hidden') this.check(); };
    const events = [['online', wake], ['pageshow', wake], ['focus', wake],
      ['offline', () => this.wentOffline()]];
    for (const [name, fn] of events) globalThis.addEventListener(name, fn);
    globalThis.document?.addEventListener('visibilitychange', wake);
    this.unlisten = () => {
      for (const [name, fn] of events) globalThis.removeEventListener(name, fn);
      globalThis.document?.removeEventListener('visibilitychange', wake);
    };
  }

  // -- helpers -------------------------------------------------------------------------

  setState(patch) {
    this.state = { ...this.state, ...patch };
    if (patch.status && patch.status !== 'offline' && !('since' in patch)) this.state.since = this.now();
    for (const fn of this.stateListeners) fn(this.state);
  }

  clearTimer(name) {
    if (this.timers[name]) this.clearTimeout(this.timers[name]);
    this.timers[name] = null;
  }

  clearTimers() {
    for (const name of Object.keys(this.timers)) this.clearTimer(name);
  }
}
