// The ticket tracker (/ticket/{id}): the phone of the person waiting, opened from the QR
// code on the ticket. Number, place in line, people ahead, wait as a range; "almost your
// turn" and "it's your turn: Room 1" with vibration and a notification where allowed;
// cancel. Correct after the phone sleeps: the client probes and resumes on wake.
import { Client } from './client.js';
import { formatEstimate, formatTime, nameIn } from './i18n.js';
import { icon } from './icons.js';
import { applySiteWords } from './vocabulary-boot.js';
import { vocabulary } from './vocabulary.js';
import { api, connectionBanner, errorScreen, h, language, langSwitch, layeredTranslator, linkExpired, readBoot, replaceChildren, setText, toaster, token } from './ui.js';

export const ALMOST_AHEAD = 2; // "almost your turn" when this many or fewer are ahead
const CANCELLABLE = new Set(['waiting', 'transferred', 'called', 'parked']);

// This page's own words, before the shared table (i18n.js): what a person waiting needs to
// hear is more than a screen's label. The error texts say what to do with the ticket in hand.
export const OWN = {
  en: {
    st_waiting_msg: 'You are in line. You may step away, but keep this page open and look at it now and then: it tells you when it is almost your turn.',
    appointment: 'Appointment at {time}',
    back_in_line: 'You were called at {time} and are back in line. Please stay in the waiting area: you will be called again.',
    est_note: 'Most likely about {n} min. 8 in 10 people are called within {range}: it depends on how long the people ahead of you take.',
    stale_offline: 'No connection since {time}, so what you see may be out of date. You may have been called meanwhile: please watch the screen in the waiting area.',
    stale_denied: 'This page no longer updates. Please watch the screen in the waiting area for your number, or ask at reception.',
    err_link_expired: 'This ticket link has expired (links last a day). For a visit today, please take a new ticket, or ask at reception.',
    err_unauthorized: 'This link does not work (it may be incomplete or out of date). Your place in line does not depend on it: watch the screen in the waiting area for your number, or ask at reception.',
    err_forbidden: 'This link does not match your ticket. Please scan the QR code on your ticket again, or ask at reception.',
    err_bad_request: 'This link is not complete. Please scan the QR code on your ticket again, or ask at reception.',
    err_unknown_ticket: 'We could not find this ticket. Please scan the QR code on your ticket again, or ask at reception.',
    err_unknown_topic: 'We could not find this ticket. Please scan the QR code on your ticket again, or ask at reception.',
    err_ended: 'This ticket has ended, so its link no longer opens. There is nothing more to do with it; for another visit, take a new ticket.',
    // The link refused with the page open (the shared "ask staff for a new one" is wrong here:
    // a ticket taken by text or online has no staff at hand, an ended one needs nothing).
    denied_lead: 'This link no longer updates.',
    denied_expired: 'This link has expired.',
    denied_walk_in: 'Your place in line still counts: watch the waiting-area screen for your number, or ask at reception.',
    denied_sms: 'Your place in line still counts, and you will still get a text when it is your turn.',
    denied_remote: 'Your place in line still counts: once there, watch the waiting-area screen for your number.',
    denied_ended: 'This ticket has ended, so its link no longer updates. Nothing more to do.',
    // What is shown when the page cannot update: how old it is.
    as_of: 'As of {time}, {ago} — offline',
    as_of_denied: 'As of {time}, {ago} — not updating',
    ago_now: 'just now',
    ago_min: '{n} min ago',
    ago_h: '{h} h {m} min ago',
    called_old: 'You were called to {counter} at {time}.',
    called_old_note: 'This page has had no news since, so that call may be over. Please watch the screen in the waiting area, or ask at reception.',
    // Checked in more than appointment_early_s before the appointment (docs/protocol.md,
    // `promote_at` and `promoted`): a walk-in until then, the appointment's place after.
    early_wait: 'You are early for your {appt} appointment, so until {time} you wait in order of arrival, like anyone who came when you did. At {time} you move up to your appointment’s place in line; the wait shown already counts that.',
    early_due: 'From {time} you have your appointment’s place in line: you are moved up in a moment.',
    promoted: 'Since {time} you have your appointment’s place in line.',
    promoted_plain: 'You now have your appointment’s place in line.',
    // Said (not shown) by a screen reader as the line moves: at a few milestones only.
    progress_update: 'Update: {ahead}, estimated wait {est}.',
    progress_update_plain: 'Update: {ahead}.',
  },
  zh: {
    st_waiting_msg: '您正在排队。可以暂时走开，但请保持本页面打开并不时查看：快到您时，本页面会提示。',
    // No spaces around a Chinese name ("请到1号诊室", not "正在 1号诊室 为您办理"); plain words
    // for "parked" (挂起 is a software word) and for keeping one's place (保留 alone says not what).
    st_transferred_msg: '您已转到{service}，按原取号时间排队。',
    st_serving_msg: '正在{counter}为您办理。',
    go_to: '请到{counter}',
    st_parked_msg: '您的号暂时被搁置，工作人员稍后会再次叫您。',
    keep: '不取消，继续排队',
    appointment: '预约时间 {time}',
    back_in_line: '{time} 曾叫到您，您现在已重新排队。请留在等候区，稍后会再次叫您。',
    est_note: '最可能约 {n} 分钟。10 人中约有 8 人在 {range}内被叫到，快慢取决于您前面的人办理所需的时间。',
    stale_offline: '{time} 起网络中断，以下信息可能已过时。这期间您可能已被叫号，请留意等候区的叫号屏。',
    stale_denied: '本页面已停止更新。请留意等候区叫号屏上的号码，或到服务台咨询。',
    err_link_expired: '此号票链接已过期（链接有效期为一天）。今天需要办理的，请重新取号或到服务台咨询。',
    err_unauthorized: '此链接无法使用（可能不完整或已过期）。您的排队不受影响：请留意等候区叫号屏上的号码，或到服务台咨询。',
    err_forbidden: '此链接与您的号票不符。请重新扫描号票上的二维码，或到服务台咨询。',
    err_bad_request: '此链接不完整。请重新扫描号票上的二维码，或到服务台咨询。',
    err_unknown_ticket: '找不到这张号票。请重新扫描号票上的二维码，或到服务台咨询。',
    err_unknown_topic: '找不到这张号票。请重新扫描号票上的二维码，或到服务台咨询。',
    err_ended: '此号票已结束，链接不再能打开，无需再做什么。下次办理请重新取号。',
    denied_lead: '此链接已不再更新。',
    denied_expired: '此链接已过期。',
    denied_walk_in: '您的排队不受影响：请看等候区叫号屏上的号码，或到服务台咨询。',
    denied_sms: '您的排队不受影响，轮到您时仍会短信通知您。',
    denied_remote: '您的排队不受影响：到达后请看等候区叫号屏上的号码。',
    denied_ended: '此号票已结束，链接不再更新，无需再做什么。',
    as_of: '截至 {time}（{ago}）· 离线',
    as_of_denied: '截至 {time}（{ago}）· 已停止更新',
    ago_now: '刚刚',
    ago_min: '{n} 分钟前',
    ago_h: '{h} 小时 {m} 分钟前',
    called_old: '{time} 曾叫您到{counter}。',
    called_old_note: '此后本页面未能更新，这次叫号可能已经结束。请留意等候区的叫号屏，或到服务台咨询。',
    early_wait: '您比预约时间 {appt} 来得早：{time} 前按到达顺序排队，与同时到达的人一样；{time} 起排到预约的位置，显示的等待时间已计入这一点。',
    early_due: '{time} 起您排到预约的位置，稍后即调整。',
    promoted: '{time} 起您已排到预约的位置。',
    promoted_plain: '您已排到预约的位置。',
    progress_update: '更新：{ahead}，预计等待 {est}。',
    progress_update_plain: '更新：{ahead}。',
  },
};

