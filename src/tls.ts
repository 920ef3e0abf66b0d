// TLS, Mongoose 7's API (tls.h): mg_tls_init with mg_tls_opts, MG_EV_TLS_HS,
// c.is_tls, and the TLS URL schemes (mg_url_is_ssl: https, wss, mqtts, ssl,
// tls, tcps).
//
// The work is done beneath the core: the HAL wraps the socket (hal/node.ts
// with node:tls, the mock with a test double; see mg_hal.tls), and the core
// keeps moving plaintext through its fixed buffers. This file only turns
// the app's options into what the HAL takes; src/net.ts starts the
// handshake, waits for it, fires MG_EV_TLS_HS and reports its failure.
//
// When it starts (as in Mongoose 7): a client's on MG_EV_CONNECT, a server's
// on MG_EV_ACCEPT; a later mg_tls_init starts it at the connection's next
// poll. What the handler queued before the handshake waits in c.send until
// the peer is verified: nothing is sent before.
import type { mg_hal_tls } from "../hal/hal.js";
import type { mg_connection } from "./net.js";
import { mg_is_str, type mg_str } from "./str.js";
import { mg_url_host } from "./url.js";

/** Certificate or key bytes: PEM (text or bytes) or DER; an mg_str views bytes (a packed file, say). */
export type mg_tls_bytes = Uint8Array | string | mg_str;

/**
 * Mongoose's struct mg_tls_opts.
 * - ca: the CAs to trust. A client without one trusts the platform's roots
 *   (Node's on the host). A server with one requires client certificates
 *   signed by it (mutual TLS).
 * - cert, key: our certificate and private key (a server needs them).
 * - name: the SNI name and the name the server's certificate must carry.
 *   Default: the host of the URL the client connected to.
 * - skip_verification: accept any certificate and name; a warning is logged
 *   for each connection.
 */
export interface mg_tls_opts {
  ca?: mg_tls_bytes | null;
  cert?: mg_tls_bytes | null;
  key?: mg_tls_bytes | null;
  name?: string | mg_str | null;
  skip_verification?: boolean;
}

/**
 * Makes c a TLS connection with these options (Mongoose's mg_tls_init). Call
 * it on MG_EV_CONNECT (client) or MG_EV_ACCEPT (server), or on a listener to
 * give every connection it accepts these options (an mgts addition). The
 * options object is kept by reference until the handshake starts. Failures
 * (no TLS in the HAL, a server without a certificate, the handshake, the
 * verification) arrive as MG_EV_ERROR.
 *
 * TypeScript adaptation: `mg_tls_init(c, {ca, name})` with an object; the
 * byte fields take bytes, an mg_str or PEM text.
 */
export function mg_tls_init(c: mg_connection, opts: mg_tls_opts | null): void {
  c.is_tls = true;
  c.tls = opts;
}

/** Whether the HAL-side holder of c can be filled: "" when it can, else why not. Fills p. */
export function tls_params(c: mg_connection, p: mg_hal_tls): string {
  const o = c.tls;
  p.server = c.is_accepted;
  p.ca = tls_bytes(o?.ca);
  p.cert = tls_bytes(o?.cert);
  p.key = tls_bytes(o?.key);
  p.skip_verification = o?.skip_verification === true;
  const name = o?.name;
  p.name = name != null && (typeof name === "string" ? name.length > 0 : name.len > 0) ? String(name) : "";
  if (p.server) {
    if (p.cert === null || p.key === null) return "TLS: no certificate and key (mg_tls_init on MG_EV_ACCEPT)";
  } else if (p.name === "" && c.url !== "") {
    // the host the app asked for: a name, or an IP literal (an IPv6 one without its brackets)
    const h = mg_url_host(c.url).toString();
    p.name = h.length > 1 && h.charCodeAt(0) === 91 ? h.slice(1, h.length - 1) : h;
  }
  if ((p.cert === null) !== (p.key === null)) return "TLS: cert and key go together";
  return "";
}

function tls_bytes(v: mg_tls_bytes | null | undefined): Uint8Array | string | null {
  if (v == null) return null;
  if (mg_is_str(v)) return v.len > 0 ? v.buf.subarray(v.ofs, v.ofs + v.len) : null;
  return v.length > 0 ? v : null;
}
