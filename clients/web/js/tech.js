// The technician's device (/tech/{id}): a wristband (its link says ?device=wristband: one
// offer fills the screen with two large buttons, the rest of the job on the phone) or a phone (offers, the next job with its ETA, the route on a map, the
// day's later stops). Speaks msgpack, like a wristband on a metered link. Sends GPS fixes
// from the browser's geolocation or, with ?sim=1 (or the Simulate button), from a simulated
// drive to the next job; actions and fixes wait in an outbox while offline and go, once each,
// when the connection is back.
import { Client, ClientCore } from './client.js';
import { customerEta, formatAt, formatDay, formatWindow, liveEta, localDay, personName, serverClock, shortJob, windowParts, zonesIn } from './dispatch.js';
import { formatTime, nameIn } from './i18n.js';
import { icon } from './dispatch-icons.js';
import { distanceM, formatDistance, MapView } from './map.js';
import { DeviceGps, SimulatedRoute } from './tech-gps.js';
import { ID_BASE, Outbox } from './tech-outbox.js';
import { actionsFor, driveTarget, emptyTech, laterStops, nextStop, openOffers, plannedJobs, reduce } from './tech-state.js';
import { connectionBanner, errorScreen, h, language, langSwitch, layeredTranslator, params, readBoot, replaceChildren, setText, toaster, token } from './ui.js';

const boot = readBoot();
const lang0 = language(boot);
// This page's own words (the shared table is i18n.js).
const OWN = {
  en: {
    keys_toggle: 'Single-key shortcuts',
    keys_on_off: '{name}: {state}',
    on: 'on',
    off: 'off',
    keys_off: 'Off on this device: use the buttons. (Speech input can type letters by mistake.)',
  },
  zh: {
    keys_toggle: '单键快捷键',
    keys_on_off: '{name}：{state}',
    on: '开',
    off: '关',
    keys_off: '本机已关闭，请使用按钮。（语音输入可能误输入字母。）',
  },
};
let { lang } = lang0;
let t = layeredTranslator(OWN, lang);
const techId = boot.params?.tech;
const region = boot.region;
const tz = region?.timezone;
const now = serverClock(boot);
const offerTotalS = region?.offer_timeout_s ?? 60;
const $ = (id) => document.getElementById(id);
/** Skills as the region names them in the page's language (ids the region did not name as they are). */
const skillNames = (ids) => ids.map((s) => (region?.skill_names && Object.hasOwn(region.skill_names, s) ? nameIn(region.skill_names[s], lang) || s : s)).join(String(lang).startsWith('zh') ? '、' : ', ');
// Job actions on the card, shift actions in the footer.
const JOB_ACTIONS = new Set(['depart', 'arrive', 'complete', 'fail']);
const MAIN = new Set(['depart', 'arrive', 'complete', 'online']);
const FAIL_REASONS = ['no_access', 'parts', 'other'];
// Not on a key: these are not undone by a second press (a dialog asks, or the shift ends).
const KEYLESS = new Set(['fail', 'offline']);

/** The client core, with the replies to this device's own messages routed to its outbox. */
class DeviceCore extends ClientCore {
  constructor(onReply) {
    super();
    this.onReply = onReply;
  }

  receive(msg) {
    if ((msg?.op === 'pong' || msg?.op === 'error') && msg.id >= ID_BASE) {
      this.onReply(msg);
      return { ignore: 'device reply' };
    }
    return super.receive(msg);
  }
}

// Single keys (A, D, S, R, C, B) are on by default; someone using speech input, whose words
// can arrive as letters, turns them off (WCAG 2.1.4), for this device.
const KEYS_STORE = 'sb.tech.shortcuts';
let shortcutsOn = true;
try { shortcutsOn = localStorage.getItem(KEYS_STORE) !== 'off'; } catch { /* private mode: on */ }

// A wristband is said so by its link (?device=wristband, remembered on the device; ?device=phone
// undoes it), not guessed from a narrow window: a phone at 200 % zoom is as narrow, and must
// keep the job's details (WCAG 1.4.10).
const DEVICE_STORE = 'sb.tech.device';
let wristband = false;
try {
  const asked = params.get('device');
  if (asked === 'wristband' || asked === 'phone') localStorage.setItem(DEVICE_STORE, asked);
  wristband = (asked ?? localStorage.getItem(DEVICE_STORE)) === 'wristband';
} catch { wristband = params.get('device') === 'wristband'; }
document.body.classList.toggle('wristband', wristband);

