"use strict";
// The live floor page: one server-sent event stream, rendered into the page as it arrives.
// Text is always set as text (never as HTML): alarm texts and ids come from outside.

let session = null;
const SVG = "http://www.w3.org/2000/svg";

// The page's texts in the reader's language (assets/i18n): the account's, else the browser's.
let texts = {};
let language = "en";

/** The text of `key`, its `{name}`s filled from `params`. */
function t(key, params = {}) {
  const text = texts[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

async function useLanguage(lang) {
  const r = await fetch(`/assets/i18n/${lang}.json`, { credentials: "same-origin" });
  if (!r.ok) return;
  texts = await r.json();
  language = lang;
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-t]").forEach((e) => { e.textContent = t(e.dataset.t); });
  document.querySelectorAll("[data-t-placeholder]").forEach((e) => { e.placeholder = t(e.dataset.tPlaceholder); });
  document.getElementById("language").value = lang;
  const link = document.getElementById("link");
  link.textContent = t({ live: "live.live", stale: "live.no_news" }[link.dataset.live] || "live.connecting");
  if (session) document.getElementById("role").textContent = word("role", session.role);
  // The chart's legend is written when it is made: made again in the new words.
  if (shiftChart) { shiftChart.destroy(); shiftChart = null; document.getElementById("shift-chart").replaceChildren(); }
  if (lastView) render(lastView);
  if (session) { loadAttention(); loadAlarmHistory(); loadAudit(); }
}

/** A state's or kind's word: its text in the catalogue, else the value itself. */
function word(group, value) {
  const key = `${group}.${value}`;
  return key in texts ? texts[key] : String(value).replaceAll("_", " ");
}

function browserLanguage() {
  return (navigator.languages || [navigator.language]).some((l) => /^zh\b/i.test(l)) ? "zh" : "en";
}

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

// Times of day in 24-hour form, as cut-offs are named.
const CLOCK = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };

function time(ms) {
  return ms ? new Date(ms).toLocaleTimeString("en-GB", { ...CLOCK, second: "2-digit" }) : "—";
}

// `text` said of an instant, after its date when that is not the day of `now`.
function dated(ms, now, text) {
  const d = new Date(ms);
  return d.toDateString() === new Date(now).toDateString()
    ? text
    : `${d.toLocaleDateString(language === "zh" ? "zh-CN" : "en-GB", { weekday: "short", day: "numeric", month: "short" })} ${text}`;
}

// A due time: its hour and minute, with its date when it is not today.
function due(ms, now) {
  return ms ? dated(ms, now, new Date(ms).toLocaleTimeString("en-GB", CLOCK)) : "—";
}

// An instant: its time, with its date when it is not today.
function when(ms) {
  return dated(ms, Date.now(), time(ms));
}

// Minutes as words: "1 h 5 min", "40 min".
function minutes(m) {
  if (m >= 60 && m % 60 === 0) return t("time.hours", { h: m / 60 });
  return m >= 60 ? t("time.hours_minutes", { h: Math.floor(m / 60), m: m % 60 }) : t("time.minutes", { m });
}

// How a cut-off stands: done, late by, or time to spare, from the projected finish.
function standing(w, now) {
  if (w.orders > 0 && w.sorted >= w.orders) return [t("standing.done"), "state-ok"];
  if (!w.due) return ["—", ""];
  if (!w.projected) {
    return w.due < now ? [t("standing.late", { time: minutes(Math.round((now - w.due) / 60000)) }), "state-bad"] : [t("standing.no_rate"), ""];
  }
  const m = Math.round((w.due - w.projected) / 60000);
  return m >= 0 ? [t("standing.spare", { time: minutes(m) }), "state-ok"] : [t("standing.late", { time: minutes(-m) }), "state-bad"];
}

function supervisor() {
  return session && session.role === "supervisor";
}

function pct(v) {
  return v === null || v === undefined ? "—" : `${(v * 100).toFixed(2)} %`;
}

function say(text, good) {
  const m = document.getElementById("message");
  m.textContent = text;
  m.className = "message " + (good ? "good" : "bad");
}

async function command(path, body, done) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "X-CSRF-Token": session.csrf, "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
    credentials: "same-origin",
  });
  let answer = { message: "" };
  try { answer = await r.json(); } catch (_) { /* not JSON */ }
  const text = r.status === 200 ? done : endingWords(answer.said) ?? (answer.message || "").replace(/^refused: /, t("command.not_done"));
  say(text || t("command.no_answer"), r.status === 200);
  loadAudit();
  return r.status;
}

// A command button; `done` is what the message line says when the controller has taken it.
// One that stops the floor (`confirm`) asks again before it is sent: the first click arms it
// for 5 s (kept across the live page's redraws), the second sends it.
let armed = null;
const ARMED_MS = 5000;

function isArmed(path) {
  return armed !== null && armed.path === path && Date.now() < armed.until;
}

