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
import { mountDevices } from './supervise-devices.js';
import { formatMinutesNearest, mountHours } from './supervise-hours.js';
import { api, connectionBanner, connectionChip, errorScreen, h, language, layeredTranslator, mountLangSwitch, mountLinkExpiry, readBoot, replaceChildren, setText, token } from './ui.js';
import { applySiteWords } from './vocabulary-boot.js';
import { DEFAULT_VOCABULARY } from './vocabulary.js';

// The overview's own words (the shared ones are in i18n.js).
export const STRINGS = {
  en: {
    sv_stuck: '{n} waiting, no counter open',
    sv_parked: '{n} set aside',
    sv_calling_for: 'Calling for {d}',
    sv_serving_for: 'Serving · called {d} ago',
    sv_serving_since: 'Serving for {d}',
    sv_free_for: 'Free for {d}',
    sv_free: 'Free',
    sv_paused_for: 'Paused for {d}',
    sv_closed_since: 'Closed since {time}',
    sv_alert_idle: 'Free while people wait',
    sv_alert_call: 'Call not answered',
    sv_recent: 'Recent changes',
    sv_recent_none: 'Nothing has happened since this page opened.',
    sv_recent_called: '{number} called to {counter}',
    sv_recent_recalled: '{number} called again to {counter}',
    sv_recent_open: '{counter} opened',
    sv_recent_paused: '{counter} paused',
    sv_recent_closed: '{counter} closed',
    sv_live: 'Live',
    sv_live_last: 'Live · last change at {time}',
    sv_longest_who: '{d} · {number}',
  },
  zh: {
    sv_stuck: '{n}人等候，无窗口开放',
    sv_parked: '{n}人暂离',
    sv_calling_for: '已叫号 {d}',
    sv_serving_for: '办理中 · {d}前叫号',
    sv_serving_since: '已办理 {d}',
    sv_free_for: '空闲 {d}',
    sv_free: '空闲',
    sv_paused_for: '已暂停 {d}',
    sv_closed_since: '{time} 起关闭',
    sv_alert_idle: '有人等候但窗口空闲',
    sv_alert_call: '叫号无人应答',
    sv_recent: '最近动态',
    sv_recent_none: '本页打开以来暂无变化。',
    sv_recent_called: '{number} 叫到 {counter}',
    sv_recent_recalled: '{number} 再次叫到 {counter}',
    sv_recent_open: '{counter} 开放',
    sv_recent_paused: '{counter} 暂停',
    sv_recent_closed: '{counter} 关闭',
    sv_live: '实时',
    sv_live_last: '实时 · 最近变化 {time}',
    sv_longest_who: '{d} · {number}',
  },
};

const boot = readBoot();
const lang0 = language(boot);
let { lang } = lang0;
let t = layeredTranslator(STRINGS, lang);
// The boot's site document, kept up to date in place (the panels hold the same object) by the
// `site` messages of the board and service topics when the site is changed.
const site = boot.site;
const tz = site?.timezone;
const $ = (id) => document.getElementById(id);
// A queue whose longest wait passes this many minutes is shown in red (?late_min=N).
const LATE_MIN = Math.max(1, Number(new URLSearchParams(location.search).get('late_min')) || 30);
// An open counter free this many minutes while its services have people waiting is flagged
// (nobody at it?); so is a call nobody answered for CALL_ALERT_MIN minutes.
const IDLE_ALERT_MIN = 5;
const CALL_ALERT_MIN = 3;
// Elapsed times ("free for 8 min") are drawn again this often, events or not.
const TICK_MS = 15_000;
// Calls and counter changes listed under "Recent changes".
const RECENT_SHOWN = 10;
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
let lastEventAt = null; // the last live event (a call, a counter's change, a ticket taken)
// Per counter: since when (server ms) it is in its state, and since when an open one stands
// free; null: not known. As the board says (`since`, `free_since`: noteTimes).
const ctrTimes = {};
const changes = []; // counter state changes seen live: {counter, state, at (ms)}, newest first

