// "Appointments today" on the floor overview: the day's list (GET /v1/sites/{site}/bookings,
// docs/appointments.md) — who is expected, who is late, who has arrived (with the ticket's
// number and where it is), who did not come — refreshed with the day's figures.
import { formatTime, nameIn } from './i18n.js';
import { api, h, layeredTranslator, replaceChildren, setText } from './ui.js';
import { withTerms } from './vocabulary.js';

export const STRINGS = {
  en: {
    ap_title: 'Appointments today',
    ap_none: 'No appointments today.',
    ap_failed: 'The appointment list could not be loaded ({code}); shown as last loaded.',
    ap_summary: '{n} appointments · {arrived} arrived · {expected} expected · {missed} did not come',
    ap_col_time: 'Time', ap_col_who: 'Service · {@provider}', ap_col_customer: '{@Client}', ap_col_status: 'Status',
    ap_expected: 'Expected', ap_late: 'Late (since {time})', ap_missed: 'Did not come',
    ap_held: 'Held (not confirmed)', ap_offered: 'Place offered', ap_waitlisted: 'Waiting list',
    ap_arrived: 'Arrived · {number}', ap_tk_waiting: 'waiting', ap_tk_called: 'called', ap_tk_serving: 'being served',
    ap_tk_done: 'done', ap_tk_no_show: 'missed the call', ap_tk_cancelled: 'cancelled', ap_tk_parked: 'set aside',
    ap_tk_transferred: 'moved',
  },
  zh: {
    ap_title: '今日预约',
    ap_none: '今天没有预约。',
    ap_failed: '预约名单无法加载（{code}），显示的是上次加载的内容。',
    ap_summary: '共 {n} 个预约 · 已到 {arrived} · 待到 {expected} · 未到 {missed}',
    ap_col_time: '时间', ap_col_who: '{@service} · {@provider}', ap_col_customer: '{@client}', ap_col_status: '状态',
    ap_expected: '待到', ap_late: '迟到（{time} 起）', ap_missed: '未到',
    ap_held: '暂留（未确认）', ap_offered: '空位待确认', ap_waitlisted: '候补',
    ap_arrived: '已到 · {number}', ap_tk_waiting: '等候中', ap_tk_called: '已叫号', ap_tk_serving: '办理中',
    ap_tk_done: '已完成', ap_tk_no_show: '叫号未到', ap_tk_cancelled: '已取消', ap_tk_parked: '已搁置',
    ap_tk_transferred: '{@transferred}',
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
    const rows = (list ?? []).map((b) => {
      const st = appointmentState(b, now, (k, v) => t(k, v?.time ? { ...v, time: formatTime(v.time, lang(), tz) } : v));
      return h('tr', { class: `ap-${st.kind}`, dataset: { booking: b.id } },
        h('td', { class: 'num' }, `${formatTime(b.start, lang(), tz)}–${formatTime(b.end, lang(), tz)}`),
        h('td', {}, `${serviceName(b.service)} · ${resourceName(b.resource)}`),
        h('td', {}, b.customer),
        h('td', { class: 'ap-status' }, st.text));
    });
    $('appt-body').replaceChildren(...rows);
    const n = tally(list ?? [], now);
    setText($('appt-summary'), [list && !list.length ? t('ap_none') : list ? t('ap_summary', n) : '',
      failed ? t('ap_failed', { code: failed }) : ''].filter(Boolean).join(' '));
  }

  async function load() {
    const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/bookings?date=${today()}`);
    failed = r.ok ? null : (r.data?.code ?? r.status);
    if (r.ok) list = r.data.bookings;
    paint();
  }

  return { load, paint, get list() { return list; } };
}
