// "+ Appointment" at the counter console: reception or the phone line books a time for
// someone at the desk (channel `window`) or on the phone (`phone`), from the same slot
// inventory as every app and the kiosk, with the places a site holds for those channels
// (docs/appointments.md, quotas). The free times come from the live availability for that
// channel; one POST with an Idempotency-Key per form (a double click or a retry is one
// booking). Then: the code to read out (phone) or a slip with the QR of the person's own
// page (desk), and a text with that page's link where a gateway is set up.
import { addDays, bookable, localDay } from './booking-rules.js';
import { paintDayNav, timeGroups } from './booking-ui.js';
import { nameIn } from './i18n.js';
import { api, h, layeredTranslator, randomId, replaceChildren, setText } from './ui.js';
import { withTerms } from './vocabulary.js';

export const STRINGS = {
  en: {
    book_open: '+ Appointment',
    book_title: 'New appointment',
    book_how: 'Asking',
    how_phone: 'On the phone',
    how_desk: 'At the desk',
    book_service: 'Service',
    book_when: 'When',
    day_prev: '‹ Day before',
    day_next: 'Day after ›',
    move_date: 'Or pick a day',
    move_loading: 'Looking for free times…',
    move_none: 'No free time that day. Try another day.',
    move_failed: 'Free times could not be loaded ({code}).',
    slot_left: '{n} left',
    today: 'Today',
    tomorrow: 'Tomorrow',
    book_chosen: 'Chosen: {when} · {resource}',
    book_customer: '{@Client_id} or mobile number',
    book_phone: 'Mobile number for texts (optional)',
    book_go: 'Book',
    book_pick_time: 'Choose a time first.',
    book_need_customer: 'Type the {@client_id} or mobile number: it keeps the person to one booking at a time.',
    booked_code: 'Appointment code',
    booked_scan: 'Scan for your appointment page: check in, move or cancel',
    booked_read_out: 'Read the code and the time to the caller.',
    booked_read_out_sms: 'Read the code and the time to the caller; a text with the appointment goes to {phone} now, and a reminder before it.',
    booked_read_out_nosms: 'Read the code and the time to the caller (no texts are sent from this site).',
    e_slot_full: 'That time was just taken. Choose another.',
    e_channel_quota: 'No place is left for this channel at that time.',
    e_overlap: 'This person already has an appointment at that time.',
    e_too_many_bookings: 'This person already has as many open appointments as allowed.',
    e_slot_closed: 'That time can no longer be booked.',
    e_resource_suspended: 'That {@resource} is not available then.',
    looks_code: 'No ticket {number}. It reads as an appointment code:',
    checkin_code: 'Check in the appointment',
    e_too_early: 'Too early for this appointment: check-in opens {time}.',
    e_too_late: 'The time for this appointment has passed (and late arrivals are not taken as walk-ins today).',
    e_unknown_booking: 'No appointment has this code.',
    e_invalid_transition: 'This appointment cannot be checked in (cancelled, or its ticket has ended).',
  },
  zh: {
    book_open: '+ 预约',
    book_title: '新预约',
    book_how: '预约方式',
    how_phone: '电话预约',
    how_desk: '窗口现场',
    book_service: '{@services}',
    book_when: '时间',
    day_prev: '‹ 前一天',
    day_next: '后一天 ›',
    move_date: '或选择日期',
    move_loading: '正在查找空余时间…',
    move_none: '当天没有空余时间，请换一天。',
    move_failed: '无法加载空余时间（{code}）。',
    slot_left: '余 {n}',
    today: '今天',
    tomorrow: '明天',
    book_chosen: '已选：{when} · {resource}',
    book_customer: '{@client_id}或手机号',
    book_phone: '接收短信的手机号（可选）',
    book_go: '预约',
    book_pick_time: '请先选择时间。',
    book_need_customer: '请输入{@client_id}或手机号：同一人同一时间只能有一个预约。',
    booked_code: '预约码',
    booked_scan: '扫码打开预约页面：签到、改约或取消',
    booked_read_out: '请把预约码和时间告诉来电人。',
    booked_read_out_sms: '请把预约码和时间告诉来电人；预约短信现在发送到 {phone}，{@visit}前还会提醒。',
    booked_read_out_nosms: '请把预约码和时间告诉来电人（本站点不发送短信）。',
    e_slot_full: '该时间刚被约满，请选择其他时间。',
    e_channel_quota: '该时间此渠道已无名额。',
    e_overlap: '此人在该时间已有预约。',
    e_too_many_bookings: '此人未完成的预约数已达上限。',
    e_slot_closed: '该时间已停止预约。',
    e_resource_suspended: '该{@resource}在此时间{@suspended}。',
    looks_code: '没有 {number} 号。这像是一个预约码：',
    checkin_code: '为此预约签到',
    e_too_early: '还未到签到时间：{time} 起可签到。',
    e_too_late: '预约时间已过（今天不再按现场号接待迟到者）。',
    e_unknown_booking: '没有这个预约码。',
    e_invalid_transition: '此预约无法签到（已取消，或其号码已结束）。',
  },
};

