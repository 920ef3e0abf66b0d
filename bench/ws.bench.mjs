// WebSocket echo (bench/ws_xs.ts):
//  1. XS heap slots per echoed 1 KB text message through the mock network,
//     after warm-up, for the echo app's /ws (pieces, sent back as fragments)
//     and for a whole-message echo. Goal: 0.
//  2. Echoed messages per second through the mock network, on XS and on V8.
//  3. Over real loopback: the simulator (hal/node, the echo app's /ws)
//     against a `ws` echo server, the same `ws` client, the same run (ratio).
import { WebSocket, WebSocketServer } from "ws";
import { median, xs_bundle, xs_count } from "../tools/xs.mjs";

const N = 10000;
const SIZE = 1024;

async function xs_figures(app) {
  const code = await xs_bundle("build/bench/ws_xs.js");
  const r = await xs_count(code, `mgts_xs.setup(${app}); mgts_xs.echoes(500);`, "mgts_xs.echoes", N, 'print("errors " + mgts_xs.errors());');
  return { ...r, errors: Number(/errors (\d+)/.exec(r.out)[1]) };
}

async function v8_figures(app) {
  // a fresh module instance per handler: the bench keeps its state in the module
  const m = await import(`../build/bench/ws_xs.js?app=${app}`);
  m.setup(app);
  m.echoes(500);
  const t0 = performance.now();
  m.echoes(N);
  const ms = performance.now() - t0;
  return { rps: (N / ms) * 1000, errors: m.errors() };
}

/** A ws client doing n sequential echoes of a 1 KB text message; resolves with messages/s. */
function pingpong(url, n) {
  return new Promise((resolve, reject) => {
    const msg = "x".repeat(SIZE);
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let left = n;
    let t0 = 0;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error("pingpong timed out"));
    }, 60000);
    ws.on("open", () => {
      t0 = performance.now();
      ws.send(msg);
    });
    ws.on("message", (d) => {
      if (d.length !== SIZE) {
        clearTimeout(timer);
        ws.terminate();
        reject(new Error("bad echo"));
        return;
      }
      if (--left === 0) {
        clearTimeout(timer);
        const ms = performance.now() - t0;
        ws.terminate();
        resolve((n / ms) * 1000);
        return;
      }
      ws.send(msg);
    });
    ws.on("error", reject);
  });
}

async function loopback_figures() {
  const { mg_hal_node } = await import("../build/hal/node.js");
  const core = await import("../build/src/index.js");
  const { echo_http } = await import("../build/firmware/echo/main.js");
  core.mg_log_set(core.MG_LL_ERROR);
  const mgr = new core.mg_mgr();
  core.mg_mgr_init(mgr, mg_hal_node());
  const c = core.mg_http_listen(mgr, "http://127.0.0.1:0", echo_http, null);
  core.mg_mgr_run(mgr, 1000);
  for (let i = 0; i < 100 && c.loc.port === 0; i++) await new Promise((r) => setTimeout(r, 10));
  const mg_url = `ws://127.0.0.1:${c.loc.port}/ws`;
  const peer = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  peer.on("connection", (s) => s.on("message", (d, binary) => s.send(d, { binary })));
  await new Promise((r) => peer.once("listening", r));
  const ws_url = `ws://127.0.0.1:${peer.address().port}/`;
  const rounds = [];
  // interleaved runs, medians: this machine is noisy
  for (let i = 0; i < 3; i++) {
    rounds.push({ mg: await pingpong(mg_url, 5000), ws: await pingpong(ws_url, 5000) });
  }
  core.mg_mgr_free(mgr);
  await new Promise((r) => peer.close(r));
  return { mg: median(rounds.map((r) => r.mg)), ws: median(rounds.map((r) => r.ws)) };
}

const xs_app = await xs_figures(true);
const xs_whole = await xs_figures(false);
const v8_app = await v8_figures(true);
const v8_whole = await v8_figures(false);
const lb = await loopback_figures();
const f = (x) => Math.round(x).toLocaleString("en-US");
const n = N.toLocaleString("en-US");
console.log(`| measurement | value |
|---|---|
| XS heap slots per echoed 1 KB text message, echo app's /ws (pieces), mock network, ${n} after warm-up | **${xs_app.slots}** (${xs_app.raw} slots in all) |
| XS heap slots per echoed 1 KB text message, whole-message echo, mock network, ${n} after warm-up | **${xs_whole.slots}** (${xs_whole.raw} slots in all) |
| XS messages/s, mock network (echo app, whole-message echo) | ${f(xs_app.rps)}, ${f(xs_whole.rps)} |
| V8 messages/s, mock network (echo app, whole-message echo) | ${f(v8_app.rps)}, ${f(v8_whole.rps)} |
| loopback messages/s, simulator (hal/node, echo app's /ws), ws client | ${f(lb.mg)} |
| loopback messages/s, \`ws\` echo server (peer), same client | ${f(lb.ws)} |
| simulator / ws | ${(lb.mg / lb.ws).toFixed(2)} |
| echo errors (XS app, XS whole, V8 app, V8 whole) | ${xs_app.errors}, ${xs_whole.errors}, ${v8_app.errors}, ${v8_whole.errors} |`);
if (xs_app.errors || xs_whole.errors || v8_app.errors || v8_whole.errors) process.exit(1);
process.exit(0);
