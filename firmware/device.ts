// The device entry: manifest.json makes it Moddable's main module. The
// runtime calls its default export once Wi-Fi is up (setup/network runs
// first). It installs the abort hook, sets the ECMA-419 HAL and starts the
// dashboard on port 80.
//
//   mcconfig -d -m -p esp32/nodemcu ssid="My Wi-Fi" password="secret" dash_pass="not-admin"
//
// Settings from the command line (merged into mc/config): dash_port (80),
// dash_user and dash_pass (admin / admin: change them), led_pin (2).
// boards/<board>/manifest.json sets mgts_heap (the XS heap in bytes, for the
// free-heap figure).
import config from "mc/config";
import { mg_packed_files } from "mgts-web";
import { MG_ERROR, MG_INFO, MG_MAX_CONNS, mg_hal_default } from "../src/index.js";
import { mg_hal_ecma419_device } from "../hal/ecma419_device.js";
import { dash_board_moddable } from "./dashboard/board_moddable.js";
import { main as dashboard } from "./dashboard/main.js";

/**
 * XS calls globalThis.abort(message, exception) for an exception nothing
 * caught, an unhandled rejection, or memory full, when the manifest sets
 * defines.xs.abortHook. Returning false keeps the device running instead of
 * rebooting it: mgts catches everything it runs, so what lands here is an
 * application bug, logged and survived.
 */
function on_abort(message: string, exception?: unknown): boolean {
  try {
    trace("mgts: abort: " + message + (exception === undefined ? "" : ": " + String(exception)) + "\n");
  } catch {
    // nothing left to report with
  }
  return false;
}

function setting(name: string, dflt: string): string {
  const v = config[name];
  return typeof v === "string" && v.length > 0 ? v : dflt;
}

export default function main(): void {
  (globalThis as any).abort = on_abort;
  // lwIP on an ESP32 has 8 TCP PCBs: the pool (MG_MAX_CONNS, set per board) plus a few sockets being handed over.
  mg_hal_default(mg_hal_ecma419_device(MG_MAX_CONNS + 2));
  const port = Number(setting("dash_port", "80"));
  const user = setting("dash_user", "admin");
  const pass = setting("dash_pass", "admin");
  if (pass === "admin") MG_ERROR("dash: the default password is in use: build with dash_pass=...");
  const heap = Number(config.mgts_heap ?? 0);
  const led = Number(config.led_pin ?? 2);
  const board = new dash_board_moddable({ heap_total: heap > 0 ? heap : undefined, led_pin: led });
  try {
    dashboard({ port, board, files: mg_packed_files, user, pass });
    MG_INFO("mgts: dashboard on port %d", port);
  } catch (e) {
    trace("mgts: the dashboard did not start: " + String(e) + "\n");
  }
}
