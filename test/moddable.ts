// The Moddable tier's helper: finds the Moddable SDK, builds mgts with
// mcconfig (a lin binary, or the ESP32 preload), starts a lin binary under
// `xvfb-run -a mcsim`, waits until the app listens, and stops it. Every
// *.moddable.test.ts uses it; tools/moddable.mjs (npm run moddable),
// tools/budget.mjs and bench/moddable.bench.mjs too.
//
//   const sdk = moddable_sdk();                       // null: no SDK here
//   const b = await moddable_build({ app: "echo", config: { port: 0 } });
//   const app = await moddable_start(b.so!);          // resolves once it listens
//   fetch(`http://127.0.0.1:${app.ports.tcp[0]}/`) ...
//   await app.stop();
//
// Builds: a build is made once per set of inputs (platform, app config,
// creation, the dist/moddable bundles, manifest.json and boards/) and kept as
// build/moddable/apps/<key>.so, so each config is built once per run (and
// not again while nothing changed). mcconfig writes into build/moddable/ only
// (-o), never into the SDK's own build folders, and one build at a time runs
// per checkout (a lock), since its intermediate folder is shared.
//
// Ports: the app is built with port=0 (any free port) and prints every port
// it opened ("mgts: listening tcp port 40123", firmware/device.ts);
// moddable_start reads them. The echo app also opens port + 1 (TCP) and + 2
// (UDP), and lin's UDP socket cannot tell which port 0 picked: for it,
// free_ports() finds three free ones to build with.
//
// Processes: each app runs in its own process group (xvfb-run, Xvfb,
// mcsim); stop() ends the group, and so does the exit of the test process
// (normally or by SIGINT/SIGTERM; test/run.mjs sends SIGTERM before SIGKILL).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { createSocket } from "node:dgram";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout (build/test/moddable.js is two folders below it). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const OUT = join(REPO, "build", "moddable");

export interface moddable_sdk_t {
  /** The SDK's root (its tools built): what MODDABLE is set to. */
  MODDABLE: string;
  /** $MODDABLE/build/bin/lin/release: mcconfig, xsc, xsl, mcsim. */
  bin: string;
  /** How it was found: "MODDABLE" (the environment) or the path of moddable-build.sh. */
  via: string;
}

let sdk_cache: moddable_sdk_t | null | undefined;
let sdk_why = "";

/**
 * The Moddable SDK, or null when there is none: $MODDABLE when it is set
 * (its tools must be built), else ../shared/moddable-build.sh beside the
 * checkout (CI's layout and the developers'), which builds the tools once
 * (about 2 minutes) and prints where they are.
 */
export function moddable_sdk(): moddable_sdk_t | null {
  if (sdk_cache !== undefined) return sdk_cache;
  sdk_cache = null;
  const env = process.env.MODDABLE;
  if (env !== undefined && env !== "") {
    const bin = join(env, "build", "bin", "lin", "release");
    if (existsSync(join(bin, "mcconfig")) && existsSync(join(bin, "mcsim"))) sdk_cache = { MODDABLE: env, bin, via: "MODDABLE" };
    else sdk_why = `MODDABLE=${env} has no built tools (${bin}/mcconfig, mcsim)`;
    return sdk_cache;
  }
  const script = resolve(REPO, "..", "shared", "moddable-build.sh");
  if (!existsSync(script)) {
    sdk_why = `MODDABLE is not set and ${script} does not exist`;
    return null;
  }
  const r = spawnSync("bash", [script], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 15 * 60000 });
  const m = /export MODDABLE='([^']+)'/.exec(r.stdout ?? "");
  if (r.status !== 0 || m === null) {
    sdk_why = `${script} failed (exit ${r.status})`;
    return null;
  }
  sdk_cache = { MODDABLE: m[1], bin: join(m[1], "build", "bin", "lin", "release"), via: script };
  return sdk_cache;
}

/** Why moddable_sdk() returned null. */
export function moddable_sdk_absent(): string {
  moddable_sdk();
  return sdk_why;
}

/** The environment the SDK's tools want: MODDABLE, and its tools first on PATH. */
export function moddable_env(sdk: moddable_sdk_t): NodeJS.ProcessEnv {
  return { ...process.env, MODDABLE: sdk.MODDABLE, PATH: `${sdk.bin}:${process.env.PATH ?? ""}` };
}

