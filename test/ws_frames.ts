// WebSocket test helpers shared by test/ws-cases.test.ts and
// test/props-ws.test.ts (not a suite itself): client frames, the server's
// answer read back as messages, and a run that feeds bytes to a server in
// given cuts over the mock network.
import * as assert from "uvu/assert";
import { mg_mock } from "../hal/mock.js";
import { MG_EV_HTTP_MSG, MG_EV_WS_MSG, mg_connection, mg_mgr, mg_mgr_init } from "../src/net.js";
import { mg_http_listen } from "../src/http.js";
import { mg_ws_message, mg_ws_send, mg_ws_upgrade } from "../src/ws.js";
import { mg_crc32 } from "../src/util.js";
import { echo_http } from "../firmware/echo/main.js";
import { concat, rng, utf8 } from "./bytes_util.js";

export { rng, utf8 };
export const cat = concat;

// --- frames --------------------------------------------------------------------------

export const TEXT = 1, BINARY = 2, CLOSE = 8, PING = 9, PONG = 10, CONT = 0;

export const hex = (...b: number[]) => new Uint8Array(b);
export function fill(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * seed + (i >> 7)) & 255;
  return b;
}
/** n bytes of ASCII text. */
export function ascii_text(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = 97 + ((i * 7) % 26);
  return b;
}

