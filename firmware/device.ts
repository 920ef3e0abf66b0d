// The device entry: manifest.json makes it Moddable's main module, preloaded
// with everything it imports. The runtime calls its default export once the
// network is up (on an ESP32, setup/network joins the Wi-Fi first). It
// installs the abort hook, sets the ECMA-419 HAL and starts one app.
//
//   mcconfig -m -p esp32/nodemcu ssid="My Wi-Fi" password="secret" dash_pass="not-admin"
//   mcconfig -m -t build -p lin -o build/moddable app=echo port=9000
//
//   mcconfig -m -t build -p lin -o build/moddable app=mqtt broker=mqtt://127.0.0.1:1883
//
// Settings from the command line (merged into mc/config):
//   app        dashboard (default), echo, http-server, mqtt or mqtt-broker
//   port       the app's port: 80 on a board, 8000 on lin (boards/*/manifest.json);
//              0 picks free ones (the echo app also opens port + 1 and + 2; lin's
//              UDP socket cannot tell which port 0 picked, so give it a real one there;
//              the mqtt-broker app takes MQTT over WebSocket on port + 1)
//   broker     the mqtt app's broker: mqtt://host:port or ws://host:port/mqtt (required)
//   client_prefix  the mqtt app's client id is this and 8 random characters (mgts-),
//              a new one each boot (mg_random: the platform's cryptographic RNG)
//   topic_prefix   the mqtt app's topics: <it>/status, <it>/in/#, <it>/out/... (mgts)
//   version    the mqtt app's MQTT version: 4 (3.1.1, default) or 5
//   keepalive  the mqtt app's keepalive in seconds (60)
//   mqtt_user, mqtt_pass   the mqtt app's login on the broker (none)
//   persistent 1: the mqtt app keeps its session on the broker across reconnects (0)
//   dash_user, dash_pass   the dashboard's login (admin / admin: change them)
//   led_pin    the dashboard's LED (2; -1 for none)
//   sntp       the dashboard's SNTP server until its settings name one
//              (udp://time.google.com:123; none: no clock until they do)
//   meter      ms: trace the XS stack and heap figures that often (an instrumented build, -i)
//   abort_test exception or stack: a second after start, throw an exception
//              nothing catches, or recurse until the JS stack overflows, to see
//              what the board does (the first is logged and survived; the second
//              is logged by XS and restarts an ESP32; on lin mcsim dies, and
//              `npm run moddable -- run` starts it again)
// Every app logs "mgts: listening <proto> port <n>" for each socket it
// opened, then "mgts: ready <app>", so a launcher that asked for port 0
// learns the ports (test/moddable.ts).
import config from "mc/config";
import Timer from "timer";
import Instrumentation from "instrumentation";
import Debug from "debug";
import { mg_packed_files } from "mgts-web";
import { MG_ERROR, MG_MAX_CONNS, mg_hal_default, mg_mgr, mg_mgr_free } from "../src/index.js";
import { mg_hal_ecma419_device } from "../hal/ecma419_device.js";
import { dash_board_moddable } from "./dashboard/board_moddable.js";
import { main as dashboard } from "./dashboard/main.js";
import { main as echo } from "./echo/main.js";
import { main as http_server } from "./http-server/main.js";
import { main as mqtt } from "./mqtt/main.js";
import { main as mqtt_broker } from "./mqtt-broker/main.js";

/**
 * XS calls globalThis.abort(message, exception) for an exception nothing
 * caught or an unhandled rejection, and for memory full, when the manifest
 * sets defines.xs.abortHook. Returning false keeps the device running:
 * mgts catches everything it runs, so an exception that lands here is an
 * application bug, logged and survived. Anything else (memory full) is not
 * survivable: returning true lets XS go on to its abort, which restarts an
 * ESP32 (esp_restart) and unloads the app on lin. A stack overflow never
 * reaches this hook (XS skips it: the stack is not safe to run on); XS
 * itself logs "XS abort: JavaScript stack overflow" and does the same.
 */
function on_abort(message: string, exception?: unknown): boolean {
  const survivable = message === "unhandled exception" || message === "unhandled rejection";
  try {
    trace("mgts: abort: " + message + (exception === undefined ? "" : ": " + String(exception)) + (survivable ? "" : " (restarting)") + "\n");
  } catch {
    // nothing left to report with
  }
  return !survivable;
}

function setting(name: string, dflt: string): string {
  const v = config[name];
  return typeof v === "string" && v.length > 0 ? v : typeof v === "number" ? String(v) : dflt;
}

