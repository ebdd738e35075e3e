// The ticket tracker (/ticket/{id}): the phone of the person waiting, opened from the QR
// code on the ticket. Number, place in line, people ahead, wait as a range; "almost your
// turn" and "it's your turn: Room 1" with vibration and a notification where allowed;
// cancel. Correct after the phone sleeps: the client probes and resumes on wake.
import { Client } from './client.js';
import { formatEstimate, formatTime, nameIn, translator } from './i18n.js';
import { icon } from './icons.js';
import { api, connectionBanner, errorScreen, h, language, langSwitch, readBoot, replaceChildren, setText, toaster, token } from './ui.js';

export const ALMOST_AHEAD = 2; // "almost your turn" when this many or fewer are ahead
const CANCELLABLE = new Set(['waiting', 'transferred', 'called', 'parked']);

const boot = readBoot();
const lang0 = language(boot);
let { lang, t } = lang0;
const site = boot.site;
const tz = site?.timezone;
const ticketId = boot.params?.ticket;
const $ = (id) => document.getElementById(id);

let ticket = null;
let updatedAt = null;
const alerts = []; // what the person was alerted to: {kind, key, at}

function serviceName(id) {
  return nameIn(site.services.find((s) => s.id === id)?.name ?? id, lang);
}

function counterName(tk) {
  const c = site.counters.find((x) => x.id === tk.counter);
  return nameIn(tk.counter_name ?? c?.name ?? tk.counter, lang);
}

/**
 * waiting | no_counter | on_break | almost | called | serving | done | no_show | parked | transferred | cancelled
 *
 * no_counter: in line, but no counter serving the service is open or known to open. The
 * ticket topic says so by a null `estimate` beside a place in line (docs/estimates.md: "None
 * means no counter serving the service is open or known (from the roster) to open"); it is
 * re-sent as soon as that changes. Nobody is told to come back then, however near the front.
 *
 * on_break: in line with an estimate, but `counters_open` is 0: every counter serving the
 * service is closed or paused and the roster says one opens later (a lunch break). The wait
 * includes the break; "almost your turn" would send people back to an empty hall.
 */
export function phase(tk) {
  if (!tk) return 'loading';
  if (tk.status === 'waiting' || tk.status === 'transferred') {
    if (tk.position != null && tk.estimate === null) return 'no_counter';
    if (tk.position != null && tk.counters_open === 0) return 'on_break';
    if (tk.people_ahead != null && tk.people_ahead <= ALMOST_AHEAD) return 'almost';
  }
  return tk.status;
}

function render() {
  const tk = ticket;
  setText($('site-name'), nameIn(site.name, lang));
  setText($('num-label'), t('your_number'));
  document.title = `${tk?.number ?? ''} · ${t('tracker_title')}`;
  if (!tk) return;
  setText($('number'), tk.number);
  setText($('service'), serviceName(tk.service));
  const p = phase(tk);
  document.body.dataset.phase = p;
  renderStatus(tk, p);
  renderFigures(tk, p);
  renderActions(tk);
  setText($('updated'), updatedAt ? t('updated', { time: formatTime(updatedAt, lang, tz, true) }) : '');
  if (p === 'called') document.title = `▶ ${t('your_turn')} · ${tk.number}`;
}

