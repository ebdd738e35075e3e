// The counter console (/counter/{site}/{counter}): the agent's screen. Open, pause, close;
// call next, recall, start, complete, no-show, park, transfer; the queue live; keyboard
// shortcuts for all of it. State comes from `counter:{site}:{counter}` and one
// `service:{site}:{service}` per service the counter serves; actions go through the HTTP API.
import { Client } from './client.js';
import { formatEstimate, formatTime, nameIn, priorityName } from './i18n.js';
import { BOOKING_CODE, checkInCode, codeError, codeText, mountBooking } from './counter-booking.js';
import { applyQueue } from './queue-list.js';
import { compact } from './typed.js';
import { api, connectionBanner, connectionChip, errorScreen, h, language, mountLangSwitch, mountLinkExpiry, randomId, readBoot, replaceChildren, setText, toaster } from './ui.js';
import { applySiteWords } from './vocabulary-boot.js';

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
    keys_on_off: '{name}: {state}',
    on: 'on',
    off: 'off',
    keys_off: 'Off on this computer: use the buttons. (Speech input can type letters by mistake.)',
    recall_last: 'Recall (last)',
    recall_ends: 'Recall = no-show',
    hint_last: 'Last recall: the one after it marks {number} a no-show.',
    hint_ends: 'Called {n} times: the next Recall marks {number} a no-show.',
    auto_no_show: '{number} marked no-show ({n} calls)',
    auto_no_show_back: '{number} marked no-show ({n} calls): back in the queue once, a little further back',
    complete_q: 'Complete {number} without starting?',
    complete_why: '{number} was called but never started. If they did not come, use No-show.',
    complete_yes: 'Complete anyway',
    complete_no: 'Go back',
    start_first: 'Start first (S): C completes only a patient being served.',
    empty_closed: 'Counter closed — open it to call.',
    empty_paused: 'Paused — open the counter again to call.',
    transferred: 'Transferred',
    from_service: 'Transferred from {service}',
    none_open: 'no counter open now',
    undo: 'Undo',
    ok_undone: '{number} is back at this counter',
    e_nothing_to_undo: 'Nothing to undo.',
    e_undo_expired: 'Too late to undo.',
    e_ticket_changed: 'Cannot undo: the ticket has changed since.',
    find_bad: 'No ticket number reads “{number}”. Type the letters and digits on the ticket, e.g. A023.',
  },
  zh: {
    removed_title: '此窗口已从站点中删除',
    removed_body: '站点已没有“{counter}”，这里不能再叫号或办理。请向主管索取您现在所在窗口的链接。',
    site_changed: '站点配置已更改：本窗口现在办理 {services}。',
    keys_toggle: '单键快捷键',
    keys_on_off: '{name}：{state}',
    on: '开',
    off: '关',
    keys_off: '本机已关闭，请使用按钮。（语音输入可能误输入字母。）',
    recall_last: '重呼（最后一次）',
    recall_ends: '重呼即过号',
    hint_last: '这是最后一次重呼：之后再重呼，{number} 将标记为过号。',
    hint_ends: '已呼叫 {n} 次：再按重呼将把 {number} 标记为过号。',
    auto_no_show: '{number} 已标记过号（呼叫 {n} 次）',
    auto_no_show_back: '{number} 已标记过号（呼叫 {n} 次），已回队一次（稍后叫号）',
    complete_q: '尚未开始办理，确定完成 {number}？',
    complete_why: '{number} 已呼叫但未开始办理。如未到场，请用“过号”。',
    complete_yes: '仍然完成',
    complete_no: '返回',
    start_first: '请先开始办理（S）：C 只完成办理中的号码。',
    empty_closed: '窗口已关闭——开启窗口后才能叫号。',
    empty_paused: '已暂停——重新开启窗口后才能叫号。',
    transferred: '转入',
    from_service: '从{service}转来',
    none_open: '当前无窗口开放',
    undo: '撤销',
    ok_undone: '{number} 已回到本窗口',
    e_nothing_to_undo: '没有可撤销的操作。',
    e_undo_expired: '已超过撤销时限。',
    e_ticket_changed: '号票此后已变化，不能撤销。',
    find_bad: '“{number}”不是票号。请输入号票上的字母和数字，例如 A023。',
  },
};
const own = (key, vars = {}) => (OWN[lang] ?? OWN.en)[key].replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
// Set once the site no longer has this counter: the page says so and acts on nothing.
let removed = false;

