// printf (Mongoose's fmt.c / printf.c): one engine, mg_vxprintf, writing into
// a byte sink; mg_snprintf, mg_printf, mg_http_reply, the log and the
// WebSocket printf are all built on it.
//
// Specifiers: %c %s %d %i %u %x %X %o %p %f %e %g %%, flags # - 0 +, space,
// width, .precision and *; h hh l ll z accepted (JS numbers need no width).
// %s takes a string or an mg_str (null prints "(null)"); %.*s takes a length.
// %M takes a printer function (mg_pm_t) and whatever it consumes; %m does the
// same inside double quotes: mg_printf(c, "{%m:%d}", mg_print_esc, 0, "key", 1).
import type { mg_addr } from "./net.js";
import { mg_is_str, mg_str, mg_utf8_put } from "./str.js";

const cca = String.prototype.charCodeAt;

/**
 * A byte sink: byte k goes to buf[ofs + k] while k < cap; n counts every
 * byte, so n > cap means the output was cut (snprintf semantics).
 */
export class mg_xout {
  buf: Uint8Array = EMPTY;
  ofs = 0;
  cap = 0;
  n = 0;
}
const EMPTY = new Uint8Array(0);

/** An argument cursor: C's va_list. */
export class mg_va {
  a: ArrayLike<any> = NONE;
  i = 0;
}
const NONE: any[] = [];

/** A %M / %m printer: takes its arguments from ap, writes to o, returns the bytes written. */
export type mg_pm_t = (o: mg_xout, ap: mg_va) => number;

export function mg_xputc(o: mg_xout, ch: number): void {
  if (o.n < o.cap) o.buf[o.ofs + o.n] = ch;
  o.n++;
}

/** Writes a JS string as UTF-8. */
export function mg_xputs(o: mg_xout, s: string): void {
  const room = o.cap - o.n;
  const n = mg_utf8_put(s, o.buf, o.ofs + o.n, room > 0 ? room : 0);
  o.n += n;
}

export function mg_xputb(o: mg_xout, buf: Uint8Array, ofs: number, len: number): void {
  for (let i = 0; i < len; i++) {
    if (o.n < o.cap) o.buf[o.ofs + o.n] = buf[ofs + i];
    o.n++;
  }
}

function pad(o: mg_xout, ch: number, n: number): void {
  for (let i = 0; i < n; i++) mg_xputc(o, ch);
}

const DIGITS = "0123456789abcdef0123456789ABCDEF";

/** Length a string (or mg_str, bytes) takes as UTF-8, limited to prec bytes when prec >= 0. */
function str_len(v: any, prec: number): number {
  let n: number;
  if (typeof v === "string") {
    n = 0;
    for (let i = 0; i < v.length; i++) {
      const c = cca.call(v, i);
      n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 ? (i++, 4) : 3;
    }
  } else n = v.len;
  return prec >= 0 && prec < n ? prec : n;
}

function put_str(o: mg_xout, v: any, len: number): void {
  if (typeof v === "string") {
    // write into a bounded window so a precision cuts the string
    const room = o.cap - o.n;
    const cap = room < len ? (room > 0 ? room : 0) : len;
    mg_utf8_put(v, o.buf, o.ofs + o.n, cap);
    o.n += len;
  } else {
    mg_xputb(o, v.buf, v.ofs, len);
  }
}

/** Integer digits of |v| in base, into o, honouring precision (minimum digits). */
function int_digits(v: number, base: number, upper: boolean, prec: number, scratch: Uint8Array): number {
  let n = 0;
  const off = upper ? 16 : 0;
  if (v === 0) {
    if (prec !== 0) scratch[n++] = 48;
  } else {
    while (v > 0) {
      const d = v % base;
      scratch[n++] = cca.call(DIGITS, off + d);
      v = Math.floor(v / base);
    }
  }
  while (n < prec && n < scratch.length) scratch[n++] = 48;
  return n;
}

class Scratch {
  digits: Uint8Array | null = null;
}
const SCRATCH = new Scratch();

