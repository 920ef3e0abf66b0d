// The Node HAL: real sockets (node:net, node:dgram, node:dns) for the host
// simulator, giving the core the same pulled-readiness semantics as the
// device HAL (hal/ecma419.ts): Node's push events only fill queues and
// counters here, then schedule one coalesced call of the wake functions.
//
// Decisions the core relies on:
// - Binding is asynchronous in Node. listen() returns a handle at once and
//   state() says HAL_CONNECTING until the socket is bound, then HAL_OPEN, or
//   HAL_ERROR with error() naming the errno ("EADDRINUSE: address already in
//   use"). Only a TCP listen on the unspecified address (0.0.0.0 or ::) binds
//   synchronously, so there addr(h, true) knows a port-0 choice at once (Node
//   binds that one dual-stack, so it takes IPv6 clients too); its failure is
//   still reported a turn later, because Node gives the errno only in its
//   'error' event. Elsewhere addr(h, true) of a listener holds port 0 until
//   HAL_OPEN.
// - A connected UDP socket (connect(addr, true)) is HAL_CONNECTING, with
//   writable() 0 and its local port 0, until Node has bound and connected it
//   (the next event-loop turn).
// - close() is the kernel's close(): bytes already taken by write() are
//   still delivered (end, then destroy once flushed, or after LINGER_MS).
// - The timer keeps the process alive (it is ref'd): a running manager
//   re-arms it on every poll, and that is what keeps a server running. When
//   the last wake function is unregistered the timer is dropped, so a
//   stopped manager whose handles are all closed lets the process exit.
// - TLS (tls()): node:tls wraps the connected socket, as a client
//   (tls.connect with the socket: Node verifies the chain and the name) or
//   as a server (a TLSSocket). Bytes read before tls() and not taken by the
//   core go back into the socket for the handshake. Secure contexts are
//   cached per certificate set, so a connection does not parse its PEM
//   again. What Node allocates per record (Buffers, its TLS state, about
//   50 KB per connection in OpenSSL) is the platform's, not the core's.
import { X509Certificate, createPrivateKey, randomFillSync } from "node:crypto";
import * as dgram from "node:dgram";
import * as dns from "node:dns";
import * as net from "node:net";
import * as tls from "node:tls";
import type { mg_addr } from "../src/addr.js";
import {
  HAL_CONNECTING,
  HAL_EOF,
  HAL_ERROR,
  HAL_OPEN,
  HAL_TLS_HS,
  TLS_BAD_CREDENTIALS,
  TLS_CLOSED,
  TLS_EXPIRED,
  TLS_HANDSHAKE,
  TLS_NOT_TLS,
  TLS_NOT_YET_VALID,
  TLS_NO_CLIENT_CERT,
  TLS_REJECTED,
  TLS_UNKNOWN_CA,
  TLS_WRONG_NAME,
  type mg_hal,
  type mg_hal_tls,
} from "./hal.js";

const KIND_TCP = 1;
const KIND_LISTENER = 2;
const KIND_UDP = 3;

/** Unread TCP bytes beyond which the socket is paused (the TCP window then throttles the peer); one more chunk may land. */
const HIGH_WATER = 64 * 1024;
/** Unread bytes below which a paused socket resumes. */
const LOW_WATER = 16 * 1024;
/**
 * Accepted connections waiting for accept(); more are dropped (a listen
 * backlog: Node's own default, 511). A full pool leaves new connections
 * here while it waits for a slot to become evictable (src/net.ts,
 * poll_accept), so a burst of connects must not overflow it.
 */
const MAX_PENDING = 511;
/** Received datagrams kept per UDP socket; more are dropped, as a full kernel buffer would. */
const MAX_DGRAMS = 64;
/** Largest UDP payload (IPv4). */
const UDP_MAX = 65507;
/** How long a closed TCP socket may take to flush what write() took. */
const LINGER_MS = 5000;
/** Resolves in flight at once. */
const MAX_RESOLVES = 32;
/** Secure contexts kept (one per distinct CA/certificate/key set). */
const MAX_CONTEXTS = 8;