function need_sdk(): moddable_sdk_t {
  const sdk = moddable_sdk();
  if (sdk === null) throw new Error("no Moddable SDK: " + sdk_why);
  return sdk;
}

// --- one build at a time per checkout ------------------------------------------------

const LOCK = join(OUT, ".lock");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs fn holding build/moddable/.lock (a directory: mkdir is atomic); a lock left by a dead process is taken over. */
async function locked<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(OUT, { recursive: true });
  const deadline = Date.now() + 15 * 60000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, "pid"), String(process.pid));
      break;
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(join(LOCK, "pid"), "utf8"));
      } catch {
        // being made or removed right now
      }
      if (owner > 0 && !alive(owner)) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error("build/moddable/.lock held for 15 minutes by pid " + owner);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd = REPO): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const p = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    const t = setTimeout(() => p.kill("SIGKILL"), 10 * 60000);
    p.on("close", (code) => {
      clearTimeout(t);
      done({ code, out });
    });
  });
}

let dist_done: string | null = null;

/**
 * The modules mcconfig takes (dist/moddable/: the core per board, the app,
 * the packed UI): made by `npm run build`, once per process and MGTS_CONFIG
 * (which folds a config over every board's, rollup.config.js). test/run.mjs
 * builds them before the tier and sets MGTS_DIST_READY.
 */
async function ensure_dist(): Promise<void> {
  const cfg = process.env.MGTS_CONFIG ?? "";
  if (dist_done === cfg || (process.env.MGTS_DIST_READY === "1" && cfg === "")) return;
  const r = await run("npm", ["run", "build"], process.env);
  if (r.code !== 0) throw new Error("npm run build failed:\n" + r.out.slice(-3000));
  dist_done = cfg;
}

/** Hash of every file under p (sorted), for the build cache key. */
function hash_tree(h: ReturnType<typeof createHash>, p: string): void {
  if (!existsSync(p)) return;
  if (statSync(p).isDirectory()) {
    for (const name of readdirSync(p).sort()) hash_tree(h, join(p, name));
    return;
  }
  h.update(p.slice(REPO.length));
  h.update(readFileSync(p));
}

// --- builds --------------------------------------------------------------------------

export interface moddable_build_opts {
  /** "lin" (default) or "esp32/<board>" (then only xsc and xsl run: the preload, no ESP-IDF). */
  platform?: string;
  /** mc/config settings, as mcconfig's key=value: app, port, dash_pass, data, meter, ... */
  config?: Record<string, string | number>;
  /** An instrumented release build (-i): Instrumentation figures, and mcsim prints "instruments:" every second. */
  instrument?: boolean;
  /** Overrides of the manifest's creation (e.g. { stack: 256 }). */
  creation?: Record<string, unknown>;
  /** More modules (name: path without extension) and preloads, e.g. to show the warning check at work. */
  extra?: { modules: Record<string, string>; preload: string[] };
}

export interface moddable_build_t {
  /** The lin binary (build/moddable/apps/<key>.so); null for an ESP32 preload. */
  so: string | null;
  /** Every "### warning" line xsl printed while preloading, each marked "(mgts)" or "(Moddable)" by the module it names. */
  warnings: string[];
  /** What mcconfig and make printed. */
  log: string;
  /** False when an earlier build of the same inputs was reused. */
  built: boolean;
  ms: number;
}

/** The wrapper manifest every build goes through: it names the build "mgts" and carries creation overrides and extra modules. */
function wrapper(opts: moddable_build_opts): string {
  const dir = join(OUT, "mgts");
  mkdirSync(dir, { recursive: true });
  const m: Record<string, unknown> = { include: [join(REPO, "manifest.json")] };
  if (opts.creation !== undefined) m.creation = opts.creation;
  if (opts.extra !== undefined) {
    m.modules = opts.extra.modules;
    m.preload = opts.extra.preload;
  }
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(m, null, 2) + "\n");
  return join(dir, "manifest.json");
}

