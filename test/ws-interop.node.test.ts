// WebSocket interop over real loopback (127.0.0.1) with the npm `ws` library:
// ws as client against the mgts server (hal/node), and as server against the
// mgts client. Every wait has a deadline; every socket and manager is closed
// after each test, so the process ends by itself. Node only.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { WebSocket, WebSocketServer } from "ws";
import { mg_hal_node } from "../hal/node.js";
import { as_buf, next_message, until, within } from "./ws_util.js";
import { MG_IO_SIZE } from "../src/config.js";
import {
  MG_EV_CLOSE,
  MG_EV_ERROR,
  MG_EV_HTTP_MSG,
  MG_EV_WS_CTL,
  MG_EV_WS_MSG,
  MG_EV_WS_OPEN,
  mg_connection,
  mg_mgr,
  mg_mgr_free,
  mg_mgr_init,
  mg_mgr_run,
} from "../src/net.js";
import { mg_http_listen, mg_http_message } from "../src/http.js";
import {
  WEBSOCKET_DONT_FIN,
  WEBSOCKET_OP_BINARY,
  WEBSOCKET_OP_CONTINUE,
  WEBSOCKET_OP_PING,
  WEBSOCKET_OP_TEXT,
  mg_ws_close,
  mg_ws_connect,
  mg_ws_keepalive,
  mg_ws_message,
  mg_ws_recv_pieces,
  mg_ws_send,
  mg_ws_upgrade,
} from "../src/ws.js";

const hal = mg_hal_node();
const live: { mgrs: mg_mgr[]; sockets: WebSocket[]; servers: WebSocketServer[] } = { mgrs: [], sockets: [], servers: [] };

test.after.each(async () => {
  for (const s of live.sockets) s.terminate();
  for (const m of live.mgrs) mg_mgr_free(m);
  await within(Promise.all(live.servers.map((s) => new Promise((r) => s.close(() => r(null))))), 5000, "ws servers closed");
  live.mgrs = [];
  live.sockets = [];
  live.servers = [];
});

function bytes(n: number, seed = 7): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * seed + (i >> 8)) & 255;
  return b;
}
function text(n: number): string {
  // mixed 1- to 4-byte characters, cut to n bytes on a character boundary
  const unit = "aé€😀";
  let s = "";
  while (Buffer.byteLength(s) + 10 < n) s += unit;
  while (Buffer.byteLength(s) < n) s += "x";
  return s;
}
// --- the mgts server ---------------------------------------------------------

/** Echoes whole messages (/ws) or, in pieces, messages of any size (/pieces); /close closes with 4002 on "close me". */
function echo_server(c: mg_connection, ev: number, ev_data: any, log: string[]): void {
  if (ev === MG_EV_HTTP_MSG) {
    const hm = ev_data as mg_http_message;
    const uri = String(hm.uri);
    if (mg_ws_upgrade(c, hm, null)) {
      c.label = uri;
      if (uri === "/pieces") mg_ws_recv_pieces(c);
      if (uri === "/keepalive") mg_ws_keepalive(c, 100, 300);
    }
  } else if (ev === MG_EV_WS_MSG) {
    const m = ev_data as mg_ws_message;
    if (c.label === "/pieces") {
      const op = m.offset === 0 ? m.flags & 15 : WEBSOCKET_OP_CONTINUE;
      const room = c.send.size - c.send.len - 10;
      const n = m.data.len < room ? m.data.len : room;
      if (n <= 0 && m.data.len > 0) {
        m.consumed = 0;
        return;
      }
      const fin = (m.flags & 0x80) !== 0 && n === m.data.len;
      mg_ws_send(c, m.data, n, fin ? op : op | WEBSOCKET_DONT_FIN);
      m.consumed = n;
      return;
    }
    if (String(m.data) === "close me") {
      mg_ws_close(c, 4002, "as asked");
      return;
    }
    if (String(m.data) === "fragments") {
      mg_ws_send(c, "frag", undefined, WEBSOCKET_OP_TEXT | WEBSOCKET_DONT_FIN);
      mg_ws_send(c, "men", undefined, WEBSOCKET_OP_CONTINUE | WEBSOCKET_DONT_FIN);
      mg_ws_send(c, "ted", undefined, WEBSOCKET_OP_CONTINUE);
      return;
    }
    mg_ws_send(c, m.data, m.data.len, m.flags & 15);
  } else if (ev === MG_EV_WS_CTL) {
    log.push("CTL:" + (ev_data as mg_ws_message).flags.toString(16));
  } else if (ev === MG_EV_CLOSE && c.is_websocket) {
    log.push("CLOSE");
  }
}

