// npm run budget: for each board (boards/<board>/), what mgts's fixed
// memory costs against the board's XS heap (its manifest's `creation`):
// predicted from the config and XS's slot counter (below), then measured on
// Moddable's lin build with the Moddable SDK (tools/budget_moddable.mjs): the
// peak XS stack and the live heap of each app, against each board's
// creation. The stack must have at least 25 % headroom over the measured
// peak and the measured heap must fit: the run fails otherwise.
//
// Slots are measured: the core and hal/ecma419 are bundled with the board's
// config folded (as rollup.config.js does for the device) and run in the real
// XS engine (tools/xs.mjs), reading currentHeapCount after gc() around each
// step. A slot is 16 bytes on a 32-bit MCU. Chunk bytes (ArrayBuffer
// storage) are computed from the config, because the XS worker reports no
// chunk figure: every buffer counts byteLength + 8 (XS's chunk header,
// rounded). The measurement of one pooled connection checks the per-
// connection model. What lwIP allocates (pbufs, PCBs) is outside the XS heap
// and not counted.
//
//   npm run budget                 every board
//   npm run budget -- esp32c3      one board
//   npm run budget -- --no-moddable   the prediction only (no SDK needed)
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { XS_PRELUDE, xs_available, xs_bundle, xs_run } from "./xs.mjs";
import { boards, board_overrides, mg_config } from "../rollup.config.js";

const SLOT = 16;
const CHUNK_HEADER = 8;

const only = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const tsc = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
if (tsc.status !== 0 || !existsSync("build/hal/ecma419.js")) {
  console.error("budget: tsc failed (build/hal/ecma419.js is needed)");
  process.exit(1);
}
if (!xs_available()) {
  console.error("budget: the XS worker is not built (npm install builds it)");
  process.exit(1);
}

mkdirSync("build/budget", { recursive: true });
writeFileSync(
  "build/budget/entry.js",
  `export * from "../src/index.js";
export { mg_hal_ecma419 } from "../hal/ecma419.js";
export { mg_mock } from "../hal/mock.js";
`,
);

/** Defaults of src/config.ts, for keys a board does not set. */
function defaults() {
  const src = readFileSync("src/config.ts", "utf8");
  const out = {};
  for (const m of src.matchAll(/export const (MG_\w+) = ([^;]+);/g)) {
    try {
      out[m[1]] = JSON.parse(m[2]);
    } catch {
      // strings in single quotes and the like: not sizes
    }
  }
  return out;
}

// Each step is one evaluation in the same worker; the figures are the
// differences of currentHeapCount between them.
const SETUP = `
const M = mgts_xs;
globalThis.K = [];
const nop = () => {};
globalThis.STUB = { name: "stub", millis: () => 0, random: nop, log: nop, wake: nop, timer: nop,
  listen: () => -1, connect: () => -1, accept: () => -1, state: () => 3, readable: () => 0, writable: () => 0,
  read: () => 0, write: () => 0, recvfrom: () => 0, sendto: () => -1, close: nop, addr: nop,
  resolve: () => -1, resolved: () => -1, resolve_cancel: nop };
// A platform for hal/ecma419 that allocates nothing per call, so the HAL's own allocations show.
class T { constructor(o) { this.o = o; this.target = o.target; globalThis.LAST = this; } read(v) { return v.byteLength; } write(v) { return 8192; } close() {} }
class L { constructor(o) { this.o = o; this.target = o.target; this.port = 80; } read() { return new T({}); } close() {} }
class U { constructor(o) { this.o = o; this.target = o.target; } read() {} write() {} close() {} }
globalThis.FAKE = { TCP: T, Listener: L, UDP: U, resolve: nop, millis: () => 0, timer: () => ({ arm: nop, disarm: nop }), log: nop, random: nop };
globalThis.ADDR = new M.mg_addr(); ADDR.ip[0] = 10; ADDR.ip[3] = 1; ADDR.port = 80;
gc(); 1`;
async function measure(board, cfg) {
  const code = await xs_bundle("build/budget/entry.js", [mg_config(board_overrides(board))]);
  const steps = [
    XS_PRELUDE + code + SETUP,
    "gc(); 1",
    "K.push(new mgts_xs.mg_mgr()); gc(); 1",
    "mgts_xs.mg_mgr_init(K[0], STUB); gc(); 1",
    "K.push(new mgts_xs.mg_connection(K[0], mgts_xs.MG_IO_SIZE)); gc(); 1",
    "globalThis.HAL = mgts_xs.mg_hal_ecma419(FAKE); gc(); 1",
    // one socket: its record (made once, reused) and the platform's object
    "globalThis.FD = HAL.connect(ADDR, false); gc(); 1",
    // warm the data path once, so what follows is the steady state
    `{ const t = LAST; t.o.onWritable.call(t, 8192); t.o.onReadable.call(t, 1500);
       HAL.read(FD, K[1].recv.buf, 0, 1500); HAL.write(FD, K[1].send.buf, 0, 1500); } gc(); 1`,
    // 1000 × (onReadable, read, onWritable, write) through hal/ecma419: the steady state
    `{ const t = LAST, rb = K[1].recv.buf, sb = K[1].send.buf;
       for (let i = 0; i < 1000; i++) {
         t.o.onReadable.call(t, 1500); HAL.read(FD, rb, 0, 1500);
         t.o.onWritable.call(t, 8192); HAL.write(FD, sb, 0, 1500);
       } } gc(); 1`,
  ];
  const r = await xs_run(steps, 120000);
  const bad = r.results.find((x) => !x.ok);
  if (bad || r.why) throw new Error(`XS run failed: ${bad ? bad.error : r.why}\n${r.out}${r.err}`);
  const h = r.results.map((x) => x.meters.currentHeapCount);
  return {
    mgr: h[2] - h[1],
    init: h[3] - h[2],
    conn: h[4] - h[3],
    hal: h[5] - h[4],
    sock: h[6] - h[5],
    io1000: h[8] - h[7],
  };
}

