// printf (Mongoose's fmt.c and printf.c): one engine, mg_vxprintf, writing
// bytes into a sink (mg_xout). mg_snprintf, mg_mprintf, mg_printf, the log
// and the WebSocket printf are built on it.
//
// Specifiers: %c %s %d %i %u %x %X %o %p %f %F %e %E %g %G %%; flags # - 0 +
// and space; width and .precision, either may be *; length modifiers h hh l
// ll z j t accepted. %M takes a printer (mg_pm_t) and whatever it consumes;
// %m does the same inside double quotes:
//   mg_snprintf(buf, n, "{%m:%d}", ...MG_ESC("key"), 1)  ->  {"key":1}
//
// Allocation: the engine writes bytes straight into the sink and reads the
// format with a cached charCodeAt, so integers, strings, mg_str and the
// printers allocate nothing. Floats are formatted with JS number methods,
// which make strings: that is the one allocating edge.
import type { mg_addr } from "./addr.js";
import { mg_is_str, mg_str, mg_utf8_decode, mg_utf8_len } from "./str.js";
import { mg_base64_char } from "./util.js";

const cca = String.prototype.charCodeAt;
const EMPTY = new Uint8Array(0); // zero length: nothing is ever written to it
const NOARGS: readonly any[] = Object.freeze([]);

/**
 * A byte sink: byte k of the output goes to buf[ofs + k] while k < cap; n
 * counts every byte, so n > cap means the output was cut (snprintf
 * semantics). Reset n to 0 to reuse it.
 */
export class mg_xout {
  buf: Uint8Array;
  ofs: number;
  cap: number;
  n = 0;
  constructor(buf: Uint8Array = EMPTY, ofs = 0, cap = 0) {
    this.buf = buf;
    this.ofs = ofs;
    this.cap = cap;
  }
}

/** An argument cursor, C's va_list: the next argument is a[i]. */
export class mg_va {
  a: ArrayLike<any>;
  i: number;
  constructor(a: ArrayLike<any> = NOARGS, i = 0) {
    this.a = a;
    this.i = i;
  }
}

/** A %M / %m printer: takes its arguments from ap, writes to o, returns the bytes written. */
export type mg_pm_t = (o: mg_xout, ap: mg_va) => number;

export function mg_xputc(o: mg_xout, byte: number): void {
  if (o.n < o.cap) o.buf[o.ofs + o.n] = byte;
  o.n++;
}

/** Writes a JS string as UTF-8. */
export function mg_xputs(o: mg_xout, s: string): void {
  put_js(o, s, 0x7fffffff, 0);
}

export function mg_xputb(o: mg_xout, buf: Uint8Array, ofs: number, len: number): void {
  for (let i = 0; i < len; i++) mg_xputc(o, buf[ofs + i]);
}

// --- byte writers ------------------------------------------------------------

const MODE_RAW = 0;
const MODE_JSON = 1;
const MODE_HTML = 2;

function hexc(v: number, upper: boolean): number {
  return v < 10 ? 48 + v : (upper ? 55 : 87) + v;
}

function put_n(o: mg_xout, byte: number, count: number): void {
  if (count <= 0) return;
  // a width from an argument may be huge: fill only what fits, count the rest
  const room = o.cap - o.n;
  const k = room <= 0 ? 0 : room < count ? room : count;
  for (let i = 0; i < k; i++) o.buf[o.ofs + o.n + i] = byte;
  o.n += count;
}

function put_amp(o: mg_xout, a: number, b: number, c: number, d: number): void {
  mg_xputc(o, 38);
  mg_xputc(o, a);
  mg_xputc(o, b);
  if (c !== 0) mg_xputc(o, c);
  if (d !== 0) mg_xputc(o, d);
  mg_xputc(o, 59);
}

