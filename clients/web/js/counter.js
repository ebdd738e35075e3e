// The counter console (/counter/{site}/{counter}): the agent's screen. Open, pause, close;
// call next, recall, start, complete, no-show, park, transfer; the queue live; keyboard
// shortcuts for all of it. State comes from `counter:{site}:{counter}` and one
// `service:{site}:{service}` per service the counter serves; actions go through the HTTP API.
import { Client } from './client.js';
import { formatEstimate, formatTime, nameIn, priorityName } from './i18n.js';
import { BOOKING_CODE, checkInCode, codeError, codeText, mountBooking } from './counter-booking.js';
import { applyQueue } from './queue-list.js';
import { api, connectionBanner, connectionChip, errorScreen, h, language, mountLangSwitch, mountLinkExpiry, randomId, readBoot, replaceChildren, setText, toaster } from './ui.js';

const boot = readBoot();
const lang0 = language(boot);
let { lang, t } = lang0;
const site = boot.site;
const tz = site?.timezone;
const counterId = boot.params?.counter;
// `site` and `me` are the page's boot data, kept up to date in place (same objects, which the
// booking panel holds too) by the topics' `site` messages when the site is changed.
const me = site?.counters.find((c) => c.id === counterId);
const $ = (id) => document.getElementById(id);

// This page's own words (the shared table is i18n.js).
const OWN = {
  en: {
    removed_title: 'This counter was removed from the site',
    removed_body: 'The site no longer has {counter}: nothing can be called or served here. Ask your supervisor for the link of the counter you now work at.',
    site_changed: 'The site was changed: this counter now serves {services}.',
    keys_toggle: 'Single-key shortcuts',
    keys_off: 'Off on this computer: use the buttons. (Speech input can type letters by mistake.)',
  },
  zh: {
    removed_title: '此窗口已从站点中删除',
    removed_body: '站点已没有“{counter}”，这里不能再叫号或办理。请向主管索取您现在所在窗口的链接。',
    site_changed: '站点配置已更改：本窗口现在办理 {services}。',
    keys_toggle: '单键快捷键',
    keys_off: '本机已关闭，请使用按钮。（语音输入可能误输入字母。）',
  },
};
const own = (key, vars = {}) => (OWN[lang] ?? OWN.en)[key].replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
// Set once the site no longer has this counter: the page says so and acts on nothing.
let removed = false;

// Actions: op, label key, shortcut key, when it is possible.
const ACTIVE = new Set(['called', 'serving']);
const ACTIONS = [
  { op: 'call-next', key: 'n', label: 'call_next', cls: 'btn-primary big', when: (s) => s.state === 'open' && !s.ticket && waitingTotal() !== 0 },
  { op: 'recall', key: 'r', label: 'recall', when: (s) => s.ticket?.status === 'called' },
  { op: 'start', key: 's', label: 'start', when: (s) => s.ticket?.status === 'called' },
  { op: 'complete', key: 'c', label: 'complete', cls: 'btn-ok', when: (s) => ACTIVE.has(s.ticket?.status) },
  { op: 'no-show', key: 'x', label: 'no_show', when: (s) => s.ticket?.status === 'called' },
  { op: 'park', key: 'p', label: 'park', when: (s) => ACTIVE.has(s.ticket?.status) },
  { op: 'transfer', key: 't', label: 'transfer', when: (s) => ACTIVE.has(s.ticket?.status) },
];
const STATES = [
  { op: 'open', key: 'o', label: 'open', state: 'open' },
  { op: 'pause', key: 'b', label: 'pause', state: 'paused' },
  { op: 'close', key: 'l', label: 'close', state: 'closed' },
];

// Single keys (N, X, L…) are the clerk's fast way and on by default; someone using speech
// input, whose words can arrive as letters, turns them off (WCAG 2.1.4), for this device.
const KEYS_STORE = 'sb.counter.shortcuts';
let shortcutsOn = true;
try { shortcutsOn = localStorage.getItem(KEYS_STORE) !== 'off'; } catch { /* private mode: on */ }

