// The mock network: an in-memory, deterministic mg_hal for tests, yours and
// ours.
//
// - A virtual clock: time moves only when the test says (advance, poll).
// - Peers: the test opens sockets of its own (mg_mock_peer) that talk to the
//   managers' sockets: connect to a manager's listener, or listen on a port
//   that a manager connects to. Managers may also talk to each other.
// - Faults: reads and writes cut to N bytes, resets mid-stream, refused or
//   never-completing connects, a stalled peer that stops reading, DNS names
//   that fail or answer late.
// - No allocation on the data path: every socket's receive queue is made
//   when the mock is made, so tests can count allocations on XS.
// - TLS: tls() runs the test double of hal/mock_tls.ts on a socket; a test
//   peer speaks it with peer.tls({server: true, cert, key}) or
//   peer.tls({ca, name}), certificates from mg_mock_cert / mg_mock_key.
//
//   const net = new mg_mock();
//   const mgr = new mg_mgr(); mg_mgr_init(mgr, net);
//   mg_listen(mgr, "tcp://0.0.0.0:80", fn, null);
//   const p = net.client(80);           // a test-side client
//   p.send("hello"); net.poll(mgr, 3);  // three polls, 1 virtual ms apart
//   p.recv_str();                       // what the server answered
import type { mg_hal, mg_hal_tls } from "./hal.js";
import { HAL_CONNECTING, HAL_EOF, HAL_ERROR, HAL_OPEN, HAL_TLS_HS } from "./hal.js";
import { MockTls, type MockTlsOpts } from "./mock_tls.js";
import type { mg_addr, mg_mgr } from "../src/net.js";
// The mock drives polls for the tests; the core itself never imports the mock.
import { mg_mgr_poll } from "../src/net.js";

export { mg_mock_cert, mg_mock_key, type mg_mock_cert_opts, type MockTlsOpts as mg_mock_tls_opts } from "./mock_tls.js";

const KIND_FREE = 0;
const KIND_TCP = 1;
const KIND_LISTEN = 2;
const KIND_UDP = 3;

const cca = String.prototype.charCodeAt;

/** One end of a mock socket. Its rx queue holds what the other end sent. */
class Sock {
  kind = KIND_FREE;
  state = HAL_OPEN;
  rx: Uint8Array;
  head = 0; // first unread byte in rx
  len = 0; // unread bytes
  peer: Sock | null = null;
  eof = false; // the other end closed: EOF once rx is drained
  port = 0; // local port
  rport = 0; // remote port
  ip0 = 127; // remote IPv4 address, first byte (127.0.0.x)
  rhost = 1; // remote IPv4 address, last byte: 127.0.0.rhost
  // listeners: pending connections
  pending: Int32Array;
  npending = 0;
  // UDP datagrams: lengths and senders of queued datagrams (data in rx)
  dlen: Int32Array;
  dport: Int32Array;
  ndgram = 0;
  is_test = false; // owned by the test (an mg_mock_peer), not by a manager
  blackhole = false; // a connect that never completes
  tls: MockTls | null = null; // made at the first tls(), kept for reuse
  index: number;
  constructor(index: number, size: number) {
    this.index = index;
    this.rx = new Uint8Array(size);
    this.pending = new Int32Array(128); // the listen backlog
    this.dlen = new Int32Array(32);
    this.dport = new Int32Array(32);
  }
}

/** A string as bytes, one per character (Latin-1): requests and frames written in tests. */
export function mg_mock_bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 255;
  return b;
}

