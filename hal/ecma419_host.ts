// An ECMA-419 socket provider over node:net and node:dgram that behaves as
// Moddable 8.2.3's lwIP sockets do on an ESP32 (../shared/moddable-facts.md),
// so hal/ecma419.ts runs unmodified in tests and in the simulator
// (npm start -- --hal ecma419). Not a general ECMA-419 implementation: it
// copies Moddable's observed semantics, including where they differ from the
// spec, and nothing it does not need.
//
// TCP
// - onReadable(n) tells the total unread bytes, once per arriving chunk.
// - read() returns all unread bytes as an ArrayBuffer (undefined if none);
//   read(n) exactly n bytes; read(buffer) fills buffer.byteLength bytes and
//   returns that count. Asking for more than is unread throws
//   Error("invalid"), as Moddable does (the spec would fill what it can).
// - write(buffer) throws Error("would block") when it exceeds the writable
//   count (all-or-nothing) and Error("not ready") before the connection is
//   up; it returns the count left. After an error it returns undefined.
//   The writable count models lwIP's send buffer (SNDBUF, 8192 as
//   TCP_SND_BUF_DEFAULT on an ESP32): bytes count against it until Node
//   hands them to the kernel, which stands in for lwIP's ACK.
// - onWritable(n) tells the total writable: first on connect (or after
//   adoption with `from`), then whenever sent bytes free space.
// - onError() (no arguments) is a failed connect, a reset, or the peer's FIN,
//   and like lwIP it waits until every received byte was read.
// - Unread data beyond RCVWND pauses the socket, as lwIP withholds
//   tcp_recved: the TCP window then throttles the peer.
// - close() is synchronous: no callback afterwards; bytes already taken are
//   still sent, then FIN. A second close() is fine; any other method throws.
// - Callbacks are never called from inside a method; `this` is the socket.
// Listener
// - onReadable(n) tells the pending connections; read() hands one over as a
//   TCP without callbacks, to pass as `from`. Pending sockets are paused.
// - `port` tells the bound port. Moddable binds in the constructor and
//   throws on failure; Node binds an address a turn later, so `port` is 0
//   until then and a failure arrives as onError() (an extension Moddable
//   ignores). Moddable ignores `address` and binds to every interface; this
//   emulation honours it, so tests stay on 127.0.0.1.
// UDP
// - onReadable(n) tells the datagrams queued (at most UDP_QUEUE; more are
//   dropped); read() returns one as an ArrayBuffer with .address and .port;
//   write(buffer, address, port) sends one, address an IP literal.
import { randomFillSync } from "node:crypto";
import * as dgram from "node:dgram";
import * as dns from "node:dns";
import * as net from "node:net";
import type {
  ecma419_listener_options,
  ecma419_packet,
  ecma419_platform,
  ecma419_tcp_options,
  ecma419_timer,
  ecma419_udp_options,
} from "./ecma419.js";

/** lwIP's send buffer on an ESP32 (TCP_SND_BUF_DEFAULT). */
export const SNDBUF = 8192;
/** Unread bytes beyond which the socket is paused (lwIP's TCP_WND_DEFAULT on an ESP32). */
export const RCVWND = 8192;
/** Datagrams queued per UDP socket; more are dropped, as when lwIP runs out of pbufs. */
export const UDP_QUEUE = 32;

/** Counters for tests: misuse a device would pay for, without failing here. */
export const ecma419_host_stats = {
  /** Listener.read() calls with nothing pending (on Moddable each pins a TCP object). */
  overreads: 0,
  /** Sockets made and not yet closed. */
  open: 0,
};

function closed_error(): Error {
  return new Error("closed");
}

type TcpThis = TCP;

export class TCP {
  target: any;
  #s: net.Socket | null = null;
  #closed = false;
  #pending = false; // a Listener.read() result not yet adopted
  #connected = false;
  #chunks: Buffer[] = [];
  #head = 0;
  #avail = 0;
  #paused = false;
  #ended = false; // FIN received
  #failed = false; // reset or other error
  #error_sent = false;
  #inflight = 0; // bytes written, not yet handed to the kernel
  #wr_soon = false;
  #format: "buffer" | "number" = "buffer";
  #on_readable: ((this: TcpThis, n: number) => void) | undefined;
  #on_writable: ((this: TcpThis, n: number) => void) | undefined;
  #on_error: ((this: TcpThis) => void) | undefined;
  #remote_address: string | undefined;
  #remote_port: number | undefined;

