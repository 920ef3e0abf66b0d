// HTTP over the mock network: parser, replies, keep-alive, pipelining,
// bodies of any size, 6.x events, multipart, bad input. Runs on Node and XS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_mock, mg_mock_peer, mg_mock_bytes } from "../hal/mock.js";
import { MG_HTTP_HEAD_TIMEOUT_MS, MG_IO_SIZE, MG_MAX_HTTP_HEADERS } from "../src/config.js";
import {
  MG_EV_CLOSE,
  MG_EV_CONNECT,
  MG_EV_ERROR,
  MG_EV_HTTP_HDRS,
  MG_EV_HTTP_MSG,
  MG_EV_WRITE,
  mg_connection,
  mg_mgr,
  mg_mgr_init,
  mg_printf,
  mg_send,
  mg_set_timeout,
} from "../src/net.js";
import {
  MG_EV_HTTP_CHUNK,
  MG_EV_HTTP_MULTIPART_REQUEST,
  MG_EV_HTTP_MULTIPART_REQUEST_END,
  MG_EV_HTTP_PART_BEGIN,
  MG_EV_HTTP_PART_DATA,
  MG_EV_HTTP_PART_END,
  MG_EV_HTTP_REPLY,
  MG_EV_HTTP_REQUEST,
  MG_EV_HTTP_REQUEST_CANCEL,
  MG_F_DELETE_CHUNK,
  MG_HTTP_TOO_MANY_HEADERS,
  mg_http_bauth,
  mg_http_connect,
  mg_http_creds,
  mg_http_get_header,
  mg_http_get_header_var,
  mg_http_get_request_len,
  mg_http_get_var,
  mg_http_get_var_str,
  mg_http_listen,
  mg_http_message,
  mg_http_multipart_part,
  mg_http_next_multipart,
  mg_http_parse,
  mg_http_part,
  mg_http_printf_chunk,
  mg_http_reply,
  mg_http_status,
  mg_http_stream_body,
  mg_http_var,
  mg_http_write_chunk,
  mg_set_protocol_http_websocket,
  mg_hello,
  mg_hello_handler,
} from "../src/http.js";
import { mg_str, mg_str_n } from "../src/str.js";
import { concat } from "./bytes_util.js";

const enc = mg_mock_bytes;

function parse(s: string) {
  const b = enc(s);
  const hm = new mg_http_message();
  const n = mg_http_parse(b, b.length, hm);
  return { n, hm };
}

function setup(handler: (c: mg_connection, ev: number, ev_data: any) => void) {
  const net = new mg_mock(64, 1 << 16);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const l = mg_http_listen(mgr, "http://0.0.0.0:80", handler, null)!;
  return { net, mgr, l };
}

/** Sends everything (in pieces of `step`), polling, and returns what came back. */
function exchange(net: mg_mock, mgr: mg_mgr, p: mg_mock_peer, data: string | Uint8Array, step = 1 << 20, polls = 4): string {
  const b = typeof data === "string" ? enc(data) : data;
  // bounded: a server that answered early and closed takes no more bytes
  for (let i = 0, stuck = 0; i < b.length && stuck < 50; ) {
    const k = p.send(b, Math.min(step, b.length - i), i);
    i += k;
    stuck = k === 0 ? stuck + 1 : 0;
    net.poll(mgr, 2);
  }
  net.poll(mgr, polls);
  return p.recv_str();
}

function hello(c: mg_connection, ev: number, hm: any) {
  if (ev === MG_EV_HTTP_MSG) mg_http_reply(c, 200, "", "uri=%s body=%d", String(hm.uri), hm.body.len);
}

// --- parser ------------------------------------------------------------------

test("mg_http_get_request_len: CRLF only, incomplete, control bytes", () => {
  const f = (s: string) => mg_http_get_request_len(enc(s), s.length);
  assert.is(f("GET / HTTP/1.1\r\n\r\n"), 18);
  assert.is(f("GET / HTTP/1.1\n\n"), -1, "a bare LF is refused (MG_HTTP_ALLOW_BARE_LF)");
  assert.is(f("GET / HTTP/1.1\r\nA: b\n"), -1, "as soon as it arrives");
  assert.is(f("GET / HTTP/1.1\r\nA: b\r\n"), 0);
  assert.is(f("GET / HTTP/1.1\r\nA: \x01\r\n\r\n"), -1);
  assert.is(f("GET / HTTP/1.1\rX\r\n\r\n"), -1, "a CR not followed by LF");
  assert.is(f("GET / HTTP/1.1\r\nA:\tb\r\n\r\n"), 24, "tab is fine");
});

test("mg_http_parse: request line, query, headers, body", () => {
  const { n, hm } = parse("POST /a/b?x=1&y=2 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX-Pad:   v  \r\n\r\nhello");
  assert.ok(n > 0);
  assert.is(String(hm.method), "POST");
  assert.is(String(hm.uri), "/a/b");
  assert.is(String(hm.query), "x=1&y=2");
  assert.is(String(hm.proto), "HTTP/1.1");
  assert.is(String(hm.body), "hello");
  assert.is(hm.body_len, 5);
  assert.is(String(hm.headers[2].value), "v", "value trimmed");
  assert.is(String(mg_http_get_header(hm, "content-length")), "5");
  assert.is(mg_http_get_header(hm, "Nope"), null);
  assert.is(String(hm.message), "POST /a/b?x=1&y=2 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX-Pad:   v  \r\n\r\nhello");
  assert.is(String(hm.query_string), "x=1&y=2", "6.x name");
  assert.is(String(hm.header_names[0]), "Host", "6.x names");
});