/** A socket the test holds: the far end of a manager's connection. */
export class mg_mock_peer {
  net: mg_mock;
  s: Sock;
  constructor(net: mg_mock, s: Sock) {
    this.net = net;
    this.s = s;
  }
  /** True while the manager's end has not accepted/connected yet or is open. */
  get open(): boolean {
    return this.s.kind !== KIND_FREE && this.s.state === HAL_OPEN && this.s.peer !== null;
  }
  /** The manager closed its end (after everything it sent was read here). */
  get closed(): boolean {
    const t = this.s.tls;
    if (t !== null && t.on) this.net.tls_step(this.s);
    return this.s.peer === null && this.s.len === 0 && (t === null || !t.on || t.app.len === 0);
  }
  /** Bytes waiting to be read here (plaintext, once TLS is on). */
  get available(): number {
    const t = this.s.tls;
    if (t === null || !t.on) return this.s.len;
    this.net.tls_step(this.s);
    return t.app.len;
  }
  /**
   * Speaks TLS on this connection (the mock's double, hal/mock_tls.ts): as
   * the server a manager's client connected to ({server: true, cert, key}),
   * or as a client of a manager's TLS listener ({ca, name}). From then on
   * send and recv carry plaintext, once tls_state is "open".
   */
  tls(o: MockTlsOpts): void {
    const t = (this.s.tls ??= new MockTls(this.s.rx.length));
    t.start(o, this.net.tls_suites, this.net.tls_roots, this.net, this.s.peer);
    this.net.activity();
  }
  /** "none", "handshake", "open", or why the handshake failed (one of the TLS_* causes of hal/hal.ts). */
  get tls_state(): string {
    const t = this.s.tls;
    if (t === null || !t.on) return "none";
    this.net.tls_step(this.s);
    return t.st === 0 ? "handshake" : t.st === 1 ? "open" : t.err;
  }
  /** Sends bytes to the manager's end; returns how many fit in its queue (with TLS: 0 before the handshake is done). */
  send(data: Uint8Array | string, len?: number, ofs?: number): number {
    const p = this.s.peer;
    if (p === null) return 0;
    const t = this.s.tls;
    if (t !== null && t.on) {
      const b = typeof data === "string" ? latin1(data) : data;
      let o = typeof data === "string" ? 0 : (ofs ?? 0);
      const end = typeof data === "string" ? b.length : o + (len ?? b.length - o);
      for (let n = t.room(p); o < end && n > 0; n = t.room(p)) {
        if (n > end - o) n = end - o;
        t.wrap(b, o, n, p);
        o += n;
      }
      this.net.activity();
      return o - (typeof data === "string" ? 0 : (ofs ?? 0));
    }
    if (typeof data === "string") {
      const n = data.length;
      let k = 0;
      while (k < n && p.len < p.rx.length) {
        push_byte(p, cca.call(data, k) & 0xff);
        k++;
      }
      this.net.activity();
      return k;
    }
    const o = ofs ?? 0;
    const k = push(p, data, o, len ?? data.length - o);
    this.net.activity();
    return k;
  }
  /** Takes everything received so far (allocates: for tests, not for measurements). */
  recv(): Uint8Array {
    const b = new Uint8Array(this.available);
    this.recv_into(b, 0, b.length);
    return b;
  }
  /** What recv() gives, decoded as Latin-1 (byte per character), which keeps binary visible. */
  recv_str(): string {
    const b = this.recv();
    let s = "";
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return s;
  }
  /** Copies up to len received bytes into buf; allocation-free. */
  recv_into(buf: Uint8Array, ofs: number, len: number): number {
    const t = this.s.tls;
    if (t !== null && t.on) {
      this.net.tls_step(this.s);
      const k = t.take(buf, ofs, len);
      this.net.tls_step(this.s); // records that waited for room
      if (k > 0) this.net.activity();
      return k;
    }
    const n = pull(this.s, buf, ofs, len);
    if (n > 0) this.net.activity();
    return n;
  }
  /** Orderly close (FIN): the manager reads what was sent, then sees EOF. */
  close(): void {
    const p = this.s.peer;
    if (p !== null) {
      p.eof = true;
      p.peer = null;
    }
    this.net.release(this.s);
    this.net.activity();
  }
  /** Reset (RST): the manager's end fails at once; queued data is lost. */
  reset(): void {
    const p = this.s.peer;
    if (p !== null) {
      p.state = HAL_ERROR;
      p.len = 0;
      p.peer = null;
    }
    this.net.release(this.s);
    this.net.activity();
  }
  /** Stops (or resumes) reading: the manager's writes fill the queue here, then stall. */
  stall(on: boolean): void {
    this.s.blackhole = on;
    this.net.activity();
  }
  /** UDP: sends one datagram to the manager's socket on port. */
  sendto(port: number, data: Uint8Array | string): boolean {
    const to = this.net.find_port(port, KIND_UDP, this.s);
    if (to === null) return false;
    const b = typeof data === "string" ? latin1(data) : data;
    const ok = push_dgram(to, b, 0, b.length, this.s.port);
    this.net.activity();
    return ok;
  }
  /** UDP: the next datagram received here, or null. */
  recvfrom(): Uint8Array | null {
    const s = this.s;
    if (s.ndgram === 0) return null;
    const b = new Uint8Array(s.dlen[0]);
    pull_dgram(s, b, 0, b.length);
    return b;
  }
  /** The local port of this socket. */
  get port(): number {
    return this.s.port;
  }
}

