// TLS against real peers on 127.0.0.1 (hal/node.ts over node:tls), with
// certificates made at test time by openssl (test/tls_certs.ts):
// - the mgts client against node:tls (https GET, wss echo with the ws
//   library's server) and against `openssl s_server` (its -www page, and a
//   WebSocket echo spoken through its stdin and stdout);
// - curl, the ws library and Chromium against the mgts TLS listener (the
//   echo app's HTTPS handler, the dashboard with a certificate);
// - each way a handshake fails, against real servers, with the cause in
//   MG_EV_ERROR, and a proxy counting the bytes that left: what the handler
//   queued never crosses it;
// - mutual TLS with curl.
// curl and ws verify against the test CA; Chromium trusts the server's key
// by its SPKI hash. Every wait has a deadline. Node only.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash, createPublicKey } from "node:crypto";
import { readFileSync, writeFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as tls from "node:tls";
import { WebSocket, WebSocketServer } from "ws";
import { chromium, type Browser } from "playwright-core";
import { make_certs, type test_certs } from "./tls_certs.js";
import { until } from "./hal_suite.js";
import { mg_hal_node } from "../hal/node.js";
import {
  MG_EV_CONNECT,
  MG_EV_ERROR,
  MG_EV_HTTP_HDRS,
  MG_EV_HTTP_MSG,
  MG_EV_TLS_HS,
  MG_EV_WS_MSG,
  MG_EV_WS_OPEN,
  MG_EV_ACCEPT,
  mg_connect,
  mg_connection,
  mg_listen,
  mg_mgr,
  mg_mgr_free,
  mg_mgr_init,
  mg_mgr_run,
  mg_printf,
} from "../src/net.js";
import { mg_tls_init, type mg_tls_opts } from "../src/tls.js";
import { MG_EV_HTTP_CHUNK, mg_http_connect, mg_http_listen, mg_http_stream_body, type mg_http_message } from "../src/http.js";
import { WEBSOCKET_OP_BINARY, WEBSOCKET_OP_TEXT, mg_ws_connect, mg_ws_message, mg_ws_send } from "../src/ws.js";
import { mg_log_set_fn } from "../src/log.js";
import { echo_https } from "../firmware/echo/main.js";
import { dash_free, main as dash_main, type dash_app } from "../firmware/dashboard/main.js";
import { dash_board_node } from "../firmware/dashboard/board_node.js";

const WAIT = 15000;
const hal = mg_hal_node();
let C: test_certs;
const cleanup: (() => void | Promise<void>)[] = [];

test.before(() => {
  C = make_certs();
});
test.after(() => C.remove());
test.after.each(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function manager(): mg_mgr {
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, hal);
  mg_mgr_run(mgr, 50);
  cleanup.push(() => mg_mgr_free(mgr));
  return mgr;
}

/** A free port on 127.0.0.1 (the Node HAL learns a port-0 choice there only after binding). */
function free_port(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => ok(p));
    });
  });
}

function listen(s: net.Server): Promise<number> {
  return new Promise((ok) =>
    s.listen(0, "127.0.0.1", () => {
      cleanup.push(() => new Promise<void>((r) => s.close(() => r())));
      ok((s.address() as net.AddressInfo).port);
    }),
  );
}

/** Whether something listens on 127.0.0.1:port (the kernel's table: probing would use up an accept). */
function listening(port: number): boolean {
  const hex = ":" + port.toString(16).toUpperCase().padStart(4, "0") + " ";
  return readFileSync("/proc/net/tcp", "utf8").split("\n").some((l) => l.includes(hex) && / 0A /.test(l));
}

function run(cmd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((ok) => {
    execFile(cmd, args, { timeout: WAIT, maxBuffer: 16 << 20, encoding: "latin1" }, (e, out, err) => ok({ code: e === null ? 0 : typeof e.code === "number" ? e.code : -1, out, err }));
  });
}

function openssl_server(args: string[]): ChildProcess {
  const p = spawn("openssl", ["s_server", "-quiet", "-naccept", "1", "-cert", C.file("server.pem"), "-key", C.file("key.pem"), ...args], { stdio: ["pipe", "pipe", "pipe"] });
  cleanup.push(() => {
    p.kill();
  });
  return p;
}

