// mg_http_serve_dir / mg_http_serve_file over the packed filesystem (what a
// device serves from flash), over the mock network. Runs on Node and XS.
// The same options over the host's filesystem are in http-interop.node.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_mock, mg_mock_peer, mg_mock_bytes } from "../hal/mock.js";
import { MG_IO_SIZE } from "../src/config.js";
import { mg_fs_packed, type mg_packed_file } from "../src/fs.js";
import { MG_EV_HTTP_MSG, mg_connection, mg_mgr, mg_mgr_init } from "../src/net.js";
import { mg_http_listen, mg_http_message, mg_http_serve_dir, mg_http_serve_file, mg_http_serve_opts } from "../src/http.js";

const enc = mg_mock_bytes;

const BIG = new Uint8Array(3 * MG_IO_SIZE + 123);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 31 + 7) & 255;
const GZ = new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4]); // stands for app.js compressed

const FILES: mg_packed_file[] = [
  { path: "/index.html", data: enc("<h1>home</h1>"), mtime: 1700000000 },
  { path: "/ten.txt", data: enc("0123456789"), mtime: 1700000001 },
  { path: "/app.js", data: enc("console.log(1)"), mtime: 1700000002 },
  { path: "/app.js.gz", data: GZ, mtime: 1700000002 },
  { path: "/big.bin", data: BIG, mtime: 1700000003 },
  { path: "/sub/index.html", data: enc("sub index"), mtime: 1700000004 },
  { path: "/nodex/a.json", data: enc("{\"a\":1}"), mtime: 1700000005 },
  { path: "/gzonly/index.html.gz", data: GZ, mtime: 1700000006 },
  { path: "/404.html", data: enc("<p>lost</p>"), mtime: 1700000007 },
  { path: "/secret.txt", data: enc("outside the web root"), mtime: 1700000008 },
];

interface Resp {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits what a peer received into responses (Content-Length framed). */
function responses(raw: string): Resp[] {
  const out: Resp[] = [];
  let i = 0;
  while (i < raw.length) {
    const end = raw.indexOf("\r\n\r\n", i);
    if (end < 0) break;
    const lines = raw.slice(i, end).split("\r\n");
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const k = l.indexOf(":");
      headers[l.slice(0, k).toLowerCase()] = l.slice(k + 1).trim();
    }
    const status = Number(lines[0].split(" ")[1]);
    const len = Number(headers["content-length"] ?? "0");
    const head_only = headers["x-head"] === "1";
    const body = head_only ? "" : raw.slice(end + 4, end + 4 + len);
    out.push({ status, headers, body });
    i = end + 4 + body.length;
  }
  return out;
}

function setup(opts: mg_http_serve_opts) {
  const net = new mg_mock(64, 1 << 16);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  mg_http_listen(mgr, "http://0.0.0.0:80", (c: mg_connection, ev: number, hm: any) => {
    if (ev !== MG_EV_HTTP_MSG) return;
    const m = hm as mg_http_message;
    if (String(m.uri) === "/file") mg_http_serve_file(c, m, "/ten.txt", opts);
    else mg_http_serve_dir(c, m, opts);
  }, null);
  return { net, mgr };
}

function get(net: mg_mock, mgr: mg_mgr, p: mg_mock_peer, req: string, polls = 10): string {
  p.send(req);
  let got = "";
  for (let i = 0; i < polls; i++) {
    net.poll(mgr);
    got += p.recv_str();
  }
  return got;
}

function one(net: mg_mock, mgr: mg_mgr, path: string, extra = ""): Resp {
  const p = net.client(80)!;
  const r = responses(get(net, mgr, p, `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`));
  assert.is(r.length, 1, path);
  p.close();
  net.poll(mgr, 2);
  return r[0];
}

function packed_opts(): mg_http_serve_opts {
  const o = new mg_http_serve_opts();
  o.root_dir = "/";
  o.fs = new mg_fs_packed(FILES);
  return o;
}

test("a directory serves its index.html; Content-Type, ETag, exact length", () => {
  const { net, mgr } = setup(packed_opts());
  const r = one(net, mgr, "/");
  assert.is(r.status, 200);
  assert.is(r.body, "<h1>home</h1>");
  assert.is(r.headers["content-type"], "text/html; charset=utf-8");
  assert.is(r.headers["etag"], '"1700000000.13"');
  assert.is(r.headers["content-length"], "13");
  assert.is(one(net, mgr, "/sub/").body, "sub index");
  assert.is(one(net, mgr, "/index.html").body, "<h1>home</h1>");
});