// A booking code: 6 characters without 0/O, 1/I (queueing/booking/rules.py CODE_RE).
export const BOOKING_CODE = /^[2-9A-HJ-NP-Z]{6}$/;

/** This module's words in `lang` (for counter.js, whose own translator lacks them). */
export function codeText(key, vars = {}, lang = document.documentElement.lang.startsWith('zh') ? 'zh' : 'en') {
  return layeredTranslator(withTerms(STRINGS), lang)(key, vars);
}

/** Check an appointment code in at the window (`window` channel, the agent's token). */
export function checkInCode(siteId, code) {
  return api(`/v1/sites/${encodeURIComponent(siteId)}/check-in`, { method: 'POST', body: { code, channel: 'window' } });
}

/** What a refused check-in means, in words (too early: from when). */
export function codeError(r, lang, timeZone) {
  const code = r.data?.code ?? 'network';
  const key = `e_${code}`;
  const opens = r.data?.details?.opens ?? r.data?.opens;
  const time = opens ? new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', {
    weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone,
  }).format(new Date(opens)) : '';
  const text = codeText(key, { time }, lang);
  return text === key ? (r.data?.message ?? codeText('err_generic', { code }, lang)) : text;
}

/**
 * Mount the dialog. `env`: {site, rules (boot.booking_site), sms, me (this counter), getLang(),
 * toastError(r), now()}. Returns `paint()` (labels in the current language), or null where
 * the site takes no bookings.
 */