interface Outcome {
  events: string[];
  body: string;
  error: string;
}

/** An mgts HTTPS GET the Mongoose 7 way: mg_tls_init on MG_EV_CONNECT, the request queued there too; the body streamed. */
async function get(mgr: mg_mgr, url: string, opts: mg_tls_opts, request = ""): Promise<Outcome> {
  const r: Outcome = { events: [], body: "", error: "" };
  let body = "";
  const path = new URL(url).pathname;
  mg_http_connect(mgr, url, (c: mg_connection, ev: number, ev_data: any) => {
    if (ev === MG_EV_CONNECT) {
      mg_tls_init(c, opts);
      if (request !== "") mg_printf(c, "%s", request);
      else mg_printf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
      r.events.push("connect");
    } else if (ev === MG_EV_TLS_HS) r.events.push("tls_hs:" + c.is_tls);
    else if (ev === MG_EV_HTTP_HDRS) mg_http_stream_body(c);
    else if (ev === MG_EV_HTTP_CHUNK) body += String((ev_data as mg_http_message).chunk);
    else if (ev === MG_EV_HTTP_MSG) {
      const hm = ev_data as mg_http_message;
      r.body = body;
      r.events.push("msg:" + String(hm.uri));
      c.is_draining = true;
    } else if (ev === MG_EV_ERROR) {
      r.error = ev_data;
      r.events.push("error");
    }
  }, null);
  assert.ok(await until(() => r.body !== "" || r.error !== "", WAIT), "an answer or an error: " + r.events.join(" "));
  return r;
}

/** A TCP proxy to port that counts what the client sends through it; closed once the client's side is. */
async function counting_proxy(port: number): Promise<{ port: number; up: () => number; closed: () => boolean }> {
  let up = 0;
  let closed = false;
  const px = net.createServer((c) => {
    const u = net.connect(port, "127.0.0.1");
    c.on("data", (d) => {
      up += d.length;
      u.write(d);
    });
    u.pipe(c);
    c.on("error", () => u.destroy());
    u.on("error", () => c.destroy());
    c.on("close", () => {
      closed = true;
      u.destroy();
    });
  });
  return { port: await listen(px), up: () => up, closed: () => closed };
}

// --- the mgts client against node:tls and openssl ----------------------------------

test("mgts https client → node:tls server: verified against the test CA as PEM and as DER, by name (SNI) and by IP", async () => {
  const seen: string[] = [];
  const srv = https.createServer({ key: C.key, cert: C.server }, (q, s) => {
    seen.push(((q.socket as tls.TLSSocket).servername || "(no SNI)") + " " + q.url);
    s.end("hello over TLS");
  });
  const port = await listen(srv);
  const mgr = manager();
  for (const [url, ca, sni] of [
    [`https://localhost:${port}/pem`, C.ca, "localhost"],
    [`https://localhost:${port}/der`, C.ca_der, "localhost"],
    [`https://127.0.0.1:${port}/ip`, C.ca, "(no SNI)"],
  ] as [string, string | Uint8Array, string][]) {
    const r = await get(mgr, url, { ca });
    assert.is(r.error, "", url);
    assert.is(r.body, "hello over TLS");
    assert.equal(r.events.slice(0, 2), ["connect", "tls_hs:true"], "MG_EV_TLS_HS before the reply");
    assert.is(seen[seen.length - 1], sni + " " + new URL(url).pathname);
  }
});