// Actions: op, label key, shortcut key, when it is possible, its look (by state: while a
// patient is being called, Start is the one to press; Complete is green only once serving).
const ACTIVE = new Set(['called', 'serving']);
const ACTIONS = [
  { op: 'call-next', key: 'n', label: 'call_next', cls: () => 'btn-primary big', when: (s) => s.state === 'open' && !s.ticket && waitingTotal() !== 0 },
  { op: 'start', key: 's', label: 'start', cls: (s) => (s.ticket?.status === 'called' ? 'btn-primary' : ''), when: (s) => s.ticket?.status === 'called' },
  { op: 'recall', key: 'r', label: 'recall', cls: (s) => (recallState(s.ticket) === 'ends' ? 'btn-danger' : ''), when: (s) => s.ticket?.status === 'called' && recallState(s.ticket) !== 'limit' },
  // The C key completes only a patient being served: pressed after N by habit it would end
  // the visit of someone who never came in. The button asks first (confirmComplete).
  { op: 'complete', key: 'c', label: 'complete', cls: (s) => (s.ticket?.status === 'serving' ? 'btn-ok' : ''), when: (s) => ACTIVE.has(s.ticket?.status), keyWhen: (s) => s.ticket?.status === 'serving' },
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
let toastEl = null; // the toaster's element
let client = null;
// The site's priority classes and its default class, from the site document (the page's
// boot lists services and counters only). Until it has come, no class is labelled: a chip
// shown too early would be a raw id or the wrong "unlabelled" class.
let classes = site?.priority_classes ?? null;
// The document omits a policy left at its defaults: queueing/model.py's Policy.default_priority.
const MODEL_DEFAULT_CLASS = 'walk_in';
let defaultClass = site?.priority_classes ? (site.policy?.default_priority ?? MODEL_DEFAULT_CLASS) : null;
// The site's recall and undo rules (docs/configuration.md: a policy left at its defaults is
// omitted), from the same document.
let policy = site?.policy ?? {};
// How many times each called ticket has been called (the counter topic's ticket view does
// not say; the HTTP answers and GET /v1/tickets/{id} do): the recall that marks a no-show
// is announced on its button before it is pressed.
const callsOf = new Map();
let callsLoading = null;

/** Where the current ticket's recalls stand: null (nothing to say, or not known yet),
 * 'last' (the last recall before the no-show or the limit), 'ends' (the next recall marks
 * it a no-show) or 'limit' (one more is refused). */
function recallState(tk) {
  const calls = callsOf.get(tk?.id);
  if (tk?.status !== 'called' || calls == null) return null;
  const after = policy.no_show_after_calls ?? 3;
  const max = policy.recall_max ?? 2;
  if (calls >= after) return 'ends';
  if (calls - 1 >= max) return 'limit';
  return calls + 1 >= after || calls >= max ? 'last' : null;
}

/** The current ticket's call count, when not known (a reload, a recall made elsewhere). */
async function loadCalls(tk, again = false) {
  if (!tk || tk.status !== 'called' || (callsOf.has(tk.id) && !again) || callsLoading === tk.id) return;
  callsLoading = tk.id;
  const r = await api(`/v1/tickets/${encodeURIComponent(tk.id)}`);
  callsLoading = null;
  if (r.ok && typeof r.data?.calls === 'number') {
    callsOf.set(tk.id, r.data.calls);
    render();
  }
}

async function loadClasses(again = false) {
  const r = await api(`/v1/sites/${encodeURIComponent(site.id)}`);
  if (!r.ok || !Array.isArray(r.data?.priority_classes)) return false;
  if (classes != null && !again) return true;
  classes = r.data.priority_classes;
  policy = r.data.policy ?? {};
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
  if (counter.ticket) endUndo(); // the counter has a patient again: nothing to take back
  render();
  // A call or recall (from this console, or another device of the counter): its count.
  loadCalls(counter.ticket, msg.type === 'recalled' || msg.type === 'called' || msg.type === 'undone');
  return undefined;
}

// "This link stops working on …" in the console link's last days (set once the page is up).
let paintExpiry = () => {};
// The appointment form's labels (counter-booking.js), where the site takes bookings.
let paintBooking = null;

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
  // Its words (vocabulary): the appointment form's ("ID number or mobile number") and the
  // keys' are drawn again; the rest at the render that follows.
  if (applySiteWords(doc)) {
    renderKeys();
    paintBooking?.();
  }
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
  paintUndo();
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
    // Not "call the next one" where Call next cannot be pressed.
    const empty = { closed: own('empty_closed'), paused: own('empty_paused') }[counter.state] ?? t('no_current');
    replaceChildren($('current'), [h('p', { class: 'c-empty' }, empty)], `none|${counter.state}|${lang}`);
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
    recallHint(tk),
  ], `${tk.id}|${tk.status}|${tk.called_at}|${tk.customer ?? ''}|${classes != null}|${recallState(tk)}|${callsOf.get(tk.id)}|${lang}`);
}