let counter = { state: null, ticket: null, waiting: {} };
const queues = {}; // service → waiting tickets in call order
let busy = false;
// A shortcut pressed while the previous request is in flight (S then C in quick succession):
// run after it, checked against the state it left, not dropped.
let queued = null;
// Parked tickets of this counter's services, as the server lists them on the counter topic
// (any console, any PC, after a reload: the patient set aside is never only in one browser).
let parked = [];
let toast = () => {};
let client = null;
// The site's priority classes and its default class, from the site document (the page's
// boot lists services and counters only). Until it has come, no class is labelled: a chip
// shown too early would be a raw id or the wrong "unlabelled" class.
let classes = site?.priority_classes ?? null;
// The document omits a policy left at its defaults: queueing/model.py's Policy.default_priority.
const MODEL_DEFAULT_CLASS = 'walk_in';
let defaultClass = site?.priority_classes ? (site.policy?.default_priority ?? MODEL_DEFAULT_CLASS) : null;

async function loadClasses(again = false) {
  const r = await api(`/v1/sites/${encodeURIComponent(site.id)}`);
  if (!r.ok || !Array.isArray(r.data?.priority_classes)) return false;
  if (classes != null && !again) return true;
  classes = r.data.priority_classes;
  defaultClass = r.data.policy?.default_priority ?? MODEL_DEFAULT_CLASS;
  render();
  return true;
}

/** A ticket's class as a chip; none for the site's default class unless `always`. */
function prioChip(id, always = false) {
  if (!id || classes == null || (!always && id === defaultClass)) return null;
  const preempt = classes.find((c) => c.id === id)?.preempt;
  return h('span', { class: `prio prio-${id}${preempt ? ' prio-preempt' : ''}` }, priorityName(id, classes, lang));
}

/** People waiting for this counter's services as far as the console knows (the counter
 * summary or the live lists, whichever says more); null before either has arrived. */
function waitingTotal() {
  let known = false;
  let n = 0;
  for (const sid of me.services) {
    const a = counter.waiting[sid]?.waiting;
    const b = queues[sid]?.length;
    if (a != null || b != null) known = true;
    n += Math.max(a ?? 0, b ?? 0);
  }
  return known ? n : null;
}

const serviceName = (id) => nameIn(site.services.find((s) => s.id === id)?.name ?? id, lang);

/** Counter messages: snapshots and live events carry everything; replayed ones only part. */
function onCounter(msg) {
  if (removed) return undefined;
  // Subscribing again (a resync) to a counter the site no longer has.
  if (msg.op === 'error' && msg.code === 'unknown_topic') return showRemoved();
  if (msg.op === 'error') return errorScreen($('app'), t, msg);
  const d = msg.data ?? {};
  if (d.removed) return showRemoved();
  if (d.site) applySite(d.site, msg.op === 'event' && msg.type === 'site');
  if (msg.op === 'snapshot') counter = { state: d.state, ticket: d.ticket, waiting: d.waiting ?? {} };
  else {
    if (d.state) counter.state = d.state;
    if ('ticket' in d) counter.ticket = d.ticket;
    if (d.waiting) counter.waiting = d.waiting;
  }
  if (Array.isArray(d.parked)) parked = d.parked;
  render();
  return undefined;
}

// "This link stops working on …" in the console link's last days (set once the page is up).
let paintExpiry = () => {};

/** The site as the server now has it (a `site` message, or a snapshot): names, services and
 * this counter's services change in place; the queue lists follow the services served. */
function applySite(doc, changed) {
  const mine = doc.counters?.find((c) => c.id === counterId);
  if (!mine) { showRemoved(); return; }
  const before = me.services.join();
  Object.assign(site, doc);
  Object.assign(me, mine);
  followQueues();
  if (changed && before !== me.services.join()) {
    toast(own('site_changed', { services: me.services.map(serviceName).join(' · ') }));
  }
  if (changed) loadClasses(true); // its priority classes may have changed too
}

/** One `service:` topic per service this counter serves now, and none for the others. */
const following = new Map(); // service → unsubscribe
function followQueues() {
  if (!client) return;
  for (const [sid, stop] of following) {
    if (me.services.includes(sid)) continue;
    stop();
    following.delete(sid);
    delete queues[sid];
  }
  for (const sid of me.services) {
    if (following.has(sid)) continue;
    following.set(sid, client.subscribe(`service:${site.id}:${sid}`, (msg) => {
      if (msg.op === 'error' || removed || !following.has(sid)) return;
      queues[sid] = applyQueue(queues[sid] ?? [], msg);
      renderQueues();
      renderActions(); // "call next" follows whether anyone is waiting
    }));
  }
}

