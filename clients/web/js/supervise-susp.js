// "Suspensions" on the floor overview: every suspension of a doctor or room of the site that
// still stands, today's or a later day's, whether it reaches anybody or not (GET
// /v1/sites/{site}/suspensions, docs/appointments.md), each with "Lift" (DELETE: admins and
// the site's agents, whoever may suspend) behind a confirm step. Should the list not be read
// (no connection), what the day's bookings say (a booking's `suspension`) is shown meanwhile.
import { formatTime, nameIn } from './i18n.js';
import { api, h, layeredTranslator, replaceChildren, setText, token, tokenClaims } from './ui.js';
import { withTerms } from './vocabulary.js';

export const STRINGS = {
  en: {
    sp_title: 'Suspended: {@resource} unavailable',
    sp_none: 'No suspension stands.',
    sp_item: '{resource} · {when}',
    sp_reason: 'Reason: “{reason}”',
    sp_waiting: '{n} not answered yet',
    sp_lift: 'Lift',
    sp_lift_named: 'Lift the suspension of {resource}',
    sp_confirm: 'Lift it? Every appointment it reached that has not answered stands again; the person is told by text.',
    sp_yes: 'Yes, lift',
    sp_keep: 'Keep it',
    sp_lifting: 'Lifting…',
    sp_lifted: 'Lifted: {resource}. Appointments standing again: {n}.',
    sp_admin_only: 'Only an administrator or an agent of this site can lift a suspension.',
    sp_e_forbidden: 'Your sign-in cannot lift a suspension: ask an administrator or an agent of this site (forbidden).',
    sp_e_unknown_suspension: 'This suspension no longer exists (unknown_suspension).',
    sp_e_network: 'No connection: the suspension was not lifted. Try again.',
    sp_e_other: 'The suspension could not be lifted ({code}).',
  },
  zh: {
    sp_title: '{@suspended}',
    sp_none: '目前没有仍有效的{@suspended}。',
    sp_item: '{resource} · {when}',
    sp_reason: '原因：“{reason}”',
    sp_waiting: '{n} 人尚未答复',
    sp_lift: '撤销',
    sp_lift_named: '撤销{resource}的{@suspended}',
    sp_confirm: '确定撤销？尚未答复的预约恢复有效，并会短信通知本人。',
    sp_yes: '确定撤销',
    sp_keep: '保留',
    sp_lifting: '正在撤销…',
    sp_lifted: '已撤销：{resource}。{n} 个预约恢复有效。',
    sp_admin_only: '只有管理员或本站窗口人员可以撤销{@suspended}。',
    sp_e_forbidden: '您的登录身份不能撤销{@suspended}，请联系管理员或本站窗口人员（forbidden）。',
    sp_e_unknown_suspension: '该{@suspended}已不存在（unknown_suspension）。',
    sp_e_network: '网络未连接，未能撤销。请重试。',
    sp_e_other: '未能撤销（{code}）。',
  },
};

/** The role in the page's token (what to offer; the server decides), or null. */
export function tokenRole(raw = token) {
  return tokenClaims(String(raw ?? ''))?.role ?? null;
}

/** A refused lift in words: the stable code's text. */
export function liftError(r, t) {
  const code = r.data?.code ?? (r.status ? String(r.status) : 'network');
  const key = `sp_e_${code}`;
  const text = t(key);
  return text === key ? t('sp_e_other', { code }) : text;
}

/** The period of a suspension in the site's zone: the clock times when it is all today,
 * with the day otherwise ("Wed 9 Dec 10:00–11:00"). */
export function period(s, lang, tz, now = Date.now()) {
  const loc = lang === 'zh' ? 'zh-CN' : 'en-GB';
  const day = (when) => {
    try {
      return new Intl.DateTimeFormat(loc, { weekday: 'short', day: 'numeric', month: 'short', timeZone: tz }).format(new Date(when));
    } catch {
      return new Intl.DateTimeFormat(loc, { weekday: 'short', day: 'numeric', month: 'short' }).format(new Date(when));
    }
  };
  const [d0, d1, today] = [s.from, s.until, now].map(day);
  const [t0, t1] = [s.from, s.until].map((x) => formatTime(x, lang, tz));
  if (d0 === today && d1 === today) return `${t0}–${t1}`;
  if (d0 === d1) return `${d0} ${t0}–${t1}`;
  return `${d0} ${t0} – ${d1} ${t1}`;
}

/** The suspension ids standing on the day's bookings, in order of first appearance. */
export function suspensionIds(list) {
  return [...new Set((list ?? []).map((b) => b.suspension?.id).filter(Boolean))];
}

