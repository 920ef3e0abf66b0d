// Bundle size per config: what switching a feature off saves. Bundles
// build/src/index.js (the whole public API) with rollup.config.js's config
// folding, as `npm run build` does for a board; "without comments" is closer
// to what xsc compiles (it drops them), the raw size is what ships as source.
import { bundle_api } from "../rollup.config.js";

const configs = [
  ["everything on (the default)", {}],
  ["`MG_ENABLE_WS: false`", { MG_ENABLE_WS: false }],
  ["`MG_ENABLE_HTTP: false` (no HTTP, no WebSocket)", { MG_ENABLE_HTTP: false }],
  ["`MG_ENABLE_SNTP: false`", { MG_ENABLE_SNTP: false }],
  ["`MG_ENABLE_RPC: false`", { MG_ENABLE_RPC: false }],
  ["`MG_ENABLE_TLS: false`", { MG_ENABLE_TLS: false }],
  ["`MG_ENABLE_MQTT: false`", { MG_ENABLE_MQTT: false }],
  ["`MG_ENABLE_LOG: false`, `MG_ENABLE_HEXDUMP: false`", { MG_ENABLE_LOG: false, MG_ENABLE_HEXDUMP: false }],
  ["all of the above and `MG_ENABLE_UDP: false`: the TCP core", { MG_ENABLE_HTTP: false, MG_ENABLE_WS: false, MG_ENABLE_SNTP: false, MG_ENABLE_RPC: false, MG_ENABLE_TLS: false, MG_ENABLE_MQTT: false, MG_ENABLE_LOG: false, MG_ENABLE_HEXDUMP: false, MG_ENABLE_UDP: false }],
];
const f = (n) => n.toLocaleString("en-US");
console.log("| config | bytes | bytes without comments |\n|---|---|---|");
for (const [name, overrides] of configs) {
  const code = await bundle_api(overrides);
  const bare = code.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "").replace(/\n\s*\n/g, "\n");
  console.log(`| ${name} | ${f(code.length)} | ${f(bare.length)} |`);
}
