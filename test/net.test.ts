// The core over the mock network: pool, events, I/O under faults, limits,
// timers, wakeups and the event-driven loop. Runs on Node and on XS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_mock, mg_mock_peer } from "../hal/mock.js";
import { MG_EVICT_IDLE_MS, MG_IO_SIZE, MG_MAX_CONNS, MG_MAX_TIMERS } from "../src/config.js";
import {
  MG_EV_ACCEPT,
  MG_EV_CLOSE,
  MG_EV_CONNECT,
  MG_EV_ERROR,
  MG_EV_OPEN,
  MG_EV_POLL,
  MG_EV_READ,
  MG_EV_RESOLVE,
  MG_EV_WAKEUP,
  MG_EV_WRITE,
  mg_connect,
  mg_connection,
  mg_listen,
  mg_mgr,
  mg_mgr_free,
  mg_mgr_init,
  mg_mgr_poll,
  mg_mgr_run,
  mg_mgr_stop,
  mg_printf,
  mg_send,
  mg_timer_add,
  mg_timer_free,
  mg_wakeup,
  mg_wakeup_init,
  mg_mkpipe,
  mg_wrapfd,
} from "../src/net.js";
import { MG_TIMER_ONCE, MG_TIMER_REPEAT, MG_TIMER_RUN_NOW, mg_timer_expired } from "../src/timer.js";
import { mg_iobuf_del } from "../src/iobuf.js";
import { MG_LL_DEBUG, MG_LL_ERROR, MG_LL_INFO, MG_LL_NONE, MG_ERROR, MG_INFO, MG_DEBUG, mg_log_set, mg_log_set_fn, mg_hexdump } from "../src/log.js";

const EV_NAMES = ["ERROR", "OPEN", "POLL", "RESOLVE", "CONNECT", "ACCEPT", "TLS_HS", "READ", "WRITE", "CLOSE"];

/** A manager on a fresh mock network, with an event recorder. */
function setup(sockets = 200) {
  const net = new mg_mock(sockets, 16384);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const events: string[] = [];
  const record = (c: mg_connection, ev: number, ev_data: any) => {
    if (ev === MG_EV_POLL) return;
    let s = EV_NAMES[ev] ?? String(ev);
    if (ev === MG_EV_ERROR) s += ":" + ev_data;
    events.push(s);
  };
  return { net, mgr, events, record };
}

function echo(c: mg_connection, ev: number) {
  if (ev === MG_EV_READ) {
    // echo what fits, keep the rest for the next write event
    const n = Math.min(c.recv.len, c.send.size - c.send.len);
    if (mg_send(c, c.recv.buf, n)) mg_iobuf_del(c.recv, 0, n);
  } else if (ev === MG_EV_WRITE && c.recv.len > 0) {
    echo(c, MG_EV_READ);
  }
}

function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** Streams data through a peer and collects what comes back, polling as it goes. */
function pump(net: mg_mock, mgr: mg_mgr, p: mg_mock_peer, data: Uint8Array, max_polls = 100000): Uint8Array {
  const got = new Uint8Array(data.length);
  let sent = 0;
  let recv = 0;
  for (let i = 0; i < max_polls && recv < data.length; i++) {
    if (sent < data.length) sent += p.send(data, Math.min(4096, data.length - sent), sent);
    net.poll(mgr);
    recv += p.recv_into(got, recv, data.length - recv);
  }
  return got.subarray(0, recv);
}

test("mg_mgr_init makes the pool; mg_listen fires OPEN on the listener", () => {
  const { net, mgr, events, record } = setup();
  assert.is(mgr.pool.length, MG_MAX_CONNS);
  assert.is(mgr.pool[0].recv.size, MG_IO_SIZE);
  assert.is(mgr.pool[0].send.size, MG_IO_SIZE);
  const c = mg_listen(mgr, "tcp://0.0.0.0:1234", record, null)!;
  assert.ok(c);
  assert.ok(c.is_listening);
  assert.is(c.loc.port, 1234);
  assert.equal(events, ["OPEN"]);
  assert.is(mgr.conns, c);
  assert.is(mg_listen(mgr, "tcp://0.0.0.0:1234", record, null), null, "port in use");
  assert.is(mg_listen(mgr, "tcp://not-an-ip:80", record, null), null, "listen needs an IP");
  net.poll(mgr);
});

