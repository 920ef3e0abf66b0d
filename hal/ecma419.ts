// The device HAL: hal/hal.ts over ECMA-419 sockets as Moddable 8.2.3 really
// implements them (../shared/moddable-facts.md). It imports nothing
// platform-specific: mg_hal_ecma419() is given the socket classes, a
// resolver, a clock, one timer and a log sink. hal/ecma419_device.ts passes
// Moddable's ("embedded:io/socket/*", Timer, Net.resolve, trace);
// hal/ecma419_host.ts passes an emulation over node:net for the tests and
// the simulator, so this same file runs in both.
//
// Moddable's behaviour this file is built around:
// - onReadable(n) tells the total unread bytes, and only when new data
//   arrives: the HAL keeps the count and lowers it as it reads.
// - read(buffer) throws past what is available, so the HAL never asks for
//   more. It reads into power-of-two views over one staging buffer made
//   once (a view per read would cost 4 slots on XS) and copies each piece
//   into the core's buffer with set(), which allocates nothing.
// - write() is all-or-nothing and throws when the data exceeds the writable
//   count; it returns the count left (the typings say void). The HAL writes
//   at most that count, from the same staging buffer.
// - onError() is both "the peer closed" and "failed", and on lwIP it comes
//   only after every received byte was read. Before the first onWritable it
//   means the connect failed (HAL_ERROR); afterwards it is HAL_EOF.
// - Listener.read() makes a pinned TCP object even when nothing is pending,
//   so it is called exactly as many times as onReadable announced.
// - Every socket is closed exactly once; callbacks are shared functions that
//   reach their record through the `target` option (no closure per socket),
//   and each catches everything: an exception escaping a callback reboots an
//   ESP32.
//
// Allocations the platform makes that the HAL cannot avoid (measure them with
// the platform, not here): per accept, Listener.read() makes a TCP host object
// and `new TCP({from})` another, plus the options object; per received UDP
// datagram, Moddable's read() makes an ArrayBuffer with `address` (a string)
// and `port` properties, and the HAL one view to copy it; per sent datagram
// from part of a buffer, one view. Per connection, the remote address string.
// On the TCP data path the HAL itself allocates nothing.
import type { mg_addr } from "../src/net.js";
import { mg_aton } from "../src/url.js";
import { mg_utf8_decode } from "../src/str.js";
import { MG_IO_SIZE, MG_MAX_CONNS, MG_MAX_RESOLVES } from "../src/config.js";
import { HAL_CONNECTING, HAL_EOF, HAL_ERROR, HAL_OPEN, type mg_hal } from "./hal.js";

// --- the platform, as narrow interfaces ------------------------------------
// Only what the HAL uses, typed as Moddable behaves (write and read(buffer)
// return numbers; Listener and UDP have close()). hal/ecma419_moddable.d.ts
// corrects @moddable/typings where they say otherwise.

export interface ecma419_tcp {
  target: any;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** Fills the whole view; throws if that is more than is available. */
  read(buffer: Uint8Array): number;
  /** Takes the whole view; throws when it exceeds the writable count; returns the count left (undefined after an error). */
  write(buffer: Uint8Array): number | undefined;
  close(): void;
}

export interface ecma419_tcp_options {
  address?: string;
  port?: number;
  from?: ecma419_tcp;
  nodelay?: boolean;
  onReadable?: (this: ecma419_tcp, bytes: number) => void;
  onWritable?: (this: ecma419_tcp, bytes: number) => void;
  onError?: (this: ecma419_tcp) => void;
  target?: any;
}

export interface ecma419_listener {
  target: any;
  readonly port: number;
  read(): ecma419_tcp | undefined;
  close(): void;
}

export interface ecma419_listener_options {
  port?: number;
  address?: string;
  onReadable?: (this: ecma419_listener, requests: number) => void;
  /** Not in ECMA-419 and ignored by Moddable (which throws from the constructor): the host emulation reports a late bind failure here. */
  onError?: (this: ecma419_listener) => void;
  target?: any;
}

export type ecma419_packet = ArrayBuffer & { address: string; port: number };

export interface ecma419_udp {
  target: any;
  read(): ecma419_packet | undefined;
  write(buffer: Uint8Array, address: string, port: number): void;
  close(): void;
}

