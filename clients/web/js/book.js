// The site's own public booking page (/book/{site}?token=…, a partner token whose only
// channel is `web`): what for, when, a mobile number; then the person's own page
// (/booking/{id}, the answer's `manage` link). The same availability every channel reads
// (docs/appointments.md), for the web channel's share; one POST with an Idempotency-Key, so
// a double tap or a retry on a poor signal books once.
import { addDays, bookable, bookingTranslator, localDay } from './booking-rules.js';
import { failedTimes, paintDayNav, timeGroups } from './booking-ui.js';
import { nameIn } from './i18n.js';
import { api, errorScreen, h, language, linkExpired, mountLangSwitch, randomId, readBoot, replaceChildren, setText, toaster, token } from './ui.js';

export const PHONE = /^\+?[0-9]{6,15}$/;
const SEARCH_DAYS = 14; // how far a first look goes for a day with a free time
// While the first look is under way, "Try again" after a day that did not load goes on
// looking from that day (a plain reload of it would stop at a closed day, a Sunday, and
// show "no free times" when the next day has them).
let retry = null;

// This page's own words: the services it leaves out because no counter serves them.
export const OWN = {
  en: { book_not_offered: 'Not bookable at the moment: {names}. Please call us.' },
  zh: { book_not_offered: '以下暂不能预约：{names}。请致电咨询。' },
};

/** The translator of the booking pages with this page's own words on top. */
export function bookTranslator(l) {
  const base = bookingTranslator(l);
  const own = OWN[l === 'zh' ? 'zh' : 'en'];
  return (key, vars = {}) => (key in own
    ? own[key].replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m))
    : base(key, vars));
}

/**
 * What the page offers to book, from the site document (`services`, `counters`) and the
 * booking schedule's `resources`: `offered`, the services some doctor or room takes bookings
 * for (`bookable`) and some counter serves, and `unserved`, those of the first kind no
 * counter serves (queueing/served.py: booking one is refused, 409 `service_not_served`), or
 * that were refused so since the page was opened (`refused`, ids). A site document without
 * `counters` (an older server): none is left out for that.
 */
export function offerable(siteServices, counters, resources, refused = new Set()) {
  const all = bookable(siteServices, resources);
  const served = Array.isArray(counters) ? new Set(counters.flatMap((c) => c.services ?? [])) : null;
  const ok = (s) => (served === null || served.has(s.id)) && !refused.has(s.id);
  return { offered: all.filter(ok), unserved: all.filter((s) => !ok(s)) };
}

/** A mobile number as typed ("138 0013 8000", "+86 (138) 0013-8071", "0086 138…", or
 * full-width as a Chinese input method types it) → digits with an optional +. The field
 * takes as many characters as the server does (queueing/phone.py's PATTERN, 32): spaces
 * and brackets count towards a maxlength, and a number cut short is texted to someone else. */
export function normalisePhone(text) {
  return String(text ?? '').normalize('NFKC').replace(/[\s\-\u2010-\u2014\u2212().]/g, '');
}

const boot = readBoot();
const lang0 = language(boot);
let { lang } = lang0;
let t = bookTranslator(lang);
const site = boot.site;
const tz = site?.timezone;
const rules = boot.booking_site ?? {};
const policy = rules.policy ?? {};
const skew = (boot.server_ms ?? Date.now()) - Date.now();
const now = () => Date.now() + skew;
const $ = (id) => document.getElementById(id);

let service = null;
let day = null;
let slots = null; // null: loading; {error}; [..]
let chosen = null;
let attempt = null; // {key, slot, phone}: one Idempotency-Key per booking attempt
let busy = false;
let error = null; // {key, vars} under the number: said again in the language chosen later
let toast = () => {};
const refused = new Set(); // services a booking was refused for: no counter serves them now


function resourceName(id) {
  return nameIn((rules.resources ?? []).find((r) => r.id === id)?.name ?? id, lang);
}

