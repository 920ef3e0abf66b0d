// RFC 9112's grammar, held strictly (issue 11): a table of requests the
// server must accept or refuse (400 and close, no half-parsed message to the
// handler), and of responses the client must accept or refuse, each fed
// whole, one byte at a time and in two random splits (seeds printed on
// failure): the outcome must be the same. The cases are written from RFC
// 9112/9110 and the categories llhttp's strict mode refuses. Node and XS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_mock, mg_mock_bytes } from "../hal/mock.js";
import { MG_HTTP_ALLOW_BARE_LF } from "../src/config.js";
import { MG_EV_CLOSE, MG_EV_ERROR, MG_EV_HTTP_HDRS, MG_EV_HTTP_MSG, mg_mgr, mg_mgr_init, mg_printf } from "../src/net.js";
import { MG_EV_CONNECT } from "../src/net.js";
import { mg_http_connect, mg_http_listen, mg_http_message, mg_http_parse, mg_http_reply } from "../src/http.js";
import { rng } from "./bytes_util.js";
import type { mg_mock_peer } from "../hal/mock.js";

const enc = mg_mock_bytes;

/** The ways a case is cut: whole, every byte alone, and two random splits. */
const SEEDS = [0x2f6b1d, 0x51c0de];
function cuts(n: number, mode: string): number[] {
  if (mode === "whole") return [n];
  if (mode === "bytes") return new Array(n).fill(1);
  const r = rng(SEEDS[mode === "split1" ? 0 : 1] + n);
  const out: number[] = [];
  for (let left = n; left > 0; ) {
    const k = 1 + (r() % Math.min(left, 12));
    out.push(k);
    left -= k;
  }
  return out;
}
const MODES = ["whole", "bytes", "split1", "split2"];

/** Sends s to the manager's peer in the mode's pieces, polling twice after each. */
function feed(net: mg_mock, mgr: mg_mgr, p: mg_mock_peer, s: string, mode: string): void {
  const b = enc(s);
  let at = 0;
  for (const k of cuts(b.length, mode)) {
    p.send(b, k, at);
    at += k;
    net.poll(mgr, 2);
  }
}
const where = (mode: string) => (mode.startsWith("split") ? `${mode} (seed ${SEEDS[mode === "split1" ? 0 : 1]} + length)` : mode);

// --- the server ----------------------------------------------------------------

interface Outcome {
  status: number[];
  closed: boolean;
  events: string[];
}

function serve(input: string, mode: string): Outcome {
  const net = new mg_mock(8, 1 << 16);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const events: string[] = [];
  mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev, d) => {
    const hm = d as mg_http_message;
    if (ev === MG_EV_HTTP_HDRS) events.push("HDRS " + String(hm.method) + " " + String(hm.uri));
    if (ev === MG_EV_HTTP_MSG) {
      events.push("MSG " + String(hm.body));
      mg_http_reply(c, 200, "", "ok");
    }
  }, null);
  const p = net.client(80)!;
  feed(net, mgr, p, input, mode);
  net.poll(mgr, 10);
  const out = p.recv_str();
  const status: number[] = [];
  for (let i = out.indexOf("HTTP/1.1 "); i >= 0; i = out.indexOf("HTTP/1.1 ", i + 1)) status.push(Number(out.slice(i + 9, i + 12)));
  return { status, closed: p.closed, events };
}

const OK = (events: string[]) => ({ status: [200], closed: false, events });
const BAD = { status: [400], closed: true, events: [] as string[] };
/** Refused in the body: the head was whole and valid, so HDRS came; no MSG. */
const BAD_BODY = (hdrs: string) => ({ status: [400], closed: true, events: [hdrs] });

