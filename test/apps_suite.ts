// The loopback suites of the echo and http-server apps, written once and run
// against every runtime: the host simulator (test/apps.node.test.ts, the apps
// on hal/node in this process) and Moddable's lin build (test/apps.moddable.
// test.ts, the apps as mcconfig built them, under mcsim). The clients are
// the real ones users have: curl, Node's fetch and node:http, the ws
// library, raw TCP and UDP sockets. Each suite takes its target's ports
// from a function called when a test runs (the target starts in before()).
//
// Sizes are chosen for the smallest target: the lin build has the ESP32's
// configuration (MG_IO_SIZE 2048, 8 connections listeners included,
// MG_MAX_HTTP_HEADERS 20) and sockets that move about 75 KB/s.
import type { Test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createSocket } from "node:dgram";
import * as http from "node:http";
import { connect, type Socket } from "node:net";
import { WebSocket } from "ws";

export interface echo_target {
  /** HTTP (/echo, /ws, the rest as mg_hello). */
  http: number;
  /** Raw TCP echo. */
  tcp: number;
  /** UDP echo. */
  udp: number;
}

export interface http_server_target {
  port: number;
}

/** Bytes that are not all alike: a misplaced or lost piece changes the hash. */
export function pattern(n: number, seed = 7): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * seed + (i >> 8) + (i >> 16)) & 255;
  return b;
}

function sha(b: Buffer | Uint8Array): string {
  return createHash("sha1").update(b).digest("hex");
}

export interface curl_result {
  code: number | null;
  out: Buffer;
  err: string;
}

/** curl with a deadline of its own (--max-time) and ours (a kill); body, if any, goes to its stdin (-T - or --data-binary @-). */
export function curl(args: string[], timeout_s = 30, body?: Buffer): Promise<curl_result> {
  return new Promise((done) => {
    const p = spawn("curl", ["-sS", "--max-time", String(timeout_s), ...args], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    p.stdout.on("data", (d) => out.push(d));
    p.stderr.on("data", (d) => (err += d));
    p.stdin.on("error", () => {});
    p.stdin.end(body);
    const t = setTimeout(() => p.kill("SIGKILL"), (timeout_s + 5) * 1000);
    p.on("close", (code) => {
      clearTimeout(t);
      done({ code, out: Buffer.concat(out), err });
    });
  });
}

/**
 * Sends raw bytes and collects the answer: until the server closes when
 * until_close, else until one whole response (head and its Content-Length
 * body) is in; at most ms. closed tells whether the server closed.
 */
export function raw_exchange(port: number, data: Buffer | string, until_close = false, ms = 10000): Promise<{ text: string; closed: boolean }> {
  return new Promise((done) => {
    const s = connect(port, "127.0.0.1");
    let got = Buffer.alloc(0);
    let closed = false;
    const t = setTimeout(() => s.destroy(), ms);
    s.on("connect", () => s.write(data));
    s.on("data", (d) => {
      got = Buffer.concat([got, d]);
      if (until_close) return;
      const end = got.indexOf("\r\n\r\n");
      if (end < 0) return;
      const cl = /content-length: *(\d+)/i.exec(got.subarray(0, end).toString("latin1"));
      if (got.length >= end + 4 + (cl !== null ? Number(cl[1]) : 0)) s.destroy();
    });
    s.on("end", () => (closed = true));
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(t);
      done({ text: got.toString("latin1"), closed });
    });
  });
}

/** node:http request on an agent; resolves with status, headers, body and whether the socket was reused. */
function request(agent: http.Agent, port: number, method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; reused: boolean }> {
  return new Promise((done, fail) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d) => chunks.push(d));
      res.on("end", () => done({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), reused: req.reusedSocket }));
      res.on("error", fail);
    });
    req.setTimeout(30000, () => req.destroy(new Error("node:http: no answer in 30 s")));
    req.on("error", fail);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function ws_open(port: number, path: string): Promise<WebSocket> {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false, handshakeTimeout: 10000 });
    ws.once("open", () => ok(ws));
    ws.once("error", fail);
  });
}

function ws_next(ws: WebSocket, ms = 30000): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error("ws: no message in " + ms + " ms")), ms);
    ws.once("message", (data, binary) => {
      clearTimeout(t);
      ok({ data: Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), binary });
    });
  });
}

function ws_closed(ws: WebSocket, ms = 10000): Promise<{ code: number; reason: string }> {
  return new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error("ws: not closed in " + ms + " ms")), ms);
    ws.once("close", (code, reason) => {
      clearTimeout(t);
      ok({ code, reason: reason.toString() });
    });
  });
}

