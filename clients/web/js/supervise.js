// The floor overview (/supervise/{site}): every queue with its waiting count, longest wait
// and estimate, every counter with its state and ticket, and today's figures — for the
// supervisor who decides to open another room. Live from `board:{site}` (counters, waiting,
// estimates) and one `service:{site}:{service}` per service (who waits since when); today's
// figures from GET /v1/sites/{site}/stats, a few seconds after the site's live events (at most
// one such load per STATS_GAP_MS) and every minute besides. Read-only: it changes nothing.
import { Client } from './client.js';
import { reduce, emptyBoard } from './board-state.js';
import { formatEstimate, formatTime, nameIn } from './i18n.js';
import { applyQueue } from './queue-list.js';
import { mountAppointments } from './supervise-appts.js';
import { mountAudit } from './supervise-audit.js';
import { formatMinutesNearest, mountHours } from './supervise-hours.js';
import { api, connectionBanner, connectionChip, errorScreen, h, language, mountLangSwitch, mountLinkExpiry, readBoot, replaceChildren, setText, token } from './ui.js';
import { applySiteWords } from './vocabulary-boot.js';
import { DEFAULT_VOCABULARY } from './vocabulary.js';

const boot = readBoot();
const lang0 = language(boot);
let { lang, t } = lang0;
// The boot's site document, kept up to date in place (the panels hold the same object) by the
// `site` messages of the board and service topics when the site is changed.
const site = boot.site;
const tz = site?.timezone;
const $ = (id) => document.getElementById(id);
// A queue whose longest wait passes this many minutes is shown in red (?late_min=N).
const LATE_MIN = Math.max(1, Number(new URLSearchParams(location.search).get('late_min')) || 30);
const STATS_EVERY_MS = 60_000;
// After a live event (a ticket issued, called, completed, a no-show, a counter opened...) the
// day's figures are loaded again STATS_SOON_MS later (the server's stats recorder writes the
// day log about a second after each event), then at most once per STATS_GAP_MS however busy
// the site is, the last event always followed by a load (trailing). Before, they waited for
// the minute: "Tickets today 0" beside a counter shown open and serving.
const STATS_SOON_MS = 2500;
const STATS_GAP_MS = 8000;
let statsAt = 0;
let statsTimer = null;
// The server's clock, not the device's: a PC 40 min fast must not turn every queue red.
const skewMs = boot.server_ms ? boot.server_ms - Date.now() : 0;
let statsFailed = false;

let board = emptyBoard();
const queues = {}; // service → waiting tickets (summaries with issued_at)
let stats = null;
let updatedAt = null;

const serviceName = (id) => nameIn(site.services.find((s) => s.id === id)?.name ?? id, lang);
const counterName = (c) => nameIn(c.name ?? site.counters.find((x) => x.id === c.id)?.name ?? c.id, lang);

/** Minutes the longest-waiting ticket of `sid` has waited (null: nobody, or not known yet). */
export function longestWaitS(list, nowMs) {
  const issued = (list ?? []).map((tk) => Date.parse(tk.issued_at)).filter(Number.isFinite);
  return issued.length ? Math.max(0, (nowMs - Math.min(...issued)) / 1000) : null;
}

function percent(rate) {
  return rate == null ? t('none') : `${Math.round(rate * 100)}%`;
}

// "This link stops working on …" in the link's last days (set once the page is up).
let paintExpiry = () => {};

function render() {
  paintExpiry(t, lang);
  document.title = `${t('sv_title')} · ${nameIn(site.name, lang)}`;
  setText($('title'), t('sv_title'));
  setText($('site-name'), nameIn(site.name, lang));
  setText($('svc-title'), t('sv_services'));
  setText($('ctr-title'), t('sv_counters'));
  renderServices();
  renderCounters();
  setText($('updated'), updatedAt ? t('updated', { time: formatTime(updatedAt, lang, tz, true) }) : '');
  setText($('report'), t('sv_report'));
}

