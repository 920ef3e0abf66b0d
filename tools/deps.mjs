// Runs before `npm start` and `npm test` (prestart/pretest): on a fresh clone
// it installs the locked dependencies first, so the README's quick start is
// two commands. Once node_modules is there it does nothing.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

// (not imported from tools/xs.mjs: that module needs rollup, which may be missing)
const XS_WORKER = "node_modules/@agoric/xsnap/xsnap-native/xsnap/build/bin/lin/release/xsnap-worker";
const needed = ["node_modules/typescript", "node_modules/uvu", "node_modules/rollup", XS_WORKER];
if (needed.every((p) => existsSync(p))) process.exit(0);
console.log("mgts: installing dependencies (npm ci; XS is compiled once, about a minute)...");
const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { stdio: "inherit" });
process.exit(r.status ?? 1);
