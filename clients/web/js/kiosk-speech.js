// The kiosk's speech mode, for blind and low-vision visitors (EN 301 549 5.1.3, WCAG 1.1.1 on a
// closed device: a public kiosk offers its content as speech). Off unless the visitor turns it
// on (the accessibility bar's "Speech" toggle), and off again when the kiosk goes back to its
// start for the next visitor. What to say is built here from what the screens show; kiosk.js
// says when (a screen shown, a button focused, "Repeat").
//
// The voice is the browser's own (Web Speech API), as the waiting-room board's (announcer.js),
// in the page's language (zh-CN or en). A ticket number is said as the board says it in a
// call: the number as printed ("A042"), inside the sentence, never spelt out another way, so a
// visitor hears the same thing at the kiosk and from the board. Every utterance is logged in
// `spoken` ({text, lang, result}), which tests read instead of listening.

export const SPEECH_LANGS = { zh: 'zh-CN', en: 'en' };

/** Whether this browser can speak at all (a kiosk's browser may have no Web Speech API). */
export function canSpeak(w = globalThis) {
  return Boolean(w.speechSynthesis && w.SpeechSynthesisUtterance);
}

/** Sentences as one text: each ends with a stop ("." or "。"), empty ones left out. */
export function sentences(parts, lang) {
  const stop = lang === 'zh' ? '。' : '.';
  return parts.map((p) => String(p ?? '').replace(/\s+/g, ' ').trim()).filter(Boolean)
    .map((p) => (/[.!?。！？…:：]$/.test(p) ? p : p + stop))
    .join(lang === 'zh' ? '' : ' ');
}

/**
 * What a control says when focused: its aria-label, else its text without what is hidden
 * from assistive technology (icons, the service letter) or in the other language (the second
 * name of a service, said in this language's voice, would be garbled); a toggle adds "on" or
 * "off"; a text field its label and what is typed, one character at a time (a code or a
 * phone number to check, not a word or an amount: "1 3 8", not "a hundred and thirty-eight").
 */
export function controlWords(el, t) {
  if (!el || el === document.body) return '';
  if (el.matches('input, textarea')) {
    const label = [...(el.labels ?? [])].map((l) => l.textContent).join(' ');
    return [label, spelt(el.value)].filter(Boolean).join(': ');
  }
  let words = el.getAttribute('aria-label') || visibleText(el, true);
  if (el.hasAttribute('aria-pressed') && !el.closest('.lang-switch')) {
    words = `${words}${comma()}${t(el.getAttribute('aria-pressed') === 'true' ? 'sp_on' : 'sp_off')}`;
  }
  return words;
}

/** "HD4 3ux" as said: "H D 4 3 U X" (spaces between the characters, none of its own). */
export function spelt(value) {
  return [...String(value ?? '').replace(/\s+/g, '')].join(' ');
}

const comma = () => (document.documentElement.lang.startsWith('zh') ? '，' : ', ');

function visibleText(el, top) {
  if (el.nodeType === Node.TEXT_NODE) return el.textContent.trim();
  if (el.nodeType !== Node.ELEMENT_NODE) return '';
  if (el.getAttribute('aria-hidden') === 'true' || el.hidden) return '';
  // The element's own lang is the one it is in (the language switch's buttons): kept.
  if (!top && el.hasAttribute('lang') && el.getAttribute('lang') !== document.documentElement.lang) return '';
  const inner = [...el.childNodes].map((c) => visibleText(c, false)).filter(Boolean);
  // Block-like pieces (a service's name, its waiting count) read as a list.
  return inner.join(el.children.length > 1 ? comma() : ' ');
}

/**
 * Where a ticket of `service` waits: the site's waiting areas (docs/configuration.md) that
 * hold a counter serving it, by name; none when the site has no areas for it.
 */
export function waitingAreas(site, service, nameOf) {
  const serving = new Set((site?.counters ?? []).filter((c) => c.services?.includes(service)).map((c) => c.id));
  return (site?.areas ?? []).filter((a) => a.counters.some((c) => serving.has(c))).map((a) => nameOf(a.name));
}

/** A list as said: "A, B or C" / "A、B或C". */
export function orList(items, t) {
  if (items.length < 2) return items[0] ?? '';
  return t('sp_or', { a: items.slice(0, -1).join(t('sp_list_sep')), b: items[items.length - 1] });
}

/**
 * The ticket as said after it is issued: its number (as the board says it), the service,
 * the people ahead, the estimate, any note, where to wait. `words`: {number, service, ahead,
 * estimate (text or null), notes, areas}.
 */
export function ticketWords({ number, service, ahead, estimate, notes = [], areas = [] }, t, lang) {
  return sentences([
    t('sp_ticket', { number }),
    service,
    ahead,
    estimate ? t('sp_estimate', { est: estimate }) : '',
    ...notes,
    areas.length ? t('sp_wait_in', { area: orList(areas, t) }) : t('sp_wait_any'),
    t('sp_repeat_hint'),
  ], lang);
}

/** The voice: says one text at a time in the page's language, a newer one cutting in. */
export class KioskVoice {
  constructor(w = globalThis) {
    this.w = w;
    this.on = false;
    this.spoken = [];
    this.last = ''; // the screen's words, for "Repeat"
  }

  get available() {
    return canSpeak(this.w);
  }

  /** Say `text` in `lang` (zh or en); `queue`: after what is being said, not instead. */
  say(text, lang, { queue = false } = {}) {
    if (!this.on || !text) return;
    const tag = SPEECH_LANGS[lang] ?? lang;
    const entry = { text, lang: tag, result: 'queued' };
    this.spoken.push(entry);
    if (this.spoken.length > 200) this.spoken.splice(0, this.spoken.length - 100); // runs for months
    if (!this.available) {
      entry.result = 'unsupported';
      return;
    }
    const synth = this.w.speechSynthesis;
    try {
      if (!queue) synth.cancel();
      const u = new this.w.SpeechSynthesisUtterance(text);
      u.lang = tag;
      const voice = (synth.getVoices?.() ?? []).find((v) => v.lang.toLowerCase().startsWith(lang));
      if (voice) u.voice = voice;
      u.rate = 0.9; // as the board's: slower than the default, for a noisy hall
      u.onend = () => { entry.result = 'end'; };
      u.onerror = (e) => { entry.result = e.error || 'error'; };
      synth.speak(u);
    } catch (err) {
      entry.result = String(err);
    }
  }

  /** A screen's words: said at once (cutting in), and kept for "Repeat". */
  screen(text, lang) {
    this.last = text;
    this.say(text, lang);
  }

  /** Speech off: what is being said stops. `last` (the words saying so, in `lang`) is said
   * first, cutting in, and left to finish. */
  stop(last, lang) {
    if (last && this.on) {
      this.say(last, lang);
      this.on = false;
      return;
    }
    this.on = false;
    try {
      if (this.available) this.w.speechSynthesis.cancel();
    } catch { /* nothing to stop */ }
  }
}