const serviceName = (id) => nameIn(site.services.find((s) => s.id === id)?.name ?? id, lang);
const counterName = (c) => nameIn(c.name ?? site.counters.find((x) => x.id === c.id)?.name ?? c.id, lang);

/** Minutes the longest-waiting ticket of `sid` has waited (null: nobody, or not known yet). */
export function longestWaitS(list, nowMs) {
  return longestWaiter(list, nowMs)?.s ?? null;
}

/** The longest-waiting ticket of a queue: {s (seconds waited), number}; null: nobody. */
export function longestWaiter(list, nowMs) {
  let best = null;
  for (const tk of list ?? []) {
    const at = Date.parse(tk.issued_at);
    if (Number.isFinite(at) && (!best || at < best.at)) best = { at, number: tk.number };
  }
  return best ? { s: Math.max(0, (nowMs - best.at) / 1000), number: best.number } : null;
}

/** Whether a queue is stuck: people waiting and no counter serving it open. */
export function isStuck(waiting, open) {
  return typeof waiting === 'number' && waiting > 0 && open === 0;
}

/** What a counter card says about time, and whether it is flagged: `times` {stateSince,
 * freeSince} (ms or null), `waitingFor` the people waiting for its services. */
export function counterTiming(c, times, nowMs, waitingFor) {
  const ago = (ms) => (ms == null || !Number.isFinite(ms) ? null : Math.max(0, (nowMs - ms) / 1000));
  const cur = c.current;
  if (cur) {
    const s = ago(Date.parse(cur.at));
    if (cur.status === 'called') return { key: 'sv_calling_for', s, alert: s != null && s >= CALL_ALERT_MIN * 60 ? 'call' : null };
    // Timed from the start of service where the board has it (older servers: the call).
    const began = ago(Date.parse(cur.started));
    return began != null ? { key: 'sv_serving_since', s: began, alert: null }
      : { key: 'sv_serving_for', s, alert: null };
  }
  if (c.state === 'open') {
    const s = ago(times?.freeSince);
    return { key: s == null ? 'sv_free' : 'sv_free_for', s, alert: s != null && s >= IDLE_ALERT_MIN * 60 && waitingFor > 0 ? 'idle' : null };
  }
  if (c.state === 'paused') return { key: 'sv_paused_for', s: ago(times?.stateSince), alert: null };
  if (c.state === 'closed' && times?.stateSince) return { key: 'sv_closed_since', at: times.stateSince, alert: null };
  return null;
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
  setText($('rc-title'), t('sv_recent'));
  renderServices();
  renderCounters();
  renderRecent();
  paintUpdated();
  setText($('report'), t('sv_report'));
}

function paintUpdated() {
  // Live: when the last change came (a quiet floor is not a frozen page). Offline: how old
  // what is shown is.
  const online = client?.state?.status === 'online';
  const text = online
    ? (lastEventAt ? t('sv_live_last', { time: formatTime(lastEventAt, lang, tz, true) }) : t('sv_live'))
    : (updatedAt ? t('updated', { time: formatTime(updatedAt, lang, tz, true) }) : '');
  setText($('updated'), text);
}

