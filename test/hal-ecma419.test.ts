// hal/ecma419 against a scripted fake of Moddable's socket classes: the
// device-only paths that loopback cannot show (the lin simulator losing
// onError, a table full at accept, stale callbacks, a platform that throws),
// and the rules the HAL keeps (never read past the count, write at most the
// writable count, Listener.read() exactly as announced, close() once, no view
// per read). Imports nothing from node: runs on Node and on XS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { HAL_CONNECTING, HAL_EOF, HAL_ERROR, HAL_OPEN } from "../hal/hal.js";
import {
  mg_hal_ecma419,
  type ecma419_listener_options,
  type ecma419_packet,
  type ecma419_platform,
  type ecma419_tcp_options,
  type ecma419_udp_options,
} from "../hal/ecma419.js";
import { mg_addr } from "../src/net.js";

// --- the fake platform ---------------------------------------------------------

const made: FakeTCP[] = [];

class FakeTCP {
  target: any;
  o: ecma419_tcp_options;
  rx: number[] = []; // bytes the platform holds unread
  tx: number[] = []; // bytes written
  wr = 0;
  closes = 0;
  failed = false;
  views = new Set<any>(); // distinct view objects passed to read/write
  remoteAddress: string | undefined = "10.0.0.7";
  remotePort: number | undefined = 5555;
  constructor(o: ecma419_tcp_options) {
    this.o = o;
    this.target = o.target;
    made.push(this);
  }
  read(v: Uint8Array): number {
    if (this.closes > 0) throw new Error("closed");
    this.views.add(v);
    if (v.byteLength > this.rx.length || v.byteLength <= 0) throw new Error("invalid");
    for (let i = 0; i < v.byteLength; i++) v[i] = this.rx.shift()!;
    return v.byteLength;
  }
  write(v: Uint8Array): number | undefined {
    if (this.closes > 0) throw new Error("closed");
    this.views.add(v);
    if (this.failed) return undefined;
    if (v.byteLength > this.wr) throw new Error("would block");
    for (let i = 0; i < v.byteLength; i++) this.tx.push(v[i]);
    this.wr -= v.byteLength;
    return this.wr;
  }
  close(): void {
    this.closes++;
  }
  // the platform's side
  arrive(bytes: number[]): void {
    this.rx.push(...bytes);
    this.o.onReadable!.call(this as any, this.rx.length);
  }
  writable(n: number): void {
    this.wr = n;
    this.o.onWritable!.call(this as any, n);
  }
  error(): void {
    this.o.onError!.call(this as any);
  }
}

class FakeListener {
  static last: FakeListener;
  target: any;
  o: ecma419_listener_options;
  pending: FakeTCP[] = [];
  reads = 0;
  overreads = 0;
  closes = 0;
  port = 4321;
  constructor(o: ecma419_listener_options) {
    if (o.port === 99) throw new Error("bind failed");
    this.o = o;
    this.target = o.target;
    if (o.port !== 0) this.port = o.port!;
    FakeListener.last = this;
  }
  read(): FakeTCP | undefined {
    this.reads++;
    const t = this.pending.shift();
    if (t === undefined) this.overreads++;
    return t;
  }
  close(): void {
    this.closes++;
  }
  connect(n: number): void {
    for (let i = 0; i < n; i++) this.pending.push(new FakeTCP({}));
    this.o.onReadable!.call(this as any, this.pending.length);
  }
}

class FakeUDP {
  static last: FakeUDP;
  target: any;
  o: ecma419_udp_options;
  queue: ecma419_packet[] = [];
  sent: [number[], string, number][] = [];
  closes = 0;
  constructor(o: ecma419_udp_options) {
    this.o = o;
    this.target = o.target;
    FakeUDP.last = this;
  }
  read(): ecma419_packet | undefined {
    return this.queue.shift();
  }
  write(b: Uint8Array, address: string, port: number): void {
    this.sent.push([Array.from(b), address, port]);
  }
  close(): void {
    this.closes++;
  }
  arrive(bytes: number[], address: string, port: number): void {
    const p = new Uint8Array(bytes).buffer as ecma419_packet;
    p.address = address;
    p.port = port;
    this.queue.push(p);
    this.o.onReadable!.call(this as any, this.queue.length);
  }
}

