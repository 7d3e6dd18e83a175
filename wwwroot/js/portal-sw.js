// CIMEF patient service worker, scope /patient/. It caches nothing by itself: a report is stored only when the patient
// presses « Garder sur ce téléphone » (portal-offline.js puts it in that patient's own cache). It keeps the marker of
// the phone's current patient — written when the dashboard says so, for the patient session's absolute lifetime —
// and answers a report URL from that patient's cache only when the network fails: while the server answers, its
// answer (the login page, a 404, a 410) is what the phone gets, so a copy never outlives what the server allows
// online. Every other request (pages included) goes to the network untouched.
const PHONE = 'cimef-phone';
const CURRENT = '/patient/offline-current';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', e => e.waitUntil(self.clients.claim()));

// Marker changes run one after the other, in the order they arrive (the login page's end, then the dashboard's start).
let queue = Promise.resolve();
const serial = work => (queue = queue.then(work, work));
const drop = () => caches.open(PHONE).then(c => c.delete(CURRENT));
const end = () => serial(drop);

// From the dashboard: {cache, lifetime} (seconds) starts or keeps the marker; from the login page: 'end'.
self.addEventListener('message', e => {
  const d = e.data;
  if (d === 'end') e.waitUntil(end());
  else if (d && typeof d.cache === 'string' && d.cache && Number.isFinite(d.lifetime) && d.lifetime > 0) e.waitUntil(serial(() => start(d)));
});

// A live marker for the same patient keeps its expiry: the lifetime counts from the login, not from the last visit.
async function start({ cache, lifetime }) {
  const live = await current();
  if (live && live.cache === cache) return;
  await (await caches.open(PHONE)).put(CURRENT, new Response(JSON.stringify({ cache, expires: Date.now() + lifetime * 1000 })));
}

/** The live marker ({cache, expires}), or null; an expired or unreadable one is deleted. Runs inside serial(). */
async function current() {
  const r = await (await caches.open(PHONE)).match(CURRENT);
  if (!r) return null;
  try {
    const m = await r.json();
    if (typeof m.cache === 'string' && m.expires > Date.now()) return m;
  } catch { /* unreadable: dropped below */ }
  await drop();
  return null;
}

self.addEventListener('fetch', e => {
  const url = new URL(e.request.url);
  if (url.origin !== location.origin) return;
  // Any logout (with or without the page's script) ends the current patient before the server even answers.
  if (url.pathname === '/patient/logout' && e.request.method === 'POST') {
    e.waitUntil(end());
    return;
  }
  if (e.request.method !== 'GET' || !/^\/patient\/reports\/\d+$/.test(url.pathname)) return;
  e.respondWith(fetch(e.request).then(r => {
    // No session: the login page (a redirect, followed or not) or a 401. The phone's patient is gone with it.
    if (r.status === 401 || r.redirected || r.type === 'opaqueredirect') e.waitUntil(end());
    return r;
  }, () => copyOf(e.request).then(hit => hit || Response.error())));
});

async function copyOf(request) {
  const marker = await serial(current);
  if (!marker) return undefined;
  return caches.match(request, { cacheName: marker.cache, ignoreSearch: true, ignoreVary: true });
}
