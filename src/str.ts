// mg_str: a view of bytes (buffer, offset, length), Mongoose's struct mg_str.
//
// TypeScript adaptation: C's mg_str is a pointer and a length. Here it is an
// object holding a Uint8Array, an offset and a length, because on XS a
// subarray() costs 4 heap slots per call while rewriting three fields of an
// existing object costs none. Parsers fill preallocated mg_str objects with
// mg_str_set(); strings are made only when a caller asks (toString()).

const cca = String.prototype.charCodeAt;

class mg_str_view {
  buf: Uint8Array;
  ofs: number;
  len: number;
  constructor(buf: Uint8Array = EMPTY, ofs = 0, len = 0) {
    this.buf = buf;
    this.ofs = ofs;
    this.len = len;
  }
  /** Decodes the bytes as UTF-8. Allocates: for the edges, not for hot paths. */
  toString(): string {
    return mg_utf8_decode(this.buf, this.ofs, this.len);
  }
}

/**
 * The type is mg_str; so is the function that makes one, as in Mongoose.
 * mg_str() with no argument makes an empty one, to fill later with mg_str_set.
 */
export type mg_str = mg_str_view;

const EMPTY = new Uint8Array(0);

/** Makes an mg_str holding a copy of a JS string, UTF-8 encoded (mg_str_s). Allocates. */
export function mg_str_s(s: string | null | undefined): mg_str {
  if (s == null) return new mg_str_view(EMPTY, 0, 0);
  const b = mg_utf8_encode(s);
  return new mg_str_view(b, 0, b.length);
}

/** Mongoose's mg_str() macro. Allocates; build constants once, not per event. */
export function mg_str(s?: string | null): mg_str {
  return mg_str_s(s);
}

/** A view of len bytes at ofs in buf, no copy (mg_str_n). */
export function mg_str_n(buf: Uint8Array, ofs: number, len: number): mg_str {
  return new mg_str_view(buf, ofs, len);
}

/** True for an mg_str (the class itself is not exported: make them with mg_str/mg_str_n). */
export function mg_is_str(x: unknown): x is mg_str {
  return x instanceof mg_str_view;
}

/** Points an existing mg_str at other bytes: the allocation-free way to fill one. */
export function mg_str_set(s: mg_str, buf: Uint8Array, ofs: number, len: number): mg_str {
  s.buf = buf;
  s.ofs = ofs;
  s.len = len;
  return s;
}

/**
 * The length of a JS string, read without s.length: on XS reading a property
 * of a string primitive boxes it (2 heap slots), while charCodeAt through a
 * cached reference costs none and gives NaN past the end. O(length): for the
 * short strings (formats, paths) of hot paths. An mgts addition.
 */
export function mg_js_len(s: string): number {
  let n = 0;
  while (cca.call(s, n) >= 0) n++;
  return n;
}

/** Number of bytes the UTF-8 encoding of s takes. Allocation-free on XS. */
export function mg_utf8_len(s: string): number {
  let len = 0;
  for (let i = 0; ; i++) {
    const c = cca.call(s, i);
    if (!(c >= 0)) break; // NaN: the end (s.length would cost heap slots on XS)
    if (c < 0x80) len += 1;
    else if (c < 0x800) len += 2;
    else if (c >= 0xd800 && c < 0xdc00 && (cca.call(s, i + 1) & 0xfc00) === 0xdc00) {
      len += 4; // a surrogate pair; a lone surrogate becomes U+FFFD (3 bytes), as mg_utf8_put writes it
      i++;
    } else len += 3;
  }
  return len;
}

/**
 * Writes the UTF-8 encoding of s into dst at ofs, at most cap bytes (a
 * character that does not fit whole is not written). Returns the length the
 * whole encoding needs, like snprintf. Allocation-free on XS (a cached
 * charCodeAt, and the end found as NaN, not through s.length).
 */
export function mg_utf8_put(s: string, dst: Uint8Array, ofs: number, cap: number): number {
  let o = 0;
  for (let i = 0; ; i++) {
    let c = cca.call(s, i);
    if (!(c >= 0)) break;
    if (c < 0x80) {
      if (o < cap) dst[ofs + o] = c;
      o += 1;
    } else if (c < 0x800) {
      if (o + 2 <= cap) {
        dst[ofs + o] = 0xc0 | (c >> 6);
        dst[ofs + o + 1] = 0x80 | (c & 63);
      }
      o += 2;
    } else {
      if (c >= 0xd800 && c < 0xdc00) {
        const d = cca.call(s, i + 1); // NaN at the end: not a low surrogate
        if (d >= 0xdc00 && d < 0xe000) {
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          if (o + 4 <= cap) {
            dst[ofs + o] = 0xf0 | (c >> 18);
            dst[ofs + o + 1] = 0x80 | ((c >> 12) & 63);
            dst[ofs + o + 2] = 0x80 | ((c >> 6) & 63);
            dst[ofs + o + 3] = 0x80 | (c & 63);
          }
          o += 4;
          continue;
        }
      }
      if (c >= 0xd800 && c < 0xe000) c = 0xfffd; // lone surrogate
      if (o + 3 <= cap) {
        dst[ofs + o] = 0xe0 | (c >> 12);
        dst[ofs + o + 1] = 0x80 | ((c >> 6) & 63);
        dst[ofs + o + 2] = 0x80 | (c & 63);
      }
      o += 3;
    }
  }
  return o;
}

