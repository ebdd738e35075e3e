// What people type, read as they meant it (as the server does: queueing/typed.py). A Chinese
// input method in full-width mode types "Ａ００１" for A001; a booking page shows a code in
// two groups, "HD4 3UX", and people copy it so, or with a dash.

// Spaces and the dashes people put between groups (full-width ones are plain by then).
const SEPARATORS = /[\s\-_\u2010-\u2015\u2212]+/g;

/** `s` with full-width and other compatibility forms made plain (NFKC): "Ａ００１" → "A001". */
export function plain(s) {
  return String(s ?? '').normalize('NFKC');
}

/** plain(s) without spaces or dashes: "hd4 3ux" → "hd43ux", "Ａ－００１" → "A001". */
export function compact(s) {
  return plain(s).replace(SEPARATORS, '');
}