/** The counter was taken out of the site: say so (never act on a ghost) and stop. */
function showRemoved() {
  removed = true;
  for (const d of document.querySelectorAll('dialog[open]')) d.close();
  for (const stop of following.values()) stop();
  following.clear();
  client?.stop();
  const name = nameIn(me.name, lang);
  document.title = own('removed_title');
  $('app').replaceChildren(h('main', { class: 'error-screen', role: 'alert', id: 'counter-removed' },
    h('div', { class: 'error-icon', 'aria-hidden': 'true' }, '!'),
    h('h1', {}, own('removed_title')),
    h('p', {}, own('removed_body', { counter: name }))));
}

function render() {
  if (removed) return;
  document.body.dataset.state = counter.state ?? '';
  paintExpiry(t, lang);
  renderHeader();
  renderCurrent();
  renderActions();
  renderParked();
  renderFound();
  renderQueues();
}

function renderHeader() {
  setText($('counter-name'), `${nameIn(me.name, lang)} · ${t('console_title')}`);
  setText($('site-name'), nameIn(site.name, lang));
  document.title = `${nameIn(me.name, lang)} · ${t('console_title')}`;
  const group = $('state-group');
  group.setAttribute('aria-label', t('counter_state'));
  replaceChildren(group, STATES.map((s) => h('button', {
    type: 'button', class: `seg-btn st-${s.state}`, 'aria-pressed': String(counter.state === s.state),
    'aria-keyshortcuts': shortcutsOn ? s.key.toUpperCase() : null, disabled: busy || counter.state === s.state,
    onclick: () => run(s.op),
  }, t(s.label), shortcutsOn ? h('kbd', {}, s.key.toUpperCase()) : null)), `${counter.state}|${busy}|${lang}|${shortcutsOn}`);
}

function renderCurrent() {
  const tk = counter.ticket;
  setText($('current-title'), t('current'));
  if (!tk) {
    replaceChildren($('current'), [h('p', { class: 'c-empty' }, t('no_current'))], `none|${lang}`);
    return;
  }
  const status = tk.status === 'serving' ? t('st_serving') : t('st_called');
  replaceChildren($('current'), [
    h('div', { class: 'c-number num' }, tk.number),
    customerName(tk.customer, 'c-customer'),
    h('div', { class: 'c-meta' },
      h('span', { class: `chip ${tk.status === 'serving' ? 'chip-ok' : 'chip-warn'}` }, status),
      h('span', { class: 'c-svc' }, serviceName(tk.service)),
      prioChip(tk.priority, true)),
    tk.called_at ? h('p', { class: 'muted' }, t('called_at', { time: formatTime(tk.called_at, lang, tz, true) })) : null,
  ], `${tk.id}|${tk.status}|${tk.called_at}|${tk.customer ?? ''}|${classes != null}|${lang}`);
}

/** The name the person gave at the desk (docs/privacy.md: the agent serving them reads it),
 * as text in its own direction (an Arabic or Hebrew name does not reorder the numbers and
 * words around it), or nothing. */
function customerName(name, cls) {
  if (!name) return null;
  return h('span', { class: `customer ${cls}` }, h('bdi', { dir: 'auto' }, name));
}

function renderActions() {
  replaceChildren($('actions'), ACTIONS.map((a) => h('button', {
    type: 'button', class: `btn ${a.cls ?? ''}`, dataset: { op: a.op }, 'aria-keyshortcuts': shortcutsOn ? a.key.toUpperCase() : null,
    disabled: busy || !a.when(counter), onclick: () => (a.op === 'transfer' ? openTransfer() : run(a.op)),
  }, t(a.label), shortcutsOn ? h('kbd', {}, a.key.toUpperCase()) : null)), `${counter.state}|${counter.ticket?.status}|${waitingTotal() !== 0}|${busy}|${lang}|${shortcutsOn}`);
}

function renderParked() {
  $('parked').hidden = !parked.length;
  setText($('parked-title'), t('parked_here'));
  replaceChildren($('parked-list'), parked.map((p) => h('li', {},
    h('span', { class: 'num' }, p.number), h('span', { class: 'muted' }, serviceName(p.service)),
    h('button', { type: 'button', class: 'btn', disabled: busy, onclick: () => run('unpark', { ticket: p.id }) }, t('unpark')),
    h('button', { type: 'button', class: 'btn', disabled: busy, onclick: () => openTransfer(p),
      'aria-label': `${t('transfer')} ${p.number}` }, t('transfer')))),
  `${JSON.stringify(parked)}|${busy}|${lang}`);
}

/** What "find a ticket" found: {number, ticket (null: no open ticket with it)}, or null. */
let found = null;
const WAITING = new Set(['waiting', 'transferred', 'parked']);
const TERMINAL = new Set(['done', 'no_show', 'cancelled']);

