// The kiosk (/kiosk/{site}): a touch screen at the entrance. Choose a service, take a
// ticket, see it with its QR code (printable); appointment check-in by code where the site
// takes bookings; large text for older people, high contrast and speech (kiosk-speech.js)
// for blind visitors. Waiting counts and estimates come from the board topic.
import { emptyBoard, reduce } from './board-state.js';
import { Client } from './client.js';
import { formatEstimate, formatTime, nameIn, priorityName, translator } from './i18n.js';
import { icon } from './icons.js';
import { nextChange, opensWords, refusalWords, siteClosedWords, stale, statusAt } from './issuing-hours.js';
import { idleAt, idleTimer, stillHere, WARN_BEFORE_S } from './idle-timer.js';
import { controlWords, KioskVoice, sentences, ticketWords, waitingAreas } from './kiosk-speech.js';
import { compact, plain } from './typed.js';
import { api, connectionBanner, errorScreen, h, language, langSwitch, params, randomId, readBoot, replaceChildren, setText, token } from './ui.js';
import { applySiteWords } from './vocabulary-boot.js';

const boot = readBoot();
const lang0 = language(boot, { preferBrowser: false });
const defaults = { lang: lang0.lang, large: params.get('text') === 'large', contrast: params.get('contrast') === 'high' };
let { lang, t } = lang0;
let large = defaults.large;
let contrast = defaults.contrast;
// Speech: never on by default (no URL turns it on for everyone); one visitor's, until the
// kiosk goes back to its start for the next.
const voice = new KioskVoice();
const site = boot.site;
const tz = site?.timezone;
const $ = (id) => document.getElementById(id);

let board = emptyBoard();
let screen = 'services';
let ticket = null;
let idle = null; // the showing screen's idle timer (idle-timer.js); null on the others
let countdown = null;
let busy = false;
// Check-in by code only where the site takes bookings (the server says so in the boot block);
// set false too if a check-in finds the schedule gone while the page was open.
let checkInOpen = boot.check_in === true;
// The site's issuing hours (GET /v1/sites/{site}/hours; null: not read yet, taken as open): the
// start screen says when it is closed, and flips by itself at the times the answer names.
let hours = null;
let hoursTimer = null;

// Screens left with someone's typing or ticket on them go back to the start by themselves
// (the next person must not see it), warning first; what the warning says on each.
const IDLE_TEXT = { checkin: 'idle_text_checkin', ticket: 'idle_text', sms: 'idle_text_sms', priority: 'idle_text_priority', services: 'idle_text_start' };
// The start screen, left alone this long with another language, text size or contrast than
// the kiosk's own, puts them back: one person's choice is not the next one's. But a low-vision
// patient may still be reading the services with large text, so first the same warning as the
// other screens (WCAG 2.2.1), up for START_WARN_S.
const START_RESET_S = 120;
const START_WARN_S = Math.max(30, WARN_BEFORE_S);
// A minute with nobody at the start screen: whoever taps next is another visitor (a request
// of their own, classes loaded again). Nothing shows, so no warning.
const START_FORGET_S = 60;
let quietSince = Date.now(); // the last touch or key, or the screen shown

function show(name) {
  screen = name;
  for (const s of ['services', 'priority', 'busy', 'checkin', 'sms', 'ticket']) $(`screen-${s}`).hidden = s !== name;
  document.body.dataset.screen = name;
  if (name === 'services') renderServices(); // closed or opened meanwhile (issuing hours)
  startIdle();
  if (voice.on) speakScreen();
}

// A screen just said: the focus its code moves next (its first choice, Done) is said after it,
// not instead of it. Cleared once the code that showed it has run.
let justSaid = false;

function speakScreen(text = screenWords()) {
  voice.screen(text, lang);
  justSaid = true;
  queueMicrotask(() => { justSaid = false; });
}

/** The showing screen as said: its heading and its choices; the ticket, all of it. */
function screenWords() {
  const buttons = (id) => [...$(id).querySelectorAll('button')].filter((b) => !b.hidden).map((b) => controlWords(b, t));
  if (screen === 'services' && !$('closed').hidden) {
    return sentences([$('closed-text').textContent, $('closed-note').textContent, checkInOpen ? t('hours_checkin_open') : '', checkInOpen ? t('appointment') : ''], lang);
  }
  if (screen === 'services') return sentences([t('choose'), ...buttons('services'), checkInOpen ? t('appointment') : ''], lang);
  if (screen === 'priority') {
    const svc = site.services.find((s) => s.id === chosen);
    return sentences([t('priority_title'), nameIn(svc?.name ?? chosen, lang), ...buttons('priority-choices'), t('back')], lang);
  }
  if (screen === 'busy') return t('taking');
  if (screen === 'checkin') return sentences([t('checkin_title'), t('code_hint'), $('checkin-error').textContent], lang);
  if (screen === 'sms') return sentences([t('sms_title'), t('phone_hint'), $('sms-error').textContent], lang);
  if (screen !== 'ticket' || !ticket) return '';
  const svc = site.services.find((s) => s.id === ticket.service);
  return ticketWords({
    number: ticket.number,
    service: nameIn(svc?.name ?? ticket.service, lang),
    ahead: aheadText(ticket.people_ahead),
    estimate: ticket.estimate ? formatEstimate(ticket.estimate, lang) : null,
    notes: ['t-note', 't-sms'].filter((id) => !$(id).hidden).map((id) => $(id).textContent),
    areas: waitingAreas(site, ticket.service, (n) => nameIn(n, lang)),
  }, t, lang);
}

