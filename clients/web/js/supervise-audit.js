// "Ticket history" on the floor overview: a patient says "I was A023 and was never called";
// the supervisor types the number and reads every step of that ticket today (or on a day they
// pick: a complaint often comes the day after), in plain words, with the time, the counter,
// the staff token that did it and through what (GET /v1/sites/{site}/audit?number=…&date=…,
// docs/audit.md). Read-only, like the rest of the page.
import { localDay } from './booking-rules.js';
import { formatTime, nameIn, priorityName } from './i18n.js';
import { compact } from './typed.js';
import { api, h, layeredTranslator, setText } from './ui.js';

export const STRINGS = {
  en: {
    au_title: 'Ticket history',
    au_label: 'Ticket number',
    au_day: 'Day',
    au_show: 'Show',
    au_hint: 'Every step of a ticket taken today, or on the day you pick: when, where, who and how. Kept 31 days unless set otherwise.',
    au_empty: 'Type the number on the ticket, e.g. A023.',
    au_none: 'Nothing recorded today for {number}.',
    au_none_on: 'Nothing recorded on {day} for {number}.',
    au_found_on: '{number} on {day}: {n} steps.',
    au_failed: 'The history could not be loaded. Try again; if it keeps failing, tell your administrator ({code}).',
    au_bad_number: '“{number}” is not a ticket number. Type the letters and digits on the ticket, e.g. A023.',
    au_bad_day: 'That day cannot be looked up. Pick a day, up to today.',
    au_failed_network: 'The history could not be loaded: no connection. Try again.',
    au_failed_busy: 'The history could not be loaded: the server is busy. Try again in a moment.',
    au_loading: 'Loading…',
    au_found: '{number}: {n} steps.',
    au_issued: 'Took a ticket for {service} ({channel})',
    au_called: 'Called to {counter}',
    au_called_by_number: 'Called to {counter} by its number (not the next in line)',
    au_recalled: 'Called again at {counter}',
    au_started: 'Service began at {counter}',
    au_completed: 'Finished at {counter}',
    au_no_show: 'Marked absent at {counter}; the ticket ended',
    au_no_show_auto: 'Absent after the last call at {counter}; the ticket ended',
    au_returned: 'Absent when called at {counter}; put back in the queue',
    au_parked: 'Set aside at {counter}',
    au_unparked: 'Back in the queue',
    au_transferred: 'Moved from {from} to {service}',
    au_cancelled: 'Cancelled',
    au_cancelled_by_staff: 'Cancelled by staff',
    au_cancelled_by_holder: 'Cancelled by the ticket holder',
    au_cancelled_day_closed: 'Closed unserved at the end of the day',
    au_notify_on: 'Text alerts turned on',
    au_notify_off: 'Text alerts turned off',
    au_checked_in: 'Checked in for an appointment',
    au_class: 'class: {priority}',
    au_promoted: 'Early check-in: took the place of the appointment at {time} ({priority})',
    au_appointment: 'appointment at {time}',
    au_undone_completed: 'Undo at {counter}: not finished after all, back at the counter',
    au_undone_no_show: 'Undo at {counter}: not absent after all, called again',
    au_other: '{event}',
    au_by: 'by {actor} · {via}',
    au_via_kiosk: 'kiosk', au_via_counter: 'counter console', au_via_sms: 'text message',
    au_via_api: 'staff app / API', au_via_worker: 'automatic', au_via_app: 'app', au_via_web: 'web',
    au_via_phone: 'phone line', au_via_partner: 'partner', au_via_window: 'staffed window',
    au_ch_kiosk: 'kiosk', au_ch_app: 'app', au_ch_sms: 'text', au_ch_web: 'web', au_ch_phone: 'phone',
    au_ch_counter: 'at a counter', au_ch_partner: 'partner', au_ch_booking: 'appointment',
    au_ch_window: 'at a staffed window',
    au_phone: 'Phone numbers cannot be searched here: the history finds ticket numbers only (the letters and digits on the ticket, e.g. A023).',
    au_now_waiting: 'Now: waiting for {service}, number {position} in line ({ahead} ahead).',
    au_now_called: 'Now: called to {counter}.',
    au_now_serving: 'Now: being served at {counter}.',
    au_now_parked: 'Now: set aside (parked) for {service}.',
  },
  zh: {
    au_title: '号票记录',
    au_label: '号票号码',
    au_day: '日期',
    au_show: '查看',
    au_hint: '今天（或所选日期）所取号票的每一步：何时、在哪里、谁、通过什么操作。默认保留 31 天。',
    au_empty: '请输入号票上的号码，例如 A023。',
    au_none: '今天没有 {number} 的记录。',
    au_none_on: '{day}没有 {number} 的记录。',
    au_found_on: '{number}（{day}）：共 {n} 步。',
    au_failed: '记录无法加载，请重试；如仍失败，请告知管理员（{code}）。',
    au_bad_number: '“{number}”不是票号。请输入号票上的字母和数字，例如 A023。',
    au_bad_day: '无法查询该日期，请选择今天或之前的日期。',
    au_failed_network: '记录无法加载：网络未连接，请重试。',
    au_failed_busy: '记录无法加载：服务器繁忙，请稍后重试。',
    au_loading: '正在加载…',
    au_found: '{number}：共 {n} 步。',
    au_issued: '取号：{service}（{channel}）',
    au_called: '叫号到 {counter}',
    au_called_by_number: '按号码直接叫到 {counter}（不是按顺序叫下一位）',
    au_recalled: '在 {counter} 重新呼叫',
    au_started: '在 {counter} 开始办理',
    au_completed: '在 {counter} 办理完成',
    au_no_show: '在 {counter} 标记未到，号票结束',
    au_no_show_auto: '在 {counter} 多次呼叫未到，号票结束',
    au_returned: '在 {counter} 叫号未到，重新排队',
    au_parked: '在 {counter} 暂时搁置',
    au_unparked: '恢复排队',
    au_transferred: '从 {from} 转到 {service}',
    au_cancelled: '已取消',
    au_cancelled_by_staff: '被工作人员取消',
    au_cancelled_by_holder: '持票人自行取消',
    au_cancelled_day_closed: '日终关闭，未办理',
    au_notify_on: '开启短信提醒',
    au_notify_off: '关闭短信提醒',
    au_checked_in: '预约签到',
    au_class: '类别：{priority}',
    au_promoted: '提前签到：到时按 {time} 的预约排位（{priority}）',
    au_appointment: '预约时间 {time}',
    au_undone_completed: '在 {counter} 撤销"办理完成"，回到窗口',
    au_undone_no_show: '在 {counter} 撤销"未到"，重新叫号',
    au_other: '{event}',
    au_by: '操作：{actor} · {via}',
    au_via_kiosk: '自助机', au_via_counter: '窗口终端', au_via_sms: '短信',
    au_via_api: '工作人员应用 / 接口', au_via_worker: '系统自动', au_via_app: '手机应用', au_via_web: '网页',
    au_via_phone: '电话', au_via_partner: '合作方', au_via_window: '人工窗口',
    au_ch_kiosk: '自助机', au_ch_app: '手机应用', au_ch_sms: '短信', au_ch_web: '网页', au_ch_phone: '电话',
    au_ch_counter: '窗口', au_ch_partner: '合作方', au_ch_booking: '预约',
    au_ch_window: '人工窗口',
    au_phone: '这里不能按电话号码查询：只能按号票号码查询（号票上的字母和数字，例如 A023）。',
    au_now_waiting: '当前：正在等候{service}，排第 {position} 位（前面 {ahead} 人）。',
    au_now_called: '当前：已叫到 {counter}。',
    au_now_serving: '当前：正在 {counter} 办理。',
    au_now_parked: '当前：已暂挂（{service}）。',
  },
};