export function mountBooking(env) {
  const { site, rules } = env;
  if (!rules) return null;
  const $ = (id) => document.getElementById(id);
  const tz = site.timezone;
  const policy = rules.policy ?? {};
  const services = bookable(site.services, rules.resources);
  if (!services.length) return null;
  let t = layeredTranslator(withTerms(STRINGS), env.getLang());
  const state = { channel: 'phone', service: null, day: null, slots: null, chosen: null, key: null };
  const lang = () => env.getLang();
  const resourceName = (id) => nameIn((rules.resources ?? []).find((r) => r.id === id)?.name ?? id, lang());
  const serviceName = (id) => nameIn(site.services.find((s) => s.id === id)?.name ?? id, lang());
  const whenText = (s) => new Intl.DateTimeFormat(lang() === 'zh' ? 'zh-CN' : 'en-GB', {
    weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: tz,
  }).format(new Date(s.start));

  async function load(day) {
    state.day = day;
    state.slots = null;
    paint();
    const q = new URLSearchParams({ service: state.service, date: day, channel: state.channel });
    const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/availability?${q}`);
    if (state.day !== day) return;
    state.slots = r.ok ? r.data : { error: r.data?.code ?? r.status };
    paint();
  }

  function choose(kind, value) {
    state[kind] = value;
    state.chosen = null;
    state.key = randomId();
    load(state.day ?? localDay(env.now(), tz));
  }

  function paint() {
    t = layeredTranslator(withTerms(STRINGS), lang());
    setText($('book-open'), t('book_open'));
    setText($('book-title'), t('book_title'));
    setText($('book-how-label'), t('book_how'));
    replaceChildren($('book-how'), [['phone', 'how_phone'], ['window', 'how_desk']].map(([ch, key]) => h('button', {
      type: 'button', class: 'btn', dataset: { channel: ch }, onclick: () => choose('channel', ch),
    }, t(key))), lang());
    for (const b of $('book-how').children) b.setAttribute('aria-pressed', String(b.dataset.channel === state.channel));
    setText($('book-svc-label'), t('book_service'));
    replaceChildren($('book-services'), services.map((s) => h('button', {
      type: 'button', class: 'btn', dataset: { service: s.id }, onclick: () => choose('service', s.id),
    }, h('span', { class: 'svc-prefix-sm' }, s.prefix), nameIn(s.name, lang()))), lang());
    for (const b of $('book-services').children) b.setAttribute('aria-pressed', String(b.dataset.service === state.service));
    setText($('book-when-label'), t('book_when'));
    const today = localDay(env.now(), tz);
    if (state.day) {
      paintDayNav({ prev: $('book-prev'), next: $('book-next'), name: $('book-day'), label: $('book-date-label'), input: $('book-date') },
        { day: state.day, today, horizonDays: policy.horizon_days, t, lang: lang() });
    }
    let body;
    if (state.slots === null) body = [h('p', { class: 'muted' }, t('move_loading'))];
    else if (!Array.isArray(state.slots)) body = [h('p', { class: 'b-error' }, t('move_failed', { code: state.slots.error }))];
    else {
      const free = state.slots.filter((s) => s.remaining > 0);
      body = free.length ? timeGroups(free, { lang: lang(), tz, nowMs: env.now(), t, resourceName, onPick: (s) => {
        state.chosen = s;
        paint();
        $('book-customer').focus();
      } }) : [h('p', { class: 'muted' }, t('move_none'))];
    }
    replaceChildren($('book-times'), body, `${lang()}|${state.channel}|${state.service}|${state.day}|${JSON.stringify(state.slots)}`);
    for (const b of $('book-times').querySelectorAll('.b-time')) b.setAttribute('aria-pressed', String(b.dataset.slot === state.chosen?.slot));
    setText($('book-chosen'), state.chosen ? t('book_chosen', { when: whenText(state.chosen), resource: resourceName(state.chosen.resource) }) : '');
    setText($('book-customer-label'), t('book_customer'));
    setText($('book-phone-label'), t('book_phone'));
    setText($('book-cancel'), t('cancel'));
    setText($('book-go'), t('book_go'));
  }

  function open() {
    // A new form each time: nothing of the last caller stays for the next.
    state.channel = 'phone';
    state.service = services.find((s) => env.me.services.includes(s.id))?.id ?? services[0].id;
    state.day = localDay(env.now(), tz);
    state.chosen = null;
    state.key = randomId();
    $('book-form').hidden = false;
    $('booked').hidden = true;
    $('book-customer').value = '';
    $('book-phone').value = '';
    setText($('book-error'), '');
    $('book-dialog').showModal();
    load(state.day);
  }

  async function submit(ev) {
    ev.preventDefault();
    const customer = $('book-customer').value.trim();
    const phone = $('book-phone').value.trim();
    if (!state.chosen) { setText($('book-error'), t('book_pick_time')); return; }
    if (!customer) { setText($('book-error'), t('book_need_customer')); $('book-customer').focus(); return; }
    setText($('book-error'), '');
    const body = { slot: state.chosen.slot, customer, channel: state.channel };
    if (phone) body.notify = phone;
    $('book-go').disabled = true;
    const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/bookings`, { method: 'POST', body, key: state.key });
    $('book-go').disabled = false;
    if (!r.ok) {
      const key = `e_${r.data?.code}`;
      if (key in STRINGS.en) {
        setText($('book-error'), t(key));
        if (['slot_full', 'channel_quota', 'slot_closed', 'resource_suspended'].includes(r.data.code)) {
          state.chosen = null;
          state.key = randomId();
          load(state.day);
        }
      } else env.toastError(r);
      return;
    }
    showBooked(r.data, phone);
  }

  function showBooked(b, phone) {
    $('book-form').hidden = true;
    $('booked').hidden = false;
    setText($('booked-site'), nameIn(site.name, lang()));
    setText($('booked-code-label'), t('booked_code'));
    setText($('booked-code'), `${b.code.slice(0, 3)} ${b.code.slice(3)}`);
    setText($('booked-service'), `${serviceName(b.service)} · ${resourceName(b.resource)}`);
    setText($('booked-when'), whenText(b));
    // On the phone there is no slip: the code is read out, a text carries the link.
    const byPhone = b.channel === 'phone';
    $('booked-qr').hidden = byPhone;
    $('booked-scan').hidden = byPhone;
    $('booked-print').hidden = byPhone;
    $('booked-read-out').hidden = !byPhone;
    const readOut = !phone ? 'booked_read_out' : env.sms ? 'booked_read_out_sms' : 'booked_read_out_nosms';
    setText($('booked-read-out'), byPhone ? t(readOut, { phone }) : '');
    if (!byPhone) $('booked-qr').src = `/qr.svg?data=${encodeURIComponent(new URL(b.manage, location.origin).href)}`;
    $('booked-qr').alt = t('booked_scan');
    setText($('booked-scan'), t('booked_scan'));
    setText($('booked-print'), t('print'));
    setText($('booked-done'), t('done'));
    $('booked-done').focus();
  }

  $('book-open').hidden = false;
  $('book-open').addEventListener('click', open);
  $('book-form').addEventListener('submit', submit);
  $('book-cancel').addEventListener('click', () => $('book-dialog').close());
  $('booked-done').addEventListener('click', () => $('book-dialog').close());
  $('booked-print').addEventListener('click', () => { document.body.classList.add('printing-slip'); window.print(); document.body.classList.remove('printing-slip'); });
  $('book-prev').addEventListener('click', () => load(addDays(state.day, -1)));
  $('book-next').addEventListener('click', () => load(addDays(state.day, 1)));
  $('book-date').addEventListener('change', (e) => { if (e.target.value) load(e.target.value); });
  paint();
  return paint;
}