function format_float(v: number, conv: number, prec: number, alt: boolean): string {
  if (v !== v) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  const p = prec < 0 ? 6 : prec;
  const a = Math.abs(v);
  let s: string;
  if (conv === 102) s = a.toFixed(p > 100 ? 100 : p);
  else if (conv === 101) s = exp_c(a.toExponential(p > 100 ? 100 : p));
  else {
    // %g: the shorter of %e and %f with p significant digits, trailing zeros dropped
    const P = p === 0 ? 1 : p;
    const e = a === 0 ? 0 : Math.floor(Math.log10(a));
    let x = a.toExponential(P - 1);
    const ex = Number(x.slice(x.indexOf("e") + 1));
    if (ex < -4 || ex >= P) s = exp_c(alt ? x : strip_zeros_exp(x));
    else {
      s = a.toFixed(Math.max(0, P - 1 - ex));
      if (!alt && s.indexOf(".") >= 0) s = s.replace(/\.?0+$/, "");
    }
    void e;
  }
  return v < 0 || (v === 0 && 1 / v < 0) ? "-" + s : s;
}
function strip_zeros_exp(x: string): string {
  const k = x.indexOf("e");
  let m = x.slice(0, k);
  if (m.indexOf(".") >= 0) m = m.replace(/\.?0+$/, "");
  return m + x.slice(k);
}
function exp_c(x: string): string {
  // JS writes 1e+5; C writes 1e+05
  const k = x.indexOf("e");
  const sign = x.charAt(k + 1);
  const digits = x.slice(k + 2);
  return x.slice(0, k) + "e" + sign + (digits.length < 2 ? "0" + digits : digits);
}

/** The engine. Returns the number of bytes the output takes (o.n grows by that much). */
export function mg_vxprintf(o: mg_xout, fmt: string, ap: mg_va): number {
  const start = o.n;
  const n = fmt.length;
  let i = 0;
  while (i < n) {
    const c = cca.call(fmt, i);
    if (c !== 37) {
      if (c < 0x80) mg_xputc(o, c);
      else {
        // a non-ASCII character (a surrogate pair stays together)
        const pair = c >= 0xd800 && c < 0xdc00 && i + 1 < n;
        mg_xputs(o, fmt.slice(i, pair ? i + 2 : i + 1));
        if (pair) i++;
      }
      i++;
      continue;
    }
    i++;
    if (i >= n) break;
    // flags
    let left = false, zero = false, alt = false, plus = false, space = false;
    for (;;) {
      const f = cca.call(fmt, i);
      if (f === 45) left = true;
      else if (f === 48) zero = true;
      else if (f === 35) alt = true;
      else if (f === 43) plus = true;
      else if (f === 32) space = true;
      else break;
      i++;
    }
    // width
    let width = 0;
    if (cca.call(fmt, i) === 42) {
      width = Number(ap.a[ap.i++]) | 0;
      if (width < 0) {
        left = true;
        width = -width;
      }
      i++;
    } else {
      while (i < n && cca.call(fmt, i) >= 48 && cca.call(fmt, i) <= 57) width = width * 10 + cca.call(fmt, i++) - 48;
    }
    // precision
    let prec = -1;
    if (cca.call(fmt, i) === 46) {
      i++;
      prec = 0;
      if (cca.call(fmt, i) === 42) {
        prec = Number(ap.a[ap.i++]) | 0;
        i++;
      } else {
        while (i < n && cca.call(fmt, i) >= 48 && cca.call(fmt, i) <= 57) prec = prec * 10 + cca.call(fmt, i++) - 48;
      }
    }
    // length modifiers: accepted and ignored (h hh l ll z j t L q)
    for (;;) {
      const m = cca.call(fmt, i);
      if (m === 104 || m === 108 || m === 122 || m === 106 || m === 116 || m === 76 || m === 113) i++;
      else break;
    }
    const conv = cca.call(fmt, i++);
    if (conv === 37) {
      mg_xputc(o, 37);
    } else if (conv === 99) {
      // %c
      const v = ap.a[ap.i++];
      const ch = typeof v === "string" ? cca.call(v, 0) : Number(v);
      if (!left) pad(o, 32, width - 1);
      mg_xputc(o, ch & 255);
      if (left) pad(o, 32, width - 1);
    } else if (conv === 115) {
      // %s
      let v = ap.a[ap.i++];
      if (v == null) v = "(null)";
      else if (typeof v !== "string" && !mg_is_str(v)) v = String(v);
      const len = str_len(v, prec);
      if (!left) pad(o, 32, width - len);
      put_str(o, v, len);
      if (left) pad(o, 32, width - len);
    } else if (conv === 100 || conv === 105 || conv === 117 || conv === 120 || conv === 88 || conv === 111 || conv === 112 || conv === 98) {
      const raw = ap.a[ap.i++];
      let v = typeof raw === "bigint" ? Number(raw) : Number(raw);
      if (v !== v) v = 0;
      v = Math.trunc(v);
      const base = conv === 120 || conv === 88 || conv === 112 ? 16 : conv === 111 ? 8 : conv === 98 ? 2 : 10;
      const signed = conv === 100 || conv === 105;
      let neg = false;
      if (v < 0) {
        if (signed) {
          neg = true;
          v = -v;
        } else v = v >= -0x80000000 ? v + 0x100000000 : v + 2 ** 64; // C's unsigned view
      }
      SCRATCH.digits ??= new Uint8Array(80);
      const d = SCRATCH.digits;
      const nd = int_digits(v, base, conv === 88, prec, d);
      let prefix = 0; // 1 sign, 2 "0x"
      let sign = 0;
      if (neg) sign = 45;
      else if (signed && plus) sign = 43;
      else if (signed && space) sign = 32;
      if (sign !== 0) prefix = 1;
      const hex_prefix = (alt && (conv === 120 || conv === 88) && v !== 0) || conv === 112;
      if (hex_prefix) prefix += 2;
      const zero_pad = zero && !left && prec < 0;
      const total = nd + prefix;
      if (!left && !zero_pad) pad(o, 32, width - total);
      if (sign !== 0) mg_xputc(o, sign);
      if (hex_prefix) {
        mg_xputc(o, 48);
        mg_xputc(o, conv === 88 ? 88 : 120);
      }
      if (zero_pad) pad(o, 48, width - total);
      for (let k = nd - 1; k >= 0; k--) mg_xputc(o, d[k]);
      if (left) pad(o, 32, width - total);
    } else if (conv === 102 || conv === 101 || conv === 103 || conv === 70 || conv === 69 || conv === 71) {
      const v = Number(ap.a[ap.i++]);
      const lc = conv | 32;
      let s = format_float(v, lc, prec, alt);
      if (conv !== lc) s = s.toUpperCase();
      if (plus && v >= 0) s = "+" + s;
      else if (space && v >= 0) s = " " + s;
      const finite = v === v && v !== Infinity && v !== -Infinity;
      if (zero && !left && finite && s.length < width) {
        const signed = s.charCodeAt(0) === 45 || s.charCodeAt(0) === 43 || s.charCodeAt(0) === 32;
        if (signed) mg_xputc(o, s.charCodeAt(0));
        pad(o, 48, width - s.length);
        mg_xputs(o, signed ? s.slice(1) : s);
      } else {
        if (!left) pad(o, 32, width - s.length);
        mg_xputs(o, s);
        if (left) pad(o, 32, width - s.length);
      }
    } else if (conv === 77 || conv === 109) {
      // %M / %m: a printer function
      const fn = ap.a[ap.i++] as mg_pm_t;
      if (conv === 109) mg_xputc(o, 34);
      if (typeof fn === "function") fn(o, ap);
      if (conv === 109) mg_xputc(o, 34);
    } else {
      // unknown: print it as is
      mg_xputc(o, 37);
      mg_xputc(o, conv);
    }
  }
  return o.n - start;
}

