// The WebSocket case table (issue 11): Autobahn-style sections 1-7 and 9,
// as far as they apply at mgts's sizes, each fed whole, one byte at a time
// and in two seeded random splits (seeds printed on failure), to two
// servers: the echo app's /ws (messages in pieces, echoed as fragments) and
// a handler that takes whole messages. The outcome (messages and pongs
// echoed, the close code, the socket closed) must not depend on how the
// bytes were cut; a protocol error must be answered right after the byte
// that proves it, and always with a close frame and a closed socket.
// Node and XS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MG_IO_SIZE } from "../src/config.js";
import {
  B,
  BINARY,
  BYE,
  C,
  C_EMPTY,
  CLOSE,
  CONT,
  F,
  H,
  P,
  PING,
  PONG,
  T,
  TEXT,
  ascii_text,
  cat,
  close_frame,
  fill,
  hex,
  rng,
  run,
  utf8,
} from "./ws_frames.js";

// --- how the bytes are cut ---------------------------------------------------------------

const SEEDS = [0x1badb002, 0x5eed2024];
const MODES = ["whole", "bytes", "split1", "split2"];
function cuts(n: number, mode: string, salt: number): number[] {
  if (mode === "whole") return [n];
  if (mode === "bytes") return new Array(n).fill(1);
  const r = rng(SEEDS[mode === "split1" ? 0 : 1] ^ salt);
  const out: number[] = [];
  for (let left = n; left > 0; ) {
    const k = 1 + (r() % Math.min(left, r() % 4 === 0 ? 600 : 9)); // mostly short pieces, some long
    out.push(k);
    left -= k;
  }
  return out;
}

// --- the cases ------------------------------------------------------------------------

interface Case {
  id: string;
  what: string;
  bytes: Uint8Array;
  /**
   * What comes back from the pieces server (the whole-message server too,
   * unless whole says otherwise). A leading "*": echoes of a message cut by
   * the error are not compared (a streamed message's valid start goes out as
   * it arrives, so how much of it depends on the cut; the close must not).
   */
  want: string[];
  whole?: string[];
  /** For a protocol error: the offset of the byte that proves it (pieces server, whole-message server). */
  proof?: number;
  proof_whole?: number;
}
const cases: Case[] = [];
/** A case the client ends with a close 1000 (echoed), as Autobahn does. */
function ok(id: string, what: string, frames: Uint8Array[], want: string[], whole?: string[]): void {
  cases.push({ id, what, bytes: cat(...frames, BYE), want: [...want, C(1000)], whole: whole === undefined ? undefined : [...whole, C(1000)] });
}
/** A case that fails the connection at the byte frames[k][idx], for both servers. */
function bad(id: string, what: string, frames: Uint8Array[], want: string[], k: number, idx: number, whole?: string[]): void {
  let proof = idx;
  for (let i = 0; i < k; i++) proof += frames[i].length;
  cases.push({ id, what, bytes: cat(...frames, BYE), want, whole, proof, proof_whole: proof });
}
/** Where a message of n bytes that cannot fit MG_IO_SIZE is proven too large: the first length byte that bounds it over. */
function too_big_at(n: number): number {
  if (n < 126) return 1;
  if (n < 65536) return (n >> 8) * 256 + 8 > MG_IO_SIZE ? 2 : 3;
  return 7; // 64-bit lengths of mgts's sizes: the byte for 2^16
}

// 1. framing: text and binary of every length encoding
for (const [i, n] of [0, 125, 126, 127, 128, 65535, 65536].entries()) {
  const t = ascii_text(n);
  const b = fill(n, 31);
  if (H(n) + n > MG_IO_SIZE) {
    // the pieces server echoes it; the whole-message server says 1009 as soon as the length proves it
    cases.push({ id: `1.1.${i + 1}`, what: `text of ${n} bytes`, bytes: cat(F(TEXT, t), BYE), want: [T(t), C(1000)], whole: [C(1009)], proof_whole: too_big_at(n) });
    cases.push({ id: `1.2.${i + 1}`, what: `binary of ${n} bytes`, bytes: cat(F(BINARY, b), BYE), want: [B(b), C(1000)], whole: [C(1009)], proof_whole: too_big_at(n) });
  } else {
    ok(`1.1.${i + 1}`, `text of ${n} bytes`, [F(TEXT, t)], [T(t)]);
    ok(`1.2.${i + 1}`, `binary of ${n} bytes`, [F(BINARY, b)], [B(b)]);
  }
}

