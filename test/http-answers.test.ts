// One answer per request, in request order, and never a second status line
// (issue 10): pipelined requests wait until the previous reply is out;
// mg_http_reply closes the connection rather than let the next answer take
// the place of one it could not give; refusals come before MG_EV_HTTP_HDRS,
// and a failure after a response began closes instead of answering twice.
// Also: Connection: close said back, 413 for an upload over its cap, 400 for
// a WebSocket handshake without a key, 401 at the head (body unread) from the
// dashboard. Over the mock, on Node and XS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_mock, mg_mock_peer } from "../hal/mock.js";
import { MG_IO_SIZE } from "../src/config.js";
import { MG_EV_HTTP_HDRS, MG_EV_HTTP_MSG, mg_connection, mg_mgr, mg_mgr_init, mg_send } from "../src/net.js";
import {
  MG_EV_HTTP_CHUNK,
  MG_EV_HTTP_REQUEST_CANCEL,
  mg_http_listen,
  mg_http_message,
  mg_http_reply,
  mg_http_serve_dir,
  mg_http_serve_opts,
  mg_http_stream_body,
  mg_http_upload,
} from "../src/http.js";
import { mg_ws_upgrade } from "../src/ws.js";
import { MG_FS_READ, MG_FS_WRITE, mg_fs, mg_fs_packed, mg_fs_stat } from "../src/fs.js";
import { http_server, http_server_app } from "../firmware/http-server/main.js";
import { web_files } from "../firmware/http-server/web.js";
import { sum_expected, sum_requests, sum_results } from "./pipelined.js";
import { echo_http } from "../firmware/echo/main.js";
import { dash_board_sim, dash_free, dash_init } from "../firmware/dashboard/main.js";

function manager(): { net: mg_mock; mgr: mg_mgr } {
  const net = new mg_mock(64, 1 << 16);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  return { net, mgr };
}

/** Sends all of req as the server takes it, polling, until `until` says done or the server closed; returns what came back. */
function talk(net: mg_mock, mgr: mg_mgr, p: mg_mock_peer, req: string, until: (out: string) => boolean, max_polls = 3000): string {
  let sent = 0;
  let out = "";
  for (let i = 0; i < max_polls && !until(out) && !p.closed; i++) {
    if (sent < req.length) sent += p.send(req.slice(sent));
    net.poll(mgr, 1);
    out += p.recv_str();
  }
  return out + p.recv_str();
}

function count(s: string, what: string): number {
  return s.split(what).length - 1;
}


function http_server_on(mgr: mg_mgr, app = new http_server_app()): http_server_app {
  if (app.opts.fs === null) app.opts.fs = new mg_fs_packed(web_files());
  mg_http_listen(mgr, "http://0.0.0.0:80", http_server as any, app);
  return app;
}

// --- pipelining --------------------------------------------------------------------

test("60 pipelined /api/sum to the http-server app: 60 answers, in order, under slow writes", () => {
  for (const cap of [0, 200, 7]) {
    const { net, mgr } = manager();
    http_server_on(mgr);
    net.write_cap = cap; // the network takes answers more slowly than requests come
    const p = net.client(80)!;
    const out = talk(net, mgr, p, sum_requests(60), (o) => o.includes('{"result":1059}'), 20000);
    const results = sum_results(out);
    const want = sum_expected(60);
    assert.is(count(out, "HTTP/1.1 200 OK"), 60, `cap ${cap}: 60 answers, all 200 (${count(out, "HTTP/1.1 ")} status lines)`);
    assert.equal(results, want, `cap ${cap}: in request order`);
    assert.not.ok(p.closed, "kept alive");
  }
});

