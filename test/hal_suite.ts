// The socket tests every real-socket HAL must pass, over 127.0.0.1: run for
// hal/node (test/hal-node.node.test.ts) and for hal/ecma419 over the host
// ECMA-419 emulation (test/hal-ecma419.node.test.ts). Node-only (real
// sockets). Every wait has a deadline, and every handle is closed, so the
// process ends by itself.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as dgram from "node:dgram";
import * as net from "node:net";
import { HAL_CONNECTING, HAL_EOF, HAL_ERROR, HAL_OPEN, type mg_hal } from "../hal/hal.js";
import type { mg_addr } from "../src/net.js";

/** What differs between HALs, by design. */
export interface hal_caps {
  /**
   * The HAL knows the local address of a connected socket and the port a UDP
   * socket bound to. ECMA-419 has neither (only a Listener tells its port).
   */
  local_addr: boolean;
  /** Most datagrams a UDP socket keeps unread before dropping. */
  udp_queue: number;
  /** Fewest it keeps when more came (default udp_queue; less when the HAL reads one ahead only sometimes). */
  udp_queue_min?: number;
  /** Bytes for the bulk transfer test. */
  bulk: number;
}

/** Polls cond until it holds or ms pass; returns whether it held. */
export async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 1));
  }
}

// --- the Node sockets beneath the HALs ----------------------------------------------
//
// Both HALs tested here sit on node:net and node:dgram. A test that must
// show that something did NOT happen waits for the socket event that would
// have made it happen (the FIN arrived, the datagrams arrived, the socket
// closed), then for the event loop to run what the HAL scheduled on it:
// never for time. emit() of net.Socket, net.Server and dgram.Socket is
// wrapped once, recording those events with the local port they happened on.

export interface sock_event {
  ev: string;
  /** The local port (a listener's port for the sockets it accepted). */
  local: number;
  /** The remote port (TCP), 0 for UDP. */
  remote: number;
  sock: net.Socket | dgram.Socket;
}
export const sock_events: sock_event[] = [];
const WATCHED = ["connect", "end", "close", "pause", "resume", "error", "message", "listening"];
let watching = false;
// Node forgets a socket's local port once it is closed: ports are kept from the first sight
const ports = new WeakMap<object, { local: number; remote: number }>();
function ports_of(sock: net.Socket): { local: number; remote: number } {
  let p = ports.get(sock);
  if (p === undefined && (sock.localPort ?? 0) > 0 && (sock.remotePort ?? 0) > 0) {
    p = { local: sock.localPort ?? 0, remote: sock.remotePort ?? 0 };
    ports.set(sock, p);
  }
  return p ?? { local: 0, remote: 0 };
}

/** Starts recording (once per process). */
export function watch_sockets(): void {
  if (watching) return;
  watching = true;
  const sock_emit: (...a: any[]) => boolean = net.Socket.prototype.emit;
  net.Socket.prototype.emit = function (this: net.Socket, ev: string | symbol, ...args: any[]): boolean {
    const r = sock_emit.call(this, ev, ...args);
    if (typeof ev === "string" && WATCHED.includes(ev)) {
      const p = ports_of(this);
      sock_events.push({ ev, local: p.local, remote: p.remote, sock: this });
    }
    return r;
  } as any;
  const srv_emit: (...a: any[]) => boolean = net.Server.prototype.emit;
  net.Server.prototype.emit = function (this: net.Server, ev: string | symbol, ...args: any[]): boolean {
    if (ev === "connection") ports_of(args[0] as net.Socket);
    return srv_emit.call(this, ev, ...args);
  } as any;
  const udp_emit: (...a: any[]) => boolean = dgram.Socket.prototype.emit;
  dgram.Socket.prototype.emit = function (this: dgram.Socket, ev: string | symbol, ...args: any[]): boolean {
    const r = udp_emit.call(this, ev, ...args);
    if (ev === "message" || ev === "listening") {
      let port = 0;
      try {
        port = this.address().port;
      } catch {
        // not bound
      }
      sock_events.push({ ev, local: port, remote: 0, sock: this });
    }
    return r;
  } as any;
}

/** How many recorded events match. */
export function count_events(pred: (e: sock_event) => boolean): number {
  let n = 0;
  for (const e of sock_events) if (pred(e)) n++;
  return n;
}

