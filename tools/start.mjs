// The host simulator: runs a firmware app over real sockets (hal/node).
//   npm start                                   the device dashboard at http://127.0.0.1:8000
//   npm start -- --app echo --port 9000         another app
//   npm start -- --help                         every option (OPTIONS below; the README lists them too)
// Every app listens on 127.0.0.1 unless --host says otherwise. When a
// listener cannot bind (the port is taken, a port below 1024 without
// privileges) it says why and exits with status 1; a bad option exits with 2.
// Once every listener is bound it prints, as the device build does
// (firmware/device.ts), "mgts: listening tcp|udp port N" for each and
// "mgts: ready <app>": a launcher that asked for port 0 learns the ports.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { isIP } from "node:net";

const APPS = ["dashboard", "echo", "http-server", "mqtt", "mqtt-broker"];
const ALL = null;
/** Every option: its value's name ("" for a flag), the apps it applies to (ALL: every one), its default, what it does. */
const OPTIONS = [
  ["app", "NAME", ALL, "dashboard", "the app to run: dashboard, echo, http-server, mqtt or mqtt-broker"],
  ["port", "N", ALL, "8000", "the port, 0 to 65535 (0: any free one; the echo app also uses N+1, N+2 and N+3)"],
  ["host", "IP", ALL, "127.0.0.1", "the address to listen on: loopback unless you ask; 0.0.0.0 (or ::) for every interface"],
  ["hal", "NAME", ALL, "node", "node (real sockets), or ecma419: the device's HAL over an emulation of Moddable's sockets"],
  ["user", "NAME", ["dashboard"], "admin", "the dashboard's login"],
  ["pass", "WORD", ["dashboard"], "admin", "the dashboard's password"],
  ["data", "DIR", ["dashboard"], "build/dashboard-data", "where the dashboard keeps its settings and uploads"],
  ["tls", "", ["dashboard", "echo"], "", "dashboard: serve HTTPS and WSS; echo: fail unless its HTTPS (port N+3, always tried) starts"],
  ["cert", "FILE", ["dashboard", "echo"], "build/tls/cert.pem", "the TLS certificate (PEM or DER); by default one made with openssl at the first start"],
  ["key", "FILE", ["dashboard", "echo"], "build/tls/key.pem", "the TLS certificate's key"],
  ["root", "DIR", ["http-server"], "", "serve this host folder instead of the app's built-in pages"],
  ["upload", "DIR", ["http-server"], "", "with --root: where POST /api/upload writes (without it, uploads get 403)"],
  ["broker", "URL", ["mqtt"], "mqtt://127.0.0.1:1883", "the broker the mqtt app connects to (mqtt://, mqtts://, ws://.../mqtt, wss://)"],
  ["help", "", ALL, "", "this list"],
];
const LISTEN_WAIT_MS = 10000;

function usage() {
  const lines = ["npm start -- [options]   runs an app of firmware/ on the host simulator"];
  const groups = [...new Set(OPTIONS.map((o) => (o[2] ? o[2].join(" and ") : "every app")))];
  for (const g of groups) {
    lines.push("", `${g}:`);
    for (const [name, value, apps, dflt, help] of OPTIONS) {
      if ((apps ? apps.join(" and ") : "every app") !== g) continue;
      lines.push(`  --${name}${value ? " " + value : ""}`.padEnd(18) + help + (dflt && value ? ` [${dflt}]` : ""));
    }
  }
  return lines.join("\n");
}

function fail(code, msg) {
  console.error(`mgts: ${msg}`);
  process.exit(code);
}

