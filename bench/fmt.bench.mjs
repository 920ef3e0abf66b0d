// Formatting and utilities on XS (bench/fmt_xs.ts): heap slots per call of
// what the core and handlers call on hot paths, above all mg_printf with
// string arguments against the byte path mg_send, and the time per call of
// the same, on XS and V8 (same run, compare ratios).
//   npm run bench -- fmt
// Slots: the worker's currentHeapCount after gc(), around N calls in one
// evaluation (no collection happens inside it), minus the cost of evaluating
// an empty run, divided by N. Deterministic.
import { XS_PRELUDE, xs_bundle, xs_run } from "../tools/xs.mjs";

const N = 10000;
const CASES = [
  ["send_bytes", '`mg_send(c, bytes, 17, 0)`: "HTTP/1.1 200 OK\\r\\n" encoded once'],
  ["send_str", '`mg_send(c, "HTTP/1.1 200 OK\\r\\n")`'],
  ["printf_noargs", '`mg_printf(c, "HTTP/1.1 200 OK\\r\\n")`'],
  ["printf_args", '`mg_printf(c, "HTTP/1.1 %d %s\\r\\n", 200, "OK")`'],
  ["printf_int", '`mg_printf(c, "Content-Length: %d\\r\\n", 1234)`'],
  ["printf_str", '`mg_printf(c, "%s", "HTTP/1.1 200 OK\\r\\n")`'],
  ["vprintf", '`mg_vprintf(c, "HTTP/1.1 %d %s\\r\\n", ap)`, `ap` an `mg_va` made once'],
  ["vxprintf", '`mg_vxprintf(o, "HTTP/1.1 %d %s\\r\\n", ap)` into a byte buffer, `o` and `ap` made once'],
  ["snprintf", '`mg_snprintf(buf, 256, "HTTP/1.1 %d %s\\r\\n", 200, "OK")`'],
  ["printf_float", '`mg_printf(c, "%.2f", 3.14159)`'],
  ["printf_esc", '`mg_printf(c, "{%m:%d}", mg_print_esc, 0, "key", 1)`'],
  ["printf_MG_ESC", '`mg_printf(c, "{%m:%d}", ...MG_ESC("key"), 1)`'],
  ["debug_off", '`MG_DEBUG("%lu closed", id)` with the level at INFO'],
  ["utf8_put", '`mg_utf8_put("text/html; charset=utf-8", buf, 0, 256)`'],
  ["iobuf", "`mg_iobuf_add` + `mg_iobuf_del` of 17 bytes"],
  ["match", '`mg_match(uri, "/api/*/*", caps)`, 3 caps made once'],
  ["strcasecmp", "`mg_strcasecmp` of two 14-byte header names"],
  ["url_decode", "`mg_url_decode` of a 20-byte form value"],
  ["json_get", '`mg_json_get(json, "$.params.level[2]", toklen)` in 61 bytes'],
  ["url_host", "`mg_url_host(url, out)` of an mg_str URL"],
  ["ws_accept", "SHA-1 + base64 of a WebSocket key (the upgrade's accept)"],
];
const TIMED = ["send_bytes", "send_str", "printf_args", "vprintf", "printf_float"];
const ROUNDS = 5; // timed rounds, interleaved; the fastest of each counts (the machine is shared and noisy)

async function xs_figures() {
  const code = await xs_bundle("build/bench/fmt_xs.js");
  const scripts = [XS_PRELUDE, code, `mgts_xs.setup(); ${CASES.map(([k]) => `mgts_xs.run("${k}", 200);`).join(" ")}`, "gc();", 'mgts_xs.run("send_bytes", 0);'];
  const at = {};
  for (const [k] of CASES) {
    scripts.push("gc();");
    at[k] = scripts.length;
    scripts.push(`mgts_xs.run("${k}", ${N});`);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const k of TIMED) scripts.push(`{ const t0 = performance.now(); mgts_xs.run("${k}", ${N}); print("ms ${k} " + (performance.now() - t0)); }`);
  }
  scripts.push('print("errors " + mgts_xs.errors());');
  const r = await xs_run(scripts, 600000);
  if (r.why || r.results.some((x) => !x.ok)) throw new Error(`XS run failed: ${r.why ?? ""} ${JSON.stringify(r.results.filter((x) => !x.ok))} ${r.out}`);
  const h = r.results.map((x) => x.meters.currentHeapCount);
  const empty = h[4] - h[3];
  const slots = {};
  for (const [k] of CASES) slots[k] = (h[at[k]] - h[at[k] - 1] - empty) / N;
  const ms = {};
  for (const k of TIMED) ms[k] = Math.min(...[...r.out.matchAll(new RegExp(`ms ${k} ([\\d.]+)`, "g"))].map((m) => Number(m[1])));
  return { slots, ms, errors: Number(/errors (\d+)/.exec(r.out)[1]) };
}

async function v8_figures() {
  const m = await import("../build/bench/fmt_xs.js");
  m.setup();
  for (const k of TIMED) m.run(k, 2000);
  const ms = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const k of TIMED) {
      const t0 = performance.now();
      m.run(k, N * 10);
      const t = (performance.now() - t0) / 10;
      ms[k] = round === 0 ? t : Math.min(ms[k], t);
    }
  }
  return { ms, errors: m.errors() };
}

const xs = await xs_figures();
const v8 = await v8_figures();
const r2 = (x) => Math.round(x * 100) / 100;
const us = (ms) => r2((ms * 1000) / N);
console.log(`XS heap slots per call, ${N.toLocaleString("en-US")} calls after warm-up:

| call | XS slots per call |
|---|---|
${CASES.map(([k, what]) => `| ${what} | ${k === "send_bytes" || k === "vprintf" || k === "printf_args" ? `**${r2(xs.slots[k])}**` : r2(xs.slots[k])} |`).join("\n")}

Time per call (µs; fastest of ${ROUNDS} interleaved rounds of ${N.toLocaleString("en-US")} calls; the connection's send buffer emptied after each call):

| call | XS µs | V8 µs | XS: × the byte path |
|---|---|---|---|
${TIMED.map((k) => `| ${CASES.find((c) => c[0] === k)[1]} | ${us(xs.ms[k])} | ${us(v8.ms[k])} | ${r2(xs.ms[k] / xs.ms.send_bytes)} |`).join("\n")}

errors: XS ${xs.errors}, V8 ${v8.errors}`);
if (xs.errors + v8.errors > 0) process.exitCode = 1;
