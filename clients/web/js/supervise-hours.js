// "Today by hour" and "By counter" on the floor overview: at which hours people waited
// longest and how many counters were open then, and how each counter did (served, time per
// person, how much of its open time it was busy). From GET /v1/sites/{site}/stats?by=hour and
// ?by=counter (docs/reports.md), refreshed with the day's figures. Each view is a real table;
// the bars beside the numbers are decoration (aria-hidden), so nothing is only in a picture.
import { nameIn } from './i18n.js';
import { api, h, layeredTranslator, replaceChildren, setText } from './ui.js';

export const STRINGS = {
  en: {
    hr_title: 'Today by hour',
    hr_note: 'Waits are counted in the hour people took their ticket; open counters are the average number open during the hour.',
    hr_col_hour: 'Hour', hr_col_issued: 'Arrived', hr_col_wait: 'Mean wait', hr_col_p90: '9 in 10 waited at most',
    hr_col_open: 'Counters open', hr_col_per: 'Arrivals per open counter',
    hr_peak: 'Longest waits: people who arrived at {hour} waited {wait} on average, with {open} counters open.',
    hr_peak_unknown: 'Longest waits: people who arrived at {hour} waited {wait} on average.',
    hr_empty: 'No tickets yet today.',
    hr_failed: 'The figures by hour could not be loaded ({code}).',
    hr_counters_unknown: 'Open counters were not recorded for this day.',
    bc_title: 'By counter',
    bc_note: 'Time per person runs from the call (or from start) to completion; busy share is time serving out of time open.',
    bc_col_counter: 'Counter', bc_col_served: 'Served', bc_col_no_show: 'Absent', bc_col_mean: 'Mean time per person',
    bc_col_median: 'Median', bc_col_open: 'Open for', bc_col_busy: 'Busy share',
    bc_empty: 'No counter has opened today.',
    dur_h_min: '{h} h {m} min', dur_min: '{m} min', dur_s: '{s} s',
  },
  zh: {
    hr_title: '今日分时',
    hr_note: '等待时间按取号时段统计；开放窗口数为该小时内平均开放的窗口数。',
    hr_col_hour: '时段', hr_col_issued: '取号', hr_col_wait: '平均等待', hr_col_p90: '九成人等待不超过',
    hr_col_open: '开放窗口', hr_col_per: '每个开放窗口取号数',
    hr_peak: '等待最久：{hour} 取号的人平均等待 {wait}，当时开放 {open} 个窗口。',
    hr_peak_unknown: '等待最久：{hour} 取号的人平均等待 {wait}。',
    hr_empty: '今天还没有人取号。',
    hr_failed: '分时数据无法加载（{code}）。',
    hr_counters_unknown: '这一天没有记录窗口开放情况。',
    bc_title: '按窗口',
    bc_note: '每人办理时长从叫号（或开始办理）到完成；忙碌占比为办理时间占开放时间的比例。',
    bc_col_counter: '窗口', bc_col_served: '完成', bc_col_no_show: '未到', bc_col_mean: '每人平均时长',
    bc_col_median: '中位数', bc_col_open: '开放时长', bc_col_busy: '忙碌占比',
    bc_empty: '今天还没有窗口开放。',
    dur_h_min: '{h}小时{m}分', dur_min: '{m}分钟', dur_s: '{s}秒',
  },
};

