// URLs (Mongoose's url.c) and address parsing (mg_aton).
//
// A URL is scheme://user:pass@host:port/uri. The functions take a string or
// an mg_str and return views (mg_str) into its bytes, as Mongoose returns
// views into the char *; String(view) gives a JS string.
import type { mg_addr } from "./net.js";
import { mg_is_str, mg_str, mg_str_n } from "./str.js";

interface UrlParts {
  b: Uint8Array;
  ofs: number;
  len: number;
  key: number; // start of the authority (after "://")
  user: number; // '@' position, or -1
  host: number; // start of the host
  port: number; // ':' before the port, or -1
  uri: number; // '/' starting the path, or -1
  end: number;
}

function bytes_of(url: string | mg_str): mg_str {
  return mg_is_str(url) ? url : mg_str(url);
}

function split(url: string | mg_str): UrlParts {
  const s = bytes_of(url);
  const b = s.buf;
  const end = s.ofs + s.len;
  let key = s.ofs;
  for (let i = s.ofs; i + 2 < end; i++) {
    if (b[i] === 58 && b[i + 1] === 47 && b[i + 2] === 47) {
      key = i + 3;
      break;
    }
    if (b[i] === 47) break;
  }
  let uri = -1;
  for (let i = key; i < end; i++) {
    if (b[i] === 47 || b[i] === 63) {
      uri = i;
      break;
    }
  }
  const hend = uri < 0 ? end : uri;
  let user = -1;
  for (let i = key; i < hend; i++) if (b[i] === 64) user = i; // the last '@' before the path
  const host = user >= 0 ? user + 1 : key;
  let port = -1;
  let in_brackets = false;
  for (let i = host; i < hend; i++) {
    if (b[i] === 91) in_brackets = true;
    else if (b[i] === 93) in_brackets = false;
    else if (b[i] === 58 && !in_brackets) port = i;
  }
  return { b, ofs: s.ofs, len: s.len, key, user, host, port, uri, end };
}

/** The host name (IPv6 literals keep their brackets). */
export function mg_url_host(url: string | mg_str): mg_str {
  const p = split(url);
  const hend = p.port >= 0 ? p.port : p.uri >= 0 ? p.uri : p.end;
  return mg_str_n(p.b, p.host, hend - p.host);
}

/** The explicit port, else the scheme's: http/ws 80, https/wss 443, mqtt 1883, mqtts 8883, else 0. */
export function mg_url_port(url: string | mg_str): number {
  const p = split(url);
  if (p.port >= 0) {
    const hend = p.uri >= 0 ? p.uri : p.end;
    let v = 0;
    for (let i = p.port + 1; i < hend; i++) {
      const d = p.b[i] - 48;
      if (d < 0 || d > 9) return 0;
      v = v * 10 + d;
    }
    return v > 65535 ? 0 : v;
  }
  const scheme = p.key > p.ofs + 3 ? lower_str(p.b, p.ofs, p.key - 3 - p.ofs) : "";
  if (scheme === "http" || scheme === "ws") return 80;
  if (scheme === "https" || scheme === "wss") return 443;
  if (scheme === "mqtt" || scheme === "mqtt+ws") return 1883;
  if (scheme === "mqtts") return 8883;
  return 0;
}

function lower_str(b: Uint8Array, ofs: number, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) {
    const c = b[ofs + i];
    s += String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
  }
  return s;
}

/** user of user:pass@, or empty. */
export function mg_url_user(url: string | mg_str): mg_str {
  const p = split(url);
  if (p.user < 0) return mg_str_n(p.b, p.key, 0);
  let i = p.key;
  while (i < p.user && p.b[i] !== 58) i++;
  return mg_str_n(p.b, p.key, i - p.key);
}

/** pass of user:pass@, or empty. */
export function mg_url_pass(url: string | mg_str): mg_str {
  const p = split(url);
  if (p.user < 0) return mg_str_n(p.b, p.key, 0);
  let i = p.key;
  while (i < p.user && p.b[i] !== 58) i++;
  if (i === p.user) return mg_str_n(p.b, i, 0);
  return mg_str_n(p.b, i + 1, p.user - i - 1);
}

/** The path and query, or "/" when there is none. */
export function mg_url_uri(url: string | mg_str): mg_str {
  const p = split(url);
  if (p.uri < 0) return mg_str("/");
  if (p.b[p.uri] === 63) return mg_str("/" + mg_str_n(p.b, p.uri, p.end - p.uri).toString());
  return mg_str_n(p.b, p.uri, p.end - p.uri);
}

/** True for the TLS schemes: https wss mqtts ssl tls tcps. */
export function mg_url_is_ssl(url: string | mg_str): boolean {
  const p = split(url);
  const scheme = p.key > p.ofs + 3 ? lower_str(p.b, p.ofs, p.key - 3 - p.ofs) : "";
  return scheme === "https" || scheme === "wss" || scheme === "mqtts" || scheme === "ssl" || scheme === "tls" || scheme === "tcps";
}