test("a reply that cannot be given closes the connection: the next pipelined answer never takes its place", () => {
  const { net, mgr } = manager();
  const results: boolean[] = [];
  mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev, hm) => {
    if (ev !== MG_EV_HTTP_MSG) return;
    const uri = String((hm as mg_http_message).uri);
    if (uri === "/fill") {
      // a handler that already filled the send buffer: not even a 500 fits
      mg_send(c, new Uint8Array(MG_IO_SIZE - 60).fill(46));
      results.push(mg_http_reply(c, 200, "", "%s", "x".repeat(100)));
    } else if (uri === "/big") {
      results.push(mg_http_reply(c, 200, "", "%s", "y".repeat(MG_IO_SIZE)));
    } else results.push(mg_http_reply(c, 200, "", "next"));
  }, null);
  // too large, but room for a 500: answered with 500, in order, and the next one after it
  const q = net.client(80)!;
  const out1 = talk(net, mgr, q, "GET /big HTTP/1.1\r\n\r\nGET /n HTTP/1.1\r\n\r\n", (o) => o.endsWith("next"));
  assert.match(out1, /^HTTP\/1.1 500 [^]*\r\n\r\nInternal Server Error: response too large\nHTTP\/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext$/);
  assert.equal(results, [false, true]);
  // no room at all: the connection closes after what was queued; /n is never answered
  results.length = 0;
  const p = net.client(80)!;
  const out2 = talk(net, mgr, p, "GET /fill HTTP/1.1\r\n\r\nGET /n HTTP/1.1\r\n\r\n", () => false, 200);
  assert.equal(results, [false], "mg_http_reply said false, and /n was not handled");
  assert.ok(p.closed, "closed");
  assert.is(count(out2, "next"), 0, "the next answer did not take the unanswered one's place");
});

test("the handler's Connection: close and is_draining end the pipeline: later requests are not answered", () => {
  const { net, mgr } = manager();
  let handled = 0;
  mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev) => {
    if (ev !== MG_EV_HTTP_MSG) return;
    handled++;
    mg_http_reply(c, 200, "", "one");
    c.is_draining = true;
  }, null);
  const p = net.client(80)!;
  const out = talk(net, mgr, p, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", () => false, 100);
  assert.is(out, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none");
  assert.is(handled, 1);
  assert.ok(p.closed);
});

// --- errors before the head goes out, and after ---------------------------------------

test("echo /echo with Expect: weird: 417 alone, before the handler's chunked 200 head", () => {
  const { net, mgr } = manager();
  mg_http_listen(mgr, "http://0.0.0.0:80", echo_http, null);
  const p = net.client(80)!;
  const out = talk(net, mgr, p, "POST /echo HTTP/1.1\r\nHost: d\r\nExpect: weird\r\nContent-Length: 5\r\n\r\nhello", () => false, 100);
  assert.match(out, /^HTTP\/1.1 417 Expectation Failed\r\n/);
  assert.is(count(out, "HTTP/1.1 "), 1, "one status line: " + JSON.stringify(out));
  assert.ok(p.closed);
});

test("echo /echo, a bad chunk after the 200 head went out: the response is cut short by a close, no second status line", () => {
  for (const cap of [0, 3]) {
    const { net, mgr } = manager();
    mg_http_listen(mgr, "http://0.0.0.0:80", echo_http, null);
    net.read_cap = cap;
    const p = net.client(80)!;
    let out = talk(net, mgr, p, "POST /echo HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", (o) => o.endsWith("hello\r\n"), 300);
    out += talk(net, mgr, p, "zz\r\nmore\r\n0\r\n\r\n", () => false, 300);
    assert.match(out, /^HTTP\/1.1 200 OK\r\n[^]*Transfer-Encoding: chunked\r\n\r\n(?:[0-9a-f]+\r\n[a-z]+\r\n)+$/, `cap ${cap}: ${JSON.stringify(out)}`);
    assert.ok(out.endsWith("lo\r\n"), "hello echoed, and no last chunk: " + JSON.stringify(out));
    assert.is(count(out, "HTTP/1.1 "), 1, "one status line");
    assert.ok(p.closed, "closed: the client sees the chunked body end without its last chunk");
  }
});

test("a streamed body that fails (bad chunk) is abandoned: MG_EV_HTTP_REQUEST_CANCEL; 400 when nothing was answered yet", () => {
  const { net, mgr } = manager();
  const events: string[] = [];
  mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev, hm) => {
    if (ev === MG_EV_HTTP_HDRS) mg_http_stream_body(c);
    else if (ev === MG_EV_HTTP_CHUNK) events.push("CHUNK " + String((hm as mg_http_message).chunk));
    else if (ev === MG_EV_HTTP_REQUEST_CANCEL) events.push("CANCEL");
    else if (ev === MG_EV_HTTP_MSG) events.push("MSG");
  }, null);
  const p = net.client(80)!;
  talk(net, mgr, p, "POST /s HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", () => events.length > 0, 100);
  const out = talk(net, mgr, p, "q\r\n", () => false, 100);
  assert.match(out, /^HTTP\/1.1 400 Bad Request\r\n/);
  assert.equal(events, ["CHUNK abc", "CANCEL"]);
});

