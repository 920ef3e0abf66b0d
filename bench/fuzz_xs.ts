// Rounds of abuse against the echo app over the mock network, bundled for the
// XS worker by bench/fuzz.bench.mjs, which reads the heap after gc() between
// rounds: a leak (a connection, a closure, a buffer kept per bad request)
// shows as a count that keeps growing.
import { mg_mock, mg_mock_bytes } from "../hal/mock.js";
import { mg_listen, mg_mgr, mg_mgr_init, mg_mgr_poll } from "../src/net.js";
import { mg_http_listen } from "../src/http.js";
import { mg_log_set } from "../src/log.js";
import { echo_http, echo_tcp } from "../firmware/echo/main.js";

class State {
  net: mg_mock | null = null;
  mgr: mg_mgr | null = null;
  x = 0x2545f491;
}
const S = new State();

const enc = mg_mock_bytes;
function rnd(n: number): number {
  let x = S.x;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  S.x = x;
  return (x >>> 0) % n;
}

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const INPUTS = [
  "GET /hello HTTP/1.1\r\nHost: d\r\n\r\n",
  "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
  "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  "GET / HTTP/1.1\r\n" + "X-A: 1\r\n".repeat(40) + "\r\n",
  "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
  "POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel",
  `GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n\x81\x02hi\x83\x00`,
  `GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n\x81\x82\x01\x02\x03\x04\xc2\x2a`,
].map(enc);

export function setup(): void {
  mg_log_set(0);
  const net = new mg_mock(32, 8192);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  mgr.idle_timeout = 60000;
  mg_http_listen(mgr, "http://0.0.0.0:80", echo_http, null);
  mg_listen(mgr, "tcp://0.0.0.0:81", echo_tcp, null);
  S.net = net;
  S.mgr = mgr;
}

/** n rounds of 5 hostile clients, then past every timeout; returns live connections (2 = the listeners). */
export function abuse(n: number): number {
  const net = S.net!;
  const mgr = S.mgr!;
  const buf = new Uint8Array(4096);
  for (let round = 0; round < n; round++) {
    for (let k = 0; k < 5; k++) {
      const p = net.client(rnd(5) === 0 ? 81 : 80)!;
      const b = INPUTS[rnd(INPUTS.length)];
      p.send(b, rnd(b.length + 1), 0);
      for (let i = 0; i < 20; i++) {
        net.now += 1;
        mg_mgr_poll(mgr, 0);
        p.recv_into(buf, 0, buf.length);
      }
      if (rnd(2) === 0) p.reset();
      else p.close();
    }
    for (let t = 0; t < 40; t++) {
      net.now += 3000;
      mg_mgr_poll(mgr, 0);
    }
  }
  let live = 0;
  for (let c = mgr.conns; c !== null; c = c.next) live++;
  return live;
}