class Clock {
  now = 1000;
  armed = -1; // ms of the last arm(), -1 when disarmed
  arms = 0;
  fn: (() => void) | null = null;
  fire(): void {
    this.armed = -1;
    this.fn!();
  }
}

const logged: string[] = [];
const resolving: [string, (name: string, address?: string) => void][] = [];

function platform(clock: Clock, max_sockets = 8): ecma419_platform {
  return {
    TCP: FakeTCP as any,
    Listener: FakeListener as any,
    UDP: FakeUDP as any,
    resolve(host, cb) {
      if (host === "busy.example") throw new Error("DNS queue full");
      resolving.push([host, cb]);
    },
    millis: () => clock.now,
    timer(fn) {
      clock.fn = fn;
      return {
        arm(ms) {
          clock.armed = ms;
          clock.arms++;
        },
        disarm() {
          clock.armed = -1;
        },
      };
    },
    log(s) {
      logged.push(s);
    },
    random(buf, ofs, len) {
      for (let i = 0; i < len; i++) buf[ofs + i] = 0xa5;
    },
    max_sockets,
  };
}

function ip(a: number, b: number, c: number, d: number, port: number): mg_addr {
  const x = new mg_addr();
  x.ip[0] = a;
  x.ip[1] = b;
  x.ip[2] = c;
  x.ip[3] = d;
  x.port = port;
  return x;
}

function seq(n: number, k = 0): number[] {
  const a: number[] = [];
  for (let i = 0; i < n; i++) a.push((i * 7 + k) & 255);
  return a;
}

/** A connected client socket: its handle and the fake behind it. */
function connected(hal: ReturnType<typeof mg_hal_ecma419>, wr = 8192): [number, FakeTCP] {
  const h = hal.connect(ip(10, 0, 0, 7, 80), false);
  const t = made[made.length - 1];
  t.writable(wr);
  return [h, t];
}

// --- tests -------------------------------------------------------------------------

test("connect: options as Moddable reads them, shared callbacks, target", () => {
  const hal = mg_hal_ecma419(platform(new Clock()));
  const h1 = hal.connect(ip(10, 0, 0, 7, 80), false);
  const h2 = hal.connect(ip(10, 0, 0, 8, 81), false);
  const [a, b] = made.slice(-2);
  assert.is(a.o.address, "10.0.0.7");
  assert.is(a.o.port, 80);
  assert.is(a.o.nodelay, true); // lowercase: Moddable ignores noDelay
  assert.ok(a.o.onReadable === b.o.onReadable && a.o.onWritable === b.o.onWritable && a.o.onError === b.o.onError);
  assert.ok(a.target !== undefined && a.target !== b.target);
  assert.is(hal.state(h1), HAL_CONNECTING);
  assert.is(hal.writable(h1), 0);
  assert.is(hal.write(h1, new Uint8Array(4), 0, 4), 0);
  a.writable(8192); // the first onWritable means connected
  assert.is(hal.state(h1), HAL_OPEN);
  assert.is(hal.writable(h1), 2048); // at most the staging size
  hal.close(h1);
  hal.close(h2);
});