export interface ecma419_udp_options {
  port?: number;
  address?: string;
  onReadable?: (this: ecma419_udp, packets: number) => void;
  onError?: (this: ecma419_udp) => void;
  target?: any;
}

/** One timer, made once and re-armed: Moddable's Timer.schedule re-arms without allocating. */
export interface ecma419_timer {
  /** Fires once, ms from now (0: on the next turn), replacing any earlier arming. */
  arm(ms: number): void;
  disarm(): void;
}

export interface ecma419_platform {
  TCP: new (options: ecma419_tcp_options) => ecma419_tcp;
  Listener: new (options: ecma419_listener_options) => ecma419_listener;
  UDP: new (options: ecma419_udp_options) => ecma419_udp;
  /** Net.resolve's shape: callback(name, address), address undefined on failure. May throw when busy. */
  resolve(host: string, callback: (name: string, address?: string) => void): void;
  /** Monotonic milliseconds (Time.ticks on the device). */
  millis(): number;
  /** Makes the HAL's one timer; fn is called when it fires. Called once per HAL. */
  timer(fn: () => void): ecma419_timer;
  /** Writes a log line (trace on the device). */
  log(s: string): void;
  /**
   * Cryptographically strong random bytes (session tokens, WebSocket keys
   * and masks come from here): the ESP32's hardware RNG, the OS's on a
   * simulator. Required: Math.random is not secure (on Moddable's lin it is
   * unseeded rand(), the same on every launch).
   */
  random(buf: Uint8Array, ofs: number, len: number): void;
  /** Most sockets open at once (default MG_MAX_CONNS + 4). */
  max_sockets?: number;
}

// --- records ----------------------------------------------------------------

const FREE = 0;
const TCP = 1;
const LISTENER = 2;
const UDP = 3;

/** Largest UDP payload over IPv4. */
const UDP_MAX = 65507;

/** One socket behind a handle. Records are made when the table grows and reused; a stale callback is recognised by r.sock !== this. */
class Rec {
  kind = FREE;
  sock: any = null;
  s: State;
  st = HAL_CONNECTING;
  /** TCP: unread bytes announced; listener: pending connections; UDP: datagrams announced and not yet read(). */
  avail = 0;
  /** TCP: bytes write() may take now. */
  wr = 0;
  /** TCP: onError came after the connection was up (the peer closed, or a reset). */
  gone = false;
  /** UDP: a datagram taken from the socket, not yet given to the core. */
  pkt: ecma419_packet | null = null;
  /** Requested local address, and the remote one as strings (Moddable's currency). */
  loc_ip = "";
  loc_port = 0;
  rem_ip = "";
  rem_port = 0;
  /** The listener's record, for an accepted socket's local address. */
  parent: Rec | null = null;
  /** UDP sendto: the last destination, so its string is made once per peer. */
  to_ip = "";
  to_bytes = new Uint8Array(16);
  to_v6 = false;
  constructor(s: State) {
    this.s = s;
  }
}

class Req {
  st = 0; // 0 free, 1 pending, 2 done, -1 failed
  host = "";
  ip = "";
}

/** Per-HAL state the shared callbacks reach through rec.s. */
class State {
  p: ecma419_platform;
  fns: (() => void)[] = [];
  timer: ecma419_timer | null = null;
  /** A wake on the next turn is armed. */
  soon = false;
  /** A wake at this millis() is armed (0: none). */
  deadline = 0;
  constructor(p: ecma419_platform) {
    this.p = p;
  }
  /** Something changed: wake the managers on the next turn (never from inside a HAL method). */
  kick(): void {
    if (this.soon || this.timer === null || this.fns.length === 0) return;
    this.soon = true;
    this.deadline = 0;
    this.timer.arm(0);
  }
  fire(): void {
    this.soon = false;
    this.deadline = 0;
    const fns = this.fns;
    // From the end, so a function that unregisters itself does not make the loop skip another.
    for (let i = fns.length - 1; i >= 0; i--) {
      const fn = fns[i];
      if (fn === undefined) continue;
      try {
        fn();
      } catch (e) {
        report(this, "wake function threw", e);
      }
    }
  }
}

