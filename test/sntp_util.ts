// A test SNTP server's packets and a client handler that records what it
// got, shared by the SNTP suites (not a suite itself).
import { MG_EV_CLOSE, MG_EV_ERROR, MG_EV_SNTP_TIME, mg_connection, mg_millis } from "../src/net.js";

/** What an SNTP client's handler (sntp_fn) saw. */
export class Got {
  time = -1;
  at = 0; // mg_millis() at MG_EV_SNTP_TIME
  times = 0;
  errors: string[] = [];
  closed = false;
}
/** The handler: fn_data is a Got. */
export function sntp_fn(c: mg_connection, ev: number, ev_data: any, g: Got): void {
  if (ev === MG_EV_SNTP_TIME) {
    g.time = ev_data;
    g.at = mg_millis();
    g.times++;
  } else if (ev === MG_EV_ERROR) g.errors.push(ev_data);
  else if (ev === MG_EV_CLOSE) g.closed = true;
}

export const NTP_TO_UNIX = 2208988800;

/** Writes epoch_ms as an NTP timestamp at b[o..o+8) (seconds wrap into era 1 after 2036). */
export function ntp_put(b: Uint8Array, o: number, epoch_ms: number): void {
  const sec = Math.floor(epoch_ms / 1000);
  const frac = Math.floor(((epoch_ms - sec * 1000) / 1000) * 4294967296);
  const s = (sec + NTP_TO_UNIX) % 4294967296;
  for (let i = 0; i < 4; i++) {
    b[o + i] = Math.floor(s / 2 ** (24 - 8 * i)) & 255;
    b[o + 4 + i] = Math.floor(frac / 2 ** (24 - 8 * i)) & 255;
  }
}

export class ReplyOpts {
  li = 0;
  version = 4;
  mode = 4;
  stratum = 2;
  /** The reference identifier: a kiss code when stratum is 0. */
  refid = "GPS\0";
  /** Server receive and transmit times (epoch ms); receive 0 leaves it unset. */
  recv_ms = 0;
  xmit_ms = 0;
  /** Bytes 24..31 come from the request's transmit timestamp unless this is set. */
  origin: Uint8Array | null = null;
}

/** A server's reply to req (a client request of 48 bytes or more). */
export function ntp_reply(req: Uint8Array, o: ReplyOpts): Uint8Array {
  const b = new Uint8Array(48);
  b[0] = (o.li << 6) | (o.version << 3) | o.mode;
  b[1] = o.stratum;
  b[2] = 6; // poll
  b[3] = 0xec; // precision
  for (let i = 0; i < 4; i++) b[12 + i] = o.refid.charCodeAt(i) & 255;
  if (o.xmit_ms > 0) ntp_put(b, 16, o.xmit_ms - 1000); // reference time: synced a second ago
  for (let i = 0; i < 8; i++) b[24 + i] = o.origin !== null ? o.origin[i] : req[40 + i];
  if (o.recv_ms > 0) ntp_put(b, 32, o.recv_ms);
  if (o.xmit_ms > 0) ntp_put(b, 40, o.xmit_ms);
  return b;
}

export function opts(xmit_ms: number, set?: (o: ReplyOpts) => void): ReplyOpts {
  const o = new ReplyOpts();
  o.recv_ms = o.xmit_ms = xmit_ms;
  if (set) set(o);
  return o;
}

/** The transmit timestamp of a request, as 16 hex digits. */
export function nonce(req: Uint8Array): string {
  let s = "";
  for (let i = 40; i < 48; i++) s += (req[i] < 16 ? "0" : "") + req[i].toString(16);
  return s;
}