// 2. pings and pongs
ok("2.1", "ping, no payload", [F(PING)], [P()]);
ok("2.2", "ping with text", [F(PING, utf8("Hello, world!"))], [P("Hello, world!")]);
ok("2.3", "ping with binary", [F(PING, hex(0, 255, 254, 253, 252, 251, 0, 255))], [P(hex(0, 255, 254, 253, 252, 251, 0, 255))]);
ok("2.4", "ping of 125 bytes", [F(PING, fill(125, 7))], [P(fill(125, 7))]);
bad("2.5", "ping of 126 bytes", [F(PING, fill(126, 7))], [C(1002)], 0, 1);
ok("2.7", "unsolicited pong", [F(PONG)], []);
ok("2.8", "unsolicited pong with payload", [F(PONG, utf8("unsolicited pong payload"))], []);
ok("2.9", "unsolicited pong, then ping", [F(PONG, utf8("unsolicited pong payload")), F(PING, utf8("ping payload"))], [P("ping payload")]);
{
  const pings: Uint8Array[] = [];
  const pongs: string[] = [];
  for (let i = 0; i < 10; i++) {
    pings.push(F(PING, utf8("payload-" + i)));
    pongs.push(P("payload-" + i));
  }
  ok("2.10", "10 pings", pings, pongs);
}

// 3. reserved bits
bad("3.1", "RSV1 on text", [F(TEXT, utf8("Hello, world!"), { rsv: 0x40 })], [C(1002)], 0, 0);
bad("3.2", "text, then RSV2 on text, then ping", [F(TEXT, utf8("Hello, world!")), F(TEXT, utf8("Hello, world!"), { rsv: 0x20 }), F(PING)], [T("Hello, world!"), C(1002)], 1, 0);
bad("3.3", "text, then RSV3 on text, then ping", [F(TEXT, utf8("Hello, world!")), F(TEXT, utf8("Hello, world!"), { rsv: 0x10 }), F(PING)], [T("Hello, world!"), C(1002)], 1, 0);
bad("3.4", "text, RSV1+2 on text, ping", [F(TEXT, utf8("Hello, world!")), F(TEXT, utf8("Hello, world!"), { rsv: 0x60 }), F(PING)], [T("Hello, world!"), C(1002)], 1, 0);
bad("3.5", "RSV1+3 on binary", [F(BINARY, fill(8, 3), { rsv: 0x50 })], [C(1002)], 0, 0);
bad("3.6", "RSV2+3 on ping", [F(PING, utf8("Hello, world!"), { rsv: 0x30 })], [C(1002)], 0, 0);
bad("3.7", "RSV1+2+3 on close", [F(CLOSE, hex(3, 232), { rsv: 0x70 })], [C(1002)], 0, 0);

// 4. opcodes
const HELLO = utf8("Hello, world!");
for (const [k, op] of [3, 4, 5, 6, 7].entries()) {
  if (k < 2) bad(`4.1.${k + 1}`, `reserved data opcode ${op}`, [F(op, k === 0 ? new Uint8Array(0) : HELLO)], [C(1002)], 0, 0);
  else bad(`4.1.${k + 1}`, `text, reserved data opcode ${op}, ping`, [F(TEXT, HELLO), F(op, k === 2 ? new Uint8Array(0) : HELLO), F(PING)], [T(HELLO), C(1002)], 1, 0);
}
for (const [k, op] of [11, 12, 13, 14, 15].entries()) {
  if (k < 2) bad(`4.2.${k + 1}`, `reserved control opcode ${op}`, [F(op, k === 0 ? new Uint8Array(0) : HELLO)], [C(1002)], 0, 0);
  else bad(`4.2.${k + 1}`, `text, reserved control opcode ${op}, ping`, [F(TEXT, HELLO), F(op, k === 2 ? new Uint8Array(0) : HELLO), F(PING)], [T(HELLO), C(1002)], 1, 0);
}

