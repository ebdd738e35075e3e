// A technician device's state, as pure functions of the `tech:{id}` messages
// (docs/protocol.md): reduce(state, msg) → new state; what is offered, what is next, what the
// technician can do now.
//
// Most messages carry the whole technician view (status, route with ETAs, open offers). Three
// do not: `offer` is compact for a wristband's 256-byte budget ({j, la, lo, w, d, dl, n, p}),
// `position` is the last accepted fix, and replayed history after a resume carries only what
// changed — the current view follows it. So a whole view replaces the state, and the others
// patch it.

export function emptyTech() {
  return { ready: false, view: null, offers: [], epoch: null, offset: null, last: null };
}

function isView(d) {
  return !!d && Array.isArray(d.route) && Array.isArray(d.offers) && 'status' in d;
}

function fromStop(stop) {
  if (!stop) return {};
  return { lat: stop.lat, lon: stop.lon, window: stop.window ?? null, duration_s: stop.duration_s,
           priority: stop.priority ?? 0, skills: stop.skills ?? [], customer: stop.customer ?? null,
           address: stop.address ?? null };
}

function sortOffers(offers) {
  return offers.sort((a, b) => (a.deadline ?? Infinity) - (b.deadline ?? Infinity) || String(a.job).localeCompare(String(b.job)));
}

/** The offers of a whole view, keeping details only a compact offer frame had. */
function offersOf(view, before) {
  return sortOffers(view.offers.map((o) => {
    const old = before.find((x) => x.job === o.job && x.n === o.n) ?? {};
    const stop = view.route.find((s) => s.job === o.job);
    return { ...old, ...fromStop(stop), job: o.job, n: o.n, deadline: o.deadline_ms ?? old.deadline ?? null };
  }));
}

/** A compact `offer` frame as an offer. */
export function compactOffer(d) {
  return { job: d.j, n: d.n, deadline: d.dl ?? null, lat: d.la, lon: d.lo, window: d.w ?? null,
           duration_s: d.d, priority: d.p ?? 0 };
}

export function reduce(state, msg) {
  if (msg.op !== 'snapshot' && msg.op !== 'event') return state;
  const d = msg.data ?? {};
  let s = { ...state, epoch: msg.epoch ?? state.epoch, offset: msg.offset ?? state.offset };
  if (isView(d)) {
    s = { ...s, ready: true, view: { ...d }, offers: offersOf(d, state.offers) };
  } else if (msg.type === 'offer' && d.j) {
    const stop = s.view?.route.find((x) => x.job === d.j);
    const offer = { ...fromStop(stop), ...compactOffer(d) };
    s = { ...s, offers: sortOffers([...s.offers.filter((o) => o.job !== d.j), offer]) };
    // The plan's route came first, with the job as it was before the offer (new): without
    // this the offer was also listed under "later today" as if it were planned work.
    if (stop) s.view = { ...s.view, route: s.view.route.map((x) => (x === stop ? { ...x, status: 'offered' } : x)) };
  } else if ((msg.type === 'offer_withdrawn' || msg.type === 'offer_expired') && d.job) {
    s = { ...s, offers: s.offers.filter((o) => o.job !== d.job) };
  } else if (msg.type === 'position' && s.view && d.lat != null) {
    s = { ...s, view: { ...s.view, position: { lat: d.lat, lon: d.lon, t: d.t } } };
  } else if (msg.type === 'status' && s.view && d.status) {
    s = { ...s, view: { ...s.view, status: d.status } };
  }
  if (msg.op === 'event' && msg.type !== 'position') {
    s.last = { type: msg.type, job: d.job ?? d.j ?? d.changed_job ?? null, reason: d.reason ?? null, offset: msg.offset };
  }
  return s;
}

/** Offers still open at `now` (server clock): the one to answer first comes first. */
export function openOffers(state, now) {
  return state.offers.filter((o) => o.deadline == null || o.deadline > now);
}

/** The job the technician works on or goes to next: the active one, else the first accepted
 *  stop of the route. null when there is none. */
export function nextStop(state) {
  const v = state.view;
  if (!v) return null;
  const jobs = v.route.filter((s) => s.job);
  return jobs.find((s) => s.job === v.active_job)
    ?? jobs.find((s) => ['assigned', 'en_route', 'on_site'].includes(s.status)) ?? null;
}

/** The stops after the next one, in order (offers and breaks included). */
export function laterStops(state) {
  const v = state.view;
  if (!v) return [];
  const next = nextStop(state);
  return v.route.filter((s) => s !== next && (!s.job || !['done', 'cancelled', 'failed'].includes(s.status)));
}

/** Jobs the technician has accepted and not yet started: what ending the shift hands back. */
export function plannedJobs(state) {
  return (state.view?.route ?? []).filter((s) => s.job && s.status === 'assigned');
}

/**
 * What the technician can do now, main action first: [{kind, job?, key}]. The server decides
 * (docs/dispatch transitions); this only offers what it would accept.
 */
export function actionsFor(state) {
  const v = state.view;
  if (!v) return [];
  const stop = nextStop(state);
  const out = [];
  if (v.status === 'offline') return [{ kind: 'online', key: 'o' }];
  if (stop?.status === 'assigned' && v.status === 'available') out.push({ kind: 'depart', job: stop.job, key: 's' });
  if (stop?.status === 'en_route') out.push({ kind: 'arrive', job: stop.job, key: 'r' });
  if (stop?.status === 'on_site') out.push({ kind: 'complete', job: stop.job, key: 'c' });
  if (stop && ['en_route', 'on_site'].includes(stop.status)) out.push({ kind: 'fail', job: stop.job, key: 'f' });
  if (v.status === 'available') out.push({ kind: 'break', key: 'b' });
  if (v.status === 'on_break') out.push({ kind: 'resume', key: 'b' });
  if (v.status === 'available' || v.status === 'on_break') out.push({ kind: 'offline', key: 'o' });
  return out;
}

/** Where a simulated device drives: the job it is on its way to (null when not driving). */
export function driveTarget(state) {
  const stop = nextStop(state);
  if (!stop || stop.status !== 'en_route' || stop.lat == null) return null;
  return { lat: stop.lat, lon: stop.lon, job: stop.job };
}