test("read: never past the announced count, pieces through the same few views", () => {
  const hal = mg_hal_ecma419(platform(new Clock()));
  const [h, t] = connected(hal);
  const data = seq(3000);
  t.arrive(data.slice(0, 300));
  assert.is(hal.readable(h), 300);
  const buf = new Uint8Array(5000);
  assert.is(hal.read(h, buf, 10, 1000), 300); // asks for 1000, 300 are there
  assert.equal(Array.from(buf.subarray(10, 310)), data.slice(0, 300));
  assert.is(hal.readable(h), 0);
  assert.is(hal.read(h, buf, 0, 100), 0);
  // the count is a total: more arrives, part is read, the rest stays counted
  t.arrive(data.slice(300, 3000));
  assert.is(hal.readable(h), 2700);
  assert.is(hal.read(h, buf, 310, 1), 1);
  assert.is(hal.read(h, buf, 311, 2699), 2699);
  assert.equal(Array.from(buf.subarray(0, 3010).subarray(10)), data);
  assert.ok(t.views.size <= 12, "views used: " + t.views.size);
  for (const v of t.views) assert.ok((v.byteLength & (v.byteLength - 1)) === 0, "a power of two: " + v.byteLength);
  hal.close(h);
});

test("write: at most the writable count, bytes in order, from any offset", () => {
  const hal = mg_hal_ecma419(platform(new Clock()));
  const [h, t] = connected(hal, 100);
  const src = new Uint8Array(seq(2048, 3));
  assert.is(hal.write(h, src, 0, 1000), 100); // all-or-nothing pieces, never past 100
  assert.equal(t.tx, Array.from(src.subarray(0, 100)));
  assert.is(hal.writable(h), 0);
  assert.is(hal.write(h, src, 100, 10), 0);
  t.writable(1500);
  assert.is(hal.write(h, src, 100, 1337), 1337); // 1024 + 256 + 32 + 16 + 8 + 1
  assert.equal(t.tx, Array.from(src.subarray(0, 1437)));
  assert.is(hal.writable(h), 163);
  // a buffer larger than the staging buffer
  t.writable(8192);
  t.tx.length = 0;
  const big = new Uint8Array(seq(10000, 5));
  assert.is(hal.write(h, big, 7000, 3000), 2048);
  assert.equal(t.tx, Array.from(big.subarray(7000, 9048)));
  assert.ok(t.views.size <= 12, "views used: " + t.views.size);
  hal.close(h);
});

test("onError: before onWritable a failed connect, after it the peer's close", () => {
  const hal = mg_hal_ecma419(platform(new Clock()));
  const h = hal.connect(ip(10, 0, 0, 7, 80), false);
  made[made.length - 1].error();
  assert.is(hal.state(h), HAL_ERROR);
  assert.is(hal.write(h, new Uint8Array(1), 0, 1), -1);
  hal.close(h);
  const [h2, t2] = connected(hal);
  t2.arrive([1, 2, 3]);
  t2.error(); // as the lin simulator or a platform without lwIP's deferral might
  assert.is(hal.state(h2), HAL_OPEN, "unread bytes keep it open");
  assert.is(hal.read(h2, new Uint8Array(3), 0, 3), 3);
  assert.is(hal.state(h2), HAL_EOF);
  assert.is(hal.writable(h2), 0);
  hal.close(h2);
});

test("the lin simulator's lost onError: a write that returns nothing ends it", () => {
  const hal = mg_hal_ecma419(platform(new Clock()));
  const [h, t] = connected(hal);
  t.arrive([1, 2, 3, 4]);
  // the peer closed with bytes unread: lin sets its error flag and never calls onError
  t.failed = true;
  assert.is(hal.read(h, new Uint8Array(4), 0, 4), 4);
  assert.is(hal.state(h), HAL_OPEN); // nothing can tell yet
  assert.is(hal.write(h, new Uint8Array(5), 0, 5), -1);
  assert.is(hal.state(h), HAL_EOF);
  hal.close(h);
});

test("a read or write that throws (counts out of step) is contained", () => {
  const hal = mg_hal_ecma419(platform(new Clock()));
  const [h, t] = connected(hal, 50);
  t.arrive([1, 2, 3, 4, 5, 6]);
  t.rx.length = 2; // the platform lost bytes the HAL was told about
  const buf = new Uint8Array(16);
  const n = hal.read(h, buf, 0, 16);
  assert.ok(n <= 2, "read " + n);
  assert.is(hal.readable(h), 0);
  t.wr = 3; // the platform has less room than it announced
  const w = hal.write(h, new Uint8Array(40), 0, 40);
  assert.ok(w >= 0 && w <= 3, "wrote " + w);
  assert.is(hal.writable(h), 0);
  assert.ok(logged.some((l) => l.includes("read")) && logged.some((l) => l.includes("write")));
  hal.close(h);
});

