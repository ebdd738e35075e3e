// The front page (/): with `serve --demo`, every demo page with a ready token (the clinic's
// queue pages, then the dispatch region's technician device, job tracking and dashboard).
import { nameIn, translator } from './i18n.js';
import { personName, shortJob } from './dispatch.js';
import { icon } from './dispatch-icons.js';
import { h, language, langSwitch, readBoot, setText } from './ui.js';

const boot = readBoot();
const lang0 = language(boot);
let { lang, t } = lang0;
const $ = (id) => document.getElementById(id);

const KINDS = {
  board: { icon: 'tv', title: 'l_board' },
  kiosk: { icon: 'ticket', title: 'l_kiosk' },
  counter: { icon: 'desk', title: 'l_counter' },
  supervise: { icon: 'tv', title: 'l_supervise' },
  phone: { icon: 'phone', title: { en: 'Text to join (a phone)', zh: '短信取号（模拟手机）' } },
  book: { icon: 'clock', title: { en: 'Book an appointment (web)', zh: '网上预约挂号' } },
  tech: { icon: 'van', title: 'l_tech' },
  track: { icon: 'pin', title: 'l_track' },
  org: { icon: 'building', title: 'l_org' },
  docs: { icon: 'code', title: 'l_docs' },
};

function card(link) {
  const kind = KINDS[link.kind];
  let detail = '';
  if (link.kind === 'board') detail = link.lang === 'zh' ? '中文' : 'English';
  if (link.kind === 'counter') detail = nameIn(link.name, lang);
  if (link.kind === 'tech') detail = `${personName(link.name, lang)} · ${t('l_sim')}`;
  if (link.kind === 'track') detail = t('track_job', { ref: shortJob(link.job) });
  if (link.kind === 'org') detail = link.name;
  const dispatch = ['tech', 'track', 'org'].includes(link.kind);
  const site = boot.site && !dispatch ? nameIn(boot.site.name, lang) : '';
  const where = link.kind === 'docs' ? link.path : [detail, site].filter(Boolean).join(' · ');
  return h('li', {}, h('a', { class: `h-card kind-${link.kind}`, href: link.path },
    h('span', { class: 'h-icon' }, icon(kind.icon)),
    h('span', { class: 'h-text' },
      h('span', { class: 'h-name' }, typeof kind.title === 'string' ? t(kind.title) : kind.title[lang] ?? kind.title.en),
      h('span', { class: 'h-path muted' }, where))));
}

function render() {
  document.title = t('home_title');
  setText($('sub'), t('home_sub'));
  setText($('demo-title'), t('home_demo'));
  const dispatch = boot.links?.some((l) => l.kind === 'tech');
  setText($('demo-hint'), boot.demo && boot.links?.length
    ? [t('home_demo_hint'), dispatch ? t('home_dispatch_hint') : ''].filter(Boolean).join(' ') : t('home_no_demo'));
  const links = [...(boot.links ?? []), { kind: 'docs', path: '/docs' }];
  $('links').replaceChildren(...links.map(card));
  $('lang').replaceChildren(langSwitch(lang, t, (l) => {
    lang = l;
    t = translator(l);
    lang0.remember(l);
    document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
    render();
  }));
}

render();
