// Adversarial robustness across the stack, on device-sized pools (8
// connections), over the mock network, on Node and XS. The servers are the
// apps users run (the echo app, a 6.x multipart listener, serve_dir over the
// packed filesystem, the dashboard); the clients send cut, spliced, mutated
// and hostile input, interleaved, under short reads and writes. After every
// scenario the invariants are checked:
//   - nothing escapes mg_mgr_poll, and nothing was caught inside it (its
//     catch-all logs "poll: ..." — that would be a bug hidden by the net);
//   - once the peers are gone and the clock passed the timeouts, every
//     accepted connection is freed (pool and mock sockets at baseline);
//   - the server still answers a good request correctly;
//   - bad input got the protocol's answer (status, WebSocket close code).
// Seeded PRNG, bounded loops: the same bytes on every run and both engines.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_mock, mg_mock_peer, mg_mock_bytes } from "../hal/mock.js";
import { MG_EVICT_MIN_AGE_MS, MG_HTTP_HEAD_TIMEOUT_MS, MG_HTTP_RATE_WINDOW_MS } from "../src/config.js";
import { MG_EV_CLOSE, mg_connection, mg_listen, mg_mgr, mg_mgr_free, mg_mgr_init, mg_mgr_poll } from "../src/net.js";
import {
  MG_EV_HTTP_MULTIPART_REQUEST,
  MG_EV_HTTP_MULTIPART_REQUEST_END,
  MG_EV_HTTP_PART_BEGIN,
  MG_EV_HTTP_PART_DATA,
  MG_EV_HTTP_PART_END,
  MG_EV_HTTP_REQUEST,
  MG_EV_HTTP_REQUEST_CANCEL,
  mg_http_listen,
  mg_http_message,
  mg_http_multipart_part,
  mg_http_reply,
  mg_http_serve_dir,
  mg_http_serve_opts,
  mg_set_protocol_http_websocket,
} from "../src/http.js";
import { MG_EV_HTTP_MSG } from "../src/net.js";
import { mg_fs_packed, type mg_packed_file } from "../src/fs.js";
import { mg_crc32 } from "../src/util.js";
import { echo_http, echo_tcp } from "../firmware/echo/main.js";
import { dash_board_sim, dash_free, dash_init } from "../firmware/dashboard/main.js";

/** Device pool: lwIP on ESP32 has 8 TCP PCBs (boards/esp32/config.json). */
const POOL = 8;
/** The device boards' idle timeout (boards/esp32/config.json). */
const IDLE_MS = 60000;

// --- seeded PRNG -------------------------------------------------------------

class Rng {
  x: number;
  constructor(seed: number) {
    this.x = seed | 0 || 1;
  }
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x;
    return x >>> 0;
  }
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(a: T[]): T {
    return a[this.int(a.length)];
  }
}