function render() {
  setText($('site-name'), nameIn(site.name, lang));
  setText($('title'), t('book_title'));
  document.title = `${t('book_title')} · ${nameIn(site.name, lang)}`;
  setText($('svc-title'), t('book_service'));
  const { offered: list, unserved } = offerable(site.services, site.counters, rules.resources, refused);
  const buttons = list.length ? list.map((s) => h('button', {
    type: 'button', class: 'btn', 'aria-pressed': String(s.id === service), dataset: { service: s.id },
    onclick: () => pickService(s.id),
  }, nameIn(s.name, lang))) : [h('p', { class: 'muted' }, t('book_no_services'))];
  // Left out, and said so: someone looking for one is not left wondering where it went.
  const names = unserved.map((s) => nameIn(s.name, lang)).join(lang === 'zh' ? '、' : ', ');
  if (names) buttons.push(h('p', { class: 'muted', id: 'not-offered' }, t('book_not_offered', { names })));
  replaceChildren($('services'), buttons, `${lang}|${service}|${list.length}|${names}`);
  renderWhen();
  renderWho();
}

function renderWhen() {
  setText($('when-title'), t('book_time'));
  $('when-body').hidden = !service;
  setText($('when-hint'), service ? '' : t('book_pick_service'));
  if (!service || !day) return;
  const today = localDay(now(), tz);
  paintDayNav({ prev: $('day-prev'), next: $('day-next'), name: $('day-name'), label: $('day-label'), input: $('day') },
    { day, today, horizonDays: policy.horizon_days, t, lang });
  let body;
  if (slots === null) body = [h('p', { class: 'muted' }, t('move_loading'))];
  else if (!Array.isArray(slots)) body = failedTimes(t, slots.error, () => (retry ?? (() => load(day)))());
  else {
    const free = slots.filter((s) => s.remaining > 0);
    body = free.length ? timeGroups(free, { lang, tz, nowMs: now(), t, resourceName, onPick: pickTime }) : [h('p', { class: 'muted' }, t('move_none'))];
  }
  replaceChildren($('times'), body, `${lang}|${today}|${day}|${JSON.stringify(slots)}`);
  for (const b of $('times').querySelectorAll('.b-time')) b.setAttribute('aria-pressed', String(b.dataset.slot === chosen?.slot));
}

function renderWho() {
  setText($('who-title'), t('book_details'));
  setText($('phone-label'), t('book_phone_label'));
  setText($('phone-hint'), t(boot.sms ? 'book_phone_hint_sms' : 'book_phone_hint', { n: policy.max_open_bookings ?? 3 }));
  setText($('chosen'), chosen ? t('book_chosen', {
    when: `${nameIn(site.services.find((s) => s.id === chosen.service)?.name ?? chosen.service, lang)}, ${
      new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: tz }).format(new Date(chosen.start))}`,
    resource: resourceName(chosen.resource),
  }) : '');
  renderVerify();
  setText($('phone-error'), error ? t(error.key, error.vars) : '');
  // The field an error is about is marked invalid while it stands (WCAG 3.3.1, 4.1.2); both
  // fields' descriptions already name #phone-error.
  markInvalid($('phone'), error?.key === 'book_phone_format');
  markInvalid($('code'), CODE_ERRORS.has(error?.key));
  const go = $('book-go');
  setText(go, t('book_go'));
  go.disabled = busy;
}