/** One socket behind a handle. A fresh record per socket, so late events of a closed socket touch only its own dead record. */
class Rec {
  kind: number;
  closed = false;
  st = HAL_CONNECTING; // HAL_CONNECTING, HAL_OPEN, HAL_TLS_HS or HAL_ERROR; HAL_EOF is derived in state()
  err = ""; // the cause of HAL_ERROR, for error(): TLS failures, and a listener's or a UDP socket's bind
  tls = false; // tcp is a TLSSocket
  name = ""; // TLS client: the name checked
  unwatch: (() => void) | null = null; // takes watch_tcp's listeners off tcp
  ended = false; // TCP: the peer sent FIN
  paused = false;
  tcp: net.Socket | null = null;
  server: net.Server | null = null;
  udp: dgram.Socket | null = null;
  udp6 = false; // UDP: an IPv6 socket
  // Received data: TCP chunks (head = bytes of chunks[0] already read), or whole datagrams.
  chunks: Buffer[] = [];
  head = 0;
  queued = 0;
  from_ip: string[] = []; // UDP: sender of each datagram in chunks
  from_port: number[] = [];
  pending: number[] = []; // listener: accepted handles not yet taken by accept()
  loc_ip = "";
  loc_port = 0;
  rem_ip = "";
  rem_port = 0;
  constructor(kind: number) {
    this.kind = kind;
  }
}

class Req {
  st = 0; // 0 pending, 1 done, -1 failed
  ip = "";
}