let state = emptyTech();
let gps = null;
let gpsError = null;
let lastFixAt = null;
const announced = [];
const rejected = []; // fixes the server refused (codes)
const actErrors = []; // actions the server refused ({k, code})
const sentActs = []; // every time an action went on the wire (its aid): a resend shows twice
let toast = () => {};
let map = null;
let client = null;
let outbox = null;

// -- sending ----------------------------------------------------------------------------

function pump() {
  if (!client?.isOpen()) return;
  for (const entry of outbox.due(Date.now())) {
    client.send(outbox.sending(entry, Date.now()));
    if (entry.kind === 'act') sentActs.push(entry.msg.aid);
  }
}

function onReply(msg) {
  const r = outbox.reply(msg);
  if (!r) return;
  if (r.entry.kind === 'act') {
    const k = r.entry.msg.k;
    if (r.ok) toast(t(`ok_${k}`));
    else if (!r.retry) {
      actErrors.push({ k, code: r.error.code });
      toast(errorText(r.error), 'error');
    }
    render();
  } else if (!r.ok && !r.retry) {
    rejected.push(r.error.code);
  }
  renderGps();
  pump();
}

function errorText(err) {
  const code = err?.code;
  if (code === 'invalid_transition') return t('e_job_transition');
  const key = `e_${code}`;
  return t(key) === key ? t('err_generic', { code }) : t(key);
}

function act(kind, job = '', reason = '') {
  if (outbox.pendingAct(kind, job)) return;
  outbox.act(kind, now(), { job, reason });
  if (!client.isOpen()) toast(t('queued_offline'), 'warn');
  pump();
  render();
}

function onFix(fix) {
  lastFixAt = fix.t;
  // Off shift, the device keeps its position to itself.
  if (state.view && state.view.status !== 'offline') outbox.fix(fix);
  pump();
  renderMap();
  renderGps();
  if (state.view) renderNext(); // the live ETA follows the position
}

// -- GPS --------------------------------------------------------------------------------

function startSim() {
  gps?.stop();
  const start = gps?.pos ?? state.view?.position ?? boot.tech?.home;
  const speed = Number(params.get('speed')) || 40;
  gps = new SimulatedRoute({ start, target: () => driveTarget(state), onFix, clock: now, speedKmh: speed });
  gps.start();
  gpsError = null;
  renderGps();
}

function startDevice() {
  gps = new DeviceGps({ onFix, clock: now, onError: (e) => { gpsError = e.code; renderGps(); } });
  gps.start();
}

// -- messages ---------------------------------------------------------------------------

function onMessage(msg) {
  if (msg.op === 'error') {
    // The topic's "unknown_topic" names this page's own thing.
    errorScreen($('app'), t, msg.code === 'unknown_topic' ? { code: 'unknown_technician' } : msg);
    return;
  }
  if (msg.op === 'event' && msg.type === 'removed') { // taken off the roster meanwhile
    gps?.stop();
    errorScreen($('app'), t, { code: 'unknown_technician' });
    return;
  }
  const before = state;
  state = reduce(state, msg);
  if (msg.op === 'event' && (msg.type === 'offer_withdrawn' || msg.type === 'offer_expired')
      && before.offers.some((o) => o.job === msg.data.job)) {
    toast(t(msg.type === 'offer_expired' ? 'offer_gone_expired' : 'offer_gone_withdrawn'), 'warn');
  }
  sayLostWork(before, msg);
  announceOffers();
  if (gps?.kind === 'sim' && !gps.timer) startSim();
  render();
}

/** Accepted work the technician no longer has (the dispatcher cancelled it, or a plan took
 *  it back): the card only changed before, and someone driving there kept driving. */
