// « Garder sur ce téléphone »: registers the service worker and tells it who the phone's current patient is (for the
// patient session's absolute lifetime, data-lifetime in seconds), stores a report in this patient's cache only when
// asked, deletes the copies of reports no longer in the list (withdrawn, expired) at every render of the list, and at
// logout asks whether to keep or erase the copies. The words come from the page (data-* and hidden elements rendered
// from the catalogue).
(() => {
  const form = document.getElementById('logout');
  if (!form || !('serviceWorker' in navigator) || !window.caches) return;
  const mine = form.dataset.cache;
  const status = document.getElementById('offline-status');
  const path = u => new URL(u, location.href).pathname;

  navigator.serviceWorker.register('/patient/sw.js', { scope: '/patient/' });
  navigator.serviceWorker.ready.then(r => r.active.postMessage({ cache: mine, lifetime: Number(form.dataset.lifetime) }));

  // The list was just rendered by the server: a copy whose report is not in it is no longer the patient's to open.
  async function prune() {
    if (!(await caches.has(mine))) return;
    const listed = new Set([...document.querySelectorAll('[data-report]')].map(a => '/patient/reports/' + a.dataset.report));
    const cache = await caches.open(mine);
    for (const k of await cache.keys()) if (!listed.has(path(k.url))) await cache.delete(k);
  }

  // Shows « copie enregistrée » or the keep button on each row, and the keep/erase pair at logout when copies exist.
  async function refresh() {
    const keys = (await caches.has(mine)) ? await (await caches.open(mine)).keys() : [];
    const kept = keys.map(k => path(k.url));
    for (const b of document.querySelectorAll('[data-keep]')) {
      const has = kept.includes(path(b.dataset.keep));
      b.hidden = has;
      b.closest('article').querySelector('[data-copy]').hidden = !has;
    }
    for (const b of form.querySelectorAll('[data-logout]')) b.hidden = (b.dataset.logout === 'plain') === (kept.length > 0);
    document.getElementById('logout-question').hidden = kept.length === 0;
  }

  document.addEventListener('click', async e => {
    const b = e.target.closest('[data-keep]');
    if (!b) return;
    b.disabled = true;
    status.hidden = true;
    try {
      const r = await fetch(b.dataset.keep, { credentials: 'same-origin' });
      // An expired session answers the login page (a redirect), never a report.
      if (!r.ok || r.redirected || (r.headers.get('Content-Type') || '').startsWith('text/html')) throw new Error(String(r.status));
      await (await caches.open(mine)).put(b.dataset.keep, r);
    } catch {
      status.textContent = form.dataset.failed;
      status.hidden = false;
    }
    b.disabled = false;
    await refresh();
  });

  form.addEventListener('submit', async e => {
    e.preventDefault();
    // The service worker ends the current patient when it sees the logout, the login page does when it loads.
    try {
      if (e.submitter && e.submitter.dataset.logout === 'erase') await caches.delete(mine);
    } finally {
      form.submit();
    }
  });

  const render = () => prune().then(refresh);
  document.body.addEventListener('htmx:afterSwap', render);
  render();
})();