/** A ticket number as the site prints it: "a7" → "A007" (numbers have at least three
 * digits, queueing/numbering.py); anything else as typed. */
export function printedNumber(number) {
  const m = /^([A-Za-z]{1,3})0*([0-9]{1,9})$/.exec(number);
  return m ? `${m[1].toUpperCase()}${m[2].padStart(3, '0')}` : number;
}

/** Whether what was typed is a phone number rather than a ticket's (digits, maybe a +). */
export function looksLikePhone(typed) {
  return /^\+?[0-9()]{6,}$/.test(typed);
}

const KNOWN = new Set(['issued', 'recalled', 'started', 'completed', 'parked', 'unparked', 'transferred']);
const CANCEL_REASONS = new Set(['by_staff', 'by_holder', 'day_closed']);

/**
 * One record of GET …/audit in plain words; `names` = {service(id), counter(id)} and, for
 * a ticket's class and a booking's time ("someone after me went first"), optionally
 * {priority(id), time(ms)}.
 */
export function describe(r, tr, names) {
  const counter = r.counter ? names.counter(r.counter) : '';
  const vars = { counter, service: names.service(r.service), from: names.service(r.from_service) };
  const word = (prefix, id) => {
    const key = `${prefix}${id}`;
    const s = tr(key);
    return s === key ? String(id ?? '') : s;
  };
  let text;
  if (r.event === 'issued') {
    const parts = [tr('au_issued', { ...vars, channel: word('au_ch_', r.channel) })];
    if (r.priority) parts.push(tr('au_class', { priority: names.priority ? names.priority(r.priority) : r.priority }));
    if (r.appointment_ms) parts.push(tr('au_appointment', { time: names.time ? names.time(r.appointment_ms) : new Date(r.appointment_ms).toISOString() }));
    text = parts.join(' · ');
  }
  else if (r.event === 'promoted') {
    text = tr('au_promoted', {
      priority: names.priority ? names.priority(r.priority) : r.priority,
      time: r.appointment_ms ? (names.time ? names.time(r.appointment_ms) : new Date(r.appointment_ms).toISOString()) : '—',
    });
  }
  else if (r.event === 'undone') text = tr(r.undid === 'no_show' ? 'au_undone_no_show' : 'au_undone_completed', vars);
  else if (r.event === 'called') text = tr(r.by_number ? 'au_called_by_number' : 'au_called', vars);
  else if (r.event === 'no_show') text = tr(r.returned ? 'au_returned' : r.reason === 'auto' ? 'au_no_show_auto' : 'au_no_show', vars);
  else if (r.event === 'cancelled') text = tr(CANCEL_REASONS.has(r.reason) ? `au_cancelled_${r.reason}` : 'au_cancelled', vars);
  else if (r.event === 'notify_set') text = tr(r.notify ? 'au_notify_on' : 'au_notify_off');
  else if (r.event === 'booking_checked_in') text = tr('au_checked_in');
  else if (KNOWN.has(r.event)) text = tr(`au_${r.event}`, vars);
  else text = tr('au_other', { event: r.event });
  return { text, by: tr('au_by', { actor: r.actor || '—', via: word('au_via_', r.via) }) };
}

