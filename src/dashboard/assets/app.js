"use strict";
// The live floor page: one server-sent event stream, rendered into the page as it arrives.
// Text is always set as text (never as HTML): alarm texts and ids come from outside.

let session = null;
const SVG = "http://www.w3.org/2000/svg";

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("data-")) e.setAttribute(k, v); else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function rows(id, list) {
  document.querySelector(`#${id} tbody`).replaceChildren(...list);
}

function time(ms) {
  return ms ? new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "—";
}

function left(ms, now) {
  if (!ms) return "—";
  const m = Math.round((ms - now) / 60000);
  return m >= 0 ? `${time(ms)} (${m} min left)` : `${time(ms)} (${-m} min late)`;
}

function pct(v) {
  return v === null || v === undefined ? "—" : `${(v * 100).toFixed(2)} %`;
}

function say(text, good) {
  const m = document.getElementById("message");
  m.textContent = text;
  m.className = "message " + (good ? "good" : "bad");
}

async function command(path, body) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "X-CSRF-Token": session.csrf, "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
    credentials: "same-origin",
  });
  let answer = { message: r.statusText };
  try { answer = await r.json(); } catch (_) { /* not JSON */ }
  say(`${r.status === 200 ? "" : r.status + " "}${answer.message}`, r.status === 200);
  loadAudit();
  return r.status;
}

function button(label, path, body) {
  const b = el("button", { type: "button", textContent: label });
  b.addEventListener("click", () => command(path, body));
  return b;
}

function stateClass(state, link) {
  if (!link) return "state-bad";
  if (state === "Execute") return "state-ok";
  if (["Aborted", "Aborting", "Stopped", "Stopping"].includes(state)) return "state-bad";
  return "state-warn";
}

function drawFloor(v) {
  const f = document.getElementById("floor");
  const parts = [];
  const conveyor = v.equipment.find((e) => e.id === v.pick_conveyor) || v.equipment.find((e) => e.zones > 0);
  const sorter = v.equipment.find((e) => e !== conveyor);
  if (conveyor) {
    const n = Math.max(conveyor.zones, 1);
    const w = 420 / n;
    const running = conveyor.link_up && conveyor.state === "Execute";
    parts.push(svg("text", { x: 10, y: 20 }, `${conveyor.id}: ${conveyor.link_up ? conveyor.state || "?" : "link down"}`));
    for (let z = 0; z < n; z++) {
      const fault = conveyor.faults.some((x) => x.condition === `zone${z}`);
      const asleep = (conveyor.zones_asleep || [])[z];
      const cls = fault ? "zone fault" : !running ? "zone stopped" : asleep ? "zone asleep" : "zone";
      const r = svg("rect", { x: 10 + z * w, y: 30, width: w - 4, height: 34, class: cls });
      r.append(svg("title", {}, `zone ${z}${fault ? ": faulted" : ""}`));
      parts.push(r, svg("text", { x: 14 + z * w, y: 52 }, `z${z}`));
    }
  }
  parts.push(svg("text", { x: 10, y: 90 }, `totes in flight: ${v.in_flight} · recirculations: ${v.recirculations}`));
  if (sorter) {
    const running = sorter.link_up && sorter.state === "Execute";
    const fault = sorter.faults.length > 0 || !sorter.link_up;
    parts.push(svg("rect", { x: 450, y: 30, width: 440, height: 34, class: fault ? "sorter fault" : running ? "sorter" : "sorter stopped" }));
    parts.push(svg("text", { x: 460, y: 20 }, `${sorter.id}: ${sorter.link_up ? sorter.state || "?" : "link down"}`));
  }
  const cw = 440 / Math.max(v.chutes.length, 1);
  v.chutes.forEach((c, i) => {
    const x = 450 + i * cw;
    const cls = c.disabled ? "chute disabled" : c.full ? "chute full" : "chute";
    const r = svg("rect", { x, y: 80, width: cw - 6, height: 110, class: cls, "data-chute": c.chute });
    r.append(svg("title", {}, `chute ${c.chute} (${c.lane})${c.full ? " full" : ""}${c.disabled ? " disabled" : ""}`));
    parts.push(r);
    parts.push(svg("text", { x: x + 4, y: 100 }, `${c.chute}`));
    parts.push(svg("text", { x: x + 4, y: 120 }, c.lane));
    parts.push(svg("text", { x: x + 4, y: 175 }, `${c.totes}`));
  });
  f.replaceChildren(...parts);
}

function drawEquipment(v) {
  rows("equipment", v.equipment.map((e) => el("tr", {},
    el("td", {}, e.id),
    el("td", {}, e.link_up ? "up" : "down"),
    el("td", { class: stateClass(e.state, e.link_up) }, e.state || "unknown"),
    el("td", {}, e.faults.map((x) => x.text).join("; ") || "—"),
    el("td", {}, ...["Start", "Stop", "Hold", "Unhold", "Reset", "Clear"].map((c) =>
      button(c, `/api/equipment/${encodeURIComponent(e.id)}/${c.toLowerCase()}`))),
  )));
}