test("Listener.read() exactly as many times as announced, even with the table full", () => {
  const clock = new Clock();
  const hal = mg_hal_ecma419(platform(clock, 3));
  let calls = 0;
  hal.wake(() => calls++, true);
  const l = hal.listen(ip(0, 0, 0, 0, 80), false);
  assert.ok(l >= 0);
  const L = FakeListener.last;
  assert.is(L.o.port, 80);
  assert.is(hal.accept(l), -1); // nothing announced: read() is not called
  assert.is(L.reads, 0);
  L.connect(4);
  const a = hal.accept(l);
  const b = hal.accept(l);
  assert.ok(a >= 0 && b >= 0);
  // three records: listener, a, b. The third connection is refused, closed, not leaked.
  const refused = L.pending[0];
  assert.is(hal.accept(l), -1);
  assert.is(refused.closes, 1);
  assert.ok(clock.armed === 0, "another poll is asked for: one more is pending");
  hal.close(a);
  const c = hal.accept(l);
  assert.ok(c >= 0);
  assert.is(hal.accept(l), -1);
  assert.is(L.reads, 4);
  assert.is(L.overreads, 0);
  // an accepted socket: adopted with `from`, its addresses from the platform and the listener
  const t = made[made.length - 1];
  assert.ok(t.o.from !== undefined && t.o.nodelay === true);
  const rem = new mg_addr(), loc = new mg_addr();
  hal.addr(c, false, rem);
  hal.addr(c, true, loc);
  assert.equal([rem.ip[0], rem.ip[3], rem.port, loc.port], [10, 7, 5555, 80]);
  assert.is(hal.state(c), HAL_OPEN);
  assert.is(hal.writable(c), 0); // until the adopted socket's onWritable
  hal.close(b);
  hal.close(c);
  hal.close(l);
  assert.is(L.closes, 1);
  assert.is(hal.listen(ip(0, 0, 0, 0, 99), false), -1); // the constructor throws: bind failed
});

test("close() exactly once; callbacks of closed or replaced sockets are ignored", () => {
  const clock = new Clock();
  const hal = mg_hal_ecma419(platform(clock));
  const [h, t] = connected(hal);
  hal.close(h);
  hal.close(h);
  assert.is(t.closes, 1);
  const [h2, t2] = connected(hal);
  assert.is(h2, h); // the handle and its record are reused
  t.arrive([1, 2, 3]); // the old socket misbehaves
  t.error();
  assert.is(hal.readable(h2), 0);
  assert.is(hal.state(h2), HAL_OPEN);
  // a callback whose target is not a record does not throw out
  assert.not.throws(() => t2.o.onReadable!.call({ target: undefined } as any, 5));
  assert.not.throws(() => t2.o.onError!.call({} as any));
  hal.close(h2);
  assert.is(t2.closes, 1);
});

test("wake: one timer, re-armed; callbacks ask for one poll; the earliest deadline wins", () => {
  const clock = new Clock();
  const hal = mg_hal_ecma419(platform(clock));
  let calls = 0;
  const fn = () => calls++;
  hal.timer(100); // nobody registered: nothing armed
  assert.is(clock.armed, -1);
  hal.wake(fn, true);
  hal.timer(100);
  assert.is(clock.armed, 100);
  hal.timer(500); // later: the earlier stands
  assert.is(clock.armed, 100);
  hal.timer(20);
  assert.is(clock.armed, 20);
  const [h, t] = connected(hal);
  assert.is(clock.armed, 0); // onWritable: a poll on the next turn
  const arms = clock.arms;
  t.arrive([1]);
  t.arrive([2]);
  assert.is(clock.arms, arms, "coalesced until it fires");
  clock.fire();
  assert.is(calls, 1);
  hal.wake(() => {
    throw new Error("contained");
  }, true);
  t.arrive([3]);
  assert.not.throws(() => clock.fire());
  assert.is(calls, 2);
  hal.close(h);
});

