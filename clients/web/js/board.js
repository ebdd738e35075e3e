// The display board (/board/{site}): a TV in the waiting room, read from ten metres.
// Current call per counter, the last calls, waiting per service with an estimate; a new call
// flashes and is announced (chime + speech in the site's languages), again on a recall.
// A call is said within `?speak_within_s=` (30 s) or not at all (board-speech.js).
import { Announcer } from './announcer.js';
import { queuedCall, silence, speakWithinMs } from './board-speech.js';
import { fitText, fitTile } from './board-fit.js';
import { heroCall, heroIdle, heroPush, heroStep } from './board-hero.js';
import { announcementsFor, boardArea, boardTopic, emptyBoard, forArea, panelCall, publicAccuracy, reduce, withdrawn } from './board-state.js';
import { Client } from './client.js';
import { icon } from './icons.js';
import { formatEstimate, formatTime, nameIn } from './i18n.js';
import { api, connectionBanner, errorScreen, h, language, layeredTranslator, params, readBoot, replaceChildren, setText, token } from './ui.js';
import { applySiteWords } from './vocabulary-boot.js';

// The board's own words (the shared ones are i18n.js's).
const STRINGS = {
  en: { err_unknown_area: 'This board is set to a waiting area the site does not have',
        unknown_area_fix: 'Check the area in the board’s address (?area=…) against the site’s areas.',
        // The panel with no call standing after calls today (the last one withdrawn).
        hero_waiting: 'Please wait for your number to be called' },
  zh: { err_unknown_area: '本屏幕设置的候诊区在本站点中不存在',
        unknown_area_fix: '请核对屏幕地址中的候诊区（?area=…）与站点设置的候诊区。',
        hero_waiting: '请留意叫号' },
};

const boot = readBoot();
const { lang } = language(boot, { preferBrowser: false });
const t = layeredTranslator(STRINGS, lang);
const site = boot.site;
const tz = site?.timezone;
// The other language of a bilingual site, shown smaller under the main one.
const second = (site?.languages ?? []).map((l) => l.split('-')[0]).find((l) => l !== lang && (l === 'zh' || l === 'en'));
const t2 = second ? layeredTranslator(STRINGS, second) : null;
// Judge announcement validity on the server's clock: a TV's own clock is often wrong.
const skewMs = boot.server_ms ? boot.server_ms - Date.now() : 0;
const serverNow = () => Date.now() + skewMs;
const FLASH_MS = 9000;
const SPEAK_WITHIN_MS = speakWithinMs(params.get('speak_within_s'));

// A waiting room's board (`?area=wr1`, the site's `areas`): its counters' tiles, calls and
// speech only, from the area's own topic (board:{site}:{area}, with the area's own recent
// calls). A display token minted for one area shows that area, whatever `?area=` says.
const AREA = boardArea(params.get('area'), token);
const AREA_ID = AREA.id;
const findArea = () => (AREA_ID ? (site?.areas ?? []).find((a) => a.id === AREA_ID) ?? null : null);
let area = findArea();
const areaCounters = () => (area ? new Set(area.counters) : null);

const $ = (id) => document.getElementById(id);
let state = emptyBoard();
let flashUntil = 0;
let flashKey = '';
// The "Now calling" panel's pace (board-hero.js): each call on it for 5 s at least.
let hero = heroIdle();
let heroFlashKey = '';
let heroFlashUntil = 0;
let speaking = null; // the key of the call the announcer is saying

function bi(key, vars) {
  return [h('span', { class: 'l1' }, t(key, vars)), t2 ? h('span', { class: 'l2', lang: second }, t2(key, vars)) : null];
}

function biName(name, fix = (x) => x) {
  const a = nameIn(name, lang);
  const b = second ? nameIn(name, second) : '';
  return [h('span', { class: 'l1' }, fix(a)), b && b !== a ? h('span', { class: 'l2', lang: second }, fix(b)) : null];
}

// A counter's name on the board with its number kept on the line of the word before it
// ("Registration 1" wraps before "Registration", never before its "1").
const keepNumber = (name) => name.replace(/ (\S{1,4})$/, '\u00a0$1');

function counterName(id) {
  const c = state.counters.find((x) => x.id === id) ?? site.counters.find((x) => x.id === id);
  return c?.name ?? id;
}