function renderServices() {
  const cols = ['sv_col_service', 'sv_col_waiting', 'sv_col_longest', 'sv_col_estimate', 'sv_col_open',
    'sv_col_issued', 'sv_col_served', 'sv_col_mean_wait', 'sv_col_no_show'];
  replaceChildren($('svc-head'), cols.map((k) => h('th', { scope: 'col' }, t(k))), lang);
  const now = Date.now() + skewMs;
  const rows = site.services.map((s) => {
    const live = board.services.find((x) => x.id === s.id) ?? {};
    const list = queues[s.id];
    const waiting = live.waiting ?? list?.length ?? null;
    const longest = longestWaitS(list, now);
    const open = board.counters.filter((c) => c.state === 'open'
      && site.counters.find((x) => x.id === c.id)?.services.includes(s.id)).length;
    // A service nobody took a ticket for today is not in the day's figures: zero, not unknown.
    const ops = stats ? (stats.services?.[s.id]?.operations ?? { tickets: 0, service_s: { n: 0 } }) : null;
    const late = longest != null && longest >= LATE_MIN * 60;
    return h('tr', { class: late ? 's-late' : null, dataset: { service: s.id } },
      h('th', { scope: 'row' }, serviceName(s.id)),
      h('td', { class: 'num-big s-waiting' }, waiting == null ? t('none') : String(waiting)),
      h('td', { class: 's-longest' }, longest == null ? t('none') : formatMinutesNearest(longest, t)),
      h('td', { class: 's-estimate' }, formatEstimate(live.estimate, lang)),
      h('td', { class: 's-open' }, board.ready ? String(open) : t('none')),
      h('td', { class: 's-issued' }, ops ? String(ops.tickets) : t('none')),
      h('td', { class: 's-served' }, ops ? String(ops.service_s?.n ?? 0) : t('none')),
      h('td', { class: 's-mean' }, ops?.wait_s?.mean != null ? formatMinutesNearest(ops.wait_s.mean, t) : t('none')),
      h('td', { class: 's-noshow' }, percent(ops?.no_show_rate)));
  });
  $('svc-body').replaceChildren(...rows);
  const acc = stats?.accuracy;
  setText($('accuracy'), [acc?.n ? t('sv_accuracy', { m: formatMinutesNearest(acc.mae_s, t), n: acc.n }) : t('sv_accuracy_none'),
    statsFailed ? t('sv_stats_stale') : ''].filter(Boolean).join(' '));
}

function renderCounters() {
  const known = board.ready ? board.counters : site.counters.map((c) => ({ id: c.id, state: null, current: null }));
  $('counters').replaceChildren(...known.map((c) => {
    const cur = c.current;
    const state = c.state ?? 'closed';
    const services = (site.counters.find((x) => x.id === c.id)?.services ?? []).map(serviceName).join(' · ');
    return h('li', { class: `card s-counter st-${state}`, dataset: { counter: c.id } },
      h('h3', {}, counterName(c),
        h('span', { class: `chip ${state === 'open' ? 'chip-ok' : state === 'paused' ? 'chip-warn' : ''}` },
          c.state ? t(`state_${state}`) : t('none'))),
      cur ? h('p', { class: 's-current num' }, cur.number) : h('p', { class: 'muted' }, t('sv_idle')),
      cur ? h('p', {}, [serviceName(cur.service), cur.status === 'serving' ? t('st_serving') : t('st_called'),
        cur.at ? t('sv_since', { time: formatTime(cur.at, lang, tz) }) : ''].filter(Boolean).join(' · ')) : null,
      h('p', { class: 'muted' }, services));
  }));
}

/** The site as the server now has it: services and counters (names, who serves what) change
 * in place, the board's service list follows, and one service topic per service. */
function applySite(doc, waiting) {
  Object.assign(site, doc);
  board = { ...board, services: site.services.map((s) => ({ ...(board.services.find((x) => x.id === s.id) ?? {}), ...s, ...(waiting?.[s.id] ?? {}) })) };
  followServices();
  // Its words (vocabulary): the panels are drawn again in them ("Citizen", "Service · clerk").
  if (applySiteWords(doc)) paintWords();
}

// The panels' own paint (set once they are mounted): run when the site's words change.
let paintWords = () => {};

/** The site read again (GET /v1/sites/{site}), keeping only what the boot gave. */
async function reloadSite() {
  const r = await api(`/v1/sites/${encodeURIComponent(site.id)}`);
  if (!r.ok || !Array.isArray(r.data?.services) || !Array.isArray(r.data?.counters)) return;
  const d = r.data;
  // The site's document leaves the default vocabulary out.
  applySite({ name: d.name, languages: d.languages, timezone: d.timezone, vocabulary: d.vocabulary ?? DEFAULT_VOCABULARY,
    services: d.services.map(({ id, name, prefix }) => ({ id, name, prefix })),
    counters: d.counters.map(({ id, name, services }) => ({ id, name, services })) });
  render();
}