/** The module names our manifests map to files of this checkout (the rest are Moddable's). */
function our_modules(flat: string): Set<string> {
  const ours = new Set<string>();
  try {
    const m = JSON.parse(readFileSync(flat, "utf8"));
    for (const [name, v] of Object.entries(m.modules ?? {})) {
      const paths = Array.isArray(v) ? v : [v];
      if (name !== "*" && paths.some((x: any) => typeof x === "string" && x.startsWith(REPO))) ours.add(name);
    }
  } catch {
    // no flat manifest: every warning counts as ours
  }
  return ours;
}

function xsl_warnings(log: string, flat: string): string[] {
  const ours = our_modules(flat);
  const out: string[] = [];
  for (const line of log.split("\n")) {
    const m = /^### warning: ([^:]+?)(: |\(\) |\.|\[)/.exec(line);
    if (!line.startsWith("### warning")) continue;
    const mod = m !== null ? m[1] : "";
    const mine = mod.startsWith("globalThis.") || ours.has(mod) || ours.size === 0;
    out.push(`${line} (${mine ? "mgts" : "Moddable"})`);
  }
  return out;
}

const ESP32_SUBCLASS: Record<string, string> = {};
function subclass(board: string): string {
  if (ESP32_SUBCLASS[board] !== undefined) return ESP32_SUBCLASS[board];
  // build/devices/esp32/targets/<board>/manifest.json names its chip in ESP32_SUBCLASS
  let s = "esp32";
  try {
    const m = readFileSync(join(need_sdk().MODDABLE, "build", "devices", "esp32", "targets", board, "manifest.json"), "utf8");
    const x = /"ESP32_SUBCLASS"\s*:\s*"([^"]+)"/.exec(m);
    if (x !== null) s = x[1];
  } catch {
    // a board without its own folder: plain esp32
  }
  return (ESP32_SUBCLASS[board] = s);
}

/**
 * Builds mgts with mcconfig. lin: a release (or -i instrumented) binary,
 * `mcconfig -m -t build -p lin -o build/moddable/lin`. ESP32: the makefile
 * (`mcconfig -p esp32/<board> -o build/moddable/esp32`), then only its
 * mc.xs.c target, which runs xsc and xsl (the whole preload) without ESP-IDF:
 * IDF_PATH names this checkout (any git repository passes its version check)
 * and sdkconfig.h is declared up to date (make -o).
 */