function renderStatic() {
  document.title = `${nameIn(site.name, lang)} · ${t('board_title')}`;
  setText($('site-name'), nameIn(site.name, lang));
  // The second language in an element of its own lang: screen readers switch voice for it.
  // An area's board names its room first: "Waiting room 1 · Display board".
  const title = (tr, l) => (area ? `${nameIn(area.name, l)} · ${tr('board_title')}` : tr('board_title'));
  $('site-sub').replaceChildren(title(t, lang), ...(second ? [' · ', h('span', { lang: second }, title(t2, second))] : []));
  // bi() holds a null without a second language: ui.js's replaceChildren drops it (the DOM's
  // own would write it out as the text "null").
  replaceChildren($('hero-title'), bi('now_calling'));
  replaceChildren($('counters-title'), bi('counters'));
  replaceChildren($('recent-title'), bi('recent'));
  replaceChildren($('services-title'), bi('waiting_title'));
}

// The hero's line in the second language: the call's announcement text, or (a call from an
// older server's snapshot, which had none) "please go to" and the counter in that language.
function secondLine(c) {
  return c.announcement?.[second] ?? `${t2('please_go')} ${nameIn(c.counter_name ?? counterName(c.counter), second)}`;
}

function renderHero() {
  const c = heroCall(hero, panelCall(state));
  const el = $('hero');
  // The hero is an assertive live region: rebuilt only for another call (or a recall), never
  // when just the flash ends, or a screen reader says the same call again.
  // "No calls yet" would be wrong once calls were made today (the last one withdrawn).
  const idle = state.recent.length ? 'hero_waiting' : 'no_calls';
  const key = c ? `${c.number}|${c.counter}|${c.at}|${c.type}` : `none|${idle}`;
  if (!c) {
    replaceChildren(el, [h('p', { class: 'hero-empty' }, t(idle))], key);
    return;
  }
  const flashing = heroFlashUntil > Date.now() && heroFlashKey === `${c.number}|${c.at}`;
  el.classList.toggle('flash', flashing);
  replaceChildren(el, [
    h('div', { class: 'hero-number num' }, c.number),
    h('div', { class: 'hero-side' },
      h('div', { class: 'hero-go' }, icon('arrow', 'icon hero-arrow'), t('please_go')),
      h('div', { class: 'hero-counter' }, keepNumber(nameIn(c.counter_name ?? counterName(c.counter), lang))),
      second ? h('p', { class: 'hero-second', lang: second }, secondLine(c)) : null),
    c.type === 'recalled' ? h('span', { class: 'badge badge-recall' }, t('recall')) : null,
  ], key);
}

function counterStatus(c) {
  if (c.state === 'closed') return ['closed', t('state_closed')];
  if (c.state === 'paused') return ['paused', t('state_paused')];
  if (!c.current) return ['free', t('free')];
  return c.current.status === 'serving' ? ['serving', t('st_serving')] : ['called', t('st_called')];
}

function renderCounters() {
  const list = $('counters');
  const n = state.counters.length;
  list.style.setProperty('--cols', n <= 6 ? 3 : n <= 16 ? 4 : n <= 25 ? 5 : 6);
  document.querySelector('.b-main').classList.toggle('many', n > 6); // the hero gives them room
  const items = state.counters.map((c) => {
    const [kind, label] = counterStatus(c);
    const fresh = c.current && flashUntil > Date.now() && flashKey === `${c.current.number}|${c.current.at}`;
    return h('li', { class: `counter-tile st-${kind}${fresh ? ' flash' : ''}`, dataset: { counter: c.id } },
      h('div', { class: 'ct-name' }, ...biName(c.name ?? counterName(c.id), keepNumber)),
      h('div', { class: 'ct-number num' }, c.current ? c.current.number : '—'),
      h('div', { class: 'ct-state' }, label));
  });
  list.replaceChildren(...items);
}

function renderRecent() {
  const items = state.recent.slice(0, 8).map((r, i) => h('li', { class: `recent-row${i === 0 ? ' latest' : ''}` },
    h('span', { class: 'rr-number num' }, r.number),
    h('span', { class: 'rr-counter' }, ...biName(counterName(r.counter), keepNumber)),
    h('span', { class: 'rr-time num' }, formatTime(r.at, lang, tz))));
  $('recent').replaceChildren(...(items.length ? items : [h('li', { class: 'recent-empty' }, t('no_calls'))]));
}

// An area's board: the services its counters serve (another room's queue is not news here).
function areaServices() {
  if (!area) return state.services;
  const served = new Set(site.counters.filter((c) => area.counters.includes(c.id)).flatMap((c) => c.services ?? []));
  return state.services.filter((s) => served.has(s.id));
}

function renderServices() {
  const items = areaServices().map((s) => h('li', { class: 'svc-card' },
    h('div', { class: 'svc-head' }, h('span', { class: 'svc-prefix', 'aria-hidden': 'true' }, s.prefix ?? ''),
      h('span', { class: 'svc-name' }, ...biName(s.name ?? s.id))),
    h('div', { class: 'svc-figures' },
      h('span', { class: 'svc-waiting num' }, String(s.waiting ?? 0)),
      h('span', { class: 'svc-unit' }, t('n_waiting', { n: '' }).trim())),
    h('div', { class: 'svc-est' }, h('span', { class: 'svc-est-label' }, t('est_wait')),
      h('span', { class: 'svc-est-value num' }, formatEstimate(s.estimate, lang)))));
  $('services').replaceChildren(...items);
}