test("mgts wss client → ws WebSocketServer on node https: echo of a text message, then 100 KB in 100 binary ones", async () => {
  const srv = https.createServer({ key: C.key, cert: C.server });
  const wss = new WebSocketServer({ server: srv });
  wss.on("connection", (ws) => ws.on("message", (d, binary) => ws.send(d, { binary })));
  cleanup.push(() => new Promise<void>((r) => wss.close(() => r())));
  const port = await listen(srv);
  const mgr = manager();
  const N = 100;
  const big = new Uint8Array(N * 1000).map((_, i) => (i * 7) & 255);
  const got: string[] = [];
  let sent = -1; // binary messages sent, once the text one is back
  let sum = 0;
  mg_ws_connect(mgr, `wss://localhost:${port}/echo`, (c: mg_connection, ev: number, ev_data: any) => {
    if (ev === MG_EV_CONNECT) mg_tls_init(c, { ca: C.ca });
    if (ev === MG_EV_WS_OPEN) mg_ws_send(c, "over wss", 8, WEBSOCKET_OP_TEXT);
    if (ev === MG_EV_WS_MSG) {
      const wm = ev_data as mg_ws_message;
      if ((wm.flags & 15) === WEBSOCKET_OP_TEXT) {
        got.push(String(wm.data));
        sent = 0;
      } else {
        got.push("binary " + wm.data.len);
        for (let i = 0; i < wm.data.len; i++) sum += wm.data.buf[wm.data.ofs + i];
      }
    }
    // as many 1000-byte messages as the send buffer takes, the rest as it drains
    while (sent >= 0 && sent < N && mg_ws_send(c, big.subarray(sent * 1000, sent * 1000 + 1000), 1000, WEBSOCKET_OP_BINARY) > 0) sent++;
    if (ev === MG_EV_ERROR) got.push("error " + ev_data);
  }, null);
  assert.ok(await until(() => got.length >= N + 1, WAIT), got.length + ": " + got.slice(-3).join(" "));
  assert.is(got[0], "over wss");
  assert.ok(got.slice(1).every((g) => g === "binary 1000"), got.slice(1, 4).join(" "));
  assert.is(sum, big.reduce((a, b) => a + b, 0), "every byte came back");
});

test("mgts https client → openssl s_server -www: its status page, verified", async () => {
  const port = await free_port();
  openssl_server(["-accept", `127.0.0.1:${port}`, "-www"]);
  assert.ok(await until(() => listening(port), WAIT), "s_server listens");
  const mgr = manager();
  const r = await get(mgr, `https://localhost:${port}/`, { ca: C.ca });
  assert.is(r.error, "");
  assert.match(r.body, /s_server/);
  assert.match(r.body, /Ciphers supported in s_server binary/);
});

test("mgts wss client → openssl s_server: a WebSocket echo spoken through s_server's stdin and stdout", async () => {
  const port = await free_port();
  const p = openssl_server(["-accept", `127.0.0.1:${port}`]);
  ws_echo_over_stdio(p);
  assert.ok(await until(() => listening(port), WAIT), "s_server listens");
  const mgr = manager();
  const got: string[] = [];
  mg_ws_connect(mgr, `wss://localhost:${port}/`, (c: mg_connection, ev: number, ev_data: any) => {
    if (ev === MG_EV_CONNECT) mg_tls_init(c, { ca: C.ca_der });
    if (ev === MG_EV_WS_OPEN) {
      mg_ws_send(c, "one", 3, WEBSOCKET_OP_TEXT);
      mg_ws_send(c, "two", 3, WEBSOCKET_OP_TEXT);
    }
    if (ev === MG_EV_WS_MSG) got.push(String((ev_data as mg_ws_message).data));
    if (ev === MG_EV_ERROR) got.push("error " + ev_data);
  }, null);
  assert.ok(await until(() => got.length >= 2, WAIT), got.join(" "));
  assert.equal(got, ["one", "two"]);
});

/** The server half of RFC 6455 over a process's stdout (what the client sent) and stdin (what goes back): echoes each message. */
function ws_echo_over_stdio(p: ChildProcess): void {
  let buf = Buffer.alloc(0);
  let open = false;
  p.stdout!.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (!open) {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const key = /sec-websocket-key:\s*(\S+)/i.exec(buf.subarray(0, end).toString("latin1"))![1];
      const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
      p.stdin!.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      buf = buf.subarray(end + 4);
      open = true;
    }
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 127;
      let at = 2;
      if (len === 126) (len = buf.readUInt16BE(2)), (at = 4);
      else if (len === 127) (len = Number(buf.readBigUInt64BE(2))), (at = 10);
      if (buf.length < at + 4 + len) return;
      const mask = buf.subarray(at, at + 4);
      const data = Buffer.from(buf.subarray(at + 4, at + 4 + len)).map((b, i) => b ^ mask[i & 3]);
      const op = buf[0] & 15;
      buf = buf.subarray(at + 4 + len);
      if (op === 8) return void p.stdin!.end();
      const head = len < 126 ? Buffer.from([0x80 | op, len]) : Buffer.from([0x80 | op, 126, len >> 8, len & 255]);
      p.stdin!.write(Buffer.concat([head, data]));
    }
  });
}

