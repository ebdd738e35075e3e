// The set-up page (/setup/{site}): the site's administrator edits the site (services, counters
// and the services each calls, shifts, waiting areas and their counters; anything else as JSON) and PUTs the whole document,
// then makes one link per device (POST /v1/tokens) with its QR code and a printable sheet,
// and revokes a device's links (POST /v1/revocations).
//
// The admin token never travels in a URL's query (access logs, history): it comes in the
// fragment (#token=…, which browsers do not send) or a paste field, is kept in this tab's
// sessionStorage, and goes with each request as `Authorization: Bearer`.
import { formatTime, nameIn, priorityName, translator } from './i18n.js';
import { opensWords, siteClosedWords } from './issuing-hours.js';
import { SETUP_STRINGS } from './setup-strings.js';
import { api, errorScreen, formatDateTime, h, language, mountLangSwitch, readBoot, setText } from './ui.js';
import { DEFAULT_VOCABULARY, LABELS, VOCABULARIES } from './vocabulary.js';

const boot = readBoot();
const siteId = boot.params?.site ?? '';
const TOKEN_KEY = 'sb.setup.token';
const $ = (id) => document.getElementById(id);
const lang0 = language(boot, { preferBrowser: true });
let lang = lang0.lang;
let shared = translator(lang);
const t = (key, vars = {}) => {
  const s = SETUP_STRINGS[lang]?.[key] ?? SETUP_STRINGS.en[key];
  return s == null ? shared(key, vars) : s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
};
const DEFAULT_CLASSES = ['emergency', 'priority', 'appointment', 'revisit', 'walk_in'];
const SHIFT = /^\s*([01]\d|2[0-3]):([0-5]\d)\s*[-–~]\s*([01]\d|2[0-3]):([0-5]\d)\s*$/;
const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;
// A new site closes its day at 03:00 (tickets left over, numbers back to 001, idle counters
// closed: docs/configuration.md day_close); an existing site keeps what it has.
const NEW_SITE_DAY_CLOSE = '03:00';
// Issuing hours (policy.hours): weekdays as the server names them, an interval's end may be
// 24:00, up to 8 intervals a day; a day turned on gets 08:00-17:00 to start from.
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const END_CLOCK = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_SPANS = 8;
const DEFAULT_SPAN = ['08:00', '17:00'];
const LANG_NAMES = { zh: '中文', en: 'English' };

let adminToken = null;
let claims = null; // the admin token's payload (subject, expiry), for the header only
let saved = null; // the site as the server last gave it (null: not created yet)
let live = {}; // counter id → {state, ticket}
const numbers = new Map(); // ticket id → its number (R003), for a busy counter's chip
let doc = null; // the admin's working copy: what Save sends
let placed = null; // where the server's refusal goes: {section, row, key, restore}
let refusal = null; // the server's error {code, message, details}
let rawBad = null; // the JSON text's parse error
let justSaved = false;
const shiftText = new WeakMap(); // counter → what the admin typed in its shifts field
const devices = []; // {key, kind, counter?, subject, minted?, error?, confirm?, revokedAt?}
let revocations = null;
let issued = null; // GET /v1/tokens?site=: the links made for this site (never the links)
let renewAsk = false; // "Renew all expiring" asked, awaiting its confirmation
let renewDone = null; // {n, failed}: what the last "Renew all expiring" did
let sites = []; // the server's site ids (GET /v1/sites)
let near = []; // the existing ids this (new) site's id is probably a typo of
let copiedFrom = null; // {site, booking}: the set-up this new site started from
let zoneInfo = null; // {zone, known, country} of the zone being chosen (GET /v1/zone-country)
let workerDown = false;
let hoursNow = null; // GET /v1/sites/{site}/hours after the last load or save
let hoursStash = null; // hours turned off on this page: turned on again, they come back
const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
const WORKER_CHECK_MS = 30000;

// -- the token ---------------------------------------------------------------------------------

function takeToken() {
  const frag = new URLSearchParams(location.hash.slice(1));
  const given = frag.get('token');
  if (given) {
    try { sessionStorage.setItem(TOKEN_KEY, given); } catch { /* private mode: memory only */ }
    history.replaceState(null, '', location.pathname + location.search); // out of sight
    return given;
  }
  try { return sessionStorage.getItem(TOKEN_KEY); } catch { return null; }
}

function forgetToken() {
  try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* ignore */ }
  adminToken = null;
  claims = null;
}

/** The token's claims, unverified (the server verifies): for "Admin it-setup · until …". */
function decodeClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
  } catch {
    return null;
  }
}

const call = (path, opts = {}) => api(path, { ...opts, bearer: adminToken });

async function signIn(token) {
  adminToken = token;
  claims = decodeClaims(token);
  setText($('signin-error'), t('st_checking'));
  const r = await call(`/v1/sites?near=${encodeURIComponent(siteId)}`);
  if (!r.ok) {
    const key = r.status === 401 ? 'st_err_token_unauthorized' : r.status === 403 ? 'st_err_token_forbidden' : 'err_network';
    forgetToken();
    showSignIn(t(key));
    return;
  }
  try { sessionStorage.setItem(TOKEN_KEY, token); } catch { /* ignore */ }
  setText($('signin-error'), '');
  $('signin').hidden = true;
  $('main').hidden = false;
  $('signout').hidden = false;
  sites = r.data.sites ?? [];
  near = r.data.near ?? [];
  checkWorker();
  await loadSite();
  await loadRevocations();
  await loadIssued();
}

function showSignIn(error = '') {
  $('main').hidden = true;
  $('signout').hidden = true;
  $('signin').hidden = false;
  setText($('signin-error'), error);
  renderHead();
  $('signin-token').focus();
}

// -- the site document -----------------------------------------------------------------------

/** The server's site without what is not configuration (id, each counter's state). */
function configOf(site) {
  const { id, ...cfg } = site; // eslint-disable-line no-unused-vars
  live = {};
  cfg.counters = (cfg.counters ?? []).map(({ state, ticket, ...c }) => {
    live[c.id] = { state, ticket };
    return c;
  });
  return cfg;
}

const copy = (x) => JSON.parse(JSON.stringify(x));

async function loadSite() {
  if (refusal && placed?.section === 'save') { refusal = null; placed = null; }
  const r = await call(`/v1/sites/${encodeURIComponent(siteId)}`);
  const keep = doc !== null && dirty(); // signed in again after a refusal: the edits stay
  if (r.ok) {
    saved = configOf(r.data);
    if (!keep) doc = copy(saved);
  } else if (r.data?.code === 'unknown_site') {
    saved = null;
    if (keep) return render();
    // No zone until the admin chooses one: this computer's (a PC set to UTC, or to the
    // admin's own city) is offered, never taken silently.
    doc = { name: { zh: siteId, en: siteId }, timezone: '', languages: ['zh', 'en'],
      policy: { day_close: NEW_SITE_DAY_CLOSE }, services: [], counters: [] };
  } else {
    refusal = r.data ?? { code: 'network', message: '' };
    placed = { section: 'save' };
    doc = doc ?? { name: siteId, timezone: 'Asia/Shanghai', languages: ['zh', 'en'], services: [], counters: [] };
  }
  seedDevices();
  render();
  loadNumbers();
  lookUpZone();
  loadHoursNow();
}

/** The country the chosen zone implies (the country field's default), and whether the
 * tz database has it. */
async function lookUpZone() {
  const zone = doc?.timezone ?? '';
  if (!zone) { zoneInfo = null; return; }
  if (zoneInfo?.zone === zone) return;
  const r = await call(`/v1/zone-country?zone=${encodeURIComponent(zone)}`);
  if (r.ok && (doc?.timezone ?? '') === zone) {
    zoneInfo = r.data;
    if (!$('main').hidden) keepFocus(renderSiteFields);
  }
}

/** Whether the server's worker runs (day close, reminders, texts): a banner while not. */
async function checkWorker() {
  let down = false;
  try {
    const r = await fetch('/readyz?worker=1', { cache: 'no-store' });
    down = (await r.json())?.status === 'worker_down';
  } catch { /* unreachable: the page's other requests say so */ }
  workerDown = down;
  renderWorker();
}

function renderWorker() {
  $('worker-down').hidden = !workerDown;
  setText($('worker-down'), workerDown ? t('st_worker_down') : '');
}

/** Every site on the server, each a link to its set-up page; this one marked. */
function renderSites() {
  setText($('sites-title'), t('st_sites_title'));
  const items = sites.map((id) => h('li', {}, id === siteId
    ? h('a', { href: `/setup/${encodeURIComponent(id)}`, 'aria-current': 'page' }, id, ` ${t('st_site_here')}`)
    : h('a', { href: `/setup/${encodeURIComponent(id)}` }, id)));
  $('sites-list').replaceChildren(...(items.length ? items : [h('li', { class: 'muted' }, t('st_sites_none'))]));
}

/** A new site: the existing ids its id is close to, and a start from another's set-up. */
function renderNewSite(isNew) {
  $('new-site').hidden = !isNew;
  if (!isNew) return;
  setText($('new-site-text'), t('st_new_site', { site: siteId }));
  const twin = near.find((id) => id.toLowerCase() === siteId.toLowerCase());
  $('near-sites').replaceChildren(
    twin ? h('p', { class: 'st-warn', role: 'alert' }, t('st_case_twin', { existing: twin, site: siteId })) : null,
    near.length ? h('p', {}, t('st_near', { site: siteId })) : null,
    near.length ? h('ul', {}, ...near.map((id) => h('li', {}, h('a', { href: `/setup/${encodeURIComponent(id)}` }, id)))) : null);
  const others = sites.filter((id) => id !== siteId);
  $('copy-box').hidden = !others.length;
  setText($('copy-label'), t('st_copy_from'));
  setText($('copy-booking-label'), t('st_copy_booking'));
  setText($('copy-go'), t('st_copy_go'));
  const chosen = $('copy-from').value;
  $('copy-from').replaceChildren(h('option', { value: '' }, t('st_copy_none')),
    ...others.map((id) => h('option', { value: id, selected: id === (chosen || copiedFrom?.site) }, id)));
}

/** The set-up of another site as this new one's working copy (saved only by Save): not
 * its name, its id, its version or its counters' live state. */
