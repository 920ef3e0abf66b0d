// The dashboard page: vanilla JS, no libraries (it is served from the device's flash).
"use strict";
const $ = (id) => document.getElementById(id);
const POINTS = 120;
const LOG_KEEP = 300;
const series = { temp: [], rssi: [], heap_free: [] };
// each series' value as the chart's axis and its heading show it: with its unit
const UNITS = { temp: (v) => v.toFixed(1) + " °C", rssi: (v) => Math.round(v) + " dBm", heap_free: (v) => bytes(v) };
let ws = null;
let retry = null;
let tries = 0;
let loggedIn = false;
let interval = 1000;
let lastMsg = 0;
let started = 0; // when the app started (epoch ms), once SNTP has set the device's clock; 0 before
const logs = []; // [ms since the app started, level, text]

function showError(msg) {
  $("error").textContent = msg;
  $("error").hidden = false;
}
function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}
function setMsg(id, text, cls) {
  const el = $(id);
  el.textContent = text;
  el.className = "msg" + (cls ? " " + cls : "");
}

/** fetch; a failed network call gives null (and a visible error unless quiet). */
async function call(path, opts, quiet) {
  try {
    return await fetch(path, Object.assign({ credentials: "same-origin" }, opts || {}));
  } catch (e) {
    if (!quiet) showError("Cannot reach the device: " + e.message);
    return null;
  }
}
async function reason(r) {
  try {
    const j = await r.json();
    return j.error || r.statusText;
  } catch (e) {
    return r.status + " " + r.statusText;
  }
}

function show(view) {
  for (const v of ["loading", "login", "dash"]) $(v).hidden = view !== v;
  $("session").hidden = view !== "dash";
}

/** Asks for the settings: the dashboard, the login, or (the device unreachable) another try later. */
async function start() {
  const r = await call("/api/settings", null, true);
  if (r === null) return again();
  tries = 0;
  if (r.status === 401) {
    loggedIn = false;
    offline(false);
    show("login");
    $("pass").focus();
    return;
  }
  if (!r.ok) return showError("Settings: " + (await reason(r)));
  fillSettings(await r.json());
  loggedIn = true;
  show("dash");
  connect();
}

/** The device did not answer: try again in 1, 2, 4... up to 10 s, saying so. */
function again() {
  const s = Math.min(10, 2 ** tries++);
  if (!$("loading").hidden) $("loadmsg").textContent = "The device does not answer; trying again in " + s + " s…";
  if (retry === null) retry = setTimeout(() => { retry = null; start(); }, s * 1000);
}

function fillSettings(s) {
  $("s-name").value = s.device_name;
  $("s-level").value = String(s.log_level);
  $("s-interval").value = s.interval_ms;
  $("s-led").checked = !!s.led;
  $("s-sntp").value = s.sntp || "";
  $("title").textContent = s.device_name;
  document.title = s.device_name + " · dashboard";
  interval = s.interval_ms;
}

// --- login ---------------------------------------------------------------------
$("loginform").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  setMsg("loginmsg", "");
  const auth = "Basic " + btoa($("user").value + ":" + $("pass").value);
  const r = await call("/api/login", { method: "POST", headers: { Authorization: auth } });
  if (r === null) return;
  if (r.status === 401) return setMsg("loginmsg", "Wrong user or password", "bad");
  if (!r.ok) return showError("Login: " + (await reason(r)));
  $("pass").value = "";
  clearError();
  start();
});

$("logout").addEventListener("click", async () => {
  loggedIn = false;
  if (ws) ws.close();
  await call("/api/logout", { method: "POST" });
  show("login");
});

// --- live data -------------------------------------------------------------------
function live(cls, text) {
  $("live").className = "dot" + (cls ? " " + cls : "");
  $("livetext").textContent = text;
}
/** Offline: the values stay, greyed, and the header says it reconnects. */
function offline(on) {
  document.body.classList.toggle("offline", on);
  if (on) live("wait", "reconnecting…");
}

