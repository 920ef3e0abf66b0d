// Preload, emulated on Node, for the one mistake the real linker does not
// report. test/build.moddable.test.ts preloads the core and the apps with
// Moddable's xsl, which warns about every module-level object or binding
// left writable (they get a RAM alias). A typed array, ArrayBuffer, DataView,
// Map or Set made at preload gets no alias and no warning: it is simply
// read-only, and the first write on the device throws. That is what this
// test looks for, without the SDK and with the place each object was made.
//
// Moddable's linker runs preloaded modules at
// build time, and afterwards every ArrayBuffer, typed array, DataView, Map and
// Set made during their evaluation is read-only: a write throws "read-only
// buffer" on the device (moddable-facts §3.4). Here the constructors are
// wrapped before any mgts module is imported (dynamic import() only: the
// static imports below are uvu), every instance made while the device's
// modules evaluate is recorded with its creation stack, its contents are
// snapshotted, and a broad workload runs over the mock network and the
// ECMA-419 HAL. Any recorded object written afterwards fails the test with
// where it was made. Writes that leave the bytes as they were are caught only
// when made through methods (set, fill, copyWithin, Map.set...), not by index.
// Node only: it patches globals and imports modules late.
import { test } from "uvu";
import * as assert from "uvu/assert";

type Core = typeof import("../src/index.js");
type Mock = typeof import("../hal/mock.js");
type Dash = typeof import("../firmware/dashboard/main.js");
type Echo = typeof import("../firmware/echo/main.js");
type Mqtt = typeof import("../firmware/mqtt/main.js");
type MqttBroker = typeof import("../firmware/mqtt-broker/main.js");
type E419 = typeof import("../hal/ecma419.js");
type Host = typeof import("../hal/ecma419_host.js");

const G = globalThis as any;
const CTORS = [
  "Uint8Array", "Int8Array", "Uint16Array", "Int16Array", "Uint32Array", "Int32Array", "Float32Array",
  "Float64Array", "Uint8ClampedArray", "ArrayBuffer", "DataView", "Map", "Set",
];
// the originals, taken before anything is patched
const TA_PROTO = Object.getPrototypeOf(Uint8Array.prototype);
const ORIG_U8 = Uint8Array;
const ORIG_AB = ArrayBuffer;
const ORIG_DV = DataView;
const ORIG_MAP = Map;
const ORIG_SET = Set;
const ARRAY_FROM = Array.from;

interface Rec {
  obj: any;
  kind: string;
  where: string;
  snap: any;
}
const recorded: Rec[] = [];
const preloaded = new WeakSet<object>(); // recorded objects and the buffers under recorded views
const writes: string[] = [];
let recording = false;
let watching = false;
const undo: (() => void)[] = [];

/** The frames of a stack that are in the project's code (not this file's wrappers). */
function where(stack: string | undefined): string {
  const lines = (stack ?? "").split("\n").slice(1).map((l) => l.trim());
  const ours = lines.filter((l) => /\/build\/(src|hal|firmware)\//.test(l));
  return (ours.length > 0 ? ours : lines.slice(0, 6)).slice(0, 6).join("\n      ");
}

function record(obj: any, kind: string): void {
  if (!recording) return;
  recorded.push({ obj, kind, where: where(new Error().stack), snap: null });
}

/** Replaces a method of proto for as long as the test runs (restored by unpatch). */
function wrap(proto: any, name: string, make: (orig: Function) => Function): void {
  const orig = proto[name];
  if (typeof orig !== "function") return;
  proto[name] = make(orig);
  undo.push(() => (proto[name] = orig));
}

function patch(): void {
  Error.stackTraceLimit = 50;
  for (const name of CTORS) {
    const C = G[name];
    G[name] = new Proxy(C, {
      construct(target, args, nt): object {
        const o = Reflect.construct(target, args, nt === G[name] ? target : nt) as object;
        record(o, name);
        return o;
      },
    });
    undo.push(() => (G[name] = C));
  }
  // methods that make new arrays through the original constructors (species)
  for (const m of ["subarray", "slice", "map", "filter"]) {
    wrap(TA_PROTO, m, (orig) => function (this: any, ...a: any[]) {
      const o = orig.apply(this, a);
      record(o, this.constructor.name + "." + m);
      return o;
    });
  }
  wrap(ORIG_AB.prototype, "slice", (orig) => function (this: any, ...a: any[]) {
    const o = orig.apply(this, a);
    record(o, "ArrayBuffer.slice");
    return o;
  });
  // writes through methods, seen even when they leave the bytes unchanged
  const guard = (kind: string) => (orig: Function) => function (this: any, ...a: any[]) {
    if (watching && (preloaded.has(this) || (ArrayBuffer.isView(this) && preloaded.has(this.buffer)))) {
      writes.push(`${kind} on an object made during preload\n      written at: ${where(new Error().stack)}`);
    }
    return orig.apply(this, a);
  };
  for (const m of ["set", "fill", "copyWithin", "reverse", "sort"]) wrap(TA_PROTO, m, guard("TypedArray." + m));
  for (const m of Object.getOwnPropertyNames(ORIG_DV.prototype).filter((n) => n.startsWith("set"))) wrap(ORIG_DV.prototype, m, guard("DataView." + m));
  for (const m of ["set", "delete", "clear"]) wrap(ORIG_MAP.prototype, m, guard("Map." + m));
  for (const m of ["add", "delete", "clear"]) wrap(ORIG_SET.prototype, m, guard("Set." + m));
  for (const m of ["transfer", "transferToFixedLength", "resize"]) wrap(ORIG_AB.prototype, m, guard("ArrayBuffer." + m));
}

function unpatch(): void {
  while (undo.length > 0) undo.pop()!();
}

/** What a recorded object holds, as plain data made with the original constructors. */
function snapshot(o: any): any {
  if (o instanceof ORIG_AB) return new ORIG_U8(o).slice();
  if (ArrayBuffer.isView(o)) return new ORIG_U8(o.buffer, o.byteOffset, o.byteLength).slice();
  if (o instanceof ORIG_MAP) return ARRAY_FROM(o.entries());
  if (o instanceof ORIG_SET) return ARRAY_FROM(o.values());
  return null;
}

function same(a: any, b: any): boolean {
  if (a instanceof ORIG_U8 && b instanceof ORIG_U8) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Array.isArray(x) ? !(Object.is(x[0], y[0]) && Object.is(x[1], y[1])) : !Object.is(x, y)) return false;
  }
  return true;
}

