// The enterprise dashboard (/org/{org}): its tiles count the organisation's jobs due on one
// local day of its region (today, rolling over at midnight; another day by the arrows or
// ?date=YYYY-MM-DD), read again whenever the `org:{id}` view's counts change; its batches
// and their progress by status, its open jobs with ETAs, its technicians on the way on a
// map, and alerts for jobs at risk of missing their window. Every `org:{id}` message carries the whole view; the map
// places jobs at their addresses (read once per job through the HTTP API, which the
// organisation's token may do) and technicians where their last fix put them.
import { Client } from './client.js';
import { customerEta, formatAt, localDay, personName, serverClock, shortJob, zonesIn } from './dispatch.js';
import { icon } from './dispatch-icons.js';
import { formatTime, nameIn } from './i18n.js';
import { MapView } from './map.js';
import { alerts, forgetGone, jobRefs, kpis, ORDER, segments, sortJobs, trail, viewOf } from './org-state.js';
import { dayName, shiftDay, TODAY_STRINGS, todayLine, validDay } from './org-today.js';
import { api, connectionBanner, errorScreen, h, language, langSwitch, layeredTranslator, readBoot, replaceChildren, setText, token } from './ui.js';

const boot = readBoot();
const lang0 = language(boot);
let { lang } = lang0;
let t = layeredTranslator(TODAY_STRINGS, lang);
const orgId = boot.params?.org;
const region = boot.region;
const tz = region?.timezone;
const now = serverClock(boot);
const $ = (id) => document.getElementById(id);
const MAX_ALERTS = 6;
const MAX_ROWS = 200; // a thousand-job batch still renders fast; the rest is counted
const DAY_EVERY_MS = 60000; // the day's KPIs read again this often (and when the view's counts change)

let view = null;
// The local day shown ("YYYY-MM-DD"; null: today, which follows the region's midnight).
let day = validDay(new URLSearchParams(window.location.search).get('date'));
let dayK = null; // the organisation's KPIs for that day (GET /v1/orgs/{org}/kpis?date=)
let counts = null; // the last view's counts: when they change, the day's KPIs are read again
let loading = false; // a read of the day's KPIs is on its way
let again = false; // and another is wanted after it
let refs = new Map(); // job id → its reference on this dashboard (unique among the view's jobs)
let map = null;
// Both only of the jobs in the view: the open ones (a finished job leaves it, and them).
const places = new Map(); // job id → {lat, lon} | null (being fetched)
let moves = []; // technicians' positions as shown: {job, technician, lat, lon} (org-state.js trail)

/** The job's reference, as long as it must be to tell it from the view's other jobs. */
function ref(id) {
  return refs.get(id) ?? shortJob(id);
}

function batchName(id) {
  const b = view?.batches.find((x) => x.id === id);
  return b?.name || (id ? shortJob(id) : '—');
}

function render() {
  if (!view) return;
  setText($('org-name'), view.name || orgId);
  document.title = `${view.name || orgId} · ${t('org_title')}`;
  renderKpis();
  renderAlerts();
  renderBatches();
  renderMap();
  renderJobs();
}

function renderStatic() {
  setText($('org-sub'), [t('org_title'), nameIn(region?.name, lang)].filter(Boolean).join(' · '));
  $('day-prev').setAttribute('aria-label', t('org_day_prev'));
  $('day-prev').title = t('org_day_prev');
  $('day-next').setAttribute('aria-label', t('org_day_next'));
  $('day-next').title = t('org_day_next');
  setText($('day-back'), t('org_day_back'));
  $('kpi-day').setAttribute('aria-label', t('org_day_nav'));
  setText($('alerts-title'), t('org_alerts'));
  setText($('batches-title'), t('org_batches'));
  setText($('map-title'), t('org_map'));
  setText($('jobs-title'), t('org_jobs'));
  replaceChildren($('jobs-head'), ['org_col_job', 'd_customer', 'org_col_batch', 'org_col_status', 'org_col_eta', 'org_col_window', 'org_col_risk']
    .map((k) => h('th', { scope: 'col' }, t(k))), lang);
  replaceChildren($('legend'), ORDER.filter((s) => s !== 'cancelled').map((s) => h('li', {}, h('span', { class: `sw s-${s}` }), t(`d_js_${s}`))), lang);
}

const todayKey = () => localDay(now(), tz);
const shown = () => day ?? todayKey();

/** The day's KPIs (its jobs due by status, and its figures): one read at a time, the last
 *  wanted read after it. */
