// Where a technician's device is: the browser's geolocation, or a simulated drive along the
// route (`?sim=1`, or the page's "Simulate" button) for demos and tests without a GPS.
// Both call onFix({t, la, lo, s?, a?}) with t on the server's clock.

/** Move from `a` toward `b` ({lat, lon}) by `metres` (flat earth: fine at city scale).
 *  → {pos, arrived}. */
export function stepToward(a, b, metres) {
  const dy = (b.lat - a.lat) * 111320;
  const dx = (b.lon - a.lon) * 111320 * Math.cos((a.lat * Math.PI) / 180);
  const dist = Math.hypot(dx, dy);
  if (dist <= metres || dist === 0) return { pos: { lat: b.lat, lon: b.lon }, arrived: true };
  const f = metres / dist;
  return { pos: { lat: a.lat + (b.lat - a.lat) * f, lon: a.lon + (b.lon - a.lon) * f }, arrived: false };
}

/**
 * A device driving to `target()` at `speedKmh`, one fix every `everyMs` while it moves and
 * every `idleMs` while it stands (the geofence needs fixes on site to see an arrival).
 */
export class SimulatedRoute {
  constructor({ start, target, onFix, clock, speedKmh = 40, everyMs = 1000, idleMs = 5000,
                setInterval: every = globalThis.setInterval.bind(globalThis),
                clearInterval: stop = globalThis.clearInterval.bind(globalThis) }) {
    this.kind = 'sim';
    this.pos = start ? { lat: start.lat, lon: start.lon } : null;
    this.target = target;
    this.onFix = onFix;
    this.clock = clock;
    this.speedKmh = Math.max(1, Math.min(180, speedKmh)); // the server refuses > 200 km/h
    this.everyMs = everyMs;
    this.idleMs = idleMs;
    this.every = every;
    this.stopTimer = stop;
    this.timer = null;
    this.lastFix = 0;
  }

  start() {
    if (this.timer || !this.pos) return this;
    this.tick();
    this.timer = this.every(() => this.tick(), this.everyMs);
    return this;
  }

  stop() {
    if (this.timer) this.stopTimer(this.timer);
    this.timer = null;
  }

  tick() {
    const now = this.clock();
    const goal = this.target();
    let speed = 0;
    if (goal && (goal.lat !== this.pos.lat || goal.lon !== this.pos.lon)) {
      const metres = (this.speedKmh / 3.6) * (this.everyMs / 1000);
      this.pos = stepToward(this.pos, goal, metres).pos;
      speed = this.speedKmh / 3.6;
    } else if (now - this.lastFix < this.idleMs) {
      return;
    }
    this.lastFix = now;
    this.onFix({ t: now, la: this.pos.lat, lo: this.pos.lon, s: speed, a: 5 });
  }
}

/**
 * The browser's GPS (watchPosition). A fix every `minMs` while standing, at most one a second
 * while moving (25 m or more): a phone reporting faster would only make the server count
 * noise as speed. A position held back is sent when its turn comes, so the last one always
 * goes.
 */
export class DeviceGps {
  constructor({ onFix, onError, clock, minMs = 3000, movingMs = 1000,
                setTimeout: later = globalThis.setTimeout.bind(globalThis) }) {
    this.kind = 'gps';
    this.onFix = onFix;
    this.onError = onError;
    this.clock = clock;
    this.minMs = minMs;
    this.movingMs = movingMs;
    this.later = later;
    this.watch = null;
    this.last = null; // the last fix sent: {lat, lon, t}
    this.pos = null;
    this.held = null; // a position waiting for its turn
  }

  start() {
    if (!('geolocation' in navigator)) {
      this.onError?.({ code: 'unsupported' });
      return this;
    }
    this.watch = navigator.geolocation.watchPosition((p) => this.seen(p.coords), (err) => {
      this.onError?.({ code: err.code === 1 ? 'denied' : 'unavailable', message: err.message });
    }, { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 });
    return this;
  }

  stop() {
    if (this.watch != null) navigator.geolocation.clearWatch(this.watch);
    this.watch = null;
  }

  /** A position from the browser ({latitude, longitude, speed?, accuracy?}). */
  seen(coords) {
    const now = this.clock();
    this.pos = { lat: coords.latitude, lon: coords.longitude };
    const wait = this.waitMs(now);
    if (wait <= 0) {
      this.send(coords, now);
      return;
    }
    if (!this.held) this.later(() => this.flush(), wait);
    this.held = coords;
  }

  /** How long before `pos` may go: 0 now. */
  waitMs(now) {
    if (!this.last) return 0;
    const moved = Math.abs(this.pos.lat - this.last.lat) * 111320 + Math.abs(this.pos.lon - this.last.lon) * 95000;
    const gap = moved >= 25 ? this.movingMs : this.minMs;
    return this.last.t + gap - now;
  }

  flush() {
    const coords = this.held;
    this.held = null;
    if (coords && this.watch != null) this.send(coords, this.clock());
  }

  send(coords, now) {
    this.last = { lat: coords.latitude, lon: coords.longitude, t: now };
    this.onFix({ t: now, la: coords.latitude, lo: coords.longitude, s: coords.speed ?? undefined, a: coords.accuracy ?? undefined });
  }
}