// 5. fragmentation
const F1 = utf8("fragment1"), F2 = utf8("fragment2"), F3 = utf8("fragment3");
bad("5.1", "fragmented ping", [F(PING, F1, { fin: false }), F(CONT, F2)], [C(1002)], 0, 0);
bad("5.2", "fragmented pong", [F(PONG, F1, { fin: false }), F(CONT, F2)], [C(1002)], 0, 0);
ok("5.3", "text in 2 fragments", [F(TEXT, F1, { fin: false }), F(CONT, F2)], [T("fragment1fragment2")]);
ok("5.6", "text in 2 fragments, a ping between", [F(TEXT, F1, { fin: false }), F(PING, utf8("pongme!")), F(CONT, F2)], [P("pongme!"), T("fragment1fragment2")]);
bad("5.9", "a final continuation with nothing to continue, then text", [F(CONT, utf8("non-continuation payload")), F(TEXT, HELLO)], [C(1002)], 0, 0);
bad("5.12", "a continuation (no FIN) with nothing to continue, then text", [F(CONT, utf8("non-continuation payload"), { fin: false }), F(TEXT, HELLO)], [C(1002)], 0, 0);
bad("5.15", "a fragmented text, then a stray continuation, then text", [F(TEXT, F1, { fin: false }), F(CONT, F2), F(CONT, F3, { fin: false }), F(TEXT, utf8("fragment4"))], [T("fragment1fragment2"), C(1002)], 2, 0);
bad(
  "5.16",
  "twice: a continuation (no FIN) with nothing to continue, then a fragmented text",
  [F(CONT, F1, { fin: false }), F(TEXT, F2, { fin: false }), F(CONT, F3), F(CONT, F1, { fin: false }), F(TEXT, F2, { fin: false }), F(CONT, F3)],
  [C(1002)],
  0,
  0,
);
bad(
  "5.17",
  "twice: a final continuation with nothing to continue, then a fragmented text",
  [F(CONT, F1), F(TEXT, F2, { fin: false }), F(CONT, F3), F(CONT, F1), F(TEXT, F2, { fin: false }), F(CONT, F3)],
  [C(1002)],
  0,
  0,
);
// the pieces server echoes the first fragment as it comes: it is on the wire before the error
bad("5.18", "a fragmented text whose second frame says text too", [F(TEXT, F1, { fin: false }), F(TEXT, F2)], ["partial " + T("fragment1"), C(1002)], 1, 0, [C(1002)]);
ok(
  "5.19",
  "text in 5 fragments, 2 pings between",
  [F(TEXT, utf8("fragment1"), { fin: false }), F(CONT, utf8("fragment2"), { fin: false }), F(PING, utf8("pongme 1!")), F(CONT, utf8("fragment3"), { fin: false }), F(PING, utf8("pongme 2!")), F(CONT, utf8("fragment4"), { fin: false }), F(CONT, utf8("fragment5"))],
  [P("pongme 1!"), P("pongme 2!"), T("fragment1fragment2fragment3fragment4fragment5")],
);

// 6. UTF-8
ok("6.1.1", "an empty text", [F(TEXT)], [T("")]);
ok("6.1.2", "an empty text in 3 empty fragments", [F(TEXT, undefined, { fin: false }), F(CONT, undefined, { fin: false }), F(CONT)], [T("")]);
ok("6.1.3", "empty first and last fragments", [F(TEXT, undefined, { fin: false }), F(CONT, utf8("middle frame payload"), { fin: false }), F(CONT)], [T("middle frame payload")]);
const HELLO8 = utf8("Hello-µ@ßöäüàá-UTF-8!!");
ok("6.2.1", "valid UTF-8 in one frame", [F(TEXT, HELLO8)], [T(HELLO8)]);
ok("6.2.2", "valid UTF-8, fragmented on code points", [F(TEXT, HELLO8.slice(0, 7), { fin: false }), F(CONT, HELLO8.slice(7))], [T(HELLO8)]);
{
  const frames: Uint8Array[] = [];
  for (let i = 0; i < HELLO8.length; i++) frames.push(F(i === 0 ? TEXT : CONT, HELLO8.slice(i, i + 1), { fin: i === HELLO8.length - 1 }));
  ok("6.2.3", "valid UTF-8, one byte per fragment", frames, [T(HELLO8)]);
}
const KOSME = hex(0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5);
const KOSME_BAD = cat(KOSME, hex(0xed, 0xa0, 0x80), utf8("edited"));
bad("6.3.1", "invalid UTF-8 (a surrogate) in one frame", [F(TEXT, KOSME_BAD)], ["*", C(1007)], 0, 6 + 12, [C(1007)]);
{
  const frames: Uint8Array[] = [];
  for (let i = 0; i < KOSME_BAD.length; i++) frames.push(F(i === 0 ? TEXT : CONT, KOSME_BAD.slice(i, i + 1), { fin: i === KOSME_BAD.length - 1 }));
  const w = ["partial " + T(hex(0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed)), C(1007)];
  bad("6.3.2", "the same, one byte per fragment", frames, w, 12, 6, [C(1007)]);
}
bad("6.4.1", "fail fast: a bad sequence in the middle fragment", [F(TEXT, KOSME, { fin: false }), F(CONT, hex(0xf4, 0x90, 0x80, 0x80), { fin: false }), F(CONT, utf8("edited"))], ["*", C(1007)], 1, 7, [C(1007)]);
bad("6.4.2", "fail fast: a bad sequence across fragments", [F(TEXT, cat(KOSME, hex(0xf4)), { fin: false }), F(CONT, hex(0x90, 0x80, 0x80), { fin: false }), F(CONT, utf8("edited"))], ["*", C(1007)], 1, 6, [C(1007)]);
bad("6.4.3", "fail fast: a bad sequence inside one frame of 1500 bytes", [F(TEXT, cat(KOSME, hex(0xf4, 0x90, 0x80, 0x80), ascii_text(1500)))], ["*", C(1007)], 0, 8 + 12, [C(1007)]);

