// The core's TCP echo path (bench/net_xs.ts):
//  1. XS heap slots per 1 KB echo round trip through the mock network, after
//     warm-up (the worker's currentHeapCount; no collection happens inside
//     one evaluation, so every slot allocated is counted). Goal: 0.
//  2. Round trips per second through the mock network, on XS and on V8.
//  3. Over real loopback sockets: the simulator (hal/node) against a plain
//     node:net echo server, same client, same run (ratio).
import net from "node:net";
import { median, xs_bundle, xs_count } from "../tools/xs.mjs";

const N = 10000;

async function xs_figures() {
  const code = await xs_bundle("build/bench/net_xs.js");
  const r = await xs_count(code, "mgts_xs.setup(); mgts_xs.roundtrips(500);", "mgts_xs.roundtrips", N, 'print("errors " + mgts_xs.errors());');
  return { ...r, errors: Number(/errors (\d+)/.exec(r.out)[1]) };
}

async function v8_figures() {
  const m = await import("../build/bench/net_xs.js");
  m.setup();
  m.roundtrips(500);
  const t0 = performance.now();
  m.roundtrips(N);
  const ms = performance.now() - t0;
  return { rps: (N / ms) * 1000, errors: m.errors() };
}

/** A client doing n sequential 1 KB round trips against port; resolves with round trips/s. */
function pingpong(port, n) {
  return new Promise((resolve, reject) => {
    const payload = Buffer.alloc(1024, 7);
    const s = net.connect(port, "127.0.0.1");
    s.setNoDelay(true);
    let got = 0;
    let left = n;
    let t0 = 0;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error("pingpong timed out"));
    }, 60000);
    s.on("connect", () => {
      t0 = performance.now();
      s.write(payload);
    });
    s.on("data", (d) => {
      got += d.length;
      while (got >= 1024) {
        got -= 1024;
        if (--left === 0) {
          clearTimeout(timer);
          const ms = performance.now() - t0;
          s.destroy();
          resolve((n / ms) * 1000);
          return;
        }
        s.write(payload);
      }
    });
    s.on("error", reject);
  });
}

async function loopback_figures() {
  const { mg_hal_node } = await import("../build/hal/node.js");
  const core = await import("../build/src/index.js");
  const { echo_tcp } = await import("../build/firmware/echo/main.js");
  core.mg_log_set(core.MG_LL_ERROR);
  const mgr = new core.mg_mgr();
  core.mg_mgr_init(mgr, mg_hal_node());
  const c = core.mg_listen(mgr, "tcp://127.0.0.1:0", echo_tcp, null);
  core.mg_mgr_run(mgr, 1000);
  for (let i = 0; i < 100 && c.loc.port === 0; i++) await new Promise((r) => setTimeout(r, 10));
  const mg_port = c.loc.port;
  const peer = net.createServer((s) => {
    s.setNoDelay(true);
    s.on("data", (d) => s.write(d));
    s.on("error", () => {});
  });
  await new Promise((r) => peer.listen(0, "127.0.0.1", r));
  const node_port = peer.address().port;
  const rounds = [];
  // interleaved runs, medians: this machine is noisy
  for (let i = 0; i < 3; i++) {
    rounds.push({ mg: await pingpong(mg_port, 5000), node: await pingpong(node_port, 5000) });
  }
  core.mg_mgr_free(mgr);
  peer.close();
  return { mg: median(rounds.map((r) => r.mg)), node: median(rounds.map((r) => r.node)) };
}

const xs = await xs_figures();
const v8 = await v8_figures();
const lb = await loopback_figures();
const f = (x) => Math.round(x).toLocaleString("en-US");
console.log(`| measurement | value |
|---|---|
| XS heap slots per 1 KB echo round trip (mock network, ${N.toLocaleString("en-US")} round trips after warm-up) | **${xs.slots}** (${xs.raw} slots in all) |
| XS round trips/s, mock network | ${f(xs.rps)} |
| V8 round trips/s, mock network | ${f(v8.rps)} |
| loopback round trips/s, simulator (hal/node, echo app) | ${f(lb.mg)} |
| loopback round trips/s, node:net echo server (peer) | ${f(lb.node)} |
| simulator / node:net | ${(lb.mg / lb.node).toFixed(2)} |
| echo errors (XS, V8) | ${xs.errors}, ${v8.errors} |`);
if (xs.errors || v8.errors) process.exit(1);
process.exit(0);