// --- real clients against the mgts TLS listener --------------------------------------

/** The echo app's HTTPS handler (firmware/echo) on a port of 127.0.0.1 with the test certificate. */
async function echo_tls(opts: mg_tls_opts, errors?: string[]): Promise<number> {
  const mgr = manager();
  const port = await free_port();
  const fn = (c: mg_connection, ev: number, ev_data: any, o: mg_tls_opts) => {
    if (ev === MG_EV_ERROR && errors !== undefined) errors.push(ev_data);
    echo_https(c, ev, ev_data, o);
  };
  assert.ok(mg_http_listen(mgr, `https://127.0.0.1:${port}`, fn, opts) !== null);
  assert.ok(await until(() => listening(port), WAIT));
  return port;
}

test("curl → the mgts TLS listener: GET and a 1 MB POST streamed back, verified with --cacert; DER certificate and key", async () => {
  for (const opts of [{ cert: C.server, key: C.key }, { cert: C.server_der, key: C.key_der }]) {
    const port = await echo_tls(opts);
    const get = await run("curl", ["-sS", "--cacert", C.file("ca.pem"), `https://localhost:${port}/`]);
    assert.is(get.err, "");
    assert.is(get.out, "hi\n");
    const body = join(C.dir, "body.bin");
    const data = Buffer.alloc(1 << 20).map((_, i) => (i * 31 + (i >> 9)) & 255);
    writeFileSync(body, data);
    const post = await run("curl", ["-sS", "--cacert", C.file("ca.pem"), "--data-binary", "@" + body, "-H", "Content-Type: application/octet-stream", `https://127.0.0.1:${port}/echo`]);
    assert.is(post.err, "");
    assert.ok(Buffer.from(post.out, "latin1").equals(data), `the body came back (${post.out.length} bytes)`);
  }
});

test("curl without the CA refuses the mgts listener (unknown CA, said by its alert); plain HTTP to the TLS port is 'not TLS'", async () => {
  const errors: string[] = [];
  const port = await echo_tls({ cert: C.server, key: C.key }, errors);
  const r = await run("curl", ["-sS", `https://localhost:${port}/`]);
  assert.is(r.code, 60, "curl: certificate problem");
  assert.ok(await until(() => errors.length > 0, WAIT));
  assert.is(errors[0], "TLS: peer rejected our certificate (unknown ca)");
  const plain = await run("curl", ["-sS", `http://127.0.0.1:${port}/`]);
  assert.ok(plain.code !== 0 && plain.out === "", "nothing in plaintext: " + plain.out);
  assert.ok(await until(() => errors.length > 1, WAIT));
  assert.match(errors[1], /^TLS: peer is not TLS \(http request\)/);
});

test("mutual TLS with curl: a listener with a CA takes a client certificate from it, refuses none or another's", async () => {
  const errors: string[] = [];
  const port = await echo_tls({ cert: C.server, key: C.key, ca: C.ca }, errors);
  const url = `https://localhost:${port}/`;
  const ok = await run("curl", ["-sS", "--cacert", C.file("ca.pem"), "--cert", C.file("client.pem"), "--key", C.file("key.pem"), url]);
  assert.is(ok.out, "hi\n", ok.err);
  const none = await run("curl", ["-sS", "--cacert", C.file("ca.pem"), url]);
  assert.ok(none.code !== 0);
  assert.ok(await until(() => errors.length >= 1, WAIT));
  assert.is(errors[0], "TLS: no client certificate");
  const rogue = await run("curl", ["-sS", "--cacert", C.file("ca.pem"), "--cert", C.file("rogue.pem"), "--key", C.file("key.pem"), url]);
  assert.ok(rogue.code !== 0);
  assert.ok(await until(() => errors.length >= 2, WAIT));
  assert.match(errors[1], /^TLS: unknown CA \(.*\) \(client\)$/);
});

