// HTTP heads and what is read out of them (the parsing half of Mongoose's
// http.c): mg_http_get_request_len finds where a head ends, mg_http_parse
// splits it into mg_http_message (every field a view into the bytes parsed,
// nothing copied), mg_http_get_header and mg_http_get_header_var read
// headers, mg_http_var / mg_http_get_var read query strings and form bodies,
// mg_http_creds reads credentials. Also the byte helpers and the lowercase
// byte tables (LC_*) every HTTP file compares header names and tokens with.
//
// Bodies are taken elsewhere: http.ts (body_step), http_chunked.ts (chunked
// framing) and http_multipart.ts (multipart parts).
import { MG_MAX_HTTP_HEADERS } from "./config.js";
import { mg_base64_decode } from "./util.js";
import { mg_str, mg_str_n, mg_str_set, mg_url_decode } from "./str.js";

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

const cca = String.prototype.charCodeAt;

/** Bytes of an ASCII constant, made once (module constants are only read, so preloading keeps them). */
export function ascii(s: string): Uint8Array {
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
export function lower(ch: number): number {
  return ch >= 65 && ch <= 90 ? ch + 32 : ch;
}
/** Case-insensitive compare of bytes with an ASCII constant (lowercase). */
export function eq_lc(buf: Uint8Array, ofs: number, len: number, lc: Uint8Array): boolean {
  if (len !== lc.length) return false;
  for (let i = 0; i < len; i++) if (lower(buf[ofs + i]) !== lc[i]) return false;
  return true;
}
export function str_eq_lc(s: mg_str, lc: Uint8Array): boolean {
  return eq_lc(s.buf, s.ofs, s.len, lc);
}
/** True if the bytes contain the lowercase ASCII token tok as a comma-separated element. */
export function has_token(s: mg_str, tok: Uint8Array): boolean {
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
export const LC_CONNECTION = ascii("connection");
export const LC_CLOSE = ascii("close");
export const LC_KEEP_ALIVE = ascii("keep-alive");
const LC_AUTHORIZATION = ascii("authorization");
const LC_COOKIE = ascii("cookie");
export const LC_EXPECT = ascii("expect");
export const LC_100_CONTINUE = ascii("100-continue");
export const LC_CONTENT_TYPE = ascii("content-type");
export const LC_HEAD = ascii("head");
export const LC_MULTIPART = ascii("multipart/");

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

export function header_lc(hm: mg_http_message, lc: Uint8Array): mg_str | null {
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
export function header_var(b: Uint8Array, i: number, end: number, lc: Uint8Array, out: mg_str): boolean {
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