export async function moddable_build(opts: moddable_build_opts = {}): Promise<moddable_build_t> {
  const sdk = need_sdk();
  const platform = opts.platform ?? "lin";
  const esp32 = platform.startsWith("esp32/");
  const config = { ...(opts.config ?? {}) };
  const args = Object.keys(config)
    .sort()
    .map((k) => `${k}=${config[k]}`);
  const t0 = Date.now();
  return locked(async () => {
    await ensure_dist();
    const h = createHash("sha1");
    h.update(JSON.stringify({ platform, args, instrument: opts.instrument === true, creation: opts.creation ?? null, extra: opts.extra ?? null, sdk: sdk.MODDABLE }));
    for (const path of Object.values(opts.extra?.modules ?? {})) hash_tree(h, path + ".js");
    for (const p of ["dist/moddable", "manifest.json", "boards"]) hash_tree(h, join(REPO, p));
    const key = h.digest("hex").slice(0, 16);
    const apps = join(OUT, "apps");
    const so = join(apps, `${key}.so`);
    const report = join(apps, `${key}.log`);
    if (existsSync(report) && (esp32 || existsSync(so))) {
      const saved = JSON.parse(readFileSync(report, "utf8"));
      return { so: esp32 ? null : so, warnings: saved.warnings, log: saved.log, built: false, ms: Date.now() - t0 };
    }
    const env = moddable_env(sdk);
    const man = wrapper(opts);
    const out = join(OUT, esp32 ? "esp32" : "lin");
    mkdirSync(out, { recursive: true });
    const flavour = opts.instrument ? "instrument" : "release";
    let log = "";
    if (!esp32) {
      // xsl must run again (its warnings are the check) even when make thinks nothing changed
      rmSync(join(out, "tmp", "lin", "mc", flavour, "mgts", "mc.xs.c"), { force: true });
      const a = ["-m", "-t", "build", "-p", "lin", "-o", out, ...(opts.instrument ? ["-i"] : []), man, ...args];
      const r = await run("mcconfig", a, env);
      log = `$ mcconfig ${a.join(" ")}\n${r.out}`;
      const bin = join(out, "bin", "lin", "mc", flavour, "mgts", "mc.so");
      if (r.code !== 0 || !existsSync(bin)) throw new Error(`mcconfig failed (exit ${r.code}):\n${r.out.slice(-4000)}`);
      mkdirSync(apps, { recursive: true });
      copyFileSync(bin, so + ".tmp");
      renameSync(so + ".tmp", so);
    } else {
      const board = platform.slice("esp32/".length);
      const a = ["-p", platform, "-o", out, ...(opts.instrument ? ["-i"] : []), man, ...args];
      const r = await run("mcconfig", a, env);
      log = `$ mcconfig ${a.join(" ")}\n${r.out}`;
      const tmp = join(out, "tmp", "esp32", board, flavour, "mgts");
      if (r.code !== 0 || !existsSync(join(tmp, "makefile"))) throw new Error(`mcconfig failed (exit ${r.code}):\n${r.out.slice(-4000)}`);
      const sdkconfig = join(tmp, `xsProj-${subclass(board)}`, "build", "config", "sdkconfig.h");
      const target = join(tmp, "mc.xs.c");
      rmSync(target, { force: true });
      const m = ["-f", join(tmp, "makefile"), target, `IDF_PATH=${REPO}`, "-o", sdkconfig];
      const r2 = await run("make", m, env);
      log += `$ make ${m.join(" ")}\n${r2.out}`;
      if (r2.code !== 0 || !existsSync(target)) throw new Error(`the preload (xsc, xsl) failed (exit ${r2.code}):\n${r2.out.slice(-4000)}`);
    }
    const flat = join(out, "tmp", esp32 ? "esp32" : "lin", ...(esp32 ? [platform.slice(6)] : ["mc"]), flavour, "mgts", "manifest_flat.json");
    const warnings = xsl_warnings(log, flat);
    mkdirSync(apps, { recursive: true });
    writeFileSync(report, JSON.stringify({ warnings, log }));
    return { so: esp32 ? null : so, warnings, log, built: true, ms: Date.now() - t0 };
  });
}

// --- ports -----------------------------------------------------------------------------

function tcp_free(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createServer();
    s.once("error", () => done(false));
    s.listen(port, "0.0.0.0", () => s.close(() => done(true)));
  });
}
function udp_free(port: number): Promise<boolean> {
  return new Promise((done) => {
    const u = createSocket("udp4");
    u.once("error", () => {
      u.close();
      done(false);
    });
    u.bind(port, "0.0.0.0", () => u.close(() => done(true)));
  });
}

/**
 * A base port of the ephemeral range with base and base + 1 free for TCP and
 * base + 2 free for UDP (the echo app's three), checked by binding them.
 */
export async function free_ports(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    if ((await tcp_free(base)) && (await tcp_free(base + 1)) && (await udp_free(base + 2))) return base;
  }
  throw new Error("no three free ports found");
}

// --- running a lin binary ------------------------------------------------------------------

export interface moddable_app_t {
  /** The ports the app announced, in order. */
  ports: { tcp: number[]; udp: number[] };
  /** Every line mcsim printed so far (trace, XS's reports, "instruments:"). */
  lines: string[];
  /** Resolves with the first line (from now on, or already printed when since is 0) matching re. */
  wait_line(re: RegExp, ms?: number, since?: number): Promise<string>;
  /** True while the process runs. */
  running(): boolean;
  /** The mcsim process's pid (0 if it is gone), e.g. to read its CPU time in /proc. */
  mcsim_pid(): number;
  /** Ends the process group (SIGTERM, then SIGKILL) and resolves when it is gone. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

function kill_group(p: ChildProcess, sig: NodeJS.Signals): void {
  try {
    if (p.pid !== undefined) process.kill(-p.pid, sig);
  } catch {
    // already gone
  }
}

let exit_hooked = false;
function hook_exit(): void {
  if (exit_hooked) return;
  exit_hooked = true;
  process.on("exit", () => {
    for (const p of live) kill_group(p, "SIGKILL");
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      for (const p of live) kill_group(p, "SIGKILL");
      process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGTERM" ? 15 : 1));
    });
  }
}

/**
 * Starts a lin binary: `xvfb-run -a stdbuf -oL mcsim <so>` (stdbuf: mcsim's
 * printf output is block-buffered in a pipe otherwise), in its own process
 * group. Resolves once the app printed "mgts: ready" (every port announced
 * before it); rejects with mcsim's output if it exits, aborts or stays
 * silent for timeout_ms. A failed start of Xvfb (two xvfb-run -a picking
 * the same display) is retried.
 */
export async function moddable_start(so: string, timeout_ms = 30000): Promise<moddable_app_t> {
  const sdk = need_sdk();
  hook_exit();
  let last = "";
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      return await start_once(sdk, so, timeout_ms);
    } catch (e) {
      last = String((e as Error).message);
      if (!/Xvfb failed to start|xvfb-run: error/.test(last)) break;
    }
  }
  throw new Error(last);
}

