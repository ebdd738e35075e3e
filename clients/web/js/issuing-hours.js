// Issuing hours as a page shows them (policy.hours, docs/configuration.md): from one answer of
// GET /v1/sites/{site}/hours, or a 409 site_closed / service_closed's details, whether the
// site (or a service) takes tickets at a given instant and when it opens, in words. Pure: the
// page keeps the answer and asks again at the times it names, so it flips by itself at the
// closing and opening time without asking the server every minute.
import { translator } from './i18n.js';

const ms = (iso) => (iso ? Date.parse(iso) : NaN);

/**
 * One status of the answer (the site's, or `services[id]`) at `now` (epoch ms):
 * {open, closesAt, opensAt, local, note, stale}. Past its `closes_at` it is closed until its
 * `next_open` (which an open answer names too: the next interval's start); past a `next_open`
 * it is open again, `stale`: the answer does not say until when (read it again).
 */
export function statusAt(x, now) {
  if (!x) return { open: true, closesAt: null, opensAt: null, local: null, note: null, stale: false };
  const closes = ms(x.closes_at);
  const opens = x.next_open_ms ?? ms(x.next_open);
  const opensAt = Number.isFinite(opens) ? opens : null;
  const reopened = opensAt != null && now >= opensAt;
  if (x.open_now && !(closes <= now)) {
    return { open: true, closesAt: Number.isFinite(closes) ? closes : null, opensAt, local: null, note: null, stale: false };
  }
  if (reopened) return { open: true, closesAt: null, opensAt: null, local: null, note: null, stale: true };
  // Closed since the answer (open then, past its end): not a closed date's name, if today had one.
  return { open: false, closesAt: null, opensAt, local: x.next_open_local ?? null, note: x.open_now ? null : x.closed_note ?? null, stale: false };
}

/** The first time after `now` at which the answer's site or a service opens or closes (epoch
 * ms), or null: when the page looks again. */
export function nextChange(answer, now) {
  if (!answer) return null;
  const times = [answer, ...Object.values(answer.services ?? {})]
    .flatMap((x) => [ms(x.closes_at), x.next_open_ms ?? ms(x.next_open)])
    .filter((x) => Number.isFinite(x) && x > now);
  return times.length ? Math.min(...times) : null;
}

/** Whether any status of the answer is open past its last known opening (read it again). */
export function stale(answer, now) {
  if (!answer) return false;
  return [answer, ...Object.values(answer.services ?? {})].some((x) => statusAt(x, now).stale);
}

/** The site-local date (YYYY-MM-DD) of `now` in `timeZone`. */
export function localDate(now, timeZone) {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  } catch {
    return new Date(now).toISOString().slice(0, 10);
  }
}

/**
 * When it opens, in words, from `next_open_local` {date, weekday, time}: "today at 13:00",
 * "Tue 9 Dec at 08:00" / "今天 13:00", "12月9日周二 08:00"; '' when none is known.
 */
export function opensWords(local, lang, timeZone, now) {
  if (!local?.date || !local.time) return '';
  const t = translator(lang);
  if (local.date === localDate(now, timeZone)) return t('hours_today_at', { time: local.time });
  const day = new Date(`${local.date}T12:00:00Z`);
  const when = new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB',
    { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' }).format(day).replace(',', '');
  return t('hours_day_at', { day: when, time: local.time });
}

/** "Closed for tickets — opens Tue 9 Dec at 08:00" (or no time: none within a year). */
export function siteClosedWords(local, lang, timeZone, now) {
  const when = opensWords(local, lang, timeZone, now);
  return translator(lang)(when ? 'hours_closed_opens' : 'hours_closed', { when });
}

/** A refused ticket's 409 site_closed / service_closed, in words: when it opens, the closed
 * date's name; `service`: the service's name in `lang`. */
export function refusalWords(code, details, lang, timeZone, now, service) {
  const t = translator(lang);
  const when = opensWords(details?.next_open_local, lang, timeZone, now);
  if (code === 'service_closed') {
    return t(when ? 'hours_service_closed_opens' : 'hours_service_closed', { service, when });
  }
  return siteClosedWords(details?.next_open_local, lang, timeZone, now);
}