/** "Repeat" (its button, or R): the screen again. (A key while the warning is up answers it.) */
function repeat() {
  if (voice.on) speakScreen();
}

function idleWords() {
  return sentences([$('idle-title').textContent, $('idle-text').textContent, t('more_time')], lang);
}

function toggleSpeech() {
  if (!voice.available) return; // its label says so
  if (voice.on) voice.stop(t('sp_stopped'), lang); // said, then silence
  else voice.on = true;
  renderChrome();
  startOver();
  if (voice.on) speakScreen(sentences([t('sp_started'), screenWords()], lang));
}

// A tall portrait kiosk has its accessibility bar along the bottom (css/kiosk.css, the same
// query): there it comes after the screens in the page too, so Tab reaches the screen's
// choices first and the bar last, as they are seen (WCAG 2.4.3); elsewhere it is in the
// header, after the title, before the screens, as seen.
const TALL = globalThis.matchMedia?.('(orientation: portrait) and (min-height: 1400px)');

function placeTools() {
  const tools = $('k-tools');
  const home = TALL?.matches ? $('app') : document.querySelector('.k-head');
  if (tools.parentElement === home) return;
  const focused = tools.contains(document.activeElement) ? document.activeElement : null;
  if (TALL?.matches) home.insertBefore(tools, $('idle-dialog'));
  else home.append(tools);
  focused?.focus(); // moved, it lost its focus
}

function second() {
  return (site.languages ?? []).map((l) => l.split('-')[0]).find((l) => l !== lang && (l === 'zh' || l === 'en'));
}

function renderChrome() {
  document.body.classList.toggle('large', large);
  // The kiosk's sizes are in rem: large text scales the root, not just the body.
  document.documentElement.classList.toggle('k-large', large);
  document.body.classList.toggle('contrast', contrast);
  setText($('site-name'), nameIn(site.name, lang));
  setText($('kiosk-title'), t('kiosk_title'));
  document.title = `${nameIn(site.name, lang)} · ${t('kiosk_title')}`;
  for (const [id, on, icn, key] of [['large-btn', large, 'text', 'large_text'], ['contrast-btn', contrast, 'contrast', 'high_contrast']]) {
    const b = $(id);
    b.setAttribute('aria-pressed', String(on));
    b.replaceChildren(icon(icn), t(key));
  }
  // No Web Speech API in this browser: the toggle says so, rather than do nothing. The bar's
  // and the tall portrait kiosk's first Tab stop (kiosk.html) are one toggle.
  for (const sp of [$('speech-btn'), $('speech-first')]) {
    sp.setAttribute('aria-pressed', String(voice.on));
    sp.replaceChildren(icon(voice.available ? 'sound' : 'mute'), t(voice.available ? 'speech' : 'speech_none'));
    if (voice.available) sp.removeAttribute('aria-disabled');
    else sp.setAttribute('aria-disabled', 'true');
  }
  $('repeat-btn').hidden = !voice.on;
  $('repeat-btn').replaceChildren(icon('sound'), t('repeat'));
  // Rebuilt: a keyboard's focus on a language button stays on the new one.
  const inLang = document.activeElement?.closest?.('#lang') ? document.activeElement.getAttribute('lang') : null;
  $('lang').replaceChildren(langSwitch(lang, t, (l) => { setLang(l); startOver(); }));
  if (inLang) $('lang').querySelector(`button[lang='${inLang}']`)?.focus();
  setText($('choose-title'), t('choose'));
  $('appt-btn').replaceChildren(icon('calendar'), t('appointment'));
  $('appt-btn').hidden = !checkInOpen;
  setText($('busy-text'), t('taking'));
  setText($('priority-title'), t('priority_title'));
  setText($('priority-back'), t('back'));
  setText($('checkin-title'), t('checkin_title'));
  setText($('code-label'), t('code_label'));
  setText($('code-hint'), t('code_hint'));
  setText($('checkin-back'), t('back'));
  setText($('checkin-submit'), t('check_in'));
  $('print-btn').replaceChildren(icon('print'), t('print'));
  setText($('done-btn'), t('done'));
  $('sms-btn').replaceChildren(icon('phone'), t('sms_offer'));
  setText($('sms-title'), t('sms_title'));
  setText($('phone-label'), t('phone_label'));
  setText($('phone-hint'), t('phone_hint'));
  setText($('sms-back'), t('back'));
  setText($('sms-submit'), t('sms_submit'));
  setText($('idle-title'), t('idle_title'));
  setText($('more-time'), t('more_time'));
  renderKeypad();
  renderPhonepad();
}

