// SNTP over the mock network and its virtual clock: the request, a good
// answer with the round trip compensated, timeouts and retries, replies to
// other requests, Kiss-o'-Death and every malformed reply class. Runs on
// Node and XS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_mock, mg_mock_peer } from "../hal/mock.js";
import { MG_SNTP_RETRIES, MG_SNTP_TIMEOUT_MS } from "../src/config.js";
import {
  mg_boot_timestamp,
  mg_connection,
  mg_millis,
  mg_mgr,
  mg_mgr_free,
  mg_mgr_init,
  mg_now,
  mg_now_set,
} from "../src/net.js";
import { mg_sntp_connect, mg_sntp_parse, mg_sntp_request } from "../src/sntp.js";
import { Got, nonce, ntp_reply, opts, ReplyOpts, sntp_fn } from "./sntp_util.js";

const T = Date.UTC(2024, 4, 1, 12, 0, 0, 250); // the server's time in these tests

interface Rig {
  net: mg_mock;
  mgr: mg_mgr;
  srv: mg_mock_peer;
  got: Got;
  c: mg_connection;
}
function rig(url = "udp://127.0.0.1:123"): Rig {
  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const srv = net.udp(123);
  const got = new Got();
  const c = mg_sntp_connect(mgr, url, sntp_fn as any, got)!;
  assert.ok(c !== null);
  return { net, mgr, srv, got, c };
}
/** Polls until the server has a request (or 20 polls); returns it or null. */
function next_request(r: Rig): Uint8Array | null {
  for (let i = 0; i < 20; i++) {
    const d = r.srv.recvfrom();
    if (d !== null) return d;
    r.net.poll(r.mgr, 1);
  }
  return null;
}
function answer(r: Rig, pkt: Uint8Array | string): void {
  assert.ok(r.srv.sendto(r.c.loc.port, pkt), "sent to the client's port");
  r.net.poll(r.mgr, 3);
}

test("before a sync mg_now() is the uptime, as in Mongoose; mg_now_set sets the wall clock", () => {
  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  assert.is(mg_boot_timestamp(), 0);
  assert.is(mg_now(), mg_millis());
  assert.is(mg_now(), 1000, "the mock's clock starts at 1000");
  mg_now_set(T);
  net.advance(500);
  assert.is(mg_now(), T + 500);
  assert.is(mg_boot_timestamp(), T - 1000);
  mg_mgr_free(mgr);
});

test("request: 48 bytes, version 4, mode 3, a random transmit timestamp; a good answer sets the clock, fires MG_EV_SNTP_TIME, closes", () => {
  const r = rig();
  const req = next_request(r)!;
  assert.ok(req !== null, "a request");
  assert.is(req.length, 48);
  assert.is(req[0], 0x23, "LI 0, VN 4, mode 3");
  assert.ok(nonce(req) !== "0000000000000000");
  for (let i = 1; i < 40; i++) assert.is(req[i], 0, `byte ${i}`);
  answer(r, ntp_reply(req, opts(T)));
  assert.equal(r.got.errors, []);
  assert.is(r.got.times, 1);
  // the reply came 3 polls (3 ms) after the request left: half of it is added
  assert.ok(Math.abs(r.got.time - T) <= 3, `${r.got.time - T}`);
  assert.is(Number.isInteger(r.got.time), true);
  assert.is(mg_now(), r.got.time + mg_millis() - r.got.at, "mg_now() is the synced time");
  assert.ok(r.got.closed, "closed after the reply, as Mongoose");
  assert.is(r.mgr.conns, null);
  const now = mg_now();
  r.net.advance(1000);
  assert.is(mg_now(), now + 1000, "and it runs on with mg_millis()");
  mg_mgr_free(r.mgr);
});

