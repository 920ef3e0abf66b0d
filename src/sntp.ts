// SNTP client (Mongoose's sntp.c): RFC 4330 over UDP, one request and its
// reply per connection.
//
//   mg_sntp_connect(mgr, "udp://pool.ntp.org:123", fn, null);
//   // fn gets MG_EV_SNTP_TIME with the epoch time in ms; mg_now() is the wall clock from then on
//
// The request goes out on MG_EV_CONNECT. A valid reply sets the clock
// (mg_now_set), fires MG_EV_SNTP_TIME (ev_data: milliseconds since the Unix
// epoch, a number) and closes the connection, as Mongoose does. To sync again,
// connect again (an hour apart is plenty; RFC 4330 §10 forbids less than 15 s).
//
// Where mgts differs from Mongoose 7, on purpose:
// - Timeout and retry. No reply within mgr.sntp_timeout (MG_SNTP_TIMEOUT_MS)
//   sends the request again, waiting twice as long each time (RFC 4330 §10
//   asks for backoff), MG_SNTP_RETRIES times; then MG_EV_ERROR. Mongoose
//   closes after 3 s without an event.
// - Bad replies are MG_EV_ERROR with the reason, then the close: shorter
//   than 48 bytes, not a server reply (mode), an unknown version, a
//   Kiss-o'-Death (stratum 0; its code, e.g. "RATE", "DENY", is in the
//   message), a server whose clock is not synchronised (leap indicator 3,
//   stratum 16 or more), no transmit time. Mongoose only logs, and accepts
//   LI 3 and stratum 16.
// - The request's transmit timestamp is 64 random bits, and a reply must
//   echo it as its origin timestamp (RFC 4330 §5). One that does not answers
//   some other request (a late answer to an earlier try) or is forged: it
//   is ignored, counted, and the wait goes on. The check comes before all
//   others, so a forged KoD cannot stop the client (CVE-2015-7704).
//   Mongoose sends its uptime there and checks nothing.
// - The round trip is measured on the client's own clock (the request's
//   MG_EV_WRITE to the reply's MG_EV_READ) minus the server's hold time
//   (transmit − receive), and half of it is added to the server's transmit
//   time (RFC 4330 §5).
// - NTP seconds with the top bit clear are read as era 1 (after 2036,
//   RFC 4330 §3), so the client keeps working past February 2036.
//
// The state of an exchange lives in c.data (Mongoose's sntp.c uses c->data
// too): nothing is allocated per request.
import { HAL_ERROR } from "../hal/hal.js";
import { MG_SNTP_RETRIES } from "./config.js";
import { MG_DEBUG, MG_ERROR } from "./log.js";
import {
  MG_EV_CONNECT,
  MG_EV_POLL,
  MG_EV_READ,
  MG_EV_SNTP_TIME,
  MG_EV_WRITE,
  mg_call_user,
  mg_connect_svc,
  mg_connection,
  mg_error,
  mg_event_handler_t,
  mg_mgr,
  mg_mgr_kick,
  mg_now_set,
} from "./net.js";
import { mg_random } from "./util.js";

/** Mongoose's default server, used when the url is null. */
const DEFAULT_URL = "udp://time.google.com:123";
const PKT = 48; // an NTP header without extensions
const NTP_TO_UNIX = 2208988800; // seconds from 1900 to 1970
const TWO32 = 4294967296;

// c.data of an SNTP connection
const D_NONCE = 0; // 8 bytes: the transmit timestamp sent, which the reply must echo
const D_PENDING = 8; // 1 while a request waits for its reply
const D_TRIES = 9; // requests sent again
const D_IGNORED = 10; // replies ignored: their origin timestamp was not ours
const D_SENT = 12; // 6 bytes: the HAL's millis when the request left

function put48(b: Uint8Array, ofs: number, v: number): void {
  v = Math.floor(v);
  for (let i = 0; i < 6; i++) {
    b[ofs + i] = v % 256;
    v = Math.floor(v / 256);
  }
}
function get48(b: Uint8Array, ofs: number): number {
  let v = 0;
  for (let i = 5; i >= 0; i--) v = v * 256 + b[ofs + i];
  return v;
}
function u32(b: Uint8Array, o: number): number {
  return b[o] * 0x1000000 + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
}