/** One ASCII byte, escaped for the mode. */
function put_esc(o: mg_xout, c: number, mode: number): void {
  if (mode === MODE_JSON) {
    let e = 0;
    if (c === 34 || c === 92) e = c;
    else if (c === 8) e = 98;
    else if (c === 9) e = 116;
    else if (c === 10) e = 110;
    else if (c === 12) e = 102;
    else if (c === 13) e = 114;
    if (e !== 0) {
      mg_xputc(o, 92);
      mg_xputc(o, e);
      return;
    }
    if (c < 32) {
      // other control bytes: \u00XX keeps the output valid JSON
      mg_xputc(o, 92);
      mg_xputc(o, 117);
      mg_xputc(o, 48);
      mg_xputc(o, 48);
      mg_xputc(o, hexc(c >> 4, false));
      mg_xputc(o, hexc(c & 15, false));
      return;
    }
  } else if (mode === MODE_HTML) {
    if (c === 38) return put_amp(o, 97, 109, 112, 0); // &amp;
    if (c === 60) return put_amp(o, 108, 116, 0, 0); // &lt;
    if (c === 62) return put_amp(o, 103, 116, 0, 0); // &gt;
    if (c === 34) return put_amp(o, 35, 51, 52, 0); // &#34;
    if (c === 39) return put_amp(o, 35, 51, 57, 0); // &#39;
  }
  mg_xputc(o, c);
}

/**
 * Writes a JS string as UTF-8, at most limit bytes of it (counted before
 * escaping; a character can be cut, as C cuts bytes). ASCII goes through the
 * escaper of mode; other bytes are written as they are.
 */