async function copySetup() {
  const from = $('copy-from').value;
  if (!from) return;
  const r = await call(`/v1/sites/${encodeURIComponent(from)}`);
  if (!r.ok) {
    setText($('copy-status'), t('st_copy_failed', { site: from, message: r.data?.message ?? t('err_network') }));
    return;
  }
  const { version, unserved, ...cfg } = configOf(r.data); // eslint-disable-line no-unused-vars
  live = {};
  doc = { ...cfg, name: { zh: siteId, en: siteId } };
  copiedFrom = { site: from, booking: $('copy-booking').checked };
  zoneInfo = null;
  setText($('copy-status'), `${t('st_copied_from', { site: from })}${copiedFrom.booking ? ` ${t('st_copied_booking')}` : ''}`);
  changed({ form: true });
  lookUpZone();
  $('site-name-zh').focus();
}

/** After the new site's first save: the booking schedule of the site it was copied from. */
async function copyBooking() {
  const from = copiedFrom.site;
  copiedFrom = null;
  const got = await call(`/v1/sites/${encodeURIComponent(from)}/booking`);
  const put = got.ok ? await call(`/v1/sites/${encodeURIComponent(siteId)}/booking`, { method: 'PUT', body: got.data.schedule }) : got;
  setText($('save-status'), put.ok ? t('st_booking_copied', { site: from })
    : t('st_booking_copy_failed', { site: from, message: put.data?.message ?? t('err_network') }));
}

function renderDelete() {
  const box = $('delete-box');
  box.hidden = saved === null;
  if (box.hidden) return;
  setText($('sec-delete'), t('st_sec_delete'));
  setText($('delete-help'), t('st_delete_help'));
  setText($('delete-site'), t('st_delete', { site: siteId }));
  setText($('delete-yes'), t('st_delete_confirm', { site: siteId }));
  setText($('delete-no'), t('st_cancel'));
}

function confirmDelete(on) {
  $('delete-site').hidden = on;
  $('delete-yes').hidden = !on;
  $('delete-no').hidden = !on;
  setText($('delete-status'), '');
  $(on ? 'delete-yes' : 'delete-site').focus();
}

async function deleteSite() {
  const r = await call(`/v1/sites/${encodeURIComponent(siteId)}`, { method: 'DELETE' });
  confirmDelete(false);
  if (!r.ok) {
    const inUse = r.data?.code === 'site_in_use';
    setText($('delete-status'), inUse ? `${t('st_delete_in_use', { site: siteId })} ${r.data.message}`
      : `${r.data?.code ?? 'network'}: ${r.data?.message ?? t('err_network')}`);
    return;
  }
  sites = sites.filter((id) => id !== siteId);
  saved = null;
  doc = null;
  devices.length = 0;
  await loadSite();
  setText($('new-site-text'), `${t('st_deleted', { site: siteId })} ${t('st_new_site', { site: siteId })}`);
  $('new-site-text').setAttribute('tabindex', '-1');
  $('new-site-text').focus();
}

/** The numbers (R003) of the tickets counters are serving: the site only names their ids. */
async function loadNumbers() {
  const ids = [...new Set(Object.values(live).map((s) => s.ticket).filter((id) => id && !numbers.has(id)))];
  if (!ids.length) return;
  const got = await Promise.all(ids.map((id) => call(`/v1/tickets/${encodeURIComponent(id)}`)));
  got.forEach((r, i) => { if (r.ok && r.data?.number) numbers.set(ids[i], r.data.number); });
  if (!$('main').hidden && doc) keepFocus(renderCounters);
}

/** Where device links start: the server's public address when it has one
 * (SWITCHBOARD_PUBLIC_URL), else the address this page was opened at. */
export function linkBase(publicUrl, loc) {
  return publicUrl ? String(publicUrl).replace(/\/+$/, '') : loc.origin;
}

/** Whether `hostname` is this machine only (no screen or phone elsewhere reaches it). */
export function isLoopback(hostname) {
  const host = String(hostname).replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** What Save sends: the working copy, each counter's weights kept to services it serves. */
export function cleanDoc(d) {
  const out = copy(d);
  for (const c of out.counters ?? []) {
    if (c.weights) {
      for (const s of Object.keys(c.weights)) if (!c.services.includes(s)) delete c.weights[s];
      if (!Object.keys(c.weights).length) delete c.weights;
    }
    if (Array.isArray(c.shifts) && !c.shifts.length) delete c.shifts;
  }
  if (Array.isArray(out.areas) && !out.areas.length) delete out.areas; // as the server omits it
  const hours = out.policy?.hours;
  if (hours && typeof hours === 'object') { // empty lists and maps: left out, as the server does
    if (Array.isArray(hours.closed) && !hours.closed.length) delete hours.closed;
    if (hours.services && typeof hours.services === 'object' && !Object.keys(hours.services).length) delete hours.services;
  }
  return out;
}

const dirty = () => JSON.stringify(cleanDoc(doc)) !== JSON.stringify(saved ? cleanDoc(saved) : null);

/** "08:00-12:00, 13:30-17:30" → [["08:00","12:00"], ["13:30","17:30"]]; null if not that. */
export function parseShifts(text) {
  const parts = text.split(/[,，;；\n]/).map((p) => p.trim()).filter(Boolean);
  const out = [];
  for (const p of parts) {
    const m = SHIFT.exec(p);
    if (!m) return null;
    out.push([`${m[1]}:${m[2]}`, `${m[3]}:${m[4]}`]);
  }
  return out;
}

const shiftsText = (c) => shiftText.get(c) ?? (c.shifts ?? []).map(([a, b]) => `${a}-${b}`).join(', ');

/** A name field's text in `l` (a name is one string or {lang: text}). */
function nameText(name, l) {
  if (name == null) return '';
  if (typeof name === 'string') return l === (doc.languages?.[0] ?? 'zh') ? name : '';
  return name[l] ?? '';
}

function setName(obj, l, value) {
  // A new row's name is '' (no language yet): not {zh: ''}, which the server refuses.
  const name = typeof obj.name === 'string' ? (obj.name ? { [doc.languages?.[0] ?? 'zh']: obj.name } : {}) : { ...(obj.name ?? {}) };
  if (value.trim()) name[l] = value.trim();
  else delete name[l];
  obj.name = Object.keys(name).length ? name : '';
}

/**
 * Where the server's refusal belongs: a row's field ($.services[2].prefix), a section
 * (duplicate ids, a service still in use: with the removed item to put back), the site's
 * own fields, or the save bar.
 */
export function placeError(err, before, after) {
  const msg = String(err?.message ?? '');
  const field = err?.details?.field ?? '';
  const at = /\$\.(services|counters|areas)\[(\d+)\](?:\.(\w+))?/.exec(msg);
  if (at) {
    const shown = { services: ['id', 'name', 'prefix'], counters: ['id', 'name', 'services', 'shifts'], areas: ['id', 'name', 'counters'] }[at[1]];
    return { section: at[1], row: Number(at[2]), key: shown.includes(at[3]) ? at[3] : null };
  }
  if (/\$\.policy\.hours\b/.test(msg) || field.startsWith('policy.hours')) {
    return { section: 'hours', key: hoursField(err, after?.policy?.hours) };
  }
  const top = /\$\.(name|timezone|country|policy\.day_close|vocabulary)\b/.exec(msg)
    || (['timezone', 'country', 'vocabulary'].includes(field) ? [null, field] : null);
  if (top) return { section: 'site', key: top[1].replace('policy.', '') };
  const gone = (kind, id) => (before?.[kind] ?? []).some((x) => x.id === id) && !(after?.[kind] ?? []).some((x) => x.id === id);
  if (err?.code === 'site_changed' || err?.code === 'site_id_case') return { section: 'save' };
  if (err?.code === 'service_in_use') {
    const id = /service (\S+)/.exec(msg)?.[1];
    return { section: 'services', restore: gone('services', id) ? id : null };
  }
  if (err?.code === 'counter_busy') {
    const id = /counter (\S+)/.exec(msg)?.[1];
    return { section: 'counters', restore: gone('counters', id) ? id : null };
  }
  if (field === 'areas') {
    // details.area names the area (a duplicate id: its second row), details.reason what is wrong.
    const rows = (after?.areas ?? []).map((a, i) => (a.id === err.details.area ? i : -1)).filter((i) => i >= 0);
    const row = err.details.reason === 'duplicate_area' ? rows[1] ?? rows[0] : rows[0];
    const key = { unknown_counter: 'counters', duplicate_area: 'id', duplicate_counter: 'counters' }[err.details.reason] ?? null;
    return row != null ? { section: 'areas', row, key } : { section: 'areas' };
  }
  if (field.startsWith('services')) return { section: 'services' };
  if (field.startsWith('counters')) {
    const id = /counter '([^']+)'/.exec(msg)?.[1];
    const row = (after?.counters ?? []).findIndex((c) => c.id === id);
    return row >= 0 ? { section: 'counters', row, key: 'services' } : { section: 'counters' };
  }
  return { section: 'raw' };
}

async function save(ev) {
  ev?.preventDefault();
  if (rawBad) return;
  const bad = localProblem();
  if (bad) {
    refusal = { code: 'bad_request', message: bad.message };
    placed = bad.place;
    render();
    focusError();
    return;
  }
  const body = cleanDoc(doc);
  $('save').disabled = true;
  setText($('save-status'), t('st_saving'));
  const r = await call(`/v1/sites/${encodeURIComponent(siteId)}`, { method: 'PUT', body });
  $('save').disabled = false;
  if (r.ok) {
    refusal = null;
    placed = null;
    saved = configOf(r.data);
    doc = copy(saved);
    justSaved = true;
    if (!sites.includes(siteId)) sites = [...sites, siteId].sort();
    seedDevices();
    render();
    loadNumbers();
    await loadHoursNow();
    if (copiedFrom?.booking) await copyBooking();
    copiedFrom = null;
    return;
  }
  // Refused: the working copy stays as it is; the error goes next to what it is about.
  refusal = r.data ?? { code: 'network', message: t('err_network') };
  if (refusal.code === 'site_changed') {
    // Another admin saved since this page read the site: say so; saving again (with their
    // version) replaces their changes knowingly, reloading shows them (and drops these).
    refusal = { ...refusal, message: t('st_site_changed') };
    doc.version = refusal.details?.current ?? doc.version;
  }
  placed = r.status === 0 || r.status === 401 || r.status === 403 ? { section: 'save' } : placeError(refusal, saved, body);
  render();
  if (r.status === 401) { // expired or revoked: sign in again; the edits wait in this tab
    forgetToken();
    showSignIn(t('st_err_token_unauthorized'));
    return;
  }
  focusError();
}