function renderServices() {
  const sec = second();
  // A service no counter serves (being set up, or its counters moved) is not offered: its
  // tickets would wait, uncalled, until the day close.
  const offered = site.services.filter((s) => (site.counters ?? []).some((c) => c.services?.includes(s.id)));
  // Rebuilt only when the buttons themselves change (services, names, language, busy): a
  // button replaced under a finger loses the tap, and a keyboard's focus falls to the page.
  // The waiting counts and estimates change all day; they are updated in place below.
  const key = JSON.stringify([lang, busy, offered.map((s) => [s.id, s.prefix, s.name])]);
  replaceChildren($('services'), offered.map((s) => h('button', {
    type: 'button', class: 'k-service', dataset: { service: s.id }, disabled: busy,
    onclick: () => choose(s.id) },
  h('span', { class: 'k-prefix', 'aria-hidden': 'true' }, s.prefix),
  h('span', { class: 'k-svc-text' },
    h('span', { class: 'k-svc-name' }, nameIn(s.name, lang)),
    sec && nameIn(s.name, sec) !== nameIn(s.name, lang) ? h('span', { class: 'k-svc-second', lang: sec }, nameIn(s.name, sec)) : null),
  h('span', { class: 'k-svc-live' },
    h('span', { class: 'k-svc-waiting' }),
    h('span', { class: 'k-svc-est' }),
    h('span', { class: 'k-svc-hours', hidden: true })))), key);
  renderLiveFigures();
  renderClosed();
}

/** The site closed for tickets (its hours, at this moment): said big instead of the services,
 * with the closed date's name, in the kiosk's language and the site's other one; check-in for
 * appointments stays (its times are the booking schedule's, not these). */
function renderClosed() {
  const now = Date.now();
  const st = statusAt(hours, now);
  const shut = !st.open;
  $('closed').hidden = !shut;
  $('services').hidden = shut;
  $('choose-title').hidden = shut;
  if (!shut) return;
  const words = (l) => [siteClosedWords(st.local, l, tz, now), st.note ? translator(l)('hours_closed_note', { name: nameIn(st.note, l) }) : ''];
  const [text, note] = words(lang);
  setText($('closed-text'), text);
  setText($('closed-note'), note);
  $('closed-note').hidden = !note;
  const sec = second();
  setText($('closed-second'), sec ? words(sec).filter(Boolean).join(' ') : '');
  $('closed-second').hidden = !sec;
  if (sec) $('closed-second').lang = sec === 'zh' ? 'zh-CN' : 'en';
  setText($('closed-checkin'), checkInOpen ? t('hours_checkin_open') : '');
  $('closed-checkin').hidden = !checkInOpen;
}

/** A service's own hours on its button: closed while the site is open, disabled with when it
 * opens; open, when its tickets end. */
function renderServiceHours(btn, now) {
  const own = hours?.services?.[btn.dataset.service];
  const st = statusAt(own, now);
  const span = btn.querySelector('.k-svc-hours');
  btn.disabled = busy || !st.open;
  btn.querySelector('.k-svc-est').hidden = !st.open;
  const when = st.open ? '' : opensWords(st.local, lang, tz, now);
  const text = !own ? '' : !st.open ? (when ? t('hours_svc_opens', { when: when.trim() }) : t('hours_svc_shut'))
    : st.closesAt != null ? t('hours_svc_until', { time: formatTime(st.closesAt, lang, tz) }) : '';
  span.hidden = !text;
  span.classList.toggle('k-svc-closed', !st.open);
  setText(span, text);
}

/** The site's hours read again (at start, after a change of the site, at an opening, after a
 * refused ticket); the start screen drawn as they are now. */