// 6.5 - 6.23: Markus Kuhn's UTF-8 stress cases, each one text message
const utf8_cases: [string, number[], boolean][] = [
  ["6.5.1 κόσμε", [0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5], true],
  ["6.6.1 a lead byte alone", [0xce], false],
  ["6.6.2 κ", [0xce, 0xba], true],
  ["6.6.3 κ and a lead byte", [0xce, 0xba, 0xe1], false],
  ["6.6.4 κ and two bytes of three", [0xce, 0xba, 0xe1, 0xbd], false],
  ["6.7.1 U+0000", [0x00], true],
  ["6.7.2 U+0080", [0xc2, 0x80], true],
  ["6.7.3 U+0800", [0xe0, 0xa0, 0x80], true],
  ["6.7.4 U+10000", [0xf0, 0x90, 0x80, 0x80], true],
  ["6.8.1 5 bytes", [0xf8, 0x88, 0x80, 0x80, 0x80], false],
  ["6.8.2 6 bytes", [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80], false],
  ["6.9.1 U+007F", [0x7f], true],
  ["6.9.2 U+07FF", [0xdf, 0xbf], true],
  ["6.9.3 U+FFFF", [0xef, 0xbf, 0xbf], true],
  ["6.9.4 U+10FFFF", [0xf4, 0x8f, 0xbf, 0xbf], true],
  ["6.10.1 U+1FFFFF", [0xf7, 0xbf, 0xbf, 0xbf], false],
  ["6.10.2 U+3FFFFFF", [0xfb, 0xbf, 0xbf, 0xbf, 0xbf], false],
  ["6.11.1 U+D7FF", [0xed, 0x9f, 0xbf], true],
  ["6.11.2 U+E000", [0xee, 0x80, 0x80], true],
  ["6.11.3 U+FFFD", [0xef, 0xbf, 0xbd], true],
  ["6.11.5 U+110000", [0xf4, 0x90, 0x80, 0x80], false],
  ["6.12.1 a continuation byte alone", [0x80], false],
  ["6.12.2 0xbf", [0xbf], false],
  ["6.12.3 two continuations", [0x80, 0xbf], false],
  ["6.12.8 every continuation byte", Array.from({ length: 64 }, (_, i) => 0x80 + i), false],
  ["6.13.1 lead bytes of 2, each then a space", [0xc0, 0x20, 0xc1, 0x20, 0xc2, 0x20], false],
  ["6.13.2 a lead byte of 3, then a space", [0xe0, 0x20], false],
  ["6.13.3 a lead byte of 4, then a space", [0xf0, 0x20], false],
  ["6.14.1 U+0000 as 2 bytes, last missing", [0xc0], false],
  ["6.14.2 3 bytes, last missing", [0xe0, 0x80], false],
  ["6.14.3 4 bytes, last missing", [0xf0, 0x80, 0x80], false],
  ["6.14.6 U+07FF, last missing", [0xdf], false],
  ["6.14.7 U+FFFF, last missing", [0xef, 0xbf], false],
  ["6.15.1 incomplete sequences in a row", [0xc0, 0xe0, 0x80, 0xf0, 0x80, 0x80, 0xdf, 0xef, 0xbf], false],
  ["6.16.1 0xfe", [0xfe], false],
  ["6.16.2 0xff", [0xff], false],
  ["6.16.3 fe fe ff ff", [0xfe, 0xfe, 0xff, 0xff], false],
  ["6.17.1 '/' overlong in 2", [0xc0, 0xaf], false],
  ["6.17.2 '/' overlong in 3", [0xe0, 0x80, 0xaf], false],
  ["6.17.3 '/' overlong in 4", [0xf0, 0x80, 0x80, 0xaf], false],
  ["6.18.1 the largest overlong of 2", [0xc1, 0xbf], false],
  ["6.18.2 the largest overlong of 3", [0xe0, 0x9f, 0xbf], false],
  ["6.18.3 the largest overlong of 4", [0xf0, 0x8f, 0xbf, 0xbf], false],
  ["6.19.1 NUL overlong in 2", [0xc0, 0x80], false],
  ["6.19.2 NUL overlong in 3", [0xe0, 0x80, 0x80], false],
  ["6.20.1 U+D800", [0xed, 0xa0, 0x80], false],
  ["6.20.4 U+DBFF", [0xed, 0xaf, 0xbf], false],
  ["6.20.7 U+DFFF", [0xed, 0xbf, 0xbf], false],
  ["6.21.1 a surrogate pair", [0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80], false],
  ["6.22.1 U+FFFE", [0xef, 0xbf, 0xbe], true],
  ["6.22.3 U+1FFFE", [0xf0, 0x9f, 0xbf, 0xbe], true],
  ["6.22.34 U+FDD0", [0xef, 0xb7, 0x90], true],
  ["6.23.1 U+FFFD", [0xef, 0xbf, 0xbd], true],
];
/** Where a UTF-8 validator must stop, or -1 if only the end proves it (a sequence cut short). */
function utf8_bad_at(b: number[]): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    let need = 0, lo = 0x80, hi = 0xbf;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c === 0xe0) (need = 2), (lo = 0xa0);
    else if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) need = 2;
    else if (c === 0xed) (need = 2), (hi = 0x9f);
    else if (c === 0xf0) (need = 3), (lo = 0x90);
    else if (c >= 0xf1 && c <= 0xf3) need = 3;
    else if (c === 0xf4) (need = 3), (hi = 0x8f);
    else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= b.length) return -1;
      const d = b[i + k];
      if (d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i + k;
    }
    i += need + 1;
  }
  return -1;
}
for (const [name, b, valid] of utf8_cases) {
  const id = name.slice(0, name.indexOf(" "));
  const what = name.slice(name.indexOf(" ") + 1);
  const payload = new Uint8Array(b);
  if (valid) ok(id, what, [F(TEXT, payload)], [T(payload)]);
  else {
    const at = utf8_bad_at(b);
    // a sequence cut short is proven by the frame's end: its last byte
    bad(id, what, [F(TEXT, payload)], ["*", C(1007)], 0, H(b.length) + (at >= 0 ? at : b.length - 1), [C(1007)]);
  }
}