function drawCharts(v) {
  const minutes = v.throughput;
  const series = [["totes", "totes"], ["lines", "lines"], ["orders", "orders"]];
  const now = v.now - (v.now % 60000);
  document.getElementById("charts").replaceChildren(...series.map(([key, label]) => {
    const inHour = minutes.filter((m) => m.at > now - 3600000);
    const total = inHour.reduce((a, m) => a + m[key], 0);
    const max = Math.max(1, ...inHour.map((m) => m[key]));
    const s = svg("svg", { viewBox: "0 0 600 40", preserveAspectRatio: "none", id: `chart-${key}` });
    for (const m of inHour) {
      const slot = 59 - Math.round((now - m.at) / 60000);
      const h = (m[key] / max) * 38;
      const bar = svg("rect", { x: slot * 10, y: 40 - h, width: 9, height: h });
      bar.append(svg("title", {}, `${time(m.at)}: ${m[key]} ${label}`));
      s.append(bar);
    }
    return el("div", { class: "chart" }, el("span", {}, el("b", {}, total), ` ${label}/h`), s);
  }));
}

function drawWaves(v) {
  rows("waves", v.waves.map((w) => {
    const bar = el("div", { class: "bar" });
    const picked = el("span", { class: "picked" });
    const sorted = el("span", { class: "sorted" });
    picked.style.width = `${w.orders ? (100 * w.picked) / w.orders : 0}%`;
    sorted.style.width = `${w.orders ? (100 * w.sorted) / w.orders : 0}%`;
    bar.append(picked, sorted, el("em", {}, `${w.sorted}/${w.orders} sorted, ${w.picked} picked, ${w.waiting} waiting`));
    const act = w.held
      ? button("Release", `/api/waves/${encodeURIComponent(w.cutoff)}/release`)
      : button("Hold", `/api/waves/${encodeURIComponent(w.cutoff)}/hold`);
    const cls = w.at_risk ? "at-risk" : w.held ? "held" : "";
    return el("tr", { class: cls, "data-cutoff": w.cutoff },
      el("td", {}, w.cutoff, w.at_risk ? " — at risk" : "", w.held ? " — held" : ""),
      el("td", {}, w.lane), el("td", {}, bar),
      el("td", {}, left(w.due, v.now)), el("td", {}, time(w.projected)), el("td", {}, act));
  }));
}

function drawAlarms(v) {
  rows("alarms", v.alarms.map((a) => el("tr", { class: `alarm-${a.state}`, "data-alarm": a.id },
    el("td", {}, a.id), el("td", {}, time(a.raised)), el("td", {}, a.source),
    el("td", {}, a.text, a.repeats ? ` (${a.repeats} more like it, the last at ${time(a.last)})` : ""),
    el("td", { class: "alarm-state" }, a.state.replace("_", " "),
      a.acknowledged_by ? ` by ${a.acknowledged_by}` : "", a.cleared ? ` · cleared ${time(a.cleared)}` : ""),
    el("td", {}, a.acknowledged_by ? "" : Object.assign(button("Acknowledge", `/api/alarms/${a.id}/ack`), { className: "ack" })),
  )));
}

function drawHandhelds(v) {
  rows("handhelds", v.handhelds.map((h) => el("tr", {},
    el("td", { class: h.online ? "state-ok" : "state-bad" }, h.id, h.online ? "" : " (offline)"),
    el("td", {}, h.picker || "—"), el("td", {}, h.doing),
    el("td", {},
      Object.assign(button("Hand work back", `/api/handhelds/${encodeURIComponent(h.id)}/release`),
        { title: "Its unfinished work goes to other pickers; it gets new work when it logs in again" }),
      Object.assign(button("Reset counter", `/api/handhelds/${encodeURIComponent(h.id)}/reset`),
        { title: "For a swapped or reinstalled device refused as stale" })))));
}

function drawForward(v) {
  const f = v.forward;
  document.getElementById("forward-summary").textContent = f.faces
    ? `${f.faces} faces · ${f.open_replenishments} refills open · ${f.replenished} done · ${f.emergencies} emergencies · stock-outs coming: ${f.stockouts.length ? f.stockouts.join(", ") : "none"} · lines served forward: ${f.lines_forward}`
    : "No forward pick faces installed.";
  rows("forward", f.shown.map((x) => {
    const bar = el("div", { class: "bar" });
    const fill = el("span", { class: x.on_hand <= x.min ? "picked" : "sorted" });
    fill.style.width = `${Math.min(100, (100 * x.on_hand) / Math.max(1, x.max))}%`;
    bar.append(fill, el("em", {}, `${x.on_hand} of ${x.max} (min ${x.min}, +${x.inbound} coming)`));
    return el("tr", {}, el("td", {}, x.location), el("td", {}, x.sku), el("td", {}, bar),
      el("td", { class: x.projected < 0 ? "state-bad" : "" }, x.projected));
  }));
}

