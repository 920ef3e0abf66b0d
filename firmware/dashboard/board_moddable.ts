// The dashboard's board under Moddable (an ESP32, or the lin simulator):
// heap figures from Instrumentation, the Wi-Fi signal from Net.get("RSSI"),
// the LED on a GPIO through ECMA-419's Digital, settings through Preference
// (NVS on an ESP32), uploads into the OTA partition through esp32/ota, reboot
// through System.restart. On lin, boards/sim/ stands in for what the
// simulator lacks (OTA, GPIO, a Preference that survives preloading), and
// System has no restart: on_reboot restarts the app in place.
//
// This file cannot run on the host; it is typechecked against
// @moddable/typings (plus firmware/dashboard/moddable_ota.d.ts) with the device build.
// Every method catches: an exception that escaped would reboot the device,
// and the dashboard wants the reason as a string to show the browser.
import Instrumentation from "instrumentation";
import Net from "net";
import Preference from "preference";
import Time from "time";
import Digital from "embedded:io/digital";
import OTA from "esp32/ota";
import { mg_utf8_decode } from "../../src/str.js";
import type { dash_board, dash_metrics } from "./board.js";

export interface BoardModdableOptions {
  /** GPIO of the LED the "led" setting drives; default 2 (the blue LED of most ESP32 dev boards); -1 for none. */
  led_pin?: number;
  /** Bytes of the XS heap (chunks + slots) from the manifest's creation; default 2 × 78848 (ESP32 and S3 boards). */
  heap_total?: number;
  /** A sensor to report as "temp" (°C), e.g. an I2C thermometer the app opened; default none (0). */
  sensor?: () => number;
  /** Preference domain and key of the settings (NVS: at most 15 characters each). */
  domain?: string;
  key?: string;
  /** The SNTP server until the settings name another; default Mongoose's, udp://time.google.com:123; "" for none. */
  sntp?: string;
  /** Called for a reboot where the platform cannot restart (System.restart is missing on lin). */
  on_reboot?: () => void;
}

/** Instrumentation index of a counter, or -1 (release builds have no instrumentation). */
function counter(name: "XS Slot Heap Used" | "XS Chunk Heap Used"): number {
  try {
    const i = Instrumentation.map(name);
    return i === undefined ? -1 : i;
  } catch {
    return -1;
  }
}
function read_counter(i: number): number {
  if (i < 0) return 0;
  const v = Instrumentation.get(i);
  return typeof v === "number" ? v : 0;
}

export class dash_board_moddable implements dash_board {
  readonly name = "moddable";
  private start: number;
  private slots: number;
  private chunks: number;
  private heap_total: number;
  private sensor: (() => number) | null;
  private domain: string;
  private key: string;
  private pin: Digital | null = null;
  private level: 0 | 1 = 0;
  private ota: OTA | null = null;
  private sntp: string;
  private on_reboot: (() => void) | null;
  constructor(opts: BoardModdableOptions = {}) {
    this.sntp = opts.sntp ?? "udp://time.google.com:123";
    this.start = Time.ticks;
    this.slots = counter("XS Slot Heap Used");
    this.chunks = counter("XS Chunk Heap Used");
    this.heap_total = opts.heap_total ?? 2 * 78848;
    this.sensor = opts.sensor ?? null;
    this.domain = opts.domain ?? "mgts";
    this.key = opts.key ?? "dash";
    this.on_reboot = opts.on_reboot ?? null;
    const led = opts.led_pin ?? 2;
    if (led >= 0) {
      try {
        this.pin = new Digital({ pin: led, mode: Digital.Output });
        this.pin.write(0);
      } catch {
        this.pin = null; // a board without that pin: the setting is kept, nothing is driven
      }
    }
  }
  metrics(out: dash_metrics): void {
    out.uptime_ms = Time.ticks - this.start;
    const used = read_counter(this.slots) + read_counter(this.chunks);
    out.heap_total = this.heap_total;
    out.heap_free = used > 0 && used < this.heap_total ? this.heap_total - used : 0;
    try {
      const r = Net.get("RSSI");
      out.rssi = typeof r === "number" ? r : 0;
    } catch {
      out.rssi = 0; // not connected to an access point
    }
    try {
      out.temp = this.sensor !== null ? this.sensor() : 0;
    } catch {
      out.temp = 0;
    }
    out.pin = this.level;
  }
  led(on: boolean): void {
    this.level = on ? 1 : 0;
    try {
      this.pin?.write(this.level);
    } catch {
      // the pin went away: the level is still reported as set
    }
  }
  settings_load(): string | null {
    try {
      const v = Preference.get(this.domain, this.key);
      return typeof v === "string" ? v : null;
    } catch {
      return null;
    }
  }
  settings_save(buf: Uint8Array, len: number): string {
    try {
      Preference.set(this.domain, this.key, mg_utf8_decode(buf, 0, len));
      return "";
    } catch {
      return "cannot write the preference";
    }
  }
  /** The file goes into the OTA partition whatever its name: this board takes firmware images. */
  upload_begin(_name: string): string {
    if (this.ota !== null) return "an upload is in progress";
    try {
      this.ota = new OTA(); // erases the partition: takes a few seconds, the loop waits
      return "";
    } catch {
      this.ota = null;
      return "no OTA partition (see the partition table of the board)";
    }
  }
  upload_write(buf: Uint8Array, ofs: number, len: number): string {
    if (this.ota === null) return "no upload in progress";
    try {
      // OTA.write takes a whole ArrayBuffer: one copy of the piece (at most MG_IO_SIZE bytes)
      this.ota.write(buf.slice(ofs, ofs + len).buffer as ArrayBuffer);
      return "";
    } catch {
      this.abandon();
      return "OTA write failed (image too large?)";
    }
  }
  upload_end(commit: boolean): string {
    if (this.ota === null) return "";
    if (!commit) {
      this.abandon();
      return "";
    }
    try {
      this.ota.complete();
      this.ota = null;
      return "";
    } catch {
      this.abandon();
      return "not a valid firmware image";
    }
  }
  /** Moddable's system module (preloaded by its io manifest) sets globalThis.System; only the device's has restart(). */
  reboot(): void {
    const sys = globalThis.System as { restart?: () => void } | undefined;
    if (sys !== undefined && typeof sys.restart === "function") sys.restart();
    else if (this.on_reboot !== null) this.on_reboot();
  }
  sntp_server(): string {
    return this.sntp;
  }
  private abandon(): void {
    try {
      this.ota?.cancel();
    } catch {
      // already gone
    }
    this.ota = null;
  }
}