test("accepted connections: OPEN then ACCEPT, fn_data and handlers inherited, increasing ids", () => {
  const { net, mgr, events, record } = setup();
  const data = { tag: 1 };
  const seen: any[] = [];
  const l = mg_listen(mgr, "tcp://0.0.0.0:80", (c, ev, ev_data, fn_data) => {
    record(c, ev, ev_data);
    if (ev === MG_EV_ACCEPT) seen.push(fn_data, c.fn_data, c.is_accepted, c.rem.port > 0, c.loc.port);
  }, data)!;
  events.length = 0;
  const p1 = net.client(80)!;
  const p2 = net.client(80)!;
  net.poll(mgr);
  assert.equal(events, ["OPEN", "ACCEPT", "OPEN", "ACCEPT"]);
  assert.equal(seen.slice(0, 5), [data, data, true, true, 80]);
  const ids: number[] = [];
  for (let c = mgr.conns; c !== null; c = c.next) ids.push(c.id);
  assert.equal(ids, [3, 2, 1], "newest first, ids increase");
  assert.ok(l.id === 1);
  p1.close();
  p2.close();
  net.poll(mgr, 2);
  assert.equal(events.filter((e) => e === "CLOSE").length, 2);
  assert.is(mgr.conns, l);
});

test("echo: READ carries the byte count, WRITE the bytes written", () => {
  const { net, mgr } = setup();
  const reads: number[] = [];
  const writes: number[] = [];
  mg_listen(mgr, "tcp://0.0.0.0:7", (c, ev, ev_data) => {
    if (ev === MG_EV_READ) reads.push(ev_data);
    if (ev === MG_EV_WRITE) writes.push(ev_data);
    echo(c, ev);
  }, null);
  const p = net.client(7)!;
  p.send("hello");
  net.poll(mgr, 2);
  assert.is(p.recv_str(), "hello");
  assert.equal(reads, [5]);
  assert.equal(writes, [5]);
});

test("a stream larger than MG_IO_SIZE echoes intact under 1-byte reads and 3-byte writes", () => {
  for (const [rc, wc] of [[0, 0], [1, 0], [0, 3], [7, 5], [1, 1]]) {
    const { net, mgr } = setup();
    net.read_cap = rc;
    net.write_cap = wc;
    mg_listen(mgr, "tcp://0.0.0.0:7", echo, null);
    const p = net.client(7)!;
    const data = bytes(rc === 1 || wc === 1 ? 3000 : 20000, rc + wc);
    const got = pump(net, mgr, p, data);
    assert.is(got.length, data.length, `length with caps ${rc}/${wc}`);
    assert.equal(Array.from(got), Array.from(data), `bytes with caps ${rc}/${wc}`);
  }
});

test("mg_send appends nothing and returns false when the send buffer is full", () => {
  const { net, mgr } = setup();
  let c: mg_connection | null = null;
  mg_listen(mgr, "tcp://0.0.0.0:7", (cc, ev) => {
    if (ev === MG_EV_ACCEPT) c = cc;
  }, null);
  const p = net.client(7)!;
  net.poll(mgr);
  const conn = c as unknown as mg_connection;
  assert.ok(mg_send(conn, new Uint8Array(MG_IO_SIZE - 10)));
  assert.is(conn.send.len, MG_IO_SIZE - 10);
  assert.not.ok(mg_send(conn, new Uint8Array(11)));
  assert.is(conn.send.len, MG_IO_SIZE - 10, "nothing appended");
  assert.is(mg_printf(conn, "%s", "01234567890"), 0, "printf that does not fit appends nothing");
  assert.is(conn.send.len, MG_IO_SIZE - 10);
  assert.is(mg_printf(conn, "%d%s", 12, "345678"), 8);
  assert.ok(mg_send(conn, "") && mg_send(conn, new Uint8Array(2)));
  assert.is(conn.send.len, MG_IO_SIZE);
  net.poll(mgr, 2);
  assert.is(p.available, MG_IO_SIZE);
  assert.ok(mg_send(conn, "é→"), "strings go as UTF-8");
  net.poll(mgr);
  const got = p.recv();
  assert.equal(Array.from(got.subarray(got.length - 5)), [0xc3, 0xa9, 0xe2, 0x86, 0x92]);
});