async function start_server(): Promise<{ port: number; log: string[] }> {
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, hal);
  live.mgrs.push(mgr);
  const log: string[] = [];
  const l = mg_http_listen(mgr, "http://127.0.0.1:0", (c, ev, d) => echo_server(c, ev, d, log), null)!;
  assert.ok(l);
  mg_mgr_run(mgr, 20);
  assert.ok(await until(() => l.loc.port !== 0), "bound");
  return { port: l.loc.port, log };
}

async function client(port: number, path = "/ws"): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false });
  live.sockets.push(ws);
  await within(new Promise<void>((ok, fail) => {
    ws.once("open", () => ok());
    ws.once("error", fail);
  }), 5000, "ws client open");
  return ws;
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((ok, fail) => {
    if (ws.readyState === WebSocket.CLOSED) return fail(new Error("already closed"));
    const t = setTimeout(() => fail(new Error("not closed")), 5000);
    ws.once("close", (code, reason) => {
      clearTimeout(t);
      ok({ code, reason: reason.toString() });
    });
  });
}

test("ws client → mgts server: text and binary from 0 bytes to the largest that fits", async () => {
  const { port } = await start_server();
  const ws = await client(port);
  // a masked 16-bit-length frame has an 8-byte header: MG_IO_SIZE - 8 is the largest whole message
  const sizes = [0, 1, 125, 126, 127, 1000, MG_IO_SIZE - 8];
  for (const n of sizes) {
    const b = bytes(n);
    ws.send(b, { binary: true });
    const m = await next_message(ws);
    assert.ok(m.binary, "binary " + n);
    assert.ok(m.data.equals(b), "binary " + n);
    const s = text(n);
    ws.send(s);
    const t = await next_message(ws);
    assert.not.ok(t.binary, "text " + n);
    assert.is(t.data.toString(), s, "text " + n);
  }
  // one byte more: 1009 from a handler that did not opt in to pieces
  const c = closed(ws);
  ws.send(bytes(MG_IO_SIZE - 7), { binary: true });
  assert.is((await c).code, 1009);
});

test("ws client → mgts server: messages of any size through 2 KB buffers in pieces, sent back as fragments", async () => {
  const { port } = await start_server();
  const ws = await client(port, "/pieces");
  for (const n of [0, 1, MG_IO_SIZE, 65536, 300000]) {
    const b = bytes(n, 13);
    ws.send(b, { binary: true });
    const m = await next_message(ws);
    assert.ok(m.binary);
    assert.is(m.data.length, n);
    assert.ok(m.data.equals(b), "binary " + n);
    const s = text(n);
    ws.send(s);
    const t = await next_message(ws);
    assert.is(t.data.toString(), s, "text " + n);
  }
});

test("ws client → mgts server: fragmented both ways, pings between fragments", async () => {
  const { port, log } = await start_server();
  const ws = await client(port);
  const pong = within(new Promise<Buffer>((ok) => ws.once("pong", (d) => ok(d))), 5000, "pong from the server");
  ws.send("Hel", { fin: false });
  ws.ping("between");
  ws.send("lo wö", { fin: false });
  ws.send("rld", { fin: true });
  const m = await next_message(ws);
  assert.is(m.data.toString(), "Hello wörld");
  assert.is((await pong).toString(), "between");
  ws.send(bytes(1500), { binary: true, fin: false });
  ws.send(bytes(500), { binary: true, fin: true });
  const big = await next_message(ws);
  assert.ok(big.binary);
  assert.ok(big.data.equals(Buffer.concat([bytes(1500), bytes(500)])));
  ws.send("fragments");
  const f = await next_message(ws);
  assert.is(f.data.toString(), "fragmented", "the server's fragments reassembled by ws");
  assert.ok(log.includes("CTL:89"));
});

test("ws client → mgts server: ping/pong both ways; keepalive pings answered by ws", async () => {
  const { port, log } = await start_server();
  const ws = await client(port, "/keepalive");
  let pings = 0;
  ws.on("ping", () => pings++);
  const pong = within(new Promise<Buffer>((ok) => ws.once("pong", (d) => ok(d))), 5000, "pong from the server");
  ws.ping(Buffer.from([1, 2, 3]));
  assert.equal([...(await pong)], [1, 2, 3]);
  assert.ok(await until(() => pings >= 3, 3000), "the server pinged when idle");
  assert.is(ws.readyState, WebSocket.OPEN, "ws answered every ping (keepalive timeout 300 ms)");
  assert.ok(log.some((e) => e === "CTL:8a"), "the server saw the pongs");
});

