// JSON: mg_json_get (offset, length, errors), the typed getters, mg_json_next
// and mg_json_unescape. Runs on Node and XS. Vectors from Mongoose's
// test_json (mongoose-facts.md 1.12).
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  MG_JSON_INVALID,
  MG_JSON_NOT_FOUND,
  MG_JSON_TOO_DEEP,
  mg_json_get,
  mg_json_get_b64,
  mg_json_get_bool,
  mg_json_get_hex,
  mg_json_get_long,
  mg_json_get_num,
  mg_json_get_str,
  mg_json_get_tok,
  mg_json_next,
  mg_json_unescape,
} from "../src/json.js";
import { mg_str, mg_str_n, mg_utf8_decode, mg_utf8_encode } from "../src/str.js";
import { MG_JSON_MAX_DEPTH } from "../src/config.js";

const n = [0];
/** [offset, length] of the token at path, or [error] (toklen is then 0, as Mongoose sets it). */
function get(json: string, path: string): number[] {
  n[0] = -1;
  const o = mg_json_get(mg_str(json), path, n);
  if (o < 0) assert.is(n[0], 0, `toklen after ${o} for ${path} in ${json}`);
  return o < 0 ? [o] : [o, n[0]];
}

test("mg_json_get: offsets and lengths, Mongoose's vectors", () => {
  assert.equal(get(" true ", ""), [MG_JSON_INVALID]);
  assert.equal(get(" true ", "$"), [1, 4]);
  assert.equal(get("null ", "$"), [0, 4]);
  assert.equal(get('  "hi\\nthere"', "$"), [2, 11]);
  assert.equal(get(" { } ", "$"), [1, 3]);
  assert.equal(get(" [[]]", "$"), [1, 4]);
  assert.equal(mg_json_get(mg_str_n(mg_utf8_encode(" [ ]  "), 0, 5), "$", n), 1);
  assert.is(n[0], 3);
  assert.equal(get("[1,2]", "$"), [0, 5]);
  assert.equal(get("[1,2]", "$[0]"), [1, 1]);
  assert.equal(get("[1,2]", "$[1]"), [3, 1]);
  assert.equal(get("[1,2]", "$[3]"), [MG_JSON_NOT_FOUND]);
  assert.equal(get('{"a":[]}', "$.a"), [5, 2]);
  assert.equal(get('{"a":[1,2]}', "$.a"), [5, 5]);
  assert.equal(get('{"a":[1,[1]]}', "$.a"), [5, 7]);
  assert.equal(get('{"a":[[]]}', "$.a"), [5, 4]);
  assert.equal(get('{"a":[[5]]}', "$.a"), [5, 5]);
  assert.equal(get('{"a":[[5]]}', "$.a[0]"), [6, 3]);
  assert.equal(get('{"a":[[5]]}', "$.a[0][0]"), [7, 1]);
  assert.equal(get('{"a":{"x":[{}]}}', "$.a"), [5, 10]);
  assert.equal(get('{"a":{"x":[{}]}}', "$.a.x[0]"), [11, 2]);
  assert.equal(get('{"a":1,"b":2}', "$.c"), [MG_JSON_NOT_FOUND]);
  assert.equal(get('{"a":1,"b":2}', "$.b"), [11, 1]);
  assert.equal(get('{"ab":1,"a":2}', "$.a"), [12, 1], "keys match whole");
  assert.equal(get('[{"a":1,"b":2},{"a":3}]', "$[1].a"), [20, 1]);
  assert.equal(get('{ "a" : { "b" : [ 1 , "x" ] } }', "$.a.b[1]"), [22, 3]);
  assert.equal(get('{"a":"x"}', "$[0]"), [MG_JSON_NOT_FOUND], "an index into an object");
  assert.equal(get("[1]", "$.a"), [MG_JSON_NOT_FOUND], "a key into an array");
  assert.equal(get('{"a":1}', "$.a.b"), [MG_JSON_NOT_FOUND], "deeper than the document");
  assert.equal(get("{}", "$.a"), [MG_JSON_NOT_FOUND]);
  assert.equal(get("[]", "$[0]"), [MG_JSON_NOT_FOUND]);
  assert.equal(get('{"a":"}"}', "$.a"), [5, 3], "brackets inside strings");
  assert.equal(get('{"a\\"b":1,"c":2}', "$.c"), [14, 1], "escaped quotes in keys");
  assert.equal(get('{"a":-1.5e+3}', "$.a"), [5, 7]);
  assert.is(mg_json_get('{"a":1}', "$.a", null), 5, "no length holder, a string input");
  const i32 = new Int32Array(1);
  assert.is(mg_json_get(mg_str('{"a":[1,2]}'), "$.a", i32), 5);
  assert.is(i32[0], 5, "an Int32Array holder");
});

