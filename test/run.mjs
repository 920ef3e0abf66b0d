// npm test: compiles with tsc, runs every uvu suite on Node, then the suites
// that need no real sockets again on the real XS engine, then the Moddable
// tier, and ends with the line "N passed, N failed" (non-zero exit on any
// failure).
//   npm test                  everything
//   npm test -- http ws       files whose name contains "http" or "ws"
//   npm test -- --node        Node only (--xs: XS only, --moddable: the Moddable tier only)
// Files named *.node.test.ts use real sockets or node:* and run on Node only.
// Files named *.moddable.test.ts build mgts with the Moddable SDK and run it
// (test/moddable.ts): they run when the SDK is there, that is when MODDABLE
// names a built SDK or ../shared/moddable-build.sh sits beside the checkout
// (it builds the SDK's tools once); otherwise the run says it left them out.
import { spawn, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { cpus } from "node:os";
import { XS_PRELUDE, xs_available, xs_bundle, xs_run } from "../tools/xs.mjs";

const args = process.argv.slice(2);
const only_node = args.includes("--node");
const only_xs = args.includes("--xs");
const only_moddable = args.includes("--moddable");
const filters = args.filter((a) => !a.startsWith("--"));
const FILE_TIMEOUT_MS = 180000; // a suite that hangs is killed and counted as failed
const MODDABLE_TIMEOUT_MS = 900000; // builds included

let passed = 0;
let failed = 0;
const failures = [];

// A type error fails the run, but tsc still emits, so the suites run anyway
// and say what else is wrong.
const tsc = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
if (tsc.status !== 0) {
  failed++;
  failures.push("tsc: type errors (above)");
}

const all_files = readdirSync("test")
  .filter((f) => f.endsWith(".test.ts"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
const files = all_files.filter((f) => !f.endsWith(".moddable.test.ts"));
const moddable_files = all_files.filter((f) => f.endsWith(".moddable.test.ts"));

/** Reads uvu's closing totals; a run without them failed as a whole. */
function tally(label, out, ok_exit) {
  const total = /Total:\s+(\d+)/.exec(out);
  const pass = /Passed:\s+(\d+)/.exec(out);
  const skip = /Skipped:\s+(\d+)/.exec(out);
  if (!total || !pass) {
    failed++;
    failures.push(`${label}: no totals (crashed or timed out)`);
    return;
  }
  const t = Number(total[1]);
  const p = Number(pass[1]);
  const s = skip ? Number(skip[1]) : 0;
  passed += p;
  failed += t - p - s;
  if (t - p - s > 0) failures.push(`${label}: ${t - p - s} failed`);
  else if (!ok_exit) {
    failed++;
    failures.push(`${label}: exited with an error after its tests`);
  }
}

function run_node(file, label = "node", timeout_ms = FILE_TIMEOUT_MS) {
  return new Promise((resolve) => {
    const js = `build/test/${file.replace(/\.ts$/, ".js")}`;
    const p = spawn(process.execPath, [js], { env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    // SIGTERM first: the Moddable suites stop the mcsim processes they started on it
    const timer = setTimeout(() => {
      out += `\nkilled after ${timeout_ms / 1000} s\n`;
      p.kill("SIGTERM");
      setTimeout(() => p.kill("SIGKILL"), 5000).unref();
    }, timeout_ms);
    p.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ label: `${label} ${file}`, out, ok: code === 0 });
    });
  });
}

async function run_xs(file) {
  const js = `build/test/${file.replace(/\.ts$/, ".js")}`;
  let code;
  try {
    code = await xs_bundle(js);
  } catch (e) {
    return { label: `xs ${file}`, out: `bundle failed: ${e.message}\n`, ok: false };
  }
  const r = await xs_run([XS_PRELUDE, code], FILE_TIMEOUT_MS);
  // uvu colours its output in XS (no process.env to say otherwise): strip it
  let out = (r.out + r.err).replace(/\x1b\[[0-9;]*m/g, "");
  const bad = r.results.find((x) => !x.ok);
  if (bad) out += `uncaught: ${bad.error}\n`;
  if (r.why) out += `${r.why}\n`;
  return { label: `xs ${file}`, out, ok: !bad && !r.why };
}

/** Runs jobs two at a time (the machines have 2 cores), printing in order. */
async function pool(jobs) {
  const results = new Array(jobs.length);
  let next = 0;
  const width = Math.max(1, Math.min(2, cpus().length));
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]();
      }
    }),
  );
  for (const r of results) {
    process.stdout.write(`\n=== ${r.label}\n${r.out}`);
    tally(r.label, r.out, r.ok);
  }
}

if (!only_xs && !only_moddable) await pool(files.map((f) => () => run_node(f)));
if (!only_node && !only_moddable) {
  const xs_files = files.filter((f) => !f.endsWith(".node.test.ts"));
  if (!xs_available()) {
    failed++;
    failures.push("xs: the xsnap worker is not built (npm install builds it)");
  } else {
    await pool(xs_files.map((f) => () => run_xs(f)));
  }
}

// The Moddable tier: the apps built by mcconfig and run on Moddable's own runtime.
if (!only_node && !only_xs && moddable_files.length > 0) {
  const { moddable_sdk, moddable_sdk_absent, moddable_env } = await import("../build/test/moddable.js");
  const sdk = moddable_sdk();
  if (sdk === null) {
    console.log(`\n=== moddable tier: SKIPPED, no Moddable SDK (${moddable_sdk_absent()})`);
    console.log(`    left out: ${moddable_files.join(", ")}`);
    console.log("    set MODDABLE to a built SDK, or put the shared folder (moddable-build.sh) beside the checkout");
  } else {
    const t0 = Date.now();
    Object.assign(process.env, moddable_env(sdk));
    // the modules mcconfig takes (dist/moddable), made once for every suite
    const b = spawnSync("npm", ["run", "build"], { encoding: "utf8" });
    if (b.status !== 0) {
      failed++;
      failures.push("moddable: npm run build failed");
      process.stdout.write(b.stdout + b.stderr);
    } else {
      process.env.MGTS_DIST_READY = "1";
      console.log(`\n=== moddable tier: SDK ${sdk.MODDABLE} (found through ${sdk.via})`);
      await pool(moddable_files.map((f) => () => run_node(f, "moddable", MODDABLE_TIMEOUT_MS)));
      console.log(`\n=== moddable tier: ${moddable_files.length} files in ${Math.round((Date.now() - t0) / 1000)} s`);
    }
  }
}

if (failures.length > 0) console.log("\nFailures:\n  " + failures.join("\n  "));
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