function sayLostWork(before, msg) {
  // Not its own doing (completed, failed): a cancellation, or a job taken back.
  if (msg.op !== 'event' || !(msg.type === 'offer_withdrawn' || (msg.type === 'route_changed' && msg.data?.reason === 'cancelled'))) return;
  const jid = msg.data?.changed_job ?? msg.data?.job;
  const was = before.view?.route.find((s) => s.job && s.job === jid && ['assigned', 'en_route', 'on_site'].includes(s.status));
  if (!was || state.view?.route.some((s) => s.job === jid)) return;
  const who = was.customer ?? `${t('d_job')} ${shortJob(jid)}`;
  const why = msg.data?.reason === 'cancelled' ? t('tr_cancelled') : t('offer_gone_withdrawn');
  toast(`${who} · ${why}`, 'warn');
  if (navigator.userActivation?.hasBeenActive ?? true) navigator.vibrate?.([300, 120, 300]);
}

/** Say each new offer once (screen readers: assertive), and buzz. */
function announceOffers() {
  for (const o of openOffers(state, now())) {
    const key = `${o.job}|${o.n}`;
    if (announced.includes(key)) continue;
    announced.push(key);
    const here = myPosition();
    const d = here && o.lat != null ? formatDistance(distanceM(here, o), lang) : '—';
    const s = o.deadline ? Math.max(0, Math.round((o.deadline - now()) / 1000)) : offerTotalS;
    setText($('offer-say'), t('offer_new_say', { d, s }));
    if (navigator.userActivation?.hasBeenActive ?? true) navigator.vibrate?.([300, 120, 300]);
  }
}

function myPosition() {
  return gps?.pos ?? state.view?.position ?? null;
}

// -- rendering --------------------------------------------------------------------------

function render() {
  if (!state.view) return;
  const v = state.view;
  const name = personName(v.name ?? boot.tech?.name, lang);
  setText($('tech-name'), name);
  document.title = `${name} · ${t('tech_title')}`;
  const chip = $('tech-status');
  chip.className = `w-status chip ts-${v.status}`;
  setText(chip, t(`d_ts_${v.status}`));
  document.body.dataset.status = v.status;
  renderOffers();
  renderNext();
  renderRoute();
  renderShift();
  renderMap();
  renderGps();
  renderKeys();
}

function kbd(key) {
  return shortcutsOn ? h('kbd', { 'aria-hidden': 'true' }, key.toUpperCase()) : null;
}

/** The shortcut switch (a toggle button, its state in words too) and the keys' help. */
function renderKeys() {
  const toggle = $('keys-toggle');
  toggle.setAttribute('aria-pressed', String(shortcutsOn));
  setText(toggle, t('keys_on_off', { name: t('keys_toggle'), state: t(shortcutsOn ? 'on' : 'off') }));
  setText($('keys'), shortcutsOn ? t('keys_hint') : t('keys_off'));
}

function setShortcuts(on) {
  shortcutsOn = on;
  try { localStorage.setItem(KEYS_STORE, on ? 'on' : 'off'); } catch { /* private mode: this page only */ }
  renderKeys();
  render();
}

function offerFacts(o) {
  const here = myPosition();
  const facts = [];
  if (here && o.lat != null) facts.push([t('d_distance'), formatDistance(distanceM(here, o), lang)]);
  if (o.window) facts.push([t('d_window'), windowFact(o.window)]);
  if (o.duration_s) facts.push([t('d_duration'), t('d_min', { n: Math.round(o.duration_s / 60) })]);
  if (o.skills?.length) facts.push([t('d_skills'), skillNames(o.skills)]);
  if (o.customer || o.address) facts.push([t('d_customer'), [o.customer, o.address].filter(Boolean).join(' · ')]);
  return facts;
}

/** An offer's window: its day (when not today) and its times as two parts, one line on a
 *  phone ("Tue 8 Dec, 14:00–16:00"), two on a wristband (its half of 240 px cut the line
 *  at the date: "Tue 8 Dec,…", the time unseen before Accept). */
function windowFact(win) {
  const p = windowParts(win, lang, tz, now());
  if (!p) return '';
  if (!p.day) return p.times;
  return [h('span', { class: 'win-day' }, p.day), h('span', { class: 'win-sep' }, lang === 'zh' ? ' ' : ', '), h('span', { class: 'win-times' }, p.times)];
}