async function find(ev) {
  ev.preventDefault();
  const number = $('find-number').value.trim().toUpperCase();
  if (!number) return;
  // An appointment code (six letters and digits) is not a ticket number: the server says
  // so (400), and the card offers to check the appointment in instead.
  const codeLike = Boolean(boot.booking_site) && BOOKING_CODE.test(number);
  const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/tickets?number=${encodeURIComponent(number)}`);
  if (!r.ok && !(codeLike && r.status === 400)) {
    // Not the last search's card under a new number: nothing is shown for a failed one.
    found = null;
    follow(null);
    renderFound();
    toastError(r);
    return;
  }
  found = { number, ticket: (r.ok && r.data?.tickets?.[0]) || null };
  found.code = !found.ticket && codeLike;
  follow(found.ticket?.id);
  renderFound();
}

/** Check the found appointment code in at this window: its ticket, as a kiosk would give. */
async function checkInFound() {
  const r = await checkInCode(site.id, found.number);
  if (!r.ok) {
    toast(codeError(r, lang, tz), 'error');
    return;
  }
  found = { number: r.data.number, ticket: r.data };
  follow(r.data.id);
  renderFound();
  showIssued(r.data, '');
}

/** The card follows its ticket live (`ticket:{id}`: agents of the site may watch any). */
let unfollow = null;
function follow(id) {
  unfollow?.();
  unfollow = null;
  if (!id || !client) return;
  unfollow = client.subscribe(`ticket:${id}`, (msg) => {
    if (msg.op === 'error' || found?.ticket?.id !== id || !msg.data) return;
    const ended = TERMINAL.has(msg.data.status);
    found = { ...found, ticket: ended ? null : { ...found.ticket, ...msg.data } };
    if (ended) follow(null); // nothing more to follow
    renderFound();
  });
}

/** Look the found ticket up again after acting on it (its status, service, place moved). */
async function refreshFound() {
  if (!found?.ticket) return;
  const r = await api(`/v1/tickets/${encodeURIComponent(found.ticket.id)}`);
  // Finished: no open ticket has that number any more (as a new search would say).
  if (r.ok) found = { ...found, ticket: TERMINAL.has(r.data?.status) ? null : r.data };
  renderFound();
}

function renderFound() {
  setText($('find-label'), t('find_label'));
  $('find-number').placeholder = t('find_hint');
  setText($('find-go'), t('find_go'));
  setText($('issue-open'), `+ ${t('new_ticket')}`);
  const el = $('found');
  const tk = found?.ticket;
  if (!found) { replaceChildren(el, [], 'none'); return; }
  if (!tk && found.code) {
    // No ticket has it, and it reads as an appointment code: the person at the desk booked.
    replaceChildren(el, [h('div', { class: 'found-card card' },
      h('span', { class: 'found-info' }, h('span', { class: 'muted', role: 'status' }, codeText('looks_code', { number: found.number }))),
      h('span', { class: 'q-btns' }, h('button', { type: 'button', class: 'btn small btn-primary', id: 'checkin-code', onclick: checkInFound },
        codeText('checkin_code'))))], `code|${found.number}|${lang}`);
    return;
  }
  if (!tk) {
    replaceChildren(el, [h('p', { class: 'muted', role: 'status' }, t('find_none', { number: found.number }))], `none|${found.number}|${lang}`);
    return;
  }
  const waiting = WAITING.has(tk.status);
  const ours = me.services.includes(tk.service);
  const has = { call: waiting && ours, transfer: waiting, drop: waiting || tk.status === 'called' };
  // Built once per ticket and set of buttons; what moves (service, status, place, enabled)
  // is updated in place, so keyboard focus stays on its button and only the status line is
  // read out again. The buttons act on the ticket as it is when pressed.
  replaceChildren(el, [h('div', { class: 'found-card card', dataset: { ticket: tk.id } },
    h('span', { class: 'q-num num' }, tk.number),
    h('span', { class: 'found-info' },
      customerName(tk.customer, 'found-customer'),
      h('strong', { class: 'found-svc' }),
      h('span', { class: 'muted found-status', role: 'status' })),
    h('span', { class: 'q-btns' },
      has.call ? h('button', { type: 'button', class: 'btn small', dataset: { act: 'call' },
        onclick: async () => { await run('call', { ticket: found.ticket.id, service: found.ticket.service }); refreshFound(); } }, t('call')) : null,
      has.transfer ? h('button', { type: 'button', class: 'btn small', dataset: { act: 'transfer' }, onclick: () => openTransfer(found.ticket) }, t('transfer')) : null,
      has.drop ? h('button', { type: 'button', class: 'btn small btn-danger', dataset: { act: 'drop' }, onclick: () => openDrop(found.ticket) }, t('drop')) : null))],
  `${tk.id}|${tk.customer ?? ''}|${has.call}|${has.transfer}|${has.drop}|${lang}`);
  const status = tk.status === 'serving' ? t('st_serving') : tk.status === 'called' ? t('st_called')
    : waiting ? t(`tk_${tk.status}`) : tk.status;
  const where = tk.position ? t('found_position', { n: tk.position })
    : tk.counter && ['called', 'serving'].includes(tk.status) ? t('found_at', { counter: nameIn(site.counters.find((c) => c.id === tk.counter)?.name ?? tk.counter, lang) }) : '';
  setText(el.querySelector('.found-svc'), serviceName(tk.service));
  setText(el.querySelector('.found-status'), [status, where].filter(Boolean).join(' · '));
  for (const b of el.querySelectorAll('button')) {
    b.disabled = busy || (b.dataset.act === 'call' && !(counter.state === 'open' && !counter.ticket));
  }
}

/** Reception or a window issues a ticket for someone at the desk (channel "window") or
 * calling the phone line ("phone": no slip to print, the number is read out, and the SMS
 * number gets the alerts): any service of the site, any class (staff decide who is a
 * priority), a name and an SMS number if given. One Idempotency-Key per form: a double
 * click or a retry after a lost answer is one ticket. */
let issueKey = null;
let issueService = null;
let issueChannel = 'window';

function openIssue() {
  issueKey = randomId();
  // A new form each time: the counter's own service and the site's default class (an
  // emergency chosen for the last person must not stay for the next).
  issueService = me.services[0];
  issueChannel = 'window';
  $('issue-class').value = '';
  $('issue-form').hidden = false;
  $('issued').hidden = true;
  $('issue-name').value = '';
  $('issue-phone').value = '';
  renderIssue();
  $('issue-dialog').showModal();
}

function renderIssue() {
  setText($('issue-title'), t('new_ticket'));
  setText($('issue-how-label'), t('issue_how'));
  replaceChildren($('issue-how'), [['window', 'issue_at_desk'], ['phone', 'issue_by_phone']].map(([ch, key]) => h('button', {
    type: 'button', class: 'btn', dataset: { channel: ch },
    onclick: () => { issueChannel = ch; renderIssue(); },
  }, t(key))), lang);
  for (const b of $('issue-how').children) b.setAttribute('aria-pressed', String(b.dataset.channel === issueChannel));
  setText($('issue-svc-label'), t('issue_service'));
  setText($('issue-class-label'), t('issue_class'));
  setText($('issue-name-label'), t('issue_name'));
  setText($('issue-phone-label'), t('issue_phone'));
  setText($('issue-cancel'), t('cancel'));
  setText($('issue-go'), t('issue_go'));
  // Built once per language; choosing one only flips aria-pressed (keyboard focus stays).
  replaceChildren($('issue-services'), site.services.map((s) => h('button', {
    type: 'button', class: 'btn', dataset: { service: s.id },
    onclick: () => { issueService = s.id; renderIssue(); },
  }, h('span', { class: 'svc-prefix-sm' }, s.prefix), nameIn(s.name, lang))), `${lang}|${JSON.stringify(site.services)}`);
  for (const b of $('issue-services').children) b.setAttribute('aria-pressed', String(b.dataset.service === issueService));
  const select = $('issue-class');
  const chosen = select.value || defaultClass;
  select.replaceChildren(...(classes ?? []).map((c) => h('option', { value: c.id, selected: c.id === chosen }, priorityName(c.id, classes, lang))));
  select.disabled = classes == null;
}

async function issue(ev) {
  ev.preventDefault();
  const body = { service: issueService, channel: issueChannel };
  if (classes != null && $('issue-class').value) body.priority = $('issue-class').value;
  const name = $('issue-name').value.trim();
  const phone = $('issue-phone').value.trim();
  if (name) body.customer = name;
  if (phone) body.notify = phone;
  $('issue-go').disabled = true;
  const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/tickets`, { method: 'POST', body, key: issueKey });
  $('issue-go').disabled = false;
  if (!r.ok) { toastError(r); return; }
  showIssued(r.data, phone);
}

