// URLs (Mongoose's url.c) and address parsing (mg_aton).
//
// A URL is scheme://user:pass@host:port/uri; every part is optional. The
// getters take a string or an mg_str and return views (mg_str) into its
// bytes, as Mongoose returns pointers into the char *. A string argument is
// UTF-8 encoded first (an allocation): pass an mg_str on hot paths, and an
// `out` mg_str to be filled instead of a new one.
import type { mg_addr } from "./addr.js";
import { mg_is_str, mg_str, mg_str_n, mg_str_set } from "./str.js";

const cca = String.prototype.charCodeAt;
const SLASH = new Uint8Array([47]); // read only (flash on a device): the "/" of mg_url_uri

// The parts of the last URL split: positions in buf, -1 when absent.
class Parts {
  buf: Uint8Array = SLASH;
  ofs = 0; // start of the URL
  end = 0;
  host = 0; // start of the authority's host
  hend = 0; // end of the host (':' of the port, or the end of the authority)
  user = -1; // start of the user name (the authority's start) when there is an '@'
  at = -1; // the '@'
  port = -1; // first digit of the port, after ':'
  uri = -1; // the '/' starting the path
}
/** split's result, reused: run-time state (config.ts: module state). */
function url_state(): Parts {
  return ((globalThis as any).mgts_url ??= new Parts());
}

function split(url: string | mg_str): Parts {
  const s = mg_is_str(url) ? url : mg_str(url);
  const b = s.buf;
  const end = s.ofs + s.len;
  // The authority starts after "scheme://" or a leading "//", else at the
  // start. Difference from Mongoose, on purpose: a '/' with no "//" before it
  // starts the path ("foo/bar" is host "foo", uri "/bar"), where Mongoose
  // takes all of "foo/bar" as the host and "/" as the uri.
  let a = s.ofs;
  if (end - a >= 2 && b[a] === 47 && b[a + 1] === 47) a += 2;
  else {
    for (let i = s.ofs; i + 2 < end; i++) {
      if (b[i] === 58 && b[i + 1] === 47 && b[i + 2] === 47) {
        a = i + 3;
        break;
      }
      if (b[i] === 47) break; // a path came first: no scheme
    }
  }
  let aend = a; // the authority ends at the path ('@' after it is ignored)
  while (aend < end && b[aend] !== 47) aend++;
  const P = url_state();
  P.buf = b;
  P.ofs = s.ofs;
  P.end = end;
  P.uri = aend < end ? aend : -1;
  P.at = -1;
  for (let i = a; i < aend; i++) if (b[i] === 64) P.at = i; // the last '@': a password may hold one
  P.user = P.at >= 0 ? a : -1;
  P.host = P.at >= 0 ? P.at + 1 : a;
  P.port = -1;
  P.hend = aend;
  let bracket = false; // an IPv6 literal's colons are not the port's
  for (let i = P.host; i < aend; i++) {
    if (b[i] === 91) bracket = true;
    else if (b[i] === 93) bracket = false;
    else if (b[i] === 58 && !bracket) {
      P.hend = i;
      P.port = i + 1;
      break;
    }
  }
  return P;
}

function view(b: Uint8Array, ofs: number, len: number, out: mg_str | undefined): mg_str {
  if (out !== undefined) return mg_str_set(out, b, ofs, len);
  return mg_str_n(b, ofs, len);
}

/** The host, without the port; an IPv6 literal keeps its brackets ("[::1]"). */
export function mg_url_host(url: string | mg_str, out?: mg_str): mg_str {
  const p = split(url);
  return view(p.buf, p.host, p.hend - p.host, out);
}

/** The user name of user:pass@, or empty. */
export function mg_url_user(url: string | mg_str, out?: mg_str): mg_str {
  const p = split(url);
  if (p.user < 0) return view(p.buf, p.ofs, 0, out);
  let e = p.user;
  while (e < p.at && p.buf[e] !== 58) e++;
  return view(p.buf, p.user, e - p.user, out);
}

/** The password of user:pass@, or empty. */
export function mg_url_pass(url: string | mg_str, out?: mg_str): mg_str {
  const p = split(url);
  if (p.user < 0) return view(p.buf, p.ofs, 0, out);
  let c = p.user;
  while (c < p.at && p.buf[c] !== 58) c++;
  return c < p.at ? view(p.buf, c + 1, p.at - c - 1, out) : view(p.buf, p.ofs, 0, out);
}

/** The path and the rest ("/a?b#c"), or "/" when the URL has none. */
export function mg_url_uri(url: string | mg_str, out?: mg_str): mg_str {
  const p = split(url);
  if (p.uri < 0) return view(SLASH, 0, 1, out);
  return view(p.buf, p.uri, p.end - p.uri, out);
}

/** Whether the URL starts with the ASCII word w (case-insensitive). */
function starts(p: Parts, w: string): boolean {
  let i = 0;
  for (let c = cca.call(w, 0); c >= 0; c = cca.call(w, ++i)) {
    if (p.ofs + i >= p.end || (p.buf[p.ofs + i] | 32) !== (c | 32)) return false;
  }
  return true;
}

/**
 * The port: the explicit one wins (its leading digits; 0 if there are none
 * or it exceeds 65535), else the scheme's: http and ws 80, https and wss 443,
 * mqtt 1883, mqtts 8883, anything else 0.
 */
