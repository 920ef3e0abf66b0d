// HTTP/1.1 server and client (Mongoose's http.c), in fixed buffers.
//
// Where a byte is parsed: mg_http_get_request_len finds the end of the head,
// mg_http_parse splits it, body_step takes body bytes (Content-Length or the
// chunked decoder, chunk_step), and multipart_step (6.x part events) splits
// multipart bodies. Everything happens in c.recv; nothing is copied out.
//
// Bodies larger than MG_IO_SIZE are the normal case on a device. A handler
// streams them by calling mg_http_stream_body(c) on MG_EV_HTTP_HDRS; a body
// nobody streams and that does not fit gets 413 and is never delivered
// truncated. Connections switched with mg_set_protocol_http_websocket get
// Mongoose 6.x's events instead (MG_EV_HTTP_REQUEST, MG_EV_HTTP_CHUNK,
// MG_EV_HTTP_PART_*), without 6.x's bugs.
import { MG_ENABLE_WS, MG_HTTP_HEAD_TIMEOUT_MS, MG_HTTP_INDEX, MG_IO_SIZE, MG_MAX_HTTP_HEADERS, MG_PATH_MAX } from "./config.js";
import { MG_FS_DIR, MG_FS_READ, MG_FS_WRITE, mg_fs, mg_fs_stat } from "./fs.js";
import { mg_base64_decode, mg_base64_encode } from "./util.js";
import { mg_va, mg_vxprintf, mg_xout } from "./fmt.js";
import { mg_copy, mg_iobuf_add, mg_iobuf_del } from "./iobuf.js";
import { MG_DEBUG, MG_ERROR, mg_log_set } from "./log.js";
import { mg_json_get_long } from "./json.js";
import type { mg_hal } from "../hal/hal.js";
import {
  MG_EV_CLOSE,
  MG_EV_CONNECT,
  MG_EV_HTTP_HDRS,
  MG_EV_HTTP_MSG,
  MG_EV_POLL,
  MG_EV_READ,
  MG_EV_WRITE,
  mg_call_user,
  mg_connect_svc,
  mg_connection,
  mg_error,
  mg_printf,
  mg_event_handler_t,
  mg_listen,
  mg_mgr,
  mg_mgr_free,
  mg_mgr_init,
  mg_mgr_kick,
  mg_mgr_run,
  mg_mgr_stop,
  mg_send,
} from "./net.js";
import { mg_str, mg_str_n, mg_str_set, mg_url_decode, mg_utf8_len, mg_utf8_put } from "./str.js";

// --- 6.x events (numbers as in Mongoose 6.18) -------------------------------
export const MG_EV_HTTP_REQUEST = 100; // ev_data: http_message (mg_http_message)
export const MG_EV_HTTP_REPLY = 101;
export const MG_EV_HTTP_CHUNK = 102; // also the 7.x streaming event, see mg_http_stream_body
export const MG_EV_WEBSOCKET_HANDSHAKE_REQUEST = 111;
export const MG_EV_WEBSOCKET_HANDSHAKE_DONE = 112;
export const MG_EV_WEBSOCKET_FRAME = 113;
export const MG_EV_WEBSOCKET_CONTROL_FRAME = 114;
export const MG_EV_HTTP_MULTIPART_REQUEST = 121;
export const MG_EV_HTTP_PART_BEGIN = 122;
export const MG_EV_HTTP_PART_DATA = 123;
export const MG_EV_HTTP_PART_END = 124;
export const MG_EV_HTTP_MULTIPART_REQUEST_END = 125;
/** The older name of MG_EV_HTTP_MULTIPART_REQUEST_END. */
export const MG_EV_HTTP_REQUEST_END = MG_EV_HTTP_MULTIPART_REQUEST_END;
/**
 * Fired (after PART_END/REQUEST_END with status -1) when a streamed request is
 * abandoned: the peer went away or the body was malformed.
 */
export const MG_EV_HTTP_REQUEST_CANCEL = 126;

// 6.x connection flags (c.flags)
export const MG_F_PROTO_1 = 1 << 12;
export const MG_F_PROTO_2 = 1 << 13;
/** Set in c.flags during MG_EV_HTTP_CHUNK: drop the body received so far. */
export const MG_F_DELETE_CHUNK = MG_F_PROTO_2;
/** 6.x: deliver WebSocket fragments as they come instead of reassembling. */
export const MG_F_WEBSOCKET_NO_DEFRAG = MG_F_PROTO_1;

/** mg_http_parse: more headers than MG_MAX_HTTP_HEADERS (mgts answers 431). */
export const MG_HTTP_TOO_MANY_HEADERS = -2;

export class mg_http_header {
  name = mg_str();
  value = mg_str();
}

/**
 * A parsed request or response (struct mg_http_message), every field a view
 * into the connection's recv buffer. Valid during the event only.
 *
 * One message object serves a whole manager (C keeps it on the stack per
 * parse): 30 headers as objects cost heap slots on XS, so they are made once.
 * The 6.x names (query_string, resp_code, resp_status_msg, header_names,
 * header_values) are the same data under struct http_message's names.
 */
export class mg_http_message {
  method = mg_str();
  uri = mg_str();
  query = mg_str();
  proto = mg_str();
  headers: mg_http_header[] = [];
  body = mg_str();
  head = mg_str();
  message = mg_str();
  /** MG_EV_HTTP_CHUNK: the bytes that arrived now (in 7.x streaming, the same as body). */
  chunk = mg_str();
  /**
   * MG_EV_HTTP_CHUNK in 7.x streaming: how many bytes of chunk the handler
   * used. It starts at chunk.len; lower it and the rest is offered again later
   * (back-pressure: e.g. the send buffer is full).
   */
  chunk_consumed = 0;
  /** Declared body length: Content-Length, or -1 (chunked, or a response read until close). */
  body_len = 0;
  chunked = false;
  // 6.x names
  resp_code = 0;
  resp_status_msg = this.proto;
  header_names: mg_str[] = [];
  header_values: mg_str[] = [];
  /** mg_http_reply's format arguments (scratch, one per manager). */
  fmt_args: any[] = [];
  get query_string(): mg_str {
    return this.query;
  }
  constructor() {
    for (let i = 0; i < MG_MAX_HTTP_HEADERS; i++) {
      const h = new mg_http_header();
      this.headers.push(h);
      this.header_names.push(h.name);
      this.header_values.push(h.value);
    }
    for (let i = 0; i < 10; i++) this.fmt_args.push(undefined);
  }
}
/** Mongoose 6.x's name for the message struct. */
export type http_message = mg_http_message;

/** A part of a multipart body, for MG_EV_HTTP_PART_* (6.x struct mg_http_multipart_part). */
export class mg_http_multipart_part {
  /** The part's filename= (empty if none). */
  file_name = mg_str();
  /** The part's name= (empty if none). */
  var_name = mg_str();
  /** PART_DATA: the bytes of this piece. */
  data = mg_str();
  /** 0, or < 0 when the request was cut short or malformed. */
  status = 0;
  /** Yours: kept from PART_BEGIN to MULTIPART_REQUEST_END of one request. */
  user_data: any = null;
  /** PART_DATA: bytes of data used; lower it to have the rest offered again (back-pressure). */
  num_data_consumed = 0;
}

const cca = String.prototype.charCodeAt;

/** Bytes of an ASCII constant, made once (module constants are only read, so preloading keeps them). */
function ascii(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = cca.call(s, i);
  return b;
}

// token characters of RFC 9110 (method and header names)
function is_tchar(ch: number): boolean {
  if (ch >= 97 && ch <= 122) return true; // a-z
  if (ch >= 65 && ch <= 90) return true; // A-Z
  if (ch >= 48 && ch <= 57) return true; // 0-9
  // ! # $ % & ' * + - . ^ _ ` | ~
  return (
    ch === 33 || ch === 35 || ch === 36 || ch === 37 || ch === 38 || ch === 39 || ch === 42 || ch === 43 ||
    ch === 45 || ch === 46 || ch === 94 || ch === 95 || ch === 96 || ch === 124 || ch === 126
  );
}
function lower(ch: number): number {
  return ch >= 65 && ch <= 90 ? ch + 32 : ch;
}
/** Case-insensitive compare of bytes with an ASCII constant (lowercase). */
function eq_lc(buf: Uint8Array, ofs: number, len: number, lc: Uint8Array): boolean {
  if (len !== lc.length) return false;
  for (let i = 0; i < len; i++) if (lower(buf[ofs + i]) !== lc[i]) return false;
  return true;
}
function str_eq_lc(s: mg_str, lc: Uint8Array): boolean {
  return eq_lc(s.buf, s.ofs, s.len, lc);
}
/** True if the bytes contain the lowercase ASCII token tok as a comma-separated element. */
function has_token(s: mg_str, tok: Uint8Array): boolean {
  const b = s.buf;
  let i = s.ofs;
  const end = s.ofs + s.len;
  while (i < end) {
    while (i < end && (b[i] === 32 || b[i] === 9 || b[i] === 44)) i++;
    let j = i;
    while (j < end && b[j] !== 44) j++;
    let k = j;
    while (k > i && (b[k - 1] === 32 || b[k - 1] === 9)) k--;
    if (eq_lc(b, i, k - i, tok)) return true;
    i = j + 1;
  }
  return false;
}

const LC_CONTENT_LENGTH = ascii("content-length");
const LC_TRANSFER_ENCODING = ascii("transfer-encoding");
const LC_CHUNKED = ascii("chunked");
const LC_CONNECTION = ascii("connection");
const LC_CLOSE = ascii("close");
const LC_KEEP_ALIVE = ascii("keep-alive");
const LC_AUTHORIZATION = ascii("authorization");
const LC_COOKIE = ascii("cookie");
const LC_EXPECT = ascii("expect");
const LC_100_CONTINUE = ascii("100-continue");
const LC_CONTENT_TYPE = ascii("content-type");
const LC_HEAD = ascii("head");

/**
 * Length of the head (request or status line plus headers, up to and
 * including the empty line), 0 if it is not complete yet, -1 if the bytes
 * cannot be HTTP: a control character, or a CR not followed by LF. A bare LF
 * ends lines as well as CRLF does.
 */
