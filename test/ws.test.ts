// WebSocket over the mock network: handshake, framing, fragmentation,
// control frames, close codes, UTF-8, pieces, 6.x events. Node and XS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_mock, mg_mock_peer, mg_mock_bytes } from "../hal/mock.js";
import { MG_IO_SIZE } from "../src/config.js";
import { F, utf8 } from "./ws_frames.js";
import { MG_EV_CLOSE, MG_EV_ERROR, MG_EV_HTTP_MSG, mg_connection, mg_mgr, mg_mgr_init, mg_send } from "../src/net.js";
import {
  MG_EV_WEBSOCKET_CONTROL_FRAME,
  MG_EV_WEBSOCKET_FRAME,
  MG_F_WEBSOCKET_NO_DEFRAG,
  MG_EV_WEBSOCKET_HANDSHAKE_DONE,
  MG_EV_WEBSOCKET_HANDSHAKE_REQUEST,
  mg_http_listen,
  mg_set_protocol_http_websocket,
} from "../src/http.js";
import { MG_EV_WS_CTL, MG_EV_WS_MSG, MG_EV_WS_OPEN } from "../src/net.js";
import {
  WEBSOCKET_DONT_FIN,
  WEBSOCKET_OP_BINARY,
  WEBSOCKET_OP_CLOSE,
  WEBSOCKET_OP_CONTINUE,
  WEBSOCKET_OP_PING,
  WEBSOCKET_OP_PONG,
  WEBSOCKET_OP_TEXT,
  mg_ws_close,
  mg_ws_connect,
  mg_ws_keepalive,
  mg_ws_message,
  mg_ws_printf,
  mg_ws_recv_pieces,
  mg_ws_send,
  mg_ws_upgrade,
  mg_ws_wrap,
} from "../src/ws.js";

const enc = mg_mock_bytes;
/** A masked client frame, as a browser sends it. */
function frame(op: number, payload: Uint8Array, fin = true, mask = true, rsv = 0): Uint8Array {
  return F(op, payload, { fin, mask, rsv });
}