export function mg_hal_node(): mg_hal {
  const table: (Rec | null)[] = [];
  const reqs: (Req | null)[] = [];
  const fns: (() => void)[] = [];
  let immediate: ReturnType<typeof setImmediate> | null = null;
  let tmo: ReturnType<typeof setTimeout> | null = null;
  let deadline = 0;

  // --- waking -------------------------------------------------------------

  /** Something happened: call the wake functions once, soon, never from inside a HAL method. */
  function wake(): void {
    if (immediate === null && fns.length > 0) immediate = setImmediate(run);
  }

  function run(): void {
    immediate = null;
    // The deadline is forgotten before the calls, so a timer() asked for inside them stands.
    if (tmo !== null) {
      clearTimeout(tmo);
      tmo = null;
    }
    const list = fns.slice(); // a function may unregister itself
    for (const fn of list) {
      try {
        fn();
      } catch (e) {
        process.stderr.write("mgts hal/node: wake function threw: " + String(e) + "\n");
      }
    }
  }

  function on_timer(): void {
    tmo = null;
    wake();
  }

  function millis(): number {
    return Math.floor(performance.now());
  }

  // --- the handle table ---------------------------------------------------

  function alloc(kind: number): number {
    let h = table.indexOf(null);
    if (h < 0) h = table.push(null) - 1;
    table[h] = new Rec(kind);
    return h;
  }

  function get(h: number): Rec | null {
    return h >= 0 && h < table.length ? table[h] : null;
  }

  // --- TCP ------------------------------------------------------------------

  function watch_tcp(r: Rec, s: net.Socket): void {
    s.setNoDelay(true);
    const on_data = (b: Buffer): void => {
      if (r.closed) return;
      r.chunks.push(b);
      r.queued += b.length;
      if (r.queued > HIGH_WATER && !r.paused) {
        r.paused = true;
        s.pause();
      }
      wake();
    };
    const on_end = (): void => {
      r.ended = true;
      // half-open sockets stay open after the peer's FIN: a handshake cut short must fail here
      if (r.st === HAL_TLS_HS) {
        if (r.err === "") r.err = TLS_CLOSED;
        r.st = HAL_ERROR;
      }
      if (!r.closed) wake();
    };
    // Always listened to: an unhandled 'error' would kill the process.
    const on_error = (e: unknown): void => {
      if (r.tls && r.err === "") r.err = tls_cause(e, r.st === HAL_TLS_HS, r.name);
      r.st = HAL_ERROR;
      if (!r.closed) wake();
    };
    const on_close = (): void => {
      if (r.st === HAL_TLS_HS && r.err === "") r.err = TLS_CLOSED;
      if (!r.ended || r.st === HAL_TLS_HS) r.st = HAL_ERROR;
      if (!r.closed) wake();
    };
    const on_drain = (): void => {
      if (!r.closed) wake();
    };
    s.on("data", on_data);
    s.on("end", on_end);
    s.on("error", on_error);
    s.on("close", on_close);
    s.on("drain", on_drain);
    r.unwatch = () => {
      s.off("data", on_data);
      s.off("end", on_end);
      s.off("error", on_error);
      s.off("close", on_close);
      s.off("drain", on_drain);
      s.on("error", ignore); // the TLSSocket reports the raw socket's errors
    };
  }

  function tcp_listen(addr: mg_addr): number {
    const h = alloc(KIND_LISTENER);
    const r = table[h]!;
    const srv = net.createServer({ allowHalfOpen: true, noDelay: true });
    r.server = srv;
    r.loc_ip = ip_str(addr);
    r.loc_port = addr.port;
    srv.on("connection", (s: net.Socket) => {
      if (r.closed || r.pending.length >= MAX_PENDING) {
        s.on("error", () => {});
        s.destroy();
        return;
      }
      const ch = alloc(KIND_TCP);
      const c = table[ch]!;
      c.tcp = s;
      c.st = HAL_OPEN;
      c.loc_ip = s.localAddress ?? "";
      c.loc_port = s.localPort ?? 0;
      c.rem_ip = s.remoteAddress ?? "";
      c.rem_port = s.remotePort ?? 0;
      watch_tcp(c, s);
      r.pending.push(ch);
      wake();
    });
    srv.on("listening", () => {
      if (r.closed) return;
      r.st = HAL_OPEN;
      const a = srv.address();
      if (a !== null && typeof a === "object") r.loc_port = a.port;
      wake();
    });
    srv.on("error", (e: unknown) => {
      r.err = bind_cause(e);
      r.st = HAL_ERROR;
      if (!r.closed) wake();
    });
    // With no host Node binds synchronously (dual-stack ::, or 0.0.0.0
    // without IPv6), but tells why it failed only in its 'error' event, on the
    // next turn. With a host it looks the address up first, and binds later.
    const any = is_unspecified(addr);
    let threw = false;
    try {
      if (any) srv.listen(addr.port);
      else srv.listen(addr.port, r.loc_ip);
    } catch {
      threw = true; // Node rejected the arguments
    }
    const a = srv.address();
    if (threw) {
      r.closed = true;
      table[h] = null;
      srv.close();
      return -1;
    }
    if (a !== null && typeof a === "object") {
      r.st = HAL_OPEN;
      r.loc_port = a.port;
    }
    return h;
  }

  function tcp_connect(addr: mg_addr): number {
    const h = alloc(KIND_TCP);
    const r = table[h]!;
    r.rem_ip = ip_str(addr);
    r.rem_port = addr.port;
    let s: net.Socket;
    try {
      s = net.connect({ host: r.rem_ip, port: addr.port, allowHalfOpen: true });
    } catch {
      table[h] = null; // Node rejected the arguments
      return -1;
    }
    r.tcp = s;
    watch_tcp(r, s);
    s.on("connect", () => {
      if (r.closed) return;
      r.st = HAL_OPEN;
      r.loc_ip = s.localAddress ?? "";
      r.loc_port = s.localPort ?? 0;
      wake();
    });
    return h;
  }

  function tcp_close(s: net.Socket): void {
    if (s.destroyed || s.writableLength === 0) {
      s.destroy();
      return;
    }
    // Let Node flush what write() took, then close fully (no waiting for the peer's FIN).
    const t = setTimeout(() => s.destroy(), LINGER_MS);
    t.unref(); // the socket keeps the process alive while it flushes; the timer need not
    s.once("close", () => clearTimeout(t));
    s.end(() => s.destroy());
  }

  // --- TLS ------------------------------------------------------------------

  const contexts: Ctx[] = [];

  /** The secure context for o's CA, certificate and key: cached, made once per set. */
  function context(o: mg_hal_tls): tls.SecureContext {
    for (const c of contexts) if (same(c.ca, o.ca) && same(c.cert, o.cert) && same(c.key, o.key)) return c.ctx;
    const opts: tls.SecureContextOptions = {};
    if (o.ca !== null) opts.ca = pem_certs(o.ca);
    if (o.cert !== null) opts.cert = pem_certs(o.cert);
    if (o.key !== null) opts.key = pem_key(o.key);
    const ctx = tls.createSecureContext(opts);
    contexts.unshift(new Ctx(o, ctx));
    if (contexts.length > MAX_CONTEXTS) contexts.pop();
    return ctx;
  }

  function tls_fail(r: Rec, why: string): void {
    r.st = HAL_ERROR;
    r.err = why;
    wake();
  }

  function tls_start(h: number, o: mg_hal_tls): void {
    const r = get(h);
    if (r === null || r.kind !== KIND_TCP || r.tcp === null || r.tls) return;
    if (r.st !== HAL_OPEN) return tls_fail(r, TLS_CLOSED);
    const raw = r.tcp;
    r.unwatch!();
    r.tls = true;
    r.name = o.name;
    if (r.ended) {
      // The peer closed before the handshake began: what it sent tells whether it speaks TLS at all.
      const first = r.chunks.length > 0 ? r.chunks[0][r.head] : 0x16;
      return tls_fail(r, first === 0x16 ? TLS_CLOSED : TLS_NOT_TLS + " (it sent plaintext and closed)");
    }
    // Bytes that arrived before the core asked for TLS belong to the handshake.
    raw.pause();
    if (r.queued > 0) {
      const first = r.chunks[0].subarray(r.head);
      raw.unshift(r.chunks.length === 1 ? first : Buffer.concat([first, ...r.chunks.slice(1)]));
    }
    r.chunks.length = 0;
    r.head = r.queued = 0;
    r.paused = false;
    r.st = HAL_TLS_HS;
    let ts: tls.TLSSocket;
    try {
      const ctx = context(o);
      if (o.server) {
        // Mutual TLS: a CA asks for client certificates; Node leaves checking them to whoever made the socket.
        const mutual = o.ca !== null && !o.skip_verification;
        ts = new tls.TLSSocket(raw, { isServer: true, secureContext: ctx, requestCert: mutual, rejectUnauthorized: mutual });
        ts.on("secure", () => {
          if (r.closed) return;
          const bad = mutual ? client_cert_error(ts) : "";
          if (bad !== "") {
            tls_fail(r, bad);
            ts.destroy();
            return;
          }
          r.st = HAL_OPEN;
          wake();
        });
      } else {
        // SNI carries names only; an IP literal is checked against the certificate's IP addresses.
        const ip = net.isIP(o.name) !== 0;
        ts = tls.connect({
          socket: raw,
          secureContext: ctx,
          servername: ip || o.name === "" ? undefined : o.name,
          host: o.name,
          rejectUnauthorized: !o.skip_verification,
        });
        ts.on("secureConnect", () => {
          if (r.closed) return;
          r.st = HAL_OPEN;
          wake();
        });
      }
    } catch (e) {
      raw.destroy();
      return tls_fail(r, TLS_BAD_CREDENTIALS + " (" + message(e) + ")");
    }
    r.tcp = ts;
    watch_tcp(r, ts);
  }

  // --- UDP ------------------------------------------------------------------

  function udp_open(addr: mg_addr, connect: boolean): number {
    const h = alloc(KIND_UDP);
    const r = table[h]!;
    const u = dgram.createSocket(addr.is_ip6 ? "udp6" : "udp4");
    r.udp = u;
    r.udp6 = addr.is_ip6;
    u.on("message", (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      // An empty datagram cannot be announced (readable() 0 means none): drop it.
      if (r.closed || r.chunks.length >= MAX_DGRAMS || msg.length === 0) return;
      r.chunks.push(msg);
      r.from_ip.push(rinfo.address);
      r.from_port.push(rinfo.port);
      wake();
    });
    u.on("error", (e: unknown) => {
      if (r.st === HAL_CONNECTING) r.err = bind_cause(e);
      r.st = HAL_ERROR;
      if (!r.closed) wake();
    });
    const opened = (): void => {
      if (r.closed) return;
      r.st = HAL_OPEN;
      try {
        const a = u.address();
        if (connect) r.loc_ip = a.address;
        r.loc_port = a.port;
      } catch {
        // closed meanwhile
      }
      wake();
    };
    try {
      if (connect) {
        r.rem_ip = ip_str(addr);
        r.rem_port = addr.port;
        u.on("connect", opened);
        u.connect(addr.port, r.rem_ip); // binds an ephemeral port first
      } else {
        r.loc_ip = ip_str(addr);
        r.loc_port = addr.port;
        u.on("listening", opened);
        u.bind(addr.port, r.loc_ip);
      }
    } catch {
      r.closed = true;
      table[h] = null;
      u.close();
      return -1;
    }
    return h;
  }

  function udp_send(r: Rec, buf: Uint8Array, ofs: number, len: number, to: mg_addr | null): number {
    const u = r.udp!;
    if (r.st === HAL_ERROR) return -1;
    const data = Buffer.from(buf.subarray(ofs, ofs + len)); // a copy: the core reuses its buffer
    try {
      if (to === null) {
        if (r.st !== HAL_OPEN) return 0;
        u.send(data, ignore);
      } else {
        if (to.is_ip6 && !r.udp6) return -1;
        // A udp6 socket reaches IPv4 hosts through mapped addresses.
        const host = !to.is_ip6 && r.udp6 ? "::ffff:" + ip_str(to) : ip_str(to);
        u.send(data, to.port, host, ignore);
      }
    } catch {
      return -1;
    }
    return len;
  }

  /** Takes the next datagram (cut to len), its sender into from when given; returns the bytes copied. */
  function take_dgram(r: Rec, buf: Uint8Array, ofs: number, len: number, from: mg_addr | null): number {
    const d = r.chunks.shift();
    const ip = r.from_ip.shift() ?? "";
    const port = r.from_port.shift() ?? 0;
    if (d === undefined) return 0;
    const n = d.length < len ? d.length : len;
    buf.set(d.subarray(0, n), ofs);
    if (from !== null) fill_addr(from, ip, port);
    return n;
  }

  // --- the interface ------------------------------------------------------

  const hal: mg_hal = {
    name: "node",
    millis,

    random(buf, ofs, len) {
      randomFillSync(buf, ofs, len);
    },

    log(buf, ofs, len) {
      process.stdout.write(Buffer.from(buf.subarray(ofs, ofs + len)));
    },

    wake(fn, on) {
      const i = fns.indexOf(fn);
      if (on) {
        if (i < 0) fns.push(fn);
        return;
      }
      if (i >= 0) fns.splice(i, 1);
      if (fns.length === 0) {
        // Nobody left to call: drop what is scheduled so nothing keeps the process alive.
        if (immediate !== null) clearImmediate(immediate);
        if (tmo !== null) clearTimeout(tmo);
        immediate = tmo = null;
      }
    },

    timer(ms) {
      if (ms <= 0) {
        wake();
        return;
      }
      const at = millis() + ms;
      if (tmo !== null && deadline <= at) return; // an earlier deadline already stands
      if (tmo !== null) clearTimeout(tmo);
      deadline = at;
      tmo = setTimeout(on_timer, ms);
    },

    listen(addr, udp) {
      if (!port_ok(addr.port, 0)) return -1; // checked here: Node's dgram does not
      return udp ? udp_open(addr, false) : tcp_listen(addr);
    },

    connect(addr, udp) {
      if (!port_ok(addr.port, 1)) return -1;
      return udp ? udp_open(addr, true) : tcp_connect(addr);
    },

    accept(listener) {
      const r = get(listener);
      if (r === null || r.kind !== KIND_LISTENER) return -1;
      return r.pending.shift() ?? -1;
    },

    state(h) {
      const r = get(h);
      if (r === null) return HAL_ERROR;
      if (r.st === HAL_OPEN && r.ended && r.queued === 0) return HAL_EOF;
      return r.st;
    },

    readable(h) {
      const r = get(h);
      if (r === null) return 0;
      if (r.kind === KIND_UDP) return r.chunks.length > 0 ? r.chunks[0].length : 0;
      return r.st === HAL_TLS_HS ? 0 : r.queued;
    },

    writable(h) {
      const r = get(h);
      if (r === null || r.st !== HAL_OPEN) return 0;
      if (r.kind === KIND_UDP) return UDP_MAX; // one datagram of any size; the kernel takes it or drops it
      const s = r.tcp;
      if (s === null || s.destroyed || s.writableEnded) return 0;
      // Node's own buffer limit: once it is reached write() returned false, so 'drain' will wake us.
      const w = s.writableHighWaterMark - s.writableLength;
      return w > 0 ? w : 0;
    },

    read(h, buf, ofs, len) {
      const r = get(h);
      if (r === null) return 0;
      if (r.kind === KIND_UDP) return take_dgram(r, buf, ofs, len, null);
      let n = 0;
      while (n < len && r.chunks.length > 0) {
        const c = r.chunks[0];
        const k = Math.min(c.length - r.head, len - n);
        buf.set(c.subarray(r.head, r.head + k), ofs + n);
        n += k;
        r.head += k;
        if (r.head === c.length) {
          r.chunks.shift();
          r.head = 0;
        }
      }
      r.queued -= n;
      if (r.paused && r.queued < LOW_WATER && r.tcp !== null) {
        r.paused = false;
        r.tcp.resume();
      }
      return n;
    },

    write(h, buf, ofs, len) {
      const r = get(h);
      if (r === null || r.st === HAL_ERROR) return -1;
      if (r.kind === KIND_UDP) return udp_send(r, buf, ofs, len, null);
      if (r.kind !== KIND_TCP) return -1;
      const w = hal.writable(h);
      const n = len < w ? len : w;
      if (n <= 0) return 0;
      r.tcp!.write(Buffer.from(buf.subarray(ofs, ofs + n))); // a copy: the core reuses its buffer
      return n;
    },

    recvfrom(h, buf, ofs, len, from) {
      const r = get(h);
      if (r === null || r.kind !== KIND_UDP) return 0;
      return take_dgram(r, buf, ofs, len, from);
    },

    sendto(h, buf, ofs, len, to) {
      const r = get(h);
      if (r === null || r.kind !== KIND_UDP) return -1;
      return udp_send(r, buf, ofs, len, to);
    },

    close(h) {
      const r = get(h);
      if (r === null) return;
      table[h] = null;
      r.closed = true;
      r.chunks.length = 0;
      if (r.tcp !== null) tcp_close(r.tcp);
      if (r.server !== null) {
        r.server.close();
        for (const p of r.pending) hal.close(p); // accepted but never taken
        r.pending.length = 0;
      }
      if (r.udp !== null) {
        try {
          r.udp.close();
        } catch {
          // already closed after an error
        }
      }
    },

    addr(h, local, out) {
      const r = get(h);
      if (r === null) fill_addr(out, "", 0);
      else if (local) fill_addr(out, r.loc_ip, r.loc_port);
      else fill_addr(out, r.rem_ip, r.rem_port);
    },

    resolve(host, ipv6) {
      let id = reqs.indexOf(null);
      if (id < 0) {
        if (reqs.length >= MAX_RESOLVES) return -1;
        id = reqs.push(null) - 1;
      }
      const q = new Req();
      try {
        dns.lookup(host, { family: ipv6 ? 6 : 4 }, (err, address) => {
          q.st = err === null && typeof address === "string" && address.length > 0 ? 1 : -1;
          if (q.st > 0) q.ip = address;
          if (reqs[id] === q) wake(); // not for a cancelled request
        });
      } catch {
        return -1; // dns.lookup throws on arguments it rejects
      }
      reqs[id] = q;
      return id;
    },

    resolved(req, out) {
      const q = req >= 0 && req < reqs.length ? reqs[req] : null;
      if (q === null) return -1;
      if (q.st === 0) return 0;
      reqs[req] = null;
      if (q.st < 0) return -1;
      const port = out.port;
      const ok = fill_addr(out, q.ip, port);
      return ok ? 1 : -1;
    },

    resolve_cancel(req) {
      if (req >= 0 && req < reqs.length) reqs[req] = null;
    },

    tls: tls_start,

    error(h) {
      const r = get(h);
      return r === null ? "" : r.err;
    },
  };
  return hal;
}

