// The enterprise dashboard's day: the tiles count the organisation's jobs due on one local day
// of its region (today by default, rolling over at its midnight; another day by the arrows),
// and the line under them is that day's KPIs (GET /v1/orgs/{org}/kpis?date=, docs/dispatch.md
// "KPIs": `due` and the day's figures), their words in English and Chinese. Pure.
import { formatDay } from './dispatch.js';

export const TODAY_STRINGS = {
  en: {
    org_today: 'Today: {created} ordered · {done} done · on time {on_time} · response {response}',
    org_day_line: '{day}: {created} ordered · {done} done · on time {on_time} · response {response}',
    org_today_min: '{n} min',
    org_day_today: 'Today',
    org_day_yesterday: 'Yesterday',
    org_day_tomorrow: 'Tomorrow',
    org_day_prev: 'Previous day',
    org_day_next: 'Next day',
    org_day_back: 'Today',
    org_day_nav: 'Day shown',
    org_tiles_title: 'Jobs due {day}',
    org_tiles_hint: 'Jobs whose window ends on the day shown (without a window: ordered that day), by their status now',
  },
  zh: {
    org_today: '今日：下单 {created} · 完成 {done} · 准时率 {on_time} · 平均响应 {response}',
    org_day_line: '{day}：下单 {created} · 完成 {done} · 准时率 {on_time} · 平均响应 {response}',
    org_today_min: '{n} 分钟',
    org_day_today: '今天',
    org_day_yesterday: '昨天',
    org_day_tomorrow: '明天',
    org_day_prev: '前一天',
    org_day_next: '后一天',
    org_day_back: '回到今天',
    org_day_nav: '显示的日期',
    org_tiles_title: '{day}应完成的工单',
    org_tiles_hint: '预约时段在所显示日期结束的工单（无时段的按下单日期），按当前状态统计',
  },
};

const pct = (x) => (x == null ? '—' : `${Math.round(x * 100)} %`);

/** The day `n` days after `key` ("YYYY-MM-DD"; calendar days, whatever the zone's clocks do). */
export function shiftDay(key, n) {
  const [y, m, d] = key.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** "YYYY-MM-DD" when `text` is a real day, else null (a `?date=` read from the address). */
export function validDay(text) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text ?? '')) return null;
  return shiftDay(text, 0) === text ? text : null;
}

/** A day's name: "Today · Mon 2 Mar", "Yesterday · …", "Tomorrow · …", else "Wed 4 Mar". */
export function dayName(key, today, lang, t) {
  const [y, m, d] = key.split('-').map(Number);
  const date = formatDay(Date.UTC(y, m - 1, d, 12), lang, 'UTC');
  const rel = { [today]: 'org_day_today', [shiftDay(today, -1)]: 'org_day_yesterday', [shiftDay(today, 1)]: 'org_day_tomorrow' }[key];
  return rel ? `${t(rel)} · ${date}` : date;
}

/** One line of the day's figures from the organisation's KPIs ('' until they are read, or for
 *  a day the KPIs do not hold: ahead, or older than they keep). */
export function todayLine(k, t, today = k?.day, lang = 'en') {
  if (!k || k.kept === false) return '';
  const s = k.dispatch_response_mean_s;
  const vars = {
    created: k.jobs_created ?? 0,
    done: k.jobs_done ?? 0,
    on_time: pct(k.on_time_rate),
    response: s == null ? '—' : t('org_today_min', { n: Math.max(1, Math.round(s / 60)) }),
  };
  if (k.day === today) return t('org_today', vars);
  return t('org_day_line', { ...vars, day: dayName(k.day, today, lang, t) });
}
