// WebSocket, RFC 6455 (Mongoose's ws.c), server and client, in fixed buffers.
//
// Where a byte is parsed: ws_frames reads frame headers, checks them against
// the RFC, unmasks payloads in place and reassembles fragmented messages at
// the front of c.recv (control frames may come between fragments). Text is
// checked as UTF-8 across fragments and pieces (utf8_step). Stricter than
// Mongoose on purpose (mongoose-facts §1.8): unmasked client frames, reserved
// bits or opcodes, oversized or fragmented control frames, bad continuations,
// bad close codes → close 1002; invalid UTF-8 → 1007; a message that cannot
// fit → 1009, each found at the byte that proves it, whatever the TCP
// segmentation (see ws_frames). After any of them the close frame goes out
// (waiting for room if need be) and the connection lingers until the peer's
// close, its FIN or CLOSE_TIMEOUT_MS (see ws_fail), then is freed.
//
// Differences from Mongoose 7 a port may notice: the server checks Upgrade,
// Connection and Sec-WebSocket-Version (426/400) and the client checks
// Sec-WebSocket-Accept; a reassembled message has FIN set in flags (0x81, as
// 6.x) and continuation fragments fire no MG_EV_WS_CTL; fragments can be sent
// (WEBSOCKET_DONT_FIN, as 6.x); a message can be received in pieces
// (mg_ws_recv_pieces); keepalive pings are opt-in (mg_ws_keepalive).
import { MG_IO_SIZE } from "./config.js";
import { mg_mprintf, mg_va, mg_vxprintf } from "./fmt.js";
import { mg_copy, mg_iobuf_del } from "./iobuf.js";
import { MG_DEBUG } from "./log.js";
import {
  MG_EV_CLOSE,
  MG_EV_POLL,
  MG_EV_READ,
  MG_EV_WRITE,
  MG_EV_WS_CTL,
  MG_EV_WS_MSG,
  MG_EV_WS_OPEN,
  mg_call_user,
  mg_connect_svc,
  mg_connection,
  mg_error,
  mg_event_handler_t,
  mg_mgr,
  mg_mgr_kick,
  mg_printf,
  mg_send,
} from "./net.js";
import {
  HttpConn,
  MG_EV_WEBSOCKET_CONTROL_FRAME,
  MG_EV_WEBSOCKET_FRAME,
  MG_EV_WEBSOCKET_HANDSHAKE_DONE,
  MG_EV_WEBSOCKET_HANDSHAKE_REQUEST,
  MG_F_WEBSOCKET_NO_DEFRAG,
  http_init,
  mg_http_get_header,
  mg_http_message,
  mg_http_parse,
  mg_http_reply,
  ws6_hook,
} from "./http.js";
import { mg_str, mg_str_n, mg_str_set, mg_utf8_len, mg_utf8_put } from "./str.js";
import { mg_url_host, mg_url_is_ssl, mg_url_port, mg_url_uri } from "./url.js";
import { mg_base64_encode, mg_random, mg_sha1_ctx, mg_sha1_final, mg_sha1_init, mg_sha1_update } from "./util.js";

export const WEBSOCKET_OP_CONTINUE = 0;
export const WEBSOCKET_OP_TEXT = 1;
export const WEBSOCKET_OP_BINARY = 2;
export const WEBSOCKET_OP_CLOSE = 8;
export const WEBSOCKET_OP_PING = 9;
export const WEBSOCKET_OP_PONG = 10;
/**
 * OR into op for mg_ws_send: the frame does not end the message (no FIN).
 * Send the first piece with the message's opcode, the next ones with
 * WEBSOCKET_OP_CONTINUE, and the last without this flag (6.x had the same
 * flag; 7.x has no way to send a fragment, #2206).
 */
export const WEBSOCKET_DONT_FIN = 0x100;

/** A received message (struct mg_ws_message); also 6.x's struct websocket_message. */
export class mg_ws_message {
  /** The payload (a view into c.recv, valid during the event). */
  data = mg_str();
  /**
   * The frame's first byte: FIN (0x80) and the opcode (flags & 15). For a
   * reassembled message mgts reports FIN and the message's opcode (Mongoose 7
   * reports the first fragment's byte, FIN clear).
   */
  flags = 0;
  /** Receiving in pieces (mg_ws_recv_pieces): where data starts within the message. */
  offset = 0;
  /**
   * Bytes of data the handler used; lower it to get the rest again later.
   * In pieces: the rest is offered again. Whole messages: the rest stays at
   * the front of the buffer, offered again on the next poll or write and in
   * front of the next message's payload (for a byte stream carried over
   * WebSocket, such as MQTT, whose packets may be cut across messages).
   */
  consumed = 0;
  /** 6.x's name: the payload length. */
  get size(): number {
    return this.data.len;
  }
}
/** Mongoose 6.x's name for the message struct. */
export type websocket_message = mg_ws_message;

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const CLOSE_TIMEOUT_MS = 3000;

/** Per-connection WebSocket state, made once per pooled connection (in HttpConn.ws). */
class WsConn {
  msg = new mg_ws_message();
  mode6 = false;
  pieces = false;
  asm = 0; // bytes of a fragmented message reassembled at the front of recv
  asm_op = 0; // its opcode, 0 when no message is in progress
  kept_op = 0; // the opcode of the message whose tail a handler kept (asm > 0 with asm_op 0)
  kept_full = false; // reading stopped (c.is_full) until the handler takes kept bytes
  msg_ofs = 0; // pieces: offset of the next piece within the message
  frame_left = 0; // pieces: payload bytes of the current frame still to come
  frame_fin = false;
  frame_masked = false;
  mask = new Uint8Array(4);
  frame_pos = 0; // pieces: payload bytes of the current frame already handed over
  mask_pos = 0; // pieces: bytes at the front of recv already unmasked and checked
  u8_need = 0; // UTF-8 check across pieces and fragments
  u8_lo = 0x80;
  u8_hi = 0xbf;
  close_sent = false;
  close_at = 0;
  dead = false;
  fail_code = 0; // a protocol error's close code, while its close frame waits for room in c.send
  linger = false; // failed: reading and discarding until the peer's close (see ws_fail)
  skip = 0; // lingering: bytes of the current frame still to discard
  chk = 0; // payload bytes of the frame at the front (not streamed) already unmasked and checked
  // client handshake
  accept = new Uint8Array(28); // the Sec-WebSocket-Accept we expect
  offered = ""; // the subprotocols the client asked for, lower case
  // keepalive
  ping_every = 0;
  ping_timeout = 0;
  last_rx = 0;
  ping_at = 0;
  reset(): void {
    this.mode6 = this.pieces = this.close_sent = this.dead = this.frame_fin = false;
    this.kept_full = false;
    this.asm = this.asm_op = this.kept_op = this.msg_ofs = this.frame_left = this.frame_pos = this.mask_pos = this.u8_need = 0;
    this.fail_code = this.chk = this.skip = 0;
    this.linger = false;
    this.close_at = this.ping_every = this.ping_timeout = this.last_rx = this.ping_at = 0;
  }
}