test("pool full: a new connection waits in the backlog for a slot, takes an idle one's, the listener keeps serving", () => {
  const { net, mgr } = setup(400);
  const log: string[] = [];
  net.log_echo = (s) => log.push(s);
  mg_listen(mgr, "tcp://0.0.0.0:7", echo, null);
  const peers: mg_mock_peer[] = [];
  for (let i = 0; i < MG_MAX_CONNS - 1; i++) peers.push(net.client(7)!);
  net.poll(mgr);
  assert.ok(mgr.free === null, "pool used up");
  const extra = net.client(7)!;
  extra.send("waiting");
  net.poll(mgr, 3);
  assert.not.ok(extra.closed, "not refused: every slot may idle out, so it waits in the backlog");
  assert.is(extra.recv_str(), "", "and is not served yet");
  peers[0].send("still here");
  net.poll(mgr, 2);
  assert.is(peers[0].recv_str(), "still here");
  peers[1].close();
  net.poll(mgr, 3);
  assert.is(extra.recv_str(), "waiting", "a freed slot serves the one that waited");
  // every connection idle for MG_EVICT_IDLE_MS: the next one takes the longest idle one's slot
  for (let i = 2; i < peers.length; i++) peers[i].send("x");
  net.poll(mgr, 2);
  for (let i = 2; i < peers.length; i++) peers[i].recv();
  net.poll(mgr, 1, MG_EVICT_IDLE_MS + 1);
  const late = net.client(7)!;
  late.send("y");
  net.poll(mgr, 3);
  assert.is(late.recv_str(), "y", "an idle connection made room");
  assert.ok(peers[0].closed, "the one idle longest was evicted");
  assert.ok(log.some((l) => l.includes("1 evicted in the last second")), "and it was logged: " + log.join(""));
  assert.is(mg_connect(mgr, "tcp://127.0.0.1:9", null, null), null, "mg_connect returns null when the pool is full");
});

test("mg_connect: OPEN(url), RESOLVE, CONNECT, then data both ways", () => {
  const { net, mgr, events, record } = setup();
  const srv = net.server(5000);
  let url: any = null;
  const c = mg_connect(mgr, "tcp://127.0.0.1:5000", (c, ev, ev_data) => {
    record(c, ev, ev_data);
    if (ev === MG_EV_OPEN) url = ev_data;
    if (ev === MG_EV_CONNECT) mg_send(c, "ping");
  }, null)!;
  assert.ok(c.is_client);
  assert.is(url, "tcp://127.0.0.1:5000");
  assert.ok(c.is_connecting);
  net.poll(mgr, 2);
  assert.equal(events, ["OPEN", "RESOLVE", "CONNECT", "WRITE"]);
  const p = net.accepted(srv)!;
  assert.is(p.recv_str(), "ping");
  p.send("pong");
  net.poll(mgr);
  assert.is(c.recv.len, 4);
  assert.is(c.rem.port, 5000);
  p.close();
  net.poll(mgr, 2);
  assert.equal(events.slice(-2), ["READ", "CLOSE"]);
});

test("mg_connect failures: refused, DNS failure, DNS timeout, connect timeout", () => {
  const { net, mgr, events, record } = setup();
  net.refuse(6000);
  mg_connect(mgr, "tcp://127.0.0.1:6000", record, null);
  net.poll(mgr, 2);
  assert.equal(events, ["OPEN", "RESOLVE", "ERROR:connect failed", "CLOSE"]);

  events.length = 0;
  mg_connect(mgr, "tcp://127.0.0.1:6001", record, null); // nobody listens
  net.poll(mgr, 2);
  assert.equal(events, ["OPEN", "RESOLVE", "ERROR:connect failed", "CLOSE"]);

  events.length = 0;
  net.dns("bad.example", "");
  mg_connect(mgr, "tcp://bad.example:80", record, null);
  net.poll(mgr, 2);
  assert.equal(events, ["OPEN", "ERROR:DNS lookup failed", "CLOSE"]);

  events.length = 0;
  net.dns("slow.example", "127.0.0.1");
  net.dns_delay = 10000;
  mg_connect(mgr, "tcp://slow.example:80", record, null);
  net.poll(mgr, 5, 1000);
  assert.equal(events, ["OPEN", "ERROR:DNS timeout", "CLOSE"]);
  net.dns_delay = 0;

  events.length = 0;
  net.blackhole(6002);
  mg_connect(mgr, "tcp://127.0.0.1:6002", record, null);
  net.poll(mgr, 12, 1000);
  assert.equal(events, ["OPEN", "RESOLVE", "ERROR:connect timeout", "CLOSE"]);
  assert.is(mgr.conns, null, "all freed");
  assert.is(net.in_use(), 0, "no HAL socket leaked");
});