async function loadHours() {
  const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/hours`);
  if (r.ok && r.data) hours = r.data;
  hoursChanged(r.ok ? null : 60_000);
}

/** The start screen as the hours are at this moment, and the next look at them: at the next
 * opening or closing they name (read again at an opening, whose end this answer does not
 * know); `retry`: in that long, the answer not read. */
function hoursChanged(retry = null) {
  clearTimeout(hoursTimer);
  const wasClosed = !$('closed').hidden;
  if (screen === 'services') renderServices();
  // Speech on at the start screen: its flip is said (closed now, or open again).
  if (voice.on && screen === 'services' && wasClosed !== !$('closed').hidden) speakScreen();
  const now = Date.now();
  if (stale(hours, now)) retry ??= 60_000; // the server's clock not there yet: soon again
  const at = nextChange(hours, now);
  const wait = Math.min(at != null ? at - now + 250 : Infinity, retry ?? Infinity);
  if (!Number.isFinite(wait)) return;
  // Past an opening: read again (how long it is open); a closing needs nothing new.
  hoursTimer = setTimeout(() => (stale(hours, Date.now()) ? loadHours() : hoursChanged()), Math.min(wait, 2 ** 31 - 1));
}

/** Each service button's waiting count and estimate, written into its spans (the button
 * stays the same element: its focus, and a finger's press on it, stay too). */
function renderLiveFigures() {
  const summary = Object.fromEntries(board.services.map((s) => [s.id, s]));
  for (const btn of $('services').querySelectorAll('.k-service')) {
    const live = summary[btn.dataset.service] ?? {};
    const waiting = live.waiting ?? null;
    const w = btn.querySelector('.k-svc-waiting');
    w.hidden = waiting == null;
    setText(w, waiting != null ? t('n_waiting', { n: waiting }) : '');
    // No estimate: no counter serving it is open or due, or (counters open) the queue will
    // not reach a new ticket before they close (the ticket still waits its turn).
    const est = btn.querySelector('.k-svc-est');
    est.classList.toggle('k-svc-closed', live.estimate === null);
    setText(est, live.estimate === null ? t(live.open > 0 ? 'not_before_close' : 'no_counter_open')
      : `${t('est_wait')} ${formatEstimate(live.estimate, lang)}`);
    renderServiceHours(btn, Date.now());
  }
}

// The classes a visitor may choose at this kiosk besides the site's default: those the site
// marks self_service (e.g. "priority" for older people), from the site's configuration,
// asked at the start and after each visitor (a class marked since shows for the next).
let choosable = [];
let defaultClass = 'walk_in'; // the site's default_priority: an early check-in's class
let chosen = null; // the service whose class is being chosen

async function loadClasses() {
  const r = await api(`/v1/sites/${encodeURIComponent(site.id)}`);
  if (!r.ok || !r.data) return; // what was known stays: a standard ticket is always there
  // Omitted when they are the defaults (only walk_in, the default class, is self_service).
  const dflt = r.data.policy?.default_priority ?? 'walk_in';
  defaultClass = dflt;
  choosable = (r.data.priority_classes ?? []).filter((c) => c.self_service && c.id !== dflt);
}

function renderPriority() {
  if (!chosen) return;
  const svc = site.services.find((s) => s.id === chosen);
  setText($('priority-service'), `${svc?.prefix ?? ''} ${nameIn(svc?.name ?? chosen, lang)}`.trim());
  const sec = second();
  const option = (label, other, hint, onclick, cls) => h('button', { type: 'button', class: `k-choice ${cls}`, onclick, disabled: busy },
    h('span', { class: 'k-choice-name' }, label),
    other && other !== label ? h('span', { class: 'k-choice-second', lang: sec }, other) : null,
    hint ? h('span', { class: 'k-choice-hint' }, hint) : null);
  const service = chosen;
  replaceChildren($('priority-choices'), [
    option(t('k_standard'), sec ? translator(sec)('k_standard') : null, t('k_standard_hint'),
      () => take(service, null), 'k-choice-standard'),
    ...choosable.map((c) => option(priorityName(c.id, choosable, lang), sec ? priorityName(c.id, choosable, sec) : null,
      // Who the default "priority" class is for; a site's own class says so in its name.
      c.id === 'priority' ? t('k_priority_hint') : null,
      () => take(service, c.id), 'k-choice-priority')),
  ]);
}

function renderTicket() {
  if (!ticket) return;
  setText($('t-site'), nameIn(site.name, lang));
  setText($('ticket-label'), t('your_number'));
  setText($('t-number'), ticket.number);
  const svc = site.services.find((s) => s.id === ticket.service);
  setText($('t-service'), nameIn(svc?.name ?? ticket.service, lang));
  setText($('t-ahead'), aheadText(ticket.people_ahead));
  // Checked in for a doctor or room that was suspended meanwhile (not answered): in line
  // for the service all the same, and told so here rather than at the wrong door.
  const susp = ticket.suspension;
  const note = $('t-note');
  // Checked in more than appointment_early_s before the appointment: a walk-in from now
  // (docs/appointments.md), though the ticket still names the appointment; said here.
  const notes = [
    susp && !susp.answered ? t('checkin_suspended', { reason: susp.reason || '—' }) : '',
    ticket.early ? t('checkin_early', { time: formatTime(ticket.appointment_at, lang, tz) }) : '',
  ].filter(Boolean);
  note.hidden = notes.length === 0;
  setText(note, notes.join(' '));
  // The server's public address when it has one (SWITCHBOARD_PUBLIC_URL): phones on mobile
  // data cannot reach the internal address this kiosk was opened at.
  const url = boot.public_url ? boot.public_url.replace(/\/+$/, '') + ticket.tracker : new URL(ticket.tracker, location.origin).href;
  const qr = $('t-qr');
  qr.src = `/qr.svg?data=${encodeURIComponent(url)}`;
  qr.alt = t('scan');
  setText($('t-scan'), t('scan'));
  setText($('t-time'), t('taken_at', { time: formatTime(ticket.issued_at ?? Date.now(), lang, tz) }));
  // Texts only where the server has an SMS gateway, and only for a ticket still waiting.
  $('sms-btn').hidden = !(boot.sms && ticket.token && ticket.position && !ticket.sms);
  $('t-sms').hidden = !ticket.sms;
  setText($('t-sms'), ticket.sms ? t(ticket.position > ALERT_POSITION ? 'sms_set' : 'sms_set_near', { phone: ticket.sms }) : '');
}

/** "Nobody ahead of you", "1 person ahead", "3 people ahead" (Chinese has one form). */
function aheadText(n) {
  if (n == null) return '';
  return t(n === 0 ? 'ahead_0' : n === 1 ? 'ahead_1' : 'ahead_n', { n });
}

/** A key of the screen's keypad pressed (the focus stays on it): with speech on, the field
 * as it is now, so a blind visitor hears what was typed (silent before). */
function sayTyped(input) {
  if (voice.on) voice.say(controlWords(input, t), lang);
}

// Booking codes use these characters only (no 0/O, 1/I: they are read aloud and typed).
const CODE_KEYS = [...'23456789ABCDEFGHJKLMNPQRSTUVWXYZ'];

function renderKeypad() {
  const keys = [...CODE_KEYS, 'clear', 'del'];
  $('keypad').replaceChildren(...keys.map((k) => h('button', {
    type: 'button', class: `btn k-key${k.length > 1 ? ' k-key-fn' : ''}`,
    onclick: () => {
      const input = $('code');
      if (k === 'clear') input.value = '';
      else if (k === 'del') input.value = input.value.slice(0, -1);
      else input.value += k;
      fieldError('code', 'checkin-error', '');
      sayTyped(input);
    },
  }, k === 'clear' ? t('clear') : k === 'del' ? t('del') : k)));
}

// Within this many places of the front, "almost your turn" is not sent (the server's
// SWITCHBOARD_ALERT_POSITION): only "your turn" is promised then.
const ALERT_POSITION = boot.alert_position ?? 3;
// A mobile number: digits, a leading + for another country's (6 to 15 digits, ITU E.164).
const PHONE = /^\+?[0-9]{6,15}$/;

function renderPhonepad() {
  const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '0', 'del'];
  $('phonepad').replaceChildren(...keys.map((k) => h('button', {
    type: 'button', class: `btn k-key${k === 'del' ? ' k-key-fn' : ''}`,
    'aria-label': k === 'del' ? t('del') : null,
    onclick: () => {
      const input = $('phone');
      if (k === 'del') input.value = input.value.slice(0, -1);
      else if (input.value.length < 16) input.value += k;
      fieldError('phone', 'sms-error', '');
      sayTyped(input);
    },
  }, k === 'del' ? t('del') : k)));
}

/** "138****0001": enough for its owner to check, not for the next person to read (a short
 * number keeps only its last two digits). */
export function maskPhone(p) {
  if (p.length < 9) return `${'*'.repeat(Math.max(0, p.length - 2))}${p.slice(-2)}`;
  return `${p.slice(0, 3)}${'*'.repeat(p.length - 7)}${p.slice(-4)}`;
}

// The number's request, not the kiosk's `busy`: an answer that is slow to come must not
// keep the next person from taking a ticket; one that comes after Back or the start is dropped.
let smsRequest = null;

async function setSms(ev) {
  ev.preventDefault();
  const phone = $('phone').value.replace(/[\s-]/g, '');
  if (!ticket) return;
  if (!PHONE.test(phone)) {
    fieldError('phone', 'sms-error', t('phone_format'), true);
    return;
  }
  if (smsRequest) return; // one at a time
  const mine = {};
  smsRequest = mine;
  $('sms-submit').disabled = true;
  const r = await api(`/v1/tickets/${encodeURIComponent(ticket.id)}/notify`, { method: 'POST', body: { to: phone, lang }, bearer: ticket.token }); // texts in the visitor's language
  if (smsRequest !== mine || screen !== 'sms') return; // Back, or the start, meanwhile
  smsRequest = null;
  $('sms-submit').disabled = false;
  if (!r.ok) {
    fieldError('phone', 'sms-error', errorText(r));
    return;
  }
  ticket = { ...ticket, sms: maskPhone(phone) };
  clearSms();
  renderTicket();
  show('ticket');
  $('done-btn').focus();
}

function clearSms() {
  smsRequest = null;
  $('sms-submit').disabled = false;
  $('phone').value = '';
  fieldError('phone', 'sms-error', '');
}

/** A form's error under its field, and the field marked invalid (WCAG 3.3.1, 4.1.2) while
 * the error is about what was typed (`invalid`): not for a network error, or a right code
 * at the wrong time. The field's description names the error already. */
function fieldError(field, errorId, text, invalid = false) {
  setText($(errorId), text);
  // Speech on: said (the field's words, where the focus goes next, after it), as a screen
  // reader says the alert; silent before, a blind visitor heard nothing go wrong.
  if (text && voice.on) speakScreen(text);
  if (text && invalid) $(field).setAttribute('aria-invalid', 'true');
  else $(field).removeAttribute('aria-invalid');
}

function setLang(l) {
  lang = l;
  t = translator(l);
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
  renderChrome();
  renderServices();
  renderPriority();
  renderTicket();
}

// One visitor's request keeps its Idempotency-Key until a ticket shows or the kiosk is back
// at its start: a tap again after "Network error" (the answer lost, the ticket made) is
// answered with the ticket already made, never a second one. Another choice (service,
// class, code) is another request, with a key of its own.
let attempt = null; // {key, what}

function attemptKey(path, body) {
  const what = JSON.stringify([path, body]);
  if (attempt?.what !== what) attempt = { key: randomId(), what };
  return attempt.key;
}

async function issue(path, body) {
  const key = attemptKey(path, body); // the same key on a retry, and on a tap again
  let r;
  for (let i = 0; i < 3; i++) {
    r = await api(path, { method: 'POST', body, key });
    if (r.status !== 0 && !(r.status >= 500) && !r.data?.temporary) break;
    await new Promise((res) => setTimeout(res, 600 * (i + 1)));
  }
  return r;
}

/** A service tapped: its ticket, or first "standard or priority?" where the site has classes
 * a visitor may choose. */
function choose(service) {
  if (busy) return undefined;
  if (!choosable.length) return take(service, null);
  chosen = service;
  renderPriority();
  show('priority');
  $('priority-choices').querySelector('button')?.focus();
  return undefined;
}

async function take(service, priority) {
  if (busy) return;
  busy = true;
  chosen = null;
  show('busy');
  // No class: the site's default (what a kiosk always may take).
  const body = priority ? { service, channel: 'kiosk', priority } : { service, channel: 'kiosk' };
  const r = await issue(`/v1/sites/${encodeURIComponent(site.id)}/tickets`, body);
  busy = false;
  if (r.ok) return showTicket(r.data);
  // Refused for the hours (closed at the server's clock before this kiosk's): the start
  // screen says so from now, and the hours are read again.
  if (r.data?.code === 'site_closed' || r.data?.code === 'service_closed') {
    hours = closedAnswer(hours, r.data.code, r.data.details ?? {});
    loadHours();
  }
  show('services');
  renderServices();
  alertError(r);
  // The keyboard's focus back on the service chosen (its button was hidden, then rebuilt).
  $('services').querySelector(`[data-service="${CSS.escape(service)}"]`)?.focus();
  return undefined;
}

/** A code as people type it: "hd4 3ux" (the booking page shows it in two groups), "HD4-3UX",
 * "ＨＤ４３ＵＸ" (full-width) → "HD43UX". A scanned QR payload is sent as it is (its booking
 * id may hold a dash). */
function typedCode(value) {
  const raw = plain(value).trim();
  return raw.startsWith('SBK1:') ? raw : compact(raw).toUpperCase();
}

async function checkIn(ev) {
  ev.preventDefault();
  const code = typedCode($('code').value);
  if (!code || busy) return;
  busy = true;
  fieldError('code', 'checkin-error', '');
  const r = await issue(`/v1/sites/${encodeURIComponent(site.id)}/check-in`, { code });
  busy = false;
  // Back at the start meanwhile (nobody answered the warning): not for the next person's eyes.
  if (screen !== 'checkin') return;
  if (r.ok) {
    showTicket(r.data);
    markEarly(r.data);
    return;
  }
  // Not found or malformed: the code typed is wrong (not a network error, nor the time).
  const wrong = r.data?.code !== 'booking_not_configured' && (r.status === 404 || r.data?.code === 'bad_request');
  fieldError('code', 'checkin-error', checkInError(r), wrong);
  $('code').focus();
}

/** Whether a checked-in ticket waits as a walk-in because it came early, from the booking
 * policy (GET …/booking, which a kiosk may read): the check-in answer does not say. Not
 * early: in the policy's appointment class (ticket_priority). Early: the site's default
 * class, or where both are one class, a check-in more than appointment_early_s before. */
export function isEarly(tk, policy, dflt) {
  if (!tk?.appointment_at || !policy) return false;
  const cls = policy.ticket_priority ?? 'appointment';
  if (cls !== dflt) return tk.priority !== cls;
  const earlyS = policy.appointment_early_s ?? 600;
  return Date.parse(tk.issued_at) < Date.parse(tk.appointment_at) - earlyS * 1000;
}

async function markEarly(tk) {
  if (!tk.appointment_at) return;
  const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/booking`);
  // Still this ticket on screen (the next person's must not get the note).
  if (!r.ok || ticket !== tk || screen !== 'ticket') return;
  if (!isEarly(tk, r.data?.schedule?.policy ?? {}, defaultClass)) return;
  ticket = { ...tk, early: true };
  renderTicket();
}

