// "Appointments today" on the floor overview: the day's list (GET /v1/sites/{site}/bookings,
// docs/appointments.md) — who is expected, who is late, who has arrived (with the ticket's
// number and where it is), who did not come — refreshed with the day's figures.
import { formatTime, nameIn } from './i18n.js';
import { mountSuspensions, tokenRole } from './supervise-susp.js';
import { api, h, layeredTranslator, replaceChildren, setText } from './ui.js';
import { withTerms } from './vocabulary.js';

export const STRINGS = {
  en: {
    ap_title: 'Appointments today',
    ap_none: 'No appointments today.',
    ap_failed: 'The appointment list could not be loaded ({code}); shown as last loaded.',
    ap_summary: '{n} appointments · {arrived} arrived · {expected} expected · {missed} did not come',
    ap_col_time: 'Time', ap_col_who: 'Service · {@provider}', ap_col_customer: '{@Client} · texts to', ap_col_status: 'Status',
    ap_expected: 'Expected', ap_late: 'Late (since {time})', ap_missed: 'Did not come',
    ap_held: 'Held (not confirmed)', ap_offered: 'Place offered', ap_waitlisted: 'Waiting list',
    ap_arrived: 'Arrived · {number}', ap_tk_waiting: 'waiting', ap_tk_called: 'called', ap_tk_serving: 'being served',
    ap_tk_done: 'done', ap_tk_no_show: 'missed the call', ap_tk_cancelled: 'cancelled', ap_tk_parked: 'set aside',
    ap_tk_transferred: 'moved',
    nt_none: 'no number', nt_ok: 'last text delivered', nt_failed: 'last text refused by the gateway ({status})',
    nt_given_up: 'texts given up: the number does not take them', nt_fix: 'Correct', nt_fix_named: 'Correct the text number of {customer}',
    nt_title: 'Text number for {customer}', nt_label: 'Mobile number', nt_hint: 'Reminders and changes go to this number from now.',
    nt_save: 'Save', nt_cancel: 'Cancel', nt_saving: 'Saving…', nt_saved: 'Texts for {customer} now go to {number}.',
    ne_empty: 'Type a mobile number.',
    ne_not_a_mobile: 'That is a landline: texts need a mobile number.',
    ne_invalid_phone_number: 'That is not a mobile number: 6 to 15 digits, + first for another country.',
    ne_needs_country_code: 'Write the number with + and its country code.',
    ne_invalid_transition: 'This appointment is over or checked in: its number cannot be changed here.',
    ne_forbidden: 'Your sign-in cannot change text numbers (forbidden).',
    ne_rate_limited: 'Too many changes: try again in a minute.',
    ne_unknown_booking: 'This appointment no longer exists.',
    ne_network: 'No connection: the number was not changed. Try again.',
    ne_other: 'The number could not be changed ({code}).',
  },
  zh: {
    ap_title: '今日预约',
    ap_none: '今天没有预约。',
    ap_failed: '预约名单无法加载（{code}），显示的是上次加载的内容。',
    ap_summary: '共 {n} 个预约 · 已到 {arrived} · 待到 {expected} · 未到 {missed}',
    ap_col_time: '时间', ap_col_who: '{@service} · {@provider}', ap_col_customer: '{@client} · 短信号码', ap_col_status: '状态',
    ap_expected: '待到', ap_late: '迟到（{time} 起）', ap_missed: '未到',
    ap_held: '暂留（未确认）', ap_offered: '空位待确认', ap_waitlisted: '候补',
    ap_arrived: '已到 · {number}', ap_tk_waiting: '等候中', ap_tk_called: '已叫号', ap_tk_serving: '办理中',
    ap_tk_done: '已完成', ap_tk_no_show: '叫号未到', ap_tk_cancelled: '已取消', ap_tk_parked: '已搁置',
    ap_tk_transferred: '{@transferred}',
    nt_none: '无号码', nt_ok: '上条短信已送达', nt_failed: '上条短信被网关拒收（{status}）',
    nt_given_up: '已停止发送：该号码收不到短信', nt_fix: '更正', nt_fix_named: '更正{customer}的短信号码',
    nt_title: '{customer}的短信号码', nt_label: '手机号', nt_hint: '此后的提醒和变更通知发送到这个号码。',
    nt_save: '保存', nt_cancel: '取消', nt_saving: '正在保存…', nt_saved: '{customer}的短信此后发送到 {number}。',
    ne_empty: '请输入手机号。',
    ne_not_a_mobile: '这是固定电话号码：短信需要手机号。',
    ne_invalid_phone_number: '这不是手机号：6 至 15 位数字，外国号码以 + 开头。',
    ne_needs_country_code: '请写上 + 和国家代码。',
    ne_invalid_transition: '此预约已结束或已签到：不能在这里更改号码。',
    ne_forbidden: '您的登录身份不能更改短信号码（forbidden）。',
    ne_rate_limited: '更改太频繁，请一分钟后再试。',
    ne_unknown_booking: '该预约已不存在。',
    ne_network: '网络未连接，号码未更改。请重试。',
    ne_other: '号码未能更改（{code}）。',
  },
};