// The footer says when the board last heard from the server (in the site's time), which a
// patient can judge; the stream position stays in a tooltip and data attribute for engineers.
let updatedAt = 0;
function renderFooter() {
  const el = $('offset');
  setText(el, updatedAt ? t('updated_at', { time: formatTime(updatedAt, lang, tz, true) }) : '');
  el.title = state.offset ? `${state.epoch} · ${state.offset}` : '';
  document.body.dataset.offset = state.offset ?? '';
}

// Counter names on the board (where a patient must go): wrapped and fitted; only in a tile,
// and only when nothing else helps, is a name cut with "…" (board-fit.js). The site's name too.
function fitNames() {
  // The site's name on its one line (a long one shrinks before it is cut with "…").
  fitText($('site-name'), { lines: 1, min: 0.6 });
  const hero = $('hero');
  const side = hero.querySelector('.hero-side');
  if (side) {
    // The side (go to / counter / second language) must stay inside the hero's box.
    const fits = () => {
      const cs = getComputedStyle(hero);
      const room = hero.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
      return side.getBoundingClientRect().height <= room + 0.5;
    };
    const second = side.querySelector('.hero-second');
    if (second) second.style.fontSize = '';
    fitText(side.querySelector('.hero-counter'), { lines: 2, fits });
    fitText(second, { lines: 2, fits });
  }
  for (const el of document.querySelectorAll('#recent .rr-counter > span')) fitText(el, { lines: 2, min: 0.6 });
  for (const tile of document.querySelectorAll('#counters .counter-tile')) fitTile(tile);
}

function render() {
  renderHero();
  renderCounters();
  renderRecent();
  renderServices();
  renderFooter();
  fitNames();
}

function renderSound(a) {
  document.body.dataset.sound = a.sound;
  const chip = $('sound-chip');
  const on = a.sound === 'on';
  chip.className = `chip ${on ? 'chip-ok' : 'chip-warn'}`;
  const text = on ? (a.voice === 'none' ? t('chime_only') : t('sound_on')) : t('sound_off');
  replaceChildren(chip, [icon(on ? (a.voice === 'none' ? 'bell' : 'sound') : 'mute'), text], text);
  $('sound-gate').hidden = a.sound !== 'blocked';
}

// A board set to an area the site does not have says so, rather than show every room's
// calls; it looks again every minute (the area may be added, or the address corrected).
function unknownArea() {
  errorScreen(document.getElementById('app'), t, { code: 'unknown_area' });
  const screen = document.querySelector('.error-screen');
  screen?.append(
    ...(second ? [h('p', { class: 'error-second', lang: second }, t2('err_unknown_area'))] : []),
    h('p', { class: 'muted' }, `?area=${AREA_ID}`),
    h('p', {}, t('unknown_area_fix')));
  document.body.dataset.area = 'unknown';
  areaGone = true;
  setTimeout(() => window.location.reload(), 60_000);
}

let areaGone = false;
function onMessage(raw) {
  if (areaGone) return; // the error screen stays until the reload
  if (raw.op === 'error') {
    errorScreen(document.getElementById('app'), t, raw);
    return;
  }
  if (raw.type === 'site' && raw.data?.site) {
    Object.assign(site, raw.data.site);
    applySiteWords(raw.data.site); // its words too: the redraw below speaks them
    area = findArea();
    if (AREA_ID && !area) {
      unknownArea();
      return;
    }
  }
  const msg = forArea(raw, areaCounters());
  state = reduce(state, msg);
  // The site was changed (docs/protocol.md `site`): its name, its services and their names
  // (counters come with the message, or with the state that ends a resume).
  if (msg.type === 'site' && msg.data?.site) {
    const waiting = msg.data.waiting ?? {};
    state = { ...state, services: site.services.map((s) => ({ ...(state.services.find((x) => x.id === s.id) ?? {}), ...s, ...(waiting[s.id] ?? {}) })) };
    renderStatic();
  }
  updatedAt = serverNow();
  const items = announcementsFor(msg, serverNow(), site.languages);
  if (items.length) {
    flashKey = `${msg.data.number}|${msg.data.at}`;
    flashUntil = Date.now() + FLASH_MS;
    setTimeout(render, FLASH_MS + 50);
    const call = queuedCall(msg.data, items, serverNow());
    hero = heroPush(hero, { ...call, key: flashKey, data: { ...msg.data, type: msg.type } });
    announcer.announce(items, { key: flashKey, call });
  }
  // The day's calls left the screen: so do those waiting for the panel.
  if (msg.type === 'day_closed') hero = heroIdle();
  stepHero();
  render();
}