function ws_state(c: mg_connection): WsConn {
  const st = c.proto as HttpConn;
  if (st.ws === null) st.ws = new WsConn(); // only if a connection was made before ws_init ran
  return st.ws as WsConn;
}

/** Makes the WebSocket state of every pooled connection (with the HTTP state). */
function ws_init(mgr: mg_mgr): void {
  http_init(mgr);
  for (let i = 0; i < mgr.pool.length; i++) {
    const st = mgr.pool[i].proto as HttpConn;
    if (st.ws === null) st.ws = new WsConn();
  }
}

// --- handshake -----------------------------------------------------------------

// Module scratch: the handshake's SHA-1, a client frame's mask, the payload
// of the close frames we send. Run-time state (config.ts: module state).
class WsScratch {
  sha = new mg_sha1_ctx();
  digest = new Uint8Array(20);
  tx_mask = new Uint8Array(4);
  close_buf = new Uint8Array(125);
}
function ws_scratch(): WsScratch {
  return ((globalThis as any).mgts_ws ??= new WsScratch());
}

/** base64(SHA-1(key + GUID)) into out (28 bytes). */
function accept_key(key: mg_str, out: Uint8Array): number {
  const sc = ws_scratch();
  const ctx = sc.sha;
  const d = sc.digest;
  mg_sha1_init(ctx);
  mg_sha1_update(ctx, key.buf, key.ofs, key.len);
  const g = GUID_BYTES;
  mg_sha1_update(ctx, g, 0, g.length);
  mg_sha1_final(d, 0, ctx);
  return mg_base64_encode(d, 0, 20, out, 0, out.length);
}
const GUID_BYTES = (() => {
  const b = new Uint8Array(GUID.length);
  for (let i = 0; i < GUID.length; i++) b[i] = GUID.charCodeAt(i);
  return b;
})();

/** True when the comma-separated header value v lists tok (lower case). Handshakes only: it makes strings. */
function token_in(v: mg_str | string | null, tok: string): boolean {
  if (v === null) return false;
  const s = v.toString().toLowerCase();
  for (const part of s.split(",")) if (part.trim() === tok) return true;
  return false;
}

/**
 * Upgrades an HTTP connection to WebSocket (call it on MG_EV_HTTP_MSG).
 * Checks what RFC 6455 §4.2.1 asks: GET, Upgrade: websocket, Connection:
 * upgrade, Sec-WebSocket-Version: 13 (else 426 with the version we speak) and
 * a 16-byte base64 Sec-WebSocket-Key (else 400). Sends 101 with
 * Sec-WebSocket-Accept and the extra headers from fmt; when the client offered
 * subprotocols and fmt names none, the first offered one is accepted. Then
 * MG_EV_WS_OPEN fires with the request. Returns true when upgraded.
 */
export function mg_ws_upgrade(c: mg_connection, hm: mg_http_message, fmt?: string | null, ...args: any[]): boolean {
  ws_init(c.mgr);
  if (!ws_handshake_reply(c, hm, fmt ?? null, args)) return false;
  ws_opened(c, hm, false);
  return true;
}

function ws_handshake_reply(c: mg_connection, hm: mg_http_message, fmt: string | null, args: readonly any[]): boolean {
  const up = mg_http_get_header(hm, "Upgrade");
  const key = mg_http_get_header(hm, "Sec-WebSocket-Key");
  const ver = mg_http_get_header(hm, "Sec-WebSocket-Version");
  if (up === null || !token_in(up, "websocket")) {
    mg_http_reply(c, 426, "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n", "WS upgrade expected\n");
    c.is_draining = true;
    return false;
  }
  if (ver === null || ver.toString().trim() !== "13") {
    mg_http_reply(c, 426, "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n", "WebSocket version 13 expected\n");
    c.is_draining = true;
    return false;
  }
  const method = hm.method.toString();
  // RFC 6455 §4.2.1-2: a handshake without a (valid) key is a bad request; 426 is for the version
  if (method !== "GET" || !token_in(mg_http_get_header(hm, "Connection"), "upgrade") || key === null || !key_ok(key)) {
    mg_http_reply(c, 400, "", "Bad WebSocket handshake\n");
    c.is_draining = true;
    return false;
  }
  const acc = new Uint8Array(28);
  const n = accept_key(key, acc);
  let extra = fmt_headers(fmt, args);
  const offered = mg_http_get_header(hm, "Sec-WebSocket-Protocol");
  if (offered !== null && extra.toLowerCase().indexOf("sec-websocket-protocol:") < 0) {
    extra += "Sec-WebSocket-Protocol: " + offered.toString().split(",")[0].trim() + "\r\n";
  }
  const ok = mg_printf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %.*s\r\n%s\r\n", n, mg_str_n(acc, 0, n), extra);
  if (ok === 0) {
    mg_error(c, "WS handshake does not fit in the send buffer");
    return false;
  }
  return true;
}

/** Extra handshake headers from a printf format (once per connection, so a string is fine). */
function fmt_headers(fmt: string | null, args: readonly any[]): string {
  return fmt === null || fmt.length === 0 ? "" : mg_mprintf(fmt, ...args);
}

function key_ok(key: mg_str): boolean {
  // base64 of 16 bytes: 22 characters and "=="
  if (key.len !== 24) return false;
  return key.buf[key.ofs + 22] === 61 && key.buf[key.ofs + 23] === 61;
}

