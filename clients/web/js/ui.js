// What every page shares: the boot block, the URL, DOM building, the HTTP API, the
// connection banner, the language switch and error screens.
import { UI_LANGS, formatTime, nameIn, pickLanguage, translator } from './i18n.js';

/** The JSON block the server filled in (realtime/pages.py). */
export function readBoot() {
  const el = document.getElementById('boot');
  try {
    return JSON.parse(el?.textContent || '{}');
  } catch {
    return {};
  }
}

// Pages staff use (their boot block's `page`). A link refused there is one the administrator
// made, so its words send the reader to them; public pages (board, kiosk, ticket…) say "ask
// staff".
export const STAFF_PAGES = new Set(['counter', 'supervise', 'setup', 'dispatch-console', 'tech', 'org']);

/** Whether this page is one staff use. */
export function staffPage(boot = readBoot()) {
  return STAFF_PAGES.has(boot?.page);
}

/** The site's (or dispatch region's) time zone, from the boot block: a page shows times in
 * it, not in the device's (kiosk and TV images often run in UTC). */
export function bootZone(boot = readBoot()) {
  return boot?.site?.timezone ?? boot?.region?.timezone;
}

/** A date and time in `timeZone` ("Monday 7 December 2026 at 20:03"; the device's zone if
 * that one is unknown to this browser). */
export function formatDateTime(ms, lang, timeZone, opts = { dateStyle: 'full', timeStyle: 'short' }) {
  const locale = lang === 'zh' ? 'zh-CN' : 'en-GB';
  try {
    return new Date(ms).toLocaleString(locale, { ...opts, timeZone });
  } catch {
    return new Date(ms).toLocaleString(locale, opts);
  }
}

export const params = new URLSearchParams(globalThis.location?.search ?? '');
export const token = params.get('token');

/** h('div', {class: 'x', onclick: fn}, child, 'text', …) → an element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

/** Replace el's children only when the content differs (keeps focus and screen readers calm). */
export function replaceChildren(el, children, key) {
  if (key !== undefined && el.dataset.key === key) return;
  el.replaceChildren(...children.filter((c) => c != null && c !== false));
  if (key !== undefined) el.dataset.key = key;
}

/** Language for this page, and a translator; stores a user's choice per page kind. */
export function language(boot, { preferBrowser = true } = {}) {
  const storeKey = `sb.lang.${boot.page}`;
  let stored = null;
  try { stored = localStorage.getItem(storeKey); } catch { /* private mode */ }
  const lang = pickLanguage({
    param: params.get('lang'), stored, browser: navigator.languages ?? [navigator.language],
    site: boot.site?.languages ?? ['zh', 'en'], preferBrowser,
  });
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  return { lang, t: translator(lang), remember: (l) => { try { localStorage.setItem(storeKey, l); } catch { /* ignore */ } } };
}

/** A 中文 / English switch; `onChange(lang)` re-renders. */
export function langSwitch(current, t, onChange) {
  const wrap = h('div', { class: 'lang-switch', role: 'group', 'aria-label': 'Language / 语言' });
  for (const [code, label] of [['zh', '中文'], ['en', 'EN']]) {
    wrap.append(h('button', {
      type: 'button', lang: code === 'zh' ? 'zh-CN' : 'en', 'aria-pressed': String(code === current),
      onclick: () => onChange(code),
    }, label));
  }
  return wrap;
}

/**
 * The page's language switch, mounted in `el`: a choice is remembered (`language`'s
 * `remember`), sets the document's language and calls `onChange(lang, t)` to re-render.
 */
export function mountLangSwitch(el, lang0, onChange) {
  const mount = (current) => {
    const had = el.contains(document.activeElement); // keyboard focus stays on the switch
    el.replaceChildren(langSwitch(current, translator(current), (l) => {
      lang0.remember(l);
      document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
      mount(l);
      onChange(l, translator(l));
    }));
    if (had) el.querySelector('[aria-pressed="true"]')?.focus();
  };
  mount(lang0.lang);
}

/** The "● Live / Connecting… / ● Offline" chip in `el`, following `client`; returns a
 * function that paints it again (in the language `getT` now gives). */
export function connectionChip(el, client, getT) {
  let status = 'connecting';
  const paint = () => {
    const t = getT();
    el.className = `chip ${status === 'online' ? 'chip-ok' : status === 'connecting' ? '' : 'chip-bad'}`;
    setText(el, status === 'online' ? `● ${t('live')}` : status === 'connecting' ? t('connecting') : `● ${t('offline')}`);
  };
  client.onState((s) => { status = s.status; paint(); });
  return paint;
}

/** Call the HTTP API. Resolves {ok, status, data}; never throws (network errors → status 0). */
export async function api(path, { method = 'GET', body, bearer = token, key, headers: extra } = {}) {
  const headers = { Accept: 'application/json', ...extra };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (key) headers['Idempotency-Key'] = key;
  try {
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    let data = null;
    try { data = await res.json(); } catch { /* empty body */ }
    return { ok: res.ok, status: res.status, data };
  } catch (err) {
    return { ok: false, status: 0, data: { code: 'network', message: String(err) } };
  }
}