/** Checks the page can make before asking (the server checks everything again). */
function localProblem() {
  if (!doc.timezone) return { message: t('st_tz_needed'), place: { section: 'site', key: 'timezone' } };
  if (zoneInfo?.zone === doc.timezone && !zoneInfo.known) {
    return { message: t('st_tz_unknown'), place: { section: 'site', key: 'timezone' } };
  }
  if (doc.country != null && !/^[A-Z]{2}$/.test(doc.country)) {
    return { message: t('st_rule_country'), place: { section: 'site', key: 'country' } };
  }
  const close = doc.policy?.day_close;
  if (close != null && !CLOCK.test(close)) {
    return { message: t('st_rule_day_close'), place: { section: 'site', key: 'day_close' } };
  }
  for (const [i, c] of (doc.counters ?? []).entries()) {
    if (shiftText.has(c) && parseShifts(shiftText.get(c)) === null) {
      return { message: t('st_shifts_bad'), place: { section: 'counters', row: i, key: 'shifts' } };
    }
  }
  const hours = hoursProblem(doc.policy?.hours, (doc.services ?? []).map((s) => s.id));
  if (hours) return { message: t(hours.key, hours.vars), place: { section: 'hours', key: hours.id } };
  for (const [i, a] of (doc.areas ?? []).entries()) {
    if (!a.counters?.length) {
      return { message: t('st_area_no_counters', { id: a.id }), place: { section: 'areas', row: i, key: 'counters' } };
    }
  }
  return null;
}

/** Keyboard focus to what the refusal is about: its field, else its section's message. */
function focusError() {
  const el = document.querySelector('#site-form [aria-invalid="true"]')
    ?? document.querySelector('#services-error:not(:empty), #counters-error:not(:empty), #areas-error:not(:empty), #hours-error:not(:empty), #raw-error:not(:empty)')
    ?? $('save-error');
  if (!el.matches('input, textarea, select')) el.setAttribute('tabindex', '-1');
  el.focus();
}

function changed({ form = false, raw = true } = {}) {
  justSaved = false;
  if (raw) syncRaw();
  if (form) renderForm();
  renderSaveBar();
}

// -- rendering ---------------------------------------------------------------------------------

function render() {
  renderHead();
  if ($('main').hidden) return;
  renderWorker();
  renderSites();
  renderNewSite(saved === null && doc !== null);
  renderDelete();
  for (const [id, key] of [['sec-site', 'st_sec_site'], ['sec-services', 'st_sec_services'], ['services-help', 'st_services_help'],
    ['add-service', 'st_add_service'], ['sec-counters', 'st_sec_counters'], ['counters-help', 'st_counters_help'],
    ['add-counter', 'st_add_counter'], ['sec-areas', 'st_sec_areas'], ['areas-help', 'st_areas_help'], ['add-area', 'st_add_area'],
    ['add-area-note', 'st_area_needs_counters'], ['sec-hours', 'st_sec_hours'], ['hours-help', 'st_hours_help'], ['sec-classes', 'st_sec_classes'], ['sec-raw', 'st_sec_raw'], ['raw-help', 'st_raw_help'],
    ['raw-label', 'st_sec_raw'], ['save', 'st_save'], ['sec-devices', 'st_sec_devices'], ['devices-help', 'st_devices_help'],
    ['devices-unsaved', 'st_devices_unsaved'], ['add-board', 'st_add_board'], ['add-kiosk', 'st_add_kiosk'],
    ['add-supervise', 'st_add_supervise'], ['add-book', 'st_add_book'], ['print', 'st_print'], ['sec-revoked', 'st_sec_revoked'],
    ['revoke-label', 'st_revoke_other'], ['revoke-go', 'st_revoke']]) setText($(id), t(key));
  renderForm();
  syncRaw();
  renderSaveBar();
  renderDevices();
  renderRevocations();
}

function renderHead() {
  const name = doc ? nameIn(doc.name, lang) : '';
  document.title = `${t('st_title')} · ${name || siteId}`;
  setText($('title'), t('st_title'));
  setText($('site-name'), name ? `${name} (${siteId})` : siteId);
  setText($('who'), claims && adminToken ? t('st_signed_in', { subject: claims.sub ?? '?', time: when(claims.exp) }) : '');
  setText($('signout'), t('st_signout'));
  setText($('signin-title'), t('st_signin_title'));
  setText($('signin-help'), t('st_signin_help'));
  setText($('signin-label'), t('st_token_label'));
  setText($('signin-go'), t('st_signin'));
}

// Times on this page are the site's (as saved; a new site's: the zone being chosen, else
// this computer's), not the device's, as on its consoles and boards, and name their zone.
const when = (epochS) => {
  if (!epochS) return '';
  const zone = saved?.timezone || doc?.timezone || BROWSER_ZONE;
  return `${formatDateTime(epochS * 1000, lang, zone, { dateStyle: 'medium', timeStyle: 'short' })} (${zone})`;
};

/** Keep keyboard focus on the same field when a list is drawn again. */
function keepFocus(draw) {
  const id = document.activeElement?.id;
  const pos = document.activeElement?.selectionStart;
  draw();
  if (id && document.activeElement?.id !== id) {
    const el = document.getElementById(id);
    if (el) {
      el.focus();
      if (pos != null && typeof el.setSelectionRange === 'function' && el.type === 'text') el.setSelectionRange(pos, pos);
    }
  }
}

/** The refusal if it is about this section, row (index) and field (null: the whole row). */
function errorFor(section, row = null, key = null) {
  if (!refusal || placed?.section !== section || (placed.row ?? null) !== row) return null;
  return (placed.key ?? null) === key ? refusal : null;
}

// What a field must be, said before the server's own words when it refuses one.
const RULES = { prefix: 'st_rule_prefix', id: 'st_rule_id', zh: 'st_rule_name', shifts: 'st_shifts_bad', close: 'st_rule_day_close',
  country: 'st_rule_country' };

/** A labelled text field; the refusal that is about it follows it, across its row. */
function field(id, label, value, onInput, err, attrs = {}) {
  const errId = `${id}-err`;
  const rule = RULES[id.split('-').pop()];
  const says = err ? [rule && err.message !== t(rule) ? t(rule) : null, `${err.code}: ${err.message}`].filter(Boolean).join(' ') : '';
  return [h('div', { class: 'st-field' },
    h('label', { for: id }, label),
    h('input', { id, type: 'text', value, autocomplete: 'off', spellcheck: 'false', ...attrs,
      'aria-invalid': err ? 'true' : null,
      'aria-describedby': [err ? errId : null, attrs['aria-describedby']].filter(Boolean).join(' ') || null,
      oninput: (e) => onInput(e.target.value) })),
  err ? h('p', { class: 'st-error st-field-error', id: errId }, says) : null];
}

function renderForm() {
  keepFocus(() => {
    renderSiteFields();
    renderServices();
    renderCounters();
    renderAreas();
    renderHours();
    renderClasses();
  });
}

function renderSiteFields() {
  // field() gives [the field, its error or null]: flattened, or the card showed the
  // arrays as text ("[object HTMLDivElement],…") and the site's name and zone could not be set.
  $('site-fields').replaceChildren(...[
    field('site-name-zh', t('st_name_zh'), nameText(doc.name, 'zh'), (v) => { setName(doc, 'zh', v); renderHead(); changed(); },
      errorFor('site', null, 'name')),
    field('site-name-en', t('st_name_en'), nameText(doc.name, 'en'), (v) => { setName(doc, 'en', v); renderHead(); changed(); }),
    ...zoneFields(),
    field('site-close', t('st_day_close'), doc.policy?.day_close ?? '', (v) => {
      doc.policy = { ...(doc.policy ?? {}), day_close: v.trim() || null };
      changed();
    }, errorFor('site', null, 'day_close'), { placeholder: '03:00', maxlength: 5, class: 'st-short', 'aria-describedby': 'site-close-help' }),
    h('p', { id: 'site-close-help', class: 'muted st-help st-wide' }, t('st_day_close_help')),
    vocabularyField(),
    h('p', { id: 'site-vocabulary-help', class: 'muted st-help st-wide' }, t('st_vocabulary_help')),
  ].flat().filter(Boolean));
}

/** The time zone, chosen from the tz database's (a list to pick from, nothing filled in
 * for a new site: this computer's is offered as a button), and the country national phone
 * numbers are read in (empty: the zone's, said as the hint). */
function zoneFields() {
  const list = $('tz-list');
  if (!list.childElementCount && typeof Intl.supportedValuesOf === 'function') {
    list.replaceChildren(...Intl.supportedValuesOf('timeZone').map((z) => h('option', { value: z })));
  }
  const zone = doc.timezone ?? '';
  const info = zoneInfo?.zone === zone ? zoneInfo : null;
  const implied = info?.country ?? null;
  const says = !zone ? t('st_tz_needed') : info && !info.known ? t('st_tz_unknown')
    : info ? (implied ? t('st_tz_country', { country: implied }) : t('st_tz_no_country')) : '';
  const setZone = (v) => { doc.timezone = v.trim(); changed(); lookUpZone(); };
  return [
    field('site-tz', t('st_timezone'), zone, setZone, errorFor('site', null, 'timezone'),
      { placeholder: 'Asia/Shanghai', list: 'tz-list', 'aria-describedby': 'site-tz-help', onchange: () => keepFocus(renderSiteFields) }),
    h('div', { class: 'st-wide' },
      h('p', { id: 'site-tz-help', class: 'muted st-help' }, `${t('st_tz_help')} ${says}`),
      BROWSER_ZONE && zone !== BROWSER_ZONE
        ? h('button', { type: 'button', id: 'site-tz-browser', class: 'btn btn-ghost',
          onclick: () => { setZone(BROWSER_ZONE); keepFocus(renderSiteFields); } }, t('st_tz_use_browser', { zone: BROWSER_ZONE }))
        : null),
    field('site-country', t('st_country'), doc.country ?? '', (v) => {
      const c = v.trim().toUpperCase();
      if (c) doc.country = c;
      else delete doc.country;
      changed();
    }, errorFor('site', null, 'country'), { placeholder: implied ?? '', maxlength: 2, class: 'st-short', 'aria-describedby': 'site-country-help' }),
    h('p', { id: 'site-country-help', class: 'muted st-help st-wide' },
      implied || !info ? t('st_country_help', { country: implied ?? '…' }) : t('st_country_help_none')),
  ];
}

/** The site's words (vocabulary.js): the default is left out of the document, as the
 * server leaves it out, so an untouched site saves unchanged. */