function latin1(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = cca.call(s, i) & 0xff;
  return b;
}

// --- byte queues: rx is a ring, copied byte by byte (subarray allocates on XS)

function space(s: Sock): number {
  return s.rx.length - s.len;
}
function push_byte(s: Sock, b: number): void {
  s.rx[(s.head + s.len) % s.rx.length] = b;
  s.len++;
}
function push(s: Sock, src: Uint8Array, ofs: number, n: number): number {
  const room = space(s);
  if (n > room) n = room;
  const rx = s.rx;
  const size = rx.length;
  let w = (s.head + s.len) % size;
  for (let i = 0; i < n; i++) {
    rx[w] = src[ofs + i];
    w = w + 1 === size ? 0 : w + 1;
  }
  s.len += n;
  return n;
}
function pull(s: Sock, dst: Uint8Array, ofs: number, n: number): number {
  if (n > s.len) n = s.len;
  const rx = s.rx;
  const size = rx.length;
  let r = s.head;
  for (let i = 0; i < n; i++) {
    dst[ofs + i] = rx[r];
    r = r + 1 === size ? 0 : r + 1;
  }
  s.head = r;
  s.len -= n;
  if (s.len === 0) s.head = 0;
  return n;
}
function push_dgram(s: Sock, src: Uint8Array, ofs: number, n: number, from_port: number): boolean {
  if (s.ndgram === s.dlen.length || n > space(s)) return false; // dropped, as UDP does
  push(s, src, ofs, n);
  s.dlen[s.ndgram] = n;
  s.dport[s.ndgram] = from_port;
  s.ndgram++;
  return true;
}
function pull_dgram(s: Sock, dst: Uint8Array, ofs: number, cap: number): number {
  const n = s.dlen[0];
  pull(s, dst, ofs, n < cap ? n : cap);
  if (n > cap) {
    // the rest of a datagram that did not fit is lost, as with recvfrom()
    s.head = (s.head + n - cap) % s.rx.length;
    s.len -= n - cap;
    if (s.len === 0) s.head = 0;
  }
  s.ndgram--;
  s.dlen.copyWithin(0, 1, s.ndgram + 1);
  s.dport.copyWithin(0, 1, s.ndgram + 1);
  return n;
}

export class mg_mock implements mg_hal {
  readonly name = "mock";
  /** The virtual clock, in ms. */
  now = 1000;
  /** Fault: at most this many bytes per read() by a manager (0 = no limit). */
  read_cap = 0;
  /** Fault: at most this many bytes per write() by a manager (0 = no limit). */
  write_cap = 0;
  /** Log lines the managers wrote (kept when keep_log is true, else dropped). */
  log_text = "";
  keep_log = false;
  /** Set log_echo to a function to see log lines as they come. */
  log_echo: ((line: string) => void) | null = null;