/** Before the recall that ends the call (the documented limit): said, not found out. */
function recallHint(tk) {
  const state = recallState(tk);
  if (state !== 'last' && state !== 'ends') return null;
  const after = policy.no_show_after_calls ?? 3;
  // 'last' for the recall limit only (no no-show after it): the button says it.
  if (state === 'last' && callsOf.get(tk.id) + 1 < after) return null;
  return h('p', { class: `c-hint ${state === 'ends' ? 'c-hint-ends' : ''}`, id: 'recall-hint' },
    own(state === 'ends' ? 'hint_ends' : 'hint_last', { number: tk.number, n: callsOf.get(tk.id) }));
}

/** The name the person gave at the desk (docs/privacy.md: the agent serving them reads it),
 * as text in its own direction (an Arabic or Hebrew name does not reorder the numbers and
 * words around it), or nothing. */
function customerName(name, cls) {
  if (!name) return null;
  return h('span', { class: `customer ${cls}` }, h('bdi', { dir: 'auto' }, name));
}

function actionLabel(a) {
  if (a.op !== 'recall') return t(a.label);
  const state = recallState(counter.ticket);
  return state === 'ends' ? own('recall_ends') : state === 'last' ? own('recall_last') : t(a.label);
}

function press(op) {
  if (op === 'transfer') openTransfer();
  else if (op === 'complete' && counter.ticket?.status === 'called') confirmComplete();
  else run(op);
}

function renderActions() {
  replaceChildren($('actions'), ACTIONS.map((a) => h('button', {
    type: 'button', class: `btn ${a.cls?.(counter) ?? ''}`, dataset: { op: a.op }, 'aria-keyshortcuts': shortcutsOn ? a.key.toUpperCase() : null,
    'aria-describedby': a.op === 'recall' && recallHint(counter.ticket) ? 'recall-hint' : null,
    disabled: busy || !a.when(counter), onclick: () => press(a.op),
  }, actionLabel(a), shortcutsOn ? h('kbd', {}, a.key.toUpperCase()) : null)),
  `${counter.state}|${counter.ticket?.status}|${recallState(counter.ticket)}|${waitingTotal() !== 0}|${busy}|${lang}|${shortcutsOn}`);
}

/** Complete a patient called but never started: asked first (a real dialog; Go back has
 * the focus, so Enter pressed by habit does not end the visit). */
function confirmComplete() {
  const tk = counter.ticket;
  if (!tk || busy) return;
  setText($('complete-title'), own('complete_q', { number: tk.number }));
  setText($('complete-why'), own('complete_why', { number: tk.number }));
  setText($('complete-no'), own('complete_no'));
  setText($('complete-yes'), own('complete_yes'));
  $('complete-yes').onclick = () => {
    $('complete-dialog').close();
    // Still the same patient, still only called (the topic may have moved on meanwhile).
    if (counter.ticket?.id === tk.id && ACTIVE.has(counter.ticket.status)) run('complete');
  };
  $('complete-dialog').showModal();
  $('complete-no').focus();
}

function renderParked() {
  $('parked').hidden = !parked.length;
  setText($('parked-title'), t('parked_here'));
  // Back from the X-ray: called straight to this counter (POST …/call {ticket} takes a
  // parked ticket), without going back to the queue first.
  const canCall = counter.state === 'open' && !counter.ticket && !busy;
  replaceChildren($('parked-list'), parked.map((p) => h('li', {},
    h('span', { class: 'num' }, p.number), h('span', { class: 'muted p-svc' }, serviceName(p.service)),
    h('span', { class: 'p-btns' },
      h('button', { type: 'button', class: 'btn', disabled: !canCall, onclick: () => run('call', { ticket: p.id }),
        'aria-label': `${t('call')} ${p.number}` }, t('call')),
      h('button', { type: 'button', class: 'btn', disabled: busy, onclick: () => run('unpark', { ticket: p.id }) }, t('unpark')),
      h('button', { type: 'button', class: 'btn', disabled: busy, onclick: () => openTransfer(p),
        'aria-label': `${t('transfer')} ${p.number}` }, t('transfer'))))),
  `${JSON.stringify(parked)}|${canCall}|${busy}|${lang}`);
}