test("the round trip is compensated: half of (client round trip − server hold time) is added", () => {
  const r = rig();
  const req = next_request(r)!;
  r.net.advance(99); // the request took 100 ms there and back, the server held it 40 ms
  const o = opts(T, (x) => (x.recv_ms = T - 40));
  assert.ok(r.srv.sendto(r.c.loc.port, ntp_reply(req, o)));
  r.net.poll(r.mgr, 1);
  assert.is(r.got.time, T + 30, "T3 + (100 − 40) / 2");
  // a server that fills no receive time: the whole round trip counts
  const r2 = rig();
  const req2 = next_request(r2)!;
  r2.net.advance(59);
  assert.ok(r2.srv.sendto(r2.c.loc.port, ntp_reply(req2, opts(T, (x) => (x.recv_ms = 0)))));
  r2.net.poll(r2.mgr, 1);
  assert.is(r2.got.time, T + 30);
  mg_mgr_free(r.mgr);
  mg_mgr_free(r2.mgr);
});

test("no answer: the request is sent again after the timeout, doubling, then MG_EV_ERROR", () => {
  const r = rig();
  assert.is(r.mgr.sntp_timeout, MG_SNTP_TIMEOUT_MS);
  assert.is(MG_SNTP_RETRIES, 2);
  const first = next_request(r)!;
  const seen = [nonce(first)];
  const at = [r.net.now];
  for (let i = 0; i < 60 * 10 && !r.got.closed; i++) {
    r.net.poll(r.mgr, 1, 100);
    const d = r.srv.recvfrom();
    if (d !== null) {
      seen.push(nonce(d));
      at.push(r.net.now);
    }
  }
  assert.is(seen.length, 3, "three requests in all");
  assert.ok(new Set(seen).size === 3, "each with its own nonce");
  const gaps = [at[1] - at[0], at[2] - at[1]];
  assert.ok(gaps[0] >= 3000 && gaps[0] <= 3200, `${gaps}`);
  assert.ok(gaps[1] >= 6000 && gaps[1] <= 6200, `${gaps}`);
  assert.equal(r.got.errors, ["SNTP: no reply after 3 requests"]);
  assert.ok(r.net.now - at[2] >= 12000, "the last waits 12 s");
  assert.ok(r.got.closed);
  assert.is(r.got.times, 0);
  mg_mgr_free(r.mgr);
});

test("mgr.sntp_timeout sets the wait at run time", () => {
  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  mgr.sntp_timeout = 200;
  net.udp(123);
  const got = new Got();
  mg_sntp_connect(mgr, "udp://127.0.0.1:123", sntp_fn as any, got);
  for (let i = 0; i < 20 && !got.closed; i++) net.poll(mgr, 1, 100); // 200 + 400 + 800 ms
  assert.equal(got.errors, ["SNTP: no reply after 3 requests"]);
  mg_mgr_free(mgr);
});

test("a late answer to an earlier try is ignored; the answer to the current one is taken", () => {
  const r = rig();
  const req1 = next_request(r)!;
  let req2: Uint8Array | null = null;
  for (let t = 0; t < 3200 && req2 === null; t += 100) {
    r.net.poll(r.mgr, 1, 100);
    req2 = r.srv.recvfrom();
  }
  assert.ok(req2 !== null && nonce(req2) !== nonce(req1), "a second request");
  if (req2 === null) return;
  answer(r, ntp_reply(req1, opts(T - 5000)));
  assert.is(r.got.times, 0, "not an answer to this request");
  assert.equal(r.got.errors, []);
  assert.not.ok(r.got.closed);
  answer(r, ntp_reply(req2, opts(T)));
  assert.is(r.got.times, 1);
  assert.ok(Math.abs(r.got.time - T) <= 3, `${r.got.time - T}`);
  mg_mgr_free(r.mgr);
});