/** Every recorded object whose contents differ from its snapshot, with where it was made. */
function changed(): string[] {
  const out: string[] = [];
  for (const r of recorded) {
    if (!same(r.snap, snapshot(r.obj))) out.push(`${r.kind} written at run time, made during preload at:\n      ${r.where}`);
  }
  return out;
}

// --- the preload -----------------------------------------------------------------

let M: Core;
let K: Mock;
let D: Dash;
let E: Echo;
let Q: Mqtt;
let QB: MqttBroker;
let W: E419;
let HOST: Host;

/** Imports what a device build holds while recording, snapshots it, then loads the test tools. */
async function preload(): Promise<void> {
  patch();
  recording = true;
  try {
    // the core, the device HAL (its Moddable glue imports embedded:* and cannot load on Node), the apps
    M = await import("../src/index.js");
    W = await import("../hal/ecma419.js");
    D = await import("../firmware/dashboard/main.js");
    E = await import("../firmware/echo/main.js");
    Q = await import("../firmware/mqtt/main.js");
    QB = await import("../firmware/mqtt-broker/main.js");
  } finally {
    recording = false;
  }
  for (const r of recorded) {
    r.snap = snapshot(r.obj);
    preloaded.add(r.obj);
    if (ArrayBuffer.isView(r.obj)) preloaded.add(r.obj.buffer);
  }
  // test tools, not on the device: loaded after the preload, so they are run-time code
  K = await import("../hal/mock.js");
  HOST = await import("../hal/ecma419_host.js");
}

// --- the workload ----------------------------------------------------------------

function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}
function enc(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 255;
  return b;
}
function cat(...parts: (Uint8Array | string)[]): Uint8Array {
  const bs = parts.map((p) => (typeof p === "string" ? enc(p) : p));
  const out = new Uint8Array(bs.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of bs) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}
/** A masked client frame. */
function frame(op: number, payload: Uint8Array | string, fin = true): Uint8Array {
  const p = typeof payload === "string" ? enc(payload) : payload;
  const n = p.length;
  const h = n < 126 ? [(fin ? 0x80 : 0) | op, 0x80 | n] : [(fin ? 0x80 : 0) | op, 0x80 | 126, n >> 8, n & 255];
  const key = [9, 8, 7, 6];
  const out = new Uint8Array(h.length + 4 + n);
  out.set(h);
  out.set(key, h.length);
  for (let i = 0; i < n; i++) out[h.length + 4 + i] = p[i] ^ key[i & 3];
  return out;
}

interface Rig {
  net: InstanceType<Mock["mg_mock"]>;
  mgr: InstanceType<Core["mg_mgr"]>;
}
function rig(cap = 0): Rig {
  const net = new K.mg_mock(64, 1 << 16);
  const mgr = new M.mg_mgr();
  M.mg_mgr_init(mgr, net);
  net.read_cap = net.write_cap = cap;
  return { net, mgr };
}
/** Sends bytes in pieces, polls until the peer closed or `idle` polls bring nothing (20000 at most), returns what came. */
function exchange(r: Rig, p: InstanceType<Mock["mg_mock_peer"]>, data: Uint8Array | string, idle = 200): string {
  const b = typeof data === "string" ? enc(data) : data;
  let got = "";
  for (let i = 0, stuck = 0; i < b.length && stuck < 100; ) {
    const k = p.send(b, Math.min(1000, b.length - i), i);
    i += k;
    stuck = k === 0 ? stuck + 1 : 0;
    r.net.poll(r.mgr, 3);
    got += p.recv_str();
  }
  // under a read cap the manager takes a while to read what was sent before it answers
  const wait = Math.max(idle, 100) + (r.net.read_cap > 0 ? Math.ceil(b.length / r.net.read_cap) : 0);
  for (let i = 0, quiet = 0; i < 20000 && quiet < wait && !p.closed; i++) {
    r.net.poll(r.mgr, 1);
    const more = p.recv_str();
    got += more;
    quiet = more.length > 0 ? 0 : quiet + 1;
  }
  return got;
}

