// Property-based tests of WebSocket framing (issue 11), with fast-check from
// fixed seeds. Random frame sequences (valid and not: any opcode, RSV bits,
// masks, lengths across the 7/16/64-bit forms and MG_IO_SIZE, text that is
// and is not UTF-8, close codes) are fed to the echo app's /ws and to a
// whole-message server, whole and cut anywhere: the same outcome, always a
// close frame and a closed socket at the end, and a valid sequence echoed
// message for message. Then messages of any size and type go from an
// mg_ws_connect client to a server and back through reads cut to random
// sizes, and come back exact. Node and XS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { mg_mock } from "../hal/mock.js";
import { MG_IO_SIZE } from "../src/config.js";
import { MG_EV_HTTP_MSG, MG_EV_WS_MSG, MG_EV_WS_OPEN, mg_mgr, mg_mgr_init } from "../src/net.js";
import { mg_http_listen } from "../src/http.js";
import { mg_ws_connect, mg_ws_message, mg_ws_send, mg_ws_upgrade } from "../src/ws.js";
import { BYE, C, CLOSE, CONT, F, PING, PONG, TEXT, cat, describe, run, utf8 } from "./ws_frames.js";
import { cut_points, pieces, prop } from "./props_util.js";

interface Fr {
  op: number;
  fin: boolean;
  rsv: number;
  mask: boolean;
  payload: Uint8Array;
}

