// hal/ecma419 over real loopback sockets, through the host ECMA-419
// emulation (hal/ecma419_host.ts): the shared socket tests, the emulation's
// Moddable semantics checked directly, and an echo server run by
// mg_mgr_run. Node-only.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import { mg_hal_ecma419 } from "../hal/ecma419.js";
import { ecma419_host_platform, ecma419_host_stats, Listener, RCVWND, SNDBUF, TCP, UDP, UDP_QUEUE } from "../hal/ecma419_host.js";
import { MG_EV_READ, mg_listen, mg_mgr, mg_mgr_free, mg_mgr_init, mg_mgr_poll, mg_mgr_run, mg_send, type mg_connection } from "../src/net.js";
import { mg_iobuf_del } from "../src/iobuf.js";
import { count_events, hal_suite, socket_events, sock_events, turns, until, watch_sockets, type sock_event } from "./hal_suite.js";

// --- the emulation, checked against what Moddable does ------------------------

const sem = suite("ecma419_host: Moddable's semantics");
// what the Node sockets beneath the emulation do: waited for instead of sleeping (test/hal_suite.ts)
watch_sockets();

/** A listener on 127.0.0.1 that records what it is told, and a connected pair made through it. */
async function pair(on_c_writable: (() => void) | null = null): Promise<{ l: Listener; c: TCP; s: TCP; log: string[]; port: number }> {
  const log: string[] = [];
  const l = new Listener({
    port: 0,
    address: "127.0.0.1",
    onReadable(n) {
      log.push(`listener onReadable ${n}`);
    },
  }) as Listener;
  assert.ok(await until(() => l.port > 0));
  const c = new TCP({
    address: "127.0.0.1",
    port: l.port,
    onWritable(n) {
      log.push(`c onWritable ${n}`);
      if (on_c_writable !== null) on_c_writable();
    },
    onReadable(n) {
      log.push(`c onReadable ${n}`);
    },
    onError() {
      log.push("c onError");
    },
  });
  assert.ok(await until(() => log.includes("listener onReadable 1") && log.includes(`c onWritable ${SNDBUF}`)));
  const s = new TCP({
    from: l.read() as any,
    onWritable(n) {
      log.push(`s onWritable ${n}`);
    },
    onReadable(n) {
      log.push(`s onReadable ${n}`);
    },
    onError() {
      log.push("s onError");
    },
  });
  assert.ok(await until(() => log.includes(`s onWritable ${SNDBUF}`)), "adoption is told by onWritable");
  return { l, c, s, log, port: l.port };
}

sem("read: never past what is available; counts are totals", async () => {
  const { l, c, s, log } = await pair();
  const base = ecma419_host_stats.overreads;
  assert.is(l.read(), undefined); // nothing pending
  assert.is(ecma419_host_stats.overreads, base + 1);
  assert.is(c.write(new TextEncoder().encode("hello")), SNDBUF - 5); // returns what is left
  assert.ok(await until(() => log.includes("s onReadable 5")));
  assert.throws(() => s.read(new Uint8Array(6)), /invalid/);
  assert.throws(() => s.read(6), /invalid/);
  assert.throws(() => s.read(0), /invalid/);
  const two = new Uint8Array(2);
  assert.is(s.read(two), 2);
  assert.is(new TextDecoder().decode(two), "he");
  const rest = s.read() as ArrayBuffer;
  assert.is(new TextDecoder().decode(rest), "llo");
  assert.is(s.read(), undefined);
  // a view is honoured: only its bytes are asked for
  c.write(new Uint8Array([1, 2, 3]));
  assert.ok(await until(() => log.includes("s onReadable 3")));
  const big = new Uint8Array(10);
  assert.is(s.read(new Uint8Array(big.buffer, 4, 3)), 3);
  assert.equal([...big], [0, 0, 0, 0, 1, 2, 3, 0, 0, 0]);
  c.write(new Uint8Array([9, 9]));
  c.write(new Uint8Array([9, 9, 9]));
  assert.ok(await until(() => log.includes("s onReadable 5")), "the total unread, not the increment: " + log.join(", "));
  c.close();
  s.close();
  l.close();
});

sem("write: all or nothing, counted against the send buffer", async () => {
  const { l, c, s, log } = await pair();
  assert.throws(() => c.write(new Uint8Array(SNDBUF + 1)), /would block/);
  const left = c.write(new Uint8Array(SNDBUF - 10)) as number;
  assert.is(left, 10);
  assert.throws(() => c.write(new Uint8Array(11)), /would block/);
  log.length = 0;
  assert.ok(await until(() => log.includes(`c onWritable ${SNDBUF}`)), "space comes back once sent: " + log.join(", "));
  c.close();
  s.close();
  l.close();
});