function put_js(o: mg_xout, s: string, limit: number, mode: number): void {
  let k = 0;
  for (let i = 0; k < limit; i++) {
    let cp = cca.call(s, i);
    if (!(cp >= 0)) break; // NaN: the end, found without s.length (heap slots on XS)
    if (cp < 0x80) {
      if (mode === MODE_RAW) {
        if (o.n < o.cap) o.buf[o.ofs + o.n] = cp; // mg_xputc inlined, as in mg_vxprintf
        o.n++;
      } else put_esc(o, cp, mode);
      k++;
      continue;
    }
    if (cp >= 0xd800 && cp < 0xdc00) {
      const lo = cca.call(s, i + 1);
      if (lo >= 0xdc00 && lo < 0xe000) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd; // a lone surrogate
    const nb = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    const lead = nb === 2 ? 0xc0 : nb === 3 ? 0xe0 : 0xf0;
    for (let m = nb - 1; m >= 0 && k < limit; m--, k++) {
      const v = cp >> (6 * m);
      mg_xputc(o, m === nb - 1 ? lead | v : 0x80 | (v & 63));
    }
  }
}

function put_bytes(o: mg_xout, b: Uint8Array, ofs: number, len: number, mode: number): void {
  for (let i = 0; i < len; i++) {
    const c = b[ofs + i];
    if (c < 0x80) put_esc(o, c, mode);
    else mg_xputc(o, c);
  }
}

/** Unsigned decimal of a non-negative integer below 2^53. */
function put_udec(o: mg_xout, v: number): void {
  let d = 1;
  while (d * 10 <= v) d *= 10;
  for (;;) {
    mg_xputc(o, 48 + (Math.floor(v / d) % 10));
    if (d === 1) break;
    d /= 10; // exact: powers of ten below 2^53
  }
}

// --- fields ------------------------------------------------------------------

const F_LEFT = 1;
const F_ZERO = 2;
const F_ALT = 4;
const F_PLUS = 8;
const F_SPACE = 16;

// Scratch of the formatter, made on first use (config.ts: module state):
// the digits of an integer (least significant first), the (buffer, offset)
// of a bytes argument (bytes_arg), and mg_snprintf's sink and va_list.
class FmtState {
  digits = new Uint8Array(24);
  bytes_b: Uint8Array = EMPTY;
  bytes_o = 0;
  out = new mg_xout();
  ap = new mg_va();
  busy = false;
}
function fmt_state(): FmtState {
  return ((globalThis as any).mgts_fmt ??= new FmtState());
}

/**
 * A number field: padding, sign, "0x", precision zeros, then the body: dn
 * bytes of digits[] backwards when str is null, else the ASCII string str.
 */
function put_field(o: mg_xout, flags: number, width: number, zero_ok: boolean, sign: number, pfx: number, zeros: number, str: string | null, dn: number): void {
  const total = (sign !== 0 ? 1 : 0) + (pfx !== 0 ? 2 : 0) + zeros + dn;
  const pad = width - total;
  const zpad = zero_ok && (flags & F_ZERO) !== 0 && (flags & F_LEFT) === 0;
  if ((flags & F_LEFT) === 0 && !zpad) put_n(o, 32, pad);
  if (sign !== 0) mg_xputc(o, sign);
  if (pfx !== 0) {
    mg_xputc(o, 48);
    mg_xputc(o, pfx);
  }
  if (zpad) put_n(o, 48, pad);
  put_n(o, 48, zeros);
  if (str === null) {
    const d = fmt_state().digits;
    for (let k = dn - 1; k >= 0; k--) mg_xputc(o, d[k]);
  } else {
    for (let k = 0; k < dn; k++) mg_xputc(o, cca.call(str, k));
  }
  if ((flags & F_LEFT) !== 0) put_n(o, 32, pad);
}

/**
 * %d %i %u %x %X %o %p. JS numbers print their integer value whatever the
 * length modifier (a %d of Date.now() prints the time, not a 32-bit wrap). A
 * negative value under an unsigned conversion prints C's two's complement:
 * 32 bits, or 64 with ll/j (bigint arithmetic, so it allocates).
 */
function put_int(o: mg_xout, raw: any, conv: number, flags: number, width: number, prec: number, lmod: number): void {
  const signed = conv === 100 || conv === 105;
  const base = conv === 117 || signed ? 10 : conv === 111 ? 8 : 16;
  const upper = conv === 88;
  let sign = 0;
  let big: bigint | null = null;
  let v = 0;
  if (typeof raw === "bigint") big = raw;
  else {
    v = Math.trunc(Number(raw));
    if (v !== v || v === Infinity || v === -Infinity) v = 0;
  }
  if (big !== null ? big < 0n : v < 0) {
    if (signed) {
      sign = 45;
      if (big !== null) big = -big;
      else v = -v;
    } else if (big !== null || lmod >= 2 || v < -0x100000000) {
      big = BigInt.asUintN(lmod >= 2 ? 64 : 32, big ?? BigInt(v));
    } else {
      v += 0x100000000;
    }
  } else if (signed && (flags & F_PLUS) !== 0) sign = 43;
  else if (signed && (flags & F_SPACE) !== 0) sign = 32;
  if (big === null && v > Number.MAX_SAFE_INTEGER) big = BigInt(v); // digits a double loop would get wrong
  const zero = big !== null ? big === 0n : v === 0;
  const pfx = conv === 112 || ((flags & F_ALT) !== 0 && base === 16 && !zero) ? (upper ? 88 : 120) : 0;
  if (big !== null) {
    let s = zero && prec === 0 ? "" : big.toString(base);
    if (upper) s = s.toUpperCase();
    put_field(o, flags, width, prec < 0, sign, pfx, prec > s.length ? prec - s.length : 0, s, s.length);
    return;
  }
  const d = fmt_state().digits;
  let dn = 0;
  while (v > 0) {
    const r = v % base;
    d[dn++] = hexc(r, upper);
    v = (v - r) / base;
  }
  if (dn === 0 && prec !== 0) d[dn++] = 48; // zero prints "0", except with precision 0
  if ((flags & F_ALT) !== 0 && base === 8 && d[dn - 1] !== 48) d[dn++] = 48;
  put_field(o, flags, width, prec < 0, sign, pfx, prec > dn ? prec - dn : 0, null, dn);
}

/** C's exponent style: at least two digits ("1e+5" -> "1e+05"). */
function c_exp(s: string): string {
  const e = s.indexOf("e");
  if (e < 0) return s;
  const digs = s.length - e - 2;
  return digs >= 2 ? s : s.slice(0, e + 2) + "0" + s.slice(e + 2);
}

/** %f of a non-negative finite a. toFixed turns exponential from 1e21 and stops at 100 digits. */
function fixed(a: number, p: number): string {
  const q = p > 100 ? 100 : p;
  let s = a >= 1e21 ? BigInt(a).toString() + (q > 0 ? "." + "0".repeat(q) : "") : a.toFixed(q);
  if (p > q) s += "0".repeat(p - q);
  return s;
}

/** Drops trailing fraction zeros (and a bare '.') from the mantissa, for %g. */
function strip_zeros(s: string): string {
  const e = s.indexOf("e");
  let m = e < 0 ? s : s.slice(0, e);
  if (m.indexOf(".") < 0) return s;
  let k = m.length;
  while (cca.call(m, k - 1) === 48) k--;
  if (cca.call(m, k - 1) === 46) k--;
  m = m.slice(0, k);
  return e < 0 ? m : m + s.slice(e);
}

/** The body of %f %e %g (no sign) for a non-negative finite a, as C prints it. */
function float_body(a: number, conv: number, prec: number, alt: boolean): string {
  const p = prec < 0 ? 6 : prec;
  let s: string;
  if (conv === 102) {
    s = fixed(a, p);
  } else if (conv === 101) {
    s = c_exp(a.toExponential(p > 100 ? 100 : p));
  } else {
    const P = p === 0 ? 1 : p > 101 ? 101 : p;
    const e = a.toExponential(P - 1);
    const x = a === 0 ? 0 : Number(e.slice(e.indexOf("e") + 1)); // the exponent after rounding
    s = x < P && x >= -4 ? fixed(a, P - 1 - x) : c_exp(e);
    if (!alt) return strip_zeros(s);
  }
  if (alt && s.indexOf(".") < 0) {
    const e = s.indexOf("e"); // '#' keeps the point: "3." or "3.e+00"
    s = e < 0 ? s + "." : s.slice(0, e) + "." + s.slice(e);
  }
  return s;
}

/** %f %F %e %E %g %G. Infinities print inf and -inf, NaN nan (upper case for F E G). */
function put_float(o: mg_xout, raw: any, conv: number, flags: number, width: number, prec: number): void {
  const v = Number(raw);
  const lc = conv | 32;
  const neg = v < 0 || (v === 0 && 1 / v < 0);
  const finite = v - v === 0;
  let s = v !== v ? "nan" : finite ? float_body(neg ? -v : v, lc, prec, (flags & F_ALT) !== 0) : "inf";
  if (lc !== conv) s = s.toUpperCase();
  const sign = neg && v === v ? 45 : (flags & F_PLUS) !== 0 ? 43 : (flags & F_SPACE) !== 0 ? 32 : 0;
  put_field(o, flags, width, finite, sign, 0, 0, s, s.length);
}

/** %s: a JS string, an mg_str or a Uint8Array; null and undefined print "(null)". */
function put_s(o: mg_xout, v: any, flags: number, width: number, prec: number): void {
  if (v == null) v = "(null)";
  if (typeof v !== "string" && !mg_is_str(v) && !(v instanceof Uint8Array)) v = String(v);
  let len: number;
  if (typeof v === "string") len = mg_utf8_len(v);
  else len = v instanceof Uint8Array ? v.length : (v as mg_str).len;
  if (prec >= 0 && prec < len) len = prec;
  if ((flags & F_LEFT) === 0) put_n(o, 32, width - len);
  if (typeof v === "string") put_js(o, v, len, MODE_RAW);
  else if (v instanceof Uint8Array) mg_xputb(o, v, 0, len);
  else mg_xputb(o, (v as mg_str).buf, (v as mg_str).ofs, len);
  if ((flags & F_LEFT) !== 0) put_n(o, 32, width - len);
}

/** %c: a number is one byte, as in C; a string gives its first character (UTF-8). */
function put_c(o: mg_xout, v: any, flags: number, width: number): void {
  let len = 1;
  if (typeof v === "string") {
    const c0 = cca.call(v, 0); // NaN when empty (no v.length: heap slots on XS)
    const c = c0 >= 0 ? c0 : 0;
    const lo = cca.call(v, 1);
    len = c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 && lo >= 0xdc00 && lo < 0xe000 ? 4 : 3;
  }
  if ((flags & F_LEFT) === 0) put_n(o, 32, width - len);
  if (typeof v === "string") put_js(o, v, len, MODE_RAW);
  else mg_xputc(o, Number(v) & 255);
  if ((flags & F_LEFT) !== 0) put_n(o, 32, width - len);
}

function isdigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * The engine: formats fmt with the arguments at ap (advancing ap.i) into o.
 * Returns the number of bytes the output takes (o.n grows by as much, even
 * past o.cap). A missing argument prints as 0 or "(null)".
 */
export function mg_vxprintf(o: mg_xout, fmt: string, ap: mg_va): number {
  const start = o.n;
  // The end of fmt is where charCodeAt gives NaN: fmt.length would box the
  // string on XS (2 heap slots a call). Every test below is false for NaN.
  let i = 0;
  for (;;) {
    let c = cca.call(fmt, i++);
    if (!(c >= 0)) break;
    if (c !== 37) {
      if (c < 0x80) {
        if (o.n < o.cap) o.buf[o.ofs + o.n] = c; // mg_xputc inlined: a call per byte is most of the time on XS
        o.n++;
        continue;
      }
      // a non-ASCII character of the format: UTF-8 encode it in place
      if (c >= 0xd800 && c < 0xdc00) {
        const lo = cca.call(fmt, i);
        if (lo >= 0xdc00 && lo < 0xe000) {
          put_cp(o, 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00));
          i++;
          continue;
        }
      }
      put_cp(o, c >= 0xd800 && c < 0xe000 ? 0xfffd : c);
      continue;
    }
    if (!(cca.call(fmt, i) >= 0)) {
      mg_xputc(o, 37); // a lone '%' at the end
      break;
    }
    let flags = 0;
    for (; ; i++) {
      c = cca.call(fmt, i);
      if (c === 45) flags |= F_LEFT;
      else if (c === 48) flags |= F_ZERO;
      else if (c === 35) flags |= F_ALT;
      else if (c === 43) flags |= F_PLUS;
      else if (c === 32) flags |= F_SPACE;
      else break;
    }
    let width = 0;
    if (cca.call(fmt, i) === 42) {
      width = Number(ap.a[ap.i++]) | 0;
      if (width < 0) {
        flags |= F_LEFT; // as C: a negative * width means left-justify
        width = -width;
      }
      i++;
    } else {
      while (isdigit(cca.call(fmt, i))) width = width * 10 + cca.call(fmt, i++) - 48;
    }
    let prec = -1;
    if (cca.call(fmt, i) === 46) {
      i++;
      prec = 0;
      if (cca.call(fmt, i) === 42) {
        prec = Number(ap.a[ap.i++]) | 0;
        if (prec < 0) prec = -1; // as C: a negative * precision is none
        i++;
      } else {
        while (isdigit(cca.call(fmt, i))) prec = prec * 10 + cca.call(fmt, i++) - 48;
      }
    }
    let lmod = 0; // count of 'l' (j and q count as ll)
    for (; ; i++) {
      c = cca.call(fmt, i);
      if (c === 108) lmod++;
      else if (c === 106 || c === 113) lmod = 2;
      else if (c !== 104 && c !== 122 && c !== 116 && c !== 76) break;
    }
    const conv = cca.call(fmt, i++);
    if (!(conv >= 0)) break;
    if (conv === 37) {
      mg_xputc(o, 37);
    } else if (conv === 115) {
      put_s(o, ap.a[ap.i++], flags, width, prec);
    } else if (conv === 100 || conv === 105 || conv === 117 || conv === 120 || conv === 88 || conv === 111 || conv === 112) {
      put_int(o, ap.a[ap.i++], conv, flags, width, prec, lmod);
    } else if (conv === 102 || conv === 101 || conv === 103 || conv === 70 || conv === 69 || conv === 71) {
      put_float(o, ap.a[ap.i++], conv, flags, width, prec);
    } else if (conv === 99) {
      put_c(o, ap.a[ap.i++], flags, width);
    } else if (conv === 77 || conv === 109) {
      const fn = ap.a[ap.i++];
      if (conv === 109) mg_xputc(o, 34);
      if (typeof fn === "function") (fn as mg_pm_t)(o, ap);
      if (conv === 109) mg_xputc(o, 34);
    } else {
      mg_xputc(o, 37); // unknown conversion: printed as written
      mg_xputc(o, conv);
    }
  }
  return o.n - start;
}

