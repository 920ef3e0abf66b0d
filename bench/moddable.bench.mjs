// The echo app on Moddable's lin build next to the same app on the host
// simulator, same load, same run (needs the Moddable SDK: test/moddable.ts):
//  1. HTTP: keep-alive GET / (mg_hello's "hi"), 1 and 4 connections with
//     one request in flight each, requests/s; interleaved rounds, medians.
//  2. WebSocket: 1 KB text messages echoed one after the other on /ws,
//     messages/s.
//  3. A 1 MB body through /echo and back: KB/s.
// For lin, mcsim's CPU time over each HTTP round (/proc/<pid>/stat), less
// what it burns idle over the same time (every socket's 20 ms poll timer),
// gives the CPU each request cost: what mgts, XS and the socket glue spend.
// The wall-clock rate is bounded by lin's socket layer (BENCHMARKS.md).
//   npm run bench -- moddable
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { WebSocket } from "ws";
import { http_load as load } from "./load.mjs";

const ROUND_MS = 4000;
const ROUNDS = 3;
const WS_MS = 4000;

const helper = await import("../build/test/moddable.js");
if (helper.moddable_sdk() === null) {
  console.log(`(skipped: no Moddable SDK: ${helper.moddable_sdk_absent()})`);
  process.exit(0);
}

/** The simulator's echo app in its own process (what `npm start -- --app echo` runs). */
function simulator(port) {
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, ["tools/start.mjs", "--app", "echo", "--port", String(port), "--host", "127.0.0.1"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    const t = setTimeout(() => (p.kill("SIGKILL"), fail(new Error("the simulator did not start:\n" + out))), 60000);
    p.stdout.on("data", (d) => {
      out += d;
      if (/UDP echo on/.test(out)) {
        clearTimeout(t);
        ok({ pid: p.pid, stop: () => new Promise((r) => (p.on("exit", r), p.kill("SIGTERM"))) });
      }
    });
  });
}

/** CPU seconds (user + system) a process and its waited-for children used so far. */
function cpu(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const v = f.slice(f.lastIndexOf(")") + 2).split(" ").map(Number);
  return (v[11] + v[12]) / 100; // utime, stime in clock ticks (100 Hz)
}

/** 1 KB text messages echoed one after the other for ms; messages/s. */
function ws_echoes(port, ms) {
  return new Promise((resolve, reject) => {
    const msg = "x".repeat(1024);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
    let n = 0;
    let t0 = 0;
    ws.on("open", () => {
      t0 = performance.now();
      ws.send(msg);
    });
    ws.on("message", (d) => {
      if (d.length !== 1024) return reject(new Error("ws: a wrong echo"));
      n++;
      if (performance.now() - t0 < ms) ws.send(msg);
      else {
        ws.close();
        resolve(n / ((performance.now() - t0) / 1000));
      }
    });
    ws.on("error", reject);
  });
}

/** 1 MB through /echo and back; KB/s of the round trip. */
async function body_rate(port) {
  const body = Buffer.alloc(1 << 20, 0x41);
  const t0 = performance.now();
  const r = await fetch(`http://127.0.0.1:${port}/echo`, { method: "POST", body });
  const back = Buffer.from(await r.arrayBuffer());
  if (back.length !== body.length) throw new Error(`/echo: ${back.length} of ${body.length} bytes back`);
  return 1024 / ((performance.now() - t0) / 1000);
}

const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const f = (x) => Math.round(x).toLocaleString("en-US");

const lin_base = await helper.free_ports();
const sim_base = await helper.free_ports();
const b = await helper.moddable_build({ config: { app: "echo", port: lin_base } });
const lin = await helper.moddable_start(b.so);
const sim = await simulator(sim_base);
const pid = lin.mcsim_pid();
const rows = [];
try {
  // idle: mcsim's CPU per second with the app's listeners polling and no traffic
  const i0 = cpu(pid);
  await new Promise((r) => setTimeout(r, ROUND_MS));
  const idle = (cpu(pid) - i0) / (ROUND_MS / 1000);
  for (const conns of [1, 4]) {
    await load(lin_base, conns, 500); // warm-up
    await load(sim_base, conns, 500);
    const r = { lin: [], sim: [], cpu: [], errors: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      const c0 = cpu(pid);
      const a = await load(lin_base, conns, ROUND_MS);
      const c1 = cpu(pid);
      r.lin.push(a.rps);
      r.errors += a.errors;
      r.cpu.push(((c1 - c0 - idle * (ROUND_MS / 1000)) * 1e6) / (a.rps * (ROUND_MS / 1000)));
      const s = await load(sim_base, conns, ROUND_MS);
      r.sim.push(s.rps);
      r.errors += s.errors;
    }
    rows.push({ conns, ...r });
  }
  const ws_lin = await ws_echoes(lin_base, WS_MS);
  const ws_sim = await ws_echoes(sim_base, WS_MS);
  const kb_lin = await body_rate(lin_base);
  const kb_sim = await body_rate(sim_base);
  console.log("| measurement | Moddable lin (mcsim) | host simulator (hal/node) | lin / simulator |");
  console.log("|---|---|---|---|");
  for (const r of rows) {
    const l = med(r.lin);
    const s = med(r.sim);
    console.log(`| HTTP requests/s, keep-alive GET /, ${r.conns} connection${r.conns > 1 ? "s" : ""} (one request in flight each) | ${f(l)} | ${f(s)} | ${(l / s).toFixed(3)} |`);
  }
  console.log(`| WebSocket echoes/s, 1 KB text, one after the other | ${f(ws_lin)} | ${f(ws_sim)} | ${(ws_lin / ws_sim).toFixed(3)} |`);
  console.log(`| 1 MB POST /echo, streamed back: KB/s | ${f(kb_lin)} | ${f(kb_sim)} | ${(kb_lin / kb_sim).toFixed(3)} |`);
  console.log(`\nmcsim's CPU (user + system): idle ${(idle * 1000).toFixed(1)} ms per second; per request, less the idle share: ${rows.map((r) => `${f(med(r.cpu))} µs (${r.conns} connection${r.conns > 1 ? "s" : ""})`).join(", ")}`);
  console.log(`\nrounds (lin, simulator): ${rows.map((r) => `${r.conns} conn: ` + r.lin.map((x, i) => `${f(x)}, ${f(r.sim[i])}`).join("; ")).join(" | ")}; failed connections: ${rows.reduce((n, r) => n + r.errors, 0)}`);
} finally {
  await lin.stop();
  await sim.stop();
}
