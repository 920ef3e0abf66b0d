// Logging: levels, MG_ERROR..MG_VERBOSE, the sink, the line format, hex dumps.
// Runs on Node and XS (mongoose-facts.md 1.15).
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  MG_DEBUG,
  MG_ERROR,
  MG_INFO,
  MG_LL_DEBUG,
  MG_LL_ERROR,
  MG_LL_INFO,
  MG_LL_NONE,
  MG_LL_VERBOSE,
  MG_VERBOSE,
  mg_hexdump,
  mg_log,
  mg_log_error_value,
  mg_log_init,
  mg_log_level,
  mg_log_set,
  mg_log_set_fn,
} from "../src/log.js";
import { MG_LOG_LEVEL_DEFAULT, MG_LOG_LINE } from "../src/config.js";
import { mg_print_hex } from "../src/fmt.js";

/** Collects what a sink gets, one string per call. */
function capture(): { lines: string[]; params: any[]; fn: (b: Uint8Array, o: number, n: number, param: any) => void } {
  const lines: string[] = [];
  const params: any[] = [];
  return {
    lines,
    params,
    fn: (b, o, n, param) => {
      let s = "";
      for (let i = 0; i < n; i++) s += String.fromCharCode(b[o + i]);
      lines.push(s);
      params.push(param);
    },
  };
}

let now = 0;
const hal = capture();
mg_log_init(hal.fn, () => now);

test("levels: the constants, the default, and filtering", () => {
  assert.equal([MG_LL_NONE, MG_LL_ERROR, MG_LL_INFO, MG_LL_DEBUG, MG_LL_VERBOSE], [0, 1, 2, 3, 4]);
  assert.is(mg_log_level(), MG_LOG_LEVEL_DEFAULT);
  const c = capture();
  mg_log_set_fn(c.fn, "p");
  const all = () => {
    MG_ERROR("e");
    MG_INFO("i");
    MG_DEBUG("d");
    MG_VERBOSE("v");
  };
  const seen: number[] = [];
  for (let level = MG_LL_NONE; level <= MG_LL_VERBOSE; level++) {
    mg_log_set(level);
    assert.is(mg_log_level(), level);
    c.lines.length = 0;
    all();
    seen.push(c.lines.length);
  }
  assert.equal(seen, [0, 1, 2, 3, 4], "each level lets through itself and the levels below");
  mg_log_set(MG_LL_VERBOSE);
  c.lines.length = 0;
  all();
  assert.equal(c.lines.map((l) => l.slice(7)), ["1 e\n", "2 i\n", "3 d\n", "4 v\n"], "the level follows the time");
  assert.is(c.params[0], "p", "the sink gets its param");
  mg_log(MG_LL_DEBUG, "direct %d", [5]);
  assert.is(c.lines[c.lines.length - 1].slice(7), "3 direct 5\n");
  mg_log_set_fn(null);
  mg_log_set(MG_LOG_LEVEL_DEFAULT);
});

test("a line: millis in hex, the level, the formatted message, one sink call", () => {
  const c = capture();
  mg_log_set_fn(c.fn, null);
  mg_log_set(MG_LL_DEBUG);
  now = 0x1a2b;
  MG_INFO("hello %s %d %M", "world", 42, mg_print_hex, 2, new Uint8Array([0xbe, 0xef]));
  assert.equal(c.lines, ["001a2b 2 hello world 42 beef\n"]);
  now = 0x123456789; // wraps to 6 digits
  MG_ERROR("x");
  assert.is(c.lines[1], "456789 1 x\n");
  now = 12.7;
  MG_ERROR("%s", "frac");
  assert.is(c.lines[2], "00000c 1 frac\n");
  MG_INFO("%d %d %d %d %d %d %d %d", 1, 2, 3, 4, 5, 6, 7, 8);
  assert.is(c.lines[3].slice(9), "1 2 3 4 5 6 7 8\n", "eight arguments");
  MG_INFO("%s|%s", "only one");
  assert.is(c.lines[4].slice(9), "only one|(null)\n", "arguments do not leak from the call before");
  mg_log_set_fn(null);
  now = 0;
});