/** What "find a ticket" found: {number, ticket (null: no open ticket with it)}, or null. */
let found = null;
const WAITING = new Set(['waiting', 'transferred', 'parked']);
const TERMINAL = new Set(['done', 'no_show', 'cancelled']);

// The error toast a failed search left (its text): the next search takes it away, or it
// stays up beside the card a good search shows.
let findError = null;

function dropFindError() {
  if (findError && toastEl && !toastEl.hidden && toastEl.textContent === findError) toastEl.hidden = true;
  findError = null;
}

async function find(ev) {
  ev.preventDefault();
  // As people type it: "Ａ００１" (a Chinese input method's full-width forms), "a 23",
  // "HD4 3UX" (a code as the booking page shows it, in two groups), "HD4-3UX".
  const number = compact($('find-number').value).toUpperCase();
  dropFindError();
  toast.dismiss?.();
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
    // A refused number says what a ticket number is, with what was read.
    if (r.status === 400) toast(own('find_bad', { number }), 'error');
    else toastError(r);
    findError = toastEl?.textContent ?? null;
    return;
  }
  found = { number, ticket: (r.ok && r.data?.tickets?.[0]) || null };
  found.code = !found.ticket && codeLike;
  follow(found.ticket?.id);
  renderFound();
  keepFound();
}

// A result is an answer to one question, not a fixture: it goes once its ticket is called
// here, when the search box is emptied, or after a minute left alone (not while the
// pointer or keyboard focus is on it). Nothing moves the focus into it.
const FOUND_TTL_MS = 60000;
let foundTimer = null;

function keepFound() {
  clearTimeout(foundTimer);
  if (found) foundTimer = setTimeout(expireFound, FOUND_TTL_MS);
}

function expireFound() {
  const el = $('found');
  if (el.contains(document.activeElement) || el.matches(':hover')) { keepFound(); return; }
  clearFound();
}

function clearFound() {
  clearTimeout(foundTimer);
  const had = $('found').contains(document.activeElement);
  found = null;
  follow(null);
  renderFound();
  // Its button had the focus: to the search box, where the next question is typed.
  if (had) $('find-number').focus();
}