/** The ticket just issued (or checked in from a booking): a slip with its QR, or on the
 * phone line the number to read out. */
function showIssued(tk, phone) {
  if (!$('issue-dialog').open) $('issue-dialog').showModal();
  $('issue-form').hidden = true;
  $('issued').hidden = false;
  setText($('issued-site'), nameIn(site.name, lang));
  setText($('issued-number'), tk.number);
  setText($('issued-service'), serviceName(tk.service));
  setText($('issued-place'), [tk.position ? t('issued_place', { n: tk.position }) : '',
    t('taken_at', { time: formatTime(tk.issued_at ?? Date.now(), lang, tz) })].filter(Boolean).join(' · '));
  // On the phone there is no slip: the number is read out, the texts say the rest.
  const byPhone = tk.channel === 'phone';
  $('issued-qr').hidden = byPhone;
  $('issued-scan').hidden = byPhone;
  $('issued-print').hidden = byPhone;
  $('issued-read-out').hidden = !byPhone;
  // Texts go out only where a gateway is set up (boot.sms): never promise one that won't come.
  const readOut = !phone ? 'issued_read_out' : boot.sms ? 'issued_read_out_sms' : 'issued_read_out_nosms';
  setText($('issued-read-out'), byPhone ? t(readOut, { phone }) : '');
  if (!byPhone) $('issued-qr').src = `/qr.svg?data=${encodeURIComponent(new URL(tk.tracker, location.origin).href)}`;
  $('issued-qr').alt = t('scan');
  setText($('issued-scan'), t('scan'));
  setText($('issued-print'), t('print'));
  setText($('issued-done'), t('done'));
  $('issued-done').focus();
}