test("replies with a wrong origin are ignored, a forged Kiss-o'-Death too; only those: the timeout says so", () => {
  const r = rig();
  const req = next_request(r)!;
  const wrong = new Uint8Array(8).fill(7);
  answer(r, ntp_reply(req, opts(T, (o) => (o.origin = wrong))));
  answer(r, ntp_reply(req, opts(T, (o) => ((o.origin = wrong), (o.stratum = 0), (o.refid = "DENY")))));
  answer(r, new Uint8Array(48)); // 48 zero bytes: origin 0
  assert.is(r.got.times, 0);
  assert.equal(r.got.errors, []);
  assert.not.ok(r.got.closed);
  for (let i = 0; i < 300 && !r.got.closed; i++) r.net.poll(r.mgr, 1, 100);
  assert.equal(r.got.errors, ["SNTP: no valid reply (3 ignored: not our origin)"]);
  mg_mgr_free(r.mgr);
});

test("Kiss-o'-Death: MG_EV_ERROR with the kiss code, the clock left alone, closed", () => {
  for (const code of ["RATE", "DENY", "RSTR"]) {
    const r = rig();
    const before = mg_boot_timestamp();
    const req = next_request(r)!;
    answer(r, ntp_reply(req, opts(T, (o) => ((o.stratum = 0), (o.refid = code), (o.li = 3)))));
    assert.equal(r.got.errors, [`SNTP: kiss-o'-death ${code}`]);
    assert.is(r.got.times, 0);
    assert.ok(r.got.closed);
    assert.is(mg_boot_timestamp(), before);
    mg_mgr_free(r.mgr);
  }
});

test("malformed replies to our request are MG_EV_ERROR with the reason, and close", () => {
  const cases: [string, (req: Uint8Array) => Uint8Array | string][] = [
    ["SNTP: reply too short (5 bytes)", () => "hello"],
    ["SNTP: reply too short (47 bytes)", (req) => ntp_reply(req, opts(T)).slice(0, 47)],
    ["SNTP: not a server reply (mode 3)", (req) => ntp_reply(req, opts(T, (o) => (o.mode = 3)))],
    ["SNTP: not a server reply (mode 0)", (req) => ntp_reply(req, opts(T, (o) => (o.mode = 0)))],
    ["SNTP: unsupported version 2", (req) => ntp_reply(req, opts(T, (o) => (o.version = 2)))],
    ["SNTP: unsupported version 7", (req) => ntp_reply(req, opts(T, (o) => (o.version = 7)))],
    ["SNTP: server clock not synchronized (LI 3)", (req) => ntp_reply(req, opts(T, (o) => (o.li = 3)))],
    ["SNTP: server clock not synchronized (stratum 16)", (req) => ntp_reply(req, opts(T, (o) => (o.stratum = 16)))],
    ["SNTP: reply without a transmit time", (req) => ntp_reply(req, opts(0))],
  ];
  for (const [why, make] of cases) {
    const r = rig();
    const before = mg_boot_timestamp();
    const req = next_request(r)!;
    answer(r, make(req));
    assert.equal(r.got.errors, [why]);
    assert.is(r.got.times, 0, why);
    assert.ok(r.got.closed, why);
    assert.is(mg_boot_timestamp(), before, why);
    mg_mgr_free(r.mgr);
  }
});

test("version 3 servers and broadcast mode are accepted, as Mongoose does; LI 1 and 2 (a leap second ahead) too", () => {
  for (const set of [(o: ReplyOpts) => (o.version = 3), (o: ReplyOpts) => (o.mode = 5), (o: ReplyOpts) => (o.li = 1), (o: ReplyOpts) => (o.stratum = 15)]) {
    const r = rig();
    const req = next_request(r)!;
    answer(r, ntp_reply(req, opts(T, set)));
    assert.is(r.got.times, 1, String(set));
    mg_mgr_free(r.mgr);
  }
});

test("NTP era 1: a server time after February 2036 is read as such", () => {
  const later = Date.UTC(2040, 0, 1, 0, 0, 0);
  const r = rig();
  const req = next_request(r)!;
  answer(r, ntp_reply(req, opts(later)));
  assert.ok(Math.abs(r.got.time - later) <= 3, `${new Date(r.got.time).toISOString()}`);
  mg_mgr_free(r.mgr);
});