function button(label, path, body, done, confirm, taken) {
  const asking = t("command.confirm", { command: label.toLowerCase() });
  const b = el("button", { type: "button", textContent: confirm && isArmed(path) ? asking : label });
  if (confirm && isArmed(path)) b.classList.add("confirm");
  b.addEventListener("click", () => {
    if (confirm && !isArmed(path)) {
      armed = { path, until: Date.now() + ARMED_MS };
      b.textContent = asking;
      b.classList.add("confirm");
      setTimeout(() => { if (!isArmed(path)) { b.textContent = label; b.classList.remove("confirm"); } }, ARMED_MS + 50);
      return;
    }
    armed = null;
    command(path, body, done || t("command.done", { command: label })).then((status) => { if (status === 200 && taken) taken(); });
  });
  return b;
}

function stateClass(state, link) {
  if (!link) return "state-bad";
  if (state === "Execute") return "state-ok";
  if (["Aborted", "Aborting", "Stopped", "Stopping"].includes(state)) return "state-bad";
  return "state-warn";
}

// The floor, a line under another: the conveyors whose totes reach a sorter, the sorter and its
// chutes.
const LINE_H = 230;

function drawFloor(v) {
  const f = document.getElementById("floor");
  const parts = [];
  const lines = v.lines && v.lines.length ? v.lines : [{ sorter: null, conveyors: [], chutes: v.chutes.map((c) => c.chute) }];
  lines.forEach((line, i) => drawLine(v, line, i * LINE_H, parts));
  f.setAttribute("viewBox", `0 0 900 ${LINE_H * lines.length}`);
  f.style.maxHeight = `${260 * lines.length}px`;
  f.replaceChildren(...parts);
}

function machineLabel(m) {
  return `${m.id}: ${m.link_up ? (m.state ? word("state", m.state) : "?") : t("floor.link_down")}`;
}

function drawLine(v, line, y0, parts) {
  const conveyors = line.conveyors.map((id) => v.equipment.find((e) => e.id === id)).filter(Boolean);
  const cw = 420 / Math.max(conveyors.length, 1);
  conveyors.forEach((conveyor, k) => {
    const x0 = 10 + k * cw;
    const n = Math.max(conveyor.zones, 1);
    const w = (cw - 10) / n;
    const running = conveyor.link_up && conveyor.state === "Execute";
    parts.push(svg("text", { x: x0, y: y0 + 20, "data-machine": conveyor.id }, machineLabel(conveyor)));
    for (let z = 0; z < n; z++) {
      const fault = conveyor.faults.some((x) => x.condition === `zone${z}`);
      const asleep = (conveyor.zones_asleep || [])[z];
      const cls = fault ? "zone fault" : !running ? "zone stopped" : asleep ? "zone asleep" : "zone";
      const r = svg("rect", { x: x0 + z * w, y: y0 + 30, width: w - 4, height: 34, class: cls });
      r.append(svg("title", {}, t(fault ? "floor.zone_faulted" : "floor.zone", { zone: z })));
      parts.push(r, svg("text", { x: x0 + 4 + z * w, y: y0 + 52 }, `z${z}`));
    }
  });
  if (y0 === 0) parts.push(svg("text", { x: 10, y: 90 }, t("floor.in_flight", { totes: v.in_flight, recirculations: v.recirculations })));
  const sorter = v.equipment.find((e) => e.id === line.sorter);
  if (sorter) {
    const running = sorter.link_up && sorter.state === "Execute";
    const fault = sorter.faults.length > 0 || !sorter.link_up;
    parts.push(svg("rect", { x: 450, y: y0 + 30, width: 440, height: 34, class: fault ? "sorter fault" : running ? "sorter" : "sorter stopped" }));
    parts.push(svg("text", { x: 460, y: y0 + 20, "data-machine": sorter.id }, machineLabel(sorter)));
  }
  const chutes = v.chutes.filter((c) => line.chutes.includes(c.chute));
  const w = 440 / Math.max(chutes.length, 1);
  chutes.forEach((c, i) => {
    const x = 450 + i * w;
    const cls = c.disabled ? "chute disabled" : c.full ? "chute full" : "chute";
    const r = svg("rect", { x, y: y0 + 80, width: w - 6, height: 110, class: cls, "data-chute": c.chute });
    const lane = c.role ? t(`floor.${c.role}`) : c.lane;
    r.append(svg("title", {}, `${t("floor.chute", { chute: c.chute, lane })}${c.full ? ` ${t("floor.full")}` : ""}${c.disabled ? ` ${t("floor.disabled")}` : ""}`));
    parts.push(r);
    parts.push(svg("text", { x: x + 4, y: y0 + 100 }, `${c.chute}`));
    parts.push(svg("text", { x: x + 4, y: y0 + 120 }, lane));
    parts.push(svg("text", { x: x + 4, y: y0 + 175 }, `${c.totes}`));
  });
}

