// Loaded by a page before its own script (module scripts run in document order): the site's
// vocabulary from the boot block (realtime/pages.py), so every string the page draws, from
// its first, speaks the site's words. The site document sent live when the site changes (a
// `site` message) carries it too: `applySiteWords` sets it from there, so a page left open
// speaks the new words at its next render, not only after a reload.
import { readBoot } from './ui.js';
import { setVocabulary, vocabulary } from './vocabulary.js';

const boot = readBoot();
setVocabulary(boot.site?.vocabulary ?? boot.vocabulary);

/** The words of site document `site` (a `site` message's); true if they changed. Older
 * servers sent no `vocabulary` there: the page's words are kept. */
export function applySiteWords(site) {
  if (!site || !('vocabulary' in site)) return false;
  const before = vocabulary();
  return setVocabulary(site.vocabulary) !== before;
}
