// A person's own appointment (/booking/{id}?token=…), the link a partner app, a text or an
// e-mail hands on when the booking is made (`manage` in the answer). What, when, with whom;
// its state in words; confirm a held or offered place; move it to another free time (the
// site's live availability, for the booking's own channel); cancel; on the day, check in
// from the phone (within the site's check-in window) and go on to the ticket page. When a
// doctor or room is suspended, the alternatives the server found come first, one tap each.
// Live through `booking:{id}` (docs/appointments.md); every action is the booking's REST API.
import { Client } from './client.js';
import { TICKET_ENDED, actionsFor, addDays, bookingTranslator, checkInWindow, dayLabel, earlyArrival, effectiveStatus, localDay, movableSlots, ms, needsAnswer, whenLabel } from './booking-rules.js';
import { failedTimes, paintDayNav, timeGroups } from './booking-ui.js';
import { applySiteWords } from './vocabulary-boot.js';
import { formatTime, nameIn } from './i18n.js';
import { api, connectionBanner, errorScreen, h, language, mountLangSwitch, readBoot, replaceChildren, setText, toaster, token } from './ui.js';

const boot = readBoot();
const lang0 = language(boot);
let { lang } = lang0;
let t = bookingTranslator(lang);
const site = boot.site;
const tz = site?.timezone;
const rules = boot.booking_site ?? {};
const policy = rules.policy ?? {};
const bookingId = boot.params?.booking;
// The server's clock: check-in opens by its time, not the phone's.
const skew = (boot.server_ms ?? Date.now()) - Date.now();
const now = () => Date.now() + skew;
const $ = (id) => document.getElementById(id);

let booking = null;
let updatedAt = null;
let movedFrom = null;
let busy = false;
let moveDay = null;
let moveSlots = null; // null: loading; {error}: failed; [..]: loaded
let askYes = null;
let lapseAsked = null; // the lapse (a deadline passed) already asked of the server
let bearer = token; // the link's, until a move answers a fresh one (adopt)
let client = null;

/** The API with this booking's token as it now is. */
const call = (path, options = {}) => api(path, { bearer, ...options });

/** A move answers a fresh token lasting to a day after the new time (the link's ended a
 * day after the old one): used from now on, and put in the address bar, so the page
 * reloaded or saved opens until the visit. */
function adopt(fresh) {
  if (!fresh || fresh === bearer) return;
  bearer = fresh;
  if (client) client.token = fresh; // its next reconnection
  try {
    const url = new URL(location.href);
    url.searchParams.set('token', fresh);
    history.replaceState(history.state, '', url);
  } catch { /* an address that cannot be rewritten: the old link still works until then */ }
}

function serviceName(id) {
  return nameIn(site.services.find((s) => s.id === id)?.name ?? id, lang);
}

function resourceName(id) {
  return nameIn((rules.resources ?? []).find((r) => r.id === id)?.name ?? id, lang);
}

function when(b) {
  return whenLabel(b, lang, tz, now(), t);
}

function at(iso) {
  const d = ms(iso);
  if (localDay(d, tz) === localDay(now(), tz)) return formatTime(d, lang, tz);
  const day = dayLabel(d, lang, tz, now(), t);
  // Mid-sentence in English: "from tomorrow 09:00", not "from Tomorrow 09:00".
  const inSentence = lang === 'en' && day === t('tomorrow') ? day.toLowerCase() : day;
  return `${inSentence} ${formatTime(d, lang, tz)}`;
}

/** The booking as it is now: past a deadline (a hold, an offer, the grace period) it has
 * lapsed on the server without any event (docs/appointments.md: the status is the one at
 * now), so the page says so at once, and asks the server once for the booking as it is. */
function current(b) {
  const status = effectiveStatus(b, policy, now());
  if (status === b.status) return b;
  const key = `${b.status}|${b.slot}|${status}`;
  if (lapseAsked !== key) {
    lapseAsked = key;
    refresh();
  }
  return { ...b, status };
}

