// A phone texting the site (/phone/{site}): try text to join without an SMS gateway. The
// page plays both the person's phone and the gateway's adapter: what is typed is posted to
// POST /v1/sites/{site}/sms as the adapter would (its token is the link's: a partner of the
// site for the sms channel), the answer's `reply` is shown as the text back, and — in the
// demo, where no gateway is configured — the alerts the worker sends the number ("almost
// your turn", "your turn") are read from the demo's outbox every 2 s. docs/sms.md.
import './vocabulary-boot.js'; // the site's words, before this page draws any
import { fillTerms } from './vocabulary.js';
import { api, errorScreen, h, language, mountLangSwitch, readBoot, randomId, setText } from './ui.js';
import { formatTime, nameIn } from './i18n.js';

const STRINGS = {
  en: {
    title: 'Text to join', intro: 'This page is a phone texting the site: type what a {@client} would text (a service\'s letter, STATUS, CANCEL, STOP, HELP) and see what Switchboard texts back.',
    number: 'Phone number', new_number: 'Another phone', text: 'Message', send: 'Send',
    join: 'JOIN', status: 'STATUS', cancel: 'CANCEL', help: 'HELP',
    alerts_demo: 'Alerts ("almost your turn", "your turn") appear here when the worker runs (switchboard worker, as the demo\'s start-up text says).',
    alerts_none: 'Alerts go through the SMS gateway: only the demo shows them here.',
    ignored: 'Not answered: too many texts from this number in a minute.',
    failed: 'Not sent', you: 'You', site: 'Site', empty: 'No messages yet. Text a letter to take a ticket.',
    kinds: { almost: 'almost your turn', turn: 'your turn', moved: 'moved', cancelled_by_staff: 'cancelled', cancelled_day_closed: 'day closed', site_closed: 'closed for tickets', service_closed: 'service closed for tickets' },
  },
  zh: {
    title: '短信取号', intro: '本页模拟一部手机给机构发短信：输入{@client}会发的内容（服务字母、查询、取消、退订、帮助），查看 Switchboard 的回复。',
    number: '手机号码', new_number: '换一部手机', text: '短信内容', send: '发送',
    join: '取号', status: '查询', cancel: '取消', help: '帮助',
    alerts_demo: '"快到您了""到您了"等提醒会在后台任务运行时显示在这里（按演示启动说明运行 switchboard worker）。',
    alerts_none: '提醒通过短信网关发送，只有演示模式会显示在这里。',
    ignored: '未回复：这个号码一分钟内发送太多短信。',
    failed: '发送失败', you: '我', site: '机构', empty: '还没有短信。发送一个字母即可取号。',
    kinds: { almost: '快到您了', turn: '到您了', moved: '已转队', cancelled_by_staff: '已取消', cancelled_day_closed: '今日结束', site_closed: '不取号', service_closed: '该业务不取号' },
  },
};

const boot = readBoot();
const lang0 = language(boot);
let lang = lang0.lang;
const s = () => STRINGS[lang] ?? STRINGS.en;
const site = boot.site;
const $ = (id) => document.getElementById(id);
const POLL_MS = 2000;
const KEEP = 60;

const store = {
  get(key, fallback) { try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch { return fallback; } },
  set(key, value) { try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* private mode */ } },
};

function randomNumber() {
  const digits = [...crypto.getRandomValues(new Uint8Array(8))].map((b) => b % 10).join('');
  return `+86139${digits}`;
}

let number = store.get(`sb.phone.${site?.id}.number`, null) || randomNumber();
let thread = [];
let seen = new Set();

function load() {
  store.set(`sb.phone.${site.id}.number`, number);
  thread = store.get(`sb.phone.${site.id}.${number}`, []);
  seen = new Set(thread.filter((m) => m.id).map((m) => m.id));
}

function save() {
  thread = thread.slice(-KEEP);
  store.set(`sb.phone.${site.id}.${number}`, thread);
}

/** Text with its web addresses as links (built as nodes: nothing is parsed as HTML). */
export function linkify(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(/https?:\/\/\S+/g)) {
    out.push(text.slice(last, m.index));
    out.push(h('a', { href: m[0], target: '_blank', rel: 'noopener noreferrer' }, m[0]));
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out.filter((x) => x !== '');
}

