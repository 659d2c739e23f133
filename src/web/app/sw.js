// The app's service worker: keeps the app's own files so it opens without a network, and shows
// the server's reminders. The API is never cached here: its answers are health data, kept (for
// offline use) by the app itself, and they reach the network straight from the page.

const CACHE = 'aftercare-app-v4';
const SHELL = [
  '/app', '/app/app.css', '/app/app.webmanifest', '/app/icon.svg', '/app/icon-192.png', '/app/icon-512.png',
  '/app/app.js', '/app/api.js', '/app/dom.js', '/app/i18n.js', '/app/store.js', '/app/outbox.js', '/app/data.js',
  '/app/enroll.js', '/app/today.js', '/app/check_in.js', '/app/recovery.js', '/app/care.js', '/app/reminders.js',
  '/app/photo.js', '/app/photo_store.js', '/app/my_photos.js', '/app/smart.js', '/app/shared/api.js',
  '/app/shared/dom.js', '/app/shared/smart.js',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

/** The network's answer, kept for next time; the kept one when the network is away. */
async function fresh(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch {
    const kept = await cache.match(request, { ignoreSearch: true });
    if (kept) return kept;
    throw new Error('offline and not kept');
  }
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  const shell = url.origin === self.location.origin && (url.pathname === '/app' || url.pathname.startsWith('/app/'));
  if (event.request.method !== 'GET' || !shell) return;
  event.respondWith(fresh(event.request));
});

self.addEventListener('push', (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = {};
  }
  const title = message.title || 'Aftercare';
  event.waitUntil(
    self.registration.showNotification(title, {
      body: message.body || '',
      icon: '/app/icon-192.png',
      badge: '/app/icon-192.png',
      tag: message.type || 'aftercare',
      data: { url: message.url || '/app' },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || '/app', self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => new URL(w.url).pathname.startsWith('/app'));
      if (open) return open.focus();
      return self.clients.openWindow(target);
    }),
  );
});