test("ws client → mgts server: a client that stops answering pings is dropped", async () => {
  const { port, log } = await start_server();
  const ws = new WebSocket(`ws://127.0.0.1:${port}/keepalive`, { perMessageDeflate: false, autoPong: false });
  live.sockets.push(ws);
  await within(new Promise<void>((ok, fail) => {
    ws.once("open", () => ok());
    ws.once("error", fail);
  }), 5000, "ws client open");
  const c = await closed(ws);
  assert.is(c.code, 1006, "dropped without a close frame");
  assert.ok(log.includes("CLOSE"));
});

test("ws client → mgts server: every close path", async () => {
  const { port, log } = await start_server();
  // the client closes: its code is echoed
  let ws = await client(port);
  let c = closed(ws);
  ws.close(4001, "bye");
  assert.equal(await c, { code: 4001, reason: "" });
  // the server closes (mg_ws_close): ws sees its code and reason
  ws = await client(port);
  c = closed(ws);
  ws.send("close me");
  assert.equal(await c, { code: 4002, reason: "as asked" });
  // a close without a code is answered with none (1005 on the ws side)
  ws = await client(port);
  c = closed(ws);
  ws.close();
  assert.is((await c).code, 1005);
  // invalid UTF-8 in a text message: 1007
  ws = await client(port);
  c = closed(ws);
  ws.send(Buffer.from([0x41, 0xc3, 0x28]), { binary: false });
  assert.is((await c).code, 1007);
  // a reserved opcode: 1002 (sent raw on ws's socket)
  ws = await client(port);
  c = closed(ws);
  (ws as any)._socket.write(Buffer.from([0x83, 0x80, 1, 2, 3, 4]));
  assert.is((await c).code, 1002);
  // an unmasked client frame: 1002
  ws = await client(port);
  c = closed(ws);
  (ws as any)._socket.write(Buffer.from([0x81, 0x01, 0x41]));
  assert.is((await c).code, 1002);
  // the client vanishes (TCP reset): the server frees the connection
  ws = await client(port);
  const before = log.filter((e) => e === "CLOSE").length;
  ws.terminate();
  assert.ok(await until(() => log.filter((e) => e === "CLOSE").length > before), "freed after a reset");
});

// --- the mgts client -----------------------------------------------------------

async function ws_server(on: (s: WebSocket) => void): Promise<number> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  live.servers.push(wss);
  wss.on("connection", (s) => {
    live.sockets.push(s);
    on(s);
  });
  await within(new Promise((ok) => wss.once("listening", ok)), 5000, "ws server listening");
  return (wss.address() as { port: number }).port;
}

type Got = { ev: string; data: Buffer; flags: number; offset: number };

function mgts_client(port: number, path: string, got: Got[], pieces = false): mg_connection {
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, hal);
  live.mgrs.push(mgr);
  const c = mg_ws_connect(mgr, `ws://127.0.0.1:${port}${path}`, (c, ev, d) => {
    if (ev === MG_EV_WS_OPEN) {
      got.push({ ev: "OPEN", data: Buffer.alloc(0), flags: 0, offset: 0 });
      if (pieces) mg_ws_recv_pieces(c);
    } else if (ev === MG_EV_WS_MSG || ev === MG_EV_WS_CTL) {
      const m = d as mg_ws_message;
      const data = Buffer.from(m.data.buf.slice(m.data.ofs, m.data.ofs + m.data.len));
      got.push({ ev: ev === MG_EV_WS_MSG ? "MSG" : "CTL", data, flags: m.flags, offset: m.offset });
    } else if (ev === MG_EV_ERROR) got.push({ ev: "ERROR:" + d, data: Buffer.alloc(0), flags: 0, offset: 0 });
    else if (ev === MG_EV_CLOSE) got.push({ ev: "CLOSE", data: Buffer.alloc(0), flags: 0, offset: 0 });
  }, null, "Sec-WebSocket-Protocol: %s\r\n", "chat")!;
  assert.ok(c);
  mg_mgr_run(mgr, 20);
  return c;
}

