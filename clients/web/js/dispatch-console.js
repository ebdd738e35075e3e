// The dispatcher console (/dispatch/{region}): the region's open jobs grouped by status, the
// unassignable ones with their reason and a Retry (POST /v1/jobs/{id}/retry), the technicians
// (status, current job, age of the last GPS fix), and the region's KPIs: all live from the
// region's topic (`region:{id}`: a snapshot, then what changed). Utilisation moves with time
// alone: the topic sends the terms it runs on, and the tile is recomputed every few seconds
// (no KPI read). The job list is also read over HTTP once a minute, a safety net (a
// reconnection brings a fresh snapshot anyway).
import { Client } from './client.js';
import { formatEta, formatWindow, personName, serverClock, shortJob } from './dispatch.js';
import { foldRegion, gpsAge, groupJobs, kpiTiles } from './dispatch-console-state.js';
import { STRINGS } from './dispatch-console-strings.js';
import { formatTime, nameIn } from './i18n.js';
import { api, connectionBanner, connectionChip, errorScreen, h, language, langSwitch, layeredTranslator, readBoot, replaceChildren, setText, toaster, token } from './ui.js';

const boot = readBoot();
const lang0 = language(boot);
let lang = lang0.lang;
let t = layeredTranslator(STRINGS, lang);
const region = boot.region;
const regionId = boot.params?.region;
const tz = region?.timezone;
const now = serverClock(boot);
const $ = (id) => document.getElementById(id);
const READ_EVERY_MS = 60000; // the safety net's HTTP reads of the job list
const KPI_TICK_MS = 5000; // the utilisation tile, recomputed from its terms this often
// A 1,000-job batch still draws fast: each group shows its newest this many, and a button shows
// this many more (it showed its oldest 100 and "… and 195 more": a new job was nowhere).
const MAX_PER_GROUP = 100;

let jobs = null; // open jobs, as the region topic (or GET /v1/regions/{r}/jobs) gave them
let kpis = null;
let kpiAt = null;
let techs = new Map(); // id → {id, name, status, active_job, position}
let events = 0; // region messages so far: an HTTP read that raced one is not applied
let reads = 0; // HTTP reads of the job list (the safety net), for tests
const results = new Map(); // job id → its last Retry's answer: {ok, status} or {ok, code, message}
const shown = new Map(); // status → how many of its group's jobs the dispatcher opened (MAX_PER_GROUP, +n)
let client = null;
let toast = () => {};

function techName(id) {
  const v = techs.get(id);
  return v?.name ? personName(v.name, lang) : id ? id.split('.').pop() : t('dc_nobody');
}

function renderStatic() {
  setText($('dc-name'), nameIn(region?.name, lang) || regionId);
  setText($('dc-sub'), `${t('dc_title')} · ${regionId}`);
  document.title = `${nameIn(region?.name, lang) || regionId} · ${t('dc_title')}`;
  setText($('kpi-title'), t('dc_kpis'));
  setText($('jobs-title'), t('dc_jobs'));
  setText($('techs-title'), t('dc_techs'));
}

/** While the region topic is live the figures are as of now (utilisation computed for now
 *  from its terms); offline, as of the last message. */
function kpiTick() {
  if (document.body.dataset.conn === 'online' && kpis) { kpiAt = now(); renderKpis(); }
}

function renderKpis() {
  const tiles = kpiTiles(kpis, (n) => t('dc_min', { n }), kpiAt ?? now());
  replaceChildren($('kpis'), tiles.map(([id, key, value]) => h('li', { class: `dc-kpi k-${id}`, dataset: { kpi: id } },
    h('span', { class: 'dc-kpi-n num' }, value), h('span', { class: 'dc-kpi-label' }, t(key)))), JSON.stringify([tiles, lang]));
  setText($('kpi-at'), kpiAt ? t('dc_kpi_at', { time: formatTime(kpiAt, lang, tz, true) }) : '');
}

function retryText(r) {
  return r.ok ? t('dc_retry_ok', { status: t(`d_js_${r.status}`) }) : t('dc_retry_err', r);
}

function retryNote(id) {
  const r = results.get(id);
  return r ? h('p', { class: `dc-result ${r.ok ? 'ok' : 'bad'}`, role: 'status' }, retryText(r)) : null;
}

