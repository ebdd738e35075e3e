// Maps for the dispatch pages, drawn as SVG from lat/lon: no tile server, no network. Positions
// are projected with Web Mercator, so that when a deployment configures a tile URL
// (boot.map.tiles, "https://…/{z}/{x}/{y}.png") its raster tiles line up underneath; without
// one the map is a graticule, the region's zones and the markers, which is what a wristband
// or a dashboard needs to see who is where.
//
// The geometry (projection, fitting, scale bar, grid, tiles) is pure and tested on its own;
// MapView only keeps SVG elements in step with what a page hands to update().

const SVG = 'http://www.w3.org/2000/svg';
const EARTH_M = 6371008.8;
const TILE = 256;

/** Web Mercator world coordinates of (lat, lon): x, y in [0, 1], y down. */
export function mercator(lat, lon) {
  const s = Math.sin((Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180);
  return { x: (lon + 180) / 360, y: 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI) };
}

/** The inverse of mercator(). */
export function unproject(x, y) {
  const lat = (Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI;
  return { lat, lon: x * 360 - 180 };
}

/** Great-circle distance in metres between {lat, lon} points. */
export function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Metres per world unit (mercator x) at latitude `lat`. */
function metresPerUnit(lat) {
  return 2 * Math.PI * EARTH_M * Math.cos((lat * Math.PI) / 180);
}

/**
 * A view that shows every point of `points` ({lat, lon}) in a width × height box with `pad`
 * pixels around, never zoomed in closer than `minSpanM` metres across (two points 20 m
 * apart should not fill a phone). → {scale (px per world unit), x0, y0, width, height}.
 */
export function fitView(points, width, height, { pad = 24, minSpanM = 800 } = {}) {
  const pts = points.filter((p) => p && Number.isFinite(p.lat) && Number.isFinite(p.lon)).map((p) => mercator(p.lat, p.lon));
  if (!pts.length || width <= 0 || height <= 0) return null;
  let minX = Math.min(...pts.map((p) => p.x));
  let maxX = Math.max(...pts.map((p) => p.x));
  let minY = Math.min(...pts.map((p) => p.y));
  let maxY = Math.max(...pts.map((p) => p.y));
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  const minSpan = minSpanM / metresPerUnit(unproject(cx, cy).lat);
  const spanX = Math.max(maxX - minX, minSpan);
  const spanY = Math.max(maxY - minY, minSpan);
  const w = Math.max(1, width - 2 * pad);
  const hgt = Math.max(1, height - 2 * pad);
  const scale = Math.min(w / spanX, hgt / spanY);
  return { scale, x0: cx - width / 2 / scale, y0: cy - height / 2 / scale, width, height };
}

/** Pixel position of (lat, lon) in `view`. */
export function toPx(view, lat, lon) {
  const p = mercator(lat, lon);
  return [(p.x - view.x0) * view.scale, (p.y - view.y0) * view.scale];
}

/** Whether every point lies inside the view, `margin` pixels from its edges. */
export function contains(view, points, margin = 16) {
  return points.every((p) => {
    const [x, y] = toPx(view, p.lat, p.lon);
    return x >= margin && y >= margin && x <= view.width - margin && y <= view.height - margin;
  });
}

/** A round length (1, 2 or 5 × 10^k metres) drawn at most `maxPx` wide: {metres, px}. */
export function scaleBar(view, maxPx = 96) {
  const lat = unproject(view.x0 + view.width / 2 / view.scale, view.y0 + view.height / 2 / view.scale).lat;
  const mPerPx = metresPerUnit(lat) / view.scale;
  const limit = mPerPx * maxPx;
  let metres = 1;
  for (const k of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000]) {
    if (k <= limit) metres = k;
  }
  return { metres, px: metres / mPerPx };
}

/** Graticule lines every round step of degrees, about `targetPx` apart:
 *  {step, lats: [{lat, y}], lons: [{lon, x}]}. */
