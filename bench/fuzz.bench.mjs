// The XS heap across rounds of abuse (bench/fuzz_xs.ts: bad requests, bad
// WebSocket frames, cut bodies, resets, FINs against the echo app over the
// mock network): after gc() between rounds the heap must not keep growing.
// Prints Markdown. Run: npm run bench -- fuzz
import { XS_PRELUDE, xs_available, xs_bundle, xs_run } from "../tools/xs.mjs";

const ROUNDS = 6;
const PER = 20;

if (!xs_available()) {
  console.log("XS worker not available: skipped");
  process.exit(0);
}
const code = await xs_bundle("build/bench/fuzz_xs.js");
const scripts = [XS_PRELUDE, code, `mgts_xs.setup(); print("live " + mgts_xs.abuse(${PER}));`, "gc();"];
for (let i = 0; i < ROUNDS; i++) scripts.push(`print("live " + mgts_xs.abuse(${PER}));`, "gc();");
// the control: the same scripts doing no abuse, for what evaluating them costs
for (let i = 0; i < ROUNDS; i++) scripts.push(`print("idle " + mgts_xs.abuse(0));`, "gc();");
const r = await xs_run(scripts, 300000);
if (r.why || r.results.some((x) => !x.ok)) {
  console.error(`XS run failed: ${r.why ?? ""} ${JSON.stringify(r.results.filter((x) => !x.ok))} ${r.out}`);
  process.exit(1);
}
const all = [];
for (let i = 3; i < r.results.length; i += 2) all.push(r.results[i].meters.currentHeapCount);
const heap = all.slice(0, ROUNDS + 1);
const idle = all.slice(ROUNDS);
const live = [...r.out.matchAll(/live (\d+)/g)].map((m) => Number(m[1]));
const growth = heap[heap.length - 1] - heap[1];
console.log(`| XS heap after gc(), after each round of ${PER}×5 hostile clients (first = warm-up) | ${heap.join(" / ")} |`);
console.log(`|---|---|`);
console.log(`| growth from round 2 to round ${ROUNDS + 1} | ${growth} slots |`);
console.log(`| control: the same scripts without abuse (what evaluating them leaves) | ${idle.join(" / ")} (growth ${idle[idle.length - 1] - idle[0]}) |`);
console.log(`| connections left after each round (2 = the listeners) | ${live.join(" / ")} |`);
if (live.some((n) => n !== 2)) {
  console.error("connections leaked");
  process.exit(1);
}
