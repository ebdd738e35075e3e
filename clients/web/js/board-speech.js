// Which of the board's waiting announcements to say next, as a pure function of the queue,
// the clock and what the board shows now (no audio, no DOM: announcer.js does the saying).
//
// A board falls behind when calls come faster than it can speak them (a burst at opening
// time, a slow voice, a tab the browser throttled). Saying them all, late, is worse than
// saying fewer: "A042 to counter 3" two minutes after the fact sends a patient to a counter
// that has called someone else since. So, at each turn:
//   - a call older than `maxAgeMs` (by its server time) is not said: `late`;
//   - a call followed by a newer one at the same counter, or for the same ticket (a recall,
//     a call elsewhere), is not said: `superseded` — the newer one is, recalls included;
//   - a call the board no longer shows as waiting at its counter (the patient arrived and is
//     being served, the ticket was finished, parked — how a wrong call is undone —, a no-show,
//     transferred or cancelled) is not said: `answered` (checked again before each language);
//   - past the server's `valid_until_ms` (the site's `announce_ttl_s`): `expired`.
// The rest are said oldest first. What is shown on the screen is untouched: every call is
// listed there.

export const SPEAK_WITHIN_S = 30; // default age limit, `?speak_within_s=` on the board's URL
const LIMITS_S = [5, 600];

/** The age limit (ms) from the board URL's `speak_within_s`, the default when absent or bad. */
export function speakWithinMs(param) {
  const s = Number(param);
  if (param == null || param === '' || !Number.isFinite(s)) return SPEAK_WITHIN_S * 1000;
  return Math.min(LIMITS_S[1], Math.max(LIMITS_S[0], s)) * 1000;
}

/**
 * A call event's announcement as the queue holds it: `items` [{lang, text, validUntil}] to
 * say, and what decides whether to say it: `number`, `counter`, `at` (server ms).
 */
export function queuedCall(data, items, nowMs) {
  const at = Date.parse(data?.at ?? '');
  return { items, number: data?.number ?? null, counter: data?.counter ?? null,
           at: Number.isFinite(at) ? at : nowMs };
}

const sameCall = (a, b) => (a.counter != null && a.counter === b.counter) || (a.number != null && a.number === b.number);

/**
 * Why `call` (at `index` in `queue`) must not be said now, or null to say it. `current(id)` is
 * the board's current ticket at counter `id` ({number, status}, null when it serves nobody,
 * undefined when the board does not know the counter). `started`: the call is already being
 * said (its first language); then its age no longer counts, the rest of it is said.
 */
export function silence(call, { queue = [], index = -1, now, maxAgeMs, current = () => undefined, started = false }) {
  if (call.items.every((i) => i.validUntil != null && i.validUntil <= now)) return 'expired';
  if (queue.slice(index + 1).some((later) => sameCall(later, call))) return 'superseded';
  if (call.counter != null) {
    const cur = current(call.counter);
    if (cur !== undefined && (cur?.number !== call.number || cur.status !== 'called')) return 'answered';
  }
  if (!started && maxAgeMs != null && now - call.at > maxAgeMs) return 'late';
  return null;
}

/**
 * The next call to say from `queue` (oldest first) and those passed over before it, each with
 * its reason: {next, dropped: [{call, reason}], rest} (`rest`: the queue after `next`).
 * `reasonAt(call, index)` is silence() with the queue, clock and board filled in.
 */
export function nextCall(queue, reasonAt) {
  const dropped = [];
  for (let i = 0; i < queue.length; i += 1) {
    const reason = reasonAt(queue[i], i);
    if (!reason) return { next: queue[i], dropped, rest: queue.slice(i + 1) };
    dropped.push({ call: queue[i], reason });
  }
  return { next: null, dropped, rest: [] };
}