let runs = 0;

/** The pids of p's children whose command is name (from /proc). */
function children(pid: number | undefined, name: string): number[] {
  if (pid === undefined) return [];
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter((c) => c !== "" && readFileSync(`/proc/${c}/comm`, "utf8").trim() === name)
      .map(Number);
  } catch {
    return [];
  }
}

function start_once(sdk: moddable_sdk_t, so: string, timeout_ms: number): Promise<moddable_app_t> {
  // our own X authority file: xvfb-run then makes no temporary folder to leave behind
  const dir = join(OUT, "run");
  mkdirSync(dir, { recursive: true });
  const id = `${process.pid}-${runs++}`;
  const auth = join(dir, `${id}.xauth`);
  // mcsim copies the app to $XDG_CONFIG_HOME/tech.moddable.mcsim/mc.so and
  // dlopens the copy: two mcsim sharing that folder overwrite each other's
  // library while it loads (SIGBUS or SIGSEGV in the dynamic loader, seen
  // here about once in 25 starts three at a time). Each run gets its own.
  const config = join(dir, `${id}.config`);
  mkdirSync(config, { recursive: true });
  const p = spawn("xvfb-run", ["-a", "-f", auth, "stdbuf", "-oL", "-eL", join(sdk.bin, "mcsim"), so], {
    env: { ...moddable_env(sdk), XDG_CONFIG_HOME: config },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(p);
  const lines: string[] = [];
  const waiters: { re: RegExp; from: number; ok: (l: string) => void }[] = [];
  let partial = "";
  let exited = false;
  const on_data = (d: Buffer) => {
    partial += d.toString("utf8");
    let nl: number;
    while ((nl = partial.indexOf("\n")) >= 0) {
      const line = partial.slice(0, nl).replace(/\r$/, "");
      partial = partial.slice(nl + 1);
      lines.push(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (lines.length - 1 >= waiters[i].from && waiters[i].re.test(line)) {
          waiters[i].ok(line);
          waiters.splice(i, 1);
        }
      }
    }
  };
  p.stdout!.on("data", on_data);
  p.stderr!.on("data", on_data);
  const gone = new Promise<void>((r) =>
    p.on("exit", () => {
      exited = true;
      live.delete(p);
      rmSync(auth, { force: true });
      rmSync(config, { recursive: true, force: true });
      r();
    }),
  );
  const app: moddable_app_t = {
    ports: { tcp: [], udp: [] },
    lines,
    wait_line(re, ms = 15000, since = lines.length) {
      for (let i = since; i < lines.length; i++) if (re.test(lines[i])) return Promise.resolve(lines[i]);
      return new Promise((ok, fail) => {
        const w = { re, from: since, ok: (l: string) => (clearTimeout(t), ok(l)) };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          fail(new Error(`no line matching ${re} within ${ms} ms; mcsim printed:\n${lines.slice(-40).join("\n")}`));
        }, ms);
        waiters.push(w);
      });
    },
    running: () => !exited,
    mcsim_pid: () => children(p.pid, "mcsim")[0] ?? 0,
    async stop() {
      if (exited) return;
      // mcsim first: xvfb-run then stops its Xvfb itself; the group if that takes long
      for (const c of children(p.pid, "mcsim")) {
        try {
          process.kill(c, "SIGTERM");
        } catch {
          // gone
        }
      }
      const t1 = setTimeout(() => kill_group(p, "SIGTERM"), 2000);
      const t2 = setTimeout(() => kill_group(p, "SIGKILL"), 5000);
      await gone;
      clearTimeout(t1);
      clearTimeout(t2);
    },
  };
  return new Promise((ok, fail) => {
    const t = setTimeout(() => finish(`the app did not say "mgts: ready" within ${timeout_ms} ms`), timeout_ms);
    const finish = (why: string | null) => {
      clearTimeout(t);
      if (why === null) return ok(app);
      app.stop().then(() => fail(new Error(`${why}; mcsim printed:\n${lines.join("\n")}`)));
    };
    gone.then(() => finish(`mcsim exited before the app was ready`));
    app.wait_line(/XS abort|^mgts: ready/, timeout_ms + 1000, 0).then((l) => {
      if (l.startsWith("XS abort")) return finish(l);
      for (const line of lines) {
        const m = /^mgts: listening (tcp|udp) port (\d+)/.exec(line);
        if (m !== null) app.ports[m[1] as "tcp" | "udp"].push(Number(m[2]));
      }
      finish(null);
    }, () => {});
  });
}