function ws_opened(c: mg_connection, hm: mg_http_message, mode6: boolean): void {
  const ws = ws_state(c);
  ws.reset();
  ws.mode6 = mode6;
  ws.last_rx = c.mgr.hal!.millis();
  c.is_websocket = true;
  c.is_resp = false;
  c.pfn = ws_cb;
  if (mode6) mg_call_user(c, MG_EV_WEBSOCKET_HANDSHAKE_DONE, null);
  else mg_call_user(c, MG_EV_WS_OPEN, hm);
}

/** The 6.x server handshake: HANDSHAKE_REQUEST, the 101 (unless the handler answered), HANDSHAKE_DONE. */
function ws6_handshake(c: mg_connection, hm: mg_http_message, head_len: number): void {
  ws_init(c.mgr);
  const before = c.send.len;
  mg_call_user(c, MG_EV_WEBSOCKET_HANDSHAKE_REQUEST, hm);
  if (c.is_closing || c.is_draining) return;
  if (c.send.len === before) {
    if (!ws_handshake_reply(c, hm, null, NOARGS)) return;
  } else {
    // the handler answered itself: an upgrade only if it sent 101
    if (c.send.buf[before + 9] !== 49 || c.send.buf[before + 10] !== 48 || c.send.buf[before + 11] !== 49) return;
  }
  mg_iobuf_del(c.recv, 0, head_len);
  ws_opened(c, hm, true);
}
const NOARGS: readonly any[] = Object.freeze([]);
if (ws6_hook.fn === null) ws6_hook.fn = ws6_handshake;
Object.freeze(ws6_hook);

/**
 * Connects to a WebSocket server (ws://host:port/path). fmt adds request
 * headers (e.g. "Sec-WebSocket-Protocol: mqtt\r\n"). The handshake goes out
 * on connect with a random key; the server's Sec-WebSocket-Accept is checked;
 * then MG_EV_WS_OPEN fires with the 101 response.
 */
export function mg_ws_connect(mgr: mg_mgr, url: string, fn: mg_event_handler_t | null, fn_data: any, fmt?: string | null, ...args: any[]): mg_connection | null {
  ws_init(mgr);
  const c = mg_connect_svc(mgr, url, fn, fn_data, ws_client_cb, null);
  if (c === null || c.is_closing) return c; // a wss:// URL without TLS, a failed resolve: nothing to send
  const ws = ws_state(c);
  ws.reset();
  const extra = fmt_headers(fmt ?? null, args);
  const m = /sec-websocket-protocol:([^\r\n]*)/i.exec(extra);
  ws.offered = m !== null ? m[1].toLowerCase() : "";
  const u = mg_str(url);
  const host = mg_url_host(u);
  const path = mg_url_uri(u);
  // Host carries the port only when it is not the scheme's own (RFC 9110 §7.2)
  const port = mg_url_port(u);
  const port_part = port === (mg_url_is_ssl(u) ? 443 : 80) ? "" : ":" + port;
  const key = new Uint8Array(16);
  mg_random(key, 0, 16);
  const k64 = new Uint8Array(24);
  mg_base64_encode(key, 0, 16, k64, 0, 24);
  accept_key(mg_str_n(k64, 0, 24), ws.accept);
  mg_printf(c, "GET %.*s HTTP/1.1\r\nHost: %.*s%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %.*s\r\n%s\r\n", path.len, path, host.len, host, port_part, 24, mg_str_n(k64, 0, 24), extra);
  return c;
}

function ws_client_cb(c: mg_connection, ev: number, ev_data: any): void {
  if (c.is_websocket) return ws_cb(c, ev, ev_data);
  if (ev !== MG_EV_READ) return;
  const ws = ws_state(c);
  const hm = http_init(c.mgr);
  const n = mg_http_parse(c.recv.buf, c.recv.len, hm);
  if (n === 0) {
    if (c.recv.len === c.recv.size) mg_error(c, "WS handshake response too large");
    return;
  }
  const acc = n > 0 ? mg_http_get_header(hm, "Sec-WebSocket-Accept") : null;
  const up = n > 0 ? mg_http_get_header(hm, "Upgrade") : null;
  const conn = n > 0 ? mg_http_get_header(hm, "Connection") : null;
  if (n < 0 || hm.resp_code !== 101 || acc === null || acc.len !== 28 || !same(acc, ws.accept) || !token_in(up, "websocket") || !token_in(conn, "upgrade")) {
    mg_error(c, "WS handshake failed (HTTP %d)", n > 0 ? hm.resp_code : 0);
    return;
  }
  // RFC 6455 §4.1: a subprotocol we did not offer, or any extension (we offer none), fails the connection
  const proto = mg_http_get_header(hm, "Sec-WebSocket-Protocol");
  if ((proto !== null && !token_in(ws.offered, proto.toString().trim().toLowerCase())) || mg_http_get_header(hm, "Sec-WebSocket-Extensions") !== null) {
    mg_error(c, "WS handshake failed: subprotocol or extension not offered");
    return;
  }
  ws_opened(c, hm, false);
  c.pfn = ws_client_cb;
  mg_iobuf_del(c.recv, 0, n);
  if (c.recv.len > 0) ws_frames(c, ws);
}

function same(s: mg_str, b: Uint8Array): boolean {
  for (let i = 0; i < s.len; i++) if (s.buf[s.ofs + i] !== b[i]) return false;
  return true;
}

// --- sending -----------------------------------------------------------------------