function renderStatus(tk, p) {
  const el = $('status');
  el.className = `t-status phase-${p}`;
  el.setAttribute('aria-live', p === 'called' ? 'assertive' : 'polite');
  const key = `${p}|${tk.status}|${tk.counter}|${tk.service}|${tk.cancel_reason}|${lang}`;
  const msg = {
    waiting: [t('st_waiting_msg')],
    no_counter: tk.status === 'transferred' ? [t('st_transferred_msg', { service: serviceName(tk.service) }), t('st_no_counter_msg')]
      : [t('st_no_counter_msg')],
    on_break: tk.status === 'transferred' ? [t('st_transferred_msg', { service: serviceName(tk.service) }), t('st_on_break_msg')]
      : [t('st_on_break_msg')],
    // A transferred ticket near the front is told both: where it is now, and that it is soon.
    almost: tk.status === 'transferred' ? [t('st_transferred_msg', { service: serviceName(tk.service) }), t('almost')] : [t('almost')],
    called: [h('strong', { class: 'turn' }, t('your_turn')), h('span', { class: 'go' }, t('go_to', { counter: counterName(tk) })),
      tk.called_at ? h('span', { class: 'at' }, t('called_at', { time: formatTime(tk.called_at, lang, tz) })) : null],
    serving: [t('st_serving_msg', { counter: counterName(tk) })],
    done: [t('st_done_msg')],
    no_show: [t('st_no_show_msg')],
    parked: [t('st_parked_msg')],
    transferred: [t('st_transferred_msg', { service: serviceName(tk.service) })],
    // Why, when the ticket says (docs/protocol.md, `cancel_reason`).
    cancelled: [t(['by_holder', 'by_staff', 'day_closed'].includes(tk.cancel_reason) ? `st_cancelled_${tk.cancel_reason}_msg` : 'st_cancelled_msg')],
  }[p] ?? [tk.status];
  replaceChildren(el, msg.map((m) => (typeof m === 'string' ? h('p', {}, m) : m)), key);
}

function renderFigures(tk, p) {
  const show = ['waiting', 'no_counter', 'on_break', 'almost', 'transferred'].includes(p) && tk.position != null;
  const el = $('figures');
  el.hidden = !show;
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

function renderActions(tk) {
  const el = $('actions');
  const items = [];
  // Alerts are for the wait: once called or served there is nothing left to alert about.
  const canNotify = 'Notification' in window && !['called', 'serving', 'done', 'cancelled', 'no_show'].includes(tk.status);
  if (canNotify && Notification.permission === 'default') {
    items.push(h('button', { type: 'button', class: 'btn btn-primary wide', onclick: askNotify }, icon('bell'), t('alerts_btn')));
  } else if (canNotify && Notification.permission === 'granted') {
    items.push(h('p', { class: 'chip chip-ok' }, icon('check'), t('alerts_on')));
  } else if (canNotify) {
    items.push(h('p', { class: 'chip chip-warn' }, t('alerts_blocked')));
  }
  if (CANCELLABLE.has(tk.status)) {
    items.push(h('button', { type: 'button', class: 'btn btn-danger wide', id: 'cancel-btn', onclick: openCancel }, t('cancel_ticket')));
  }
  const key = `${tk.status}|${canNotify && Notification.permission}|${lang}`;
  replaceChildren(el, items, key);
}

async function askNotify() {
  try { await Notification.requestPermission(); } catch { /* older API: ignore */ }
  render();
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
  ticket = msg.data;
  updatedAt = Date.now();
  render();
  // Alert on where things settle, not on each step of a resume: a phone that slept through
  // "called, serving, done" must not buzz "your turn" for a call that is over.
  clearTimeout(alertTimer);
  alertTimer = setTimeout(() => maybeAlert(msg), 250);
}

let alertTimer = null;

let toast = () => {};
if (!site || boot.error || !ticketId) {
  errorScreen($('app'), t, boot.error ?? { code: 'unknown_ticket' });
} else {
  toast = toaster(document.body);
  const setLang = (l) => {
    lang = l;
    t = translator(l);
    lang0.remember(l);
    document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
    $('lang').replaceChildren(langSwitch(lang, t, setLang));
    render();
  };
  $('lang').replaceChildren(langSwitch(lang, t, setLang));
  $('cancel-keep').addEventListener('click', () => $('cancel-dialog').close());
  $('cancel-yes').addEventListener('click', doCancel);
  render();
  const client = new Client({ token });
  const banner = connectionBanner(client, () => t, { timeZone: tz });
  document.body.prepend(banner.el);
  client.subscribe(`ticket:${ticketId}`, onMessage);
  client.start();
  setInterval(render, 15000); // "updated …" and relative times stay honest
  window.switchboardTicket = {
    get ticket() { return ticket; }, get phase() { return phase(ticket); }, alerts, client,
    // The system notifications shown (through the service worker), for tests.
    notifications: async () => ((await (await worker)?.getNotifications()) ?? []).map((n) => ({ title: n.title, body: n.body })),
  };
}
