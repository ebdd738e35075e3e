// The ticket tracker's service worker: so that "it's your turn" can be a system
// notification on phones that allow no other kind (Android Chrome has no `new Notification`
// in pages), so that tapping it brings the tracker back, and so that the tracker still
// opens with poor signal: the page keeps a copy of itself and its files (ticket.js,
// `keepForOffline`) and this worker answers from that copy when the network does not. The
// network always comes first: nothing stale is shown while the network answers.
const CACHE = 'sb-ticket-v1'; // the same name in ticket.js

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  // The API and the websocket are live or nothing: never from a copy.
  if (req.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/v1/')) return;
  event.respondWith(fetch(req).catch(async (err) => {
    const copy = await caches.match(req, { cacheName: CACHE });
    if (copy) return copy;
    throw err;
  }));
});
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = event.notification.data?.url;
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((open) => {
    const page = open.find((c) => url && c.url === url) ?? open[0];
    if (page) return page.focus();
    return url ? self.clients.openWindow(url) : undefined;
  }));
});
