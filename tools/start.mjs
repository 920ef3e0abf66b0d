// The host simulator: runs a firmware app over real sockets (hal/node).
//   npm start                          the device dashboard at http://127.0.0.1:8000
//   npm start -- --app echo --port 9000 [--host 127.0.0.1]
//   npm start -- --host 0.0.0.0 --pass secret --data DIR   the dashboard on the LAN
//   npm start -- --hal ecma419         the same over the device HAL (hal/ecma419.ts on an emulation of Moddable's sockets)
//   npm start -- --app http-server --root ./web [--upload /tmp/up]   serve a host folder
//   npm start -- --tls [--cert FILE --key FILE]   the dashboard over HTTPS (the echo app: HTTPS on port + 3)
//   npm start -- --app mqtt-broker --port 1883         an MQTT broker (MQTT over WebSocket on the port + 1)
//   npm start -- --app mqtt --broker mqtt://127.0.0.1:1883   the MQTT device app
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const args = process.argv.slice(2);
function opt(name, dflt) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
}
const app = opt("app", "dashboard");
const port = Number(opt("port", "8000"));
// the dashboard has a default password: loopback unless asked otherwise
const host = opt("host", app === "dashboard" ? "127.0.0.1" : "0.0.0.0");

if (!existsSync(`firmware/${app}/main.ts`)) {
  console.error(`no such app: firmware/${app}/main.ts`);
  process.exit(2);
}
// Compile first so the simulator always runs what is in the tree.
const tsc = spawnSync("npx", ["tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const core = await import("../build/src/index.js");
// --hal ecma419: the device HAL over the host's emulation of Moddable's sockets
const hal_name = opt("hal", "node");
if (hal_name === "ecma419") {
  const { mg_hal_ecma419 } = await import("../build/hal/ecma419.js");
  const { ecma419_host_platform } = await import("../build/hal/ecma419_host.js");
  core.mg_hal_default(mg_hal_ecma419(ecma419_host_platform()));
} else if (hal_name === "node") {
  const { mg_hal_node } = await import("../build/hal/node.js");
  core.mg_hal_default(mg_hal_node());
} else {
  console.error(`--hal ${hal_name}: node or ecma419`);
  process.exit(2);
}
const mod = await import(`../build/firmware/${app}/main.js`);
const { host_tls } = await import("./tls_cert.mjs");
const tls = args.includes("--tls") || app === "echo" ? host_tls(opt("cert", null), opt("key", null), !args.includes("--tls")) : undefined;
if (app === "dashboard") await start_dashboard();
else if (app === "http-server" && opt("root", null) !== null) {
  // a real folder of the host instead of the app's built-in packed pages
  const { mg_fs_node } = await import("../build/hal/fs_node.js");
  mod.main({ port, host, fs: mg_fs_node(), root: opt("root", "."), upload_dir: opt("upload", null) ?? undefined });
} else mod.main({ port, host, tls, broker: opt("broker", undefined) }); // --broker: the mqtt app's

/** The dashboard's web UI packed as on the device, its board (settings, uploads) under --data. */
async function start_dashboard() {
  const { pack } = await import("./pack.mjs");
  const { dash_board_node } = await import("../build/firmware/dashboard/board_node.js");
  const files = pack("firmware/dashboard/web");
  const dir = opt("data", "build/dashboard-data");
  const user = opt("user", "admin");
  const pass = opt("pass", "admin");
  let mgr = null;
  const boot = () => {
    // a reboot on the simulator: everything is made anew, the settings come back from the file
    const board = new dash_board_node({ dir, on_reboot: () => setTimeout(reboot, 0) });
    mgr = mod.main({ port, host, board, files, user, pass, tls });
  };
  const reboot = () => {
    core.mg_mgr_free(mgr);
    boot();
  };
  boot();
  const shown = host === "0.0.0.0" ? "127.0.0.1" : host;
  console.log(`\nDevice dashboard: http${tls ? "s" : ""}://${shown}:${port}   login: ${user} / ${pass}   data: ${dir}\n`);
}