test("a directory without its slash → 301 to it (query kept); no index → 403", () => {
  const { net, mgr } = setup(packed_opts());
  const r = one(net, mgr, "/sub?x=1");
  assert.is(r.status, 301);
  assert.is(r.headers["location"], "/sub/?x=1");
  assert.is(r.headers["content-length"], "0");
  assert.is(one(net, mgr, "/nodex/").status, 403);
  assert.is(one(net, mgr, "/nodex/a.json").headers["content-type"], "application/json");
});

test("index.html.gz alone serves the directory to a gzip client", () => {
  const { net, mgr } = setup(packed_opts());
  const r = one(net, mgr, "/gzonly/", "Accept-Encoding: gzip\r\n");
  assert.is(r.status, 200);
  assert.is(r.headers["content-encoding"], "gzip");
  assert.is(r.headers["content-type"], "text/html; charset=utf-8");
  assert.is(r.body.length, GZ.length);
});

test("MIME table, overrides, and '*' overriding every file", () => {
  const o = packed_opts();
  let { net, mgr } = setup(o);
  assert.is(one(net, mgr, "/app.js").headers["content-type"], "text/javascript; charset=utf-8");
  assert.is(one(net, mgr, "/ten.txt").headers["content-type"], "text/plain; charset=utf-8");
  o.mime_types = "txt=text/x-ten, js=application/x-js";
  assert.is(one(net, mgr, "/ten.txt").headers["content-type"], "text/x-ten");
  assert.is(one(net, mgr, "/app.js").headers["content-type"], "application/x-js");
  o.mime_types = "*=application/x-all";
  assert.is(one(net, mgr, "/index.html").headers["content-type"], "application/x-all");
});

test("ETag + If-None-Match → 304 without a body; the connection stays usable", () => {
  const { net, mgr } = setup(packed_opts());
  const p = net.client(80)!;
  const etag = '"1700000001.10"';
  const raw = get(net, mgr, p, `GET /ten.txt HTTP/1.1\r\nIf-None-Match: ${etag}\r\n\r\nGET /ten.txt HTTP/1.1\r\nIf-None-Match: "other"\r\n\r\n`);
  const r = responses(raw);
  assert.is(r.length, 2);
  assert.is(r[0].status, 304);
  assert.is(r[0].headers["content-length"], "0");
  assert.is(r[0].headers["etag"], etag);
  assert.is(r[1].status, 200);
  assert.is(r[1].body, "0123456789");
});

test("Range: a-b, open a-, suffix -n → 206; unsatisfiable → 416; several or garbage → 200", () => {
  const { net, mgr } = setup(packed_opts());
  const cases: [string, number, string, string | undefined][] = [
    ["bytes=2-4", 206, "234", "bytes 2-4/10"],
    ["bytes=7-", 206, "789", "bytes 7-9/10"],
    ["bytes=-3", 206, "789", "bytes 7-9/10"],
    ["bytes=-30", 206, "0123456789", "bytes 0-9/10"],
    ["bytes=0-100", 206, "0123456789", "bytes 0-9/10"],
    ["bytes=5-2", 416, "", "bytes */10"],
    ["bytes=10-", 416, "", "bytes */10"],
    ["bytes=-0", 416, "", "bytes */10"],
    ["bytes=0-1,5-6", 200, "0123456789", undefined],
    ["abc", 200, "0123456789", undefined],
  ];
  for (const [range, status, body, cr] of cases) {
    const r = one(net, mgr, "/ten.txt", `Range: ${range}\r\n`);
    assert.is(r.status, status, range);
    assert.is(r.body, body, range);
    assert.is(r.headers["content-range"], cr, range);
    if (status !== 416) assert.is(Number(r.headers["content-length"]), body.length, range);
  }
  // a range of a file larger than the buffer, across piece boundaries
  const r = one(net, mgr, "/big.bin", `Range: bytes=${MG_IO_SIZE - 5}-${2 * MG_IO_SIZE + 5}\r\n`);
  assert.is(r.status, 206);
  assert.is(r.body.length, MG_IO_SIZE + 11);
  let same = true;
  for (let i = 0; i < r.body.length; i++) if (r.body.charCodeAt(i) !== BIG[MG_IO_SIZE - 5 + i]) same = false;
  assert.ok(same, "range bytes exact");
});