/** The shared translator, with this page's own words first. */
export const ownTranslator = (l) => layeredTranslator(OWN, l);

/**
 * What the range means, in words: the likeliest wait (the median, rounded) and that 8 in 10
 * are called within the range (P10–P90, docs/estimates.md). Null when there is no range to
 * explain (no estimate, under a minute, or one number).
 */
export function estimateNote(estimate, l, tr = ownTranslator(l)) {
  if (!estimate || estimate.wait_s == null || estimate.low_s == null || estimate.high_s == null) return null;
  if (estimate.high_s < 60) return null;
  const a = Math.max(1, Math.floor(estimate.low_s / 60)); // as formatEstimate rounds the range
  const b = Math.max(a, Math.ceil(estimate.high_s / 60));
  if (a === b) return null;
  const n = Math.min(b, Math.max(a, Math.round(estimate.wait_s / 60)));
  return tr('est_note', { n, range: formatEstimate(estimate, l) });
}

/**
 * What an early check-in is told, in the site's zone: waiting as a walk-in until
 * `promote_at` and the appointment's place from then (`early_wait`; `early_due` once the
 * time has passed and the server has yet to move it, within seconds), then, `promoted`
 * ({at}: the time it was due, or null), that it has that place. Null: nothing to say (not
 * waiting, or not an early check-in).
 */