// Commands that stop the floor ask for confirmation.
const STOPPING = ["Stop", "Abort", "Hold"];

// The states a machine passes through when it takes a command, and how long it has.
const TAKES = {
  Start: ["Starting", "Execute"], Stop: ["Stopping", "Stopped"], Hold: ["Holding", "Held"],
  Unhold: ["Unholding", "Execute"], Reset: ["Resetting", "Idle", "Starting", "Execute"],
  Clear: ["Clearing", "Stopped", "Resetting", "Idle", "Starting", "Execute"], Abort: ["Aborting", "Aborted"],
};
const ACT_WITHIN_MS = 5000;
// A command sent to a machine, watched on the live feed until the PLC acts on it.
let watching = null;

function watchCommand(v) {
  if (!watching) return;
  const m = v.equipment.find((e) => e.id === watching.machine);
  if (m && m.link_up && TAKES[watching.command].includes(m.state)) {
    say(t("machine.took", { machine: watching.machine, command: word("command", watching.command), state: word("state", m.state) }), true);
    watching = null;
  } else if (Date.now() - watching.since > ACT_WITHIN_MS) {
    const now = m && m.link_up ? (m.state ? word("state", m.state) : t("machine.unknown_state")) : t("machine.out_of_contact");
    say(t("machine.not_acted", { machine: watching.machine, command: word("command", watching.command), s: ACT_WITHIN_MS / 1000, now }), false);
    watching = null;
  }
}

// The machine whose detail is open, if any.
let machineShown = null;

// A machine's detail: its link's figures, faults and energy per zone.
function machineDetail(e) {
  const energy = (e.energy_kwh || []);
  const total = energy.reduce((a, b) => a + b, 0);
  return el("tr", { class: "detail", "data-detail": e.id }, el("td", { colSpan: 5 },
    el("div", {}, t("machine.link_figures", { link: t(e.link_up ? "link.up" : "link.down"), words: word("link_state", e.link_state), polls: e.polls,
      lost: e.links_lost, resent: e.requests_resent, exceptions: e.exceptions, waiting: e.pending_commands })),
    el("div", {}, t("machine.faults", { faults: e.faults.map(alarmWords).join("; ") || t("none") })),
    energy.length ? el("div", {}, t("machine.energy", { zones: energy.map((k, z) => t("machine.zone_energy", { zone: z, kwh: k.toFixed(3) })).join(", "),
      total: total.toFixed(3) })) : ""));
}

function drawEquipment(v) {
  rows("equipment", v.equipment.flatMap((e) => [el("tr", { "data-machine": e.id },
    el("td", {}, Object.assign(el("a", { href: "#", textContent: e.id, title: t("machine.show_detail") }), {
      onclick: (ev) => { ev.preventDefault(); machineShown = machineShown === e.id ? null : e.id; drawEquipment(v); },
    })),
    el("td", {}, t(e.link_up ? "link.up" : "link.down")),
    el("td", { class: stateClass(e.state, e.link_up) }, e.state ? word("state", e.state) : t("machine.unknown")),
    el("td", {}, e.faults.map(alarmWords).join("; ") || "—"),
    el("td", {}, ...(supervisor() ? ["Start", "Stop", "Hold", "Unhold", "Reset", "Clear", "Abort"].map((c) => {
      const b = button(word("command", c), `/api/equipment/${encodeURIComponent(e.id)}/${c.toLowerCase()}`, undefined,
        t("machine.sent", { command: word("command", c), machine: e.id }), STOPPING.includes(c),
        () => { watching = { machine: e.id, command: c, since: Date.now() }; });
      b.disabled = !(e.commands || []).includes(c);
      if (b.disabled) b.title = e.link_up ? t("machine.not_possible", { state: e.state ? word("state", e.state) : t("machine.unknown") }) : t("machine.link_is_down");
      return b;
    }) : [])),
  ), ...(machineShown === e.id ? [machineDetail(e)] : [])]));
}

function drawCharts(v) {
  const minutes = v.throughput;
  const series = [["totes", t("chart.totes")], ["lines", t("chart.lines")], ["orders", t("chart.orders")]];
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
    return el("div", { class: "chart" }, el("span", {}, el("b", {}, total), ` ${t("chart.per_hour", { what: label })}`), s);
  }));
}

// Work per five minutes over the last twelve hours, drawn by uPlot with a time axis in 24-hour
// form; spans without work count as none.
const SPAN_MS = 5 * 60000;
let shiftChart = null;

function shiftData(v) {
  const spans = v.shift || [];
  const end = v.now - (v.now % SPAN_MS);
  // At least the last hour, at most the last twelve.
  const first = spans.length ? Math.min(spans[0].at, end - 3600000) : end - 3600000;
  const start = Math.max(first, end - 12 * 3600000);
  const by = new Map(spans.map((m) => [m.at, m]));
  const xs = [], totes = [], lines = [], orders = [];
  for (let at = start; at <= end; at += SPAN_MS) {
    const m = by.get(at) || { totes: 0, lines: 0, orders: 0 };
    xs.push(at / 1000); totes.push(m.totes); lines.push(m.lines); orders.push(m.orders);
  }
  return [xs, totes, lines, orders];
}

