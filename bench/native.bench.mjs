// Native primitives against JavaScript on XS: Moddable's base64 (C) against
// mgts' mg_base64_encode, time and heap slots per call (bench/native_xs.ts).
// SHA-1: Moddable's native digest (crypt) is not in the XS worker here, so
// only the JavaScript SHA-1 is measured (bench/fmt.bench.mjs).
import { xs_bundle, xs_count } from "../tools/xs.mjs";

const N = 10000;
const code = await xs_bundle("build/bench/native_xs.js");
const rows = [];
for (const size of [20, 1024]) {
  const setup = `mgts_xs.size(${size}); if (!mgts_xs.same()) throw new Error("base64 differs"); mgts_xs.js(100); mgts_xs.native(100);`;
  const js = await xs_count(code, setup, "mgts_xs.js", N);
  const nat = await xs_count(code, setup, "mgts_xs.native", N);
  rows.push(`| ${size} bytes | ${(1e6 / js.rps).toFixed(2)} µs, ${js.slots} slots | ${(1e6 / nat.rps).toFixed(2)} µs, ${nat.slots} slots | ${(nat.rps / js.rps).toFixed(1)}× |`);
}
console.log(`| base64 of | mg_base64_encode (JS, into a buffer) | Base64.encode (native, returns a string) | native speed-up |
|---|---|---|---|
${rows.join("\n")}`);