function header_size(len: number, masked: boolean): number {
  return (len < 126 ? 2 : len < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/** Writes a frame header at o; returns its size. The mask key (if any) goes last. */
function put_header(b: Uint8Array, o: number, op: number, len: number, mask: Uint8Array | null): number {
  const fin = (op & WEBSOCKET_DONT_FIN) !== 0 ? 0 : 0x80;
  b[o] = fin | (op & 15);
  let h = 2;
  const m = mask !== null ? 0x80 : 0;
  if (len < 126) b[o + 1] = m | len;
  else if (len < 65536) {
    b[o + 1] = m | 126;
    b[o + 2] = len >> 8;
    b[o + 3] = len & 255;
    h = 4;
  } else {
    b[o + 1] = m | 127;
    b[o + 2] = b[o + 3] = b[o + 4] = b[o + 5] = 0;
    b[o + 6] = (len >>> 24) & 255;
    b[o + 7] = (len >>> 16) & 255;
    b[o + 8] = (len >>> 8) & 255;
    b[o + 9] = len & 255;
    h = 10;
  }
  if (mask !== null) {
    b[o + h] = mask[0];
    b[o + h + 1] = mask[1];
    b[o + h + 2] = mask[2];
    b[o + h + 3] = mask[3];
    h += 4;
  }
  return h;
}

/**
 * Sends one frame: `op` is WEBSOCKET_OP_*, optionally | WEBSOCKET_DONT_FIN.
 * Client frames are masked with a fresh random key, server frames never.
 * Returns the bytes appended to c.send (header + payload), 0 when the frame
 * does not fit (nothing is appended; wait for MG_EV_WRITE), when it is a
 * control frame over 125 bytes or not final, or after this side's close.
 * TypeScript adaptation: buf is bytes, an mg_str or a string (sent as UTF-8);
 * len defaults to all of it. C's return is the bytes queued too.
 */
export function mg_ws_send(c: mg_connection, buf: Uint8Array | mg_str | string, len?: number, op = WEBSOCKET_OP_TEXT): number {
  const s = c.send;
  let n: number;
  let src: Uint8Array | null = null;
  let sofs = 0;
  if (typeof buf === "string") n = mg_utf8_len(buf);
  else if (buf instanceof Uint8Array) {
    src = buf;
    n = len ?? buf.length;
  } else {
    src = buf.buf;
    sofs = buf.ofs;
    n = len ?? buf.len;
  }
  if ((op & 8) !== 0 && (n > 125 || (op & WEBSOCKET_DONT_FIN) !== 0)) return 0; // RFC 6455 §5.5: control frames are short and whole
  if (closed_for_sending(c)) return 0;
  if (src === null) {
    const hs = header_size(n, c.is_client);
    const start = s.len;
    if (start + hs + n > s.size) return 0;
    mg_utf8_put(buf as string, s.buf, start + hs, n);
    frame_at(c, start, op, n);
    return hs + n;
  }
  return send_frame(c, src, sofs, n, op);
}

/** One frame of n bytes from src, whatever this side's closing state (the close frames themselves). 0 if it does not fit. */
function send_frame(c: mg_connection, src: Uint8Array, sofs: number, n: number, op: number): number {
  const s = c.send;
  const hs = header_size(n, c.is_client);
  const start = s.len;
  if (start + hs + n > s.size) return 0;
  {
    mg_copy(s.buf, start + hs, src, sofs, n);
  }
  frame_at(c, start, op, n);
  return hs + n;
}

/** printf into one frame. Returns the bytes appended, 0 if it did not fit. */
export function mg_ws_printf(c: mg_connection, op: number, fmt: string, ...args: any[]): number {
  const ap = c.mgr.ap;
  const sa = ap.a, si = ap.i;
  ap.a = args;
  ap.i = 0;
  const n = mg_ws_vprintf(c, op, fmt, ap);
  ap.a = sa;
  ap.i = si;
  return n;
}

/** mg_ws_printf with an argument cursor. */
export function mg_ws_vprintf(c: mg_connection, op: number, fmt: string, ap: mg_va): number {
  const s = c.send;
  const start = s.len;
  const hs_max = header_size(65536, c.is_client);
  // format where the payload lands after the largest header, then move it next to the real one
  const o = c.mgr.out;
  const sb = o.buf, so = o.ofs, sc = o.cap, sn = o.n;
  o.buf = s.buf;
  o.ofs = start + hs_max;
  o.cap = s.size - start - hs_max;
  o.n = 0;
  if (o.cap >= 0) mg_vxprintf(o, fmt, ap);
  const n = o.n;
  const fits = o.cap >= 0 && n <= o.cap;
  o.buf = sb; o.ofs = so; o.cap = sc; o.n = sn;
  if (!fits) return 0;
  const hs = header_size(n, c.is_client);
  if (hs !== hs_max) s.buf.copyWithin(start + hs, start + hs_max, start + hs_max + n);
  frame_at(c, start, op, n);
  return hs + n;
}

/** Writes the header of a frame whose payload already sits after it at start, masks it, and sets c.send.len. */
function frame_at(c: mg_connection, start: number, op: number, len: number): void {
  const s = c.send;
  let mask: Uint8Array | null = null;
  if (c.is_client) {
    mask = ws_scratch().tx_mask;
    mg_random(mask, 0, 4);
  }
  const p = start + put_header(s.buf, start, op, len, mask);
  if (mask !== null) for (let i = 0; i < len; i++) s.buf[p + i] ^= mask[i & 3];
  s.len = p + len;
  mg_mgr_kick(c.mgr);
}

/**
 * Turns the last len bytes of c.send into one frame (the MQTT-over-WebSocket
 * pattern: write a protocol's bytes, then wrap them). Returns the new
 * c.send.len; unchanged when the header does not fit.
 */
export function mg_ws_wrap(c: mg_connection, len: number, op: number): number {
  const s = c.send;
  const hs = header_size(len, c.is_client);
  const start = s.len - len;
  if (start < 0 || s.len + hs > s.size) return s.len;
  s.buf.copyWithin(start + hs, start, s.len);
  frame_at(c, start, op, len);
  return s.len;
}

/**
 * Starts the closing handshake: sends a close frame with code (and reason),
 * then frees the connection when the peer's close arrives or after 3 s.
 * Returns false, sending nothing, when the frame does not fit in c.send yet:
 * call it again on MG_EV_WRITE. True once it is queued (and afterwards).
 */
export function mg_ws_close(c: mg_connection, code = 1000, reason = ""): boolean {
  const ws = ws_state(c);
  if (ws.close_sent) return true;
  if (ws.dead) return false; // failed: the protocol error's close is on its way
  const p = close_payload();
  p[0] = code >> 8;
  p[1] = code & 255;
  const rl = utf8_prefix(reason, 123); // a control frame carries 125 bytes: cut the reason, never inside a character
  mg_utf8_put(reason, p, 2, rl);
  if (send_frame(c, p, 0, 2 + rl, WEBSOCKET_OP_CLOSE) === 0) return false;
  ws.close_sent = true;
  ws.close_at = c.mgr.hal!.millis() + CLOSE_TIMEOUT_MS;
  return true;
}

/** Bytes of the longest prefix of s, in whole characters, whose UTF-8 form fits in max. */
function utf8_prefix(s: string, max: number): number {
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    let n = ch < 0x80 ? 1 : ch < 0x800 ? 2 : 3;
    if (ch >= 0xd800 && ch < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n = 4;
        i++;
      }
    }
    if (o + n > max) break;
    o += n;
  }
  return o;
}

