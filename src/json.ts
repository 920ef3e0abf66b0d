// JSON (Mongoose's json.c): find a value by path in JSON text, without
// building objects. mg_json_get returns an offset and a length; the typed
// getters convert at the edge. Paths: $, .key, [N], nested: "$.a[1].b".
import { MG_JSON_MAX_DEPTH } from "./config.js";
import { mg_base64_decode } from "./util.js";
import { mg_is_str, mg_js_len, mg_str, mg_str_n, mg_str_set } from "./str.js";

export const MG_JSON_TOO_DEEP = -1;
export const MG_JSON_INVALID = -2;
export const MG_JSON_NOT_FOUND = -3;

const cca = String.prototype.charCodeAt;

function ws(b: Uint8Array, i: number, end: number): number {
  while (i < end && (b[i] === 32 || b[i] === 9 || b[i] === 10 || b[i] === 13)) i++;
  return i;
}

/** End of the string starting at the quote at i, or -1. */
function skip_string(b: Uint8Array, i: number, end: number): number {
  for (i++; i < end; i++) {
    const c = b[i];
    if (c === 92) {
      i++;
      if (i >= end) return -1;
      const e = b[i];
      if (e === 117) {
        for (let k = 1; k <= 4; k++) if (i + k >= end || hex(b[i + k]) < 0) return -1;
        i += 4;
      } else if (e !== 34 && e !== 92 && e !== 47 && e !== 98 && e !== 102 && e !== 110 && e !== 114 && e !== 116) {
        return -1; // not a JSON escape (Mongoose passes "\x" as two bytes)
      }
    } else if (c === 34) return i + 1;
    else if (c < 32) return -1;
  }
  return -1;
}

function skip_number(b: Uint8Array, i: number, end: number): number {
  const s = i;
  if (i < end && b[i] === 45) i++;
  const d0 = i;
  while (i < end && b[i] >= 48 && b[i] <= 57) i++;
  if (i === d0) return -1;
  if (i < end && b[i] === 46) {
    i++;
    const f0 = i;
    while (i < end && b[i] >= 48 && b[i] <= 57) i++;
    if (i === f0) return -1;
  }
  if (i < end && (b[i] === 101 || b[i] === 69)) {
    i++;
    if (i < end && (b[i] === 43 || b[i] === 45)) i++;
    const e0 = i;
    while (i < end && b[i] >= 48 && b[i] <= 57) i++;
    if (i === e0) return -1;
  }
  return i > s ? i : -1;
}

function literal(b: Uint8Array, i: number, end: number, word: string): number {
  let k = 0;
  for (let c = cca.call(word, 0); c >= 0; c = cca.call(word, ++k)) if (i + k >= end || b[i + k] !== c) return -1; // no word.length: 2 slots on XS
  return i + k;
}

/** End of the value at i (after whitespace), -1 invalid, -2 too deep. */
function skip_value(b: Uint8Array, i: number, end: number, depth: number): number {
  i = ws(b, i, end);
  if (i >= end) return -1;
  const c = b[i];
  if (c === 34) return skip_string(b, i, end);
  if (c === 123 || c === 91) {
    if (depth >= MG_JSON_MAX_DEPTH) return -2;
    const close = c === 123 ? 125 : 93;
    i = ws(b, i + 1, end);
    if (i < end && b[i] === close) return i + 1;
    for (;;) {
      if (c === 123) {
        i = ws(b, i, end);
        if (i >= end || b[i] !== 34) return -1;
        i = skip_string(b, i, end);
        if (i < 0) return -1;
        i = ws(b, i, end);
        if (i >= end || b[i] !== 58) return -1;
        i++;
      }
      i = skip_value(b, i, end, depth + 1);
      if (i < 0) return i;
      i = ws(b, i, end);
      if (i >= end) return -1;
      if (b[i] === 44) {
        i++;
        continue;
      }
      if (b[i] === close) return i + 1;
      return -1;
    }
  }
  if (c === 116) return literal(b, i, end, "true");
  if (c === 102) return literal(b, i, end, "false");
  if (c === 110) return literal(b, i, end, "null");
  return skip_number(b, i, end);
}