test("a host name resolves through the HAL, then connects", () => {
  const { net, mgr, events, record } = setup();
  net.dns("device.local", "127.0.0.1");
  const srv = net.server(8080);
  const c = mg_connect(mgr, "http://device.local:8080/x", record, null)!;
  assert.ok(c.is_resolving);
  net.poll(mgr, 2);
  assert.equal(events, ["OPEN", "RESOLVE", "CONNECT"]);
  assert.equal(Array.from(c.rem.ip.subarray(0, 4)), [127, 0, 0, 1]);
  assert.is(c.rem.port, 8080);
  assert.ok(net.accepted(srv));
});

test("is_draining sends what is queued then closes; is_closing closes at once", () => {
  const { net, mgr, events, record } = setup();
  mg_listen(mgr, "tcp://0.0.0.0:7", (c, ev, ev_data) => {
    record(c, ev, ev_data);
    if (ev === MG_EV_READ) {
      mg_send(c, "bye");
      if (c.recv.buf[0] === 100 /* d */) c.is_draining = true;
      else c.is_closing = true;
    }
  }, null);
  const a = net.client(7)!;
  a.send("d");
  net.poll(mgr, 3);
  assert.is(a.recv_str(), "bye");
  assert.ok(a.closed);
  const b = net.client(7)!;
  b.send("c");
  net.poll(mgr, 3);
  assert.is(b.recv_str(), "", "nothing sent");
  assert.ok(b.closed);
  assert.equal(events.filter((e) => e === "CLOSE").length, 2);
});

test("is_full stops reads until cleared", () => {
  const { net, mgr } = setup();
  let conn: mg_connection | null = null;
  let reads = 0;
  mg_listen(mgr, "tcp://0.0.0.0:7", (c, ev) => {
    if (ev === MG_EV_ACCEPT) {
      conn = c;
      c.is_full = true;
    }
    if (ev === MG_EV_READ) reads++;
  }, null);
  const p = net.client(7)!;
  p.send("abc");
  net.poll(mgr, 5);
  assert.is(reads, 0);
  (conn as unknown as mg_connection).is_full = false;
  net.poll(mgr);
  assert.is(reads, 1);
});

test("a full recv buffer pauses reading instead of losing bytes", () => {
  const { net, mgr } = setup();
  let conn: mg_connection | null = null;
  mg_listen(mgr, "tcp://0.0.0.0:7", (c, ev) => {
    if (ev === MG_EV_ACCEPT) conn = c;
  }, null);
  const p = net.client(7)!;
  const data = bytes(MG_IO_SIZE + 100);
  p.send(data);
  net.poll(mgr, 3);
  const c = conn as unknown as mg_connection;
  assert.is(c.recv.len, MG_IO_SIZE);
  mg_iobuf_del(c.recv, 0, 1000);
  net.poll(mgr);
  assert.is(c.recv.len, MG_IO_SIZE - 1000 + 100);
  assert.is(c.recv.buf[c.recv.len - 1], data[data.length - 1]);
});

test("peer EOF and reset close quietly: CLOSE without ERROR", () => {
  const { net, mgr, events, record } = setup();
  mg_listen(mgr, "tcp://0.0.0.0:7", record, null);
  const a = net.client(7)!;
  const b = net.client(7)!;
  net.poll(mgr);
  a.send("last words");
  a.close();
  b.reset();
  events.length = 0;
  net.poll(mgr, 3);
  assert.equal(events, ["CLOSE", "READ", "CLOSE"]);
  assert.is(net.in_use(), 1, "only the listener's socket is left");
});