sem("write before connect throws; a refused connect is onError", async () => {
  const { l, port } = await pair().then((p) => {
    p.c.close();
    p.s.close();
    return p;
  });
  l.close();
  let err = 0;
  const c = new TCP({
    address: "127.0.0.1",
    port,
    onError() {
      err++;
    },
  });
  assert.throws(() => c.write(new Uint8Array(1)), /not ready/);
  assert.ok(await until(() => err === 1));
  assert.is(c.write(new Uint8Array(1)), undefined); // after an error: silently nothing
  c.close();
});

sem("onError for the peer's close comes only after every byte was read", async () => {
  const { l, c, s, log, port } = await pair();
  c.write(new Uint8Array(100));
  c.close();
  assert.ok(await until(() => log.includes("s onReadable 100")));
  // the FIN has reached the accepted socket, and the emulation has run what it scheduled on it
  assert.ok(await socket_events((e) => e.ev === "end" && e.local === port), "the FIN arrives");
  assert.not.ok(log.includes("s onError"), "90 bytes unread: no onError yet");
  s.read(new Uint8Array(10));
  await turns();
  assert.not.ok(log.includes("s onError"), "still unread bytes");
  s.read(new Uint8Array(90));
  assert.not.ok(log.includes("s onError"), "never from inside a method");
  assert.ok(await until(() => log.includes("s onError")));
  s.close();
  l.close();
});

sem("close: no callback afterwards, twice is fine, other methods throw", async () => {
  const { l, c, s, log, port } = await pair();
  s.close();
  s.close();
  assert.throws(() => s.read(), /closed/);
  assert.throws(() => s.write(new Uint8Array(1)), /closed/);
  log.length = 0;
  c.write(new Uint8Array(4));
  c.close();
  // the last events the closed socket's Node socket can have: its own close, and the client's
  assert.ok(await socket_events((e) => e.ev === "close" && e.local === port), "the accepted socket is closed");
  assert.ok(await socket_events((e) => e.ev === "close" && e.remote === port), "and the client's");
  assert.not.ok(log.some((x) => x.startsWith("s ")), log.join(", "));
  l.close();
  assert.throws(() => l.read(), /closed/);
});

sem("an unread backlog pauses the socket at RCVWND, holds the writer back until read, and loses nothing", async () => {
  const LIMIT = 16 << 20;
  let sent = 0;
  let threw = false;
  let writing = true;
  const block = new Uint8Array(1024);
  let c: TCP | null = null;
  // the client writes whenever onWritable says it may, until write() would block
  const write_all = () => {
    threw = false;
    while (writing && c !== null && sent < LIMIT) {
      try {
        c.write(block);
        sent += block.length;
      } catch {
        threw = true;
        return;
      }
    }
  };
  const p = await pair(write_all);
  c = p.c;
  const { l, s, log, port } = p;
  write_all();
  // the emulation stops taking bytes from the accepted socket once RCVWND are unread
  const paused = (e: sock_event) => e.ev === "pause" && e.local === port;
  assert.ok(await socket_events(paused), "the accepted socket is paused");
  const unread = () => Number((log.filter((x) => x.startsWith("s onReadable")).pop() ?? "s onReadable 0").split(" ")[2]);
  assert.ok(unread() >= RCVWND && unread() < RCVWND + 65536, "paused with " + unread() + " unread");
  // with nobody reading, the kernel's buffers fill: the writer is held back, its bytes queued in Node
  const client = sock_events.find((e) => e.ev === "connect" && e.remote === port)!.sock as net.Socket;
  assert.ok(await until(() => threw && client.writableLength > 0, 10000), "the writer is held back after " + sent + " bytes");
  assert.ok(sent < LIMIT, "the writer was stopped after " + sent + " bytes");
  const since = sock_events.findIndex(paused);
  assert.is(sock_events.slice(since).filter((e) => e.ev === "resume" && e.local === port).length, 0, "nothing resumed the socket but a read");
  // reading lets it all through
  writing = false;
  let got = 0;
  while (got < sent) {
    assert.ok(await until(() => unread() > 0 && log[log.length - 1] !== "read"), "bytes after " + got + " of " + sent);
    const b = s.read() as ArrayBuffer;
    got += b.byteLength;
    log.push("read");
  }
  assert.is(got, sent);
  c.close();
  s.close();
  l.close();
});