// --- what the answers say ---------------------------------------------------------------

test("Connection: close (and HTTP/1.0) is said back by mg_http_reply and the file server, once", () => {
  const { net, mgr } = manager();
  const opts = new mg_http_serve_opts();
  opts.fs = new mg_fs_packed(web_files());
  opts.root_dir = "/";
  mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev, hm) => {
    if (ev !== MG_EV_HTTP_MSG) return;
    const uri = String((hm as mg_http_message).uri);
    if (uri === "/own") mg_http_reply(c, 200, "connection: Close\r\n", "own");
    else if (uri === "/r") mg_http_reply(c, 200, "Content-Type: text/plain\r\n", "r");
    else mg_http_serve_dir(c, hm, opts);
  }, null);
  const cases: [string, RegExp][] = [
    ["GET /r HTTP/1.1\r\nConnection: close\r\n\r\n", /^HTTP\/1.1 200 OK\r\nContent-Type: text\/plain\r\nConnection: close\r\nContent-Length: 1\r\n\r\nr$/],
    ["GET /r HTTP/1.0\r\n\r\n", /^HTTP\/1.1 200 OK\r\nContent-Type: text\/plain\r\nConnection: close\r\n/],
    ["GET /own HTTP/1.1\r\nConnection: close\r\n\r\n", /^HTTP\/1.1 200 OK\r\nconnection: Close\r\nContent-Length: 3\r\n\r\nown$/],
    ["GET / HTTP/1.1\r\nConnection: close\r\n\r\n", /^HTTP\/1.1 200 OK\r\n[^]*Connection: close\r\n/],
  ];
  for (const [req, want] of cases) {
    const p = net.client(80)!;
    const out = talk(net, mgr, p, req, () => false, 200);
    assert.match(out, want, JSON.stringify(out.slice(0, 200)));
    assert.is(count(out.toLowerCase(), "connection:"), 1, "said once");
    assert.ok(p.closed);
  }
  const k = net.client(80)!;
  const out = talk(net, mgr, k, "GET /r HTTP/1.1\r\n\r\n", (o) => o.endsWith("\r\n\r\nr"));
  assert.is(count(out.toLowerCase(), "connection:"), 0, "a kept-alive reply says nothing");
});

/** Enough of a filesystem for mg_http_upload: files in memory. */
class mem_fs implements mg_fs {
  files = new Map<string, number>();
  st(path: string, out: mg_fs_stat | null): number {
    const n = this.files.get(path);
    if (n === undefined) return 0;
    if (out !== null) {
      out.size = n;
      out.mtime = 0;
    }
    return MG_FS_READ | MG_FS_WRITE;
  }
  ls(): void {}
  op(path: string, flags: number): any {
    if ((flags & MG_FS_WRITE) !== 0 && !this.files.has(path)) this.files.set(path, 0);
    return this.files.has(path) ? { path } : null;
  }
  cl(): void {}
  rd(): number {
    return 0;
  }
  wr(fd: any, _buf: Uint8Array, _ofs: number, len: number): number {
    this.files.set(fd.path, this.files.get(fd.path)! + len);
    return len;
  }
  sk(): boolean {
    return true;
  }
  mv(): boolean {
    return false;
  }
  rm(path: string): boolean {
    return this.files.delete(path);
  }
  mkd(): boolean {
    return false;
  }
}