function openDrop(tk) {
  setText($('drop-title'), t('drop_q', { number: tk.number }));
  setText($('drop-keep'), t('drop_keep'));
  setText($('drop-yes'), t('drop_yes'));
  $('drop-yes').onclick = async () => {
    $('drop-dialog').close();
    busy = true;
    render();
    const r = await api(`/v1/tickets/${encodeURIComponent(tk.id)}/cancel`, { method: 'POST' });
    busy = false;
    if (r.ok) {
      parked = parked.filter((p) => p.id !== tk.id);
      toast(t('ok_dropped', { number: tk.number }));
    } else {
      toastError(r);
    }
    render();
    refreshFound();
  };
  $('drop-dialog').showModal();
}

function renderQueues() {
  setText($('queue-title'), t('queue'));
  const canCall = counter.state === 'open' && !counter.ticket && !busy;
  const now = Date.now();
  const cols = me.services.map((sid) => {
    const list = queues[sid] ?? [];
    const sum = counter.waiting[sid] ?? {};
    return h('section', { class: 'q-col card', 'aria-label': serviceName(sid) },
      h('header', { class: 'q-head' },
        h('h3', {}, serviceName(sid)),
        h('span', { class: 'chip' }, t('n_waiting', { n: sum.waiting ?? list.length })),
        h('span', { class: 'muted q-est' }, `${t('est_wait')} ${formatEstimate(sum.estimate, lang)}`)),
      list.length
        ? h('ol', { class: 'q-list' }, list.map((tk) => {
          const waited = tk.issued_at ? Math.max(0, Math.floor((now - Date.parse(tk.issued_at)) / 60000)) : null;
          return h('li', { class: 'q-item', dataset: { ticket: tk.id } },
            h('span', { class: 'q-num num' }, tk.number),
            h('span', { class: 'q-info' },
              prioChip(tk.priority),
              h('span', { class: 'muted' }, [tk.channel ? t(`ch_${tk.channel}`) : '', waited != null ? t('waited', { m: waited }) : ''].filter(Boolean).join(' · '))),
            h('span', { class: 'q-btns' },
              h('button', { type: 'button', class: 'btn small', disabled: !canCall, onclick: () => run('call', { ticket: tk.id, service: sid }),
                'aria-label': `${t('call')} ${tk.number}` }, t('call')),
              // Reception's "wrong queue": any waiting ticket, whatever the counter is doing.
              h('button', { type: 'button', class: 'btn small', disabled: busy, onclick: () => openTransfer(tk),
                'aria-label': `${t('transfer')} ${tk.number}` }, t('transfer'))));
        }))
        : h('p', { class: 'q-empty muted' }, t('queue_empty_list')));
  });
  $('queues').replaceChildren(...cols);
}