/** Mount in #susp. `env`: {site, rules, getLang(), now(), reload() (the day's list again)}. */
export function mountSuspensions(env) {
  const { site, rules } = env;
  const $ = (id) => document.getElementById(id);
  const tz = site.timezone;
  const role = tokenRole();
  // Whoever may suspend may lift (the server decides; a supervisor reads the list only).
  const canLift = role === null || role === 'admin' || role === 'agent';
  const known = new Map(); // id -> the suspension as last read (or what the bookings said)
  let asking = null; // the id whose "Lift it?" is open
  let busy = null;
  let status = '';
  const lang = () => env.getLang();
  const tr = () => layeredTranslator(withTerms(STRINGS), lang());
  const resourceName = (id) => nameIn((rules.resources ?? []).find((r) => r.id === id)?.name ?? id, lang());

  /** Read the site's standing suspensions (`list`: the day's bookings, for a failed read). */
  async function sync(list) {
    const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/suspensions`);
    if (r.ok) {
      known.clear();
      for (const s of r.data.suspensions ?? []) known.set(s.id, s);
    } else {
      // Not read (no connection): what the day's bookings say, until the next refresh.
      for (const id of suspensionIds(list)) {
        const b = (list ?? []).find((x) => x.suspension?.id === id);
        if (!known.has(id)) known.set(id, { id, resource: b.resource, reason: b.suspension.reason, from: b.suspension.from, until: b.suspension.until });
      }
    }
    paint();
  }

  function standing() {
    const now = env.now();
    return [...known.values()].filter((s) => !s.lifted_at && !(s.until && Date.parse(s.until) <= now));
  }

  async function lift(s) {
    const t = tr();
    busy = s.id;
    status = t('sp_lifting');
    paint();
    const r = await api(`/v1/sites/${encodeURIComponent(site.id)}/suspensions/${encodeURIComponent(s.id)}`, { method: 'DELETE' });
    busy = null;
    asking = null;
    if (r.ok) {
      known.set(s.id, { ...s, lifted_at: r.data.lifted_at ?? new Date().toISOString() });
      status = t('sp_lifted', { resource: resourceName(s.resource), n: (r.data.restored ?? []).length });
      paint();
      $('susp-title').focus(); // the row is gone: focus stays in the section
      await env.reload();
    } else {
      status = liftError(r, t);
      paint();
      document.querySelector(`#susp-list [data-lift='${CSS.escape(s.id)}']`)?.focus();
    }
  }

  function row(s, t) {
    const what = s.from && s.until ? t('sp_item', { resource: resourceName(s.resource), when: period(s, lang(), tz, env.now()) }) : resourceName(s.resource);
    const head = h('span', { class: 'sp-what' }, what);
    const bits = [head];
    if (s.reason) bits.push(h('span', { class: 'sp-reason' }, t('sp_reason', { reason: s.reason })));
    if (typeof s.pending === 'number') bits.push(h('span', { class: 'sp-waiting muted' }, t('sp_waiting', { n: s.pending })));
    let actions = null;
    if (canLift && asking === s.id) {
      actions = h('div', { class: 'sp-confirm', role: 'group', 'aria-labelledby': `sp-q-${s.id}` },
        h('p', { id: `sp-q-${s.id}` }, t('sp_confirm')),
        h('button', { type: 'button', class: 'btn btn-danger solid', dataset: { yes: s.id }, disabled: busy === s.id, onclick: () => lift(s) }, t('sp_yes')),
        h('button', { type: 'button', class: 'btn', dataset: { keep: s.id }, disabled: busy === s.id, onclick: () => {
          asking = null;
          paint();
          document.querySelector(`#susp-list [data-lift='${CSS.escape(s.id)}']`)?.focus();
        } }, t('sp_keep')));
    } else if (canLift) {
      actions = h('button', { type: 'button', class: 'btn btn-danger', dataset: { lift: s.id }, 'aria-label': t('sp_lift_named', { resource: resourceName(s.resource) }), onclick: () => {
        asking = s.id;
        status = '';
        paint();
        document.querySelector(`#susp-list [data-yes='${CSS.escape(s.id)}']`)?.focus();
      } }, t('sp_lift'));
    }
    return h('li', { class: 'sp-item', dataset: { suspension: s.id } }, h('div', { class: 'sp-text' }, bits), actions);
  }

  function paint() {
    const t = tr();
    const list = standing();
    $('susp').hidden = !list.length && !status;
    setText($('susp-title'), t('sp_title'));
    const key = JSON.stringify([t('sp_lift_named', { resource: '' }), list, asking, busy, canLift]); // words and all
    replaceChildren($('susp-list'), list.map((s) => row(s, t)), key);
    setText($('susp-note'), list.length && !canLift ? t('sp_admin_only') : list.length ? '' : t('sp_none'));
    setText($('susp-status'), status);
  }

  return { sync, paint, get list() { return standing(); } };
}
