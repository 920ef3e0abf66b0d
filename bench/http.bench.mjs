// HTTP figures (bench/http_xs.ts for the mock-network parts):
//  1. XS heap slots per keep-alive GET → 200 "hi" through the mock network,
//     after warm-up (the worker's currentHeapCount; no collection happens
//     inside one evaluation, so every slot allocated is counted): the reply
//     from prepared bytes (goal 0) and from JS strings.
//  2. XS heap slots per part of a multipart request through the 6.x part
//     events, and during 1 MB and 10 MB multipart uploads (flat memory: the
//     two should not differ).
//  3. GET → reply exchanges per second through the mock network, XS and V8.
//  4. Over real loopback: requests/s of the simulator (hal/node) against a
//     node:http server giving the same tiny reply, each in its own process,
//     driven by the same load generator (below: keep-alive connections, one
//     request in flight on each), interleaved rounds, medians.
//   npm run bench -- http
import { spawn } from "node:child_process";
import { http_load } from "./load.mjs";
import { XS_PRELUDE, xs_bundle, xs_run } from "../tools/xs.mjs";

const N = 5000;
const PARTS = 500;
const CONNS = 50;
const ROUND_MS = 4000;
const ROUNDS = 3;

// --- a server in a child process: `node bench/http.bench.mjs --serve mgts|node` ---
if (process.argv[2] === "--serve") {
  const kind = process.argv[3];
  if (kind === "node") {
    const http = await import("node:http");
    const srv = http.createServer((q, s) => s.end("hi"));
    srv.listen(0, "127.0.0.1", () => console.log(`port ${srv.address().port}`));
  } else {
    const { mg_hal_node } = await import("../build/hal/node.js");
    const core = await import("../build/src/index.js");
    core.mg_log_set(core.MG_LL_ERROR);
    const mgr = new core.mg_mgr();
    core.mg_mgr_init(mgr, mg_hal_node());
    const hi = core.mg_str("hi");
    const c = core.mg_http_listen(mgr, "http://127.0.0.1:0", (c, ev) => {
      if (ev === core.MG_EV_HTTP_MSG) core.mg_http_reply(c, 200, null, hi);
    }, null);
    core.mg_mgr_run(mgr, 1000);
    while (c.loc.port === 0) await new Promise((r) => setTimeout(r, 5));
    console.log(`port ${c.loc.port}`);
  }
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0)); // the parent's end is ours
} else {
  await bench();
}

/** Starts a server child; resolves with {port, stop}. */
function serve(kind) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [new URL(import.meta.url).pathname, "--serve", kind], { stdio: ["pipe", "pipe", "inherit"] });
    const timer = setTimeout(() => {
      p.kill("SIGKILL");
      reject(new Error(`${kind} server did not start`));
    }, 10000);
    p.stdout.on("data", (d) => {
      const m = /port (\d+)/.exec(String(d));
      if (!m) return;
      clearTimeout(timer);
      resolve({
        port: Number(m[1]),
        stop: () =>
          new Promise((r) => {
            p.on("exit", r);
            p.stdin.end();
            setTimeout(() => p.kill("SIGKILL"), 3000);
          }),
      });
    });
  });
}

/** Replies/s of bench/load.mjs's load; a connection that fails fails the bench. */
async function load(port, conns, ms) {
  const r = await http_load(port, conns, ms);
  if (r.errors > 0) throw new Error(`${r.errors} connection(s) failed under load`);
  return r.rps;
}