/** A raw WebSocket client: the handshake by hand, so it can send what the ws library will not (bad opcodes). */
function raw_ws(port: number, path: string): Promise<{ s: Socket; rest: Buffer }> {
  return new Promise((ok, fail) => {
    const s = connect(port, "127.0.0.1");
    let got = Buffer.alloc(0);
    const t = setTimeout(() => (s.destroy(), fail(new Error("raw ws: no 101"))), 10000);
    s.on("error", fail);
    s.on("connect", () =>
      s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`),
    );
    const on = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const end = got.indexOf("\r\n\r\n");
      if (end < 0) return;
      clearTimeout(t);
      s.off("data", on);
      if (!got.subarray(0, 12).toString().includes("101")) return fail(new Error("raw ws: " + got.toString("latin1")));
      ok({ s, rest: got.subarray(end + 4) });
    };
    s.on("data", on);
  });
}

/** A masked client frame. */
function frame(op: number, payload: Buffer, fin = true): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const head = payload.length < 126 ? Buffer.from([(fin ? 0x80 : 0) | op, 0x80 | payload.length]) : Buffer.from([(fin ? 0x80 : 0) | op, 0x80 | 126, payload.length >> 8, payload.length & 255]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

/** The close code of the first close frame the server sends after `send` (a raw connection), or -1. */
async function close_code_after(port: number, send: Buffer): Promise<number> {
  const { s, rest } = await raw_ws(port, "/ws");
  return new Promise((ok) => {
    let got = rest;
    const t = setTimeout(() => (s.destroy(), ok(-1)), 10000);
    const look = () => {
      // server frames are unmasked: [op, len, ...payload]
      for (let i = 0; i + 1 < got.length; ) {
        const op = got[i] & 15;
        const len = got[i + 1] & 127;
        if (len >= 126) break; // not expected before a close
        if (op === 8 && i + 2 + len <= got.length) {
          clearTimeout(t);
          s.destroy();
          return ok(len >= 2 ? got.readUInt16BE(i + 2) : 1005);
        }
        i += 2 + len;
      }
    };
    s.on("data", (d) => {
      got = Buffer.concat([got, d]);
      look();
    });
    s.on("close", () => (clearTimeout(t), ok(-1)));
    s.write(send);
    look();
  });
}

function tcp_echo(port: number, data: Buffer, ms = 30000): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const s = connect(port, "127.0.0.1");
    const got: Buffer[] = [];
    let n = 0;
    const t = setTimeout(() => (s.destroy(), fail(new Error(`tcp echo: ${n} of ${data.length} bytes back`))), ms);
    s.on("connect", () => s.write(data));
    s.on("data", (d) => {
      got.push(d);
      n += d.length;
      if (n >= data.length) {
        clearTimeout(t);
        s.end();
        ok(Buffer.concat(got));
      }
    });
    s.on("error", (e) => (clearTimeout(t), fail(e)));
  });
}

function udp_echo(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const u = createSocket("udp4");
    const t = setTimeout(() => (u.close(), fail(new Error("udp echo: no answer in 5 s"))), 5000);
    u.on("message", (m) => {
      clearTimeout(t);
      u.close();
      ok(m);
    });
    u.send(data, port, "127.0.0.1");
  });
}

/** A body larger than MG_IO_SIZE (2048) many times over, small enough for lin's ~75 KB/s sockets. */
const BIG = 150 * 1024 + 7;

// --- the echo app ----------------------------------------------------------------------

export function echo_suite(t: Test, target: () => echo_target): void {
  const url = (p: string) => `http://127.0.0.1:${target().http}${p}`;

  t("curl: keep-alive, three requests on one connection, each answered by mg_hello", async () => {
    const r = await curl(["-w", "[%{num_connects}]\\n", url("/a"), url("/b?x=1"), url("/c")]);
    assert.is(r.code, 0, r.err);
    assert.is(r.out.toString(), "hi\n[1]\nhi\n[0]\nhi\n[0]\n", "one connect, then the same connection twice");
  });

  t("curl: /echo streams back a body many times MG_IO_SIZE, with Content-Length (Expect: 100-continue) and chunked", async () => {
    const body = pattern(BIG);
    const a = await curl(["--data-binary", "@-", "-H", "Content-Type: application/octet-stream", url("/echo")], 60, body);
    assert.is(a.code, 0, a.err);
    assert.is(sha(a.out), sha(body), `Content-Length: ${a.out.length} of ${body.length} bytes back`);
    const b = await curl(["-T", "-", "-X", "POST", "-H", "Transfer-Encoding: chunked", url("/echo")], 60, body);
    assert.is(b.code, 0, b.err);
    assert.is(sha(b.out), sha(body), `chunked: ${b.out.length} of ${body.length} bytes back`);
  });

  t("node:http: keep-alive (the socket is reused), four connections at once, pipelined-size bodies", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    try {
      const a = await request(agent, target().http, "GET", "/x");
      assert.is(a.status, 200);
      assert.is(a.body.toString(), "hi\n");
      const b = await request(agent, target().http, "POST", "/echo", pattern(3000));
      assert.ok(b.reused, "the second request went over the first one's connection");
      assert.is(sha(b.body), sha(pattern(3000)));
      const all = await Promise.all([1, 2, 3, 4].map((k) => request(agent, target().http, "POST", "/echo", pattern(20000, k))));
      for (let k = 0; k < 4; k++) assert.is(sha(all[k].body), sha(pattern(20000, k + 1)), `client ${k + 1}`);
    } finally {
      agent.destroy();
    }
  });

  t("bad requests get the protocol's answer and the server goes on: 400, 431 (headers), 431 (head too large), 413", async () => {
    const bad = await raw_exchange(target().http, "GARBAGE\r\n\r\n", true);
    assert.match(bad.text, /^HTTP\/1\.1 400 /, JSON.stringify(bad));
    assert.ok(bad.closed, "closed after the 400");
    let many = "GET / HTTP/1.1\r\nHost: x\r\n";
    for (let i = 0; i < 40; i++) many += `X-H${i}: ${i}\r\n`;
    const m = await raw_exchange(target().http, many + "\r\n");
    assert.match(m.text, /^HTTP\/1\.1 431 /, "more headers than MG_MAX_HTTP_HEADERS");
    const huge = await raw_exchange(target().http, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(5000) + "\r\n\r\n");
    assert.match(huge.text, /^HTTP\/1\.1 431 /, "a head larger than the buffer");
    const big = await raw_exchange(target().http, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(3000));
    assert.match(big.text, /^HTTP\/1\.1 413 /, "a body mg_hello does not stream, larger than the buffer");
    const r = await fetch(url("/"));
    assert.is(await r.text(), "hi\n", "the server still answers");
  });

  t("ws: text and binary back with their type; a message larger than MG_IO_SIZE back whole", async () => {
    const ws = await ws_open(target().http, "/ws");
    try {
      ws.send("hello é€😀");
      const a = await ws_next(ws);
      assert.is(a.binary, false);
      assert.is(a.data.toString(), "hello é€😀");
      const big = pattern(60000, 3);
      ws.send(big);
      const b = await ws_next(ws);
      assert.is(b.binary, true);
      assert.is(sha(b.data), sha(big), `${b.data.length} of ${big.length} bytes`);
    } finally {
      ws.terminate();
    }
  });

  t("ws: a fragmented message (three frames) comes back as one message; a clean close echoes the code", async () => {
    const ws = await ws_open(target().http, "/ws");
    const part = pattern(3000, 5);
    ws.send(part, { binary: true, fin: false });
    ws.send(part, { binary: true, fin: false });
    ws.send(part, { binary: true, fin: true });
    const m = await ws_next(ws);
    assert.is(sha(m.data), sha(Buffer.concat([part, part, part])));
    const closed = ws_closed(ws);
    ws.close(4001, "bye");
    const c = await closed;
    assert.is(c.code, 4001, "the server echoes the close code");
  });

  t("ws: bad frames close with the RFC's codes: 1007 invalid UTF-8, 1002 a reserved opcode", async () => {
    assert.is(await close_code_after(target().http, frame(1, Buffer.from([0x68, 0xff, 0xfe]))), 1007);
    assert.is(await close_code_after(target().http, frame(3, Buffer.from("x"))), 1002);
    const ws = await ws_open(target().http, "/ws");
    ws.send("still here");
    assert.is((await ws_next(ws)).data.toString(), "still here");
    ws.terminate();
  });

  t("TCP echo: 100 KB back intact", async () => {
    const data = pattern(100 * 1024, 13);
    const back = await tcp_echo(target().tcp, data);
    assert.is(sha(back), sha(data));
  });

  t("UDP echo: a datagram comes back to its sender", async () => {
    const back = await udp_echo(target().udp, Buffer.from("ping over udp"));
    assert.is(back.toString(), "ping over udp");
  });

  // last: fetch (undici) keeps its connections open for a few seconds after, and the pool has 8
  t("fetch: a body sent as a stream (chunked) and one with a length, back whole; keep-alive", async () => {
    const body = pattern(BIG, 11);
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < body.length; i += 10000) c.enqueue(body.subarray(i, i + 10000));
        c.close();
      },
    });
    const r1 = await fetch(url("/echo"), { method: "POST", body: stream, duplex: "half" } as any);
    assert.is(r1.status, 200);
    assert.is(r1.headers.get("transfer-encoding"), "chunked");
    assert.is(sha(Buffer.from(await r1.arrayBuffer())), sha(body));
    const r2 = await fetch(url("/echo"), { method: "POST", body: body.subarray(0, 5000) });
    assert.is(sha(Buffer.from(await r2.arrayBuffer())), sha(body.subarray(0, 5000)));
    const r3 = await fetch(url("/"));
    assert.is(await r3.text(), "hi\n");
  });
}