/** The options given, checked: unknown ones, missing values and bad values stop here, before anything starts. */
function parse(argv) {
  const given = new Map();
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    const o = m && OPTIONS.find((x) => x[0] === m[1]);
    if (!o) fail(2, `unknown option ${argv[i]} (npm start -- --help lists them)`);
    let v = m[2];
    if (o[1] === "") {
      if (v !== undefined) fail(2, `--${o[0]} takes no value`);
      v = "";
    } else if (v === undefined) {
      v = argv[++i];
      if (v === undefined || v.startsWith("--")) fail(2, `--${o[0]} needs a value: --${o[0]} ${o[1]}`);
    }
    given.set(o[0], v);
  }
  if (given.has("help")) {
    console.log(usage());
    process.exit(0);
  }
  const opts = Object.fromEntries(OPTIONS.map(([name, value, , dflt]) => [name, given.get(name) ?? (value ? dflt : undefined)]));
  if (!APPS.includes(opts.app)) fail(2, `--app ${opts.app}: one of ${APPS.join(", ")}`);
  for (const [name, , apps] of OPTIONS) {
    if (given.has(name) && apps && !apps.includes(opts.app)) fail(2, `--${name} is an option of ${apps.join(" and ")}, not of ${opts.app}`);
  }
  if (!/^\d{1,5}$/.test(opts.port) || Number(opts.port) > 65535) fail(2, `--port ${opts.port}: a number from 0 to 65535 is expected`);
  opts.port = Number(opts.port);
  if (opts.app === "echo" && opts.port > 65532) fail(2, `--port ${opts.port}: the echo app also needs ports up to N+3`);
  if (isIP(opts.host) === 0) fail(2, `--host ${opts.host}: an IP address is expected (127.0.0.1, 0.0.0.0, ::1)`);
  if (!["node", "ecma419"].includes(opts.hal)) fail(2, `--hal ${opts.hal}: node or ecma419`);
  if (given.has("upload") && !given.has("root")) fail(2, "--upload goes with --root (the built-in pages are read-only)");
  if (given.has("cert") !== given.has("key")) fail(2, "--cert and --key go together");
  opts.tls = given.has("tls");
  opts.own_cert = given.has("cert");
  return opts;
}

/** Whether build/ is older than a source it comes from (tsc only when needed: a run of the tests reads build/ too). */
function stale() {
  if (!existsSync("build/src/index.js") || statSync("tsconfig.json").mtimeMs > statSync("build/src/index.js").mtimeMs) return true;
  for (const dir of ["src", "hal", "firmware"]) {
    for (const f of readdirSync(dir, { recursive: true })) {
      if (!f.endsWith(".ts") || f.endsWith(".d.ts")) continue;
      const out = `build/${dir}/${f.slice(0, -3)}.js`;
      if (existsSync(out) && statSync(`${dir}/${f}`).mtimeMs > statSync(out).mtimeMs) return true;
    }
  }
  return false;
}

const opts = parse(process.argv.slice(2));
if (stale()) {
  // compile first, so that the simulator always runs what is in the tree
  const tsc = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}

const core = await import("../build/src/index.js");
const { HAL_OPEN } = await import("../build/hal/hal.js");
let hal;
if (opts.hal === "ecma419") {
  const { mg_hal_ecma419 } = await import("../build/hal/ecma419.js");
  const { ecma419_host_platform } = await import("../build/hal/ecma419_host.js");
  hal = mg_hal_ecma419(ecma419_host_platform());
} else {
  const { mg_hal_node } = await import("../build/hal/node.js");
  hal = mg_hal_node();
}
core.mg_hal_default(hal);
const mod = await import(`../build/firmware/${opts.app}/main.js`);
const { host_tls } = await import("./tls_cert.mjs");
const host = isIP(opts.host) === 6 ? `[${opts.host}]` : opts.host; // as the apps put it in a URL

/**
 * Resolves once every listener of mgr is bound; rejects with the reason the
 * core gives in MG_EV_ERROR (the HAL's errno: "EADDRINUSE: address already
 * in use") when one fails. The listeners' handlers are wrapped meanwhile.
 */