/** UTF-8 encodes a JS string into a new Uint8Array (no TextEncoder on every XS host). */
export function mg_utf8_encode(s: string): Uint8Array {
  const b = new Uint8Array(mg_utf8_len(s));
  mg_utf8_put(s, b, 0, b.length);
  return b;
}

/**
 * Decodes UTF-8 bytes into a JS string. Invalid input becomes U+FFFD the way
 * TextDecoder does it (WHATWG "maximal subpart"): overlong forms, encoded
 * surrogates and values above U+10FFFF are refused at their second byte, and
 * a byte that breaks a sequence is not swallowed but decoded on its own.
 */
export function mg_utf8_decode(b: Uint8Array, ofs: number, len: number): string {
  let s = "";
  const end = ofs + len;
  let i = ofs;
  while (i < end) {
    const c = b[i++];
    let cp = 0xfffd;
    let need = 0;
    let lo = 0x80, hi = 0xbf; // the range of the next continuation byte
    if (c < 0x80) {
      cp = c;
    } else if (c >= 0xc2 && c < 0xe0) {
      cp = c & 0x1f;
      need = 1;
    } else if (c >= 0xe0 && c < 0xf0) {
      cp = c & 0x0f;
      need = 2;
      if (c === 0xe0) lo = 0xa0; // overlong
      else if (c === 0xed) hi = 0x9f; // surrogates
    } else if (c >= 0xf0 && c < 0xf5) {
      cp = c & 0x07;
      need = 3;
      if (c === 0xf0) lo = 0x90; // overlong
      else if (c === 0xf4) hi = 0x8f; // above U+10FFFF
    }
    let k = 0;
    for (; k < need && i < end; k++) {
      const d = b[i];
      if (d < lo || d > hi) break;
      lo = 0x80;
      hi = 0xbf;
      cp = (cp << 6) | (d & 0x3f);
      i++;
    }
    if (k < need) cp = 0xfffd;
    if (cp > 0xffff) {
      cp -= 0x10000;
      s += String.fromCharCode(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else {
      s += String.fromCharCode(cp);
    }
  }
  return s;
}

// --- Comparisons, globbing, splitting, numbers -------------------------------

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function cmp(a: mg_str, b: mg_str, fold: boolean): number {
  const n = a.len < b.len ? a.len : b.len;
  for (let i = 0; i < n; i++) {
    let x = a.buf[a.ofs + i];
    let y = b.buf[b.ofs + i];
    if (fold) {
      x = lower(x);
      y = lower(y);
    }
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.len === b.len ? 0 : a.len < b.len ? -1 : 1; // a prefix sorts first
}

/** Byte-wise compare: -1, 0 or 1; when one is a prefix of the other, the longer is greater. */
export function mg_strcmp(a: mg_str, b: mg_str): number {
  return cmp(a, b, false);
}

/** As mg_strcmp, ASCII case-folded. */
export function mg_strcasecmp(a: mg_str, b: mg_str): number {
  return cmp(a, b, true);
}

/**
 * Compares two JS strings, ASCII case-folded, by UTF-16 code unit. Returns the
 * difference of the first differing (folded) units as C does, 0 when equal; a
 * string that ends first compares as if it had a NUL there.
 */
export function mg_casecmp(a: string, b: string): number {
  for (let i = 0; ; i++) {
    const cx = cca.call(a, i);
    const cy = cca.call(b, i);
    const x = cx >= 0 ? lower(cx) : 0; // NaN past the end
    const y = cy >= 0 ? lower(cy) : 0;
    if (x !== y || x === 0) return x - y;
  }
}

function set_cap(caps: mg_str[] | null, k: number, s: mg_str, at: number, len: number): void {
  if (caps !== null && k < caps.length) mg_str_set(caps[k], s.buf, s.ofs + at, len);
}

// The backtracking stack of mg_match: 4 ints per wildcard (pattern index,
// start, length, cap index). Made on first use and grown for a pattern with
// more wildcards than any before (patterns are constants, so it settles).
// Run-time state (config.ts: module state).
class MatchState {
  stack = new Int32Array(64);
}
function match_state(): MatchState {
  return ((globalThis as any).mgts_match ??= new MatchState());
}

/**
 * Whole-string glob: `?` matches one byte (a '/' too), `*` any run of bytes
 * without '/', `#` any run including '/'. When caps is given, caps[k] is
 * pointed at what the k-th wildcard matched (views into str, no copy) and the
 * entry after the last wildcard is set empty; caps entries are mg_str objects
 * the caller made (wildcards beyond caps.length are matched but not reported).
 *
 * Wildcards match as little as possible and grow on a mismatch, the latest
 * first. A `*` that cannot grow because it reached a '/' hands back to the
 * wildcard before it (so "*?*" matches "aa/": the first `*` takes "aa" and
 * `?` the '/'). Mongoose keeps only the latest wildcard and misses such
 * matches. A wildcard that reaches the end of the string ends the search:
 * no earlier choice can help then. No recursion; allocation only when a
 * pattern has more wildcards than any before.
 */
export function mg_match(str: mg_str, pattern: mg_str, caps: mg_str[] | null): boolean {
  const s = str.buf, so = str.ofs, sn = str.len;
  const p = pattern.buf, po = pattern.ofs, pn = pattern.len;
  let nw = 0;
  for (let q = 0; q < pn; q++) if (p[po + q] === 42 || p[po + q] === 35) nw++;
  const ms = match_state();
  if (ms.stack.length < nw * 4) ms.stack = new Int32Array(nw * 4);
  const st = ms.stack;
  let top = 0; // wildcards on the stack
  let i = 0, j = 0, k = 0; // pattern position, string position, cap index
  while (i < pn || j < sn) {
    const pc = i < pn ? p[po + i] : -1;
    if (pc === 42 || pc === 35) {
      // '*' or '#': start matching nothing, grow on mismatch
      const e = top++ * 4;
      st[e] = i;
      st[e + 1] = j;
      st[e + 2] = 0;
      st[e + 3] = k;
      set_cap(caps, k++, str, j, 0);
      i++;
      continue;
    }
    if (pc >= 0 && j < sn && (pc === 63 || pc === s[so + j])) {
      if (pc === 63) set_cap(caps, k++, str, j, 1);
      i++;
      j++;
      continue;
    }
    for (;;) {
      if (top === 0) return false;
      const e = (top - 1) * 4;
      const wi = st[e], ws = st[e + 1], wk = st[e + 3];
      const we = ws + st[e + 2]; // the byte the wildcard would take next
      if (we >= sn) return false; // later starts reach only a subset of what was tried
      if (p[po + wi] === 35 || s[so + we] !== 47) {
        st[e + 2]++; // take one more byte; retry what follows
        set_cap(caps, wk, str, ws, we + 1 - ws);
        i = wi + 1;
        j = we + 1;
        k = wk + 1;
        break;
      }
      top--; // a '*' stuck at '/': an earlier wildcard must move it past
    }
  }
  set_cap(caps, k, str, sn, 0);
  return true;
}

/**
 * Splits s at its first sep (a byte value): a gets what precedes it, b what
 * follows (empty when there is no sep). Returns false, touching nothing, when
 * s is empty. a and b are caller-made mg_str objects (either may be null, and
 * either may be s itself, as in `while (mg_span(s, k, s, 44))`).
 */
export function mg_span(s: mg_str, a: mg_str | null, b: mg_str | null, sep: number): boolean {
  const buf = s.buf, ofs = s.ofs, len = s.len;
  if (len === 0) return false;
  let i = 0;
  while (i < len && buf[ofs + i] !== sep) i++;
  if (a !== null) mg_str_set(a, buf, ofs, i);
  if (b !== null) {
    if (i < len) mg_str_set(b, buf, ofs + i + 1, len - i - 1);
    else mg_str_set(b, buf, ofs + len, 0);
  }
  return true;
}

function digit(c: number, base: number): number {
  let d = 99;
  if (c >= 48 && c <= 57) d = c - 48;
  else if (c >= 97 && c <= 102) d = c - 87;
  else if (c >= 65 && c <= 70) d = c - 55;
  return d < base ? d : -1;
}

/**
 * Parses an unsigned integer, strictly: the whole of str must be digits of the
 * base, no sign, no spaces. base 0 detects a "0x"/"0X" (hex) or "0b"/"0B"
 * (binary) prefix and is decimal otherwise (no octal); bases 2, 10, 16 take no
 * prefix. val_len (1, 2, 4 or 8) is the C integer size: a value that does not
 * fit is an overflow. Returns the value, or null on any failure.
 *
 * TypeScript adaptation: the result is a JS number, so for val_len 8 values
 * above 2^53 - 1 (Number.MAX_SAFE_INTEGER) cannot be returned exactly and are
 * refused (null) like an overflow.
 */
export function mg_str_to_num(str: mg_str, base: number, val_len: number): number | null {
  const b = str.buf;
  let i = str.ofs;
  const end = str.ofs + str.len;
  if (base === 0) {
    base = 10;
    if (end - i > 2 && b[i] === 48) {
      const x = b[i + 1] | 32;
      if (x === 120) base = 16;
      else if (x === 98) base = 2;
      if (base !== 10) i += 2;
    }
  }
  if (base !== 2 && base !== 10 && base !== 16) return null;
  const max = val_len === 1 ? 0xff : val_len === 2 ? 0xffff : val_len === 4 ? 0xffffffff : val_len === 8 ? Number.MAX_SAFE_INTEGER : -1;
  if (max < 0 || i >= end) return null;
  let v = 0;
  for (; i < end; i++) {
    const d = digit(b[i], base);
    if (d < 0) return null;
    v = v * base + d; // exact while v <= 2^53; a larger true value rounds to >= 2^53 > max
    if (v > max) return null;
  }
  return v;
}

/**
 * Offset of the first occurrence of needle in haystack, relative to
 * haystack.ofs, or -1. TypeScript adaptation: C returns a pointer (or NULL).
 * An empty needle is found at 0.
 */
export function mg_strstr(haystack: mg_str, needle: mg_str): number {
  const h = haystack.buf, ho = haystack.ofs, n = needle.buf, no = needle.ofs, nl = needle.len;
  const last = haystack.len - nl;
  for (let i = 0; i <= last; i++) {
    let k = 0;
    while (k < nl && h[ho + i + k] === n[no + k]) k++;
    if (k === nl) return i;
  }
  return -1;
}

/** A copy of s in a new buffer (mg_strdup; no NUL is added). Allocates. */
export function mg_str_dup(s: mg_str): mg_str {
  if (s.len === 0) return new mg_str_view(EMPTY, 0, 0);
  const b = new Uint8Array(s.len);
  for (let i = 0; i < b.length; i++) b[i] = s.buf[s.ofs + i];
  return new mg_str_view(b, 0, b.length);
}

/**
 * False when path could climb out of a directory: it starts with ".." or has
 * ".." right after a '/' or '\'. As Mongoose, this is a conservative test
 * (it also refuses names like "..foo" at those places).
 */
export function mg_path_is_sane(path: mg_str): boolean {
  const b = path.buf, o = path.ofs, n = path.len;
  for (let i = 0; i + 1 < n; i++) {
    const at_start = i === 0 || b[o + i - 1] === 47 || b[o + i - 1] === 92;
    if (at_start && b[o + i] === 46 && b[o + i + 1] === 46) return false;
  }
  return true;
}

function hexval(c: number): number {
  return digit(c, 16);
}

/**
 * Decodes %XX escapes (and '+' as space when is_form) from src into dst at
 * dofs, at most dlen bytes. Returns the decoded length, or -1 on a malformed
 * escape or when dst is too small. TypeScript adaptation: no NUL is written,
 * so no room for one is needed (C needs one more byte).
 */
export function mg_url_decode(src: mg_str, dst: Uint8Array, dofs: number, dlen: number, is_form: boolean): number {
  const b = src.buf, end = src.ofs + src.len;
  let j = 0;
  for (let i = src.ofs; i < end; i++, j++) {
    if (j >= dlen) return -1;
    let c = b[i];
    if (c === 37) {
      if (i + 2 >= end) return -1; // needs two hex digits
      const h = hexval(b[i + 1]);
      const l = hexval(b[i + 2]);
      if (h < 0 || l < 0) return -1;
      c = (h << 4) | l;
      i += 2;
    } else if (c === 43 && is_form) {
      c = 32;
    }
    dst[dofs + j] = c;
  }
  return j;
}

/**
 * Percent-encodes src into dst at dofs: bytes [A-Za-z0-9._~-] stay, others
 * become %xx (lowercase hex, as Mongoose). Returns the encoded length, or 0
 * when it does not fit in dlen (no NUL is written or needed).
 */
export function mg_url_encode(src: mg_str, dst: Uint8Array, dofs: number, dlen: number): number {
  const b = src.buf, end = src.ofs + src.len;
  let j = 0;
  for (let i = src.ofs; i < end; i++) {
    const c = b[i];
    const keep =
      (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95 || c === 126;
    if (keep) {
      if (j + 1 > dlen) return 0;
      dst[dofs + j++] = c;
    } else {
      if (j + 3 > dlen) return 0;
      dst[dofs + j++] = 37;
      dst[dofs + j++] = hexdig(c >> 4);
      dst[dofs + j++] = hexdig(c & 15);
    }
  }
  return j;
}

function hexdig(v: number): number {
  return v < 10 ? 48 + v : 87 + v;
}