test("an upload over its cap gets 413 (declared at the head, or growing past it in chunks)", () => {
  const { net, mgr } = manager();
  const fs = new mem_fs();
  mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev, hm) => {
    if (ev === MG_EV_HTTP_HDRS) mg_http_upload(c, hm, fs, "/up", 1000);
  }, null);
  const p = net.client(80)!;
  const out = talk(net, mgr, p, `POST /u?file=a.bin&offset=0 HTTP/1.1\r\nContent-Length: 5000\r\n\r\n${"z".repeat(5000)}`, (o) => o.length > 0, 200);
  assert.match(out, /^HTTP\/1.1 413 Content Too Large\r\n/, out);
  const q = net.client(80)!;
  const chunk = "x".repeat(600);
  const out2 = talk(net, mgr, q, `POST /u?file=b.bin&offset=0 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`, (o) => o.length > 0, 200);
  assert.match(out2, /^HTTP\/1.1 413 Content Too Large\r\n/, out2);
  const r = net.client(80)!;
  const out3 = talk(net, mgr, r, `POST /u?file=c.bin&offset=0 HTTP/1.1\r\nContent-Length: 1000\r\n\r\n${"y".repeat(1000)}`, (o) => o.endsWith("1000"), 200);
  assert.match(out3, /^HTTP\/1.1 200 OK\r\n[^]*\r\n\r\n1000$/, "at the cap is fine");
});

test("the http-server app: an upload declared over max_upload gets 413", () => {
  const { net, mgr } = manager();
  const app = new http_server_app();
  app.opts.fs = new mem_fs();
  app.upload_dir = "/up";
  app.max_upload = 100;
  http_server_on(mgr, app);
  const p = net.client(80)!;
  const out = talk(net, mgr, p, `POST /api/upload?file=f&offset=0 HTTP/1.1\r\nContent-Length: 101\r\n\r\n${"a".repeat(101)}`, (o) => o.length > 0, 200);
  assert.match(out, /^HTTP\/1.1 413 /, out);
});

test("WebSocket handshake without Sec-WebSocket-Key: 400 (426 is for the version, RFC 6455 §4.2.2)", () => {
  const { net, mgr } = manager();
  mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev, hm) => {
    if (ev === MG_EV_HTTP_MSG) mg_ws_upgrade(c, hm, null);
  }, null);
  const base = "GET /ws HTTP/1.1\r\nHost: d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  const cases: [string, number][] = [
    [base + "Sec-WebSocket-Version: 13\r\n\r\n", 400],
    [base + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n", 400],
    [base + "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 426],
    ["GET /ws HTTP/1.1\r\nHost: d\r\n\r\n", 426],
  ];
  for (const [req, code] of cases) {
    const p = net.client(80)!;
    const out = talk(net, mgr, p, req, () => false, 50);
    assert.is(Number(out.slice(9, 12)), code, JSON.stringify(req) + " → " + JSON.stringify(out.slice(0, 60)));
  }
});

// --- unauthenticated bodies -------------------------------------------------------------

test("dashboard: a 50 MB upload from a client not logged in gets 401 at the head, closed, its body unread", () => {
  const { net, mgr } = manager();
  const board = new dash_board_sim(() => net.now);
  const app = dash_init(mgr, { url: "http://0.0.0.0:80", board, files: [], user: "admin", pass: "pw" });
  const p = net.client(80)!;
  const head = "POST /api/upload HTTP/1.1\r\nHost: d\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 52428800\r\n\r\n";
  p.send(head);
  const piece = new Uint8Array(16384).fill(65);
  let pushed = 0;
  let out = "";
  for (let i = 0; i < 400 && !p.closed; i++) {
    pushed += p.send(piece);
    net.poll(mgr, 1);
    out += p.recv_str();
  }
  out += p.recv_str();
  assert.match(out, /^HTTP\/1.1 401 Unauthorized\r\n/);
  assert.ok(p.closed, "closed after the answer");
  assert.ok(pushed < 256 * 1024, "the body was not read: " + pushed + " bytes taken");
  assert.is(board.up_name, "", "the board saw nothing");
  // a settings POST is refused at the head too; a GET keeps its connection
  const q = net.client(80)!;
  const out2 = talk(net, mgr, q, 'POST /api/settings HTTP/1.1\r\nContent-Length: 12\r\n\r\n{"led":true}', () => false, 50);
  assert.match(out2, /^HTTP\/1.1 401 /);
  assert.ok(q.closed);
  const g = net.client(80)!;
  const out3 = talk(net, mgr, g, "GET /api/stats HTTP/1.1\r\n\r\n", (o) => o.includes("}"), 50);
  assert.match(out3, /^HTTP\/1.1 401 /);
  assert.not.ok(g.closed, "no body: kept alive");
  dash_free(app);
});

test.run();