test("long lines are cut to MG_LOG_LINE, still one line with its newline", () => {
  const c = capture();
  mg_log_set_fn(c.fn, null);
  mg_log_set(MG_LL_INFO);
  MG_INFO("%s", "x".repeat(MG_LOG_LINE * 2));
  assert.is(c.lines.length, 1);
  assert.is(c.lines[0].length, MG_LOG_LINE);
  assert.ok(c.lines[0].endsWith("xx\n"));
  mg_log_set_fn(null);
});

test("the HAL sink is the default; mg_log_set_fn(null) restores it", () => {
  mg_log_set(MG_LL_INFO);
  hal.lines.length = 0;
  MG_INFO("to hal");
  assert.is(hal.lines.length, 1);
  assert.ok(hal.lines[0].endsWith(" 2 to hal\n"));
  const c = capture();
  mg_log_set_fn(c.fn);
  MG_INFO("to custom");
  assert.is(hal.lines.length, 1);
  assert.is(c.lines.length, 1);
  mg_log_set_fn(null);
  MG_INFO("back");
  assert.is(hal.lines.length, 2);
});

test("a throwing sink does not throw out of the log call, and logging goes on", () => {
  mg_log_set(MG_LL_INFO);
  let calls = 0;
  mg_log_set_fn(() => {
    calls++;
    throw new Error("sink broke");
  });
  assert.not.throws(() => MG_ERROR("still fine"));
  assert.not.throws(() => mg_hexdump(new Uint8Array(3), 0, 3));
  assert.is(calls, 2, "the sink was called for both, and threw both times");
  // the next line reaches a working sink whole
  const c = capture();
  mg_log_set_fn(c.fn);
  MG_INFO("after %d", 2);
  assert.is(c.lines.length, 1);
  assert.ok(c.lines[0].endsWith(" 2 after 2\n"), c.lines[0]);
  mg_log_set_fn(null);
});

test("mg_log_error_value: a caught value with a prefix, whatever was thrown", () => {
  const c = capture();
  mg_log_set_fn(c.fn);
  mg_log_set(MG_LL_ERROR);
  mg_log_error_value(MG_LL_ERROR, "handler threw: ", new Error("boom"));
  mg_log_error_value(MG_LL_ERROR, "handler threw: ", "a string");
  mg_log_error_value(MG_LL_ERROR, "handler threw: ", { toString: () => { throw new Error("nested"); } });
  mg_log_error_value(MG_LL_DEBUG, "filtered: ", 1);
  assert.equal(c.lines.map((l) => l.slice(9)), ["handler threw: boom\n", "handler threw: a string\n", "handler threw: ?\n"]);
  mg_log_set_fn(null);
  mg_log_set(MG_LOG_LEVEL_DEFAULT);
});

test("mg_hexdump: 16 bytes a row, offset, hex, printable characters", () => {
  const c = capture();
  mg_log_set_fn(c.fn);
  mg_log_set(MG_LL_NONE);
  const b = new Uint8Array(40);
  for (let i = 0; i < 40; i++) b[i] = 0x20 + i * 3;
  b[0] = 0;
  b[1] = 0xff;
  mg_hexdump(b, 0, 33);
  assert.is(c.lines.length, 3, "printed whatever the level, as Mongoose");
  assert.is(c.lines[0], "0000  00 ff 26 29 2c 2f 32 35 38 3b 3e 41 44 47 4a 4d  ..&),/258;>ADGJM\n");
  assert.is(c.lines[1], "0010  50 53 56 59 5c 5f 62 65 68 6b 6e 71 74 77 7a 7d  PSVY\\_behknqtwz}\n");
  assert.is(c.lines[2], "0020  80                                               .\n");
  c.lines.length = 0;
  mg_hexdump(b, 2, 2);
  assert.equal(c.lines, ["0000  26 29                                            &)\n"], "from an offset");
  c.lines.length = 0;
  mg_hexdump(b, 0, 0);
  assert.is(c.lines.length, 0);
  mg_log_set_fn(null);
  mg_log_set(MG_LOG_LEVEL_DEFAULT);
});

test.run();