function renderOffers() {
  const offers = openOffers(state, now());
  document.body.classList.toggle('has-offer', offers.length > 0);
  $('offers').hidden = offers.length === 0;
  setText($('offers-title'), t('offer_kicker'));
  const key = JSON.stringify([lang, shortcutsOn, offers.map((o) => [o.job, o.n, o.lat, outbox.pendingAct('accept', o.job), outbox.pendingAct('decline', o.job)])]);
  replaceChildren($('offer-list'), offers.map((o, i) => offerCard(o, i, offers.length)), key);
  tickOffers();
}

function offerCard(o, i, n) {
  const sending = outbox.pendingAct('accept', o.job) || outbox.pendingAct('decline', o.job);
  const id = `offer-${i}`;
  return h('article', { class: `offer-card${o.priority >= 80 ? ' urgent' : ''}`, dataset: { offer: o.job, deadline: o.deadline ?? '' }, 'aria-labelledby': `${id}-t` },
    h('header', { class: 'offer-head' },
      h('h3', { id: `${id}-t`, class: 'offer-kicker' }, t('offer_kicker'), h('span', { class: 'offer-ref num' }, ` ${shortJob(o.job)}`)),
      n > 1 ? h('span', { class: 'offer-n' }, t('offer_n', { i: i + 1, n })) : null,
      o.priority >= 80 ? h('span', { class: 'badge-urgent' }, t('urgent')) : null),
    h('div', { class: 'offer-timer', role: 'timer', 'aria-live': 'off' },
      h('span', { class: 'offer-secs num' }, ''),
      h('span', { class: 'offer-unit' }, t('offer_left')),
      h('span', { class: 'offer-bar', 'aria-hidden': 'true' }, h('span', { class: 'offer-bar-fill' }))),
    h('dl', { class: 'offer-facts' }, offerFacts(o).map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v)))),
    h('div', { class: 'offer-actions' },
      h('button', { type: 'button', class: 'btn offer-decline', disabled: sending, onclick: () => act('decline', o.job) },
        icon('close'), h('span', {}, t('decline')), i === 0 ? kbd('d') : null),
      h('button', { type: 'button', class: 'btn offer-accept', disabled: sending, onclick: () => act('accept', o.job) },
        icon('check'), h('span', {}, sending ? t('offer_sending') : t('accept')), i === 0 ? kbd('a') : null)));
}

/** The countdowns: text and bar only (the cards themselves stay, and so does focus). */
function tickOffers() {
  const t0 = now();
  let expired = false;
  for (const card of document.querySelectorAll('.offer-card')) {
    const dl = Number(card.dataset.deadline);
    if (!dl) continue;
    // Never more than the region's timeout: the clock estimate lags the server by the page's load.
    const left = Math.min(offerTotalS, Math.max(0, Math.ceil((dl - t0) / 1000)));
    setText(card.querySelector('.offer-secs'), left > 0 ? String(left) : t('offer_expired'));
    card.style.setProperty('--left', String(Math.min(1, left / offerTotalS)));
    card.classList.toggle('hurry', left <= 15);
    if (left <= 0) expired = true;
  }
  if (expired) renderOffers();
}

function renderNext() {
  const stop = nextStop(state);
  setText($('next-title'), t('next_job'));
  const here = myPosition();
  const el = $('next');
  if (!stop) {
    const off = state.view.status === 'offline';
    replaceChildren(el, [h('p', { class: 'w-empty' }, t('no_job')), h('p', { class: 'muted' }, t(off ? 'off_shift_hint' : 'no_job_hint'))], `none|${off}|${lang}`);
  } else {
    const rows = [
      // The arrival; one already past before setting off is no "arriving now" (customerEta).
      [t('d_eta'), stop.status === 'on_site' ? t('d_js_on_site') : customerEta({ status: stop.status, start_ms: stopEta(stop, here) }, now(), lang, tz), 'n-eta'],
      here && stop.lat != null ? [t('d_distance'), formatDistance(distanceM(here, stop), lang), 'n-dist'] : null,
      stop.window ? [t('d_window'), formatWindow(stop.window, lang, tz, now()), 'n-win'] : null,
      stop.duration_s ? [t('d_duration'), t('d_min', { n: Math.round(stop.duration_s / 60) }), 'n-dur'] : null,
      stop.skills?.length ? [t('d_skills'), skillNames(stop.skills), 'n-skills'] : null,
    ].filter(Boolean);
    replaceChildren(el, [
      h('div', { class: 'n-top' },
        h('p', { class: 'n-who' }, stop.customer ?? `${t('d_job')} ${shortJob(stop.job)}`),
        h('span', { class: `chip js-${stop.status}` }, t(`d_js_${stop.status}`))),
      stop.address ? h('p', { class: 'n-addr muted' }, stop.address) : null,
      h('dl', { class: 'n-facts' }, rows.map(([k, v, cls]) => h('div', { class: cls }, h('dt', {}, k), h('dd', { class: 'num' }, v)))),
    ], JSON.stringify([stop, rows, lang]));
    el.dataset.job = stop.job;
  }
  const buttons = actionsFor(state).filter((a) => JOB_ACTIONS.has(a.kind)).map(actionButton);
  replaceChildren($('job-actions'), buttons, JSON.stringify([actionsFor(state), lang, pendingKey(), shortcutsOn]));
}

