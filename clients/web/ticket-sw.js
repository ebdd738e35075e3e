// The ticket tracker's service worker: so that "it's your turn" can be a system
// notification on phones that allow no other kind (Android Chrome has no `new Notification`
// in pages), so that tapping it brings the tracker back, and so that the tracker still
// opens with poor signal: a copy of the page and its files is kept (by this worker as they
// pass, and by ticket.js `keepForOffline` on the first visit, before the worker controls
// the page) and this worker answers from it when the network does not. The network always
// comes first: nothing stale is shown while the network answers.
const CACHE = 'sb-ticket-v1'; // the same name in ticket.js

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  // The API and the websocket are live or nothing: never from a copy.
  if (req.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/v1/')) return;
  event.respondWith(fetch(req).then((res) => {
    if (res.ok) event.waitUntil(keep(req, res.clone()));
    return res;
  }, async (err) => {
    const copy = await caches.match(req, { cacheName: CACHE });
    if (copy) return copy;
    throw err;
  }));
});

/** What passes on its way keeps the copy fresh at no extra download: the page's files, and
 * the ticket page itself (one: an older ticket's page is of no use, and holds its token). */
async function keep(req, res) {
  const path = new URL(req.url).pathname;
  const page = path.startsWith('/ticket/');
  if (!page && !path.startsWith('/static/')) return;
  const cache = await caches.open(CACHE);
  if (page) {
    for (const old of await cache.keys()) {
      if (new URL(old.url).pathname.startsWith('/ticket/') && old.url !== req.url) await cache.delete(old);
    }
  }
  await cache.put(req, res);
}
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = event.notification.data?.url;
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((open) => {
    const page = open.find((c) => url && c.url === url) ?? open[0];
    if (page) return page.focus();
    return url ? self.clients.openWindow(url) : undefined;
  }));
});