/** Parses frames from bytes; server frames must be unmasked, client frames (client = true) masked. */
function frames(b: Uint8Array, client = false): { op: number; fin: boolean; data: Uint8Array; b0: number }[] {
  const out: { op: number; fin: boolean; data: Uint8Array; b0: number }[] = [];
  let i = 0;
  while (i + 2 <= b.length) {
    let n = b[i + 1] & 127;
    let h = 2;
    if (n === 126) {
      n = (b[i + 2] << 8) | b[i + 3];
      h = 4;
    } else if (n === 127) {
      n = b[i + 6] * 2 ** 24 + (b[i + 7] << 16) + (b[i + 8] << 8) + b[i + 9];
      h = 10;
    }
    const masked = (b[i + 1] & 0x80) !== 0;
    if (masked !== client) throw new Error(client ? "client frames must be masked" : "server frames must not be masked");
    if (masked) h += 4;
    if (i + h + n > b.length) break;
    const data = b.slice(i + h, i + h + n);
    if (masked) for (let k = 0; k < n; k++) data[k] ^= b[i + h - 4 + (k & 3)];
    out.push({ op: b[i] & 15, fin: (b[i] & 0x80) !== 0, data, b0: b[i] });
    i += h + n;
  }
  return out;
}

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const HANDSHAKE = `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
/** Read and write cuts every rule is checked under: none, a byte at a time, 3 bytes (cuts headers, masks and characters). */
const CAPS = [0, 1, 3];

function latin1(b: Uint8Array | number[]): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/**
 * Polls one step at a time, collecting what the peer receives, until done()
 * holds for it, the peer is closed, or max polls.
 */
function pump(net: mg_mock, mgr: mg_mgr, p: mg_mock_peer, done: (got: Uint8Array) => boolean, max = 20000, step = 1): Uint8Array {
  const got: number[] = [];
  for (let i = 0; i < max; i++) {
    net.poll(mgr, 1, step);
    const b = p.recv();
    for (let k = 0; k < b.length; k++) got.push(b[k]);
    const g = new Uint8Array(got);
    if (done(g) || p.closed) return g;
  }
  return new Uint8Array(got);
}

type Handler = (c: mg_connection, ev: number, ev_data: any) => void;

function server(handler?: Handler, pieces = false, cap = 0) {
  const net = new mg_mock(64, 1 << 17);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const events: string[] = [];
  const conns: mg_connection[] = [];
  mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev, ev_data) => {
    if (ev === MG_EV_HTTP_MSG) {
      if (mg_ws_upgrade(c, ev_data, null) && pieces) mg_ws_recv_pieces(c);
    } else if (ev === MG_EV_WS_OPEN) {
      events.push("OPEN");
      conns.push(c);
    } else if (ev === MG_EV_WS_MSG) {
      const m = ev_data as mg_ws_message;
      events.push(`MSG:${m.flags.toString(16)}:${m.data.len}`);
    } else if (ev === MG_EV_WS_CTL) events.push(`CTL:${(ev_data as mg_ws_message).flags.toString(16)}`);
    else if (ev === MG_EV_CLOSE) events.push("CLOSE");
    else if (ev === MG_EV_ERROR) events.push("ERROR:" + ev_data);
    if (handler) handler(c, ev, ev_data);
  }, null);
  net.read_cap = net.write_cap = cap;
  const p = net.client(80)!;
  p.send(HANDSHAKE);
  const resp = latin1(pump(net, mgr, p, (g) => latin1(g).indexOf("\r\n\r\n") > 0, 2000));
  return { net, mgr, p, events, resp, conns };
}

function echo_handler(c: mg_connection, ev: number, m: any) {
  if (ev === MG_EV_WS_MSG) mg_ws_send(c, m.data, m.data.len, m.flags & 15);
}

/**
 * Sends bytes, runs until the server's close frame, answers it as a client
 * does (the server lingers for that answer after a protocol error), runs
 * until the server has closed, and returns the code of its close frame
 * (-1: none, 0: empty).
 */
function close_code(net: mg_mock, mgr: mg_mgr, p: mg_mock_peer, bytes: Uint8Array, what = ""): number {
  p.send(bytes);
  const got = pump(net, mgr, p, (g) => frames(g).some((f) => f.op === WEBSOCKET_OP_CLOSE));
  p.send(frame(WEBSOCKET_OP_CLOSE, new Uint8Array([3, 232])));
  pump(net, mgr, p, () => false, 4000); // a frame still being discarded may swallow the answer: then the 3 s timeout
  assert.ok(p.closed, "freed after the close: " + what);
  const cl = frames(got).find((f) => f.op === WEBSOCKET_OP_CLOSE);
  return cl === undefined ? -1 : cl.data.length >= 2 ? (cl.data[0] << 8) | cl.data[1] : 0;
}

/** Every case (frames sent in order) under every cap: the server answers close `code` and frees the connection. */
function expect_close(cases: [string, Uint8Array[]][], code: number, pieces = false): void {
  for (const cap of CAPS) {
    for (const [what, parts] of cases) {
      const { net, mgr, p, events } = server(echo_handler, pieces, cap);
      for (let i = 0; i < parts.length - 1; i++) p.send(parts[i]);
      assert.is(close_code(net, mgr, p, parts[parts.length - 1], what), code, `${what} (cap ${cap}, pieces ${pieces})`);
      assert.ok(events.includes("CLOSE"), what);
    }
  }
}

test("handshake: 101 with the RFC's Sec-WebSocket-Accept, then WS_OPEN, also a byte at a time", () => {
  for (const cap of CAPS) {
    const { resp, events } = server(undefined, false, cap);
    assert.match(resp, /^HTTP\/1.1 101 Switching Protocols\r\n/);
    assert.match(resp, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
    assert.equal(events, ["OPEN"]);
  }
});

test("handshake refusals: no upgrade → 426, wrong version → 426, bad key or method → 400", () => {
  const cases: [string, number][] = [
    ["GET /ws HTTP/1.1\r\n\r\n", 426],
    [HANDSHAKE.replace("Upgrade: websocket", "Upgrade: h2c"), 426],
    [HANDSHAKE.replace("Version: 13", "Version: 8"), 426],
    [HANDSHAKE.replace("Sec-WebSocket-Version: 13\r\n", ""), 426],
    [HANDSHAKE.replace(KEY, "short"), 400],
    [HANDSHAKE.replace("GET", "POST"), 400],
    [HANDSHAKE.replace("keep-alive, Upgrade", "keep-alive"), 400],
  ];
  for (const [req, code] of cases) {
    const net = new mg_mock();
    const mgr = new mg_mgr();
    mg_mgr_init(mgr, net);
    let opened = false;
    mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev, hm) => {
      if (ev === MG_EV_HTTP_MSG) mg_ws_upgrade(c, hm, null);
      if (ev === MG_EV_WS_OPEN) opened = true;
    }, null);
    const p = net.client(80)!;
    p.send(req);
    net.poll(mgr, 4);
    const r = p.recv_str();
    assert.match(r, new RegExp(`^HTTP/1.1 ${code} `), req.slice(0, 50));
    if (code === 426) assert.match(r, /Sec-WebSocket-Version: 13\r\n/);
    assert.not.ok(opened);
  }
});

test("subprotocol: the first offered one is accepted unless the handler names one", () => {
  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev, hm) => {
    if (ev === MG_EV_HTTP_MSG) {
      if (String(hm.uri) === "/pick") mg_ws_upgrade(c, hm, "Sec-WebSocket-Protocol: %s\r\n", "json");
      else mg_ws_upgrade(c, hm, null);
    }
  }, null);
  const p = net.client(80)!;
  p.send(HANDSHAKE.replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: mqtt, json\r\n\r\n"));
  net.poll(mgr, 3);
  assert.match(p.recv_str(), /Sec-WebSocket-Protocol: mqtt\r\n/);
  const q = net.client(80)!;
  q.send(HANDSHAKE.replace("/ws", "/pick").replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: mqtt, json\r\n\r\n"));
  net.poll(mgr, 3);
  const r = q.recv_str();
  assert.match(r, /Sec-WebSocket-Protocol: json\r\n/);
  assert.is(r.split("Sec-WebSocket-Protocol").length, 2, "only once");
  const z = net.client(80)!;
  z.send(HANDSHAKE);
  net.poll(mgr, 3);
  assert.not.match(z.recv_str(), /Sec-WebSocket-Protocol/, "none offered, none named");
});

test("text and binary echo with 7-, 16- and 64-bit lengths, up to the largest that fits, under short reads and writes", () => {
  // the largest frame that fits: the buffer less a masked 16-bit header (client side), 8 bytes
  const sizes = [0, 1, 125, 126, 127, 1000, MG_IO_SIZE - 8];
  for (const cap of CAPS) {
    const { net, mgr, p, events } = server(echo_handler, false, cap);
    for (const n of sizes) {
      const data = new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = (i * 13) & 127;
      p.send(frame(WEBSOCKET_OP_TEXT, data));
      const fs = frames(pump(net, mgr, p, (g) => frames(g).length > 0));
      assert.is(fs.length, 1, "one frame for " + n);
      assert.is(fs[0].op, WEBSOCKET_OP_TEXT);
      assert.ok(fs[0].fin);
      assert.equal(Array.from(fs[0].data), Array.from(data), `${n} bytes, cap ${cap}`);
    }
    p.send(frame(WEBSOCKET_OP_BINARY, new Uint8Array([0, 255, 128])));
    const fs = frames(pump(net, mgr, p, (g) => frames(g).length > 0));
    assert.is(fs[0].op, WEBSOCKET_OP_BINARY);
    assert.equal(Array.from(fs[0].data), [0, 255, 128]);
    assert.ok(events.includes("MSG:82:3"), "flags = FIN | opcode");
    assert.not.ok(p.closed);
  }
});

test("a 64-bit length header for a small frame is accepted", () => {
  const { net, mgr, p } = server(echo_handler);
  const f = new Uint8Array([0x81, 0xff, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 104, 105]);
  p.send(f);
  net.poll(mgr, 3);
  const fs = frames(p.recv());
  assert.is(latin1(fs[0].data), "hi");
});

test("fragmented messages reassembled, with pings between fragments answered at once", () => {
  for (const cap of CAPS) {
    const { net, mgr, p, events } = server(echo_handler, false, cap);
    events.length = 0;
    p.send(frame(WEBSOCKET_OP_TEXT, utf8("Hel"), false));
    p.send(frame(WEBSOCKET_OP_PING, enc("p1")));
    p.send(frame(WEBSOCKET_OP_CONTINUE, utf8("lo, "), false));
    p.send(frame(WEBSOCKET_OP_PONG, enc("unsolicited")));
    p.send(frame(WEBSOCKET_OP_CONTINUE, new Uint8Array(0), false));
    p.send(frame(WEBSOCKET_OP_CONTINUE, utf8("wörld"), true));
    const fs = frames(pump(net, mgr, p, (g) => frames(g).length >= 2));
    assert.is(fs.length, 2);
    assert.is(fs[0].op, WEBSOCKET_OP_PONG);
    assert.equal(Array.from(fs[0].data), Array.from(enc("p1")));
    assert.is(fs[1].op, WEBSOCKET_OP_TEXT);
    assert.equal(Array.from(fs[1].data), Array.from(utf8("Hello, wörld")));
    assert.equal(events, ["CTL:89", "CTL:8a", "MSG:81:13"]);
  }
});

test("protocol errors close with 1002 and free the connection, whole or cut", () => {
  const x = enc("x");
  const cases: [string, Uint8Array[]][] = [
    ["unmasked client frame", [frame(WEBSOCKET_OP_TEXT, x, true, false)]],
    ["RSV1 set", [frame(WEBSOCKET_OP_TEXT, x, true, true, 0x40)]],
    ["RSV2 set", [frame(WEBSOCKET_OP_BINARY, x, true, true, 0x20)]],
    ["RSV3 set on a ping", [frame(WEBSOCKET_OP_PING, x, true, true, 0x10)]],
    ["reserved opcode 3", [frame(3, x)]],
    ["reserved opcode 7", [frame(7, x)]],
    ["reserved opcode 11", [frame(11, x)]],
    ["reserved opcode 15", [frame(15, x)]],
    ["ping over 125 bytes", [frame(WEBSOCKET_OP_PING, new Uint8Array(126))]],
    ["close over 125 bytes", [frame(WEBSOCKET_OP_CLOSE, new Uint8Array(200).fill(65))]],
    ["fragmented ping", [frame(WEBSOCKET_OP_PING, x, false)]],
    ["fragmented pong", [frame(WEBSOCKET_OP_PONG, x, false)]],
    ["fragmented close", [frame(WEBSOCKET_OP_CLOSE, new Uint8Array([3, 232]), false)]],
    ["continuation without a start", [frame(WEBSOCKET_OP_CONTINUE, x)]],
    ["continuation after a finished message", [frame(WEBSOCKET_OP_TEXT, x), frame(WEBSOCKET_OP_CONTINUE, x)]],
    ["text inside a fragmented text message", [frame(WEBSOCKET_OP_TEXT, x, false), frame(WEBSOCKET_OP_TEXT, x)]],
    ["binary inside a fragmented text message", [frame(WEBSOCKET_OP_TEXT, x, false), frame(WEBSOCKET_OP_PING, x), frame(WEBSOCKET_OP_BINARY, x)]],
    ["close with a 1-byte payload", [frame(WEBSOCKET_OP_CLOSE, new Uint8Array([3]))]],
    ["64-bit length with the top bit set", [new Uint8Array([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 0])]],
  ];
  expect_close(cases, 1002);
  expect_close(cases.slice(0, 3), 1002, true);
});

test("bad close codes → 1002; good ones are echoed; an empty close is answered empty", () => {
  const bad: [string, Uint8Array[]][] = [];
  for (const code of [0, 999, 1004, 1005, 1006, 1012 + 3, 1016, 2000, 2999, 5000, 65535]) {
    bad.push(["code " + code, [frame(WEBSOCKET_OP_CLOSE, new Uint8Array([code >> 8, code & 255]))]]);
  }
  expect_close(bad, 1002);
  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]) {
    const { net, mgr, p, events } = server();
    assert.is(close_code(net, mgr, p, frame(WEBSOCKET_OP_CLOSE, new Uint8Array([code >> 8, code & 255, 111, 107]))), code, "echo " + code);
    assert.ok(events.includes("CTL:88"));
  }
  for (const cap of CAPS) {
    const { net, mgr, p } = server(undefined, false, cap);
    assert.is(close_code(net, mgr, p, frame(WEBSOCKET_OP_CLOSE, new Uint8Array(0))), 0, "an empty close is answered empty");
  }
});

test("invalid UTF-8 → 1007: in a text message, split across fragments, in a close reason", () => {
  const F = (b: number[], fin = true) => frame(WEBSOCKET_OP_TEXT, new Uint8Array(b), fin);
  const C = (b: number[], fin = true) => frame(WEBSOCKET_OP_CONTINUE, new Uint8Array(b), fin);
  const cases: [string, Uint8Array[]][] = [
    ["bad continuation byte", [F([0xc3, 0x28])]],
    ["surrogate", [F([0xed, 0xa0, 0x80])]],
    ["above U+10FFFF", [F([0xf4, 0x90, 0x80, 0x80])]],
    ["overlong /", [F([0xc0, 0xaf])]],
    ["overlong 3-byte", [F([0xe0, 0x80, 0xaf])]],
    ["0xff", [F([0x41, 0xff])]],
    ["lone continuation byte", [F([0x80])]],
    ["bad byte in the second fragment", [F([0xe2, 0x82], false), C([0x28])]],
    ["ends inside a character", [F([0xe2, 0x82])]],
    ["ends inside a character after fragments", [F([0x41], false), C([0xf0, 0x9f], false), C([0x98])]],
    ["a ping between the halves of a bad character", [F([0xe2], false), frame(WEBSOCKET_OP_PING, enc("p")), C([0x41])]],
    ["close reason", [frame(WEBSOCKET_OP_CLOSE, new Uint8Array([3, 232, 0xff]))]],
    ["close reason cut inside a character", [frame(WEBSOCKET_OP_CLOSE, new Uint8Array([3, 232, 0x41, 0xe2, 0x82]))]],
  ];
  expect_close(cases, 1007);
  expect_close(cases, 1007, true);
  for (const cap of CAPS) {
    const { net, mgr, p } = server(echo_handler, false, cap);
    p.send(F([0xf0, 0x9f], false));
    p.send(C([0x98, 0x80, 0xe2, 0x82], false));
    p.send(C([0xac]));
    const fs = frames(pump(net, mgr, p, (g) => frames(g).length > 0));
    assert.equal(Array.from(fs[0].data), [0xf0, 0x9f, 0x98, 0x80, 0xe2, 0x82, 0xac], "😀€ split across fragments is fine");
  }
});

test("a message that cannot fit → 1009 unless the handler takes pieces", () => {
  const cases: [string, Uint8Array[]][] = [
    ["one frame", [frame(WEBSOCKET_OP_BINARY, new Uint8Array(MG_IO_SIZE + 10))]],
    ["a frame one byte too large", [frame(WEBSOCKET_OP_BINARY, new Uint8Array(MG_IO_SIZE - 7))]],
    ["fragments adding up", [frame(WEBSOCKET_OP_TEXT, new Uint8Array(MG_IO_SIZE - 100).fill(65), false), frame(WEBSOCKET_OP_CONTINUE, new Uint8Array(200).fill(65))]],
    ["fragments one byte over the buffer", [frame(WEBSOCKET_OP_BINARY, new Uint8Array(MG_IO_SIZE - 8), false), frame(WEBSOCKET_OP_CONTINUE, new Uint8Array(3))]],
    ["a length of 2^40", [new Uint8Array([0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4])]],
    // 8 bytes left after the first fragment: the next 14-byte header can never arrive whole
    ["a header stuck behind a full buffer", [frame(WEBSOCKET_OP_BINARY, new Uint8Array(MG_IO_SIZE - 8), false), new Uint8Array([0x80, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 9])]],
  ];
  expect_close(cases, 1009);
  // the same messages in pieces pass
  for (const [what, parts] of cases.slice(0, 4)) {
    let got = 0;
    const { net, mgr, p } = server((c, ev, m) => {
      if (ev === MG_EV_WS_MSG) got += m.data.len;
    }, true);
    for (const f of parts) p.send(f);
    pump(net, mgr, p, () => false, 50);
    assert.not.ok(p.closed, what);
    let total = 0;
    for (const f of parts) total += frames(f, true)[0].data.length;
    assert.is(got, total, what);
  }
});

test("pieces: offsets, FIN on the last piece only, UTF-8 checked across pieces, control frames between fragments", () => {
  const text = utf8("héllo wörld, ünïcödé 😀 ".repeat(40));
  for (const cap of [1, 3, 5, 0]) {
    const pieces: { ofs: number; len: number; flags: number }[] = [];
    const bytes: number[] = [];
    const { net, mgr, p, events } = server((c, ev, m) => {
      if (ev !== MG_EV_WS_MSG) return;
      pieces.push({ ofs: m.offset, len: m.data.len, flags: m.flags });
      for (let i = 0; i < m.data.len; i++) bytes.push(m.data.buf[m.data.ofs + i]);
    }, true, cap);
    events.length = 0;
    const half = 301; // inside a character
    p.send(frame(WEBSOCKET_OP_TEXT, text.slice(0, half), false));
    p.send(frame(WEBSOCKET_OP_PING, enc("between")));
    p.send(frame(WEBSOCKET_OP_CONTINUE, text.slice(half), true));
    const got = pump(net, mgr, p, () => pieces.length > 0 && (pieces[pieces.length - 1].flags & 0x80) !== 0);
    assert.not.ok(p.closed, "cap " + cap);
    assert.equal(bytes, Array.from(text), "every byte, cap " + cap);
    let ofs = 0;
    for (let i = 0; i < pieces.length; i++) {
      assert.is(pieces[i].ofs, ofs, "offsets follow each other");
      assert.is(pieces[i].flags & 15, WEBSOCKET_OP_TEXT);
      assert.is((pieces[i].flags & 0x80) !== 0, i === pieces.length - 1, "FIN only on the last");
      ofs += pieces[i].len;
    }
    if (cap > 0) assert.ok(pieces.length > 2, "really in pieces");
    const fs = frames(got);
    assert.is(fs[0].op, WEBSOCKET_OP_PONG, "the ping between fragments answered");
    assert.ok(events.includes("CTL:89"));
  }
});

test("pieces: a handler that takes nothing gets the same bytes again later", () => {
  let calls = 0;
  const seen: number[] = [];
  const { net, mgr, p } = server((c, ev, m) => {
    if (ev !== MG_EV_WS_MSG) return;
    calls++;
    if (calls <= 3) {
      m.consumed = 0; // not now
      return;
    }
    for (let i = 0; i < m.data.len; i++) seen.push(m.data.buf[m.data.ofs + i]);
  }, true);
  p.send(frame(WEBSOCKET_OP_BINARY, new Uint8Array([1, 2, 3, 4, 5])));
  net.poll(mgr, 10);
  assert.ok(calls > 3);
  assert.equal(seen, [1, 2, 3, 4, 5], "unmasked once, offered again");
  p.send(frame(WEBSOCKET_OP_TEXT, new Uint8Array(0)));
  net.poll(mgr, 3);
  assert.not.ok(p.closed);
});

function echo_pieces(c: mg_connection, ev: number, m: any) {
  if (ev !== MG_EV_WS_MSG) return;
  const op = m.offset === 0 ? m.flags & 15 : WEBSOCKET_OP_CONTINUE;
  const last = (m.flags & 0x80) !== 0;
  const n = Math.min(m.data.len, c.send.size - c.send.len - 10);
  if (n <= 0 && m.data.len > 0) {
    m.consumed = 0;
    return;
  }
  const more = last && n === m.data.len ? 0 : WEBSOCKET_DONT_FIN;
  mg_ws_send(c, m.data, n, op | more);
  m.consumed = n;
}

test("pieces: a 70 KB message echoed back as fragments through 2 KB buffers, under short reads and writes", () => {
  const msg = new Uint8Array(70000);
  for (let i = 0; i < msg.length; i++) msg[i] = 32 + (i % 90);
  for (const cap of [0, 333]) {
    const { net, mgr, p } = server(echo_pieces, true, cap);
    const f = frame(WEBSOCKET_OP_TEXT, msg);
    let sent = 0;
    const all: number[] = [];
    let total = 0;
    for (let i = 0; i < 20000 && total < msg.length; i++) {
      if (sent < f.length) sent += p.send(f, Math.min(4096, f.length - sent), sent);
      net.poll(mgr);
      for (const b of p.recv()) all.push(b);
      total = 0;
      for (const x of frames(new Uint8Array(all))) total += x.data.length;
    }
    const fs = frames(new Uint8Array(all));
    assert.ok(fs.length > 1, "sent back in fragments");
    assert.is(fs[0].op, WEBSOCKET_OP_TEXT);
    for (let i = 1; i < fs.length; i++) assert.is(fs[i].op, WEBSOCKET_OP_CONTINUE);
    for (let i = 0; i < fs.length - 1; i++) assert.not.ok(fs[i].fin);
    assert.ok(fs[fs.length - 1].fin);
    const got: number[] = [];
    for (const x of fs) for (const b of x.data) got.push(b);
    assert.is(got.length, msg.length);
    assert.ok(got.every((b, i) => b === msg[i]), "every byte, cap " + cap);
  }
});

test("random frames (seeded): nothing throws out of the poll, every connection ends or goes on, the server keeps serving", () => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 60; round++) {
    const pieces = round % 2 === 1;
    const { net, mgr, p } = server(pieces ? echo_pieces : echo_handler, pieces, round % 3 === 0 ? 1 : 0);
    net.keep_log = true;
    const n = 1 + rnd(6);
    for (let k = 0; k < n; k++) {
      const len = rnd(4) === 0 ? rnd(3000) : rnd(130);
      const data = new Uint8Array(len);
      for (let i = 0; i < len; i++) data[i] = rnd(4) === 0 ? rnd(256) : 97 + rnd(26);
      const f = frame(rnd(16), data, rnd(3) !== 0, rnd(10) !== 0, rnd(8) === 0 ? 0x40 : 0);
      if (rnd(5) === 0) f[1 + rnd(f.length - 1)] = rnd(256); // corrupt a byte
      p.send(f);
    }
    pump(net, mgr, p, (g) => frames(g).some((f) => f.op === WEBSOCKET_OP_CLOSE), 400); // after a close the server only lingers
    assert.not.match(net.log_text, /poll:|threw|exception/, "round " + round);
    // the manager still serves a new client
    const q = net.client(80)!;
    q.send(HANDSHAKE);
    net.read_cap = net.write_cap = 0;
    net.poll(mgr, 3);
    assert.match(q.recv_str(), /^HTTP\/1.1 101 /, "round " + round);
    q.send(frame(WEBSOCKET_OP_TEXT, enc("still")));
    net.poll(mgr, 3);
    assert.is(latin1(frames(q.recv())[0].data), "still", "round " + round);
  }
});

test("close handshake started here: freed when the peer answers, or after the timeout", () => {
  for (const cap of CAPS) {
    const { net, mgr, p, conns, events } = server(undefined, false, cap);
    assert.ok(mg_ws_close(conns[0], 1001, "bye"));
    const fs = frames(pump(net, mgr, p, (g) => frames(g).length > 0));
    assert.is(fs[0].op, WEBSOCKET_OP_CLOSE);
    assert.equal(Array.from(fs[0].data), [3, 233, 98, 121, 101]);
    assert.is(mg_ws_send(conns[0], "late", undefined, WEBSOCKET_OP_TEXT), 0, "nothing is sent after our close");
    net.poll(mgr, 10);
    assert.not.ok(p.closed, "waits for the peer");
    p.send(frame(WEBSOCKET_OP_CLOSE, new Uint8Array([3, 233])));
    pump(net, mgr, p, () => false, 100);
    assert.ok(p.closed, "the peer answered: freed");
    assert.ok(events.includes("CTL:88"), "the peer's close is reported");
  }
  const { net, mgr, p, conns } = server();
  mg_ws_close(conns[0], 1000, "");
  net.poll(mgr, 2);
  p.recv();
  net.poll(mgr, 2, 1000);
  assert.not.ok(p.closed);
  net.poll(mgr, 2, 1000);
  assert.ok(p.closed, "timed out after 3 s");
});

test("close: a reason is cut to fit 125 bytes, never inside a character", () => {
  const { net, mgr, p, conns } = server();
  mg_ws_close(conns[0], 1000, "é".repeat(100));
  net.poll(mgr, 2);
  const fs = frames(p.recv());
  assert.is(fs[0].data.length, 2 + 122);
  assert.equal(Array.from(fs[0].data.slice(2, 4)), [0xc3, 0xa9]);
});

test("a peer that sends close and stops reading holds the connection only until the close timeout", () => {
  const { net, mgr, p } = server();
  p.stall(true);
  p.send(frame(WEBSOCKET_OP_CLOSE, new Uint8Array([3, 232])));
  net.poll(mgr, 3);
  net.poll(mgr, 2, 1000);
  assert.not.ok(p.closed, "still trying to send the echo");
  net.poll(mgr, 2, 1000);
  assert.ok(p.closed, "freed after 3 s");
});

test("keepalive: pings when idle, closes when no answer", () => {
  const errors: string[] = [];
  const { net, mgr, p, conns } = server((c, ev, d) => {
    if (ev === MG_EV_WS_OPEN) mg_ws_keepalive(c, 1000, 500);
    if (ev === MG_EV_ERROR) errors.push(d);
  });
  net.poll(mgr, 9, 100);
  assert.is(p.recv().length, 0, "no ping before the interval");
  net.poll(mgr, 2, 100);
  const fs = frames(p.recv());
  assert.ok(fs.some((f) => f.op === WEBSOCKET_OP_PING), "a ping");
  p.send(frame(WEBSOCKET_OP_PONG, new Uint8Array(0)));
  net.poll(mgr, 3, 100);
  assert.not.ok(p.closed, "answered");
  net.poll(mgr, 30, 100);
  p.recv(); // the second ping: the peer must read everything before it sees the close
  assert.ok(p.closed, "no answer: closed");
  assert.ok(errors.some((e) => e.includes("ping timeout")));
  assert.is(conns.length, 1);
});

test("a handler that throws on a message: MG_EV_ERROR, that connection closed, the others go on", () => {
  const { net, mgr, p, events } = server((c, ev, m) => {
    if (ev === MG_EV_WS_MSG && m.data.len === 4) throw new Error("boom");
    echo_handler(c, ev, m);
  });
  const q = net.client(80)!;
  q.send(HANDSHAKE);
  net.poll(mgr, 3);
  q.recv();
  p.send(frame(WEBSOCKET_OP_TEXT, enc("boom")));
  q.send(frame(WEBSOCKET_OP_TEXT, enc("ok")));
  net.poll(mgr, 4);
  assert.ok(events.some((e) => e.includes("boom")));
  p.recv();
  assert.ok(p.closed);
  assert.is(latin1(frames(q.recv())[0].data), "ok");
});

test("mg_ws_send: a frame that does not fit appends nothing and returns 0", () => {
  const { conns } = server();
  const c = conns[0];
  const big = new Uint8Array(MG_IO_SIZE);
  assert.is(mg_ws_send(c, big, MG_IO_SIZE - 4, WEBSOCKET_OP_BINARY), MG_IO_SIZE, "exactly full");
  assert.is(mg_ws_send(c, "x", undefined, WEBSOCKET_OP_TEXT), 0);
  assert.is(c.send.len, MG_IO_SIZE);
  c.send.len = 0;
  assert.is(mg_ws_send(c, new Uint8Array(126), 126, WEBSOCKET_OP_PING), 0, "a ping over 125 bytes");
  assert.is(mg_ws_send(c, "x", undefined, WEBSOCKET_OP_PONG | WEBSOCKET_DONT_FIN), 0, "a fragmented pong");
  assert.is(mg_ws_send(c, new Uint8Array(125), 125, WEBSOCKET_OP_PING), 127);
});

test("pieces switched on in the middle of a reassembled message: that message stays whole", () => {
  const got: string[] = [];
  const { net, mgr, p } = server((c, ev, m) => {
    if (ev !== MG_EV_WS_MSG) return;
    got.push(latin1(m.data.buf.slice(m.data.ofs, m.data.ofs + m.data.len)) + ":" + m.flags.toString(16));
  });
  p.send(frame(WEBSOCKET_OP_TEXT, enc("ab"), false));
  net.poll(mgr, 2);
  const c = mgr.conns!.is_websocket ? mgr.conns! : mgr.conns!.next!;
  mg_ws_recv_pieces(c);
  p.send(frame(WEBSOCKET_OP_CONTINUE, enc("cd")));
  p.send(frame(WEBSOCKET_OP_TEXT, enc("ef")));
  net.poll(mgr, 3);
  assert.equal(got, ["abcd:81", "ef:81"]);
});

test("client: masked frames with fresh keys, Sec-WebSocket-Accept checked, WS_OPEN, messages both ways", () => {
  for (const cap of CAPS) {
    const net = new mg_mock();
    const mgr = new mg_mgr();
    mg_mgr_init(mgr, net);
    net.read_cap = net.write_cap = cap;
    const srv = net.server(9001);
    const got: string[] = [];
    mg_ws_connect(mgr, "ws://127.0.0.1:9001/chat", (c, ev, d) => {
      if (ev === MG_EV_WS_OPEN) {
        got.push("OPEN");
        mg_ws_send(c, "hi server", undefined, WEBSOCKET_OP_TEXT);
        mg_ws_send(c, "hi server", undefined, WEBSOCKET_OP_TEXT);
      }
      if (ev === MG_EV_WS_MSG) got.push("MSG:" + String((d as mg_ws_message).data));
      if (ev === MG_EV_ERROR) got.push("ERROR:" + d);
    }, null, "Origin: %s\r\nSec-WebSocket-Protocol: chat, JSON\r\n", "test");
    net.poll(mgr, 2);
    const s = net.accepted(srv)!;
    const req = latin1(pump(net, mgr, s, (g) => latin1(g).endsWith("\r\n\r\n"), 2000));
    assert.match(req, /^GET \/chat HTTP\/1.1\r\n/);
    assert.match(req, /Origin: test\r\n/);
    assert.match(req, /Host: 127.0.0.1:9001\r\n/);
    const key = /Sec-WebSocket-Key: (\S+)\r\n/.exec(req)![1];
    assert.is(key.length, 24);
    s.send(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ws_accept(key)}\r\nSec-WebSocket-Protocol: json\r\n\r\n`);
    s.send(new Uint8Array([0x81, 5, 104, 101, 108, 108, 111]));
    const raw = pump(net, mgr, s, (g) => frames(g, true).length >= 2, 2000);
    assert.equal(got, ["OPEN", "MSG:hello"]);
    const fs = frames(raw, true);
    assert.is(fs[0].b0, 0x81);
    assert.is(latin1(fs[0].data), "hi server");
    const k1 = raw.slice(2, 6).join();
    const k2 = raw.slice(17, 21).join();
    assert.is.not(k1, k2, "a fresh mask key per frame");
    // after the 101, more messages arrive one at a time too
    s.send(new Uint8Array([0x82, 2, 7, 8]));
    pump(net, mgr, s, () => got.length > 2, 100);
    assert.is(got[2], "MSG:\x07\x08");
  }
});