function drawShift(v) {
  const box = document.getElementById("shift-chart");
  const data = shiftData(v);
  const width = Math.max(280, box.clientWidth);
  if (!shiftChart) {
    shiftChart = new uPlot({
      width, height: 220,
      scales: { x: { time: true } },
      series: [
        { label: t("chart.time"), value: (u, at) => (at == null ? "—" : new Date(at * 1000).toLocaleTimeString("en-GB", CLOCK)) },
        { label: t("chart.totes_sorted"), stroke: "#1b873f", width: 2 },
        { label: t("chart.lines_picked"), stroke: "#3b7dd8", width: 2 },
        { label: t("chart.orders_picked"), stroke: "#c77700", width: 2 },
      ],
      axes: [{ values: (u, splits) => splits.map((t) => new Date(t * 1000).toLocaleTimeString("en-GB", CLOCK)) },
        { label: t("chart.per_5_min") }],
    }, data, box);
    return;
  }
  if (shiftChart.width !== width) shiftChart.setSize({ width, height: 220 });
  shiftChart.setData(data);
}

function drawWaves(v) {
  const working = v.handhelds.filter((h) => h.online && h.picker).length;
  rows("waves", v.waves.map((w) => {
    const bar = el("div", { class: "bar" });
    const picked = el("span", { class: "picked" });
    const sorted = el("span", { class: "sorted" });
    picked.style.width = `${w.orders ? (100 * w.picked) / w.orders : 0}%`;
    sorted.style.width = `${w.orders ? (100 * w.sorted) / w.orders : 0}%`;
    bar.append(picked, sorted);
    const counts = el("div", { class: "counts" },
      t("wave.counts", { sorted: w.sorted, orders: w.orders, to_pick: w.orders - w.picked }),
      w.lines_left ? t("wave.lines_left", { lines: w.lines_left }) : "",
      w.pickers_needed ? el("span", { class: `pickers ${w.pickers_needed > working ? "state-bad" : ""}` },
        t(w.pickers_needed === 1 ? "wave.needs_one" : "wave.needs", { n: w.pickers_needed, working })) : "");
    const act = !supervisor() ? "" : w.held
      ? button(t("action.release"), `/api/waves/${encodeURIComponent(w.cutoff)}/release`, undefined, t("wave.released", { cutoff: w.cutoff }))
      : button(t("action.hold"), `/api/waves/${encodeURIComponent(w.cutoff)}/hold`, undefined, t("wave.held", { cutoff: w.cutoff }), true);
    const done = w.orders > 0 && w.sorted >= w.orders;
    const cls = done ? "done" : w.at_risk ? "at-risk" : w.held ? "held" : "";
    const [words, wordsClass] = standing(w, v.now);
    return el("tr", { class: cls, "data-cutoff": w.cutoff },
      el("td", {}, w.cutoff, w.at_risk && !done ? ` — ${t("wave.at_risk")}` : "", w.held ? ` — ${t("wave.is_held")}` : ""),
      el("td", {}, w.lane), el("td", {}, bar, counts),
      el("td", {}, due(w.due, v.now)), el("td", {}, w.projected ? due(w.projected, v.now) : "—"),
      el("td", { class: `standing ${wordsClass}` }, words), el("td", {}, act));
  }));
}

// The last view drawn, for redrawing the alarms between feeds.
let lastView = null;

// Details of a text made by the controller that are themselves words, by their group.
const WORDED_DETAILS = {
  trouble: "link_trouble", condition: "plc_condition", command: "command", state: "state",
  status: "status", priority: "order.priority",
};

// A text the controller made as a code with its details (`{code, params}`), in the reader's
// language from the catalogue's `group`; null when the catalogue does not know the code.
function worded(group, said) {
  if (!said) return null;
  const params = { ...said.params };
  let code = said.code;
  if (Array.isArray(params.accepted)) {
    if (!params.accepted.length) code = `${code}_none`;
    params.accepted = params.accepted.map((c) => word("command", c)).join(t("list.and"));
  }
  if (!(`${group}.${code}` in texts)) return null;
  for (const [name, g] of Object.entries(WORDED_DETAILS)) if (name in params) params[name] = word(g, params[name]);
  return t(`${group}.${code}`, params);
}

// How a command ended (`{code, params}`), in the reader's language.
function endingWords(ending) {
  if (!ending || !(`ending.${ending.code}` in texts)) return null;
  const why = ending.code === "refused" ? worded("refused", ending.params) : null;
  return ending.code === "refused" && !why ? null : t(`ending.${ending.code}`, { why });
}