test("mg_json_get: offsets are relative to a view's start", () => {
  const b = mg_utf8_encode('xxx{"a":12}yyy');
  assert.is(mg_json_get(mg_str_n(b, 3, 8), "$.a", n), 5);
  assert.is(n[0], 2);
  assert.is(mg_json_get_num(mg_str_n(b, 3, 8), "$.a"), 12);
});

test("mg_json_get: invalid input and bad paths", () => {
  for (const [json, path] of [
    ['{"a":1,"b":2', "$.c"],
    ['{"a" 1}', "$.a"],
    ['{"a":1 "b":2}', "$.b"],
    ['{"a":1,}', "$.b"],
    ["[1,2", "$[5]"],
    ["[1,,2]", "$[2]"],
    ['{"a":tru}', "$.a"],
    ['{"a":x}', "$.a"],
    ['{"a":"\\x"}', "$.a"],
    ['{"a":"\\u12g4"}', "$.a"],
    ['{"a":"line\nbreak"}', "$.a"],
    ['{"a":"open', "$.a"],
    ['{"a":-}', "$.a"],
    ['{"a":1.}', "$.a"],
    ['{"a":1e}', "$.a"],
    ["", "$"],
    ["   ", "$"],
    ["{a:1}", "$.a"],
    ["[1]", "$[x]"],
    ["[1]", "$[0"],
    ["[1]", "$[]"],
    ["[1]", "a"],
    ["[1]", "$x"],
  ]) {
    assert.equal(get(json, path), [MG_JSON_INVALID], `${json} ${path}`);
  }
  // not a full validator: it stops once the target is found
  assert.equal(get('{"a":1,}', "$.a"), [5, 1]);
  assert.equal(get("true garbage", "$"), [0, 4]);
});

test("mg_json_get: nesting deeper than MG_JSON_MAX_DEPTH is TOO_DEEP", () => {
  const D = MG_JSON_MAX_DEPTH;
  const ok = "[".repeat(D) + "]".repeat(D);
  const deep = "[".repeat(D + 1) + "]".repeat(D + 1);
  assert.equal(get(ok, "$"), [0, 2 * D]);
  assert.equal(get(deep, "$"), [MG_JSON_TOO_DEEP]);
  assert.equal(get(`{"x":${deep}}`, "$.x"), [MG_JSON_TOO_DEEP]);
  assert.equal(get(`{"x":${deep},"y":1}`, "$.y"), [MG_JSON_TOO_DEEP], "skipping a too-deep value");
  assert.equal(get(deep, "$" + "[0]".repeat(D + 1)), [MG_JSON_TOO_DEEP], "a path deeper than the limit");
  assert.equal(get(ok, "$" + "[0]".repeat(D - 1)), [D - 1, 2]);
});

const DOC = '{"a":"b\\u0001\\u00ffc","b":123.45e1, "c":[1,-2.5,{"d":"e"}], "e":true, "f":false, "g":null, "h":"0aFF", "i":"aGVsbG8=", "j":"", "k":"\\u4e2d\\ud83d\\ude00\\n\\t\\"\\\\\\/"}';

test("typed getters: num, long, bool, tok", () => {
  assert.is(mg_json_get_num(DOC, "$.b"), 1234.5);
  assert.is(mg_json_get_num(DOC, "$.c[0]"), 1);
  assert.is(mg_json_get_num(DOC, "$.c[1]"), -2.5);
  assert.is(mg_json_get_num(DOC, "$.a"), undefined, "a string is not a number");
  assert.is(mg_json_get_num(DOC, "$.e"), undefined);
  assert.is(mg_json_get_num(DOC, "$.zz"), undefined);
  assert.is(mg_json_get_num("[1e308]", "$[0]"), 1e308);
  assert.is(mg_json_get_num("[-0]", "$[0]"), -0);
  assert.is(mg_json_get_long(DOC, "$.b", 7), 1234);
  assert.is(mg_json_get_long(DOC, "$.c[1]", 7), -2);
  assert.is(mg_json_get_long(DOC, "$.zz", 7), 7);
  assert.is(mg_json_get_long(DOC, "$.a", -1), -1);
  assert.is(mg_json_get_bool(DOC, "$.e"), true);
  assert.is(mg_json_get_bool(DOC, "$.f"), false);
  assert.is(mg_json_get_bool(DOC, "$.g"), undefined);
  assert.is(mg_json_get_bool(DOC, "$.zz"), undefined);
  assert.is(mg_json_get_tok(DOC, "$.c[2]")!.toString(), '{"d":"e"}');
  assert.is(mg_json_get_tok(DOC, "$.h")!.toString(), '"0aFF"', "strings keep their quotes");
  assert.is(mg_json_get_tok(DOC, "$.g")!.toString(), "null");
  assert.is(mg_json_get_tok(DOC, "$.zz"), null);
  const doc = mg_str(DOC);
  const tok = mg_json_get_tok(doc, "$.e")!;
  assert.is(tok.buf, doc.buf, "a view into the input");
});