export function mg_http_get_request_len(buf: Uint8Array, buf_len: number, ofs = 0): number {
  for (let i = 0; i < buf_len; i++) {
    const ch = buf[ofs + i];
    if (ch === 10) {
      if (i > 0 && buf[ofs + i - 1] === 10) return i + 1;
      if (i > 1 && buf[ofs + i - 1] === 13 && buf[ofs + i - 2] === 10) return i + 1;
    } else if (ch === 13) {
      if (i + 1 < buf_len && buf[ofs + i + 1] !== 10) return -1;
    } else if ((ch < 32 && ch !== 9) || ch === 127) {
      return -1;
    }
  }
  return 0;
}

function is_version(b: Uint8Array, ofs: number, len: number): boolean {
  // exactly HTTP/d.d
  return (
    len === 8 && b[ofs] === 72 && b[ofs + 1] === 84 && b[ofs + 2] === 84 && b[ofs + 3] === 80 &&
    b[ofs + 4] === 47 && b[ofs + 5] >= 48 && b[ofs + 5] <= 57 && b[ofs + 6] === 46 &&
    b[ofs + 7] >= 48 && b[ofs + 7] <= 57
  );
}

/**
 * Parses a request or a response head into hm. Returns the head length, 0 if
 * the head is incomplete, -1 if it is malformed, or MG_HTTP_TOO_MANY_HEADERS.
 *
 * Strict, as Mongoose 7 is, and stricter where smuggling lives: duplicate or
 * invalid Content-Length, both Content-Length and Transfer-Encoding, a
 * transfer coding other than chunked, obsolete line folding, a bad header
 * name: all -1. For a response, method is the version, uri the status code
 * and proto the reason phrase, as in Mongoose.
 *
 * TypeScript adaptation: C's (const char *s, size_t len) becomes (buf, len,
 * hm, ofs = 0); every field of hm is a view into buf.
 */