function count(got: Got[], ev: string): number {
  return got.filter((g) => g.ev === ev).length;
}

test("mgts client → ws server: handshake with a subprotocol, text and binary from 0 bytes to the largest that fits", async () => {
  let proto = "";
  const port = await ws_server((s) => {
    proto = s.protocol;
    s.on("message", (d, binary) => s.send(as_buf(d), { binary }));
  });
  const got: Got[] = [];
  const c = mgts_client(port, "/echo", got);
  assert.ok(await until(() => count(got, "OPEN") === 1), "open");
  assert.is(proto, "chat");
  // sending: a masked 16-bit header is 8 bytes; receiving: an unmasked one is 4
  const sizes = [0, 1, 125, 126, 127, 1000, MG_IO_SIZE - 8];
  for (const n of sizes) {
    for (const op of [WEBSOCKET_OP_BINARY, WEBSOCKET_OP_TEXT]) {
      const b = op === WEBSOCKET_OP_TEXT ? Buffer.from(text(n)) : bytes(n);
      const before = count(got, "MSG");
      assert.ok(mg_ws_send(c, b, b.length, op) > 0, "fits: " + n);
      assert.ok(await until(() => count(got, "MSG") > before), "echo of " + n);
      const m = got[got.length - 1];
      assert.is(m.flags, 0x80 | op);
      assert.ok(m.data.equals(b), `${n} bytes, op ${op}`);
    }
  }
});

test("mgts client → ws server: the largest message that fits on receive, and 1009 for one byte more", async () => {
  let code = 0;
  const port = await ws_server((s) => {
    s.on("message", (d) => {
      const n = Number(d.toString());
      s.send(bytes(n), { binary: true });
    });
    s.on("close", (c) => (code = c));
  });
  const got: Got[] = [];
  const c = mgts_client(port, "/", got);
  assert.ok(await until(() => count(got, "OPEN") === 1), "open");
  mg_ws_send(c, String(MG_IO_SIZE - 4), undefined, WEBSOCKET_OP_TEXT);
  assert.ok(await until(() => count(got, "MSG") === 1), "the largest message that fits");
  assert.ok(got[got.length - 1].data.equals(bytes(MG_IO_SIZE - 4)));
  mg_ws_send(c, String(MG_IO_SIZE - 3), undefined, WEBSOCKET_OP_TEXT);
  assert.ok(await until(() => code !== 0), "ws closed");
  assert.is(code, 1009);
  assert.ok(await until(() => count(got, "CLOSE") === 1), "freed");
});

test("mgts client → ws server: fragmented both ways, any size in pieces", async () => {
  const port = await ws_server((s) => {
    s.on("message", (d, binary) => {
      const b = as_buf(d);
      if (b.toString() === "big") {
        const big = bytes(200000, 3);
        s.send(big.subarray(0, 70000), { binary: true, fin: false });
        s.ping("in between");
        s.send(big.subarray(70000), { binary: true, fin: true });
        return;
      }
      // echo as three fragments
      const a = Math.floor(b.length / 3);
      s.send(b.subarray(0, a), { binary, fin: false });
      s.send(b.subarray(a, 2 * a), { binary, fin: false });
      s.send(b.subarray(2 * a), { binary, fin: true });
    });
  });
  const got: Got[] = [];
  const c = mgts_client(port, "/", got);
  assert.ok(await until(() => count(got, "OPEN") === 1), "open");
  // mgts sends a message in fragments; ws reassembles and echoes it in three
  mg_ws_send(c, "Hé", undefined, WEBSOCKET_OP_TEXT | WEBSOCKET_DONT_FIN);
  mg_ws_send(c, "llo ", undefined, WEBSOCKET_OP_CONTINUE | WEBSOCKET_DONT_FIN);
  mg_ws_send(c, "wörld", undefined, WEBSOCKET_OP_CONTINUE);
  assert.ok(await until(() => count(got, "MSG") === 1), "the fragmented message echoed");
  assert.is(got[got.length - 1].data.toString(), "Héllo wörld");
  assert.is(got[got.length - 1].flags, 0x81);
  // now in pieces: 200 KB with a ping between its fragments
  mg_ws_recv_pieces(c);
  const start = got.length;
  mg_ws_send(c, "big", undefined, WEBSOCKET_OP_TEXT);
  assert.ok(await until(() => got.length > start && got[got.length - 1].ev === "MSG" && (got[got.length - 1].flags & 0x80) !== 0, 10000), "200 KB in pieces, the last with FIN");
  const parts = got.slice(start).filter((g) => g.ev === "MSG");
  assert.ok(parts.length > 10, "in pieces");
  let ofs = 0;
  for (const p of parts) {
    assert.is(p.offset, ofs);
    ofs += p.data.length;
  }
  assert.ok(Buffer.concat(parts.map((p) => p.data)).equals(bytes(200000, 3)));
  assert.ok(got.slice(start).some((g) => g.ev === "CTL" && g.flags === 0x89), "the ping between fragments");
});