const CH = "POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
const REQUESTS: [string, string, Outcome][] = [
  // accepted
  ["a plain GET", "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", OK(["HDRS GET /a", "MSG "])],
  ["HTTP/1.0", "GET /a HTTP/1.0\r\n\r\n", { status: [200], closed: true, events: ["HDRS GET /a", "MSG "] }],
  ["empty lines (CRLF) before the request line", "\r\n\r\nGET /a HTTP/1.1\r\n\r\n", OK(["HDRS GET /a", "MSG "])],
  ["quotes, | and a second ? in the target", 'GET /q"x"?a=|&b=c?d HTTP/1.1\r\n\r\n', OK(['HDRS GET /q"x"', "MSG "])],
  ["absolute-form target", "GET http://h.example:1234?x=1 HTTP/1.1\r\n\r\n", OK(["HDRS GET http://h.example:1234", "MSG "])],
  ["asterisk-form", "OPTIONS * HTTP/1.1\r\n\r\n", OK(["HDRS OPTIONS *", "MSG "])],
  ["a method that is any token", "M-SEARCH! /x HTTP/1.1\r\n\r\n", OK(["HDRS M-SEARCH! /x", "MSG "])],
  ["obs-text and a tab in a value, an empty value", "GET / HTTP/1.1\r\nX-A: caf\xe9\tau lait\r\nX-B:\r\n\r\n", OK(["HDRS GET /", "MSG "])],
  ["Content-Length body", "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", OK(["HDRS POST /p", "MSG hello"])],
  ["chunked, hex of both cases, leading zeros", CH + "A\r\n0123456789\r\na\r\nabcdefghij\r\n000\r\n\r\n", OK(["HDRS POST /u", "MSG 0123456789abcdefghij"])],
  ["chunk extensions: names, tokens, quoted with escapes", CH + '5;a;b=c;d="x \\" y;z"\r\nhello\r\n0;e=f\r\n\r\n', OK(["HDRS POST /u", "MSG hello"])],
  ["trailers", CH + "3\r\nabc\r\n0\r\nX-T: 1\r\nX-U:\r\n\r\n", OK(["HDRS POST /u", "MSG abc"])],
  ["gzip, chunked: chunked last", "POST /u HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", OK(["HDRS POST /u", "MSG hi"])],
  ["gzip then chunked, two lines", "POST /u HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", OK(["HDRS POST /u", "MSG hi"])],
  ["codings with OWS, empty elements, a parameter", "POST /u HTTP/1.1\r\nTransfer-Encoding: GZIP;q=\"x\" ,, CHUNKED \r\n\r\n2\r\nhi\r\n0\r\n\r\n", OK(["HDRS POST /u", "MSG hi"])],

  // the request line
  ["a method with '('", "G(T / HTTP/1.1\r\n\r\n", BAD],
  ["a method with a byte above 0x7F", "G\xc9T / HTTP/1.1\r\n\r\n", BAD],
  ["a tab after the method", "GET\t/ HTTP/1.1\r\n\r\n", BAD],
  ["two spaces after the method", "GET  / HTTP/1.1\r\n\r\n", BAD],
  ["a space before the method", " GET / HTTP/1.1\r\n\r\n", BAD],
  ["two spaces before the version", "GET /  HTTP/1.1\r\n\r\n", BAD],
  ["a space after the version", "GET / HTTP/1.1 \r\n\r\n", BAD],
  ["no version", "GET /\r\n\r\n", BAD],
  ["ICE/1.0", "GET /m ICE/1.0\r\n\r\n", BAD],
  ["RTSP/1.0", "PUT /m RTSP/1.0\r\n\r\n", BAD],
  ["IHTTP/1.0", "GET /m IHTTP/1.0\r\n\r\n", BAD],
  ["lower-case http/1.1", "GET / http/1.1\r\n\r\n", BAD],
  ["HTTP/1", "GET / HTTP/1\r\n\r\n", BAD],
  ["HTTP/11.1", "GET / HTTP/11.1\r\n\r\n", BAD],
  ["UTF-8 in the path", "GET /\xce\xb4 HTTP/1.1\r\n\r\n", BAD],
  ["a byte above 0x7F in the query", "GET /?q=\xe9 HTTP/1.1\r\n\r\n", BAD],
  ["a tab in the query", "GET /?a\tb HTTP/1.1\r\n\r\n", BAD],
  ["a tab in the path", "GET /a\tb HTTP/1.1\r\n\r\n", BAD],
  ["NUL in the target", "GET /a\0b HTTP/1.1\r\n\r\n", BAD],
  ["DEL in the target", "GET /a\x7fb HTTP/1.1\r\n\r\n", BAD],
  ["HTTP/2 preface: 505, never 200", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", { status: [505], closed: true, events: [] }],
  ["HTTP/3.0", "GET / HTTP/3.0\r\n\r\n", { status: [505], closed: true, events: [] }],

  // line ends
  ["bare LF after the request line", "GET / HTTP/1.1\nHost: h\r\n\r\n", BAD],
  ["bare LF after a header", "GET / HTTP/1.1\r\nHost: h\n\r\n", BAD],
  ["bare LF as the empty line", "GET / HTTP/1.1\r\nHost: h\r\n\n", BAD],
  ["only LFs", "GET / HTTP/1.1\n\n", BAD],
  ["a bare LF before the request line", "\nGET / HTTP/1.1\r\n\r\n", BAD],
  ["a header hidden behind a bare LF", "POST / HTTP/1.1\r\nx:x\nTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n\r\n", BAD],
  ["an empty header hidden behind a bare LF", "POST / HTTP/1.1\r\nx:\nTransfer-Encoding: chunked\r\n\r\n", BAD],
  ["headers separated by CR", "GET / HTTP/1.1\r\nFoo: 1\rBar: 2\r\n\r\n", BAD],
  ["an empty header then CR", "POST / HTTP/1.1\r\nx:\rTransfer-Encoding: chunked\r\n\r\n", BAD],
  ["CR and junk where the empty line goes", "GET / HTTP/1.1\r\nHost: a\r\n\rZGET /evil: HTTP/1.1\r\n\r\n", BAD],

  // header lines
  ["obs-fold", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", BAD],
  ["a space before the first header", "GET / HTTP/1.1\r\n Host: foo\r\n\r\n", BAD],
  ["a name folded onto the next line", "GET / HTTP/1.1\r\nname\r\n : value\r\n\r\n", BAD],
  ["a space before the colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", BAD],
  ["'@' in a name", "GET / HTTP/1.1\r\nFo@: x\r\n\r\n", BAD],
  ["a control byte in a name", "GET / HTTP/1.1\r\nFoo\x01test: x\r\n\r\n", BAD],
  ["no name", "GET / HTTP/1.1\r\n: x\r\n\r\n", BAD],
  ["no colon", "GET / HTTP/1.1\r\nbogus\r\n\r\n", BAD],
  ["NUL in a value", "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", BAD],
  ["DEL in a value", "GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n", BAD],
  ["ESC in a value", "GET / HTTP/1.1\r\nX: \x1b[0m\r\n\r\n", BAD],
  ["two Host lines", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", BAD],

  // framing
  ["Content-Length -1", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", BAD],
  ["Content-Length 1x", "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\nx", BAD],
  ["an empty Content-Length", "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", BAD],
  ["two Content-Length", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", BAD],
  ["Content-Length and chunked", "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", BAD],
  ["identity and Content-Length", "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nWorld", BAD],
  ["gzip alone", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", BAD],
  ["chunked, then deflate", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, deflate\r\n\r\nWorld", BAD],
  ["chunked, then a deflate line", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: deflate\r\n\r\nWorld", BAD],
  ["chunked twice", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", BAD],
  ["chunkedchunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunkedchunked\r\n\r\n", BAD],
  ["an empty Transfer-Encoding", "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", BAD],
  ["a list of commas", "POST / HTTP/1.1\r\nTransfer-Encoding: , ,\r\n\r\n", BAD],
  ["chunked with a parameter", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked;x=1\r\n\r\n0\r\n\r\n", BAD],
  ["a coding that is not a token", "POST / HTTP/1.1\r\nTransfer-Encoding: gz/ip, chunked\r\n\r\n0\r\n\r\n", BAD],
  ["chunked in an HTTP/1.0 request", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", BAD],

  // chunked framing
  ["a space after the chunk size", CH + "a \r\n0123456789\r\n0\r\n\r\n", BAD_BODY("HDRS POST /u")],
  ["a word after the chunk size", CH + "2 erfrferferf\r\naa\r\n0 rrrr\r\n\r\n", BAD_BODY("HDRS POST /u")],
  ["';' with no name", CH + "2;\r\naa\r\n0\r\n\r\n", BAD_BODY("HDRS POST /u")],
  ["';=' with no name", CH + "2;=x\r\naa\r\n0\r\n\r\n", BAD_BODY("HDRS POST /u")],
  ["'=' with no value", CH + "2;a=\r\naa\r\n0\r\n\r\n", BAD_BODY("HDRS POST /u")],
  ["a space inside an extension", CH + "2;a=b c\r\naa\r\n0\r\n\r\n", BAD_BODY("HDRS POST /u")],
  ["unbalanced quotes", CH + '5;a="abc";b="def; ghi\r\nhello\r\n0\r\n\r\n', BAD_BODY("HDRS POST /u")],
  ["a control byte in quotes", CH + '5;a="a\x01"\r\nhello\r\n0\r\n\r\n', BAD_BODY("HDRS POST /u")],
  ["junk after the quotes", CH + '5;a="x"y\r\nhello\r\n0\r\n\r\n', BAD_BODY("HDRS POST /u")],
  ["a bare LF after the size", CH + "5\nhello\r\n0\r\n\r\n", BAD_BODY("HDRS POST /u")],
  ["CR CR after the size", CH + "5\r\r;ABCD\r\n34\r\nE\r\n0\r\n\r\n", BAD_BODY("HDRS POST /u")],
  ["data not followed by CRLF", CH + "5\r\nABCDE0\r\n\r\n", BAD_BODY("HDRS POST /u")],
  ["data followed by a bare LF", CH + "5\r\nABCDE\n0\r\n\r\n", BAD_BODY("HDRS POST /u")],
  ["no last chunk", CH + "3\r\nfoo\r\n\r\n", BAD_BODY("HDRS POST /u")],
  ["a size that is not hex", CH + "zz\r\nhello\r\n", BAD_BODY("HDRS POST /u")],
  ["a size of 9 digits", CH + "fffffffff\r\n", BAD_BODY("HDRS POST /u")],
  ["a folded trailer", CH + "0\r\nX-T: 1\r\n 2\r\n\r\n", BAD_BODY("HDRS POST /u")],
  ["a trailer without a colon", CH + "0\r\nbogus\r\n\r\n", BAD_BODY("HDRS POST /u")],
  ["a trailer ended by a bare LF", CH + "0\r\nX-T: 1\n\r\n", BAD_BODY("HDRS POST /u")],
  ["the last empty line a bare LF", CH + "0\r\n\n", BAD_BODY("HDRS POST /u")],
];

test("requests: refused (400 and close, no half-parsed message) or accepted, whole, byte by byte and in random splits", () => {
  const lenient = MG_HTTP_ALLOW_BARE_LF;
  for (const [what, input, want] of REQUESTS) {
    if (lenient && input.replace(/\r\n/g, "").indexOf("\n") >= 0) continue; // the cases for bare LF hold in strict mode only
    for (const mode of MODES) {
      const got = serve(input, mode);
      assert.equal(got, want, `${what}, ${where(mode)}`);
    }
  }
});

test("mg_http_parse: a bad byte is refused when it arrives, not when the head is complete", () => {
  const hm = new mg_http_message();
  // each with the offset of the byte that proves it wrong
  const cases: [string, number][] = [
    ["G(T / HTTP/1.1\r\n", 1],
    ["GET\t/ HTTP/1.1\r\n", 3],
    ["GET /\x80 HTTP/1.1\r\n", 5],
    ["GET / HTTX/1.1\r\n", 9],
    ["GET / HTTP/1.1\nHost: h\r\n", 14],
    ["GET / HTTP/1.1\r\nA B: c\r\n", 17],
    ["GET / HTTP/1.1\r\nA: \x00\r\n", 19],
    ["GET / HTTP/1.1\r\n Host: h\r\n", 16],
    ["HTTP/1.1 20x OK\r\n", 11],
  ];
  for (const [s, bad] of cases) {
    const b = enc(s);
    for (let n = 0; n <= bad; n++) assert.is(mg_http_parse(b, n, hm), 0, JSON.stringify(s) + " cut at " + n);
    for (let n = bad + 1; n <= s.length; n++) assert.is(mg_http_parse(b, n, hm), -1, JSON.stringify(s) + " cut at " + n);
  }
});

// --- the client: responses are held to the same grammar ---------------------------

function fetch(response: string, mode: string): string[] {
  const net = new mg_mock(8, 1 << 16);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const srv = net.server(81);
  const events: string[] = [];
  mg_http_connect(mgr, "http://127.0.0.1:81", (c, ev, d) => {
    if (ev === MG_EV_CONNECT) mg_printf(c, "GET / HTTP/1.1\r\n\r\n");
    else if (ev === MG_EV_HTTP_HDRS) events.push("HDRS " + (d as mg_http_message).resp_code);
    else if (ev === MG_EV_HTTP_MSG) events.push("MSG " + String((d as mg_http_message).body));
    else if (ev === MG_EV_ERROR) events.push("ERROR");
    else if (ev === MG_EV_CLOSE) events.push("CLOSE");
  }, null);
  net.poll(mgr, 3);
  const p = net.accepted(srv)!;
  feed(net, mgr, p, response, mode);
  net.poll(mgr, 3);
  if (events.indexOf("CLOSE") < 0) {
    p.close(); // a body read until close ends here
    net.poll(mgr, 3);
  }
  return events;
}

const RESPONSES: [string, string, string[]][] = [
  ["200 with a length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", ["HDRS 200", "MSG hi", "CLOSE"]],
  ["no reason phrase, no SP", "HTTP/1.1 204\r\n\r\n", ["HDRS 204", "MSG ", "CLOSE"]],
  ["a reason with obs-text and tabs", "HTTP/1.1 200 \xe7a\tva\r\nContent-Length: 0\r\n\r\n", ["HDRS 200", "MSG ", "CLOSE"]],
  ["chunked with extensions", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=\"y\"\r\nhi\r\n0\r\n\r\n", ["HDRS 200", "MSG hi", "CLOSE"]],
  ["gzip, chunked: chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", ["HDRS 200", "MSG hi", "CLOSE"]],
  ["gzip alone: read until close (RFC 9112 §6.3)", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", ["HDRS 200", "MSG zz", "CLOSE"]],
  ["a bare LF in the status line", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", ["ERROR", "CLOSE"]],
  ["a bare LF as the empty line", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n", ["ERROR", "CLOSE"]],
  ["four digits", "HTTP/1.1 2000 OK\r\n\r\n", ["ERROR", "CLOSE"]],
  ["a code below 100", "HTTP/1.1 099 X\r\n\r\n", ["ERROR", "CLOSE"]],
  ["HTTP/1.1x", "HTTP/1.1x 200 OK\r\n\r\n", ["ERROR", "CLOSE"]],
  ["a control byte in the reason", "HTTP/1.1 200 O\x01K\r\n\r\n", ["ERROR", "CLOSE"]],
  ["obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", ["ERROR", "CLOSE"]],
  ["Content-Length and chunked", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", ["ERROR", "CLOSE"]],
  ["a space after the chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 \r\nhi\r\n0\r\n\r\n", ["HDRS 200", "ERROR", "CLOSE"]],
];

test("responses: the client holds them to the same grammar, whole, byte by byte and in random splits", () => {
  for (const [what, input, want] of RESPONSES) {
    if (MG_HTTP_ALLOW_BARE_LF && input.replace(/\r\n/g, "").indexOf("\n") >= 0) continue;
    for (const mode of MODES) assert.equal(fetch(input, mode), want, `${what}, ${where(mode)}`);
  }
});

test.run();