// 7. close
ok("7.1.1", "text, then close", [F(TEXT, HELLO)], [T(HELLO)]);
cases.push({ id: "7.1.2", what: "close twice", bytes: cat(BYE, BYE), want: [C(1000)] });
cases.push({ id: "7.1.3", what: "close, then ping", bytes: cat(BYE, F(PING, HELLO)), want: [C(1000)] });
cases.push({ id: "7.1.4", what: "close, then text", bytes: cat(BYE, F(TEXT, HELLO)), want: [C(1000)] });
cases.push({ id: "7.1.5", what: "a first fragment, close, the last fragment", bytes: cat(F(TEXT, F1, { fin: false }), BYE, F(CONT, F2)), want: ["partial " + T(F1), C(1000)], whole: [C(1000)] });
{
  const big = ascii_text(4000);
  cases.push({ id: "7.1.6", what: "a large text, a ping, close", bytes: cat(F(TEXT, big), F(PING, HELLO), BYE), want: [T(big), P(HELLO), C(1000)], whole: [C(1009)], proof_whole: too_big_at(4000) });
}
cases.push({ id: "7.3.1", what: "close with no payload", bytes: F(CLOSE), want: [C_EMPTY] });
bad("7.3.2", "close with one byte", [F(CLOSE, hex(3))], [C(1002)], 0, 1);
cases.push({ id: "7.3.3", what: "close 1000", bytes: close_frame(1000), want: [C(1000)] });
cases.push({ id: "7.3.4", what: "close 1000 with a reason", bytes: close_frame(1000, utf8("Hello World!")), want: [C(1000)] });
cases.push({ id: "7.3.5", what: "close 1000, a reason of 123 bytes", bytes: close_frame(1000, ascii_text(123)), want: [C(1000)] });
bad("7.3.6", "close 1000, a reason of 124 bytes", [close_frame(1000, ascii_text(124))], [C(1002)], 0, 1);
bad("7.5.1", "close with a reason that is not UTF-8", [close_frame(1000, KOSME_BAD)], [C(1007)], 0, 6 + 2 + 12);
for (const [k, code] of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999].entries()) {
  cases.push({ id: `7.7.${k + 1}`, what: `close ${code}`, bytes: close_frame(code), want: [C(code)] });
}
for (const [k, code] of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999].entries()) {
  bad(`7.9.${k + 1}`, `close with the invalid code ${code}`, [close_frame(code)], [C(1002)], 0, 7);
}