test("mgts client → ws server: ping/pong both ways, keepalive", async () => {
  let pongs = 0;
  let pings = 0;
  let pinged: Buffer | null = null;
  const port = await ws_server((s) => {
    s.on("pong", () => pongs++);
    s.on("ping", (d) => {
      pinged = d;
      pings++;
    });
    s.ping("from ws");
  });
  const got: Got[] = [];
  const c = mgts_client(port, "/", got);
  assert.ok(await until(() => pongs === 1), "mgts answered ws's ping");
  assert.ok(got.some((g) => g.ev === "CTL" && g.flags === 0x89 && g.data.toString() === "from ws"));
  mg_ws_send(c, "mine", undefined, WEBSOCKET_OP_PING);
  assert.ok(await until(() => got.some((g) => g.ev === "CTL" && g.flags === 0x8a && g.data.toString() === "mine")), "ws answered mgts's ping");
  assert.is(String(pinged), "mine");
  mg_ws_keepalive(c, 50, 500);
  assert.ok(await until(() => pings >= 4, 3000), "keepalive pings");
  assert.ok(got.filter((g) => g.ev === "CTL" && g.flags === 0x8a).length >= 3, "answered by ws");
  assert.is(count(got, "CLOSE"), 0);
});

test("mgts client → ws server: every close path", async () => {
  const closes: { code: number; reason: string }[] = [];
  const port = await ws_server((s) => {
    s.on("close", (code, reason) => closes.push({ code, reason: reason.toString() }));
    s.on("message", (d) => {
      const m = d.toString();
      if (m === "close") s.close(4003, "server says bye");
      else if (m === "bad utf8") (s as any)._socket.write(Buffer.from([0x81, 0x02, 0xc3, 0x28]));
      else if (m === "masked") (s as any)._socket.write(Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x41]));
      else if (m === "bad code") (s as any)._socket.write(Buffer.from([0x88, 0x02, 0x03, 0xed]));
      else if (m === "terminate") s.terminate();
    });
  });
  // mgts closes: ws sees the code and reason and answers; mgts frees the connection
  let got: Got[] = [];
  let c = mgts_client(port, "/", got);
  assert.ok(await until(() => count(got, "OPEN") === 1), "open");
  mg_ws_close(c, 4000, "client done");
  assert.ok(await until(() => count(got, "CLOSE") === 1), "freed after ws answered");
  // ws's close event may come after mgts freed its end: wait for it, never assume it came
  assert.ok(await until(() => closes.length > 0), "ws saw the close");
  assert.equal(closes.pop(), { code: 4000, reason: "client done" });
  assert.ok(got.some((g) => g.ev === "CTL" && g.flags === 0x88), "ws's answer reported");
  // ws closes: mgts echoes the code
  const cases: [string, number][] = [
    ["close", 4003],
    ["bad utf8", 1007],
    ["masked", 1002],
    ["bad code", 1002],
  ];
  for (const [what, code] of cases) {
    got = [];
    c = mgts_client(port, "/", got);
    assert.ok(await until(() => count(got, "OPEN") === 1), what + ": open");
    mg_ws_send(c, what, undefined, WEBSOCKET_OP_TEXT);
    assert.ok(await until(() => count(got, "CLOSE") === 1), what + ": freed");
    assert.ok(await until(() => closes.length > 0), what + ": ws closed");
    assert.is(closes.pop()!.code, code, what);
  }
  // ws vanishes: mgts frees the connection
  got = [];
  c = mgts_client(port, "/", got);
  assert.ok(await until(() => count(got, "OPEN") === 1), "open");
  mg_ws_send(c, "terminate", undefined, WEBSOCKET_OP_TEXT);
  assert.ok(await until(() => count(got, "CLOSE") === 1), "freed after a reset");
});

test.run();
