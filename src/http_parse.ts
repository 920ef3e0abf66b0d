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
import { MG_HTTP_ALLOW_BARE_LF, MG_MAX_HTTP_HEADERS } from "./config.js";
import { mg_base64_decode } from "./util.js";
import { mg_js_len, mg_str, mg_str_n, mg_str_set, mg_url_decode } from "./str.js";

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
  /** Headers the last parse filled (headers[0..hdr_count)); the rest are empty. */
  hdr_count = 0;
  /** The connection whose head http.ts parsed into this message last (null after any other parse). */
  owner: any = null;
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

// --- the grammar of RFC 9112, byte by byte ----------------------------------------
//
// One lookup in a 256-byte class table per byte (cheaper on XS than a chain
// of comparisons). The table is only read, so it may be made at load time
// and preloaded into flash.
const C_TCHAR = 1; // token: method, header name, transfer coding, chunk extension name
const C_VCHAR = 2; // 0x21..0x7E: request-target
const C_FIELD = 4; // field-value and reason-phrase: SP, HTAB, VCHAR, obs-text
const C_QDTEXT = 8; // inside a quoted-string, besides the backslash: SP, HTAB, VCHAR but '"' and '\', obs-text
const C_HEX = 16;
const CLS = (() => {
  const t = new Uint8Array(256);
  const tchar = "!#$%&'*+-.^_`|~";
  for (let c = 0; c < 256; c++) {
    let k = 0;
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (alnum || tchar.indexOf(String.fromCharCode(c)) >= 0) k |= C_TCHAR;
    if (c >= 0x21 && c <= 0x7e) k |= C_VCHAR;
    if (c === 32 || c === 9 || (c >= 0x21 && c <= 0x7e) || c >= 0x80) k |= C_FIELD;
    if ((k & C_FIELD) !== 0 && c !== 34 && c !== 92) k |= C_QDTEXT;
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)) k |= C_HEX;
    t[c] = k;
  }
  return t;
})();