/** Tells a launcher every port the app opened (port 0 picks one). */
function announce(app: string, mgr: mg_mgr): void {
  let n = 0;
  for (let c = mgr.conns; c !== null; c = c.next) n++;
  // in the order the app opened them (mgr.conns has the newest first)
  for (let k = n - 1; k >= 0; k--) {
    let c = mgr.conns;
    for (let i = 0; i < k && c !== null; i++) c = c.next;
    if (c !== null && c.is_listening) trace("mgts: listening " + (c.is_udp ? "udp" : "tcp") + " port " + c.loc.port + "\n");
  }
  trace("mgts: ready " + app + "\n");
}

/** Instrumentation figures, in bytes (release builds without -i have none: -1). */
function figure(name: "XS Stack Used" | "XS Slot Heap Used" | "XS Chunk Heap Used"): number {
  const i = Instrumentation.map(name);
  const v = i === undefined ? undefined : Instrumentation.get(i);
  return typeof v === "number" ? v : -1;
}

/** config.meter: every meter ms, a garbage collection, then the live heap and the stack's peak. */
function meter(ms: number): void {
  Timer.repeat(() => {
    Debug.gc();
    trace("mgts-meter stack=" + figure("XS Stack Used") + " slots=" + figure("XS Slot Heap Used") + " chunks=" + figure("XS Chunk Heap Used") + "\n");
  }, ms);
}

function recurse(n: number): number {
  return n <= 0 ? 0 : 1 + recurse(n - 1) + recurse(0);
}

/** config.abort_test: the abort paths, on purpose (see the top of this file). */
function abort_test(what: string): void {
  Timer.set(() => {
    trace("mgts: abort_test " + what + "\n");
    if (what === "exception") throw new Error("abort_test: an exception nothing catches");
    if (what === "stack") trace("mgts: abort_test not reached " + recurse(1e9) + "\n");
  }, 1000);
}

class Device {
  app = "dashboard";
  port = 80;
  mgr: mg_mgr | null = null;
  board: dash_board_moddable | null = null;
}

function start(d: Device): void {
  if (d.app === "echo") d.mgr = echo({ port: d.port });
  else if (d.app === "http-server") d.mgr = http_server({ port: d.port });
  else if (d.app === "mqtt") {
    d.mgr = mqtt({
      broker: setting("broker", ""),
      client_id_prefix: setting("client_prefix", "mgts-"),
      prefix: setting("topic_prefix", "mgts"),
      version: Number(setting("version", "4")),
      keepalive: Number(setting("keepalive", "60")),
      user: setting("mqtt_user", ""),
      pass: setting("mqtt_pass", ""),
      persistent: setting("persistent", "0") === "1",
    });
  } else if (d.app === "mqtt-broker") d.mgr = mqtt_broker({ port: d.port });
  else {
    const user = setting("dash_user", "admin");
    const pass = setting("dash_pass", "admin");
    const heap = Number(config.mgts_heap ?? 0);
    if (d.board === null) {
      const sntp = setting("sntp", "");
      d.board = new dash_board_moddable({
        heap_total: heap > 0 ? heap : undefined,
        led_pin: Number(setting("led_pin", "2")),
        sntp: sntp === "" ? undefined : sntp === "none" ? "" : sntp,
        on_reboot: () => restart(d),
      });
    }
    d.mgr = dashboard({ port: d.port, board: d.board, files: mg_packed_files, user, pass });
    if (pass === "admin") MG_ERROR("dash: the default password is in use: build with dash_pass=...");
  }
  announce(d.app, d.mgr);
}

/** Where the platform cannot restart the device (lin): the app is made anew in place, as the host simulator does. */
function restart(d: Device): void {
  trace("mgts: restarting " + d.app + "\n");
  if (d.mgr !== null) mg_mgr_free(d.mgr);
  d.mgr = null;
  try {
    start(d);
  } catch (e) {
    trace("mgts: " + d.app + " did not start again: " + String(e) + "\n");
  }
}

export default function main(): void {
  (globalThis as any).abort = on_abort;
  // lwIP on an ESP32 has 8 TCP PCBs: the pool (MG_MAX_CONNS, set per board) plus a few sockets being handed over.
  mg_hal_default(mg_hal_ecma419_device(MG_MAX_CONNS + 2));
  const d = new Device();
  d.app = setting("app", "dashboard");
  d.port = Number(setting("port", "80"));
  const ms = Number(setting("meter", "0"));
  if (ms > 0) meter(ms);
  const test = setting("abort_test", "");
  if (test !== "") abort_test(test);
  if (d.app !== "dashboard" && d.app !== "echo" && d.app !== "http-server" && d.app !== "mqtt" && d.app !== "mqtt-broker") {
    trace("mgts: no app " + d.app + " (app=dashboard, echo, http-server, mqtt or mqtt-broker)\n");
    return;
  }
  try {
    start(d);
  } catch (e) {
    trace("mgts: " + d.app + " did not start: " + String(e) + "\n");
  }
}