// --- the http-server app -----------------------------------------------------------------

export function http_server_suite(t: Test, target: () => http_server_target): void {
  const url = (p: string) => `http://127.0.0.1:${target().port}${p}`;

  t("the built-in web root: index, stylesheet, script, 404; ETag and If-None-Match give 304", async () => {
    const r = await fetch(url("/"));
    assert.is(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(await r.text(), /<h1>mgts http-server<\/h1>/);
    const css = await fetch(url("/style.css"));
    assert.match(css.headers.get("content-type") ?? "", /^text\/css/);
    const js = await curl(["-i", url("/app.js")]);
    assert.match(js.out.toString(), /^HTTP\/1\.1 200 /);
    const etag = /etag: (\S+)/i.exec(js.out.toString());
    assert.ok(etag !== null, "an ETag");
    const again = await curl(["-i", "-H", `If-None-Match: ${etag![1]}`, url("/app.js")]);
    assert.match(again.out.toString(), /^HTTP\/1\.1 304 /);
    assert.is((await fetch(url("/nope.html"))).status, 404);
  });

  t("the JSON API: stats, sum, a 400 for what is not {a, b}, a 404 JSON for an unknown route, 403 for uploads", async () => {
    const s: any = await (await fetch(url("/api/stats"))).json();
    assert.ok(typeof s.uptime_ms === "number" && s.requests >= 1 && s.connections >= 1, JSON.stringify(s));
    const sum = await fetch(url("/api/sum"), { method: "POST", body: '{"a": 1.5, "b": 2}' });
    assert.equal(await sum.json(), { result: 3.5 });
    const bad = await fetch(url("/api/sum"), { method: "POST", body: '{"a": "x"}' });
    assert.is(bad.status, 400);
    const nested = await fetch(url("/api/sum"), { method: "POST", body: '{"a": ' + "[".repeat(40) + "]".repeat(40) + ', "b": 1}' });
    assert.is(nested.status, 400, "nesting deeper than MG_JSON_MAX_DEPTH is refused, not followed");
    const none = await fetch(url("/api/nope"));
    assert.is(none.status, 404);
    assert.equal(await none.json(), { error: "no such API" });
    const up = await fetch(url("/api/upload?file=a.bin"), { method: "POST", body: "x" });
    assert.is(up.status, 403, "no filesystem to write to: uploads are off");
  });

  t("node:http: keep-alive, and four clients at once", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    try {
      const a = await request(agent, target().port, "GET", "/api/stats");
      assert.is(a.status, 200);
      const b = await request(agent, target().port, "POST", "/api/sum", '{"a":2,"b":3}');
      assert.ok(b.reused, "the same connection");
      assert.is(b.body.toString().trim(), '{"result":5}');
      const all = await Promise.all([1, 2, 3, 4].map((k) => request(agent, target().port, "POST", "/api/sum", `{"a":${k},"b":${k}}`)));
      for (let k = 0; k < 4; k++) assert.is(all[k].body.toString().trim(), `{"result":${2 * (k + 1)}}`);
    } finally {
      agent.destroy();
    }
  });

  t("bad requests: 400, 431, 413 for a body larger than the buffer the API does not stream; the server goes on", async () => {
    const bad = await raw_exchange(target().port, "GET /\x01 HTTP/1.1\r\n\r\n");
    assert.match(bad.text, /^HTTP\/1\.1 400 /);
    const huge = await raw_exchange(target().port, "GET / HTTP/1.1\r\nHost: x\r\nCookie: " + "c".repeat(5000) + "\r\n\r\n");
    assert.match(huge.text, /^HTTP\/1\.1 431 /);
    const big = await raw_exchange(target().port, "POST /api/sum HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n" + "1".repeat(3000));
    assert.match(big.text, /^HTTP\/1\.1 413 /);
    assert.is((await fetch(url("/api/stats"))).status, 200, "the server still answers");
  });
}