export function earlyNote(tk, promoted, nowMs, l, timeZone, tr = ownTranslator(l)) {
  if (!tk || tk.status !== 'waiting') return null;
  if (tk.promote_at) {
    const time = formatTime(tk.promote_at, l, timeZone);
    if (nowMs >= Date.parse(tk.promote_at)) return tr('early_due', { time });
    return tr('early_wait', { time, appt: tk.appointment_at ? formatTime(tk.appointment_at, l, timeZone) : time });
  }
  if (!promoted) return null;
  return promoted.at ? tr('promoted', { time: formatTime(promoted.at, l, timeZone) }) : tr('promoted_plain');
}

/** Whether message data `next` shows ticket view `prev` promoted: a `promoted` event, or
 * (a resume that merged it away) `promote_at` gone with the class changed while waiting. A
 * returned no-show also loses `promote_at`, but keeps its class. */
export function wasPromoted(prev, next, type) {
  if (type === 'promoted') return true;
  return Boolean(prev?.promote_at && next && !next.promote_at && next.status === 'waiting'
    && prev.status === 'waiting' && next.priority && next.priority !== prev.priority);
}

export { linkExpired }; // the tests import it from here

// How many people ahead are worth saying out loud as the line moves (WCAG 4.1.3): a screen
// reader user hears the figures change at these, not at every step of the line.
export const PROGRESS_MILESTONES = [10, 5, 3, 2, 1];
export const PROGRESS_GAP_MS = 20000; // at most one such announcement in this time

/**
 * Whether the figures `cur` ({ahead, waitS}) are news against `last`, the ones last said (or
 * first seen): fewer people ahead past a milestone (12 → 10, 7 → 4), or the likeliest wait
 * moved by 10 min and by a third or more. No `last`: nothing said yet, nothing to compare.
 */
export function progressNews(last, cur) {
  if (!last || !cur) return false;
  if (cur.ahead < last.ahead && PROGRESS_MILESTONES.some((m) => cur.ahead <= m && m < last.ahead)) return true;
  if (last.waitS == null || cur.waitS == null) return false;
  const moved = Math.abs(cur.waitS - last.waitS);
  return moved >= 600 && moved >= last.waitS / 3;
}

/** "just now", "25 min ago", "2 h 5 min ago": how old what is shown is. */
export function ago(ms, tr) {
  const min = Math.floor(Math.max(0, ms) / 60000);
  if (min < 1) return tr('ago_now');
  if (min < 60) return tr('ago_min', { n: min });
  return tr('ago_h', { h: Math.floor(min / 60), m: min % 60 });
}

const ENDED = new Set(['done', 'no_show', 'cancelled']);

/** Which words fit a refused link: the ticket is over (nothing to do), or its place still
 * counts and the next step depends on how it was taken: at the kiosk or a window (staff at
 * hand), by text message (texts still come), or online or by phone (nobody to ask yet). */
export function linkCase(tk, channel) {
  if (tk && ENDED.has(tk.status)) return 'ended';
  if (channel === 'sms') return 'sms';
  if (channel === 'kiosk' || channel === 'window') return 'walk_in';
  return 'remote';
}

/** The banner's words for a refused link (replacing the shared "ask staff for a new one"). */
export function deniedText(tk, channel, expired, l, tr = ownTranslator(l)) {
  const c = linkCase(tk, channel);
  if (c === 'ended') return tr('denied_ended');
  return [tr(expired ? 'denied_expired' : 'denied_lead'), tr(`denied_${c}`)].join(l === 'zh' ? '' : ' ');
}

export const STALE_AFTER_MS = 3000; // a quick reconnect does not flash a warning
// A call this old, not confirmed since (offline, or the page reopened from the phone's copy),
// is not shown as "it's your turn": it may be over (missed, served, sent back).
export const CALLED_OLD_MS = 5 * 60 * 1000;
// Phases in which a person waits for a call: if the page cannot update, the call may be missed.
const WAITING_PHASES = new Set(['waiting', 'no_counter', 'after_close', 'on_break', 'almost', 'transferred', 'parked']);

const boot = readBoot();
const lang0 = language(boot);
let { lang } = lang0;
let t = ownTranslator(lang);
let conn = { status: 'connecting', since: Date.now() };
const site = boot.site;
const tz = site?.timezone;
const ticketId = boot.params?.ticket;
// The server's clock: when a promotion is due is its time, not the phone's.
const skew = (boot.server_ms ?? Date.now()) - Date.now();
const $ = (id) => document.getElementById(id);