/**
 * Receive messages in pieces as they arrive instead of whole: MG_EV_WS_MSG
 * fires for each piece of payload with wm.offset (its place in the message)
 * and FIN in wm.flags only on the last piece. UTF-8 is still checked across
 * pieces. With it, messages of any size pass through MG_IO_SIZE buffers;
 * without it, a message that cannot fit closes the connection with 1009.
 * Set wm.consumed lower than wm.data.len to get the rest offered again later
 * (after MG_EV_WRITE, for instance). Call it on MG_EV_WS_OPEN, or between
 * messages: a message already being reassembled is not split afterwards.
 * An mgts addition (Mongoose buffers whole messages up to MG_MAX_RECV_SIZE).
 */
export function mg_ws_recv_pieces(c: mg_connection, on = true): void {
  ws_state(c).pieces = on;
}

/**
 * Keepalive: send a ping when nothing has arrived for every_ms, and close the
 * connection (MG_EV_ERROR "WS ping timeout") when no frame arrives within
 * timeout_ms after it. 0 turns it off.
 */
export function mg_ws_keepalive(c: mg_connection, every_ms: number, timeout_ms: number): void {
  const ws = ws_state(c);
  ws.ping_every = every_ms;
  ws.ping_timeout = timeout_ms;
  ws.ping_at = 0;
}

// --- receiving ----------------------------------------------------------------------

export function ws_cb(c: mg_connection, ev: number, ev_data: any): void {
  const ws = ws_state(c);
  if (ev === MG_EV_READ || ev === MG_EV_WRITE) {
    if (ws.fail_code !== 0) send_fail_close(c, ws);
    if (ev === MG_EV_WRITE) offer_kept(c, ws);
    ws_frames(c, ws);
  } else if (ev === MG_EV_POLL) {
    const now = ev_data as number;
    if (ws.fail_code !== 0) send_fail_close(c, ws);
    if ((ws.close_sent || ws.fail_code !== 0) && now > ws.close_at) c.is_closing = true;
    if (ws.ping_every > 0 && !ws.close_sent && !ws.dead) {
      if (ws.ping_at > 0 && now - ws.ping_at > ws.ping_timeout) {
        mg_error(c, "WS ping timeout");
        return;
      }
      if (ws.ping_at === 0 && now - ws.last_rx >= ws.ping_every) {
        if (mg_ws_send(c, "", 0, WEBSOCKET_OP_PING) > 0) ws.ping_at = now;
      }
    }
    offer_kept(c, ws);
    if (c.recv.len > 0) ws_frames(c, ws);
  } else if (ev === MG_EV_CLOSE) {
    ws.asm = 0;
  }
}

/**
 * Fails the connection for a protocol error (RFC 6455 §7.1.7): a close frame
 * with the code goes out (it waits for room in c.send if the send buffer is
 * full, so it is never dropped) and nothing more is handled. The connection
 * then lingers, reading and discarding, until the peer's own close frame
 * (the handshake's end: RFC 6455 §7.1.1 has the server close TCP after it),
 * the peer's FIN, or CLOSE_TIMEOUT_MS. Closing at once would leave the
 * peer's later bytes unread, and a socket closed with unread bytes sends a
 * reset that can destroy our close frame before the peer reads it: the
 * peer would see no close code at all, depending on timing.
 */
function ws_fail(c: mg_connection, ws: WsConn, code: number, why: string): void {
  MG_DEBUG("%lu WS close %d: %s", c.id, code, why);
  const r = c.recv;
  // where the failing frame is, so that the frames after it can be followed
  if (ws.frame_left > 0) {
    ws.skip = ws.frame_left; // streamed: the rest of its payload, from recv[0]
    ws.frame_left = 0;
  } else {
    ws.skip = 0;
    mg_iobuf_del(r, 0, ws.asm); // its header is at ws.asm, after what was reassembled
  }
  ws.asm = 0;
  ws.dead = true;
  ws.linger = true;
  if (!ws.close_sent) {
    ws.fail_code = code;
    ws.close_at = c.mgr.hal!.millis() + CLOSE_TIMEOUT_MS;
    send_fail_close(c, ws);
  }
  linger(c, ws);
}

function send_fail_close(c: mg_connection, ws: WsConn): void {
  const p = close_payload();
  p[0] = ws.fail_code >> 8;
  p[1] = ws.fail_code & 255;
  if (send_frame(c, p, 0, 2, WEBSOCKET_OP_CLOSE) === 0) return;
  ws.fail_code = 0;
  ws.close_sent = true;
  if (!ws.linger) c.is_draining = true;
}

/**
 * After a failure: skips frames without looking into them, until a close
 * frame (the peer's answer) ends the handshake. Bytes that cannot be frames
 * (a length no frame has) end the wait at once.
 */
function linger(c: mg_connection, ws: WsConn): void {
  const r = c.recv;
  const b = r.buf;
  for (;;) {
    if (ws.skip > 0) {
      const n = r.len < ws.skip ? r.len : ws.skip;
      mg_iobuf_del(r, 0, n);
      ws.skip -= n;
      if (ws.skip > 0) return;
    }
    if (r.len < 2) return;
    let len = b[1] & 127;
    const lb = len === 126 ? 2 : len === 127 ? 8 : 0;
    const hs = 2 + lb + ((b[1] & 0x80) !== 0 ? 4 : 0);
    if (r.len < hs) return;
    if (lb === 2) len = (b[2] << 8) | b[3];
    else if (lb === 8) len = b[2] !== 0 || b[3] !== 0 ? -1 : (b[4] * 256 + b[5]) * 4294967296 + ((b[6] << 24) >>> 0) + (b[7] << 16) + (b[8] << 8) + b[9];
    if ((b[0] & 15) === WEBSOCKET_OP_CLOSE || len < 0) {
      // the peer's close (or a stream that has no frames to follow): nothing more to wait for
      ws.linger = false;
      r.len = 0;
      if (ws.fail_code === 0) c.is_draining = true;
      return;
    }
    mg_iobuf_del(r, 0, hs);
    ws.skip = len;
  }
}
/** The payload of the close frames we send (code and reason). */
function close_payload(): Uint8Array {
  return ws_scratch().close_buf;
}