export function grid(view, targetPx = 80) {
  const degPerPx = 360 / view.scale;
  const want = degPerPx * targetPx;
  const steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];
  const step = steps.find((s) => s >= want) ?? 10;
  const nw = unproject(view.x0, view.y0);
  const se = unproject(view.x0 + view.width / view.scale, view.y0 + view.height / view.scale);
  const lons = [];
  for (let lon = Math.ceil(nw.lon / step) * step; lon <= se.lon; lon += step) {
    lons.push({ lon: +lon.toFixed(6), x: toPx(view, 0, lon)[0] });
  }
  const lats = [];
  for (let lat = Math.ceil(se.lat / step) * step; lat <= nw.lat; lat += step) {
    lats.push({ lat: +lat.toFixed(6), y: toPx(view, lat, 0)[1] });
  }
  return { step, lats, lons };
}

/** The raster tiles covering the view at the nearest zoom: [{url, x, y, size}] (px). */
export function tilesFor(view, template, maxZoom = 19) {
  if (!template) return [];
  const z = Math.max(0, Math.min(maxZoom, Math.round(Math.log2(view.scale / TILE))));
  const n = 2 ** z;
  const size = (view.scale / n);
  const out = [];
  const x1 = Math.floor(view.x0 * n);
  const y1 = Math.floor(view.y0 * n);
  const x2 = Math.floor((view.x0 + view.width / view.scale) * n);
  const y2 = Math.floor((view.y0 + view.height / view.scale) * n);
  for (let ty = Math.max(0, y1); ty <= Math.min(n - 1, y2); ty += 1) {
    for (let tx = x1; tx <= x2; tx += 1) {
      const wx = ((tx % n) + n) % n;
      out.push({
        url: template.replace('{z}', z).replace('{x}', wx).replace('{y}', ty),
        x: (tx / n - view.x0) * view.scale, y: (ty / n - view.y0) * view.scale, size,
      });
    }
  }
  return out;
}

/** "850 m", "1.2 km" (and in Chinese 米 / 公里). */
export function formatDistance(metres, lang) {
  if (metres == null || !Number.isFinite(metres)) return '—';
  const zh = lang === 'zh';
  if (metres < 1000) return `${Math.max(10, Math.round(metres / 10) * 10)}${zh ? ' 米' : ' m'}`;
  const km = metres < 10000 ? (metres / 1000).toFixed(1) : String(Math.round(metres / 1000));
  return `${km}${zh ? ' 公里' : ' km'}`;
}

// -- the SVG component -------------------------------------------------------------------

/** Width in px of `text` in the maps' 12 px bold labels (CJK about one em, Latin ~0.6). */
export function labelWidth(text, spacing = 0) {
  let w = 0;
  for (const ch of text) w += (ch.codePointAt(0) >= 0x2e80 ? 12.5 : 7.4) + spacing;
  return w + 4;
}