/** Counters open now for a service: the board's `open` when it has it. */
function openFor(sid, live) {
  if (typeof live?.open === 'number') return live.open;
  return board.counters.filter((c) => c.state === 'open'
    && site.counters.find((x) => x.id === c.id)?.services.includes(sid)).length;
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
    const who = longestWaiter(list, now);
    const longest = who?.s ?? null;
    const open = openFor(s.id, live);
    const stuck = board.ready && isStuck(waiting, open);
    // A service nobody took a ticket for today is not in the day's figures: zero, not unknown.
    const ops = stats ? (stats.services?.[s.id]?.operations ?? { tickets: 0, service_s: { n: 0 } }) : null;
    const late = longest != null && longest >= LATE_MIN * 60;
    const waited = longest == null ? t('none') : formatMinutesNearest(longest, t);
    return h('tr', { class: [late ? 's-late' : '', stuck ? 's-stuck' : ''].join(' ').trim() || null, dataset: { service: s.id } },
      h('th', { scope: 'row' }, serviceName(s.id),
        stuck ? h('span', { class: 's-stuck-note' }, t('sv_stuck', { n: waiting })) : null),
      h('td', { class: 'num-big s-waiting' }, waiting == null ? t('none') : String(waiting),
        // Set aside (parked): off the queue, not forgotten.
        live.parked > 0 ? h('span', { class: 's-parked muted' }, t('sv_parked', { n: live.parked })) : null),
      h('td', { class: 's-longest' }, who?.number ? t('sv_longest_who', { d: waited, number: who.number }) : waited),
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
  const now = Date.now() + skewMs;
  $('counters').replaceChildren(...known.map((c) => {
    const cur = c.current;
    const state = c.state ?? 'closed';
    const serves = site.counters.find((x) => x.id === c.id)?.services ?? [];
    const services = serves.map(serviceName).join(' · ');
    const waitingFor = serves.reduce((n, sid) => n + (board.services.find((x) => x.id === sid)?.waiting ?? queues[sid]?.length ?? 0), 0);
    const tm = board.ready ? counterTiming(c, ctrTimes[c.id], now, waitingFor) : null;
    const elapsed = !tm ? null : tm.at != null
      ? t(tm.key, { time: formatTime(tm.at, lang, tz) })
      : t(tm.key, { d: formatMinutesNearest(tm.s, t) });
    return h('li', { class: `card s-counter st-${state}${tm?.alert ? ` s-alert s-alert-${tm.alert}` : ''}`, dataset: { counter: c.id } },
      h('h3', {}, counterName(c),
        h('span', { class: `chip ${state === 'open' ? 'chip-ok' : state === 'paused' ? 'chip-warn' : ''}` },
          c.state ? t(`state_${state}`) : t('none'))),
      cur ? h('p', { class: 's-current num' }, cur.number) : h('p', { class: 'muted' }, t('sv_idle')),
      cur ? h('p', {}, [serviceName(cur.service), cur.status === 'serving' ? t('st_serving') : t('st_called'),
        cur.at ? t('sv_since', { time: formatTime(cur.at, lang, tz) }) : ''].filter(Boolean).join(' · ')) : null,
      elapsed ? h('p', { class: 's-elapsed' }, elapsed) : null,
      tm?.alert ? h('p', { class: 's-alert-note' }, t(tm.alert === 'idle' ? 'sv_alert_idle' : 'sv_alert_call')) : null,
      h('p', { class: 'muted' }, services));
  }));
}

/** The last calls (the board's `recent`) and the counter changes seen live, newest first. */
// Order of arrival: a call's time is the server's, a counter change's the page's (corrected
// by the server's clock, to about a second), so the two are ordered as they came, not by time.
const arrived = new Map();
let arrivals = 0;
const arrival = (key) => {
  if (!arrived.has(key)) arrived.set(key, (arrivals += 1));
  return arrived.get(key);
};

function renderRecent() {
  const calls = [...board.recent].reverse().map((r) => ({ at: Date.parse(r.at), key: r.recall ? 'sv_recent_recalled' : 'sv_recent_called',
    vars: { number: r.number, counter: counterName({ id: r.counter }) }, kind: 'call',
    seq: arrival(`call ${r.number} ${r.counter} ${r.at}`) }));
  const moves = changes.map((c) => ({ at: c.at, key: `sv_recent_${c.state}`, vars: { counter: counterName({ id: c.counter }) }, kind: c.state,
    seq: arrival(`state ${c.counter} ${c.at}`) }));
  const items = [...calls, ...moves].filter((x) => Number.isFinite(x.at)).sort((a, b) => b.seq - a.seq).slice(0, RECENT_SHOWN);
  const list = $('recent');
  if (!list) return;
  if (!items.length) {
    list.replaceChildren(h('li', { class: 'muted' }, t('sv_recent_none')));
    return;
  }
  list.replaceChildren(...items.map((x) => h('li', { class: `s-recent-${x.kind}` },
    h('time', { class: 'num muted' }, formatTime(x.at, lang, tz, true)), ' ', t(x.key, x.vars))));
}

/** What a board message changed in the counters' states, for the recent changes (noted as
 * it arrives, the page's clock corrected by the server's). The first snapshot, and one
 * after a gap (resync), say nothing about when. */
function noteCounters(before, after, wasReady, resync) {
  if (!wasReady || resync) return;
  const at = Date.now() + skewMs;
  for (const c of after) {
    const prev = before.find((x) => x.id === c.id);
    if (!prev || prev.state === c.state || !c.state) continue;
    changes.unshift({ counter: c.id, state: c.state, at });
    arrival(`state ${c.id} ${at}`);
    changes.length = Math.min(changes.length, RECENT_SHOWN);
  }
}

/** Since when each counter is in its state and stands free, as the board says (`since`,
 * `free_since`, server time; null: not known). */
function noteTimes() {
  const at = (iso) => { const ms = iso ? Date.parse(iso) : NaN; return Number.isFinite(ms) ? ms : null; };
  for (const c of board.counters) {
    ctrTimes[c.id] = { stateSince: at(c.since), freeSince: c.state === 'open' && !c.current ? at(c.free_since) : null };
  }
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
      if (msg.op === 'event') lastEventAt = Date.now() + skewMs;
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
// The site's boards and kiosks, online or not (GET /v1/sites/{site}/devices), every 30 s.
const devices = site && !boot.error ? mountDevices({ site, getLang: () => lang }) : null;

if (!site || boot.error) {
  errorScreen($('app'), t, boot.error ?? { code: 'unknown_site' });
} else {
  let paintChip = () => {};
  const audit = mountAudit({ site, getLang: () => lang });
  paintExpiry = mountLinkExpiry($('app'));
  mountLangSwitch($('lang'), lang0, (l) => {
    lang = l;
    t = layeredTranslator(STRINGS, l);
    paintChip();
    render();
    appts?.paint();
    hours?.paint();
    devices?.paint();
    audit.paint();
  });
  paintWords = () => {
    // The appointments' column heads are kept while the language is the same
    // (supervise-appts.js keys them by language alone): dropped here, they are redrawn.
    if ($('appt-head')) delete $('appt-head').dataset.key;
    appts?.paint();
    hours?.paint();
    devices?.paint();
    audit.paint();
  };
  render();
  client = new Client({ token: new URLSearchParams(location.search).get('token') });
  document.body.append(connectionBanner(client, () => t, { timeZone: tz }).el);
  paintChip = connectionChip($('conn-chip'), client, () => t);
  client.onState(() => paintUpdated());
  client.subscribe(`board:${site.id}`, (msg) => {
    if (msg.op === 'error') return errorScreen($('app'), t, msg);
    const before = board.counters;
    const wasReady = board.ready;
    board = reduce(board, msg);
    noteCounters(before, board.counters, wasReady, msg.op === 'snapshot');
    if (msg.op === 'event') lastEventAt = Date.now() + skewMs;
    if (msg.type === 'site' && msg.data?.site) applySite(msg.data.site, msg.data.waiting);
    // Back after a gap history could not fill: the snapshot has names, not who serves what.
    if (msg.op === 'snapshot' && msg.resync) reloadSite();
    updatedAt = Date.now();
    noteTimes();
    render();
    if (msg.op === 'event') statsSoon(); // called, recalled, a counter's state or ticket, ...
    return undefined;
  });
  followServices();
  $('report').addEventListener('click', downloadReport);
  client.start();
  loadStats();
  devices?.start();
  setInterval(loadStats, STATS_EVERY_MS);
  setInterval(render, TICK_MS); // waits and elapsed times grow while nothing happens
  window.switchboardSupervise = { get board() { return board; }, get queues() { return queues; }, get stats() { return stats; }, get statsAt() { return statsAt; }, ctrTimes, appts, audit, hours, devices, client };
}