function as_str(json: mg_str | string): mg_str {
  return mg_is_str(json) ? json : mg_str(json);
}

/**
 * Finds the value at path. Returns its offset from json's start (json.ofs),
 * or MG_JSON_TOO_DEEP / MG_JSON_INVALID / MG_JSON_NOT_FOUND; toklen[0] gets
 * its length, and 0 on any failure (as Mongoose: a caller reading toklen
 * after an error never sees a stale length).
 *
 * TypeScript adaptation: C's int *toklen becomes any one-element holder
 * (a number[] or Int32Array), or null.
 */
export function mg_json_get(json: mg_str | string, path: string, toklen: { [index: number]: number } | null): number {
  const r = json_get(json, path, toklen);
  if (r < 0 && toklen !== null) toklen[0] = 0;
  return r;
}

function json_get(json: mg_str | string, path: string, toklen: { [index: number]: number } | null): number {
  const s = as_str(json);
  const b = s.buf;
  const end = s.ofs + s.len;
  const plen = mg_js_len(path);
  if (plen === 0 || cca.call(path, 0) !== 36) return MG_JSON_INVALID;
  let i = ws(b, s.ofs, end);
  let p = 1;
  let depth = 0;
  while (p < plen) {
    const pc = cca.call(path, p);
    if (pc === 46) {
      // .key
      let k = p + 1;
      while (k < plen && cca.call(path, k) !== 46 && cca.call(path, k) !== 91) k++;
      if (i >= end || b[i] !== 123) return check_whole(b, i, end);
      if (++depth > MG_JSON_MAX_DEPTH) return MG_JSON_TOO_DEEP;
      i = ws(b, i + 1, end);
      let found = -1;
      if (i < end && b[i] === 125) return MG_JSON_NOT_FOUND;
      for (;;) {
        if (i >= end || b[i] !== 34) return MG_JSON_INVALID;
        const ke = skip_string(b, i, end);
        if (ke < 0) return MG_JSON_INVALID;
        let match = ke - i - 2 === k - p - 1;
        for (let q = 0; match && q < k - p - 1; q++) if (b[i + 1 + q] !== cca.call(path, p + 1 + q)) match = false;
        i = ws(b, ke, end);
        if (i >= end || b[i] !== 58) return MG_JSON_INVALID;
        i = ws(b, i + 1, end);
        if (match) {
          found = i;
          break;
        }
        i = skip_value(b, i, end, depth);
        if (i < 0) return i === -2 ? MG_JSON_TOO_DEEP : MG_JSON_INVALID;
        i = ws(b, i, end);
        if (i < end && b[i] === 44) {
          i = ws(b, i + 1, end);
          continue;
        }
        if (i < end && b[i] === 125) return MG_JSON_NOT_FOUND;
        return MG_JSON_INVALID;
      }
      i = found;
      p = k;
    } else if (pc === 91) {
      // [N]
      let k = p + 1;
      let n = 0;
      while (k < plen && cca.call(path, k) >= 48 && cca.call(path, k) <= 57) n = n * 10 + cca.call(path, k++) - 48;
      if (k >= plen || cca.call(path, k) !== 93 || k === p + 1) return MG_JSON_INVALID;
      if (i >= end || b[i] !== 91) return check_whole(b, i, end);
      if (++depth > MG_JSON_MAX_DEPTH) return MG_JSON_TOO_DEEP;
      i = ws(b, i + 1, end);
      if (i < end && b[i] === 93) return MG_JSON_NOT_FOUND;
      for (let idx = 0; ; idx++) {
        if (idx === n) break;
        i = skip_value(b, i, end, depth);
        if (i < 0) return i === -2 ? MG_JSON_TOO_DEEP : MG_JSON_INVALID;
        i = ws(b, i, end);
        if (i < end && b[i] === 44) {
          i = ws(b, i + 1, end);
          continue;
        }
        if (i < end && b[i] === 93) return MG_JSON_NOT_FOUND;
        return MG_JSON_INVALID;
      }
      p = k + 1;
    } else return MG_JSON_INVALID;
  }
  const e = skip_value(b, i, end, depth);
  if (e < 0) return e === -2 ? MG_JSON_TOO_DEEP : MG_JSON_INVALID;
  if (toklen !== null) toklen[0] = e - i;
  return i - s.ofs;
}

