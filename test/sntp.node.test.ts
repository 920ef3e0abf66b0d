// SNTP over real UDP sockets (hal/node) against a test server made with
// node:dgram on an ephemeral loopback port: a good answer, no answer
// (timeout and retries), Kiss-o'-Death, garbage, a wrong origin, nobody
// listening. Node only.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as dgram from "node:dgram";
import { mg_hal_node } from "../hal/node.js";
import {
  mg_mgr,
  mg_mgr_free,
  mg_mgr_init,
  mg_mgr_run,
  mg_now,
} from "../src/net.js";
import { mg_sntp_connect } from "../src/sntp.js";
import { Got, nonce, ntp_reply, opts, sntp_fn } from "./sntp_util.js";
import { until } from "./hal_suite.js";

type Behaviour = (req: Uint8Array, n: number) => (Uint8Array | string)[];

class Server {
  sock = dgram.createSocket("udp4");
  port = 0;
  requests: Uint8Array[] = [];
  behave: Behaviour = () => [];
  async start(): Promise<void> {
    this.sock.on("message", (msg, rinfo) => {
      const req = new Uint8Array(msg);
      this.requests.push(req);
      for (const out of this.behave(req, this.requests.length)) this.sock.send(typeof out === "string" ? Buffer.from(out, "latin1") : out, rinfo.port, rinfo.address);
    });
    await new Promise<void>((ok) => this.sock.bind(0, "127.0.0.1", ok));
    this.port = this.sock.address().port;
  }
  stop(): Promise<void> {
    return new Promise((ok) => this.sock.close(() => ok()));
  }
}

/** A manager running over real sockets, an SNTP exchange with the server at port, until it closes. */
async function exchange(port: number, timeout_ms: number): Promise<Got> {
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, mg_hal_node());
  mgr.sntp_timeout = timeout_ms;
  const got = new Got();
  assert.ok(mg_sntp_connect(mgr, `udp://127.0.0.1:${port}`, sntp_fn as any, got) !== null);
  mg_mgr_run(mgr, 20);
  const closed = await until(() => got.closed, 10000);
  mg_mgr_free(mgr);
  assert.ok(closed, "the exchange ended within 10 s");
  return got;
}

test("a good answer: MG_EV_SNTP_TIME with the server's time, mg_now() follows it", async () => {
  const s = new Server();
  await s.start();
  const skew = 3600 * 1000; // the server is an hour ahead of this host: the result must come from it
  s.behave = (req) => [ntp_reply(req, opts(Date.now() + skew))];
  const got = await exchange(s.port, 1000);
  await s.stop();
  assert.equal(got.errors, []);
  assert.is(got.times, 1);
  assert.ok(Math.abs(got.time - (Date.now() + skew)) < 1000, `${got.time - Date.now() - skew} ms off`);
  assert.ok(Math.abs(mg_now() - (Date.now() + skew)) < 1000);
  assert.is(s.requests.length, 1);
  assert.is(s.requests[0].length, 48);
  assert.is(s.requests[0][0], 0x23);
});

test("no answer: three requests, each with its own nonce, then MG_EV_ERROR", async () => {
  const s = new Server();
  await s.start();
  const t0 = Date.now();
  const got = await exchange(s.port, 100); // waits 100, 200, 400 ms
  const took = Date.now() - t0;
  await s.stop();
  assert.equal(got.errors, ["SNTP: no reply after 3 requests"]);
  assert.is(got.times, 0);
  assert.is(s.requests.length, 3);
  assert.is(new Set(s.requests.map(nonce)).size, 3);
  assert.ok(took >= 700, `${took} ms`);
});

test("an answer to the second try after the first was lost", async () => {
  const s = new Server();
  await s.start();
  s.behave = (req, n) => (n === 1 ? [] : [ntp_reply(req, opts(Date.now()))]);
  const got = await exchange(s.port, 100);
  await s.stop();
  assert.equal(got.errors, []);
  assert.is(got.times, 1);
  assert.is(s.requests.length, 2);
});

test("Kiss-o'-Death: MG_EV_ERROR with its code, no time", async () => {
  const s = new Server();
  await s.start();
  s.behave = (req) => [ntp_reply(req, opts(Date.now(), (o) => ((o.stratum = 0), (o.refid = "RATE"))))];
  const got = await exchange(s.port, 1000);
  await s.stop();
  assert.equal(got.errors, ["SNTP: kiss-o'-death RATE"]);
  assert.is(got.times, 0);
  assert.is(s.requests.length, 1, "no retry after a KoD");
});

test("garbage: a short datagram is MG_EV_ERROR", async () => {
  const s = new Server();
  await s.start();
  s.behave = () => ["\x1c\x02garbage"];
  const got = await exchange(s.port, 1000);
  await s.stop();
  assert.equal(got.errors, ["SNTP: reply too short (9 bytes)"]);
  assert.is(got.times, 0);
});

test("a wrong origin is ignored, the right answer after it is taken", async () => {
  const s = new Server();
  await s.start();
  s.behave = (req) => [
    ntp_reply(req, opts(Date.now() - 99999, (o) => (o.origin = new Uint8Array(8).fill(1)))),
    ntp_reply(req, opts(Date.now())),
  ];
  const got = await exchange(s.port, 1000);
  await s.stop();
  assert.equal(got.errors, []);
  assert.is(got.times, 1);
  assert.ok(Math.abs(got.time - Date.now()) < 1000, "the second reply's time, not the first's");
});

test("only wrong origins: the timeout error counts them", async () => {
  const s = new Server();
  await s.start();
  s.behave = (req) => [ntp_reply(req, opts(Date.now(), (o) => (o.origin = new Uint8Array(8).fill(1))))];
  const got = await exchange(s.port, 100);
  await s.stop();
  assert.equal(got.errors, ["SNTP: no valid reply (3 ignored: not our origin)"]);
});

test("nobody listening at the port: MG_EV_ERROR, not a hang", async () => {
  const s = new Server();
  await s.start();
  const port = s.port;
  await s.stop(); // the port is closed now: the kernel answers ICMP port unreachable
  const got = await exchange(port, 100);
  assert.is(got.errors.length, 1);
  assert.match(got.errors[0], /^SNTP: (socket error|no reply)/);
  assert.is(got.times, 0);
});

test.run();