function vocabularyField() {
  const err = errorFor('site', null, 'vocabulary');
  const now = doc.vocabulary ?? DEFAULT_VOCABULARY;
  const known = VOCABULARIES.includes(now) ? VOCABULARIES : [...VOCABULARIES, now];
  return [h('div', { class: 'st-field st-vocabulary' },
    h('label', { for: 'site-vocabulary' }, t('st_vocabulary')),
    h('select', { id: 'site-vocabulary', 'aria-describedby': ['site-vocabulary-help', err ? 'site-vocabulary-err' : null].filter(Boolean).join(' '),
      'aria-invalid': err ? 'true' : null,
      onchange: (e) => {
        if (e.target.value === DEFAULT_VOCABULARY) delete doc.vocabulary;
        else doc.vocabulary = e.target.value;
        changed();
      } },
    ...known.map((v) => h('option', { value: v, selected: v === now }, LABELS[v]?.[lang] ?? v)))),
  err ? h('p', { class: 'st-error st-field-error', id: 'site-vocabulary-err' }, `${err.code}: ${err.message}`) : null];
}

function sectionError(section) {
  const el = $(`${section}-error`);
  const err = errorFor(section, null);
  if (!err) return el.replaceChildren();
  const restore = placed.restore;
  return el.replaceChildren(h('p', {}, `${err.code}: ${err.message}`),
    restore ? h('button', { type: 'button', class: 'btn', onclick: () => putBack(section, restore) }, t('st_restore', { id: restore })) : null);
}

/** Put a removed service or counter back as it was saved (a refusal offers it). */
function putBack(section, id) {
  const item = saved?.[section]?.find((x) => x.id === id);
  if (!item) return;
  const at = saved[section].indexOf(item);
  doc[section].splice(Math.min(at, doc[section].length), 0, copy(item));
  if (section === 'services') {
    for (const c of saved.counters) {
      const mine = doc.counters.find((x) => x.id === c.id);
      if (mine && c.services.includes(id) && !mine.services.includes(id)) mine.services.push(id);
    }
  }
  if (section === 'counters') {
    for (const a of saved.areas ?? []) {
      const mine = doc.areas?.find((x) => x.id === a.id);
      if (mine && a.counters.includes(id) && !mine.counters.includes(id)) mine.counters.push(id);
    }
  }
  refusal = null;
  placed = null;
  changed({ form: true });
  $(`${section === 'services' ? 'svc' : 'ctr'}-${doc[section].findIndex((x) => x.id === id)}-id`)?.focus();
}

function renderServices() {
  sectionError('services');
  const isSaved = (id) => saved?.services?.some((s) => s.id === id);
  $('services').replaceChildren(...doc.services.map((s, i) => {
    const label = nameIn(s.name, lang) || s.id;
    return h('li', { class: 'st-row', dataset: { service: s.id } },
      field(`svc-${i}-id`, t('st_id'), s.id, (v) => renameService(s, v.trim()), errorFor('services', i, 'id'),
        { readonly: isSaved(s.id) ? true : null, maxlength: 64 }),
      field(`svc-${i}-zh`, t('st_name_zh'), nameText(s.name, 'zh'), (v) => { setName(s, 'zh', v); changed(); }, errorFor('services', i, 'name')),
      field(`svc-${i}-en`, t('st_name_en'), nameText(s.name, 'en'), (v) => { setName(s, 'en', v); changed(); }),
      field(`svc-${i}-prefix`, t('st_prefix'), s.prefix ?? '', (v) => { s.prefix = v.trim().toUpperCase(); changed(); },
        errorFor('services', i, 'prefix'), { maxlength: 3, class: 'st-short' }),
      h('div', { class: 'st-row-end' },
        errorFor('services', i) ? h('p', { class: 'st-error' }, `${refusal.code}: ${refusal.message}`) : null,
        h('button', { type: 'button', class: 'btn btn-danger', 'aria-label': t('st_remove_named', { name: label }),
          onclick: () => removeService(i) }, t('st_remove'))));
  }));
}

function renameService(s, id) {
  const old = s.id;
  s.id = id;
  for (const c of doc.counters) c.services = c.services.map((x) => (x === old ? id : x));
  const own = doc.policy?.hours?.services;
  if (own?.[old] && old !== id) { // its hours follow it (keys kept in order)
    doc.policy.hours.services = Object.fromEntries(Object.entries(own).map(([k, v]) => [k === old ? id : k, v]));
  }
  changed();
  keepFocus(renderHours);
  keepFocus(renderCounters);
}

function removeService(i) {
  const [gone] = doc.services.splice(i, 1);
  for (const c of doc.counters) c.services = c.services.filter((x) => x !== gone.id);
  const own = doc.policy?.hours?.services;
  if (own && gone.id in own) { // its own hours go with it
    delete own[gone.id];
    if (!Object.keys(own).length) delete doc.policy.hours.services;
  }
  changed({ form: true });
  ($(`svc-${Math.min(i, doc.services.length - 1)}-zh`) ?? $('add-service')).focus();
}

function addService() {
  const used = new Set(doc.services.map((s) => s.prefix));
  const prefix = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'].find((l) => !used.has(l)) ?? '';
  let n = doc.services.length + 1;
  while (doc.services.some((s) => s.id === `service${n}`)) n += 1;
  doc.services.push({ id: `service${n}`, name: '', prefix });
  changed({ form: true });
  $(`svc-${doc.services.length - 1}-zh`).focus();
}

function renderCounters() {
  sectionError('counters');
  const isSaved = (id) => saved?.counters?.some((c) => c.id === id);
  $('counters').replaceChildren(...doc.counters.map((c, i) => {
    const label = nameIn(c.name, lang) || c.id;
    const st = live[c.id];
    const svcErr = errorFor('counters', i, 'services');
    const state = st?.state ? shared(`state_${st.state}`) : null;
    return h('li', { class: 'st-row st-counter', dataset: { counter: c.id } },
      field(`ctr-${i}-id`, t('st_id'), c.id, (v) => renameCounter(c, v.trim()), errorFor('counters', i, 'id'),
        { readonly: isSaved(c.id) ? true : null, maxlength: 64 }),
      field(`ctr-${i}-zh`, t('st_name_zh'), nameText(c.name, 'zh'), (v) => { setName(c, 'zh', v); changed(); }, errorFor('counters', i, 'name')),
      field(`ctr-${i}-en`, t('st_name_en'), nameText(c.name, 'en'), (v) => { setName(c, 'en', v); changed(); }),
      h('fieldset', { class: 'st-serves', 'aria-invalid': svcErr ? 'true' : null, 'aria-describedby': svcErr ? `ctr-${i}-services-err` : null },
        h('legend', {}, t('st_serves')),
        ...doc.services.map((s, j) => h('label', { class: 'st-check' },
          h('input', { type: 'checkbox', id: `ctr-${i}-svc-${j}`, checked: c.services.includes(s.id),
            onchange: (e) => {
              c.services = e.target.checked ? doc.services.map((x) => x.id).filter((x) => x === s.id || c.services.includes(x))
                : c.services.filter((x) => x !== s.id);
              changed();
            } }),
          nameIn(s.name, lang) || s.id)),
        svcErr ? h('p', { class: 'st-error', id: `ctr-${i}-services-err` }, `${svcErr.code}: ${svcErr.message}`) : null),
      field(`ctr-${i}-shifts`, t('st_shifts'), shiftsText(c), (v) => {
        shiftText.set(c, v);
        const parsed = parseShifts(v);
        if (parsed) c.shifts = parsed;
        changed();
      }, errorFor('counters', i, 'shifts'), { placeholder: t('st_shifts_hint') }),
      h('div', { class: 'st-row-end' },
        state ? h('span', { class: `chip ${st.ticket ? 'chip-warn' : st.state === 'open' ? 'chip-ok' : ''}` },
          st.ticket ? t('st_busy', { state, ticket: numbers.get(st.ticket) ?? '…' }) : t('st_now', { state })) : null,
        errorFor('counters', i) ? h('p', { class: 'st-error' }, `${refusal.code}: ${refusal.message}`) : null,
        h('button', { type: 'button', class: 'btn btn-danger', 'aria-label': t('st_remove_named', { name: label }),
          onclick: () => removeCounter(i) }, t('st_remove'))));
  }));
}

function renameCounter(c, id) {
  const old = c.id;
  c.id = id;
  for (const a of doc.areas ?? []) a.counters = a.counters.map((x) => (x === old ? id : x));
  changed();
  keepFocus(renderAreas);
}

function removeCounter(i) {
  const [gone] = doc.counters.splice(i, 1);
  // Out of the areas too (an area left with none is pointed out when saving).
  for (const a of doc.areas ?? []) a.counters = a.counters.filter((x) => x !== gone.id);
  changed({ form: true });
  ($(`ctr-${Math.min(i, doc.counters.length - 1)}-zh`) ?? $('add-counter')).focus();
}

function addCounter() {
  let n = doc.counters.length + 1;
  while (doc.counters.some((c) => c.id === String(n))) n += 1;
  doc.counters.push({ id: String(n), name: { zh: `${n}号窗口`, en: `Counter ${n}` }, services: doc.services[0] ? [doc.services[0].id] : [] });
  changed({ form: true });
  $(`ctr-${doc.counters.length - 1}-zh`).focus();
}

// -- waiting areas (a board set to one shows and says only its counters' calls) ----------------