function check_whole(b: Uint8Array, i: number, end: number): number {
  // the path goes deeper than the document: not found, if the document is valid there
  const e = skip_value(b, i, end, 0);
  return e === -2 ? MG_JSON_TOO_DEEP : e < 0 ? MG_JSON_INVALID : MG_JSON_NOT_FOUND;
}

class Scratch {
  len = [0];
}
/** Run-time state (config.ts: module state). */
function json_state(): Scratch {
  return ((globalThis as any).mgts_json ??= new Scratch());
}

/** The raw token at path (strings keep their quotes), a view into json, or null. */
export function mg_json_get_tok(json: mg_str | string, path: string): mg_str | null {
  const s = as_str(json);
  const SC = json_state();
  const ofs = mg_json_get(s, path, SC.len);
  return ofs < 0 ? null : mg_str_n(s.buf, s.ofs + ofs, SC.len[0]);
}

/** The number at path, or undefined. */
export function mg_json_get_num(json: mg_str | string, path: string): number | undefined {
  const s = as_str(json);
  const SC = json_state();
  const ofs = mg_json_get(s, path, SC.len);
  if (ofs < 0) return undefined;
  const b = s.buf;
  const c = b[s.ofs + ofs];
  if (c !== 45 && (c < 48 || c > 57)) return undefined;
  let txt = "";
  for (let i = 0; i < SC.len[0]; i++) txt += String.fromCharCode(b[s.ofs + ofs + i]);
  return Number(txt);
}

/** The boolean at path, or undefined. */
export function mg_json_get_bool(json: mg_str | string, path: string): boolean | undefined {
  const s = as_str(json);
  const SC = json_state();
  const ofs = mg_json_get(s, path, SC.len);
  if (ofs < 0) return undefined;
  const c = s.buf[s.ofs + ofs];
  return c === 116 ? true : c === 102 ? false : undefined;
}

/** The number at path truncated to an integer, or dflt. */
export function mg_json_get_long(json: mg_str | string, path: string, dflt: number): number {
  const v = mg_json_get_num(json, path);
  return v === undefined ? dflt : Math.trunc(v);
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Decodes the escapes of a JSON string body (no quotes) into dst; returns
 * the length, or -1 on a bad escape or a small dst. \uXXXX becomes UTF-8
 * (surrogate pairs joined, a lone surrogate U+FFFD). Difference from
 * Mongoose, on purpose: it stops at a \uXXXX above 0xFF; JSON from browsers
 * carries any character that way.
 */
export function mg_json_unescape(src: mg_str, dst: Uint8Array, dofs: number, dlen: number): number {
  const b = src.buf;
  const end = src.ofs + src.len;
  let o = 0;
  for (let i = src.ofs; i < end; i++) {
    let c = b[i];
    if (c === 92) {
      if (++i >= end) return -1;
      const e = b[i];
      if (e === 117) {
        if (i + 4 >= end) return -1;
        let cp = (hex(b[i + 1]) << 12) | (hex(b[i + 2]) << 8) | (hex(b[i + 3]) << 4) | hex(b[i + 4]);
        if (cp < 0) return -1;
        i += 4;
        if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < end && b[i + 1] === 92 && b[i + 2] === 117) {
          const lo = (hex(b[i + 3]) << 12) | (hex(b[i + 4]) << 8) | (hex(b[i + 5]) << 4) | hex(b[i + 6]);
          if (lo >= 0xdc00 && lo < 0xe000) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
          }
        }
        if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd; // a lone surrogate has no UTF-8 form
        const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (o + n > dlen) return -1;
        const d = dofs + o;
        if (n === 1) dst[d] = cp;
        else if (n === 2) {
          dst[d] = 0xc0 | (cp >> 6);
          dst[d + 1] = 0x80 | (cp & 63);
        } else if (n === 3) {
          dst[d] = 0xe0 | (cp >> 12);
          dst[d + 1] = 0x80 | ((cp >> 6) & 63);
          dst[d + 2] = 0x80 | (cp & 63);
        } else {
          dst[d] = 0xf0 | (cp >> 18);
          dst[d + 1] = 0x80 | ((cp >> 12) & 63);
          dst[d + 2] = 0x80 | ((cp >> 6) & 63);
          dst[d + 3] = 0x80 | (cp & 63);
        }
        o += n;
        continue;
      }
      c = e === 98 ? 8 : e === 102 ? 12 : e === 110 ? 10 : e === 114 ? 13 : e === 116 ? 9 : e === 34 || e === 92 || e === 47 ? e : -1;
      if (c < 0) return -1;
    }
    if (o >= dlen) return -1;
    dst[dofs + o++] = c;
  }
  return o;
}