/** An unassignable job's reason in words (an unknown code as itself, never a raw key). */
function reasonText(reason) {
  if (!reason) return '—';
  const key = `dc_r_${reason}`;
  return t(key) === key ? reason : t(key);
}

function jobItem(j) {
  const unassignable = j.status === 'unassignable';
  const win = j.window ? formatWindow([j.window.start_ms, j.window.end_ms], lang, tz, now()) : t('dc_any_time');
  const facts = [
    [t('dc_customer'), j.customer ?? '—'],
    [t('dc_window'), win],
    [t('dc_tech'), j.technician ? techName(j.technician) : t('dc_nobody')],
    [t('dc_eta'), j.eta_ms && !unassignable ? formatEta(j.eta_ms, now(), lang, tz) : '—'],
  ];
  return h('li', { class: `dc-job js-${j.status}`, dataset: { job: j.id, status: j.status } },
    h('div', { class: 'dc-job-head' },
      h('strong', { class: 'num' }, t('dc_job_of', { ref: shortJob(j.id) })),
      h('span', { class: 'dc-addr' }, j.address ?? ''),
      unassignable ? h('button', { class: 'btn btn-primary dc-retry', type: 'button', dataset: { retry: j.id }, onclick: () => retry(j.id) }, t('dc_retry')) : null),
    h('dl', { class: 'dc-facts' }, facts.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', { dataset: { fact: k } }, v)))),
    unassignable ? h('p', { class: 'dc-why', dataset: { reason: j.reason ?? '' } }, `${t('dc_why')}: ${reasonText(j.reason)}`) : null,
    retryNote(j.id));
}

/** Open `n` more of a group's jobs; focus stays on the button (or the group's last job). */
function showMore(status) {
  shown.set(status, (shown.get(status) ?? MAX_PER_GROUP) + MAX_PER_GROUP);
  renderJobs();
  const more = document.querySelector(`[data-more="${CSS.escape(status)}"]`);
  (more ?? document.querySelector(`[data-group="${CSS.escape(status)}"] .dc-job:last-child`))?.focus?.();
}

function renderJobs() {
  if (!jobs) return;
  const groups = groupJobs(jobs);
  const body = groups.length ? groups.map(([status, oldestFirst]) => {
    const list = [...oldestFirst].reverse(); // newest first: what just came in is on top
    const limit = shown.get(status) ?? MAX_PER_GROUP;
    const rest = list.length - limit;
    return h('section', { class: `dc-group g-${status}`, dataset: { group: status } },
      h('h3', {}, h('span', { class: `chip js-${status}` }, t(`d_js_${status}`)), h('span', { class: 'num muted' }, ` ${list.length}`),
        list.length > 1 ? h('span', { class: 'muted dc-order' }, ` · ${t('dc_newest_first')}`) : null),
      h('ul', { class: 'dc-job-list' }, list.slice(0, limit).map(jobItem)),
      rest > 0 ? h('button', { type: 'button', class: 'btn dc-more', dataset: { more: status }, onclick: () => showMore(status) },
        t('dc_more', { k: Math.min(rest, MAX_PER_GROUP), n: rest })) : null);
  }) : [h('p', { class: 'muted' }, t('dc_no_jobs'))];
  // Re-rendered only on change (and once a minute for the ETAs), so a Retry keeps its focus.
  replaceChildren($('jobs'), body, JSON.stringify([jobs, [...results], [...shown], lang, [...techs.values()].map((v) => v.name), Math.floor(now() / 60000)]));
}

function renderTechs() {
  const list = [...techs.values()].sort((a, b) => String(a.id).localeCompare(String(b.id)));
  const items = list.map((v) => {
    const [key, n] = gpsAge(v.position?.t, now());
    return h('li', { class: `dc-tech ts-${v.status}`, dataset: { tech: v.id, status: v.status } },
      h('span', {}, h('strong', {}, personName(v.name, lang) || v.id), h('span', { class: 'muted dc-tech-id' }, ` ${v.id.split('.').pop()}`)),
      h('span', { class: `chip ts-${v.status}` }, t(`d_ts_${v.status}`)),
      h('span', { class: 'dc-tech-job' }, v.active_job ? t('dc_current', { ref: shortJob(v.active_job) }) : t('dc_idle')),
      h('span', { class: 'dc-gps muted num', dataset: { fix: v.position?.t ?? '' } }, t(key, { n })));
  });
  replaceChildren($('techs'), items.length ? items : [h('li', { class: 'muted' }, t('dc_no_techs'))],
    JSON.stringify([list, lang]));
  tickAges();
}

/** Each technician's "GPS n s ago", every second, in place: the fixes themselves come from
 *  the region topic within ~2 s (paced there), the list is redrawn only when they do. */
function tickAges() {
  for (const el of document.querySelectorAll('#techs .dc-gps')) {
    const [key, n] = gpsAge(el.dataset.fix ? Number(el.dataset.fix) : null, now());
    setText(el, t(key, { n }));
  }
}

function render() {
  renderKpis();
  renderJobs();
  renderTechs();
}

async function retry(id) {
  const btn = document.querySelector(`[data-retry="${CSS.escape(id)}"]`);
  if (btn) { btn.disabled = true; btn.textContent = t('dc_retrying'); }
  const r = await api(`/v1/jobs/${encodeURIComponent(id)}/retry`, { method: 'POST' });
  results.set(id, r.ok ? { ok: true, status: r.data?.status }
    : { ok: false, code: r.data?.code ?? r.status, message: r.data?.message ?? '' });
  // Also as a toast: a job that ended meanwhile (cancelled, taken) leaves the list, and its
  // note with it, at the next read.
  toast(`${t('dc_job_of', { ref: shortJob(id) })}: ${retryText(results.get(id))}`, r.ok ? 'ok' : 'error');
  await loadJobs();
}

function dropResults() {
  for (const id of results.keys()) if (!jobs.some((j) => j.id === id)) results.delete(id);
}

/** The safety net: the job list over HTTP (applied only if no region message came while it
 *  was read: that message is newer). */
async function loadJobs() {
  const seen = events;
  reads += 1;
  const r = await api(`/v1/regions/${encodeURIComponent(regionId)}/jobs`);
  if (r.ok && seen === events) {
    jobs = r.data.jobs;
    dropResults();
    renderJobs();
  } else if (r.status === 401 || r.status === 403) {
    errorScreen($('app'), t, r.data);
  }
}

/** One `region:` message: the snapshot replaces what the page holds, an event changes it. */
function onRegion(msg) {
  if (msg.op === 'error') {
    if (msg.code === 'forbidden' || msg.code === 'unknown_topic') errorScreen($('app'), t, msg);
    return;
  }
  const before = { jobs, techs, kpis };
  const after = foldRegion(msg.op === 'snapshot' ? null : before, msg);
  if (!after) return;
  events += 1;
  jobs = after.jobs;
  techs = after.techs;
  if (after.kpis && after.kpis !== before.kpis) { kpis = { ...kpis, ...after.kpis }; kpiAt = now(); }
  dropResults();
  render();
}

if (!region || boot.error || !regionId) {
  errorScreen($('app'), t, boot.error ?? { code: 'unknown_region' });
} else {
  const setLang = (l) => {
    lang = l;
    t = layeredTranslator(STRINGS, l);
    lang0.remember(l);
    document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
    $('lang').replaceChildren(langSwitch(lang, t, setLang));
    renderStatic();
    paintChip();
    render();
  };
  $('lang').replaceChildren(langSwitch(lang, t, setLang));
  renderStatic();
  client = new Client({ token });
  const banner = connectionBanner(client, () => t, { timeZone: tz });
  document.body.prepend(banner.el);
  toast = toaster(document.body);
  const paintChip = connectionChip($('dc-conn'), client, () => t);
  // The region's topic: a resume is always a fresh snapshot, so a reconnection catches up.
  client.subscribe(`region:${regionId}`, onRegion);
  client.start();
  const tick = () => setText($('clock'), formatTime(now(), lang, tz, true));
  tick();
  setInterval(tick, 1000);
  setInterval(loadJobs, READ_EVERY_MS);
  setInterval(kpiTick, KPI_TICK_MS);
  setInterval(tickAges, 1000);
  window.switchboardConsole = { get jobs() { return jobs; }, get techs() { return techs; }, get reads() { return reads; }, get events() { return events; }, results, client };
}
