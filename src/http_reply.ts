// What HTTP writes (the writing half of Mongoose's http.c): status lines and
// reason phrases, mg_http_reply, the chunked-body writers
// (mg_http_write_chunk, mg_http_printf_chunk) and a client's mg_http_bauth.
// Apart from the connection machine (http.ts) because the static file server
// and the upload handler (http_serve.ts) answer with mg_http_reply while the
// machine drives the file server: with the writers in http.ts, http.ts and
// http_serve.ts would import each other.
import { MG_IO_SIZE } from "./config.js";
import { mg_vxprintf } from "./fmt.js";
import { mg_copy } from "./iobuf.js";
import { MG_ERROR } from "./log.js";
import { type mg_connection, mg_mgr_kick, mg_printf } from "./net.js";
import { mg_str, mg_str_n, mg_utf8_len, mg_utf8_put } from "./str.js";
import { mg_base64_encode } from "./util.js";
import { ascii, eq_lc, LC_CONNECTION } from "./http_parse.js";
import { type HttpConn, http_init } from "./http_conn.js";

/** The reason phrase of a status code, "" when unknown. */
export function mg_http_status_reason(code: number): string {
  switch (code) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

const B_HTTP11 = ascii("HTTP/1.1 ");
const B_CL = ascii("Content-Length: ");
const B_200_OK = ascii("200 OK\r\n");
const B_CONN_CLOSE = ascii("Connection: close\r\n");

/** Appends a string, bytes or an mg_str at o (no bounds: callers check space first). */
function put(b: Uint8Array, o: number, x: string | Uint8Array | mg_str): number {
  if (typeof x === "string") return mg_utf8_put(x, b, o, b.length - o);
  if (x instanceof Uint8Array) {
    mg_copy(b, o, x, 0, x.length);
    return x.length;
  }
  mg_copy(b, o, x.buf, x.ofs, x.len);
  return x.len;
}
function size_of(x: string | Uint8Array | mg_str): number {
  if (typeof x === "string") return mg_utf8_len(x);
  if (x instanceof Uint8Array) return x.length;
  return x.len;
}
function put_dec(b: Uint8Array, o: number, v: number): number {
  let n = 1;
  for (let t = v; t >= 10; t = Math.floor(t / 10)) n++;
  for (let k = n - 1; k >= 0; k--) {
    b[o + k] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return n;
}
function put_status(b: Uint8Array, o: number, code: number): number {
  const o0 = o;
  if (code === 200) {
    mg_copy(b, o, B_HTTP11, 0, B_HTTP11.length);
    o += B_HTTP11.length;
    mg_copy(b, o, B_200_OK, 0, B_200_OK.length);
    return o + B_200_OK.length - o0;
  }
  mg_copy(b, o, B_HTTP11, 0, B_HTTP11.length);
  o += B_HTTP11.length;
  o += put_dec(b, o, code);
  b[o++] = 32;
  o += mg_utf8_put(mg_http_status_reason(code), b, o, b.length - o);
  b[o++] = 13;
  b[o++] = 10;
  return o - o0;
}

/**
 * Sends a whole response: status line, the given headers (each ending in
 * CRLF), an exact Content-Length, and the body.
 *
 * Differences from Mongoose, on purpose:
 * - The body is a format string only when arguments follow it:
 *   mg_http_reply(c, 200, "", "100%") sends "100%", while
 *   mg_http_reply(c, 200, "", "%d%%", 100) formats (#2105).
 * - headers and body may also be Uint8Array or mg_str: prepared once, they
 *   make a reply that allocates nothing on XS.
 * - A reply to HEAD carries the headers and no body.
 * - Content-Length is exact, not padded.
 * - If the response does not fit in the send buffer (MG_IO_SIZE), nothing of
 *   it is sent: the client gets 500 and the log says why (and if not even
 *   that fits, the connection is closed: a pipelined client must never get
 *   the next answer in this one's place); stream big responses with
 *   mg_http_write_chunk or mg_http_serve_*.
 * - A reply to a request that closes the connection (Connection: close,
 *   HTTP/1.0) says Connection: close, unless headers name Connection.
 * - Up to 10 format arguments, as fixed parameters: a rest parameter costs
 *   2 heap slots per call on XS, even when empty, and this is the reply on
 *   every request's path. An argument that is undefined counts as absent.
 * Returns true when the response was queued.
 */
export function mg_http_reply(
  c: mg_connection, code: number, headers: string | Uint8Array | mg_str | null, body: string | Uint8Array | mg_str,
  a0?: any, a1?: any, a2?: any, a3?: any, a4?: any, a5?: any, a6?: any, a7?: any, a8?: any, a9?: any,
): boolean {
  const s = c.send;
  const b = s.buf;
  const st = c.proto as HttpConn | null;
  const head_only = st !== null && st.is_head_req;
  const start = s.len;
  const hdr = headers ?? "";
  const closing = st !== null && st.close_after && !c.is_client;
  const need_head = 9 + 3 + 1 + 40 + 2 + size_of(hdr) + (closing ? B_CONN_CLOSE.length : 0) + B_CL.length + 20 + 4;
  if (start + need_head > s.size) return reply_too_big(c, start);
  let o = start + put_status(b, start, code);
  const hdr_start = o;
  o += put(b, o, hdr);
  if (closing && !names_connection(b, hdr_start, o)) {
    mg_copy(b, o, B_CONN_CLOSE, 0, B_CONN_CLOSE.length);
    o += B_CONN_CLOSE.length;
  }
  // Body: formatted (or copied) after a gap, then moved behind the header.
  const gap = o + B_CL.length + 16 + 4;
  let blen: number;
  if (a0 !== undefined && typeof body === "string") {
    const args = http_init(c.mgr).fmt_args;
    args[0] = a0; args[1] = a1; args[2] = a2; args[3] = a3; args[4] = a4;
    args[5] = a5; args[6] = a6; args[7] = a7; args[8] = a8; args[9] = a9;
    const out = c.mgr.out;
    const ap = c.mgr.ap;
    const sb = out.buf, so = out.ofs, sc = out.cap, sn = out.n, sa = ap.a, si = ap.i;
    out.buf = b;
    out.ofs = gap;
    out.cap = s.size - gap;
    out.n = 0;
    ap.a = args;
    ap.i = 0;
    mg_vxprintf(out, body, ap);
    blen = out.n;
    out.buf = sb; out.ofs = so; out.cap = sc; out.n = sn; ap.a = sa; ap.i = si;
    if (gap + blen > s.size) return reply_too_big(c, start);
  } else {
    blen = size_of(body);
    if (gap + blen > s.size) return reply_too_big(c, start);
    put(b, gap, body);
  }
  mg_copy(b, o, B_CL, 0, B_CL.length);
  o += B_CL.length;
  o += put_dec(b, o, blen);
  b[o++] = 13; b[o++] = 10; b[o++] = 13; b[o++] = 10;
  if (!head_only) {
    b.copyWithin(o, gap, gap + blen);
    o += blen;
  }
  s.len = o;
  mg_mgr_kick(c.mgr);
  c.is_resp = false;
  return true;
}

/** True when the header lines in b[from, to) include a Connection header. */
function names_connection(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i + 11 <= to; ) {
    if (b[i + 10] === 58 && eq_lc(b, i, 10, LC_CONNECTION)) return true;
    const nl = b.indexOf(10, i);
    if (nl < 0 || nl >= to) return false;
    i = nl + 1;
  }
  return false;
}

function reply_too_big(c: mg_connection, start: number): boolean {
  c.send.len = start;
  MG_ERROR("%lu mg_http_reply: response larger than the free send buffer (MG_IO_SIZE %d); stream it", c.id, MG_IO_SIZE);
  const msg = "Internal Server Error: response too large\n";
  const st = c.proto as HttpConn | null;
  if (c.send.size - c.send.len < 120) {
    // not even the 500 fits: close rather than let the next answer take this one's place
    MG_ERROR("%lu mg_http_reply: no room for a 500 either: closing", c.id);
    if (st !== null) st.close_after = true;
    c.is_draining = true;
  } else {
    const b = c.send.buf;
    let o = start + put_status(b, start, 500);
    if (st !== null && st.close_after) o += put(b, o, B_CONN_CLOSE);
    o += put(b, o, "Content-Length: ");
    o += put_dec(b, o, msg.length);
    o += put(b, o, "\r\n\r\n");
    o += put(b, o, msg);
    c.send.len = o;
    mg_mgr_kick(c.mgr);
  }
  c.is_resp = false;
  return false;
}

/**
 * Sends one chunk of a chunked response: `<hex len>\r\n<data>\r\n`. A chunk of
 * length 0 ends the body and the response (is_resp is cleared). Returns false
 * when it does not fit (nothing is sent): wait for MG_EV_WRITE.
 */
export function mg_http_write_chunk(c: mg_connection, data: Uint8Array | mg_str | string, len?: number, ofs = 0): boolean {
  const s = c.send;
  let n: number;
  if (typeof data === "string") n = mg_utf8_len(data);
  else if (data instanceof Uint8Array) n = len ?? data.length - ofs;
  else n = data.len;
  const hex_len = n === 0 ? 1 : Math.floor(Math.log2(n) / 4) + 1;
  const total = hex_len + 2 + n + 2; // "0\r\n\r\n" ends the body
  if (s.len + total > s.size) return false;
  const b = s.buf;
  let o = s.len;
  for (let k = hex_len - 1; k >= 0; k--) b[o++] = HEXCH[(n >> (k * 4)) & 15];
  b[o++] = 13;
  b[o++] = 10;
  if (typeof data === "string") o += mg_utf8_put(data, b, o, n);
  else if (data instanceof Uint8Array) {
    mg_copy(b, o, data, ofs, n);
    o += n;
  } else o += put(b, o, data);
  b[o++] = 13;
  b[o++] = 10;
  if (n === 0) c.is_resp = false;
  s.len = o;
  mg_mgr_kick(c.mgr);
  return true;
}
const HEXCH = ascii("0123456789abcdef");

/** printf into one chunk (mg_http_write_chunk with a formatted body). Returns bytes of data sent, 0 if it did not fit. */
export function mg_http_printf_chunk(c: mg_connection, fmt: string, ...args: any[]): number {
  const s = c.send;
  // format at the place the data will go, after an 8-digit size and CRLF
  const out = c.mgr.out;
  const ap = c.mgr.ap;
  const sb = out.buf, so = out.ofs, sc = out.cap, sn = out.n, sa = ap.a, si = ap.i;
  out.buf = s.buf;
  out.ofs = s.len + 10;
  out.cap = s.size - s.len - 10 - 4;
  out.n = 0;
  ap.a = args;
  ap.i = 0;
  mg_vxprintf(out, fmt, ap);
  const n = out.n;
  const fits = out.cap >= 0 && n <= out.cap;
  out.buf = sb; out.ofs = so; out.cap = sc; out.n = sn; ap.a = sa; ap.i = si;
  if (!fits) return 0;
  const b = s.buf;
  let o = s.len;
  for (let k = 7; k >= 0; k--) b[o++] = HEXCH[(n >> (k * 4)) & 15];
  b[o++] = 13;
  b[o++] = 10;
  o += n;
  b[o++] = 13;
  b[o++] = 10;
  if (n === 0) c.is_resp = false;
  s.len = o;
  mg_mgr_kick(c.mgr);
  return n;
}

/** Appends `Authorization: Basic <base64(user:pass)>\r\n` to c.send (no colon when pass is empty). */
export function mg_http_bauth(c: mg_connection, user: string, pass: string): boolean {
  const plain = mg_str(pass.length > 0 ? user + ":" + pass : user);
  const enc = new Uint8Array(((plain.len + 2) / 3) * 4 + 4);
  const n = mg_base64_encode(plain.buf, plain.ofs, plain.len, enc, 0, enc.length);
  return mg_printf(c, "Authorization: Basic %.*s\r\n", n, mg_str_n(enc, 0, n)) > 0;
}