function checkInError(r) {
  const code = r.data?.code;
  // The site takes no bookings (any more): no code would do, so never say this one is wrong.
  if (code === 'booking_not_configured') {
    checkInOpen = false;
    $('appt-btn').hidden = true;
    return t('checkin_unavailable');
  }
  // 404: no such code — say so plainly.
  if (r.status === 404) return t('code_not_found');
  if (code === 'bad_request') return t('code_format');
  if (code === 'too_early') return t('too_early', { time: formatTime(r.data?.details?.opens, lang, tz) || '—' });
  if (code === 'too_late') return t('too_late');
  return errorText(r);
}

/** The hours known, closed as a 409 site_closed / service_closed says (until it opens). */
function closedAnswer(known, code, d) {
  const shut = { open_now: false, closes_at: null, next_open: d.next_open ?? null, next_open_ms: d.next_open_ms, next_open_local: d.next_open_local, closed_note: d.closed_note };
  if (code === 'site_closed') return { ...known, ...shut, services: {} };
  return { ...(known ?? { open_now: true }), services: { ...(known?.services ?? {}), [d.service]: shut } };
}

function errorText(r) {
  const code = r.data?.code ?? 'network';
  if (code === 'network') return t('err_network');
  if (code === 'site_closed' || code === 'service_closed') {
    const d = r.data.details ?? {};
    const svc = site.services.find((s) => s.id === d.service);
    return refusalWords(code, d, lang, tz, Date.now(), nameIn(svc?.name ?? d.service, lang));
  }
  const key = `err_${code}`;
  return t(key) === key ? t('err_generic', { code }) : t(key);
}