function report(s: State, what: string, e: unknown): void {
  try {
    s.p.log("mgts hal/ecma419: " + what + ": " + String(e) + "\n");
  } catch {
    // the log itself failed: nothing more can be done safely
  }
}

// --- shared callbacks: `this` is the socket, this.target its record ----------

function on_tcp_readable(this: ecma419_tcp, bytes: number): void {
  try {
    const r = this.target as Rec;
    if (r.sock !== this) return;
    r.avail = bytes; // Moddable announces the total unread, not the increment
    r.s.kick();
  } catch (e) {
    report_cb(this, "onReadable", e);
  }
}

function on_tcp_writable(this: ecma419_tcp, bytes: number): void {
  try {
    const r = this.target as Rec;
    if (r.sock !== this) return;
    r.wr = bytes; // the total writable, as tcp_sndbuf()
    if (r.st === HAL_CONNECTING) r.st = HAL_OPEN; // the first call means connected
    r.s.kick();
  } catch (e) {
    report_cb(this, "onWritable", e);
  }
}

function on_tcp_error(this: ecma419_tcp): void {
  try {
    const r = this.target as Rec;
    if (r.sock !== this) return;
    if (r.st === HAL_CONNECTING) r.st = HAL_ERROR;
    else r.gone = true;
    r.wr = 0;
    r.s.kick();
  } catch (e) {
    report_cb(this, "onError", e);
  }
}

/** A listener's onReadable (pending connections) and a UDP socket's (queued datagrams): both announce totals. */
function on_count(this: ecma419_listener | ecma419_udp, count: number): void {
  try {
    const r = this.target as Rec;
    if (r.sock !== this) return;
    r.avail = count;
    r.s.kick();
  } catch (e) {
    report_cb(this, "onReadable", e);
  }
}

function on_any_error(this: ecma419_listener | ecma419_udp): void {
  try {
    const r = this.target as Rec;
    if (r.sock !== this) return;
    r.st = HAL_ERROR;
    r.s.kick();
  } catch (e) {
    report_cb(this, "onError", e);
  }
}

function report_cb(sock: { target: any }, what: string, e: unknown): void {
  try {
    const r = sock.target as Rec;
    if (r instanceof Rec) report(r.s, what, e);
  } catch {
    // nowhere to report
  }
}

// --- addresses ----------------------------------------------------------------

/** The address as Moddable wants it: a.b.c.d, or eight hex groups. */
export function ecma419_ip(a: mg_addr): string {
  return ip_text(a.ip, a.is_ip6);
}

function ip_text(b: Uint8Array, v6: boolean): string {
  if (!v6) return b[0] + "." + b[1] + "." + b[2] + "." + b[3];
  let s = "";
  for (let i = 0; i < 16; i += 2) s += (i === 0 ? "" : ":") + ((b[i] << 8) | b[i + 1]).toString(16);
  return s;
}

/** Fills out from Moddable's address text; an IPv4-mapped IPv6 address becomes IPv4. */
function set_addr(out: mg_addr, ip: string, port: number): void {
  if (ip.length === 0 || !mg_aton(ip, out)) out.ip.fill(0);
  out.port = port;
  const b = out.ip;
  if (out.is_ip6 && b[10] === 0xff && b[11] === 0xff && b[0] === 0 && b[8] === 0 && b[9] === 0) {
    let zero = true;
    for (let i = 0; i < 10; i++) if (b[i] !== 0) zero = false;
    if (zero) {
      b.copyWithin(0, 12, 16);
      b.fill(0, 4);
      out.is_ip6 = false;
    }
  }
}

function port_ok(port: number, min: number): boolean {
  return Number.isInteger(port) && port >= min && port <= 65535;
}

// --- the HAL ----------------------------------------------------------------

/**
 * Makes the ECMA-419 HAL over the given platform. The staging buffer (the
 * power of two at or above MG_IO_SIZE) and its views are made here, once.
 */
export function mg_hal_ecma419(p: ecma419_platform): mg_hal {
  return new Ecma419Hal(p);
}

/**
 * A class, not closures: its methods are made once with the module (in flash
 * when preloaded), where closures would cost 11 slots each per HAL.
 */
