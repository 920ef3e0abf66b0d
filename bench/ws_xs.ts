// The WebSocket echo path, bundled into one script for the XS worker by
// bench/ws.bench.mjs. setup() makes everything and does the handshake;
// echoes(n) then sends n masked text messages of MSG_SIZE bytes through the
// mock network and waits for each one to come back, so the heap count
// around it shows what mgts allocates per echoed message.
// Two server handlers: the echo app's /ws (messages in pieces, sent back as
// fragments) and a plain whole-message echo (mg_ws_send of MG_EV_WS_MSG).
import { mg_mock, mg_mock_peer } from "../hal/mock.js";
import { MG_EV_HTTP_MSG, MG_EV_WS_MSG, mg_connection, mg_mgr, mg_mgr_init, mg_mgr_poll } from "../src/net.js";
import { mg_http_listen } from "../src/http.js";
import { mg_ws_message, mg_ws_send, mg_ws_upgrade } from "../src/ws.js";
import { echo_http } from "../firmware/echo/main.js";

export const MSG_SIZE = 1024;
const HEADER = 4; // the server's frame header for 126..65535 bytes
const MASKED_HEADER = 8;

class Bench {
  net: mg_mock | null = null;
  mgr: mg_mgr | null = null;
  peer: mg_mock_peer | null = null;
  frame = new Uint8Array(MASKED_HEADER + MSG_SIZE);
  back = new Uint8Array(HEADER + MSG_SIZE);
  errors = 0;
}
const B = new Bench();

/** The whole-message echo: what a user writes first. */
function echo_whole(c: mg_connection, ev: number, ev_data: any): void {
  if (ev === MG_EV_HTTP_MSG) mg_ws_upgrade(c, ev_data, null);
  else if (ev === MG_EV_WS_MSG) {
    const m = ev_data as mg_ws_message;
    mg_ws_send(c, m.data, m.data.len, m.flags & 15);
  }
}

const HANDSHAKE =
  "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/** app: true for the echo app's /ws handler, false for the whole-message echo. */
export function setup(app: boolean): void {
  const net = new mg_mock(16, 16384);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  mg_http_listen(mgr, "http://0.0.0.0:80", app ? echo_http : echo_whole, null);
  const p = net.client(80)!;
  p.send(HANDSHAKE);
  for (let i = 0; i < 5; i++) {
    net.now += 1;
    mg_mgr_poll(mgr, 0);
  }
  const n = p.recv_into(B.back, 0, B.back.length);
  if (n < 12 || B.back[9] !== 49 || B.back[10] !== 48 || B.back[11] !== 49) B.errors++; // "101"
  // one masked text frame, made once
  const f = B.frame;
  f[0] = 0x81;
  f[1] = 0x80 | 126;
  f[2] = MSG_SIZE >> 8;
  f[3] = MSG_SIZE & 255;
  f[4] = 0x37;
  f[5] = 0x5a;
  f[6] = 0x91;
  f[7] = 0x0c;
  for (let i = 0; i < MSG_SIZE; i++) f[MASKED_HEADER + i] = (32 + (i % 95)) ^ f[4 + (i & 3)];
  B.net = net;
  B.mgr = mgr;
  B.peer = p;
}

/** n echoes: send one message, poll until its echo is back whole, check it. */
export function echoes(n: number): number {
  const net = B.net as mg_mock;
  const mgr = B.mgr as mg_mgr;
  const p = B.peer as mg_mock_peer;
  const want = HEADER + MSG_SIZE;
  for (let k = 0; k < n; k++) {
    const got = net.exchange(mgr, p, B.frame, B.frame.length, B.back, want, 100);
    const b = B.back;
    if (got !== want || b[0] !== 0x81 || b[1] !== 126 || b[want - 1] !== 32 + ((MSG_SIZE - 1) % 95)) B.errors++;
  }
  return B.errors;
}

export function errors(): number {
  return B.errors;
}
