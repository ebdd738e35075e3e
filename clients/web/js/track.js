// The customer's tracking page (/track/{job}), opened from the link sent when the job was
// booked: who is coming, where they are now on a map, when they will arrive. It shows only
// what the `job:{id}` topic gives a customer — the technician's first name, and a position
// while they are on their way or there — and updates itself.
import { Client } from './client.js';
import { bookedFor, customerEta, formatAt, formatWindow, personName, secondsAgo, serverClock, shortJob } from './dispatch.js';
import { formatTime, nameIn, translator } from './i18n.js';
import { distanceM, formatDistance, MapView } from './map.js';
import { connectionBanner, errorScreen, h, language, langSwitch, readBoot, replaceChildren, setText, token } from './ui.js';

const boot = readBoot();
const lang0 = language(boot);
let { lang, t } = lang0;
const jobId = boot.params?.job;
const region = boot.region;
const place = boot.place;
const tz = region?.timezone;
const now = serverClock(boot);
const $ = (id) => document.getElementById(id);

// Booked → technician assigned → on the way → arrived → done.
const STEPS = ['st_booked', 'st_assigned', 'st_on_way', 'st_arrived', 'st_done'];
const STEP_OF = { new: 0, offered: 0, unassignable: 0, assigned: 1, en_route: 2, on_site: 3, done: 4 };

let job = null;
let updatedAt = null;
let map = null;
const positions = []; // the technician's positions as shown, for tests and curious engineers

function techName(j) {
  return j?.technician?.name ? personName(j.technician.name, lang) : t('tr_someone');
}

function techPosition(j) {
  const tech = j?.technician;
  return tech && tech.lat != null ? { lat: tech.lat, lon: tech.lon, at: tech.at_ms } : null;
}

function render() {
  setText($('region-name'), nameIn(region?.name, lang) || 'Switchboard');
  document.title = `${t('track_title')} · ${shortJob(jobId)}`;
  if (!job) return;
  document.body.dataset.status = job.status;
  setText($('job-ref'), t('track_job', { ref: shortJob(jobId) }));
  // A visit booked for a later day is not "being looked for" yet: it waits for its day.
  setText($('headline'), bookedFor(job, lang, tz, now()) || t(`tr_${job.status}`, { name: techName(job) }));
  renderEta();
  renderMap();
  renderSteps();
  renderDetails();
  setText($('updated'), updatedAt ? t('updated', { time: formatTime(updatedAt, lang, tz, true) }) : '');
}

function renderEta() {
  const el = $('eta');
  const rows = [];
  if (['new', 'offered', 'assigned', 'en_route'].includes(job.status) && job.eta_ms) {
    rows.push(h('p', { class: 'tr-label' }, t('tr_eta_title')), h('p', { class: 'tr-eta-value num' }, customerEta(job, now(), lang, tz)));
  } else if (job.status === 'on_site' && job.arrived_ms) {
    rows.push(h('p', { class: 'tr-eta-value num' }, t('tr_arrived_at', { time: formatTime(job.arrived_ms, lang, tz) })));
  } else if (job.status === 'done' && job.ended_ms) {
    rows.push(h('p', { class: 'tr-eta-value num' }, t('tr_ended_at', { time: formatTime(job.ended_ms, lang, tz) })));
  }
  replaceChildren(el, rows, JSON.stringify([job.status, job.eta_ms, job.start_ms, job.window, job.arrived_ms, job.ended_ms, lang, Math.floor(now() / 30000)]));
  const reason = $('reason');
  // The service level's time when the page knows it: "nobody can reach you by 14:30".
  const by = job.reason === 'service_level' && job.due_ms ? formatAt(job.due_ms, lang, tz, now()) : '';
  const why = job.status === 'unassignable' && job.reason
    ? (by ? t('d_r_service_level_by', { time: by }) : t(`d_r_${job.reason}`)) : '';
  reason.hidden = !why;
  // Outside every zone nobody will come later either: no promise to let them know.
  const line = job.reason === 'outside_zones' ? 'tr_outside_why' : 'tr_unassignable_why';
  setText(reason, why && why !== `d_r_${job.reason}` ? t(line, { reason: why }) : '');
}

