// What the board's big "Now calling" panel shows, as pure functions of the calls it was given
// and the clock (no DOM, no timers: board.js steps it).
//
// The panel used to show the newest call at once: two calls 0.8 s apart left the first on it
// for under a second, while the speech queue said it in full — a deaf patient, who reads the
// panel, missed the call a hearing one heard. So each call stays at least HERO_MIN_MS, and a
// burst waits its turn, oldest first, in step with the speech:
//   - while the announcer is still saying the call shown, it stays (up to HERO_HOLD_MAX_MS);
//   - a call the announcer went past (it is saying a later one) is not shown either;
//   - a queued call that may no longer be said (board-speech.js's silence(): superseded by a
//     newer call at its counter or for its ticket, answered, older than `speak_within_s`) is
//     passed over, so a long backlog catches up instead of running minutes late;
//   - the newest call is never passed over: the panel always ends on it.
// Once the queue is empty and the last call has had its time, the panel is idle and shows
// the board's latest call (heroCall), as after a reload — unless that call was withdrawn
// (parked to undo a wrong call, no-show, transferred, cancelled, called elsewhere): then the
// newest call that still stands, or none (board-state.js panelCall()).

export const HERO_MIN_MS = 5000;
export const HERO_HOLD_MAX_MS = 20000;

/** No call being paced. */
export function heroIdle() {
  return { shown: null, since: 0, queue: [] };
}

/** `call` (board-speech.js's queuedCall, with `key` and the event's `data`) waits its turn. */
export function heroPush(hero, call) {
  return { ...hero, queue: [...hero.queue, call] };
}

/**
 * The panel at `now`: the call shown keeps its place for HERO_MIN_MS, and longer while
 * `speakingKey` (what the announcer says now, or null) is its; then the next one in the queue
 * that `reasonAt(call, index, queue)` (silence(), or null to show it) lets through.
 * `gone(call)` (board-state.js withdrawn(): parked, no-show, transferred, cancelled, called
 * elsewhere, without being served) takes a call off at once, shown or queued, the newest
 * too: its minimum time is for reading a call, and a withdrawn one must not be read.
 */
export function heroStep(hero, now, { speakingKey = null, reasonAt = () => null, gone = () => false } = {}) {
  const kept = hero.queue.filter((c) => !gone(c));
  const shown = hero.shown && !gone(hero.shown) ? hero.shown : null;
  if (kept.length !== hero.queue.length || shown !== hero.shown) {
    hero = shown ? { ...hero, queue: kept } : { shown: null, since: 0, queue: kept };
  }
  if (hero.shown) {
    const age = now - hero.since;
    if (age < HERO_MIN_MS) return hero;
    if (speakingKey != null && speakingKey === hero.shown.key && age < HERO_HOLD_MAX_MS) return hero;
  }
  let queue = hero.queue;
  const saying = speakingKey == null ? -1 : queue.findIndex((c) => c.key === speakingKey);
  if (saying > 0) queue = queue.slice(saying); // the announcer passed over those before it
  while (queue.length > 1 && reasonAt(queue[0], 0, queue)) queue = queue.slice(1);
  if (!queue.length) return hero.shown ? heroIdle() : hero;
  return { shown: queue[0], since: now, queue: queue.slice(1) };
}

/**
 * The call for the panel: the one being paced, else the board's latest still standing
 * (board-state.js panelCall(): a withdrawn call is not shown, idle or not).
 */
export function heroCall(hero, lastCall) {
  return hero.shown ? hero.shown.data : lastCall;
}