/** Two turns of the event loop: whatever a HAL scheduled (setImmediate) on the last socket event has run. */
export async function turns(): Promise<void> {
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
}

/** Waits, with a deadline, for n recorded events matching pred, then for the HAL's reaction to them. */
export async function socket_events(pred: (e: sock_event) => boolean, n = 1, ms = 5000): Promise<boolean> {
  const ok = await until(() => count_events(pred) >= n, ms);
  await turns();
  return ok;
}

/** p, or a rejection saying what did not happen when it does not settle within ms. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  const r = new Promise<T>((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`${what}: not within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        ok(v);
      },
      (e) => {
        clearTimeout(t);
        fail(e);
      },
    );
  });
  r.catch(() => {}); // awaited later, or never when the test failed first: no unhandled rejection
  return r;
}

/** An mg_addr made here, so the suite does not load the core (src/net.js) at run time. */
export function addr(): mg_addr {
  return { port: 0, ip: new Uint8Array(16), is_ip6: false, scope_id: 0 };
}

export function loopback(port: number): mg_addr {
  const a = addr();
  a.ip[0] = 127;
  a.ip[3] = 1;
  a.port = port;
  return a;
}

/** a.b.c.d of an IPv4 mg_addr. */
export function ip4(a: mg_addr): string {
  return a.is_ip6 ? "(ipv6)" : `${a.ip[0]}.${a.ip[1]}.${a.ip[2]}.${a.ip[3]}`;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Registers the shared tests for one HAL and runs them. */
export function hal_suite(name: string, hal: mg_hal, caps: hal_caps): void {
  const test = suite(name);
  watch_sockets();

  // Handles a test opened and has not closed yet: closed after each test, so a
  // failing test cannot leave sockets that keep the process alive.
  const opened = new Set<number>();

  function track(h: number): number {
    if (h >= 0) opened.add(h);
    return h;
  }

  function close(h: number): void {
    opened.delete(h);
    hal.close(h);
  }

  test.after.each(() => {
    for (const h of opened) hal.close(h);
    opened.clear();
  });

  function send(h: number, s: string): number {
    const b = enc.encode(s);
    return hal.write(h, b, 0, b.length);
  }

  function recv(h: number): string {
    const b = new Uint8Array(4096);
    const n = hal.read(h, b, 0, hal.readable(h));
    return dec.decode(b.subarray(0, n));
  }

  /** A TCP listener on 127.0.0.1 with its port, once bound. */
  async function listener(): Promise<[number, number]> {
    const l = track(hal.listen(loopback(0), false));
    assert.ok(l >= 0);
    assert.ok(await until(() => hal.state(l) !== HAL_CONNECTING));
    assert.is(hal.state(l), HAL_OPEN);
    const a = addr();
    hal.addr(l, true, a);
    return [l, a.port];
  }

  /** A connected pair: [listener, client, accepted, the listener's port]. */
  async function pair(): Promise<[number, number, number, number]> {
    const [l, port] = await listener();
    const c = track(hal.connect(loopback(port), false));
    assert.ok(c >= 0);
    let s = -1;
    assert.ok(await until(() => (s >= 0 || (s = track(hal.accept(l))) >= 0) && hal.state(c) !== HAL_CONNECTING));
    assert.is(hal.state(c), HAL_OPEN);
    assert.is(hal.state(s), HAL_OPEN);
    return [l, c, s, port];
  }

  /** A UDP socket bound on 127.0.0.1 and its port. Without local_addr the HAL cannot tell a port-0 choice: a port a TCP listener just had is used. */
  async function udp_bound(): Promise<[number, number]> {
    let port = 0;
    if (!caps.local_addr) {
      const [l, p] = await listener();
      close(l);
      port = p;
    }
    const a = track(hal.listen(loopback(port), true));
    assert.ok(a >= 0);
    assert.ok(await until(() => hal.state(a) === HAL_OPEN));
    const aa = addr();
    hal.addr(a, true, aa);
    assert.ok(aa.port > 0);
    if (port > 0) assert.is(aa.port, port);
    return [a, aa.port];
  }

  test("listen on port 0 tells its port; handles are reused", async () => {
    const [l, port] = await listener();
    assert.ok(port > 0);
    const a = addr();
    hal.addr(l, true, a);
    assert.is(ip4(a), "127.0.0.1");
    close(l);
    const l2 = track(hal.listen(loopback(0), false));
    assert.is(l2, l);
    close(l2);
  });

  test("listening twice on one port: fails at once or HAL_ERROR, with error() naming EADDRINUSE", async () => {
    const [l, port] = await listener();
    const l2 = track(hal.listen(loopback(port), false));
    // 127.0.0.1 binds asynchronously on Node: the failure then shows in state()
    if (l2 >= 0) {
      assert.ok(await until(() => hal.state(l2) === HAL_ERROR), "state " + hal.state(l2));
      if (hal.error !== undefined) assert.is(hal.error(l2), "EADDRINUSE: address already in use");
    }
    const u = track(hal.listen(loopback(port), true));
    const u2 = u >= 0 ? track(hal.listen(loopback(port), true)) : -1;
    if (u2 >= 0) {
      assert.ok(await until(() => hal.state(u2) === HAL_ERROR), "UDP state " + hal.state(u2));
      if (hal.error !== undefined) assert.is(hal.error(u2), "EADDRINUSE: address already in use");
    }
    close(l);
  });

  test("bad ports fail at once", () => {
    assert.ok(track(hal.listen(loopback(70000), false)) < 0);
    assert.ok(track(hal.listen(loopback(70000), true)) < 0);
    assert.ok(track(hal.connect(loopback(0), false)) < 0);
    assert.ok(track(hal.connect(loopback(0), true)) < 0);
  });

  test("connect, accept, data both ways, addresses", async () => {
    const [l, c, s] = await pair();
    assert.is(hal.accept(l), -1);
    const cl = addr(), cr = addr(), sl = addr(), sr = addr(), ll = addr();
    hal.addr(c, true, cl);
    hal.addr(c, false, cr);
    hal.addr(s, true, sl);
    hal.addr(s, false, sr);
    hal.addr(l, true, ll);
    assert.is(cr.port, ll.port);
    assert.is(ip4(cr), "127.0.0.1");
    assert.is(sl.port, ll.port);
    assert.is(ip4(sr), "127.0.0.1");
    assert.ok(sr.port > 0);
    if (caps.local_addr) {
      assert.is(sr.port, cl.port);
      assert.is(ip4(cl), "127.0.0.1");
    }

    assert.ok(hal.writable(c) > 0);
    assert.is(send(c, "hello"), 5);
    assert.ok(await until(() => hal.readable(s) === 5));
    assert.is(recv(s), "hello");
    assert.is(hal.readable(s), 0);
    assert.is(hal.read(s, new Uint8Array(8), 0, 8), 0); // nothing: 0, never blocks
    assert.ok(await until(() => hal.writable(s) > 0));
    assert.is(send(s, "world!"), 6);
    assert.ok(await until(() => hal.readable(c) === 6));
    // a short read leaves the rest queued
    const b = new Uint8Array(8);
    assert.is(hal.read(c, b, 1, 2), 2);
    assert.is(dec.decode(b.subarray(1, 3)), "wo");
    assert.is(hal.readable(c), 4);
    assert.is(recv(c), "rld!");
    close(c);
    close(s);
    close(l);
  });

  test("peer close: data first, then HAL_EOF", async () => {
    const [l, c, s, port] = await pair();
    assert.is(send(c, "bye"), 3);
    close(c);
    assert.ok(await until(() => hal.readable(s) === 3));
    // the FIN has reached the accepted socket (and the HAL has seen it)...
    assert.ok(await socket_events((e) => e.ev === "end" && e.local === port), "the FIN arrives");
    assert.is(hal.state(s), HAL_OPEN, "...yet unread bytes keep it open");
    assert.is(recv(s), "bye");
    assert.ok(await until(() => hal.state(s) !== HAL_OPEN));
    assert.is(hal.state(s), HAL_EOF);
    close(s);
    close(l);
  });

  test("bulk through partial writes and a slow reader, then close", async () => {
    const [l, c, s] = await pair();
    const total = caps.bulk;
    const src = new Uint8Array(total);
    for (let i = 0; i < total; i++) src[i] = (i * 7 + (i >> 9)) & 255;
    const dst = new Uint8Array(total);
    let sent = 0, got = 0, zero = false, partial = false, max_queued = 0, closed = false;
    const end = Date.now() + 30000;
    while (got < total && Date.now() < end) {
      if (sent < total) {
        // up to 16 writes per tick, until one takes nothing
        for (let k = 0; k < 16 && sent < total; k++) {
          const offer = Math.min(32768, total - sent);
          const n = hal.write(c, src, sent, offer);
          assert.ok(n >= 0);
          if (n < offer) partial = true;
          if (hal.writable(c) === 0) zero = true;
          sent += n;
          if (n === 0) break;
        }
      } else if (!closed) {
        close(c); // bytes still buffered must arrive anyway
        closed = true;
      }
      // The reader sleeps until the writer has been stopped, then reads 32 KiB per tick.
      if (zero || sent === total) got += hal.read(s, dst, got, Math.min(32768, hal.readable(s)));
      max_queued = Math.max(max_queued, hal.readable(s));
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.is(got, total);
    assert.ok(zero, "writable() reached 0");
    assert.ok(partial, "a write took fewer bytes than offered");
    assert.ok(max_queued <= 192 * 1024, "the unread queue stayed bounded: " + max_queued);
    assert.ok(dst.every((v, i) => v === src[i]));
    assert.ok(await until(() => hal.state(s) === HAL_EOF));
    close(s);
    close(l);
  });

  test("connect to a closed port: HAL_ERROR", async () => {
    const [l, port] = await listener();
    close(l);
    const c = track(hal.connect(loopback(port), false));
    assert.ok(c >= 0);
    assert.is(hal.state(c), HAL_CONNECTING);
    assert.is(hal.writable(c), 0);
    assert.ok(await until(() => hal.state(c) !== HAL_CONNECTING));
    assert.is(hal.state(c), HAL_ERROR);
    assert.is(hal.writable(c), 0);
    assert.ok(send(c, "x") < 0);
    close(c);
  });

  test("UDP echo, truncation, queue cap", async () => {
    const [a, aport] = await udp_bound();
    const b = track(hal.connect(loopback(aport), true));
    assert.ok(b >= 0);
    assert.ok(await until(() => hal.state(b) === HAL_OPEN));
    const ba = addr();
    hal.addr(b, true, ba);
    if (caps.local_addr) assert.ok(ba.port > 0);

    assert.is(send(b, "ping"), 4);
    assert.ok(await until(() => hal.readable(a) > 0));
    assert.is(hal.readable(a), 4);
    const buf = new Uint8Array(64);
    const from = addr();
    assert.is(hal.recvfrom(a, buf, 0, 64, from), 4);
    assert.is(dec.decode(buf.subarray(0, 4)), "ping");
    assert.ok(from.port > 0);
    if (caps.local_addr) assert.is(from.port, ba.port);
    assert.is(ip4(from), "127.0.0.1");
    const pong = enc.encode("pong");
    assert.is(hal.sendto(a, pong, 0, 4, from), 4);
    assert.ok(await until(() => hal.readable(b) > 0));
    assert.is(recv(b), "pong");

    // a datagram cut to the reader's length loses its tail
    assert.is(send(b, "0123456789"), 10);
    assert.is(send(b, "next"), 4);
    assert.ok(await until(() => hal.readable(a) === 10));
    assert.is(hal.recvfrom(a, buf, 0, 4, from), 4);
    assert.is(dec.decode(buf.subarray(0, 4)), "0123");
    assert.ok(await until(() => hal.readable(a) === 4));
    assert.is(hal.recvfrom(a, buf, 0, 64, from), 4);

    // beyond the queue's cap, datagrams are dropped: 100 reach the socket (one at a
    // time, so that the kernel drops none), the HAL keeps exactly the cap
    const at_a = (e: sock_event) => e.ev === "message" && e.local === aport;
    const base = count_events(at_a);
    for (let i = 0; i < 100; i++) {
      send(b, "d" + i);
      assert.ok(await socket_events(at_a, base + i + 1), "datagram " + i + " arrives");
    }
    let n = 0;
    while (hal.readable(a) > 0) n += hal.recvfrom(a, buf, 0, 64, from) > 0 ? 1 : 0;
    assert.ok(n >= (caps.udp_queue_min ?? caps.udp_queue) && n <= caps.udp_queue, "received " + n);
    close(b);
    close(a);
  });

  test("resolve", async () => {
    const out = addr();
    out.port = 1234;
    const r = hal.resolve("localhost", false);
    assert.ok(r >= 0);
    let st = 0;
    assert.ok(await until(() => (st = hal.resolved(r, out)) !== 0, 10000));
    assert.is(st, 1);
    assert.is(ip4(out), "127.0.0.1");
    assert.is(out.port, 1234); // left as is
    assert.is(hal.resolved(r, out), -1); // freed once reported

    const bad = hal.resolve("nonexistent.invalid", false);
    assert.ok(bad >= 0);
    assert.ok(await until(() => (st = hal.resolved(bad, out)) !== 0, 10000));
    assert.is(st, -1);

    const gone = hal.resolve("localhost", false);
    hal.resolve_cancel(gone);
    assert.is(hal.resolved(gone, out), -1);
  });

  test("wake: after data, coalesced, and by the timer", async () => {
    let calls = 0;
    let s = -1;
    let woke_with_data = false;
    const times: number[] = [];
    const fn = () => {
      calls++;
      times.push(hal.millis());
      if (s >= 0 && hal.readable(s) === 1) woke_with_data = true;
    };
    hal.wake(fn, true);
    const [l, c, s2] = await pair();
    s = s2;
    send(c, "x");
    assert.ok(await until(() => woke_with_data), "a wake with the data there to read");
    close(c);
    close(s);
    close(l);
    s = -1;
    await turns(); // wakes already scheduled have run

    // The earliest deadline wins. Timers run in deadline order whatever the
    // load, so once a 100 ms Node timer has fired (and two turns after it),
    // the 30 ms one has called the wake functions.
    calls = 0;
    times.length = 0;
    hal.timer(200);
    hal.timer(30);
    const t0 = hal.millis();
    await new Promise((r) => setTimeout(r, 100));
    await turns();
    assert.is(calls, 1, "the 30 ms deadline woke, once");
    assert.ok(times[0] - t0 >= 29, "not before its time: " + (times[0] - t0) + " ms");
    // ...and it was forgotten with the later one: a new 400 ms request is the next wake
    // (a kept 200 ms deadline would come first)
    hal.timer(400);
    const t1 = hal.millis();
    assert.ok(await until(() => calls === 2, 5000));
    assert.ok(times[1] - t1 >= 399, "woke " + (times[1] - t1) + " ms after asking for 400: an old deadline was kept");

    // two requests for now: one call; the next call is the 60 ms one asked after it
    calls = 0;
    times.length = 0;
    hal.timer(0);
    hal.timer(0);
    assert.ok(await until(() => calls >= 1));
    hal.timer(60);
    const t2 = hal.millis();
    assert.ok(await until(() => times.some((t) => t - t2 >= 59)), "the 60 ms wake");
    assert.is(calls, 2, "one call for both timer(0), then the 60 ms one");

    const throws = () => {
      throw new Error("wake functions' exceptions stay inside the HAL");
    };
    hal.wake(throws, true);
    calls = 0;
    hal.timer(0);
    assert.ok(await until(() => calls === 1), "the others are still called");
    hal.wake(throws, false);
    hal.wake(fn, false);
    hal.timer(5000); // with nobody registered this must not hold the process
    hal.wake(fn, true);
    hal.wake(fn, false); // unregistering the last one drops the timer
  });

  test("millis, random, log", () => {
    const a = hal.millis();
    const b = hal.millis();
    assert.ok(b >= a && Number.isInteger(a));
    const r = new Uint8Array(64);
    hal.random(r, 8, 48);
    assert.ok(r.subarray(0, 8).every((v) => v === 0) && r.subarray(56).every((v) => v === 0));
    assert.ok(r.subarray(8, 56).some((v) => v !== 0));
    const line = enc.encode(`xx  hal/${hal.name} log line\nyy`);
    hal.log(line, 2, line.length - 4);
  });

  test.run();
}
