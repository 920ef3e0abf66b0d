// The ECMA-419 HAL on a Moddable device (ESP32, or the lin/mac simulator):
// hal/ecma419.ts given Moddable's sockets, Time.ticks, one Timer re-armed with
// Timer.schedule (no timer object per wake), Net.resolve, trace, and the
// board's cryptographic generator ("mgts-rng", see hal/ecma419_rng.d.ts).
// Device only: compiled by mcconfig/rollup for the device and typechecked
// against @moddable/typings by tsconfig.device.json, never by the host build.
import TCP from "embedded:io/socket/tcp";
import Listener from "embedded:io/socket/listener";
import UDP from "embedded:io/socket/udp";
import Timer from "timer";
import Time from "time";
import Net from "net";
import rng_fill from "mgts-rng";
import { mg_hal_ecma419, type ecma419_platform, type ecma419_timer } from "./ecma419.js";
import type { mg_hal } from "./hal.js";

// @moddable/typings (5.6.0, and the SDK's 8.2.1) are wrong for Moddable 8.2.3
// here (../shared/moddable-facts.md §3.2): TCP write() and read(buffer)
// return numbers (typed void), Listener and UDP have close() (missing),
// and no class declares the `target` option's property. hal/ecma419.ts
// declares the classes as they behave (ecma419_tcp, ecma419_listener,
// ecma419_udp); these three casts are the only place the two meet.
const TCP_419 = TCP as unknown as ecma419_platform["TCP"];
const Listener_419 = Listener as unknown as ecma419_platform["Listener"];
const UDP_419 = UDP as unknown as ecma419_platform["UDP"];

/** What an unarmed timer waits: an hour, then one harmless wake. */
const IDLE_MS = 3600000;

function device_timer(fn: () => void): ecma419_timer {
  // A repeating timer stays allocated after it fires, so schedule() can re-arm it forever.
  const t = Timer.repeat(fn, IDLE_MS);
  return {
    arm(ms) {
      Timer.schedule(t, ms, IDLE_MS);
    },
    disarm() {
      Timer.schedule(t, IDLE_MS, IDLE_MS);
    },
  };
}

/** The platform, as hal/ecma419.ts wants it. max_sockets: the most sockets open at once (lwIP on an ESP32 has 8 TCP PCBs and 4 listening). */
export function ecma419_device_platform(max_sockets?: number): ecma419_platform {
  return {
    TCP: TCP_419,
    Listener: Listener_419,
    UDP: UDP_419,
    resolve(host, callback) {
      Net.resolve(host, callback);
    },
    millis() {
      return Time.ticks;
    },
    timer: device_timer,
    log(s) {
      trace(s);
    },
    random: rng_fill,
    max_sockets,
  };
}

/** The device HAL: pass it to mg_hal_default() before mg_mgr_init(). */
export function mg_hal_ecma419_device(max_sockets?: number): mg_hal {
  return mg_hal_ecma419(ecma419_device_platform(max_sockets));
}
