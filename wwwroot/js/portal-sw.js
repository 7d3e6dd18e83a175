// CIMEF patient service worker (issue 15), scope /patient/. It caches nothing by itself: a report is stored only when
// the patient presses « Garder sur ce téléphone » (portal-offline.js puts it in that patient's own cache). It answers a
// report URL from the cache of the phone's current patient only — the marker the dashboard writes and logout clears —
// and lets every other request (pages included) go to the network untouched.
const PHONE = 'cimef-phone';
const CURRENT = '/patient/offline-current';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', e => e.waitUntil(self.clients.claim()));

self.addEventListener('fetch', e => {
  const url = new URL(e.request.url);
  if (url.origin !== location.origin) return;
  // Any logout (with or without the page's script) ends the current patient before the server even answers.
  if (url.pathname === '/patient/logout' && e.request.method === 'POST') {
    e.waitUntil(caches.open(PHONE).then(c => c.delete(CURRENT)));
    return;
  }
  if (e.request.method !== 'GET' || !/^\/patient\/reports\/\d+$/.test(url.pathname)) return;
  e.respondWith(copyOf(e.request).then(hit => hit || fetch(e.request)));
});

async function copyOf(request) {
  const marker = await (await caches.open(PHONE)).match(CURRENT);
  const name = marker ? await marker.text() : '';
  if (!name) return undefined;
  return caches.match(request, { cacheName: name, ignoreSearch: true, ignoreVary: true });
}