async function refresh() {
  const r = await call(`/v1/bookings/${encodeURIComponent(bookingId)}`);
  if (r.ok) {
    show(r.data);
    render();
  }
}

function render() {
  setText($('site-name'), nameIn(site.name, lang));
  setText($('b-label'), t('label'));
  document.title = `${t('page_title')} · ${nameIn(site.name, lang)}`;
  if (!booking) {
    setText($('status'), t('b_loading'));
    return;
  }
  const b = current(booking);
  document.body.dataset.status = b.status;
  setText($('b-service'), serviceName(b.service));
  setText($('b-resource'), resourceName(b.resource));
  setText($('b-when'), when(b));
  // A suspension standing on the booking is what the person must act on: the status says
  // it, not "Booked" (a checked-in one stays in line: its status is still "Checked in").
  const chip = $('b-state');
  const suspended = choosing(b);
  chip.className = suspended ? 'chip b-state chip-warn st-suspended' : `chip b-state st-${b.status}`;
  setText(chip, suspended ? t('st_suspended') : t(`st_${b.status}`));
  renderStatus(b);
  renderAlternatives(b);
  renderActions(b);
  renderCode(b);
  renderMove();
  setText($('updated'), updatedAt ? t('updated', { time: formatTime(updatedAt, lang, tz, true) }) : '');
}

/** Whether the booking waits on the person's answer to a suspension: the alternatives are
 * shown, and the suspension is the first thing the page says. */
function choosing(b) {
  return needsAnswer(b) && b.status !== 'checked_in';
}

function statusLines(b) {
  const win = checkInWindow(b, policy, now(), tz);
  const early = earlyArrival(b, now());
  const lines = [];
  // A suspension first: above it, "booked, check in from 10:00" and the early-arrival rule
  // read as if the visit stood as it was.
  const s = b.suspension;
  if (needsAnswer(b)) {
    lines.push(t('susp_msg', { resource: resourceName(b.resource), from: at(s.from), until: at(s.until), reason: s.reason ?? '' }));
    if (b.status === 'checked_in') lines.push(t('susp_checked_in'));
    else lines.push(t(policy.keep_place === false ? 'susp_choose_plain' : 'susp_choose'));
  }
  if (movedFrom) lines.push(t('msg_moved', { old: at(movedFrom) }));
  switch (b.status) {
    case 'held': lines.push(t('msg_held', { time: at(b.hold_until) })); break;
    case 'offered': lines.push(t('msg_offered', { time: at(b.offer_until) })); break;
    case 'waitlisted': lines.push(b.waitlist_position ? t('msg_waitlisted_n', { n: b.waitlist_position }) : t('msg_waitlisted')); break;
    case 'confirmed':
      if (win.state === 'early') lines.push(t('msg_confirmed_early', { opens: at(new Date(win.opens).toISOString()) }));
      else if (!b.promote_at) lines.push(t('msg_confirmed_open')); // the rule, without its time
      else lines.push(t(early ? 'msg_confirmed_open_short' : 'msg_confirmed_open_now'));
      // Checked in before its time, a booked person waits in order of arrival until then:
      // said with the time (the site's), not as "shortly before".
      if (early) lines.push(t('msg_early_rule', { time: at(b.promote_at) }));
      break;
    case 'checked_in': {
      const number = b.ticket_number ?? ticketNumber;
      if (b.ticket_status === 'done') lines.push(t('msg_visit_done', { number }));
      else if (TICKET_ENDED.has(b.ticket_status)) lines.push(t('msg_ticket_closed', { number }));
      else lines.push(number ? t(b.late ? 'msg_checked_in_late' : 'msg_checked_in', { number }) : t('msg_checked_in_plain'));
      if (early) lines.push(t(early.state === 'waiting' ? 'msg_early_waiting' : 'msg_early_promoted', { time: at(b.promote_at) }));
      break;
    }
    case 'no_show': lines.push(win.state === 'walk_in' ? t('msg_no_show_walk_in') : t('msg_no_show')); break;
    default: lines.push(t(`msg_${b.status}`));
  }
  return lines;
}