async function load(d) {
  day = d;
  retry = null;
  slots = null;
  renderWhen();
  const q = new URLSearchParams({ service, date: d, channel: 'web' });
  const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/availability?${q}`);
  if (d !== day) return null;
  slots = r.ok ? r.data : { error: r.data?.code ?? r.status };
  renderWhen();
  return slots;
}

/** A service picked: its first day with a free time (within two weeks), else today. */
function pickService(id) {
  // The service buttons are rebuilt (aria-pressed): keyboard focus, which would drop to the
  // page, goes on to the next step's heading instead (WCAG 2.4.3).
  const fromList = $('services').contains(document.activeElement);
  service = id;
  chosen = null;
  render();
  if (fromList) {
    $('when-title').tabIndex = -1;
    $('when-title').focus();
  }
  return searchFrom(id, 0);
}

async function searchFrom(id, first) {
  const today = localDay(now(), tz);
  const last = Math.min(SEARCH_DAYS, policy.horizon_days ?? SEARCH_DAYS);
  retry = null;
  for (let i = first; i <= last; i += 1) {
    const got = await load(addDays(today, i));
    if (service !== id || got === null) return; // another choice was made meanwhile
    if (!Array.isArray(got)) {
      retry = () => searchFrom(id, i);
      return;
    }
    if (got.some((s) => s.remaining > 0)) return;
  }
  await load(today);
}

// The errors about the texted code (not the number, nor the time).
const CODE_ERRORS = new Set(['book_code_format', 'book_code_needed', 'e_verification_failed']);

function markInvalid(el, on) {
  if (on) el.setAttribute('aria-invalid', 'true');
  else el.removeAttribute('aria-invalid');
}

/** Typing into a field its error is about: the error goes as soon as what is typed would do. */
function fixedYet() {
  if (error?.key === 'book_phone_format' && PHONE.test(normalisePhone($('phone').value))) sayError(null);
  else if (CODE_ERRORS.has(error?.key) && /^[0-9]{6}$/.test(normalisePhone($('code').value))) sayError(null);
}

function sayError(key, vars = {}) {
  error = key ? { key, vars } : null;
  renderWho();
}

function pickTime(s) {
  chosen = s;
  if (error?.key === 'book_pick_time') error = null;
  renderWhen();
  renderWho();
  $('phone').focus();
}

// Where texts can go, the page books for a number only with the code texted to it
// (realtime/verify.py): "Text me a code", then the 6 digits.
let sentTo = null; // the number the last code went to
let demoText = null;
let sentAt = 0;
const RESEND_MS = 60_000;

function renderVerify() {
  $('verify').hidden = !boot.verify;
  if (!boot.verify) return;
  const phone = normalisePhone($('phone').value);
  const sent = sentTo && sentTo === phone;
  const wait = sent ? Math.ceil((sentAt + RESEND_MS - Date.now()) / 1000) : 0;
  setText($('code-send'), sent ? (wait > 0 ? t('book_code_again_in', { s: wait }) : t('book_code_again')) : t('book_code_send'));
  $('code-send').disabled = busy || wait > 0;
  setText($('code-label'), t('book_code_label'));
  const demo = sent && demoText ? ` ${t('book_code_demo', { text: demoText[lang] ?? Object.values(demoText)[0] })}` : '';
  setText($('code-hint'), sent ? t('book_code_sent', { phone: sentTo }) + demo : t('book_code_first'));
}

async function sendCode() {
  const phone = normalisePhone($('phone').value);
  if (!PHONE.test(phone)) {
    sayError('book_phone_format');
    $('phone').focus();
    return;
  }
  busy = true;
  renderWho();
  const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/verify`, { method: 'POST', body: { phone, lang } });
  busy = false;
  if (r.ok) {
    sentTo = phone;
    sentAt = Date.now();
    demoText = r.data?.demo_text ?? null; // the demo has no gateway: the page shows the text
    sayError(null);
    $('code').value = '';
    $('code').focus();
  } else {
    const code = r.data?.code ?? (r.status ? String(r.status) : 'network');
    // 503 here is the SMS gateway's refusal (realtime/verify.py): said as such, while a
    // booking's or an action's 503 is not about a text.
    const key = code === 'unavailable' ? 'book_code_unavailable' : `e_${code}`;
    sayError(t(key) === key ? 'err_generic_action' : key, { code });
  }
  renderWho();
}