/** The NTP timestamp at b[o..o+8) in Unix epoch ms (fractional); 0 for the zero timestamp (unset). */
function ntp_ms(b: Uint8Array, o: number): number {
  const sec = u32(b, o);
  const frac = u32(b, o + 4);
  if (sec === 0 && frac === 0) return 0;
  const s = sec >= 0x80000000 ? sec : sec + TWO32; // top bit clear: era 1, after 2036
  return (s - NTP_TO_UNIX) * 1000 + (frac * 1000) / TWO32;
}

// What a reply is worth, before its origin is checked
const OK = 0;
const SHORT = 1;
const MODE = 2;
const VERSION = 3;
const KOD = 4;
const LI_ALARM = 5;
const STRATUM = 6;
const NO_TIME = 7;

function verdict(b: Uint8Array, o: number, n: number): number {
  if (n < PKT) return SHORT;
  const mode = b[o] & 7;
  const version = (b[o] >> 3) & 7;
  if (mode !== 4 && mode !== 5) return MODE; // server or broadcast, as Mongoose accepts
  if (version !== 3 && version !== 4) return VERSION;
  if (b[o + 1] === 0) return KOD;
  if (b[o] >> 6 === 3) return LI_ALARM;
  if (b[o + 1] > 15) return STRATUM;
  if (ntp_ms(b, o + 40) === 0) return NO_TIME;
  return OK;
}

/** Fails the connection with the reason for verdict v (rare: strings are fine here). */
function reply_error(c: mg_connection, v: number, b: Uint8Array, o: number, n: number): void {
  if (v === SHORT) return mg_error(c, "SNTP: reply too short (%d bytes)", n);
  if (v === MODE) return mg_error(c, "SNTP: not a server reply (mode %d)", b[o] & 7);
  if (v === VERSION) return mg_error(c, "SNTP: unsupported version %d", (b[o] >> 3) & 7);
  if (v === KOD) {
    // the kiss code: four ASCII letters in the reference identifier
    let code = "";
    for (let i = 12; i < 16; i++) code += b[o + i] > 32 && b[o + i] < 127 ? String.fromCharCode(b[o + i]) : "?";
    return mg_error(c, "SNTP: kiss-o'-death %s", code);
  }
  if (v === LI_ALARM) return mg_error(c, "SNTP: server clock not synchronized (LI 3)");
  if (v === STRATUM) return mg_error(c, "SNTP: server clock not synchronized (stratum %d)", b[o + 1]);
  mg_error(c, "SNTP: reply without a transmit time");
}

/**
 * Checks an SNTP reply (mode, version, Kiss-o'-Death, leap indicator,
 * stratum, transmit time) and returns the server's transmit time in ms
 * since the Unix epoch, or -1.
 *
 * TypeScript adaptation: (buf, ofs, len) for C's (buf, len). Unlike
 * Mongoose 7's it has no side effect: it does not know the request, so it
 * neither checks the origin timestamp nor compensates the round trip, and it
 * leaves the clock alone. The client (mg_sntp_connect) does all three.
 */
export function mg_sntp_parse(buf: Uint8Array, ofs: number, len: number): number {
  return verdict(buf, ofs, len) === OK ? Math.round(ntp_ms(buf, ofs + 40)) : -1;
}

/** Queues a request with a new nonce, replacing one not yet sent. */
function send_request(c: mg_connection): boolean {
  const s = c.send;
  if (s.size < PKT) return false;
  const d = c.data;
  const b = s.buf;
  b.fill(0, 0, PKT);
  b[0] = 0x23; // LI 0, version 4, mode 3 (client)
  mg_random(d, D_NONCE, 8);
  d[D_NONCE + 7] |= 1; // never the zero timestamp, which servers drop
  for (let i = 0; i < 8; i++) b[40 + i] = d[D_NONCE + i];
  s.len = PKT;
  d[D_PENDING] = 1;
  put48(d, D_SENT, c.mgr.hal!.millis());
  mg_mgr_kick(c.mgr);
  return true;
}

/**
 * Sends a request on an SNTP connection (mg_sntp_connect sends the first by
 * itself on MG_EV_CONNECT): a new exchange, with a new nonce and its own
 * retries. Returns false, logging why, while the host name is still being
 * resolved (as Mongoose), or when the send buffer cannot take 48 bytes.
 */
export function mg_sntp_request(c: mg_connection): boolean {
  if (c.is_resolving) {
    MG_ERROR("%lu wait until resolved", c.id);
    return false;
  }
  c.data[D_TRIES] = 0;
  c.data[D_IGNORED] = 0;
  return send_request(c);
}