test("precompressed .gz with Accept-Encoding: gzip; plain otherwise", () => {
  const { net, mgr } = setup(packed_opts());
  const z = one(net, mgr, "/app.js", "Accept-Encoding: deflate, gzip;q=0.9\r\n");
  assert.is(z.headers["content-encoding"], "gzip");
  assert.is(z.headers["content-type"], "text/javascript; charset=utf-8", "type of the original name");
  assert.is(z.headers["vary"], "Accept-Encoding");
  assert.is(z.body.length, GZ.length);
  assert.is(z.body.charCodeAt(0), 0x1f);
  const plain = one(net, mgr, "/app.js");
  assert.is(plain.headers["content-encoding"], undefined);
  assert.is(plain.body, "console.log(1)");
  // the weights count (RFC 9110 §12.5.3): q=0 refuses gzip, whatever the substring says
  for (const [ae, gz] of [
    ["gzip;q=0", false],
    ["gzip; q=0.000, deflate", false],
    ["GZIP;Q=0.", false],
    ["*;q=0", false],
    ["x-gzip", true],
    ["identity, *", true],
    ["*, gzip;q=0", false],
    ["br;q=1, gzip;q=0.001", true],
    ["notgzip", false],
  ] as [string, boolean][]) {
    const r = one(net, mgr, "/app.js", `Accept-Encoding: ${ae}\r\n`);
    assert.is(r.headers["content-encoding"], gz ? "gzip" : undefined, ae);
  }
});

test("extra headers on every file answer; 404 page; plain 404 without one", () => {
  const o = packed_opts();
  o.extra_headers = "Cache-Control: max-age=60\r\nX-Served-By: mgts\r\n";
  const { net, mgr } = setup(o);
  const r = one(net, mgr, "/ten.txt");
  assert.is(r.headers["cache-control"], "max-age=60");
  assert.is(r.headers["x-served-by"], "mgts");
  const missing = one(net, mgr, "/nope.txt");
  assert.is(missing.status, 404);
  assert.is(missing.body, "Not found\n");
  o.page404 = "/404.html";
  const page = one(net, mgr, "/nope.txt");
  assert.is(page.status, 404);
  assert.is(page.body, "<p>lost</p>");
  assert.is(page.headers["content-type"], "text/html; charset=utf-8");
});

test("path traversal is refused with 400, encoded or not", () => {
  const o = packed_opts();
  o.root_dir = "/sub";
  const { net, mgr } = setup(o);
  assert.is(one(net, mgr, "/").body, "sub index", "root_dir is the folder served");
  for (const path of ["/../secret.txt", "/%2e%2e/secret.txt", "/a/..%2f..%2fsecret.txt", "/..\\secret.txt", "/x%00y"]) {
    const r = one(net, mgr, path);
    assert.is(r.status, 400, path);
    assert.is(r.body, "Invalid path\n", path);
  }
});

test("root rewrites: the longest URI prefix picks the folder", () => {
  const o = packed_opts();
  o.root_dir = "/=/,/docs=/sub";
  const { net, mgr } = setup(o);
  assert.is(one(net, mgr, "/docs/").body, "sub index");
  assert.is(one(net, mgr, "/ten.txt").body, "0123456789");
});

test("a file larger than the buffer streams as the peer reads, every byte in order; HEAD has no body", () => {
  const { net, mgr } = setup(packed_opts());
  net.write_cap = 700;
  const p = net.client(80)!;
  p.send("GET /big.bin HTTP/1.1\r\n\r\nGET /ten.txt HTTP/1.1\r\n\r\n");
  const got: number[] = [];
  p.stall(true);
  net.poll(mgr, 20); // the peer reads nothing: the server must wait, not drop or spin out
  p.stall(false);
  for (let i = 0; i < 200; i++) {
    net.poll(mgr);
    for (const b of p.recv()) got.push(b);
  }
  let raw = "";
  for (const b of got) raw += String.fromCharCode(b);
  const r = responses(raw);
  assert.is(r.length, 2, "the pipelined request waits for the file, then is answered");
  assert.is(r[0].body.length, BIG.length);
  let same = true;
  for (let i = 0; i < BIG.length; i++) if (r[0].body.charCodeAt(i) !== BIG[i]) same = false;
  assert.ok(same, "every byte");
  assert.is(r[1].body, "0123456789");
  net.write_cap = 0;
  const h = get(net, mgr, p, "HEAD /big.bin HTTP/1.1\r\n\r\n");
  assert.match(h, new RegExp(`^HTTP/1.1 200 OK\\r\\n[^]*Content-Length: ${BIG.length}\\r\\n[^]*\\r\\n\\r\\n$`));
});

test("HTTP/1.0: the file is sent whole, then the connection closes; serve_file names one file", () => {
  const { net, mgr } = setup(packed_opts());
  const p = net.client(80)!;
  const raw = get(net, mgr, p, "GET /big.bin HTTP/1.0\r\n\r\n", 40);
  assert.is(responses(raw)[0].body.length, BIG.length);
  assert.ok(p.closed);
  const q = net.client(80)!;
  assert.is(responses(get(net, mgr, q, "GET /file HTTP/1.1\r\n\r\n"))[0].body, "0123456789");
});

test("no filesystem → 500, never a throw", () => {
  const o = new mg_http_serve_opts();
  const { net, mgr } = setup(o);
  assert.is(one(net, mgr, "/x").status, 500);
});

test.run();