let ticket = null;
let promoted = null; // an early check-in moved up to its appointment's place: {at}
let updatedAt = null;
let details = {}; // what only GET /v1/tickets/{id} tells: the appointment time, the channel
let fromStore = false; // what is shown is the copy kept on the phone, not yet a live message
let seenAt = null; // when what is shown was last known to be current (live)
const STORE_KEY = 'sb.ticket.last';
const OFFLINE_CACHE = 'sb-ticket-v1'; // ticket-sw.js answers from it when the network does not
const alerts = []; // what the person was alerted to: {kind, key, at}

function serviceName(id) {
  return nameIn(site.services.find((s) => s.id === id)?.name ?? id, lang);
}

function counterName(tk) {
  const c = site.counters.find((x) => x.id === tk.counter);
  return nameIn(tk.counter_name ?? c?.name ?? tk.counter, lang);
}

/**
 * waiting | no_counter | after_close | on_break | almost | called | serving | done | no_show | parked | transferred | cancelled
 *
 * no_counter: in line, but no counter serving the service is open or known to open. The
 * ticket topic says so by a null `estimate` beside a place in line (docs/estimates.md: "None
 * means no counter serving the service is open or known (from the roster) to open"); it is
 * re-sent as soon as that changes. Nobody is told to come back then, however near the front.
 *
 * after_close: in line, counters open (`counters_open` > 0), but no estimate: the queue
 * will not reach the ticket before the counters close today (their shifts end, or the site's
 * day close, when open tickets are closed). Said plainly rather than "no counter open".
 *
 * on_break: in line with an estimate, but `counters_open` is 0: every counter serving the
 * service is closed or paused and the roster says one opens later (a lunch break). The wait
 * includes the break; "almost your turn" would send people back to an empty hall.
 */
export function phase(tk) {
  if (!tk) return 'loading';
  if (tk.status === 'waiting' || tk.status === 'transferred') {
    if (tk.position != null && tk.estimate === null) return tk.counters_open > 0 ? 'after_close' : 'no_counter';
    if (tk.position != null && tk.counters_open === 0) return 'on_break';
    if (tk.people_ahead != null && tk.people_ahead <= ALMOST_AHEAD) return 'almost';
  }
  return tk.status;
}

/** Cut off from updates: the link refused, or offline (at once when the page opened from the
 * phone's copy; after a grace otherwise, so a quick reconnect does not flash a warning). */
function cut() {
  if (conn.status === 'denied') return true;
  return conn.status === 'offline' && (fromStore || Date.now() - conn.since >= STALE_AFTER_MS);
}

/** The phase as shown: an old, unconfirmed call is not presented as current. */
export function shownPhase(tk, { isCut, seen, now = Date.now() }) {
  const p = phase(tk);
  if (p === 'called' && isCut && seen != null && now - seen >= CALLED_OLD_MS) return 'called_old';
  return p;
}

function render() {
  const tk = ticket;
  setText($('site-name'), nameIn(site.name, lang));
  setText($('num-label'), t('your_number'));
  document.title = `${tk?.number ?? ''} · ${t('tracker_title')}`;
  if (!tk) return;
  setText($('number'), tk.number);
  setText($('service'), serviceName(tk.service));
  // Booked online: the page shows the booking was recognised (its place follows that time).
  // The ticket topic does not carry `appointment_at`; GET /v1/tickets/{id} does (`details`).
  const appt = tk.appointment_at ?? details.appointment_at;
  $('appt').hidden = !appt;
  setText($('appt'), appt ? t('appointment', { time: formatTime(appt, lang, tz) }) : '');
  const p = shownPhase(tk, { isCut: cut(), seen: seenAt });
  document.body.dataset.phase = p;
  renderStatus(tk, p);
  renderFigures(tk, p);
  renderStale(p);
  renderAsOf();
  renderActions(tk);
  announceProgress(tk, p);
  setText($('updated'), updatedAt ? t('updated', { time: formatTime(updatedAt, lang, tz, true) }) : '');
  if (p === 'called') document.title = `▶ ${t('your_turn')} · ${tk.number}`;
  if (p === 'called_old') document.title = `${tk.number} · ${t('tracker_title')}`;
}