function connect() {
  if (ws) return;
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/websocket";
  ws = new WebSocket(url);
  ws.onopen = () => {
    offline(false);
    live("on", "live");
    lastMsg = Date.now();
    // the device sends the lines it keeps from the start again (after a restart, its new ones)
    logs.length = 0;
    drawLog();
  };
  ws.onmessage = (ev) => {
    lastMsg = Date.now();
    let m;
    try {
      m = JSON.parse(ev.data);
    } catch (e) {
      return showError("Bad message from the device");
    }
    if (m.t === "m") metrics(m);
    else if (m.t === "log") logLines(m.lines);
  };
  ws.onclose = lost;
}
/** A restart or a lost link: try again; start() shows the login if the session is gone. */
function lost() {
  if (ws) ws.onclose = ws.onmessage = null;
  ws = null;
  if (loggedIn) {
    offline(true);
    again();
  }
}
// A device that drops off the network closes nothing: silence for three intervals is offline too.
setInterval(() => {
  if (ws && ws.readyState === 1 && Date.now() - lastMsg > Math.max(3 * interval, 5000)) {
    ws.close();
    lost();
  }
}, 1000);

function uptime(ms) {
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + s + "s";
}

function bytes(n) {
  return n < 1048576 ? (n / 1024).toFixed(1) + " KB" : (n / 1048576).toFixed(1) + " MB";
}

/** A tile's value, its unit in smaller type: "22.4 °C". */
function tile(id, text) {
  const sp = text.lastIndexOf(" ");
  const u = document.createElement("span");
  u.className = "u";
  u.textContent = sp > 0 ? text.slice(sp) : "";
  $(id).replaceChildren(sp > 0 ? text.slice(0, sp) : text, u);
}

function metrics(m) {
  $("m-uptime").textContent = uptime(m.uptime);
  tile("m-heap", bytes(m.heap_free));
  $("m-heapof").textContent = "of " + bytes(m.heap_total);
  if (m.rssi) tile("m-rssi", m.rssi + " dBm");
  else $("m-rssi").textContent = "no Wi-Fi";
  tile("m-temp", m.temp.toFixed(1) + " °C");
  $("m-pin").textContent = m.pin ? "HIGH" : "LOW";
  $("m-conns").textContent = m.conns;
  const iso = m.time ? new Date(m.time).toISOString() : "";
  $("m-time").textContent = m.time ? iso.slice(11, 19) : "–";
  $("m-date").textContent = m.time ? iso.slice(0, 10) : "not synced";
  $("title").textContent = m.name;
  if ((m.started || 0) !== started) {
    started = m.started || 0;
    drawLog(); // the clock was set: every line gets its clock time
  }
  push("temp", m.temp);
  push("rssi", m.rssi);
  push("heap_free", m.heap_free);
  draw();
}
function push(k, v) {
  const a = series[k];
  a.push(v);
  if (a.length > POINTS) a.shift();
}

function draw() {
  const cv = $("chart");
  const dpr = window.devicePixelRatio || 1;
  const w = cv.clientWidth, h = cv.clientHeight;
  if (cv.width !== w * dpr) { cv.width = w * dpr; cv.height = h * dpr; }
  const g = cv.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const k = $("series").value, a = series[k], fmt = UNITS[k];
  $("chartnow").textContent = a.length ? fmt(a[a.length - 1]) : "";
  let lo = Math.min.apply(null, a), hi = Math.max.apply(null, a);
  if (!isFinite(lo)) { lo = 0; hi = 1; }
  const span = k === "heap_free" ? 1024 : 1; // the smallest range drawn: 1 °C, 1 dBm, 1 KB
  if (hi - lo < span) { hi += span / 2; lo -= span / 2; }
  const pad = (hi - lo) * 0.1; lo -= pad; hi += pad;
  g.font = "11px system-ui, sans-serif";
  const ticks = [0, 1, 2, 3, 4].map((i) => lo + ((hi - lo) * i) / 4);
  const L = 10 + Math.max.apply(null, ticks.map((v) => g.measureText(fmt(v)).width)), R = 8, T = 8, B = 18;
  const x = (i) => L + (i * (w - L - R)) / (POINTS - 1);
  const y = (v) => T + ((hi - v) * (h - T - B)) / (hi - lo);
  g.fillStyle = "#6b7585";
  g.strokeStyle = "#e2e6ec";
  g.lineWidth = 1;
  for (const v of ticks) {
    const yy = Math.round(y(v)) + 0.5;
    g.beginPath(); g.moveTo(L, yy); g.lineTo(w - R, yy); g.stroke();
    g.fillText(fmt(v), 4, yy + 4);
  }
  g.textAlign = "right";
  g.fillText("last " + POINTS + " samples", w - R, h - 4);
  g.textAlign = "left";
  if (a.length < 2) return;
  const off = POINTS - a.length;
  g.beginPath();
  a.forEach((v, i) => (i ? g.lineTo(x(off + i), y(v)) : g.moveTo(x(off + i), y(v))));
  g.strokeStyle = "#2f6fdf";
  g.lineWidth = 2;
  g.stroke();
  g.lineTo(x(off + a.length - 1), h - B);
  g.lineTo(x(off), h - B);
  g.closePath();
  g.fillStyle = "rgba(47,111,223,0.10)";
  g.fill();
}
$("series").addEventListener("change", draw);
window.addEventListener("resize", draw);