function alertError(r) {
  const el = h('div', { class: 'k-alert', role: 'alert' }, errorText(r));
  // Speech on: the error, then the screen it is back on (said as it showed, cut in here).
  if (voice.on) speakScreen(sentences([errorText(r), screenWords()], lang));
  document.body.append(el);
  setTimeout(() => el.remove(), 6000);
}

function showTicket(data) {
  ticket = data;
  attempt = null; // shown: the next tap is someone else's
  renderTicket();
  show('ticket');
  $('done-btn').focus();
}

/** A new screen: the whole time from now if it times out, no timer (and no warning) if not. */
function startIdle() {
  clearInterval(countdown);
  if ($('idle-dialog').open) $('idle-dialog').close();
  const now = Date.now();
  quietSince = now;
  // The start screen with the kiosk's own settings: the silent minute (its end resets nothing
  // anyone sees); with someone's, the warned timer.
  idle = screen === 'services' ? (changed() ? idleTimer(now, START_RESET_S, START_WARN_S) : idleTimer(now, START_FORGET_S, 0))
    : Object.hasOwn(IDLE_TEXT, screen) ? idleTimer(now) : null;
  if (!idle) return;
  tickIdle();
  countdown = setInterval(tickIdle, 250); // the count never skips a second
}

/** The clock of the screen showing: the ticket's countdown, the warning, the return. */
function tickIdle() {
  if (!idle) return;
  const { timer, phase, left } = idleAt(idle, Date.now());
  idle = timer;
  // Large text still waiting for its warning: the request is forgotten at the minute all the same.
  if (screen === 'services' && attempt && Date.now() - quietSince >= START_FORGET_S * 1000) attempt = null;
  if (screen === 'ticket') setText($('countdown'), t('returning', { s: left }));
  if (phase === 'expired') {
    reset();
  } else if (phase === 'warning') {
    // Speech on at the start screen: the warning says it goes too.
    const key = screen === 'services' && voice.on ? 'idle_text_start_speech' : IDLE_TEXT[screen];
    setText($('idle-text'), t(key, { s: left }));
    // Modal, and focus on "More time": screen readers say the alert dialog as it opens.
    if (!$('idle-dialog').open) {
      if (voice.on) speakScreen(idleWords()); // "More time", focused as it opens, after it
      $('idle-dialog').showModal();
    }
  } else if (left < idle.returnS) {
    // Still open a second after a touch: that was a swipe, with no click to close it.
    closeWarning();
  }
}