function work_tcp_udp(cap: number): void {
  const r = rig(cap);
  M.mg_listen(r.mgr, "tcp://0.0.0.0:1234", E.echo_tcp, null);
  M.mg_listen(r.mgr, "udp://0.0.0.0:1235", E.echo_udp, null);
  const p = r.net.client(1234)!;
  const data = new Uint8Array(20000).map((_, i) => (i * 7) & 255);
  const got = exchange(r, p, data, 50);
  assert.ok(got === latin1(data), `TCP echo: ${got.length} of ${data.length} bytes back`);
  p.close();
  const u = r.net.udp();
  assert.ok(u.sendto(1235, "ping"));
  r.net.poll(r.mgr, 5);
  assert.is(latin1(u.recvfrom()!), "ping", "UDP echo");
  M.mg_mgr_free(r.mgr);
}

/** Unmasked server frames as "op:payload", continuations joined, messages separated by "|". */
function unframe(b: string): string {
  const out: string[] = [];
  let msg = -1; // the data message continuations belong to (control frames may come between)
  for (let i = 0; i + 2 <= b.length; ) {
    let n = b.charCodeAt(i + 1) & 127;
    let h = 2;
    if (n === 126) {
      n = (b.charCodeAt(i + 2) << 8) | b.charCodeAt(i + 3);
      h = 4;
    }
    const op = b.charCodeAt(i) & 15;
    const data = b.slice(i + h, i + h + n);
    if (op === 0 && msg >= 0) out[msg] += data;
    else {
      if (op < 8) msg = out.length;
      out.push(`${op}:${data}`);
    }
    i += h + n;
  }
  return out.join("|");
}

/** The body of a chunked response, sizes removed. */
function dechunk(resp: string): string {
  return resp.slice(resp.indexOf("\r\n\r\n") + 2).replace(/\r\n[0-9a-f]+\r\n/g, "");
}

