// The pool under abuse (issue 10), on the mock's virtual clock, on Node and
// XS: a full pool gives the slot of the connection that made the least
// progress to a new one; young connections are spared and newcomers wait in
// the backlog meanwhile; refusals only when every slot is being answered,
// logged once a second; per-address limits; the HTTP minimum rate; and the
// target: while 10x the pool drip heads or bodies (and reconnect), normal
// clients of the http-server app are answered within 2 s, every time, on the
// host pool (MG_MAX_CONNS) and on a board's pool of 8.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_mock, mg_mock_cert, mg_mock_key, mg_mock_peer } from "../hal/mock.js";
import {
  MG_EVICT_IDLE_MS,
  MG_EVICT_MIN_AGE_MS,
  MG_HTTP_MIN_RATE,
  MG_HTTP_RATE_WINDOW_MS,
  MG_MAX_CONNS,
} from "../src/config.js";
import { MG_EV_ACCEPT, MG_EV_HTTP_HDRS, MG_EV_HTTP_MSG, mg_connection, mg_listen, mg_mgr, mg_mgr_init, mg_mgr_poll } from "../src/net.js";
import { mg_tls_init } from "../src/tls.js";
import { mg_http_listen, mg_http_reply, mg_http_stream_body, MG_EV_HTTP_CHUNK } from "../src/http.js";
import { mg_fs_packed } from "../src/fs.js";
import { http_server, http_server_app } from "../firmware/http-server/main.js";
import { web_files } from "../firmware/http-server/web.js";
import { ECHO_TCP_IDLE_MS, echo_tcp } from "../firmware/echo/main.js";

const KEY = mg_mock_key("k1");
const SERVER = mg_mock_cert({ subject: "localhost", issuer: "Test CA", key: "k1" });

// --- a rig: a manager on the mock, optionally with a board's pool ---------------

class Rig {
  net: mg_mock;
  mgr = new mg_mgr();
  log = "";
  constructor(pool: number, sockets = 200, size = 4096) {
    this.net = new mg_mock(sockets, size);
    this.net.log_echo = (line: string) => {
      this.log += line;
    };
    mg_mgr_init(this.mgr, this.net);
    if (pool < MG_MAX_CONNS) {
      // a board's pool: only `pool` connections circulate (as test/fuzz.test.ts does)
      let c = this.mgr.free;
      for (let i = 1; i < pool && c !== null; i++) c = c.pool_next;
      if (c !== null) c.pool_next = null;
    }
  }
  poll(n = 1, step = 1): void {
    for (let i = 0; i < n; i++) {
      this.net.now += step;
      mg_mgr_poll(this.mgr, 0);
    }
  }
  /** A client of port that sends data at once. */
  open(port: number, data: string, host = 1): mg_mock_peer {
    const p = this.net.client(port, host)!;
    if (data.length > 0) p.send(data);
    return p;
  }
  conns(): number {
    let n = 0;
    for (let c = this.mgr.conns; c !== null; c = c.next) if (!c.is_listening) n++;
    return n;
  }
}

function status(raw: string): number {
  return raw.startsWith("HTTP/1.") ? Number(raw.slice(9, 12)) : 0;
}

/** A handler that never answers: every request it gets keeps its slot busy. */
function never_answers(): void {}

/** Answers every request with "ok". */
function small_app(c: mg_connection, ev: number): void {
  if (ev === MG_EV_HTTP_MSG) mg_http_reply(c, 200, "", "ok");
}

// --- eviction -----------------------------------------------------------------------