const enc = mg_mock_bytes;
function cat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const o = new Uint8Array(a.length + b.length);
  o.set(a, 0);
  o.set(b, a.length);
  return o;
}
function str(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

// --- the rig: a manager on a device-sized pool, its peers, the invariants -------

class Rig {
  net: mg_mock;
  mgr = new mg_mgr();
  peers: mg_mock_peer[] = [];
  caught: string[] = [];
  base_socks = 0;
  base_conns = 0;
  constructor(sock_size = 16384) {
    this.net = new mg_mock(64, sock_size);
    // what the catch-alls of mg_mgr_poll and mg_call log: a bug (or a failed
    // assertion in a test's handler) that the net hid
    this.net.log_echo = (line: string) => {
      if (line.indexOf("poll: ") >= 0 || line.indexOf("handler threw: ") >= 0) this.caught.push(line);
    };
    mg_mgr_init(this.mgr, this.net);
    // a device pool: only POOL connections circulate (MG_MAX_CONNS is 64 on the host)
    let c = this.mgr.free;
    for (let i = 1; i < POOL && c !== null; i++) c = c.pool_next;
    if (c !== null) c.pool_next = null;
    this.mgr.idle_timeout = IDLE_MS;
  }
  /** Call after the listeners are made. */
  baseline(): void {
    this.base_socks = this.net.in_use();
    this.base_conns = nconns(this.mgr);
  }
  poll(n = 1, step = 1): void {
    for (let i = 0; i < n; i++) {
      this.net.now += step;
      try {
        mg_mgr_poll(this.mgr, 0);
      } catch (e) {
        assert.unreachable("mg_mgr_poll threw: " + String(e));
      }
    }
  }
  client(port: number): mg_mock_peer {
    const p = this.net.client(port);
    assert.ok(p !== null, "connect to " + port);
    this.peers.push(p!);
    return p!;
  }
  /** Sends all of b as the server takes it (bounded), polling in between. */
  send(p: mg_mock_peer, b: Uint8Array, piece = 1 << 30): void {
    for (let i = 0, stuck = 0; i < b.length && stuck < 40 && p.open; ) {
      const n = Math.min(piece, b.length - i);
      const k = p.send(b, n, i);
      i += k;
      stuck = k === 0 ? stuck + 1 : 0;
      this.poll(2);
    }
  }
  /** Polls until the server closed p or n polls passed; returns what arrived. */
  drain(p: mg_mock_peer, n = 200): string {
    let s = "";
    for (let i = 0; i < n && !p.closed; i++) {
      this.poll();
      s += p.recv_str();
    }
    return s + p.recv_str();
  }
  /**
   * The invariants after a scenario: nothing caught inside the poll; when
   * every peer went away (FIN or RST) and the clock passed every timeout,
   * the pool and the sockets are back at baseline.
   */
  settle(what: string, r: Rng | null = null): void {
    for (const p of this.peers) {
      if (r !== null && r.int(2) === 0) p.reset();
      else p.close();
    }
    this.peers.length = 0;
    // a server still reading a dead peer's queue at 1 byte per second would
    // look alive for hours: the slow drip is the slowloris test's subject
    this.net.read_cap = this.net.write_cap = 0;
    this.poll(20);
    // past the head timeout, the WS close timeout and the idle timeout
    for (let t = 0; t < IDLE_MS + MG_HTTP_HEAD_TIMEOUT_MS + 5000; t += 1000) this.poll(1, 1000);
    assert.equal(this.caught, [], what + ": caught inside mg_mgr_poll");
    assert.is(nconns(this.mgr), this.base_conns, what + ": connections left in the manager: " + describe(this.mgr, this.net));
    assert.is(this.net.in_use(), this.base_socks, what + ": mock sockets left");
  }
  /** Stale peers (closed by the server) are dropped; the test keeps only live ones. */
  forget(p: mg_mock_peer): void {
    p.close();
    const i = this.peers.indexOf(p);
    if (i >= 0) this.peers.splice(i, 1);
  }
}

function nconns(mgr: mg_mgr): number {
  let n = 0;
  for (let c = mgr.conns; c !== null; c = c.next) n++;
  return n;
}
function describe(mgr: mg_mgr, net: mg_mock): string {
  let s = "";
  for (let c = mgr.conns; c !== null; c = c.next) {
    if (c.is_listening) continue;
    s += `[${c.id} fd ${c.fd} ws ${c.is_websocket} closing ${c.is_closing} draining ${c.is_draining} full ${c.is_full} recv ${c.recv.len} send ${c.send.len} last_io ${c.last_io}] `;
    const k = net.socks[c.fd];
    if (k !== undefined) s += `{kind ${k.kind} state ${k.state} len ${k.len} eof ${k.eof} peer ${k.peer !== null}} `;
  }
  return s;
}
function status(raw: string): number {
  return raw.startsWith("HTTP/1.") ? Number(raw.slice(9, 12)) : 0;
}

// --- inputs ------------------------------------------------------------------

const GOOD_GET = "GET /hello HTTP/1.1\r\nHost: dev\r\n\r\n";
const echo_post = (body: string) => `POST /echo HTTP/1.1\r\nHost: dev\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
const WS_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const WS_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
const upgrade = (key = WS_KEY, version = "13") =>
  `GET /ws HTTP/1.1\r\nHost: dev\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: ${version}\r\n\r\n`;

const SEEDS = [
  GOOD_GET,
  echo_post("hello world"),
  "POST /echo HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n",
  "GET /debug HTTP/1.0\r\n\r\n",
  "HEAD / HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: d\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
  upgrade(),
];

/** Hostile requests with the answer the README and issues 3/4 promise. */
const BAD: [string, string, number[]][] = [
  ["negative Content-Length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", [400]],
  ["huge Content-Length", "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", [400, 413]],
  ["duplicate Content-Length", "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", [400]],
  ["Content-Length and chunked", "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", [400]],
  ["unknown transfer coding", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", [400, 501]],
  ["bad chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n", [400]],
  ["chunk size overflow", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", [400]],
  ["body over the buffer, nobody streams", "POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + "x".repeat(5000), [413]],
  ["header flood", "GET / HTTP/1.1\r\n" + "X-A: 1\r\n".repeat(64) + "\r\n", [431]],
  ["head over the buffer", "GET / HTTP/1.1\r\nX-Big: " + "a".repeat(5000) + "\r\n\r\n", [431]],
  ["bare CR in a header", "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", [400]],
  ["NUL in the request line", "GET /a\0b HTTP/1.1\r\n\r\n", [400]],
  ["NUL in a header", "GET / HTTP/1.1\r\nX-A: \0\r\n\r\n", [400]],
  ["no colon in a header", "GET / HTTP/1.1\r\nbogus header\r\n\r\n", [400]],
  ["HTTP/0.9", "GET /\r\n\r\n", [400, 505]],
  // was answered 200 "hi" as if HTTP/1.1 (fixed in src/http.ts: 505)
  ["HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", [505]],
  ["HTTP/3.0 request", "GET / HTTP/3.0\r\nHost: d\r\n\r\n", [505]],
  ["garbage request line", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", [400]],
  ["WS upgrade without key", upgrade("", "13").replace("Sec-WebSocket-Key: \r\n", ""), [400, 426]],
  ["WS upgrade with a bad key", upgrade("short", "13"), [400]],
  ["WS upgrade version 8", upgrade(WS_KEY, "8"), [426]],
];

/** A mutation of a seed: cut, splice, byte flips, insertions of hostile bytes. */
function mutate(r: Rng, s: Uint8Array): Uint8Array {
  const kind = r.int(7);
  if (kind === 0) return s.slice(0, r.int(s.length + 1)); // cut at any byte
  if (kind === 1) {
    const t = enc(r.pick(SEEDS));
    return cat(s.slice(0, r.int(s.length + 1)), t.slice(r.int(t.length)));
  }
  const b = s.slice();
  const n = 1 + r.int(4);
  for (let i = 0; i < n && b.length > 0; i++) {
    const at = r.int(b.length);
    if (kind === 2) b[at] = r.int(256);
    else if (kind === 3) b[at] = r.pick([0, 10, 13, 0x7f, 0xff, 0x80, 58, 32, 9]);
    else if (kind === 4) b[at] = r.pick([48, 57, 45, 43, 70, 102]); // digits, signs, hex: lengths and sizes
  }
  if (kind === 5) return cat(b, enc(r.pick(SEEDS))); // a second (pipelined) request behind
  if (kind === 6) return cat(b.slice(0, r.int(b.length + 1)), cat(enc("X-Flood: " + "z".repeat(r.int(3000)) + "\r\n"), b));
  return b;
}

// --- WebSocket frames -----------------------------------------------------------

function frame(op: number, payload: Uint8Array, fin = true, mask = true, rsv = 0, len = -1): Uint8Array {
  const n = len >= 0 ? len : payload.length;
  const hl = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = new Uint8Array(hl + (mask ? 4 : 0) + payload.length);
  out[0] = (fin ? 0x80 : 0) | rsv | op;
  if (n < 126) out[1] = n;
  else if (n < 65536) {
    out[1] = 126;
    out[2] = n >> 8;
    out[3] = n & 255;
  } else {
    out[1] = 127;
    out[6] = (n >>> 24) & 255;
    out[7] = (n >>> 16) & 255;
    out[8] = (n >>> 8) & 255;
    out[9] = n & 255;
  }
  if (mask) out[1] |= 0x80;
  const m = [0x12, 0x34, 0x56, 0x78];
  let o = hl;
  if (mask) for (let i = 0; i < 4; i++) out[o++] = m[i];
  for (let i = 0; i < payload.length; i++) out[o + i] = mask ? payload[i] ^ m[i & 3] : payload[i];
  return out;
}
function close_payload(code: number, reason = ""): Uint8Array {
  return cat(new Uint8Array([code >> 8, code & 255]), enc(reason));
}
/** The close code in the first close frame the server sent, 0 if none, -1 if no close frame. */
function server_close_code(raw: string): number {
  let i = raw.indexOf("\r\n\r\n");
  if (i < 0) return -1;
  i += 4;
  while (i + 2 <= raw.length) {
    const op = raw.charCodeAt(i) & 15;
    let n = raw.charCodeAt(i + 1) & 127;
    let h = 2;
    if (n === 126) {
      n = (raw.charCodeAt(i + 2) << 8) | raw.charCodeAt(i + 3);
      h = 4;
    } else if (n === 127) {
      n = (raw.charCodeAt(i + 8) << 8) | raw.charCodeAt(i + 9);
      h = 10;
    }
    if (op === 8) return n >= 2 ? (raw.charCodeAt(i + h) << 8) | raw.charCodeAt(i + h + 1) : 0;
    i += h + n;
  }
  return -1;
}

const WS_BAD: [string, Uint8Array, number][] = [
  ["unmasked frame", frame(1, enc("hi"), true, false), 1002],
  ["reserved bits", frame(1, enc("hi"), true, true, 0x40), 1002],
  ["reserved opcode 3", frame(3, enc("hi")), 1002],
  ["reserved opcode 11", frame(11, enc("")), 1002],
  ["control frame over 125 bytes", frame(9, new Uint8Array(126)), 1002],
  ["fragmented ping", frame(9, enc("x"), false), 1002],
  ["continuation without a start", frame(0, enc("x")), 1002],
  ["new data frame inside a fragmented message", cat(frame(1, enc("a"), false), frame(1, enc("b"))), 1002],
  ["invalid UTF-8", frame(1, new Uint8Array([0x68, 0xc3, 0x28])), 1007],
  ["UTF-8 broken across fragments", cat(frame(1, new Uint8Array([0xe2, 0x82]), false), frame(0, new Uint8Array([0x28]))), 1007],
  ["overlong UTF-8", frame(1, new Uint8Array([0xc0, 0xaf])), 1007],
  ["surrogate in UTF-8", frame(1, new Uint8Array([0xed, 0xa0, 0x80])), 1007],
  ["close code 999", frame(8, close_payload(999)), 1002],
  ["close code 1005", frame(8, close_payload(1005)), 1002],
  ["close code 1006", frame(8, close_payload(1006)), 1002],
  ["close code 1015", frame(8, close_payload(1015)), 1002],
  ["close code 2000", frame(8, close_payload(2000)), 1002],
  ["close with one byte", frame(8, new Uint8Array([3])), 1002],
  ["close reason not UTF-8", frame(8, cat(close_payload(1000), new Uint8Array([0xff]))), 1007],
];

// --- servers --------------------------------------------------------------------

/** The echo app as firmware/echo/main.ts runs it: HTTP on 80, raw TCP on 81. */
function echo_rig(sock_size = 16384): Rig {
  const r = new Rig(sock_size);
  assert.ok(mg_http_listen(r.mgr, "http://0.0.0.0:80", echo_http, null) !== null);
  assert.ok(mg_listen(r.mgr, "tcp://0.0.0.0:81", echo_tcp, null) !== null);
  r.baseline();
  return r;
}

/** The echo app answers a good request, a body echo and a WebSocket echo. */
function echo_alive(r: Rig, what: string): void {
  let p = r.client(80);
  r.send(p, enc(GOOD_GET));
  let raw = r.drain(p, 30);
  assert.is(status(raw), 200, what + ": still answers GET: " + JSON.stringify(raw.slice(0, 80)));
  assert.ok(raw.endsWith("\r\n\r\nhi\n"), what + ": " + JSON.stringify(raw));
  r.send(p, enc(echo_post("ping-body")));
  raw = r.drain(p, 30);
  assert.ok(raw.includes("\r\n9\r\nping-body\r\n0\r\n\r\n"), what + ": /echo: " + JSON.stringify(raw));
  r.forget(p);
  p = r.client(80);
  r.send(p, enc(upgrade()));
  r.send(p, frame(1, enc("yo")));
  raw = r.drain(p, 30);
  assert.ok(raw.includes(WS_ACCEPT) && raw.endsWith("\x81\x02yo"), what + ": /ws: " + JSON.stringify(raw));
  r.forget(p);
  p = r.client(81);
  r.send(p, enc("raw\0\xff"));
  assert.is(r.drain(p, 10), "raw\0\xff", what + ": TCP echo");
  r.forget(p);
  r.settle(what + " (after the good requests)");
}

// --- HTTP: the answers ---------------------------------------------------------

test("echo app: each hostile request gets its status, then the close; the server keeps answering", () => {
  for (const cap of [0, 7]) {
    const r = echo_rig();
    r.net.read_cap = cap;
    r.net.write_cap = cap === 0 ? 0 : 13;
    for (const [what, text, codes] of BAD) {
      const p = r.client(80);
      r.send(p, enc(text));
      const raw = r.drain(p, 8000);
      const st = status(raw);
      assert.ok(codes.indexOf(st) >= 0, `${what} (cap ${cap}): expected ${codes}, got ${JSON.stringify(raw.slice(0, 60))}`);
      assert.ok(p.closed, what + ": closed after the error");
    }
    r.settle("bad requests");
    echo_alive(r, "after bad requests");
    mg_mgr_free(r.mgr);
  }
});

test("echo app: a valid request cut at every byte, then FIN or RST, frees the slot; completing it is answered", () => {
  const r = echo_rig();
  const rng = new Rng(7);
  for (const s of [GOOD_GET, echo_post("0123456789"), SEEDS[2]]) {
    const b = enc(s);
    for (let cut = 0; cut < b.length; cut++) {
      const p = r.client(80);
      r.send(p, b.slice(0, cut));
      r.poll(2);
      if (rng.int(2) === 0) p.reset();
      else p.close();
      r.poll(3);
      r.forget(p);
      // the same request delivered in two pieces split there
      const q = r.client(80);
      r.send(q, b.slice(0, cut));
      r.send(q, b.slice(cut));
      const raw = r.drain(q, 10);
      assert.is(status(raw), 200, `cut at ${cut}: ${JSON.stringify(raw)}`);
      r.forget(q);
    }
    r.settle("cuts");
  }
  echo_alive(r, "after cuts");
});

test("echo app: seeded mutations, many clients interleaved, under short reads and writes", () => {
  const r = echo_rig();
  const rng = new Rng(0x5eed);
  const seeds = SEEDS.map(enc);
  for (let round = 0; round < 12; round++) {
    r.net.read_cap = rng.pick([0, 1, 3, 64]);
    r.net.write_cap = rng.pick([0, 2, 100]);
    // six at once on a pool of 8 (two are listeners): the seventh is refused by the pool
    const live: mg_mock_peer[] = [];
    const data: Uint8Array[] = [];
    for (let i = 0; i < 6; i++) {
      live.push(r.client(rng.int(4) === 0 ? 81 : 80));
      data.push(mutate(rng, rng.pick(seeds)));
    }
    const ofs = [0, 0, 0, 0, 0, 0];
    for (let step = 0; step < 60; step++) {
      const i = rng.int(6);
      const p = live[i];
      if (ofs[i] < data[i].length) ofs[i] += p.send(data[i], Math.min(1 + rng.int(40), data[i].length - ofs[i]), ofs[i]);
      else if (rng.int(8) === 0) p.close(); // FIN at the end
      if (rng.int(20) === 0) p.reset(); // RST mid-request
      p.recv_str();
      r.poll(1 + rng.int(3));
      // a response, if any, is a well-formed status line
    }
    for (const p of live) {
      const raw = p.recv_str();
      if (raw.length > 12 && raw.startsWith("HTTP")) assert.ok(/^HTTP\/1\.[01] \d\d\d /.test(raw), JSON.stringify(raw));
    }
    r.settle("mutation round " + round, rng);
  }
  r.net.read_cap = r.net.write_cap = 0;
  echo_alive(r, "after mutations");
});

test("echo app: connects that send nothing fill the pool; later ones take their slots; slowloris gets 408", () => {
  const r = echo_rig();
  const silent: mg_mock_peer[] = [];
  for (let i = 0; i < 10; i++) silent.push(r.client(80));
  r.poll(5);
  // the pool is full: the rest wait in the backlog, none is refused
  assert.is(nconns(r.mgr), POOL);
  let closed = 0;
  for (const p of silent) if (p.closed) closed++;
  assert.is(closed, 0, "nobody refused while a slot may be freed");
  // once the silent ones are MG_EVICT_MIN_AGE_MS old, those waiting take their slots
  r.poll(1, MG_EVICT_MIN_AGE_MS);
  r.poll(5);
  closed = 0;
  for (const p of silent) if (p.closed) closed++;
  assert.is(closed, 10 - (POOL - 2), "the oldest silent connections were evicted for the newer");
  assert.is(nconns(r.mgr), POOL);
  // slowloris: one byte per simulated second on a kept slot; the minimum rate ends it
  const slow = silent[silent.length - 1];
  assert.ok(slow.open);
  const b = enc(GOOD_GET.replace("\r\n\r\n", "\r\nX-Slow: " + "s".repeat(60) + "\r\n\r\n"));
  let raw = "";
  let t = 0;
  for (let i = 0; i < b.length && slow.open; i++, t += 1000) {
    slow.send(b, 1, i);
    r.poll(1, 1000);
    raw += slow.recv_str();
  }
  raw += r.drain(slow, 5);
  assert.is(status(raw), 408, "slowloris: " + JSON.stringify(raw));
  assert.ok(t <= MG_HTTP_RATE_WINDOW_MS + 2000, "found out within a rate window: " + t);
  // the silent ones are gone too: the pool serves again without any peer leaving
  for (let t = 0; t < MG_HTTP_HEAD_TIMEOUT_MS; t += 1000) r.poll(1, 1000);
  assert.is(nconns(r.mgr), 2, "silent connections freed by the head timeout");
  echo_alive(r, "after silent peers");
});

test("raw TCP echo: silent and stalled peers are freed by the device's idle timeout; bytes echo exactly", () => {
  const r = echo_rig(4096);
  const rng = new Rng(99);
  const p = r.client(81);
  const q = r.client(81);
  q.stall(true); // stops reading: its queue (4 KB) fills, then the server's send buffer
  const big = new Uint8Array(20000);
  for (let i = 0; i < big.length; i++) big[i] = rng.int(256);
  let sent = 0;
  for (let i = 0; i < 400 && sent < big.length; i++) {
    sent += q.send(big, Math.min(997, big.length - sent), sent);
    r.poll();
  }
  assert.ok(sent < big.length, "back-pressure reached the peer");
  r.send(p, big.slice(0, 3000), 500);
  const back = enc(r.drain(p, 50));
  assert.is(back.length, 3000);
  assert.is(mg_crc32(0, back, 0, back.length), mg_crc32(0, big, 0, 3000));
  // neither peer leaves: only the idle timeout can free them
  for (let t = 0; t < IDLE_MS + 2000; t += 1000) r.poll(1, 1000);
  assert.is(nconns(r.mgr), 2, "idle and stalled connections freed");
  r.settle("tcp");
  echo_alive(r, "after TCP");
});

// --- WebSocket -----------------------------------------------------------------

test("echo /ws: each protocol violation gets its close code, the slot is freed", () => {
  for (const cap of [0, 1]) {
    const r = echo_rig();
    r.net.read_cap = cap;
    for (const [what, bytes, code] of WS_BAD) {
      const p = r.client(80);
      r.send(p, enc(upgrade()));
      r.send(p, frame(1, enc("ok")));
      r.send(p, bytes);
      const raw = r.drain(p, 1000);
      assert.ok(raw.includes(WS_ACCEPT), what + ": " + JSON.stringify(raw));
      assert.is(server_close_code(raw), code, `${what} (cap ${cap}): ${JSON.stringify(raw.slice(-20))}`);
      // the peer does not answer the close: the close timeout frees the slot
    }
    r.settle("ws bad frames");
    r.net.read_cap = 0;
    echo_alive(r, "after ws");
  }
});

test("echo /ws: random and mutated frames, interleaved, then FIN/RST: invariants hold", () => {
  const r = echo_rig();
  const rng = new Rng(1234);
  const good = [frame(1, enc("hello")), frame(2, new Uint8Array(300)), frame(9, enc("p")), cat(frame(1, enc("a"), false), frame(0, enc("b"))), frame(8, close_payload(1000))];
  for (let round = 0; round < 10; round++) {
    r.net.read_cap = rng.pick([0, 1, 5]);
    const live: mg_mock_peer[] = [];
    for (let i = 0; i < 5; i++) {
      const p = r.client(80);
      r.send(p, enc(upgrade()));
      live.push(p);
    }
    for (let step = 0; step < 40; step++) {
      const p = rng.pick(live);
      let f: Uint8Array;
      const k = rng.int(4);
      if (k === 0) {
        f = new Uint8Array(1 + rng.int(30));
        for (let i = 0; i < f.length; i++) f[i] = rng.int(256);
      } else {
        f = rng.pick(good).slice();
        if (k > 1) for (let j = 0; j < 1 + rng.int(3); j++) f[rng.int(f.length)] ^= 1 << rng.int(8);
        if (k === 3) f = f.slice(0, rng.int(f.length + 1));
      }
      p.send(f);
      r.poll(1 + rng.int(3));
      p.recv_str();
    }
    r.settle("ws round " + round, rng);
  }
  r.net.read_cap = 0;
  echo_alive(r, "after ws fuzz");
});

// --- 6.x multipart -------------------------------------------------------------

const BND = "XyZb0und";

test("6.x multipart: broken boundaries and cut bodies; every begun part ends, every request ends or is cancelled", () => {
  const r = new Rig();
  const log: string[] = [];
  const trace: string[] = [];
  let bad = "";
  const open = new Map<mg_connection, number>(); // 1 = inside a multipart request, 2 = inside a part
  const l = mg_http_listen(r.mgr, "http://0.0.0.0:82", (c: mg_connection, ev: number, d: any) => {
    const st = open.get(c) ?? 0;
    if (ev !== 0 && ev !== 2 && ev !== 3) trace.push(c.id + ":" + ev + ":" + st);
    if (ev === MG_EV_CLOSE && st !== 0 && bad === "") bad = trace.slice(-12).join(" ");
    if (ev === MG_EV_HTTP_MULTIPART_REQUEST) {
      assert.is(st, 0, "MREQ twice");
      open.set(c, 1);
    } else if (ev === MG_EV_HTTP_PART_BEGIN) {
      assert.is(st, 1, "PART_BEGIN outside a request or inside a part");
      open.set(c, 2);
    } else if (ev === MG_EV_HTTP_PART_DATA) assert.is(st, 2, "PART_DATA outside a part");
    else if (ev === MG_EV_HTTP_PART_END) {
      assert.is(st, 2, "PART_END without BEGIN");
      open.set(c, 1);
    } else if (ev === MG_EV_HTTP_MULTIPART_REQUEST_END || ev === MG_EV_HTTP_REQUEST_CANCEL) {
      if (st !== 0) {
        assert.is(st, 1, "request ended inside a part");
        open.set(c, 0);
        log.push(ev === MG_EV_HTTP_REQUEST_CANCEL ? "cancel" : "end:" + (d as mg_http_multipart_part).status);
        if (ev === MG_EV_HTTP_MULTIPART_REQUEST_END && (d as mg_http_multipart_part).status >= 0) mg_http_reply(c, 200, "", "done");
      }
    } else if (ev === MG_EV_HTTP_REQUEST) mg_http_reply(c, 200, "", "plain");
    else if (ev === MG_EV_CLOSE && !c.is_listening) {
      assert.ok(st === 0, "closed inside a multipart request without cancel/end: " + st);
      open.delete(c);
    }
  }, null)!;
  mg_set_protocol_http_websocket(l);
  r.baseline();
  const body = `--${BND}\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue-a\r\n--${BND}\r\nContent-Disposition: form-data; name="f"; filename="f.bin"\r\n\r\n${"F".repeat(3000)}\r\n--${BND}--\r\n`;
  const req = (b: string, ct = `multipart/form-data; boundary=${BND}`) =>
    enc(`POST /up HTTP/1.1\r\nHost: d\r\nContent-Type: ${ct}\r\nContent-Length: ${b.length}\r\n\r\n${b}`);
  // the good one
  let p = r.client(82);
  r.send(p, req(body));
  assert.ok(r.drain(p, 30).endsWith("done"));
  r.forget(p);
  const rng = new Rng(42);
  const variants: Uint8Array[] = [
    req(body.split(BND).join("WRONG")),
    req(body.replace(`--${BND}--`, `--${BND}`)), // never closed
    req(body, "multipart/form-data"), // no boundary
    req(body, `multipart/form-data; boundary=`),
    req(body, `multipart/form-data; boundary="${"b".repeat(200)}"`),
    req(body.replace("\r\n\r\nvalue-a", "value-a")), // part head never ends
    req(`--${BND}\r\n\r\n--${BND}\r\n\r\n--${BND}--\r\n`),
  ];
  for (let i = 0; i < 40; i++) variants.push(mutate(rng, req(body)));
  for (const v of variants) {
    for (const how of [0, 1, 2]) {
      r.net.read_cap = rng.pick([0, 1, 97]);
      p = r.client(82);
      const cut = how === 0 ? v.length : rng.int(v.length);
      r.send(p, v.slice(0, cut), 256);
      r.poll(5);
      const raw = p.recv_str();
      if (raw.length > 0) assert.ok(/^HTTP\/1\.1 \d\d\d /.test(raw), JSON.stringify(raw.slice(0, 40)));
      if (how === 1) p.reset();
      else p.close(); // FIN mid-body
      r.poll(5);
      r.forget(p);
    }
  }
  r.net.read_cap = 0;
  assert.is(bad, "", "a multipart request closed without its END or CANCEL");
  r.settle("multipart");
  assert.ok(log.indexOf("end:-1") >= 0, "cut uploads were cancelled (a negative status): " + log.join());
  p = r.client(82);
  r.send(p, req(body));
  const again = r.drain(p, 30);
  assert.ok(again.endsWith("done"), "still uploads: " + JSON.stringify(again) + log.slice(-3).join() + r.caught.join() + trace.slice(-30).join(" "));
  r.forget(p);
  r.settle("multipart end");
});

// --- serve_dir ------------------------------------------------------------------

test("serve_dir over mg_fs_packed: stalled readers of a large file, random ranges, resets mid-stream", () => {
  const r = new Rig(4096);
  const rng = new Rng(2024);
  const big = new Uint8Array(16 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = rng.int(256);
  const files: mg_packed_file[] = [
    { path: "/index.html", data: enc("<h1>i</h1>"), mtime: 1700000000 },
    { path: "/big.bin", data: big, mtime: 1700000000 },
  ];
  const opts = new mg_http_serve_opts();
  opts.fs = new mg_fs_packed(files);
  opts.root_dir = "/";
  mg_http_listen(r.mgr, "http://0.0.0.0:83", (c: mg_connection, ev: number, d: any) => {
    if (ev === MG_EV_HTTP_MSG) mg_http_serve_dir(c, d as mg_http_message, opts);
  }, null);
  r.baseline();
  // stalled readers hold slots only until the idle timeout
  for (let i = 0; i < 5; i++) {
    const p = r.client(83);
    r.send(p, enc("GET /big.bin HTTP/1.1\r\nHost: d\r\n\r\n"));
    p.stall(true);
  }
  r.poll(50);
  for (let t = 0; t < IDLE_MS + 2000; t += 1000) r.poll(1, 1000);
  assert.is(nconns(r.mgr), 1, "stalled readers freed by the idle timeout");
  r.settle("stall");
  const paths = ["/", "/big.bin", "/../etc/passwd", "/%2e%2e/x", "/index.html%00", "/nope", "//", "/big.bin/", "/\xff\xfe"];
  const ranges = ["", "bytes=0-0", "bytes=-10", "bytes=16380-", "bytes=70000-", "bytes=5-2", "bytes=-0", "bytes=a-b", "bytes=0-1,3-4", "bytes=-99999999999999999"];
  for (let i = 0; i < 40; i++) {
    r.net.read_cap = rng.pick([0, 1, 50]);
    r.net.write_cap = rng.pick([0, 100, 1000]);
    const path = rng.pick(paths);
    const range = rng.pick(ranges);
    const p = r.client(83);
    r.send(p, enc(`GET ${path} HTTP/1.1\r\nHost: d\r\n${range ? "Range: " + range + "\r\n" : ""}Connection: close\r\n\r\n`));
    if (rng.int(4) === 0) {
      r.poll(rng.int(20));
      p.reset(); // mid-stream
      r.forget(p);
      continue;
    }
    const raw = r.drain(p, 3000);
    const st = status(raw);
    assert.ok([200, 206, 301, 304, 400, 404, 416].indexOf(st) >= 0, `${path} ${range}: ${JSON.stringify(raw.slice(0, 60))}`);
    if (path === "/big.bin" && range === "") {
      const b = enc(raw.slice(raw.indexOf("\r\n\r\n") + 4));
      assert.is(b.length, big.length, "the whole file");
      assert.is(mg_crc32(0, b, 0, b.length), mg_crc32(0, big, 0, big.length));
    }
    if (path === "/big.bin" && range === "bytes=70000-") assert.is(st, 416);
    if (path.indexOf("..") >= 0) assert.ok(st === 400 || st === 404, "traversal refused");
    r.forget(p);
  }
  r.net.read_cap = r.net.write_cap = 0;
  r.settle("serve_dir", rng);
  const p = r.client(83);
  r.send(p, enc("GET / HTTP/1.1\r\nHost: d\r\n\r\n"));
  assert.ok(r.drain(p, 30).endsWith("<h1>i</h1>"));
  r.forget(p);
  r.settle("serve_dir end");
});

// --- the dashboard ---------------------------------------------------------------

test("dashboard app: hostile requests, bad logins, bad JSON, bad uploads and WebSockets; it keeps serving", () => {
  const r = new Rig();
  const board = new dash_board_sim(() => r.net.now);
  const app = dash_init(r.mgr, {
    url: "http://0.0.0.0:80",
    board,
    files: [{ path: "/index.html", data: enc("<b>dash</b>"), mtime: 1700000000 }],
    user: "admin",
    pass: "pw",
  });
  r.baseline();
  const rng = new Rng(31337);
  // a token, to reach the settings and the WebSocket
  let p = r.client(80);
  r.send(p, enc("POST /api/login HTTP/1.1\r\nHost: d\r\nAuthorization: Basic YWRtaW46cHc=\r\nContent-Length: 0\r\n\r\n"));
  const m = /"token":"([0-9a-f]{32})"/.exec(r.drain(p, 20));
  assert.ok(m !== null, "login");
  const tok = `Cookie: access_token=${m![1]}\r\n`;
  r.forget(p);
  const json = ['{"led":true}', '{"led":', '{"name":"\xff\xfe"}', "[]", '{"interval":-1}', '{"interval":1e999}', '{"name":"' + "n".repeat(1500) + '"}', "{".repeat(100), '"\\u0000"'];
  const seeds = [
    `GET / HTTP/1.1\r\nHost: d\r\n\r\n`,
    `GET /api/stats HTTP/1.1\r\nHost: d\r\n${tok}\r\n`,
    `GET /api/log HTTP/1.1\r\nHost: d\r\n${tok}\r\n`,
    `POST /api/login HTTP/1.1\r\nHost: d\r\nAuthorization: Basic !!!\r\nContent-Length: 0\r\n\r\n`,
    `POST /api/upload HTTP/1.1\r\nHost: d\r\n${tok}Content-Length: 5000\r\n\r\nabc`,
    `GET /websocket HTTP/1.1\r\nHost: d\r\n${tok}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ];
  for (let i = 0; i < 60; i++) {
    r.net.read_cap = rng.pick([0, 1, 33]);
    let b: Uint8Array;
    if (i % 3 === 0) {
      const j = rng.pick(json);
      b = enc(`POST /api/settings HTTP/1.1\r\nHost: d\r\n${tok}Content-Type: application/json\r\nContent-Length: ${j.length}\r\n\r\n${j}`);
    } else b = mutate(rng, enc(rng.pick(seeds)));
    p = r.client(80);
    r.send(p, b, 512);
    if (b.length > 3 && b[b.length - 1] !== 10) r.send(p, frame(1, enc("x"))); // after an upgrade: a frame
    r.poll(10);
    const raw = p.recv_str();
    if (raw.length > 0) assert.ok(/^HTTP\/1\.1 \d\d\d /.test(raw), JSON.stringify(raw.slice(0, 40)));
    if (rng.int(3) === 0) {
      p.reset();
      r.forget(p);
    } else r.forget(p);
    r.poll(3);
  }
  r.net.read_cap = 0;
  r.settle("dashboard");
  p = r.client(80);
  r.send(p, enc(seeds[1]));
  const raw = r.drain(p, 20);
  assert.is(status(raw), 200, "stats still served: " + JSON.stringify(raw.slice(0, 80)));
  r.forget(p);
  r.settle("dashboard end");
  dash_free(app);
  mg_mgr_free(r.mgr);
});

test.run();