function renderAreas() {
  sectionError('areas');
  const none = !doc.counters.length;
  $('add-area-note').hidden = !none;
  $('add-area').setAttribute('aria-disabled', none ? 'true' : 'false');
  const isSaved = (id) => saved?.areas?.some((a) => a.id === id);
  $('areas').replaceChildren(...(doc.areas ?? []).map((a, i) => {
    const label = nameIn(a.name, lang) || a.id;
    const err = errorFor('areas', i, 'counters');
    const counters = Array.isArray(a.counters) ? a.counters : [];
    // Counters the site does not have (typed in the JSON): shown ticked, to be unticked.
    const unknown = counters.filter((id) => !doc.counters.some((c) => c.id === id));
    const choices = [...doc.counters.map((c) => [c.id, nameIn(c.name, lang) || c.id]), ...unknown.map((id) => [id, `${id} (?)`])];
    return h('li', { class: 'st-row st-counter st-area', dataset: { area: a.id } },
      field(`area-${i}-id`, t('st_id'), a.id ?? '', (v) => { a.id = v.trim(); changed(); }, errorFor('areas', i, 'id'),
        { readonly: isSaved(a.id) ? true : null, maxlength: 64 }),
      field(`area-${i}-zh`, t('st_name_zh'), nameText(a.name, 'zh'), (v) => { setName(a, 'zh', v); changed(); }, errorFor('areas', i, 'name')),
      field(`area-${i}-en`, t('st_name_en'), nameText(a.name, 'en'), (v) => { setName(a, 'en', v); changed(); }),
      h('fieldset', { class: 'st-serves', id: `area-${i}-counters`, 'aria-invalid': err ? 'true' : null,
        'aria-describedby': err ? `area-${i}-counters-err` : null },
      h('legend', {}, t('st_area_counters')),
      ...choices.map(([id, name], j) => h('label', { class: 'st-check' },
        h('input', { type: 'checkbox', id: `area-${i}-ctr-${j}`, checked: counters.includes(id),
          onchange: (e) => {
            a.counters = e.target.checked ? doc.counters.map((x) => x.id).filter((x) => x === id || counters.includes(x))
              : counters.filter((x) => x !== id);
            changed();
            keepFocus(renderAreas);
          } }),
        name)),
      err ? h('p', { class: 'st-error', id: `area-${i}-counters-err` }, areaSays(err)) : null),
      h('div', { class: 'st-row-end' },
        errorFor('areas', i) ? h('p', { class: 'st-error' }, `${refusal.code}: ${refusal.message}`) : null,
        h('button', { type: 'button', class: 'btn btn-danger', 'aria-label': t('st_remove_named', { name: label }),
          onclick: () => removeArea(i) }, t('st_remove'))));
  }));
}

// The server's reasons for refusing an area (details.reason), said in the page's language
// before its own words.
const AREA_REASONS = { unknown_counter: 'st_area_unknown_counter', duplicate_counter: 'st_area_duplicate_counter' };

function areaSays(err) {
  const key = AREA_REASONS[err.details?.reason];
  const own = `${err.code}: ${err.message}`;
  return key ? `${t(key, { counter: err.details.counter ?? '', area: err.details.area ?? '' })} ${own}` : own;
}

function addArea() {
  if (!doc.counters.length) {
    $('add-area-note').focus();
    return;
  }
  doc.areas = doc.areas ?? [];
  let n = doc.areas.length + 1;
  while (doc.areas.some((a) => a.id === `area${n}`)) n += 1;
  doc.areas.push({ id: `area${n}`, name: { zh: `${n}号等候区`, en: `Waiting area ${n}` }, counters: [] });
  changed({ form: true });
  $(`area-${doc.areas.length - 1}-zh`).focus();
}

function removeArea(i) {
  doc.areas.splice(i, 1);
  if (!doc.areas.length) delete doc.areas; // none: as the server leaves it out
  changed({ form: true });
  ($(`area-${Math.min(i, (doc.areas?.length ?? 0) - 1)}-zh`) ?? $('add-area')).focus();
}

// -- ticket issuing hours (policy.hours: docs/configuration.md "Issuing hours") ---------------

/** What a day's intervals look like in the editor: "08:00–12:00". */
const spanText = ([a, b]) => `${a || '…'}–${b || '…'}`;
const dayName = (day) => t(`st_wd_${day}`);

/** A week with `day`'s intervals set (none: the day left out, as the server reads it),
 * its days kept in weekday order. */
export function withDay(week, day, spans) {
  const out = {};
  for (const d of WEEKDAYS) {
    const got = d === day ? spans : week?.[d];
    if (Array.isArray(got) && (d !== day || got.length)) out[d] = got;
  }
  return out;
}

/** The first thing the server would refuse in `hours` (checked again there): a time that is
 * no "HH:MM", an empty interval, a date that is no YYYY-MM-DD, too many intervals, a
 * service's hours for a service the site lacks. {key, vars, id} (id: the field), or null. */
export function hoursProblem(hours, serviceIds) {
  if (hours == null) return null;
  const weeks = [['site', hours.week ?? {}], ...Object.entries(hours.services ?? {}).map(([s, w]) => [`s-${s}`, w ?? {}])];
  for (const sid of Object.keys(hours.services ?? {})) {
    if (!serviceIds.includes(sid)) return { key: 'st_hours_unknown_service', vars: { service: sid }, id: null };
  }
  for (const [scope, week] of weeks) {
    for (const [day, spans] of Object.entries(week)) {
      if ((spans ?? []).length > MAX_SPANS) return { key: 'st_hours_too_many', vars: { n: MAX_SPANS }, id: `hr-${scope}-${day}-0-from` };
      for (const [i, [a, b]] of (spans ?? []).entries()) {
        const at = `hr-${scope}-${day}-${i}`;
        if (!CLOCK.test(a ?? '')) return { key: 'st_hours_bad_time', vars: { time: a ?? '' }, id: `${at}-from` };
        if (!END_CLOCK.test(b ?? '')) return { key: 'st_hours_bad_end', vars: { time: b ?? '' }, id: `${at}-until` };
        if (a === b) return { key: 'st_hours_empty', vars: { from: a, until: b }, id: `${at}-from` };
      }
    }
  }
  for (const [i, c] of (hours.closed ?? []).entries()) {
    if (!DATE.test(c?.date ?? '')) return { key: 'st_hours_bad_date', vars: { date: c?.date ?? '' }, id: `hr-closed-${i}-date` };
  }
  return null;
}

/** The field of the hours editor a server's refusal names ($.policy.hours.week.mon[0][1],
 * details.field policy.hours.closed, …): its input's id, or null (the section). */
export function hoursField(err, hours) {
  const msg = String(err?.message ?? '');
  const path = /\$\.policy\.hours\.(?:week|services\.([\w-]+))\.(\w+)\[(\d+)\]\[(\d)\]/.exec(msg);
  if (path) return `hr-${path[1] ? `s-${path[1]}` : 'site'}-${path[2]}-${path[3]}-${path[4] === '0' ? 'from' : 'until'}`;
  const closed = /\$\.policy\.hours\.closed\[(\d+)\]/.exec(msg);
  if (closed) return `hr-closed-${closed[1]}-date`;
  const field = String(err?.details?.field ?? '');
  const scope = /^policy\.hours\.(?:week|services\.([\w-]+))$/.exec(field);
  const day = /\.(mon|tue|wed|thu|fri|sat|sun):/.exec(msg)?.[1];
  if (scope && day) {
    const week = scope[1] ? hours?.services?.[scope[1]] : hours?.week;
    const i = (week?.[day] ?? []).findIndex(([a, b]) => a === b);
    return `hr-${scope[1] ? `s-${scope[1]}` : 'site'}-${day}-${Math.max(i, 0)}-from`;
  }
  if (field === 'policy.hours.closed') {
    const bad = /'([^']*)' is no date/.exec(msg)?.[1];
    const i = (hours?.closed ?? []).findIndex((c) => c.date === bad);
    return i >= 0 ? `hr-closed-${i}-date` : null;
  }
  return null;
}

/** "Open now, until today at 16:30" / "Closed for tickets — opens Tue 9 Dec at 08:00" (the
 * kiosk's words: js/issuing-hours.js) from one status of GET …/hours, in the site's `zone`. */
function hoursSays(s, zone, now) {
  const note = s.closed_note ? t('st_hours_closed_note', { name: nameIn(s.closed_note, lang) }) : '';
  if (s.open_now) {
    if (!s.closes_at) return t('st_hours_open_on');
    const closes = { date: s.closes_at.slice(0, 10), time: s.closes_at.slice(11, 16) }; // site-local
    return t('st_hours_open_until', { when: opensWords(closes, lang, zone, now).trim() });
  }
  return `${siteClosedWords(s.next_open_local, lang, zone, now).trim()}${note}`;
}

/** What the hours mean now, as saved (GET /v1/sites/{site}/hours). */
async function loadHoursNow() {
  hoursNow = null;
  if (saved === null) return renderHoursNow();
  const r = await call(`/v1/sites/${encodeURIComponent(siteId)}/hours`);
  hoursNow = r.ok ? r.data : null;
  return renderHoursNow();
}

function renderHoursNow() {
  const el = $('hours-now');
  if (!hoursNow) return setText(el, '');
  const [zone, now] = [hoursNow.timezone, Date.now()];
  const lines = [hoursNow.configured ? hoursSays(hoursNow, zone, now) : t('st_hours_always')];
  for (const [sid, s] of Object.entries(hoursNow.services ?? {})) {
    const svc = doc?.services?.find((x) => x.id === sid);
    lines.push(t('st_hours_service_line', { name: nameIn(svc?.name, lang) || sid, says: hoursSays(s, zone, now) }));
  }
  const dirtyHours = JSON.stringify(doc?.policy?.hours ?? null) !== JSON.stringify(saved?.policy?.hours ?? null);
  return el.replaceChildren(...[h('strong', {}, `${t('st_hours_now', { zone: hoursNow.timezone })} `), lines.join(' · '),
    dirtyHours ? h('span', { class: 'muted' }, ` ${t('st_hours_unsaved')}`) : null].filter(Boolean));
}

function setHoursOn(on) {
  const policy = { ...(doc.policy ?? {}) };
  if (on) {
    policy.hours = hoursStash ?? { week: defaultWeek() };
  } else {
    hoursStash = policy.hours ?? null;
    delete policy.hours;
  }
  doc.policy = policy;
  changed({ form: true });
  $(on ? 'hours-on' : 'hours-off').focus();
}

const defaultWeek = () => Object.fromEntries(WEEKDAYS.slice(0, 5).map((d) => [d, [[...DEFAULT_SPAN]]]));

function renderHours() {
  sectionError('hours');
  renderHoursNow();
  const hrs = doc.policy?.hours ?? null;
  const on = hrs != null;
  const radio = (id, checked, label, onchange) => h('label', { class: 'st-check' },
    h('input', { type: 'radio', name: 'hours-mode', id, checked, onchange }), label);
  $('hours').replaceChildren(
    h('fieldset', { class: 'st-serves' }, h('legend', {}, t('st_hours_mode')),
      radio('hours-off', !on, t('st_hours_off'), () => setHoursOn(false)),
      radio('hours-on', on, t('st_hours_on'), () => setHoursOn(true))),
    on ? h('h3', { class: 'st-sub', id: 'hours-week-title' }, t('st_hours_week')) : null,
    on ? weekEditor('site', hrs.week ?? null, (w) => { hrs.week = w; }) : null,
    on ? closedDates(hrs) : null,
    on ? serviceHours(hrs) : null);
}

/** A week's intervals, one row per weekday: each interval's from and until (typed as
 * "HH:MM"), added and removed; Monday's copied to the other weekdays (the site's week). */