/** On the way, the ETA from here (the plan's is as old as the last recompute); else the plan's. */
function stopEta(stop, here) {
  if (stop.status === 'en_route' && here && stop.lat != null) return liveEta(here, stop, now(), region.travel, tz) ?? stop.eta_ms;
  return stop.eta_ms;
}

function pendingKey() {
  return outbox.entries.filter((e) => e.kind === 'act').map((e) => `${e.msg.k}:${e.msg.j ?? ''}`).join(',');
}

function actionButton(a) {
  const pending = outbox.pendingAct(a.kind, a.job ?? '');
  const cls = a.kind === 'fail' ? 'btn btn-danger' : MAIN.has(a.kind) ? 'btn btn-primary big' : 'btn';
  return h('button', {
    type: 'button', class: `${cls} act-${a.kind}`, disabled: pending, 'aria-busy': pending ? 'true' : null,
    onclick: () => (a.kind === 'fail' ? openFail(a.job) : a.kind === 'offline' ? endShift() : act(a.kind, a.job ?? '')),
  }, h('span', {}, pending ? t('offer_sending') : t(`act_${a.kind}`)), KEYLESS.has(a.kind) ? null : kbd(a.key));
}

function renderRoute() {
  const later = laterStops(state).filter((s) => s.status !== 'offered');
  // "Later today" only while every stop is today; a stop on another day comes under its
  // day's name (Tuesday's stops were listed under "Later today", at bare times).
  const today = localDay(now(), tz);
  const dayOf = (s) => localDay(s.break ? s.start_ms : s.eta_ms, tz);
  setText($('route-title'), t(later.every((s) => dayOf(s) === today) ? 'route_title' : 'route_title_ahead'));
  const items = [];
  let day = today;
  for (const s of later) {
    const d = dayOf(s);
    if (d !== day) items.push(h('li', { class: 'stop-day', dataset: { day: d } }, formatDay(s.break ? s.start_ms : s.eta_ms, lang, tz)));
    day = d;
    items.push(s.break
      ? h('li', { class: 'stop stop-break' }, h('span', { class: 'stop-time num' }, formatTime(s.start_ms, lang, tz)), h('span', { class: 'stop-what' }, t('stop_break')))
      : h('li', { class: 'stop', dataset: { job: s.job } },
        h('span', { class: 'stop-time num' }, formatTime(s.eta_ms, lang, tz)),
        h('span', { class: 'stop-what' }, s.customer ?? `${t('d_job')} ${shortJob(s.job)}`,
          s.window ? h('span', { class: 'stop-win muted' }, ` · ${formatWindow(s.window, lang, tz, now())}`) : null)));
  }
  replaceChildren($('route'), items.length ? items : [h('li', { class: 'stop-empty muted' }, t('route_empty'))], JSON.stringify([later, lang, today]));
}

function renderShift() {
  const buttons = actionsFor(state).filter((a) => !JOB_ACTIONS.has(a.kind)).map(actionButton);
  replaceChildren($('shift'), buttons, JSON.stringify([actionsFor(state).map((a) => a.kind), lang, pendingKey(), shortcutsOn]));
}