test("typed getters: str, hex, b64", () => {
  assert.is(mg_json_get_str(DOC, "$.a"), "b\x01\u00ffc");
  assert.is(mg_json_get_str(DOC, "$.c[2].d"), "e");
  assert.is(mg_json_get_str(DOC, "$.j"), "");
  assert.is(mg_json_get_str(DOC, "$.k"), '中😀\n\t"\\/', "mgts decodes every \\u (Mongoose only up to 0xFF)");
  assert.is(mg_json_get_str(DOC, "$.b"), null);
  assert.is(mg_json_get_str(DOC, "$.zz"), null);
  assert.equal(Array.from(mg_json_get_hex(DOC, "$.h")!), [0x0a, 0xff]);
  assert.is(mg_json_get_hex('{"x":"abc"}', "$.x"), null, "odd length");
  assert.is(mg_json_get_hex('{"x":"zz"}', "$.x"), null);
  assert.is(mg_json_get_hex('{"x":12}', "$.x"), null);
  assert.is(mg_json_get_hex('{"x":""}', "$.x")!.length, 0);
  assert.is(mg_utf8_decode(mg_json_get_b64(DOC, "$.i")!, 0, 5), "hello");
  assert.is(mg_json_get_b64(DOC, "$.i")!.length, 5);
  assert.is(mg_json_get_b64(DOC, "$.j")!.length, 0);
  assert.is(mg_json_get_b64('{"x":"!!!!"}', "$.x"), null);
  assert.is(mg_json_get_b64('{"x":1}', "$.x"), null);
});

test("mg_json_next: objects and arrays", () => {
  const key = mg_str();
  const val = mg_str();
  const obj = mg_str('{"a":1, "b" : [2,3],"c":{"d":"}"}}');
  const got: string[] = [];
  for (let ofs = mg_json_next(obj, 0, key, val); ofs > 0; ofs = mg_json_next(obj, ofs, key, val)) got.push(key + "=" + val);
  assert.equal(got, ['"a"=1', '"b"=[2,3]', '"c"={"d":"}"}'], "keys stay quoted");
  const arr = mg_str(' [ 1, "x" ,{}, [] ] ');
  got.length = 0;
  let ofs = 0;
  while ((ofs = mg_json_next(arr, ofs, key, val)) > 0) got.push(key.len + ":" + val);
  assert.equal(got, ["0:1", '0:"x"', "0:{}", "0:[]"], "no keys in arrays");
  assert.is(mg_json_next(mg_str("{}"), 0, key, val), 0);
  assert.is(mg_json_next(mg_str("[]"), 0, key, val), 0);
  assert.is(mg_json_next(mg_str("1"), 0, key, val), 0);
  assert.is(mg_json_next(mg_str(""), 0, key, val), 0);
  assert.is(mg_json_next(mg_str('{"a"}'), 0, key, val), 0);
  assert.is(mg_json_next(mg_str("{1:2}"), 0, key, val), 0);
  assert.is(mg_json_next(mg_str('{"a":}'), 0, key, val), 0);
  assert.ok(mg_json_next(mg_str('{"a":1}'), 0, null, null) > 0, "key and val may be null");
  // nested: iterate the token a getter found
  const inner = mg_json_get_tok(DOC, "$.c")!;
  got.length = 0;
  ofs = 0;
  while ((ofs = mg_json_next(inner, ofs, key, val)) > 0) got.push(val.toString());
  assert.equal(got, ["1", "-2.5", '{"d":"e"}']);
});

function unesc(s: string, cap = 64): string | number {
  const d = new Uint8Array(cap);
  const k = mg_json_unescape(mg_str(s), d, 0, cap);
  return k < 0 ? k : mg_utf8_decode(d, 0, k);
}

test("mg_json_unescape", () => {
  assert.is(unesc("plain"), "plain");
  assert.is(unesc(""), "");
  assert.is(unesc('\\b\\f\\n\\r\\t\\\\\\"\\/'), '\b\f\n\r\t\\"/');
  assert.is(unesc("\\u0041\\u00e9"), "Aé");
  assert.is(unesc("\\u4E2D"), "中");
  assert.is(unesc("\\ud83d\\ude00"), "😀", "a surrogate pair joins");
  assert.is(unesc("\\ud83dx"), "\ufffdx", "a lone surrogate is U+FFFD");
  assert.is(unesc("\\ude00"), "\ufffd");
  assert.is(unesc("\\ud83d\\u0041"), "\ufffdA");
  assert.is(unesc("\\x"), -1);
  assert.is(unesc("\\"), -1);
  assert.is(unesc("\\u12"), -1);
  assert.is(unesc("\\u12zz"), -1);
  assert.is(unesc("abc", 3), "abc");
  assert.is(unesc("abcd", 3), -1, "dst too small");
  assert.is(unesc("\\u4e2d", 2), -1);
  const d = new Uint8Array(4).fill(9);
  assert.is(mg_json_unescape(mg_str("\\n"), d, 2, 2), 1);
  assert.equal(Array.from(d), [9, 9, 10, 9]);
});

test.run();