test("the ws library → the mgts wss listener (the echo app's /ws), verifying the test CA: text, and 200 KB in pieces", async () => {
  const port = await echo_tls({ cert: C.server, key: C.key });
  const ws = new WebSocket(`wss://localhost:${port}/ws`, { ca: C.ca });
  cleanup.push(() => ws.terminate());
  const got: Buffer[] = [];
  ws.on("message", (d: Buffer) => got.push(d));
  await new Promise((ok, fail) => {
    ws.once("open", ok);
    ws.once("error", fail);
  });
  ws.send("hello over wss");
  const big = Buffer.alloc(200 * 1024).map((_, i) => (i * 13) & 255);
  ws.send(big);
  assert.ok(await until(() => got.length >= 2 && Buffer.concat(got.slice(1)).length >= big.length, WAIT), `${got.length} messages`);
  assert.is(got[0].toString(), "hello over wss");
  assert.ok(Buffer.concat(got.slice(1)).equals(big), "the 200 KB came back");
  // and a client that does not trust the listener fails on its side
  const bad = new WebSocket(`wss://localhost:${port}/ws`, { ca: C.rogue_ca });
  cleanup.push(() => bad.terminate());
  const err = await new Promise<Error>((ok) => bad.once("error", ok));
  assert.match(err.message, /self-signed|unable to verify|certificate/i);
});

test("clients that leave right after their handshake (a half-open close) free their connection and TLS slot at once", async () => {
  const mgr = manager();
  const port = await free_port();
  let errors = 0;
  mg_listen(mgr, `tls://127.0.0.1:${port}`, (c: mg_connection, ev: number) => {
    if (ev === MG_EV_ACCEPT) mg_tls_init(c, { cert: C.server, key: C.key });
    if (ev === MG_EV_ERROR) errors++;
  }, null);
  assert.ok(await until(() => listening(port), WAIT));
  for (let i = 0; i < 40; i++) {
    await new Promise<void>((ok, fail) => {
      const s = tls.connect({ port, host: "127.0.0.1", servername: "localhost", ca: C.ca });
      s.once("secureConnect", () => {
        s.destroy();
        ok();
      });
      s.once("error", fail);
    });
  }
  assert.ok(await until(() => mgr.tls_conns === 0 && mgr.conns !== null && mgr.conns.next === null, WAIT), `${mgr.tls_conns} TLS connections left`);
  assert.ok(errors <= 40);
});

// --- each failure against a real server ---------------------------------------------

/** What the handler queues: it must never reach a server that fails verification. */
const SECRET = "GET /secret HTTP/1.1\r\nHost: localhost\r\nX-Token: " + "t0k3n".repeat(400) + "\r\n\r\n";

async function tls_server(opts: tls.TlsOptions, got: number[]): Promise<number> {
  const srv = tls.createServer(opts, (s) => {
    s.on("data", (d) => (got[0] += d.length));
    s.on("error", () => {});
  });
  srv.on("tlsClientError", () => {});
  return listen(srv);
}