function dec_byte(b: Uint8Array, i: number, end: number, out: { v: number; i: number }): boolean {
  let v = 0;
  let n = 0;
  while (i < end && b[i] >= 48 && b[i] <= 57 && n < 4) {
    v = v * 10 + b[i] - 48;
    i++;
    n++;
  }
  if (n === 0 || n > 3 || v > 255) return false;
  out.v = v;
  out.i = i;
  return true;
}

function aton4(b: Uint8Array, ofs: number, end: number, ip: Uint8Array, at: number): boolean {
  const t = { v: 0, i: ofs };
  let i = ofs;
  for (let k = 0; k < 4; k++) {
    if (!dec_byte(b, i, end, t)) return false;
    ip[at + k] = t.v;
    i = t.i;
    if (k < 3) {
      if (i >= end || b[i] !== 46) return false;
      i++;
    }
  }
  return i === end;
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function aton6(b: Uint8Array, ofs: number, end: number, a: mg_addr): boolean {
  const ip = a.ip;
  ip.fill(0);
  let gap = -1; // group index where :: was
  let g = 0; // groups written
  let i = ofs;
  if (i + 1 < end && b[i] === 58 && b[i + 1] === 58) {
    gap = 0;
    i += 2;
  }
  while (i < end && g < 8) {
    if (b[i] === 37) break; // %scope
    // an embedded IPv4 at the end (::ffff:1.2.3.4)
    let dot = -1;
    for (let k = i; k < end && b[k] !== 58 && b[k] !== 37; k++) if (b[k] === 46) dot = k;
    if (dot >= 0) {
      let e = i;
      while (e < end && b[e] !== 37) e++;
      if (g > 6 || !aton4(b, i, e, ip, 2 * g)) return false;
      g += 2;
      i = e;
      break;
    }
    let v = 0;
    let n = 0;
    while (i < end && hex(b[i]) >= 0 && n < 5) {
      v = (v << 4) | hex(b[i]);
      i++;
      n++;
    }
    if (n === 0 || n > 4) return false;
    ip[2 * g] = v >> 8;
    ip[2 * g + 1] = v & 255;
    g++;
    if (i < end && b[i] === 58) {
      i++;
      if (i < end && b[i] === 58) {
        if (gap >= 0) return false;
        gap = g;
        i++;
      } else if (i === end) return false;
    }
  }
  if (i < end && b[i] === 37) {
    let sc = 0;
    for (i++; i < end; i++) {
      if (b[i] < 48 || b[i] > 57) return false;
      sc = sc * 10 + b[i] - 48;
    }
    a.scope_id = sc;
  }
  if (i !== end) return false;
  if (gap >= 0) {
    const move = g - gap;
    for (let k = 0; k < move; k++) {
      const from = 2 * (g - 1 - k);
      const to = 2 * (7 - k);
      ip[to] = ip[from];
      ip[to + 1] = ip[from + 1];
      ip[from] = ip[from + 1] = 0;
    }
  } else if (g !== 8) return false;
  return true;
}

/**
 * Parses an address into a: "" and "0.0.0.0" (any), "localhost" (127.0.0.1),
 * IPv4, IPv6 with ::, brackets and %scope, ::ffff:a.b.c.d (kept as IPv6).
 * Leaves a.port alone. False for anything else, e.g. a host name.
 */
export function mg_aton(s: string | mg_str, a: mg_addr): boolean {
  const v = bytes_of(s);
  const b = v.buf;
  let ofs = v.ofs;
  let end = v.ofs + v.len;
  a.scope_id = 0;
  if (v.len === 0) {
    a.is_ip6 = false;
    a.ip.fill(0);
    return true;
  }
  if (lower_str(b, ofs, end - ofs) === "localhost") {
    a.is_ip6 = false;
    a.ip.fill(0);
    a.ip[0] = 127;
    a.ip[3] = 1;
    return true;
  }
  if (b[ofs] === 91) {
    if (b[end - 1] !== 93) return false;
    ofs++;
    end--;
  }
  const tmp = a.ip;
  const save0 = tmp[0], save1 = tmp[1], save2 = tmp[2], save3 = tmp[3];
  if (aton4(b, ofs, end, tmp, 0)) {
    tmp.fill(0, 4);
    a.is_ip6 = false;
    return true;
  }
  tmp[0] = save0;
  tmp[1] = save1;
  tmp[2] = save2;
  tmp[3] = save3;
  let colon = false;
  for (let i = ofs; i < end; i++) if (b[i] === 58) colon = true;
  if (!colon) return false;
  const was6 = a.is_ip6;
  const copy = a.ip.slice();
  if (aton6(b, ofs, end, a)) {
    a.is_ip6 = true;
    return true;
  }
  a.ip.set(copy);
  a.is_ip6 = was6;
  return false;
}
