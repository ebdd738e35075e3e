// Chinese and English for every page, and the formatters that depend on language.
// Pure functions: no DOM, so tests import and call them directly.

export const UI_LANGS = ['zh', 'en'];

const en = {
  lang_name: 'English',
  connecting: 'Connecting…',
  live: 'Live',
  offline: 'Offline',
  offline_since: 'Offline since {time} — reconnecting…',
  offline_retry: 'Offline since {time} — retrying in {s} s',
  denied: 'This link is not valid any more. Ask staff for a new one.',
  err_unauthorized: 'This link is not valid or has expired. Ask staff for a new one.',
  err_forbidden: 'This link does not open this page.',
  err_unknown_site: 'There is no such site.',
  err_unknown_counter: 'There is no such counter at this site.',
  err_unknown_ticket: 'We could not find this ticket.',
  err_unknown_topic: 'We could not find this ticket.',
  err_bad_request: 'This link is not complete.',
  err_network: 'Network error — please try again.',
  err_generic: 'Something went wrong ({code}).',
  min: '{n} min',
  min_range: '{a}–{b} min',
  under_min: 'under 1 min',
  n_waiting: '{n} waiting',
  none: '—',
  // board
  board_title: 'Display board',
  now_calling: 'Now calling',
  please_go: 'please go to',
  counters: 'Counters',
  recent: 'Recent calls',
  waiting_title: 'Waiting',
  est_wait: 'Est. wait',
  state_open: 'Open',
  state_paused: 'Paused',
  state_closed: 'Closed',
  free: 'Free',
  st_called: 'Calling',
  st_serving: 'Serving',
  sound_on: 'Sound on',
  sound_off: 'Sound off',
  chime_only: 'Chime only (no voice)',
  enable_sound_title: 'Sound is off',
  enable_sound: 'The browser blocked sound. Click anywhere or press any key to turn it on.',
  enable_sound_btn: 'Turn sound on',
  showing: 'Showing {epoch} · {offset}',
  accuracy_today: 'Today {pct}% of people were called within our estimated range',
  no_calls: 'No calls yet',
  recall: 'Recall',
  // ticket tracker
  tracker_title: 'Your ticket',
  your_number: 'Your number',
  position: 'Place in line',
  people_ahead: 'People ahead',
  est_wait_long: 'Estimated wait',
  you_are_next: 'You are next',
  almost: 'Almost your turn — please come back to the waiting area.',
  your_turn: 'It’s your turn',
  go_to: 'Please go to {counter}',
  st_waiting_msg: 'You are in line. This page updates by itself.',
  st_serving_msg: 'You are being served at {counter}.',
  st_done_msg: 'Done. Thank you for your visit.',
  st_no_show_msg: 'You missed your call. Please speak to staff.',
  st_parked_msg: 'Set aside for now — staff will call you again.',
  st_transferred_msg: 'You were moved to {service}. You keep your place.',
  st_cancelled_msg: 'This ticket was cancelled.',
  called_at: 'Called at {time}',
  cancel_ticket: 'Cancel my ticket',
  cancel_q: 'Cancel ticket {number}?',
  cancel_warn: 'You will lose your place in line.',
  keep: 'Keep my place',
  yes_cancel: 'Yes, cancel',
  alerts_btn: 'Alert me when it’s my turn',
  alerts_on: 'Alerts are on',
  alerts_blocked: 'Notifications are blocked — keep this page open.',
  updated: 'Updated {time}',
  status: 'Status',
  // counter console
  console_title: 'Counter console',
  open: 'Open',
  pause: 'Pause',
  close: 'Close',
  current: 'Current ticket',
  no_current: 'No ticket. Call the next one.',
  call_next: 'Call next',
  start: 'Start',
  complete: 'Complete',
  no_show: 'No-show',
  park: 'Park',
  transfer: 'Transfer',
  call: 'Call',
  unpark: 'Back to queue',
  queue: 'Queue',
  queue_empty_list: 'Nobody waiting',
  parked_here: 'Parked at this counter',
  shortcuts: 'Keyboard shortcuts',
  transfer_to: 'Transfer {number} to…',
  cancel: 'Cancel',
  counter_state: 'Counter',
  waited: 'waited {m} min',
  recalls: 'recalls: {n}',
  ok_called: 'Called {number}',
  ok_done: '{number}: {op}',
  ok_state: 'Counter {state}',
  e_queue_empty: 'Nobody is waiting.',
  e_counter_not_open: 'Open the counter first.',
  e_counter_busy: 'Finish the current ticket first.',
  e_counter_idle: 'There is no current ticket.',
  e_recall_limit: 'Recall limit reached — mark as no-show?',
  e_invalid_transition: 'Not possible in this ticket’s state.',
  // kiosk
  kiosk_title: 'Take a number',
  choose: 'Please choose a service',
  appointment: 'I have an appointment',
  checkin_title: 'Appointment check-in',
  code_label: 'Appointment code',
  code_hint: 'Type the 6-character code from your booking, or scan its QR code.',
  check_in: 'Check in',
  code_not_found: 'We could not find that code. Please check it, or ask at the desk.',
  code_format: 'A code has 6 letters and digits (no 0, O, 1 or I).',
  too_early: 'It is too early to check in. Check-in opens at {time}.',
  too_late: 'The time to check in for this appointment has passed. Please ask at the desk.',
  back: 'Back',
  clear: 'Clear',
  del: 'Delete',
  taking: 'Printing your ticket…',
  scan: 'Scan to follow your place in line on your phone',
  print: 'Print',
  done: 'Done',
  returning: 'Back to the start in {s} s',
  large_text: 'Large text',
  high_contrast: 'High contrast',
  ahead_n: '{n} people ahead',
  taken_at: 'Taken at {time}',
  // home
  home_title: 'Switchboard',
  home_sub: 'Real-time queues: take a number, follow it on your phone, get called.',
  home_demo: 'Demo pages',
  home_demo_hint: 'These links carry ready tokens for the demo site. Take a ticket at the kiosk: its QR code opens the ticket tracker.',
  home_no_demo: 'Start the server with --demo to list ready demo pages here, or make tokens with `switchboard token ROLE --site SITE`.',
  l_board: 'Display board',
  l_kiosk: 'Kiosk',
  l_counter: 'Counter console',
  l_docs: 'HTTP API reference',
  pr_emergency: 'Emergency', pr_priority: 'Priority', pr_appointment: 'Appointment',
  pr_revisit: 'Revisit', pr_walk_in: 'Walk-in',
  ch_kiosk: 'Kiosk', ch_app: 'App', ch_phone: 'Phone', ch_sms: 'SMS', ch_window: 'Window',
  ch_web: 'Web', ch_partner: 'Partner',
};