function put_cp(o: mg_xout, cp: number): void {
  if (cp < 0x80) return mg_xputc(o, cp);
  const nb = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  const lead = nb === 2 ? 0xc0 : nb === 3 ? 0xe0 : 0xf0;
  for (let m = nb - 1; m >= 0; m--) {
    const v = cp >> (6 * m);
    mg_xputc(o, m === nb - 1 ? lead | v : 0x80 | (v & 63));
  }
}

/** mg_vxprintf with the arguments inline. Allocates the argument list (rest parameters). */
export function mg_xprintf(o: mg_xout, fmt: string, ...args: any[]): number {
  return mg_vxprintf(o, fmt, new mg_va(args, 0));
}

// mg_vsnprintf/mg_snprintf reuse FmtState's sink and argument cursor; a
// printer that calls mg_snprintf from inside one (busy) gets fresh ones.

/**
 * C's vsnprintf: at most len - 1 bytes of output into buf, then a NUL after
 * them (nothing when len is 0). Returns the length the whole output needs, so
 * a result >= len means it was cut. len is clamped to buf.length.
 */
export function mg_vsnprintf(buf: Uint8Array, len: number, fmt: string, ap: mg_va): number {
  if (len > buf.length) len = buf.length;
  const cap = len > 0 ? len - 1 : 0;
  const sc = fmt_state();
  let n: number;
  if (sc.busy) {
    n = mg_vxprintf(new mg_xout(buf, 0, cap), fmt, ap);
  } else {
    const o = sc.out;
    o.buf = buf;
    o.ofs = 0;
    o.cap = cap;
    o.n = 0;
    sc.busy = true;
    try {
      n = mg_vxprintf(o, fmt, ap);
    } finally {
      sc.busy = false;
      o.buf = EMPTY; // keep no reference to the caller's buffer
    }
  }
  if (len > 0) buf[n < len ? n : len - 1] = 0;
  return n;
}