// --- the log: "<ms since start> <level> <text>" from the device --------------------
const zpad = (n, w) => String(n).padStart(w, "0");
/** The clock time (UTC) once the device's clock is set, else the uptime: h:mm:ss.mmm. */
function stamp(ms) {
  if (started) return new Date(started + ms).toISOString().slice(11, 23);
  const h = Math.floor(ms / 3600000);
  return h + ":" + zpad(Math.floor(ms / 60000) % 60, 2) + ":" + zpad(Math.floor(ms / 1000) % 60, 2) + "." + zpad(ms % 1000, 3);
}
const LEVEL = ["", "E", "I", "D", "V"];
function logLine(pre, e) {
  const d = document.createElement("div");
  const t = document.createElement("i");
  t.textContent = stamp(e[0]) + " " + (LEVEL[e[1]] || e[1]) + " ";
  if (started) t.title = new Date(started + e[0]).toISOString();
  d.className = "l" + e[1];
  d.append(t, e[2]);
  pre.appendChild(d);
}
function drawLog() {
  const pre = $("log");
  pre.textContent = "";
  for (const e of logs) logLine(pre, e);
  pre.scrollTop = pre.scrollHeight;
  $("logclock").textContent = started ? "times in UTC" : "times since start (clock not set)";
}
drawLog();
function logLines(lines) {
  const pre = $("log");
  const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  for (const l of lines) {
    const m = /^(\d+) (\d) ([^]*)$/.exec(l);
    const e = m ? [Number(m[1]), Number(m[2]), m[3]] : [0, 0, l];
    logs.push(e);
    logLine(pre, e);
  }
  while (logs.length > LOG_KEEP) logs.shift(), pre.removeChild(pre.firstChild);
  if (stick) pre.scrollTop = pre.scrollHeight;
}
$("clearlog").addEventListener("click", () => {
  logs.length = 0;
  drawLog();
});

// --- settings ----------------------------------------------------------------------
$("settings").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = {
    device_name: $("s-name").value,
    log_level: Number($("s-level").value),
    interval_ms: Number($("s-interval").value),
    led: $("s-led").checked,
    sntp: $("s-sntp").value.trim(),
  };
  const r = await call("/api/settings", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (r === null) return;
  if (r.status === 400) return setMsg("settingsmsg", await reason(r), "bad");
  if (!r.ok) return showError("Saving settings: " + (await reason(r)));
  fillSettings(await r.json());
  setMsg("settingsmsg", "Saved", "ok");
});

$("reboot").addEventListener("click", async () => {
  if (!confirm("Reboot the device?")) return;
  const r = await call("/api/reboot", { method: "POST" });
  if (r && r.ok) setMsg("settingsmsg", "Rebooting…", "ok");
});

// --- upload ------------------------------------------------------------------------
$("upload").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const f = $("file").files[0];
  if (!f) return;
  const fd = new FormData();
  fd.append("file", f, f.name);
  const x = new XMLHttpRequest();
  x.open("POST", "/api/upload");
  x.upload.onprogress = (e) => e.lengthComputable && ($("progress").value = (100 * e.loaded) / e.total);
  x.onload = () => {
    let j = {};
    try { j = JSON.parse(x.responseText); } catch (e) { /* not JSON */ }
    if (x.status === 200) {
      $("progress").value = 100;
      setMsg("uploadmsg", "Stored " + j.name + ", " + j.size + " bytes", "ok");
    } else setMsg("uploadmsg", "Upload failed: " + (j.error || x.status), "bad");
  };
  x.onerror = () => showError("Upload failed: the connection broke");
  setMsg("uploadmsg", "Uploading " + f.name + "…");
  $("progress").value = 0;
  x.send(fd);
});

start();