function on_poll(c: mg_connection, now: number): void {
  const d = c.data;
  if (d[D_PENDING] === 0 || c.is_closing) return;
  const mgr = c.mgr;
  if (c.fd >= 0 && mgr.hal!.state(c.fd) === HAL_ERROR) {
    // e.g. ICMP port unreachable on a connected socket: nobody serves there
    return mg_error(c, "SNTP: socket error (no server there?)");
  }
  const tries = d[D_TRIES];
  if (now - get48(d, D_SENT) < mgr.sntp_timeout * 2 ** tries) return;
  if (tries < MG_SNTP_RETRIES) {
    d[D_TRIES] = tries + 1;
    MG_DEBUG("%lu SNTP: no reply, asking again", c.id);
    send_request(c);
  } else if (d[D_IGNORED] > 0) {
    mg_error(c, "SNTP: no valid reply (%d ignored: not our origin)", d[D_IGNORED]);
  } else {
    mg_error(c, "SNTP: no reply after %d requests", tries + 1);
  }
}

function on_reply(c: mg_connection, n: number): void {
  const r = c.recv;
  const b = r.buf;
  const o = r.len - n; // the datagram just read
  const d = c.data;
  const pending = d[D_PENDING] === 1;
  let v = verdict(b, o, n);
  if (v !== SHORT && pending) {
    for (let i = 0; i < 8; i++) {
      if (b[o + 24 + i] !== d[D_NONCE + i]) {
        v = -1;
        break;
      }
    }
  }
  if (!pending || v < 0) {
    if (d[D_IGNORED] < 255) d[D_IGNORED]++;
    MG_DEBUG("%lu SNTP: a reply to another request, ignored", c.id);
    r.len = 0;
    return;
  }
  if (v !== OK) {
    reply_error(c, v, b, o, n);
    r.len = 0;
    return;
  }
  // RFC 4330 §5: T1 request sent, T2 server received, T3 server sent, T4 reply received
  const t4 = c.mgr.hal!.millis();
  const t2 = ntp_ms(b, o + 32);
  const t3 = ntp_ms(b, o + 40);
  const hold = t2 > 0 && t3 >= t2 ? t3 - t2 : 0;
  let delay = t4 - get48(d, D_SENT) - hold;
  if (delay < 0) delay = 0;
  const epoch_ms = Math.round(t3 + delay / 2);
  r.len = 0;
  d[D_PENDING] = 0;
  mg_now_set(epoch_ms);
  MG_DEBUG("%lu SNTP: %lu ms since the epoch (round trip %d ms)", c.id, epoch_ms, Math.round(delay));
  mg_call_user(c, MG_EV_SNTP_TIME, epoch_ms);
  c.is_closing = true;
}

function sntp_cb(c: mg_connection, ev: number, ev_data: any): void {
  if (ev === MG_EV_POLL) on_poll(c, ev_data as number);
  else if (ev === MG_EV_READ) on_reply(c, ev_data as number);
  else if (ev === MG_EV_WRITE) {
    // the request has left now: its round trip starts here, not when it was queued
    if (c.data[D_PENDING] === 1) put48(c.data, D_SENT, c.mgr.hal!.millis());
  } else if (ev === MG_EV_CONNECT) mg_sntp_request(c);
}

const cca = String.prototype.charCodeAt;
const UDP = "udp://";
/** url starts with udp:// (any case), read without slicing (no heap slots on XS). */
function is_udp(url: string): boolean {
  for (let i = 0; i < 6; i++) if ((cca.call(url, i) | 0x20) !== cca.call(UDP, i)) return false;
  return true;
}

/**
 * Connects to an SNTP server and asks it the time (Mongoose's
 * mg_sntp_connect). url: "udp://host:port"; null means Mongoose's default,
 * udp://time.google.com:123. fn gets MG_EV_SNTP_TIME (ev_data: ms since the
 * Unix epoch), or MG_EV_ERROR with the reason, then MG_EV_CLOSE. Returns null
 * when the url is not udp:// or the pool is full.
 */
export function mg_sntp_connect(mgr: mg_mgr, url: string | null, fn: mg_event_handler_t | null, fn_data: any): mg_connection | null {
  const u = url ?? DEFAULT_URL;
  if (!is_udp(u)) {
    MG_ERROR("mg_sntp_connect %s: a udp:// URL is expected", u);
    return null;
  }
  return mg_connect_svc(mgr, u, fn, fn_data, sntp_cb, null);
}