function renderStatus(tk, p) {
  const el = $('status');
  el.className = `t-status phase-${p}`;
  el.setAttribute('aria-live', p === 'called' ? 'assertive' : 'polite');
  // An old call says when; how long ago is in #as-of (not here: a live region, it would be
  // read out again each minute).
  const calledMs = tk.called_at ? Date.parse(tk.called_at) : seenAt;
  const key = `${p}|${tk.status}|${tk.counter}|${tk.service}|${tk.cancel_reason}|${tk.called_at}|${lang}`;
  const msg = {
    waiting: [t('st_waiting_msg')],
    no_counter: tk.status === 'transferred' ? [t('st_transferred_msg', { service: serviceName(tk.service) }), t('st_no_counter_msg')]
      : [t('st_no_counter_msg')],
    after_close: tk.status === 'transferred' ? [t('st_transferred_msg', { service: serviceName(tk.service) }), t('st_after_close_msg')]
      : [t('st_after_close_msg')],
    on_break: tk.status === 'transferred' ? [t('st_transferred_msg', { service: serviceName(tk.service) }), t('st_on_break_msg')]
      : [t('st_on_break_msg')],
    // A transferred ticket near the front is told both: where it is now, and that it is soon.
    almost: tk.status === 'transferred' ? [t('st_transferred_msg', { service: serviceName(tk.service) }), t('almost')] : [t('almost')],
    called: [h('strong', { class: 'turn' }, t('your_turn')), h('span', { class: 'go' }, t('go_to', { counter: counterName(tk) })),
      tk.called_at ? h('span', { class: 'at' }, t('called_at', { time: formatTime(tk.called_at, lang, tz) })) : null],
    called_old: [t('called_old', { counter: counterName(tk), time: formatTime(calledMs, lang, tz) }), t('called_old_note')],
    serving: [t('st_serving_msg', { counter: counterName(tk) })],
    done: [t('st_done_msg')],
    no_show: [t('st_no_show_msg')],
    parked: [t('st_parked_msg')],
    transferred: [t('st_transferred_msg', { service: serviceName(tk.service) })],
    // Why, when the ticket says (docs/protocol.md, `cancel_reason`).
    cancelled: [t(['by_holder', 'by_staff', 'day_closed'].includes(tk.cancel_reason) ? `st_cancelled_${tk.cancel_reason}_msg` : 'st_cancelled_msg')],
  }[p] ?? [tk.status];
  // Called before and waiting again (missed the call and sent back, or set aside and
  // brought back): say so, or "you are in line" reads as if nothing had happened.
  if (tk.status === 'waiting' && tk.called_at) msg.unshift(t('back_in_line', { time: formatTime(tk.called_at, lang, tz) }));
  // Checked in early: until when it waits in order of arrival, and that it moved up.
  const early = p === 'called_old' ? null : earlyNote(tk, promoted, Date.now() + skew, lang, tz, t);
  if (early) msg.push(h('p', { class: 'early-note' }, early));
  replaceChildren(el, msg.map((m) => (typeof m === 'string' ? h('p', {}, m) : m)), `${key}|${early}|${vocabulary()}`);
}

// The figures last said (or first seen) in #progress-live, when, and an announcement held
// back by PROGRESS_GAP_MS; what was said, for tests.
const progress = { base: null, at: -Infinity, timer: null };
const announcements = [];
const PROGRESS_PHASES = new Set(['waiting', 'no_counter', 'after_close', 'on_break', 'almost', 'transferred']);

function progressNow(tk, p) {
  if (!tk || !PROGRESS_PHASES.has(p) || tk.position == null) return null;
  return { ahead: tk.people_ahead ?? 0, waitS: tk.estimate?.wait_s ?? null };
}

/** Place and wait said politely at milestones (progressNews), one announcement in
 * PROGRESS_GAP_MS at most (a later one waits, then says the figures as they are then). Not
 * while cut off (the figures are old) nor from the phone's copy. */
function announceProgress(tk, p) {
  if (cut() || fromStore) return;
  const cur = progressNow(tk, p);
  if (!cur) { // called, served, ended: start again if it waits again
    progress.base = null;
    clearTimeout(progress.timer);
    progress.timer = null;
    return;
  }
  if (!progress.base) {
    progress.base = cur;
    return;
  }
  // Moved back (a transfer, someone with priority): a milestone passed again is news again.
  if (cur.ahead > progress.base.ahead) progress.base = { ...progress.base, ahead: cur.ahead };
  if (!progressNews(progress.base, cur) || progress.timer) return;
  const wait = progress.at + PROGRESS_GAP_MS - Date.now();
  if (wait <= 0) sayProgress();
  else progress.timer = setTimeout(sayProgress, wait);
}