test("a throwing handler: its connection gets ERROR and closes, the others keep working", () => {
  const { net, mgr, events, record } = setup();
  mg_listen(mgr, "tcp://0.0.0.0:7", (c, ev, ev_data) => {
    record(c, ev, ev_data);
    if (ev === MG_EV_READ && c.recv.buf[0] === 33 /* ! */) throw new Error("boom");
    if (ev === MG_EV_CLOSE && c.label === "bad-close") throw new Error("boom in close");
    echo(c, ev);
  }, null);
  const good = net.client(7)!;
  const bad = net.client(7)!;
  net.poll(mgr);
  events.length = 0;
  bad.send("!");
  good.send("ok");
  net.poll(mgr, 3);
  assert.ok(events.includes("ERROR:handler exception: boom"));
  assert.ok(bad.closed);
  assert.is(good.recv_str(), "ok");
  // a handler that throws in MG_EV_CLOSE or MG_EV_ERROR cannot escape either
  for (let c = mgr.conns; c !== null; c = c.next) if (!c.is_listening) c.label = "bad-close";
  good.close();
  net.poll(mgr, 2);
  assert.ok(good.closed);
  assert.is(mgr.conns!.next, null);
});

test("a protocol handler runs before the user handler", () => {
  const { net, mgr } = setup();
  const order: string[] = [];
  const l = mg_listen(mgr, "tcp://0.0.0.0:7", (c, ev) => {
    if (ev === MG_EV_READ) order.push("fn");
  }, null)!;
  l.pfn = (c, ev) => {
    if (ev === MG_EV_READ) order.push("pfn");
  };
  const p = net.client(7)!;
  p.send("x");
  net.poll(mgr, 2);
  assert.equal(order, ["pfn", "fn"]);
});

test("MG_EV_POLL fires on every poll with mg_millis()", () => {
  const { net, mgr } = setup();
  const seen: number[] = [];
  mg_listen(mgr, "tcp://0.0.0.0:7", (c, ev, ev_data) => {
    if (ev === MG_EV_POLL) seen.push(ev_data);
  }, null);
  net.poll(mgr, 3, 10);
  assert.equal(seen, [1010, 1020, 1030]);
});

test("mg_timer_expired: arms, fires each period, catches up, re-arms when time goes back", () => {
  const t = [0];
  assert.not.ok(mg_timer_expired(t, 100, 1000));
  assert.is(t[0], 1100);
  assert.not.ok(mg_timer_expired(t, 100, 1099));
  assert.ok(mg_timer_expired(t, 100, 1100));
  assert.is(t[0], 1200);
  assert.ok(mg_timer_expired(t, 100, 1550), "fell behind");
  assert.is(t[0], 1650, "now + period when more than a period behind");
  assert.not.ok(mg_timer_expired(t, 100, 10), "clock went back: re-armed");
  assert.is(t[0], 110);
});

test("mg_timer_add: once, repeat, run-now, free, table full, a throwing timer", () => {
  const { net, mgr } = setup();
  const calls: string[] = [];
  mg_timer_add(mgr, 100, MG_TIMER_ONCE, (a) => calls.push(a), "once");
  const r = mg_timer_add(mgr, 50, MG_TIMER_REPEAT, (a) => calls.push(a), "rep")!;
  mg_timer_add(mgr, 1000, MG_TIMER_REPEAT | MG_TIMER_RUN_NOW, (a) => calls.push(a), "now");
  mg_timer_add(mgr, 10, MG_TIMER_REPEAT, () => {
    throw new Error("timer boom");
  }, null);
  net.poll(mgr, 1, 0);
  assert.equal(calls, ["now"]);
  net.poll(mgr, 12, 10); // 120 ms
  assert.equal(calls.filter((c) => c === "once").length, 1);
  assert.equal(calls.filter((c) => c === "rep").length, 2);
  mg_timer_free(mgr, r);
  net.poll(mgr, 10, 10);
  assert.equal(calls.filter((c) => c === "rep").length, 2, "freed");
  assert.equal(calls.filter((c) => c === "once").length, 1, "once only");
  let n = 0;
  while (mg_timer_add(mgr, 1, 0, () => {}, null) !== null) n++;
  assert.is(n, MG_MAX_TIMERS - 2, "two repeat timers still hold slots");
});

test("UDP: a listener answers the sender; a client sends datagrams", () => {
  const { net, mgr } = setup();
  mg_listen(mgr, "udp://0.0.0.0:9000", (c, ev) => {
    if (ev === MG_EV_READ) {
      mg_send(c, c.recv.buf, c.recv.len);
      c.recv.len = 0;
    }
  }, null);
  const p = net.udp();
  p.sendto(9000, "datagram one");
  net.poll(mgr, 2);
  assert.is(String.fromCharCode(...p.recvfrom()!), "datagram one");
  const q = net.udp(9100);
  const c = mg_connect(mgr, "udp://127.0.0.1:9100", (c, ev) => {
    if (ev === MG_EV_CONNECT) mg_send(c, "hi udp");
  }, null)!;
  assert.ok(c.is_udp);
  net.poll(mgr, 2);
  assert.is(String.fromCharCode(...q.recvfrom()!), "hi udp");
});