/** Check the found appointment code in at this window: its ticket, as a kiosk would give. */
async function checkInFound() {
  const r = await checkInCode(site.id, found.number);
  if (!r.ok) {
    toast(codeError(r, lang, tz), 'error');
    return;
  }
  // The question answered: the card is the ticket now (to call it from here), for a while.
  found = { number: r.data.number, ticket: r.data };
  follow(r.data.id);
  renderFound();
  keepFound();
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
    replaceChildren(el, [h('div', { class: 'found-card found-code card' },
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
        onclick: async () => {
          await run('call', { ticket: found.ticket.id, service: found.ticket.service });
          // Called here: it is the current ticket now, shown in its own panel.
          if (counter.ticket?.id === found?.ticket?.id) clearFound(); else refreshFound();
        } }, t('call')) : null,
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

/** The queue lists, updated in place: a waiting ticket's row and its buttons are made once
 * and kept while it waits (its words and "waited n min" change inside it), so keyboard focus
 * stays on the button it is on across redraws: every 30 s, each change of a queue. When the
 * focused button's ticket has left the list, focus goes to the same button of the ticket now
 * in its place (or the last one), else to the current-ticket panel (WCAG 2.4.3). */
function renderQueues() {
  setText($('queue-title'), t('queue'));
  const canCall = counter.state === 'open' && !counter.ticket && !busy;
  const now = Date.now();
  const root = $('queues');
  const was = queueFocus(root);
  const cols = new Map([...root.children].map((c) => [c.dataset.service, c]));
  me.services.forEach((sid, i) => {
    const col = cols.get(sid) ?? h('section', { class: 'q-col card', dataset: { service: sid } },
      h('header', { class: 'q-head' }, h('h3'), h('span', { class: 'chip' }), h('span', { class: 'muted q-est' })),
      h('ol', { class: 'q-list' }));
    cols.delete(sid);
    if (root.children[i] !== col) root.insertBefore(col, root.children[i] ?? null);
    const list = queues[sid] ?? [];
    const sum = counter.waiting[sid] ?? {};
    col.setAttribute('aria-label', serviceName(sid));
    setText(col.querySelector('h3'), serviceName(sid));
    setText(col.querySelector('.chip'), t('n_waiting', { n: sum.waiting ?? list.length }));
    setText(col.querySelector('.q-est'), `${t('est_wait')} ${formatEstimate(sum.estimate, lang)}`);
    const ol = col.querySelector('.q-list');
    ol.hidden = !list.length;
    let empty = col.querySelector('.q-empty');
    if (list.length) empty?.remove();
    else if (!empty) col.append(empty = h('p', { class: 'q-empty muted' }));
    if (empty) setText(empty, t('queue_empty_list'));
    // Gone first, so that the rows staying are not moved (a moved element loses focus).
    const ids = new Set(list.map((tk) => tk.id));
    for (const li of [...ol.children]) if (!ids.has(li.dataset.ticket)) li.remove();
    const rows = new Map([...ol.children].map((li) => [li.dataset.ticket, li]));
    list.forEach((tk, j) => {
      const li = rows.get(tk.id) ?? queueRow(tk.id, sid);
      updateRow(li, tk, canCall, now);
      if (ol.children[j] !== li) ol.insertBefore(li, ol.children[j] ?? null);
    });
  });
  for (const col of cols.values()) col.remove();
  if (was && !root.contains(document.activeElement)) refocusQueue(root, was);
}

/** Where keyboard focus is in the queue lists: {service, ticket, act, index}, or null. */
function queueFocus(root) {
  const el = document.activeElement;
  const li = el?.closest?.('.q-item');
  if (!li || !root.contains(li)) return null;
  return { service: li.closest('.q-col')?.dataset.service, ticket: li.dataset.ticket, act: el.dataset.act,
    index: [...li.parentElement.children].indexOf(li) };
}

/** Focus back on the same button of the same ticket, or of the ticket now in its place. */
function refocusQueue(root, was) {
  const col = [...root.children].find((c) => c.dataset.service === was.service);
  const rows = col ? [...col.querySelectorAll('.q-item')] : [];
  const li = rows.find((r) => r.dataset.ticket === was.ticket) ?? rows[Math.min(was.index, rows.length - 1)];
  const buttons = li ? [...li.querySelectorAll('button')] : [];
  const to = buttons.find((b) => b.dataset.act === was.act && !b.disabled) ?? buttons.find((b) => !b.disabled);
  if (to) to.focus();
  else keepFocus();
}

/** A waiting ticket's row, its buttons acting on the ticket as it is when pressed. */
function queueRow(id, sid) {
  const li = h('li', { class: 'q-item', dataset: { ticket: id } },
    h('span', { class: 'q-num num' }),
    h('span', { class: 'q-info' }),
    h('span', { class: 'q-btns' },
      h('button', { type: 'button', class: 'btn small', dataset: { act: 'call' }, onclick: () => run('call', { ticket: id, service: sid }) }),
      // Reception's "wrong queue": any waiting ticket, whatever the counter is doing.
      h('button', { type: 'button', class: 'btn small', dataset: { act: 'transfer' }, onclick: () => openTransfer(li.ticket) })));
  return li;
}

function updateRow(li, tk, canCall, now) {
  li.ticket = tk;
  setText(li.querySelector('.q-num'), tk.number);
  const waited = tk.issued_at ? Math.max(0, Math.floor((now - Date.parse(tk.issued_at)) / 60000)) : null;
  const info = [origin(tk), waited != null ? t('waited', { m: waited }) : ''].filter(Boolean).join(' · ');
  replaceChildren(li.querySelector('.q-info'), [prioChip(tk.priority), h('span', { class: 'muted' }, info)],
    `${tk.priority}|${classes != null}|${defaultClass}|${info}|${lang}`);
  const [call, transfer] = li.querySelectorAll('button');
  call.disabled = !canCall;
  transfer.disabled = busy;
  for (const [b, key] of [[call, 'call'], [transfer, 'transfer']]) {
    setText(b, t(key));
    const label = `${t(key)} ${tk.number}`;
    if (b.getAttribute('aria-label') !== label) b.setAttribute('aria-label', label);
  }
}

/** Where a waiting ticket came from: the service it was last transferred from
 * (`from_service` in the service topic's rows; "Transferred" for a ticket moved before the
 * field existed), and for the rest how it was taken (kiosk, window…). Its "waited n min"
 * counts from `issued_at`, when the person first took the ticket: a transfer keeps it. */
function origin(tk) {
  if (tk.status === 'transferred') {
    return tk.from_service ? own('from_service', { service: serviceName(tk.from_service) }) : own('transferred');
  }
  return tk.channel ? t(`ch_${tk.channel}`) : '';
}

function renderKeys() {
  setText($('keys-title'), t('shortcuts'));
  $('keys').replaceChildren(...[...ACTIONS, ...STATES].map((a) => h('div', {}, h('dt', {}, h('kbd', {}, a.key.toUpperCase())), h('dd', {}, t(a.label)))),
    h('div', {}, h('dt', {}, h('kbd', {}, 'U')), h('dd', {}, own('undo'))));
  $('keys').hidden = !shortcutsOn;
  // The switch (a toggle button, a full-size target), with the list it turns on and off;
  // made here, as the page's markup has none.
  if (!$('keys-toggle')) {
    $('keys-title').after(h('button', { type: 'button', class: 'btn', id: 'keys-toggle', onclick: () => setShortcuts(!shortcutsOn) }),
      h('p', { id: 'keys-off', class: 'muted' }));
  }
  $('keys-toggle').setAttribute('aria-pressed', String(shortcutsOn));
  // Its state in words too, not by the button's colour alone.
  setText($('keys-toggle'), own('keys_on_off', { name: own('keys_toggle'), state: own(shortcutsOn ? 'on' : 'off') }));
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
  focusPanel();
}

function focusPanel() {
  const panel = $('current').closest('section');
  panel.tabIndex = -1;
  panel.focus();
}

// One Idempotency-Key per press of a button (docs/protocol.md): when the answer is lost (the
// network, or a proxy's 502/503/504 while the server restarts) the press is sent again with
// the same key, a few times, and answered with what it did: never a second patient called,
// a second recall, or "counter busy" for a call that was made. The buttons stay busy meanwhile.
const PRESS_TRIES = 4;
const PRESS_BACKOFF_MS = 500;

function retryable(r) {
  return r.status === 0 || [502, 503, 504].includes(r.status)
    || (r.status === 409 && r.data?.temporary === true); // the first try still being made
}

async function sendPress(path, body) {
  const key = randomId();
  let r;
  for (let i = 1; ; i++) {
    r = await api(path, { method: 'POST', body, key });
    if (i >= PRESS_TRIES || !retryable(r)) return r;
    await new Promise((res) => { setTimeout(res, PRESS_BACKOFF_MS * i); });
  }
}

async function run(op, body) {
  if (busy || removed) return;
  toast.dismiss?.(); // the last error is answered by this action
  // The buttons are rebuilt: keyboard users keep their place (the same button, or the first).
  const focused = document.activeElement?.closest?.('#actions button')?.dataset.op;
  busy = true;
  render();
  if (!focused) keepFocus(); // a queue list's "Call" is rebuilt at once
  const r = await sendPress(`/v1/sites/${encodeURIComponent(site.id)}/counters/${encodeURIComponent(counterId)}/${op}`, body ?? {});
  busy = false;
  if (r.ok) {
    const d = r.data ?? {};
    // The recall past the limit is no call: the answer is the ticket marked a no-show
    // (`waiting` again when it returns once, else `no_show`), and the counter is free.
    const autoNoShow = op === 'recall' && d.id && d.status !== 'called';
    // Our own answer is the newest state: use it at once (the topic confirms it).
    if (['call-next', 'call', 'recall', 'start', 'undo'].includes(op) && d.id && !autoNoShow) counter.ticket = { ...(counter.ticket?.id === d.id ? counter.ticket : {}), ...d };
    else if (['complete', 'no-show', 'park', 'transfer'].includes(op) || autoNoShow) counter.ticket = null;
    if (typeof d.calls === 'number' && d.id) callsOf.set(d.id, d.calls);
    // At once; the counter topic's next message confirms it.
    if (op === 'park') parked = [...parked.filter((p) => p.id !== d.id), { id: d.id, number: d.number, service: d.service }];
    if (op === 'unpark' || (op === 'call' && body?.ticket)) parked = parked.filter((p) => p.id !== body.ticket);
    const ended = op === 'complete' || op === 'no-show' || autoNoShow;
    const message = okMessage(op, d, autoNoShow, body);
    if (ended) offerUndo(message);
    else toast(message);
    if (!ended && counter.ticket) endUndo();
  } else {
    if (op === 'undo') endUndo();
    toastError(r);
  }
  render();
  const next = queued;
  queued = null;
  if (next) {
    const a = ACTIONS.find((x) => x.op === next);
    if (a && (a.keyWhen ?? a.when)(counter)) { run(next); return; }
  }
  if (focused) {
    const buttons = [...$('actions').querySelectorAll('button')];
    (buttons.find((b) => b.dataset.op === focused && !b.disabled) ?? buttons.find((b) => !b.disabled))?.focus();
  }
  keepFocus();
}

/** What an action did, in words. */
function okMessage(op, d, autoNoShow, body) {
  const state = STATES.find((s) => s.op === op);
  if (state) return t('ok_state', { state: t(`state_${state.state}`) });
  if (autoNoShow) return own(d.status === 'waiting' ? 'auto_no_show_back' : 'auto_no_show', { number: d.number, n: d.calls ?? '' });
  if (op.startsWith('call')) return t('ok_called', { number: d.number });
  // A first no-show goes back to its place (policy): say so, or "call next" calls it again.
  if (op === 'no-show' && d.status === 'waiting') return t('ok_no_show_returned', { number: d.number });
  // Where it went, not only that it went.
  if (op === 'transfer') return t('ok_moved', { number: d.number, service: serviceName(d.service ?? body?.service) });
  if (op === 'undo') return own('ok_undone', { number: d.number });
  return t('ok_done', { number: d.number ?? '', op: t(ACTIONS.find((a) => a.op === op)?.label ?? op) });
}

function toastError(r) {
  const code = r.data?.code ?? 'network';
  // A link that expired or was revoked under a console: the staff wording (ask the
  // administrator), not the server's English message.
  const key = code === 'network' ? 'err_network' : code === 'unauthorized' ? 'err_unauthorized_staff' : `e_${code}`;
  const mine = (OWN[lang] ?? OWN.en)[key];
  toast(mine ?? (t(key) === key ? (r.data?.message ?? t('err_generic', { code })) : t(key)), 'error');
}

// Undo of the counter's last Complete or No-show (POST …/undo, docs/protocol.md), offered
// in a toast of its own for the site's undo window (policy.undo_window_s, 120 s by
// default), until the counter calls someone else.
const UNDO_WINDOW_S = 120;
let undoTimer = null;

function offerUndo(message) {
  const windowS = policy.undo_window_s ?? UNDO_WINDOW_S;
  if (!windowS) { toast(message); return; } // the site allows no undo
  const bar = $('undo-toast');
  clearTimeout(undoTimer);
  setText($('undo-text'), message);
  paintUndo();
  bar.hidden = false;
  // Over the page's foot: the focused control is scrolled clear of it (keepClearOfBars).
  clearFocused();
  undoTimer = setTimeout(endUndo, 1000 * windowS);
}

/** The Undo button's words, and its key (U) while single keys are on. */
function paintUndo() {
  const go = $('undo-go');
  replaceChildren(go, [own('undo'), shortcutsOn ? h('kbd', {}, 'U') : null], `${lang}|${shortcutsOn}`);
  if (shortcutsOn) go.setAttribute('aria-keyshortcuts', 'U');
  else go.removeAttribute('aria-keyshortcuts');
}

/** The fixed bars at the page's foot (the Undo bar, an error kept up) never cover the focused
 * control: the page keeps room below its content for them, and scrolling into view stops above
 * them (scroll-padding; WCAG 2.4.11). */
function keepClearOfBars() {
  const bars = [$('undo-toast'), toastEl].filter(Boolean);
  const measure = () => {
    const h0 = Math.max(0, ...bars.filter((b) => !b.hidden).map((b) => window.innerHeight - b.getBoundingClientRect().top));
    const px = `${Math.ceil(h0)}px`;
    if (document.documentElement.style.getPropertyValue('--foot-bars') !== px) {
      document.documentElement.style.setProperty('--foot-bars', px);
      clearFocused();
    }
  };
  const watch = new MutationObserver(measure);
  for (const b of bars) watch.observe(b, { attributes: true, attributeFilter: ['hidden'], childList: true, subtree: true });
  window.addEventListener('resize', measure);
  document.addEventListener('focusin', clearFocused);
  measure();
}

/** The focused control, if a bar at the foot covers it: scrolled up above the bar. */
function clearFocused() {
  const el = document.activeElement;
  if (!el || el === document.body || el.closest('.undo-toast, .toast')) return;
  const top = Math.min(...[$('undo-toast'), toastEl].filter((b) => b && !b.hidden).map((b) => b.getBoundingClientRect().top), window.innerHeight);
  const r = el.getBoundingClientRect();
  if (r.bottom > top) window.scrollBy(0, r.bottom - top + 8);
}

function endUndo() {
  clearTimeout(undoTimer);
  const bar = $('undo-toast');
  if (!bar || bar.hidden) return;
  // Focus on its button goes to the current-ticket panel, not to the page.
  const had = bar.contains(document.activeElement);
  bar.hidden = true;
  if (had) focusPanel();
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
    type: 'button', class: 'btn', dataset: { service: s.id },
    onclick: () => { $('transfer-dialog').close(); if (waiting) move(tk, s); else run('transfer', { service: s.id }); },
  }, h('span', { class: 'svc-prefix-sm' }, s.prefix), h('span', { class: 'tr-name' }, nameIn(s.name, lang)))));
  $('transfer-dialog').showModal();
  markClosedServices();
}