function sayProgress() {
  progress.timer = null;
  const p = ticket && shownPhase(ticket, { isCut: cut(), seen: seenAt });
  const cur = progressNow(ticket, p);
  if (!cur || cut() || !progressNews(progress.base, cur)) return;
  const ahead = t(cur.ahead === 0 ? 'ahead_0' : cur.ahead === 1 ? 'ahead_1' : 'ahead_n', { n: cur.ahead });
  const text = ticket.estimate ? t('progress_update', { ahead, est: formatEstimate(ticket.estimate, lang) })
    : t('progress_update_plain', { ahead });
  progress.base = cur;
  progress.at = Date.now();
  announcements.push({ text, at: progress.at });
  setText($('progress-live'), text);
}

function renderFigures(tk, p) {
  const show = ['waiting', 'no_counter', 'after_close', 'on_break', 'almost', 'transferred'].includes(p) && tk.position != null;
  const el = $('figures');
  el.hidden = !show;
  renderNote(tk, p);
  if (!show) return;
  const ahead = tk.people_ahead ?? 0;
  const rows = [
    [t('position'), String(tk.position), 'fig-pos'],
    [t('people_ahead'), ahead === 0 ? t('you_are_next') : String(ahead), 'fig-ahead'],
    [t('est_wait_long'), formatEstimate(tk.estimate, lang), 'fig-est'],
  ];
  replaceChildren(el, rows.map(([k, v, cls]) => h('div', { class: `fig ${cls}` }, h('dt', {}, k), h('dd', { class: 'num' }, v))),
    JSON.stringify(rows));
}

function renderNote(tk, p) {
  // The range explained where the wait is still ahead ("almost" says to come back instead).
  const text = ['waiting', 'on_break', 'transferred'].includes(p) && tk.position != null ? estimateNote(tk.estimate, lang, t) : null;
  const el = $('est-note');
  el.hidden = !text;
  setText(el, text ?? '');
}

/** Offline (or the link refused) while waiting: say that what is shown may be old, and
 * where to look instead, so nobody sits trusting "3 people ahead" through their own call. */
function renderStale(p) {
  const el = $('stale');
  const stale = cut() && WAITING_PHASES.has(p);
  el.hidden = !stale;
  $('figures').classList.toggle('stale', stale);
  $('est-note').classList.toggle('stale', stale);
  if (!stale) return;
  const since = fromStore && seenAt ? Math.min(seenAt, conn.since) : conn.since;
  setText(el, conn.status === 'denied' ? t('stale_denied') : t('stale_offline', { time: formatTime(since, lang, tz) }));
}

/** Cut off, in any phase: how old what is shown is ("As of 10:42, 25 min ago — offline"),
 * so a saved "it's your turn" reopened later is not read as live. */
function renderAsOf() {
  const el = $('as-of');
  const show = cut() && seenAt != null;
  el.hidden = !show;
  if (!show) return;
  const vars = { time: formatTime(seenAt, lang, tz), ago: ago(Date.now() - seenAt, t) };
  setText(el, t(conn.status === 'denied' ? 'as_of_denied' : 'as_of', vars));
}

/** Live: what is shown is current now (kept with the copy, for "as of" when reopened). */
function markSeen() {
  if (conn.status !== 'online' || fromStore || !ticket) return;
  seenAt = Date.now();
}

/** The last ticket view seen, kept on the phone: reopened with no signal, the page shows it
 * (marked as not live) rather than nothing. One ticket only. */
function remember() {
  const kept = { id: ticketId, at: updatedAt, seen: seenAt, ticket, channel: details.channel, promoted };
  try { localStorage.setItem(STORE_KEY, JSON.stringify(kept)); } catch { /* private mode */ }
}

function recall() {
  try {
    const kept = JSON.parse(localStorage.getItem(STORE_KEY) || 'null');
    if (kept?.id === ticketId && kept.ticket) return kept;
  } catch { /* ignore */ }
  return null;
}

/** A copy of this page and the files it loaded, for ticket-sw.js to answer from when the page
 * is reopened without signal. Only what the copy lacks is fetched (on a first visit: the
 * worker keeps the copy fresh as files pass through it later); only this ticket's page is
 * kept (another's is of no use). */
async function keepForOffline() {
  if (!('caches' in window) || !(await worker)) return;
  const files = performance.getEntriesByType('resource').map((e) => e.name).filter((u) => {
    const url = new URL(u);
    return url.origin === location.origin && url.pathname.startsWith('/static/');
  });
  const cache = await caches.open(OFFLINE_CACHE);
  for (const req of await cache.keys()) {
    if (new URL(req.url).pathname.startsWith('/ticket/') && req.url !== location.href) await cache.delete(req);
  }
  const missing = [];
  for (const url of new Set([location.href, ...files])) {
    if (!(await cache.match(url))) missing.push(url);
  }
  await cache.addAll(missing);
}

