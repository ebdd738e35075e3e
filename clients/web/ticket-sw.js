// The ticket tracker's service worker: only so that "it's your turn" can be a system
// notification on phones that allow no other kind (Android Chrome has no `new Notification`
// in pages), and so that tapping it brings the tracker back. It caches nothing.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = event.notification.data?.url;
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((open) => {
    const page = open.find((c) => url && c.url === url) ?? open[0];
    if (page) return page.focus();
    return url ? self.clients.openWindow(url) : undefined;
  }));
});