// --- supervised: what a board's reset does, for lin ------------------------------------------

export interface moddable_supervised_t {
  /** Every line of every boot, in order ("moddable: ..." lines are the supervisor's). */
  lines: string[];
  /** Boots so far (1 after the first start). */
  boots(): number;
  /** The app of the current boot (its ports), or null between boots. */
  app(): moddable_app_t | null;
  wait_line(re: RegExp, ms?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Runs a lin binary and starts it again when it dies or aborts, as an
 * ESP32 restarts after an XS abort (esp_restart in fxAbort). On lin a stack
 * overflow ends in "XS abort: JavaScript stack overflow" and mcsim crashing;
 * memory full (the abort hook lets it through) unloads the app and leaves
 * mcsim idle. An unhandled exception is not restarted for: the abort hook
 * logs it and the app goes on (firmware/device.ts). At most max_boots boots.
 */
export async function moddable_supervise(so: string, on_line?: (l: string) => void, max_boots = 20): Promise<moddable_supervised_t> {
  const lines: string[] = [];
  const waiters: { re: RegExp; ok: (l: string) => void }[] = [];
  let current: moddable_app_t | null = null;
  let boots = 0;
  let stopping = false;
  const push = (l: string) => {
    lines.push(l);
    on_line?.(l);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].re.test(l)) {
        waiters[i].ok(l);
        waiters.splice(i, 1);
      }
    }
  };
  const fatal = (l: string) => /^XS abort: /.test(l) && !/^XS abort: unhandled (exception|rejection)/.test(l);
  const loop = async () => {
    while (!stopping && boots < max_boots) {
      boots++;
      let app: moddable_app_t;
      try {
        app = await moddable_start(so);
      } catch (e) {
        for (const l of String((e as Error).message).split("\n")) push(l);
        push(`moddable: boot ${boots} failed; starting again`);
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      current = app;
      let seen = 0;
      for (; seen < app.lines.length; seen++) push(app.lines[seen]);
      let why = "";
      while (!stopping && app.running() && why === "") {
        await new Promise((r) => setTimeout(r, 100));
        for (; seen < app.lines.length; seen++) {
          push(app.lines[seen]);
          if (fatal(app.lines[seen])) why = app.lines[seen];
        }
      }
      if (why !== "") await new Promise((r) => setTimeout(r, 500)); // its last words
      for (; seen < app.lines.length; seen++) push(app.lines[seen]);
      await app.stop();
      current = null;
      if (stopping) break;
      push(`moddable: mcsim ${why !== "" ? "stopped after " + why : "exited"}; starting it again (boot ${boots + 1})`);
    }
  };
  const done = loop();
  const s: moddable_supervised_t = {
    lines,
    boots: () => boots,
    app: () => current,
    wait_line(re, ms = 30000) {
      return new Promise((ok, fail) => {
        const w = { re, ok: (l: string) => (clearTimeout(t), ok(l)) };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          fail(new Error(`no line matching ${re} within ${ms} ms:\n${lines.slice(-40).join("\n")}`));
        }, ms);
        waiters.push(w);
      });
    },
    async stop() {
      stopping = true;
      await current?.stop();
      await done;
    },
  };
  return s;
}