function renderMap() {
  const pos = techPosition(job);
  const home = place && place.lat != null ? place : null;
  // Once the technician is at the door, one marker says it all.
  const there = pos && home && distanceM(pos, home) < 60;
  map.update({
    lines: pos && home && !there ? [{ id: 'way', kind: 'crow', points: [pos, home] }] : [],
    jobs: home ? [{ id: 'home', lat: home.lat, lon: home.lon, kind: 'home', label: there ? '' : t('map_you'), title: t('map_you') }] : [],
    techs: pos ? [{ id: 'tech', lat: pos.lat, lon: pos.lon, label: techName(job), title: techName(job), kind: job.status }] : [],
  });
  const parts = [];
  if (pos && home) parts.push(t('tr_distance', { d: formatDistance(distanceM(pos, home), lang) }));
  if (pos?.at) {
    const s = secondsAgo(pos.at, now());
    parts.push(s < 120 ? t('tr_position_age', { s }) : t('tr_position_old', { time: formatTime(pos.at, lang, tz) }));
  }
  setText($('map-caption'), parts.join(' · '));
  map.setLabel(`${t('map_track')}${parts.length ? ` — ${parts.join(', ')}` : ''}`);
}

function renderSteps() {
  setText($('progress-title'), t('progress_label'));
  const at = STEP_OF[job.status];
  const ended = at === undefined; // cancelled or failed: no step is current
  const items = STEPS.map((key, i) => h('li', {
    class: `tr-step ${!ended && i < at ? 'done' : ''} ${!ended && i === at ? 'current' : ''}`,
    'aria-current': !ended && i === at ? 'step' : null,
  }, h('span', { class: 'tr-dot', 'aria-hidden': 'true' }), h('span', { class: 'tr-step-name' }, t(key))));
  replaceChildren($('steps'), items, `${job.status}|${lang}`);
  $('steps').classList.toggle('ended', ended);
}

function renderDetails() {
  const rows = [];
  if (job.window) rows.push([t('d_window'), formatWindow(job.window, lang, tz, now())]);
  if (place?.address) rows.push([t('d_address'), place.address]);
  // In the customer's words (the progress step), not the dispatch states ("Offered",
  // "Unassignable") a customer has no use for; cancelled and failed are plain words.
  const at = STEP_OF[job.status];
  rows.push([t('status'), at === undefined ? t(`d_js_${job.status}`) : t(STEPS[at])]);
  replaceChildren($('details'), rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))), JSON.stringify([rows]));
}

function onMessage(msg) {
  if (msg.op === 'error') {
    // The topic's "unknown_topic" names this page's own thing.
    errorScreen($('app'), t, msg.code === 'unknown_topic' ? { code: 'unknown_job' } : msg);
    return;
  }
  job = msg.data;
  updatedAt = Date.now();
  const pos = techPosition(job);
  const last = positions[positions.length - 1];
  if (pos && (!last || last.lat !== pos.lat || last.lon !== pos.lon)) positions.push(pos);
  render();
}

if (!region || boot.error || !jobId) {
  errorScreen($('app'), t, boot.error ?? { code: 'unknown_job' });
} else {
  const setLang = (l) => {
    lang = l;
    t = translator(l);
    lang0.remember(l);
    document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
    $('lang').replaceChildren(langSwitch(lang, t, setLang));
    render();
  };
  $('lang').replaceChildren(langSwitch(lang, t, setLang));
  setText($('map-title'), t('map_track'));
  map = new MapView($('map'), { label: t('map_track'), tiles: boot.map?.tiles, attribution: boot.map?.attribution, minSpanM: 1000 });
  render();
  const client = new Client({ token });
  const banner = connectionBanner(client, () => t, { timeZone: tz });
  document.body.prepend(banner.el);
  client.subscribe(`job:${jobId}`, onMessage);
  client.start();
  setInterval(() => job && (renderEta(), renderMap()), 5000); // "3 s ago", "in 12 min" stay honest
  window.switchboardTrack = { get job() { return job; }, positions, client };
}