// An alarm's text in the reader's language, else the English text it came with; a detail
// meant for the log (`detail`, `fault`) goes to the cell's tooltip.
function alarmWords(a) {
  return worded("alarm_text", a.said) ?? a.text;
}

function alarmText(a) {
  const logged = a.said?.params?.detail ?? a.said?.params?.fault;
  return el("span", logged ? { title: t("alarm.detail", { detail: logged }) } : {}, alarmWords(a));
}

// Alarms waiting for a supervisor first, the most urgent first; then the rest, newest first.
const PRIORITY_ORDER = { high: 0, medium: 1, low: 2 };

function drawAlarms(v, force) {
  lastView = v;
  const open = (a) => ["active", "acknowledged"].includes(a.state);
  // A shelving form being filled in is left as it is until it is sent or cancelled.
  const filling = shelving !== null && document.querySelector(".shelve-form");
  if (filling && !force) return drawAlarmCounts(v);
  const sorted = [...v.alarms].sort((a, b) =>
    (open(b) - open(a)) || (open(a) && PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority]) || b.id - a.id);
  rows("alarms", sorted.map((a) => el("tr", { class: `alarm-${a.state}`, "data-alarm": a.id },
    el("td", {}, a.id), el("td", {}, el("span", { class: `priority ${a.priority}` }, word("priority", a.priority))),
    el("td", {}, time(a.raised)), el("td", {}, a.source),
    el("td", {}, alarmText(a), a.repeats ? el("div", { class: "repeats" }, t(a.standing ? "alarm.came_back" : "alarm.happened", { n: a.repeats, at: time(a.last) })) : ""),
    el("td", { class: "alarm-state" }, word("alarm.state", a.state),
      a.acknowledged_by ? ` ${t("alarm.by", { who: a.acknowledged_by })}` : "", a.cleared ? ` · ${t("alarm.cleared_at", { at: time(a.cleared) })}` : "",
      a.shelved && a.state === "shelved" ? el("div", { class: "repeats" }, t("alarm.shelf", { who: a.shelved.by, until: time(a.shelved.until), reason: a.shelved.reason })) : ""),
    el("td", { class: "alarm-actions" }, ...(supervisor() ? [
      a.acknowledged_by ? "" : Object.assign(button(t("action.acknowledge"), `/api/alarms/${a.id}/ack`, undefined, t("alarm.acknowledged", { id: a.id })), { className: "ack" }),
      ["active", "acknowledged"].includes(a.state) ? shelveControl(a) : "",
    ] : [])),
  )));
  drawAlarmCounts(v);
}

function drawAlarmCounts(v) {
  const waiting = v.alarms.filter((a) => !a.acknowledged_by && a.state === "active").length;
  document.getElementById("alarms-waiting").textContent = waiting ? t("alarm.waiting", { n: waiting }) : t("alarm.none_waiting");
  const rate = document.getElementById("alarm-rate");
  rate.textContent = t("alarm.rate", { n: v.alarm_rate.last_10_min, manageable: v.alarm_rate.manageable });
  rate.className = v.alarm_rate.last_10_min > v.alarm_rate.manageable ? "muted state-bad" : "muted";
  document.getElementById("ack-all").hidden = !supervisor() || waiting === 0;
}

// Shelving an alarm: a reason and how long, asked in the row itself (kept open across the
// live page's redraws while it is being filled in).
let shelving = null;
const SHELVE_FOR = [15, 60, 240, 480];

function shelveControl(a) {
  if (shelving !== a.id) {
    const b = el("button", { type: "button", textContent: t("action.shelve_ask"), className: "shelve" });
    b.addEventListener("click", () => { shelving = a.id; drawAlarms(lastView, true); });
    return b;
  }
  const reason = el("input", { placeholder: t("shelve.why"), className: "shelve-reason", required: true, maxLength: 200 });
  const span = el("select", { className: "shelve-minutes" },
    ...SHELVE_FOR.map((m) => el("option", { value: m }, minutes(m))));
  const form = el("form", { className: "inline shelve-form" }, reason, span,
    el("button", { type: "submit", textContent: t("action.shelve") }),
    Object.assign(el("button", { type: "button", textContent: t("action.cancel") }), { onclick: () => { shelving = null; drawAlarms(lastView, true); } }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    shelving = null;
    command(`/api/alarms/${a.id}/shelve`, { reason: reason.value.trim(), minutes: Number(span.value) },
      t("alarm.shelved", { id: a.id, time: span.selectedOptions[0].textContent }));
  });
  setTimeout(() => reason.focus(), 0);
  return form;
}

/** What a handheld is doing, in the reader's words. */
function doing(h) {
  const a = h.activity;
  return a && `doing.${a.what}` in texts ? t(`doing.${a.what}`, a) : h.doing;
}