const FAILURES: { what: string; server: () => Promise<number>; host?: string; error: RegExp }[] = [
  { what: "unknown CA (a certificate from a CA nobody trusts)", server: () => tls_server({ key: C.key, cert: C.rogue }, [0]), error: /^TLS: unknown CA \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/ },
  { what: "wrong host name", server: () => tls_server({ key: C.key, cert: C.other }, [0]), error: /^TLS: wrong host name \(localhost\)$/ },
  { what: "expired certificate", server: () => tls_server({ key: C.key, cert: C.expired }, [0]), error: /^TLS: certificate expired$/ },
  {
    what: "handshake failure (no cipher suite in common)",
    server: () => tls_server({ key: C.key, cert: C.server, ciphers: "NULL-SHA256:@SECLEVEL=0", maxVersion: "TLSv1.2" }, [0]),
    error: /^TLS: handshake failed \(alert: handshake failure\)$/,
  },
  {
    what: "a peer that is not TLS (an HTTP server answering 400)",
    server: () => listen(net.createServer((s) => s.once("data", () => s.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")))),
    error: /^TLS: peer is not TLS \(wrong version number\)$/,
  },
  { what: "a peer that closes during the handshake", server: () => listen(net.createServer((s) => s.once("data", () => s.destroy()))), error: /^TLS: closed during handshake$/ },
];

for (const f of FAILURES) {
  test(`against a real server, ${f.what}: MG_EV_ERROR names it; the queued request never crosses the wire`, async () => {
    const port = await f.server();
    const px = await counting_proxy(port);
    const mgr = manager();
    const r = await get(mgr, `https://localhost:${px.port}/secret`, { ca: C.ca }, SECRET);
    assert.match(r.error, f.error);
    assert.not.ok(r.events.some((e) => e.startsWith("tls_hs")), r.events.join(" "));
    assert.ok(await until(px.closed, WAIT), "the client's connection ends: everything it sent has been counted");
    assert.ok(px.up() < 1000, `${px.up()} bytes left the client: a ClientHello and an alert at most, never the ${SECRET.length}-byte request`);
  });
}

test("skip_verification reaches the server with an untrusted, expired certificate, and logs the warning", async () => {
  const got = [0];
  const port = await tls_server({ key: C.key, cert: C.expired }, got);
  const lines: string[] = [];
  mg_log_set_fn((b: Uint8Array, o: number, n: number) => lines.push(Buffer.from(b.subarray(o, o + n)).toString()));
  cleanup.push(() => mg_log_set_fn(null));
  const mgr = manager();
  mg_connect(mgr, `tls://localhost:${port}`, (c: mg_connection, ev: number) => {
    if (ev === MG_EV_CONNECT) mg_tls_init(c, { skip_verification: true });
    if (ev === MG_EV_TLS_HS) mg_printf(c, "ping");
  }, null);
  assert.ok(await until(() => got[0] === 4, WAIT), "the server got the bytes");
  assert.ok(lines.some((l) => l.includes("skip_verification: the peer's certificate and name are NOT checked")), lines.join(""));
});

// --- Chromium: the dashboard over HTTPS ----------------------------------------------

test("Chromium → the dashboard over HTTPS (wss for the live data), trusting the server's key by its SPKI hash", async () => {
  const CHROMIUM = "/usr/bin/chromium";
  assert.ok(existsSync(CHROMIUM), "Debian's chromium is installed (.ci/run installs it)");
  const packer = await import(pathToFileURL(resolve("tools/pack.mjs")).href);
  const files = packer.pack("firmware/dashboard/web");
  const dir = mkdtempSync(join(tmpdir(), "mgts-dash-tls-"));
  const port = await free_port();
  const mgr = dash_main({ url: `https://127.0.0.1:${port}`, tls: { cert: C.server, key: C.key }, board: new dash_board_node({ dir }), files, user: "admin", pass: "s3cret", hal });
  cleanup.push(() => {
    dash_free(mgr.userdata as dash_app);
    mg_mgr_free(mgr);
    rmSync(dir, { recursive: true, force: true });
  });
  const spki = createHash("sha256").update(createPublicKey(C.key).export({ type: "spki", format: "der" })).digest("base64");
  const args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--ignore-certificate-errors-spki-list=" + spki];
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args, headless: true, timeout: 60000 });
    const page = await browser.newPage();
    const r = await page.goto(`https://localhost:${port}/`, { timeout: WAIT });
    assert.is(r!.status(), 200);
    assert.is(new URL(page.url()).protocol, "https:");
    await page.waitForSelector("#loginform", { state: "visible", timeout: WAIT });
    await page.fill("#user", "admin");
    await page.fill("#pass", "s3cret");
    await page.click("#loginbtn");
    await page.waitForSelector("#dash", { state: "visible", timeout: WAIT });
    const cookies = await page.context().cookies();
    assert.ok(cookies.some((c) => c.name === "access_token" && c.secure && c.httpOnly), "the token cookie is Secure over HTTPS");
    // the live values come over wss://
    await page.waitForFunction(() => (globalThis as any).document.getElementById("livetext").textContent === "live", null, { timeout: WAIT });
    const up1 = await page.textContent("#m-uptime");
    await page.waitForFunction((v) => (globalThis as any).document.getElementById("m-uptime").textContent !== v, up1, { timeout: WAIT });
  } finally {
    if (browser !== null) await browser.close();
  }
});

test.run();
