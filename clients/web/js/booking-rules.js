// The booking pages' pure rules and formats (/booking/{id} and /book/{site}): days and
// times in the site's zone, the check-in window, what each status allows, which free
// times to offer. No DOM, no network: checked as JS units (tests/browser/test_booking_page.py).
import { BOOKING_STRINGS } from './booking-strings.js';
import { formatTime } from './i18n.js';
import { layeredTranslator } from './ui.js';
import { withTerms } from './vocabulary.js';

/** The shared translator, with this page's own words first. */
export const bookingTranslator = (l) => layeredTranslator(withTerms(BOOKING_STRINGS), l);

export const TICKET_ENDED = new Set(['done', 'no_show', 'cancelled']);

export const ms = (iso) => (iso ? new Date(iso).getTime() : NaN);

/** YYYY-MM-DD of an instant in the site's zone (what availability's `date` means). */
export function localDay(when, timeZone) {
  const d = new Date(when);
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
  } catch {
    return d.toISOString().slice(0, 10);
  }
}

/** The next calendar day of a YYYY-MM-DD string, `n` days on. */
export function addDays(day, n) {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** "Today", "Tomorrow" or "Tue 8 Dec" / "12月8日 周二", in the site's zone, as of `nowMs`. */
export function dayLabel(when, lang, timeZone, nowMs, tr = bookingTranslator(lang)) {
  const day = localDay(when, timeZone);
  const today = localDay(nowMs, timeZone);
  if (day === today) return tr('today');
  if (day === addDays(today, 1)) return tr('tomorrow');
  const opts = { weekday: 'short', day: 'numeric', month: 'short' };
  const d = new Date(when);
  try {
    return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { ...opts, timeZone }).format(d);
  } catch {
    return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', opts).format(d);
  }
}

/** "Tomorrow 10:30–10:45": a slot's day and times in the site's zone. */
export function whenLabel(b, lang, timeZone, nowMs, tr = bookingTranslator(lang)) {
  const day = dayLabel(b.start, lang, timeZone, nowMs, tr);
  const end = b.end ? `–${formatTime(b.end, lang, timeZone)}` : '';
  return `${day} ${formatTime(b.start, lang, timeZone)}${end}`;
}

/**
 * When this booking may be checked in, as the server decides it (queueing/booking/rules.py
 * `arrival`): `early` before start − early_check_in_s, `open` until start + grace_s, then
 * `walk_in` for the rest of the same local day where the site takes late arrivals as
 * walk-ins, else `closed`. `opens` is the first moment check-in is possible.
 */
export function checkInWindow(b, policy, nowMs, timeZone) {
  const start = ms(b.start);
  const opens = start - (policy?.early_check_in_s ?? 3600) * 1000;
  const closes = start + (policy?.grace_s ?? 900) * 1000;
  if (nowMs < opens) return { state: 'early', opens };
  if (nowMs < closes) return { state: 'open', opens };
  const sameDay = localDay(nowMs, timeZone) === localDay(start, timeZone);
  return { state: (policy?.late_walk_in ?? true) && sameDay ? 'walk_in' : 'closed', opens };
}

/**
 * The status a booking has at `nowMs`, as the server decides it (queueing/booking/rules.py
 * `effective_status`): a hold or an offer past its deadline, or a waiting-list place whose
 * time has come, is `expired`; a booking not checked in by the end of its grace period is a
 * `no_show`. No event need have come: a page left open shows the booking as it now is.
 */
export function effectiveStatus(b, policy, nowMs) {
  const start = ms(b.start);
  if (b.status === 'held' && nowMs >= ms(b.hold_until)) return 'expired';
  if (b.status === 'offered' && nowMs >= ms(b.offer_until)) return 'expired';
  if (b.status === 'waitlisted' && nowMs >= start) return 'expired';
  if (b.status === 'confirmed' && nowMs >= start + (policy?.grace_s ?? 900) * 1000) return 'no_show';
  return b.status;
}

/**
 * What the early-arrival rule means for this booking at `nowMs` (docs/appointments.md,
 * `appointment_early_s`): checked in before `promote_at`, a booked person waits in order of
 * arrival until then and takes the appointment's place at that time. The booking's view
 * carries `promote_at` while that can still matter (confirmed), and once checked in before
 * it. Null: nothing to say. `before`: confirmed, the time still ahead; `waiting`: checked in
 * early, the move still ahead; `promoted`: checked in early, the time passed, still in line
 * (the server moves the ticket at that time, within seconds).
 */
export function earlyArrival(b, nowMs) {
  const at = ms(b?.promote_at);
  if (!b || Number.isNaN(at)) return null;
  if (b.status === 'confirmed') return nowMs < at ? { state: 'before', at } : null;
  if (b.status !== 'checked_in' || b.late) return null;
  if (b.checked_in_at && !(ms(b.checked_in_at) < at)) return null; // on time: its place at once
  if (b.ticket_status && b.ticket_status !== 'waiting') return null; // called, served, ended
  return { state: nowMs < at ? 'waiting' : 'promoted', at };
}

/** Whether the booking waits on an answer to a suspension of its doctor or room. */
export function needsAnswer(b) {
  return Boolean(b?.suspension && !b.suspension.answered && !['cancelled', 'expired'].includes(b.status));
}

/**
 * What the person may do now, in the order the page shows the buttons: the primary action
 * first (confirm, check in, open the ticket), then move and cancel. Only what the server
 * would allow (rules.py's table, on the status at `nowMs`): a refused tap is a worse answer
 * than no button.
 */
export function actionsFor(b, policy, nowMs, timeZone) {
  if (!b) return [];
  const out = [];
  const win = checkInWindow(b, policy, nowMs, timeZone);
  const status = effectiveStatus(b, policy, nowMs);
  switch (status) {
    case 'held':
    case 'offered':
      out.push('confirm');
      break;
    case 'confirmed':
      if (win.state === 'open' || win.state === 'walk_in') out.push('check_in');
      break;
    case 'no_show':
      if (win.state === 'walk_in') out.push('walk_in');
      break;
    case 'checked_in':
      // Not once the visit is over (the ticket done, missed or cancelled): nothing to follow.
      if (b.ticket && !TICKET_ENDED.has(b.ticket_status)) out.push('open_ticket');
      break;
    default:
  }
  // A waiting-list place or an offered one is confirmed or given up, not moved: the
  // server moves it only to answer a suspension (the alternatives, not this button).
  if (['held', 'confirmed'].includes(status) && !needsAnswer(b)) out.push('move');
  if (['held', 'confirmed', 'waitlisted', 'offered'].includes(status)) out.push('cancel');
  return out;
}

/** The free times to offer for a move: open places, not the booking's own slot; the same
 * doctor or room first, then by time. */
export function movableSlots(slots, b) {
  return (slots ?? [])
    .filter((s) => s.remaining > 0 && s.slot !== b.slot && s.service === b.service)
    .sort((x, y) => (x.resource === b.resource ? 0 : 1) - (y.resource === b.resource ? 0 : 1) || ms(x.start) - ms(y.start));
}

/** The services some doctor or room takes bookings for, in the site's order. */
export function bookable(siteServices, resources) {
  const taken = new Set((resources ?? []).flatMap((r) => r.services ?? []));
  return (siteServices ?? []).filter((s) => taken.has(s.id));
}