class Ecma419Hal implements mg_hal {
  readonly name = "ecma419";
  private p: ecma419_platform;
  private s: State;
  private max: number;
  private table: Rec[] = [];
  private reqs: Req[] = [];
  private bits = 0;
  private size: number;
  private stage: Uint8Array;
  private views: Uint8Array[] = [];
  /** Net.resolve's callback: one function for every request, matched by name. */
  private on_resolved: (name: string, address?: string) => void;

  constructor(p: ecma419_platform) {
    this.p = p;
    this.s = new State(p);
    this.max = p.max_sockets ?? MG_MAX_CONNS + 4;
    while (1 << this.bits < MG_IO_SIZE) this.bits++;
    this.size = 1 << this.bits;
    this.stage = new Uint8Array(this.size);
    for (let k = 0; k <= this.bits; k++) this.views.push(new Uint8Array(this.stage.buffer, 0, 1 << k));
    this.on_resolved = (name, address) => this.resolved_cb(name, address);
  }

  private alloc(kind: number): Rec | null {
    const table = this.table;
    let h = 0;
    while (h < table.length && table[h].kind !== FREE) h++;
    if (h === table.length) {
      if (h >= this.max) return null;
      table.push(new Rec(this.s));
    }
    const r = table[h];
    r.kind = kind;
    r.sock = null;
    r.st = HAL_CONNECTING;
    r.avail = r.wr = 0;
    r.gone = false;
    r.pkt = null;
    r.loc_ip = r.rem_ip = "";
    r.loc_port = r.rem_port = 0;
    r.parent = null;
    return r;
  }

  private get(h: number): Rec | null {
    if (h < 0 || h >= this.table.length) return null;
    const r = this.table[h];
    return r.kind === FREE ? null : r;
  }

  private release(r: Rec): void {
    const sock = r.sock;
    r.kind = FREE;
    r.sock = null;
    r.pkt = null;
    r.parent = null;
    if (sock !== null) {
      try {
        sock.close();
      } catch (e) {
        report(this.s, "close", e);
      }
    }
  }

  // --- TCP data path --------------------------------------------------------

  private tcp_read(r: Rec, buf: Uint8Array, ofs: number, len: number): number {
    const n = len < r.avail ? len : r.avail;
    if (n <= 0) return 0;
    const sock = r.sock as ecma419_tcp;
    const views = this.views;
    let done = 0;
    try {
      while (done < n) {
        const rest = n - done;
        const k = rest >= this.size ? this.bits : 31 - Math.clz32(rest);
        const v = views[k];
        sock.read(v);
        buf.set(v, ofs + done);
        done += 1 << k;
      }
    } catch (e) {
      // Only if the count went out of step with the platform: trust it no more.
      report(this.s, "read", e);
      r.avail = 0;
      return done;
    }
    r.avail -= done;
    return done;
  }

  private tcp_write(r: Rec, buf: Uint8Array, ofs: number, len: number): number {
    if (r.st === HAL_ERROR || r.gone) return -1;
    if (r.st !== HAL_OPEN) return 0;
    const size = this.size;
    const stage = this.stage;
    let n = len < r.wr ? len : r.wr;
    if (n > size) n = size;
    if (n <= 0) return 0;
    // Stage the bytes at offset 0: one native copy of the whole buffer (the
    // core's are MG_IO_SIZE) and a move, or a byte loop for larger buffers.
    if (buf.length <= size) {
      stage.set(buf, 0);
      if (ofs > 0) stage.copyWithin(0, ofs, ofs + n);
    } else {
      for (let i = 0; i < n; i++) stage[i] = buf[ofs + i];
    }
    const sock = r.sock as ecma419_tcp;
    let done = 0;
    try {
      // Largest pieces first: piece i moves to offset 0 from beyond every
      // later piece's bytes, so nothing still to send is overwritten. lwIP
      // joins the writes of one turn into segments.
      while (done < n) {
        const k = 31 - Math.clz32(n - done);
        if (done > 0) stage.copyWithin(0, done, done + (1 << k));
        const left = sock.write(this.views[k]);
        if (typeof left !== "number") {
          // Moddable returns nothing when the socket has failed (and the lin
          // simulator can lose that onError): the connection is over.
          r.gone = true;
          r.wr = 0;
          return done > 0 ? done : -1;
        }
        r.wr = left;
        done += 1 << k;
      }
    } catch (e) {
      // "would block" only if the count went out of step: wait for onWritable.
      report(this.s, "write", e);
      r.wr = 0;
    }
    return done;
  }