/**
 * snprintf: mg_snprintf(buf, 3, "%s", "0123456789") returns 10 and leaves
 * "01" and a NUL in buf. On XS it costs the rest parameters (2 heap slots);
 * mg_vsnprintf/mg_vxprintf with an mg_va made once cost none.
 */
export function mg_snprintf(buf: Uint8Array, len: number, fmt: string, ...args: any[]): number {
  const sc = fmt_state();
  if (sc.busy) return mg_vsnprintf(buf, len, fmt, new mg_va(args, 0));
  const ap = sc.ap;
  ap.a = args;
  ap.i = 0;
  try {
    return mg_vsnprintf(buf, len, fmt, ap);
  } finally {
    ap.a = NOARGS;
  }
}

/**
 * Formats into a new JS string (Mongoose's mg_mprintf returns a heap string).
 * It formats twice, measuring then writing, so printers must be repeatable.
 */
export function mg_mprintf(fmt: string, ...args: any[]): string {
  const ap = new mg_va(args, 0);
  const n = mg_vxprintf(new mg_xout(), fmt, ap);
  const b = new Uint8Array(n);
  ap.i = 0;
  mg_vxprintf(new mg_xout(b, 0, n), fmt, ap);
  return mg_utf8_decode(b, 0, n);
}

// --- printers for %M and %m --------------------------------------------------

