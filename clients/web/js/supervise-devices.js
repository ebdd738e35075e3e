// "Screens and kiosks" on the floor overview: each board and kiosk of the site (its issued
// link, or a page open with one) with whether it is connected now and when it was last seen,
// offline ones first and marked. From GET /v1/sites/{site}/devices (docs/protocol.md),
// loaded with the page and every 30 s. A link revoked, or expired and replaced by a new one,
// is no device that should be up: not shown. A kiosk whose link expired is (it is dark).
import { formatTime, nameIn } from './i18n.js';
import { api, h, layeredTranslator, setText } from './ui.js';

export const REFRESH_MS = 30_000;
const SHOWN_ROLES = ['display', 'kiosk'];

export const STRINGS = {
  en: {
    dv_title: 'Screens and kiosks',
    dv_col_device: 'Device', dv_col_kind: 'Kind', dv_col_state: 'Status', dv_col_seen: 'Last seen', dv_col_link: 'Link',
    dv_display: 'Board', dv_kiosk: 'Kiosk', dv_area: 'area {area}',
    dv_online: 'Online', dv_offline: 'Offline', dv_never: 'never',
    dv_seen_now: 'now', dv_seen_today: 'today {time}', dv_seen_day: '{date} {time}',
    dv_link_active: 'valid, {n} days left', dv_link_soon: 'valid, expires in under a day',
    dv_link_expired: 'expired: make a new link', dv_link_none: 'not listed',
    dv_summary: '{off} of {n} offline', dv_all_on: 'All {n} online', dv_empty: 'No boards or kiosks are listed for this site yet.',
    dv_failed: 'The list of screens and kiosks could not be loaded ({code}).',
    dv_note: 'Online: a page is connected to this server now. Offline ones come first; a board or kiosk offline during opening hours is dark or has lost its network.',
  },
  zh: {
    dv_title: '屏幕与自助机',
    dv_col_device: '设备', dv_col_kind: '类型', dv_col_state: '状态', dv_col_seen: '最后在线', dv_col_link: '链接',
    dv_display: '叫号屏', dv_kiosk: '自助机', dv_area: '区域 {area}',
    dv_online: '在线', dv_offline: '离线', dv_never: '从未',
    dv_seen_now: '现在', dv_seen_today: '今天 {time}', dv_seen_day: '{date} {time}',
    dv_link_active: '有效，剩 {n} 天', dv_link_soon: '有效，不到一天后到期',
    dv_link_expired: '已过期：请生成新链接', dv_link_none: '未登记',
    dv_summary: '{n} 台中 {off} 台离线', dv_all_on: '全部 {n} 台在线', dv_empty: '本站点还没有登记叫号屏或自助机。',
    dv_failed: '屏幕与自助机列表无法加载（{code}）。',
    dv_note: '在线：页面此刻连接着本服务器。离线的排在前面；营业时间内离线的叫号屏或自助机可能黑屏或断网。',
  },
};

/** The rows the panel shows: boards and kiosks, not superseded links, in the server's order
 * (offline first). */
export function shownDevices(devices) {
  return (devices ?? []).filter((d) => SHOWN_ROLES.includes(d.role)
    && !(d.link && (d.link.status === 'revoked' || (d.link.status === 'expired' && d.link.replaced_by))));
}

function dayOf(when, lang, timeZone) {
  try {
    return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { month: 'short', day: 'numeric', timeZone }).format(new Date(when));
  } catch {
    return new Date(when).toISOString().slice(0, 10);
  }
}

export function seenText(d, t, lang, timeZone, now = Date.now()) {
  if (d.online) return t('dv_seen_now');
  if (!d.last_seen) return t('dv_never');
  const time = formatTime(d.last_seen, lang, timeZone);
  const same = dayOf(d.last_seen, lang, timeZone) === dayOf(now, lang, timeZone);
  return same ? t('dv_seen_today', { time }) : t('dv_seen_day', { date: dayOf(d.last_seen, lang, timeZone), time });
}

function linkText(link, t) {
  if (!link) return t('dv_link_none');
  if (link.status === 'expired') return t('dv_link_expired');
  return link.days_left > 0 ? t('dv_link_active', { n: link.days_left }) : t('dv_link_soon');
}

export function mountDevices(env) {
  const { site } = env;
  const lang = () => env.getLang();
  const root = document.getElementById('devices');
  const title = h('h2', { id: 'dv-title', class: 's-section-title' });
  const summary = h('p', { id: 'dv-summary', class: 'dv-summary', role: 'status' });
  const head = h('tr');
  const body = h('tbody', { id: 'dv-body' });
  const table = h('table', { id: 'dv-table', class: 's-table dv-table', 'aria-labelledby': 'dv-title' }, h('thead', {}, head), body);
  const status = h('p', { class: 'muted s-note', role: 'status' });
  const note = h('p', { class: 'muted s-note' });
  root.replaceChildren(title, summary, h('div', { class: 's-table-wrap' }, table), status, note);
  let state = { devices: null, error: null };
  let timer = null;

  function row(d, t) {
    const area = d.area ? ` · ${t('dv_area', { area: areaName(d.area) })}` : '';
    const chip = h('span', { class: `chip ${d.online ? 'chip-ok dv-on' : 'chip-bad dv-off'}` }, d.online ? t('dv_online') : t('dv_offline'));
    return h('tr', { class: d.online ? 'dv-row dv-row-on' : 'dv-row dv-row-off', 'data-subject': d.subject },
      h('th', { scope: 'row' }, d.subject + area),
      h('td', {}, t(d.role === 'kiosk' ? 'dv_kiosk' : 'dv_display')),
      h('td', { class: 'dv-state' }, chip),
      h('td', { class: 'dv-seen' }, seenText(d, t, lang(), site.timezone)),
      h('td', { class: `dv-link${d.link?.status === 'expired' ? ' dv-link-bad' : ''}` }, linkText(d.link, t)));
  }

  function areaName(id) {
    const a = (site.areas ?? []).find((x) => x.id === id);
    return a ? nameIn(a.name ?? id, lang()) : id;
  }

  function paint() {
    const t = layeredTranslator(STRINGS, lang());
    setText(title, t('dv_title'));
    head.replaceChildren(...['dv_col_device', 'dv_col_kind', 'dv_col_state', 'dv_col_seen', 'dv_col_link']
      .map((k) => h('th', { scope: 'col' }, t(k))));
    const rows = shownDevices(state.devices);
    body.replaceChildren(...rows.map((d) => row(d, t)));
    const off = rows.filter((d) => !d.online).length;
    setText(summary, !rows.length ? '' : (off ? t('dv_summary', { off, n: rows.length }) : t('dv_all_on', { n: rows.length })));
    summary.classList.toggle('dv-summary-bad', off > 0);
    table.hidden = !rows.length;
    if (state.error) setText(status, t('dv_failed', { code: state.error }));
    else setText(status, state.devices && !rows.length ? t('dv_empty') : '');
    setText(note, rows.length ? t('dv_note') : '');
  }

  async function load() {
    const res = await api(`/v1/sites/${encodeURIComponent(site.id)}/devices`);
    if (res.status === 403) { // a token that may not read the list: no section
      root.hidden = true;
      return;
    }
    // A failed refresh keeps the last list, and says so.
    state = { devices: res.ok ? res.data.devices : state.devices, error: res.ok ? null : (res.data?.code ?? res.status) };
    root.hidden = false;
    paint();
  }

  function start() {
    load();
    if (timer === null) timer = setInterval(load, REFRESH_MS);
  }

  return { load, paint, start, get devices() { return state.devices; } };
}
