// JSON-RPC and SNTP on XS, bundled into one script for the worker by
// bench/rpc.bench.mjs. setup() makes everything; run(name, n) then does n
// rounds of one case, so the heap count around it shows what one round
// allocates.
import { mg_mock, mg_mock_peer } from "../hal/mock.js";
import { MG_EV_HTTP_MSG, MG_EV_READ, MG_EV_SNTP_TIME, MG_EV_WS_MSG, mg_connect, mg_connection, mg_listen, mg_mgr, mg_mgr_init, mg_mgr_poll, mg_send } from "../src/net.js";
import { mg_http_listen } from "../src/http.js";
import { WEBSOCKET_OP_TEXT, mg_ws_message, mg_ws_send, mg_ws_upgrade } from "../src/ws.js";
import { mg_iobuf } from "../src/iobuf.js";
import { mg_json_get_num } from "../src/json.js";
import { mg_str, mg_str_set, mg_utf8_encode } from "../src/str.js";
import { mg_pfn_iobuf, mg_rpc_add, mg_rpc_head, mg_rpc_list, mg_rpc_ok, mg_rpc_process, mg_rpc_req } from "../src/rpc.js";
import { mg_sntp_connect } from "../src/sntp.js";

const SUM = '{"id":1,"method":"sum","params":[1,2]}';
const SUM_REPLY = '{"id":1,"result":3}';
const WS_HEADER = 2;
const MASKED_HEADER = 6;

class Bench {
  head = new mg_rpc_head();
  req = new mg_rpc_req();
  io = new mg_iobuf(1024);
  frames: mg_str[] = [];
  want: number[] = [];
  // RPC over a WebSocket on the mock network
  net: mg_mock | null = null;
  mgr: mg_mgr | null = null;
  peer: mg_mock_peer | null = null;
  ws_frame = new Uint8Array(MASKED_HEADER + SUM.length);
  back = new Uint8Array(64);
  ws_req = new mg_rpc_req();
  ws_view = mg_str();
  // SNTP
  sntp_reply = new Uint8Array(48);
  sntp_times = 0;
  errors = 0;
}
const B = new Bench();

function sum(r: mg_rpc_req): void {
  const a = mg_json_get_num(r.frame, "$.params[0]") ?? 0;
  const b = mg_json_get_num(r.frame, "$.params[1]") ?? 0;
  mg_rpc_ok(r, "%d", a + b);
}
function yes(r: mg_rpc_req): void {
  mg_rpc_ok(r, "true");
}

function ws_out(buf: Uint8Array, ofs: number, len: number, c: mg_connection): void {
  if (mg_ws_send(c, mg_str_set(B.ws_view, buf, ofs, len), len, WEBSOCKET_OP_TEXT) === 0) B.errors++;
}
function ws_rpc(c: mg_connection, ev: number, ev_data: any): void {
  if (ev === MG_EV_HTTP_MSG) mg_ws_upgrade(c, ev_data, null);
  else if (ev === MG_EV_WS_MSG) {
    const r = B.ws_req;
    r.frame = (ev_data as mg_ws_message).data;
    r.pfn_data = c;
    mg_rpc_process(r);
  }
}

/** A UDP listener answering SNTP requests: the reply made in c.send from the request in c.recv. */
function sntp_server(c: mg_connection, ev: number): void {
  if (ev !== MG_EV_READ) return;
  const rep = B.sntp_reply;
  for (let i = 0; i < 8; i++) rep[24 + i] = c.recv.buf[40 + i];
  c.recv.len = 0;
  mg_send(c, rep, 48, 0);
}
function sntp_fn(c: mg_connection, ev: number): void {
  if (ev === MG_EV_SNTP_TIME) B.sntp_times++;
}

const HANDSHAKE =
  "GET /rpc HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

// name, frame, the reply's length (0: none)
const CASES: [string, string][] = [
  ["sum", SUM],
  ["true", '{"id":1,"method":"yes"}'],
  ["notification", '{"method":"sum","params":[1,2]}'],
  ["not_found", '{"id":1,"method":"nope"}'],
  ["parse_error", '{"id":1,"method":'],
  ["invalid", '{"id":1,"method":7}'],
  ["list", '{"id":1,"method":"rpc.list"}'],
];