export interface FrameOpts {
  fin?: boolean;
  rsv?: number;
  mask?: boolean;
}
/** A client frame: masked (unless mask: false), FIN unless fin: false. */
export function F(op: number, payload: Uint8Array = new Uint8Array(0), o: FrameOpts = {}): Uint8Array {
  const n = payload.length;
  const mask = o.mask !== false;
  const h: number[] = [(o.fin === false ? 0 : 0x80) | (o.rsv ?? 0) | op];
  const m = mask ? 0x80 : 0;
  if (n < 126) h.push(m | n);
  else if (n < 65536) h.push(m | 126, n >> 8, n & 255);
  else h.push(m | 127, 0, 0, 0, 0, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
  const key = [0x12, 0x34, 0x56, 0x78];
  if (mask) h.push(...key);
  const out = new Uint8Array(h.length + n);
  out.set(h);
  for (let i = 0; i < n; i++) out[h.length + i] = mask ? payload[i] ^ key[i & 3] : payload[i];
  return out;
}
export function close_frame(code: number, reason: Uint8Array = new Uint8Array(0)): Uint8Array {
  return F(CLOSE, cat(hex(code >> 8, code & 255), reason));
}
/** The header size of a masked client frame with n payload bytes. */
export const H = (n: number) => (n < 126 ? 6 : n < 65536 ? 8 : 14);
export const BYE = close_frame(1000);

// --- what the server sent back, reassembled ---------------------------------------------

export function describe(type: string, b: Uint8Array): string {
  if (b.length <= 48) {
    let s = "";
    for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
    return `${type}:${s}`;
  }
  return `${type}:${b.length}/${(mg_crc32(0, b, 0, b.length) >>> 0).toString(16)}`;
}
export const T = (b: Uint8Array | string) => describe("text", typeof b === "string" ? utf8(b) : b);
export const B = (b: Uint8Array) => describe("binary", b);
export const P = (b: Uint8Array | string = new Uint8Array(0)) => describe("pong", typeof b === "string" ? utf8(b) : b);
export const C = (code: number) => `close:${code}`;
export const C_EMPTY = "close:empty";

/** The server's frames after the 101, as messages (reassembled), pongs and the close; "bad frame" if it broke the protocol. */
export function outcome(raw: number[]): string[] {
  const out: string[] = [];
  let i = 0;
  let msg: number[] | null = null;
  let msg_op = 0;
  while (i + 2 <= raw.length) {
    const b0 = raw[i];
    let n = raw[i + 1] & 127;
    let h = 2;
    if ((raw[i + 1] & 0x80) !== 0) return [...out, "bad frame: masked"];
    if (n === 126) {
      n = (raw[i + 2] << 8) | raw[i + 3];
      h = 4;
    } else if (n === 127) {
      n = raw[i + 6] * 2 ** 24 + (raw[i + 7] << 16) + (raw[i + 8] << 8) + raw[i + 9];
      h = 10;
    }
    if (i + h + n > raw.length) return [...out, "bad frame: cut"];
    const data = new Uint8Array(raw.slice(i + h, i + h + n));
    i += h + n;
    const op = b0 & 15;
    const fin = (b0 & 0x80) !== 0;
    if (op === CLOSE) {
      if (msg !== null) out.push("partial " + describe(msg_op === TEXT ? "text" : "binary", new Uint8Array(msg)));
      out.push(n >= 2 ? C((data[0] << 8) | data[1]) : C_EMPTY);
      if (i < raw.length) out.push("bytes after the close");
      return out;
    }
    if (op === PONG) out.push(describe("pong", data));
    else if (op === PING) out.push("ping from the server");
    else {
      if (op !== CONT) {
        if (msg !== null) return [...out, "bad frame: new message inside one"];
        msg = [];
        msg_op = op;
      } else if (msg === null) return [...out, "bad frame: continuation"];
      for (let k = 0; k < data.length; k++) msg.push(data[k]);
      if (fin) {
        out.push(describe(msg_op === TEXT ? "text" : "binary", new Uint8Array(msg)));
        msg = null;
      }
    }
  }
  if (i < raw.length) out.push("bad frame: cut");
  return out;
}

// --- the servers and the feeding ----------------------------------------------------------

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
export const HANDSHAKE = `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;

/** Whole messages: each echoed with its type (a message that cannot fit MG_IO_SIZE gets 1009). */
export function whole_echo(c: mg_connection, ev: number, ev_data: any): void {
  if (ev === MG_EV_HTTP_MSG) mg_ws_upgrade(c, ev_data, null);
  else if (ev === MG_EV_WS_MSG) {
    const m = ev_data as mg_ws_message;
    mg_ws_send(c, m.data, m.data.len, m.flags & 15);
  }
}

export interface Run {
  items: string[];
  closed: boolean;
  /** Bytes fed when the first close frame came back (-1: none). */
  close_at: number;
}

/** Feeds bytes to a fresh server (the echo app's /ws, or whole_echo) in the given cuts, one poll after each. */
export function run(bytes: Uint8Array, server: "pieces" | "whole", pieces: number[]): Run {
  const net = new mg_mock(8, 1 << 20);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const caught: string[] = [];
  net.log_echo = (line: string) => {
    // mg_mgr_poll's catch-all and mg_call's: an exception that only the net stopped
    if (line.indexOf("poll: ") >= 0 || line.indexOf("handler threw") >= 0) caught.push(line);
  };
  mg_http_listen(mgr, "http://0.0.0.0:80", server === "pieces" ? echo_http : whole_echo, null);
  const p = net.client(80)!;
  p.send(HANDSHAKE);
  let head = "";
  for (let i = 0; i < 20 && head.indexOf("\r\n\r\n") < 0; i++) {
    net.poll(mgr, 1);
    head += p.recv_str();
  }
  assert.ok(head.startsWith("HTTP/1.1 101 "), "handshake: " + head);
  const raw: number[] = [];
  const scratch = new Uint8Array(4096);
  const take = () => {
    for (let n = p.recv_into(scratch, 0, scratch.length); n > 0; n = p.recv_into(scratch, 0, scratch.length)) {
      for (let k = 0; k < n; k++) raw.push(scratch[k]);
    }
  };
  let at = 0;
  let close_at = -1;
  let scan = 0; // the start of the first server frame not looked at yet
  const seen_close = () => {
    while (close_at < 0 && scan + 2 <= raw.length) {
      let n = raw[scan + 1] & 127;
      const h = n === 126 ? 4 : n === 127 ? 10 : 2;
      if (scan + h > raw.length) return;
      if (n === 126) n = (raw[scan + 2] << 8) | raw[scan + 3];
      else if (n === 127) n = raw[scan + 6] * 2 ** 24 + (raw[scan + 7] << 16) + (raw[scan + 8] << 8) + raw[scan + 9];
      if ((raw[scan] & 15) === CLOSE) close_at = at;
      scan += h + n;
    }
  };
  for (const k of pieces) {
    if (p.closed) break;
    p.send(bytes, k, at);
    at += k;
    net.poll(mgr, 1);
    take();
    seen_close();
  }
  for (let i = 0; i < 50 && !p.closed; i++) {
    net.poll(mgr, 1);
    take();
  }
  seen_close();
  assert.equal(caught, [], "caught inside mg_mgr_poll");
  return { items: outcome(raw), closed: p.closed, close_at };
}