test("mg_wakeup delivers MG_EV_WAKEUP with its payload to the connection with that id", () => {
  const { net, mgr } = setup();
  let got = "";
  let conn: mg_connection | null = null;
  mg_listen(mgr, "tcp://0.0.0.0:7", (c, ev, ev_data) => {
    if (ev === MG_EV_ACCEPT) conn = c;
    if (ev === MG_EV_WAKEUP) got += c.id + ":" + ev_data.toString() + ";";
  }, null);
  net.client(7);
  net.poll(mgr);
  const id = (conn as unknown as mg_connection).id;
  assert.not.ok(mg_wakeup(mgr, id, "x"), "needs mg_wakeup_init");
  assert.ok(mg_wakeup_init(mgr));
  assert.ok(mg_wakeup(mgr, id, "hello"));
  assert.ok(mg_wakeup(mgr, id, new Uint8Array([65, 66])));
  assert.not.ok(mg_wakeup(mgr, 0, "x"), "id 0 is refused");
  net.poll(mgr);
  assert.is(got, `${id}:hello;${id}:AB;`);
  let k = 0;
  while (mg_wakeup(mgr, id, "0123456789")) k++;
  assert.ok(k > 0 && k <= 16, "the queue is bounded");
});

test("mg_mkpipe: data written with mg_wakeup arrives as MG_EV_READ in c.recv", () => {
  const { net, mgr } = setup();
  let got = "";
  const id = mg_mkpipe(mgr, (c, ev, n) => {
    if (ev === MG_EV_READ) {
      got += String.fromCharCode(...c.recv.buf.subarray(0, n)) + "|";
      c.recv.len = 0;
    }
  }, null, false);
  assert.ok(id > 0);
  assert.ok(mg_wakeup(mgr, id, "from a timer"));
  assert.ok(mg_wakeup(mgr, id, new Uint8Array([49, 50])));
  net.poll(mgr);
  assert.is(got, "from a timer|12|");
});

test("mg_mgr_run: polls on socket activity, on timers, and every ms", () => {
  const { net, mgr } = setup();
  let polls = 0;
  mg_listen(mgr, "tcp://0.0.0.0:7", (c, ev) => {
    if (ev === MG_EV_POLL && c.is_listening) polls++; // one count per poll
    echo(c, ev);
  }, null);
  mg_mgr_run(mgr, 500);
  assert.ok(net.fire(), "asks for a first poll at once");
  assert.is(polls, 1);
  assert.not.ok(net.fire(), "then nothing until something happens");
  const p = net.client(7)!;
  p.send("wake");
  let fired = 0;
  while (net.fire()) fired++;
  assert.ok(fired >= 2 && fired < 10, "activity drives polls until the work is done");
  assert.is(p.recv_str(), "wake");
  while (net.fire()); // reading at the peer is activity too
  const before = polls;
  net.advance(499);
  assert.is(polls, before, "no poll before ms");
  net.advance(1);
  assert.is(polls, before + 1, "a poll every ms");
  let tick = 0;
  mg_timer_add(mgr, 100, MG_TIMER_REPEAT, () => tick++, null);
  for (let i = 0; i < 12; i++) net.advance(10); // armed at the first poll, due 100 ms later
  assert.ok(tick >= 1, "timers are polled on time, not at the next ms");
  mg_mgr_stop(mgr);
  const count = polls;
  net.advance(5000);
  assert.is(polls, count, "stopped");
});

test("mg_mgr_free closes every connection with MG_EV_CLOSE", () => {
  const { net, mgr, events, record } = setup();
  mg_listen(mgr, "tcp://0.0.0.0:7", record, null);
  net.client(7);
  net.client(7);
  net.poll(mgr);
  events.length = 0;
  mg_mgr_free(mgr);
  assert.equal(events, ["CLOSE", "CLOSE", "CLOSE"]);
  assert.is(mgr.conns, null);
  assert.is(net.in_use(), 2, "only the test's two client ends remain");
});

