// The core's TCP echo path, bundled into one script for the XS worker by
// bench/net.bench.mjs (and bench/tls.bench.mjs, with setup(true): the same
// echo over a TLS connection through the mock's TLS double). Everything is
// made in setup(); roundtrips(n) then runs n round trips of ECHO_SIZE bytes
// through the mock network, so the heap count around it shows what the core
// allocates per round trip.
import { mg_mock, mg_mock_cert, mg_mock_key, mg_mock_peer } from "../hal/mock.js";
import { mg_iobuf_del } from "../src/iobuf.js";
import { MG_EV_ACCEPT, MG_EV_READ, MG_EV_WRITE, mg_connection, mg_listen, mg_mgr, mg_mgr_init, mg_send } from "../src/net.js";
import { mg_tls_init, type mg_tls_opts } from "../src/tls.js";

export const ECHO_SIZE = 1024;

class Bench {
  net: mg_mock | null = null;
  mgr: mg_mgr | null = null;
  peer: mg_mock_peer | null = null;
  tls: mg_tls_opts | null = null;
  out = new Uint8Array(ECHO_SIZE);
  back = new Uint8Array(ECHO_SIZE);
  errors = 0;
}
const B = new Bench();

function echo(c: mg_connection, ev: number): void {
  if (ev === MG_EV_ACCEPT && B.tls !== null) mg_tls_init(c, B.tls);
  if ((ev === MG_EV_READ || ev === MG_EV_WRITE) && c.recv.len > 0) {
    const room = c.send.size - c.send.len;
    const n = c.recv.len < room ? c.recv.len : room;
    if (n > 0 && mg_send(c, c.recv.buf, n)) mg_iobuf_del(c.recv, 0, n);
  }
}

/** tls: the echo over TLS (the mock's double), the handshake done here. */
export function setup(tls = false): void {
  const net = new mg_mock(16, 16384);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  if (tls) B.tls = { cert: mg_mock_cert({ subject: "localhost", issuer: "Test CA", key: "k1" }), key: mg_mock_key("k1") };
  mg_listen(mgr, tls ? "tls://0.0.0.0:7" : "tcp://0.0.0.0:7", echo, null);
  B.net = net;
  B.mgr = mgr;
  B.peer = net.client(7);
  if (tls) {
    B.peer!.tls({ ca: mg_mock_cert({ subject: "Test CA", ca: true }), name: "localhost" });
    for (let i = 0; i < 20 && B.peer!.tls_state !== "open"; i++) net.poll(mgr, 1);
    if (B.peer!.tls_state !== "open") B.errors++;
  }
  for (let i = 0; i < ECHO_SIZE; i++) B.out[i] = (i * 7 + 3) & 255;
}

/** n round trips: send ECHO_SIZE bytes, poll until all of them are back. */
export function roundtrips(n: number): number {
  const net = B.net as mg_mock;
  const mgr = B.mgr as mg_mgr;
  const p = B.peer as mg_mock_peer;
  for (let k = 0; k < n; k++) {
    const got = net.exchange(mgr, p, B.out, ECHO_SIZE, B.back, ECHO_SIZE, 100);
    if (got !== ECHO_SIZE || B.back[ECHO_SIZE - 1] !== B.out[ECHO_SIZE - 1]) B.errors++;
  }
  return B.errors;
}

export function errors(): number {
  return B.errors;
}