/** A random id that works on plain http too (crypto.randomUUID needs a secure context). */
export function randomId() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * The connection banner: nothing while online; "offline since 14:03:12 — reconnecting…" once
 * the connection has been down for `graceMs` (a quick resume does not flash); a final
 * message when the link's token is refused.
 */
export function connectionBanner(client, getT, { timeZone, graceMs = 1000 } = {}) {
  // The banner is seen, with its countdown to the next try; it is not a live region, or
  // screen readers would read out every tick of that countdown. They hear `live` instead: a
  // polite region in the page from the start, told once per change (offline, refused, back).
  const el = h('div', { class: 'conn-banner', hidden: true });
  const msg = h('span', { class: 'conn-msg' });
  el.append(h('span', { class: 'conn-dot', 'aria-hidden': 'true' }), msg);
  const live = h('span', { class: 'visually-hidden conn-live', role: 'status', 'aria-live': 'polite' });
  document.body.append(live);
  let said = null;
  const say = (kind, text) => {
    if (said === kind) return;
    said = kind;
    setText(live, text);
  };
  let state = client.state;
  let timer = null;
  const staff = staffPage();
  let shownHeight = null;
  // In the page's flow (base.css), so at its top: a page that appended it to the body has it
  // moved there when it shows. Its height is --conn-h, for what must stay clear of it.
  const show = () => {
    el.hidden = false;
    const body = document.body;
    if (el.parentElement === body && body.firstElementChild !== el) body.prepend(el);
  };
  const render = () => {
    const t = getT();
    const lang = document.documentElement.lang.startsWith('zh') ? 'zh' : 'en';
    document.body.dataset.conn = state.status;
    if (state.status === 'denied') {
      show();
      el.className = 'conn-banner denied';
      const text = t(staff ? 'denied_staff' : 'denied');
      setText(msg, text);
      say('denied', text);
    } else if (state.status === 'offline' && Date.now() - state.since >= graceMs) {
      show();
      el.className = 'conn-banner offline';
      const time = formatTime(state.since, lang, timeZone, true);
      const s = state.retryAt ? Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000)) : 0;
      setText(msg, s >= 2 ? t('offline_retry', { time, s }) : t('offline_since', { time }));
      say('offline', t('offline_since', { time }));
    } else {
      el.hidden = true;
      if (said === 'offline' && state.status === 'online') say('online', t('reconnected'));
    }
    const height = el.hidden ? 0 : el.offsetHeight;
    if (height !== shownHeight) document.documentElement.style.setProperty('--conn-h', `${shownHeight = height}px`);
  };
  client.onState((s) => { state = s; render(); });
  timer = setInterval(render, 500);
  return { el, render, stop: () => clearInterval(timer) };
}

/** The languages an error screen uses when the page cannot know its site's (the site is
 * unknown, or the link was refused before the site was read): an explicit choice (?lang=,
 * or one made on this kind of page), else the browser's first language that is one of ours,
 * else Chinese; then the other one. */
export function errorLanguages(boot = readBoot()) {
  let stored = null;
  try { stored = localStorage.getItem(`sb.lang.${boot?.page}`); } catch { /* private mode */ }
  const browser = globalThis.navigator?.languages ?? [globalThis.navigator?.language];
  const first = pickLanguage({ param: params.get('lang'), stored, browser, site: ['zh', 'en'], preferBrowser: true });
  return [first, ...UI_LANGS.filter((l) => l !== first)];
}

/**
 * A whole-page error (bad link, unknown site): the page cannot work, so say why. `t` is the
 * page's translator; `tIn(lang)` gives it in another language (pages with words of their
 * own pass theirs). When the page has no site (or dispatch region) it cannot know which
 * language to speak, and whoever sets the device up may read either: the words are then in
 * both (errorLanguages). A refused link whose token has expired says so.
 */
export function errorScreen(root, t, error, tIn = translator) {
  const boot = readBoot();
  const refused = error?.code === 'unauthorized';
  // Expired by the server's clock when it rendered the page, or by this device's now.
  const expired = refused && token && (linkExpired(token) || linkExpired(token, boot?.server_ms ?? 0));
  const code = expired ? 'link_expired' : error?.code ?? 'generic';
  const staff = staffPage(boot);
  const words = (tr) => {
    const keys = [...((refused || expired) && staff ? [`err_${code}_staff`] : []), `err_${code}`];
    const key = keys.find((k) => tr(k) !== k);
    return key ? tr(key) : tr('err_generic', { code });
  };
  const attrs = (l) => ({ lang: l === 'zh' ? 'zh-CN' : 'en' });
  let lines;
  if (boot?.site || boot?.region) {
    lines = [h('h1', {}, words(t))];
  } else {
    const [first, second] = errorLanguages(boot);
    const own = document.documentElement.lang.startsWith('zh') ? 'zh' : 'en';
    const tr = (l) => (l === own ? t : tIn(l));
    lines = [h('h1', attrs(first), words(tr(first))),
      h('p', { ...attrs(second), class: 'error-second' }, words(tr(second)))];
  }
  root.replaceChildren(h('main', { class: 'error-screen', role: 'alert' },
    h('div', { class: 'error-icon', 'aria-hidden': 'true' }, '!'),
    ...lines,
    h('p', { class: 'muted' }, error?.code ?? code)));
}