/** mg_vxprintf with arguments. */
export function mg_xprintf(o: mg_xout, fmt: string, ...args: any[]): number {
  const ap = new mg_va();
  ap.a = args;
  return mg_vxprintf(o, fmt, ap);
}

/**
 * Formats into buf (at most len bytes, NUL-terminated when the result fits,
 * as Mongoose). Returns the length the whole result needs.
 */
export function mg_snprintf(buf: Uint8Array, len: number, fmt: string, ...args: any[]): number {
  return mg_vsnprintf(buf, len, fmt, args);
}

export function mg_vsnprintf(buf: Uint8Array, len: number, fmt: string, args: ArrayLike<any>): number {
  const o = new mg_xout();
  o.buf = buf;
  o.ofs = 0;
  o.cap = len < buf.length ? len : buf.length;
  const ap = new mg_va();
  ap.a = args;
  const n = mg_vxprintf(o, fmt, ap);
  if (n < o.cap) buf[n] = 0;
  else if (o.cap > 0) buf[o.cap - 1] = 0;
  return n;
}

/** Formats into a new JS string (Mongoose's mg_mprintf returns a heap string). */
export function mg_mprintf(fmt: string, ...args: any[]): string {
  const ap = new mg_va();
  ap.a = args;
  const probe = new mg_xout();
  const n = mg_vxprintf(probe, fmt, ap);
  const b = new Uint8Array(n);
  const o = new mg_xout();
  o.buf = b;
  o.cap = n;
  ap.i = 0;
  mg_vxprintf(o, fmt, ap);
  let s = "";
  // decode UTF-8
  for (let i = 0; i < n; ) {
    const c = b[i];
    let cp = c;
    let k = 1;
    if (c >= 0xf0) {
      cp = ((c & 7) << 18) | ((b[i + 1] & 63) << 12) | ((b[i + 2] & 63) << 6) | (b[i + 3] & 63);
      k = 4;
    } else if (c >= 0xe0) {
      cp = ((c & 15) << 12) | ((b[i + 1] & 63) << 6) | (b[i + 2] & 63);
      k = 3;
    } else if (c >= 0xc0) {
      cp = ((c & 31) << 6) | (b[i + 1] & 63);
      k = 2;
    }
    s += String.fromCodePoint(cp);
    i += k;
  }
  return s;
}

