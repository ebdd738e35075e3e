// The kiosk's check-in and ticket screens go back to the start by themselves, so that the next
// person does not see the last one's code or ticket; WCAG 2.2.1 (timing adjustable) asks that
// whoever is still there be warned first, with at least 20 s to ask for more time, as often as
// they like. The start screen's timer has no warning: it only puts back the kiosk's defaults.
// Pure: the page reads the clock and passes `now` (ms) in, so tests run the whole minute at once.

export const RETURN_AFTER_S = 45;
export const WARN_BEFORE_S = 20;

/** A timer that ends `returnS` after `now`, its warning `warnS` before the end (0: none). */
export function idleTimer(now, returnS = RETURN_AFTER_S, warnS = WARN_BEFORE_S) {
  return { returnS, warnS, warnAt: now + (returnS - warnS) * 1000, end: now + returnS * 1000, warned: false };
}

/** A touch, a key or "More time": the whole time again, from `now`. */
export function stillHere(timer, now) {
  return idleTimer(now, timer.returnS, timer.warnS);
}

/**
 * The timer at `now`: {timer, phase: 'running' | 'warning' | 'expired', left: whole seconds}.
 * The end never comes before the warning has been up for `warnS`: one opened late (a busy
 * machine, a page that slept) moves the end out rather than give less time to answer.
 */
export function idleAt(timer, now) {
  let t = timer;
  if (!t.warned && now >= t.warnAt) t = { ...t, warned: true, end: Math.max(t.end, now + t.warnS * 1000) };
  const phase = !t.warned ? 'running' : now >= t.end ? 'expired' : 'warning';
  return { timer: t, phase, left: Math.max(0, Math.ceil((t.end - now) / 1000)) };
}