/** (len, s): s is a string, mg_str or Uint8Array, len 0 means all of it. */
function print_text(o: mg_xout, ap: mg_va, mode: number): number {
  const start = o.n;
  const len = Number(ap.a[ap.i++]) | 0;
  const v = ap.a[ap.i++];
  if (typeof v === "string") put_js(o, v, len > 0 ? len : 0x7fffffff, mode);
  else if (v instanceof Uint8Array) put_bytes(o, v, 0, len > 0 && len < v.length ? len : v.length, mode);
  else if (mg_is_str(v)) put_bytes(o, v.buf, v.ofs, len > 0 && len < v.len ? len : v.len, mode);
  return o.n - start;
}

/**
 * JSON string escaping of args (len, s): s is a string, mg_str or Uint8Array
 * and len (bytes) 0 means all of it. Escapes " \ \b \f \n \r \t and other
 * control bytes (\u00XX); not '. With %m it makes a JSON string: MG_ESC(s).
 */
export function mg_print_esc(o: mg_xout, ap: mg_va): number {
  return print_text(o, ap, MODE_JSON);
}

/** HTML escaping of args (len, s), as mg_print_esc: & < > " ' become entities. */
export function mg_print_html_esc(o: mg_xout, ap: mg_va): number {
  return print_text(o, ap, MODE_HTML);
}

/** The %m arguments that print s as a JSON string: mg_snprintf(b, n, "%m", ...MG_ESC(s)). Allocates the array. */
export function MG_ESC(s: string | mg_str): [mg_pm_t, number, string | mg_str] {
  return [mg_print_esc, 0, s];
}

// (len, bytes): bytes is a Uint8Array (from index 0) or an mg_str; len is
// clamped to what there is. Read into FmtState's bytes_b and bytes_o, not
// into a new object.
function bytes_arg(ap: mg_va, st: FmtState): number {
  let len = Number(ap.a[ap.i++]) | 0;
  const v = ap.a[ap.i++];
  if (v instanceof Uint8Array) {
    st.bytes_b = v;
    st.bytes_o = 0;
    if (len > v.length) len = v.length;
  } else if (mg_is_str(v)) {
    st.bytes_b = v.buf;
    st.bytes_o = v.ofs;
    if (len > v.len) len = v.len;
  } else {
    st.bytes_b = EMPTY;
    len = 0;
  }
  return len < 0 ? 0 : len;
}