/** Any touch, key or typing while a screen times out: whoever is using it is still here. */
function onActivity() {
  quietSince = Date.now();
  if (!idle) return;
  idle = stillHere(idle, Date.now());
  tickIdle();
}

// The warning goes once the tap or key is over, not as it starts: closed under a finger,
// the page's tap would land on what the warning covered (Done, a key of the keypad).
function closeWarning() {
  if (!$('idle-dialog').open || idle?.warned) return;
  $('idle-dialog').close();
  // Focus is back where it was (the dialog restores it), but a text field gets its caret at
  // the start: put it after the code, so a keyboard's typing carries on rather than go first.
  const el = document.activeElement;
  if (el === $('code') || el === $('phone')) el.setSelectionRange(el.value.length, el.value.length);
}

/** The check-in form empty again: no code, half-typed or refused, is left for the next person. */
function clearCheckIn() {
  $('code').value = '';
  fieldError('code', 'checkin-error', '');
}

/** Back to the start for the next person (a screen, or the start, left alone past its
 * warning): their choices go too. `keepView`: Done was tapped by someone still there, whose
 * large text and contrast stay (the start screen's own warned timer puts them back). */
function reset(keepView = false) {
  ticket = null;
  chosen = null;
  attempt = null; // a new visitor: a new key
  loadClasses();
  clearCheckIn();
  clearSms();
  restoreDefaults(keepView);
  show('services');
}

/** Another language, text size or contrast than the kiosk's own, or speech on. */
function changed() {
  return lang !== defaults.lang || large !== defaults.large || contrast !== defaults.contrast || voice.on;
}

/** A choice made on the start screen: its warned timer from now (the silent minute if back to
 * the kiosk's own settings). */
function startOver() {
  if (screen === 'services') startIdle();
}

/** The kiosk's own language, text size and contrast (from its URL and boot block); only the
 * language with `keepView`. */
function restoreDefaults(keepView) {
  // Unchanged: nothing to redraw (the language switch rebuilt would drop its focus).
  if (!changed()) return;
  if (!keepView) {
    large = defaults.large;
    contrast = defaults.contrast;
    voice.stop(); // the next visitor starts without it
  }
  setLang(defaults.lang);
}