sem("UDP: one ArrayBuffer per datagram with address and port; a bounded queue", async () => {
  let n = 0;
  const a = new UDP({
    port: 0,
    address: "127.0.0.1",
    onReadable(k) {
      n = k;
    },
  });
  // the port a UDP socket bound to is not told by ECMA-419: send to it through a known port
  const probe = await new Promise<number>((res) => {
    const srv = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => res(p));
    });
  });
  a.close();
  const b = new UDP({
    port: probe,
    address: "127.0.0.1",
    onReadable(k) {
      n = k;
    },
  });
  const c = new UDP({});
  assert.ok(await socket_events((e) => e.ev === "listening" && e.local === probe), "bound");
  c.write(new Uint8Array([1, 2, 3]), "127.0.0.1", probe);
  assert.ok(await until(() => n === 1));
  const d = b.read()!;
  assert.ok(d instanceof ArrayBuffer);
  assert.is(d.byteLength, 3);
  assert.is(d.address, "127.0.0.1");
  assert.ok(d.port > 0);
  assert.is(b.read(), undefined);
  assert.throws(() => c.write(new Uint8Array(1), "localhost", probe), /invalid IP address/);
  // every datagram reaches the socket (one at a time: the kernel drops none); the queue keeps UDP_QUEUE
  const at_b = (e: sock_event) => e.ev === "message" && e.local === probe;
  const base = count_events(at_b);
  for (let i = 0; i < UDP_QUEUE + 20; i++) {
    c.write(new Uint8Array([i]), "127.0.0.1", probe);
    assert.ok(await socket_events(at_b, base + i + 1), "datagram " + i + " arrives");
  }
  assert.is(n, UDP_QUEUE);
  b.close();
  c.close();
  assert.throws(() => b.read(), /closed/);
});

sem("TCP options as Moddable checks them", () => {
  assert.throws(() => new TCP({ address: "localhost", port: 80 }), /invalid address/);
  assert.throws(() => new TCP({ address: "127.0.0.1", port: 70000 }), RangeError);
  assert.throws(() => new Listener({ port: -1 }), RangeError);
});

sem.run();

// --- the shared socket tests --------------------------------------------------

// A UDP socket holds UDP_QUEUE datagrams, and the HAL one more (read to learn its size).
// Loopback absorbs about 4 MB before the send buffer stays full: 8 MB makes it.
hal_suite("hal/ecma419 over ecma419_host", mg_hal_ecma419(ecma419_host_platform()), {
  local_addr: false,
  udp_queue: UDP_QUEUE + 1,
  udp_queue_min: UDP_QUEUE,
  bulk: 8 << 20,
});

// --- the core over the HAL: an echo server run by mg_mgr_run ---------------------

const app = suite("mg_listen + mg_mgr_run over hal/ecma419");

function echo(c: mg_connection, ev: number): void {
  if (ev !== MG_EV_READ) return;
  const room = c.send.size - c.send.len;
  const n = c.recv.len < room ? c.recv.len : room;
  if (n > 0 && mg_send(c, c.recv.buf, n)) mg_iobuf_del(c.recv, 0, n);
}

app("an echo server: 4 clients, 256 KB each, byte for byte", async () => {
  const open0 = ecma419_host_stats.open;
  const over0 = ecma419_host_stats.overreads;
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, mg_hal_ecma419(ecma419_host_platform()));
  const lc = mg_listen(mgr, "tcp://127.0.0.1:0", echo, null);
  assert.ok(lc !== null);
  mg_mgr_run(mgr, 50);
  assert.ok(await until(() => lc!.loc.port > 0));
  const port = lc!.loc.port;
  const size = 256 * 1024;
  const one = (k: number) =>
    new Promise<boolean>((resolve) => {
      const data = new Uint8Array(size);
      for (let i = 0; i < size; i++) data[i] = (i * 13 + k) & 255;
      const got: Buffer[] = [];
      let n = 0;
      // no half-close: Mongoose closes on EOF, dropping what it had yet to send
      const s = net.connect(port, "127.0.0.1", () => s.write(data));
      s.on("data", (b) => {
        got.push(b);
        n += b.length;
        if (n >= size) s.destroy();
      });
      s.on("close", () => resolve(n === size && Buffer.concat(got).equals(Buffer.from(data))));
      s.on("error", () => resolve(false));
      setTimeout(() => s.destroy(), 20000).unref();
    });
  const ok = await Promise.all([one(1), one(2), one(3), one(4)]);
  assert.equal(ok, [true, true, true, true]);
  // every accepted connection is closed once the client has gone
  assert.ok(await until(() => lc!.mgr.conns === lc && lc!.next === null, 5000), "only the listener is left");
  mg_mgr_free(mgr);
  mg_mgr_poll(mgr, 0);
  assert.is(ecma419_host_stats.open, open0, "every socket closed exactly once");
  assert.is(ecma419_host_stats.overreads, over0, "Listener.read() never called with nothing pending");
});

app.run();