test("UDP: datagrams one at a time, empty ones skipped, the sender's address", () => {
  const clock = new Clock();
  const hal = mg_hal_ecma419(platform(clock));
  const u = hal.listen(ip(0, 0, 0, 0, 53), true);
  const U = FakeUDP.last;
  assert.is(U.o.port, 53);
  assert.is(hal.state(u), HAL_OPEN);
  assert.is(hal.readable(u), 0);
  U.arrive([], "10.1.1.1", 1000);
  U.arrive([1, 2, 3, 4, 5], "10.1.1.2", 2000);
  U.arrive([9], "10.1.1.3", 3000);
  assert.is(hal.readable(u), 5);
  const buf = new Uint8Array(8);
  const from = new mg_addr();
  assert.is(hal.recvfrom(u, buf, 0, 3, from), 3); // cut to 3
  assert.equal([buf[0], buf[2], from.ip[3], from.port], [1, 3, 2, 2000]);
  assert.is(hal.readable(u), 1);
  assert.is(hal.recvfrom(u, buf, 0, 8, from), 1);
  assert.is(hal.readable(u), 0);
  assert.is(hal.sendto(u, new Uint8Array([7, 8, 9]), 1, 2, from), 2);
  assert.is(hal.sendto(u, new Uint8Array([6]), 0, 1, from), 1);
  assert.equal(U.sent, [
    [[8, 9], "10.1.1.3", 3000],
    [[6], "10.1.1.3", 3000],
  ]);
  hal.close(u);
  assert.is(U.closes, 1);
  // a "connected" UDP socket sends to its peer
  const c = hal.connect(ip(10, 9, 9, 9, 4000), true);
  assert.is(hal.state(c), HAL_OPEN);
  assert.is(hal.write(c, new Uint8Array([1]), 0, 1), 1);
  assert.equal(FakeUDP.last.sent, [[[1], "10.9.9.9", 4000]]);
  hal.close(c);
});

test("resolve: Net.resolve's callback, localhost, a busy resolver, cancel", () => {
  const clock = new Clock();
  const hal = mg_hal_ecma419(platform(clock));
  const out = new mg_addr();
  out.port = 80;
  const a = hal.resolve("example.com", false);
  const b = hal.resolve("nowhere.example", false);
  assert.ok(a >= 0 && b >= 0 && a !== b);
  assert.is(hal.resolved(a, out), 0);
  const cb_a = resolving[resolving.length - 2][1];
  const cb_b = resolving[resolving.length - 1][1];
  assert.ok(cb_a === cb_b, "one shared callback, no closure per request");
  cb_a("example.com", "93.184.216.34");
  cb_b("nowhere.example", undefined);
  assert.is(hal.resolved(a, out), 1);
  assert.equal([out.ip[0], out.ip[3], out.port], [93, 34, 80]);
  assert.is(hal.resolved(b, out), -1);
  const l = hal.resolve("localhost", false);
  assert.is(hal.resolved(l, out), 1);
  assert.is(out.ip[0], 127);
  assert.is(hal.resolve("busy.example", false), -1);
  const c = hal.resolve("late.example", false);
  hal.resolve_cancel(c);
  resolving[resolving.length - 1][1]("late.example", "1.2.3.4");
  assert.is(hal.resolved(c, out), -1);
});

test("random: the platform's generator, and nothing else (no Math.random)", () => {
  const hal = mg_hal_ecma419(platform(new Clock()));
  const saved = Math.random;
  Math.random = () => {
    throw new Error("Math.random used");
  };
  try {
    const b = new Uint8Array(8);
    hal.random(b, 2, 4);
    assert.equal(Array.from(b), [0, 0, 0xa5, 0xa5, 0xa5, 0xa5, 0, 0]);
  } finally {
    Math.random = saved;
  }
});

test.run();
