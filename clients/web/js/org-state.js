// The enterprise dashboard's figures, as pure functions of the `org:{id}` view
// (docs/protocol.md) and the day's KPIs: the tiles (a day's jobs by status), each batch's
// progress bar, the open jobs in the order a manager reads them (at risk first, then by ETA)
// and the alerts.

// A batch bar's segments, finished work first.
export const ORDER = ['done', 'on_site', 'en_route', 'assigned', 'offered', 'new', 'unassignable', 'failed', 'cancelled'];
const OPEN = new Set(['new', 'offered', 'assigned', 'en_route', 'on_site', 'unassignable']);

/** The whole view from a message, or null when the message only says what changed (replayed
 *  history after a resume: the current view follows it). */
export function viewOf(msg) {
  const d = msg?.data;
  return d && Array.isArray(d.jobs) && d.counts ? d : null;
}

/**
 * The five tiles. With `due` (the organisation's jobs due on the day shown, by status: the
 * `due` of GET /v1/orgs/{org}/kpis?date=) they count that day's jobs, and "at risk" those of
 * the view's at-risk jobs whose window ends that day (`onDay(ms)`); without, every job the
 * view counts (`counts`, all time).
 */
export function kpis(view, due = null, onDay = null) {
  const c = due ?? view?.counts ?? {};
  const sum = (keys) => keys.reduce((n, k) => n + (c[k] ?? 0), 0);
  const ends = new Map((view?.jobs ?? []).map((j) => [j.id, j.window_end_ms]));
  const risky = (view?.at_risk ?? []).filter((id) => !onDay || (ends.get(id) != null && onDay(ends.get(id))));
  return {
    total: sum(ORDER),
    open: sum([...OPEN]),
    // Driving to the job only: a technician on site is not "on the way" (the tile added
    // on-site jobs, so every technician at work showed as still on the road).
    onWay: c.en_route ?? 0,
    done: c.done ?? 0,
    risk: risky.length,
  };
}

/** [{status, n, share}] for a batch's bar (share of its size, 0..1), in ORDER. */
export function segments(counts, size) {
  const total = size || ORDER.reduce((n, k) => n + (counts?.[k] ?? 0), 0) || 1;
  return ORDER.filter((k) => counts?.[k]).map((k) => ({ status: k, n: counts[k], share: counts[k] / total }));
}

/** Open jobs: at risk first, then by ETA (no ETA last), then by id. */
export function sortJobs(jobs) {
  return [...(jobs ?? [])].sort((a, b) => (b.at_risk - a.at_risk)
    || (a.eta_ms ?? Infinity) - (b.eta_ms ?? Infinity) || String(a.id).localeCompare(String(b.id)));
}

/** Alerts for jobs at risk of missing their window: [{job, eta_ms, window_end_ms, late_min}]. */
export function alerts(view) {
  const byId = new Map((view?.jobs ?? []).map((j) => [j.id, j]));
  return (view?.at_risk ?? []).map((id) => {
    const j = byId.get(id) ?? { id };
    const late = j.eta_ms != null && j.window_end_ms != null ? Math.max(0, Math.ceil((j.eta_ms - j.window_end_ms) / 60000)) : null;
    return { job: id, eta_ms: j.eta_ms ?? null, window_end_ms: j.window_end_ms ?? null, late_min: late };
  }).sort((a, b) => (a.window_end_ms ?? Infinity) - (b.window_end_ms ?? Infinity));
}

/**
 * Job references people can read aloud and tell apart: id → the first 4 hex digits of its
 * tail ("city.j-8f2c91a0…" → "8F2C"), longer (6, 8, …) where two of `ids` share them. Four
 * digits alone collide in a fair share of 50-job batches, and two rows "E6F9" on one
 * dashboard are two jobs nobody can name.
 */
export function jobRefs(ids) {
  const tails = new Map([...new Set(ids ?? [])].map((id) => [id, String(id).split('.').pop().replace(/^j-/, '').toUpperCase()]));
  const refs = new Map();
  let left = [...tails.keys()];
  for (let n = 4; left.length; n += 2) {
    const count = new Map();
    for (const id of left) count.set(tails.get(id).slice(0, n), (count.get(tails.get(id).slice(0, n)) ?? 0) + 1);
    const next = [];
    for (const id of left) {
      const tail = tails.get(id);
      if (count.get(tail.slice(0, n)) === 1 || n >= tail.length) refs.set(id, tail.slice(0, n));
      else next.push(id);
    }
    left = next;
  }
  return refs;
}

// What the dashboard keeps of the technicians' way (`moves`, read by tests and engineers): a
// point each time a technician on the way is shown somewhere new, at most this many per job.
export const TRAIL_PER_JOB = 50;

/**
 * The trail after a view: `moves` ({job, technician, lat, lon}, oldest first) with a point
 * more for each technician of `onTheWay` shown at a new place, without the jobs no longer on
 * the way and with at most `perJob` points a job (the oldest go). A dashboard stays open for
 * weeks: a point per fix of every job ever driven to would grow for as long as it is open.
 */
export function trail(moves, onTheWay, perJob = TRAIL_PER_JOB) {
  const way = new Map((onTheWay ?? []).map((w) => [w.job, w]));
  const out = (moves ?? []).filter((m) => way.has(m.job));
  const last = new Map(out.map((m) => [m.job, m]));
  for (const w of way.values()) {
    const l = last.get(w.job);
    if (!l || l.lat !== w.lat || l.lon !== w.lon) out.push({ job: w.job, technician: w.technician, lat: w.lat, lon: w.lon });
  }
  const extra = new Map();
  for (const m of out) extra.set(m.job, (extra.get(m.job) ?? -perJob) + 1);
  return out.filter((m) => {
    const n = extra.get(m.job);
    if (n <= 0) return true;
    extra.set(m.job, n - 1);
    return false;
  });
}

/** Forget what `map` holds for ids not in `keep` (a Set): the jobs that left the view. */
export function forgetGone(map, keep) {
  for (const id of map.keys()) if (!keep.has(id)) map.delete(id);
  return map;
}