test("client: a masked frame from the server is answered with a masked close 1002", () => {
  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const srv = net.server(9003);
  mg_ws_connect(mgr, "ws://127.0.0.1:9003/", null, null);
  net.poll(mgr, 2);
  const s = net.accepted(srv)!;
  const key = /Sec-WebSocket-Key: (\S+)\r\n/.exec(s.recv_str())![1];
  s.send(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ws_accept(key)}\r\n\r\n`);
  s.send(new Uint8Array([0x81, 0x81, 1, 2, 3, 4, 5]));
  const fs = frames(pump(net, mgr, s, () => false, 50), true);
  assert.is(fs[0].op, WEBSOCKET_OP_CLOSE);
  assert.equal(Array.from(fs[0].data), [3, 234]);
  // it lingers for the server's answer (closing with bytes unread could reset the close away)
  assert.not.ok(s.closed, "waits for the server's close");
  s.send(new Uint8Array([0x81, 0x02, 104, 105, 0x88, 0x02, 3, 234])); // a late message is skipped; the close ends it
  pump(net, mgr, s, () => false, 10);
  assert.ok(s.closed);
});

test("client: a wrong Sec-WebSocket-Accept, a missing Upgrade or Connection, a non-101, a subprotocol or extension not offered fail the handshake", () => {
  const bad = [
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: %s\r\n\r\n",
    "HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
  ];
  for (const resp of bad) {
    const net = new mg_mock();
    const mgr = new mg_mgr();
    mg_mgr_init(mgr, net);
    const srv = net.server(9002);
    const got: string[] = [];
    mg_ws_connect(mgr, "ws://127.0.0.1:9002/", (c, ev, d) => {
      if (ev === MG_EV_WS_OPEN) got.push("OPEN");
      if (ev === MG_EV_ERROR) got.push("ERROR");
    }, null);
    net.poll(mgr, 2);
    const s = net.accepted(srv)!;
    const key = /Sec-WebSocket-Key: (\S+)\r\n/.exec(s.recv_str())![1];
    s.send(resp.replace("%s", ws_accept(key)));
    net.poll(mgr, 3);
    assert.equal(got, ["ERROR"], resp.slice(0, 60));
    s.recv();
    assert.ok(s.closed);
  }
});

test("client: mg_ws_close from the client, answered by the server", () => {
  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const srv = net.server(9004);
  const events: string[] = [];
  const c = mg_ws_connect(mgr, "ws://127.0.0.1:9004/", (c, ev, d) => {
    if (ev === MG_EV_WS_CTL) events.push("CTL:" + d.flags.toString(16));
    if (ev === MG_EV_CLOSE) events.push("CLOSE");
  }, null)!;
  net.poll(mgr, 2);
  const s = net.accepted(srv)!;
  const key = /Sec-WebSocket-Key: (\S+)\r\n/.exec(s.recv_str())![1];
  s.send(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ws_accept(key)}\r\n\r\n`);
  net.poll(mgr, 2);
  mg_ws_close(c, 4000, "done");
  net.poll(mgr, 2);
  const fs = frames(s.recv(), true);
  assert.is(fs[0].op, WEBSOCKET_OP_CLOSE);
  assert.equal(Array.from(fs[0].data), [15, 160, 100, 111, 110, 101]);
  s.send(new Uint8Array([0x88, 2, 15, 160]));
  net.poll(mgr, 3);
  assert.equal(events, ["CTL:88", "CLOSE"]);
});

