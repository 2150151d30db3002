// The handheld app: one screen at a time, driven by the controller's directions over MQTT
// (docs/scanner-protocol.md, version 3). Scans come from the scanner's keyboard wedge into the
// focused #scan field (the code, then Enter), or from the camera where the browser can read
// barcodes. Every message carries an id and a rising counter; MQTT (QoS 1) sends again what a
// gap in the Wi-Fi held back, and the controller answers a repeated id the same way, so
// nothing is counted twice.
"use strict";

const $ = (sel) => document.querySelector(sel);
const VERSION = 3;
const app = {
  config: null, lang: "en", texts: {}, handheld: "", picker: "", client: null,
  session: "", seq: 0, direction: null, connected: false, everConnected: false, queued: 0,
  channel: "BroadcastChannel" in window ? new BroadcastChannel("floorctl-handheld") : null,
  tab: Math.random().toString(36).slice(2),
  // Milliseconds from each scan to the next direction on screen.
  scanAt: 0, scanToDirectionMs: [],
  // When the link last came up, and when it dropped soon after (another login as this handheld).
  connectedAt: 0, dropped: [],
};

// ---- words -----------------------------------------------------------------------------

/** The text of `key` in the app's language, its `{name}`s filled from `params`. */
function t(key, params = {}) {
  const text = app.texts[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** `t` as nodes, each filled-in value in a span kept on one line (a location A-01-01 is not
 * broken at its hyphen). */
function tKept(key, params = {}) {
  const text = app.texts[key] ?? key;
  const nodes = [];
  let last = 0;
  for (const m of text.matchAll(/\{(\w+)\}/g)) {
    nodes.push(text.slice(last, m.index));
    if (m[1] in params) {
      const kept = document.createElement("span");
      kept.className = "kept";
      kept.textContent = String(params[m[1]]);
      nodes.push(kept);
    } else {
      nodes.push(m[0]);
    }
    last = m.index + m[0].length;
  }
  nodes.push(text.slice(last));
  return nodes;
}

async function setLanguage(lang) {
  const answer = await fetch(`/handheld/i18n/${lang}.json`);
  app.texts = await answer.json();
  app.lang = lang;
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  document.querySelectorAll(".lang").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === lang)));
  if (app.handheld) localStorage.setItem(`floorctl.lang.${app.handheld}`, lang);
  localStorage.setItem("floorctl.lang", lang);
  showLink();
  if (app.direction) render(app.direction);
}

/** The handheld's own language, else the last chosen here, else the browser's. */
function preferredLanguage(handheld) {
  const own = handheld && localStorage.getItem(`floorctl.lang.${handheld}`);
  const last = localStorage.getItem("floorctl.lang");
  const browser = (navigator.languages || [navigator.language]).some((l) => /^zh\b/i.test(l)) ? "zh" : "en";
  return own || last || browser;
}

// ---- the link ----------------------------------------------------------------------------

function topic(direction, kind) {
  return `floorctl/${app.config.site}/scanners/${app.handheld}/${direction}/${kind}`;
}