/** RFC 6455 §5.5.1: after its close frame (or a protocol error), an endpoint sends no more frames. */
function closed_for_sending(c: mg_connection): boolean {
  const st = c.proto as HttpConn | null;
  if (st === null || st.ws === null) return false;
  const ws = st.ws as WsConn;
  return ws.close_sent || ws.dead;
}

function utf8_step(ws: WsConn, b: number): boolean {
  if (ws.u8_need === 0) {
    if (b < 0x80) return true;
    if (b >= 0xc2 && b <= 0xdf) {
      ws.u8_need = 1;
      ws.u8_lo = 0x80;
      ws.u8_hi = 0xbf;
    } else if (b === 0xe0) {
      ws.u8_need = 2;
      ws.u8_lo = 0xa0;
      ws.u8_hi = 0xbf;
    } else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) {
      ws.u8_need = 2;
      ws.u8_lo = 0x80;
      ws.u8_hi = 0xbf;
    } else if (b === 0xed) {
      ws.u8_need = 2;
      ws.u8_lo = 0x80;
      ws.u8_hi = 0x9f; // no surrogates
    } else if (b === 0xf0) {
      ws.u8_need = 3;
      ws.u8_lo = 0x90;
      ws.u8_hi = 0xbf;
    } else if (b >= 0xf1 && b <= 0xf3) {
      ws.u8_need = 3;
      ws.u8_lo = 0x80;
      ws.u8_hi = 0xbf;
    } else if (b === 0xf4) {
      ws.u8_need = 3;
      ws.u8_lo = 0x80;
      ws.u8_hi = 0x8f; // nothing above U+10FFFF
    } else return false;
    return true;
  }
  if (b < ws.u8_lo || b > ws.u8_hi) return false;
  ws.u8_lo = 0x80;
  ws.u8_hi = 0xbf;
  ws.u8_need--;
  return true;
}

function utf8_ok(ws: WsConn, b: Uint8Array, ofs: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (!utf8_step(ws, b[ofs + i])) return false;
  return true;
}

function utf8_reset(ws: WsConn): void {
  ws.u8_need = 0;
  ws.u8_lo = 0x80;
  ws.u8_hi = 0xbf;
}

