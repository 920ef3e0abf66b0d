// A listener whose bind fails after mg_listen returned, as Node's sockets
// do (the errno comes a turn later): MG_EV_ERROR names the HAL's cause, for
// TCP and UDP listeners alike, and the listener is freed. Runs on Node and on XS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_mock } from "../hal/mock.js";
import { HAL_ERROR } from "../hal/hal.js";
import { MG_EV_CLOSE, MG_EV_ERROR, mg_connection, mg_listen, mg_mgr, mg_mgr_init } from "../src/net.js";

/** The mock, with binds that fail later when asked: the HAL's state and error() for those handles. */
class late_bind extends mg_mock {
  failed: number[] = [];
  cause = "";
  fail(h: number, cause: string): void {
    this.failed.push(h);
    this.cause = cause;
    this.activity();
  }
  override state(h: number): number {
    return this.failed.indexOf(h) >= 0 ? HAL_ERROR : super.state(h);
  }
  override error(h: number): string {
    return this.failed.indexOf(h) >= 0 ? this.cause : super.error(h);
  }
}

function setup() {
  const net = new late_bind();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const events: string[] = [];
  const fn = (c: mg_connection, ev: number, ev_data: any) => {
    if (ev === MG_EV_ERROR) events.push(`${c.is_udp ? "udp" : "tcp"} error: ${ev_data}`);
    else if (ev === MG_EV_CLOSE) events.push(`${c.is_udp ? "udp" : "tcp"} closed`);
  };
  return { net, mgr, events, fn };
}

function listeners(mgr: mg_mgr): number {
  let n = 0;
  for (let c = mgr.conns; c !== null; c = c.next) if (c.is_listening) n++;
  return n;
}

test("a TCP listener whose bind fails later: MG_EV_ERROR with the HAL's cause, then closed", () => {
  const { net, mgr, events, fn } = setup();
  const l = mg_listen(mgr, "tcp://127.0.0.1:8000", fn, null)!;
  assert.ok(l);
  net.poll(mgr, 2);
  assert.equal(events, []);
  net.fail(l.fd, "EADDRINUSE: address already in use");
  net.poll(mgr, 2);
  assert.equal(events, ["tcp error: listener failed: EADDRINUSE: address already in use", "tcp closed"]);
  assert.is(listeners(mgr), 0);
});

test("a UDP listener whose bind fails later is reported and freed too (it used to stay, silent)", () => {
  const { net, mgr, events, fn } = setup();
  const u = mg_listen(mgr, "udp://127.0.0.1:8002", fn, null)!;
  assert.ok(u);
  net.poll(mgr, 2);
  net.fail(u.fd, "EACCES: permission denied");
  net.poll(mgr, 2);
  assert.equal(events, ["udp error: listener failed: EACCES: permission denied", "udp closed"]);
  assert.is(listeners(mgr), 0);
});

test("a HAL with no cause to give: MG_EV_ERROR says the listener failed", () => {
  const { net, mgr, events, fn } = setup();
  const l = mg_listen(mgr, "tcp://127.0.0.1:8000", fn, null)!;
  net.fail(l.fd, "");
  net.poll(mgr, 2);
  assert.equal(events, ["tcp error: listener failed", "tcp closed"]);
});

test.run();