function ignore(): void {
  // UDP is lossy: a failed send is a lost datagram, not a socket error.
}

// --- TLS: certificates, and Node's errors in the HAL's words -------------------

class Ctx {
  ca: Uint8Array | string | null;
  cert: Uint8Array | string | null;
  key: Uint8Array | string | null;
  ctx: tls.SecureContext;
  constructor(o: mg_hal_tls, ctx: tls.SecureContext) {
    this.ca = o.ca;
    this.cert = o.cert;
    this.key = o.key;
    this.ctx = ctx;
  }
}

function same(a: Uint8Array | string | null, b: Uint8Array | string | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a === "string" || typeof b === "string") return false;
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function as_buffer(b: Uint8Array | string): Buffer {
  return typeof b === "string" ? Buffer.from(b, "latin1") : Buffer.from(b.buffer, b.byteOffset, b.length);
}

function is_pem(b: Uint8Array | string): boolean {
  return as_buffer(b).includes("-----BEGIN");
}

/** Certificates as Node takes them: PEM as given; a DER certificate converted. */
function pem_certs(b: Uint8Array | string): string | Buffer {
  if (is_pem(b)) return typeof b === "string" ? b : as_buffer(b);
  return new X509Certificate(as_buffer(b)).toString();
}

/** A private key as Node takes it: PEM as given; DER (PKCS#8, PKCS#1 or SEC1) converted. */
function pem_key(b: Uint8Array | string): string | Buffer {
  if (is_pem(b)) return typeof b === "string" ? b : as_buffer(b);
  const der = as_buffer(b);
  let last: unknown = null;
  for (const type of ["pkcs8", "pkcs1", "sec1"] as const) {
    try {
      return createPrivateKey({ key: der, format: "der", type }).export({ format: "pem", type: "pkcs8" });
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  const i = m.indexOf("\n");
  return i >= 0 ? m.slice(0, i) : m;
}

/** Why a server's TLSSocket must refuse its client's certificate ("" when it is good). */
function client_cert_error(ts: tls.TLSSocket): string {
  // Node checks client certificates only for sockets that a tls.Server made;
  // ours is made by hand, so ask OpenSSL's verdict the way tls.Server does.
  const h = (ts as any)._handle;
  if (h === null || h === undefined || typeof h.verifyError !== "function") return TLS_HANDSHAKE + " (cannot verify client certificates)";
  const e = h.verifyError();
  return e ? tls_cause(e, true, "") + " (client)" : "";
}

const UNKNOWN_CA = [
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "INVALID_CA",
];
const NOT_TLS = [
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_HTTP_REQUEST",
  "ERR_SSL_HTTPS_PROXY_REQUEST",
  "ERR_SSL_PACKET_LENGTH_TOO_LONG",
  "ERR_SSL_UNKNOWN_PROTOCOL",
  "ERR_SSL_RECORD_LAYER_FAILURE",
];
/** Alerts a peer sends when it will not take our certificate. */
const CERT_ALERT = /unknown ca|bad certificate|certificate (expired|revoked|unknown|required)|unsupported certificate|access denied/;

/**
 * A Node/OpenSSL TLS error as one of the HAL's causes (hal.ts). in_hs: it
 * ended the handshake; after it, a reset or a broken pipe is a plain socket
 * error ("": the core closes quietly, as for TCP).
 */
function tls_cause(e: unknown, in_hs: boolean, name: string): string {
  const x = e as { code?: unknown; reason?: unknown };
  const code = typeof x?.code === "string" ? x.code : "";
  const reason = typeof x?.reason === "string" ? x.reason : "";
  if (UNKNOWN_CA.indexOf(code) >= 0) return TLS_UNKNOWN_CA + " (" + code + ")";
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return TLS_WRONG_NAME + " (" + name + ")";
  if (code === "CERT_HAS_EXPIRED") return TLS_EXPIRED;
  if (code === "CERT_NOT_YET_VALID") return TLS_NOT_YET_VALID;
  if (NOT_TLS.indexOf(code) >= 0) return TLS_NOT_TLS + " (" + (reason || code) + ")";
  if (code === "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE") return TLS_NO_CLIENT_CERT;
  const alert = /alert (.*)$/.exec(reason);
  if (alert !== null && CERT_ALERT.test(alert[1])) return TLS_REJECTED + " (" + alert[1] + ")";
  if (!in_hs) return code.startsWith("ERR_SSL_") ? "TLS: " + (reason || code) : "";
  if (code === "ECONNRESET" || code === "EPIPE") return TLS_CLOSED;
  if (alert !== null) return TLS_HANDSHAKE + " (alert: " + alert[1] + ")";
  return TLS_HANDSHAKE + " (" + (reason || code || message(e)) + ")";
}

// --- addresses: mg_addr <-> strings -----------------------------------------

function port_ok(port: number, min: number): boolean {
  return Number.isInteger(port) && port >= min && port <= 65535;
}

/** What the system says when a bind fails, shortly: "EADDRINUSE: address already in use". */
const BIND_ERRORS: { [code: string]: string } = {
  EADDRINUSE: "address already in use",
  EACCES: "permission denied (ports below 1024 need privileges)",
  EADDRNOTAVAIL: "address not available on this host",
};
function bind_cause(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return message(e);
  return BIND_ERRORS[code] !== undefined ? code + ": " + BIND_ERRORS[code] : code;
}

function is_unspecified(a: mg_addr): boolean {
  const n = a.is_ip6 ? 16 : 4;
  for (let i = 0; i < n; i++) if (a.ip[i] !== 0) return false;
  return true;
}

/** The address as Node wants it: "a.b.c.d", or eight hex groups (with %scope when set). */
export function ip_str(a: mg_addr): string {
  const b = a.ip;
  if (!a.is_ip6) return b[0] + "." + b[1] + "." + b[2] + "." + b[3];
  let s = "";
  for (let i = 0; i < 16; i += 2) s += (i > 0 ? ":" : "") + ((b[i] << 8) | b[i + 1]).toString(16);
  return a.scope_id !== 0 ? s + "%" + a.scope_id : s;
}

/**
 * Fills out from an address string and a port; an IPv4-mapped IPv6 address
 * (what a dual-stack socket reports) becomes plain IPv4. Unparsable or empty
 * text gives 0.0.0.0. Returns whether the text parsed.
 */
export function fill_addr(out: mg_addr, ip: string, port: number): boolean {
  out.port = port;
  out.ip.fill(0);
  out.is_ip6 = false;
  out.scope_id = 0;
  if (ip.indexOf(":") < 0) return parse_ip4(ip, out.ip, 0);
  let text = ip;
  const pct = text.indexOf("%");
  if (pct >= 0) {
    const scope = Number(text.slice(pct + 1));
    out.scope_id = Number.isInteger(scope) ? scope : 0; // interface names are not kept
    text = text.slice(0, pct);
  }
  if (!parse_ip6(text, out.ip)) {
    out.ip.fill(0);
    out.scope_id = 0;
    return false;
  }
  out.is_ip6 = true;
  // ::ffff:a.b.c.d
  let mapped = out.ip[10] === 0xff && out.ip[11] === 0xff;
  for (let i = 0; i < 10; i++) if (out.ip[i] !== 0) mapped = false;
  if (mapped) {
    out.ip.copyWithin(0, 12, 16);
    out.ip.fill(0, 4);
    out.is_ip6 = false;
  }
  return true;
}

function parse_ip4(s: string, b: Uint8Array, at: number): boolean {
  const parts = s.split(".");
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > 255) return false;
    b[at + i] = Number(p);
  }
  return true;
}