async function loadDay() {
  if (loading) {
    again = true;
    return;
  }
  loading = true;
  const want = shown();
  const r = await api(`/v1/orgs/${encodeURIComponent(orgId)}/kpis?date=${want}`);
  loading = false;
  if (r.ok && want === shown()) {
    dayK = r.data;
    renderKpis();
  }
  if (again || want !== shown()) {
    again = false;
    loadDay();
  }
}

/** Show another day (null: today), in the address too (a reload or a link keeps it). */
function showDay(key) {
  day = key === todayKey() ? null : key;
  const url = new URL(window.location.href);
  if (day) url.searchParams.set('date', day);
  else url.searchParams.delete('date');
  window.history.replaceState(null, '', url);
  renderKpis();
  loadDay();
}

function renderDayNav() {
  const key = shown();
  const today = todayKey();
  setText($('day-label'), dayName(key, today, lang, t));
  $('day-label').dateTime = key;
  $('day-back').hidden = key === today;
  setText($('kpi-title'), t('org_tiles_title', { day: dayName(key, today, lang, t) }));
}

function renderKpis() {
  renderDayNav();
  const fresh = dayK?.day === shown() ? dayK : null; // the day's figures, once read
  setText($('kpi-today'), todayLine(fresh, t, todayKey(), lang));
  if (!view) return;
  const key = shown();
  const k = kpis(view, fresh?.due ?? {}, (ms) => localDay(ms, tz) === key);
  const tiles = [
    ['total', t('org_total'), k.total, 'building'],
    ['open', t('org_open'), k.open, 'clock'],
    // Driving to a job only (en_route); the panel "Technicians at work" names these and
    // those on site, each counted apart (it listed 4 on site beside a tile of 0).
    ['way', t('org_on_way'), k.onWay, 'van'],
    ['done', t('org_done'), k.done, 'check'],
    ['risk', t('org_risk'), k.risk, 'alert'],
  ];
  // Until the day's counts are read (a day just chosen, or midnight just passed): "…".
  const n0 = (id, n) => (fresh || id === 'risk' ? String(n) : '…');
  replaceChildren($('kpis'), tiles.map(([id, label, n, ic]) => h('li', { class: `o-kpi kpi-${id}${id === 'risk' && n ? ' hot' : ''}`, title: id === 'way' ? t('org_on_way_hint') : t('org_tiles_hint'), dataset: { day: key } },
    h('span', { class: 'o-kpi-icon' }, icon(ic)),
    h('span', { class: 'o-kpi-n num' }, n0(id, n)),
    h('span', { class: 'o-kpi-label' }, label))), JSON.stringify([k, !!fresh, key, lang]));
}

/** A time on the dashboard: with its day when it is not today ("Tue 8 Dec, 06:01"). */
function at(ms) {
  return formatAt(ms, lang, tz, now());
}

/** "25 min late", or "22 h 15 min late" past an hour and a half. */
function lateText(n) {
  return n < 90 ? t('org_late', { n }) : t('org_late_h', { h: Math.floor(n / 60), m: n % 60 });
}

function renderAlerts() {
  const list = alerts(view);
  const items = list.slice(0, MAX_ALERTS).map((a) => h('li', { class: 'o-alert', dataset: { job: a.job } },
    icon('alert'),
    h('span', {}, a.eta_ms == null
      ? t('org_alert_unplanned', { ref: ref(a.job), end: at(a.window_end_ms) })
      : t('org_alert_line', { ref: ref(a.job), eta: at(a.eta_ms), end: at(a.window_end_ms) })),
    a.late_min ? h('span', { class: 'o-late num' }, lateText(a.late_min)) : null));
  if (list.length > MAX_ALERTS) items.push(h('li', { class: 'o-alert-more muted' }, t('org_more', { n: list.length - MAX_ALERTS })));
  const body = items.length ? h('ul', { class: 'o-alert-list' }, items) : h('p', { class: 'o-ok' }, icon('check'), t('org_no_alerts'));
  replaceChildren($('alerts'), [body], JSON.stringify([list, lang, Math.floor(now() / 60000)]));
  document.querySelector('.o-alerts').classList.toggle('hot', list.length > 0);
}

/** One status's part of a batch bar (width through CSSOM: the CSP forbids style attributes). */
function segment(s) {
  const el = h('span', { class: `seg s-${s.status}`, title: `${t(`d_js_${s.status}`)}: ${s.n}` });
  el.style.width = `${(s.share * 100).toFixed(2)}%`;
  return el;
}

