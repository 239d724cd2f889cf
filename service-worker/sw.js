// Offgrid service worker: offline app shell and update flow.
// scripts/make-service-worker.sh fills in the build's file list and version after every trunk build.
// - install: precache the app shell (every file of the build) under a versioned cache; do NOT skip
//   waiting, so an open page keeps its version until the person chooses "Reload".
// - activate: delete older offgrid-shell-* caches. Model files live in "offgrid-models-v1", written by
//   the engine worker; app updates never touch that cache.
// - fetch: shell files cache-first (their names are hashed), navigations get the cached index.html.
const VERSION = "__OFFGRID_VERSION__";
const SHELL_CACHE = `offgrid-shell-${VERSION}`;
const PRECACHE = __OFFGRID_PRECACHE__;

const scopeUrl = (path) => new URL(path, self.registration.scope).href;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE).then((cache) => cache.addAll(PRECACHE.map(scopeUrl)))
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("offgrid-shell-") && name !== SHELL_CACHE) {
          await caches.delete(name);
        }
      }
      await self.clients.claim();
    })()
  );
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "SKIP_WAITING") {
    self.skipWaiting();
  }
});

// Web Share Target (manifest "share_target"): files are kept in a cache the page reads; text opens Search.
const SHARED_CACHE = "offgrid-shared";
async function receiveShare(request) {
  const form = await request.formData();
  const image = form.get("image");
  const audio = form.get("audio");
  const file = image instanceof File && image.size ? image : audio instanceof File && audio.size ? audio : null;
  if (file) {
    const key = scopeUrl(`shared/${Date.now()}-${encodeURIComponent(file.name || "file")}`);
    const cache = await caches.open(SHARED_CACHE);
    await cache.put(key, new Response(file, { headers: { "content-type": file.type } }));
    const page = file.type.startsWith("audio/") ? "transcribe" : "remove-background";
    return Response.redirect(scopeUrl(`#/${page}?shared=${encodeURIComponent(key)}`), 303);
  }
  const text = [form.get("title"), form.get("text"), form.get("url")].filter(Boolean).join(" ");
  return Response.redirect(scopeUrl(`#/search?q=${encodeURIComponent(text)}`), 303);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method === "POST" && new URL(request.url).href === scopeUrl("share-target")) {
    event.respondWith(receiveShare(request));
    return;
  }
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return; // model mirrors, the Hub: the worker handles them
  if (request.mode === "navigate") {
    event.respondWith(
      (async () => {
        const cache = await caches.open(SHELL_CACHE);
        const cached = await cache.match(scopeUrl("index.html"));
        if (cached) return cached;
        return fetch(request);
      })()
    );
    return;
  }
  event.respondWith(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      const cached = await cache.match(request, { ignoreSearch: true });
      if (cached) return cached;
      return fetch(request);
    })()
  );
});