test("mg_http_parse: responses", () => {
  let { n, hm } = parse("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  assert.ok(n > 0);
  assert.is(mg_http_status(hm), 404);
  assert.is(String(hm.proto), "Not Found");
  ({ n, hm } = parse("HTTP/1.1 200 OK\r\n\r\n"));
  assert.is(hm.body_len, -1, "no length: until close");
  ({ n, hm } = parse("HTTP/1.1 204 No Content\r\n\r\n"));
  assert.is(hm.body_len, 0);
  ({ n, hm } = parse("HTTP/1.1 20 OK\r\n\r\n"));
  assert.is(n, -1);
});

test("mg_http_parse: what is refused", () => {
  const bad = [
    "GET / HTTP/1.1 extra\r\n\r\n",
    "GET /\r\n\r\n",
    "GET / HTTX/1.1\r\n\r\n",
    " / HTTP/1.1\r\n\r\n",
    "G(T / HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
    "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
    "GET / HTTP/1.1\r\n: x\r\n\r\n",
    "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
    "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
    "GET / HTTP/1.1\r\nConnection: close\r\nConnection: close\r\n\r\n",
  ];
  for (const s of bad) assert.is(parse(s).n, -1, JSON.stringify(s));
  let many = "GET / HTTP/1.1\r\n";
  for (let i = 0; i <= MG_MAX_HTTP_HEADERS; i++) many += `H${i}: v\r\n`;
  assert.is(parse(many + "\r\n").n, MG_HTTP_TOO_MANY_HEADERS);
  assert.is(parse("GET / HTTP/1.1\r\nA: é\r\n\r\n").n > 0, true, "obs-text in a value is fine");
});

test("header vars, query vars, creds, bauth", () => {
  const ct = mg_str("multipart/form-data; boundary=\"xyz\"; charset=utf-8");
  assert.is(String(mg_http_get_header_var(ct, "boundary")), "xyz");
  assert.is(String(mg_http_get_header_var(ct, "charset")), "utf-8");
  assert.is(mg_http_get_header_var(ct, "undary").len, 0, "a name must start an element");
  const q = mg_str("a=1&b=hello+w%6Frld&c=&D=4");
  assert.is(String(mg_http_var(q, "b")), "hello+w%6Frld");
  assert.is(String(mg_http_var(q, "d")), "4", "case-insensitive");
  const dst = new Uint8Array(32);
  assert.is(mg_http_get_var(q, "b", dst), 11);
  assert.is(String(mg_str_n(dst, 0, 11)), "hello world");
  assert.is(mg_http_get_var(q, "zz", dst), -4);
  assert.is(mg_http_get_var(q, "b", dst, 3), -3);
  assert.is(mg_http_get_var(q, "c", dst), 0);
  assert.is(mg_http_get_var_str(q, "c"), "");
  assert.is(mg_http_get_var_str(mg_str("x=%zz"), "x"), null);
  // the name is compared even when the first element is empty-valued (this returned 0 and "")
  assert.is(mg_http_get_var(mg_str("xy="), "ab", dst), -4);
  assert.is(mg_http_get_var_str(mg_str("xy=&c=1"), "ab"), null);
  assert.is(mg_http_get_var_str(mg_str("xy=&ab="), "ab"), "");
  assert.is(mg_http_get_var(mg_str("ab="), "ab", dst), 0);
  // header variables: an mg_str of the caller's, no allocation
  const out = mg_str();
  assert.is(mg_http_get_header_var(ct, "BOUNDARY", out), out);
  assert.is(String(out), "xyz");
  assert.is(mg_http_get_header_var(ct, "nope", out).len, 0);

  let { hm } = parse("GET / HTTP/1.1\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n");
  assert.equal({ ...mg_http_creds(hm) }, { user: "user", pass: "pass" });
  ({ hm } = parse("GET / HTTP/1.1\r\nAuthorization: Bearer tok123\r\n\r\n"));
  assert.equal({ ...mg_http_creds(hm) }, { user: "", pass: "tok123" });
  ({ hm } = parse("GET / HTTP/1.1\r\nCookie: a=b; access_token=ck9\r\n\r\n"));
  assert.equal({ ...mg_http_creds(hm) }, { user: "", pass: "ck9" });
  ({ hm } = parse("GET /?access_token=qq HTTP/1.1\r\n\r\n"));
  assert.equal({ ...mg_http_creds(hm) }, { user: "", pass: "qq" });

  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const srv = net.server(81);
  const c = mg_http_connect(mgr, "http://127.0.0.1:81", null, null)!;
  mg_http_bauth(c, "user", "pass");
  mg_http_bauth(c, "user", "");
  net.poll(mgr, 3);
  assert.is(net.accepted(srv)!.recv_str(), "Authorization: Basic dXNlcjpwYXNz\r\nAuthorization: Basic dXNlcg==\r\n");
});

// --- server ------------------------------------------------------------------

test("GET → 200 with an exact Content-Length; HDRS once, then MSG", () => {
  const evs: string[] = [];
  const { net, mgr } = setup((c, ev, hm) => {
    if (ev === MG_EV_HTTP_HDRS) evs.push("HDRS");
    if (ev === MG_EV_HTTP_MSG) evs.push("MSG");
    hello(c, ev, hm);
  });
  const p = net.client(80)!;
  const out = exchange(net, mgr, p, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", 5);
  assert.is(out, "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nuri=/x body=0");
  assert.equal(evs, ["HDRS", "MSG"]);
});

test("mg_http_reply: body sent as is without args, formatted with; bytes; HEAD; too large → 500", () => {
  const { net, mgr } = setup((c, ev, hm) => {
    if (ev !== MG_EV_HTTP_MSG) return;
    const u = String(hm.uri);
    if (u === "/pct") mg_http_reply(c, 200, "X-A: 1\r\n", "100%");
    else if (u === "/fmt") mg_http_reply(c, 201, null, "%d%%", 100);
    else if (u === "/bytes") mg_http_reply(c, 200, enc("Content-Type: text/plain\r\n"), enc("raw"));
    else if (u === "/big") mg_http_reply(c, 200, "", "x".repeat(MG_IO_SIZE));
    else mg_http_reply(c, 200, "", "body");
  });
  const p = net.client(80)!;
  assert.is(exchange(net, mgr, p, "GET /pct HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 4\r\n\r\n100%");
  assert.is(exchange(net, mgr, p, "GET /fmt HTTP/1.1\r\n\r\n"), "HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\n100%");
  assert.is(exchange(net, mgr, p, "GET /bytes HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nraw");
  assert.is(exchange(net, mgr, p, "HEAD / HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n");
  const big = exchange(net, mgr, p, "GET /big HTTP/1.1\r\n\r\n");
  assert.match(big, /^HTTP\/1.1 500 /);
  assert.is(exchange(net, mgr, p, "GET / HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody", "still alive");
});

test("keep-alive, pipelining in one read answered in order, Connection: close, HTTP/1.0", () => {
  const { net, mgr } = setup(hello);
  const p = net.client(80)!;
  const out = exchange(net, mgr, p, "GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\n\r\n");
  assert.is(out, [
    "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nuri=/1 body=0",
    "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nuri=/2 body=3",
    "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nuri=/3 body=0",
  ].join(""));
  assert.not.ok(p.closed);
  const out2 = exchange(net, mgr, p, "GET /4 HTTP/1.1\r\nConnection: close\r\n\r\nGET /5 HTTP/1.1\r\n\r\n");
  assert.is(out2, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 13\r\n\r\nuri=/4 body=0", "said, and nothing after close");
  assert.ok(p.closed);
  const q = net.client(80)!;
  assert.is(exchange(net, mgr, q, "GET /6 HTTP/1.0\r\n\r\n"), "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 13\r\n\r\nuri=/6 body=0");
  assert.ok(q.closed, "HTTP/1.0 closes by default");
  const k = net.client(80)!;
  exchange(net, mgr, k, "GET /7 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  assert.not.ok(k.closed, "unless keep-alive");
});

test("a raw mg_printf reply must clear is_resp (as in Mongoose), or pipelined requests wait", () => {
  const { net, mgr } = setup((c, ev) => {
    if (ev === MG_EV_HTTP_MSG) {
      mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      c.is_resp = false;
    }
  });
  const p = net.client(80)!;
  assert.is(exchange(net, mgr, p, "GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
});

test("requests trickling in byte by byte; under read/write caps", () => {
  const { net, mgr } = setup(hello);
  net.read_cap = 3;
  net.write_cap = 7;
  const p = net.client(80)!;
  const out = exchange(net, mgr, p, "POST /slow HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", 1, 20);
  assert.is(out, "HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\nuri=/slow body=10");
});

test("chunked request bodies are decoded; bad chunks → 400", () => {
  let body = "";
  const { net, mgr } = setup((c, ev, hm) => {
    if (ev === MG_EV_HTTP_MSG) {
      body = String(hm.body);
      mg_http_reply(c, 200, "", "%d", hm.body.len);
    }
  });
  const p = net.client(80)!;
  const req = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
  assert.is(exchange(net, mgr, p, req, 3), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n11");
  assert.is(body, "hello world");
  for (const bad of ["zz\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXX0\r\n\r\n", "5\nhello\r\n0\r\n\r\n", "123456789\r\n"]) {
    const q = net.client(80)!;
    const out = exchange(net, mgr, q, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + bad);
    assert.match(out, /^HTTP\/1.1 400 Bad Request\r\n/, JSON.stringify(bad));
    assert.ok(q.closed);
  }
});

test("bad input gets its status and the connection is freed; earlier pipelined requests are answered", () => {
  const { net, mgr } = setup(hello);
  const cases: [string, number][] = [
    ["GET / HTTP/1.1\r\nA: \x01\r\n\r\n", 400],
    ["GARBAGE\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nTransfer-Encoding: br\r\n\r\n", 400],
    ["HTTP/1.1 200 OK\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nX: " + "a".repeat(MG_IO_SIZE) + "\r\n\r\n", 431],
    ["GET / HTTP/1.1\r\nExpect: magic\r\n\r\n", 417],
  ];
  let many = "GET / HTTP/1.1\r\n";
  for (let i = 0; i <= MG_MAX_HTTP_HEADERS; i++) many += `H${i}: v\r\n`;
  cases.push([many + "\r\n", 431]);
  for (const [req, code] of cases) {
    const p = net.client(80)!;
    const out = exchange(net, mgr, p, req, 512);
    assert.match(out, new RegExp(`^HTTP/1.1 ${code} `), JSON.stringify(req.slice(0, 40)));
    assert.ok(p.closed, "freed");
  }
  const p = net.client(80)!;
  const out = exchange(net, mgr, p, "GET /ok HTTP/1.1\r\n\r\nBAD REQUEST LINE\r\n\r\n");
  assert.match(out, /^HTTP\/1.1 200 OK\r\nContent-Length: 14\r\n\r\nuri=\/ok body=0HTTP\/1.1 400 /);
  assert.is(mgr.conns!.next, null, "only the listener is left");
});

test("slow or idle clients: 408 to a head that does not finish in time, a quiet close to an idle keep-alive", () => {
  const { net, mgr } = setup(hello);
  const slow = net.client(80)!;
  const idle = net.client(80)!;
  const busy = net.client(80)!;
  slow.send("GET /slow HTTP/1.1\r\nHost: a\r\n");
  assert.is(exchange(net, mgr, idle, "GET /i HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nuri=/i body=0");
  for (let t = 0; t < MG_HTTP_HEAD_TIMEOUT_MS; t += 1000) {
    net.poll(mgr, 1, 1000);
    slow.send("X"); // one byte a second keeps the connection busy, not the head coming
    busy.send("GET /b HTTP/1.1\r\n\r\n");
  }
  net.poll(mgr, 3, 1000);
  assert.match(slow.recv_str(), /^HTTP\/1.1 408 /);
  assert.ok(slow.closed, "the slow client is gone");
  assert.is(idle.recv_str(), "");
  assert.ok(idle.closed, "the idle keep-alive is gone");
  assert.not.ok(busy.closed, "a client that keeps sending requests stays");
  assert.ok(busy.recv_str().startsWith("HTTP/1.1 200 OK"));
});

test("a reply given later (not in the handler): pipelined requests wait in a full buffer, then are answered", () => {
  const pending: mg_connection[] = [];
  const { net, mgr } = setup((c, ev) => {
    if (ev === MG_EV_HTTP_MSG) pending.push(c);
  });
  const p = net.client(80)!;
  let req = "";
  while (req.length < 3 * MG_IO_SIZE) req += "GET /p HTTP/1.1\r\n\r\n";
  p.send(req);
  net.poll(mgr, 10);
  assert.is(pending.length, 1, "one request at a time");
  assert.ok(mgr.busy === false, "a full buffer waiting for a reply does not make the loop spin");
  let answered = 0;
  for (let i = 0; i < 1000 && pending.length > 0; i++) {
    mg_http_reply(pending.shift()!, 200, "", "ok");
    answered++;
    net.poll(mgr, 2);
    p.recv();
  }
  assert.is(answered, req.length / 19, "every request answered");
});

test("6.x: a raw mg_printf reply needs no is_resp bookkeeping, pipelined requests are answered", () => {
  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const l = mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev, hm) => {
    if (ev === MG_EV_HTTP_REQUEST) mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", hm.uri.len, String(hm.uri));
  }, null)!;
  mg_set_protocol_http_websocket(l);
  const p = net.client(80)!;
  assert.is(exchange(net, mgr, p, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\nGET /c HTTP/1.1\r\n\r\n"),
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n/aHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n/b");
  assert.ok(p.closed, "Connection: close honoured");
});

test("a body that does not fit and is not streamed → 413, never delivered truncated", () => {
  let msgs = 0;
  const { net, mgr } = setup((c, ev, hm) => {
    if (ev === MG_EV_HTTP_MSG) msgs++;
    hello(c, ev, hm);
  });
  const p = net.client(80)!;
  const big = "x".repeat(5000);
  const out = exchange(net, mgr, p, `POST / HTTP/1.1\r\nContent-Length: ${big.length}\r\n\r\n${big}`, 1000);
  assert.match(out, /^HTTP\/1.1 413 Content Too Large\r\n/);
  assert.is(msgs, 0);
  assert.ok(p.closed, "closed after the body was read and dropped");
  const q = net.client(80)!;
  const out2 = exchange(net, mgr, q, `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1388\r\n${big}\r\n0\r\n\r\n`, 1000);
  assert.match(out2, /^HTTP\/1.1 413 /, "a chunked body that outgrows the buffer");
  assert.is(msgs, 0);
});

test("Expect: 100-continue gets 100 before the body, or 413 at once", () => {
  const { net, mgr } = setup(hello);
  const p = net.client(80)!;
  p.send("POST / HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  net.poll(mgr, 3);
  assert.is(p.recv_str(), "HTTP/1.1 100 Continue\r\n\r\n");
  assert.is(exchange(net, mgr, p, "abcd"), "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nuri=/ body=4");
  const q = net.client(80)!;
  q.send("POST / HTTP/1.1\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n");
  net.poll(mgr, 3);
  assert.match(q.recv_str(), /^HTTP\/1.1 413 /);
});

test("Expect: 100-continue with a reply begun on HDRS: 100 goes first; refused on HDRS: no 100, the answer, then close", () => {
  const { net, mgr } = setup((c, ev, hm) => {
    if (ev === MG_EV_HTTP_HDRS && String(hm.uri) === "/stream") {
      mg_http_stream_body(c);
      mg_printf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    } else if (ev === MG_EV_HTTP_HDRS && String(hm.uri) === "/no") {
      mg_http_reply(c, 403, "", "no\n");
    } else if (ev === MG_EV_HTTP_MSG) {
      if (String(hm.uri) === "/stream") mg_http_write_chunk(c, "");
      else hello(c, ev, hm);
    }
  });
  const p = net.client(80)!;
  p.send("POST /stream HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  net.poll(mgr, 3);
  assert.is(p.recv_str(), "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  assert.is(exchange(net, mgr, p, "abcd"), "0\r\n\r\n");
  const q = net.client(80)!;
  q.send("POST /no HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  net.poll(mgr, 3);
  assert.is(q.recv_str(), "HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno\n");
  assert.ok(q.closed, "the client may never send that body");
  const k = net.client(80)!;
  assert.is(exchange(net, mgr, k, "POST /no HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /next HTTP/1.1\r\n\r\n"),
    "HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno\nHTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\nuri=/next body=0", "answered on HDRS: body dropped, no MSG, keep-alive");
});

test("7.x streaming: mg_http_stream_body delivers pieces of any size body, then MSG; /echo streams back", () => {
  const { net, mgr } = setup((c, ev, hm) => {
    if (ev === MG_EV_HTTP_HDRS && String(hm.uri) === "/echo") {
      assert.ok(mg_http_stream_body(c));
      mg_printf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    } else if (ev === MG_EV_HTTP_CHUNK) {
      // echo what fits now; the rest is offered again
      const room = c.send.size - c.send.len - 16;
      const n = Math.min(room, hm.chunk.len);
      if (n <= 0 || !mg_http_write_chunk(c, hm.chunk.buf, n, hm.chunk.ofs)) hm.chunk_consumed = 0;
      else hm.chunk_consumed = n;
      assert.is(String(hm.uri), "/echo", "the head stays valid");
    } else if (ev === MG_EV_HTTP_MSG) {
      if (String(hm.uri) === "/echo") mg_http_write_chunk(c, "");
      else hello(c, ev, hm);
    }
  });
  for (const chunked of [false, true]) {
    const p = net.client(80)!;
    const body = new Uint8Array(100000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 255;
    let req: Uint8Array;
    if (!chunked) req = concat(enc(`POST /echo HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n`), body);
    else req = concat(enc(`POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n`), body, enc("\r\n0\r\n\r\n"));
    const got: number[] = [];
    let sent = 0;
    for (let i = 0; i < 100000 && (sent < req.length || got.length === 0 || !ends_chunked(got)); i++) {
      if (sent < req.length) sent += p.send(req, Math.min(3000, req.length - sent), sent);
      net.poll(mgr);
      for (const b of p.recv()) got.push(b);
    }
    const text = String.fromCharCode(...got.slice(0, 60));
    assert.match(text, /^HTTP\/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n/);
    const decoded = dechunk(new Uint8Array(got));
    assert.is(decoded.length, body.length, chunked ? "chunked upload" : "content-length upload");
    let same = true;
    for (let i = 0; i < body.length; i++) if (decoded[i] !== body[i]) same = false;
    assert.ok(same, "every byte back");
    assert.is(exchange(net, mgr, p, "GET /after HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\nuri=/after body=0", "keep-alive after a stream");
  }
});

function ends_chunked(b: number[]): boolean {
  const n = b.length;
  return n >= 5 && b[n - 5] === 48 && b[n - 4] === 13 && b[n - 3] === 10 && b[n - 2] === 13 && b[n - 1] === 10;
}
function dechunk(b: Uint8Array): Uint8Array {
  let i = 0;
  while (!(b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10)) i++;
  i += 4;
  const out: number[] = [];
  for (;;) {
    let size = 0;
    while (b[i] !== 13) size = size * 16 + parseInt(String.fromCharCode(b[i++]), 16);
    i += 2;
    if (size === 0) break;
    for (let k = 0; k < size; k++) out.push(b[i + k]);
    i += size + 2;
  }
  return new Uint8Array(out);
}

test("mg_http_printf_chunk writes 8-digit sizes and ends with a zero chunk", () => {
  const { net, mgr } = setup((c, ev) => {
    if (ev === MG_EV_HTTP_MSG) {
      mg_printf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      mg_http_printf_chunk(c, "%s", "foo");
      mg_http_printf_chunk(c, "%d", 42);
      mg_http_printf_chunk(c, "");
    }
  });
  const p = net.client(80)!;
  assert.is(exchange(net, mgr, p, "GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"),
    ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00000003\r\nfoo\r\n00000002\r\n42\r\n00000000\r\n\r\n").repeat(2));
});

test("a handler may take over on HDRS like Mongoose's upload pattern (change c.recv.len)", () => {
  let got = 0;
  const { net, mgr } = setup((c, ev, hm) => {
    if (ev === MG_EV_HTTP_HDRS) {
      c.recv.len = 0; // drop the head: HTTP steps aside
    } else if (ev === 7 /* MG_EV_READ */ && c.pfn === null) {
      got += c.recv.len;
      c.recv.len = 0;
    }
  });
  const p = net.client(80)!;
  exchange(net, mgr, p, "POST / HTTP/1.1\r\nContent-Length: 9000\r\n\r\n" + "z".repeat(9000), 1500);
  assert.ok(got > 7000, "the raw bytes went to the handler: " + got);
});

// --- 6.x events ----------------------------------------------------------------

test("6.x: REQUEST after CHUNKs with the body so far; MG_F_DELETE_CHUNK; completion detected; pipelining correct", () => {
  const log: string[] = [];
  let deleting = false;
  const net = new mg_mock(64, 1 << 16);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const l = mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev, hm) => {
    if (ev === MG_EV_HTTP_CHUNK) {
      log.push("CHUNK:" + String(hm.body));
      if (deleting) c.flags |= MG_F_DELETE_CHUNK;
    } else if (ev === MG_EV_HTTP_REQUEST) {
      log.push("REQUEST:" + String(hm.uri) + ":" + String(hm.body));
      mg_http_reply(c, 200, "", "ok");
    } else if (ev === MG_EV_HTTP_MSG || ev === MG_EV_HTTP_HDRS) {
      log.push("7.x event in 6.x mode!");
    }
  }, null)!;
  mg_set_protocol_http_websocket(l);
  const p = net.client(80)!;
  p.send("POST /a HTTP/1.1\r\nContent-Length: 30\r\n\r\n");
  net.poll(mgr, 2);
  for (const part of ["0123456789", "abcdefghij", "ABCDEFGHIJ"]) {
    p.send(part);
    net.poll(mgr, 2);
  }
  net.poll(mgr, 2);
  assert.equal(log, ["CHUNK:0123456789", "CHUNK:0123456789abcdefghij", "CHUNK:0123456789abcdefghijABCDEFGHIJ", "REQUEST:/a:0123456789abcdefghijABCDEFGHIJ"]);
  assert.is(p.recv_str(), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  log.length = 0;
  deleting = true;
  p.send("POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
  net.poll(mgr, 2);
  p.send("6\r\n world\r\n0\r\n\r\n");
  net.poll(mgr, 3);
  assert.equal(log, ["CHUNK:hello", "CHUNK: world", "REQUEST:/b:"], "deleted chunks: empty body, no framing leaks, no late REQUEST");
  assert.is(p.recv_str(), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  log.length = 0;
  deleting = false;
  p.send("GET /c HTTP/1.1\r\n\r\nGET /d HTTP/1.1\r\n\r\n");
  net.poll(mgr, 3);
  assert.equal(log, ["REQUEST:/c:", "REQUEST:/d:"], "pipelined GETs: each with its own (empty) body");
});

test("6.x client: REPLY with a chunked body reassembled", () => {
  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const srv = net.server(90);
  let reply = "";
  const c = mg_http_connect(mgr, "http://127.0.0.1:90", (c, ev, hm) => {
    if (ev === MG_EV_CONNECT) mg_printf(c, "GET / HTTP/1.1\r\n\r\n");
    if (ev === MG_EV_HTTP_REPLY) reply = mg_http_status(hm) + ":" + String(hm.body);
  }, null)!;
  mg_set_protocol_http_websocket(c);
  net.poll(mgr, 2);
  const s = net.accepted(srv)!;
  s.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
  net.poll(mgr, 2);
  s.send("2\r\nde\r\n0\r\n\r\n");
  net.poll(mgr, 2);
  assert.is(reply, "200:abcde");
});

function multipart_body(boundary: string, parts: { name: string; file?: string; data: Uint8Array | string }[]): Uint8Array {
  const out: Uint8Array[] = [];
  for (const p of parts) {
    out.push(enc(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"` + (p.file ? `; filename="${p.file}"` : "") + "\r\nContent-Type: application/octet-stream\r\n\r\n"));
    out.push(typeof p.data === "string" ? enc(p.data) : p.data);
    out.push(enc("\r\n"));
  }
  out.push(enc(`--${boundary}--\r\n`));
  return concat(...out);
}

test("6.x multipart: MULTIPART_REQUEST, PART_BEGIN/DATA/END per part, REQUEST_END; bytes exact", () => {
  const log: string[] = [];
  const data: Record<string, number[]> = {};
  const net = new mg_mock(64, 1 << 16);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const l = mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev, ev_data) => {
    if (ev === MG_EV_HTTP_MULTIPART_REQUEST) log.push("MREQ:" + String((ev_data as mg_http_message).uri));
    if (ev === MG_EV_HTTP_PART_BEGIN) {
      const p = ev_data as mg_http_multipart_part;
      log.push(`BEGIN:${p.var_name}:${p.file_name}`);
      data[String(p.var_name)] = [];
      p.user_data = String(p.var_name);
    }
    if (ev === MG_EV_HTTP_PART_DATA) {
      const p = ev_data as mg_http_multipart_part;
      for (let i = 0; i < p.data.len; i++) data[p.user_data].push(p.data.buf[p.data.ofs + i]);
    }
    if (ev === MG_EV_HTTP_PART_END) log.push("END:" + (ev_data as mg_http_multipart_part).status);
    if (ev === MG_EV_HTTP_MULTIPART_REQUEST_END) {
      log.push("REQEND:" + (ev_data as mg_http_multipart_part).status);
      mg_http_reply(c, 200, "", "done");
    }
    if (ev === MG_EV_HTTP_REQUEST) log.push("REQUEST must not fire for multipart");
  }, null)!;
  mg_set_protocol_http_websocket(l);
  const file = new Uint8Array(20000);
  for (let i = 0; i < file.length; i++) file[i] = i % 251;
  file[100] = 13;
  file[101] = 10;
  file[102] = 45;
  file[103] = 45; // a near-boundary inside the data
  const body = multipart_body("XyZ", [{ name: "a", data: "short" }, { name: "f", file: "fw.bin", data: file }, { name: "e", data: "" }]);
  const head = enc(`POST /up HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: ${body.length}\r\n\r\n`);
  const p = net.client(80)!;
  const out = exchange(net, mgr, p, concat(head, body), 777, 6);
  assert.equal(log, ["MREQ:/up", "BEGIN:a:", "END:0", "BEGIN:f:fw.bin", "END:0", "BEGIN:e:", "END:0", "REQEND:0"]);
  assert.is(String.fromCharCode(...data.a), "short");
  assert.is(data.f.length, file.length);
  assert.ok(data.f.every((b, i) => b === file[i]), "file bytes exact");
  assert.is(data.e.length, 0);
  assert.is(out, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone");
});

test("multipart cancelled: the peer goes away mid-part → PART_END(-1), REQUEST_END(-1)", () => {
  const log: string[] = [];
  const { net, mgr } = setup((c, ev, ev_data) => {
    if (ev === MG_EV_HTTP_HDRS) mg_http_stream_body(c, true);
    if (ev === MG_EV_HTTP_PART_BEGIN) log.push("BEGIN");
    if (ev === MG_EV_HTTP_PART_END) log.push("END:" + ev_data.status);
    if (ev === MG_EV_HTTP_MULTIPART_REQUEST_END) log.push("REQEND:" + ev_data.status);
    if (ev === MG_EV_HTTP_REQUEST_CANCEL) log.push("CANCEL");
    if (ev === MG_EV_HTTP_MSG) log.push("MSG");
  });
  const p = net.client(80)!;
  p.send("POST / HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\npartial data");
  net.poll(mgr, 3);
  p.close();
  net.poll(mgr, 3);
  assert.equal(log, ["BEGIN", "END:-1", "REQEND:-1", "CANCEL"]);
});

test("7.x parts: PART events then MSG; multipart without boundary → 400; back-pressure via num_data_consumed", () => {
  const log: string[] = [];
  let bytes = 0;
  let slow = true;
  const { net, mgr } = setup((c, ev, ev_data) => {
    if (ev === MG_EV_HTTP_HDRS) mg_http_stream_body(c, true);
    if (ev === MG_EV_HTTP_PART_DATA) {
      const part = ev_data as mg_http_multipart_part;
      if (slow && part.data.len > 10) part.num_data_consumed = 10; // take a little at a time
      bytes += part.num_data_consumed;
    }
    if (ev === MG_EV_HTTP_PART_END) log.push("END");
    if (ev === MG_EV_HTTP_MSG) {
      log.push("MSG");
      mg_http_reply(c, 200, "", "%d", bytes);
    }
  });
  const body = multipart_body("B0", [{ name: "x", data: "y".repeat(3000) }]);
  const p = net.client(80)!;
  const out = exchange(net, mgr, p, concat(enc(`POST / HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=B0\r\nContent-Length: ${body.length}\r\n\r\n`), body), 500, 400);
  assert.is(out, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n3000");
  assert.equal(log, ["END", "MSG"]);
  const q = net.client(80)!;
  assert.match(exchange(net, mgr, q, "POST / HTTP/1.1\r\nContent-Type: multipart/form-data\r\nContent-Length: 3\r\n\r\nabc"), /^HTTP\/1.1 400 /);
});

test("mg_http_next_multipart walks a buffered body", () => {
  const body = multipart_body("zz", [{ name: "a", data: "1" }, { name: "b", file: "f.txt", data: "two\r\nlines" }]);
  const s = mg_str_n(body, 0, body.length);
  const part = new mg_http_part();
  let ofs = mg_http_next_multipart(s, 0, part);
  assert.ok(ofs > 0);
  assert.is(String(part.name), "a");
  assert.is(String(part.body), "1");
  ofs = mg_http_next_multipart(s, ofs, part);
  assert.ok(ofs > 0);
  assert.is(String(part.filename), "f.txt");
  assert.is(String(part.body), "two\r\nlines");
  assert.is(mg_http_next_multipart(s, ofs, part), 0);
});

// --- client ------------------------------------------------------------------

test("client: request on CONNECT, MSG with the body; chunked; until close; 100 Continue skipped; timeout", () => {
  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const srv = net.server(90);
  const got: string[] = [];
  const fn = (c: mg_connection, ev: number, hm: any) => {
    if (ev === MG_EV_CONNECT) mg_printf(c, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
    if (ev === MG_EV_HTTP_MSG) got.push(mg_http_status(hm) + ":" + String(hm.body));
    if (ev === MG_EV_ERROR) got.push("ERROR:" + hm);
  };
  const responses = [
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n",
    "HTTP/1.1 200 OK\r\n\r\nuntil close",
  ];
  for (const resp of responses) {
    got.length = 0;
    mg_http_connect(mgr, "http://127.0.0.1:90/x", fn, null);
    net.poll(mgr, 2);
    const s = net.accepted(srv)!;
    assert.is(s.recv_str(), "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
    for (let i = 0; i < resp.length; i += 4) {
      s.send(resp.slice(i, i + 4));
      net.poll(mgr);
    }
    if (resp.indexOf("until") > 0) s.close();
    net.poll(mgr, 3);
    assert.is(got.length, 1, resp);
  }
  const c = mg_http_connect(mgr, "http://127.0.0.1:90/x", fn, null)!;
  mg_set_timeout(c, 500);
  got.length = 0;
  net.poll(mgr, 10, 100);
  assert.equal(got, ["ERROR:timeout"]);
});

test("client: a response that is cut short is not delivered", () => {
  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const srv = net.server(90);
  let msgs = 0;
  mg_http_connect(mgr, "http://127.0.0.1:90", (c, ev) => {
    if (ev === MG_EV_HTTP_MSG) msgs++;
  }, null);
  net.poll(mgr, 2);
  const s = net.accepted(srv)!;
  s.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly some");
  net.poll(mgr);
  s.close();
  net.poll(mgr, 3);
  assert.is(msgs, 0);
});

test("mg_hello routes: /debug sets the level, /quit answers and closes, else hi", () => {
  const { net, mgr } = setup(mg_hello_handler);
  const p = net.client(80)!;
  assert.is(exchange(net, mgr, p, "GET /anything HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nhi\n");
  assert.is(exchange(net, mgr, p, "POST /debug HTTP/1.1\r\nContent-Length: 11\r\n\r\n{\"level\":3}"), "HTTP/1.1 200 OK\r\nContent-Length: 21\r\n\r\nDebug level set to 3\n");
  assert.match(exchange(net, mgr, p, "POST /debug HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"), /^HTTP\/1.1 400 /);
  assert.is(exchange(net, mgr, p, "GET /quit HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
  assert.ok(p.closed);
  import_log_reset();
});
import { mg_log_set } from "../src/log.js";
function import_log_reset() {
  mg_log_set(2);
}

test("mg_hello(url): serves hi and /debug until /quit, then closes the server and resolves", async () => {
  const net = new mg_mock();
  let done = false;
  const served = mg_hello("http://0.0.0.0:80", net).then(() => (done = true));
  const p = net.client(80)!;
  p.send("PUT /x HTTP/1.1\r\n\r\n");
  let out = "";
  for (let i = 0; i < 20; i++) {
    net.advance(1);
    out += p.recv_str();
  }
  assert.is(out, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nhi\n");
  p.send("GET /quit HTTP/1.1\r\n\r\n");
  for (let i = 0; i < 50 && !done; i++) {
    net.advance(1);
    out += p.recv_str();
    await Promise.resolve();
  }
  assert.ok(done, "the promise resolved");
  assert.ok(out.endsWith("ok\n"));
  assert.is(net.client(80), null, "the listener is gone");
  await served;
  mg_log_set(2);
});

test("mutated requests never throw out of the poll, never hang: each is answered, refused or still waiting", () => {
  const net = new mg_mock(64, 1 << 16);
  net.keep_log = true;
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev, hm) => {
    if (ev === MG_EV_HTTP_HDRS && String(hm.uri) === "/s") mg_http_stream_body(c, true);
    if (ev === MG_EV_HTTP_MSG) mg_http_reply(c, 200, "", "%d", hm.body.len);
  }, null);
  const seeds = [
    "POST /a?b=c HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "POST /s HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=zz\r\nContent-Length: 60\r\n\r\n--zz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nxy\r\n--zz--\r\n",
    "GET / HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\n\r\n",
  ];
  const alphabet = "\r\n :-;=0aZ\"%\x00\x7f\xff\t-1f";
  let x = 12345;
  const rnd = (n: number) => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) % n;
  };
  let answered = 0, waiting = 0;
  for (let round = 0; round < 400; round++) {
    const b = enc(seeds[round % seeds.length]);
    for (let m = 0, count = 1 + rnd(4); m < count; m++) {
      const at = rnd(b.length);
      const op = rnd(3);
      if (op === 0) b[at] = alphabet.charCodeAt(rnd(alphabet.length));
      else if (op === 1) b[at] = rnd(256);
      else b.copyWithin(at, rnd(b.length));
    }
    net.read_cap = 1 + rnd(64);
    const p = net.client(80)!;
    const out = exchange(net, mgr, p, b, 1 + rnd(40), 6);
    assert.ok(out === "" || /^HTTP\/1.1 \d\d\d /.test(out), JSON.stringify(out.slice(0, 40)));
    if (out !== "") answered++;
    else waiting++;
    p.close();
    net.poll(mgr, 3);
  }
  net.read_cap = 0;
  assert.not.match(net.log_text, /mg_mgr_poll: |poll: |threw/, "no exception inside the poll");
  assert.is(mgr.conns!.next, null, "every connection freed");
  assert.ok(answered > 200, `answered ${answered}, waiting ${waiting}`);
});

test("a handler that throws on MSG: the client gets nothing more, others are served", () => {
  const { net, mgr } = setup((c, ev, hm) => {
    if (ev === MG_EV_HTTP_MSG && String(hm.uri) === "/boom") throw new Error("x");
    hello(c, ev, hm);
  });
  const a = net.client(80)!;
  const b = net.client(80)!;
  exchange(net, mgr, a, "GET /boom HTTP/1.1\r\n\r\n");
  assert.ok(a.closed);
  assert.match(exchange(net, mgr, b, "GET /fine HTTP/1.1\r\n\r\n"), /^HTTP\/1.1 200 OK/);
});

test.run();