/** Done: the start screen, keyboard focus on its first service (not lost to the page). */
function done() {
  reset(true);
  const first = $('services').hidden ? null : $('services').querySelector('button:not([disabled])');
  (first ?? ($('appt-btn').hidden ? $('large-btn') : $('appt-btn'))).focus();
}

if (!site || boot.error) {
  errorScreen($('app'), t, boot.error ?? { code: 'unknown_site' });
} else {
  placeTools();
  TALL?.addEventListener?.('change', placeTools);
  // The bar's height, for the room kept under the screens on a tall portrait kiosk (it wraps
  // to two rows with Repeat shown and large text): nothing hides under it.
  const bar = $('k-tools');
  new ResizeObserver(() => document.body.style.setProperty('--k-bar-h', `${bar.offsetHeight}px`)).observe(bar);
  renderChrome();
  renderServices();
  show('services');
  $('speech-btn').addEventListener('click', toggleSpeech);
  $('speech-first').addEventListener('click', toggleSpeech);
  $('repeat-btn').addEventListener('click', repeat);
  // What gets the focus is said (a keypad's Tab, or a finger on it); the screen first when
  // it just came up.
  document.addEventListener('focusin', (ev) => {
    if (!voice.on || !(ev.target instanceof Element)) return;
    // A language's button: its name in that language, in its voice ("English", "中文").
    const other = ev.target.closest('.lang-switch') ? ev.target.getAttribute('lang')?.split('-')[0] : null;
    if (other) voice.say(translator(other)('lang_name'), other, { queue: justSaid });
    else voice.say(controlWords(ev.target, t), lang, { queue: justSaid });
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key !== 'r' && ev.key !== 'R') return;
    if (!voice.on || ev.ctrlKey || ev.altKey || ev.metaKey || ev.target?.matches?.('input, textarea')) return;
    ev.preventDefault();
    repeat();
  });
  $('large-btn').addEventListener('click', () => { large = !large; renderChrome(); startOver(); });
  $('contrast-btn').addEventListener('click', () => { contrast = !contrast; renderChrome(); startOver(); });
  $('appt-btn').addEventListener('click', () => { show('checkin'); $('code').focus(); });
  $('priority-back').addEventListener('click', () => { chosen = null; show('services'); });
  $('checkin-back').addEventListener('click', () => { clearCheckIn(); show('services'); });
  $('checkin-form').addEventListener('submit', checkIn);
  $('print-btn').addEventListener('click', () => window.print());
  $('sms-btn').addEventListener('click', () => { show('sms'); $('phone').focus(); });
  $('sms-back').addEventListener('click', () => { clearSms(); show('ticket'); $('done-btn').focus(); });
  $('sms-form').addEventListener('submit', setSms);
  // Typed on a keyboard (or a scanner): the error about what was typed before goes.
  // Said too, with speech on (as the screen's keypad: the field as it is now).
  $('code').addEventListener('input', () => { fieldError('code', 'checkin-error', ''); sayTyped($('code')); });
  $('phone').addEventListener('input', () => { fieldError('phone', 'sms-error', ''); sayTyped($('phone')); });
  $('done-btn').addEventListener('click', done);
  // Someone is there: a finger, a key or typing (a scanner, dictation) starts the time again
  // ('click' too, as a screen reader may send only that). "More time" needs no handler of its own.
  for (const type of ['pointerdown', 'keydown', 'click', 'input']) document.addEventListener(type, onActivity, true);
  for (const type of ['click', 'keyup']) document.addEventListener(type, closeWarning, true);
  const client = new Client({ token });
  const banner = connectionBanner(client, () => t, { timeZone: tz });
  // In the layout under the header, not over it: language and large text stay reachable.
  document.querySelector('.k-head').after(banner.el);
  client.subscribe(`board:${site.id}`, (msg) => {
    if (msg.op === 'error') return;
    board = reduce(board, msg);
    // The site was changed (docs/protocol.md `site`): its services are offered as they are
    // now (a removed one tapped said "unknown_service"; a new one never showed).
    if (msg.type === 'site' && msg.data?.site) {
      Object.assign(site, msg.data.site);
      const waiting = msg.data.waiting ?? {};
      board = { ...board, services: site.services.map((x) => ({ ...(board.services.find((y) => y.id === x.id) ?? {}), ...x, ...(waiting[x.id] ?? {}) })) };
      if (chosen && !site.services.some((x) => x.id === chosen)) { // its service went: start again
        chosen = null;
        if (screen === 'priority') show('services');
      }
      // Its words (vocabulary) changed: every screen is drawn again in them, as a change of
      // language draws it (rare: an admin's change, not a visitor's tap).
      if (applySiteWords(msg.data.site)) setLang(lang);
      loadHours(); // its hours may have changed too
    }
    if (screen === 'services') renderServices();
  });
  client.start();
  const classesLoaded = loadClasses();
  loadHours();
  window.switchboardKiosk = { get ticket() { return ticket; }, get screen() { return screen; }, client, classesLoaded,
    get spoken() { return voice.spoken.map((x) => ({ ...x })); }, get speech() { return voice.on; },
    get hours() { return hours; } };
}