async function xs_figures() {
  const code = await xs_bundle("build/bench/http_xs.js");
  const scripts = [
    XS_PRELUDE,
    code,
    "mgts_xs.setup(); mgts_xs.gets(300, 80); mgts_xs.gets(300, 81); mgts_xs.mp_begin(50); mgts_xs.parts(50); mgts_xs.mp_end(); mgts_xs.upload(1);", // 2 warm-up
    "gc();", // 3
    "mgts_xs.gets(0, 80);", // 4: the cost of evaluating a call, to subtract
    "gc();", // 5
    `mgts_xs.gets(${N}, 80);`, // 6
    "gc();", // 7
    `mgts_xs.gets(${N}, 81);`, // 8
    `gc(); mgts_xs.mp_begin(${PARTS});`, // 9
    "gc();", // 10
    `mgts_xs.parts(${PARTS});`, // 11
    "mgts_xs.mp_end(); gc();", // 12
    "print('up1 ' + mgts_xs.upload(1));", // 13
    "gc();", // 14
    "print('up10 ' + mgts_xs.upload(10));", // 15
    "gc();", // 16
    `{ const t0 = performance.now(); mgts_xs.gets(${N}, 80); print("ms " + (performance.now() - t0)); print("errors " + mgts_xs.errors()); }`,
  ];
  const r = await xs_run(scripts, 600000);
  if (r.why || r.results.some((x) => !x.ok)) throw new Error(`XS run failed: ${r.why ?? ""} ${JSON.stringify(r.results.filter((x) => !x.ok))} ${r.out}`);
  const h = r.results.map((x) => x.meters.currentHeapCount);
  const empty = h[4] - h[3];
  // the compute meter counts per evaluation: script 6 is N GETs, script 4 the empty call
  const cm = r.results.map((x) => x.meters.compute);
  const ms = Number(/ms ([\d.]+)/.exec(r.out)[1]);
  return {
    get_bytes: (h[6] - h[5] - empty) / N,
    get_str: (h[8] - h[7] - empty) / N,
    get_compute: (cm[6] - cm[4]) / N,
    part: (h[11] - h[10] - empty) / PARTS,
    up1: h[13] - h[12] - empty,
    up10: h[15] - h[14] - empty,
    up_ok: /up1 1048576/.test(r.out) && /up10 10485760/.test(r.out),
    heap_after: [h[12], h[14], h[16]],
    rps: (N / ms) * 1000,
    errors: Number(/errors (\d+)/.exec(r.out)[1]),
  };
}

async function v8_figures() {
  const m = await import("../build/bench/http_xs.js");
  m.setup();
  m.gets(500, 80);
  const t0 = performance.now();
  m.gets(N, 80);
  const ms = performance.now() - t0;
  return { rps: (N / ms) * 1000, errors: m.errors() };
}

async function loopback_figures() {
  const mg = await serve("mgts");
  const nd = await serve("node");
  const rounds = [];
  try {
    await load(mg.port, CONNS, 500); // warm-up
    await load(nd.port, CONNS, 500);
    for (let i = 0; i < ROUNDS; i++) rounds.push({ mg: await load(mg.port, CONNS, ROUND_MS), node: await load(nd.port, CONNS, ROUND_MS) });
  } finally {
    await mg.stop();
    await nd.stop();
  }
  const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  return { mg: med(rounds.map((r) => r.mg)), node: med(rounds.map((r) => r.node)), rounds };
}

async function bench() {
  const xs = await xs_figures();
  const v8 = await v8_figures();
  const lb = await loopback_figures();
  const f = (x) => Math.round(x).toLocaleString("en-US");
  const r2 = (x) => Math.round(x * 100) / 100;
  console.log(`| measurement | value |
|---|---|
| XS heap slots per GET → 200 "hi", reply from prepared bytes (mock network, ${f(N)} requests after warm-up) | **${r2(xs.get_bytes)}** |
| XS heap slots per GET → 200 "hi", \`mg_http_reply(c, 200, "Content-Type: ...", "hi")\` with strings | ${r2(xs.get_str)} |
| XS compute meter per GET → 200 "hi" (prepared bytes; the whole exchange: parse, event, reply, mock network) | ${f(xs.get_compute)} |
| XS heap slots per multipart part, 6.x part events (${PARTS} parts of 100 bytes in one request) | ${r2(xs.part)} |
| XS heap slots allocated during a 1 MB / 10 MB multipart upload (6.x part events, no gc inside) | ${xs.up1} / ${xs.up10}${xs.up_ok ? "" : " (BYTES MISSING)"} |
| XS heap after gc: before the uploads / after 1 MB / after 10 MB | ${xs.heap_after.join(" / ")} |
| XS GET → reply exchanges/s, mock network | ${f(xs.rps)} |
| V8 GET → reply exchanges/s, mock network | ${f(v8.rps)} |
| loopback requests/s, simulator (hal/node), ${CONNS} keep-alive connections | ${f(lb.mg)} |
| loopback requests/s, node:http (peer), same load | ${f(lb.node)} |
| simulator / node:http | **${r2(lb.mg / lb.node)}** |

rounds (simulator, node:http): ${lb.rounds.map((r) => `${f(r.mg)}, ${f(r.node)}`).join("; ")}; errors: XS ${xs.errors}, V8 ${v8.errors}`);
  if (xs.errors + v8.errors > 0 || !xs.up_ok) process.exitCode = 1;
}
