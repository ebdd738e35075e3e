// Loaded by a page before its own script (module scripts run in document order): the site's
// vocabulary from the boot block (realtime/pages.py), so every string the page draws, from
// its first, speaks the site's words.
import { readBoot } from './ui.js';
import { setVocabulary } from './vocabulary.js';

setVocabulary(readBoot().vocabulary);