test("mg_ws_printf and mg_ws_wrap; fragmented sending with WEBSOCKET_DONT_FIN", () => {
  const { net, mgr, p, conns } = server();
  const c = conns[0];
  mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{%m:%d}", (o: any, ap: any) => 0, 42);
  mg_send(c, "raw-protocol-bytes");
  mg_ws_wrap(c, 18, WEBSOCKET_OP_BINARY);
  mg_ws_send(c, "part1-", undefined, WEBSOCKET_OP_TEXT | WEBSOCKET_DONT_FIN);
  mg_ws_send(c, "part2", undefined, WEBSOCKET_OP_CONTINUE);
  mg_ws_printf(c, WEBSOCKET_OP_TEXT, "%s", "y".repeat(300));
  net.poll(mgr, 2);
  const fs = frames(p.recv());
  assert.is(fs.length, 5);
  assert.is(latin1(fs[0].data), '{"":42}');
  assert.is(fs[1].op, WEBSOCKET_OP_BINARY);
  assert.is(latin1(fs[1].data), "raw-protocol-bytes");
  assert.is(fs[2].op, WEBSOCKET_OP_TEXT);
  assert.is(fs[2].fin, false);
  assert.is(fs[3].op, WEBSOCKET_OP_CONTINUE);
  assert.ok(fs[3].fin);
  assert.is(fs[4].data.length, 300, "16-bit length from printf");
});