// 9. limits, at mgts's sizes (MG_IO_SIZE buffers; Autobahn's 64 KB - 16 MB are scaled down)
for (const [k, n] of [4096, 16384].entries()) {
  const t = ascii_text(n);
  const b = fill(n, 13);
  cases.push({ id: `9.1.${k + 1}`, what: `text of ${n} bytes`, bytes: cat(F(TEXT, t), BYE), want: [T(t), C(1000)], whole: [C(1009)], proof_whole: too_big_at(n) });
  cases.push({ id: `9.2.${k + 1}`, what: `binary of ${n} bytes`, bytes: cat(F(BINARY, b), BYE), want: [B(b), C(1000)], whole: [C(1009)], proof_whole: too_big_at(n) });
}
for (const [k, piece] of [64, 256, 1024, 4096].entries()) {
  const n = 8192;
  const t = ascii_text(n);
  const frames: Uint8Array[] = [];
  for (let o = 0; o < n; o += piece) frames.push(F(o === 0 ? TEXT : CONT, t.slice(o, o + piece), { fin: o + piece >= n }));
  cases.push({ id: `9.3.${k + 1}`, what: `text of ${n} bytes in fragments of ${piece}`, bytes: cat(...frames, BYE), want: [T(t), C(1000)], whole: [C(1009)] });
}
{
  const frames: Uint8Array[] = [];
  const want: string[] = [];
  for (let i = 0; i < 100; i++) {
    const m = fill(16, i + 1);
    frames.push(F(i % 2 === 0 ? TEXT : BINARY, i % 2 === 0 ? ascii_text(16) : m));
    want.push(i % 2 === 0 ? T(ascii_text(16)) : B(m));
  }
  ok("9.7.1", "100 small messages", frames, want);
}

// --- the test -----------------------------------------------------------------------------

test(`the case table (${cases.length} cases), two servers, whole, byte by byte and in two random splits: the same outcome`, () => {
  const failures: string[] = [];
  let salt = 0;
  for (const c of cases) {
    salt++;
    for (const server of ["pieces", "whole"] as const) {
      const want = server === "whole" && c.whole !== undefined ? c.whole : c.want;
      for (const mode of MODES) {
        const r = run(c.bytes, server, cuts(c.bytes.length, mode, salt));
        const label = `${c.id} ${c.what} [${server} server, ${mode}${mode.startsWith("split") ? `, seed ${SEEDS[mode === "split1" ? 0 : 1]} ^ ${salt}` : ""}]`;
        const items = want[0] === "*" ? r.items.filter((x) => !x.startsWith("partial ")) : r.items;
        const w = want[0] === "*" ? want.slice(1) : want;
        if (JSON.stringify(items) !== JSON.stringify(w)) failures.push(`${label}: got ${JSON.stringify(r.items)}, want ${JSON.stringify(w)}`);
        else if (!r.closed) failures.push(`${label}: the socket was left open`);
        else if (mode === "bytes") {
          // answered right after the byte that proves the error: not before it, not later
          const proof = server === "whole" ? c.proof_whole : c.proof;
          if (proof !== undefined && r.close_at !== proof + 1) failures.push(`${label}: the close came after ${r.close_at} bytes; the error is proven by byte ${proof + 1}`);
        }
      }
    }
  }
  assert.equal(failures, []);
});

test.run();