export function setup(): void {
  mg_rpc_add(B.head, "rpc.list", mg_rpc_list, null);
  mg_rpc_add(B.head, "yes", yes, null);
  mg_rpc_add(B.head, "sum", sum, null);
  mg_rpc_add(B.head, "sys.*", yes, null);
  const r = B.req;
  r.head = B.head;
  r.pfn = mg_pfn_iobuf;
  r.pfn_data = B.io;
  for (const [, f] of CASES) {
    B.frames.push(mg_str(f));
    r.frame = B.frames[B.frames.length - 1];
    B.io.len = 0;
    mg_rpc_process(r);
    B.want.push(B.io.len);
  }
  if (B.want[0] !== SUM_REPLY.length || B.want[2] !== 0) B.errors++;

  const net = new mg_mock(16, 16384);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  mg_http_listen(mgr, "http://0.0.0.0:80", ws_rpc, null);
  const p = net.client(80)!;
  p.send(HANDSHAKE);
  for (let i = 0; i < 5; i++) {
    net.now += 1;
    mg_mgr_poll(mgr, 0);
  }
  const n = p.recv_into(B.back, 0, B.back.length);
  if (n < 12 || B.back[9] !== 49) B.errors++;
  while (p.recv_into(B.back, 0, B.back.length) > 0);
  const f = B.ws_frame;
  f[0] = 0x81;
  f[1] = 0x80 | SUM.length;
  const body = mg_utf8_encode(SUM);
  for (let i = 0; i < 4; i++) f[2 + i] = 0x11 * (i + 1);
  for (let i = 0; i < body.length; i++) f[MASKED_HEADER + i] = body[i] ^ f[2 + (i & 3)];
  B.ws_req.head = B.head;
  B.ws_req.pfn = ws_out;
  B.net = net;
  B.mgr = mgr;
  B.peer = p;
  mg_listen(mgr, "udp://0.0.0.0:123", sntp_server, null);
  const reply = B.sntp_reply;
  reply[0] = 0x24; // version 4, mode 4
  reply[1] = 2;
  reply[40] = 0xe9; // a transmit time in 2024
  reply[41] = 0xd8;
}

/** n rounds of one case. */
export function run(name: string, n: number): void {
  const net = B.net!;
  const mgr = B.mgr!;
  if (name === "ws") {
    const want = WS_HEADER + SUM_REPLY.length;
    for (let k = 0; k < n; k++) {
      const got = net.exchange(mgr, B.peer!, B.ws_frame, B.ws_frame.length, B.back, want, 20);
      if (got !== want || B.back[0] !== 0x81 || B.back[want - 1] !== 125) B.errors++;
    }
    return;
  }
  if (name === "connect_control") {
    // what mg_connect and the close of a UDP connection cost by themselves
    for (let k = 0; k < n; k++) {
      const c = mg_connect(mgr, "udp://127.0.0.1:123", null, null);
      if (c === null) B.errors++;
      else c.is_closing = true;
      net.now += 1;
      mg_mgr_poll(mgr, 0);
    }
    return;
  }
  if (name === "sntp") {
    // a whole exchange with the SNTP server above (in this manager: all of it is core code)
    for (let k = 0; k < n; k++) {
      if (mg_sntp_connect(mgr, "udp://127.0.0.1:123", sntp_fn as any, null) === null) B.errors++;
      for (let p = 0; p < 4; p++) {
        net.now += 1;
        mg_mgr_poll(mgr, 0);
      }
      if (mgr.conns !== null && mgr.conns.is_client) B.errors++; // closed after the reply
    }
    return;
  }
  const i = CASES.findIndex((x) => x[0] === name);
  const r = B.req;
  r.frame = B.frames[i];
  const want = B.want[i];
  for (let k = 0; k < n; k++) {
    B.io.len = 0;
    mg_rpc_process(r);
    if (B.io.len !== want) B.errors++;
  }
}

export function sntp_times(): number {
  return B.sntp_times;
}
export function errors(): number {
  return B.errors;
}
export const CASE_NAMES = CASES.map((c) => c[0]);
