// The dispatch pages' icons: icons.js's, plus a few of their own (same 24×24 grid, inline SVG,
// no font, no emoji).
import { icon as queueIcon } from './icons.js';

const PATHS = {
  close: 'M18.3 5.7 16.9 4.3 12 9.2 7.1 4.3 5.7 5.7 10.6 10.6 5.7 15.5l1.4 1.4 4.9-4.9 4.9 4.9 1.4-1.4-4.9-4.9z',
  pin: 'M12 2a7 7 0 0 0-7 7c0 5.2 7 13 7 13s7-7.8 7-13a7 7 0 0 0-7-7zm0 9.5A2.5 2.5 0 1 1 12 6.5a2.5 2.5 0 0 1 0 5z',
  van: 'M2 6h12v9h1.2a3 3 0 0 1 5.6 0H22v-4l-3-4h-4V5H2zm15 3h1.5l2 2.5H17zM6 15.5a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5zm12 0a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5zM2 15h1.2a3 3 0 0 1 5.6 0H2z',
  clock: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 2a8 8 0 1 1 0 16 8 8 0 0 1 0-16zm-1 3v6l5 3 1-1.7-4-2.3V7z',
  alert: 'M12 2 1 21h22zm0 4.5 7.5 12.5h-15zM11 10v4h2v-4zm0 5v2h2v-2z',
  wrench: 'M22.7 19 13.6 9.9a6 6 0 0 0-7.4-7.6l3.9 3.9-2.8 2.8-3.9-3.9a6 6 0 0 0 7.6 7.4l9.1 9.1a1 1 0 0 0 1.4 0l1.2-1.2a1 1 0 0 0 0-1.4z',
  building: 'M3 21V3h12v6h6v12h-7v-4h-4v4zm3-15v2h2V6zm4 0v2h2V6zM6 10v2h2v-2zm4 0v2h2v-2zm6 2v2h2v-2zm-10 2v2h2v-2zm4 0v2h2v-2zm6 2v2h2v-2z',
};

export function icon(name, cls = 'icon') {
  if (!PATHS[name]) return queueIcon(name, cls);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', PATHS[name]);
  path.setAttribute('fill', 'currentColor');
  svg.append(path);
  return svg;
}
