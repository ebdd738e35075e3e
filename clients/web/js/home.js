// The front page (/): with `serve --demo`, every demo page with a ready token (the clinic's
// queue pages, then the dispatch region's technician device, job tracking and dashboard).
// A real server (no demo) says how to start instead: an admin token, then /setup/{site}.
import { nameIn, translator } from './i18n.js';
import { personName, shortJob } from './dispatch.js';
import { icon } from './dispatch-icons.js';
import { api, h, language, langSwitch, readBoot, setText } from './ui.js';

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
  console: { icon: 'desk', title: { en: 'Dispatcher console', zh: '调度台' } },
  docs: { icon: 'code', title: 'l_docs' },
};

// A real server's first steps (not in i18n.js: only this page says them).
const START = {
  en: {
    title: 'Set up a site',
    hint: 'This server runs without the demo. To start:',
    steps: [
      ['On the server, make an admin token: ', 'switchboard token admin --subject YOUR-NAME', ' (with the server’s --data-dir, or SWITCHBOARD_DATA_DIR, if it is not the default).'],
      ['Open ', '/setup/SITE', ' (SITE: your site’s id, e.g. clinic) and paste the token. There you set the site’s name, time zone and day close, add services and counters, and make a link (with its QR code) for each screen, kiosk and counter.'],
      ['Give every device the address screens and phones reach this server at: set ', 'SWITCHBOARD_PUBLIC_URL', ' (docs/configuration.md; the whole guide is docs/deployment.md).'],
      ['Field service: run ', 'switchboard worker', ', then set up a region, its technicians and their devices as docs/deployment.md “Dispatch: regions, technicians and devices” shows; the dispatcher’s console is /dispatch/REGION with a dispatcher token.'],
    ],
    label: 'Site id',
    go: 'Open the set-up page',
    sites: 'Sites on this server (pick one rather than typing its id again):',
  },
  zh: {
    title: '设置站点',
    hint: '本服务器未运行演示。开始使用：',
    steps: [
      ['在服务器上生成管理员令牌：', 'switchboard token admin --subject 您的名字', '（服务器的数据目录不是默认值时，加上相同的 --data-dir 或 SWITCHBOARD_DATA_DIR）。'],
      ['打开 ', '/setup/SITE', '（SITE 为站点编号，例如 clinic）并粘贴令牌。在该页面设置站点名称、时区和日终时间，添加业务和窗口，并为每块屏幕、每台取号机和每个窗口生成链接（附二维码）。'],
      ['设置 ', 'SWITCHBOARD_PUBLIC_URL', ' 为屏幕和手机访问本服务器所用的地址（见 docs/configuration.md；完整指南见 docs/deployment.md）。'],
      ['上门服务派工：运行 ', 'switchboard worker', '，再按 docs/deployment.md “派工：区域、技师与设备”一节设置区域、技师及其设备；调度台地址为 /dispatch/区域编号，使用调度员令牌打开。'],
    ],
    label: '站点编号',
    go: '打开设置页面',
    sites: '本服务器上的站点（请直接选择，不必重新输入编号）：',
  },
};

function renderStart() {
  const s = START[lang] ?? START.en;
  setText($('demo-title'), s.title);
  setText($('demo-hint'), s.hint);
  $('steps').replaceChildren(...s.steps.map(([a, code, b]) => h('li', {}, a, h('code', {}, code), b)));
  setText($('setup-label'), s.label);
  setText($('setup-go'), s.go);
  $('steps').hidden = false;
  $('setup-form').hidden = false;
  renderSites();
}

// With the admin token this tab signed in to the set-up page with (its sessionStorage): the
// server's sites, as links and as the site id field's suggestions, so a site is not made
// again under a mistyped id.
let sites = null;

async function loadSites() {
  let token = null;
  try { token = sessionStorage.getItem('sb.setup.token'); } catch { /* private mode */ }
  if (!token) return;
  const r = await api('/v1/sites', { bearer: token });
  if (!r.ok) return;
  sites = r.data.sites ?? [];
  renderSites();
}

function renderSites() {
  const box = $('sites');
  box.hidden = !sites?.length;
  if (box.hidden) return;
  $('setup-site').setAttribute('list', 'site-ids');
  $('site-ids').replaceChildren(...sites.map((id) => h('option', { value: id })));
  box.replaceChildren(h('p', {}, (START[lang] ?? START.en).sites),
    h('ul', {}, ...sites.map((id) => h('li', {}, h('a', { href: `/setup/${encodeURIComponent(id)}` }, id)))));
}

$('setup-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const site = $('setup-site').value.trim();
  if (site) location.assign(`/setup/${encodeURIComponent(site)}`);
});

function card(link) {
  const kind = KINDS[link.kind];
  let detail = '';
  if (link.kind === 'board') detail = link.lang === 'zh' ? '中文' : 'English';
  if (link.kind === 'counter') detail = nameIn(link.name, lang);
  if (link.kind === 'tech') detail = `${personName(link.name, lang)} · ${t('l_sim')}`;
  if (link.kind === 'track') detail = t('track_job', { ref: shortJob(link.job) });
  if (link.kind === 'org') detail = link.name;
  if (link.kind === 'console') detail = link.region;
  const dispatch = ['tech', 'track', 'org', 'console'].includes(link.kind);
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
  if (!boot.demo) {
    renderStart();
    if (sites === null) loadSites();
  }
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