function work_echo_app(cap: number): void {
  const r = rig(cap);
  M.mg_http_listen(r.mgr, "http://0.0.0.0:80", E.echo_http, null);
  let p = r.net.client(80)!;
  assert.match(exchange(r, p, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 30), /^HTTP\/1.1 200/);
  const body = "x".repeat(5000);
  let got = exchange(r, p, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n${body}`, 50);
  assert.ok(got.includes("Transfer-Encoding: chunked") && dechunk(got).startsWith(body), "echoed body");
  got = exchange(r, p, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 50);
  assert.ok(dechunk(got).startsWith("hello world"), "chunked request body echoed");
  p.close();
  // WebSocket: fragments, ping, a large message, close
  p = r.net.client(80)!;
  got = exchange(r, p, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 10);
  assert.match(got, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
  got = exchange(r, p, cat(frame(1, "frag", false), frame(9, "pi"), frame(0, "ment")), 20);
  assert.is(unframe(got), "1:fragment|10:pi", "fragments (re-fragmented as pieces) and a pong");
  got = exchange(r, p, frame(2, new Uint8Array(3000).fill(65)), 40);
  assert.ok(got.length >= 3000, "a large message back");
  got = exchange(r, p, frame(8, cat(new Uint8Array([3, 232]), "bye")), 40);
  assert.ok(got.includes("\x88"), "close echoed");
  // a bad frame: an unmasked one gets close 1002
  p = r.net.client(80)!;
  exchange(r, p, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 10);
  got = exchange(r, p, new Uint8Array([0x81, 2, 65, 66]), 40);
  assert.ok(got.includes("\x88\x02\x03\xea"), "close 1002");
  // invalid UTF-8 in a text frame: 1007
  p = r.net.client(80)!;
  exchange(r, p, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 10);
  got = exchange(r, p, frame(1, new Uint8Array([0xff, 0xfe])), 40);
  assert.ok(got.includes("\x88\x02\x03\xef"), "close 1007");
  M.mg_mgr_free(r.mgr);
}

const FILES = [
  { path: "/index.html", data: enc("<h1>hi</h1>"), mtime: 1700000000 },
  { path: "/index.html.gz", data: new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2]), mtime: 1700000000 },
  { path: "/a/b.css", data: enc("b{}"), mtime: 1700000001 },
];

function work_http(cap: number): void {
  const r = rig(cap);
  const opts = new M.mg_http_serve_opts();
  opts.fs = new M.mg_fs_packed(FILES);
  opts.extra_headers = "X-A: 1\r\n";
  const parts: string[] = [];
  M.mg_http_listen(r.mgr, "http://0.0.0.0:80", (c, ev, d) => {
    if (ev !== M.MG_EV_HTTP_MSG) return;
    const hm = d as InstanceType<Core["mg_http_message"]>;
    if (M.mg_match(hm.uri, M.mg_str("/api/#"), null)) {
      const user = new Uint8Array(32);
      const pass = new Uint8Array(32);
      const creds = new M.mg_http_creds_t();
      M.mg_http_creds(hm, creds);
      const v = M.mg_http_get_var_str(hm.query, "n");
      const ua = M.mg_http_get_header(hm, "User-Agent");
      const n = M.mg_json_get_long(hm.body, "$.n", -1);
      const json = M.mg_mprintf("{%m:%M,%m:%d,%m:%m,%m:%m}\n", ...M.MG_ESC("ua"), M.mg_print_esc, 0, String(ua),
        ...M.MG_ESC("n"), n, ...M.MG_ESC("v"), ...M.MG_ESC(String(v)), ...M.MG_ESC("user"), ...M.MG_ESC(creds.user));
      M.mg_http_reply(c, 200, "Content-Type: application/json\r\n", "%s", json);
      void user, pass;
    } else if (M.mg_match(hm.uri, M.mg_str("/form"), null)) {
      let ofs = 0;
      const part = new M.mg_http_part();
      while ((ofs = M.mg_http_next_multipart(hm.body, ofs, part)) > 0) parts.push(`${part.name}=${part.body}`);
      M.mg_http_reply(c, 200, "", "%d parts\n", parts.length);
    } else if (M.mg_match(hm.uri, M.mg_str("/chunks"), null)) {
      M.mg_printf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      M.mg_http_printf_chunk(c, "%s-%d", "a", 1);
      M.mg_http_write_chunk(c, "bcd");
      M.mg_http_printf_chunk(c, "");
    } else {
      M.mg_http_serve_dir(c, hm, opts);
    }
  }, null);
  const p = r.net.client(80)!;
  let got = exchange(r, p, "GET /index.html HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", 20);
  assert.match(got, /Content-Encoding: gzip/);
  const etag = /Etag: (\S+)/i.exec(got)![1];
  assert.match(exchange(r, p, `GET /index.html HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nIf-None-Match: ${etag}\r\n\r\n`, 20), /^HTTP\/1.1 304/);
  assert.match(exchange(r, p, "GET /a/b.css HTTP/1.1\r\nHost: x\r\nRange: bytes=1-\r\n\r\n", 20), /^HTTP\/1.1 20[06]/);
  assert.match(exchange(r, p, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 20), /^HTTP\/1.1 404/);
  assert.match(exchange(r, p, "GET /../etc HTTP/1.1\r\nHost: x\r\n\r\n", 20), /^HTTP\/1.1 (400|404)/);
  got = exchange(r, p, 'POST /api/x?n=%41b HTTP/1.1\r\nHost: x\r\nUser-Agent: t "q"\r\nAuthorization: Basic YWRtaW46cHc=\r\nContent-Length: 8\r\n\r\n{"n":42}', 20);
  assert.ok(got.includes('"n":42') && got.includes('b"') && got.includes('"user":"admin"') && got.includes('"ua":t \\"q\\"'), got);
  const B = "XyZ";
  const form = `--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\none\r\n--${B}\r\nContent-Disposition: form-data; name="f"; filename="x.txt"\r\n\r\ntwo\r\n--${B}--\r\n`;
  got = exchange(r, p, `POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${B}\r\nContent-Length: ${form.length}\r\n\r\n${form}`, 20);
  assert.ok(got.includes("2 parts"), got);
  got = exchange(r, p, "GET /chunks HTTP/1.1\r\nHost: x\r\n\r\n", 20);
  assert.match(got, /0*3\r\na-1\r\n3\r\nbcd\r\n0+\r\n\r\n$/);
  // bad input: 400 and 431, the connection freed
  assert.match(exchange(r, r.net.client(80)!, "GARBAGE\0\r\n\r\n", 30), /^HTTP\/1.1 400/);
  got = exchange(r, r.net.client(80)!, "GET / HTTP/1.1\r\n" + Array.from({ length: 100 }, (_, i) => `H${i}: v\r\n`).join("") + "\r\n", 30);
  assert.match(got, /^HTTP\/1.1 4(00|13|31)/, JSON.stringify(got.slice(0, 200)));
  // the 6.x events: chunks, multipart part events, REQUEST
  const ev6: string[] = [];
  const l6 = M.mg_http_listen(r.mgr, "http://0.0.0.0:81", (c, ev, d) => {
    if (ev === M.MG_EV_HTTP_PART_BEGIN || ev === M.MG_EV_HTTP_PART_DATA || ev === M.MG_EV_HTTP_PART_END) ev6.push(String(ev));
    else if (ev === M.MG_EV_HTTP_MULTIPART_REQUEST_END || ev === M.MG_EV_HTTP_REQUEST) M.mg_http_reply(c, 200, "", "ok6\n");
    void d;
  }, null)!;
  M.mg_set_protocol_http_websocket(l6);
  const q = r.net.client(81)!;
  got = exchange(r, q, `POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${B}\r\nContent-Length: ${form.length}\r\n\r\n${form}`, 30);
  assert.ok(got.includes("ok6") && ev6.length >= 6, ev6.join());
  got = exchange(r, q, "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 30);
  assert.ok(got.includes("ok6"));
  // the HTTP client against a test server
  const srv = r.net.server(8080);
  let reply = "";
  M.mg_http_connect(r.mgr, "http://127.0.0.1:8080/x", (c, ev, d) => {
    if (ev === M.MG_EV_CONNECT) M.mg_printf(c, "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    else if (ev === M.MG_EV_HTTP_MSG) {
      reply = String((d as InstanceType<Core["mg_http_message"]>).body);
      c.is_draining = true;
    }
  }, null);
  r.net.poll(r.mgr, 3);
  const s = r.net.accepted(srv)!;
  r.net.poll(r.mgr, 3);
  exchange(r, s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 20);
  assert.is(reply, "ok", "the client's reply");
  M.mg_mgr_free(r.mgr);
}

function work_ws_client(cap: number): void {
  const r = rig(cap);
  const srv = r.net.server(9001);
  const got: string[] = [];
  M.mg_ws_connect(r.mgr, "ws://127.0.0.1:9001/chat", (c, ev, d) => {
    if (ev === M.MG_EV_WS_OPEN) {
      M.mg_ws_send(c, "hi", undefined, M.WEBSOCKET_OP_TEXT);
      M.mg_ws_printf(c, M.WEBSOCKET_OP_TEXT, "{%m:%d}", ...M.MG_ESC("a"), 1);
      M.mg_ws_keepalive(c, 5, 1000);
    } else if (ev === M.MG_EV_WS_MSG) {
      got.push(String((d as InstanceType<Core["mg_ws_message"]>).data));
      M.mg_ws_close(c, 1000, "done");
    }
  }, null, "Origin: %s\r\n", "t");
  r.net.poll(r.mgr, 2);
  const s = r.net.accepted(srv)!;
  const req = exchange(r, s, "", 20);
  const key = /Sec-WebSocket-Key: (\S+)\r\n/.exec(req)![1];
  // the accept key, computed with the core's SHA-1 and base64 (run time, fresh buffers)
  const ctx = new M.mg_sha1_ctx();
  M.mg_sha1_init(ctx);
  const kb = enc(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  M.mg_sha1_update(ctx, kb, 0, kb.length);
  const dg = new Uint8Array(20);
  M.mg_sha1_final(dg, 0, ctx);
  const acc = new Uint8Array(40);
  const n = M.mg_base64_encode(dg, 0, 20, acc, 0, acc.length);
  const out = exchange(r, s, cat(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${latin1(acc.subarray(0, n))}\r\n\r\n`, new Uint8Array([0x81, 2, 111, 107])), 30);
  assert.equal(got, ["ok"]);
  assert.ok(out.length > 10, "masked frames from the client");
  M.mg_mgr_free(r.mgr);
}