  // --- UDP ------------------------------------------------------------------

  /** Makes r.pkt the next non-empty datagram, if any; returns its length. */
  private udp_next(r: Rec): number {
    while (r.pkt === null && r.avail > 0) {
      r.avail--;
      let d: ecma419_packet | undefined;
      try {
        d = (r.sock as ecma419_udp).read();
      } catch (e) {
        report(this.s, "UDP read", e);
        d = undefined;
      }
      if (d === undefined) {
        r.avail = 0;
        break;
      }
      if (d.byteLength > 0) r.pkt = d; // an empty datagram cannot be announced (readable() 0 means none)
    }
    return r.pkt === null ? 0 : r.pkt.byteLength;
  }

  private udp_take(r: Rec, buf: Uint8Array, ofs: number, len: number, from: mg_addr | null): number {
    const total = this.udp_next(r);
    const d = r.pkt;
    if (d === null) return 0;
    r.pkt = null;
    const n = total < len ? total : len;
    if (n > 0) buf.set(new Uint8Array(d, 0, n), ofs);
    if (from !== null) set_addr(from, d.address, d.port);
    if (r.avail > 0) this.s.kick(); // more were announced: they will not be announced again
    return n;
  }

  private udp_send(r: Rec, buf: Uint8Array, ofs: number, len: number, ip: string, port: number): number {
    if (r.st === HAL_ERROR) return -1;
    const v = ofs === 0 && len === buf.length ? buf : buf.subarray(ofs, ofs + len);
    try {
      (r.sock as ecma419_udp).write(v, ip, port);
    } catch {
      return -1;
    }
    return len;
  }

  // --- resolving --------------------------------------------------------------

  private resolved_cb(name: string, address?: string): void {
    try {
      let hit = false;
      const reqs = this.reqs;
      for (let i = 0; i < reqs.length; i++) {
        const q = reqs[i];
        if (q.st !== 1 || q.host !== name) continue;
        if (typeof address === "string" && address.length > 0) {
          q.st = 2;
          q.ip = address;
        } else {
          q.st = -1;
        }
        hit = true;
      }
      if (hit) this.s.kick();
    } catch (e) {
      report(this.s, "resolve callback", e);
    }
  }

  // --- mg_hal -------------------------------------------------------------

  millis(): number {
    return this.p.millis();
  }

  random(buf: Uint8Array, ofs: number, len: number): void {
    this.p.random(buf, ofs, len);
  }

  log(buf: Uint8Array, ofs: number, len: number): void {
    try {
      this.p.log(mg_utf8_decode(buf, ofs, len));
    } catch {
      // a failing log sink must not take the caller down
    }
  }

  wake(fn: () => void, on: boolean): void {
    const s = this.s;
    const fns = s.fns;
    const i = fns.indexOf(fn);
    if (on) {
      if (i < 0) fns.push(fn);
      if (s.timer === null) s.timer = this.p.timer(() => s.fire());
      return;
    }
    if (i >= 0) fns.splice(i, 1);
    if (fns.length === 0 && s.timer !== null) {
      s.timer.disarm();
      s.soon = false;
      s.deadline = 0;
    }
  }

  timer(ms: number): void {
    const s = this.s;
    if (ms <= 0) {
      s.kick();
      return;
    }
    if (s.soon || s.timer === null || s.fns.length === 0) return;
    const at = this.p.millis() + ms;
    if (s.deadline !== 0 && s.deadline <= at) return; // an earlier deadline stands
    s.deadline = at;
    s.timer.arm(ms);
  }