let ticketNumber = null; // learnt from a check-in made on this page

function renderStatus(b) {
  const el = $('status');
  el.className = `t-status b-status st-${b.status}${needsAnswer(b) ? ' suspended' : ''}`;
  const lines = statusLines(b);
  replaceChildren(el, lines.map((m) => h('p', {}, m)), `${lines.join('|')}`);
}

function slotButton(s, onPick) {
  const label = `${whenLabel(s, lang, tz, now(), t)} · ${resourceName(s.resource)}`;
  return h('button', { type: 'button', class: 'btn b-slot', dataset: { slot: s.slot }, onclick: () => onPick(s) },
    h('span', { class: 'b-slot-when' }, label),
    s.remaining != null ? h('span', { class: 'b-slot-left muted' }, t('slot_left', { n: s.remaining })) : null);
}

function renderAlternatives(b) {
  const el = $('alts');
  const show = choosing(b);
  el.hidden = !show;
  if (!show) return;
  setText($('alts-title'), t('alts_title'));
  // None yet: being read (freshAlternatives), not "no other time is free".
  const reading = b.suspension.alternatives == null;
  const alts = (b.suspension.alternatives ?? []).filter((s) => s.remaining > 0);
  const none = h('p', { class: 'muted' }, t(reading ? 'alts_loading' : 'alts_none'));
  // The day in the key: "Tomorrow 09:30" reads "Today 09:30" after midnight.
  replaceChildren($('alts-list'), alts.length ? alts.map((s) => slotButton(s, askMove)) : [none],
    `${lang}|${localDay(now(), tz)}|${reading}|${JSON.stringify(alts)}`);
}

function renderActions(b) {
  const acts = actionsFor(b, policy, now(), tz);
  const label = { confirm: 'confirm_btn', check_in: 'checkin_btn', walk_in: 'walkin_btn', open_ticket: 'open_ticket', move: 'move_btn',
    cancel: b.status === 'waitlisted' ? 'leave_btn' : b.status === 'offered' ? 'decline_btn' : 'cancel_btn' };
  const handler = { confirm: doConfirm, check_in: askCheckIn, walk_in: askCheckIn, open_ticket: openTicket, move: openMove, cancel: askCancel };
  const primary = new Set(['confirm', 'check_in', 'walk_in', 'open_ticket']);
  const items = acts.map((a) => h('button', {
    type: 'button', id: `act-${a}`,
    class: `btn wide ${primary.has(a) ? 'btn-primary solid' : a === 'cancel' ? 'btn-danger' : ''}`,
    onclick: handler[a],
  }, t(label[a])));
  // Busy only disables the buttons: re-made, the one tapped would take the keyboard's and
  // a screen reader's focus with it.
  replaceChildren($('actions'), items, `${acts.join(',')}|${b.status}|${lang}`);
  for (const el of $('actions').querySelectorAll('button')) el.disabled = busy;
}

function renderCode(b) {
  const show = b.status === 'confirmed' || (b.status === 'no_show' && checkInWindow(b, policy, now(), tz).state === 'walk_in');
  $('code').hidden = !show;
  if (!show) return;
  setText($('code-title'), t('code_title'));
  // Six characters seen in two groups, "ABC DEF", and read out one by one, "A B C D E F"
  // (an aria-label on a paragraph is not read: the spelt-out text is, hidden from sight).
  replaceChildren($('code-value'), [
    h('span', { 'aria-hidden': 'true' }, `${b.code.slice(0, 3)} ${b.code.slice(3)}`),
    h('span', { class: 'visually-hidden' }, b.code.split('').join(' ')),
  ], b.code);
  const src = `/qr.svg?data=${encodeURIComponent(b.qr)}`;
  if ($('code-qr').getAttribute('src') !== src) $('code-qr').setAttribute('src', src);
  $('code-qr').alt = `${t('code_title')}: ${b.code}`;
  setText($('code-hint'), t('code_hint'));
}