test("mg_sntp_request: refused while resolving; sends a new request with a new nonce on demand", () => {
  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const srv = net.udp(123);
  net.dns("time.example", "127.0.0.1");
  net.dns_delay = 50;
  const got = new Got();
  const c = mg_sntp_connect(mgr, "udp://time.example:123", sntp_fn as any, got)!;
  assert.ok(c.is_resolving);
  assert.is(mg_sntp_request(c), false, "wait until resolved");
  for (let i = 0; i < 60 && srv.available === 0; i++) net.poll(mgr, 1);
  const a = srv.recvfrom()!;
  assert.ok(a !== null, "sent once resolved");
  assert.is(mg_sntp_request(c), true);
  net.poll(mgr, 2);
  const b = srv.recvfrom()!;
  assert.ok(b !== null && nonce(b) !== nonce(a));
  assert.ok(srv.sendto(c.loc.port, ntp_reply(a, opts(T))));
  net.poll(mgr, 2);
  assert.is(got.times, 0, "an answer to the replaced request is ignored");
  assert.ok(srv.sendto(c.loc.port, ntp_reply(b, opts(T))));
  net.poll(mgr, 2);
  assert.is(got.times, 1);
  mg_mgr_free(mgr);
});

test("mg_sntp_connect: null is Mongoose's default server; a URL that is not udp:// is refused; a failing name is MG_EV_ERROR", () => {
  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const srv = net.udp(123);
  net.dns("time.google.com", "127.0.0.1");
  const got = new Got();
  assert.is(mg_sntp_connect(mgr, "tcp://127.0.0.1:123", sntp_fn as any, got), null);
  assert.is(mg_sntp_connect(mgr, "time.google.com:123", sntp_fn as any, got), null);
  const c = mg_sntp_connect(mgr, null, sntp_fn as any, got)!;
  assert.ok(c !== null);
  for (let i = 0; i < 10 && srv.available === 0; i++) net.poll(mgr, 1);
  assert.ok(srv.recvfrom() !== null, "time.google.com:123 asked");
  net.dns("nowhere.example", "");
  const bad = new Got();
  mg_sntp_connect(mgr, "udp://nowhere.example:123", sntp_fn as any, bad);
  net.poll(mgr, 3);
  assert.equal(bad.errors, ["DNS lookup failed"]);
  mg_mgr_free(mgr);
});

test("mg_sntp_parse: the transmit time of a valid reply, -1 for a bad one; no side effects", () => {
  const req = new Uint8Array(48);
  const before = mg_boot_timestamp();
  const good = ntp_reply(req, opts(T));
  assert.is(mg_sntp_parse(good, 0, 48), T);
  const framed = new Uint8Array(60);
  framed.set(good, 12);
  assert.is(mg_sntp_parse(framed, 12, 48), T, "at an offset");
  assert.is(mg_sntp_parse(good, 0, 47), -1);
  assert.is(mg_sntp_parse(ntp_reply(req, opts(T, (o) => (o.stratum = 0))), 0, 48), -1);
  assert.is(mg_sntp_parse(ntp_reply(req, opts(T, (o) => (o.mode = 3))), 0, 48), -1);
  assert.is(mg_boot_timestamp(), before);
});

test("many exchanges in a row leave nothing behind: pool and sockets free", () => {
  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const srv = net.udp(123);
  const sockets = net.in_use();
  const got = new Got();
  for (let k = 0; k < 100; k++) {
    const c = mg_sntp_connect(mgr, "udp://127.0.0.1:123", sntp_fn as any, got)!;
    net.poll(mgr, 1);
    const req = srv.recvfrom()!;
    // a mix: good, KoD, garbage
    const pkt = k % 3 === 0 ? ntp_reply(req, opts(T + k)) : k % 3 === 1 ? ntp_reply(req, opts(T, (o) => (o.stratum = 0))) : "x";
    srv.sendto(c.loc.port, pkt);
    net.poll(mgr, 2);
  }
  assert.is(got.times, 34);
  assert.is(got.errors.length, 66);
  assert.is(mgr.conns, null);
  assert.is(net.in_use(), sockets);
  mg_mgr_free(mgr);
});

test.run();