// The panel's next call, when the one on it has had its time (board-hero.js).
function stepHero() {
  const before = hero.shown?.key ?? null;
  const judge = (call, index, queue) => silence(call, { queue, index, now: serverNow(), maxAgeMs: SPEAK_WITHIN_MS, current });
  // A call withdrawn at its counter (parked, no-show, …) leaves the panel at once; the voice
  // drops it too (board-speech.js: no longer waiting at its counter, `answered`).
  const gone = (call) => withdrawn(state, call.data);
  hero = heroStep(hero, Date.now(), { speakingKey: announcer?.busy ? speaking : null, reasonAt: judge, gone });
  const now = hero.shown?.key ?? null;
  if (now && now !== before) {
    heroFlashKey = now;
    heroFlashUntil = Date.now() + FLASH_MS;
    setTimeout(renderHeroFitted, FLASH_MS + 50);
  }
  return now !== before;
}

function renderHeroFitted() {
  renderHero();
  fitNames();
}

// A waiting call is said only while it is news: recent, the newest for its counter and
// ticket, and still waiting at the counter on the board.
const current = (id) => state.counters.find((c) => c.id === id)?.current;

let announcer;
if (!site || boot.error) {
  errorScreen(document.getElementById('app'), t, boot.error ?? { code: 'unknown_site' });
} else if (AREA_ID && !area) {
  unknownArea();
} else {
  renderStatic();
  render();
  // A TV's size rarely changes, but a window (or a font arriving late) does: fit again.
  let refit = 0;
  window.addEventListener('resize', () => { cancelAnimationFrame(refit); refit = requestAnimationFrame(fitNames); });
  document.fonts?.ready.then(fitNames);
  // What the announcer lets through is what it says next (it asks in order, and says the first
  // let through): the panel keeps that call up while it is said.
  const judge = (call, ctx) => {
    const why = silence(call, { ...ctx, maxAgeMs: SPEAK_WITHIN_MS, current });
    if (!why && announcer?.sound === 'on') speaking = call.key ?? null;
    return why;
  };
  announcer = new Announcer({ now: serverNow, onChange: renderSound, judge });
  setInterval(() => { if (stepHero()) renderHeroFitted(); }, 250);
  renderSound(announcer);
  const enable = () => { if (announcer.sound !== 'on') announcer.enable(); };
  $('gate-btn').addEventListener('click', enable);
  document.addEventListener('pointerdown', enable);
  document.addEventListener('keydown', enable);
  $('gate-icon').replaceChildren(icon('mute'));
  setText($('gate-title'), t('enable_sound_title'));
  setText($('gate-text'), t('enable_sound'));
  setText($('gate-btn'), t('enable_sound_btn'));

  const client = new Client({ token });
  const banner = connectionBanner(client, () => t, { timeZone: tz });
  // In the layout, under the header: the board's own data must stay readable while offline.
  $('app').insertBefore(banner.el, $('sound-gate'));
  client.subscribe(boardTopic(site.id, AREA_ID), onMessage);
  client.start();

  // Published accuracy: how often today's estimates held, only once it means something
  // (board-state.js publicAccuracy(): enough calls scored, no figure to alarm a waiting room).
  // The supervisor's pages show the raw figures always.
  const accuracy = async () => {
    try {
      const res = await api(`/v1/sites/${encodeURIComponent(site.id)}/stats`);
      const pct = publicAccuracy(res.ok ? res.data?.accuracy : null);
      setText($('accuracy'), pct == null ? '' : t('accuracy_today', { pct }));
    } catch { /* offline or not allowed: the banner already says so */ }
  };
  accuracy();
  setInterval(accuracy, 60_000);

  const tick = () => setText($('clock'), formatTime(serverNow(), lang, tz, true));
  tick();
  setInterval(tick, 1000);

  // What tests (and curious engineers) read: what was said, and what is shown.
  window.switchboardBoard = {
    get spoken() { return announcer.spoken.map((s) => ({ ...s })); },
    get skipped() { return announcer.skipped.map((s) => ({ ...s })); },
    get state() { return state; },
    get hero() { return { shown: hero.shown?.data ?? null, queued: hero.queue.map((c) => c.data.number) }; },
    get area() { return area?.id ?? null; },
    get areaLocked() { return AREA.locked; },
    get offset() { return state.offset; },
    get epoch() { return state.epoch; },
    get sound() { return announcer.sound; },
    client,
    announcer,
    lang,
  };
}