test("6.x: HANDSHAKE_REQUEST, HANDSHAKE_DONE, WEBSOCKET_FRAME, CONTROL_FRAME, NO_DEFRAG", () => {
  for (const nodefrag of [false, true]) {
    const net = new mg_mock();
    const mgr = new mg_mgr();
    mg_mgr_init(mgr, net);
    const log: string[] = [];
    const l = mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev, d) => {
      if (ev === MG_EV_WEBSOCKET_HANDSHAKE_REQUEST) log.push("REQ:" + String(d.uri));
      if (ev === MG_EV_WEBSOCKET_HANDSHAKE_DONE) {
        log.push("DONE");
        if (nodefrag) c.flags |= MG_F_WEBSOCKET_NO_DEFRAG;
      }
      if (ev === MG_EV_WEBSOCKET_FRAME) {
        log.push("FRAME:" + String(d.data) + ":" + d.flags.toString(16) + ":" + d.size);
        mg_ws_send(c, d.data, d.size, WEBSOCKET_OP_TEXT);
      }
      if (ev === MG_EV_WEBSOCKET_CONTROL_FRAME) log.push("CONTROL:" + d.flags.toString(16));
    }, null)!;
    mg_set_protocol_http_websocket(l);
    const p = net.client(80)!;
    p.send(HANDSHAKE);
    p.send(frame(WEBSOCKET_OP_TEXT, enc("ab"), false));
    p.send(frame(WEBSOCKET_OP_PING, enc("p")));
    p.send(frame(WEBSOCKET_OP_CONTINUE, enc("cd")));
    net.poll(mgr, 4);
    if (nodefrag) assert.equal(log, ["REQ:/ws", "DONE", "FRAME:ab:1:2", "CONTROL:89", "FRAME:cd:80:2"]);
    else assert.equal(log, ["REQ:/ws", "DONE", "CONTROL:89", "FRAME:abcd:81:4"]);
    assert.match(p.recv_str(), /^HTTP\/1.1 101 /);
  }
});