  socks: Sock[] = [];
  refused: number[] = [];
  blackholes: number[] = [];
  dns_names: string[] = [];
  dns_ips: string[] = []; // "" = fails
  dns_delay = 0;
  dns_req_host: string[] = [];
  dns_req_at: number[] = [];
  dns_req_used: boolean[] = [];
  wakers: (() => void)[] = [];
  deadline = -1;
  pending_wake = false;
  next_port = 40000;
  seed = 0x12345678;
  /** TLS: the wall clock certificates are checked against is tls_wall + now (epoch ms; 2026-01-01 at start). */
  tls_wall = 1767225600000;
  /** TLS: the "platform's roots" a client trusts when it gives no CA (mock CA certificates, PEM-shaped). */
  tls_roots = "";
  /** TLS: the cipher suites the managers' sockets offer or accept; peers may differ (handshake failures). */
  tls_suites = "mock-aes128";
  /** mg_hal.tls: set to undefined to model a platform without TLS. */
  tls: ((h: number, o: mg_hal_tls) => void) | undefined = (h, o) => this.tls_begin(h, o);

  /** sockets: how many sockets may exist at once; size: each one's receive queue in bytes. */
  constructor(sockets = 64, size = 16384) {
    for (let i = 0; i < sockets; i++) this.socks.push(new Sock(i, size));
  }

  // --- the test's side ---------------------------------------------------

  /** Connects a test peer, from 127.0.0.host, to the listener on port (a manager's). Null if refused. */
  client(port: number, host = 1): mg_mock_peer | null {
    const l = this.find_port(port, KIND_LISTEN, null);
    if (l === null || l.npending === l.pending.length) return null;
    const mine = this.alloc(KIND_TCP, true);
    const theirs = this.alloc(KIND_TCP, false);
    this.pair(mine, theirs, port);
    theirs.rhost = host;
    l.pending[l.npending++] = theirs.index;
    this.activity();
    return new mg_mock_peer(this, mine);
  }
  /** Listens on port for a manager's mg_connect; accepted() gives the peers. */
  server(port: number): mg_mock_peer {
    const s = this.alloc(KIND_LISTEN, true);
    s.port = port;
    return new mg_mock_peer(this, s);
  }
  /** The next connection a manager made to a test listener, or null. */
  accepted(listener: mg_mock_peer): mg_mock_peer | null {
    const l = listener.s;
    if (l.npending === 0) return null;
    const s = this.socks[l.pending[0]];
    l.npending--;
    l.pending.copyWithin(0, 1, l.npending + 1);
    return new mg_mock_peer(this, s);
  }
  /** A test UDP socket bound to port (0 = any). */
  udp(port = 0): mg_mock_peer {
    const s = this.alloc(KIND_UDP, true);
    s.port = port || this.next_port++;
    return new mg_mock_peer(this, s);
  }
  /** Connects to port are refused from now on. */
  refuse(port: number): void {
    this.refused.push(port);
  }
  /** Connects to port never complete (for connect timeouts). */
  blackhole(port: number): void {
    this.blackholes.push(port);
  }
  /** The resolver answers name with ip ("" makes the lookup fail). */
  dns(name: string, ip: string): void {
    this.dns_names.push(name);
    this.dns_ips.push(ip);
  }
  /** Moves the clock on, calling wake functions when the timer deadline passes or there was activity. */
  advance(ms: number): void {
    this.now += ms;
    this.fire();
  }
  /**
   * Polls mgr n times (default 1), the clock moving step ms (default 1)
   * before each poll. The usual way to drive a test.
   */
  poll(mgr: mg_mgr, n = 1, step = 1): void {
    for (let i = 0; i < n; i++) {
      this.now += step;
      mg_mgr_poll(mgr, 0);
    }
  }
  /**
   * One exchange: peer p sends len bytes of data, then mgr is polled (the
   * clock 1 ms further each time) until want bytes have come back into back
   * from offset 0, or max_polls polls. Returns the bytes received. Makes
   * nothing, so allocation counts on XS can run through it.
   */
  exchange(mgr: mg_mgr, p: mg_mock_peer, data: Uint8Array, len: number, back: Uint8Array, want: number, max_polls: number): number {
    p.send(data, len, 0);
    let got = 0;
    for (let polls = 0; got < want && polls < max_polls; polls++) {
      this.now += 1;
      mg_mgr_poll(mgr, 0);
      got += p.recv_into(back, got, want - got);
    }
    return got;
  }
  /** Calls the wake functions if something happened or the deadline passed (what a runtime would do). */
  fire(): boolean {
    if (!this.pending_wake && (this.deadline < 0 || this.now < this.deadline)) return false;
    this.pending_wake = false;
    this.deadline = -1;
    const w = this.wakers;
    for (let i = 0; i < w.length; i++) w[i]();
    return true;
  }
  /** Number of sockets in use (leak checks). */
  in_use(): number {
    let n = 0;
    for (let i = 0; i < this.socks.length; i++) if (this.socks[i].kind !== KIND_FREE) n++;
    return n;
  }