function renderKeys() {
  setText($('keys-title'), t('shortcuts'));
  $('keys').replaceChildren(...[...ACTIONS, ...STATES].map((a) => h('div', {}, h('dt', {}, h('kbd', {}, a.key.toUpperCase())), h('dd', {}, t(a.label)))));
  $('keys').hidden = !shortcutsOn;
  // The switch (a toggle button, a full-size target), with the list it turns on and off;
  // made here, as the page's markup has none.
  if (!$('keys-toggle')) {
    $('keys-title').after(h('button', { type: 'button', class: 'btn', id: 'keys-toggle', onclick: () => setShortcuts(!shortcutsOn) }),
      h('p', { id: 'keys-off', class: 'muted' }));
  }
  $('keys-toggle').setAttribute('aria-pressed', String(shortcutsOn));
  setText($('keys-toggle'), own('keys_toggle'));
  $('keys-off').hidden = shortcutsOn;
  setText($('keys-off'), own('keys_off'));
}

function setShortcuts(on) {
  shortcutsOn = on;
  try { localStorage.setItem(KEYS_STORE, on ? 'on' : 'off'); } catch { /* private mode: this page only */ }
  renderKeys();
  render();
}

/** Keyboard focus lost to the page (its button rebuilt, or a shortcut pressed on the page):
 * to the current-ticket panel, which says what the action did (WCAG 2.4.3). */
function keepFocus() {
  const el = document.activeElement;
  if ((el && el !== document.body && el.isConnected) || document.querySelector('dialog[open]')) return;
  const panel = $('current').closest('section');
  panel.tabIndex = -1;
  panel.focus();
}