function renderMap() {
  if (!map || !state.view) return;
  const me = myPosition();
  const stop = nextStop(state);
  const later = laterStops(state).filter((s) => s.job && s.lat != null && s.status !== 'offered');
  const offers = openOffers(state, now()).filter((o) => o.lat != null);
  const path = [me, stop, ...later].filter((p) => p && p.lat != null);
  map.update({
    zones: zonesIn(region, lang),
    lines: [{ id: 'route', kind: 'route', points: path }],
    jobs: [
      ...(stop && stop.lat != null ? [{ id: stop.job, lat: stop.lat, lon: stop.lon, kind: 'next', label: '1', title: t('next_job') }] : []),
      ...later.map((s, i) => ({ id: s.job, lat: s.lat, lon: s.lon, kind: 'later', label: String(i + 2), title: formatAt(s.eta_ms, lang, tz, now()) })),
      ...offers.map((o) => ({ id: `offer:${o.job}`, lat: o.lat, lon: o.lon, kind: 'offer', label: '?', title: t('offer_kicker') })),
    ],
    techs: me ? [{ id: techId, lat: me.lat, lon: me.lon, label: t('map_tech_label'), title: personName(state.view.name, lang) }] : [],
  });
  map.setLabel(t('map_tech'));
}

// What #gps-say last said about the GPS and the outbox: [GPS state, actions waiting?].
let gpsSaid = null;

function renderGps() {
  const el = $('gps');
  if (!el || !outbox) return;
  const c = outbox.counts();
  const mode = gps?.kind === 'sim' ? t('gps_sim') : t('gps_device');
  sayGps(c, mode);
  const parts = [h('span', { class: 'chip gps-mode' }, icon('pin'), mode)];
  if (gpsError) {
    parts.push(h('span', { class: 'gps-error' }, t(gpsError === 'denied' ? 'gps_denied' : 'gps_unavailable')));
    parts.push(h('button', { type: 'button', class: 'btn', id: 'sim-btn', onclick: startSim }, t('gps_simulate')));
  } else {
    parts.push(h('span', { class: 'gps-last num' }, lastFixAt ? t('gps_last', { time: formatTime(lastFixAt, lang, tz, true) }) : t('gps_waiting')));
  }
  parts.push(h('span', { class: `gps-queue ${c.total ? 'waiting' : 'synced'}` }, c.total ? t('gps_queue', { n: c.total }) : t('gps_synced')));
  el.dataset.queue = String(c.total);
  replaceChildren(el, parts, JSON.stringify([mode, gpsError, lastFixAt, c.total, lang]));
}

/** Say what changed that matters, once: GPS lost or back, actions waiting to go or all
 *  sent. Not each fix (its time, the fixes in flight), which the line shows. */
function sayGps(c, mode) {
  const fix = gpsError ? `lost:${gpsError}` : lastFixAt ? 'ok' : 'waiting';
  // Actions held (no connection to send them on) until all have gone; one sent and answered
  // in a moment while online is no news (its toast says what it did).
  const held = c.acts > 0 && !client?.isOpen() ? true : c.acts === 0 ? false : gpsSaid?.[1] ?? false;
  const before = gpsSaid;
  gpsSaid = [fix, held];
  if (!before) return; // the page's first state is on the screen, not news
  const words = [];
  if (before[0] !== fix && fix !== 'waiting') {
    words.push(gpsError ? t(gpsError === 'denied' ? 'gps_denied' : 'gps_unavailable')
      : `${mode} · ${t('gps_last', { time: formatTime(lastFixAt, lang, tz, true) })}`);
  }
  if (before[1] !== held) words.push(held ? t('gps_queue', { n: c.acts }) : t('gps_synced'));
  if (words.length) setText($('gps-say'), words.join(' · '));
}

// -- the fail dialog --------------------------------------------------------------------

let failJob = '';

function openFail(job) {
  failJob = job;
  const dlg = $('fail-dialog');
  setText(dlg.querySelector('h2'), t('fail_q'));
  replaceChildren(dlg.querySelector('.dialog-reasons'), FAIL_REASONS.map((r) => h('button', {
    type: 'button', class: 'btn', onclick: () => { dlg.close(); act('fail', failJob, r); },
  }, t(`fail_${r}`))));
  setText(dlg.querySelector('.dialog-cancel'), t('cancel'));
  dlg.showModal();
}

/** End the shift; with accepted jobs still to do, ask first: they go back to dispatch and
 * may be given to someone else (pressed by mistake, they would be gone by "Start shift"). */
