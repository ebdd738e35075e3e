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

/** The browser's GPS (watchPosition): a fix at most every `minMs`, unless it moved 25 m. */
export class DeviceGps {
  constructor({ onFix, onError, clock, minMs = 3000 }) {
    this.kind = 'gps';
    this.onFix = onFix;
    this.onError = onError;
    this.clock = clock;
    this.minMs = minMs;
    this.watch = null;
    this.last = null;
    this.pos = null;
  }

  start() {
    if (!('geolocation' in navigator)) {
      this.onError?.({ code: 'unsupported' });
      return this;
    }
    this.watch = navigator.geolocation.watchPosition((p) => this.seen(p), (err) => {
      this.onError?.({ code: err.code === 1 ? 'denied' : 'unavailable', message: err.message });
    }, { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 });
    return this;
  }

  stop() {
    if (this.watch != null) navigator.geolocation.clearWatch(this.watch);
    this.watch = null;
  }

  seen(p) {
    const now = this.clock();
    const here = { lat: p.coords.latitude, lon: p.coords.longitude };
    const moved = this.last ? Math.abs(here.lat - this.last.lat) * 111320 + Math.abs(here.lon - this.last.lon) * 95000 : Infinity;
    this.pos = here;
    if (this.last && now - this.last.t < this.minMs && moved < 25) return;
    this.last = { ...here, t: now };
    this.onFix({ t: now, la: here.lat, lo: here.lon, s: p.coords.speed ?? undefined, a: p.coords.accuracy ?? undefined });
  }
}
