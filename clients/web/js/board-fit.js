// Fitting the board's names into their boxes: where a patient must go is wrapped and shrunk,
// and cut with "…" only when nothing else helps. Measures the DOM; no state of its own.

// No word of el wider than el, and at most `lines` lines.
function holds(el, lines) {
  const cs = getComputedStyle(el);
  const lh = parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.2;
  return el.scrollWidth <= el.clientWidth + 0.5 && el.scrollHeight <= lh * lines + 1;
}

/**
 * Shrinks el's text from its CSS size until it fits: no word wider than el, at most `lines`
 * lines, and `fits()` (the box around it) holds. Never below `min` of the CSS size.
 */
export function fitText(el, { lines = 2, fits = () => true, min = 0.45 } = {}) {
  if (!el) return;
  el.style.fontSize = '';
  const base = parseFloat(getComputedStyle(el).fontSize);
  let size = base;
  for (let i = 0; i < 40; i += 1) {
    if ((holds(el, lines) && fits()) || size <= base * min) return;
    size *= 0.93;
    el.style.fontSize = `${size}px`;
  }
}

// The tile's name leaves the state and the number their room: whatever lies under the name
// (not beside it, as the number of a short tile does) starts below it, the state is not
// pushed wider than its column, and all of it stays inside the tile (which clips at its
// border; the padding may be used).
function tileFits(tile) {
  const bottom = tile.getBoundingClientRect().bottom - parseFloat(getComputedStyle(tile).borderBottomWidth);
  const name = tile.querySelector('.ct-name').getBoundingClientRect();
  const state = tile.querySelector('.ct-state');
  if (name.bottom > bottom + 0.5 || (state && state.scrollWidth > state.clientWidth + 0.5)) return false;
  return [...tile.querySelectorAll('.ct-state, .ct-number')].every((el) => {
    const r = el.getBoundingClientRect();
    const beside = r.left >= name.right - 0.5 || r.right <= name.left + 0.5;
    return r.bottom <= bottom + 0.5 && (beside || r.top >= name.bottom - 0.5);
  });
}

const shown = (el) => !!el && el.getClientRects().length > 0;

// The number gives way first; a later step (the second language a little smaller) may have
// made all the room needed: the number grows back towards its CSS size while all still fits.
function regrow(el, fits) {
  if (!el?.style.fontSize) return;
  let size = parseFloat(el.style.fontSize);
  el.style.fontSize = '';
  const base = parseFloat(getComputedStyle(el).fontSize);
  el.style.fontSize = `${size}px`;
  while (size < base) {
    const next = Math.min(base, size / 0.93);
    el.style.fontSize = next >= base ? '' : `${next}px`;
    if (!fits()) {
      el.style.fontSize = `${size}px`;
      return;
    }
    size = next;
  }
}

function clamp(el, lines) {
  el.classList.add('clamped');
  el.style.setProperty('--lines', String(lines));
}

/**
 * A counter tile: its name and its second-language name first fit their own width (two lines
 * at most each); then, until the tile holds them with its state and number, the number gives
 * way to 80 %, the second language to 70 %, a name too long for two lines takes a third where
 * the tile has the height, the number gives way to 60 %, the name to 60 %; only then is the
 * second language cut to one line with "…", and last the name.
 */
export function fitTile(tile) {
  const [l1, l2, number] = ['.ct-name .l1', '.ct-name .l2', '.ct-number'].map((s) => tile.querySelector(s));
  const second = shown(l2) ? l2 : null;
  let nameLines = 2;
  // Both names hold their own lines too: a short tile's name gets wider as the number shrinks.
  const fits = () => holds(l1, nameLines) && (!second || holds(second, 2)) && tileFits(tile);
  tile.classList.remove('stacked');
  fitText(l1, { lines: 2, min: 0.6 });
  // A short tile has its number beside the name: a name that must shrink for it goes across
  // the tile instead, with the state and the number under it.
  if (l1?.style.fontSize && number && number.getBoundingClientRect().left >= l1.getBoundingClientRect().right - 0.5) {
    tile.classList.add('stacked');
    fitText(l1, { lines: 2, min: 0.6 });
  }
  fitText(second, { lines: 2, min: 0.7 });
  const steps = [
    () => fitText(number, { lines: 1, fits, min: 0.8 }),
    () => fitText(second, { lines: 2, fits, min: 0.7 }),
    () => { // a name too long for two lines even at 60 %: a third, where the tile has room
      if (holds(l1, 2)) return;
      nameLines = 3;
      fitText(l1, { lines: 3, fits, min: 0.6 });
    },
    () => fitText(number, { lines: 1, fits, min: 0.6 }),
    () => fitText(l1, { lines: nameLines, fits, min: 0.6 }),
  ];
  for (const step of steps) {
    if (fits()) {
      regrow(number, fits);
      return;
    }
    step();
  }
  // Cut: the second language to one line, then the name a line at a time.
  if (second && !fits()) clamp(second, 1);
  for (let n = nameLines; n >= 1 && !tileFits(tile); n -= 1) clamp(l1, n);
}