function listening(mgr) {
  const ls = [];
  for (let c = mgr.conns; c !== null; c = c.next) if (c.is_listening) ls.push(c);
  return new Promise((resolve, reject) => {
    const fns = ls.map((l) => l.fn);
    const done = (err) => {
      clearInterval(timer);
      ls.forEach((l, i) => (l.fn = fns[i]));
      if (err) reject(err);
      else resolve(ls.reverse()); // in the order the app opened them
    };
    ls.forEach((l, i) => {
      const port = l.loc.port;
      l.fn = (c, ev, ev_data, fn_data) => {
        if (c === l && ev === core.MG_EV_ERROR) done(new Error(`${l.is_udp ? "udp" : "tcp"} ${opts.host} port ${port}: ${ev_data}`));
        if (fns[i]) fns[i](c, ev, ev_data, fn_data);
      };
    });
    const end = Date.now() + LISTEN_WAIT_MS;
    const timer = setInterval(() => {
      // port 0: the core learns the port a poll after the bind (an ECMA-419 socket never tells)
      if (ls.every((l) => l.fd >= 0 && hal.state(l.fd) === HAL_OPEN && (l.loc.port !== 0 || opts.hal === "ecma419"))) done(null);
      else if (Date.now() > end) done(new Error(`the listeners did not bind within ${LISTEN_WAIT_MS / 1000} s`));
    }, 10);
  });
}

/** Starts the app (again, on a reboot of the dashboard); exits with the reason when it cannot listen. */
async function start(make) {
  let mgr;
  try {
    mgr = make();
  } catch (e) {
    fail(1, `${opts.app} did not start: ${e.message}`);
  }
  let ls;
  try {
    ls = await listening(mgr);
  } catch (e) {
    core.mg_mgr_free(mgr);
    const hint = /EADDRINUSE/.test(e.message) ? " (another program has it: stop it, or pick another port with --port N)" : "";
    fail(1, `${opts.app}: ${e.message}${hint}`);
  }
  for (const l of ls) console.log(`mgts: listening ${l.is_udp ? "udp" : "tcp"} port ${l.loc.port}`);
  console.log(`mgts: ready ${opts.app}`);
  return { mgr, ls };
}

if (opts.app === "dashboard") await start_dashboard();
else if (opts.app === "http-server") {
  let fs;
  if (opts.root !== "") fs = (await import("../build/hal/fs_node.js")).mg_fs_node(); // a real folder of the host
  await start(() => mod.main({ port: opts.port, host, fs, root: fs ? opts.root : undefined, upload_dir: opts.upload || undefined }));
} else if (opts.app === "mqtt") {
  await start(() => mod.main({ broker: opts.broker }));
} else if (opts.app === "mqtt-broker") {
  await start(() => mod.main({ port: opts.port, host }));
} else {
  await start(() => mod.main({ port: opts.port, host, tls: tls_opts(!opts.tls) }));
}

/** The certificate for HTTPS: --cert/--key, or the one made at the first start; optional: undefined (said why) when there is none. */
function tls_opts(optional) {
  return host_tls(opts.own_cert ? opts.cert : null, opts.own_cert ? opts.key : null, optional);
}

/** The dashboard's web UI packed as on the device, its board (settings, uploads) under --data. */
async function start_dashboard() {
  const { pack } = await import("./pack.mjs");
  const { dash_board_node } = await import("../build/firmware/dashboard/board_node.js");
  const files = pack("firmware/dashboard/web");
  let tls;
  try {
    tls = opts.tls ? tls_opts(false) : undefined;
  } catch (e) {
    fail(1, `no HTTPS: ${e.message}`);
  }
  let mgr = null;
  const boot = async () => {
    // a reboot on the simulator: everything is made anew, the settings come back from the file
    const board = new dash_board_node({ dir: opts.data, on_reboot: () => setTimeout(reboot, 0) });
    const s = await start(() => mod.main({ port: opts.port, host, board, files, user: opts.user, pass: opts.pass, tls }));
    mgr = s.mgr;
    return s.ls[0].loc.port;
  };
  const reboot = () => {
    core.mg_mgr_free(mgr);
    boot();
  };
  const port = await boot();
  opts.port = port; // a reboot binds the same port again, as a device would (port 0 included)
  const shown = opts.host === "0.0.0.0" || opts.host === "::" ? "127.0.0.1" : host;
  console.log(`\nDevice dashboard: http${tls ? "s" : ""}://${shown}:${port}   login: ${opts.user} / ${opts.pass}   data: ${opts.data}\n`);
}