function endShift() {
  const n = plannedJobs(state).length;
  if (!n) {
    act('offline', '');
    return;
  }
  const dlg = $('end-dialog');
  setText(dlg.querySelector('h2'), t('end_shift_q'));
  setText(dlg.querySelector('p'), t('end_shift_jobs', { n }));
  setText(dlg.querySelector('.end-yes'), t('end_shift_yes'));
  setText(dlg.querySelector('.dialog-cancel'), t('end_shift_no'));
  dlg.showModal();
}

function endDialog() {
  const dlg = h('dialog', { id: 'end-dialog', 'aria-labelledby': 'end-title', 'aria-describedby': 'end-body' },
    h('h2', { id: 'end-title' }),
    h('p', { id: 'end-body' }),
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn dialog-cancel', autofocus: true, onclick: () => dlg.close() }),
      h('button', { type: 'button', class: 'btn btn-danger solid end-yes', onclick: () => { dlg.close(); act('offline', ''); } })));
  return dlg;
}

function failDialog() {
  const dlg = h('dialog', { id: 'fail-dialog', 'aria-labelledby': 'fail-title' },
    h('h2', { id: 'fail-title' }),
    h('div', { class: 'dialog-reasons' }),
    h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn dialog-cancel', autofocus: true, onclick: () => dlg.close() })));
  return dlg;
}

// -- keys -------------------------------------------------------------------------------

function onKey(ev) {
  if (!shortcutsOn) return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat) return;
  if (ev.target.closest?.('input, select, textarea') || document.querySelector('dialog[open]')) return;
  const k = ev.key.toLowerCase();
  const offer = openOffers(state, now())[0];
  if (offer && (k === 'a' || k === 'd')) {
    ev.preventDefault();
    act(k === 'a' ? 'accept' : 'decline', offer.job);
    return;
  }
  const a = actionsFor(state).find((x) => x.key === k && !KEYLESS.has(x.kind));
  if (a) {
    ev.preventDefault();
    act(a.kind, a.job ?? '');
  }
}

// -- start ------------------------------------------------------------------------------

if (!region || boot.error || !techId) {
  errorScreen($('app'), t, boot.error ?? { code: 'unknown_technician' });
} else {
  toast = toaster(document.body);
  const setLang = (l) => {
    lang = l;
    t = layeredTranslator(OWN, l);
    lang0.remember(l);
    document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
    $('lang').replaceChildren(langSwitch(lang, t, setLang));
    render();
  };
  $('lang').replaceChildren(langSwitch(lang, t, setLang));
  setText($('tech-name'), personName(boot.tech?.name, lang));
  setText($('map-title'), t('map_tech'));
  document.body.append(failDialog(), endDialog());
  map = new MapView($('map'), { label: t('map_tech'), tiles: boot.map?.tiles, attribution: boot.map?.attribution, minSpanM: 1500 });
  outbox = new Outbox({ store: globalThis.localStorage, key: `sb.outbox.${techId}` });
  client = new Client({ token, encoding: 'msgpack' });
  client.core = new DeviceCore(onReply);
  const banner = connectionBanner(client, () => t, { timeZone: tz });
  document.body.prepend(banner.el);
  client.onState((s) => {
    if (s.status === 'online') {
      outbox.reconnected();
      pump();
    }
    renderGps();
  });
  client.subscribe(`tech:${techId}`, onMessage);
  client.start();
  if (params.get('sim') === '1') gps = { kind: 'sim', timer: null, stop() {} }; // starts with the first view
  else startDevice();
  $('keys-toggle').addEventListener('click', () => setShortcuts(!shortcutsOn));
  renderKeys();
  document.addEventListener('keydown', onKey);
  setInterval(pump, 250);
  setInterval(tickOffers, 250);
  setInterval(() => { renderNext(); renderGps(); }, 15000);
  window.switchboardTech = {
    get state() { return state; },
    get offers() { return openOffers(state, now()); },
    get position() { return myPosition(); },
    get pending() { return outbox.counts(); },
    get gps() { return gps?.kind ?? null; },
    get shortcuts() { return shortcutsOn; },
    announced, rejected, actErrors, sentActs, outbox, client, act,
  };
}