  constructor(o: ecma419_tcp_options & { format?: "buffer" | "number"; _pending?: net.Socket }) {
    this.target = o.target;
    this.#on_readable = o.onReadable as any;
    this.#on_writable = o.onWritable as any;
    this.#on_error = o.onError as any;
    if (o.format !== undefined) this.format = o.format;
    if (o._pending !== undefined) {
      // made by Listener.read(): holds the accepted socket until adopted
      this.#pending = true;
      this.#s = o._pending;
      this.#remote_address = o._pending.remoteAddress;
      this.#remote_port = o._pending.remotePort;
      ecma419_host_stats.open++;
      return;
    }
    if (o.from !== undefined) {
      const from = o.from as unknown as TCP;
      if (!(from instanceof TCP) || from.#closed || from.#s === null) throw new Error("invalid from");
      const s = from.#s;
      this.#remote_address = from.#remote_address;
      this.#remote_port = from.#remote_port;
      from.#s = null;
      from.close();
      ecma419_host_stats.open++;
      this.#adopt(s);
      this.#connected = true;
      setImmediate(() => {
        s.resume();
        this.#writable_now();
      });
      return;
    }
    const address = o.address;
    const port = o.port;
    if (typeof address !== "string" || net.isIP(address) === 0) throw new Error("invalid address"); // lwIP's ipaddr_aton: no host names
    if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError("invalid port");
    const s = net.connect({ host: address, port, allowHalfOpen: true, noDelay: o.nodelay === true });
    ecma419_host_stats.open++;
    this.#remote_address = address;
    this.#remote_port = port;
    this.#adopt(s);
    s.on("connect", () => {
      if (this.#closed) return;
      this.#connected = true;
      this.#remote_address = s.remoteAddress ?? address;
      this.#writable_now();
    });
  }

  #adopt(s: net.Socket): void {
    this.#s = s;
    s.setNoDelay(true);
    s.on("data", (b: Buffer) => {
      if (this.#closed) return;
      this.#chunks.push(b);
      this.#avail += b.length;
      if (this.#avail >= RCVWND && !this.#paused) {
        this.#paused = true;
        s.pause();
      }
      this.#call_readable();
    });
    s.on("end", () => {
      this.#ended = true;
      this.#maybe_error();
    });
    s.on("error", () => {
      this.#failed = true;
      this.#maybe_error();
    });
    s.on("close", () => {
      if (!this.#ended) this.#failed = true;
      this.#maybe_error();
    });
  }

  #call_readable(): void {
    const fn = this.#on_readable;
    if (fn !== undefined && !this.#closed) fn.call(this, this.#avail);
  }

  /** lwIP's order: an error or FIN is told only once every received byte was read; a failed connect at once. */
  #maybe_error(): void {
    if (this.#closed || this.#error_sent) return;
    if (this.#connected && this.#avail > 0) return;
    if (!this.#ended && !this.#failed) return;
    this.#error_sent = true;
    setImmediate(() => {
      if (this.#closed) return;
      const fn = this.#on_error;
      if (fn !== undefined) fn.call(this);
    });
  }

  #writable_now(): void {
    if (this.#closed || this.#error_sent) return;
    const fn = this.#on_writable;
    if (fn !== undefined) fn.call(this, SNDBUF - this.#inflight);
  }

  #check(): net.Socket | null {
    if (this.#closed) throw closed_error();
    return this.#s;
  }

  get remoteAddress(): string | undefined {
    this.#check();
    return this.#remote_address;
  }

  get remotePort(): number | undefined {
    this.#check();
    return this.#remote_port;
  }

  get format(): "buffer" | "number" {
    return this.#format;
  }

  set format(v: "buffer" | "number") {
    if (v !== "buffer" && v !== "number") throw new RangeError("unimplemented");
    this.#format = v;
  }

  read(): ArrayBuffer | number | undefined;
  read(count: number): ArrayBuffer | number;
  read(buffer: ArrayBuffer | ArrayBufferView): number;
  read(arg?: number | ArrayBuffer | ArrayBufferView): ArrayBuffer | number | undefined {
    this.#check();
    if (arg === undefined) {
      if (this.#avail === 0) return undefined;
      if (this.#format === "number") return this.#take_byte();
      const out = new Uint8Array(this.#avail);
      this.#copy_out(out, 0, out.length);
      return out.buffer;
    }
    if (typeof arg === "number") {
      if (!(arg > 0) || arg > this.#avail) throw new Error("invalid");
      const out = new Uint8Array(arg);
      this.#copy_out(out, 0, arg);
      return out.buffer;
    }
    const view = ArrayBuffer.isView(arg)
      ? new Uint8Array(arg.buffer, arg.byteOffset, arg.byteLength)
      : new Uint8Array(arg as ArrayBuffer);
    const need = view.length;
    if (need <= 0 || need > this.#avail) throw new Error("invalid");
    this.#copy_out(view, 0, need);
    return need;
  }

  #take_byte(): number {
    const b = new Uint8Array(1);
    this.#copy_out(b, 0, 1);
    return b[0];
  }

  #copy_out(dst: Uint8Array, ofs: number, n: number): void {
    let done = 0;
    while (done < n) {
      const c = this.#chunks[0];
      const k = Math.min(c.length - this.#head, n - done);
      dst.set(c.subarray(this.#head, this.#head + k), ofs + done);
      done += k;
      this.#head += k;
      if (this.#head === c.length) {
        this.#chunks.shift();
        this.#head = 0;
      }
    }
    this.#avail -= n;
    const s = this.#s;
    if (this.#paused && this.#avail < RCVWND / 2 && s !== null) {
      this.#paused = false;
      s.resume();
    }
    if (this.#avail === 0) this.#maybe_error();
  }

  write(data: ArrayBuffer | ArrayBufferView | number): number | undefined {
    const s = this.#check();
    if (this.#failed || this.#error_sent || s === null || s.destroyed) return undefined; // lwIP: silently nothing
    if (!this.#connected) throw new Error("not ready");
    let bytes: Buffer;
    if (typeof data === "number") bytes = Buffer.from([data & 255]);
    else if (ArrayBuffer.isView(data)) bytes = Buffer.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)); // a copy, as tcp_write(COPY)
    else bytes = Buffer.from(new Uint8Array(data.slice(0)));
    const need = bytes.length;
    if (need > SNDBUF - this.#inflight) throw new Error("would block");
    this.#inflight += need;
    s.write(bytes, () => {
      this.#inflight -= need;
      this.#sent();
    });
    return SNDBUF - this.#inflight;
  }

  /** Coalesces the frees of one turn into one onWritable, as lwIP's sent callback per ACK. */
  #sent(): void {
    if (this.#wr_soon) return;
    this.#wr_soon = true;
    setImmediate(() => {
      this.#wr_soon = false;
      this.#writable_now();
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    ecma419_host_stats.open--;
    const s = this.#s;
    this.#s = null;
    this.#chunks.length = 0;
    this.#avail = 0;
    if (s === null) return;
    if (this.#pending || s.destroyed || s.writableLength === 0) {
      s.destroy();
      return;
    }
    // tcp_close: what was taken is still sent, then FIN; the record is gone at once.
    s.resume(); // a paused socket would never see the peer's FIN
    const t = setTimeout(() => s.destroy(), 5000);
    t.unref();
    s.once("close", () => clearTimeout(t));
    s.end(() => s.destroy());
  }
}

export class Listener {
  target: any;
  #srv: net.Server;
  #pending: net.Socket[] = [];
  #closed = false;
  #port = 0;
  #on_readable: ((this: Listener, n: number) => void) | undefined;
  #on_error: ((this: Listener) => void) | undefined;

  constructor(o: ecma419_listener_options) {
    const port = o.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError("invalid port");
    this.target = o.target;
    this.#on_readable = o.onReadable as any;
    this.#on_error = o.onError as any;
    const srv = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
    this.#srv = srv;
    srv.on("connection", (s: net.Socket) => {
      if (this.#closed) {
        s.destroy();
        return;
      }
      s.on("error", () => {}); // a pending socket reset before read(): dropped when adopted or closed
      this.#pending.push(s);
      const fn = this.#on_readable;
      if (fn !== undefined) fn.call(this, this.#pending.length);
    });
    srv.on("listening", () => {
      const a = srv.address();
      if (a !== null && typeof a === "object") this.#port = a.port;
    });
    srv.on("error", (e: NodeJS.ErrnoException) => {
      if (this.#closed) return;
      const fn = this.#on_error;
      if (fn !== undefined) fn.call(this);
    });
    const any = o.address === undefined || o.address === "0.0.0.0" || o.address === "::";
    try {
      if (any) srv.listen(port);
      else srv.listen(port, o.address);
    } catch (e) {
      throw new Error("bind failed");
    }
    // Without an address Node binds now, as Moddable does.
    const a = srv.address();
    if (any && (a === null || typeof a !== "object")) {
      srv.close();
      throw new Error("bind failed");
    }
    if (a !== null && typeof a === "object") this.#port = a.port;
    ecma419_host_stats.open++;
  }

  get port(): number {
    if (this.#closed) throw closed_error();
    return this.#port;
  }

  get format(): "socket/tcp" {
    return "socket/tcp";
  }

  set format(v: "socket/tcp") {
    if (v !== "socket/tcp") throw new RangeError("unimplemented");
  }

  read(): TCP | undefined {
    if (this.#closed) throw closed_error();
    const s = this.#pending.shift();
    if (s === undefined) {
      ecma419_host_stats.overreads++;
      return undefined;
    }
    return new TCP({ _pending: s } as any);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    ecma419_host_stats.open--;
    for (const s of this.#pending) s.destroy();
    this.#pending.length = 0;
    this.#srv.close();
  }
}

export class UDP {
  target: any;
  #u: dgram.Socket;
  #queue: ecma419_packet[] = [];
  #closed = false;
  #on_readable: ((this: UDP, n: number) => void) | undefined;
  #on_error: ((this: UDP) => void) | undefined;

  constructor(o: ecma419_udp_options) {
    const port = o.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError("invalid port");
    this.target = o.target;
    this.#on_readable = o.onReadable as any;
    this.#on_error = o.onError as any;
    const v6 = typeof o.address === "string" && net.isIPv6(o.address);
    const u = dgram.createSocket(v6 ? "udp6" : "udp4");
    this.#u = u;
    u.on("message", (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      if (this.#closed || this.#queue.length >= UDP_QUEUE) return;
      const ab = new Uint8Array(msg).buffer as ecma419_packet;
      ab.address = rinfo.address;
      ab.port = rinfo.port;
      this.#queue.push(ab);
      const fn = this.#on_readable;
      if (fn !== undefined) fn.call(this, this.#queue.length);
    });
    u.on("error", () => {
      if (this.#closed) return;
      const fn = this.#on_error;
      if (fn !== undefined) fn.call(this);
    });
    const address = typeof o.address === "string" && net.isIP(o.address) !== 0 ? o.address : undefined;
    u.bind(port, address);
    ecma419_host_stats.open++;
  }

  get format(): "buffer" {
    return "buffer";
  }

  set format(v: "buffer") {
    if (v !== "buffer") throw new RangeError("invalid format");
  }

  read(): ecma419_packet | undefined {
    if (this.#closed) throw closed_error();
    return this.#queue.shift();
  }

  write(buffer: ArrayBuffer | ArrayBufferView, address: string, port: number): void {
    if (this.#closed) throw closed_error();
    if (typeof address !== "string" || net.isIP(address) === 0) throw new RangeError("invalid IP address");
    const b = ArrayBuffer.isView(buffer)
      ? Buffer.from(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength))
      : Buffer.from(new Uint8Array(buffer.slice(0)));
    try {
      this.#u.send(b, port, address, () => {});
    } catch {
      throw new Error("UDP send failed");
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    ecma419_host_stats.open--;
    this.#queue.length = 0;
    try {
      this.#u.close();
    } catch {
      // closed after an error
    }
  }
}

/**
 * The whole platform for mg_hal_ecma419 on the host: these sockets,
 * dns.lookup as the resolver, performance.now as the clock, stdout as the
 * log. Its timer is ref'd while armed, which keeps a running manager alive.
 */
export function ecma419_host_platform(): ecma419_platform {
  return {
    TCP: TCP as any,
    Listener: Listener as any,
    UDP: UDP as any,
    resolve(host, callback) {
      dns.lookup(host, { family: 4 }, (err, address) => callback(host, err === null ? address : undefined));
    },
    millis() {
      return Math.floor(performance.now());
    },
    timer(fn): ecma419_timer {
      let t: ReturnType<typeof setTimeout> | null = null;
      let i: ReturnType<typeof setImmediate> | null = null;
      const fire = () => {
        t = null;
        i = null;
        fn();
      };
      const disarm = () => {
        if (t !== null) clearTimeout(t);
        if (i !== null) clearImmediate(i);
        t = i = null;
      };
      return {
        arm(ms) {
          disarm();
          if (ms <= 0) i = setImmediate(fire);
          else t = setTimeout(fire, ms);
        },
        disarm,
      };
    },
    log(s) {
      process.stdout.write(s);
    },
    random(buf, ofs, len) {
      randomFillSync(buf, ofs, len);
    },
  };
}