/** Base64 (padded) of args (len, bytes). */
export function mg_print_base64(o: mg_xout, ap: mg_va): number {
  const start = o.n;
  const st = fmt_state();
  const len = bytes_arg(ap, st);
  const b = st.bytes_b, ofs = st.bytes_o;
  st.bytes_b = EMPTY; // do not keep the caller's buffer alive
  for (let i = 0; i < len; i += 3) {
    const a0 = b[ofs + i];
    const a1 = i + 1 < len ? b[ofs + i + 1] : 0;
    const a2 = i + 2 < len ? b[ofs + i + 2] : 0;
    mg_xputc(o, mg_base64_char(a0 >> 2, false));
    mg_xputc(o, mg_base64_char(((a0 & 3) << 4) | (a1 >> 4), false));
    mg_xputc(o, i + 1 < len ? mg_base64_char(((a1 & 15) << 2) | (a2 >> 6), false) : 61);
    mg_xputc(o, i + 2 < len ? mg_base64_char(a2 & 63, false) : 61);
  }
  return o.n - start;
}

/** Lowercase hex of args (len, bytes). */
export function mg_print_hex(o: mg_xout, ap: mg_va): number {
  const start = o.n;
  const st = fmt_state();
  const len = bytes_arg(ap, st);
  const b = st.bytes_b, ofs = st.bytes_o;
  st.bytes_b = EMPTY;
  for (let i = 0; i < len; i++) {
    mg_xputc(o, hexc(b[ofs + i] >> 4, false));
    mg_xputc(o, hexc(b[ofs + i] & 15, false));
  }
  return o.n - start;
}

function ip4(o: mg_xout, b: Uint8Array): void {
  for (let k = 0; k < 4; k++) {
    if (k > 0) mg_xputc(o, 46);
    put_udec(o, b[k]);
  }
}

/** [x:x:x:x:x:x:x:x]: eight groups in lowercase hex, no :: compression, as Mongoose. */
function ip6(o: mg_xout, b: Uint8Array): void {
  mg_xputc(o, 91);
  for (let k = 0; k < 8; k++) {
    if (k > 0) mg_xputc(o, 58);
    const v = (b[2 * k] << 8) | b[2 * k + 1];
    for (let sh = 12, started = false; sh >= 0; sh -= 4) {
      const d = (v >> sh) & 15;
      if (d === 0 && !started && sh > 0) continue;
      started = true;
      mg_xputc(o, hexc(d, false));
    }
  }
  mg_xputc(o, 93);
}

/** An IPv4 address, a.b.c.d: arg Uint8Array (its first 4 bytes). */
export function mg_print_ip4(o: mg_xout, ap: mg_va): number {
  const start = o.n;
  ip4(o, ap.a[ap.i++] as Uint8Array);
  return o.n - start;
}

/** An IPv6 address in brackets: arg Uint8Array (16 bytes). */
export function mg_print_ip6(o: mg_xout, ap: mg_va): number {
  const start = o.n;
  ip6(o, ap.a[ap.i++] as Uint8Array);
  return o.n - start;
}

/** The IP of an mg_addr: a.b.c.d, or [x:x:...] for IPv6. */
export function mg_print_ip(o: mg_xout, ap: mg_va): number {
  const start = o.n;
  const a = ap.a[ap.i++] as mg_addr;
  if (a.is_ip6) ip6(o, a.ip);
  else ip4(o, a.ip);
  return o.n - start;
}

/** IP and port of an mg_addr: a.b.c.d:port or [x:x:...]:port (port in host order). */
export function mg_print_ip_port(o: mg_xout, ap: mg_va): number {
  const start = o.n;
  const a = ap.a[ap.i++] as mg_addr;
  if (a.is_ip6) ip6(o, a.ip);
  else ip4(o, a.ip);
  mg_xputc(o, 58);
  put_udec(o, a.port);
  return o.n - start;
}

/** A MAC address aa:bb:cc:dd:ee:ff: arg Uint8Array (its first 6 bytes). */
export function mg_print_mac(o: mg_xout, ap: mg_va): number {
  const start = o.n;
  const b = ap.a[ap.i++] as Uint8Array;
  for (let k = 0; k < 6; k++) {
    if (k > 0) mg_xputc(o, 58);
    mg_xputc(o, hexc(b[k] >> 4, false));
    mg_xputc(o, hexc(b[k] & 15, false));
  }
  return o.n - start;
}