/** What a row says, and its kind (expected | late | arrived | missed | other). */
export function appointmentState(b, nowMs, tr) {
  if (b.status === 'checked_in') {
    const where = b.ticket_status ? tr(`ap_tk_${b.ticket_status}`) : '';
    return { kind: 'arrived', text: [tr('ap_arrived', { number: b.ticket_number ?? '' }), where].filter(Boolean).join(' · ') };
  }
  if (b.status === 'no_show') return { kind: 'missed', text: tr('ap_missed') };
  if (b.status === 'confirmed') {
    return Date.parse(b.start) <= nowMs ? { kind: 'late', text: tr('ap_late', { time: b.start }) } : { kind: 'expected', text: tr('ap_expected') };
  }
  return { kind: 'other', text: tr(`ap_${b.status}`) };
}

// A booking whose text number staff may still change (POST /v1/bookings/{id}/notify).
const AHEAD = new Set(['held', 'confirmed', 'waitlisted', 'offered']);

/** The text number's cell: the number as the server shows it, and how the last text went. */
export function textsState(b, tr) {
  const st = b.notify_state;
  const how = !st ? '' : st.state === 'failed' ? tr('nt_failed', { status: st.status ?? '—' }) : tr(`nt_${st.state}`);
  return { number: b.notify || tr('nt_none'), how, bad: Boolean(st && st.state !== 'ok'), fixable: AHEAD.has(b.status) };
}

/** A refused correction in words: the stable code (or details.reason) as text. */
export function notifyError(r, tr) {
  const code = r.data?.details?.reason ?? r.data?.code ?? (r.status ? String(r.status) : 'network');
  const key = `ne_${code}`;
  const text = tr(key);
  return text === key ? tr('ne_other', { code }) : text;
}

/** Counts for the summary line. */
export function tally(list, nowMs) {
  const out = { n: list.length, arrived: 0, expected: 0, missed: 0 };
  for (const b of list) {
    const k = appointmentState(b, nowMs, (x) => x).kind;
    if (k === 'arrived') out.arrived += 1;
    else if (k === 'missed') out.missed += 1;
    else if (k === 'expected' || k === 'late') out.expected += 1;
  }
  return out;
}

/** Mount in the page's #appts section; `env`: {site, rules, now(), getLang()}. Returns
 * {load(), paint()}, or null where the site takes no bookings. */