function work_helpers(): void {
  const buf = new Uint8Array(256);
  const json = '{"a":[1,{"b":"x\\u00e9\\n"}],"t":true,"h":"0aff","b64":"aGVsbG8=","f":-1.5e3}';
  assert.is(M.mg_json_get_num(json, "$.f"), -1500);
  assert.is(M.mg_json_get_str(json, "$.a[1].b"), "xé\n");
  assert.is(M.mg_json_get_bool(json, "$.t"), true);
  assert.is(M.mg_json_get_long(json, "$.a[0]", 0), 1);
  assert.equal([...M.mg_json_get_hex(json, "$.h")!], [10, 255]);
  assert.is(latin1(M.mg_json_get_b64(json, "$.b64")!), "hello");
  assert.ok(M.mg_json_get(json, "$.a[9]", null) < 0);
  const key = M.mg_str();
  const val = M.mg_str();
  let ofs = 0;
  let keys = 0;
  while ((ofs = M.mg_json_next(M.mg_str(json), ofs, key, val)) > 0) keys++;
  assert.is(keys, 5);
  const n = M.mg_snprintf(buf, buf.length, "%d %5.2f %x %s %c %g %lld %M %m %H %V", -42, 3.14159, 255, "str", 65, 0.1, 2 ** 40,
    M.mg_print_base64, 3, enc("abc"), ...M.MG_ESC("q\"x"), 3, enc("\x01\x02\x03"), 2, enc("hi"));
  assert.ok(n > 30, latin1(buf.subarray(0, n)));
  assert.ok(M.mg_mprintf("%M %M %M", M.mg_print_ip4, enc("\x7f\0\0\x01"), M.mg_print_mac, enc("\x01\x02\x03\x04\x05\x06"), M.mg_print_hex, 2, enc("\xab\xcd")).length > 10);
  const b64 = new Uint8Array(64);
  const k = M.mg_base64_encode(enc("any carnal pleas"), 0, 16, b64, 0, 64);
  const back = new Uint8Array(64);
  assert.is(latin1(back.subarray(0, M.mg_base64_decode(b64, 0, k, back, 0, 64))), "any carnal pleas");
  M.mg_base64url_encode(enc("\xff\xfe"), 0, 2, b64, 0, 64);
  assert.is(M.mg_crc32(0, enc("123456789"), 0, 9) >>> 0, 0xcbf43926);
  M.mg_random(buf, 0, 16);
  M.mg_random_str(buf, 0, 16);
  assert.is(String(M.mg_url_host("http://u:p@example.com:8080/a?b")), "example.com");
  assert.is(String(M.mg_url_user("http://u:p@example.com:8080/a?b")), "u");
  assert.is(String(M.mg_url_uri("http://example.com")), "/");
  assert.is(M.mg_url_port("https://x"), 443);
  const addr = new M.mg_addr();
  assert.ok(M.mg_aton("10.0.0.1", addr));
  assert.ok(M.mg_aton("[::1]", addr));
  const caps = [M.mg_str(), M.mg_str()];
  assert.ok(M.mg_match(M.mg_str("/api/v1/x"), M.mg_str("/api/*/#"), caps));
  assert.ok(!M.mg_match(M.mg_str("/a/b/c/d/e/f"), M.mg_str("/*/*/*/x#"), null));
  const dec = new Uint8Array(32);
  assert.is(M.mg_url_decode(M.mg_str("a%20b+c"), dec, 0, 32, true), 5);
  assert.ok(M.mg_url_encode(M.mg_str("a b/é"), dec, 0, 32) > 0);
  assert.is(M.mg_str_to_num(M.mg_str("0x1f"), 0, 4), 31);
  assert.is(M.mg_casecmp("ABC", "abd") < 0, true);
  assert.ok(M.mg_path_is_sane(M.mg_str("/a/b")));
  assert.ok(M.mg_strstr(M.mg_str("hello"), M.mg_str("ll")) === 2);
  assert.is(M.mg_utf8_decode(M.mg_utf8_encode("é€😀"), 0, 9), "é€😀");
  M.mg_str_dup(M.mg_str("dup"));
  const sp = M.mg_str();
  M.mg_span(M.mg_str("a,b"), sp, sp, 44);
  // the log: every level, a hexdump, a custom sink
  const lines: string[] = [];
  M.mg_log_set_fn((b: Uint8Array, o: number, n: number) => lines.push(latin1(b.subarray(o, o + n))), null);
  M.mg_log_set(4);
  M.MG_ERROR("e %d", 1);
  M.MG_INFO("i %s", "x");
  M.MG_DEBUG("d %M", M.mg_print_esc, 0, "q");
  M.MG_VERBOSE("v");
  M.mg_hexdump(enc("0123456789abcdefXYZ"), 0, 19);
  M.mg_log_error_value(1, "oops", new Error("boom"));
  M.mg_log_set_fn(null);
  M.mg_log_set(0);
  assert.ok(lines.join("").length > 50, "log output");
}