function overlaps(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * Which labels to show so none covers another: `labels` are
 * [{key, priority, spots: [{x, y, w, h}, …], avoid}] (boxes, top-left corner, in the order
 * to try); a label with `avoid` must not cover the `obstacles` either (the markers: a
 * zone's name under a pin). Highest priority first (ties in the given order), each label
 * takes its first free spot; a label with none is hidden (its marker keeps its tooltip).
 * Returns Map key → the chosen spot's index.
 */
export function declutter(labels, obstacles = []) {
  const taken = [];
  const out = new Map();
  const order = labels.map((l, i) => [l, i]).sort((a, b) => b[0].priority - a[0].priority || a[1] - b[1]);
  for (const [l] of order) {
    const free = (s) => !taken.some((t) => overlaps(s, t)) && !(l.avoid && obstacles.some((t) => overlaps(s, t)));
    const i = l.spots.findIndex(free);
    if (i < 0) continue;
    out.set(l.key, i);
    taken.push(l.spots[i]);
  }
  return out;
}

function el(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null) node.setAttribute(k, String(v));
  return node;
}

/**
 * An SVG map in `container`. update({zones, lines, jobs, techs}) with
 *   zones: [{id, name, polygon: [[lon, lat], …]}]
 *   lines: [{id, points: [{lat, lon}], kind}]        routes and "as the crow flies" lines
 *   jobs:  [{id, lat, lon, kind, label, title}]      places (kind styles them: next, risk…)
 *   techs: [{id, lat, lon, label, title, kind}]      people; they glide between positions
 * Markers keep their element across updates (so they move smoothly and focus stays), and
 * carry data-id, data-lat and data-lon for tests. The view is re-fitted only when a marker
 * leaves it (or fit() is called), so the map does not jump on every fix.
 */
export class MapView {
  constructor(container, { label = '', tiles = '', attribution = '', minSpanM = 800, fitZones = false } = {}) {
    this.container = container;
    this.tiles = tiles;
    this.minSpanM = minSpanM;
    this.fitZones = fitZones;
    this.data = { zones: [], lines: [], jobs: [], techs: [] };
    this.view = null;
    // Named by its <title> alone. With aria-labelledby as well, Chromium gave the title again
    // as the description (said twice); and its id, "map-title", was the page heading's too.
    this.svg = el('svg', { class: 'map-svg', role: 'img' });
    this.title = el('title');
    this.title.textContent = label;
    this.layers = {};
    this.svg.append(this.title);
    for (const name of ['tiles', 'grid', 'zones', 'lines', 'jobs', 'techs', 'chrome']) {
      this.layers[name] = el('g', { class: `map-${name}` });
      this.svg.append(this.layers[name]);
    }
    container.append(this.svg);
    if (attribution) {
      const a = document.createElement('span');
      a.className = 'map-attribution';
      a.textContent = attribution;
      container.append(a);
    }
    this.markers = { jobs: new Map(), techs: new Map() };
    this.size = { width: container.clientWidth || 320, height: container.clientHeight || 240 };
    if (globalThis.ResizeObserver) {
      new ResizeObserver(() => {
        const { clientWidth: width, clientHeight: height } = container;
        if (width && height && (width !== this.size.width || height !== this.size.height)) {
          this.size = { width, height };
          this.fit();
        }
      }).observe(container);
    }
  }

  setLabel(text) {
    if (this.title.textContent !== text) this.title.textContent = text;
  }

  points() {
    const pts = [...this.data.jobs, ...this.data.techs, ...this.data.lines.flatMap((l) => l.points)];
    if (this.fitZones || !pts.length) {
      for (const z of this.data.zones) for (const [lon, lat] of z.polygon) pts.push({ lat, lon });
    }
    return pts;
  }

  update(data) {
    this.data = { ...this.data, ...data };
    if (!this.view || !contains(this.view, this.points())) this.fit();
    else this.draw();
  }

  /** Fit the view to everything shown, and redraw. Markers jump to their new places (they
   *  glide only when they move on the map, not when the map moves under them). */
  fit() {
    const { width, height } = this.size;
    this.view = fitView(this.points(), width, height, { pad: 28, minSpanM: this.minSpanM });
    this.svg.classList.add('refit');
    this.draw(true);
    this.svg.getBoundingClientRect(); // apply the new places before transitions come back
    this.svg.classList.remove('refit');
  }

  draw(all = false) {
    const v = this.view;
    if (!v) return;
    this.svg.setAttribute('viewBox', `0 0 ${v.width} ${v.height}`);
    if (all) {
      this.drawTiles(v);
      this.drawGrid(v);
      this.drawChrome(v);
    }
    this.drawZones(v);
    this.drawLines(v);
    this.drawMarkers(v, 'jobs');
    this.drawMarkers(v, 'techs');
    this.declutter();
  }

  /** Hide marker labels that would cover another label (people first, then places that
   *  matter — next, at risk, offered), and move a zone's name down, or hide it, where
   *  markers or labels sit under it. Hidden labels stay in the DOM (data-hidden); the
   *  marker keeps its tooltip. */
  declutter() {
    const obstacles = [];
    const labels = [];
    const texts = new Map();
    const rank = { techs: 3, next: 2, risk: 2, offer: 2 };
    for (const kind of ['techs', 'jobs']) {
      for (const [id, g] of this.markers[kind]) {
        if (!g.sbAt) continue;
        const [x, y] = g.sbAt;
        obstacles.push(kind === 'techs' ? { x: x - 9, y: y - 9, w: 18, h: 18 } : { x: x - 9, y: y - 26, w: 18, h: 26 });
        const text = g.querySelector('text');
        const kindClass = [...g.classList].find((c) => c.startsWith('k-'))?.slice(2);
        if (!text.textContent || (kind === 'jobs' && ['later', 'open'].includes(kindClass))) continue;
        const w = labelWidth(text.textContent);
        const base = kind === 'techs' ? y - 15 : y - 31;
        const key = `${kind}:${id}`;
        // Kept inside the map: a pin near its edge showed "Your addre" on a phone.
        const left = Math.max(2, Math.min(x - w / 2, this.view.width - w - 2));
        text.setAttribute('x', (left - (x - w / 2)).toFixed(1));
        texts.set(key, text);
        labels.push({ key, priority: kind === 'techs' ? rank.techs : (rank[kindClass] ?? 1), spots: [{ x: left, y: base - 11, w, h: 14 }] });
      }
    }
    for (const text of this.layers.zones.querySelectorAll('text.map-zone-name')) {
      const cx = Number(text.dataset.cx);
      const top = Number(text.dataset.top);
      const w = labelWidth(text.textContent, 0.5);
      const key = `zone:${text.dataset.cx}:${text.textContent}`;
      texts.set(key, text);
      // Under the zone's top edge, or up to three lines lower.
      labels.push({ key, priority: 0, avoid: true, spots: [0, 16, 32, 48].map((dy) => ({ x: cx - w / 2, y: top + dy - 11, w, h: 14 })) });
    }
    const shown = declutter(labels, obstacles);
    for (const l of labels) {
      const text = texts.get(l.key);
      const at = shown.get(l.key);
      if (at === undefined) {
        text.dataset.hidden = '1';
        continue;
      }
      delete text.dataset.hidden;
      if (l.key.startsWith('zone:')) text.setAttribute('y', (Number(text.dataset.top) + [0, 16, 32, 48][at]).toFixed(1));
    }
  }

  drawTiles(v) {
    this.layers.tiles.replaceChildren(...tilesFor(v, this.tiles).map((t) => el('image', {
      // Half a pixel more than a tile, so no hairline seams show between them.
      href: t.url, x: t.x.toFixed(1), y: t.y.toFixed(1), width: (t.size + 0.5).toFixed(1), height: (t.size + 0.5).toFixed(1),
      preserveAspectRatio: 'none',
    })));
    this.svg.classList.toggle('has-tiles', !!this.tiles);
  }

  drawGrid(v) {
    const g = grid(v);
    const nodes = [el('rect', { class: 'map-bg', x: 0, y: 0, width: v.width, height: v.height })];
    for (const { x } of g.lons) nodes.push(el('line', { class: 'map-grat', x1: x, y1: 0, x2: x, y2: v.height }));
    for (const { y } of g.lats) nodes.push(el('line', { class: 'map-grat', x1: 0, y1: y, x2: v.width, y2: y }));
    this.layers.grid.replaceChildren(...nodes);
  }

  drawChrome(v) {
    const s = scaleBar(v);
    const x = 14;
    const y = v.height - 16;
    const lang = document.documentElement.lang.startsWith('zh') ? 'zh' : 'en';
    const label = el('text', { class: 'map-scale-text', x: x + s.px / 2, y: y - 7, 'text-anchor': 'middle' });
    label.textContent = s.metres >= 1000 ? formatDistance(s.metres, lang) : `${s.metres}${lang === 'zh' ? ' 米' : ' m'}`;
    const bar = el('path', { class: 'map-scale', d: `M${x} ${y - 5}V${y}H${(x + s.px).toFixed(1)}V${y - 5}` });
    this.layers.chrome.setAttribute('aria-hidden', 'true');
    this.layers.chrome.replaceChildren(bar, label);
  }

  drawZones(v) {
    const nodes = [];
    for (const z of this.data.zones) {
      const d = z.polygon.map(([lon, lat], i) => {
        const [x, y] = toPx(v, lat, lon);
        return `${i ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)}`;
      }).join('') + 'Z';
      nodes.push(el('path', { class: 'map-zone', d, 'data-id': z.id }));
      if (z.name) {
        // Centred on the zone's visible part, under its top edge (or the map's).
        const px = z.polygon.map(([lon, lat]) => toPx(v, lat, lon));
        const left = Math.max(0, Math.min(...px.map((p) => p[0])));
        const right = Math.min(v.width, Math.max(...px.map((p) => p[0])));
        if (right - left < 60) continue;
        const cx = (left + right) / 2;
        const top = Math.max(0, Math.min(...px.map((p) => p[1]))) + 18;
        const text = el('text', { class: 'map-zone-name', x: cx.toFixed(1), y: top.toFixed(1), 'text-anchor': 'middle' });
        text.textContent = z.name;
        text.dataset.cx = String(cx);
        text.dataset.top = String(top);
        nodes.push(text);
      }
    }
    this.layers.zones.replaceChildren(...nodes);
  }

  drawLines(v) {
    this.layers.lines.replaceChildren(...this.data.lines.filter((l) => l.points.length > 1).map((l) => el('polyline', {
      class: `map-line line-${l.kind ?? 'route'}`, 'data-id': l.id,
      points: l.points.map((p) => toPx(v, p.lat, p.lon).map((n) => n.toFixed(1)).join(',')).join(' '),
    })));
  }

  drawMarkers(v, kind) {
    const known = this.markers[kind];
    const seen = new Set();
    for (const m of this.data[kind]) {
      if (!Number.isFinite(m.lat) || !Number.isFinite(m.lon)) continue;
      seen.add(m.id);
      let g = known.get(m.id);
      if (!g) {
        g = this.newMarker(kind);
        known.set(m.id, g);
        this.layers[kind].append(g);
      }
      const [x, y] = toPx(v, m.lat, m.lon);
      g.setAttribute('class', `marker ${kind === 'techs' ? 'm-tech' : 'm-job'} ${m.kind ? `k-${m.kind}` : ''}`);
      g.style.transform = `translate(${x.toFixed(1)}px, ${y.toFixed(1)}px)`;
      g.sbAt = [x, y]; // where declutter() finds it
      g.dataset.id = m.id;
      g.dataset.lat = String(m.lat);
      g.dataset.lon = String(m.lon);
      g.querySelector('title').textContent = m.title ?? m.label ?? '';
      const text = g.querySelector('text');
      if (text.textContent !== (m.label ?? '')) text.textContent = m.label ?? '';
    }
    for (const [id, g] of known) {
      if (!seen.has(id)) {
        g.remove();
        known.delete(id);
      }
    }
  }

  newMarker(kind) {
    const g = el('g');
    g.append(el('title'));
    if (kind === 'techs') {
      g.append(el('circle', { class: 'm-halo', r: 15 }), el('circle', { class: 'm-dot', r: 8 }));
      g.append(el('text', { class: 'm-label', x: 0, y: -15, 'text-anchor': 'middle' }));
    } else {
      // A pin whose point is the place.
      g.append(el('path', { class: 'm-pin', d: 'M0 0C-2-7-9-10-9-17a9 9 0 1 1 18 0c0 7-7 10-9 17z' }));
      g.append(el('circle', { class: 'm-pin-dot', cx: 0, cy: -17, r: 3.4 }));
      g.append(el('text', { class: 'm-label', x: 0, y: -31, 'text-anchor': 'middle' }));
    }
    return g;
  }
}