export function mountAppointments(env) {
  const { site, rules } = env;
  if (!rules) return null;
  const $ = (id) => document.getElementById(id);
  const tz = site.timezone;
  let list = null;
  let failed = null;
  const lang = () => env.getLang();
  const tr = () => layeredTranslator(withTerms(STRINGS), lang());
  const resourceName = (id) => nameIn((rules.resources ?? []).find((r) => r.id === id)?.name ?? id, lang());
  const serviceName = (id) => nameIn(site.services.find((s) => s.id === id)?.name ?? id, lang());
  const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(env.now()));

  function paint() {
    const t = tr();
    $('appts').hidden = false;
    setText($('appt-title'), t('ap_title'));
    replaceChildren($('appt-head'), ['ap_col_time', 'ap_col_who', 'ap_col_customer', 'ap_col_status'].map((k) => h('th', { scope: 'col' }, t(k))), lang());
    const now = env.now();
    const shown = (list ?? []).map((b) => ({ b,
      st: appointmentState(b, now, (k, v) => t(k, v?.time ? { ...v, time: formatTime(v.time, lang(), tz) } : v)),
      tx: textsState(b, t) }));
    const rows = shown.map(({ b, st, tx }) => h('tr', { class: `ap-${st.kind}`, dataset: { booking: b.id } },
      h('td', { class: 'num' }, `${formatTime(b.start, lang(), tz)}–${formatTime(b.end, lang(), tz)}`),
      h('td', {}, `${serviceName(b.service)} · ${resourceName(b.resource)}`),
      // The customer, then the number their texts go to and how the last one went.
      h('td', { class: `ap-texts${tx.bad ? ' nt-bad' : ''}` },
        h('span', { class: 'nt-customer' }, b.customer),
        h('span', { class: 'nt-number' }, tx.number),
        tx.how ? h('span', { class: 'nt-state' }, tx.how) : null,
        canFix && tx.fixable ? h('button', { type: 'button', class: 'btn nt-fix', dataset: { fix: b.id },
          'aria-label': t('nt_fix_named', { customer: b.customer }), onclick: () => openFix(b) }, t('nt_fix')) : null),
      h('td', { class: 'ap-status' }, st.text)));
    // Redrawn only when something shown changed: a refresh keeps the focus on a button.
    replaceChildren($('appt-body'), rows, JSON.stringify([lang(), canFix, shown.map(({ b, st, tx }) => [b.id, b.start, b.end, b.customer, b.service, b.resource, st, tx])]));
    paintFix(t);
    susp.paint();
    const n = tally(list ?? [], now);
    setText($('appt-summary'), [list && !list.length ? t('ap_none') : list ? t('ap_summary', n) : '',
      failed ? t('ap_failed', { code: failed }) : ''].filter(Boolean).join(' '));
  }

  async function load() {
    const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/bookings?date=${today()}`);
    failed = r.ok ? null : (r.data?.code ?? r.status);
    if (r.ok) list = r.data.bookings;
    paint();
    if (r.ok) await susp.sync(list);
  }

  // Correcting the number a booking's texts go to: admins and the site's agents (a
  // supervisor's token sees the number masked and cannot change it).
  const role = tokenRole();
  const canFix = role === null || role === 'admin' || role === 'agent';
  let fixing = null; // the booking whose number is being corrected
  let fixStatus = '';
  let fixError = '';

  function openFix(b) {
    fixing = b;
    fixError = '';
    fixStatus = '';
    $('nt-input').value = b.notify && !b.notify.includes('…') ? b.notify : '';
    paint();
    $('nt-input').focus();
  }

  function closeFix() {
    const id = fixing?.id;
    fixing = null;
    fixError = '';
    paint();
    if (id) document.querySelector(`#appt-body [data-fix='${CSS.escape(id)}']`)?.focus();
  }

  async function saveFix(ev) {
    ev.preventDefault();
    const t = tr();
    const b = fixing;
    const to = $('nt-input').value.trim();
    if (!b) return;
    if (!to) {
      fixError = t('ne_empty');
      paintFix(t);
      $('nt-input').focus();
      return;
    }
    fixError = '';
    fixStatus = t('nt_saving');
    $('nt-save').disabled = true;
    paintFix(t);
    const r = await api(`/v1/bookings/${encodeURIComponent(b.id)}/notify`, { method: 'POST', body: { to } });
    $('nt-save').disabled = false;
    if (!r.ok) {
      fixStatus = '';
      fixError = notifyError(r, t);
      paintFix(t);
      $('nt-input').focus();
      return;
    }
    fixStatus = t('nt_saved', { customer: b.customer, number: r.data.notify ?? to });
    if (list) list = list.map((x) => (x.id === b.id ? { ...x, ...r.data } : x));
    fixing = null;
    paint();
    // Focus back on the row's button at once (the form is gone), and again after the
    // reload should it have redrawn the row.
    const back = () => document.querySelector(`#appt-body [data-fix='${CSS.escape(b.id)}']`)?.focus();
    back();
    await load();
    if (document.activeElement === document.body || !document.activeElement) back();
  }

  function paintFix(t) {
    const box = $('nt-form');
    box.hidden = !fixing;
    if (fixing) {
      setText($('nt-title'), t('nt_title', { customer: fixing.customer }));
      setText($('nt-label'), t('nt_label'));
      setText($('nt-hint'), t('nt_hint'));
      setText($('nt-save'), t('nt_save'));
      setText($('nt-cancel'), t('nt_cancel'));
    }
    setText($('nt-error'), fixError);
    $('nt-input').setAttribute('aria-invalid', String(Boolean(fixError)));
    setText($('nt-status'), fixStatus);
  }

  $('nt-form').addEventListener('submit', saveFix);
  $('nt-cancel').addEventListener('click', closeFix);
  const susp = mountSuspensions({ site, rules, getLang: env.getLang, now: env.now, reload: load });

  return { load, paint, get list() { return list; }, susp };
}