function drawHandhelds(v) {
  rows("handhelds", v.handhelds.map((h) => el("tr", {},
    el("td", { class: h.online ? "state-ok" : "state-bad" }, h.id, h.online ? "" : ` (${t("handheld.offline")})`),
    el("td", {}, h.picker || "—"), el("td", {}, doing(h)),
    el("td", {}, ...(supervisor() ? [
      Object.assign(button(t("action.hand_back"), `/api/handhelds/${encodeURIComponent(h.id)}/release`, undefined, t("handheld.handed_back", { id: h.id })),
        { title: t("handheld.hand_back_hint") }),
      Object.assign(button(t("action.reset_counter"), `/api/handhelds/${encodeURIComponent(h.id)}/reset`, undefined, t("handheld.counter_reset", { id: h.id })),
        { title: t("handheld.reset_hint") })] : [])))));
}

function drawForward(v) {
  const f = v.forward;
  document.getElementById("forward-summary").textContent = f.faces
    ? t("forward.summary", { faces: f.faces, open: f.open_replenishments, done: f.replenished, emergencies: f.emergencies,
      stockouts: f.stockouts.length ? f.stockouts.join(", ") : t("none"), forward: f.lines_forward })
    : t("forward.none");
  rows("forward", f.shown.map((x) => {
    const bar = el("div", { class: "bar" });
    const fill = el("span", { class: x.on_hand <= x.min ? "picked" : "sorted" });
    fill.style.width = `${Math.min(100, (100 * x.on_hand) / Math.max(1, x.max))}%`;
    bar.append(fill, el("em", {}, t("forward.face", { on_hand: x.on_hand, max: x.max, min: x.min, inbound: x.inbound })));
    return el("tr", {}, el("td", {}, x.location), el("td", {}, x.sku), el("td", {}, bar),
      el("td", { class: x.projected < 0 ? "state-bad" : "" }, x.projected));
  }));
}

function drawKpis(v) {
  rows("kpis", v.kpis.map((k) => el("tr", {},
    el("td", {}, `kpi.name.${k.key}` in texts ? t(`kpi.name.${k.key}`, { cutoff: k.cutoff }) : k.name), el("td", {}, el("b", {}, pct(k.value))),
    el("td", {}, t("kpi.counted", { good: k.good, of: k.of })),
    el("td", {}, `kpi.definition.${k.key}` in texts ? t(`kpi.definition.${k.key}`) : k.definition))));
}

function render(v) {
  for (const [id, key] of [["orders", "orders"], ["picked", "picked"], ["sorted", "sorted"], ["totes-sorted", "totes_sorted"], ["in-flight", "in_flight"]]) {
    document.getElementById(id).textContent = v[key];
  }
  document.getElementById("site").textContent = v.site;
  const risky = v.waves.filter((w) => w.at_risk && !(w.orders > 0 && w.sorted >= w.orders)).map((w) => w.cutoff);
  const active = v.alarms.filter((a) => a.state !== "cleared").length;
  const header = document.getElementById("header-alarms");
  header.textContent = t("header.alarms", { alarms: active, risky: risky.length ? risky.join(", ") : t("none") });
  header.className = active || risky.length ? "state-bad" : "";
  const broker = document.getElementById("broker");
  broker.textContent = word("link_state", v.broker.state);
  broker.className = v.broker.connected ? "" : "state-bad";
  watchCommand(v);
  drawFloor(v); drawEquipment(v); drawCharts(v); drawShift(v); drawWaves(v); drawAlarms(v);
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
      el("td", {}, s.site, s.site === n.here ? ` (${t("network.here")})` : ""),
      el("td", { class: s.owned ? "state-ok" : "state-bad" }, s.owned ? s.owner : t("network.no_owner", { s: Math.round(-s.lease_left_ms / 1000) })),
      el("td", {}, t("network.sorted", { sorted: st.sorted ?? 0, orders: st.orders ?? 0 })),
      el("td", {}, risk || t("none")),
      el("td", {}, `${st.active_alarms ?? 0}${st.plc_links_down ? ` · ${t("network.links_down", { n: st.plc_links_down })}` : ""}`),
      el("td", {}, s.pending_transfers));
  }));
  const line = (x, off) => el("tr", { class: off ? "at-risk" : "" },
    el("td", {}, `${x.site} #${x.id}`), el("td", {}, `${x.dc} → ${x.site}`), el("td", {}, x.sku),
    el("td", {}, off ? t("transfer.short", { qty: x.qty, received: x.received }) : x.qty),
    el("td", {}, off ? t("transfer.discrepancy") : x.status.replace("_", " "), x.tote ? ` (${t("transfer.tote", { tote: x.tote })})` : ""));
  rows("transfers", [...n.discrepancies.map((x) => line(x, true)), ...n.pending_transfers.map((x) => line(x, false))]);
  return true;
}