test("a full pool: the new connection takes the slot of the least progress (idle, then slowest), never one being answered", () => {
  const r = new Rig(8);
  let pending: mg_connection | null = null;
  mg_http_listen(r.mgr, "http://0.0.0.0:80", (c, ev, hm) => {
    if (ev !== MG_EV_HTTP_MSG) return;
    if (String(hm.uri) === "/later") pending = c; // answered later: its slot is not for taking
    else mg_http_reply(c, 200, "", "ok");
  }, null);
  // seven slots: an idle keep-alive, two slowloris heads, a slow body, a fast upload, a pending reply, a silent one
  const idle = r.open(80, "GET /a HTTP/1.1\r\n\r\n");
  const loris = r.open(80, "GET / HTTP/1.1\r\nX-a: ");
  const loris2 = r.open(80, "GET / HTTP/1.1\r\nX-b: 123456789012345678901234567890");
  const slow_body = r.open(80, "POST /a HTTP/1.1\r\nContent-Length: 1500\r\n\r\n" + "b".repeat(100));
  const fast = r.open(80, "POST /a HTTP/1.1\r\nContent-Length: 1900\r\n\r\n");
  const later = r.open(80, "GET /later HTTP/1.1\r\n\r\n");
  const silent = r.net.client(80)!;
  r.poll(3);
  assert.is(idle.recv_str(), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  assert.ok(pending !== null);
  assert.is(r.conns(), 7, "the pool is full");
  // time passes; the upload keeps coming, everyone else is stuck
  for (let t = 0; t < 10; t++) {
    fast.send("f".repeat(150));
    r.poll(1, 100);
  }
  const order: string[] = [];
  const named: [string, mg_mock_peer][] = [["idle", idle], ["loris", loris], ["loris2", loris2], ["slow_body", slow_body], ["fast", fast], ["later", later], ["silent", silent]];
  for (let k = 0; k < 5; k++) {
    const n = r.open(80, "GET /x HTTP/1.1\r\n\r\n");
    r.poll(2);
    assert.is(n.recv_str(), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "newcomer " + k + " answered at once");
    // it stays: an idle keep-alive too young to be taken
    for (const [name, p] of named) if (p.closed && order.indexOf(name) < 0) order.push(name);
  }
  // the silent and the idle had made no progress (the longest waiting first),
  // then the slowest heads and the slow body; the upload and the pending reply stay
  assert.equal(order, ["silent", "idle", "loris", "loris2", "slow_body"]);
  // one more: the upload is the only one old enough, but it makes progress:
  // the newcomer waits until a young idle keep-alive may be taken instead
  const sixth = r.open(80, "GET /x HTTP/1.1\r\n\r\n");
  fast.send("f".repeat(5));
  r.poll(2);
  assert.is(sixth.recv_str(), "", "waiting");
  r.poll(1, MG_EVICT_MIN_AGE_MS);
  r.poll(2);
  assert.is(status(sixth.recv_str()), 200, "in, in a young keep-alive's place");
  assert.ok(fast.open && later.open, "the upload and the connection owed an answer kept their slots");
  mg_http_reply(pending!, 200, "", "late");
  r.poll(2);
  assert.ok(later.recv_str().endsWith("late"));
  assert.ok(r.log.includes("evicted in the last second"), r.log);
});

test("young connections are spared: newcomers wait in the backlog, then get in once a slot is MG_EVICT_MIN_AGE_MS old", () => {
  const r = new Rig(8);
  mg_http_listen(r.mgr, "http://0.0.0.0:80", small_app, null);
  const first: mg_mock_peer[] = [];
  for (let i = 0; i < 7; i++) first.push(r.net.client(80)!);
  r.poll(1);
  const late = r.open(80, "GET /x HTTP/1.1\r\n\r\n");
  r.poll(5);
  assert.is(late.recv_str(), "", "waiting: nothing is old enough to evict");
  assert.not.ok(late.closed, "and not refused");
  for (const p of first) assert.ok(p.open);
  r.poll(1, MG_EVICT_MIN_AGE_MS);
  r.poll(2);
  assert.is(late.recv_str(), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "in once a slot may be taken");
  let evicted = 0;
  for (const p of first) if (p.closed) evicted++;
  assert.is(evicted, 1, "one slot, one eviction");
});

test("a TLS handshake in progress is taken only as a last resort: idle and slow connections go first", () => {
  const r = new Rig(8);
  mg_http_listen(r.mgr, "http://0.0.0.0:80", small_app, null);
  mg_http_listen(r.mgr, "https://0.0.0.0:8443", (c, ev) => {
    if (ev === MG_EV_ACCEPT) mg_tls_init(c, { cert: SERVER, key: KEY });
    small_app(c, ev);
  }, null);
  // six slots: three handshakes that take their time (the peer says nothing yet), three slowloris heads
  const hs: mg_mock_peer[] = [];
  for (let i = 0; i < 3; i++) hs.push(r.net.client(8443)!);
  const loris: mg_mock_peer[] = [];
  for (let i = 0; i < 3; i++) loris.push(r.open(80, "GET / HTTP/1.1\r\nX: "));
  r.poll(3);
  assert.is(r.conns(), 6);
  r.poll(1, 200);
  const fresh: mg_mock_peer[] = [];
  for (let i = 0; i < 4; i++) {
    fresh.push(r.open(80, "GET /x HTTP/1.1\r\n\r\n"));
    r.poll(2);
  }
  for (const p of loris) assert.ok(p.closed, "the slowloris heads went first");
  assert.is(status(fresh[2].recv_str()), 200);
  assert.is(fresh[3].recv_str(), "", "the fourth waits rather than break a handshake");
  r.poll(1, MG_EVICT_MIN_AGE_MS);
  r.poll(2);
  assert.is(status(fresh[3].recv_str()), 200, "then takes an idle keep-alive's slot");
  for (const p of hs) assert.ok(p.open, "the handshakes kept their slots");
});

test("every slot being answered: new connections are refused at once, logged once a second, not once each", () => {
  const r = new Rig(8);
  mg_http_listen(r.mgr, "http://0.0.0.0:80", never_answers, null);
  const busy: mg_mock_peer[] = [];
  for (let i = 0; i < 7; i++) {
    const p = r.open(80, "GET /wait HTTP/1.1\r\n\r\n");
    busy.push(p);
  }
  r.poll(3);
  r.log = "";
  let refused = 0;
  for (let i = 0; i < 50; i++) {
    const p = r.net.client(80)!;
    r.poll(1, 10);
    if (p.closed) refused++;
    p.close();
  }
  r.poll(1, 1000);
  assert.is(refused, 50, "refused at once, not left hanging");
  const lines = r.log.split("\n").filter((l) => l.includes("refused in the last second"));
  assert.ok(lines.length >= 1 && lines.length <= 2, "one line a second: " + JSON.stringify(lines));
  let total = 0;
  for (const l of lines) total += Number(/(\d+) refused/.exec(l)![1]);
  assert.is(total, 50, "counted: " + JSON.stringify(lines));
  for (const p of busy) assert.ok(p.open, "the busy ones are untouched");
});

test("per-address limit: an address at its limit gives up its own least progress first, else is refused", () => {
  const r = new Rig(MG_MAX_CONNS);
  r.mgr.max_conns_per_ip = 3;
  mg_http_listen(r.mgr, "http://0.0.0.0:80", small_app, null);
  const mine: mg_mock_peer[] = [];
  for (let i = 0; i < 3; i++) {
    const p = r.net.client(80, 9)!;
    p.send("GET / HTTP/1.1\r\nX: " + "x".repeat(i * 10)); // three incomplete heads, the first the least progress
    mine.push(p);
  }
  r.poll(2);
  // a fourth from the same address: none of its own old enough yet, so refused
  const fourth = r.net.client(80, 9)!;
  r.poll(2);
  assert.ok(fourth.closed, "refused at the limit");
  assert.ok(r.log.includes("1 refused"), r.log);
  // others are not limited by it
  const other = r.net.client(80, 10)!;
  other.send("GET /x HTTP/1.1\r\n\r\n");
  r.poll(2);
  assert.is(status(other.recv_str()), 200);
  // later, the address's own least progress makes room for its new one
  r.poll(1, MG_EVICT_MIN_AGE_MS);
  const fifth = r.net.client(80, 9)!;
  fifth.send("GET /x HTTP/1.1\r\n\r\n");
  r.poll(2);
  assert.is(status(fifth.recv_str()), 200);
  assert.ok(mine[0].closed, "its own slowest was evicted");
  assert.ok(mine[1].open && mine[2].open);
});

test("raw TCP: an idle connection gives its slot after MG_EVICT_IDLE_MS; the echo app's raw TCP expires after ECHO_TCP_IDLE_MS", () => {
  const r = new Rig(8);
  mg_listen(r.mgr, "tcp://0.0.0.0:81", echo_tcp, null);
  const idle: mg_mock_peer[] = [];
  for (let i = 0; i < 7; i++) idle.push(r.net.client(81)!);
  r.poll(2);
  const late = r.net.client(81)!;
  late.send("hi");
  r.poll(1, MG_EVICT_IDLE_MS - 10);
  assert.is(late.recv_str(), "", "not yet: nothing idle long enough");
  r.poll(1, 20);
  r.poll(2);
  assert.is(late.recv_str(), "hi", "an idle one gave its slot");
  let gone = 0;
  for (const p of idle) if (p.closed) gone++;
  assert.is(gone, 1);
  // nobody waiting: the echo app's own idle timeout still frees them
  for (let t = 0; t <= ECHO_TCP_IDLE_MS + 1000; t += 1000) r.poll(1, 1000);
  assert.is(r.conns(), 0, "the echo app's idle timeout freed every raw TCP connection");
});

// --- the minimum rate --------------------------------------------------------------

test("minimum rate: a dripped head or body gets 408 within a window; a body the handler holds back is not penalised", () => {
  const r = new Rig(MG_MAX_CONNS);
  let hold = true;
  mg_http_listen(r.mgr, "http://0.0.0.0:80", (c, ev, hm) => {
    if (ev === MG_EV_HTTP_HDRS && String(hm.uri) === "/held") mg_http_stream_body(c);
    else if (ev === MG_EV_HTTP_CHUNK) hm.chunk_consumed = hold ? 0 : hm.chunk.len; // back-pressure: nothing taken
    else if (ev === MG_EV_HTTP_MSG) mg_http_reply(c, 200, "", "ok");
  }, null);
  const loris = r.open(80, "GET / HTTP/1.1\r\n");
  const body = r.open(80, "POST /b HTTP/1.1\r\nContent-Length: 1000\r\n\r\n");
  const fine = r.open(80, "POST /b HTTP/1.1\r\nContent-Length: 1800\r\n\r\n");
  // fills recv (2 KB) and more: the handler takes nothing for now
  const held = r.open(80, "POST /held HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + "h".repeat(3000));
  r.poll(2);
  let loris_out = "";
  let body_out = "";
  let t = 0;
  for (; t < MG_HTTP_RATE_WINDOW_MS * 2 + 1000; t += 100) {
    if (t % 1000 === 0) {
      loris.send("x"); // 1 byte a second
      body.send("y");
    }
    fine.send("z".repeat(Math.ceil(MG_HTTP_MIN_RATE / 10) * 2)); // twice the minimum
    r.poll(1, 100);
    loris_out += loris.recv_str();
    body_out += body.recv_str();
  }
  assert.is(status(loris_out), 408, "slowloris: " + loris_out);
  assert.is(status(body_out), 408, "slow body: " + body_out);
  assert.ok(loris.closed && body.closed);
  assert.ok(fine.open, "a client at twice the rate is not touched");
  assert.ok(held.open, "a body held back by its handler is not the client's fault");
  hold = false;
  held.send("h".repeat(1000));
  r.poll(5);
  assert.ok(held.open);
});

// --- the target: normal clients within 2 s while 10x the pool attack -----------------

/** One attacking connection: a slowloris head or a slow body, one byte per tick, reconnecting when closed. */
class Attacker {
  p: mg_mock_peer | null = null;
  sent = 0;
  constructor(public body: boolean) {}
}

/** A normal client of the http-server app: connects, sends a request, waits for the whole answer. */
class Client {
  p: mg_mock_peer | null;
  t0: number;
  got = "";
  done = -1;
  constructor(p: mg_mock_peer | null, t0: number) {
    this.p = p;
    this.t0 = t0;
  }
}

function complete(raw: string): boolean {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const m = /\r\nContent-Length: (\d+)/i.exec(raw.slice(0, end));
  return m !== null && raw.length >= end + 4 + Number(m[1]);
}

interface AbuseResult {
  clients: number;
  answered: number;
  worst_ms: number;
  evicted_lines: number;
  attacker_connects: number;
}

/**
 * The http-server app on a pool of `pool`, 10x the pool attacking: half drip
 * a head, half a body, one byte per `drip_ms` each (phases spread), each
 * reconnecting at its next tick when closed. After `ramp_ms`, a normal
 * client every 100 ms (alternately GET /api/stats and POST /api/sum) for
 * `measure_ms`; each is given 2 s.
 */
function abuse(pool: number, drip_ms: number, ramp_ms: number, measure_ms: number, eager = false): AbuseResult {
  const n = 10 * pool;
  const r = new Rig(pool, 2 * (pool + 128) + n + 200, 1024);
  const app = new http_server_app();
  app.opts.fs = new mg_fs_packed(web_files());
  mg_http_listen(r.mgr, "http://0.0.0.0:80", http_server as any, app);
  const STEP = 5;
  const slots = drip_ms / STEP;
  const at: Attacker[][] = [];
  for (let i = 0; i < slots; i++) at.push([]);
  for (let i = 0; i < n; i++) at[Math.floor((i * slots) / n)].push(new Attacker(i % 2 === 1));
  const HEAD = "GET /api/stats HTTP/1.1\r\nHost: dev\r\nUser-Agent: loris\r\n";
  const BODY_HEAD = "POST /api/sum HTTP/1.1\r\nHost: dev\r\nContent-Type: application/json\r\nContent-Length: 1500\r\n\r\n";
  const scratch = new Uint8Array(4096);
  const clients: Client[] = [];
  const res: AbuseResult = { clients: 0, answered: 0, worst_ms: 0, evicted_lines: 0, attacker_connects: 0 };
  let next_client = ramp_ms;
  for (let t = 0, k = 0; t < ramp_ms + measure_ms + 2100; t += STEP, k++) {
    if (eager) {
      // the strongest attacker: a closed connection is made again at once, not at its next tick
      for (const list of at) {
        for (const a of list) {
          if (a.p !== null) {
            while (a.p.recv_into(scratch, 0, scratch.length) > 0);
            if (!a.p.closed) continue;
            a.p.close();
          }
          a.p = r.net.client(80);
          if (a.p === null) continue;
          res.attacker_connects++;
          a.p.send(a.body ? BODY_HEAD : HEAD);
          a.sent = 0;
        }
      }
    }
    for (const a of at[k % slots]) {
      if (a.p !== null) {
        while (a.p.recv_into(scratch, 0, scratch.length) > 0);
        if (a.p.closed) {
          a.p.close();
          a.p = null;
        }
      }
      if (a.p === null) {
        a.p = r.net.client(80);
        if (a.p === null) continue; // the backlog is full: next tick
        res.attacker_connects++;
        a.p.send(a.body ? BODY_HEAD : HEAD);
        a.sent = 0;
      } else {
        a.p.send(a.body ? "1" : (a.sent % 20 === 19 ? "\n" : "a")); // headers never end, bodies never complete
        a.sent++;
      }
    }
    if (t >= next_client && t < ramp_ms + measure_ms) {
      next_client += 100;
      const p = r.net.client(80);
      const cl = new Client(p, t);
      clients.push(cl);
      if (p !== null) {
        if (clients.length % 2 === 0) p.send("GET /api/stats HTTP/1.1\r\nHost: dev\r\n\r\n");
        else p.send('POST /api/sum HTTP/1.1\r\nHost: dev\r\nContent-Length: 13\r\n\r\n{"a":1,"b":2}');
      }
    }
    r.poll(1, STEP);
    for (const cl of clients) {
      if (cl.done >= 0 || cl.p === null) continue;
      cl.got += cl.p.recv_str();
      if (complete(cl.got) && status(cl.got) === 200) {
        cl.done = r.net.now - 1000 - cl.t0; // the mock's clock starts at 1000
        cl.p.close();
      } else if (cl.p.closed) {
        cl.p.close();
        cl.p = null; // closed without an answer
      }
    }
  }
  res.clients = clients.length;
  for (const cl of clients) {
    if (cl.done >= 0 && cl.done <= 2000) res.answered++;
    const ms = cl.done >= 0 ? cl.done : 1e9;
    if (ms > res.worst_ms) res.worst_ms = ms;
  }
  res.evicted_lines = r.log.split("evicted in the last second").length - 1;
  return res;
}

test("while 10x a board's pool of 8 drip heads and bodies, every normal client is answered within 2 s", () => {
  const res = abuse(8, 1000, 3000, 10000);
  assert.is(res.answered, res.clients, JSON.stringify(res));
  assert.ok(res.clients >= 100, "clients: " + res.clients);
  assert.ok(res.evicted_lines > 5, "the attackers were evicted all along: " + JSON.stringify(res));
});

test("while 10x the host pool drip heads and bodies, every normal client is answered within 2 s", () => {
  const res = abuse(MG_MAX_CONNS, 1000, 3000, 5000);
  assert.is(res.answered, res.clients, JSON.stringify(res));
  assert.ok(res.clients >= 50, "clients: " + res.clients);
});

test("the same on a board's pool with attackers that reconnect at once, not at their next tick", () => {
  const res = abuse(8, 1000, 3000, 5000, true);
  assert.is(res.answered, res.clients, JSON.stringify(res));
});

test.run();