export function mg_http_parse(buf: Uint8Array, len: number, hm: mg_http_message, ofs = 0): number {
  const n = mg_http_get_request_len(buf, len, ofs);
  if (n <= 0) return n;
  const end = ofs + n;
  mg_str_set(hm.head, buf, ofs, n);
  mg_str_set(hm.message, buf, ofs, n);
  mg_str_set(hm.body, buf, end, 0);
  mg_str_set(hm.chunk, buf, end, 0);
  mg_str_set(hm.query, buf, ofs, 0);
  for (let i = 0; i < MG_MAX_HTTP_HEADERS; i++) {
    mg_str_set(hm.headers[i].name, buf, ofs, 0);
    mg_str_set(hm.headers[i].value, buf, ofs, 0);
  }
  hm.body_len = 0;
  hm.chunked = false;
  hm.resp_code = 0;
  hm.chunk_consumed = 0;

  // the first line
  let i = ofs;
  let eol = i;
  while (buf[eol] !== 10) eol++;
  const line_end = eol > i && buf[eol - 1] === 13 ? eol - 1 : eol;
  let a = i;
  while (i < line_end && buf[i] !== 32) i++;
  mg_str_set(hm.method, buf, a, i - a);
  while (i < line_end && buf[i] === 32) i++;
  a = i;
  while (i < line_end && buf[i] !== 32) i++;
  mg_str_set(hm.uri, buf, a, i - a);
  while (i < line_end && buf[i] === 32) i++;
  const is_response = hm.method.len >= 5 && buf[ofs] === 72 && buf[ofs + 1] === 84 && buf[ofs + 2] === 84 && buf[ofs + 3] === 80 && buf[ofs + 4] === 47;
  if (is_response) {
    // HTTP/1.1 200 Reason phrase with spaces
    mg_str_set(hm.proto, buf, i, line_end - i);
    if (!is_version(buf, hm.method.ofs, hm.method.len) || hm.uri.len !== 3) return -1;
    let code = 0;
    for (let k = 0; k < 3; k++) {
      const d = buf[hm.uri.ofs + k] - 48;
      if (d < 0 || d > 9) return -1;
      code = code * 10 + d;
    }
    if (code < 100) return -1;
    hm.resp_code = code;
  } else {
    a = i;
    while (i < line_end && buf[i] !== 32) i++;
    mg_str_set(hm.proto, buf, a, i - a);
    if (i !== line_end) return -1; // anything after the version
    if (hm.method.len === 0 || hm.uri.len === 0) return -1;
    for (let k = 0; k < hm.method.len; k++) if (!is_tchar(buf[hm.method.ofs + k])) return -1;
    for (let k = 0; k < hm.uri.len; k++) {
      const ch = buf[hm.uri.ofs + k];
      if (ch <= 32 || ch === 127) return -1;
      if (ch === 63 && hm.query.len === 0 && hm.query.ofs === ofs) {
        // the first '?' splits off the query
        mg_str_set(hm.query, buf, hm.uri.ofs + k + 1, hm.uri.len - k - 1);
        hm.uri.len = k;
        break;
      }
    }
    if (!is_version(buf, hm.proto.ofs, hm.proto.len)) return -1;
  }

  // headers
  let nh = 0;
  let cl = -1;
  let te = false;
  let seen = 0; // bits: duplicates that are refused
  i = eol + 1;
  while (i < end) {
    eol = i;
    while (buf[eol] !== 10) eol++;
    const le = eol > i && buf[eol - 1] === 13 ? eol - 1 : eol;
    if (le === i) break; // the empty line
    if (buf[i] === 32 || buf[i] === 9) return -1; // obsolete line folding
    let k = i;
    while (k < le && is_tchar(buf[k])) k++;
    if (k === i || k >= le || buf[k] !== 58) return -1; // name, then ':'
    const name_ofs = i;
    const name_len = k - i;
    k++;
    while (k < le && (buf[k] === 32 || buf[k] === 9)) k++;
    let ve = le;
    while (ve > k && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
    if (nh === MG_MAX_HTTP_HEADERS) return MG_HTTP_TOO_MANY_HEADERS;
    const h = hm.headers[nh++];
    mg_str_set(h.name, buf, name_ofs, name_len);
    mg_str_set(h.value, buf, k, ve - k);
    if (eq_lc(buf, name_ofs, name_len, LC_CONTENT_LENGTH)) {
      if (seen & 1) return -1;
      seen |= 1;
      if (ve === k) return -1;
      let v = 0;
      for (let p = k; p < ve; p++) {
        const d = buf[p] - 48;
        if (d < 0 || d > 9) return -1;
        v = v * 10 + d;
        if (v > 0x1fffffffffffff / 10) return -1;
      }
      cl = v;
    } else if (eq_lc(buf, name_ofs, name_len, LC_TRANSFER_ENCODING)) {
      if (seen & 2) return -1;
      seen |= 2;
      if (!eq_lc(buf, k, ve - k, LC_CHUNKED)) return -1; // gzip, "gzip, chunked", ...: not supported
      te = true;
    } else if (eq_lc(buf, name_ofs, name_len, LC_AUTHORIZATION)) {
      if (seen & 4) return -1;
      seen |= 4;
    } else if (eq_lc(buf, name_ofs, name_len, LC_CONNECTION)) {
      if (seen & 8) return -1;
      seen |= 8;
    } else if (eq_lc(buf, name_ofs, name_len, LC_COOKIE)) {
      if (seen & 16) return -1;
      seen |= 16;
    }
    i = eol + 1;
  }
  if (te && cl >= 0) return -1;

  // body length
  if (te) {
    hm.chunked = true;
    hm.body_len = -1;
  } else if (cl >= 0) {
    hm.body_len = cl;
  } else if (is_response && !(hm.resp_code < 200 || hm.resp_code === 204 || hm.resp_code === 304)) {
    hm.body_len = -1; // read until the connection closes
  } else {
    hm.body_len = 0;
  }
  if (is_response && (hm.resp_code < 200 || hm.resp_code === 204 || hm.resp_code === 304)) {
    hm.body_len = 0;
    hm.chunked = false;
  }
  if (hm.body_len > 0) {
    const have = len - n;
    mg_str_set(hm.body, buf, end, have < hm.body_len ? have : hm.body_len);
    hm.message.len = n + hm.body_len;
  }
  return n;
}

/** The status code of a parsed response (0 for a request). */
export function mg_http_status(hm: mg_http_message): number {
  return hm.resp_code;
}

// --- headers and variables ---------------------------------------------------

/** The header's value, or null when absent (case-insensitive name). */
export function mg_http_get_header(hm: mg_http_message, name: string): mg_str | null {
  const n = name.length;
  for (let i = 0; i < MG_MAX_HTTP_HEADERS; i++) {
    const h = hm.headers[i];
    if (h.name.len === 0) break;
    if (h.name.len !== n) continue;
    let k = 0;
    while (k < n && lower(h.name.buf[h.name.ofs + k]) === lower(cca.call(name, k))) k++;
    if (k === n) return h.value;
  }
  return null;
}

function header_lc(hm: mg_http_message, lc: Uint8Array): mg_str | null {
  for (let i = 0; i < MG_MAX_HTTP_HEADERS; i++) {
    const h = hm.headers[i];
    if (h.name.len === 0) break;
    if (str_eq_lc(h.name, lc)) return h.value;
  }
  return null;
}

function to_str(s: mg_str | string): mg_str {
  return typeof s === "string" ? mg_str(s) : s;
}

/**
 * A variable from a header value such as `Content-Type: multipart/form-data;
 * boundary=xyz` or a cookie list: `name=value` or `name="value"`. Returns a
 * view (quotes stripped) or an empty mg_str. Unlike Mongoose's substring
 * search, the name must start an element (after ';', ',' or a space).
 */
export function mg_http_get_header_var(s: mg_str | string, name: string): mg_str {
  const v = to_str(s);
  const lc = new Uint8Array(name.length);
  for (let k = 0; k < lc.length; k++) lc[k] = lower(cca.call(name, k));
  const out = mg_str_n(v.buf, v.ofs, 0);
  header_var(v.buf, v.ofs, v.ofs + v.len, lc, out);
  return out;
}

/** mg_http_get_header_var over b[i..end) with a lowercase name: fills out, false when absent. */
function header_var(b: Uint8Array, i: number, end: number, lc: Uint8Array, out: mg_str): boolean {
  const n = lc.length;
  while (i < end) {
    while (i < end && (b[i] === 32 || b[i] === 9 || b[i] === 59 || b[i] === 44)) i++;
    let k = 0;
    while (k < n && i + k < end && lower(b[i + k]) === lc[k]) k++;
    if (k === n && i + n < end && b[i + n] === 61) {
      let p = i + n + 1;
      if (p < end && b[p] === 34) {
        const q = ++p;
        while (p < end && b[p] !== 34) p++;
        mg_str_set(out, b, q, p - q);
        return true;
      }
      const q = p;
      while (p < end && b[p] !== 59 && b[p] !== 44 && b[p] !== 32) p++;
      mg_str_set(out, b, q, p - q);
      return true;
    }
    while (i < end && b[i] !== 59 && b[i] !== 44 && b[i] !== 32) i++;
  }
  return false;
}

/** The raw value of name in a query string or form body (`a=1&b=2`), or an empty mg_str. */
export function mg_http_var(buf: mg_str | string, name: string): mg_str {
  const v = to_str(buf);
  const b = v.buf;
  const end = v.ofs + v.len;
  const n = name.length;
  let i = v.ofs;
  while (i < end) {
    let j = i;
    while (j < end && b[j] !== 38) j++;
    let k = 0;
    while (k < n && i + k < j && lower(b[i + k]) === lower(cca.call(name, k))) k++;
    if (k === n && i + n < j && b[i + n] === 61) return mg_str_n(b, i + n + 1, j - i - n - 1);
    i = j + 1;
  }
  return mg_str_n(b, v.ofs, 0);
}

/**
 * Decodes (form: '+' is a space) the variable into dst. Returns its length,
 * -1 bad source, -2 bad dst, -3 decoding failed or dst too small, -4 not
 * found, as Mongoose. Use mg_http_get_var_str for a JS string.
 */
export function mg_http_get_var(buf: mg_str | string, name: string, dst: Uint8Array, dst_len = dst.length): number {
  const v = to_str(buf);
  if (v.len === 0 || name.length === 0) return -1;
  if (dst_len === 0) return -2;
  const s = mg_http_var(v, name);
  if (s.len === 0 && !var_present(v, name)) return -4;
  const r = mg_url_decode(s, dst, 0, dst_len, true);
  return r < 0 ? -3 : r;
}
function var_present(v: mg_str, name: string): boolean {
  const s = mg_http_var(v, name);
  return s.ofs !== v.ofs || (v.len > name.length && s.len === 0 && v.buf[v.ofs + name.length] === 61);
}

/** mg_http_get_var as a JS string, or null when absent or undecodable. */
export function mg_http_get_var_str(buf: mg_str | string, name: string): string | null {
  const v = to_str(buf);
  const s = mg_http_var(v, name);
  if (s.len === 0 && !var_present(v, name)) return null;
  const d = new Uint8Array(s.len);
  const n = mg_url_decode(s, d, 0, d.length, true);
  return n < 0 ? null : mg_str_n(d, 0, n).toString();
}

function hexval(ch: number): number {
  if (ch >= 48 && ch <= 57) return ch - 48;
  if (ch >= 97 && ch <= 102) return ch - 87;
  if (ch >= 65 && ch <= 70) return ch - 55;
  return -1;
}

// --- replies -----------------------------------------------------------------

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
const B_CRLF = ascii("\r\n");
const B_CL = ascii("Content-Length: ");
const B_200_OK = ascii("200 OK\r\n");

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
 *   it is sent: the client gets 500 and the log says why; stream big
 *   responses with mg_http_write_chunk or mg_http_serve_*.
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
  const need_head = 9 + 3 + 1 + 40 + 2 + size_of(hdr) + B_CL.length + 20 + 4;
  if (start + need_head > s.size) return reply_too_big(c, start);
  let o = start + put_status(b, start, code);
  o += put(b, o, hdr);
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

function reply_too_big(c: mg_connection, start: number): boolean {
  c.send.len = start;
  MG_ERROR("%lu mg_http_reply: response larger than the free send buffer (MG_IO_SIZE %d); stream it", c.id, MG_IO_SIZE);
  const msg = "Internal Server Error: response too large\n";
  if (c.send.size - c.send.len >= 120) {
    const b = c.send.buf;
    let o = start + put_status(b, start, 500);
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

// --- the protocol handler ------------------------------------------------------

const PH_HEAD = 0; // waiting for a request (or response) head
const PH_BODY = 1; // taking the body of the message whose head is at recv[0..head_len)
const PH_DISCARD = 2; // after an error reply: reading and dropping the rest of a body
const PH_DEAD = 3; // after an error: everything received is dropped until close

const BODY_NONE = 0;
const BODY_LENGTH = 1;
const BODY_CHUNKED = 2;
const BODY_UNTIL_CLOSE = 3;

const ST_BUFFER = 0; // whole body in recv, then MG_EV_HTTP_MSG
const ST_PIECES = 1; // 7.x streaming: MG_EV_HTTP_CHUNK per piece, then MG_EV_HTTP_MSG with no body
const ST_PARTS = 2; // multipart: MG_EV_HTTP_PART_*, then (7.x) MG_EV_HTTP_MSG
const ST_6X = 3; // 6.x: MG_EV_HTTP_CHUNK with the body so far, MG_F_DELETE_CHUNK, then REQUEST/REPLY
const ST_SINK = 4; // mgts takes the body itself (mg_http_upload)
const ST_DROP = 5; // answered on MG_EV_HTTP_HDRS: the body is read and dropped, no MG_EV_HTTP_MSG

// chunked decoder states
const CK_SIZE = 0;
const CK_EXT = 1;
const CK_SIZE_LF = 2;
const CK_DATA = 3;
const CK_DATA_CR = 4;
const CK_DATA_LF = 5;
const CK_TRAILER = 6; // at the start of a trailer line (or the final empty line)
const CK_TRAILER_LINE = 7;
const CK_END_LF = 8;

// multipart parser states
const MP_PREAMBLE = 0;
const MP_AFTER_DELIM = 1;
const MP_HEADERS = 2;
const MP_DATA = 3;
const MP_DONE = 4;

const DISCARD_MAX = 1 << 20; // a refused body up to this size is read and dropped, so the client sees the reply

/** A sink for request bodies that mgts consumes itself (mg_http_upload). */
interface BodySink {
  write(c: mg_connection, buf: Uint8Array, ofs: number, len: number): boolean;
  done(c: mg_connection, ok: boolean): void;
}

/** Per-connection HTTP state: made once per pooled connection, reset per connection. */
export class HttpConn {
  mode6 = false;
  phase = PH_HEAD;
  head_len = 0;
  kept = 0;
  left = 0;
  kind = BODY_NONE;
  complete = false;
  eof = false;
  stream = ST_BUFFER;
  in_hdrs = false;
  is_head_req = false;
  close_after = false;
  discard_left = 0;
  total = 0;
  // chunked decoder
  ck = CK_SIZE;
  ck_size = 0;
  ck_digits = 0;
  // multipart
  mp = MP_PREAMBLE;
  delim: Uint8Array | null = null; // "\r\n--" + boundary
  delim_len = 0;
  names: Uint8Array | null = null; // var_name and file_name bytes of the current part
  in_part = false;
  /** The handler took less than offered (num_data_consumed): the rest waits, it is not malformed. */
  mp_held = false;
  /** mg_millis() when the connection became ready for a request head (0: not yet noted). */
  head_t0 = 0;
  /** HTTP set c.is_full because recv is full while the previous reply is pending. */
  held_full = false;
  part = new mg_http_multipart_part();
  // a file being served (mg_http_serve_file)
  file: any = null;
  file_fs: any = null;
  file_left = 0;
  // mg_http_upload and friends
  sink: BodySink | null = null;
  sink_state: any = null;
  // WebSocket state (src/ws.ts)
  ws: any = null;

  reset(mode6: boolean): void {
    this.mode6 = mode6;
    this.phase = PH_HEAD;
    this.head_len = this.kept = this.left = this.total = 0;
    this.kind = BODY_NONE;
    this.complete = this.eof = this.in_hdrs = this.is_head_req = this.close_after = this.in_part = this.mp_held = false;
    this.head_t0 = 0;
    this.held_full = false;
    this.stream = ST_BUFFER;
    this.discard_left = 0;
    this.ck = CK_SIZE;
    this.ck_size = this.ck_digits = 0;
    this.mp = MP_PREAMBLE;
    this.delim_len = 0;
    this.file = null;
    this.file_fs = null;
    this.file_left = 0;
    this.sink = null;
    this.sink_state = null;
  }
}

const HTTP_6X = { mode: "6.x" }; // pfn_data marking connections in 6.x mode (copied to accepted ones)

/** The manager's shared message, and HTTP state for every pooled connection: made on first use. */
export function http_init(mgr: mg_mgr): mg_http_message {
  if (mgr.proto === null) {
    mgr.proto = new mg_http_message();
    for (let i = 0; i < mgr.pool.length; i++) {
      if (mgr.pool[i].proto === null) mgr.pool[i].proto = new HttpConn();
    }
  }
  return mgr.proto as mg_http_message;
}

/** Creates an HTTP listener. Requests arrive as MG_EV_HTTP_HDRS and MG_EV_HTTP_MSG. */
export function mg_http_listen(mgr: mg_mgr, url: string, fn: mg_event_handler_t | null, fn_data: any): mg_connection | null {
  http_init(mgr);
  const c = mg_listen(mgr, url, fn, fn_data);
  if (c !== null) c.pfn = http_cb;
  return c;
}

/**
 * Creates an HTTP client connection. Write the request on MG_EV_CONNECT;
 * the response arrives as MG_EV_HTTP_HDRS and MG_EV_HTTP_MSG (chunked
 * responses decoded; without a length, read until the server closes). Set a
 * timeout with mg_set_timeout(c, ms).
 */
export function mg_http_connect(mgr: mg_mgr, url: string, fn: mg_event_handler_t | null, fn_data: any): mg_connection | null {
  http_init(mgr);
  return mg_connect_svc(mgr, url, fn, fn_data, http_cb, null);
}

/**
 * Switches a listener or a client connection to Mongoose 6.x's events:
 * MG_EV_HTTP_REQUEST / MG_EV_HTTP_REPLY, MG_EV_HTTP_CHUNK with
 * MG_F_DELETE_CHUNK, the multipart part events, and the 6.x WebSocket events.
 */
export function mg_set_protocol_http_websocket(c: mg_connection): void {
  http_init(c.mgr);
  c.pfn = http_cb;
  c.pfn_data = HTTP_6X;
  const st = c.proto as HttpConn;
  if (!c.is_listening) st.reset(true);
}

/**
 * During MG_EV_HTTP_HDRS: take this message's body in pieces instead of
 * whole. Each piece arrives as MG_EV_HTTP_CHUNK (hm.chunk, also hm.body; the
 * head stays valid), decoded from chunked transfer encoding if need be, and
 * is dropped after the handler returns unless it lowers hm.chunk_consumed.
 * MG_EV_HTTP_MSG follows the last piece, with an empty body: reply there.
 * With parts = true a multipart body arrives as MG_EV_HTTP_PART_BEGIN /
 * _DATA / _END events instead (mg_http_multipart_part), then
 * MG_EV_HTTP_MULTIPART_REQUEST_END, then MG_EV_HTTP_MSG.
 * If the peer goes away first, MG_EV_HTTP_REQUEST_CANCEL fires.
 * Returns false (and changes nothing) outside MG_EV_HTTP_HDRS.
 */
export function mg_http_stream_body(c: mg_connection, parts = false): boolean {
  const st = c.proto as HttpConn | null;
  if (st === null || !st.in_hdrs) return false;
  st.stream = parts ? ST_PARTS : ST_PIECES;
  return true;
}

export function http_cb(c: mg_connection, ev: number, ev_data: any): void {
  const st = c.proto as HttpConn;
  if (ev === MG_EV_READ || ev === MG_EV_POLL || ev === MG_EV_WRITE) {
    if (st.file !== null && (ev !== MG_EV_READ)) serve_pump(c, st);
    if (ev === MG_EV_POLL && MG_HTTP_HEAD_TIMEOUT_MS > 0 && c.is_accepted && st.phase === PH_HEAD && !c.is_resp && st.file === null) {
      if (head_timed_out(c, st, ev_data as number)) return;
    }
    if (ev !== MG_EV_POLL || c.recv.len > 0 || st.close_after) http_process(c, st);
  } else if (ev === MG_EV_CLOSE) {
    http_closed(c, st);
  } else if (ev === 1 /* MG_EV_OPEN */) {
    if (!c.is_listening) st.reset(c.pfn_data === HTTP_6X);
  } else if (ev === MG_EV_CONNECT) {
    // nothing: the user writes the request
  }
}

function http_process(c: mg_connection, st: HttpConn): void {
  const r = c.recv;
  const hm = c.mgr.proto as mg_http_message;
  for (let guard = 0; guard < 100; guard++) {
    if (c.is_closing || c.pfn !== http_cb) return;
    if (st.phase === PH_DEAD) {
      r.len = 0;
      return;
    }
    if (st.phase === PH_DISCARD) {
      const n = r.len < st.discard_left ? r.len : st.discard_left;
      mg_iobuf_del(r, 0, n);
      st.discard_left -= n;
      if (st.discard_left === 0) {
        st.phase = PH_DEAD;
        c.is_draining = true;
      }
      return;
    }
    if (st.phase === PH_HEAD) {
      if (st.close_after) {
        // "Connection: close" or HTTP/1.0: once the reply is out, close; ignore what follows
        if (!c.is_resp && st.file === null) {
          st.phase = PH_DEAD;
          r.len = 0;
          c.is_draining = true;
        }
        return;
      }
      if (c.is_accepted && (c.is_resp || st.file !== null)) {
        // pipelined: the previous reply first. A full recv would make the
        // core ask for a poll at once, again and again: stop reading instead.
        if (r.len === r.size && !c.is_full) {
          c.is_full = true;
          st.held_full = true;
        }
        return;
      }
      if (st.held_full) {
        c.is_full = false;
        st.held_full = false;
      }
      let skip = 0;
      while (skip < r.len && (r.buf[skip] === 13 || r.buf[skip] === 10)) skip++;
      if (skip > 0) mg_iobuf_del(r, 0, skip); // RFC 9112 §2.2: empty lines before a request
      if (r.len === 0) return;
      const n = mg_http_parse(r.buf, r.len, hm);
      if (n === 0) {
        if (r.len === r.size) fail(c, st, 431, "request head larger than MG_IO_SIZE");
        return;
      }
      if (n === MG_HTTP_TOO_MANY_HEADERS) return fail(c, st, 431, "more headers than MG_MAX_HTTP_HEADERS");
      if (n < 0) return fail(c, st, 400, "malformed HTTP head");
      if ((hm.resp_code !== 0) !== c.is_client) return fail(c, st, 400, c.is_client ? "not a response" : "not a request");
      // RFC 9110 §6.2: another major version (HTTP/2's "PRI * HTTP/2.0" preface,
      // HTTP/3.0) is not HTTP/1.x and must not be answered as if it were
      if (!c.is_client && hm.proto.buf[hm.proto.ofs + 5] !== 49) return fail(c, st, 505, "HTTP major version not 1");
      if (c.is_client && hm.resp_code < 200 && hm.resp_code !== 101) {
        mg_iobuf_del(r, 0, n); // 100 Continue and other interim responses
        continue;
      }
      if (!begin_message(c, st, hm, n)) return;
    }
    if (st.phase === PH_BODY) {
      if (!body_step(c, st, hm)) return;
    }
  }
}

/**
 * The request head timeout (MG_HTTP_HEAD_TIMEOUT_MS): 408 to a client that
 * started a head and is too slow to finish it, a quiet close to an idle one.
 */
function head_timed_out(c: mg_connection, st: HttpConn, now: number): boolean {
  if (st.head_t0 === 0) {
    st.head_t0 = now;
    return false;
  }
  if (now - st.head_t0 <= MG_HTTP_HEAD_TIMEOUT_MS) return false;
  if (c.recv.len > 0) fail(c, st, 408, "request head too slow");
  else c.is_draining = true;
  return true;
}

function begin_message(c: mg_connection, st: HttpConn, hm: mg_http_message, n: number): boolean {
  const r = c.recv;
  st.head_t0 = 0;
  st.head_len = n;
  st.kept = 0;
  st.total = 0;
  st.complete = false;
  st.eof = false;
  st.ck = CK_SIZE;
  st.ck_size = st.ck_digits = 0;
  st.kind = hm.chunked ? BODY_CHUNKED : hm.body_len < 0 ? BODY_UNTIL_CLOSE : hm.body_len > 0 ? BODY_LENGTH : BODY_NONE;
  st.left = hm.body_len;
  const server = !c.is_client;
  st.is_head_req = server && str_eq_lc(hm.method, LC_HEAD);
  if (server) {
    const conn = header_lc(hm, LC_CONNECTION);
    const v10 = hm.proto.len === 8 && hm.proto.buf[hm.proto.ofs + 7] === 48 && hm.proto.buf[hm.proto.ofs + 5] === 49;
    st.close_after = conn !== null ? has_token(conn, LC_CLOSE) || (v10 && !has_token(conn, LC_KEEP_ALIVE)) : v10;
    // 6.x had no is_resp: its users reply with mg_printf, and pipelined
    // requests must not wait for a flag nobody clears
    c.is_resp = !st.mode6;
  }
  const ct = header_lc(hm, LC_CONTENT_TYPE);
  const multipart = ct !== null && ct.len >= 10 && eq_lc(ct.buf, ct.ofs, 10, LC_MULTIPART);
  const expect = server ? header_lc(hm, LC_EXPECT) : null;
  const waits_100 = expect !== null && st.kind !== BODY_NONE && r.len === n; // the client holds its body back
  const send_mark = c.send.len;
  st.stream = ST_BUFFER;
  if (st.mode6) {
    st.stream = multipart && server && st.kind !== BODY_NONE ? ST_PARTS : ST_6X;
    if (MG_ENABLE_WS && server && ws6_hook.fn !== null && mg_http_get_header(hm, "Sec-WebSocket-Key") !== null) {
      st.phase = PH_BODY;
      ws6_hook.fn(c, hm, n);
      return false;
    }
    if (st.stream === ST_PARTS) {
      st.mp = MP_PREAMBLE; // announced: from here on fail() owes the handler its END
      mg_call_user(c, MG_EV_HTTP_MULTIPART_REQUEST, hm);
    }
  } else {
    const before = r.len;
    st.in_hdrs = true;
    mg_call_user(c, MG_EV_HTTP_HDRS, hm);
    st.in_hdrs = false;
    if (r.len !== before && c.pfn === http_cb) {
      c.pfn = null; // Mongoose's pattern: the handler took the bytes, HTTP steps aside
      return false;
    }
    if (server && !c.is_resp && st.stream === ST_BUFFER && !c.is_websocket) {
      // answered on HDRS (a refused upload, a redirect): the message is done,
      // its body is not wanted; dropping it keeps the connection for the next
      st.stream = ST_DROP;
      // a client waiting for 100 Continue may never send the body: close instead
      if (waits_100 || (st.kind === BODY_LENGTH && st.left > DISCARD_MAX)) {
        st.phase = PH_DEAD;
        r.len = 0;
        c.is_draining = true;
        return false;
      }
    }
  }
  if (c.is_closing || c.pfn !== http_cb || c.is_websocket) return false;
  if (st.stream === ST_PARTS) {
    if (!multipart || st.kind === BODY_NONE) {
      st.stream = ST_PIECES;
    } else if (!multipart_setup(st, ct!)) {
      fail(c, st, 400, "multipart without a usable boundary");
      return false;
    } else {
      st.part.user_data = null;
    }
  }
  if (expect !== null && !str_eq_lc(expect, LC_100_CONTINUE)) {
    fail(c, st, 417, "unsupported Expect");
    return false;
  }
  if (st.stream === ST_BUFFER && st.kind === BODY_LENGTH && n + st.left > r.size) {
    fail(c, st, 413, "body larger than MG_IO_SIZE and not streamed");
    return false;
  }
  if (waits_100) {
    // before what the handler wrote on HDRS (the head of a streamed reply)
    if (mg_iobuf_add(c.send, send_mark, B_100_CONTINUE, 0, B_100_CONTINUE.length) > 0) mg_mgr_kick(c.mgr);
  }
  st.phase = PH_BODY;
  return true;
}
const LC_MULTIPART = ascii("multipart/");
const B_100_CONTINUE = ascii("HTTP/1.1 100 Continue\r\n\r\n");

/** Re-points hm at the head kept at the front of recv (hm is shared by the manager's connections). */
function reparse(c: mg_connection, st: HttpConn, hm: mg_http_message): void {
  mg_http_parse(c.recv.buf, st.head_len, hm);
  mg_str_set(hm.body, c.recv.buf, st.head_len, st.kept);
  mg_str_set(hm.chunk, c.recv.buf, st.head_len, 0);
  mg_str_set(hm.message, c.recv.buf, 0, st.head_len + st.kept);
}

/**
 * Takes the body bytes that arrived into the kept region (decoding chunked
 * framing in place), then hands them on as the stream mode says. Returns true
 * when the message is finished and the next one may be parsed.
 */
function body_step(c: mg_connection, st: HttpConn, hm: mg_http_message): boolean {
  const r = c.recv;
  const base = st.head_len + st.kept;
  let fresh = 0;
  if (st.kind === BODY_LENGTH) {
    const avail = r.len - base;
    fresh = avail < st.left ? avail : st.left;
    st.left -= fresh;
    st.complete = st.left === 0;
  } else if (st.kind === BODY_NONE) {
    st.complete = true;
  } else if (st.kind === BODY_UNTIL_CLOSE) {
    fresh = r.len - base;
    st.complete = st.eof;
  } else {
    fresh = chunk_step(st, r.buf, base, r);
    if (fresh < 0) {
      fail(c, st, 400, "bad chunked encoding");
      return false;
    }
  }
  st.kept += fresh;
  st.total += fresh;

  switch (st.stream) {
    case ST_BUFFER:
      if (st.complete) return finish(c, st, hm, MG_EV_HTTP_MSG);
      if (r.len === r.size) fail(c, st, 413, "body larger than MG_IO_SIZE and not streamed");
      return false;
    case ST_6X: {
      if (fresh > 0) {
        reparse(c, st, hm);
        mg_str_set(hm.chunk, r.buf, st.head_len + st.kept - fresh, fresh);
        c.flags &= ~MG_F_DELETE_CHUNK;
        mg_call_user(c, MG_EV_HTTP_CHUNK, hm);
        if (c.is_closing) return false;
        if (c.flags & MG_F_DELETE_CHUNK) {
          mg_iobuf_del(r, st.head_len, st.kept);
          st.kept = 0;
          c.flags &= ~MG_F_DELETE_CHUNK;
        }
      }
      if (st.complete) return finish(c, st, hm, c.is_client ? MG_EV_HTTP_REPLY : MG_EV_HTTP_REQUEST);
      if (r.len === r.size) fail(c, st, 413, "body larger than MG_IO_SIZE: set MG_F_DELETE_CHUNK");
      return false;
    }
    case ST_PIECES:
      if (st.kept > 0) {
        reparse(c, st, hm);
        mg_str_set(hm.chunk, r.buf, st.head_len, st.kept);
        hm.chunk_consumed = st.kept;
        mg_call_user(c, MG_EV_HTTP_CHUNK, hm);
        if (c.is_closing) return false;
        let used = hm.chunk_consumed;
        if (!(used >= 0)) used = 0;
        if (used > st.kept) used = st.kept;
        mg_iobuf_del(r, st.head_len, used);
        st.kept -= used;
      }
      if (st.complete && st.kept === 0) return finish(c, st, hm, MG_EV_HTTP_MSG);
      return false;
    case ST_DROP:
      mg_iobuf_del(r, st.head_len, st.kept);
      st.kept = 0;
      if (!st.complete) return false;
      mg_iobuf_del(r, 0, st.head_len);
      st.phase = PH_HEAD;
      st.head_len = 0;
      return true;
    case ST_SINK:
      if (st.kept > 0) {
        if (!st.sink!.write(c, r.buf, st.head_len, st.kept)) {
          // the sink answered (400 over max size, 500 write failed): close after it
          st.sink!.done(c, false);
          st.sink = null;
          st.phase = PH_DEAD;
          r.len = 0;
          c.is_draining = true;
          return false;
        }
        mg_iobuf_del(r, st.head_len, st.kept);
        st.kept = 0;
      }
      if (st.complete) {
        const sink = st.sink!;
        st.sink = null;
        mg_iobuf_del(r, 0, st.head_len);
        st.phase = PH_HEAD;
        st.head_len = 0;
        sink.done(c, true);
        return true;
      }
      return false;
    default: {
      // ST_PARTS
      const res = multipart_step(c, st, hm);
      if (res < 0) {
        cancel_parts(c, st, hm, -1);
        fail(c, st, 400, "malformed multipart body");
        return false;
      }
      if (c.is_closing) return false;
      if (st.mp === MP_DONE && st.complete) {
        mg_iobuf_del(r, st.head_len, st.kept);
        st.kept = 0;
        if (st.mode6) {
          mg_iobuf_del(r, 0, st.head_len);
          st.phase = PH_HEAD;
          st.head_len = 0;
          return true;
        }
        return finish(c, st, hm, MG_EV_HTTP_MSG);
      }
      if (st.complete && st.mp !== MP_DONE && !st.mp_held) {
        cancel_parts(c, st, hm, -1);
        fail(c, st, 400, "multipart body ended before its closing boundary");
      }
      return false;
    }
  }
}

/** Delivers the finished message, then removes it from recv (pipelined bytes move up). */
function finish(c: mg_connection, st: HttpConn, hm: mg_http_message, ev: number): boolean {
  reparse(c, st, hm);
  const len = st.head_len + st.kept;
  if (ev === MG_EV_HTTP_MSG) mg_call_user(c, ev, hm);
  else mg_call_user(c, ev, hm);
  if (c.is_websocket || c.pfn !== http_cb) {
    // upgraded or detached during the event: the message is consumed, the rest is the new protocol's
    if (c.recv.len >= len) mg_iobuf_del(c.recv, 0, len);
    st.phase = PH_HEAD;
    return false;
  }
  mg_iobuf_del(c.recv, 0, len);
  st.phase = PH_HEAD;
  st.head_len = st.kept = 0;
  return true;
}

/**
 * Answers a bad request with its status (400, 413, 417, 431) and closes after
 * the reply; a client connection gets MG_EV_ERROR instead. A body that was
 * refused is read and dropped first (up to 1 MB), so the client is not reset
 * before it reads the answer.
 */
function fail(c: mg_connection, st: HttpConn, code: number, why: string): void {
  MG_DEBUG("%lu HTTP %d: %s", c.id, code, why);
  if (c.is_client) {
    st.phase = PH_DEAD;
    mg_error(c, "HTTP: %s", why);
    return;
  }
  // A 6.x handler told of a multipart request (MG_EV_HTTP_MULTIPART_REQUEST)
  // gets its MULTIPART_REQUEST_END, with a negative status, whatever failed
  // (no usable boundary, bad chunked framing): else a file it opened stays open.
  if (st.mode6 && st.stream === ST_PARTS) cancel_parts(c, st, c.mgr.proto as mg_http_message, -1);
  const r = c.recv;
  st.discard_left = 0;
  if (code === 413 && st.phase === PH_HEAD && st.kind === BODY_LENGTH && st.left <= DISCARD_MAX) {
    st.discard_left = st.left - (r.len - st.head_len);
  }
  r.len = 0;
  const reason = mg_http_status_reason(code);
  mg_printf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n", code, reason, reason.length + 1, reason);
  c.is_resp = false;
  st.close_after = true;
  if (st.discard_left > 0) st.phase = PH_DISCARD;
  else {
    st.phase = PH_DEAD;
    c.is_draining = true;
  }
}

function http_closed(c: mg_connection, st: HttpConn): void {
  if (st.file !== null) serve_close(st);
  if (st.phase !== PH_BODY) return;
  const hm = c.mgr.proto as mg_http_message;
  if (st.kind === BODY_UNTIL_CLOSE && (st.stream === ST_BUFFER || st.stream === ST_6X || st.stream === ST_PIECES)) {
    // a response without a length ends here: that is its end, not a cut
    st.eof = true;
    st.complete = true;
    if (st.stream === ST_PIECES && st.kept > 0) {
      reparse(c, st, hm);
      mg_str_set(hm.chunk, c.recv.buf, st.head_len, st.kept);
      hm.chunk_consumed = st.kept;
      mg_call_user(c, MG_EV_HTTP_CHUNK, hm);
      st.kept = 0;
    }
    if (st.stream === ST_6X) {
      reparse(c, st, hm);
      mg_call_user(c, MG_EV_HTTP_REPLY, hm);
    } else finish(c, st, hm, MG_EV_HTTP_MSG);
    return;
  }
  // the body was cut short: never delivered as if complete
  if (st.sink !== null) {
    st.sink.done(c, false);
    st.sink = null;
  }
  if (st.stream === ST_PARTS) cancel_parts(c, st, hm, -1);
  if (st.stream !== ST_BUFFER) {
    reparse(c, st, hm);
    if (st.mode6) mg_call_user(c, MG_EV_HTTP_REQUEST_CANCEL, hm);
    else mg_call_user(c, MG_EV_HTTP_REQUEST_CANCEL, hm);
  }
  st.phase = PH_DEAD;
}

/**
 * The chunked decoder. Decodes raw bytes from base up to r.len in place:
 * data moves down to base, framing is dropped, and undecoded bytes are kept
 * right after the data. Returns the number of data bytes decoded, -1 on bad
 * framing. Sets st.complete after the last chunk and its trailers.
 */
function chunk_step(st: HttpConn, b: Uint8Array, base: number, r: { len: number }): number {
  let rp = base;
  let wp = base;
  const end = r.len;
  while (rp < end && !st.complete) {
    const ch = b[rp];
    switch (st.ck) {
      case CK_SIZE: {
        const v = hexval(ch);
        if (v >= 0) {
          if (++st.ck_digits > 8) return -1;
          st.ck_size = st.ck_size * 16 + v;
        } else if (st.ck_digits === 0) {
          return -1;
        } else if (ch === 13) {
          st.ck = CK_SIZE_LF;
        } else if (ch === 59 || ch === 32 || ch === 9) {
          st.ck = CK_EXT;
        } else return -1;
        rp++;
        break;
      }
      case CK_EXT:
        if (ch === 13) st.ck = CK_SIZE_LF;
        else if (ch < 32 && ch !== 9) return -1;
        rp++;
        break;
      case CK_SIZE_LF:
        if (ch !== 10) return -1;
        rp++;
        st.ck = st.ck_size === 0 ? CK_TRAILER : CK_DATA;
        break;
      case CK_DATA: {
        let n = end - rp;
        if (n > st.ck_size) n = st.ck_size;
        if (wp !== rp) b.copyWithin(wp, rp, rp + n);
        wp += n;
        rp += n;
        st.ck_size -= n;
        if (st.ck_size === 0) st.ck = CK_DATA_CR;
        break;
      }
      case CK_DATA_CR:
        if (ch !== 13) return -1;
        rp++;
        st.ck = CK_DATA_LF;
        break;
      case CK_DATA_LF:
        if (ch !== 10) return -1;
        rp++;
        st.ck = CK_SIZE;
        st.ck_digits = 0;
        break;
      case CK_TRAILER:
        if (ch === 13) st.ck = CK_END_LF;
        else if (ch < 32 && ch !== 9) return -1;
        else st.ck = CK_TRAILER_LINE;
        rp++;
        break;
      case CK_TRAILER_LINE:
        if (ch === 10) st.ck = CK_TRAILER;
        else if (ch < 32 && ch !== 9 && ch !== 13) return -1;
        rp++;
        break;
      default: // CK_END_LF
        if (ch !== 10) return -1;
        rp++;
        st.complete = true;
    }
  }
  // close the gap left by framing
  if (rp !== wp) {
    b.copyWithin(wp, rp, end);
    r.len -= rp - wp;
  }
  return wp - base;
}

// --- multipart ---------------------------------------------------------------

const LC_CONTENT_DISPOSITION = ascii("content-disposition");
const LC_NAME = ascii("name");
const LC_FILENAME = ascii("filename");

function multipart_setup(st: HttpConn, ct: mg_str): boolean {
  const bnd = mg_http_get_header_var(ct, "boundary");
  if (bnd.len === 0 || bnd.len > 70) return false;
  st.delim ??= new Uint8Array(74);
  st.names ??= new Uint8Array(256);
  const d = st.delim;
  d[0] = 13;
  d[1] = 10;
  d[2] = 45;
  d[3] = 45;
  mg_copy(d, 4, bnd.buf, bnd.ofs, bnd.len);
  st.delim_len = 4 + bnd.len;
  st.mp = MP_PREAMBLE;
  st.in_part = false;
  return true;
}

/** Index of pattern p[pofs..pofs+plen) in b[from..to), or -1. */
function find(b: Uint8Array, from: number, to: number, p: Uint8Array, pofs: number, plen: number): number {
  const last = to - plen;
  outer: for (let i = from; i <= last; i++) {
    for (let k = 0; k < plen; k++) if (b[i + k] !== p[pofs + k]) continue outer;
    return i;
  }
  return -1;
}

function part_event(c: mg_connection, st: HttpConn, hm: mg_http_message, ev: number, status: number): void {
  const p = st.part;
  p.status = status;
  mg_call_user(c, ev, p);
}

/**
 * Splits the kept body bytes (recv[head_len .. head_len + kept)) into parts.
 * Returns -1 on malformed input, else 0 (more bytes needed, or done).
 */
function multipart_step(c: mg_connection, st: HttpConn, hm: mg_http_message): number {
  const r = c.recv;
  const b = r.buf;
  const d = st.delim!;
  const dl = st.delim_len;
  const p = st.part;
  st.mp_held = false;
  for (;;) {
    if (c.is_closing) return 0;
    const H = st.head_len;
    const K = st.kept;
    if (st.mp === MP_PREAMBLE) {
      // the first delimiter may open the body without the CRLF before it
      if (K >= dl - 2 && find(b, H, H + dl - 2, d, 2, dl - 2) === H) {
        mg_iobuf_del(r, H, dl - 2);
        st.kept -= dl - 2;
        st.mp = MP_AFTER_DELIM;
        continue;
      }
      const at = find(b, H, H + K, d, 0, dl);
      if (at < 0) {
        const drop = K - (dl - 1);
        if (drop > 0) {
          mg_iobuf_del(r, H, drop);
          st.kept -= drop;
        }
        return 0;
      }
      mg_iobuf_del(r, H, at - H + dl);
      st.kept -= at - H + dl;
      st.mp = MP_AFTER_DELIM;
      continue;
    }
    if (st.mp === MP_AFTER_DELIM) {
      if (K < 2) return 0;
      if (b[H] === 45 && b[H + 1] === 45) {
        st.mp = MP_DONE;
        p.var_name.len = p.file_name.len = 0;
        part_event(c, st, hm, MG_EV_HTTP_MULTIPART_REQUEST_END, 0);
        continue;
      }
      if (b[H] !== 13 || b[H + 1] !== 10) return -1;
      mg_iobuf_del(r, H, 2);
      st.kept -= 2;
      st.mp = MP_HEADERS;
      continue;
    }
    if (st.mp === MP_HEADERS) {
      let hend: number;
      if (K >= 2 && b[H] === 13 && b[H + 1] === 10) hend = H; // no headers at all
      else {
        const at = find(b, H, H + K, B_CRLFCRLF, 0, 4);
        if (at < 0) return K === r.size - H ? -1 : 0; // part headers must fit in the buffer
        hend = at + 2;
      }
      part_headers(st, b, H, hend);
      mg_iobuf_del(r, H, hend - H + 2);
      st.kept -= hend - H + 2;
      st.mp = MP_DATA;
      st.in_part = true;
      part_event(c, st, hm, MG_EV_HTTP_PART_BEGIN, 0);
      continue;
    }
    if (st.mp === MP_DATA) {
      const at = find(b, H, H + K, d, 0, dl);
      const avail = at >= 0 ? at - H : K - (dl - 1);
      if (avail > 0) {
        mg_str_set(p.data, b, H, avail);
        p.num_data_consumed = avail;
        part_event(c, st, hm, MG_EV_HTTP_PART_DATA, 0);
        if (c.is_closing) return 0;
        let used = p.num_data_consumed;
        if (!(used >= 0)) used = 0;
        if (used > avail) used = avail;
        mg_iobuf_del(r, H, used);
        st.kept -= used;
        p.data.len = 0;
        if (used < avail) {
          st.mp_held = true; // back-pressure: offered again at the next poll
          return 0;
        }
      }
      if (at < 0) return 0;
      mg_iobuf_del(r, H, dl);
      st.kept -= dl;
      st.in_part = false;
      part_event(c, st, hm, MG_EV_HTTP_PART_END, 0);
      st.mp = MP_AFTER_DELIM;
      continue;
    }
    // MP_DONE: the epilogue is dropped
    mg_iobuf_del(r, H, K);
    st.kept = 0;
    return 0;
  }
}
const B_CRLFCRLF = ascii("\r\n\r\n");

/** Copies name= and filename= of Content-Disposition into st.names; the part's views point there. */
function part_headers(st: HttpConn, b: Uint8Array, from: number, to: number): void {
  const p = st.part;
  const names = st.names!;
  mg_str_set(p.var_name, names, 0, 0);
  mg_str_set(p.file_name, names, 128, 0);
  let i = from;
  while (i < to) {
    let eol = i;
    while (eol < to && b[eol] !== 13) eol++;
    let k = i;
    while (k < eol && b[k] !== 58) k++;
    if (k < eol && eq_lc(b, i, k - i, LC_CONTENT_DISPOSITION)) {
      // the views point into recv, which moves on: copy the names out
      const v = p.data; // free until PART_DATA
      if (header_var(b, k + 1, eol, LC_NAME, v)) {
        p.var_name.len = v.len < 128 ? v.len : 128;
        mg_copy(names, 0, v.buf, v.ofs, p.var_name.len);
      }
      if (header_var(b, k + 1, eol, LC_FILENAME, v)) {
        p.file_name.len = v.len < 128 ? v.len : 128;
        mg_copy(names, 128, v.buf, v.ofs, p.file_name.len);
      }
      v.len = 0;
    }
    i = eol + 2;
  }
}

function cancel_parts(c: mg_connection, st: HttpConn, hm: mg_http_message, status: number): void {
  if (st.mp === MP_DONE) return;
  if (st.in_part) {
    st.in_part = false;
    part_event(c, st, hm, MG_EV_HTTP_PART_END, status);
  }
  st.mp = MP_DONE;
  st.part.var_name.len = st.part.file_name.len = 0;
  part_event(c, st, hm, MG_EV_HTTP_MULTIPART_REQUEST_END, status);
}

/** Hooks filled by src/ws.ts (kept apart so a build without WebSocket drops them). */
export const ws6_hook: { fn: ((c: mg_connection, hm: mg_http_message, head_len: number) => void) | null } = { fn: null };

// --- static files ----------------------------------------------------------------

export class mg_http_serve_opts {
  /** Web root, or a list "/=./web,/data=/sd/data": URI prefix = folder, the longest prefix wins. */
  root_dir = ".";
  /** Not supported by mgts (no SSI); kept so options port unchanged. */
  ssi_pattern: string | null = null;
  /** Extra response headers, each ending in CRLF. */
  extra_headers = "";
  /** MIME overrides "ext=type,ext2=type2"; "*=type" overrides every file. */
  mime_types = "";
  /** A file to serve (with 404) when nothing matches. */
  page404: string | null = null;
  /** The filesystem: POSIX on the host (hal/fs_node), packed on the device; default: mg_fs_default(). */
  fs: mg_fs | null = null;
}

class FsDefaults {
  fs: mg_fs | null = null;
}
const FS = new FsDefaults();
/** Sets the filesystem used when mg_http_serve_opts.fs is null. */
export function mg_fs_default(fs: mg_fs): void {
  FS.fs = fs;
}

const MIME: string[] = [
  "html", "text/html; charset=utf-8", "htm", "text/html; charset=utf-8", "shtml", "text/html; charset=utf-8",
  "css", "text/css; charset=utf-8", "js", "text/javascript; charset=utf-8", "mjs", "text/javascript; charset=utf-8",
  "json", "application/json", "map", "application/json", "txt", "text/plain; charset=utf-8",
  "xml", "text/xml; charset=utf-8", "csv", "text/csv; charset=utf-8", "md", "text/markdown; charset=utf-8",
  "png", "image/png", "jpg", "image/jpeg", "jpeg", "image/jpeg", "gif", "image/gif", "svg", "image/svg+xml",
  "ico", "image/x-icon", "webp", "image/webp", "bmp", "image/bmp", "wasm", "application/wasm",
  "pdf", "application/pdf", "zip", "application/zip", "gz", "application/gzip", "tar", "application/x-tar",
  "bin", "application/octet-stream", "woff", "font/woff", "woff2", "font/woff2", "ttf", "font/ttf", "otf", "font/otf",
  "mp3", "audio/mpeg", "wav", "audio/wav", "mp4", "video/mp4", "webm", "video/webm",
];

/** The MIME type of a path, from the overrides then the table; text/plain for the unknown. */
export function mg_http_mime_type(path: string, overrides = ""): string {
  const dot = path.lastIndexOf(".");
  const ext = dot >= 0 && dot > path.lastIndexOf("/") ? path.slice(dot + 1).toLowerCase() : "";
  if (overrides.length > 0) {
    for (const item of overrides.split(",")) {
      const eq = item.indexOf("=");
      if (eq < 0) continue;
      const k = item.slice(0, eq).trim().toLowerCase();
      if (k === "*" || k === ext) return item.slice(eq + 1).trim();
    }
  }
  for (let i = 0; i < MIME.length; i += 2) if (MIME[i] === ext) return MIME[i + 1];
  return "text/plain; charset=utf-8";
}

/** False for paths that could leave the web root: "..", backslashes, NUL. */
export function mg_path_is_sane_str(path: string): boolean {
  if (path.indexOf("\\") >= 0 || path.indexOf("\0") >= 0) return false;
  for (const seg of path.split("/")) if (seg === "..") return false;
  return true;
}

/**
 * Serves files under opts.root_dir: the URI is URL-decoded and must stay
 * inside the root (400 otherwise); a directory without a trailing slash gets
 * 301; a directory serves index.html (or index.html.gz); otherwise as
 * mg_http_serve_file. Call it on MG_EV_HTTP_MSG.
 */
export function mg_http_serve_dir(c: mg_connection, hm: mg_http_message, opts: mg_http_serve_opts): void {
  const fs = opts.fs ?? FS.fs;
  if (fs === null) {
    mg_http_reply(c, 500, "", "no filesystem\n");
    return;
  }
  const dec = new Uint8Array(hm.uri.len + 1);
  const n = mg_url_decode(hm.uri, dec, 0, dec.length, false);
  const uri = n < 0 ? null : mg_str_n(dec, 0, n).toString();
  if (uri === null || !mg_path_is_sane_str(uri) || uri.charCodeAt(0) !== 47) {
    mg_http_reply(c, 400, "", "Invalid path\n");
    return;
  }
  // root rewrites: "prefix=dir,..." — the longest matching prefix wins
  let root = opts.root_dir;
  let rest = uri;
  if (root.indexOf("=") >= 0 || root.indexOf(",") >= 0) {
    let best = -1;
    root = ".";
    for (const item of opts.root_dir.split(",")) {
      const eq = item.indexOf("=");
      const prefix = eq < 0 ? "/" : item.slice(0, eq);
      const dir = eq < 0 ? item : item.slice(eq + 1);
      const matches = uri === prefix || uri.startsWith(prefix.endsWith("/") ? prefix : prefix + "/") || prefix === "/";
      if (matches && prefix.length > best) {
        best = prefix.length;
        root = dir;
        rest = prefix === "/" ? uri : uri.slice(prefix.length) || "/";
        if (rest.charCodeAt(0) !== 47) rest = "/" + rest;
      }
    }
  }
  if (root.endsWith("/")) root = root.slice(0, -1);
  let path = root + rest;
  if (path.length > MG_PATH_MAX) {
    mg_http_reply(c, 400, "", "Exceeded path size\n");
    return;
  }
  const flags = fs.st(path, null);
  if ((flags & MG_FS_DIR) !== 0) {
    if (!uri.endsWith("/")) {
      const q = hm.query.len > 0 ? "?" + hm.query.toString() : "";
      mg_http_reply(c, 301, "Location: " + hm.uri.toString() + "/" + q + "\r\n", "");
      return;
    }
    const index = path + (path.endsWith("/") ? "" : "/") + MG_HTTP_INDEX;
    if (fs.st(index, null) !== 0 || fs.st(index + ".gz", null) !== 0) path = index;
    else {
      mg_http_reply(c, 403, "", "Forbidden\n");
      return;
    }
  }
  mg_http_serve_file(c, hm, path, opts);
}

/** Accept-Encoding mentions gzip */
function accepts_gzip(hm: mg_http_message): boolean {
  const ae = mg_http_get_header(hm, "Accept-Encoding");
  if (ae === null) return false;
  const b = ae.buf;
  for (let i = ae.ofs; i + 4 <= ae.ofs + ae.len; i++) {
    if (lower(b[i]) === 103 && lower(b[i + 1]) === 122 && lower(b[i + 2]) === 105 && lower(b[i + 3]) === 112) return true;
  }
  return false;
}

/**
 * Serves one file: Content-Type from its name, ETag ("mtime.size") with
 * If-None-Match → 304, Range (one range: a-b, a-, or the last -n bytes) → 206,
 * or 416 when it cannot be satisfied, <path>.gz with Content-Encoding: gzip
 * when the client accepts gzip, opts.page404 or 404 when missing. The body
 * streams from the filesystem in MG_IO_SIZE pieces as the send buffer drains,
 * so files of any size go out of a 2 KB buffer.
 */
export function mg_http_serve_file(c: mg_connection, hm: mg_http_message, path: string, opts: mg_http_serve_opts): void {
  const fs = opts.fs ?? FS.fs;
  const st = c.proto as HttpConn;
  if (fs === null) {
    mg_http_reply(c, 500, "", "no filesystem\n");
    return;
  }
  const info = new mg_fs_stat();
  let gz = false;
  let real = path;
  if (accepts_gzip(hm) && (fs.st(path + ".gz", info) & MG_FS_DIR) === 0 && fs.st(path + ".gz", info) !== 0) {
    gz = true;
    real = path + ".gz";
  } else if (fs.st(path, info) === 0 || (fs.st(path, null) & MG_FS_DIR) !== 0) {
    if (opts.page404 !== null && path !== opts.page404 && fs.st(opts.page404, info) !== 0) {
      const fd = fs.op(opts.page404, MG_FS_READ);
      if (fd !== null) return start_file(c, st, fs, fd, 404, info.size, mg_http_mime_type(opts.page404, opts.mime_types), "", opts.extra_headers, false);
    }
    mg_http_reply(c, 404, "", "Not found\n");
    return;
  }
  const etag = '"' + info.mtime + "." + info.size + '"'; // Mongoose's form
  const inm = mg_http_get_header(hm, "If-None-Match");
  const mime = mg_http_mime_type(path, opts.mime_types);
  let hdrs = "Content-Type: " + mime + "\r\nEtag: " + etag + "\r\n" + (gz ? "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n" : "");
  if (inm !== null && inm.toString().toLowerCase() === etag.toLowerCase()) {
    mg_http_reply(c, 304, hdrs + opts.extra_headers, "");
    return;
  }
  let code = 200;
  let start = 0;
  let size = info.size;
  const range = mg_http_get_header(hm, "Range");
  if (range !== null) {
    const r = parse_range(range.toString(), info.size);
    if (r === null) {
      mg_http_reply(c, 416, "Content-Range: bytes */" + info.size + "\r\n" + opts.extra_headers, "");
      return;
    }
    if (r.length === 2) {
      code = 206;
      start = r[0];
      size = r[1] - r[0] + 1;
      hdrs += "Content-Range: bytes " + r[0] + "-" + r[1] + "/" + info.size + "\r\n";
    }
  }
  const fd = fs.op(real, MG_FS_READ);
  if (fd === null) {
    mg_http_reply(c, 404, "", "Not found\n");
    return;
  }
  if (start > 0 && !fs.sk(fd, start)) {
    fs.cl(fd);
    mg_http_reply(c, 500, "", "seek failed\n");
    return;
  }
  start_file(c, st, fs, fd, code, size, "", hdrs, opts.extra_headers, true);
}

/**
 * A Range header against a file of `size` bytes: [first, last] to serve, []
 * to ignore it (serve everything: unparsable or several ranges, as RFC 9110
 * allows), or null for 416.
 */
function parse_range(v: string, size: number): number[] | null {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(v);
  if (m === null) return [];
  if (m[1] === "" && m[2] === "") return [];
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return null;
    return [n >= size ? 0 : size - n, size - 1];
  }
  const a = Number(m[1]);
  let b = m[2] === "" ? size - 1 : Number(m[2]);
  if (a >= size || b < a) return null;
  if (b >= size) b = size - 1;
  return [a, b];
}

function start_file(c: mg_connection, st: HttpConn, fs: mg_fs, fd: any, code: number, size: number, mime: string, hdrs: string, extra: string, has_type: boolean): void {
  const type = has_type ? "" : "Content-Type: " + mime + "\r\n";
  const n = mg_printf(c, "HTTP/1.1 %d %s\r\n%s%s%sContent-Length: %d\r\nAccept-Ranges: bytes\r\n\r\n", code, mg_http_status_reason(code), type, hdrs, extra, size);
  if (n === 0) {
    fs.cl(fd);
    mg_http_reply(c, 500, "", "headers too large\n");
    return;
  }
  if (st.is_head_req || size === 0) {
    fs.cl(fd);
    c.is_resp = false;
    return;
  }
  st.file = fd;
  st.file_fs = fs;
  st.file_left = size;
  serve_pump(c, st);
}

/** Moves the next piece of the file into the send buffer. */
function serve_pump(c: mg_connection, st: HttpConn): void {
  const s = c.send;
  const fs = st.file_fs as mg_fs;
  while (st.file_left > 0 && s.len < s.size) {
    let n = s.size - s.len;
    if (n > st.file_left) n = st.file_left;
    const got = fs.rd(st.file, s.buf, s.len, n);
    if (got <= 0) {
      // the file shrank under us: the length was promised, so the connection must go
      serve_close(st);
      c.is_draining = true;
      c.is_resp = false;
      return;
    }
    s.len += got;
    st.file_left -= got;
  }
  mg_mgr_kick(c.mgr);
  if (st.file_left === 0) {
    serve_close(st);
    c.is_resp = false;
  }
}

function serve_close(st: HttpConn): void {
  if (st.file !== null) (st.file_fs as mg_fs).cl(st.file);
  st.file = null;
  st.file_fs = null;
  st.file_left = 0;
}

// --- uploads ---------------------------------------------------------------------

class UploadSink implements BodySink {
  fs: mg_fs;
  fd: any;
  path: string;
  size = 0;
  max: number;
  constructor(fs: mg_fs, fd: any, path: string, offset: number, max: number) {
    this.fs = fs;
    this.fd = fd;
    this.path = path;
    this.size = offset;
    this.max = max;
  }
  write(c: mg_connection, buf: Uint8Array, ofs: number, len: number): boolean {
    if (this.size + len > this.max) {
      this.fs.cl(this.fd);
      this.fd = null;
      mg_http_reply(c, 400, "", "over max size\n");
      return false;
    }
    const n = this.fs.wr(this.fd, buf, ofs, len);
    this.size += n > 0 ? n : 0;
    if (n !== len) {
      this.fs.cl(this.fd);
      this.fd = null;
      mg_http_reply(c, 500, "", "write failed\n");
      return false;
    }
    return true;
  }
  done(c: mg_connection, ok: boolean): void {
    if (this.fd !== null) this.fs.cl(this.fd);
    this.fd = null;
    if (ok) mg_http_reply(c, 200, "", "%d", this.size);
    else if (c.is_resp) c.is_draining = true;
  }
}

/**
 * Mongoose's upload handler: POST /upload?file=NAME&offset=N writes the body
 * into dir/NAME at offset N (0 starts the file anew), up to max_size bytes in
 * all, and replies 200 with the new size, or 400 with the reason.
 *
 * Streaming: call it on MG_EV_HTTP_HDRS and the body goes to the file piece
 * by piece as it arrives, so uploads of any size pass through MG_IO_SIZE
 * buffers; mgts replies when the body is complete. Called on MG_EV_HTTP_MSG
 * it writes the buffered body at once (Mongoose's way). Returns the bytes
 * written so far, or -1 after an error reply.
 */
export function mg_http_upload(c: mg_connection, hm: mg_http_message, fs: mg_fs, dir: string, max_size: number): number {
  const st = c.proto as HttpConn;
  const name = mg_http_get_var_str(hm.query, "file");
  const off = mg_http_get_var_str(hm.query, "offset");
  if (name === null || name.length === 0) return upload_error(c, "file required");
  if (!mg_path_is_sane_str(name) || name.indexOf("/") >= 0) return upload_error(c, "invalid file name");
  if (off === null || !/^\d+$/.test(off)) return upload_error(c, "offset required");
  const offset = Number(off);
  const path = (dir.endsWith("/") ? dir : dir + "/") + name;
  const info = new mg_fs_stat();
  const exists = fs.st(path, info) !== 0;
  if (offset > 0 && (!exists || info.size !== offset)) return upload_error(c, "offset mismatch");
  const declared = hm.body_len < 0 ? 0 : hm.body_len;
  if (offset + declared > max_size) return upload_error(c, "over max size");
  if (offset === 0 && exists) fs.rm(path);
  const fd = fs.op(path, MG_FS_WRITE);
  if (fd === null) return upload_error(c, "cannot open file");
  if (offset > 0 && !fs.sk(fd, offset)) {
    fs.cl(fd);
    return upload_error(c, "cannot seek");
  }
  const sink = new UploadSink(fs, fd, path, offset, max_size);
  if (st.in_hdrs) {
    st.stream = ST_SINK;
    st.sink = sink;
    return 0;
  }
  if (!sink.write(c, hm.body.buf, hm.body.ofs, hm.body.len)) return -1;
  sink.done(c, true);
  return hm.body.len;
}

function upload_error(c: mg_connection, why: string): number {
  // on MG_EV_HTTP_HDRS the body is then dropped (see begin_message)
  mg_http_reply(c, 400, "", "%s\n", why);
  return -1;
}

// --- credentials -----------------------------------------------------------------

export class mg_http_creds_t {
  user = "";
  pass = "";
}

/**
 * Credentials of a request, in Mongoose's order: Authorization: Basic (user
 * and password), else Authorization: Bearer (the token as pass), else an
 * access_token cookie, else an access_token query variable.
 *
 * TypeScript adaptation: C fills two char buffers; here they are strings in
 * the returned object ("" when absent).
 */
export function mg_http_creds(hm: mg_http_message, out = new mg_http_creds_t()): mg_http_creds_t {
  out.user = "";
  out.pass = "";
  const auth = header_lc(hm, LC_AUTHORIZATION);
  if (auth !== null && auth.len > 6 && eq_lc(auth.buf, auth.ofs, 6, LC_BASIC)) {
    let k = auth.ofs + 6;
    while (k < auth.ofs + auth.len && auth.buf[k] === 32) k++;
    const n = auth.ofs + auth.len - k;
    const dec = new Uint8Array(n);
    const dl = mg_base64_decode(auth.buf, k, n, dec, 0, dec.length);
    const s = mg_str_n(dec, 0, dl).toString();
    const colon = s.indexOf(":");
    if (colon >= 0) {
      out.user = s.slice(0, colon);
      out.pass = s.slice(colon + 1);
    } else out.user = s;
  } else if (auth !== null && auth.len > 7 && eq_lc(auth.buf, auth.ofs, 7, LC_BEARER)) {
    out.pass = mg_str_n(auth.buf, auth.ofs + 7, auth.len - 7).toString().trim();
  } else {
    const cookie = header_lc(hm, LC_COOKIE);
    const tok = cookie !== null ? mg_http_get_header_var(cookie, "access_token") : null;
    if (tok !== null && tok.len > 0) out.pass = tok.toString();
    else {
      const q = mg_http_get_var_str(hm.query, "access_token");
      if (q !== null) out.pass = q;
    }
  }
  return out;
}
const LC_BASIC = ascii("basic ");
const LC_BEARER = ascii("bearer ");

/** Appends `Authorization: Basic <base64(user:pass)>\r\n` to c.send (no colon when pass is empty). */
export function mg_http_bauth(c: mg_connection, user: string, pass: string): boolean {
  const plain = mg_str(pass.length > 0 ? user + ":" + pass : user);
  const enc = new Uint8Array(((plain.len + 2) / 3) * 4 + 4);
  const n = mg_base64_encode(plain.buf, plain.ofs, plain.len, enc, 0, enc.length);
  return mg_printf(c, "Authorization: Basic %.*s\r\n", n, mg_str_n(enc, 0, n)) > 0;
}

// --- buffered multipart (7.x) ------------------------------------------------------

export class mg_http_part {
  name = mg_str();
  filename = mg_str();
  body = mg_str();
}

/**
 * Walks a fully buffered multipart body: fills part (views into body) and
 * returns the offset of the next part, or 0 when there are no more. For
 * bodies larger than the buffer use mg_http_stream_body(c, true) instead.
 */
export function mg_http_next_multipart(body: mg_str, ofs: number, part: mg_http_part | null): number {
  const b = body.buf;
  const end = body.ofs + body.len;
  let i = body.ofs + ofs;
  // the boundary is the first line of the body
  let bl = 0;
  while (body.ofs + bl < end && b[body.ofs + bl] !== 13) bl++;
  if (bl < 3 || b[body.ofs] !== 45 || b[body.ofs + 1] !== 45) return 0;
  if (i + bl + 2 > end || find(b, i, i + bl, b, body.ofs, bl) !== i) return 0;
  i += bl;
  if (b[i] !== 13 || b[i + 1] !== 10) return 0; // "--" closes the body
  i += 2;
  const hend = find(b, i, end, B_CRLFCRLF, 0, 4);
  if (hend < 0 && !(b[i] === 13 && b[i + 1] === 10)) return 0;
  const data_start = b[i] === 13 && b[i + 1] === 10 ? i + 2 : hend + 4;
  if (part !== null) {
    mg_str_set(part.name, b, i, 0);
    mg_str_set(part.filename, b, i, 0);
  }
  let k = i;
  while (k < data_start - 2) {
    let eol = k;
    while (eol < end && b[eol] !== 13) eol++;
    let colon = k;
    while (colon < eol && b[colon] !== 58) colon++;
    if (part !== null && colon < eol && eq_lc(b, k, colon - k, LC_CONTENT_DISPOSITION)) {
      const v = mg_str_n(b, colon + 1, eol - colon - 1);
      const nm = mg_http_get_header_var(v, "name");
      const fn = mg_http_get_header_var(v, "filename");
      mg_str_set(part.name, nm.buf, nm.ofs, nm.len);
      mg_str_set(part.filename, fn.buf, fn.ofs, fn.len);
    }
    k = eol + 2;
  }
  // data ends at CRLF + boundary
  let j = data_start;
  for (; j + 2 + bl <= end; j++) {
    if (b[j] === 13 && b[j + 1] === 10 && find(b, j + 2, j + 2 + bl, b, body.ofs, bl) === j + 2) break;
  }
  if (j + 2 + bl > end) return 0;
  if (part !== null) mg_str_set(part.body, b, data_start, j - data_start);
  return j + 2 - body.ofs;
}

// --- mg_hello ----------------------------------------------------------------------

const B_QUIT = ascii("/quit");
const B_DEBUG = ascii("/debug");

/** The mg_hello handler, exported so apps can mount the same routes. */
export function mg_hello_handler(c: mg_connection, ev: number, hm: any): void {
  if (ev !== MG_EV_HTTP_MSG) return;
  const m = hm as mg_http_message;
  if (str_eq_lc(m.uri, B_QUIT)) {
    mg_http_reply(c, 200, "", "ok\n");
    c.is_draining = true;
    c.label = "mg_hello:quit";
  } else if (str_eq_lc(m.uri, B_DEBUG)) {
    const level = mg_json_get_long(m.body, "$.level", -1);
    if (level < 0 || level > 4) {
      mg_http_reply(c, 400, "", "expected {\"level\": 0..4}\n");
    } else {
      mg_log_set(level);
      mg_http_reply(c, 200, "", "Debug level set to %d\n", level);
    }
  } else {
    mg_http_reply(c, 200, "", "hi\n");
  }
}

/**
 * A web server on url that answers /quit (and stops), /debug (POST
 * {"level": 3} sets the log level), and "hi" to everything else.
 *
 * TypeScript adaptation: C's mg_hello blocks until /quit. Here it returns a
 * Promise that resolves once /quit has been answered and the server is
 * closed; the runtime's loop keeps running meanwhile.
 */
export function mg_hello(url: string, hal?: mg_hal): Promise<void> {
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, hal);
  return new Promise<void>((resolve, reject) => {
    const c = mg_http_listen(mgr, url, (c, ev, ev_data) => {
      mg_hello_handler(c, ev, ev_data);
      if (ev === MG_EV_CLOSE && c.label === "mg_hello:quit") {
        mg_mgr_stop(mgr);
        // free outside the poll that is running now
        Promise.resolve().then(() => {
          mg_mgr_free(mgr);
          resolve();
        });
      }
    }, null);
    if (c === null) {
      reject(new Error("mg_hello: cannot listen on " + url));
      return;
    }
    mg_mgr_run(mgr, 1000);
  });
}