  listen(addr: mg_addr, udp: boolean): number {
    if (!port_ok(addr.port, 0)) return -1;
    const r = this.alloc(udp ? UDP : LISTENER);
    if (r === null) return -1;
    r.loc_ip = ecma419_ip(addr);
    r.loc_port = addr.port;
    try {
      if (udp) {
        r.sock = new this.p.UDP({ port: addr.port, address: r.loc_ip, onReadable: on_count, onError: on_any_error, target: r });
      } else {
        r.sock = new this.p.Listener({ port: addr.port, address: r.loc_ip, onReadable: on_count, onError: on_any_error, target: r });
      }
    } catch (e) {
      report(this.s, "listen", e); // in use, no network, or out of sockets
      r.kind = FREE;
      r.sock = null;
      return -1;
    }
    r.st = HAL_OPEN;
    return this.table.indexOf(r);
  }

  connect(addr: mg_addr, udp: boolean): number {
    if (!port_ok(addr.port, 1)) return -1;
    const r = this.alloc(udp ? UDP : TCP);
    if (r === null) return -1;
    r.rem_ip = ecma419_ip(addr);
    r.rem_port = addr.port;
    try {
      if (udp) {
        r.sock = new this.p.UDP({ onReadable: on_count, onError: on_any_error, target: r });
        r.st = HAL_OPEN;
      } else {
        r.sock = new this.p.TCP(tcp_options(r, { address: r.rem_ip, port: addr.port }));
      }
    } catch (e) {
      report(this.s, "connect", e);
      r.kind = FREE;
      r.sock = null;
      return -1;
    }
    return this.table.indexOf(r);
  }

  accept(listener: number): number {
    const l = this.get(listener);
    if (l === null || l.kind !== LISTENER || l.avail <= 0) return -1;
    l.avail--;
    let t: ecma419_tcp | undefined;
    try {
      t = (l.sock as ecma419_listener).read();
    } catch (e) {
      report(this.s, "accept", e);
      t = undefined;
    }
    if (t === undefined) {
      l.avail = 0;
      return -1;
    }
    const r = this.alloc(TCP);
    if (r === null) {
      // No record left: refuse this one (closing it frees the platform's
      // socket) and look again next turn for the others announced.
      close_quietly(t);
      if (l.avail > 0) this.s.kick();
      return -1;
    }
    try {
      r.sock = new this.p.TCP(tcp_options(r, { from: t }));
    } catch (e) {
      report(this.s, "accept", e);
      r.kind = FREE;
      close_quietly(t);
      return -1;
    }
    r.st = HAL_OPEN; // writable once the adopted socket's onWritable comes
    r.parent = l;
    r.loc_ip = l.loc_ip;
    r.loc_port = (l.sock as ecma419_listener).port;
    try {
      r.rem_ip = r.sock.remoteAddress ?? "";
      r.rem_port = r.sock.remotePort ?? 0;
    } catch {
      // no address: left empty
    }
    return this.table.indexOf(r);
  }

  state(h: number): number {
    const r = this.get(h);
    if (r === null) return HAL_ERROR;
    if (r.kind === TCP) {
      if (r.st === HAL_OPEN && r.gone && r.avail === 0) return HAL_EOF;
      return r.st;
    }
    // A listener on port 0 is open once its port is known (at once on
    // Moddable; the host emulation binds a turn later).
    if (r.kind === LISTENER && r.st === HAL_OPEN && r.loc_port === 0 && (r.sock as ecma419_listener).port === 0) return HAL_CONNECTING;
    return r.st;
  }

  readable(h: number): number {
    const r = this.get(h);
    if (r === null) return 0;
    if (r.kind === UDP) return this.udp_next(r);
    return r.kind === TCP ? r.avail : 0;
  }

  writable(h: number): number {
    const r = this.get(h);
    if (r === null || r.st !== HAL_OPEN) return 0;
    if (r.kind === UDP) return UDP_MAX;
    if (r.kind !== TCP || r.gone) return 0;
    return r.wr < this.size ? r.wr : this.size;
  }

  read(h: number, buf: Uint8Array, ofs: number, len: number): number {
    const r = this.get(h);
    if (r === null) return 0;
    if (r.kind === UDP) return this.udp_take(r, buf, ofs, len, null);
    return r.kind === TCP ? this.tcp_read(r, buf, ofs, len) : 0;
  }