function renderBatches() {
  const items = view.batches.map((b) => {
    const segs = segments(b.counts, b.size);
    const done = b.counts.done ?? 0;
    return h('li', { class: 'o-batch', dataset: { batch: b.id } },
      h('div', { class: 'o-batch-head' },
        h('span', { class: 'o-batch-name' }, b.name || shortJob(b.id)),
        h('span', { class: 'o-batch-done num' }, t('org_batch_done', { done, size: b.size }))),
      h('div', { class: 'o-bar', role: 'img', 'aria-label': segs.map((s) => `${t(`d_js_${s.status}`)} ${s.n}`).join(', ') },
        segs.map((s) => segment(s))),
      h('p', { class: 'o-batch-counts muted' }, segs.map((s) => `${t(`d_js_${s.status}`)} ${s.n}`).join(' · ')));
  });
  replaceChildren($('batches'), items.length ? items : [h('li', { class: 'muted' }, t('org_no_batches'))], JSON.stringify([view.batches, lang]));
}

/** Fetch the places of jobs the map has not seen yet, four at a time. */
async function locate(ids) {
  const todo = ids.filter((id) => !places.has(id));
  for (const id of todo) places.set(id, null);
  const worker = async () => {
    while (todo.length) {
      const id = todo.shift();
      const r = await api(`/v1/jobs/${encodeURIComponent(id)}`);
      if (!r.ok || r.data?.lat == null) places.delete(id); // try again with the next view
      // Not if the job left the view meanwhile (done, cancelled): it is forgotten.
      else if (places.has(id)) places.set(id, { lat: r.data.lat, lon: r.data.lon });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  renderMap();
}

function renderMap() {
  if (!map || !view) return;
  for (const j of view.jobs) if (j.lat != null && !places.get(j.id)) places.set(j.id, { lat: j.lat, lon: j.lon });
  const missing = view.jobs.filter((j) => !places.has(j.id)).map((j) => j.id);
  if (missing.length) locate(missing);
  const jobs = view.jobs.filter((j) => places.get(j.id)).map((j) => ({
    id: j.id, ...places.get(j.id), kind: j.at_risk ? 'risk' : ['en_route', 'on_site'].includes(j.status) ? j.status : 'open',
    label: ref(j.id), title: `${ref(j.id)} · ${t(`d_js_${j.status}`)}`,
  }));
  const techs = view.on_the_way.map((w) => ({
    id: `${w.technician}|${w.job}`, lat: w.lat, lon: w.lon, kind: w.status,
    label: personName(w.technician, lang), title: `${personName(w.technician, lang)} → ${ref(w.job)}`,
  }));
  const lines = view.on_the_way.filter((w) => places.get(w.job)).map((w) => ({ id: w.job, kind: 'way', points: [w, places.get(w.job)] }));
  map.update({ zones: zonesIn(region, lang), jobs, techs, lines });
  map.setLabel(`${t('org_map_label')}: ${view.on_the_way.map((w) => `${personName(w.technician, lang)} → ${ref(w.job)}`).join(', ') || t('org_nobody')}`);
  // The heading counts what the tiles do (jobs by status); the list, those with a position.
  const way0 = view.counts?.en_route ?? 0;
  const site0 = view.counts?.on_site ?? 0;
  setText($('map-title'), t('org_map_counts', { way: way0, site: site0 }));
  const unplaced = way0 + site0 - view.on_the_way.length;
  const way = view.on_the_way.map((w) => h('li', { class: `o-way-item k-${w.status}`, dataset: { job: w.job } },
    icon('van'), h('strong', {}, personName(w.technician, lang)),
    h('span', { class: 'muted' }, `→ ${ref(w.job)}`),
    h('span', { class: 'o-way-eta num' }, w.status === 'on_site' ? t('d_js_on_site') : customerEta(w, now(), lang, tz))));
  if (unplaced > 0) way.push(h('li', { class: 'muted o-way-unplaced' }, t('org_way_unplaced', { n: unplaced })));
  replaceChildren($('on-way'), way.length ? way : [h('li', { class: 'muted' }, t('org_nobody'))], JSON.stringify([view.on_the_way, unplaced, lang, Math.floor(now() / 30000)]));
}

function riskCell(j) {
  if (j.at_risk) return h('span', { class: 'chip chip-bad' }, icon('alert'), t('org_risk'));
  if (j.status === 'unassignable' || (!j.eta_ms && j.status !== 'on_site')) return h('span', { class: 'o-none' }, t('org_no_tech'));
  return h('span', { class: 'o-fine' }, t('org_ok'));
}

function renderJobs() {
  const jobs = sortJobs(view.jobs);
  const rows = jobs.slice(0, MAX_ROWS).map((j) => h('tr', { class: j.at_risk ? 'risk' : '', dataset: { job: j.id } },
    // data-label: on a phone each row is a card and every cell names its column.
    h('th', { scope: 'row', class: 'num', dataset: { label: t('org_col_job') } }, ref(j.id)),
    h('td', { dataset: { label: t('d_customer') } }, j.customer ?? '—'),
    h('td', { dataset: { label: t('org_col_batch') } }, batchName(j.batch)),
    h('td', { dataset: { label: t('org_col_status') } }, h('span', { class: `chip js-${j.status}` }, t(`d_js_${j.status}`))),
    h('td', { class: 'num', dataset: { label: t('org_col_eta') } }, j.eta_ms ? customerEta(j, now(), lang, tz) : '—'),
    h('td', { class: 'num', dataset: { label: t('org_col_window') } }, j.window_end_ms ? at(j.window_end_ms) : '—'),
    h('td', { dataset: { label: t('org_col_risk') } }, riskCell(j))));
  if (jobs.length > MAX_ROWS) rows.push(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, t('org_more', { n: jobs.length - MAX_ROWS }))));
  if (!jobs.length) rows.push(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, t('org_no_jobs'))));
  replaceChildren($('jobs'), rows, JSON.stringify([jobs, view.batches.length, lang, Math.floor(now() / 30000)]));
}