async function run(op, body) {
  if (busy || removed) return;
  // The buttons are rebuilt: keyboard users keep their place (the same button, or the first).
  const focused = document.activeElement?.closest?.('#actions button')?.dataset.op;
  busy = true;
  render();
  if (!focused) keepFocus(); // a queue list's "Call" is rebuilt at once
  const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/counters/${encodeURIComponent(counterId)}/${op}`, { method: 'POST', body: body ?? {} });
  busy = false;
  if (r.ok) {
    const d = r.data ?? {};
    // Our own answer is the newest state: use it at once (the topic confirms it).
    if (['call-next', 'call', 'recall', 'start'].includes(op) && d.id) counter.ticket = { ...(counter.ticket?.id === d.id ? counter.ticket : {}), ...d };
    else if (['complete', 'no-show', 'park', 'transfer'].includes(op)) counter.ticket = null;
    // At once; the counter topic's next message confirms it.
    if (op === 'park') parked = [...parked.filter((p) => p.id !== d.id), { id: d.id, number: d.number, service: d.service }];
    if (op === 'unpark' || (op === 'call' && body?.ticket)) parked = parked.filter((p) => p.id !== body.ticket);
    const state = STATES.find((s) => s.op === op);
    toast(state ? t('ok_state', { state: t(`state_${state.state}`) })
      : op.startsWith('call') ? t('ok_called', { number: d.number })
        // A first no-show goes back to its place (policy): say so, or "call next" calls it again.
        : op === 'no-show' && d.status === 'waiting' ? t('ok_no_show_returned', { number: d.number })
          : t('ok_done', { number: d.number ?? '', op: t(ACTIONS.find((a) => a.op === op)?.label ?? op) }));
  } else {
    const code = r.data?.code ?? 'network';
    const key = code === 'network' ? 'err_network' : `e_${code}`;
    toastError(r);
  }
  render();
  const next = queued;
  queued = null;
  if (next) {
    const a = ACTIONS.find((x) => x.op === next);
    if (a?.when(counter)) { run(next); return; }
  }
  if (focused) {
    const buttons = [...$('actions').querySelectorAll('button')];
    (buttons.find((b) => b.dataset.op === focused && !b.disabled) ?? buttons.find((b) => !b.disabled))?.focus();
  }
  keepFocus();
}

function toastError(r) {
  const code = r.data?.code ?? 'network';
  const key = code === 'network' ? 'err_network' : `e_${code}`;
  toast(t(key) === key ? (r.data?.message ?? t('err_generic', { code })) : t(key), 'error');
}

/** Transfer the counter's current ticket, or (`waiting`) a waiting or parked ticket by its id. */
function openTransfer(waiting) {
  const tk = waiting ?? counter.ticket;
  if (!tk) return;
  setText($('transfer-title'), t('transfer_to', { number: tk.number }));
  setText($('transfer-cancel'), t('cancel'));
  // Only to a service some counter serves: a ticket sent elsewhere would wait, uncalled,
  // until the day close while its page said "you keep your place".
  const served = (s) => site.counters.some((c) => c.services?.includes(s.id));
  $('transfer-options').replaceChildren(...site.services.filter((s) => s.id !== tk.service && served(s)).map((s) => h('button', {
    type: 'button', class: 'btn', onclick: () => { $('transfer-dialog').close(); if (waiting) move(tk, s); else run('transfer', { service: s.id }); },
  }, h('span', { class: 'svc-prefix-sm' }, s.prefix), nameIn(s.name, lang))));
  $('transfer-dialog').showModal();
}

async function move(tk, svc) {
  if (busy) return;
  busy = true;
  render();
  keepFocus(); // its "Transfer" button in the queue list is rebuilt
  const r = await api(`/v1/tickets/${encodeURIComponent(tk.id)}/transfer`, { method: 'POST', body: { service: svc.id } });
  busy = false;
  if (r.ok) {
    // The service topics move it between the lists; the parked list is ours to keep.
    parked = parked.filter((p) => p.id !== tk.id);
    toast(t('ok_moved', { number: tk.number, service: nameIn(svc.name, lang) }));
  } else {
    toastError(r);
  }
  render();
  if (found?.ticket?.id === tk.id) refreshFound();
}

function onKey(ev) {
  if (removed || !shortcutsOn) return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat || ev.isComposing) return;
  // Never while typing (the find box, a name, an IME's letters).
  if (ev.target.closest?.('input, select, textarea, [contenteditable], dialog[open]') || document.querySelector('dialog[open]')) return;
  const k = ev.key.toLowerCase();
  const a = ACTIONS.find((x) => x.key === k);
  if (a) {
    ev.preventDefault();
    if (busy && a.op !== 'transfer') { queued = a.op; return; }
    if (!a.when(counter)) {
      // N with nobody waiting: say so rather than do nothing.
      if (a.op === 'call-next' && counter.state === 'open' && !counter.ticket) toast(t('e_queue_empty'), 'error');
      return;
    }
    if (a.op === 'transfer') openTransfer(); else run(a.op);
    return;
  }
  const s = STATES.find((x) => x.key === k);
  if (s && counter.state !== s.state) {
    ev.preventDefault();
    run(s.op);
  }
}

if (!site || !me || boot.error) {
  errorScreen($('app'), t, boot.error ?? { code: 'unknown_counter' });
} else {
  toast = toaster(document.body);
  paintExpiry = mountLinkExpiry($('app'));
  let paintChip = () => {};
  let paintBooking = null;
  mountLangSwitch($('lang'), lang0, (l, tl) => {
    lang = l;
    t = tl;
    paintChip();
    renderKeys();
    render();
    paintBooking?.();
  });
  // Appointments for callers and people at the desk, where the site takes bookings.
  const skew = (boot.server_ms ?? Date.now()) - Date.now();
  paintBooking = mountBooking({ site, rules: boot.booking_site, sms: boot.sms, me, getLang: () => lang,
    toastError: (r) => toastError(r), now: () => Date.now() + skew });
  $('transfer-cancel').addEventListener('click', () => $('transfer-dialog').close());
  $('drop-keep').addEventListener('click', () => $('drop-dialog').close());
  $('issue-open').addEventListener('click', openIssue);
  $('issue-form').addEventListener('submit', issue);
  $('issue-cancel').addEventListener('click', () => $('issue-dialog').close());
  $('issued-done').addEventListener('click', () => $('issue-dialog').close());
  $('issued-print').addEventListener('click', () => { document.body.classList.add('printing-slip'); window.print(); document.body.classList.remove('printing-slip'); });
  $('find').addEventListener('submit', find);
  renderKeys();
  render();
  client = new Client({ token: new URLSearchParams(location.search).get('token') });
  const banner = connectionBanner(client, () => t, { timeZone: tz });
  document.body.append(banner.el);
  // The site document (priority classes): at once, and on each reconnect until it came.
  let loading = null;
  const fetchClasses = () => {
    if (classes == null && !loading) loading = loadClasses().finally(() => { loading = null; });
  };
  fetchClasses();
  client.onState((s) => {
    if (s.status === 'online') fetchClasses();
  });
  paintChip = connectionChip($('conn-chip'), client, () => t);
  client.subscribe(`counter:${site.id}:${counterId}`, onCounter);
  followQueues();
  client.start();
  document.addEventListener('keydown', onKey);
  setInterval(renderQueues, 30000); // "waited n min" keeps counting
  window.switchboardCounter = { get counter() { return counter; }, queues, client, run };
}