const rows = [];
const D = defaults();
for (const b of boards()) {
  if (only.length > 0 && !only.includes(b)) continue;
  const cfg = { ...D, ...JSON.parse(readFileSync(`boards/${b}/config.json`, "utf8")).config };
  const man = JSON.parse(readFileSync(`boards/${b}/manifest.json`, "utf8"));
  const m = await measure(b, cfg);
  const N = cfg.MG_MAX_CONNS;
  let stage = 1;
  while (stage < cfg.MG_IO_SIZE) stage *= 2;
  // chunks per connection: recv and send buffers, c.data, the two mg_addr ip arrays
  const conn_chunks = 2 * (cfg.MG_IO_SIZE + CHUNK_HEADER) + (cfg.MG_DATA_SIZE + CHUNK_HEADER) + 2 * (16 + CHUNK_HEADER);
  // fixed: the HAL's staging buffer, and small arrays of the manager (measured in slots)
  const fixed_chunks = stage + CHUNK_HEADER;
  const pool_slots = N * m.conn;
  const fixed_slots = m.mgr + (m.init - pool_slots) + m.hal + (N + 2) * m.sock;
  const cr = man.creation;
  const skip = JSON.parse(readFileSync(`boards/${b}/config.json`, "utf8")).budget_skip ?? {}; // apps that do not fit the board, and why
  rows.push({ b, cfg, m, N, conn_chunks, fixed_chunks, pool_slots, fixed_slots, cr, skip });
}

const kb = (n) => (n / 1024).toFixed(1);
console.log("## RAM budget per board (npm run budget)\n");
console.log("Slots measured in XS (16 bytes each on a 32-bit MCU); chunk bytes computed from the config (byteLength + 8 per buffer).\n");
console.log("| board | pool | per connection: slots (XS) / chunks | pool total | fixed tables | mgts total | board heap | left for the app |");
console.log("|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  const pool_bytes = r.pool_slots * SLOT + r.N * r.conn_chunks;
  const fixed_bytes = r.fixed_slots * SLOT + r.fixed_chunks;
  const total = pool_bytes + fixed_bytes;
  let heap = "grows on demand (simulator)";
  let left = "-";
  if (r.cr) {
    if (r.cr.static > 0) {
      heap = `${kb(r.cr.static)} KB (one block: chunks + slots)`;
      left = `${kb(r.cr.static - total)} KB (${Math.round((100 * total) / r.cr.static)}% used)`;
    } else {
      const chunks = r.cr.chunk.initial;
      const slots = r.cr.heap.initial * SLOT;
      const used_c = r.N * r.conn_chunks + r.fixed_chunks;
      const used_s = (r.pool_slots + r.fixed_slots) * SLOT;
      heap = `${kb(chunks)} KB chunks + ${kb(slots)} KB slots`;
      left = `${kb(chunks - used_c)} KB chunks (${Math.round((100 * used_c) / chunks)}% used), ${kb(slots - used_s)} KB slots (${Math.round((100 * used_s) / slots)}% used)`;
    }
  }
  console.log(
    `| ${r.b} | ${r.N} × MG_IO_SIZE ${r.cfg.MG_IO_SIZE} | ${r.m.conn} (${kb(r.m.conn * SLOT)} KB) / ${kb(r.conn_chunks)} KB | ${kb(pool_bytes)} KB | ${kb(fixed_bytes)} KB | ${kb(total)} KB | ${heap} | ${left} |`,
  );
}
console.log("\nMeasured in XS, per board (slots):\n");
console.log("| board | mg_mgr | mg_mgr_init (pool + timers) | one mg_connection | hal/ecma419 (staging, state) | one socket record | 1000 × (read + write) through hal/ecma419 |");
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) {
  const check = r.m.init - r.pool_slots;
  console.log(`| ${r.b} | ${r.m.mgr} | ${r.m.init} (= ${r.N} × ${r.m.conn} + ${check}) | ${r.m.conn} | ${r.m.hal} | ${r.m.sock} | ${r.m.io1000} |`);
}
console.log(
  "\nNot counted: protocol state a connection gets from the first HTTP/WebSocket request (made once per pooled connection, kept across reuse), the app's own tables, and lwIP's memory (outside the XS heap). Per accept, Moddable itself makes two TCP host objects and an options object; per UDP datagram an ArrayBuffer with address and port.",
);