/** Mount in the page's #audit section; `env`: {site, getLang()}. Returns {paint(), lookup(number)}. */
export function mountAudit(env) {
  const { site } = env;
  const root = document.getElementById('audit');
  const lang = () => env.getLang();
  const tr = () => layeredTranslator(STRINGS, lang());
  const names = {
    service: (id) => nameIn(site.services.find((s) => s.id === id)?.name ?? id ?? '', lang()),
    counter: (id) => nameIn(site.counters.find((c) => c.id === id)?.name ?? id, lang()),
    priority: (id) => priorityName(id, site.priority_classes, lang()),
    time: (ms) => formatTime(ms, lang(), site.timezone),
  };
  let state = { number: '', day: null, records: null, error: null, loading: false };
  const today = () => localDay(Date.now(), site.timezone);
  // "Thu 3 Dec" / "12月3日 周四": a local day (YYYY-MM-DD) as such, whatever the zone.
  const dayName = (day) => new Intl.DateTimeFormat(lang() === 'zh' ? 'zh-CN' : 'en-GB',
    { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date(`${day}T12:00:00Z`));

  const title = h('h2', { id: 'au-title', class: 's-section-title' });
  const hint = h('p', { id: 'au-hint', class: 'muted s-note' });
  const label = h('label', { for: 'au-number' });
  const input = h('input', { id: 'au-number', class: 'au-input', type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters', maxlength: '40', 'aria-describedby': 'au-hint' });
  const dayLabel = h('label', { for: 'au-day' });
  // Empty: today.
  const dayInput = h('input', { id: 'au-day', class: 'au-day', type: 'date' });
  const button = h('button', { type: 'submit', class: 'btn btn-primary' });
  const form = h('form', { class: 'au-form', role: 'search', 'aria-labelledby': 'au-title' },
    h('div', { class: 'au-field au-field-number' }, label, input),
    h('div', { class: 'au-field' }, dayLabel, dayInput),
    h('div', { class: 'au-field au-go' }, button));
  const status = h('p', { id: 'au-status', class: 'au-status', role: 'status', 'aria-live': 'polite' });
  const list = h('ol', { id: 'au-list', class: 'au-list', 'aria-labelledby': 'au-title' });
  root.replaceChildren(title, hint, form, status, list);
  root.hidden = false;

  function paint() {
    const t = tr();
    setText(title, t('au_title'));
    setText(hint, t('au_hint'));
    setText(label, t('au_label'));
    setText(dayLabel, t('au_day'));
    setText(button, t('au_show'));
    const now = today();
    if (dayInput.max !== now) {
      // Shows today's date until another is picked (and moves on at midnight if untouched).
      if (!dayInput.value || dayInput.value === dayInput.max) dayInput.value = now;
      dayInput.max = now;
    }
    const recs = state.records;
    const on = state.day && state.day !== now ? { day: dayName(state.day) } : null;
    let msg = '';
    if (state.loading) msg = t('au_loading');
    else if (state.error) msg = failed(state.error, state.number);
    else if (recs && state.now) msg = [recs.length ? t(on ? 'au_found_on' : 'au_found', { ...on, number: state.number, n: recs.length }) : '', nowLine(state.now, t)].filter(Boolean).join(' ');
    else if (recs && !recs.length) msg = on ? t('au_none_on', { ...on, number: state.number }) : t('au_none', { number: state.number });
    else if (recs) msg = t(on ? 'au_found_on' : 'au_found', { ...on, number: state.number, n: recs.length });
    setText(status, msg);
    status.classList.toggle('au-error', Boolean(state.error));
    list.replaceChildren(...(recs ?? []).map((r) => {
      const d = describe(r, t, names);
      return h('li', { class: `au-step au-${r.event}`, dataset: { event: r.event } },
        h('time', { class: 'au-time num', datetime: new Date(r.at_ms).toISOString() }, formatTime(r.at_ms, lang(), site.timezone, true)),
        h('span', { class: 'au-text' }, d.text),
        h('span', { class: 'au-by muted' }, d.by));
    }));
  }

  /** What went wrong, in words: what was refused (the number, the day), or why nothing came
   * (a raw code is only a reference for the administrator). */
  function failed(error, number) {
    const t = tr();
    if (error.code === 'phone' || (error.code === 'bad_request' && error.field === 'number' && looksLikePhone(number))) return t('au_phone');
    if (error.code === 'bad_request' && error.field === 'number') return t('au_bad_number', { number });
    if (error.code === 'bad_request' && error.field === 'date') return t('au_bad_day');
    if (error.code === 'network') return t('au_failed_network');
    if (error.code === 'unavailable') return t('au_failed_busy');
    return t('au_failed', { code: error.code });
  }

  /** Where an open ticket is now (GET …/tickets?number= : position when waiting). */
  function nowLine(tk, t) {
    const vars = { service: names.service(tk.service), counter: tk.counter ? names.counter(tk.counter) : '' };
    if ((tk.status === 'waiting' || tk.status === 'transferred') && tk.position) {
      return t('au_now_waiting', { ...vars, position: tk.position, ahead: tk.people_ahead ?? tk.position - 1 });
    }
    if (tk.status === 'called') return t('au_now_called', vars);
    if (tk.status === 'serving') return t('au_now_serving', vars);
    if (tk.status === 'parked') return t('au_now_parked', vars);
    return '';
  }

  /** `day`: YYYY-MM-DD, or empty for the site's today. */
  async function lookup(raw, day = '') {
    // As people type it: "Ａ０２３" (a Chinese input method's full-width forms), "a 23".
    const typed = compact(raw);
    const number = printedNumber(typed.toUpperCase());
    const date = day || today();
    state = { number, day: date, records: null, error: null, loading: Boolean(number), now: null };
    if (!number) {
      paint();
      setText(status, tr()('au_empty'));
      return;
    }
    if (looksLikePhone(typed)) { // said plainly, not "nothing recorded"
      state = { ...state, error: { code: 'phone' }, loading: false };
      paint();
      return;
    }
    paint();
    const out = [];
    let cursor = null;
    do {
      const q = new URLSearchParams({ number, date, limit: '1000' });
      if (cursor) q.set('cursor', cursor);
      const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/audit?${q}`);
      if (state.number !== number || state.day !== date) return; // another lookup started meanwhile
      if (!r.ok) {
        const error = { code: r.data?.code ?? String(r.status), field: r.data?.details?.field };
        state = { number, day: date, records: null, error, loading: false };
        paint();
        return;
      }
      out.push(...r.data.records);
      cursor = r.data.cursor;
    } while (cursor);
    let now = null;
    if (date === today()) { // where the ticket is now, if it is still open
      const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/tickets?${new URLSearchParams({ number })}`);
      if (state.number !== number || state.day !== date) return;
      now = r.ok ? (r.data?.tickets?.[0] ?? null) : null;
    }
    state = { number, day: date, records: out, error: null, loading: false, now };
    paint();
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    lookup(input.value, dayInput.value);
  });
  paint();
  return { paint, lookup, get records() { return state.records; } };
}