/** Seconds as "1 h 05 min" / "7 min" / "40 s" (null: "—"). */
export function formatDuration(seconds, tr) {
  if (seconds == null || !Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  if (s < 60) return tr('dur_s', { s });
  const m = Math.round(s / 60);
  return m < 60 ? tr('dur_min', { m }) : tr('dur_h_min', { h: Math.floor(m / 60), m: String(m % 60).padStart(2, '0') });
}

/** The hour whose arrivals waited longest on average (null: nobody called yet). */
export function peakHour(hours) {
  let best = null;
  for (const row of hours ?? []) {
    if (row.wait_s?.mean != null && (best == null || row.wait_s.mean > best.wait_s.mean)) best = row;
  }
  return best;
}

const hourLabel = (hour) => `${String(hour).padStart(2, '0')}:00`;

/** A number cell with a bar behind it (the bar is decoration: the number is the content). */
function barCell(text, share, cls) {
  const bar = h('span', { class: 'hr-bar', 'aria-hidden': 'true' });
  bar.style.inlineSize = `${Math.round(Math.max(0, Math.min(1, share)) * 100)}%`;
  return h('td', { class: `hr-barcell ${cls}` }, h('span', { class: 'hr-track', 'aria-hidden': 'true' }, bar), h('span', { class: 'hr-num' }, text));
}

function table(id, labelId, head, rows) {
  return h('div', { class: 's-table-wrap', role: 'region', tabindex: '0', 'aria-labelledby': labelId },
    h('table', { id, class: 's-table hr-table', 'aria-labelledby': labelId },
      h('thead', {}, h('tr', {}, head.map((text) => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, rows)));
}

/** Mount in #hours and #byctr; `env`: {site, getLang()}. Returns {load(), paint()}. */
export function mountHours(env) {
  const { site } = env;
  const lang = () => env.getLang();
  const tr = () => layeredTranslator(STRINGS, lang());
  const num = (v, digits = 1) => (v == null ? '—' : Number(v).toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en', { maximumFractionDigits: digits }));
  const counterName = (id) => nameIn(site.counters.find((c) => c.id === id)?.name ?? id, lang());
  const hoursRoot = document.getElementById('hours');
  const ctrRoot = document.getElementById('byctr');
  let state = { hours: null, counters: null, error: null };

  function paintHours(t) {
    const title = h('h2', { id: 'hr-title', class: 's-section-title' }, t('hr_title'));
    const rows = state.hours?.hours ?? [];
    const status = h('p', { id: 'hr-status', class: 'muted s-note', role: 'status' });
    if (state.error) setText(status, t('hr_failed', { code: state.error }));
    else if (state.hours && !rows.some((r) => r.issued)) setText(status, t('hr_empty'));
    const peak = peakHour(rows);
    const summary = peak ? h('p', { id: 'hr-peak', class: 'hr-peak' }, t(peak.counters_open == null ? 'hr_peak_unknown' : 'hr_peak', {
      hour: hourLabel(peak.hour), wait: formatDuration(peak.wait_s.mean, t), open: num(peak.counters_open) })) : null;
    const maxWait = Math.max(1, ...rows.map((r) => r.wait_s?.mean ?? 0));
    const maxOpen = Math.max(1, site.counters.length, ...rows.map((r) => r.counters_open ?? 0));
    const body = rows.map((r) => h('tr', { class: r === peak ? 'hr-peak-row' : null, dataset: { hour: String(r.hour) } },
      h('th', { scope: 'row' }, hourLabel(r.hour)),
      h('td', { class: 'hr-issued' }, String(r.issued)),
      barCell(formatDuration(r.wait_s?.mean, t), (r.wait_s?.mean ?? 0) / maxWait, 'hr-wait'),
      h('td', { class: 'hr-p90' }, formatDuration(r.wait_s?.p90, t)),
      barCell(num(r.counters_open), (r.counters_open ?? 0) / maxOpen, 'hr-open'),
      h('td', { class: 'hr-per' }, num(r.arrivals_per_counter))));
    const unknown = rows.length && rows.every((r) => r.counters_open == null)
      ? h('p', { class: 'muted s-note' }, t('hr_counters_unknown')) : null;
    replaceChildren(hoursRoot, [title, summary, status, rows.length ? table('hr-table', 'hr-title', [
      t('hr_col_hour'), t('hr_col_issued'), t('hr_col_wait'), t('hr_col_p90'), t('hr_col_open'), t('hr_col_per')], body) : null,
    unknown, rows.length ? h('p', { class: 'muted s-note' }, t('hr_note')) : null]);
  }

  function paintCounters(t) {
    const title = h('h2', { id: 'bc-title', class: 's-section-title' }, t('bc_title'));
    const rows = state.counters?.counters ?? [];
    const body = rows.map((r) => h('tr', { dataset: { counter: r.counter } },
      h('th', { scope: 'row' }, counterName(r.counter)),
      h('td', { class: 'bc-served' }, String(r.served)),
      h('td', { class: 'bc-no-show' }, String(r.no_shows)),
      h('td', { class: 'bc-mean' }, formatDuration(r.service_s?.mean, t)),
      h('td', { class: 'bc-median' }, formatDuration(r.service_s?.median, t)),
      h('td', { class: 'bc-open' }, formatDuration(r.open_s || null, t)),
      barCell(r.busy_share == null ? '—' : `${Math.round(r.busy_share * 100)}%`, r.busy_share ?? 0, 'bc-busy')));
    replaceChildren(ctrRoot, [title, rows.length ? table('bc-table', 'bc-title', [
      t('bc_col_counter'), t('bc_col_served'), t('bc_col_no_show'), t('bc_col_mean'), t('bc_col_median'), t('bc_col_open'), t('bc_col_busy')], body)
      : h('p', { class: 'muted s-note', role: 'status' }, state.counters ? t('bc_empty') : ''),
    rows.length ? h('p', { class: 'muted s-note' }, t('bc_note')) : null]);
  }

  let painted = '';
  function paint() {
    // Rebuilt only when something changed: a keyboard user scrolling a table keeps their place.
    const key = JSON.stringify([lang(), state]);
    if (key === painted) return;
    painted = key;
    const t = tr();
    paintHours(t);
    paintCounters(t);
  }

  async function load() {
    const base = `/v1/sites/${encodeURIComponent(site.id)}/stats?by=`;
    const [hr, bc] = await Promise.all([api(`${base}hour`), api(`${base}counter`)]);
    if (hr.status === 403) { // a token that may not read these views: no section
      hoursRoot.hidden = true;
      ctrRoot.hidden = true;
      return;
    }
    // A failed refresh keeps the last figures, and says so.
    state = { hours: hr.ok ? hr.data : state.hours, counters: bc.ok ? bc.data : state.counters,
      error: hr.ok ? null : (hr.data?.code ?? hr.status) };
    hoursRoot.hidden = false;
    ctrRoot.hidden = !bc.ok && !state.counters;
    paint();
  }

  return { load, paint, get hours() { return state.hours; }, get counters() { return state.counters; } };
}
