// The HTTP server's hot paths, bundled into one script for the XS worker by
// bench/http.bench.mjs (and run on V8 too). Everything is made in setup();
// the measured functions then only move bytes, so the heap count around them
// shows what HTTP allocates:
//   gets(n, port)   n keep-alive GET → 200 "hi" exchanges through the mock
//                   network (port 80: reply from prepared bytes, the
//                   allocation-free path; port 81: mg_http_reply with strings)
//   parts(n)        n parts of one multipart request through the 6.x part
//                   events (mp_begin(n) before, mp_end() after)
//   upload(mb)      an mb-megabyte multipart file through the 6.x part events
import { mg_mock, mg_mock_peer } from "../hal/mock.js";
import { mg_connection, mg_mgr, mg_mgr_init, mg_mgr_poll, MG_EV_HTTP_MSG } from "../src/net.js";
import {
  MG_EV_HTTP_MULTIPART_REQUEST_END,
  MG_EV_HTTP_PART_DATA,
  mg_http_listen,
  mg_http_multipart_part,
  mg_http_reply,
  mg_set_protocol_http_websocket,
} from "../src/http.js";
import { mg_crc32 } from "../src/util.js";
import { mg_log_set } from "../src/log.js";

function bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 255;
  return b;
}

const BOUNDARY = "xYzZY0123456789";

class Bench {
  net: mg_mock | null = null;
  mgr: mg_mgr | null = null;
  peer80: mg_mock_peer | null = null;
  peer81: mg_mock_peer | null = null;
  mp: mg_mock_peer | null = null;
  req = bytes("GET /hello HTTP/1.1\r\nHost: device\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n");
  hdr = bytes("Content-Type: text/plain\r\n");
  body = bytes("hi");
  reply_len = 0;
  back = new Uint8Array(4096);
  part: Uint8Array = new Uint8Array(0);
  piece = new Uint8Array(4096);
  tail = bytes(`\r\n--${BOUNDARY}--\r\n`);
  errors = 0;
  crc = 0;
  data = 0;
  ends = 0;
}
const B = new Bench();

function reply_bytes(c: mg_connection, ev: number): void {
  if (ev === MG_EV_HTTP_MSG) mg_http_reply(c, 200, B.hdr, B.body);
}
function reply_str(c: mg_connection, ev: number): void {
  if (ev === MG_EV_HTTP_MSG) mg_http_reply(c, 200, "Content-Type: text/plain\r\n", "hi");
}
function parts6(c: mg_connection, ev: number, d: any): void {
  if (ev === MG_EV_HTTP_PART_DATA) {
    const p = d as mg_http_multipart_part;
    B.crc = mg_crc32(B.crc, p.data.buf, p.data.ofs, p.data.len);
    B.data += p.data.len;
  } else if (ev === MG_EV_HTTP_MULTIPART_REQUEST_END) {
    B.ends++;
    mg_http_reply(c, 200, B.hdr, B.body);
  }
}

export function setup(): void {
  mg_log_set(1);
  const net = new mg_mock(16, 16384);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  mg_http_listen(mgr, "http://0.0.0.0:80", reply_bytes, null);
  mg_http_listen(mgr, "http://0.0.0.0:81", reply_str, null);
  mg_set_protocol_http_websocket(mg_http_listen(mgr, "http://0.0.0.0:82", parts6, null)!);
  B.net = net;
  B.mgr = mgr;
  B.peer80 = net.client(80);
  B.peer81 = net.client(81);
  B.reply_len = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi".length;
  B.part = bytes(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n\r\n` + "0123456789".repeat(10) + "\r\n");
}

/** n GET → reply exchanges on one keep-alive connection. */
export function gets(n: number, port: number): number {
  const net = B.net as mg_mock;
  const mgr = B.mgr as mg_mgr;
  const p = (port === 80 ? B.peer80 : B.peer81) as mg_mock_peer;
  const want = B.reply_len;
  for (let k = 0; k < n; k++) {
    const got = net.exchange(mgr, p, B.req, B.req.length, B.back, want, 20);
    if (got !== want || B.back[want - 1] !== 105) B.errors++;
  }
  return B.errors;
}

function pump(p: mg_mock_peer, buf: Uint8Array, len: number): void {
  let ofs = 0;
  for (let guard = 0; ofs < len && guard < 10000; guard++) {
    ofs += p.send(buf, len - ofs, ofs);
    (B.net as mg_mock).now += 1;
    mg_mgr_poll(B.mgr as mg_mgr, 0);
  }
  if (ofs < len) B.errors++;
}

/** Polls until the request's answer is there (what the socket still queues is read a buffer at a time). */
function drain(p: mg_mock_peer): void {
  for (let i = 0; i < 100 && p.available < B.reply_len; i++) {
    (B.net as mg_mock).now += 1;
    mg_mgr_poll(B.mgr as mg_mgr, 0);
  }
}

/** Opens a multipart request of n small parts (allocates: run it outside the measurement). */
export function mp_begin(n: number): void {
  const total = n * B.part.length + B.tail.length - 2; // the first delimiter has no CRLF before it
  const head = bytes(`POST /up HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${total}\r\n\r\n`);
  B.mp = (B.net as mg_mock).client(82);
  B.ends = 0;
  pump(B.mp as mg_mock_peer, head, head.length);
}
/** n parts of the open request. */
export function parts(n: number): void {
  for (let i = 0; i < n; i++) pump(B.mp as mg_mock_peer, B.part, B.part.length);
}
/** Ends the request: 1 when its answer came. */
export function mp_end(): number {
  const p = B.mp as mg_mock_peer;
  // the last part's CRLF is in B.part already; the tail starts with its own
  pump(p, B.tail, B.tail.length);
  drain(p);
  const got = p.recv_into(B.back, 0, B.back.length);
  p.close();
  mg_mgr_poll(B.mgr as mg_mgr, 0);
  return B.ends === 1 && got === B.reply_len ? 1 : 0;
}

/** One multipart request carrying an mb-megabyte file; returns the bytes that arrived in PART_DATA. */
export function upload(mb: number): number {
  const size = mb * 1024 * 1024;
  const open = bytes(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="fw"; filename="fw.bin"\r\n\r\n`);
  const total = open.length + size + B.tail.length;
  const head = bytes(`POST /up HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${total}\r\n\r\n`);
  const p = (B.net as mg_mock).client(82) as mg_mock_peer;
  B.data = 0;
  B.ends = 0;
  pump(p, head, head.length);
  pump(p, open, open.length);
  const piece = B.piece;
  for (let i = 0; i < piece.length; i++) piece[i] = (i * 13 + 1) & 255;
  for (let sent = 0; sent < size; sent += piece.length) pump(p, piece, size - sent < piece.length ? size - sent : piece.length);
  pump(p, B.tail, B.tail.length);
  drain(p);
  p.close();
  mg_mgr_poll(B.mgr as mg_mgr, 0);
  return B.ends === 1 ? B.data : -1;
}

export function errors(): number {
  return B.errors;
}