function weekEditor(scope, week, setWeek, owner = '') {
  const p = `hr-${scope}`;
  if (week == null) {
    return h('div', { class: 'st-inline' }, h('p', { class: 'muted' }, t('st_hours_all_week')),
      h('button', { type: 'button', class: 'btn', id: `${p}-set-week`,
        onclick: () => { setWeek(defaultWeek()); changed({ form: true }); $(`${p}-mon-0-from`)?.focus(); } }, t('st_hours_set_week')));
  }
  const redraw = (focus) => { changed({ form: true }); $(focus)?.focus(); };
  const rows = WEEKDAYS.map((day) => {
    const spans = Array.isArray(week[day]) ? week[day] : [];
    const label = owner ? `${owner} · ${dayName(day)}` : dayName(day);
    const items = spans.map((span, i) => {
      const at = `${p}-${day}-${i}`;
      const input = (end) => {
        const id = `${at}-${end ? 'until' : 'from'}`;
        const err = errorFor('hours', null, id);
        return [h('label', { for: id, class: 'st-hours-label' }, h('span', { class: 'visually-hidden' }, `${label} ${i + 1} `),
          t(end ? 'st_hours_until' : 'st_hours_from')),
        h('input', { id, type: 'text', class: 'st-time', value: span[end ? 1 : 0] ?? '', maxlength: 5, inputmode: 'numeric',
          placeholder: end ? '17:00' : '08:00', autocomplete: 'off', spellcheck: 'false',
          'aria-invalid': err ? 'true' : null, 'aria-describedby': err ? `${id}-err` : null,
          oninput: (e) => { span[end ? 1 : 0] = e.target.value.trim(); changed(); } }),
        err ? h('p', { class: 'st-error st-field-error', id: `${id}-err` }, hoursErrorText(err)) : null];
      };
      return h('li', { class: 'st-span', dataset: { span: String(i) } }, ...input(false), ...input(true),
        h('button', { type: 'button', class: 'btn btn-ghost st-x', 'aria-label': t('st_hours_remove', { day: label, span: spanText(span) }),
          onclick: () => {
            spans.splice(i, 1);
            setWeek(withDay(week, day, spans));
            redraw(spans.length ? `${p}-${day}-${Math.min(i, spans.length - 1)}-from` : `${p}-${day}-add`);
          } }, '×'));
    });
    return h('li', { class: 'st-day', dataset: { day, scope } },
      h('span', { class: 'st-day-name', id: `${p}-${day}-name` }, dayName(day)),
      spans.length ? h('ul', { class: 'st-spans', 'aria-labelledby': `${p}-${day}-name` }, ...items)
        : h('span', { class: 'muted st-day-closed' }, t('st_hours_day_closed')),
      h('div', { class: 'st-inline st-day-tools' },
        h('button', { type: 'button', class: 'btn', id: `${p}-${day}-add`, disabled: spans.length >= MAX_SPANS,
          'aria-label': t('st_hours_add_named', { day: label }),
          onclick: () => {
            setWeek(withDay(week, day, [...spans, spans.length ? ['', ''] : [...DEFAULT_SPAN]]));
            redraw(`${p}-${day}-${spans.length}-from`);
          } }, t('st_hours_add'))));
  });
  const monday = Array.isArray(week.mon) ? week.mon : [];
  return h('div', { class: 'st-hours-part' }, h('ul', { class: 'st-week', id: `${p}-week` }, ...rows),
    h('button', { type: 'button', class: 'btn', id: `${p}-copy-mon`,
      'aria-label': owner ? `${owner}: ${t('st_hours_copy_mon')}` : null,
      onclick: () => {
        let w = week;
        for (const d of WEEKDAYS.slice(1, 5)) w = withDay(w, d, monday.map((x) => [...x]));
        setWeek(w);
        redraw(`${p}-copy-mon`);
        setText($('hours-copied'), t('st_hours_copied'));
      } }, t('st_hours_copy_mon')));
}

function hoursErrorText(err) {
  return `${err.code}: ${err.message}`;
}

/** Dates on which no ticket is taken (holidays), each with a name in the site's languages. */
function closedDates(hrs) {
  const list = Array.isArray(hrs.closed) ? hrs.closed : [];
  const langs = doc.languages?.length ? doc.languages : ['zh', 'en'];
  const setList = (next) => { if (next.length) hrs.closed = next; else delete hrs.closed; };
  const items = list.map((c, i) => {
    const id = `hr-closed-${i}-date`;
    const err = errorFor('hours', null, id);
    const title = c.date || t('st_hours_new_date');
    return h('li', { class: 'st-row st-closed', dataset: { closed: c.date ?? '' } },
      h('div', { class: 'st-field' },
        h('label', { for: id }, t('st_hours_date')),
        h('input', { id, type: 'date', value: c.date ?? '', 'aria-invalid': err ? 'true' : null,
          'aria-describedby': err ? `${id}-err` : null, class: 'st-date',
          onchange: (e) => { c.date = e.target.value; changed(); } }),
        err ? h('p', { class: 'st-error st-field-error', id: `${id}-err` }, hoursErrorText(err)) : null),
      ...langs.map((l) => field(`hr-closed-${i}-name-${l}`, t('st_hours_date_name', { lang: LANG_NAMES[l] ?? l }),
        nameText(c.name, l), (v) => { setName(c, l, v); if (c.name === '') delete c.name; changed(); }, null,
        { maxlength: 100, placeholder: t('st_hours_name_hint') })).flat().filter(Boolean),
      h('div', { class: 'st-row-end' },
        h('button', { type: 'button', class: 'btn btn-danger', 'aria-label': t('st_remove_named', { name: title }),
          onclick: () => {
            list.splice(i, 1);
            setList(list);
            changed({ form: true });
            ($(`hr-closed-${Math.min(i, list.length - 1)}-date`) ?? $('hr-closed-add')).focus();
          } }, t('st_remove'))));
  });
  return h('div', { class: 'st-hours-part' },
    h('h3', { class: 'st-sub' }, t('st_hours_closed')),
    h('p', { class: 'muted st-help' }, t('st_hours_closed_help')),
    h('ul', { class: 'st-rows', id: 'hr-closed' }, ...items),
    h('button', { type: 'button', class: 'btn', id: 'hr-closed-add',
      onclick: () => {
        setList([...list, { date: '' }]);
        changed({ form: true });
        $(`hr-closed-${list.length}-date`)?.focus();
      } }, t('st_hours_add_closed')));
}

/** Per service, hours of its own (the lab stops earlier): taken only when both are open. */
function serviceHours(hrs) {
  const own = hrs.services ?? {};
  const parts = doc.services.filter((s) => s.id).map((s, i) => {
    const name = nameIn(s.name, lang) || s.id;
    const week = own[s.id];
    const id = `hr-svc-${i}-own`;
    return h('div', { class: 'st-hours-service', dataset: { hoursService: s.id } },
      h('label', { class: 'st-check' },
        h('input', { type: 'checkbox', id, checked: week != null,
          onchange: (e) => {
            const next = { ...(hrs.services ?? {}) };
            if (e.target.checked) next[s.id] = copy(hrs.week ?? defaultWeek());
            else delete next[s.id];
            if (Object.keys(next).length) hrs.services = next;
            else delete hrs.services;
            changed({ form: true });
            $(id)?.focus();
          } }),
        t('st_hours_own', { name })),
      week != null ? weekEditor(`s-${s.id}`, week, (w) => { hrs.services = { ...(hrs.services ?? {}), [s.id]: w }; }, name) : null);
  });
  return h('div', { class: 'st-hours-part' },
    h('h3', { class: 'st-sub' }, t('st_hours_services')),
    h('p', { class: 'muted st-help' }, t('st_hours_services_help')),
    ...(parts.length ? parts : [h('p', { class: 'muted' }, t('st_hours_no_services'))]));
}

function renderClasses() {
  const classes = doc.priority_classes;
  setText($('classes-help'), `${classes ? '' : `${t('st_classes_default')} `}${t('st_classes_help')}`);
  const list = classes ?? DEFAULT_CLASSES.map((id) => ({ id }));
  $('classes').replaceChildren(...list.map((c) => h('li', {},
    h('strong', {}, priorityName(c.id, classes ?? [], lang)), ` (${c.id})`,
    c.preempt || (!classes && c.id === 'emergency') ? h('span', { class: 'chip chip-warn' }, t('st_preempt')) : null,
    c.self_service || (!classes && c.id === 'walk_in') ? h('span', { class: 'chip' }, t('st_self_service')) : null)));
}

function syncRaw() {
  const el = $('raw');
  if (document.activeElement === el) return; // the admin is typing there
  el.value = JSON.stringify(doc, null, 2);
  rawBad = null;
  setText($('raw-error'), '');
}

function onRaw() {
  try {
    const parsed = JSON.parse($('raw').value);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('{…}');
    parsed.services = Array.isArray(parsed.services) ? parsed.services : [];
    parsed.counters = Array.isArray(parsed.counters) ? parsed.counters : [];
    for (const c of parsed.counters) c.services = Array.isArray(c.services) ? c.services : [];
    if (parsed.areas != null && !Array.isArray(parsed.areas)) parsed.areas = [];
    for (const a of parsed.areas ?? []) a.counters = Array.isArray(a.counters) ? a.counters : [];
    doc = parsed;
    rawBad = null;
    setText($('raw-error'), placed?.section === 'raw' && refusal ? `${refusal.code}: ${refusal.message}` : '');
    renderHead();
    changed({ form: true, raw: false });
  } catch (err) {
    rawBad = err.message;
    setText($('raw-error'), t('st_raw_invalid', { msg: err.message }));
    renderSaveBar();
  }
}

function renderSaveBar() {
  $('save').disabled = Boolean(rawBad);
  setText($('save-status'), rawBad ? '' : dirty() ? t('st_unsaved') : justSaved ? t('st_saved') : t('st_nothing'));
  const el = $('save-error');
  if (!refusal) return el.replaceChildren();
  if (placed?.section === 'raw') {
    $('raw-box').open = true;
    setText($('raw-error'), `${refusal.code}: ${refusal.message}`);
  }
  const field = refusal.details?.field;
  return el.replaceChildren(h('p', {}, t('st_refused', { message: refusal.message, code: refusal.code }) + (field ? ` [${field}]` : '')),
    h('p', { class: 'muted' }, t('st_kept')),
    placed?.section !== 'save' ? h('button', { type: 'button', class: 'btn btn-ghost', onclick: focusError }, t('st_goto')) : null);
}