// -- moving to another time ------------------------------------------------------------

function openMove() {
  moveDay = localDay(ms(booking.start) > now() ? ms(booking.start) : now(), tz);
  $('move').hidden = false;
  loadDay(moveDay);
  $('move-title').focus();
  $('move').scrollIntoView?.({ block: 'start' });
}

async function loadDay(day) {
  moveDay = day;
  moveSlots = null;
  renderMove();
  const q = new URLSearchParams({ service: booking.service, date: day, channel: booking.channel });
  const r = await call(`/v1/sites/${encodeURIComponent(site.id)}/availability?${q}`);
  if (day !== moveDay) return; // another day was picked meanwhile
  moveSlots = r.ok ? r.data : { error: r.data?.code ?? r.status };
  renderMove();
}

function renderMove() {
  const el = $('move');
  if (el.hidden || !booking) return;
  setText($('move-title'), t('move_title'));
  setText($('move-close'), t('move_close'));
  const today = localDay(now(), tz);
  if (moveDay < today) { // left open overnight: yesterday's times are gone
    loadDay(today);
    return;
  }
  paintDayNav({ prev: $('move-prev'), next: $('move-next'), name: $('move-day'), label: $('move-date-label'), input: $('move-date') },
    { day: moveDay, today, horizonDays: policy.horizon_days, t, lang });
  let body;
  if (moveSlots === null) body = [h('p', { class: 'muted' }, t('move_loading'))];
  else if (!Array.isArray(moveSlots)) body = failedTimes(t, moveSlots.error, () => loadDay(moveDay));
  else {
    const free = movableSlots(moveSlots, booking);
    body = free.length ? timeGroups(free, { lang, tz, nowMs: now(), t, resourceName, onPick: askMove }) : [h('p', { class: 'muted' }, t('move_none'))];
  }
  replaceChildren($('move-list'), body, `${lang}|${today}|${moveDay}|${JSON.stringify(moveSlots)}|${booking.slot}`);
}

function closeMove() {
  $('move').hidden = true;
  $('act-move')?.focus();
}

// -- asking first ------------------------------------------------------------------------

function ask(title, text, yes, no, onYes, danger = false) {
  setText($('ask-title'), title);
  setText($('ask-text'), text);
  setText($('ask-yes'), yes);
  setText($('ask-no'), no);
  $('ask-yes').className = `btn solid ${danger ? 'btn-danger' : 'btn-primary'}`;
  askYes = onYes;
  $('ask').showModal();
}

function askMove(s) {
  ask(t('ask_move_title', { when: `${whenLabel(s, lang, tz, now(), t)} · ${resourceName(s.resource)}` }),
    t('ask_move_text', { old: when(booking) }), t('ask_move_yes'), t('ask_move_no'), () => doMove(s));
}

function askCancel() {
  ask(t('ask_cancel_title', { when: when(booking) }), t('ask_cancel_text'), t('ask_cancel_yes'), t('ask_cancel_no'), doCancel, true);
}

function askCheckIn() {
  ask(t('ask_checkin_title'), t('ask_checkin_text'), t('ask_checkin_yes'), t('ask_checkin_no'), doCheckIn);
}

// -- actions -----------------------------------------------------------------------------

function failed(r) {
  const code = r.data?.code ?? (r.status ? String(r.status) : 'network');
  const key = `e_${code}`;
  const opens = r.data?.details?.opens; // too_early: when check-in opens
  let text = t(key, { time: opens ? at(opens) : '' });
  if (text === key) text = t('err_generic_action', { code });
  toast(text, 'error');
}

