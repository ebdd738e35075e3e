// "Today by hour" and "By counter" on the floor overview: at which hours people waited
// longest and how many counters were open then, and how each counter did (served, time per
// person, how much of its open time it was busy). From GET /v1/sites/{site}/stats?by=hour and
// ?by=counter (docs/reports.md), refreshed with the day's figures. Each view is a real table;
// the bars beside the numbers are decoration (aria-hidden), so nothing is only in a picture.
// An hour's waits are of the people already called: where that is not all of its arrivals,
// the table says how many it covers, and the line naming the longest waits says which hours
// it could not compare.
import { nameIn } from './i18n.js';
import { api, h, layeredTranslator, setText } from './ui.js';

export const STRINGS = {
  en: {
    hr_title: 'Today by hour',
    hr_note: 'Waits are counted in the hour people took their ticket, once they are called: “5 of 30 called so far” means the other 25 are not in that hour’s waits yet, which may still grow. Open counters are the average number open during the hour; arrivals per open counter reads “—” where counters were open less than a tenth of the hour.',
    hr_col_hour: 'Hour', hr_col_issued: 'Arrived', hr_col_wait: 'Mean wait', hr_col_p90: '9 in 10 waited at most',
    hr_col_open: 'Counters open', hr_col_per: 'Arrivals per open counter',
    hr_peak: 'Longest waits: people who arrived at {hour} waited {wait} on average{so_far}, with {open} counters open.',
    hr_peak_unknown: 'Longest waits: people who arrived at {hour} waited {wait} on average{so_far}.',
    hr_peak_so_far: ' ({n} of {issued} called so far)',
    hr_peak_few: 'Longest waits: too few people called yet to compare the hours.',
    hr_pending: 'Most who arrived at {list} have not been called yet, so their waits are not in these figures.',
    hr_pending_hour: '{hour} ({n} of {issued} called)', hr_list_sep: ', ', hr_sentence_sep: ' ',
    hr_few: 'Not compared, as too few were called: {list}.', hr_few_hour: '{hour} ({n} called)',
    hr_called: '{n} of {issued} called so far', hr_so_far: 'so far',
    hr_per_few: 'counters barely open',
    hr_per_few_title: 'Counters were open less than a tenth of this hour: arrivals per open counter would mislead.',
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
    hr_note: '等待时间按取号时段统计，叫号后才计入：“至今已叫 5/30 人”表示另外 25 人尚未计入该时段的等待时间，等待时间还可能变长。开放窗口数为该小时内平均开放的窗口数；每个开放窗口取号数为“—”：该小时窗口开放时间不足十分之一。',
    hr_col_hour: '时段', hr_col_issued: '取号', hr_col_wait: '平均等待', hr_col_p90: '九成人等待不超过',
    hr_col_open: '开放窗口', hr_col_per: '每个开放窗口取号数',
    hr_peak: '等待最久：{hour} 取号的人平均等待 {wait}{so_far}，当时开放 {open} 个窗口。',
    hr_peak_unknown: '等待最久：{hour} 取号的人平均等待 {wait}{so_far}。',
    hr_peak_so_far: '（至今已叫 {n}/{issued} 人）',
    hr_peak_few: '等待最久：已叫号的人还太少，无法比较各时段。',
    hr_pending: '{list}取号的人大多还没有叫号，他们的等待尚未计入。',
    hr_pending_hour: '{hour}（已叫 {n}/{issued} 人）', hr_list_sep: '、', hr_sentence_sep: '',
    hr_few: '叫号人数太少，未参与比较：{list}。', hr_few_hour: '{hour}（已叫 {n} 人）',
    hr_called: '至今已叫 {n}/{issued} 人', hr_so_far: '至今',
    hr_per_few: '窗口几乎未开',
    hr_per_few_title: '该小时窗口开放时间不足十分之一：按开放窗口平均的取号数没有意义。',
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

// The floor overview's tables round a measure of minutes one way, to the nearest minute (a
// reviewer saw 95.8 s as "2 min" in one table and 78.5 s as "1 min" in the other, when one
// rounded up; the kiosk's and the ticket's waits keep i18n.js's formatMinutes, which does
// on purpose: nobody minds being called early). One rounding, not seconds then minutes.
export const nearestMinutes = (seconds) => Math.round(seconds / 60);

/** A wait or an error in minutes, to the nearest: "2 min"; "under 1 min" under 30 s; "—"
 * for none. `tr` is the shared translator (its `min`, `under_min`, `none`). */
export function formatMinutesNearest(seconds, tr) {
  if (seconds == null || !Number.isFinite(seconds)) return tr('none');
  const m = nearestMinutes(seconds);
  return m < 1 ? tr('under_min') : tr('min', { n: m });
}

/** Seconds as "1 h 05 min" / "7 min" / "40 s" (null: "—"). */
export function formatDuration(seconds, tr) {
  if (seconds == null || !Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  if (s < 60) return tr('dur_s', { s });
  const m = nearestMinutes(seconds);
  return m < 60 ? tr('dur_min', { m }) : tr('dur_h_min', { h: Math.floor(m / 60), m: String(m % 60).padStart(2, '0') });
}

// An hour is named "longest" on at least this many waits, covering at least half its arrivals:
// a mean of one or two waits, or of the few called out of many still waiting, ranks nothing.
export const MIN_WAITS = 3;
// Below this mean number of counters open (6 counter-minutes in an hour), arrivals per open
// counter is a division by almost nothing (50 for a counter open a minute): no figure.
export const MIN_COUNTERS = 0.1;

/** How many of an hour's arrivals its waits cover: {n, issued, partial}. The waits are of the
 * people already called; today the others are still waiting (or left), so they may grow. */
export function coverage(row) {
  const n = row.wait_s?.n ?? 0;
  const issued = row.issued ?? 0;
  return { n, issued, partial: n < issued };
}

const rankable = (row) => {
  const c = coverage(row);
  return row.wait_s?.mean != null && c.n >= MIN_WAITS && 2 * c.n >= c.issued;
};

/** An hour most of whose arrivals (at least MIN_WAITS of them) have not been called. */
export function mostUncalled(row) {
  const c = coverage(row);
  return c.issued >= MIN_WAITS && 2 * c.n < c.issued;
}

/** The hour whose arrivals waited longest on average, among those with enough waits (null: none). */
export function peakHour(hours) {
  let best = null;
  for (const row of hours ?? []) {
    if (rankable(row) && (best == null || row.wait_s.mean > best.wait_s.mean)) best = row;
  }
  return best;
}

const hourLabel = (hour) => `${String(hour).padStart(2, '0')}:00`;

/** The line over the table: the hour that waited longest (or that too few were called to
 * say); the hours with a longer mean on one or two waits, not compared; the hours most of whose
 * arrivals are not called yet, whose waits are not in the figures. `t` translates, `num`
 * formats a number. Null when there is nothing to say. */
export function peakLine(hours, t, num) {
  const rows = hours ?? [];
  const peak = peakHour(rows);
  const parts = [];
  if (peak) {
    const c = coverage(peak);
    parts.push(t(peak.counters_open == null ? 'hr_peak_unknown' : 'hr_peak', {
      hour: hourLabel(peak.hour), wait: formatDuration(peak.wait_s.mean, t), open: num(peak.counters_open),
      so_far: c.partial ? t('hr_peak_so_far', c) : '' }));
  } else if (rows.some((r) => r.wait_s?.n)) parts.push(t('hr_peak_few'));
  const list = (key, some) => some.map((r) => t(key, { hour: hourLabel(r.hour), ...coverage(r) })).join(t('hr_list_sep'));
  // Hours that waited longer on the table but on one or two waits: why they are not named.
  const few = peak ? rows.filter((r) => !rankable(r) && !mostUncalled(r) && r.wait_s?.mean > peak.wait_s.mean) : [];
  if (few.length) parts.push(t('hr_few', { list: list('hr_few_hour', few) }));
  const pending = rows.filter(mostUncalled);
  if (pending.length) parts.push(t('hr_pending', { list: list('hr_pending_hour', pending) }));
  return parts.length ? parts.join(t('hr_sentence_sep')) : null;
}

/** The arrivals-per-open-counter cell: "—" where counters were barely open. */
function perCounterCell(r, t, num) {
  if (r.issued && r.counters_open != null && r.counters_open < MIN_COUNTERS) {
    return { cls: 'hr-per', text: '—', sub: t('hr_per_few'), title: t('hr_per_few_title') };
  }
  return { cls: 'hr-per', text: num(r.arrivals_per_counter) };
}

/** An hour's cells, as plain data: {text, sub?, share?, cls?, title?, row?/col? (a header)}.
 * `scale`: {wait, open}, the longest mean wait and the most counters, for the bars. */
export function hourCells(r, t, num, scale) {
  const c = coverage(r);
  const mean = r.wait_s?.mean;
  return [
    { row: true, text: hourLabel(r.hour) },
    { cls: 'hr-issued', text: String(r.issued) },
    { cls: `hr-wait${c.partial ? ' hr-partial' : ''}`, text: formatDuration(mean, t), share: (mean ?? 0) / scale.wait,
      sub: c.partial ? t('hr_called', c) : null },
    { cls: `hr-p90${c.partial ? ' hr-partial' : ''}`, text: formatDuration(r.wait_s?.p90, t),
      sub: c.partial && r.wait_s?.p90 != null ? t('hr_so_far') : null },
    { cls: 'hr-open', text: r.counters_open > 0 && r.counters_open < MIN_COUNTERS ? `< ${num(MIN_COUNTERS)}` : num(r.counters_open),
      share: (r.counters_open ?? 0) / scale.open },
    perCounterCell(r, t, num),
  ];
}

function counterCells(r, t, name) {
  return [
    { row: true, text: name },
    { cls: 'bc-served', text: String(r.served) },
    { cls: 'bc-no-show', text: String(r.no_shows) },
    { cls: 'bc-mean', text: formatDuration(r.service_s?.mean, t) },
    { cls: 'bc-median', text: formatDuration(r.service_s?.median, t) },
    { cls: 'bc-open', text: formatDuration(r.open_s || null, t) },
    { cls: 'bc-busy', text: r.busy_share == null ? '—' : `${Math.round(r.busy_share * 100)}%`, share: r.busy_share ?? 0 },
  ];
}

/** A cell from its data; a number with a share gets a bar behind it (decoration: the number is
 * the content), a `sub` a second line under the number. */
function cellEl(c) {
  const bar = c.share == null ? null : h('span', { class: 'hr-bar', 'aria-hidden': 'true' });
  if (bar) bar.style.inlineSize = `${Math.round(Math.max(0, Math.min(1, c.share)) * 100)}%`;
  const cls = [bar ? 'hr-barcell' : null, c.cls].filter(Boolean).join(' ') || null;
  return h(c.row || c.col ? 'th' : 'td', { class: cls, scope: c.row ? 'row' : (c.col ? 'col' : null), title: c.title },
    bar ? h('span', { class: 'hr-track', 'aria-hidden': 'true' }, bar) : null,
    h('span', { class: 'hr-num' }, c.text), c.sub ? h('span', { class: 'hr-sub' }, c.sub) : null);
}

// The tables are kept in step with the figures in place, not rebuilt: a refresh replaces only
// the cells whose text changed, so a keyboard or screen-reader user keeps their place, the
// frame its focus and its sideways scroll.
const shown = new WeakMap(); // cell → the data it shows

function syncCells(tr, cells) {
  cells.forEach((c, i) => {
    const key = JSON.stringify(c);
    const old = tr.cells[i];
    if (old && shown.get(old) === key) return;
    const el = cellEl(c);
    shown.set(el, key);
    if (old) old.replaceWith(el);
    else tr.append(el);
  });
  while (tr.cells.length > cells.length) tr.lastElementChild.remove();
}

/** Rows ({key, cls, cells}) matched to the tbody's by data-`attr`: kept, added, moved, removed. */
function syncRows(tbody, rows, attr) {
  const old = new Map([...tbody.rows].map((tr) => [tr.dataset[attr], tr]));
  rows.forEach((r, i) => {
    const tr = old.get(r.key) ?? h('tr', { dataset: { [attr]: r.key } });
    old.delete(r.key);
    if (r.cls) tr.className = r.cls;
    else tr.removeAttribute('class');
    syncCells(tr, r.cells);
    if (tbody.rows[i] !== tr) tbody.insertBefore(tr, tbody.rows[i] ?? null);
  });
  old.forEach((tr) => tr.remove());
}

/** A table in its own scrolling frame (which a keyboard can reach), made once. */
function frame(id, labelId, attr) {
  const head = h('tr');
  const body = h('tbody');
  const el = h('div', { class: 's-table-wrap', role: 'region', tabindex: '0', 'aria-labelledby': labelId, hidden: true },
    h('table', { id, class: 's-table hr-table', 'aria-labelledby': labelId }, h('thead', {}, head), body));
  return {
    el,
    show(heads, rows) {
      el.hidden = !rows.length;
      syncCells(head, heads.map((text) => ({ col: true, text })));
      syncRows(body, rows, attr);
    },
  };
}

/** Text in a paragraph made once; hidden while empty. */
function say(el, text) {
  setText(el, text ?? '');
  el.hidden = !text;
}

/** Mount in #hours and #byctr; `env`: {site, getLang()}. Returns {load(), paint()}. */
export function mountHours(env) {
  const { site } = env;
  const lang = () => env.getLang();
  const num = (v, digits = 1) => (v == null ? '—' : Number(v).toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en', { maximumFractionDigits: digits }));
  const counterName = (id) => nameIn(site.counters.find((c) => c.id === id)?.name ?? id, lang());
  const hoursRoot = document.getElementById('hours');
  const ctrRoot = document.getElementById('byctr');
  let state = { hours: null, counters: null, error: null };

  const hr = {
    title: h('h2', { id: 'hr-title', class: 's-section-title' }),
    peak: h('p', { id: 'hr-peak', class: 'hr-peak', hidden: true }),
    status: h('p', { id: 'hr-status', class: 'muted s-note', role: 'status' }),
    table: frame('hr-table', 'hr-title', 'hour'),
    unknown: h('p', { class: 'muted s-note', hidden: true }),
    note: h('p', { class: 'muted s-note', hidden: true }),
  };
  hoursRoot.replaceChildren(hr.title, hr.peak, hr.status, hr.table.el, hr.unknown, hr.note);
  const bc = {
    title: h('h2', { id: 'bc-title', class: 's-section-title' }),
    table: frame('bc-table', 'bc-title', 'counter'),
    status: h('p', { class: 'muted s-note', role: 'status' }),
    note: h('p', { class: 'muted s-note', hidden: true }),
  };
  ctrRoot.replaceChildren(bc.title, bc.table.el, bc.status, bc.note);

  function paintHours(t) {
    const rows = state.hours?.hours ?? [];
    setText(hr.title, t('hr_title'));
    say(hr.peak, peakLine(rows, t, num));
    if (state.error) setText(hr.status, t('hr_failed', { code: state.error }));
    else setText(hr.status, state.hours && !rows.some((r) => r.issued) ? t('hr_empty') : '');
    const scale = { wait: Math.max(1, ...rows.map((r) => r.wait_s?.mean ?? 0)),
      open: Math.max(1, site.counters.length, ...rows.map((r) => r.counters_open ?? 0)) };
    const peak = peakHour(rows);
    hr.table.show([t('hr_col_hour'), t('hr_col_issued'), t('hr_col_wait'), t('hr_col_p90'), t('hr_col_open'), t('hr_col_per')],
      rows.map((r) => ({ key: String(r.hour), cls: [r === peak ? 'hr-peak-row' : null, mostUncalled(r) ? 'hr-pending-row' : null].filter(Boolean).join(' '),
        cells: hourCells(r, t, num, scale) })));
    say(hr.unknown, rows.length && rows.every((r) => r.counters_open == null) ? t('hr_counters_unknown') : null);
    say(hr.note, rows.length ? t('hr_note') : null);
  }

  function paintCounters(t) {
    const rows = state.counters?.counters ?? [];
    setText(bc.title, t('bc_title'));
    bc.table.show([t('bc_col_counter'), t('bc_col_served'), t('bc_col_no_show'), t('bc_col_mean'), t('bc_col_median'), t('bc_col_open'), t('bc_col_busy')],
      rows.map((r) => ({ key: r.counter, cells: counterCells(r, t, counterName(r.counter)) })));
    setText(bc.status, !rows.length && state.counters ? t('bc_empty') : '');
    say(bc.note, rows.length ? t('bc_note') : null);
  }

  function paint() {
    const t = layeredTranslator(STRINGS, lang());
    paintHours(t);
    paintCounters(t);
  }

  async function load() {
    const base = `/v1/sites/${encodeURIComponent(site.id)}/stats?by=`;
    const [hrRes, bcRes] = await Promise.all([api(`${base}hour`), api(`${base}counter`)]);
    if (hrRes.status === 403) { // a token that may not read these views: no section
      hoursRoot.hidden = true;
      ctrRoot.hidden = true;
      return;
    }
    // A failed refresh keeps the last figures, and says so.
    state = { hours: hrRes.ok ? hrRes.data : state.hours, counters: bcRes.ok ? bcRes.data : state.counters,
      error: hrRes.ok ? null : (hrRes.data?.code ?? hrRes.status) };
    hoursRoot.hidden = false;
    ctrRoot.hidden = !bcRes.ok && !state.counters;
    paint();
  }

  return { load, paint, get hours() { return state.hours; }, get counters() { return state.counters; } };
}
