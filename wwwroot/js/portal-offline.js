// « Garder sur ce téléphone » (issue 15): registers the service worker, tells it who the phone's current patient is,
// stores a report in this patient's cache only when asked, and at logout asks whether to keep or erase the copies.
// The words come from the page (data-* and hidden elements rendered from the catalogue).
(() => {
  const form = document.getElementById('logout');
  if (!form || !('serviceWorker' in navigator) || !window.caches) return;
  const mine = form.dataset.cache;
  const PHONE = 'cimef-phone', CURRENT = '/patient/offline-current';
  const status = document.getElementById('offline-status');
  const path = u => new URL(u, location.href).pathname;

  navigator.serviceWorker.register('/patient/sw.js', { scope: '/patient/' });
  caches.open(PHONE).then(c => c.put(CURRENT, new Response(mine)));

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
    try {
      await (await caches.open(PHONE)).delete(CURRENT);
      if (e.submitter && e.submitter.dataset.logout === 'erase') await caches.delete(mine);
    } finally {
      form.submit();
    }
  });

  document.body.addEventListener('htmx:afterSwap', refresh);
  refresh();
})();