  write(h: number, buf: Uint8Array, ofs: number, len: number): number {
    const r = this.get(h);
    if (r === null) return -1;
    if (r.kind === UDP) return r.rem_port > 0 ? this.udp_send(r, buf, ofs, len, r.rem_ip, r.rem_port) : -1;
    return r.kind === TCP ? this.tcp_write(r, buf, ofs, len) : -1;
  }

  recvfrom(h: number, buf: Uint8Array, ofs: number, len: number, from: mg_addr): number {
    const r = this.get(h);
    if (r === null || r.kind !== UDP) return 0;
    return this.udp_take(r, buf, ofs, len, from);
  }

  sendto(h: number, buf: Uint8Array, ofs: number, len: number, to: mg_addr): number {
    const r = this.get(h);
    if (r === null || r.kind !== UDP || !port_ok(to.port, 1)) return -1;
    return this.udp_send(r, buf, ofs, len, to_text(r, to), to.port);
  }

  close(h: number): void {
    const r = this.get(h);
    if (r !== null) this.release(r);
  }

  addr(h: number, local: boolean, out: mg_addr): void {
    const r = this.get(h);
    if (r === null) {
      set_addr(out, "", 0);
    } else if (!local) {
      set_addr(out, r.rem_ip, r.rem_port);
    } else if (r.kind === LISTENER) {
      // Moddable tells a listener's port (port 0 picks one), never its address.
      let port = 0;
      try {
        port = (r.sock as ecma419_listener).port;
      } catch {
        // closed
      }
      set_addr(out, r.loc_ip, port > 0 ? port : r.loc_port);
    } else {
      // ECMA-419 has no local address for TCP or UDP sockets: an accepted
      // socket has its listener's; others what was asked for (0.0.0.0:0).
      set_addr(out, r.loc_ip, r.loc_port);
    }
  }

  resolve(host: string, ipv6: boolean): number {
    if (ipv6) return -1; // Net.resolve answers IPv4
    const reqs = this.reqs;
    let id = 0;
    while (id < reqs.length && reqs[id].st !== 0) id++;
    if (id === reqs.length) {
      if (id >= MG_MAX_RESOLVES * 2) return -1;
      reqs.push(new Req());
    }
    const q = reqs[id];
    q.host = host;
    q.ip = "";
    q.st = 1;
    if (host === "localhost") {
      q.st = 2; // not every resolver knows it; Mongoose maps it too
      q.ip = "127.0.0.1";
      this.s.kick();
      return id;
    }
    try {
      this.p.resolve(host, this.on_resolved);
    } catch (e) {
      report(this.s, "resolve", e); // lwIP's queue of look-ups is full
      q.st = 0;
      return -1;
    }
    return id;
  }

  resolved(req: number, out: mg_addr): number {
    if (req < 0 || req >= this.reqs.length) return -1;
    const q = this.reqs[req];
    if (q.st === 1) return 0;
    if (q.st === 0) return -1;
    const ok = q.st === 2;
    q.st = 0;
    if (!ok) return -1;
    const port = out.port;
    if (!mg_aton(q.ip, out)) return -1;
    out.port = port;
    return 1;
  }

  resolve_cancel(req: number): void {
    if (req >= 0 && req < this.reqs.length) this.reqs[req].st = 0;
  }
}

function tcp_options(r: Rec, o: ecma419_tcp_options): ecma419_tcp_options {
  o.nodelay = true; // lowercase: Moddable ignores the spec's noDelay
  o.onReadable = on_tcp_readable;
  o.onWritable = on_tcp_writable;
  o.onError = on_tcp_error;
  o.target = r;
  return o;
}

function close_quietly(t: ecma419_tcp): void {
  try {
    t.close();
  } catch {
    // already gone
  }
}

/** The destination's text, remade only when the peer changes. */
function to_text(r: Rec, to: mg_addr): string {
  const b = to.ip;
  const n = to.is_ip6 ? 16 : 4;
  let same = r.to_ip.length > 0 && r.to_v6 === to.is_ip6;
  for (let i = 0; same && i < n; i++) if (r.to_bytes[i] !== b[i]) same = false;
  if (!same) {
    r.to_bytes.set(b, 0);
    r.to_v6 = to.is_ip6;
    r.to_ip = ip_text(b, to.is_ip6);
  }
  return r.to_ip;
}