test("6.x: a handler that answers the handshake itself with a refusal gets no upgrade", () => {
  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  let done = false;
  const l = mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev) => {
    if (ev === MG_EV_WEBSOCKET_HANDSHAKE_REQUEST) mg_send(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    if (ev === MG_EV_WEBSOCKET_HANDSHAKE_DONE) done = true;
  }, null)!;
  mg_set_protocol_http_websocket(l);
  const p = net.client(80)!;
  p.send(HANDSHAKE);
  net.poll(mgr, 4);
  assert.match(p.recv_str(), /^HTTP\/1.1 403 /);
  assert.not.ok(done);
});

/** SHA-1 + base64 written out here, so the client's check is tested against an independent computation. */
function ws_accept(key: string): string {
  const msg = enc(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  const words: number[] = [];
  const bitlen = msg.length * 8;
  const padded = new Uint8Array(((msg.length + 9 + 63) >> 6) << 6);
  padded.set(msg);
  padded[msg.length] = 0x80;
  padded[padded.length - 4] = (bitlen >>> 24) & 255;
  padded[padded.length - 3] = (bitlen >>> 16) & 255;
  padded[padded.length - 2] = (bitlen >>> 8) & 255;
  padded[padded.length - 1] = bitlen & 255;
  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0;
  for (let o = 0; o < padded.length; o += 64) {
    for (let i = 0; i < 16; i++) words[i] = (padded[o + 4 * i] << 24) | (padded[o + 4 * i + 1] << 16) | (padded[o + 4 * i + 2] << 8) | padded[o + 4 * i + 3];
    for (let i = 16; i < 80; i++) {
      const x = words[i - 3] ^ words[i - 8] ^ words[i - 14] ^ words[i - 16];
      words[i] = (x << 1) | (x >>> 31);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    for (let i = 0; i < 80; i++) {
      const f = i < 20 ? (b & c) | (~b & d) : i < 40 ? b ^ c ^ d : i < 60 ? (b & c) | (b & d) | (c & d) : b ^ c ^ d;
      const k = i < 20 ? 0x5a827999 : i < 40 ? 0x6ed9eba1 : i < 60 ? 0x8f1bbcdc : 0xca62c1d6;
      const t = (((a << 5) | (a >>> 27)) + f + e + k + words[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0; h4 = (h4 + e) | 0;
  }
  const dig: number[] = [];
  for (const h of [h0, h1, h2, h3, h4]) dig.push((h >>> 24) & 255, (h >>> 16) & 255, (h >>> 8) & 255, h & 255);
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let s = "";
  for (let i = 0; i < dig.length; i += 3) {
    const n = (dig[i] << 16) | ((dig[i + 1] ?? 0) << 8) | (dig[i + 2] ?? 0);
    s += A[n >> 18] + A[(n >> 12) & 63] + (i + 1 < dig.length ? A[(n >> 6) & 63] : "=") + (i + 2 < dig.length ? A[n & 63] : "=");
  }
  return s;
}

test.run();
