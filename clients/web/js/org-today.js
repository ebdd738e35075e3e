// The enterprise dashboard's "today" line: the organisation's KPIs for the region's local day
// (GET /v1/orgs/{org}/kpis, docs/dispatch.md "KPIs": per local day, today by default), its
// words in English and Chinese. Pure.

export const TODAY_STRINGS = {
  en: {
    org_today: 'Today: {created} ordered · {done} done · on time {on_time} · response {response}',
    org_today_min: '{n} min',
  },
  zh: {
    org_today: '今日：下单 {created} · 完成 {done} · 准时率 {on_time} · 平均响应 {response}',
    org_today_min: '{n} 分钟',
  },
};

const pct = (x) => (x == null ? '—' : `${Math.round(x * 100)} %`);

/** One line of today's figures from the organisation's KPIs ('' until they are read). */
export function todayLine(k, t) {
  if (!k) return '';
  const s = k.dispatch_response_mean_s;
  return t('org_today', {
    created: k.jobs_created ?? 0,
    done: k.jobs_done ?? 0,
    on_time: pct(k.on_time_rate),
    response: s == null ? '—' : t('org_today_min', { n: Math.max(1, Math.round(s / 60)) }),
  });
}