function onMessage(msg) {
  if (msg.op === 'error') {
    // The topic's "unknown_topic" names this page's own thing.
    errorScreen($('app'), t, msg.code === 'unknown_topic' ? { code: 'unknown_org' } : msg);
    return;
  }
  const v = viewOf(msg);
  if (!v) return; // replayed history: the current view follows
  view = v;
  // A job that moved on (or a new one) changes the day's tiles: read them again.
  const c = JSON.stringify(view.counts ?? {});
  if (counts !== null && c !== counts) loadDay();
  counts = c;
  refs = jobRefs(view.jobs.map((j) => j.id));
  forgetGone(places, new Set(view.jobs.map((j) => j.id)));
  moves = trail(moves, view.on_the_way);
  render();
}

if (!region || boot.error || !orgId) {
  errorScreen($('app'), t, boot.error ?? { code: 'unknown_org' });
} else {
  const setLang = (l) => {
    lang = l;
    t = layeredTranslator(TODAY_STRINGS, l);
    lang0.remember(l);
    document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
    $('lang').replaceChildren(langSwitch(lang, t, setLang));
    renderStatic();
    render();
  };
  $('lang').replaceChildren(langSwitch(lang, t, setLang));
  setText($('org-name'), boot.org?.name ?? orgId);
  renderStatic();
  map = new MapView($('map'), { label: t('org_map_label'), tiles: boot.map?.tiles, attribution: boot.map?.attribution, minSpanM: 2500 });
  const client = new Client({ token });
  const banner = connectionBanner(client, () => t, { timeZone: tz });
  document.body.prepend(banner.el);
  client.subscribe(`org:${orgId}`, onMessage);
  client.start();
  $('day-prev').addEventListener('click', () => showDay(shiftDay(shown(), -1)));
  $('day-next').addEventListener('click', () => showDay(shiftDay(shown(), 1)));
  $('day-back').addEventListener('click', () => showDay(todayKey()));
  let lastToday = todayKey();
  const tick = () => {
    setText($('clock'), formatTime(now(), lang, tz, true));
    // Local midnight: "today" is a new day (the tiles follow it; a chosen day stays, its name
    // may change: "Tomorrow" becomes "Today").
    if (todayKey() !== lastToday) {
      lastToday = todayKey();
      if (day === lastToday) day = null;
      renderKpis();
      if (day === null) loadDay();
    }
  };
  tick();
  setInterval(tick, 1000);
  setInterval(() => view && (renderAlerts(), renderMap(), renderJobs()), 30000);
  renderKpis();
  loadDay();
  setInterval(loadDay, DAY_EVERY_MS);
  window.switchboardOrg = { get view() { return view; }, get moves() { return moves; }, get day() { return dayK; }, places, client };
}