function parse_ip6(s: string, b: Uint8Array): boolean {
  const dbl = s.indexOf("::");
  if (dbl >= 0 && s.indexOf("::", dbl + 1) >= 0) return false;
  const head = dbl >= 0 ? s.slice(0, dbl) : s;
  const tail = dbl >= 0 ? s.slice(dbl + 2) : "";
  const hg = head.length > 0 ? head.split(":") : [];
  const tg = tail.length > 0 ? tail.split(":") : [];
  const words: number[] = []; // eight 16-bit groups: head, zeros for "::", tail
  const last = dbl >= 0 ? tg : hg;
  const v4 = last.length > 0 && last[last.length - 1].indexOf(".") >= 0;
  if (v4) {
    const q = new Uint8Array(4);
    if (!parse_ip4(last.pop()!, q, 0)) return false;
    last.push(((q[0] << 8) | q[1]).toString(16), ((q[2] << 8) | q[3]).toString(16));
  }
  for (const g of hg) words.push(hex16(g));
  if (dbl >= 0) {
    const fill = 8 - hg.length - tg.length;
    if (fill < 1) return false;
    for (let i = 0; i < fill; i++) words.push(0);
    for (const g of tg) words.push(hex16(g));
  }
  if (words.length !== 8) return false;
  for (let i = 0; i < 8; i++) {
    if (words[i] < 0) return false;
    b[2 * i] = words[i] >> 8;
    b[2 * i + 1] = words[i] & 255;
  }
  return true;
}

function hex16(g: string): number {
  return /^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : -1;
}