/** A token character (RFC 9110 §5.6.2). */
export function is_tchar(ch: number): boolean {
  return (CLS[ch] & C_TCHAR) !== 0;
}
/** A byte allowed inside a quoted-string besides the backslash escape (RFC 9110 §5.6.4). */
export function is_qdtext(ch: number): boolean {
  return (CLS[ch] & C_QDTEXT) !== 0;
}
/** A byte allowed in a field value (RFC 9110 §5.5): SP, HTAB, VCHAR, obs-text. */
export function is_field_byte(ch: number): boolean {
  return (CLS[ch] & C_FIELD) !== 0;
}
/** The value of a hex digit, or -1. */
export function hexval(ch: number): number {
  if ((CLS[ch] & C_HEX) === 0) return -1;
  return ch <= 57 ? ch - 48 : (ch | 32) - 87;
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

/**
 * The line terminator at p (a CR or LF that stopped a scan, p < end): the
 * offset after it, 0 if the LF has not arrived yet, -1 if it is not CRLF
 * (a bare LF only when MG_HTTP_ALLOW_BARE_LF).
 */
function line_end(b: Uint8Array, p: number, end: number): number {
  const ch = b[p];
  if (ch === 13) {
    if (p + 1 >= end) return 0;
    return b[p + 1] === 10 ? p + 2 : -1;
  }
  return ch === 10 && MG_HTTP_ALLOW_BARE_LF ? p + 1 : -1;
}

const LC_CONTENT_LENGTH = ascii("content-length");
const LC_TRANSFER_ENCODING = ascii("transfer-encoding");
const LC_CHUNKED = ascii("chunked");
export const LC_CONNECTION = ascii("connection");
export const LC_CLOSE = ascii("close");
export const LC_KEEP_ALIVE = ascii("keep-alive");
const LC_AUTHORIZATION = ascii("authorization");
const LC_COOKIE = ascii("cookie");
const LC_HOST = ascii("host");
export const LC_EXPECT = ascii("expect");
export const LC_100_CONTINUE = ascii("100-continue");
export const LC_CONTENT_TYPE = ascii("content-type");
export const LC_HEAD = ascii("head");
export const LC_MULTIPART = ascii("multipart/");
const B_HTTP = ascii("HTTP/");

/**
 * Length of the head (request or status line plus headers, up to and
 * including the empty line), 0 if it is not complete yet, -1 as soon as a
 * byte breaks RFC 9112's grammar (see mg_http_parse: what is refused).
 *
 * Stricter than Mongoose, whose parser takes a bare LF as a line end and
 * refuses only control bytes: a CRLF-only head is what every HTTP/1.1
 * implementation agrees on, so a proxy in front and mgts cannot disagree on
 * where a message ends (MG_HTTP_ALLOW_BARE_LF reopens that one leniency).
 */
export function mg_http_get_request_len(buf: Uint8Array, buf_len: number, ofs = 0): number {
  return parse_head(buf, buf_len, null, ofs);
}

// Transfer-Encoding, across every line of it (te_step): bits of one number
const TE_SEEN = 1; // a Transfer-Encoding line with a coding in it
const TE_CHUNKED_LAST = 2; // the last coding so far is chunked
const TE_BAD = 4; // chunked is followed by another coding (RFC 9112 §6.1: chunked only last, once)

/**
 * One Transfer-Encoding field value b[i..e): a list of transfer codings
 * (token, parameters as `;name=token` or `;name="quoted"`). Returns te
 * updated, or -1 when the value is not that grammar or names no coding.
 */
function te_step(b: Uint8Array, i: number, e: number, te: number): number {
  let codings = 0;
  while (i < e) {
    const ch = b[i];
    if (ch === 44 || ch === 32 || ch === 9) {
      i++; // empty elements and OWS are allowed in lists (RFC 9110 §5.6.1)
      continue;
    }
    const s = i;
    while (i < e && (CLS[b[i]] & C_TCHAR) !== 0) i++;
    if (i === s) return -1;
    const chunked = eq_lc(b, s, i - s, LC_CHUNKED);
    let k = i;
    while (k < e && (b[k] === 32 || b[k] === 9)) k++;
    if (k < e && b[k] === 59) {
      if (chunked) return -1; // chunked takes no parameters
      i = params(b, k, e);
      if (i < 0) return -1;
    } else i = k;
    if (i < e && b[i] !== 44) return -1;
    codings++;
    if ((te & TE_CHUNKED_LAST) !== 0) te |= TE_BAD;
    te = chunked ? te | TE_CHUNKED_LAST : te & ~TE_CHUNKED_LAST;
  }
  return codings === 0 ? -1 : te | TE_SEEN;
}

/** Parameters `*( OWS ";" OWS token "=" ( token / quoted-string ) )` from b[i] (a ';'), up to a ',' or e: the end, or -1. */
function params(b: Uint8Array, i: number, e: number): number {
  while (i < e && b[i] === 59) {
    i++;
    while (i < e && (b[i] === 32 || b[i] === 9)) i++;
    const s = i;
    while (i < e && (CLS[b[i]] & C_TCHAR) !== 0) i++;
    if (i === s || i >= e || b[i] !== 61) return -1;
    i++;
    if (i < e && b[i] === 34) {
      i = quoted_end(b, i, e);
      if (i <= 0) return -1;
    } else {
      const v = i;
      while (i < e && (CLS[b[i]] & C_TCHAR) !== 0) i++;
      if (i === v) return -1;
    }
    while (i < e && (b[i] === 32 || b[i] === 9)) i++;
  }
  return i;
}

/** The offset after the quoted-string starting at b[i] (a '"'), 0 if it does not close before e, -1 if a byte is not allowed in it. */
function quoted_end(b: Uint8Array, i: number, e: number): number {
  for (i++; i < e; i++) {
    const ch = b[i];
    if (ch === 34) return i + 1;
    if (ch === 92) {
      if (++i >= e) return 0;
      if ((CLS[b[i]] & C_FIELD) === 0) return -1;
    } else if ((CLS[ch] & C_QDTEXT) === 0) return -1;
  }
  return 0;
}

/**
 * Parses a request or a response head into hm. Returns the head length, 0 if
 * the head is incomplete, -1 if it is malformed, or MG_HTTP_TOO_MANY_HEADERS.
 * For a response, method is the version, uri the status code and proto the
 * reason phrase, as in Mongoose.
 *
 * RFC 9112's grammar, as llhttp's strict mode holds it, refused as soon as
 * the bytes prove it (an incomplete head with a bad byte is -1, not 0):
 * - request line: a method of token characters, one SP, a request-target of
 *   visible ASCII (0x21-0x7E: no byte above 0x7F, no tab, in the path or the
 *   query), one SP, HTTP/d.d, CRLF; status line: HTTP/d.d SP 3DIGIT (>= 100)
 *   [SP reason of SP, HTAB, VCHAR, obs-text] CRLF;
 * - header lines: a token, ':' right after it, a value of SP, HTAB, VCHAR and
 *   obs-text, CRLF. A line that starts with SP or HTAB (obs-fold, also right
 *   after the start line) is refused (RFC 9112 §5.2 allows 400), as is any
 *   control byte, DEL, a CR not followed by LF and a bare LF (unless
 *   MG_HTTP_ALLOW_BARE_LF);
 * - framing: Content-Length is 1*DIGIT, once; Transfer-Encoding is a list of
 *   transfer codings, over one line or several, where chunked may only come
 *   last, once. With chunked last the body is chunked (`gzip, chunked`: the
 *   body hm delivers is still gzip-coded; the header tells). A request whose
 *   codings do not end with chunked, or an HTTP/1.0 request with any, is
 *   refused (RFC 9112 §6.1, §6.3: 400 and close); a response is then read
 *   until the connection closes (§6.3). Both Content-Length and
 *   Transfer-Encoding: refused. An empty Transfer-Encoding: refused.
 * - Content-Length, Transfer-Encoding and, as in Mongoose, Authorization,
 *   Connection and Cookie (and Host, RFC 9112 §3.2) may appear once.
 *
 * TypeScript adaptation: C's (const char *s, size_t len) becomes (buf, len,
 * hm, ofs = 0); every field of hm is a view into buf.
 */
export function mg_http_parse(buf: Uint8Array, len: number, hm: mg_http_message, ofs = 0): number {
  const before = hm.hdr_count;
  hm.owner = null;
  const n = parse_head(buf, len, hm, ofs);
  // headers the last parse set beyond this one's are emptied (C zeroes the whole struct)
  for (let i = hm.hdr_count; i < before; i++) {
    const h = hm.headers[i];
    mg_str_set(h.name, buf, ofs, 0);
    mg_str_set(h.value, buf, ofs, 0);
  }
  return n;
}

/** mg_http_parse, and mg_http_get_request_len when hm is null (nothing is stored). */
function parse_head(buf: Uint8Array, len: number, hm: mg_http_message | null, ofs: number): number {
  const end = ofs + len;
  if (hm !== null) {
    hm.hdr_count = 0;
    hm.body_len = 0;
    hm.chunked = false;
    hm.resp_code = 0;
    hm.chunk_consumed = 0;
    mg_str_set(hm.query, buf, ofs, 0);
  }
  let p = ofs;
  // --- the start line
  const resp = status_line(buf, p, end);
  let code = 0;
  let v10 = false;
  if (resp !== 0) {
    // a status line: HTTP/d.d SP 3DIGIT [SP reason] CRLF
    if (resp < 0) return resp === -2 ? 0 : -1;
    p = resp;
    if (p >= end) return 0;
    const v = ofs + 9;
    code = (buf[v] - 48) * 100 + (buf[v + 1] - 48) * 10 + (buf[v + 2] - 48);
    let r = p;
    if (buf[p] === 32) {
      r = ++p;
      while (p < end && (CLS[buf[p]] & C_FIELD) !== 0) p++;
      if (p >= end) return 0;
    }
    const reason_end = p;
    p = line_end(buf, p, end);
    if (p <= 0) return p;
    if (hm !== null) {
      mg_str_set(hm.method, buf, ofs, 8);
      mg_str_set(hm.uri, buf, v, 3);
      mg_str_set(hm.proto, buf, r, reason_end - r);
      hm.resp_code = code;
    }
    v10 = buf[ofs + 5] === 49 && buf[ofs + 7] === 48;
  } else {
    // a request line: method SP request-target SP HTTP/d.d CRLF
    while (p < end && (CLS[buf[p]] & C_TCHAR) !== 0) p++;
    if (p >= end) return 0;
    if (p === ofs || buf[p] !== 32) return -1;
    const m_end = p++;
    const t = p;
    let q = -1;
    for (; p < end; p++) {
      const ch = buf[p];
      if ((CLS[ch] & C_VCHAR) === 0) break;
      if (ch === 63 && q < 0) q = p;
    }
    if (p >= end) return 0;
    if (p === t || buf[p] !== 32) return -1;
    const t_end = p++;
    const pv = p;
    for (let k = 0; k < 8; k++, p++) {
      if (p >= end) return 0;
      const ch = buf[p];
      if (k < 5 ? ch !== B_HTTP[k] : k === 6 ? ch !== 46 : ch < 48 || ch > 57) return -1;
    }
    if (p >= end) return 0;
    p = line_end(buf, p, end);
    if (p <= 0) return p;
    if (hm !== null) {
      mg_str_set(hm.method, buf, ofs, m_end - ofs);
      if (q >= 0) {
        mg_str_set(hm.uri, buf, t, q - t);
        mg_str_set(hm.query, buf, q + 1, t_end - q - 1);
      } else mg_str_set(hm.uri, buf, t, t_end - t);
      mg_str_set(hm.proto, buf, pv, 8);
    }
    v10 = buf[pv + 5] === 49 && buf[pv + 7] === 48;
  }

  // --- header lines, then the empty line
  let nh = 0;
  let cl = -1;
  let te = 0;
  let seen = 0; // bits: headers that may appear once
  for (;;) {
    if (p >= end) return 0;
    const ch = buf[p];
    if (ch === 13 || ch === 10) {
      p = line_end(buf, p, end);
      if (p <= 0) return p;
      break; // the empty line
    }
    const name = p;
    while (p < end && (CLS[buf[p]] & C_TCHAR) !== 0) p++;
    if (p >= end) return 0;
    if (p === name || buf[p] !== 58) return -1; // obs-fold, a space before ':', a bad name byte
    const name_len = p - name;
    p++;
    while (p < end && (buf[p] === 32 || buf[p] === 9)) p++;
    const val = p;
    while (p < end && (CLS[buf[p]] & C_FIELD) !== 0) p++;
    if (p >= end) return 0;
    let ve = p;
    p = line_end(buf, p, end);
    if (p <= 0) return p;
    while (ve > val && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
    if (nh === MG_MAX_HTTP_HEADERS) return MG_HTTP_TOO_MANY_HEADERS;
    if (hm !== null) {
      const h = hm.headers[nh];
      mg_str_set(h.name, buf, name, name_len);
      mg_str_set(h.value, buf, val, ve - val);
      hm.hdr_count = nh + 1;
    }
    nh++;
    // the headers that decide framing, and those Mongoose refuses twice
    let bit = 0;
    if (eq_lc(buf, name, name_len, LC_CONTENT_LENGTH)) {
      bit = 1;
      if (ve === val) return -1;
      let v = 0;
      for (let k = val; k < ve; k++) {
        const d = buf[k] - 48;
        if (d < 0 || d > 9) return -1;
        v = v * 10 + d;
        if (v > 0x1fffffffffffff / 10) return -1;
      }
      cl = v;
    } else if (eq_lc(buf, name, name_len, LC_TRANSFER_ENCODING)) {
      te = te_step(buf, val, ve, te);
      if (te < 0) return -1;
    } else if (eq_lc(buf, name, name_len, LC_AUTHORIZATION)) bit = 2;
    else if (eq_lc(buf, name, name_len, LC_CONNECTION)) bit = 4;
    else if (eq_lc(buf, name, name_len, LC_COOKIE)) bit = 8;
    else if (eq_lc(buf, name, name_len, LC_HOST)) bit = 16;
    if ((seen & bit) !== 0) return -1;
    seen |= bit;
  }
  const n = p - ofs;
  if (hm === null) return te !== 0 && (cl >= 0 || (resp === 0 && (v10 || (te & (TE_BAD | TE_CHUNKED_LAST)) !== TE_CHUNKED_LAST))) ? -1 : n;

  // --- framing (RFC 9112 §6.3)
  let chunked = false;
  let body = 0;
  if (te !== 0) {
    if (cl >= 0) return -1;
    chunked = (te & (TE_BAD | TE_CHUNKED_LAST)) === TE_CHUNKED_LAST && !v10;
    if (!chunked) {
      if (resp === 0) return -1; // a request whose length cannot be known
      body = -1; // a response: until the connection closes
    }
  } else if (cl >= 0) {
    body = cl;
  } else if (resp !== 0) {
    body = -1; // a response without a length: until close
  }
  if (chunked) body = -1;
  if (resp !== 0 && (code < 200 || code === 204 || code === 304)) {
    body = 0;
    chunked = false;
  }
  hm.chunked = chunked;
  hm.body_len = body;
  mg_str_set(hm.head, buf, ofs, n);
  mg_str_set(hm.message, buf, ofs, n);
  mg_str_set(hm.body, buf, ofs + n, 0);
  mg_str_set(hm.chunk, buf, ofs + n, 0);
  if (body > 0) {
    const have = len - n;
    hm.body.len = have < body ? have : body;
    hm.message.len = n + body;
  }
  return n;
}

/**
 * Whether the start line at b[p..end) is a status line: 0 if not (a request),
 * the offset after "HTTP/d.d SP 3DIGIT" if so, -2 if it cannot be told yet,
 * -1 if it starts as one and breaks its grammar. The code must be >= 100.
 */
function status_line(b: Uint8Array, p: number, end: number): number {
  for (let k = 0; k < 5; k++) {
    if (p + k >= end) return -2;
    if (b[p + k] !== B_HTTP[k]) return 0;
  }
  // "HTTP/" cannot start a request: '/' is not a token character
  for (let k = 5; k < 12; k++) {
    if (p + k >= end) return -2;
    const ch = b[p + k];
    const ok = k === 6 ? ch === 46 : k === 8 ? ch === 32 : ch >= 48 && ch <= 57;
    if (!ok) return -1;
  }
  return b[p + 9] === 48 ? -1 : p + 12; // 0xx is no status
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
 * TypeScript adaptation: out (optional) receives the view, so that a caller
 * that keeps one mg_str allocates nothing; without it a new one is returned.
 */
export function mg_http_get_header_var(s: mg_str | string, name: string, out?: mg_str): mg_str {
  const v = to_str(s);
  const o = out === undefined ? mg_str_n(v.buf, v.ofs, 0) : mg_str_set(out, v.buf, v.ofs, 0);
  header_var(v.buf, v.ofs, v.ofs + v.len, name, o);
  return o;
}

/** mg_http_get_header_var over b[i..end) (name compared case-insensitively): fills out, false when absent. */
export function header_var(b: Uint8Array, i: number, end: number, name: string, out: mg_str): boolean {
  const n = mg_js_len(name);
  while (i < end) {
    while (i < end && (b[i] === 32 || b[i] === 9 || b[i] === 59 || b[i] === 44)) i++;
    let k = 0;
    while (k < n && i + k < end && lower(b[i + k]) === lower(cca.call(name, k))) k++;
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

/**
 * Where name's value is in a query string or form body (`a=1&b=2`, names
 * compared case-insensitively): out is set to it (possibly empty, `c=`) and
 * true returned, or false when no element is named so.
 */
function find_var(v: mg_str, name: string, out: mg_str): boolean {
  const b = v.buf;
  const end = v.ofs + v.len;
  const n = mg_js_len(name);
  let i = v.ofs;
  while (i < end) {
    let j = i;
    while (j < end && b[j] !== 38) j++;
    let k = 0;
    while (k < n && i + k < j && lower(b[i + k]) === lower(cca.call(name, k))) k++;
    if (k === n && i + n < j && b[i + n] === 61) {
      mg_str_set(out, b, i + n + 1, j - i - n - 1);
      return true;
    }
    i = j + 1;
  }
  mg_str_set(out, b, v.ofs, 0);
  return false;
}

/** The raw value of name in a query string or form body (`a=1&b=2`), or an empty mg_str. */
export function mg_http_var(buf: mg_str | string, name: string): mg_str {
  const v = to_str(buf);
  const out = mg_str_n(v.buf, v.ofs, 0);
  find_var(v, name, out);
  return out;
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
  const s = mg_str_n(v.buf, v.ofs, 0);
  if (!find_var(v, name, s)) return -4;
  const r = mg_url_decode(s, dst, 0, dst_len, true);
  return r < 0 ? -3 : r;
}

/** mg_http_get_var as a JS string, or null when absent or undecodable. */
export function mg_http_get_var_str(buf: mg_str | string, name: string): string | null {
  const v = to_str(buf);
  const s = mg_str_n(v.buf, v.ofs, 0);
  if (!find_var(v, name, s)) return null;
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
