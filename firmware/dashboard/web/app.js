// The dashboard page: vanilla JS, no libraries (it is served from the device's flash).
"use strict";
const $ = (id) => document.getElementById(id);
const POINTS = 120;
const LOG_KEEP = 300;
const series = { temp: [], rssi: [], heap_free: [] };
let ws = null;
let retry = null;
let loggedIn = false;

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

/** fetch that turns a failed network call into a visible error and returns null. */
async function call(path, opts) {
  try {
    return await fetch(path, Object.assign({ credentials: "same-origin" }, opts || {}));
  } catch (e) {
    showError("Cannot reach the device: " + e.message);
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
  $("login").hidden = view !== "login";
  $("dash").hidden = view !== "dash";
  $("session").hidden = view !== "dash";
}

async function boot() {
  const r = await call("/api/settings");
  if (r === null) return;
  if (r.status === 401) {
    loggedIn = false;
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

function fillSettings(s) {
  $("s-name").value = s.device_name;
  $("s-level").value = String(s.log_level);
  $("s-interval").value = s.interval_ms;
  $("s-led").checked = !!s.led;
  $("s-sntp").value = s.sntp || "";
  $("title").textContent = s.device_name;
  document.title = s.device_name + " · dashboard";
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
  boot();
});

$("logout").addEventListener("click", async () => {
  loggedIn = false;
  if (ws) ws.close();
  await call("/api/logout", { method: "POST" });
  show("login");
});

// --- live data -------------------------------------------------------------------
function live(on, text) {
  $("live").className = "dot" + (on ? " on" : "");
  $("livetext").textContent = text;
}

function connect() {
  if (ws) return;
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/websocket";
  ws = new WebSocket(url);
  ws.onopen = () => live(true, "live");
  ws.onmessage = (ev) => {
    let m;
    try {
      m = JSON.parse(ev.data);
    } catch (e) {
      return showError("Bad message from the device");
    }
    if (m.t === "m") metrics(m);
    else if (m.t === "log") logLines(m.lines);
  };
  ws.onclose = () => {
    ws = null;
    live(false, "offline");
    // a restart or a lost link: try again; boot() shows the login if the token is gone
    if (loggedIn && retry === null) retry = setTimeout(() => { retry = null; boot(); }, 2000);
  };
}

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

function metrics(m) {
  $("m-uptime").textContent = uptime(m.uptime);
  $("m-heap").textContent = bytes(m.heap_free);
  $("m-heapof").textContent = "of " + bytes(m.heap_total);
  $("m-rssi").textContent = m.rssi ? m.rssi + " dBm" : "no Wi-Fi";
  $("m-temp").textContent = m.temp.toFixed(1) + " °C";
  $("m-pin").textContent = m.pin ? "HIGH" : "LOW";
  $("m-conns").textContent = m.conns;
  $("m-time").textContent = m.time ? new Date(m.time).toISOString().slice(0, 19).replace("T", " ") : "not synced";
  $("title").textContent = m.name;
  push("temp", m.temp);
  push("rssi", m.rssi);
  push("heap_free", m.heap_free / 1024);
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
  const a = series[$("series").value];
  const L = 46, R = 8, T = 8, B = 18;
  let lo = Math.min.apply(null, a), hi = Math.max.apply(null, a);
  if (!isFinite(lo)) { lo = 0; hi = 1; }
  if (hi - lo < 1) { hi += 0.5; lo -= 0.5; }
  const pad = (hi - lo) * 0.1; lo -= pad; hi += pad;
  const x = (i) => L + (i * (w - L - R)) / (POINTS - 1);
  const y = (v) => T + ((hi - v) * (h - T - B)) / (hi - lo);
  g.font = "11px system-ui, sans-serif";
  g.fillStyle = "#6b7585";
  g.strokeStyle = "#e2e6ec";
  g.lineWidth = 1;
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4, yy = Math.round(y(v)) + 0.5;
    g.beginPath(); g.moveTo(L, yy); g.lineTo(w - R, yy); g.stroke();
    g.fillText(v.toFixed(1), 4, yy + 4);
  }
  g.fillText(POINTS + " samples", w - R - 70, h - 4);
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

function logLines(lines) {
  const pre = $("log");
  const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  for (const l of lines) pre.appendChild(document.createTextNode(l + "\n"));
  while (pre.childNodes.length > LOG_KEEP) pre.removeChild(pre.firstChild);
  if (stick) pre.scrollTop = pre.scrollHeight;
}
$("clearlog").addEventListener("click", () => ($("log").textContent = ""));

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

boot();
