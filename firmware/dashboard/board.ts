// What the dashboard needs from the platform, and a simulated board.
//
// The app (main.ts) never imports node:* or embedded:*: everything that
// differs between the host simulator and an ESP32 sits behind dash_board,
// passed to main(). board_node.ts (beside this file) is the host's, board_moddable.ts
// the device's, and dash_board_sim (below) is a board made of nothing but
// a clock, for tests on both engines.
import { mg_crc32 } from "../../src/util.js";

/** One sample of the device's metrics, filled in place (made once, reused every tick). */
export class dash_metrics {
  /** Milliseconds since the board started. */
  uptime_ms = 0;
  /** Free and total bytes of the JavaScript heap (XS chunks and slots on the device, V8's heap on the host). */
  heap_free = 0;
  heap_total = 0;
  /** Wi-Fi signal in dBm; 0 when the board has no station link. */
  rssi = 0;
  /** A sensor reading, in °C. */
  temp = 0;
  /** The level of the GPIO the "led" setting drives (0 or 1). */
  pin = 0;
}

/**
 * The platform under the dashboard. Methods that can fail return "" on
 * success or the reason (a constant string), so the app can answer the
 * browser with it without making an error object.
 */
export interface dash_board {
  /** "node", "moddable", "sim": shown in the page and the logs. */
  readonly name: string;
  metrics(out: dash_metrics): void;
  /** Drives the output pin (the LED) the settings control. */
  led(on: boolean): void;
  /** The saved settings (JSON text), or null when none were saved. */
  settings_load(): string | null;
  /** Saves the settings (JSON, buf[0..len)) so they survive a restart. */
  settings_save(buf: Uint8Array, len: number): string;
  /** Starts receiving a file (the firmware on the device). One at a time. */
  upload_begin(name: string): string;
  /** The next piece of the file, in order. */
  upload_write(buf: Uint8Array, ofs: number, len: number): string;
  /** Commits the file (commit = true) or throws what was received away. */
  upload_end(commit: boolean): string;
  /** Restarts the device (the app on the simulator). */
  reboot(): void;
  /** The SNTP server the clock is set from until the settings name another: "udp://host:port", or "" for none. */
  sntp_server(): string;
}

/**
 * A board made of a clock: simulated Wi-Fi signal, temperature and heap,
 * settings and uploads kept in memory (an upload keeps its size and CRC-32,
 * not its bytes). The host board builds on it for the values a PC does not
 * have (RSSI, a temperature sensor).
 */
export class dash_board_sim implements dash_board {
  name = "sim";
  millis: () => number;
  start: number;
  led_on = false;
  saved: string | null = null;
  reboots = 0;
  /** The last upload: name, size, CRC-32, and whether it was committed. */
  up_name = "";
  up_size = 0;
  up_crc = 0;
  up_open = false;
  up_done = false;
  /** Uploads larger than this are refused while they stream. */
  up_max = 1 << 20;
  /** The default SNTP server: none, so that nothing reaches the internet unless asked (tests, the simulator). */
  sntp = "";
  private walk = -55;
  private seed = 12345;
  constructor(millis: () => number) {
    this.millis = millis;
    this.start = millis();
  }
  metrics(out: dash_metrics): void {
    const t = this.millis() - this.start;
    out.uptime_ms = t;
    // a station a few metres away: a slow random walk between -80 and -40 dBm
    this.seed = (this.seed * 1103515245 + 12345) & 0x7fffffff;
    this.walk += (this.seed % 5) - 2;
    if (this.walk < -80) this.walk = -80;
    if (this.walk > -40) this.walk = -40;
    out.rssi = this.walk;
    // a room that warms and cools over ten minutes, read by a sensor with ±0.2 °C of noise
    out.temp = Math.round((22 + 3 * Math.sin(t / 95493) + ((this.seed >> 8) % 41 - 20) / 100) * 10) / 10;
    out.heap_total = 78848;
    out.heap_free = 41000 + ((t >> 8) % 4096);
    out.pin = this.led_on ? 1 : 0;
  }
  led(on: boolean): void {
    this.led_on = on;
  }
  settings_load(): string | null {
    return this.saved;
  }
  settings_save(buf: Uint8Array, len: number): string {
    let s = "";
    for (let i = 0; i < len; i++) s += String.fromCharCode(buf[i]);
    this.saved = s;
    return "";
  }
  upload_begin(name: string): string {
    if (this.up_open) return "an upload is in progress";
    this.up_name = name;
    this.up_size = 0;
    this.up_crc = 0;
    this.up_open = true;
    this.up_done = false;
    return "";
  }
  upload_write(buf: Uint8Array, ofs: number, len: number): string {
    if (this.up_size + len > this.up_max) return "file too large";
    this.up_crc = mg_crc32(this.up_crc, buf, ofs, len);
    this.up_size += len;
    return "";
  }
  upload_end(commit: boolean): string {
    this.up_open = false;
    this.up_done = commit;
    return "";
  }
  reboot(): void {
    this.reboots++;
  }
  sntp_server(): string {
    return this.sntp;
  }
}