test("mg_wrapfd wraps a HAL handle", () => {
  const { net, mgr, events, record } = setup();
  const srv = net.server(4000);
  const fd = net.connect({ port: 4000, ip: new Uint8Array(16), is_ip6: false, scope_id: 0 }, false);
  const c = mg_wrapfd(mgr, fd, record, null)!;
  assert.equal(events, ["OPEN"]);
  mg_send(c, "wrapped");
  net.poll(mgr, 2);
  assert.is(net.accepted(srv)!.recv_str(), "wrapped");
});

test("idle timeout closes a silent connection when configured", () => {
  const { net, mgr, events, record } = setup();
  mgr.idle_timeout = 1000;
  mg_listen(mgr, "tcp://0.0.0.0:7", record, null);
  const p = net.client(7)!;
  net.poll(mgr);
  net.poll(mgr, 5, 100);
  p.send("keep me");
  net.poll(mgr, 9, 100);
  assert.not.ok(p.closed);
  net.poll(mgr, 3, 500);
  assert.ok(p.closed);
});

test("logging: levels, custom sink, hex dumps, is_hexdumping", () => {
  const { net, mgr } = setup();
  const lines: string[] = [];
  mg_log_set_fn((b, o, n) => {
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(b[o + i]);
    lines.push(s);
  });
  mg_log_set(MG_LL_INFO);
  MG_ERROR("e %d", 1);
  MG_INFO("i %s", "two");
  MG_DEBUG("d");
  assert.is(lines.length, 2);
  assert.match(lines[0], / 1 e 1\n$/);
  assert.match(lines[1], / 2 i two\n$/);
  mg_log_set(MG_LL_NONE);
  MG_ERROR("silent");
  assert.is(lines.length, 2);
  mg_log_set(MG_LL_INFO);
  lines.length = 0;
  mg_hexdump(new Uint8Array([0x41, 0x42, 0, 0xff, 0x7a]), 0, 5);
  assert.is(lines.length, 1);
  assert.match(lines[0], /^0000  41 42 00 ff 7a .*AB\.\.z\n$/);
  lines.length = 0;
  const l = mg_listen(mgr, "tcp://0.0.0.0:7", echo, null)!;
  l.is_hexdumping = true;
  const p = net.client(7)!;
  p.send("dump me");
  net.poll(mgr, 2);
  assert.ok(lines.some((s) => s.includes("<-") && s.includes("127.0.0.1:7")), "direction and addresses");
  assert.ok(lines.some((s) => s.includes("dump me")), "the bytes");
  mg_log_set_fn(null);
  mg_log_set(MG_LL_DEBUG);
  mg_log_set(2);
});

test("what a handler throws is caught at its connection: nothing escapes mg_mgr_poll, nothing reaches its catch-all", () => {
  const { net, mgr } = setup();
  mg_log_set(MG_LL_ERROR);
  // mg_mgr_poll's catch-all (and poll_conn's) log "poll: ...": only a bug in
  // mgts gets there, hidden by the net, so it must stay silent here
  const threw: string[] = [];
  const catch_all: string[] = [];
  net.log_echo = (line: string) => {
    if (line.indexOf("handler threw: ") >= 0) threw.push(line);
    if (line.indexOf("poll: ") >= 0) catch_all.push(line);
  };
  const errors: string[] = [];
  mg_listen(mgr, "tcp://0.0.0.0:7", (c, ev, ev_data) => {
    if (ev === MG_EV_ERROR) errors.push(ev_data);
    if (ev === MG_EV_READ) (null as any).boom();
  }, null);
  let sent = 0;
  for (let i = 0; i < 20; i++) {
    const p = net.client(7)!;
    p.send(bytes(100, i));
    if (i % 3 === 0) p.reset(); // the bytes are lost with the reset: this one never reads
    else sent++;
    if (i % 3 === 1) p.close();
    try {
      mg_mgr_poll(mgr, 0);
    } catch (e) {
      assert.unreachable("mg_mgr_poll threw: " + String(e));
    }
  }
  net.poll(mgr, 5);
  net.log_echo = null;
  mg_log_set(2);
  assert.equal(catch_all, [], "the catch-all of mg_mgr_poll caught something");
  assert.is(threw.length, sent, "each throw was logged by the handler's own catch");
  assert.is(errors.length, sent, "and became MG_EV_ERROR on its connection");
  assert.ok(errors.every((e) => e.startsWith("handler exception: ")), errors[0]);
  assert.is(mgr.conns!.next, null, "every bad connection was freed");
});

test.run();
