// Drives the real XS engine: the xsnap worker that the npm package
// @agoric/xsnap compiles from Moddable's XS sources during npm install.
// It reads netstrings on fd 3 ("e<source>" evaluates a script, "q" quits)
// and answers on fd 4 ('.' + JSON meters, or '!' + the uncaught error).
// Used by test/run.mjs (the suites on XS) and bench/run.mjs (heap counts).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { rollup } from "rollup";
import { nodeResolve } from "@rollup/plugin-node-resolve";

export const XS_WORKER = new URL(
  "../node_modules/@agoric/xsnap/xsnap-native/xsnap/build/bin/lin/release/xsnap-worker",
  import.meta.url,
).pathname;

/**
 * The globals uvu and the suites need that the worker lacks: console over
 * print, setTimeout as a microtask (uvu only defers its run with it).
 */
export const XS_PRELUDE = `
globalThis.console = { log: (...a) => print(a.join(" ")), error: (...a) => print(a.join(" ")), warn: (...a) => print(a.join(" ")) };
globalThis.setTimeout = (fn, ms, ...args) => { Promise.resolve().then(() => fn(...args)); return 0; };
globalThis.clearTimeout = () => {};
`;

export function xs_available() {
  return existsSync(XS_WORKER);
}

/** Bundles an ES module (and what it imports) into one script for the worker. */
export async function xs_bundle(input, plugins = []) {
  const bundle = await rollup({
    input,
    plugins: [nodeResolve(), ...plugins],
    onwarn(w, warn) {
      if (w.code !== "CIRCULAR_DEPENDENCY") warn(w);
    },
  });
  const { output } = await bundle.generate({ format: "iife", name: "mgts_xs" });
  await bundle.close();
  return output[0].code;
}

function netstring(s) {
  const b = Buffer.from(s, "utf8");
  return Buffer.concat([Buffer.from(`${b.length}:`), b, Buffer.from(",")]);
}

/**
 * Evaluates each script in order in one fresh worker. Resolves with what it
 * printed and, per script, {ok, meters|error}. Killed after timeout_ms.
 */
export function xs_run(scripts, timeout_ms = 120000) {
  return new Promise((resolve) => {
    const w = spawn(XS_WORKER, ["mgts"], { stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let answers = Buffer.alloc(0);
    const results = [];
    let i = 0;
    let done = false;
    const finish = (why) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        w.kill("SIGKILL");
      } catch {}
      resolve({ out, err, results, why });
    };
    const timer = setTimeout(() => finish(`timed out after ${timeout_ms} ms`), timeout_ms);
    w.stdout.on("data", (d) => (out += d));
    w.stderr.on("data", (d) => (err += d));
    w.on("exit", (code) => finish(i < scripts.length ? `worker exited with ${code}` : null));
    w.on("error", (e) => finish(String(e)));
    const send = () => {
      if (i >= scripts.length) {
        w.stdio[3].write(netstring("q"));
        w.stdio[3].end();
        return;
      }
      w.stdio[3].write(netstring("e" + scripts[i]));
    };
    w.stdio[4].on("data", (d) => {
      answers = Buffer.concat([answers, d]);
      for (;;) {
        const colon = answers.indexOf(58);
        if (colon < 0) return;
        const len = Number(answers.subarray(0, colon).toString());
        if (answers.length < colon + 1 + len + 1) return;
        const payload = answers.subarray(colon + 1, colon + 1 + len).toString();
        answers = answers.subarray(colon + 2 + len);
        if (payload[0] === ".") {
          // ".{meters}\x01<result>": the result is the script's value when it is an ArrayBuffer
          const sep = payload.indexOf("\x01");
          let meters = {};
          try {
            meters = JSON.parse(payload.slice(1, sep < 0 ? payload.length : sep));
          } catch {}
          results.push({ ok: true, meters, result: sep < 0 ? "" : payload.slice(sep + 1) });
        } else {
          results.push({ ok: false, error: payload.slice(1) });
        }
        i++;
        send();
      }
    });
    send();
  });
}

/**
 * Heap slots per call, and calls per second, of a bundled entry on XS:
 * `setup` runs first (a warm-up too, so lazy tables are made), then
 * `${call}(n)` between collections; `${call}(0)` measures what evaluating a
 * call costs, which is subtracted. `after` runs last (it may print(); what
 * the worker printed comes back as out).
 */
export async function xs_count(code, setup, call, n, after = "") {
  const scripts = [
    XS_PRELUDE,
    code,
    setup,
    "gc();",
    `${call}(0);`,
    "gc();",
    `${call}(${n});`,
    "gc();",
    `{ const t0 = performance.now(); ${call}(${n}); print("ms " + (performance.now() - t0)); }`,
    after,
  ];
  const r = await xs_run(scripts, 300000);
  if (r.why || r.results.some((x) => !x.ok)) {
    throw new Error(`XS run failed: ${r.why ?? ""} ${JSON.stringify(r.results.filter((x) => !x.ok))} ${r.out}`);
  }
  const h = r.results.map((x) => x.meters.currentHeapCount);
  const raw = h[6] - h[5] - (h[4] - h[3]);
  const ms = Number(/ms ([\d.]+)/.exec(r.out)[1]);
  return { slots: raw / n, raw, rps: (n / ms) * 1000, out: r.out };
}

/** The median of a list of numbers. */
export function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}