async function submit(e) {
  e.preventDefault();
  if (busy) return;
  if (!chosen) {
    sayError('book_pick_time');
    return;
  }
  const phone = normalisePhone($('phone').value);
  if (!PHONE.test(phone)) {
    sayError('book_phone_format');
    $('phone').focus();
    return;
  }
  const code = normalisePhone($('code').value);
  if (boot.verify && !/^[0-9]{6}$/.test(code)) {
    sayError(sentTo === phone ? 'book_code_format' : 'book_code_needed');
    (sentTo === phone ? $('code') : $('code-send')).focus();
    return;
  }
  sayError(null);
  // The same attempt (time and number) keeps its key: a retry after a lost answer is
  // answered with the booking the first one made, never a second. It keeps its language
  // too (the texts' language, docs/appointments.md): the same key with another body would
  // be refused as another request.
  if (!attempt || attempt.slot !== chosen.slot || attempt.phone !== phone) {
    attempt = { key: randomId(), slot: chosen.slot, phone, lang };
  }
  busy = true;
  renderWho();
  const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/bookings`, {
    method: 'POST', key: attempt.key, headers: boot.verify ? { 'Verification-Code': code } : undefined,
    body: { slot: chosen.slot, customer: phone, channel: 'web', notify: phone, lang: attempt.lang },
  });
  busy = false;
  if (r.ok && r.data?.manage) {
    toast(t('book_done'));
    location.assign(`${r.data.manage}&lang=${lang}`); // the page in the language chosen here
    return;
  }
  const why = r.data?.code ?? (r.status ? String(r.status) : 'network');
  sayError(t(`e_${why}`) === `e_${why}` ? 'err_generic_action' : `e_${why}`, { code: why });
  if (why === 'verification_failed') {
    $('code').value = '';
    $('code').focus();
  }
  if (why === 'service_not_served') { // its last counter stopped serving it meanwhile
    refused.add(chosen.service);
    service = null;
    chosen = null;
    attempt = null;
    render();
    return;
  }
  if (['slot_full', 'channel_quota', 'slot_closed', 'resource_suspended'].includes(why)) {
    chosen = null;
    attempt = null;
    renderWho();
    await load(day); // the times as they are now
  }
}

/** The page left open overnight: "Today" is the new day, and a day gone by is left for
 * today (its times have passed). */
function tick() {
  if (!service || !day) return;
  if (day < localDay(now(), tz)) {
    chosen = null;
    attempt = null;
    renderWho();
    load(localDay(now(), tz));
  } else {
    renderWhen();
  }
}

/** This page's own words for a link that does not open it (no appointment is at stake
 * here, unlike on the booking's own page), else the shared ones. */
function pageError(error) {
  const expired = error?.code === 'unauthorized' && token && linkExpired(token);
  const tr = (key, vars) => {
    const own = t(`book_${key}`, vars);
    return own === `book_${key}` ? t(key, vars) : own;
  };
  errorScreen($('app'), tr, expired ? { code: 'link_expired' } : error ?? { code: 'unknown_site' });
}

if (globalThis.document && document.body?.classList.contains('book-page')) {
  if (!site || boot.error) {
    pageError(boot.error);
  } else {
    toast = toaster(document.body);
    mountLangSwitch($('lang'), lang0, (l) => {
      lang = l;
      t = bookTranslator(l);
      render();
    });
    $('day-prev').addEventListener('click', () => load(addDays(day, -1)));
    $('day-next').addEventListener('click', () => load(addDays(day, 1)));
    $('day').addEventListener('change', (e) => { if (e.target.value) load(e.target.value); });
    $('who').addEventListener('submit', submit);
    $('code-send').addEventListener('click', sendCode);
    $('phone').addEventListener('input', renderVerify); // another number needs its own code
    for (const id of ['phone', 'code']) $(id).addEventListener('input', fixedYet);
    render();
    setInterval(tick, 30000);
    if (boot.verify) setInterval(renderVerify, 1000); // "Send again in 42 s"
    document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') tick(); });
    window.switchboardBook = { get chosen() { return chosen; }, get service() { return service; }, get day() { return day; } };
  }
}