const zh = {
  lang_name: '中文',
  connecting: '正在连接…',
  live: '实时',
  offline: '离线',
  offline_since: '{time} 起连接中断，正在重新连接…',
  offline_retry: '{time} 起连接中断，{s} 秒后重试',
  denied: '此链接已失效，请向工作人员索取新链接。',
  err_unauthorized: '链接无效或已过期，请向工作人员索取新链接。',
  err_forbidden: '此链接不能打开这个页面。',
  err_unknown_site: '没有这个站点。',
  err_unknown_counter: '本站点没有这个窗口。',
  err_unknown_ticket: '找不到这张号票。',
  err_unknown_topic: '找不到这张号票。',
  err_bad_request: '链接不完整。',
  err_network: '网络错误，请重试。',
  err_generic: '出错了（{code}）。',
  min: '{n} 分钟',
  min_range: '{a}–{b} 分钟',
  under_min: '不到 1 分钟',
  n_waiting: '{n} 人等候',
  none: '—',
  board_title: '叫号屏',
  now_calling: '正在呼叫',
  please_go: '请到',
  counters: '窗口',
  recent: '最近呼叫',
  waiting_title: '等候人数',
  est_wait: '预计等待',
  state_open: '服务中',
  state_paused: '暂停',
  state_closed: '关闭',
  free: '空闲',
  st_called: '呼叫中',
  st_serving: '办理中',
  sound_on: '声音已开启',
  sound_off: '声音已关闭',
  chime_only: '仅提示音（无语音）',
  enable_sound_title: '声音已关闭',
  enable_sound: '浏览器阻止了声音。点击屏幕任意位置或按任意键开启。',
  enable_sound_btn: '开启声音',
  showing: '数据 {epoch} · {offset}',
  accuracy_today: '今天 {pct}% 的人在我们预估的时间范围内被叫到',
  no_calls: '暂无呼叫',
  recall: '重呼',
  tracker_title: '我的号票',
  your_number: '您的号码',
  position: '排队位置',
  people_ahead: '前面人数',
  est_wait_long: '预计等待',
  you_are_next: '下一位就是您',
  almost: '快到您了，请回到候诊区等候。',
  your_turn: '轮到您了',
  go_to: '请到 {counter}',
  st_waiting_msg: '您正在排队，本页面会自动更新。',
  st_serving_msg: '正在 {counter} 为您办理。',
  st_done_msg: '已办理完成，谢谢光临。',
  st_no_show_msg: '您已过号，请联系工作人员。',
  st_parked_msg: '暂时挂起，工作人员会再次呼叫您。',
  st_transferred_msg: '您已转到 {service}，排队位置保留。',
  st_cancelled_msg: '此号票已取消。',
  called_at: '呼叫时间 {time}',
  cancel_ticket: '取消排队',
  cancel_q: '确定取消 {number} 号吗？',
  cancel_warn: '取消后将失去排队位置。',
  keep: '保留',
  yes_cancel: '确定取消',
  alerts_btn: '轮到我时提醒我',
  alerts_on: '提醒已开启',
  alerts_blocked: '通知被阻止，请保持此页面打开。',
  updated: '更新于 {time}',
  status: '状态',
  console_title: '窗口工作台',
  open: '开始服务',
  pause: '暂停',
  close: '关闭',
  current: '当前号码',
  no_current: '当前没有号码，请叫下一位。',
  call_next: '叫下一位',
  start: '开始办理',
  complete: '完成',
  no_show: '过号',
  park: '暂挂',
  transfer: '转移',
  call: '呼叫',
  unpark: '回到队列',
  queue: '队列',
  queue_empty_list: '无人等候',
  parked_here: '本窗口暂挂',
  shortcuts: '快捷键',
  transfer_to: '将 {number} 转到…',
  cancel: '取消',
  counter_state: '窗口',
  waited: '已等 {m} 分钟',
  recalls: '重呼 {n} 次',
  ok_called: '已呼叫 {number}',
  ok_done: '{number}：{op}',
  ok_state: '窗口{state}',
  e_queue_empty: '没有等候的号码。',
  e_counter_not_open: '请先开始服务。',
  e_counter_busy: '请先完成当前号码。',
  e_counter_idle: '当前没有号码。',
  e_recall_limit: '已达重呼上限，可标记过号。',
  e_invalid_transition: '当前状态下不能执行此操作。',
  kiosk_title: '取号',
  choose: '请选择业务',
  appointment: '我有预约',
  checkin_title: '预约签到',
  code_label: '预约码',
  code_hint: '输入预约确认信息中的 6 位预约码，或扫描预约二维码。',
  check_in: '签到',
  code_not_found: '未找到该预约码，请核对后重试，或到服务台咨询。',
  code_format: '预约码为 6 位字母和数字（不含 0、O、1、I）。',
  too_early: '现在签到还太早，{time} 起可以签到。',
  too_late: '此预约的签到时间已过，请到服务台咨询。',
  back: '返回',
  clear: '清除',
  del: '删除',
  taking: '正在出号…',
  scan: '扫码用手机查看排队进度',
  print: '打印',
  done: '完成',
  returning: '{s} 秒后返回首页',
  large_text: '大字模式',
  high_contrast: '高对比度',
  ahead_n: '前面 {n} 人',
  taken_at: '取号时间 {time}',
  home_title: 'Switchboard 排队叫号',
  home_sub: '实时排队：取号、手机查看进度、叫号。',
  home_demo: '演示页面',
  home_demo_hint: '以下链接带有演示站点的令牌。在取号机取号后，扫描号票上的二维码即可打开手机跟踪页。',
  home_no_demo: '用 --demo 启动服务器即可在此列出演示页面；或用 `switchboard token ROLE --site SITE` 生成令牌。',
  l_board: '叫号屏',
  l_kiosk: '取号机',
  l_counter: '窗口工作台',
  l_docs: 'HTTP 接口文档',
  pr_emergency: '急诊', pr_priority: '优先', pr_appointment: '预约', pr_revisit: '复诊',
  pr_walk_in: '普通',
  ch_kiosk: '取号机', ch_app: 'App', ch_phone: '电话', ch_sms: '短信', ch_window: '窗口',
  ch_web: '网页', ch_partner: '合作方',
};