// --- printers for %M and %m ---------------------------------------------------

function str_arg(ap: mg_va): { v: any; len: number } {
  const len = Number(ap.a[ap.i++]) | 0;
  const v = ap.a[ap.i++];
  return { v, len };
}

/**
 * JSON string escaping: args (len, s) where s is a string or mg_str and len 0
 * means all of it. Use with %m for a quoted JSON string: MG_ESC("x").
 */
export function mg_print_esc(o: mg_xout, ap: mg_va): number {
  const { v, len } = str_arg(ap);
  const start = o.n;
  if (v == null) return 0;
  if (typeof v === "string") {
    const n = len > 0 && len < v.length ? len : v.length;
    for (let i = 0; i < n; i++) {
      const c = cca.call(v, i);
      if (c < 0x80) esc_byte(o, c);
      else mg_xputs(o, v.charAt(i) + (c >= 0xd800 && c < 0xdc00 && i + 1 < n ? v.charAt(++i) : ""));
    }
  } else {
    const s = v as mg_str;
    const n = len > 0 && len < s.len ? len : s.len;
    for (let i = 0; i < n; i++) esc_byte(o, s.buf[s.ofs + i]);
  }
  return o.n - start;
}
function esc_byte(o: mg_xout, c: number): void {
  let e = 0;
  if (c === 8) e = 98;
  else if (c === 9) e = 116;
  else if (c === 10) e = 110;
  else if (c === 12) e = 102;
  else if (c === 13) e = 114;
  else if (c === 34) e = 34;
  else if (c === 92) e = 92;
  if (e !== 0) {
    mg_xputc(o, 92);
    mg_xputc(o, e);
  } else if (c < 32) {
    mg_xputs(o, "\\u00");
    mg_xputc(o, cca.call(DIGITS, c >> 4));
    mg_xputc(o, cca.call(DIGITS, c & 15));
  } else mg_xputc(o, c);
}

/** HTML escaping (& < > " '): args (len, s). */
export function mg_print_html_esc(o: mg_xout, ap: mg_va): number {
  const { v, len } = str_arg(ap);
  const start = o.n;
  const s = typeof v === "string" ? v : String(v);
  const n = len > 0 && len < s.length ? len : s.length;
  for (let i = 0; i < n; i++) {
    const c = cca.call(s, i);
    if (c === 38) mg_xputs(o, "&amp;");
    else if (c === 60) mg_xputs(o, "&lt;");
    else if (c === 62) mg_xputs(o, "&gt;");
    else if (c === 34) mg_xputs(o, "&quot;");
    else if (c === 39) mg_xputs(o, "&#39;");
    else if (c < 0x80) mg_xputc(o, c);
    else mg_xputs(o, s.charAt(i));
  }
  return o.n - start;
}

/** MG_ESC(s): the arguments for %m that print s as a JSON string: mg_printf(c, "%m", ...MG_ESC(s)). */
export function MG_ESC(s: string | mg_str): [mg_pm_t, number, string | mg_str] {
  return [mg_print_esc, 0, s];
}