async function act(path, body, done) {
  if (busy) return null;
  busy = true;
  render();
  const r = await call(path, { method: 'POST', body });
  busy = false;
  if (r.ok) {
    done?.(r.data);
  } else {
    failed(r);
    // What changed meanwhile (a hold lapsed, a place went): show it as it is now, and the
    // free times too: a time another channel took since the list was read ("That time was
    // just taken") is no longer offered, nor tapped to fail again.
    const [fresh] = await Promise.all([
      call(`/v1/bookings/${encodeURIComponent(bookingId)}`),
      $('move').hidden || !moveDay ? null : loadDay(moveDay),
    ]);
    if (fresh.ok) show(fresh.data);
  }
  render();
  // The button tapped may be gone (confirmed, cancelled, a time re-read): the focus goes to
  // what the page now says (the free times, when they were re-read), not back to the top.
  const f = document.activeElement;
  if (!f || f === document.body || !f.isConnected) ($('move').hidden ? $('status') : $('move-title')).focus();
  return r;
}

function show(b) {
  booking = b;
  updatedAt = now();
}

async function doConfirm() {
  await act(`/v1/bookings/${encodeURIComponent(bookingId)}/confirm`, undefined, (b) => {
    show(b);
    toast(t('done_confirmed'));
  });
}

async function doCancel() {
  await act(`/v1/bookings/${encodeURIComponent(bookingId)}/cancel`, undefined, (b) => {
    show(b);
    $('move').hidden = true;
    toast(t('done_cancelled'));
  });
}

async function doMove(s) {
  const old = booking.start;
  await act(`/v1/bookings/${encodeURIComponent(bookingId)}/reschedule`, { slot: s.slot }, ({ token: fresh, manage: _, ...b }) => {
    adopt(fresh);
    show(b);
    movedFrom = old;
    $('move').hidden = true;
    toast(t('done_moved', { when: when(b) }));
  });
}

function ticketKey() {
  return `sb.booking.tracker.${bookingId}`;
}

async function doCheckIn() {
  const r = await act(`/v1/sites/${encodeURIComponent(site.id)}/check-in`, { code: booking.qr, channel: 'web' }, (tk) => {
    ticketNumber = tk.number;
    // Early (a walk-in until `promote_at`, the ticket's): the page says until when.
    const { promote_at: _, ...rest } = booking;
    booking = { ...rest, status: 'checked_in', ticket: tk.id, late: Boolean(tk.late), ticket_status: tk.status,
      checked_in_at: tk.issued_at, ...(tk.promote_at ? { promote_at: tk.promote_at } : {}) };
    updatedAt = now();
  });
  if (r?.ok && r.data?.tracker) goToTicket(r.data.tracker);
}

/** The ticket page of a checked-in booking: a repeated check-in answers with the same
 * ticket and a fresh link (docs/appointments.md), so the link need not be kept. */
async function openTicket() {
  let tracker = null;
  try { tracker = sessionStorage.getItem(ticketKey()); } catch { /* private mode */ }
  if (tracker) {
    location.assign(tracker);
    return;
  }
  const r = await act(`/v1/sites/${encodeURIComponent(site.id)}/check-in`, { code: booking.qr, channel: 'web' });
  if (r?.ok && r.data?.tracker) goToTicket(r.data.tracker);
}

function goToTicket(tracker) {
  try { sessionStorage.setItem(ticketKey(), tracker); } catch { /* private mode */ }
  location.assign(tracker);
}