  activity(): void {
    this.pending_wake = true;
  }

  /** Runs the TLS double of socket s on what it received (answers go to its peer). */
  tls_step(s: Sock): void {
    const t = s.tls;
    if (t === null || !t.on) return;
    const len = s.len;
    const st = t.st;
    const app = t.app.len;
    t.step(s, s.peer, this.tls_wall + this.now, s.peer === null || s.eof || s.state === HAL_ERROR);
    if (s.len !== len || t.st !== st || t.app.len !== app) this.activity();
  }

  /** A manager's TLS socket: a test peer answers first (a remote host would have meanwhile), then the socket itself. */
  tls_pump(s: Sock): MockTls | null {
    const t = s.tls;
    if (t === null || !t.on) return null;
    const p = s.peer;
    if (p !== null && p.is_test) this.tls_step(p);
    this.tls_step(s);
    return t;
  }

  tls_begin(h: number, o: mg_hal_tls): void {
    const s = this.sock(h);
    if (s.kind !== KIND_TCP) return;
    const t = (s.tls ??= new MockTls(s.rx.length));
    t.start(o, this.tls_suites, this.tls_roots, this, s.peer);
    this.activity();
  }

  error(h: number): string {
    const t = this.sock(h).tls;
    return t !== null && t.on ? t.err : "";
  }

  // --- internals ---------------------------------------------------------

  alloc(kind: number, is_test: boolean): Sock {
    for (let i = 0; i < this.socks.length; i++) {
      const s = this.socks[i];
      if (s.kind === KIND_FREE) {
        s.kind = kind;
        s.state = HAL_OPEN;
        s.head = s.len = 0;
        s.peer = null;
        s.eof = false;
        s.port = s.rport = 0;
        s.npending = s.ndgram = 0;
        s.rhost = 1;
        s.is_test = is_test;
        s.blackhole = false;
        if (s.tls !== null) s.tls.off();
        return s;
      }
    }
    throw new Error("mg_mock: out of sockets");
  }
  release(s: Sock): void {
    s.kind = KIND_FREE;
    s.peer = null;
    s.len = 0;
  }
  pair(a: Sock, b: Sock, port: number): void {
    a.peer = b;
    b.peer = a;
    a.port = this.next_port++;
    a.rport = port;
    b.port = port;
    b.rport = a.port;
  }
  find_port(port: number, kind: number, not: Sock | null): Sock | null {
    for (let i = 0; i < this.socks.length; i++) {
      const s = this.socks[i];
      if (s.kind === kind && s.port === port && s !== not) return s;
    }
    return null;
  }
  sock(h: number): Sock {
    const s = this.socks[h];
    if (s === undefined || s.kind === KIND_FREE) throw new Error("mg_mock: bad handle " + h);
    return s;
  }

  // --- mg_hal --------------------------------------------------------------

