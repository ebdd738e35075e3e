// What the dispatch pages (technician device, job tracking, enterprise dashboard) share: the
// server's clock, ETAs and windows in the region's time zone, names in the page's language.
// Pure functions (serverClock's default reads Date.now()).
import { formatTime, nameIn, translator } from './i18n.js';
import { distanceM } from './map.js';

/** A clock on the server's time: the boot block's server_ms against this device's clock when
 *  the page loaded. Offer deadlines and "how long ago" are judged on it (a wristband's own
 *  clock is often minutes off). */
export function serverClock(boot, now = () => Date.now()) {
  const skew = boot?.server_ms ? boot.server_ms - now() : 0;
  return () => now() + skew;
}

/** "王伟 Wang Wei" → "王伟" in Chinese, "Wang Wei" in English; a one-language name as is. */
export function personName(name, lang) {
  const s = String(name ?? '').trim();
  const m = s.match(/^([\u3400-\u9fff·]+)\s+([A-Za-z][A-Za-z .'-]*)$/u);
  if (!m) return s;
  return lang === 'zh' ? m[1] : m[2];
}

/** The region's zones for the map, each name in the page's language (a zone's and a
 *  region's name is a string or {lang: text}). */
export function zonesIn(region, lang) {
  return (region?.zones ?? []).map((z) => ({ ...z, name: nameIn(z.name, lang) }));
}

/** Minutes from now until `ms` (rounded up; 0 when due): a countdown, not a promise. */
export function minutesUntil(ms, now) {
  if (ms == null) return null;
  return Math.max(0, Math.ceil((ms - now) / 60000));
}

/** An ETA as "14:35 · in 12 min" (or "arriving now"), in the region's zone; on another day
 *  than `now` with its day first ("Tue 8 Dec, 06:01"): a bare "06:01" for tomorrow morning
 *  read as a time today. */
export function formatEta(ms, now, lang, timeZone) {
  const t = translator(lang);
  if (ms == null) return t('none');
  const m = minutesUntil(ms, now);
  const when = formatAt(ms, lang, timeZone, now);
  if (m <= 1) return t('d_eta_now', { time: when });
  if (m < 90) return t('d_eta_in', { time: when, n: m });
  return when;
}

/** When service is expected to start at a job: its `start_ms` where the view has one, else
 *  the later of its ETA (the arrival) and its window's opening — a technician who is early
 *  waits for the window, and the customer for the technician. */
export function expectedStart(job) {
  if (job?.start_ms != null) return job.start_ms;
  if (job?.eta_ms == null) return null;
  return Math.max(job.eta_ms, Array.isArray(job.window) ? job.window[0] ?? 0 : 0);
}

// Until these move to i18n.js's tables (not this module's to edit).
const REPLANNING = {
  en: 'Later than planned — a new time follows shortly',
  zh: '比原计划晚，新的时间稍后更新',
};

/** A customer's "Expected arrival": when service is expected to start, in the region's zone.
 *  A planned time already past while the technician has not set off is no "arriving now":
 *  it says so until the plan's new time arrives. */
export function customerEta(job, now, lang, timeZone) {
  const ms = expectedStart(job);
  if (ms != null && job?.status !== 'en_route' && ms < now - 60000) return REPLANNING[lang] ?? REPLANNING.en;
  return formatEta(ms, now, lang, timeZone);
}

/** The local calendar day of `ms` in `timeZone`, as "2026-12-08". */
export function localDay(ms, timeZone) {
  try {
    return new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone }).format(new Date(ms));
  } catch {
    return new Date(ms).toISOString().slice(0, 10);
  }
}

/** A day as "Tue 8 Dec" / "12月8日周二", in `timeZone`. */
export function formatDay(ms, lang, timeZone) {
  const opts = { weekday: 'short', day: 'numeric', month: 'short' };
  const locale = lang === 'zh' ? 'zh-CN' : 'en-GB';
  try {
    return new Intl.DateTimeFormat(locale, { ...opts, timeZone }).format(new Date(ms));
  } catch {
    return new Intl.DateTimeFormat(locale, opts).format(new Date(ms));
  }
}

/** A time as "14:35", or "Tue 8 Dec, 14:35" / "12月8日周二 14:35" when it is on another local
 *  day than `now` (in the region's zone, like formatWindow): an ETA or a window's end
 *  tomorrow must not read as a time today. */
export function formatAt(ms, lang, timeZone, now = Date.now()) {
  if (ms == null) return '';
  const time = formatTime(ms, lang, timeZone);
  if (localDay(ms, timeZone) === localDay(now, timeZone)) return time;
  return `${formatDay(ms, lang, timeZone)}${lang === 'zh' ? ' ' : ', '}${time}`;
}

/** A time window [start_ms, end_ms] as "14:00–16:00", or "Tue 8 Dec, 14:00–16:00" when it
 *  opens on another day than `now` (in the region's zone: a visit booked ahead must not read
 *  as today's). */
export function formatWindow(win, lang, timeZone, now = Date.now()) {
  const p = windowParts(win, lang, timeZone, now);
  if (!p) return '';
  return p.day ? `${p.day}${lang === 'zh' ? ' ' : ', '}${p.times}` : p.times;
}

/** formatWindow's parts, {day, times} (day '' when it opens on `now`'s day), or null: for a
 *  screen that sets them on two lines (a wristband's offer has half of 240 px for it). */
export function windowParts(win, lang, timeZone, now = Date.now()) {
  if (!Array.isArray(win) || win.length !== 2 || !win[1]) return null;
  const times = `${formatTime(win[0], lang, timeZone)}–${formatTime(win[1], lang, timeZone)}`;
  const day = localDay(win[0], timeZone) === localDay(now, timeZone) ? '' : formatDay(win[0], lang, timeZone);
  return { day, times };
}

const BOOKED_FOR = { en: 'Booked for {when}', zh: '已预约：{when}' };

/** "Booked for Tue 8 Dec, 10:00–12:00" for a job not yet planned whose window opens on a
 *  later day than `now` (planning leaves it for that day); '' otherwise. */
export function bookedFor(job, lang, timeZone, now) {
  const win = job?.window;
  if (job?.status !== 'new' || !Array.isArray(win) || !win[1]) return '';
  if (localDay(win[0], timeZone) <= localDay(now, timeZone)) return '';
  return (BOOKED_FOR[lang] ?? BOOKED_FOR.en).replace('{when}', formatWindow(win, lang, timeZone, now));
}

/** How far an ETA is past a window's end, in whole minutes (0 when on time). */
export function lateByMin(eta, windowEnd) {
  if (eta == null || windowEnd == null) return 0;
  return Math.max(0, Math.ceil((eta - windowEnd) / 60000));
}

/** A short job reference people can read aloud: "city.j-8f2c91a0…" → "8F2C". */
export function shortJob(id) {
  const tail = String(id ?? '').split('.').pop().replace(/^j-/, '');
  return tail.slice(0, 4).toUpperCase();
}

/** Seconds ago, for "position 12 s ago" (null when unknown). */
export function secondsAgo(ms, now) {
  return ms == null ? null : Math.max(0, Math.round((now - ms) / 1000));
}

export const JOB_STATUSES = ['new', 'offered', 'assigned', 'en_route', 'on_site', 'done', 'cancelled', 'failed', 'unassignable'];

/** The hour (0-23) of `ms` in `timeZone`. */
export function localHour(ms, timeZone) {
  try {
    return Number(new Intl.DateTimeFormat('en-GB', { hour: 'numeric', hourCycle: 'h23', timeZone }).format(new Date(ms))) % 24;
  } catch {
    return new Date(ms).getUTCHours();
  }
}

/**
 * A live ETA from `from` to `to` ({lat, lon}) leaving at `atMs`, with the region's travel
 * model (boot.region.travel: speed_kmh × the hour's factor, straight lines × detour) — the
 * server's own geodesic model, so the device agrees with what its customer is told.
 */
export function liveEta(from, to, atMs, travel, timeZone) {
  if (!from || !to || !travel?.speed_kmh) return null;
  const factor = travel.speed_by_hour?.[localHour(atMs, timeZone)] ?? 1;
  const mps = (travel.speed_kmh / 3.6) * factor;
  return atMs + Math.ceil((distanceM(from, to) * (travel.detour ?? 1.3)) / mps) * 1000;
}