export const STRINGS = { en, zh };

/** The UI language (zh or en) for a language tag: zh-CN → zh, en-GB → en, ja → en. */
export function uiLang(tag) {
  const base = String(tag || '').toLowerCase().split('-')[0];
  return UI_LANGS.includes(base) ? base : 'en';
}

/**
 * Which language a page shows. An explicit choice (?lang= or one the user made) wins; then,
 * where the site prefers the browser (phones), the first browser language the site speaks;
 * else the site's first language.
 */
export function pickLanguage({ param, stored, browser = [], site = ['en'], preferBrowser }) {
  const base = (tag) => String(tag || '').toLowerCase().split('-')[0];
  const siteBases = site.map(base);
  for (const c of [param, stored]) {
    if (UI_LANGS.includes(base(c))) return base(c);
  }
  if (preferBrowser) {
    for (const b of browser) {
      if (siteBases.includes(base(b))) return uiLang(b);
    }
  }
  return uiLang(site[0]);
}

/** t(key, vars): the string in `lang`, English when it has none, the key when neither has. */
export function translator(lang) {
  const table = STRINGS[uiLang(lang)];
  return (key, vars = {}) => {
    const s = table[key] ?? en[key] ?? key;
    return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  };
}

/** A name that is a string or {lang: text}: the text in `lang`, its base, or the first. */
export function nameIn(name, lang) {
  if (name == null) return '';
  if (typeof name === 'string') return name;
  return name[lang] ?? name[String(lang).split('-')[0]] ?? Object.values(name)[0] ?? '';
}