function renderActions(tk) {
  const el = $('actions');
  const items = [];
  // Alerts are for the wait: once called or served there is nothing left to alert about.
  const canNotify = 'Notification' in window && !['called', 'serving', 'done', 'cancelled', 'no_show'].includes(tk.status);
  if (canNotify && Notification.permission === 'default') {
    items.push(h('button', { type: 'button', class: 'btn btn-primary wide', onclick: askNotify }, icon('bell'), t('alerts_btn')));
  } else if (canNotify && Notification.permission === 'granted') {
    items.push(h('p', { class: 'chip chip-ok', id: 'alerts-result', tabindex: '-1' }, icon('check'), t('alerts_on')));
  } else if (canNotify) {
    items.push(h('p', { class: 'chip chip-warn', id: 'alerts-result', tabindex: '-1' }, t('alerts_blocked')));
  }
  if (CANCELLABLE.has(tk.status)) {
    items.push(h('button', { type: 'button', class: 'btn btn-danger wide', id: 'cancel-btn', onclick: openCancel }, t('cancel_ticket')));
  }
  const key = `${tk.status}|${canNotify && Notification.permission}|${lang}|${vocabulary()}`;
  replaceChildren(el, items, key);
}

async function askNotify() {
  try { await Notification.requestPermission(); } catch { /* older API: ignore */ }
  render();
  // The button is gone (answered): focus on what came of it, which a screen reader then
  // says, rather than lost to the page (WCAG 2.4.3, 4.1.3). Not answered: the button stays.
  $('alerts-result')?.focus();
}

function openCancel() {
  setText($('cancel-title'), t('cancel_q', { number: ticket.number }));
  setText($('cancel-warn'), t('cancel_warn'));
  setText($('cancel-keep'), t('keep'));
  setText($('cancel-yes'), t('yes_cancel'));
  $('cancel-dialog').showModal();
}

async function doCancel() {
  $('cancel-dialog').close();
  const r = await api(`/v1/tickets/${encodeURIComponent(ticketId)}/cancel`, { method: 'POST' });
  if (r.ok) {
    ticket = { ...ticket, ...r.data };
    updatedAt = Date.now();
    seenAt = updatedAt;
    remember();
    render();
  } else {
    toast(t(`e_${r.data?.code}`) === `e_${r.data?.code}` ? t('err_generic', { code: r.data?.code ?? r.status }) : t(`e_${r.data?.code}`), 'error');
  }
}

/** Alert once per call (a reload or a wake must not buzz again for the same one). */
function alertOnce(kind, key, title, body) {
  const storeKey = `sb.alert.${ticketId}`;
  let seen = [];
  try { seen = JSON.parse(sessionStorage.getItem(storeKey) || '[]'); } catch { /* ignore */ }
  if (seen.includes(key)) return;
  seen.push(key);
  try { sessionStorage.setItem(storeKey, JSON.stringify(seen.slice(-20))); } catch { /* ignore */ }
  alerts.push({ kind, key, at: new Date().toISOString() });
  // Browsers refuse vibration before the first tap (and log an error): ask only when allowed.
  if (navigator.userActivation?.hasBeenActive ?? true) navigator.vibrate?.(kind === 'your_turn' ? [400, 150, 400, 150, 600] : [250]);
  if ('Notification' in window && Notification.permission === 'granted') notify(title, body, kind);
}

// A service worker where the browser has one (secure pages): Android Chrome shows
// notifications only through it. Elsewhere, a plain Notification.
const worker = window.isSecureContext && 'serviceWorker' in navigator
  ? navigator.serviceWorker.register('/ticket-sw.js', { scope: '/ticket/' }).catch(() => null)
  : Promise.resolve(null);

async function notify(title, body, kind) {
  const options = { body, tag: `sb-${ticketId}`, renotify: true, requireInteraction: kind === 'your_turn',
    icon: '/static/img/icon.svg', data: { url: location.href } };
  try {
    const reg = await worker;
    if (reg) {
      await reg.showNotification(title, options);
      return;
    }
    new Notification(title, options);
  } catch { /* not allowed here: the page itself still shows it, and the phone vibrated */ }
}