function onMessage(msg) {
  if (msg.op === 'error') {
    errorScreen($('app'), t, msg);
    return;
  }
  if (msg.type === 'site' && msg.data?.site) { // the site changed: its names and words too
    Object.assign(site, msg.data.site);
    if (applySiteWords(msg.data.site)) t = bookingTranslator(lang);
    render();
    return;
  }
  if (!msg.data || msg.data.id !== bookingId) return;
  if (msg.type === 'rescheduled' && msg.data.moved_from?.start) movedFrom = msg.data.moved_from.start;
  if (msg.data.ticket_number) ticketNumber = msg.data.ticket_number;
  // An event's view lacks what only GET tells (the waiting-list place): keep it until the
  // status moves on.
  const wl = booking?.status === 'waitlisted' && msg.data.status === 'waitlisted' ? booking.waitlist_position : undefined;
  let b = wl && !msg.data.waitlist_position ? { ...msg.data, waitlist_position: wl } : msg.data;
  // Nor does it carry `promote_at` (the booking policy's, which GET adds): kept while the
  // time is the same (earlyArrival tells an on-time check-in by its time).
  if (booking?.promote_at && !b.promote_at && b.start === booking.start) b = { ...b, promote_at: booking.promote_at };
  messages += 1;
  if (needsAnswer(b)) b = freshAlternatives(b);
  show(b);
  render();
}

// A message carries a suspension's alternatives as the suspension found them: replayed after
// a reconnection (or arriving late) some are long taken. While the suspension waits on an
// answer, each such message has the booking read again (one GET), which lists those free now
// (docs/protocol.md); until it answers, the ones last read for that suspension are shown,
// or none. An answer overtaken by a newer message is dropped: that one asked again, or ended
// the suspension.
let messages = 0;
function freshAlternatives(b) {
  const seen = messages;
  call(`/v1/bookings/${encodeURIComponent(bookingId)}`).then((r) => {
    if (!r.ok || seen !== messages) return;
    show(r.data);
    render();
  });
  const known = booking?.suspension?.id === b.suspension.id ? booking.suspension.alternatives : null;
  return { ...b, suspension: { ...b.suspension, alternatives: known } };
}

let toast = () => {};
if (globalThis.document && document.body?.classList.contains('booking-page')) {
  if (!site || boot.error || !bookingId) {
    // An expired link is told as such by errorScreen (both languages: the site is unknown).
    errorScreen($('app'), t, boot.error ?? { code: 'unknown_booking' }, bookingTranslator);
  } else {
    toast = toaster(document.body);
    mountLangSwitch($('lang'), lang0, (l) => {
      lang = l;
      t = bookingTranslator(l);
      render();
    });
    $('ask-no').addEventListener('click', () => $('ask').close());
    $('ask-yes').addEventListener('click', () => {
      $('ask').close();
      const f = askYes;
      askYes = null;
      f?.();
    });
    $('move-close').addEventListener('click', closeMove);
    $('move-date').addEventListener('change', (e) => { if (e.target.value) loadDay(e.target.value); });
    $('move-prev').addEventListener('click', () => loadDay(addDays(moveDay, -1)));
    $('move-next').addEventListener('click', () => loadDay(addDays(moveDay, 1)));
    render();
    client = new Client({ token: bearer });
    const banner = connectionBanner(client, () => t, { timeZone: tz });
    document.body.prepend(banner.el);
    client.subscribe(`booking:${bookingId}`, onMessage);
    client.start();
    // The snapshot carries the waiting-list place; GET too, and answers before the socket.
    call(`/v1/bookings/${encodeURIComponent(bookingId)}`).then((r) => {
      if (r.ok && (!booking || !booking.waitlist_position)) {
        show(booking ? { ...booking, waitlist_position: r.data.waitlist_position } : r.data);
        render();
      } else if (!r.ok && !booking && [401, 403, 404].includes(r.status)) {
        errorScreen($('app'), t, r.data ?? { code: 'unknown_booking' });
      }
    });
    setInterval(render, 15000); // check-in opens on time; "tomorrow" turns into "today"
    // Back to a page left in the background (a phone's timers sleep): as it is now, and the
    // booking as the server has it (a waiting-list place moves without an event).
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState !== 'visible' || !booking) return;
      render();
      refresh();
    });
    window.switchboardBooking = { get booking() { return booking; }, client };
  }
}