function bytes_arg(ap: mg_va): { b: Uint8Array; ofs: number; len: number } {
  const len = Number(ap.a[ap.i++]) | 0;
  const v = ap.a[ap.i++];
  if (v instanceof Uint8Array) return { b: v, ofs: 0, len };
  const s = v as mg_str;
  return { b: s.buf, ofs: s.ofs, len };
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Base64 of bytes: args (len, Uint8Array or mg_str). */
export function mg_print_base64(o: mg_xout, ap: mg_va): number {
  const { b, ofs, len } = bytes_arg(ap);
  const start = o.n;
  for (let i = 0; i < len; i += 3) {
    const a0 = b[ofs + i];
    const a1 = i + 1 < len ? b[ofs + i + 1] : 0;
    const a2 = i + 2 < len ? b[ofs + i + 2] : 0;
    mg_xputc(o, cca.call(B64, a0 >> 2));
    mg_xputc(o, cca.call(B64, ((a0 & 3) << 4) | (a1 >> 4)));
    mg_xputc(o, i + 1 < len ? cca.call(B64, ((a1 & 15) << 2) | (a2 >> 6)) : 61);
    mg_xputc(o, i + 2 < len ? cca.call(B64, a2 & 63) : 61);
  }
  return o.n - start;
}

/** Lowercase hex of bytes: args (len, Uint8Array or mg_str). */
export function mg_print_hex(o: mg_xout, ap: mg_va): number {
  const { b, ofs, len } = bytes_arg(ap);
  const start = o.n;
  for (let i = 0; i < len; i++) {
    mg_xputc(o, cca.call(DIGITS, b[ofs + i] >> 4));
    mg_xputc(o, cca.call(DIGITS, b[ofs + i] & 15));
  }
  return o.n - start;
}

function put_dec(o: mg_xout, v: number): void {
  if (v >= 10) put_dec(o, Math.floor(v / 10));
  mg_xputc(o, 48 + (v % 10));
}
function put_hex16(o: mg_xout, v: number): void {
  let started = false;
  for (let k = 12; k >= 0; k -= 4) {
    const d = (v >> k) & 15;
    if (d !== 0 || started || k === 0) {
      mg_xputc(o, cca.call(DIGITS, d));
      started = true;
    }
  }
}

function ip4(o: mg_xout, b: Uint8Array, ofs: number): void {
  for (let k = 0; k < 4; k++) {
    if (k > 0) mg_xputc(o, 46);
    put_dec(o, b[ofs + k]);
  }
}
function ip6(o: mg_xout, b: Uint8Array, ofs: number): void {
  // eight groups, no :: compression (as Mongoose prints them)
  for (let k = 0; k < 8; k++) {
    if (k > 0) mg_xputc(o, 58);
    put_hex16(o, (b[ofs + 2 * k] << 8) | b[ofs + 2 * k + 1]);
  }
}

/** An IPv4 address: arg Uint8Array (4 bytes). */
export function mg_print_ip4(o: mg_xout, ap: mg_va): number {
  const start = o.n;
  ip4(o, ap.a[ap.i++] as Uint8Array, 0);
  return o.n - start;
}
/** An IPv6 address: arg Uint8Array (16 bytes). */
export function mg_print_ip6(o: mg_xout, ap: mg_va): number {
  const start = o.n;
  ip6(o, ap.a[ap.i++] as Uint8Array, 0);
  return o.n - start;
}
/** The IP of an mg_addr: a.b.c.d, or [x:x:...] for IPv6. */
export function mg_print_ip(o: mg_xout, ap: mg_va): number {
  const a = ap.a[ap.i++] as mg_addr;
  const start = o.n;
  if (a.is_ip6) {
    mg_xputc(o, 91);
    ip6(o, a.ip, 0);
    mg_xputc(o, 93);
  } else ip4(o, a.ip, 0);
  return o.n - start;
}
/** IP and port of an mg_addr: a.b.c.d:port or [x:...]:port. */
export function mg_print_ip_port(o: mg_xout, ap: mg_va): number {
  const a = ap.a[ap.i] as mg_addr;
  const start = o.n;
  mg_print_ip(o, ap);
  mg_xputc(o, 58);
  put_dec(o, a.port);
  return o.n - start;
}
/** A MAC address aa:bb:cc:dd:ee:ff: arg Uint8Array (6 bytes). */
export function mg_print_mac(o: mg_xout, ap: mg_va): number {
  const b = ap.a[ap.i++] as Uint8Array;
  const start = o.n;
  for (let k = 0; k < 6; k++) {
    if (k > 0) mg_xputc(o, 58);
    mg_xputc(o, cca.call(DIGITS, b[k] >> 4));
    mg_xputc(o, cca.call(DIGITS, b[k] & 15));
  }
  return o.n - start;
}