/** The string at path, unescaped, or null. */
export function mg_json_get_str(json: mg_str | string, path: string): string | null {
  const tok = mg_json_get_tok(json, path);
  if (tok === null || tok.len < 2 || tok.buf[tok.ofs] !== 34) return null;
  const body = mg_str_n(tok.buf, tok.ofs + 1, tok.len - 2);
  const d = new Uint8Array(body.len * 2 + 4);
  const n = mg_json_unescape(body, d, 0, d.length);
  return n < 0 ? null : mg_str_n(d, 0, n).toString();
}

/** The hex string at path decoded to bytes, or null. */
export function mg_json_get_hex(json: mg_str | string, path: string): Uint8Array | null {
  const tok = mg_json_get_tok(json, path);
  if (tok === null || tok.len < 2 || tok.buf[tok.ofs] !== 34 || tok.len % 2 !== 0) return null;
  const n = (tok.len - 2) / 2;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const h = hex(tok.buf[tok.ofs + 1 + 2 * i]);
    const l = hex(tok.buf[tok.ofs + 2 + 2 * i]);
    if (h < 0 || l < 0) return null;
    out[i] = (h << 4) | l;
  }
  return out;
}

/** The base64 string at path decoded to bytes, or null. */
export function mg_json_get_b64(json: mg_str | string, path: string): Uint8Array | null {
  const tok = mg_json_get_tok(json, path);
  if (tok === null || tok.len < 2 || tok.buf[tok.ofs] !== 34) return null;
  const out = new Uint8Array(tok.len);
  if (tok.len === 2) return new Uint8Array(0);
  const n = mg_base64_decode(tok.buf, tok.ofs + 1, tok.len - 2, out, 0, out.length);
  return n === 0 ? null : out.slice(0, n);
}

/**
 * Iterates an object or an array: fills key (quoted, or empty for arrays) and
 * val with views of the member at ofs, and returns the offset of the next
 * one; 0 at the end or on invalid input. Start with ofs 0.
 */
export function mg_json_next(obj: mg_str, ofs: number, key: mg_str | null, val: mg_str | null): number {
  const b = obj.buf;
  const end = obj.ofs + obj.len;
  let i = obj.ofs + ofs;
  if (ofs === 0) {
    i = ws(b, obj.ofs, end);
    if (i >= end || (b[i] !== 123 && b[i] !== 91)) return 0;
    i++;
  }
  const is_obj = b[ws(b, obj.ofs, end)] === 123;
  i = ws(b, i, end);
  if (i >= end || b[i] === 125 || b[i] === 93) return 0;
  if (is_obj) {
    if (b[i] !== 34) return 0;
    const ke = skip_string(b, i, end);
    if (ke < 0) return 0;
    if (key !== null) mg_str_set(key, b, i, ke - i);
    i = ws(b, ke, end);
    if (i >= end || b[i] !== 58) return 0;
    i = ws(b, i + 1, end);
  } else if (key !== null) mg_str_set(key, b, i, 0);
  const ve = skip_value(b, i, end, 1);
  if (ve < 0) return 0;
  if (val !== null) mg_str_set(val, b, i, ve - i);
  i = ws(b, ve, end);
  if (i < end && b[i] === 44) i++;
  return i - obj.ofs;
}