function bubble(m) {
  const who = m.dir === 'out' ? s().you : nameIn(site.name, lang);
  const time = formatTime(m.at, lang, site.timezone); // the site's clock, not the device's
  const kind = m.kind ? s().kinds[m.kind] ?? m.kind : '';
  return h('li', { class: `p-msg p-${m.dir}${m.note ? ' p-system' : ''}`, dataset: m.kind ? { kind: m.kind } : undefined },
    h('span', { class: 'visually-hidden' }, `${who}: `),
    h('p', { class: 'p-text' }, ...linkify(m.text)),
    h('span', { class: 'p-meta muted' }, [kind, time].filter(Boolean).join(' · ')));
}

function renderThread() {
  const list = $('thread');
  if (!thread.length) {
    list.replaceChildren(h('li', { class: 'p-empty muted' }, s().empty));
    return;
  }
  list.replaceChildren(...thread.map(bubble));
  list.lastElementChild?.scrollIntoView({ block: 'end' });
}

function add(m) {
  thread.push({ at: Date.now(), ...m });
  save();
  renderThread();
}

function quickButtons() {
  // "JOIN E" / "取号 E": the reply then comes in the page's language (a bare "E" would get
  // the site's first language, as a real text does).
  const words = [...site.services.map((sv) => [`${s().join} ${sv.prefix}`, `${sv.prefix} ${nameIn(sv.name, lang)}`]),
    [s().status, s().status], [s().cancel, s().cancel], [s().help, s().help]];
  $('quick').setAttribute('aria-label', s().text);
  $('quick').replaceChildren(...words.map(([text, label]) => h('button', {
    type: 'button', class: 'btn p-chip', onclick: () => send(text),
  }, label)));
}

async function send(text) {
  setText($('error'), '');
  add({ dir: 'out', text });
  const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/sms`, {
    method: 'POST', body: { id: `web-${randomId()}`, from: number, text },
  });
  if (!r.ok) {
    const why = r.data?.message ?? r.status;
    setText($('error'), `${s().failed}: ${r.data?.code ?? ''} ${why}`.trim());
    return;
  }
  // Outside the site's issuing hours the reply says when it opens (docs/sms.md); marked so.
  const closed = ['site_closed', 'service_closed'].includes(r.data.kind) ? { kind: r.data.kind } : {};
  if (r.data.reply) add({ dir: 'in', text: r.data.reply, ...closed });
  else if (r.data.command === 'ignored') add({ dir: 'in', text: s().ignored, note: true });
}

async function poll() {
  if (!boot.demo || document.hidden) return;
  const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/sms/outbox?number=${encodeURIComponent(number)}`);
  if (!r.ok) return;
  let fresh = false;
  for (const n of r.data.messages ?? []) {
    if (seen.has(n.id)) continue;
    seen.add(n.id);
    // What a gateway sends: the text in the language the number wrote in, else the site's first.
    const text = n.text?.[n.lang] ?? n.text?.[site.languages?.[0]] ?? Object.values(n.text ?? {})[0] ?? '';
    thread.push({ id: n.id, dir: 'in', text, kind: n.kind, at: Date.parse(n.at) || Date.now() });
    fresh = true;
  }
  if (fresh) { save(); renderThread(); }
}

function render() {
  document.title = `${s().title} · ${nameIn(site.name, lang)}`;
  setText($('title'), s().title);
  setText($('site-name'), nameIn(site.name, lang));
  setText($('intro'), fillTerms(s().intro, lang)); // "patient" at a clinic, "visitor" elsewhere
  setText($('number-label'), s().number);
  setText($('new-number'), s().new_number);
  setText($('text-label'), s().text);
  setText($('send'), s().send);
  setText($('alerts-note'), boot.demo ? s().alerts_demo : s().alerts_none);
  $('text').placeholder = lang === 'zh' ? '例如：A、取号 儿科、查询' : 'e.g. A, JOIN Pharmacy, STATUS';
  quickButtons();
  renderThread();
}

function start() {
  if (boot.error || !site) {
    errorScreen($('app'), lang0.t, boot.error ?? { code: 'unknown_site' });
    return;
  }
  load();
  $('number').value = number;
  $('who').addEventListener('submit', (e) => e.preventDefault());
  $('number').addEventListener('change', () => {
    if (!$('number').checkValidity()) return;
    number = $('number').value.trim();
    load();
    renderThread();
  });
  $('new-number').addEventListener('click', () => {
    number = randomNumber();
    $('number').value = number;
    load();
    renderThread();
  });
  $('compose').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('text').value.trim();
    if (!text) return;
    $('text').value = '';
    send(text);
  });
  mountLangSwitch($('lang'), lang0, (l) => { lang = l; render(); });
  render();
  poll();
  setInterval(poll, POLL_MS);
}

start();