  millis(): number {
    return this.now;
  }
  random(buf: Uint8Array, ofs: number, len: number): void {
    // xorshift32: deterministic, so tests repeat exactly
    let x = this.seed;
    for (let i = 0; i < len; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      buf[ofs + i] = x & 0xff;
    }
    this.seed = x;
  }
  log(buf: Uint8Array, ofs: number, len: number): void {
    if (!this.keep_log && this.log_echo === null) return;
    let s = "";
    for (let i = 0; i < len; i++) s += String.fromCharCode(buf[ofs + i]);
    if (this.keep_log) this.log_text += s;
    if (this.log_echo !== null) this.log_echo(s);
  }
  wake(fn: () => void, on: boolean): void {
    const i = this.wakers.indexOf(fn);
    if (on && i < 0) this.wakers.push(fn);
    if (!on && i >= 0) this.wakers.splice(i, 1);
  }
  timer(ms: number): void {
    const t = this.now + ms;
    if (this.deadline < 0 || t < this.deadline) this.deadline = t;
  }
  listen(addr: mg_addr, udp: boolean): number {
    let port = addr.port;
    if (port === 0) port = this.next_port++;
    const kind = udp ? KIND_UDP : KIND_LISTEN;
    if (this.find_port(port, kind, null) !== null) return -1; // address in use
    const s = this.alloc(kind, false);
    s.port = port;
    return s.index;
  }
  connect(addr: mg_addr, udp: boolean): number {
    const port = addr.port;
    if (udp) {
      const s = this.alloc(KIND_UDP, false);
      s.port = this.next_port++;
      s.rport = port;
      return s.index;
    }
    const s = this.alloc(KIND_TCP, false);
    s.rport = port;
    s.ip0 = addr.ip[0];
    if (this.blackholes.indexOf(port) >= 0) {
      s.state = HAL_CONNECTING;
      return s.index;
    }
    const l = this.refused.indexOf(port) >= 0 ? null : this.find_port(port, KIND_LISTEN, null);
    if (l === null || l.npending === l.pending.length) {
      s.state = HAL_ERROR; // refused: reported by state(), never from inside connect()
      this.activity();
      return s.index;
    }
    const theirs = this.alloc(KIND_TCP, l.is_test);
    this.pair(s, theirs, port);
    l.pending[l.npending++] = theirs.index;
    this.activity();
    return s.index;
  }
  accept(listener: number): number {
    const l = this.sock(listener);
    if (l.kind !== KIND_LISTEN || l.npending === 0) return -1;
    const h = l.pending[0];
    l.npending--;
    l.pending.copyWithin(0, 1, l.npending + 1);
    return h;
  }
  state(h: number): number {
    const s = this.sock(h);
    const t = this.tls_pump(s);
    if (t !== null) {
      if (t.st === 0) return HAL_TLS_HS;
      if (t.st < 0) return HAL_ERROR;
      if (t.app.len === 0 && (t.eof || ((s.eof || s.peer === null) && s.len === 0))) return HAL_EOF;
      return s.state;
    }
    if (s.kind === KIND_TCP && s.state === HAL_OPEN && s.len === 0 && (s.eof || s.peer === null)) return HAL_EOF;
    return s.state;
  }
  readable(h: number): number {
    const s = this.sock(h);
    if (s.state !== HAL_OPEN) return 0;
    const t = this.tls_pump(s);
    if (t !== null) {
      const n = t.st === 1 ? t.app.len : 0;
      return this.read_cap > 0 && n > this.read_cap ? this.read_cap : n;
    }
    if (s.kind === KIND_UDP) return s.ndgram > 0 ? s.dlen[0] : 0;
    if (s.kind !== KIND_TCP) return 0;
    return this.read_cap > 0 && s.len > this.read_cap ? this.read_cap : s.len;
  }
  writable(h: number): number {
    const s = this.sock(h);
    if (s.state !== HAL_OPEN) return 0;
    if (s.kind === KIND_UDP) return 65535;
    const p = s.peer;
    if (p === null || p.blackhole) return 0;
    const t = s.tls;
    const room = t !== null && t.on ? t.room(p) : space(p);
    return this.write_cap > 0 && room > this.write_cap ? this.write_cap : room;
  }
  read(h: number, buf: Uint8Array, ofs: number, len: number): number {
    const s = this.sock(h);
    if (s.kind === KIND_UDP) return this.recvfrom(h, buf, ofs, len, null);
    if (this.read_cap > 0 && len > this.read_cap) len = this.read_cap;
    const t = s.tls;
    if (t !== null && t.on) {
      const k = t.st === 1 ? t.take(buf, ofs, len) : 0;
      if (k > 0) {
        this.tls_step(s); // records that waited for room
        this.activity();
      }
      return k;
    }
    const n = pull(s, buf, ofs, len);
    if (n > 0) this.activity();
    return n;
  }
  write(h: number, buf: Uint8Array, ofs: number, len: number): number {
    const s = this.sock(h);
    if (s.state === HAL_ERROR) return -1;
    if (s.kind === KIND_UDP) {
      const to = this.find_port(s.rport, KIND_UDP, s);
      if (to !== null) push_dgram(to, buf, ofs, len, s.port);
      this.activity();
      return len;
    }
    const p = s.peer;
    if (p === null) return -1; // the peer is gone: EPIPE
    if (p.blackhole) return 0;
    if (this.write_cap > 0 && len > this.write_cap) len = this.write_cap;
    const t = s.tls;
    if (t !== null && t.on) {
      if (t.st < 0) return -1;
      const room = t.room(p);
      const k = len < room ? len : room;
      if (k <= 0) return 0;
      t.wrap(buf, ofs, k, p);
      this.activity();
      return k;
    }
    const n = push(p, buf, ofs, len);
    if (n > 0) this.activity();
    return n;
  }
  recvfrom(h: number, buf: Uint8Array, ofs: number, len: number, from: mg_addr | null): number {
    const s = this.sock(h);
    if (s.ndgram === 0) return 0;
    if (from !== null) {
      from.is_ip6 = false;
      from.ip.fill(0);
      from.ip[0] = 127;
      from.ip[3] = 1;
      from.port = s.dport[0];
    }
    return pull_dgram(s, buf, ofs, len);
  }
  sendto(h: number, buf: Uint8Array, ofs: number, len: number, to: mg_addr): number {
    const s = this.sock(h);
    const dst = this.find_port(to.port, KIND_UDP, s);
    if (dst !== null) push_dgram(dst, buf, ofs, len, s.port);
    this.activity();
    return len;
  }
  close(h: number): void {
    const s = this.sock(h);
    const p = s.peer;
    if (s.tls !== null && s.tls.on) {
      s.tls.close_notify(p);
      s.tls.off();
    }
    if (p !== null) {
      p.eof = true; // an orderly close: the peer reads the rest, then EOF
      p.peer = null;
    }
    if (s.kind === KIND_LISTEN) {
      // connections nobody accepted are reset
      for (let i = 0; i < s.npending; i++) {
        const q = this.socks[s.pending[i]];
        if (q.peer !== null) {
          q.peer.state = HAL_ERROR;
          q.peer.peer = null;
        }
        this.release(q);
      }
    }
    this.release(s);
    this.activity();
  }
  addr(h: number, local: boolean, out: mg_addr): void {
    const s = this.sock(h);
    out.is_ip6 = false;
    out.ip.fill(0);
    out.ip[0] = 127;
    out.ip[3] = local ? 1 : s.rhost;
    out.port = local ? s.port : s.rport;
  }
  resolve(host: string, ipv6: boolean): number {
    let i = this.dns_req_used.indexOf(false);
    if (i < 0) {
      i = this.dns_req_used.length;
      this.dns_req_used.push(true);
      this.dns_req_host.push(host);
      this.dns_req_at.push(0);
    }
    this.dns_req_used[i] = true;
    this.dns_req_host[i] = host;
    this.dns_req_at[i] = this.now + this.dns_delay;
    this.activity();
    return i;
  }
  resolved(req: number, out: mg_addr): number {
    if (!this.dns_req_used[req] || this.now < this.dns_req_at[req]) return 0;
    this.dns_req_used[req] = false;
    const host = this.dns_req_host[req];
    let ip = host === "localhost" ? "127.0.0.1" : "";
    const k = this.dns_names.lastIndexOf(host);
    if (k >= 0) ip = this.dns_ips[k];
    if (ip === "") return -1;
    const parts = ip.split(".");
    out.is_ip6 = false;
    out.ip.fill(0);
    for (let j = 0; j < 4; j++) out.ip[j] = Number(parts[j]) & 255;
    return 1;
  }
  resolve_cancel(req: number): void {
    if (req >= 0 && req < this.dns_req_used.length) this.dns_req_used[req] = false;
  }
}