export function mg_url_port(url: string | mg_str): number {
  const p = split(url);
  if (p.port >= 0) {
    let v = 0;
    for (let i = p.port; i < p.end && p.buf[i] >= 48 && p.buf[i] <= 57; i++) v = v * 10 + p.buf[i] - 48;
    return v > 65535 ? 0 : v;
  }
  if (starts(p, "http:") || starts(p, "ws:")) return 80;
  if (starts(p, "https:") || starts(p, "wss:")) return 443;
  if (starts(p, "mqtt:")) return 1883;
  if (starts(p, "mqtts:")) return 8883;
  return 0;
}

/** True for the TLS schemes: wss: https: mqtts: ssl: tls: tcps: (case-insensitive). */
export function mg_url_is_ssl(url: string | mg_str): boolean {
  const p = split(url);
  return starts(p, "wss:") || starts(p, "https:") || starts(p, "mqtts:") || starts(p, "ssl:") || starts(p, "tls:") || starts(p, "tcps:");
}

// --- mg_aton -------------------------------------------------------------------

function hexv(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  c |= 32;
  return c >= 97 && c <= 102 ? c - 87 : -1;
}

/** a.b.c.d in b[i..end) into ip[at..at+4); false unless exactly four parts of 0-255. */
function aton4(b: Uint8Array, i: number, end: number, ip: Uint8Array, at: number): boolean {
  let part = 0, digits = 0, v = 0;
  for (; i <= end; i++) {
    const c = i < end ? b[i] : 46; // the end closes the last part like a dot
    if (c >= 48 && c <= 57) {
      v = v * 10 + c - 48;
      if (++digits > 3 || v > 255) return false;
    } else if (c === 46) {
      if (digits === 0 || part > 3) return false;
      ip[at + part++] = v;
      v = 0;
      digits = 0;
    } else return false;
  }
  return part === 4;
}

/**
 * IPv6 in b[i..end), brackets and a %scope already removed: hex groups, one
 * "::", and a dotted IPv4 tail (::ffff:1.2.3.4). Writes the 16 bytes of ip.
 */
function aton6(b: Uint8Array, i: number, end: number, ip: Uint8Array): boolean {
  let n = 0; // bytes written
  let gap = -1; // where "::" stands, in bytes
  if (end - i >= 2 && b[i] === 58 && b[i + 1] === 58) {
    gap = 0;
    i += 2;
  }
  while (i < end) {
    // one group: hex digits, or the IPv4 tail
    let k = i, v = 0;
    while (k < end && k - i < 5 && hexv(b[k]) >= 0) v = (v << 4) | hexv(b[k++]);
    if (k < end && b[k] === 46) {
      if (n > 12 || !aton4(b, i, end, ip, n)) return false;
      n += 4;
      i = end;
      break;
    }
    if (k === i || k - i > 4 || n > 14) return false;
    ip[n++] = v >> 8;
    ip[n++] = v & 255;
    i = k;
    if (i === end) break;
    if (b[i] !== 58) return false;
    i++;
    if (i < end && b[i] === 58) {
      if (gap >= 0) return false; // a second "::"
      gap = n;
      i++;
    } else if (i === end) return false; // a trailing single ':'
  }
  if (gap < 0) return n === 16;
  if (n > 14) return false; // "::" stands for at least one group
  ip.copyWithin(16 - (n - gap), gap, n); // move the tail to the end, zero the gap
  ip.fill(0, gap, 16 - (n - gap));
  return true;
}

/**
 * Parses an IP address into addr (ip, is_ip6, scope_id; port untouched):
 * "" (0.0.0.0), "localhost" (127.0.0.1), a.b.c.d, or IPv6 with "::", in
 * brackets or not, with a numeric %scope, or with an IPv4 tail
 * (::ffff:1.2.3.4 stays an IPv6 address, as Mongoose). Host names are not
 * resolved. Returns false, and zeroes addr.ip, when s is none of these.
 */
export function mg_aton(s: mg_str | string, addr: mg_addr): boolean {
  const str = mg_is_str(s) ? s : mg_str(s);
  const b = str.buf;
  let i = str.ofs;
  let end = str.ofs + str.len;
  const ip = addr.ip;
  ip.fill(0);
  addr.scope_id = 0;
  addr.is_ip6 = false;
  if (end === i) return true;
  if (end - i === 9) {
    let k = 0;
    while (k < 9 && (b[i + k] | 32) === cca.call("localhost", k)) k++;
    if (k === 9) {
      ip[0] = 127;
      ip[3] = 1;
      return true;
    }
  }
  if (aton4(b, i, end, ip, 0)) return true;
  ip.fill(0);
  if (b[i] === 91) {
    if (b[end - 1] !== 93) return false;
    i++;
    end--;
  }
  for (let k = i; k < end; k++) {
    if (b[k] !== 37) continue;
    // %scope: a number (an interface index)
    let v = 0;
    if (k + 1 === end) return false;
    for (let m = k + 1; m < end; m++) {
      if (b[m] < 48 || b[m] > 57) return false;
      v = v * 10 + b[m] - 48;
    }
    addr.scope_id = v;
    end = k;
    break;
  }
  if (!aton6(b, i, end, ip)) {
    ip.fill(0);
    addr.scope_id = 0;
    return false;
  }
  addr.is_ip6 = true;
  return true;
}