/** A polite live region for short confirmations and errors ("Called A012"). With
 * `keepErrors` (a staff console), an error stays until it is dismissed (its close button,
 * labelled `dismissLabel()`, or the page's `show.dismiss()` at the next action), not gone
 * after 5 s while it was being read (WCAG 2.2.1). */
export function toaster(parent, { keepErrors = false, dismissLabel = () => '×' } = {}) {
  const el = h('div', { class: 'toast', role: 'status', 'aria-live': 'polite', hidden: true });
  parent.append(el);
  let timer = null;
  const hide = () => {
    clearTimeout(timer);
    el.hidden = true;
  };
  const show = (text, kind = 'ok') => {
    el.className = `toast ${kind}`;
    clearTimeout(timer);
    if (keepErrors && kind === 'error') {
      el.replaceChildren(h('span', { class: 'toast-text' }, text),
        h('button', { type: 'button', class: 'toast-close', 'aria-label': dismissLabel(), onclick: hide }, '×'));
    } else {
      el.textContent = text;
      timer = setTimeout(hide, kind === 'ok' ? 2500 : 5000);
    }
    el.hidden = false;
  };
  // Its element, for a page that takes back a message it showed (the console's Find).
  show.el = el;
  show.dismiss = hide;
  return show;
}

/** t(key, vars) over a page's own table ({en, zh}) first, then the shared one (i18n.js). */
export function layeredTranslator(own, lang) {
  const shared = translator(lang);
  const table = own[lang === 'zh' ? 'zh' : 'en'];
  return (key, vars = {}) => (key in table
    ? table[key].replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m))
    : shared(key, vars));
}

/** A token's claims (null: unreadable). Read, not verified: only to choose words and what
 * to offer; the server decides. */
export function tokenClaims(jwt) {
  try {
    const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(part.padEnd(Math.ceil(part.length / 4) * 4, '=')));
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}

/** When a link's token expires (its `exp`, in ms; null: none or unreadable). */
export function linkExpiresAt(jwt) {
  const exp = tokenClaims(jwt)?.exp;
  return typeof exp === 'number' ? exp * 1000 : null;
}

/** Whether a link's token has passed its `exp` (read, not verified: only to choose words). */
export function linkExpired(jwt, nowMs = Date.now()) {
  const exp = linkExpiresAt(jwt);
  return exp != null && exp <= nowMs;
}

// Console and floor-overview links last 30 days, all made on set-up day: in their last 3
// days a calm notice says when this one stops, so a new one is asked for before it does.
export const LINK_WARN_MS = 3 * 86_400_000;
const LONGEST_TIMEOUT_MS = 2 ** 31 - 1; // setTimeout's limit (~24.8 days)
const EXPIRY_FORMAT = { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };

/** A notice at the top of `parent`, shown from a link's last LINK_WARN_MS: "This link stops
 * working on <date and time in the site's zone> — ask your administrator for a new one", and
 * once that time has passed, "This link stopped working on …". Returns paint(t, lang), to
 * call on each render (and language change); it also paints itself when the notice is due
 * and when the link stops, as a page left open may not render then. */
export function mountLinkExpiry(parent, { jwt = token, now = () => Date.now(), timeZone = bootZone() } = {}) {
  const exp = jwt ? linkExpiresAt(jwt) : null;
  const el = h('p', { class: 'link-expiry', role: 'status', hidden: true });
  parent.prepend(el);
  let timer = null;
  const paint = (t, lang) => {
    clearTimeout(timer);
    const left = exp == null ? null : exp - now();
    const show = left != null && left <= LINK_WARN_MS;
    if (el.hidden === show) el.hidden = !show;
    // The next change of words: the notice's start, then the link's end.
    const next = left == null || left <= 0 ? null : left > LINK_WARN_MS ? left - LINK_WARN_MS : left;
    if (next != null) timer = setTimeout(() => paint(t, lang), Math.min(next + 50, LONGEST_TIMEOUT_MS));
    if (!show) return;
    const date = formatDateTime(exp, lang, timeZone, EXPIRY_FORMAT);
    setText(el, t(left > 0 ? 'link_expires_soon' : 'link_expired_at', { date }));
    el.lang = lang === 'zh' ? 'zh-CN' : 'en';
  };
  return paint;
}

export { nameIn };