// The page says plainly when what it shows is old: no news for 5 s greys it out under a banner;
// once the controller answers again, a session it no longer knows (it restarted) logs in again.
function watchLiveness(events) {
  const link = document.getElementById("link");
  const banner = document.getElementById("stale");
  let last = Date.now();
  let checking = false;
  events.addEventListener("floor", (e) => {
    last = Date.now();
    render(JSON.parse(e.data));
    link.textContent = t("live.live"); link.dataset.live = "live"; link.className = "badge on";
    document.body.classList.remove("stale"); banner.hidden = true;
  });
  const stale = async () => {
    document.body.classList.add("stale");
    banner.hidden = false;
    banner.textContent = t("live.stale", { since: time(last) });
    link.textContent = t("live.no_news"); link.dataset.live = "stale"; link.className = "badge off";
    if (checking) return;
    checking = true;
    try {
      const r = await fetch("/api/session", { credentials: "same-origin" });
      if (r.status === 401) { location.href = "/login"; return; }
      if (r.ok && events.readyState === EventSource.CLOSED) { location.reload(); return; }
    } catch (_) { /* the controller is away: try again */ }
    checking = false;
  };
  events.onerror = stale;
  setInterval(() => { if (Date.now() - last > 5000) stale(); }, 1000);
}

// What a published event says, in a few words (never its raw JSON).
const EVENT_DETAILS = ["handheld", "sku", "qty", "tote", "chute", "lane"];

function eventWords(e) {
  const d = e.data || {};
  const details = EVENT_DETAILS.filter((k) => d[k] !== undefined && d[k] !== null).map((k) => t(`event.detail.${k}`, { value: d[k] }));
  const key = `event.${e.type}`;
  return [key in texts ? t(key) : e.type.replace(".", " ").replace("_", " "), details.join(", ")];
}

function orderFound(o, heading) {
  const events = (o.events || []).map((e) => {
    const [what, details] = eventWords(e);
    return el("tr", {}, el("td", {}, time(Date.parse(e.timestamp))), el("td", {}, what), el("td", {}, details));
  });
  const lines = (o.lines || []).map((l) => `${l.qty} × ${l.sku}${l.location ? ` ${t("found.at", { location: l.location })}` : ""}`).join(" · ");
  const urgent = supervisor() && o.priority !== "urgent" && !["sorted", "cancelled"].includes(o.status)
    ? button(t("action.make_urgent"), `/api/orders/${encodeURIComponent(o.order)}/priority`, { priority: "urgent" }, t("order.urgent", { order: o.order })) : "";
  return el("div", { class: "found-item", "data-found": `order:${o.order}` },
    el("h3", {}, heading, " ", urgent),
    el("p", {}, [word("status", o.status), t("found.cutoff", { cutoff: o.cutoff || t("found.next") }), word("order.priority", o.priority),
      o.destination ? t("found.to", { destination: o.destination }) : "", o.tote ? t("found.tote", { tote: o.tote }) : "", lines]
      .filter((x) => x).join(" · ")),
    el("table", { class: "history" }, el("thead", {}, el("tr", {}, el("th", {}, t("col.when")), el("th", {}, t("col.what")), el("th", {}, ""))),
      el("tbody", {}, ...events)));
}

function showFound(x) {
  if (x.found === "order") return orderFound(x.order, t("found.order", { id: x.id }));
  if (x.found === "tote") {
    const where = `${word("tote.status", x.status)}${x.chute ? ` ${t("found.in_chute", { chute: x.chute })}` : ""}`;
    return x.order ? orderFound(x.order, t("found.tote_of_order", { id: x.id, where, order: x.order_id }))
      : el("div", { class: "found-item" }, el("h3", {}, t("found.tote_alone", { id: x.id, where, order: x.order_id })));
  }
  if (x.found === "handheld") {
    const h = x.handheld;
    return el("div", { class: "found-item", "data-found": `handheld:${h.id}` },
      el("h3", {}, t("found.handheld", { id: h.id })),
      el("p", {}, `${t(h.online ? "handheld.online" : "handheld.offline")} · ${h.picker || t("handheld.nobody")} · ${doing(h)}`));
  }
  return el("div", { class: "found-item", "data-found": `sku:${x.id}` }, el("h3", {}, t("found.sku", { id: x.id })),
    el("p", {}, x.faces.map((f) => `${f.location}: ${t("found.face", { on_hand: f.on_hand, max: f.max, min: f.min, inbound: f.inbound })}`).join(" · ")));
}

async function find(q) {
  const section = document.getElementById("found-section");
  const box = document.getElementById("found");
  section.hidden = false;
  let r = null;
  let answer = {};
  try {
    r = await fetch(`/api/search?q=${encodeURIComponent(q)}`, { credentials: "same-origin" });
    answer = await r.json();
  } catch (_) { /* no answer */ }
  if (!r || !r.ok) {
    box.replaceChildren(el("p", { class: "message bad" }, answer.message || t("command.no_answer")));
    return;
  }
  box.replaceChildren(...answer.results.map(showFound));
}