function work_timers(): void {
  const r = rig();
  let fired = 0;
  let once = 0;
  M.mg_timer_add(r.mgr, 10, M.MG_TIMER_REPEAT | M.MG_TIMER_RUN_NOW, () => fired++, null);
  const t = M.mg_timer_add(r.mgr, 25, 0, () => once++, null);
  r.net.poll(r.mgr, 100, 1);
  assert.ok(fired >= 9 && once === 1, `${fired} ${once}`);
  if (t !== null) M.mg_timer_free(r.mgr, t);
  // the timer list on its own
  const list = new M.mg_timer_list();
  const tm = new M.mg_timer();
  M.mg_timer_init(list, tm, 5, M.MG_TIMER_REPEAT, () => fired++, null);
  for (let now = 0; now < 50; now += 3) M.mg_timer_poll(list, now);
  M.mg_timer_next(list, 50);
  M.mg_timer_unlink(list, tm);
  M.mg_mgr_free(r.mgr);
}

function work_dashboard(cap: number): void {
  const r = rig(cap);
  const board = new D.dash_board_sim(() => r.net.now);
  board.sntp = "udp://127.0.0.1:123"; // nobody answers: the dashboard's retries run
  const app = D.dash_init(r.mgr, { url: "http://0.0.0.0:80", board, files: FILES, user: "admin", pass: "pw" });
  const ask = (text: string | Uint8Array) => exchange(r, r.net.client(80)!, text, 40);
  const post = (uri: string, body: string, hdrs = "") => ask(`POST ${uri} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n${hdrs}\r\n${body}`);
  assert.match(ask("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), /^HTTP\/1.1 200/);
  assert.match(post("/api/login", "", "Authorization: Basic YWRtaW46bm8=\r\n"), /^HTTP\/1.1 401/);
  const res = post("/api/login", "", "Authorization: Basic YWRtaW46cHc=\r\n");
  const t = /"token":"([0-9a-f]{32})"/.exec(res)![1];
  const ck = `Cookie: access_token=${t}\r\n`;
  assert.match(post("/api/settings", '{"device_name":"Kitchen \\"e\\"","led":true,"interval_ms":500}', ck), /^HTTP\/1.1 200/);
  assert.ok(ask(`GET /api/settings HTTP/1.1\r\nHost: x\r\n${ck}\r\n`).includes('Kitchen \\"e\\"'));
  assert.match(post("/api/settings", '{"interval_ms":"no"}', ck), /^HTTP\/1.1 400/);
  assert.match(ask(`GET /api/stats HTTP/1.1\r\nHost: x\r\n${ck}\r\n`), /^HTTP\/1.1 200/);
  assert.match(ask(`GET /api/log?since=0 HTTP/1.1\r\nHost: x\r\n${ck}\r\n`), /^HTTP\/1.1 200/);
  const Bd = "----mgtsBoundary7MA4YWxk";
  const file = new Uint8Array(5000).map((_, i) => (i * 13) & 255);
  const body = cat(`--${Bd}\r\nContent-Disposition: form-data; name="file"; filename="fw.bin"\r\n\r\n`, file, `\r\n--${Bd}--\r\n`);
  const up = ask(cat(`POST /api/upload HTTP/1.1\r\nHost: x\r\n${ck}Content-Type: multipart/form-data; boundary=${Bd}\r\nContent-Length: ${body.length}\r\n\r\n`, body));
  assert.match(up, /^HTTP\/1.1 200/);
  assert.is(board.up_size, file.length);
  // the live WebSocket
  const p = r.net.client(80)!;
  const ws = exchange(r, p, `GET /websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${ck}\r\n`, 3000);
  assert.match(ws, /^HTTP\/1.1 101/);
  assert.ok(ws.includes("uptime") || ws.length > 200, "metrics pushed");
  assert.ok(exchange(r, p, frame(1, '{"id":1,"method":"settings.set","params":{"led":false}}'), 30).includes('"led":false'));
  assert.ok(exchange(r, p, frame(1, '{"id":2,"method":"rpc.list"}'), 30).includes("settings.get"));
  exchange(r, p, frame(8, new Uint8Array([3, 232])), 30);
  assert.match(post("/api/logout", "", ck), /^HTTP\/1.1 200/);
  assert.is(D.dash_name_ok("../x"), false);
  D.dash_free(app);
  M.mg_mgr_free(r.mgr);
}

/** SNTP: a good answer, a Kiss-o'-Death, no answer (the retries); JSON-RPC: every kind of frame. */
function work_sntp_rpc(cap: number): void {
  const r = rig(cap);
  const srv = r.net.udp(123);
  for (const stratum of [2, 0]) {
    const c = M.mg_sntp_connect(r.mgr, "udp://127.0.0.1:123", null, null)!;
    r.net.poll(r.mgr, 3);
    const req = srv.recvfrom()!;
    const rep = new Uint8Array(48);
    rep[0] = 0x24;
    rep[1] = stratum;
    rep[40] = 0xe9;
    for (let i = 0; i < 8; i++) rep[24 + i] = req[40 + i];
    srv.sendto(c.loc.port, rep);
    r.net.poll(r.mgr, 3);
  }
  assert.ok(M.mg_boot_timestamp() !== 0, "the clock was set");
  M.mg_sntp_connect(r.mgr, "udp://127.0.0.1:123", null, null);
  r.net.poll(r.mgr, 30, 1000);
  assert.is(r.mgr.conns, null, "every exchange over");
  const head = new M.mg_rpc_head();
  M.mg_rpc_add(head, "rpc.list", M.mg_rpc_list, null);
  M.mg_rpc_add(head, "sum", (q) => M.mg_rpc_ok(q, "%g", (M.mg_json_get_num(q.frame, "$.params[0]") ?? 0) + 1), null);
  M.mg_rpc_add(head, "", () => {}, null);
  const io = new M.mg_iobuf(4096);
  const req = new M.mg_rpc_req();
  req.head = head;
  req.pfn = M.mg_pfn_iobuf;
  req.pfn_data = io;
  const frames = ['{"id":1,"method":"sum","params":[1]}', '{"id":2,"method":"rpc.list"}', '{"id":3,"method":"no"}', "boo", "[1]", '{"id":4,"result":1}', "x".repeat(300)];
  for (const f of frames) {
    req.frame = M.mg_str(f);
    M.mg_rpc_process(req);
  }
  assert.ok(io.len > 0);
  M.mg_rpc_del(head, null);
  M.mg_mgr_free(r.mgr);
}

/** The device HAL over the host emulation of Moddable's sockets, real loopback. */
async function work_ecma419(): Promise<void> {
  const hal = W.mg_hal_ecma419(HOST.ecma419_host_platform());
  const mgr = new M.mg_mgr();
  M.mg_mgr_init(mgr, hal);
  const port = 20000 + (process.pid % 20000);
  assert.ok(M.mg_listen(mgr, `tcp://127.0.0.1:${port}`, E.echo_tcp, null) !== null, "listening on " + port);
  const { connect } = await import("node:net");
  const sock = connect(port, "127.0.0.1");
  const data = Buffer.alloc(30000, 7);
  let got = 0;
  sock.on("data", (d) => (got += d.length));
  sock.on("error", () => {});
  sock.write(data);
  const end = Date.now() + 5000;
  while (got < data.length && Date.now() < end) {
    M.mg_mgr_poll(mgr, 0);
    await new Promise((r) => setTimeout(r, 1));
  }
  sock.destroy();
  for (let i = 0; i < 20; i++) {
    M.mg_mgr_poll(mgr, 0);
    await new Promise((r) => setTimeout(r, 1));
  }
  M.mg_mgr_free(mgr);
  assert.is(got, data.length, "echoed over the ECMA-419 HAL");
}

/** MQTT: the mqtt app through the broker app (TCP and WebSocket), QoS 0/1/2, retained, a will, v5 properties and aliases, bad input. */
function work_mqtt(cap: number): void {
  const net = new K.mg_mock(64, 1 << 16);
  M.mg_hal_default(net);
  const mgr = QB.main({ port: 1883, host: "0.0.0.0" });
  net.read_cap = net.write_cap = cap;
  const r: Rig = { net, mgr };
  const pkt = (b0: number, body: number[]) => cat(new Uint8Array([b0, body.length]), new Uint8Array(body));
  const str = (t: string) => [0, t.length, ...enc(t)];
  const conn = (id: string, v: number) => pkt(0x10, [...str("MQTT"), v, 2 | (v === 5 ? 0 : 4), 0, 30, ...(v === 5 ? [0] : []), ...str(id), ...(v === 5 ? [] : [...str("will"), ...str("gone")])]);
  const app = Q.mqtt_app_start(mgr, { broker: "mqtt://127.0.0.1:1883", version: 5 });
  const app_ws = Q.mqtt_app_start(mgr, { broker: "ws://127.0.0.1:1884/mqtt", prefix: "ws" });
  const watch = r.net.client(1883)!;
  let got = exchange(r, watch, cat(conn("watch", 5), pkt(0x82, [0, 1, 0, ...str("#"), 2])), 20);
  const p = r.net.client(1883)!;
  exchange(r, p, cat(conn("p", 4), pkt(0x35, [...str("mgts/in/a"), 0, 7, ...enc("q2")]), pkt(0x62, [0, 7]), pkt(0x33, [...str("ws/in/b"), 0, 8, ...enc("q1r")]), pkt(0x30, [...str("mgts/in/c"), ...enc("q0")])), 40);
  got += exchange(r, watch, pkt(0xc0, []), 60);
  assert.ok(got.includes("mgts/out/a") && got.includes("ws/out/b") && got.includes("mgts/out/c"), "republished by both apps");
  assert.ok(app.republished === 2 && app_ws.republished === 1, "counted");
  // v5: a topic alias and properties; then malformed input closes that client only
  const v5 = r.net.client(1883)!;
  exchange(r, v5, cat(conn("v5", 5), pkt(0x30, [...str("t/x"), 5, 0x23, 0, 1, 0x01, 1, ...enc("a")]), pkt(0x30, [0, 0, 3, 0x23, 0, 1, ...enc("b")])), 20);
  exchange(r, v5, new Uint8Array([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 20);
  assert.ok(v5.closed, "malformed: closed");
  p.reset(); // its will goes
  got = exchange(r, watch, pkt(0xc0, []), 60);
  assert.ok(got.includes("gone"), "the will");
  M.mg_mgr_free(mgr);
}

async function workload(): Promise<void> {
  M.mg_log_set(0); // the apps' log lines are not looked at (the log itself is exercised by work_helpers)
  for (const cap of [0, 3]) {
    work_tcp_udp(cap);
    work_echo_app(cap);
    work_http(cap);
    work_ws_client(cap);
    work_dashboard(cap);
    work_sntp_rpc(cap);
    work_mqtt(cap);
  }
  work_helpers();
  work_timers();
  await work_ecma419();
}

// --- the tests -------------------------------------------------------------------

test.before(preload);
test.after(unpatch);

test("the device's modules make their buffers, Maps and Sets at preload (recorded), and the detector sees writes", () => {
  assert.ok(M !== undefined && D !== undefined && E !== undefined && W !== undefined, "modules loaded");
  assert.ok(recorded.length > 0, "the constant tables are recorded");
  // a deliberate write to a recorded buffer, by index and by method, is reported, then undone
  const r: Rec = recorded.find((x) => ArrayBuffer.isView(x.obj) && x.obj.byteLength > 0 && !(x.obj instanceof DataView))!;
  assert.ok(r !== undefined, "a recorded typed array");
  const old = r.obj[0];
  r.obj[0] = old ^ 1;
  assert.is(changed().length, 1, "an index write is caught");
  r.obj[0] = old;
  assert.equal(changed(), []);
  watching = true;
  r.obj.set([old], 0);
  watching = false;
  assert.is(writes.length, 1, "a method write is caught even when it changes nothing");
  writes.length = 0;
});

test("no object made at preload is written by a run-time workload over every protocol and both apps", async () => {
  watching = true;
  try {
    await workload();
  } finally {
    watching = false;
  }
  const bad = [...writes, ...changed()];
  assert.ok(bad.length === 0, `${bad.length} write(s) would throw "read-only buffer" on a device:\n  ` + bad.join("\n  "));
});

test.run();