/** Minutes, rounded up (nobody minds being called early): "8 min", "under 1 min". */
export function formatMinutes(seconds, lang) {
  const t = translator(lang);
  if (seconds == null || !Number.isFinite(seconds)) return t('none');
  if (seconds < 60) return t('under_min');
  return t('min', { n: Math.ceil(seconds / 60) });
}

/**
 * A wait estimate {wait_s, low_s, high_s} as a range: "8–15 min". One number when the
 * range rounds to one minute; "—" when there is no estimate (the server sends null).
 */
export function formatEstimate(estimate, lang) {
  const t = translator(lang);
  if (!estimate || typeof estimate !== 'object') return t('none');
  const low = estimate.low_s ?? estimate.wait_s;
  const high = estimate.high_s ?? estimate.wait_s;
  if (low == null || high == null) return t('none');
  if (high < 60) return t('under_min');
  const a = Math.max(1, Math.floor(low / 60)); // "0–5 min" reads as a promise of now
  const b = Math.max(a, Math.ceil(high / 60));
  if (a === b) return t('min', { n: b });
  return t('min_range', { a, b });
}

/** Clock time of an ISO instant (or epoch ms) in the site's time zone: "14:03". */
export function formatTime(when, lang, timeZone, seconds = false) {
  if (when == null) return '';
  const d = typeof when === 'number' ? new Date(when) : new Date(String(when));
  if (Number.isNaN(d.getTime())) return '';
  const opts = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  if (seconds) opts.second = '2-digit';
  try {
    return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { ...opts, timeZone }).format(d);
  } catch {
    return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', opts).format(d);
  }
}