let client = null;
const following = new Map(); // service → unsubscribe
function followServices() {
  if (!client) return;
  for (const [sid, stop] of following) {
    if (site.services.some((s) => s.id === sid)) continue;
    stop();
    following.delete(sid);
    delete queues[sid];
  }
  for (const { id: sid } of site.services) {
    if (following.has(sid)) continue;
    following.set(sid, client.subscribe(`service:${site.id}:${sid}`, (msg) => {
      if (msg.op === 'error' || !following.has(sid)) return;
      queues[sid] = applyQueue(queues[sid] ?? [], msg);
      updatedAt = Date.now();
      render();
      if (msg.op === 'event') statsSoon(); // issued, called, a no-show, ...
    }));
  }
}

/** The last 7 days per service as a CSV file (GET /v1/sites/{site}/report.csv). */
async function downloadReport() {
  setText($('report-error'), '');
  let res;
  try {
    res = await fetch(`/v1/sites/${encodeURIComponent(site.id)}/report.csv`, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
  } catch {
    setText($('report-error'), t('err_network'));
    return;
  }
  if (!res.ok) {
    setText($('report-error'), t('err_generic', { code: res.status }));
    return;
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? 'report.csv';
  const a = h('a', { href: URL.createObjectURL(await res.blob()), download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

async function loadStats() {
  statsAt = Date.now();
  const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/stats`);
  statsFailed = !r.ok; // today's figures are then the last ones that came: said so
  if (r.ok) stats = r.data;
  render();
  await Promise.all([appts?.load(), hours?.load()]);
}

function statsSoon() {
  if (statsTimer) return; // one load is already due: it will see this event too
  const wait = Math.max(STATS_SOON_MS, statsAt + STATS_GAP_MS - Date.now());
  statsTimer = setTimeout(() => { statsTimer = null; loadStats(); }, wait);
}

// Where the site takes bookings: today's appointments, refreshed with the figures.
const appts = site && !boot.error ? mountAppointments({ site, rules: boot.booking_site, now: () => Date.now() + skewMs, getLang: () => lang }) : null;
// Today by hour and by counter (docs/reports.md), refreshed with the figures.
const hours = site && !boot.error ? mountHours({ site, getLang: () => lang }) : null;

if (!site || boot.error) {
  errorScreen($('app'), t, boot.error ?? { code: 'unknown_site' });
} else {
  let paintChip = () => {};
  const audit = mountAudit({ site, getLang: () => lang });
  paintExpiry = mountLinkExpiry($('app'));
  mountLangSwitch($('lang'), lang0, (l, tl) => {
    lang = l;
    t = tl;
    paintChip();
    render();
    appts?.paint();
    hours?.paint();
    audit.paint();
  });
  paintWords = () => {
    // The appointments' column heads are kept while the language is the same
    // (supervise-appts.js keys them by language alone): dropped here, they are redrawn.
    if ($('appt-head')) delete $('appt-head').dataset.key;
    appts?.paint();
    hours?.paint();
    audit.paint();
  };
  render();
  client = new Client({ token: new URLSearchParams(location.search).get('token') });
  document.body.append(connectionBanner(client, () => t, { timeZone: tz }).el);
  paintChip = connectionChip($('conn-chip'), client, () => t);
  client.subscribe(`board:${site.id}`, (msg) => {
    if (msg.op === 'error') return errorScreen($('app'), t, msg);
    board = reduce(board, msg);
    if (msg.type === 'site' && msg.data?.site) applySite(msg.data.site, msg.data.waiting);
    // Back after a gap history could not fill: the snapshot has names, not who serves what.
    if (msg.op === 'snapshot' && msg.resync) reloadSite();
    updatedAt = Date.now();
    render();
    if (msg.op === 'event') statsSoon(); // called, recalled, a counter's state or ticket, ...
    return undefined;
  });
  followServices();
  $('report').addEventListener('click', downloadReport);
  client.start();
  loadStats();
  setInterval(loadStats, STATS_EVERY_MS);
  setInterval(render, 15_000); // waits grow while nothing happens
  window.switchboardSupervise = { get board() { return board; }, get queues() { return queues; }, get stats() { return stats; }, get statsAt() { return statsAt; }, appts, audit, hours, client };
}
