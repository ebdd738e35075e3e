// Sound for the display board: a chime (WebAudio, generated — no file to fetch) and the call
// spoken in each of the site's languages (Web Speech API), one call after another.
//
// Browsers block sound until someone interacts with the page. The announcer finds out
// (AudioContext stays "suspended", or speech fails with "not-allowed") and reports
// `sound: 'blocked'`, so the board can say so instead of failing silently; enable() — from a
// click or key press — unblocks it. Every utterance handed to speechSynthesis is logged in
// `spoken` ({text, lang, at, result}), which tests read instead of listening; every call
// passed over in `skipped` ({number, counter, reason, at}).
//
// Which waiting call to say next (and which never to say: too late, superseded, answered) is
// board-speech.js's; `judge` is its silence() with the board's own limit and state.
import { nextCall, silence } from './board-speech.js';

const SPEECH_TAGS = { zh: 'zh-CN', en: 'en-GB' };

export class Announcer {
  constructor({ now = () => Date.now(), onChange = () => {}, judge = silence } = {}) {
    this.now = now; // the server-corrected clock: validity is judged on the server's time
    this.onChange = onChange;
    this.judge = judge;
    this.spoken = [];
    this.skipped = [];
    this.queue = [];
    this.busy = false;
    this.voice = 'unknown'; // 'ok' once an utterance ended, 'none' when synthesis failed
    this.ctx = null;
    const AC = globalThis.AudioContext ?? globalThis.webkitAudioContext;
    try {
      this.ctx = AC ? new AC() : null;
    } catch {
      this.ctx = null;
    }
    this.sound = !this.ctx ? 'unsupported' : this.ctx.state === 'running' ? 'on' : 'blocked';
    this.ctx?.addEventListener?.('statechange', () => this.refresh());
    // Some browsers start "suspended" and run a moment later when autoplay is allowed.
    this.ctx?.resume?.().then(() => this.refresh(), () => this.refresh());
  }

  refresh() {
    const before = this.sound;
    if (this.ctx) this.sound = this.ctx.state === 'running' ? 'on' : 'blocked';
    if (before !== this.sound) this.onChange(this);
  }

  /** From a user gesture: resume audio and prime speech (which also needs one). */
  async enable() {
    try {
      await this.ctx?.resume();
    } catch { /* still blocked */ }
    try {
      if (globalThis.speechSynthesis) {
        const u = new SpeechSynthesisUtterance(' ');
        u.volume = 0;
        speechSynthesis.speak(u);
      }
    } catch { /* no speech */ }
    this.refresh();
    this.onChange(this);
  }

  /**
   * Queue one call: `items` [{lang, text, validUntil}], and `call` (board-speech.js's
   * queuedCall: number, counter, at) to judge it by. Passed over at its turn if it may no
   * longer be said.
   */
  announce(items, { key, call } = {}) {
    if (!items.length) return;
    this.queue.push({ number: null, counter: null, at: this.now(), ...call, items, key });
    this.pump();
  }

  reason(call, more) {
    return this.judge(call, { queue: this.queue, now: this.now(), ...more });
  }

  skip(call, reason) {
    this.skipped.push({ number: call.number, counter: call.counter, reason, at: new Date(this.now()).toISOString() });
    if (this.skipped.length > 400) this.skipped.splice(0, this.skipped.length - 200);
  }

  async pump() {
    if (this.busy) return;
    this.busy = true;
    try {
      for (;;) {
        const { next, dropped, rest } = nextCall(this.queue, (call, index) => this.reason(call, { index }));
        this.queue = rest;
        for (const d of dropped) this.skip(d.call, d.reason);
        if (!next) break;
        if (this.sound !== 'on') { // never saved up to be said late, once sound is back
          this.skip(next, 'muted');
          continue;
        }
        await this.chime();
        for (const item of next.items) {
          if (item.validUntil != null && item.validUntil <= this.now()) continue;
          // Its first language said, a newer call for the counter (or ticket) goes first.
          const why = this.reason(next, { started: true });
          if (why) {
            this.skip(next, why);
            break;
          }
          await this.say(item);
        }
      }
    } finally {
      this.busy = false;
    }
  }

  /** Two soft tones (E5 → C5), about a second. */
  chime() {
    const ctx = this.ctx;
    if (!ctx || ctx.state !== 'running') return Promise.resolve();
    const t0 = ctx.currentTime + 0.02;
    for (const [freq, start] of [[659.25, 0], [523.25, 0.42]]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t0 + start);
      gain.gain.exponentialRampToValueAtTime(0.5, t0 + start + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + start + 0.9);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t0 + start);
      osc.stop(t0 + start + 0.95);
    }
    return new Promise((resolve) => setTimeout(resolve, 1300));
  }

  say({ lang, text }) {
    const entry = { text, lang, at: new Date(this.now()).toISOString(), result: 'queued' };
    this.spoken.push(entry);
    if (this.spoken.length > 400) this.spoken.splice(0, this.spoken.length - 200); // a TV runs for months
    this.onChange(this);
    const synth = globalThis.speechSynthesis;
    if (!synth || !globalThis.SpeechSynthesisUtterance) {
      entry.result = 'unsupported';
      return Promise.resolve();
    }
    const u = new SpeechSynthesisUtterance(text);
    u.lang = SPEECH_TAGS[lang.split('-')[0]] ?? lang;
    const voice = synth.getVoices().find((v) => v.lang.toLowerCase().startsWith(lang.toLowerCase().split('-')[0]));
    if (voice) u.voice = voice;
    u.rate = 0.9;
    entry.speechLang = u.lang;
    return new Promise((resolve) => {
      // A speech engine that never answers must not stall the board's next call.
      const guard = setTimeout(() => done('timeout'), 2000 + text.length * 250);
      const done = (result) => {
        clearTimeout(guard);
        entry.result = result;
        if (result === 'not-allowed') { this.sound = 'blocked'; }
        if (result === 'end') this.voice = 'ok';
        if (result === 'synthesis-failed' || result === 'voice-unavailable') this.voice = 'none';
        this.onChange(this);
        resolve();
      };
      u.onend = () => done('end');
      u.onerror = (e) => done(e.error || 'error');
      try {
        synth.speak(u);
      } catch (err) {
        done(String(err));
      }
    });
  }
}