/** In the open Transfer dialog, the services with no counter open right now (all closed or
 * paused: the patient would wait until one opens), said beside their name, not hidden —
 * the lab may open in five minutes. */
async function markClosedServices() {
  const r = await api(`/v1/sites/${encodeURIComponent(site.id)}`);
  if (!r.ok || !Array.isArray(r.data?.counters) || !$('transfer-dialog').open) return;
  const open = (sid) => r.data.counters.some((c) => c.state === 'open' && c.services?.includes(sid));
  for (const b of $('transfer-options').children) {
    const none = !open(b.dataset.service);
    b.classList.toggle('tr-none-open', none);
    b.querySelector('.tr-note')?.remove();
    if (none) b.append(h('span', { class: 'tr-note' }, own('none_open')));
  }
}

async function move(tk, svc) {
  if (busy) return;
  toast.dismiss?.();
  busy = true;
  render();
  keepFocus(); // its "Transfer" button in the queue list is rebuilt
  // One key, retried as a counter's press is (a lost answer is not a refusal, nor a second move).
  const r = await sendPress(`/v1/tickets/${encodeURIComponent(tk.id)}/transfer`, { service: svc.id });
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
  if (removed) return;
  // Escape puts away an error kept up (not while a dialog is open: Escape closes that).
  if (ev.key === 'Escape' && toastEl && !toastEl.hidden && !document.querySelector('dialog[open]')) toast.dismiss();
  if (!shortcutsOn) return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat || ev.isComposing) return;
  // Never while typing (the find box, a name, an IME's letters).
  if (ev.target.closest?.('input, select, textarea, [contenteditable], dialog[open]') || document.querySelector('dialog[open]')) return;
  const k = ev.key.toLowerCase();
  // U: Undo, while its bar offers it.
  if (k === 'u') {
    ev.preventDefault();
    if (!$('undo-toast').hidden && !busy) run('undo');
    else toast(own('e_nothing_to_undo'), 'error');
    return;
  }
  const a = ACTIONS.find((x) => x.key === k);
  if (a) {
    ev.preventDefault();
    if (busy && a.op !== 'transfer') { queued = a.op; return; }
    if (!(a.keyWhen ?? a.when)(counter)) {
      // N with nobody waiting: say so rather than do nothing.
      if (a.op === 'call-next' && counter.state === 'open' && !counter.ticket) toast(t('e_queue_empty'), 'error');
      // C while the patient is only called: they have not come in yet.
      if (a.op === 'complete' && counter.ticket?.status === 'called') toast(own('start_first'), 'error');
      return;
    }
    press(a.op);
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
  // Errors stay until dismissed or the next action (WCAG 2.2.1).
  toast = toaster(document.body, { keepErrors: true, dismissLabel: () => t('close') });
  toastEl = toast.el;
  keepClearOfBars();
  paintExpiry = mountLinkExpiry($('app'));
  let paintChip = () => {};
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
  $('find-number').addEventListener('input', () => { if (!$('find-number').value.trim() && found) clearFound(); });
  $('complete-no').addEventListener('click', () => $('complete-dialog').close());
  $('undo-go').addEventListener('click', () => run('undo'));
  // A dialog closed over a button that is gone (the check-in card): focus to the panel.
  for (const d of document.querySelectorAll('dialog')) d.addEventListener('close', () => setTimeout(keepFocus));
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