const payload = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }).map(utf8) },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 130 }) },
  { weight: 1, arbitrary: fc.integer({ min: 126, max: 3000 }).map((n) => new Uint8Array(n).fill(97)) },
);
const close_payload = fc.oneof(
  fc.constant(new Uint8Array(0)),
  fc.tuple(fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1011, 3000, 4999, 0, 999, 1004, 1005, 1006, 1015, 2000), fc.string({ maxLength: 20 })).map(([code, r]) => cat(new Uint8Array([code >> 8, code & 255]), utf8(r))),
  fc.uint8Array({ maxLength: 4 }),
);
const frame: fc.Arbitrary<Fr> = fc.record({
  op: fc.oneof({ weight: 10, arbitrary: fc.constantFrom(CONT, TEXT, 2, PING, PONG) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
  fin: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  rsv: fc.oneof({ weight: 20, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(0x10, 0x20, 0x40) }),
  mask: fc.oneof({ weight: 20, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  payload,
});
const frames = fc.array(fc.oneof({ weight: 12, arbitrary: frame }, { weight: 1, arbitrary: close_payload.map((p) => ({ op: CLOSE, fin: true, rsv: 0, mask: true, payload: p })) }), { maxLength: 8 });

/**
 * What a server must answer, by RFC 6455, to frames it takes one by one: the
 * messages echoed and pongs, then a close. null where this model would have to
 * know mgts's sizes or its UTF-8 checks in detail (then only the agreement
 * between cuts is checked).
 */
function model(fs: Fr[]): string[] | null {
  const out: string[] = [];
  let msg: number[] | null = null;
  let msg_op = 0;
  for (const f of fs) {
    const control = f.op >= 8;
    if (f.rsv !== 0 || !f.mask || (f.op > 2 && f.op < 8) || f.op > 10 || (control && (!f.fin || f.payload.length > 125))) return [...out, C(1002)];
    if (f.op === CONT && msg === null) return [...out, C(1002)];
    if (!control && f.op !== CONT && msg !== null) return [...out, C(1002)];
    if (f.op === PING) out.push(describe("pong", f.payload));
    else if (f.op === CLOSE) return null; // codes and reasons: the case table's business
    else if (f.op === PONG) continue;
    else {
      if (f.op !== CONT) {
        msg = [];
        msg_op = f.op;
      }
      for (const b of f.payload) msg!.push(b);
      if (msg!.length + 14 > MG_IO_SIZE) return null; // 1009 for one server, an echo for the other
      if (f.fin) {
        const m = new Uint8Array(msg!);
        if (msg_op === TEXT && !valid_utf8(m)) return null;
        out.push(describe(msg_op === TEXT ? "text" : "binary", m));
        msg = null;
      } else if (msg_op === TEXT) return null; // where in a fragment the UTF-8 check fails: left to the cuts
    }
  }
  if (msg !== null) return null;
  return [...out, C(1000)];
}

function valid_utf8(b: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

test("frames, valid or not: the same outcome whole or cut anywhere, always a close and a closed socket; valid ones echoed as sent", () => {
  const has_decoder = typeof TextDecoder !== "undefined";
  prop(0x5753_0001, 400, fc.tuple(frames, cut_points(10)), ([fs, cuts]) => {
    const bytes = cat(...fs.map((f) => F(f.op, f.payload, { fin: f.fin, rsv: f.rsv, mask: f.mask })), BYE);
    const want = has_decoder ? model(fs) : null;
    for (const server of ["pieces", "whole"] as const) {
      const whole = run(bytes, server, [bytes.length]);
      const cut = run(bytes, server, pieces(bytes.length, cuts));
      // a streamed message cut by an error goes out as far as it had come: only the pieces server, only that
      const strip = (x: string[]) => (server === "pieces" ? x.filter((s) => !s.startsWith("partial ")) : x);
      assert.equal(strip(cut.items), strip(whole.items), server + " server");
      assert.ok(whole.closed && cut.closed, "the socket was closed");
      const last = whole.items[whole.items.length - 1] ?? "";
      assert.ok(last.startsWith("close:"), "it ends with a close: " + JSON.stringify(whole.items));
      if (want !== null) assert.equal(strip(whole.items), want, server + " server, against the model");
    }
  });
});

test("messages of any size and type, client to server and back through reads cut to random sizes: exact", () => {
  const messages = fc.array(
    fc.oneof(
      fc.string({ maxLength: 300 }).map((s) => ({ op: TEXT, data: utf8(s) })),
      fc.uint8Array({ maxLength: MG_IO_SIZE - 16 }).map((data) => ({ op: 2, data })),
    ),
    { minLength: 1, maxLength: 5 },
  );
  prop(0x5753_0002, 120, fc.tuple(messages, fc.integer({ min: 1, max: 64 })), ([ms, cap]) => {
    const net = new mg_mock(8, 1 << 17);
    const mgr = new mg_mgr();
    mg_mgr_init(mgr, net);
    mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev, d) => {
      if (ev === MG_EV_HTTP_MSG) mg_ws_upgrade(c, d, null);
      else if (ev === MG_EV_WS_MSG) mg_ws_send(c, (d as mg_ws_message).data, (d as mg_ws_message).data.len, (d as mg_ws_message).flags & 15);
    }, null);
    const got: string[] = [];
    let next = 0;
    const send_next = (c: any) => {
      if (next < ms.length) {
        const m = ms[next++];
        assert.ok(mg_ws_send(c, m.data, m.data.length, m.op) > 0, "fits");
      }
    };
    mg_ws_connect(mgr, "ws://127.0.0.1:80/", (c, ev, d) => {
      if (ev === MG_EV_WS_OPEN) send_next(c);
      else if (ev === MG_EV_WS_MSG) {
        const m = d as mg_ws_message;
        const b = new Uint8Array(m.data.len);
        for (let i = 0; i < b.length; i++) b[i] = m.data.buf[m.data.ofs + i];
        got.push(describe((m.flags & 15) === TEXT ? "text" : "binary", b));
        send_next(c);
      }
    }, null);
    net.read_cap = net.write_cap = cap;
    for (let i = 0; i < 20000 && got.length < ms.length; i++) net.poll(mgr, 1);
    assert.equal(got, ms.map((m) => describe(m.op === TEXT ? "text" : "binary", m.data)));
  });
});

test.run();