// -- devices -----------------------------------------------------------------------------------

/** One console per saved counter, and the boards, kiosks and overviews added so far. */
function seedDevices() {
  const counters = saved?.counters ?? [];
  for (const c of counters) {
    if (!devices.some((d) => d.key === `console:${c.id}`)) {
      // The site's id first: a subject is revoked at every site that uses it, and another
      // site's "console-1" must not go dark with this one's.
      devices.push({ key: `console:${c.id}`, kind: 'console', counter: c.id, subject: `${siteId}-console-${c.id}` });
    }
  }
  for (const kind of ['board', 'kiosk', 'supervise']) if (!devices.some((d) => d.kind === kind)) addDevice(kind, false);
  // One board per waiting area, locked to it (its link shows that area only).
  const areas = saved?.areas ?? [];
  for (const a of areas) {
    if (!devices.some((d) => d.kind === 'board' && d.area === a.id)) {
      devices.push({ key: `board:${a.id}@area`, kind: 'board', area: a.id, subject: `${siteId}-board-${a.id}` });
    }
  }
  // Consoles of counters no longer there go (their links, if any, are revoked separately);
  // so do the area boards of areas no longer there, and other boards forget such an area.
  for (let i = devices.length - 1; i >= 0; i -= 1) {
    const d = devices[i];
    if (d.kind === 'console' && !counters.some((c) => c.id === d.counter)) devices.splice(i, 1);
    else if (d.area && !areas.some((a) => a.id === d.area)) {
      if (d.key.endsWith('@area') && !d.minted) devices.splice(i, 1);
      else d.area = null;
    }
  }
  const order = { console: 0, board: 1, kiosk: 2, supervise: 3, book: 4 };
  devices.sort((a, b) => order[a.kind] - order[b.kind]);
}

function addDevice(kind, draw = true) {
  const base = { board: 'board', kiosk: 'kiosk', supervise: 'supervisor', book: 'web-booking' }[kind];
  let n = 1;
  while (devices.some((d) => d.subject === `${siteId}-${base}-${n}` || d.key === `${kind}:${n}`)) n += 1;
  devices.push({ key: `${kind}:${n}`, kind, subject: `${siteId}-${base}-${n}` });
  if (draw) {
    seedDevices();
    renderDevices();
    $(`dev-${devices.findIndex((d) => d.key === `${kind}:${n}`)}-subject`)?.focus();
  }
}

// The public booking page's link is a partner token whose only channel is web (realtime/
// api.py public_web): it books only, per client address, with a texted code where texts go.
const ROLE = { console: 'agent', board: 'display', kiosk: 'kiosk', supervise: 'supervisor', book: 'partner' };

function deviceName(d) {
  const c = d.counter != null ? saved?.counters?.find((x) => x.id === d.counter) : null;
  if (c) return `${t('st_kind_console')} · ${nameIn(c.name, lang) || c.id}`;
  const area = d.area ? saved?.areas?.find((a) => a.id === d.area) : null;
  if (d.key.endsWith('@area')) return `${t('st_kind_board')} · ${area ? nameIn(area.name, lang) || area.id : d.area}`;
  return `${t(`st_kind_${d.kind}`)} · ${d.key.split(':')[1]}`;
}

/** The link a row holds that still works: made on this page, or listed by the server. */
function activeLink(d) {
  if (d.minted && !d.revokedAt) return { jti: d.minted.jti, subject: d.minted.subject };
  if (d.listed?.status === 'active') return { jti: d.listed.jti, subject: d.listed.subject };
  return null;
}

/** A new link for `d`; one that still works is replaced (revoked by the server before it
 * answers: a re-printed sheet leaves no old link working). `reload`: read the list again. */
async function mint(d, reload = true) {
  d.busy = true;
  d.error = null;
  d.replaced = null;
  renderDevices();
  const body = { role: ROLE[d.kind], site: siteId, subject: d.subject.trim() };
  if (d.counter != null) body.counter = d.counter;
  if (d.kind === 'book') body.channels = ['web'];
  if (d.kind === 'board' && d.area) body.area = d.area;
  const old = activeLink(d);
  // Same device name: every working link of it at this site; renamed: the one it had.
  if (old?.subject === body.subject) body.replace_previous = true;
  else if (old?.jti) body.replaces = old.jti;
  const r = await call('/v1/tokens', { method: 'POST', body });
  d.busy = false;
  if (r.ok) {
    d.minted = { ...r.data, url: linkBase(boot.public_url, location) + r.data.link };
    d.revokedAt = null;
    d.replaced = r.data.replaced?.length ? r.data.replaced.length : null;
  } else {
    d.error = r.data ?? { code: 'network', message: t('err_network') };
  }
  if (reload) await loadIssued();
  else keepFocus(renderDevices);
  return r.ok;
}

async function revokeSubject(subject, site = null) {
  const r = await call('/v1/revocations', { method: 'POST', body: site ? { subject, site } : { subject } });
  if (!r.ok) return { error: r.data ?? { code: 'network', message: t('err_network') } };
  await loadRevocations();
  return { before: r.data.revoked.before };
}

async function revokeDevice(d) {
  const done = await revokeSubject(d.subject.trim(), siteId); // this site's only
  d.confirm = false;
  if (done.error) {
    d.error = done.error;
  } else {
    d.error = null;
    d.minted = null;
    d.replaced = null;
    d.revokedAt = done.before;
  }
  await loadIssued();
  $(`dev-${devices.indexOf(d)}-mint`)?.focus();
}

// -- links already made (GET /v1/tokens?site=: docs/protocol.md "tokens") ----------------------

const KIND_OF = Object.fromEntries(Object.entries(ROLE).map(([k, r]) => [r, k]));

/** The links made for this site, each on its device's row (the newest of its role and
 * name); a link of a device this page has no row for (a second kiosk) gets its row. */
async function loadIssued() {
  if (saved === null) { issued = null; return renderDevices(); }
  const r = await call(`/v1/tokens?site=${encodeURIComponent(siteId)}`);
  if (!r.ok) return renderDevices(); // an older server: no list, the page works as before
  issued = r.data;
  const newest = new Map(); // role + name → the newest link
  for (const tk of issued.tokens ?? []) {
    const k = `${tk.role}/${tk.subject}`;
    if (KIND_OF[tk.role] && !(newest.get(k)?.minted_at > tk.minted_at)) newest.set(k, tk);
  }
  for (const tk of newest.values()) {
    const kind = KIND_OF[tk.role];
    const there = devices.some((d) => ROLE[d.kind] === tk.role && d.subject.trim() === tk.subject);
    const gone = kind === 'console' && !saved.counters?.some((c) => c.id === tk.counter);
    // A partner link is a booking page's only if this page named it so (not a partner's API).
    const partner = kind === 'book' && !tk.subject.startsWith(`${siteId}-web-booking-`);
    if (!there && !gone && !partner && tk.status !== 'expired') {
      devices.push({ key: `${kind}:${tk.subject}`, kind, subject: tk.subject, counter: tk.counter ?? undefined, area: tk.area ?? null });
    }
  }
  seedDevices();
  for (const d of devices) d.listed = newest.get(`${ROLE[d.kind]}/${d.subject.trim()}`) ?? null;
  return keepFocus(renderDevices);
}

const soonS = () => issued?.expiring_soon_s ?? 7 * 86400;
const expiresSoon = (l) => l?.status === 'active' && Date.parse(l.expires_at) - Date.now() <= soonS() * 1000;
const dateIn = (iso) => {
  const zone = saved?.timezone || doc?.timezone || BROWSER_ZONE;
  return `${formatDateTime(Date.parse(iso), lang, zone, { dateStyle: 'medium' })} (${zone})`;
};

/** "3 min ago", "2 h ago", "4 days ago" / "never used". */
function lastUsed(iso) {
  if (!iso) return t('st_link_never_used');
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  const ago = s < 60 ? t('st_ago_now') : s < 3600 ? t('st_ago_min', { n: Math.floor(s / 60) })
    : s < 86400 ? t('st_ago_h', { n: Math.floor(s / 3600) }) : t('st_ago_days', { n: Math.floor(s / 86400) });
  return t('st_link_last_used', { ago });
}

/** What a listed link is: "Active — valid until 7 Jan 2027 (Asia/Shanghai), 30 days left ·
 * last used 3 min ago". */
function listedSays(l) {
  const made = t('st_link_made', { date: dateIn(l.minted_at) });
  if (l.status === 'revoked') return `${made} · ${t('st_link_revoked')}`;
  if (l.status === 'expired') return `${made} · ${t('st_link_expired', { date: dateIn(l.expires_at) })}`;
  const left = t(l.days_left === 1 ? 'st_link_day_left' : 'st_link_days_left', { n: l.days_left });
  return `${made} · ${t('st_link_active', { date: dateIn(l.expires_at), left })} · ${lastUsed(l.last_seen)}`;
}

function listedLink(d, i) {
  const l = d.listed;
  if (!l || d.minted) return null;
  return h('div', { class: 'st-issued', id: `dev-${i}-issued` },
    h('p', { class: expiresSoon(l) ? 'st-warn' : '' }, listedSays(l)),
    l.status === 'active' ? h('p', { class: 'muted' }, t('st_link_hidden')) : null);
}

/** The banner: links of this site expiring within a week (the server's count), renewed
 * together after a confirmation (each a replacement: the old link stops working). */
function renderExpiring() {
  const box = $('links-soon');
  const n = issued?.summary?.expiring_soon ?? 0;
  const rows = devices.filter((d) => !d.minted && expiresSoon(d.listed));
  box.hidden = !n && !renewDone;
  if (box.hidden) return box.replaceChildren();
  const others = Math.max(0, n - rows.length);
  const first = rows.map((d) => d.listed.expires_at).sort()[0];
  const done = renewDone ? t(renewDone.failed ? 'st_renewed_some' : 'st_renewed', renewDone) : '';
  return keepFocus(() => box.replaceChildren(
    n ? h('p', {}, t('st_links_soon', { n, days: Math.round(soonS() / 86400) }) + (first ? ` ${t('st_links_soon_first', { date: dateIn(first) })}` : '')) : null,
    others ? h('p', {}, t('st_links_soon_others', { n: others })) : null,
    rows.length ? h('div', { class: 'st-inline' }, renewAsk
      ? [h('button', { type: 'button', id: 'renew-yes', class: 'btn btn-danger solid', onclick: renewAll }, t('st_renew_all_confirm', { n: rows.length })),
        h('button', { type: 'button', id: 'renew-no', class: 'btn', onclick: () => { renewAsk = false; renderExpiring(); $('renew-all')?.focus(); } }, t('st_cancel'))]
      : h('button', { type: 'button', id: 'renew-all', class: 'btn btn-primary',
        onclick: () => { renewAsk = true; renderExpiring(); $('renew-yes')?.focus(); } }, t('st_renew_all', { n: rows.length }))) : null,
    h('p', { id: 'renew-status', role: 'status', tabindex: '-1' }, done)));
}