// --- measured on Moddable (lin) --------------------------------------------------------------

const STACK_HEADROOM = 1.25;
if (process.argv.includes("--no-moddable")) process.exit(0);
const helper = await import("../build/test/moddable.js");
if (helper.moddable_sdk() === null) {
  console.log(`\n(Not measured on Moddable: no SDK: ${helper.moddable_sdk_absent()}.)`);
  process.exit(0);
}
const { measure_moddable, APPS } = await import("./budget_moddable.mjs");
const repo = process.cwd();
// boards with the same config share a measurement
const groups = new Map();
for (const r of rows) {
  if (!r.cr || r.b === "sim") continue;
  const key = JSON.stringify(r.cfg);
  if (!groups.has(key)) groups.set(key, { cfg: r.cfg, skip: r.skip, boards: [] });
  groups.get(key).boards.push(r);
}
let bad = 0;
console.log("\n## Measured on Moddable's lin build (npm run budget)\n");
console.log("Each app built with the board's config (mcconfig -i, a 4096-slot stack for the measurement), driven down every path it has; stack: XS's peak in slots; heap: live after a garbage collection, slots and chunk bytes (chunks on 64-bit lin are an upper bound for an ESP32).\n");
for (const g of groups.values()) {
  const names = g.boards.map((r) => r.b).join(", ");
  const m = await measure_moddable(helper, repo, g.cfg, APPS.filter((a) => !(a in g.skip)));
  console.log(`### ${names}: ${g.cfg.MG_MAX_CONNS} connections × MG_IO_SIZE ${g.cfg.MG_IO_SIZE}, MG_JSON_MAX_DEPTH ${g.cfg.MG_JSON_MAX_DEPTH}\n`);
  console.log("| app | stack peak (slots) | idle: slots / chunks | pool full: slots / chunks | during a 1 MB upload (MQTT: the workload): slots / chunks |");
  console.log("|---|---|---|---|---|");
  const sk = (x) => (x === null ? "-" : `${Math.round(x.slots)} / ${kb(x.chunks)} KB`);
  for (const a of m) {
    const full = a.full === null ? "- (a client: one connection)" : `${sk(a.full)} (${a.full.open} of ${a.conns} connections open)`;
    console.log(`| ${a.app} | ${Math.round(a.stack)} | ${sk(a.idle)} | ${full} | ${sk(a.during)} |`);
  }
  console.log("\nUploads: " + m.map((a) => `${a.app}: ${a.upload}`).join("; ") + ".\n");
  for (const [a, why] of Object.entries(g.skip)) console.log(`Not measured here: ${a} ${why}.\n`);
  const stack = Math.max(...m.map((a) => a.stack));
  const peak = (k) => Math.max(...m.flatMap((a) => [a.idle, a.full, a.during].filter((x) => x !== null).map((x) => x[k])));
  const slots = peak("slots");
  const chunks = peak("chunks");
  console.log("| board | creation.stack | needed (peak × 1.25) | heap | measured peak (slots × 16 B + chunks) | fits |");
  console.log("|---|---|---|---|---|---|");
  for (const r of g.boards) {
    const need = Math.ceil(stack * STACK_HEADROOM);
    const st_ok = r.cr.stack >= need;
    let heap, used, fits;
    if (r.cr.static > 0) {
      used = slots * SLOT + chunks + r.cr.stack * SLOT;
      heap = `${kb(r.cr.static)} KB, one block (the stack's ${kb(r.cr.stack * SLOT)} KB included)`;
      fits = used <= r.cr.static;
    } else {
      used = slots * SLOT + chunks;
      heap = `${r.cr.heap.initial} slots + ${kb(r.cr.chunk.initial)} KB chunks`;
      fits = slots <= r.cr.heap.initial && chunks <= r.cr.chunk.initial;
    }
    const ok = st_ok && fits;
    if (!ok) bad++;
    console.log(`| ${r.b} | ${r.cr.stack} (${Math.round((100 * r.cr.stack) / stack - 100)} % over the peak) | ${need} | ${heap} | ${Math.round(slots)} slots + ${kb(chunks)} KB = ${kb(used)} KB | ${ok ? "yes" : "**NO**"} |`);
  }
  console.log("");
}
// leave dist/ as npm run build makes it (the measurements folded each board's config into it)
spawnSync("npm", ["run", "build"], { stdio: "ignore" });
if (bad > 0) {
  console.log(`${bad} board(s) short: raise creation in boards/<board>/manifest.json (stack: at least the peak × ${STACK_HEADROOM}).`);
  process.exit(1);
}