// The orders a supervisor should look at, each opening its history when clicked.
async function loadAttention() {
  const r = await fetch("/api/attention", { credentials: "same-origin" });
  if (!r.ok) return;
  const a = await r.json();
  const item = (id, words) => {
    const link = el("a", { href: "#", textContent: id });
    link.addEventListener("click", (e) => { e.preventDefault(); find(id); });
    return el("li", { "data-order": id }, link, ` ${words}`);
  };
  const list = (id, items, none) =>
    document.getElementById(id).replaceChildren(...(items.length ? items : [el("li", { class: "none" }, none)]));
  const of = (o) => [t("found.cutoff", { cutoff: o.cutoff }), word("status", o.status), o.tote ? t("found.tote", { tote: o.tote }) : ""]
    .filter((x) => x).join(", ");
  list("attention-late", a.late.map((o) => item(o.order, of(o))), t("none"));
  list("attention-risk", a.at_risk.map((o) => item(o.order, of({ ...o, tote: null }))), t("none"));
  list("attention-exceptions", a.exceptions.map((x) => item(x.order,
    `${t("found.tote", { tote: x.tote })} ${x.status === "lost" ? t("tote.status.lost") : t("found.in_chute", { chute: x.chute })}`)), t("none"));
}

// The alarm history from the database: raised and cleared, newest first, searched by words.
async function loadAlarmHistory() {
  const q = document.getElementById("history-q").value.trim();
  const r = await fetch(`/api/alarms/history?q=${encodeURIComponent(q)}`, { credentials: "same-origin" });
  const answer = await r.json().catch(() => ({}));
  if (!r.ok) { say(answer.message || t("command.no_answer"), false); return; }
  rows("alarm-history", answer.alarms.map((a) => el("tr", { class: a.raised ? "" : "cleared" },
    el("td", {}, when(a.at)),
    el("td", {}, t(a.raised ? "history.raised" : "history.cleared")), el("td", {}, a.source), el("td", {}, alarmText(a)))));
  if (!answer.alarms.length) {
    rows("alarm-history", [el("tr", {}, el("td", { colSpan: 4 }, q ? t("history.nothing", { q }) : t("history.none")))]);
  }
}

async function loadAudit() {
  const r = await fetch("/api/audit", { credentials: "same-origin" });
  if (!r.ok) return;
  const entries = await r.json();
  rows("audit", entries.map((e) => el("tr", {}, el("td", {}, time(e.at)), el("td", {}, e.user),
    el("td", {}, worded("did", e.said?.action) ?? e.action), el("td", {}, endingWords(e.said?.outcome) ?? e.outcome))));
}

async function start() {
  const r = await fetch("/api/session", { credentials: "same-origin" });
  if (!r.ok) { location.href = "/login"; return; }
  session = await r.json();
  await useLanguage(session.language || localStorage.getItem("floorctl.language") || browserLanguage());
  document.getElementById("language").addEventListener("change", async (e) => {
    const lang = e.target.value;
    localStorage.setItem("floorctl.language", lang);
    await useLanguage(lang);
    await fetch("/api/session/language", {
      method: "POST",
      headers: { "X-CSRF-Token": session.csrf, "Content-Type": "application/json" },
      body: JSON.stringify({ language: lang }),
      credentials: "same-origin",
    });
  });
  document.getElementById("who").textContent = session.user;
  document.getElementById("role").textContent = word("role", session.role);
  document.getElementById("logout").addEventListener("click", async () => {
    await fetch("/logout", { method: "POST", headers: { "X-CSRF-Token": session.csrf }, credentials: "same-origin" });
    location.href = "/login";
  });
  for (const f of document.querySelectorAll(".supervisor-only")) f.hidden = !supervisor();
  document.getElementById("priority-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = document.getElementById("priority-order").value.trim();
    command(`/api/orders/${encodeURIComponent(id)}/priority`, { priority: "urgent" }, t("order.urgent", { order: id }));
  });
  document.getElementById("count-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const sku = document.getElementById("count-sku").value.trim();
    const location = document.getElementById("count-location").value.trim();
    const qty = Number(document.getElementById("count-qty").value);
    command("/api/counts", { sku, location, qty }, t("count.recorded", { sku, location, qty }));
  });
  document.getElementById("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = document.getElementById("search").value.trim();
    if (q) find(q);
  });
  document.getElementById("found-close").addEventListener("click", () => {
    document.getElementById("found-section").hidden = true;
  });
  document.getElementById("history-form").addEventListener("submit", (e) => {
    e.preventDefault();
    loadAlarmHistory();
  });
  loadAlarmHistory();
  loadAttention();
  setInterval(loadAttention, 10000);
  document.getElementById("ack-all").addEventListener("click", () =>
    command("/api/alarms/ack", {}, t("alarm.all_acknowledged")));
  watchLiveness(new EventSource("/api/live"));
  loadAudit();
  if (await loadNetwork()) setInterval(loadNetwork, 5000);
}

start();