function brokerUrl() {
  if (app.config.mqtt) return app.config.mqtt;
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/mqtt`;
}

/** Sends a handheld message: a new id and counter each, kept by MQTT through a gap. */
function send(kind, body = {}) {
  if (!app.client) return;
  app.seq += 1;
  const msg = { v: VERSION, id: `${app.handheld}-${app.session}-${app.seq}`, seq: app.seq, kind, ...body };
  app.client.publish(topic("up", kind), JSON.stringify(msg), { qos: 1 });
  if (!app.connected) {
    app.queued += 1;
    showLink();
  }
}

function connect(password) {
  const will = { v: VERSION, id: `${app.handheld}-will`, kind: "presence", online: false };
  const client = mqtt.connect(brokerUrl(), {
    clientId: app.handheld, username: app.handheld, password, protocolVersion: 4,
    clean: false, keepalive: 20, reconnectPeriod: 2000, connectTimeout: 10000,
    will: { topic: topic("up", "presence"), payload: JSON.stringify(will), qos: 1, retain: true },
  });
  app.client = client;
  client.on("connect", () => {
    const first = !app.everConnected;
    app.connected = true;
    app.connectedAt = Date.now();
    app.everConnected = true;
    app.queued = 0;
    showLink();
    client.subscribe(topic("down", "#"), { qos: 1 });
    client.publish(topic("up", "presence"), JSON.stringify({ v: VERSION, id: `${app.handheld}-${app.session}-online`, kind: "presence", online: true }), { qos: 1, retain: true });
    // A login on every connection: the controller answers with the current direction.
    send("login", { picker: app.picker, session: app.session });
    if (first) show("work");
  });
  client.on("message", (name, payload) => received(name, payload));
  client.on("close", () => {
    // Dropped again and again just after connecting: another device or tab logged in as this
    // handheld and the broker hands the session back and forth. This one gives way.
    if (app.connectedAt && Date.now() - app.connectedAt < 5000) app.dropped.push(Date.now());
    app.connectedAt = 0;
    app.dropped = app.dropped.filter((at) => Date.now() - at < 30000);
    app.connected = false;
    if (app.dropped.length >= 3) {
      stop();
      loginMessage(t("login.taken_over"));
      return;
    }
    showLink();
  });
  client.on("offline", () => { app.connected = false; showLink(); });
  client.on("error", (err) => {
    // CONNACK 4 or 5: the id or password is refused; trying again would not help.
    if (err && (err.code === 4 || err.code === 5 || err.code === 134 || err.code === 135)) {
      stop();
      loginMessage(t("login.refused"));
    } else if (!app.everConnected) {
      loginMessage(t("login.unreachable"));
    }
  });
}

/** Back to the login screen; `gently`: what is still queued is sent first (a log-out). */
function stop(gently = false) {
  app.dropped = [];
  if (app.client) app.client.end(!gently);
  app.client = null;
  app.connected = false;
  app.everConnected = false;
  app.direction = null;
  show("login");
}

function received(name, payload) {
  let msg;
  try { msg = JSON.parse(new TextDecoder().decode(payload)); } catch { return; }
  if (name === topic("down", "direction")) {
    // The same work sent again (a reconnect's login): kept, not drawn again under a finger.
    if (app.direction && sameWork(app.direction, msg)) {
      app.direction = msg;
      return;
    }
    render(msg);
  } else if (name === topic("down", "error")) {
    refused(msg);
  }
}

/** Whether two directions ask for the same thing (their ids aside). */
function sameWork(a, b) {
  const strip = ({ id, ...rest }) => JSON.stringify(rest, Object.keys(rest).sort());
  return strip(a) === strip(b);
}

// ---- screens -----------------------------------------------------------------------------

function show(name) {
  $("#login").hidden = name !== "login";
  $("#work").hidden = name !== "work";
  $("#always").hidden = name !== "work";
  $("#who").textContent = name === "work" ? `${app.handheld} · ${app.picker}` : "";
  showLink();
  focusScan();
}

function showLink() {
  const link = $("#link");
  const on = app.connected;
  link.hidden = !app.client;
  link.dataset.state = on ? "on" : "off";
  link.textContent = app.client ? t(on ? "link.on" : "link.off") : "";
  const banner = $("#offline");
  banner.hidden = !app.client || on;
  banner.textContent = app.queued > 0 ? t("offline.queued", { n: app.queued }) : t("offline.waiting");
}

function loginMessage(text) {
  $("#login-message").textContent = text;
}

function field(name, value, now = false) {
  return `<div class="field${now ? " now" : ""}"><span class="name">${esc(t(`field.${name}`))}</span><span class="value" data-field="${name}">${esc(value)}</span></div>`;
}

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function button(id, text, primary = false) {
  return `<button id="${id}"${primary ? ' class="primary"' : ""}>${esc(text)}</button>`;
}

/** Shows a direction: what to do now, large, and the one action it asks for. */
function render(d) {
  app.direction = d;
  if (app.scanAt) {
    app.scanToDirectionMs.push(performance.now() - app.scanAt);
    app.scanAt = 0;
  }
  $("#short").hidden = true;
  const step = $("#step");
  let html = "";
  let actions = "";
  switch (d.kind) {
    case "pick":
      step.textContent = t(`step.${d.expect}`, d);
      html = field("location", d.location, d.expect === "location")
        + `<div class="field${d.expect === "sku" ? " now" : ""}"><span class="name">${esc(t("field.sku"))}</span><span class="value" data-field="sku">${esc(d.sku)}</span>${d.description ? `<p class="description">${esc(d.description)}</p>` : ""}</div>`
        + `<div class="pair">${field("qty", d.qty, d.expect === "quantity")}${field("tote", d.tote)}</div>`
        + field("lines_left", d.lines_left);
      if (d.expect === "quantity") actions = button("picked", t("action.picked", d), true) + button("short-open", t("action.short"));
      else actions = button("short-open", t("action.short"));
      break;
    case "offer":
      step.textContent = t("task.offer");
      html = `<div class="pair">${field("orders", d.orders.length)}${field("lines", d.lines)}</div>`
        + field("totes", d.totes.join(", ")) + field("first_location", d.location);
      actions = button("accept", t("action.accept"), true);
      break;
    case "replenish":
      step.textContent = t("task.replenish");
      html = field("sku", d.sku) + `<div class="pair">${field("from", d.from)}${field("to", d.to)}</div>` + field("qty", d.qty);
      actions = button("replenished", t("action.replenished", d), true);
      break;
    case "close_tote":
      step.textContent = t("task.close_tote", d);
      html = field("tote", d.tote, true);
      actions = button("tote-closed", t("action.tote_closed", d), true);
      break;
    case "tote_complete":
      step.textContent = t("task.tote_complete", d);
      html = field("conveyor", d.conveyor, true) + `<p class="description">${esc(t("task.tote_complete_hint", d))}</p>`;
      break;
    case "paused":
      step.textContent = t("task.paused");
      actions = button("resume", t("action.resume"), true);
      break;
    case "logged_out":
      stop();
      return;
    default:
      step.textContent = t("task.wait");
  }
  $("#direction").innerHTML = html;
  $("#actions").innerHTML = actions;
  $("#direction").dataset.kind = d.kind;
  focusScan();
}

// ---- what the picker does ---------------------------------------------------------------------

function act(id) {
  const d = app.direction;
  switch (id) {
    case "picked": return send("pick", { order: d.order, line: d.line, qty: d.qty, tote: d.tote });
    case "accept": return send("accept");
    case "replenished": return send("replenished", { task: d.task, qty: d.qty });
    case "tote-closed": return send("tote_closed", { tote: d.tote });
    case "resume": return send("resume");
    case "short-open": return openShort();
    default: return undefined;
  }
}

function openShort() {
  const d = app.direction;
  if (!d || d.kind !== "pick") return;
  app.found = Math.max(0, d.qty - 1);
  $("#short").hidden = false;
  $("#actions").innerHTML = "";
  showFound();
}

function showFound() {
  $("#short-found").textContent = app.found;
  $("#short-confirm").textContent = t("short.confirm", { found: app.found });
}

/** A scan from the wedge or the camera, read against the direction on screen. */
function scanned(code) {
  code = code.trim();
  if (!code) return;
  if (!$("#refused").hidden) { $("#refused").hidden = true; }
  const d = app.direction;
  if (!d || !app.client) return;
  app.scanAt = performance.now();
  if (d.kind === "pick") {
    if (code === String(d.tote)) {
      if (d.expect === "quantity") return send("pick", { order: d.order, line: d.line, qty: d.qty, tote: d.tote });
      return send("scan", { what: "tote", code });
    }
    const what = d.expect === "location" ? "location" : "sku";
    return send("scan", { what, code });
  }
  if (d.kind === "close_tote" && code === String(d.tote)) return send("tote_closed", { tote: d.tote });
  return refusedText(t("scan.unexpected"));
}

/** A refusal: felt, heard and seen, in the picker's language. */
function refused(msg) {
  app.scanAt = 0;
  const key = `refused.${msg.code}`;
  const text = msg.code && key in app.texts ? tKept(key, msg.params || {}) : t("refused.unknown", { reason: msg.reason });
  refusedText(text, msg.code || "");
}

function refusedText(text, code = "") {
  $("#refused-text").replaceChildren(...[].concat(text));
  $("#refused").dataset.code = code;
  $("#refused").hidden = false;
  if (navigator.vibrate) navigator.vibrate([180, 80, 180]);
  tone();
}

let audio = null;
function tone() {
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    const o = audio.createOscillator();
    const g = audio.createGain();
    o.type = "square";
    o.frequency.value = 330;
    g.gain.value = 0.2;
    o.connect(g).connect(audio.destination);
    o.start();
    o.stop(audio.currentTime + 0.35);
  } catch { /* no sound on this device */ }
}

function focusScan() {
  if ($("#work").hidden) return;
  const scan = $("#scan");
  if (document.activeElement !== scan) scan.focus({ preventScroll: true });
}

// ---- camera ------------------------------------------------------------------------------------

async function cameraScan() {
  const video = $("#viewfinder");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch { return; }
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  const detector = new BarcodeDetector();
  const stopCamera = () => { stream.getTracks().forEach((tr) => tr.stop()); video.hidden = true; };
  video.onclick = stopCamera;
  const look = async () => {
    if (video.hidden) return;
    const codes = await detector.detect(video).catch(() => []);
    if (codes.length) { stopCamera(); scanned(codes[0].rawValue); } else requestAnimationFrame(look);
  };
  look();
}

// ---- start -------------------------------------------------------------------------------------

/** Another tab of this browser with the same handheld open answers, and this one does not log in. */
function otherTabHas(handheld) {
  if (!app.channel) return Promise.resolve(false);
  return new Promise((resolve) => {
    const answer = (e) => {
      if (e.data.type === "mine" && e.data.handheld === handheld && e.data.tab !== app.tab) resolve(true);
    };
    app.channel.addEventListener("message", answer);
    app.channel.postMessage({ type: "who", handheld, tab: app.tab });
    setTimeout(() => { app.channel.removeEventListener("message", answer); resolve(false); }, 300);
  });
}

async function logIn() {
  const handheld = $("#handheld").value.trim();
  const password = $("#password").value;
  const picker = $("#picker").value.trim();
  loginMessage("");
  if (!handheld || !password || !picker) return loginMessage(t("login.missing"));
  if (await otherTabHas(handheld)) return loginMessage(t("login.second_tab"));
  app.handheld = handheld;
  app.picker = picker;
  localStorage.setItem("floorctl.handheld", handheld);
  localStorage.setItem(`floorctl.lang.${handheld}`, app.lang);
  // A new session on each log-in: its counter starts afresh, and earlier ones are stale.
  app.session = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
  app.seq = 0;
  connect(password);
}

async function start() {
  app.config = await (await fetch("/handheld/config.json")).json();
  const handheld = localStorage.getItem("floorctl.handheld") || "";
  $("#handheld").value = handheld;
  await setLanguage(preferredLanguage(handheld));
  if (app.channel) {
    app.channel.onmessage = (e) => {
      if (e.data.type === "who" && e.data.handheld === app.handheld && app.client) {
        app.channel.postMessage({ type: "mine", handheld: app.handheld, tab: app.tab });
      }
    };
  }
  document.querySelectorAll(".lang").forEach((b) => b.addEventListener("click", () => setLanguage(b.dataset.lang)));
  $("#log-in").addEventListener("click", logIn);
  $("#password").addEventListener("keydown", (e) => { if (e.key === "Enter") logIn(); });
  $("#picker").addEventListener("keydown", (e) => { if (e.key === "Enter") logIn(); });
  $("#actions").addEventListener("click", (e) => { if (e.target.id) act(e.target.id); focusScan(); });
  $("#short-less").addEventListener("click", () => { app.found = Math.max(0, app.found - 1); showFound(); });
  $("#short-more").addEventListener("click", () => { app.found = Math.min(app.direction.qty - 1, app.found + 1); showFound(); });
  $("#short-cancel").addEventListener("click", () => render(app.direction));
  $("#short-confirm").addEventListener("click", () => {
    const d = app.direction;
    send("short", { order: d.order, line: d.line, found: app.found, tote: d.tote });
    $("#short").hidden = true;
  });
  $("#tote-full").addEventListener("click", () => {
    if (app.direction && app.direction.kind === "pick") send("tote_full", { tote: app.direction.tote });
  });
  $("#break").addEventListener("click", () => send("break"));
  $("#log-out").addEventListener("click", () => { send("logout"); stop(true); });
  $("#refused").addEventListener("click", () => { $("#refused").hidden = true; focusScan(); });
  $("#scan").addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    const code = e.target.value;
    e.target.value = "";
    scanned(code);
  });
  document.addEventListener("click", focusScan);
  if ("BarcodeDetector" in window && navigator.mediaDevices) {
    $("#camera").hidden = false;
    $("#camera").addEventListener("click", cameraScan);
  }
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/handheld/sw.js", { scope: "/handheld/" }).catch(() => {});
  show("login");
  document.body.dataset.ready = "true";
}

start();
