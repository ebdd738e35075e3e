// The words a site's pages use for who is served and who serves them: the site's
// `vocabulary` (docs/configuration.md). A clinic says "doctor" and "patient", a government
// service centre "clerk", "window" and 办事群众, a bank branch "adviser", "counter" and
// "customer"; "general" is the default and says none of these. Page strings name a term as
// `{@client}` (`{@Client}`: capitalised) and translator() in i18n.js, or withTerms() for a
// page's own table, fills it in. Pure data and functions: tests import them directly;
// vocabulary-boot.js sets the page's vocabulary from its boot block.

export const DEFAULT_VOCABULARY = 'general';

// One table per vocabulary and language. Every vocabulary has the same keys per language
// (tests/browser/test_vocabulary.py checks it); clinic's are the words the pages always had.
export const TERMS = {
  general: {
    en: {
      resource: 'staff member or desk', provider: 'staff member', sees: 'serves', be_seen: 'be served',
      client: 'visitor', client_id: 'ID number',
    },
    zh: {
      resource: '工作人员或窗口', provider: '工作人员', serve: '办理', suspended: '暂停服务',
      client: '来访者', client_id: '证件号', service: '业务', services: '业务', visit: '办理',
      booking: '在线预约', org: '机构', premises: '现场', waiting_area: '等候区', transferred: '已转业务',
    },
  },
  clinic: {
    en: {
      resource: 'doctor or room', provider: 'doctor', sees: 'sees', be_seen: 'be seen',
      client: 'patient', client_id: 'patient ID',
    },
    zh: {
      resource: '医生或诊室', provider: '医生', serve: '接诊', suspended: '停诊',
      client: '患者', client_id: '患者编号', service: '科室', services: '科室或业务', visit: '就诊',
      booking: '预约挂号', org: '院', premises: '院内', waiting_area: '候诊区', transferred: '已转科',
    },
  },
  government: {
    en: {
      resource: 'clerk or window', provider: 'clerk', sees: 'serves', be_seen: 'be served',
      client: 'citizen', client_id: 'ID number',
    },
    zh: {
      resource: '窗口或工作人员', provider: '工作人员', serve: '办理', suspended: '暂停服务',
      client: '办事群众', client_id: '身份证号', service: '业务', services: '办理事项', visit: '办事',
      booking: '预约办事', org: '中心', premises: '服务中心', waiting_area: '等候区', transferred: '已转业务',
    },
  },
  branch: {
    en: {
      resource: 'adviser or counter', provider: 'adviser', sees: 'serves', be_seen: 'be served',
      client: 'customer', client_id: 'customer number',
    },
    zh: {
      resource: '客户经理或柜台', provider: '客户经理', serve: '办理', suspended: '暂停服务',
      client: '客户', client_id: '客户号', service: '业务', services: '业务', visit: '办理',
      booking: '预约办理', org: '行', premises: '网点', waiting_area: '等候区', transferred: '已转业务',
    },
  },
};

export const VOCABULARIES = Object.keys(TERMS);

/** What the set-up page offers, in its language. */
export const LABELS = {
  general: { en: 'General (neutral words)', zh: '通用（中性用语）' },
  clinic: { en: 'Clinic or hospital: doctor, patient', zh: '医院/诊所：医生、患者' },
  government: { en: 'Government service centre: clerk, window, citizen', zh: '政务服务中心：窗口、办事群众' },
  branch: { en: 'Bank branch: counter, customer', zh: '银行网点：柜台、客户' },
};

let current = DEFAULT_VOCABULARY;

/** The page's vocabulary (an unknown or missing one: the default). Returns what is set. */
export function setVocabulary(kind) {
  current = Object.hasOwn(TERMS, kind ?? '') ? kind : DEFAULT_VOCABULARY;
  return current;
}

export function vocabulary() {
  return current;
}

const TERM = /\{@(\w+)\}/g;

/** `s` with its `{@term}`s in `lang`'s words of `kind` (the page's unless given). */
export function fillTerms(s, lang, kind = current) {
  const terms = (TERMS[kind] ?? TERMS[DEFAULT_VOCABULARY])[String(lang).startsWith('zh') ? 'zh' : 'en'];
  return s.replace(TERM, (m, key) => {
    const word = terms[key] ?? terms[key[0].toLowerCase() + key.slice(1)];
    if (word == null) return m;
    return key[0] === key[0].toLowerCase() ? word : word[0].toUpperCase() + word.slice(1);
  });
}

const filled = new WeakMap(); // tables → {kind, tables}: filled once per vocabulary

/** A page's own {en, zh} string tables with the terms filled in (for layeredTranslator). */
export function withTerms(tables, kind = current) {
  const hit = filled.get(tables);
  if (hit?.kind === kind) return hit.tables;
  const out = {};
  for (const [lang, table] of Object.entries(tables)) {
    out[lang] = Object.fromEntries(Object.entries(table).map(([k, s]) => [k, fillTerms(s, lang, kind)]));
  }
  filled.set(tables, { kind, tables: out });
  return out;
}