function drawKpis(v) {
  rows("kpis", v.kpis.map((k) => el("tr", {},
    el("td", {}, k.name), el("td", {}, el("b", {}, pct(k.value))),
    el("td", {}, `${k.good} of ${k.of}`), el("td", {}, k.definition))));
}

function render(v) {
  for (const [id, key] of [["orders", "orders"], ["picked", "picked"], ["sorted", "sorted"], ["totes-sorted", "totes_sorted"], ["in-flight", "in_flight"]]) {
    document.getElementById(id).textContent = v[key];
  }
  document.getElementById("site").textContent = v.site;
  const broker = document.getElementById("broker");
  broker.textContent = v.broker.words;
  broker.className = v.broker.connected ? "" : "state-bad";
  drawFloor(v); drawEquipment(v); drawCharts(v); drawWaves(v); drawAlarms(v);
  drawHandhelds(v); drawForward(v); drawKpis(v);
}

// The network view: every site this user may see, refreshed every five seconds; absent when
// this site is not part of a network.
async function loadNetwork() {
  const r = await fetch("/api/network", { credentials: "same-origin" });
  if (!r.ok) return false;
  const n = await r.json();
  document.getElementById("network-section").hidden = false;
  rows("network", n.sites.map((s) => {
    const st = s.status || {};
    const risk = s.at_risk.map((w) => w.cutoff).join(", ");
    return el("tr", { class: !s.owned ? "state-bad" : risk ? "at-risk" : "", "data-site": s.site },
      el("td", {}, s.site, s.site === n.here ? " (here)" : ""),
      el("td", { class: s.owned ? "state-ok" : "state-bad" }, s.owned ? s.owner : `no owner (lease ran out ${Math.round(-s.lease_left_ms / 1000)} s ago)`),
      el("td", {}, `${st.sorted ?? 0}/${st.orders ?? 0} sorted`),
      el("td", {}, risk || "none"),
      el("td", {}, `${st.active_alarms ?? 0}${st.plc_links_down ? ` · ${st.plc_links_down} PLC link(s) down` : ""}`),
      el("td", {}, s.pending_transfers));
  }));
  const line = (t, off) => el("tr", { class: off ? "at-risk" : "" },
    el("td", {}, `${t.site} #${t.id}`), el("td", {}, `${t.dc} → ${t.site}`), el("td", {}, t.sku),
    el("td", {}, off ? `${t.qty} asked, ${t.received} received` : t.qty),
    el("td", {}, off ? "received, discrepancy" : t.status.replace("_", " "), t.tote ? ` (tote ${t.tote})` : ""));
  rows("transfers", [...n.discrepancies.map((t) => line(t, true)), ...n.pending_transfers.map((t) => line(t, false))]);
  return true;
}

async function loadAudit() {
  const r = await fetch("/api/audit", { credentials: "same-origin" });
  if (!r.ok) return;
  const entries = await r.json();
  rows("audit", entries.map((e) => el("tr", {}, el("td", {}, time(e.at)), el("td", {}, e.user),
    el("td", {}, e.action), el("td", {}, e.outcome))));
}

async function start() {
  const r = await fetch("/api/session", { credentials: "same-origin" });
  if (!r.ok) { location.href = "/login"; return; }
  session = await r.json();
  document.getElementById("who").textContent = session.user;
  document.getElementById("role").textContent = session.role;
  document.getElementById("logout").addEventListener("click", async () => {
    await fetch("/logout", { method: "POST", headers: { "X-CSRF-Token": session.csrf }, credentials: "same-origin" });
    location.href = "/login";
  });
  document.getElementById("priority-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = document.getElementById("priority-order").value.trim();
    command(`/api/orders/${encodeURIComponent(id)}/priority`, { priority: "urgent" });
  });
  document.getElementById("count-form").addEventListener("submit", (e) => {
    e.preventDefault();
    command("/api/counts", {
      sku: document.getElementById("count-sku").value.trim(),
      location: document.getElementById("count-location").value.trim(),
      qty: Number(document.getElementById("count-qty").value),
    });
  });
  const link = document.getElementById("link");
  const events = new EventSource("/api/live");
  events.addEventListener("floor", (e) => { render(JSON.parse(e.data)); link.textContent = "live"; link.className = "badge on"; });
  events.onerror = () => { link.textContent = "reconnecting"; link.className = "badge off"; };
  loadAudit();
  if (await loadNetwork()) setInterval(loadNetwork, 5000);
}

start();
