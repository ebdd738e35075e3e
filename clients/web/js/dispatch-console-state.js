// The dispatcher console's pure parts: the region folded from its `region:` topic, open jobs
// grouped by status (unassignable first: they wait for a dispatcher), a technician's view
// folded from its `tech:` topic, the age of its last GPS fix, and the region's KPI tiles. No
// DOM, no clock of its own.

/** The order of the console's groups: what needs a dispatcher first, then by progress. */
export const GROUPS = ['unassignable', 'new', 'offered', 'assigned', 'en_route', 'on_site'];

/** Open jobs → [[status, jobs oldest first], …] in GROUPS order, empty groups left out. */
export function groupJobs(jobs) {
  const by = new Map(GROUPS.map((s) => [s, []]));
  for (const j of jobs ?? []) by.get(j.status)?.push(j);
  return GROUPS.map((s) => [s, by.get(s).sort((a, b) => (a.created_ms ?? 0) - (b.created_ms ?? 0))])
    .filter(([, list]) => list.length);
}

const OPEN = new Set(GROUPS);

/** The region as the console holds it ({jobs, techs: Map id → summary, kpis}) after one
 *  `region:` topic message: a snapshot (also a resync) replaces it all; an event carries only
 *  what changed (a job's row, technicians' summaries, moved ETAs, KPI tiles). A job that
 *  ended leaves the list. Returns a new state; `prev` is not changed. */
export function foldRegion(prev, msg) {
  const d = msg?.data ?? {};
  if (msg?.op === 'snapshot') {
    return { jobs: d.jobs ?? [], techs: new Map((d.techs ?? []).map((v) => [v.id, v])), kpis: d.kpis ?? null };
  }
  if (msg?.op !== 'event' || !prev) return prev;
  let jobs = prev.jobs;
  if (d.job) {
    jobs = jobs.filter((j) => j.id !== d.job.id);
    if (OPEN.has(d.job.status)) jobs.push(d.job);
  }
  if (d.etas) jobs = jobs.map((j) => (j.id in d.etas ? { ...j, eta_ms: d.etas[j.id] } : j));
  const techs = new Map(prev.techs);
  for (const v of d.techs ?? []) {
    if (v.removed) techs.delete(v.id);
    else techs.set(v.id, v);
  }
  return { jobs, techs, kpis: d.kpis ? { ...prev.kpis, ...d.kpis } : prev.kpis };
}

/** A technician's view after one `tech:` topic message (its snapshot and most events carry
 *  the whole state; `position` only the fix). Returns null when it was removed. */
export function foldTech(prev, msg) {
  const d = msg?.data ?? {};
  if (msg?.type === 'removed') return null;
  if (msg?.op === 'snapshot' || (msg?.op === 'event' && d.id)) {
    return { id: d.id, name: d.name, status: d.status, active_job: d.active_job ?? null, position: d.position ?? null };
  }
  if (msg?.op === 'event' && msg.type === 'position' && prev && d.lat != null) return { ...prev, position: d };
  if (msg?.op === 'event' && msg.type === 'status' && prev && d.status) return { ...prev, status: d.status };
  return prev;
}

/** How old a fix is, as a string key and a number for the translator: [key, n]. */
export function gpsAge(fixMs, nowMs) {
  if (fixMs == null) return ['dc_gps_never', 0];
  const s = Math.max(0, Math.round((nowMs - fixMs) / 1000));
  if (s < 90) return ['dc_gps_age_s', s];
  if (s < 90 * 60) return ['dc_gps_age_m', Math.round(s / 60)];
  return ['dc_gps_age_h', Math.round(s / 3600)];
}

const pct = (x) => (x == null ? '—' : `${Math.round(x * 100)} %`);

/** Utilisation at `nowMs` from the terms the region topic sends with the tiles
 *  (`utilisation_live`, dispatch/kpi.py `utilisation_terms`): on-job and online time at
 *  `at`, how many count on (a ms per ms each), and the starts still ahead. Exact until the
 *  next event changes the terms (its message brings new ones); null when nobody was online. */
export function utilisationAt(u, nowMs) {
  if (!u) return null;
  const dt = Math.max(0, nowMs - u.at);
  const ahead = (starts) => (starts ?? []).reduce((sum, s) => sum + Math.max(0, nowMs - s), 0);
  const on = u.on_ms + u.on_n * dt + ahead(u.on_later);
  const online = u.online_ms + u.online_n * dt + ahead(u.online_later);
  return online > 0 ? on / online : null;
}

/** `utilisation_live` for the local day of `nowMs` when no message came since: past its
 *  `day_end` (the region's next local midnight) a new day starts from 0, with whoever was
 *  still on a job or on shift counting on from midnight (dispatch/kpi.py `roll_terms`). */
export function rollTerms(u, nowMs) {
  let r = u;
  while (r && r.day_end != null && nowMs >= r.day_end) {
    const end = r.day_end;
    const next = r.next_day_end ?? end + 86400000;
    const started = (later) => (later ?? []).filter((s) => s <= end).length;
    r = {
      at: end, on_ms: 0, on_n: r.on_n + started(r.on_later), on_later: (r.on_later ?? []).filter((s) => s > end),
      online_ms: 0, online_n: r.online_n + started(r.online_later), online_later: (r.online_later ?? []).filter((s) => s > end),
      day: null, day_end: next, next_day_end: next + 86400000,
    };
  }
  return r;
}

/** The tiles for the local day of `nowMs`: the KPIs are per local day (the region topic's
 *  are today's), so past the day they were made for, with no message since, nothing is
 *  counted yet on the new one (counts 0, no means) and utilisation runs on from midnight. */
export function rollKpis(k, nowMs) {
  const u = k?.utilisation_live;
  if (!u || u.day_end == null || nowMs == null || nowMs < u.day_end) return k;
  return {
    ...k, day: null, jobs_created: 0, jobs_done: 0, dispatch_response_mean_s: null, on_time_rate: null,
    utilisation: null, empty_driving_share: null, km_driven: 0, utilisation_live: rollTerms(u, nowMs),
  };
}

/** The KPI tiles (the region topic's, or GET /v1/regions/{r}/kpis: one local day's) → [id,
 *  label key, value text]; utilisation as of `nowMs` when the terms for it came
 *  (`utilisation_live`), rolled over at local midnight (`rollKpis`). */
export function kpiTiles(k0, minutes, nowMs) {
  if (!k0) return [];
  const k = rollKpis(k0, nowMs);
  const util = k.utilisation_live && nowMs != null ? utilisationAt(k.utilisation_live, nowMs) : k.utilisation;
  return [
    ['created', 'dc_k_created', String(k.jobs_created ?? 0)],
    ['done', 'dc_k_done', String(k.jobs_done ?? 0)],
    ['response', 'dc_k_response', k.dispatch_response_mean_s == null ? '—' : minutes(Math.max(1, Math.round(k.dispatch_response_mean_s / 60)))],
    ['on_time', 'dc_k_on_time', pct(k.on_time_rate)],
    ['util', 'dc_k_util', pct(util)],
    ['empty', 'dc_k_empty', pct(k.empty_driving_share)],
    ['km', 'dc_k_km', (k.km_driven ?? 0).toFixed(1)],
  ];
}
