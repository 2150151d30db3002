// Keeps the handheld app's own files so a reload in a Wi-Fi gap still opens it; MQTT is not
// touched (it is a WebSocket, not a fetch).
const CACHE = "floorctl-handheld-1";
const SHELL = ["/handheld/", "/handheld/app.js", "/handheld/app.css", "/handheld/vendor/mqtt.min.js",
  "/handheld/i18n/en.json", "/handheld/i18n/zh.json", "/handheld/config.json"];

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// The network first (a new version is taken at once); the kept copy when there is none.
self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || !url.pathname.startsWith("/handheld/")) return;
  e.respondWith(fetch(e.request)
    .then((r) => {
      if (r.ok) { const copy = r.clone(); caches.open(CACHE).then((c) => c.put(e.request, copy)); }
      return r;
    })
    .catch(() => caches.match(e.request)));
});