function maybeAlert(msg) {
  const p = phase(ticket);
  if (p === 'called') {
    const key = msg.type === 'recalled' ? `recall|${msg.offset}` : `call|${ticket.called_at}`;
    alertOnce('your_turn', key, `${t('your_turn')} · ${ticket.number}`, t('go_to', { counter: counterName(ticket) }));
  } else if (p === 'almost') {
    alertOnce('almost', `almost|${ticket.service}`, `${ticket.number}`, t('almost'));
  }
}

function onMessage(msg) {
  if (msg.op === 'error') {
    errorScreen($('app'), t, msg);
    return;
  }
  if (msg.type === 'site') { // the site changed: its names, services, counters and words
    if (msg.data?.site) {
      Object.assign(site, msg.data.site);
      applySiteWords(msg.data.site);
    }
    if (msg.data?.id !== ticketId) { // a replayed one: the site alone
      render();
      return;
    }
  }
  const { site: _, ...view } = msg.data;
  if (wasPromoted(ticket, view, msg.type)) promoted = { at: ticket?.promote_at ?? null };
  ticket = view;
  updatedAt = Date.now();
  seenAt = updatedAt;
  fromStore = false;
  remember();
  render();
  // Alert on where things settle, not on each step of a resume: a phone that slept through
  // "called, serving, done" must not buzz "your turn" for a call that is over.
  clearTimeout(alertTimer);
  alertTimer = setTimeout(() => maybeAlert(msg), 250);
}

let alertTimer = null;

let toast = () => {};
if (!site || boot.error || !ticketId) {
  // An expired link is yesterday's ticket: not "your place does not depend on it". A ticket
  // the phone last saw ended needs nothing at all.
  // errorScreen tells an expired link itself (in both languages when the site is unknown).
  const ended = boot.error?.code === 'unauthorized' && linkCase(recall()?.ticket) === 'ended';
  errorScreen($('app'), t, ended ? { code: 'ended' } : boot.error ?? { code: 'unknown_ticket' }, ownTranslator);
} else {
  toast = toaster(document.body);
  const setLang = (l) => {
    lang = l;
    t = ownTranslator(l);
    lang0.remember(l);
    document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
    $('lang').replaceChildren(langSwitch(lang, t, setLang));
    render();
  };
  $('lang').replaceChildren(langSwitch(lang, t, setLang));
  $('cancel-keep').addEventListener('click', () => $('cancel-dialog').close());
  $('cancel-yes').addEventListener('click', doCancel);
  const kept = recall();
  if (kept) {
    ticket = kept.ticket;
    updatedAt = kept.at;
    seenAt = kept.seen ?? kept.at;
    if (kept.channel) details = { channel: kept.channel };
    promoted = kept.promoted ?? null;
    fromStore = true;
  }
  render();
  keepForOffline().catch(() => { /* no copy: the page still works online */ });
  api(`/v1/tickets/${encodeURIComponent(ticketId)}`).then((r) => {
    if (!r.ok) return;
    details = { appointment_at: r.data?.appointment_at, channel: r.data?.channel };
    if (!fromStore) remember();
    render();
  });
  const client = new Client({ token });
  // The shared banner, with words for a refused link that fit this ticket (ended, or how taken).
  const bannerT = () => (key, vars) => (key === 'denied' ? deniedText(ticket, details.channel, linkExpired(token), lang, t) : t(key, vars));
  const banner = connectionBanner(client, bannerT, { timeZone: tz });
  document.body.prepend(banner.el);
  client.subscribe(`ticket:${ticketId}`, onMessage);
  client.onState((s) => { conn = s; markSeen(); if (ticket) render(); });
  client.start();
  // Each second: what is shown is current while live; "as of … ago", the stale warning and
  // an old call's turn follow the clock. The phone's copy keeps when it was last current.
  let tick = 0;
  setInterval(() => {
    markSeen();
    if (!ticket) return;
    render();
    if (++tick % 15 === 0 && !fromStore && conn.status === 'online') remember();
  }, 1000);
  addEventListener('pagehide', () => { markSeen(); if (ticket && !fromStore) remember(); });
  window.switchboardTicket = {
    get ticket() { return ticket; }, get phase() { return phase(ticket); }, get fromStore() { return fromStore; }, alerts, client,
    announcements, // what #progress-live said as the line moved: {text, at}
    get shown() { return document.body.dataset.phase; }, get seenAt() { return seenAt; },
    // The copy of the page kept for opening without signal, for tests.
    kept: async () => Boolean(await (await caches.open(OFFLINE_CACHE)).match(location.href)),
    // The system notifications shown (through the service worker), for tests.
    notifications: async () => ((await (await worker)?.getNotifications()) ?? []).map((n) => ({ title: n.title, body: n.body })),
  };
}