async function renewAll() {
  renewAsk = false;
  const rows = devices.filter((d) => !d.minted && expiresSoon(d.listed));
  let failed = 0;
  for (const d of rows) if (!(await mint(d, false))) failed += 1;
  renewDone = { n: rows.length - failed, failed };
  await loadIssued();
  $('renew-status')?.focus();
}

function renderDevices() {
  renderExpiring();
  $('devices-unsaved').hidden = Boolean(saved?.counters?.length);
  // Links start with the public address, or this page's: warn when that is this machine only.
  const origin = linkBase(boot.public_url, location);
  const local = !boot.public_url && isLoopback(location.hostname);
  $('devices-local').hidden = !local;
  setText($('devices-local'), local ? t('st_links_local', { origin, site: siteId }) : '');
  $('devices-base').hidden = !boot.public_url;
  setText($('devices-base'), boot.public_url ? t('st_links_public', { origin }) : '');
  keepFocus(() => $('devices').replaceChildren(...devices.map((d, i) => {
    const m = d.minted;
    const name = deviceName(d);
    const errId = `dev-${i}-err`;
    return h('li', { class: `card st-device${m ? ' minted' : ''}`, dataset: { device: d.key } },
      h('h3', {}, name),
      h('div', { class: 'st-inline' },
        h('label', { for: `dev-${i}-subject` }, t('st_subject')),
        h('input', { id: `dev-${i}-subject`, type: 'text', value: d.subject, maxlength: 200, autocomplete: 'off', spellcheck: 'false',
          'aria-invalid': d.error ? 'true' : null, 'aria-describedby': d.error ? errId : null,
          oninput: (e) => { d.subject = e.target.value; } })),
      d.kind === 'board' && saved?.areas?.length ? boardAreaField(d, i) : null,
      h('div', { class: 'st-inline' },
        h('button', { type: 'button', id: `dev-${i}-mint`, class: 'btn btn-primary', disabled: d.busy,
          onclick: () => mint(d) }, d.busy ? t('st_minting') : !activeLink(d) ? t('st_mint')
          : expiresSoon(d.listed) && !m ? t('st_renew') : t('st_mint_again')),
        d.confirm
          ? [h('button', { type: 'button', id: `dev-${i}-revoke-yes`, class: 'btn btn-danger solid', onclick: () => revokeDevice(d) },
            t('st_revoke_confirm', { subject: d.subject.trim() })),
          h('button', { type: 'button', id: `dev-${i}-revoke-no`, class: 'btn', onclick: () => { d.confirm = false; renderDevices(); $(`dev-${i}-revoke`)?.focus(); } }, t('st_cancel'))]
          : h('button', { type: 'button', id: `dev-${i}-revoke`, class: 'btn btn-danger',
            onclick: () => { d.confirm = true; renderDevices(); $(`dev-${i}-revoke-yes`)?.focus(); } }, t('st_revoke'))),
      d.error ? h('p', { class: 'st-error', id: errId, role: 'alert' }, `${d.error.code}: ${d.error.message}`) : null,
      d.revokedAt ? h('p', { class: 'st-note' }, t('st_revoked_now', { subject: d.subject.trim(), time: when(d.revokedAt) })) : null,
      d.replaced ? h('p', { class: 'st-note', role: 'status' }, t(d.replaced > 1 ? 'st_replaced_n' : 'st_replaced', { n: d.replaced })) : null,
      listedLink(d, i),
      m ? h('div', { class: 'st-link' },
        h('img', { src: `/qr.svg?data=${encodeURIComponent(m.url)}`, alt: t('st_qr_alt', { name }), width: 132, height: 132 }),
        h('div', {},
          h('a', { href: m.url, target: '_blank', rel: 'noopener noreferrer', class: 'st-url' }, m.url),
          h('p', { class: 'muted' }, t('st_valid_until', { date: when(Date.parse(m.expires_at) / 1000) })),
          h('div', { class: 'st-inline' },
            h('button', { type: 'button', class: 'btn', onclick: (e) => copyLink(e.target, m.url) }, t('st_copy')),
            h('a', { href: m.url, target: '_blank', rel: 'noopener noreferrer', class: 'btn' }, t('st_open'))))) : null);
  })));
}

/** Which waiting area a board's link shows (the whole site, or one area: locked to it). */
function boardAreaField(d, i) {
  return h('div', { class: 'st-inline' },
    h('label', { for: `dev-${i}-area` }, t('st_board_area')),
    h('select', { id: `dev-${i}-area`, 'aria-describedby': `dev-${i}-area-help`,
      onchange: (e) => { d.area = e.target.value || null; keepFocus(renderDevices); } },
    h('option', { value: '', selected: !d.area }, t('st_board_whole')),
    ...saved.areas.map((a) => h('option', { value: a.id, selected: d.area === a.id }, nameIn(a.name, lang) || a.id))),
    h('span', { id: `dev-${i}-area-help`, class: 'muted' }, t('st_board_area_help')));
}

async function copyLink(button, url) {
  try {
    await navigator.clipboard.writeText(url);
    setText(button, t('st_copied'));
  } catch {
    const sel = getSelection();
    const a = button.closest('.st-link')?.querySelector('.st-url');
    if (a) { sel.removeAllRanges(); const r = document.createRange(); r.selectNodeContents(a); sel.addRange(r); }
  }
}

/** The printable sheet: one card per device with a link (name, QR code, address). */
function printSheet() {
  const made = devices.filter((d) => d.minted);
  if (!made.length) {
    setText($('print-status'), t('st_print_empty'));
    return;
  }
  setText($('print-status'), '');
  const site = nameIn(doc?.name, lang) || siteId;
  $('sheet').replaceChildren(
    h('h1', {}, t('st_sheet_title', { site })),
    h('p', {}, t('st_sheet_note')),
    ...made.map((d) => h('article', { class: 'st-sheet-card' },
      h('h2', {}, deviceName(d)),
      h('p', {}, `${t('st_subject')}: ${d.subject.trim()}`),
      h('img', { src: `/qr.svg?data=${encodeURIComponent(d.minted.url)}`, alt: '', width: 200, height: 200 }),
      h('p', { class: 'st-sheet-url' }, d.minted.url),
      h('p', {}, t('st_valid_until', { date: when(Date.parse(d.minted.expires_at) / 1000) })))));
  const imgs = [...$('sheet').querySelectorAll('img')];
  Promise.all(imgs.map((img) => (img.complete ? null : new Promise((ok) => { img.onload = ok; img.onerror = ok; }))))
    .then(() => window.print());
}

// -- revocations --------------------------------------------------------------------------------

async function loadRevocations() {
  const r = await call('/v1/revocations');
  if (r.ok) revocations = r.data;
  renderRevocations();
}

function renderRevocations() {
  const list = revocations;
  if (!list) return $('revoked').replaceChildren();
  const items = (list.subjects ?? []).map((s) => h('li', { dataset: { subject: s.subject } },
    t('st_revoked_subject', { subject: s.subject, time: when(s.before) })));
  for (const s of list.site_subjects ?? []) {
    if (s.site === siteId) items.push(h('li', { dataset: { subject: s.subject } }, t('st_revoked_subject', { subject: s.subject, time: when(s.before) })));
  }
  if (list.tokens?.length) items.push(h('li', {}, t('st_revoked_tokens', { n: list.tokens.length })));
  return $('revoked').replaceChildren(...(items.length ? items : [h('li', { class: 'muted' }, t('st_revoked_none'))]));
}

async function revokeOther(ev) {
  ev.preventDefault();
  const subject = $('revoke-subject').value.trim();
  if (!subject) return;
  const done = await revokeSubject(subject);
  if (done.error) {
    setText($('revoke-status'), `${done.error.code}: ${done.error.message}`);
    return;
  }
  for (const d of devices) {
    if (d.subject.trim() === subject) { d.minted = null; d.revokedAt = done.before; }
  }
  renderDevices();
  $('revoke-subject').value = '';
  setText($('revoke-status'), t('st_revoked_now', { subject, time: when(done.before) }));
}

// -- start ---------------------------------------------------------------------------------------

function start() {
  mountLangSwitch($('lang'), lang0, (l, tl) => {
    lang = l;
    shared = tl;
    render();
  });
  if (boot.error) {
    errorScreen($('app'), shared, boot.error);
    return;
  }
  $('signin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = $('signin-token').value.trim();
    $('signin-token').value = '';
    if (token) signIn(token);
  });
  $('signout').addEventListener('click', () => { forgetToken(); showSignIn(); });
  $('site-form').addEventListener('submit', save);
  $('add-service').addEventListener('click', addService);
  $('add-counter').addEventListener('click', addCounter);
  $('add-area').addEventListener('click', addArea);
  $('raw').addEventListener('input', onRaw);
  $('raw').addEventListener('blur', () => { if (!rawBad) syncRaw(); });
  $('add-board').addEventListener('click', () => addDevice('board'));
  $('add-kiosk').addEventListener('click', () => addDevice('kiosk'));
  $('add-book').addEventListener('click', () => addDevice('book'));
  $('add-supervise').addEventListener('click', () => addDevice('supervise'));
  $('print').addEventListener('click', printSheet);
  $('revoke-form').addEventListener('submit', revokeOther);
  $('copy-go').addEventListener('click', copySetup);
  $('delete-site').addEventListener('click', () => confirmDelete(true));
  $('delete-no').addEventListener('click', () => confirmDelete(false));
  $('delete-yes').addEventListener('click', deleteSite);
  setInterval(() => { if (adminToken) checkWorker(); }, WORKER_CHECK_MS);
  window.addEventListener('beforeunload', (ev) => {
    if (doc && dirty()) { ev.preventDefault(); ev.returnValue = t('st_leave'); }
  });
  window.switchboardSetup = { get doc() { return doc; }, get saved() { return saved; }, get devices() { return devices; },
    get refusal() { return refusal; }, get placed() { return placed; }, get hoursNow() { return hoursNow; } };
  const token = takeToken();
  if (token) signIn(token);
  else showSignIn();
}

start();
