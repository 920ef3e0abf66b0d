// JSON-RPC and SNTP on XS (bench/rpc_xs.ts):
//  1. XS heap slots per mg_rpc_process of each kind of frame (a result, a
//     notification, each error), the reply going to an mg_iobuf through
//     mg_pfn_iobuf; and per RPC round trip over a WebSocket on the mock
//     network (masked frame in, mg_rpc_process, mg_ws_send out). Goal: 0.
//  2. XS heap slots per SNTP exchange (mg_sntp_connect, request, reply,
//     MG_EV_SNTP_TIME, close) with a UDP listener of the same manager as
//     the server, and what a bare mg_connect of the same URL and its close
//     cost.
//  3. Calls per second on XS and V8 (same run: compare the ratio).
//   npm run bench -- rpc
import { XS_PRELUDE, xs_bundle, xs_run } from "../tools/xs.mjs";

const N = 10000;
const N_SNTP = 100;
const RPC = [
  ["sum", '`{"id":1,"method":"sum","params":[1,2]}`: two `mg_json_get_num`, `mg_rpc_ok(r, "%d", a + b)`'],
  ["true", '`{"id":1,"method":"yes"}`: `mg_rpc_ok(r, "true")`'],
  ["notification", "the sum without an id: the method runs, no reply"],
  ["not_found", "an unknown method: -32601"],
  ["parse_error", "a frame cut short: -32700 with the frame echoed"],
  ["invalid", '`"method":7`: -32600'],
  ["list", "`rpc.list` of 4 methods"],
  ["ws", "the sum over a WebSocket (mock network): frame in, reply frame out"],
];
const ALL = [...RPC.map(([k]) => [k, N]), ["sntp", N_SNTP], ["connect_control", N_SNTP]];

async function xs_figures() {
  const code = await xs_bundle("build/bench/rpc_xs.js");
  const scripts = [XS_PRELUDE, code, `mgts_xs.setup(); ${ALL.map(([k]) => `mgts_xs.run("${k}", 50);`).join(" ")}`, "gc();", 'mgts_xs.run("sum", 0);'];
  const at = {};
  for (const [k, n] of ALL) {
    scripts.push("gc();");
    at[k] = scripts.length;
    scripts.push(`mgts_xs.run("${k}", ${n});`);
  }
  for (const k of ["sum", "ws"]) scripts.push(`{ const t0 = performance.now(); mgts_xs.run("${k}", ${N}); print("ms ${k} " + (performance.now() - t0)); }`);
  scripts.push('print("errors " + mgts_xs.errors() + " times " + mgts_xs.sntp_times());');
  const r = await xs_run(scripts, 600000);
  if (r.why || r.results.some((x) => !x.ok)) throw new Error(`XS run failed: ${r.why ?? ""} ${JSON.stringify(r.results.filter((x) => !x.ok))} ${r.out}`);
  const h = r.results.map((x) => x.meters.currentHeapCount);
  const empty = h[4] - h[3];
  const slots = {};
  for (const [k, n] of ALL) slots[k] = (h[at[k]] - h[at[k] - 1] - empty) / n;
  const ms = {};
  for (const k of ["sum", "ws"]) ms[k] = Number(new RegExp(`ms ${k} ([\\d.]+)`).exec(r.out)[1]);
  const m = /errors (\d+) times (\d+)/.exec(r.out);
  return { slots, ms, errors: Number(m[1]), times: Number(m[2]) };
}

async function v8_figures() {
  const m = await import("../build/bench/rpc_xs.js");
  m.setup();
  for (const k of ["sum", "ws"]) m.run(k, 2000);
  const ms = {};
  for (const k of ["sum", "ws"]) {
    const t0 = performance.now();
    m.run(k, N * 10);
    ms[k] = (performance.now() - t0) / 10;
  }
  return { ms, errors: m.errors() };
}

const xs = await xs_figures();
const v8 = await v8_figures();
const r2 = (x) => Math.round(x * 100) / 100;
const per_s = (ms) => Math.round((N / ms) * 1000).toLocaleString("en-US");
console.log(`XS heap slots per call (${N.toLocaleString("en-US")} calls after warm-up; SNTP: ${N_SNTP.toLocaleString("en-US")} exchanges):

| call | XS slots per call |
|---|---|
${RPC.map(([k, what]) => `| ${what} | **${r2(xs.slots[k])}** |`).join("\n")}
| an SNTP exchange (mg_sntp_connect, request, reply, MG_EV_SNTP_TIME, close) with an mgts UDP server answering | **${r2(xs.slots.sntp)}** |
| for comparison: a bare \`mg_connect(mgr, "udp://127.0.0.1:123", ...)\` and its close | ${r2(xs.slots.connect_control)} |

| measurement | XS | V8 |
|---|---|---|
| \`mg_rpc_process\` of the sum, calls/s | ${per_s(xs.ms.sum)} | ${per_s(v8.ms.sum)} |
| the sum over a WebSocket, round trips/s (mock network) | ${per_s(xs.ms.ws)} | ${per_s(v8.ms.ws)} |

errors: XS ${xs.errors}, V8 ${v8.errors}; SNTP times delivered on XS: ${xs.times}`);
if (xs.errors + v8.errors > 0) process.exitCode = 1;
