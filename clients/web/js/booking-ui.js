// What the two booking pages draw alike: a day's free times as buttons, a group per doctor
// or room, and the "day before / day after" navigation with its date field.
import { addDays, dayLabel, whenLabel } from './booking-rules.js';
import { formatTime } from './i18n.js';
import { h, setText } from './ui.js';

/**
 * The free times `free` (in the order to show), a group per resource in order of first
 * appearance. `ctx`: {lang, tz, nowMs, t, resourceName(id), onPick(slot)}.
 */
export function timeGroups(free, ctx) {
  const { lang, tz, nowMs, t, resourceName, onPick } = ctx;
  const groups = new Map();
  for (const s of free) {
    if (!groups.has(s.resource)) groups.set(s.resource, []);
    groups.get(s.resource).push(s);
  }
  const button = (s) => {
    const full = `${whenLabel(s, lang, tz, nowMs, t)} · ${resourceName(s.resource)} · ${t('slot_left', { n: s.remaining })}`;
    // The whole label once: no title as well, which screen readers said again as its description.
    return h('button', { type: 'button', class: 'btn b-time', dataset: { slot: s.slot }, 'aria-label': full, onclick: () => onPick(s) },
      formatTime(s.start, lang, tz));
  };
  return [...groups].map(([res, list]) => h('div', { class: 'b-group', dataset: { resource: res } },
    h('h3', {}, resourceName(res)),
    h('div', { class: 'b-times' }, list.map(button))));
}

/**
 * The day navigation's labels and limits: `els` {prev, next, name, label, input}; the day
 * shown `day` (YYYY-MM-DD), from `today` to today + `horizonDays` (the site's zone); in `lang`.
 */
export function paintDayNav(els, { day, today, horizonDays, t, lang }) {
  setText(els.prev, t('day_prev'));
  setText(els.next, t('day_next'));
  setText(els.label, t('move_date'));
  els.input.min = today;
  els.input.max = addDays(today, horizonDays ?? 30);
  if (els.input.value !== day) els.input.value = day;
  els.prev.disabled = day <= els.input.min;
  els.next.disabled = day >= els.input.max;
  setText(els.name, dayLabel(`${day}T12:00:00Z`, lang, 'UTC', Date.parse(`${today}T12:00:00Z`), t));
}

/** Free times that did not load: say so, with a button that asks again (rather than
 * leaving the person to find that the day buttons would). */
export function failedTimes(t, code, retry) {
  return [h('p', { class: 'b-error' }, t('move_failed', { code })),
    h('button', { type: 'button', class: 'btn wide b-retry', onclick: retry }, t('move_retry'))];
}