function close_code_ok(code: number): boolean {
  if (code < 1000) return false;
  if (code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

/** XORs payload bytes [from, to) of the frame whose payload starts at d (its mask key in the 4 bytes before d). */
function unmask(b: Uint8Array, d: number, from: number, to: number): void {
  const m0 = b[d - 4], m1 = b[d - 3], m2 = b[d - 2], m3 = b[d - 1];
  let i = from;
  for (; i < to && (i & 3) !== 0; i++) b[d + i] ^= b[d - 4 + (i & 3)];
  for (; i + 3 < to; i += 4) {
    b[d + i] ^= m0;
    b[d + i + 1] ^= m1;
    b[d + i + 2] ^= m2;
    b[d + i + 3] ^= m3;
  }
  for (; i < to; i++) b[d + i] ^= b[d - 4 + (i & 3)];
}

/**
 * Payload bytes [from, to) of a frame that have arrived (not streamed in
 * pieces): unmasked in place, then checked as they come, so that an error is
 * found at the byte that proves it: UTF-8 of a text message (across its
 * fragments), a close frame's code (at its second byte) and reason. False
 * when the connection was failed.
 */
function payload_step(c: mg_connection, ws: WsConn, b: Uint8Array, d: number, from: number, to: number, op: number, masked: boolean): boolean {
  if (masked) unmask(b, d, from, to);
  if (op === WEBSOCKET_OP_CLOSE) {
    if (from === 0) utf8_reset(ws); // nothing follows a close: the message's state is not needed again
    if (from < 2 && to >= 2 && !close_code_ok((b[d] << 8) | b[d + 1])) {
      ws_fail(c, ws, 1002, "bad close code");
      return false;
    }
    const u = from > 2 ? from : 2;
    if (to > u && !utf8_ok(ws, b, d + u, to - u)) {
      ws_fail(c, ws, 1007, "invalid UTF-8 in the close reason");
      return false;
    }
    return true;
  }
  if (op >= 8) return true; // ping and pong payloads are anything
  if (op !== WEBSOCKET_OP_CONTINUE && from === 0) utf8_reset(ws); // a new message
  if ((op === WEBSOCKET_OP_TEXT || (op === WEBSOCKET_OP_CONTINUE && ws.asm_op === WEBSOCKET_OP_TEXT)) && !utf8_ok(ws, b, d + from, to - from)) {
    ws_fail(c, ws, 1007, "invalid UTF-8 in a text message");
    return false;
  }
  return true;
}

/**
 * Parses and handles every complete frame (or piece) in c.recv. An error is
 * found at the first byte that proves it, whatever the segmentation: the
 * first header byte (reserved bits and opcodes, a fragmented control frame,
 * a continuation with no message or a new message inside one), the second
 * (mask bit, a control frame over 125 bytes, a close of one byte), the
 * length (its top bit, over 2^48, a message that can never fit), the payload
 * as it arrives (UTF-8, close code and reason). Checks run in byte order, so
 * the same bytes give the same close code split any way.
 */
function ws_frames(c: mg_connection, ws: WsConn): void {
  const r = c.recv;
  const b = r.buf;
  for (let guard = 0; guard < 1000; guard++) {
    if (ws.dead || c.is_closing) {
      if (ws.linger && !c.is_closing) linger(c, ws);
      else if (ws.dead) r.len = 0;
      return;
    }
    if (ws.frame_left > 0) {
      // pieces mode: payload of the current frame, as it arrives
      if (!deliver_piece(c, ws)) return;
      continue;
    }
    const p = ws.asm; // frames start after the reassembled part of a message
    const avail = r.len - p;
    if (avail < 1) return;
    // the first byte: FIN, RSV1-3, opcode
    const b0 = b[p];
    const fin = (b0 & 0x80) !== 0;
    const op = b0 & 15;
    const control = op >= 8;
    if ((b0 & 0x70) !== 0) return ws_fail(c, ws, 1002, "reserved bits set");
    if ((op > 2 && op < 8) || op > 10) return ws_fail(c, ws, 1002, "reserved opcode");
    if (control && !fin) return ws_fail(c, ws, 1002, "fragmented control frame");
    if (op === WEBSOCKET_OP_CONTINUE && ws.asm_op === 0) return ws_fail(c, ws, 1002, "continuation without a message");
    if (!control && op !== WEBSOCKET_OP_CONTINUE && ws.asm_op !== 0) return ws_fail(c, ws, 1002, "new message inside a fragmented one");
    if (avail < 2) return;
    // the second: MASK and the 7-bit length
    const b1 = b[p + 1];
    const masked = (b1 & 0x80) !== 0;
    let len = b1 & 127;
    if (masked === c.is_client) return ws_fail(c, ws, 1002, c.is_client ? "masked frame from a server" : "unmasked frame from a client");
    if (control && len > 125) return ws_fail(c, ws, 1002, "control frame over 125 bytes");
    if (op === WEBSOCKET_OP_CLOSE && len === 1) return ws_fail(c, ws, 1002, "close payload of one byte");
    const lb = len === 126 ? 2 : len === 127 ? 8 : 0; // extended length bytes
    if (lb === 8 && avail > 2) {
      if ((b[p + 2] & 0x80) !== 0) return ws_fail(c, ws, 1002, "64-bit length with its top bit set");
      if (b[p + 2] !== 0 || (avail > 3 && b[p + 3] !== 0)) return ws_fail(c, ws, 1009, "frame length over 2^48");
    }
    const streamed = !control && ws.pieces && !ws.mode6 && ws.asm === 0;
    if (!streamed && lb > 0) {
      // the length bytes that have arrived bound it from below: a frame that can never fit is known now
      let low = 0;
      for (let i = 0; i < lb; i++) low = low * 256 + (i < avail - 2 ? b[p + 2 + i] : 0);
      if (p + 2 + lb + (masked ? 4 : 0) + low > r.size) {
        if (2 + lb + (masked ? 4 : 0) + low <= r.size && kept_in_way(c, ws)) return; // it fits once the handler takes what it kept
        return ws_fail(c, ws, 1009, "message larger than MG_IO_SIZE");
      }
    }
    if (avail < 2 + lb) {
      // the length cut short by a full buffer would wait forever (unless kept bytes make room later)
      if (r.len === r.size && !kept_in_way(c, ws)) ws_fail(c, ws, 1009, "message larger than MG_IO_SIZE");
      return;
    }
    if (lb === 2) len = (b[p + 2] << 8) | b[p + 3];
    else if (lb === 8) len = (b[p + 4] * 256 + b[p + 5]) * 4294967296 + ((b[p + 6] << 24) >>> 0) + (b[p + 7] << 16) + (b[p + 8] << 8) + b[p + 9];
    const hs = 2 + lb + (masked ? 4 : 0);
    if (!streamed && p + hs + len > r.size) {
      if (hs + len <= r.size && kept_in_way(c, ws)) return; // it fits once the handler takes what it kept
      // the frame (with what is reassembled before it) can never fit
      return ws_fail(c, ws, 1009, "message larger than MG_IO_SIZE");
    }
    if (avail < hs) return;
    ws.last_rx = c.mgr.hal!.millis();
    ws.ping_at = 0;

    if (streamed) {
      // take the header off and stream the payload
      if (masked) {
        ws.mask[0] = b[p + hs - 4];
        ws.mask[1] = b[p + hs - 3];
        ws.mask[2] = b[p + hs - 2];
        ws.mask[3] = b[p + hs - 1];
      }
      ws.frame_masked = masked;
      ws.mask_pos = 0;
      ws.frame_pos = 0;
      mg_iobuf_del(r, p, hs);
      if (op !== WEBSOCKET_OP_CONTINUE) {
        ws.asm_op = op;
        ws.msg_ofs = 0;
        utf8_reset(ws);
      }
      ws.frame_fin = fin;
      ws.frame_left = len;
      if (len === 0) {
        if (!deliver_empty_piece(c, ws)) return;
      }
      continue;
    }

    // the payload that has arrived: unmasked and checked now, the rest when it comes
    const d = p + hs;
    const have = avail - hs < len ? avail - hs : len;
    if (have > ws.chk) {
      if (!payload_step(c, ws, b, d, ws.chk, have, op, masked)) return;
      ws.chk = have;
    }
    if (have < len) return; // wait for the rest
    if (control) {
      if (op === WEBSOCKET_OP_CLOSE && ws.u8_need !== 0) return ws_fail(c, ws, 1007, "close reason ends inside a UTF-8 sequence");
      if (!handle_control(c, ws, op, d, len)) return; // its answer waits for room in c.send
      if (ws.dead) return;
      ws.chk = 0;
      mg_iobuf_del(r, p, hs + len);
      continue;
    }
    if (op !== WEBSOCKET_OP_CONTINUE) ws.asm_op = op;
    if (fin && ws.asm_op === WEBSOCKET_OP_TEXT && ws.u8_need !== 0) return ws_fail(c, ws, 1007, "text message ends inside a UTF-8 sequence");
    ws.chk = 0;
    if (ws.mode6 && (c.flags & MG_F_WEBSOCKET_NO_DEFRAG) !== 0) {
      // 6.x: every frame as it comes
      const msg = ws.msg;
      mg_str_set(msg.data, b, d, len);
      msg.flags = b0;
      mg_call_user(c, MG_EV_WEBSOCKET_FRAME, msg);
      mg_iobuf_del(r, p, hs + len);
      if (fin) ws.asm_op = 0;
      continue;
    }
    // data frame: its payload joins what is reassembled; frames after it move up too
    mg_iobuf_del(r, p, hs);
    ws.asm += len;
    if (!fin) continue;
    const msg = ws.msg;
    const total = ws.asm;
    mg_str_set(msg.data, b, 0, total);
    msg.flags = 0x80 | ws.asm_op;
    msg.offset = 0;
    msg.consumed = total;
    ws.kept_op = ws.asm_op;
    ws.asm = 0;
    ws.asm_op = 0;
    mg_call_user(c, ws.mode6 ? MG_EV_WEBSOCKET_FRAME : MG_EV_WS_MSG, msg);
    keep_rest(c, ws, total, ws.mode6 ? total : msg.consumed);
  }
}

/** After a whole message: drop what the handler used, keep the rest at the front (see mg_ws_message.consumed). */
function keep_rest(c: mg_connection, ws: WsConn, total: number, used: number): void {
  if (c.recv.len < total) return; // the handler emptied the buffer (or the connection failed)
  if (!(used >= 0) || used > total) used = total;
  mg_iobuf_del(c.recv, 0, used);
  ws.asm = total - used;
  if (used > 0 && ws.kept_full) {
    ws.kept_full = false;
    c.is_full = false;
  }
}

/**
 * Whether bytes a handler kept are what stands in the way of the next frame:
 * then it waits for them to be taken (reading stops once the buffer is full)
 * instead of failing the connection.
 */
function kept_in_way(c: mg_connection, ws: WsConn): boolean {
  if (ws.asm === 0 || ws.asm_op !== 0) return false;
  if (c.recv.len === c.recv.size) {
    c.is_full = true;
    ws.kept_full = true;
  }
  return true;
}

/** Offers the bytes a handler kept from a whole message again (on a poll or a write: it may take them now). */
function offer_kept(c: mg_connection, ws: WsConn): void {
  if (ws.asm === 0 || ws.asm_op !== 0 || ws.dead || c.is_closing || ws.pieces) return;
  const msg = ws.msg;
  const total = ws.asm;
  mg_str_set(msg.data, c.recv.buf, 0, total);
  msg.flags = 0x80 | ws.kept_op;
  msg.offset = 0;
  msg.consumed = total;
  ws.asm = 0;
  mg_call_user(c, MG_EV_WS_MSG, msg);
  keep_rest(c, ws, total, msg.consumed);
}

/**
 * A complete control frame (payload unmasked and checked at d). Ping: a pong
 * with its payload; close: the peer's code echoed, then the connection
 * closes. When the answer does not fit in c.send yet, nothing happens and
 * false is returned: the frame stays in recv and is handled again on
 * MG_EV_WRITE, so no pong and no close echo is ever dropped, and the
 * handler sees each control frame once.
 */
function handle_control(c: mg_connection, ws: WsConn, op: number, d: number, len: number): boolean {
  const b = c.recv.buf;
  const msg = ws.msg;
  const answer = op === WEBSOCKET_OP_PING ? len : op === WEBSOCKET_OP_CLOSE ? (len >= 2 ? 2 : 0) : -1;
  if (answer >= 0 && !ws.close_sent && c.send.len + header_size(answer, c.is_client) + answer > c.send.size) return false;
  mg_str_set(msg.data, b, d, len);
  msg.flags = 0x80 | op;
  msg.offset = 0;
  if (op === WEBSOCKET_OP_PING) {
    mg_ws_send(c, msg.data, len, WEBSOCKET_OP_PONG);
  } else if (op === WEBSOCKET_OP_CLOSE) {
    const code = len >= 2 ? (b[d] << 8) | b[d + 1] : 1005;
    mg_call_user(c, ws.mode6 ? MG_EV_WEBSOCKET_CONTROL_FRAME : MG_EV_WS_CTL, msg);
    if (!ws.close_sent) {
      // echo the peer's code, then close once it is out
      const p = close_payload();
      p[0] = code >> 8;
      p[1] = code & 255;
      send_frame(c, p, 0, code === 1005 ? 0 : 2, WEBSOCKET_OP_CLOSE);
      ws.close_sent = true;
      ws.close_at = c.mgr.hal!.millis() + CLOSE_TIMEOUT_MS;
    }
    ws.dead = true;
    c.is_draining = true;
    return true;
  }
  mg_call_user(c, ws.mode6 ? MG_EV_WEBSOCKET_CONTROL_FRAME : MG_EV_WS_CTL, msg);
  return true;
}

/** Pieces mode: hands the payload bytes that have arrived to the handler. True: go on parsing. */
function deliver_piece(c: mg_connection, ws: WsConn): boolean {
  const r = c.recv;
  const b = r.buf;
  if (r.len === 0) return false;
  const n = r.len < ws.frame_left ? r.len : ws.frame_left;
  // bytes offered before and not used are already unmasked and checked
  if (ws.mask_pos < n) {
    if (ws.frame_masked) {
      for (let i = ws.mask_pos; i < n; i++) b[i] ^= ws.mask[(ws.frame_pos + i) & 3];
    }
    if (ws.asm_op === WEBSOCKET_OP_TEXT && !utf8_ok(ws, b, ws.mask_pos, n - ws.mask_pos)) {
      ws_fail(c, ws, 1007, "invalid UTF-8 in a text message");
      return false;
    }
    ws.mask_pos = n;
  }
  const last = n === ws.frame_left && ws.frame_fin;
  if (last && ws.asm_op === WEBSOCKET_OP_TEXT && ws.u8_need !== 0) {
    ws_fail(c, ws, 1007, "text message ends inside a UTF-8 sequence");
    return false;
  }
  const msg = ws.msg;
  mg_str_set(msg.data, b, 0, n);
  msg.flags = (last ? 0x80 : 0) | ws.asm_op;
  msg.offset = ws.msg_ofs;
  msg.consumed = n;
  mg_call_user(c, MG_EV_WS_MSG, msg);
  if (ws.dead || c.is_closing) return false;
  let used = msg.consumed;
  if (!(used >= 0)) used = 0;
  if (used > n) used = n;
  mg_iobuf_del(r, 0, used);
  ws.frame_pos += used;
  ws.mask_pos = n - used;
  ws.frame_left -= used;
  ws.msg_ofs += used;
  if (ws.frame_left === 0) {
    ws.mask_pos = 0;
    if (ws.frame_fin) ws.asm_op = 0;
    return true;
  }
  return false; // back-pressure (used < n) or the rest of the frame has not arrived
}

function deliver_empty_piece(c: mg_connection, ws: WsConn): boolean {
  if (!ws.frame_fin) return true; // an empty fragment: nothing to say
  if (ws.asm_op === WEBSOCKET_OP_TEXT && ws.u8_need !== 0) {
    ws_fail(c, ws, 1007, "text message ends inside a UTF-8 sequence");
    return false;
  }
  const msg = ws.msg;
  mg_str_set(msg.data, c.recv.buf, 0, 0);
  msg.flags = 0x80 | ws.asm_op;
  msg.offset = ws.msg_ofs;
  msg.consumed = 0;
  ws.asm_op = 0;
  mg_call_user(c, MG_EV_WS_MSG, msg);
  return true;
}
