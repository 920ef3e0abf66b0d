// JSON-RPC (src/rpc.ts): dispatch, replies, the error codes, rpc.list, the
// fixed table. Runs on Node and XS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MG_MAX_RPC_METHODS, MG_RPC_NAME_SIZE, MG_RPC_REPLY_SIZE } from "../src/config.js";
import { mg_print_esc, mg_va } from "../src/fmt.js";
import { mg_iobuf } from "../src/iobuf.js";
import { mg_json_get_num } from "../src/json.js";
import { mg_str, mg_str_set, mg_utf8_decode } from "../src/str.js";
import {
  mg_pfn_iobuf,
  mg_rpc_add,
  mg_rpc_del,
  mg_rpc_err,
  mg_rpc_head,
  mg_rpc_list,
  mg_rpc_ok,
  mg_rpc_process,
  mg_rpc_req,
  mg_rpc_verr,
  mg_rpc_vok,
} from "../src/rpc.js";

class Calls {
  n = 0;
  last = "";
}
const calls = new Calls();

function sum(r: mg_rpc_req): void {
  calls.n++;
  const a = mg_json_get_num(r.frame, "$.params[0]");
  const b = mg_json_get_num(r.frame, "$.params[1]");
  if (a === undefined || b === undefined) return mg_rpc_err(r, -32602, '"two numbers expected"');
  mg_rpc_ok(r, "%g", a + b);
}
function echo_data(r: mg_rpc_req): void {
  calls.n++;
  mg_rpc_ok(r, '{"fn_data":%m,"req_data":%m}', mg_print_esc, 0, String(r.rpc!.fn_data), mg_print_esc, 0, String(r.req_data));
}
function responses(r: mg_rpc_req): void {
  calls.n++;
  calls.last = r.frame.toString();
}

interface Rig {
  head: mg_rpc_head;
  req: mg_rpc_req;
  io: mg_iobuf;
}
function rig(): Rig {
  const head = new mg_rpc_head();
  assert.ok(mg_rpc_add(head, "rpc.list", mg_rpc_list, null));
  assert.ok(mg_rpc_add(head, "sum", sum, null));
  const req = new mg_rpc_req();
  req.head = head;
  req.pfn = mg_pfn_iobuf;
  const io = new mg_iobuf(4096);
  req.pfn_data = io;
  return { head, req, io };
}
/** Processes one frame; returns what was answered ("" for nothing), checking that it is JSON. */
function call(r: Rig, frame: string): string {
  r.req.frame = mg_str(frame);
  mg_rpc_process(r.req);
  const out = mg_utf8_decode(r.io.buf, 0, r.io.len);
  r.io.len = 0;
  if (out !== "") JSON.parse(out); // throws if the reply is not JSON
  return out;
}

test("a request: the first matching method answers with the id as it came", () => {
  const r = rig();
  calls.n = 0;
  assert.is(call(r, '{"id":1,"method":"sum","params":[1,2]}'), '{"id":1,"result":3}');
  assert.is(call(r, ' { "method" : "sum" , "params" : [2.5, 4], "id" : "a \\"b\\"" } '), '{"id":"a \\"b\\"","result":6.5}');
  assert.is(call(r, '{"jsonrpc":"2.0","id":null,"method":"sum","params":[1,1]}'), '{"id":null,"result":2}');
  assert.is(call(r, '{"id":7,"method":"sum","params":["x"]}'), '{"id":7,"error":{"code":-32602,"message":"two numbers expected"}}');
  assert.is(calls.n, 4);
});

test("a notification (no id): the method runs, mg_rpc_ok sends nothing, mg_rpc_err still answers", () => {
  const r = rig();
  calls.n = 0;
  assert.is(call(r, '{"method":"sum","params":[1,2]}'), "");
  assert.is(calls.n, 1);
  assert.is(call(r, '{"method":"sum","params":[]}'), '{"error":{"code":-32602,"message":"two numbers expected"}}');
});

test("unknown method: -32601 \"<method> not found\", as Mongoose", () => {
  const r = rig();
  assert.is(call(r, '{"id":1,"method":"foo"}'), '{"id":1,"error":{"code":-32601,"message":"foo not found"}}');
  assert.is(call(r, '{"id":2,"method":""}'), '{"id":2,"error":{"code":-32601,"message":" not found"}}');
  assert.is(call(r, '{"id":3,"method":"a\\"b"}'), '{"id":3,"error":{"code":-32601,"message":"a\\"b not found"}}');
});

test("rpc.list: the method names, newest first, without the response handler", () => {
  const r = rig();
  assert.is(call(r, '{"id":1,"method":"rpc.list"}'), '{"id":1,"result":["sum","rpc.list"]}');
  mg_rpc_add(r.head, "", responses, null);
  mg_rpc_add(r.head, 'odd"name', sum, null);
  assert.is(call(r, '{"id":1,"method":"rpc.list"}'), '{"id":1,"result":["odd\\"name","sum","rpc.list"]}');
});

test("not JSON: -32700 with the frame echoed, as Mongoose (the id too when it can be read)", () => {
  const r = rig();
  assert.is(call(r, "boo"), '{"error":{"code":-32700,"message":"boo"}}');
  assert.is(call(r, ""), '{"error":{"code":-32700,"message":""}}');
  assert.is(call(r, '{"id":1,'), '{"id":1,"error":{"code":-32700,"message":"{\\"id\\":1,"}}');
  assert.is(call(r, '{"id":2,"method":"sum"} x'), '{"id":2,"error":{"code":-32700,"message":"{\\"id\\":2,\\"method\\":\\"sum\\"} x"}}');
  assert.is(call(r, '{"method":"sum",}'), '{"error":{"code":-32700,"message":"{\\"method\\":\\"sum\\",}"}}');
  assert.is(call(r, "\x01\n"), '{"error":{"code":-32700,"message":"\\u0001\\n"}}');
});

test("a long bad frame is echoed in part (200 bytes, whole characters): the answer still fits", () => {
  const r = rig();
  const long = JSON.parse(call(r, "x".repeat(3000)));
  assert.is(long.error.code, -32700);
  assert.is(long.error.message, "x".repeat(200));
  const utf8 = JSON.parse(call(r, "a" + "é".repeat(300))); // é is 2 bytes: byte 200 is inside one
  assert.is(utf8.error.message, "a" + "é".repeat(99));
});

test("JSON that is not a request: -32600 Invalid Request (Mongoose says -32700)", () => {
  const r = rig();
  const inv = (id: string) => `{${id}"error":{"code":-32600,"message":"Invalid Request"}}`;
  assert.is(call(r, "[1,2]"), inv(""));
  assert.is(call(r, '[{"id":1,"method":"sum"}]'), inv(""), "batches are not supported");
  assert.is(call(r, '"sum"'), inv(""));
  assert.is(call(r, "42"), inv(""));
  assert.is(call(r, "{}"), inv(""));
  assert.is(call(r, '{"id":3}'), inv('"id":3,'));
  assert.is(call(r, '{"id":4,"method":42}'), inv('"id":4,'));
  assert.is(call(r, '{"id":5,"method":["sum"]}'), inv('"id":5,'));
});

test('responses go to the "" method; without one they are dropped, never answered', () => {
  const r = rig();
  calls.n = 0;
  assert.is(call(r, '{"id":5,"result":7}'), "", "no error bounced back to a peer's response");
  assert.is(call(r, '{"id":6,"error":{"code":1,"message":"x"}}'), "");
  assert.is(calls.n, 0);
  mg_rpc_add(r.head, "", responses, null);
  assert.is(call(r, '{"id":5,"result":7}'), "");
  assert.is(calls.last, '{"id":5,"result":7}');
  assert.is(call(r, '{"id":6,"error":{"code":1,"message":"x"}}'), "");
  assert.is(calls.n, 2);
});

test("glob methods (mg_match), handler data (r.rpc.fn_data) and request data (r.req_data)", () => {
  const r = rig();
  mg_rpc_add(r.head, "sys.*", echo_data, "sysdata");
  r.req.req_data = "the app";
  assert.is(call(r, '{"id":1,"method":"sys.info"}'), '{"id":1,"result":{"fn_data":"sysdata","req_data":"the app"}}');
  assert.is(JSON.parse(call(r, '{"id":2,"method":"sys.a/b"}')).error.code, -32601, "* does not cross /");
  // the latest added wins
  mg_rpc_add(r.head, "sys.info", echo_data, "newer");
  assert.is(JSON.parse(call(r, '{"id":3,"method":"sys.info"}')).result.fn_data, "newer");
});

test("mg_rpc_ok / mg_rpc_err formats: null, %m, mg_rpc_vok/mg_rpc_verr with an mg_va", () => {
  const r = rig();
  const ap = new mg_va([5, "five"], 0);
  mg_rpc_add(r.head, "null", (q) => mg_rpc_ok(q, null), null);
  mg_rpc_add(r.head, "v", (q) => mg_rpc_vok(q, "[%d,%m]", ((ap.a = [5, mg_print_esc, 0, "five"]), (ap.i = 0), ap)), null);
  mg_rpc_add(r.head, "verr", (q) => mg_rpc_verr(q, 42, "%m", ((ap.a = [mg_print_esc, 0, "tab\there"]), (ap.i = 0), ap)), null);
  mg_rpc_add(r.head, "errnull", (q) => mg_rpc_err(q, -1, null), null);
  assert.is(call(r, '{"id":1,"method":"null"}'), '{"id":1,"result":null}');
  assert.is(call(r, '{"id":1,"method":"v"}'), '{"id":1,"result":[5,"five"]}');
  assert.is(call(r, '{"id":1,"method":"verr"}'), '{"id":1,"error":{"code":42,"message":"tab\\there"}}');
  assert.is(call(r, '{"id":1,"method":"errnull"}'), '{"id":1,"error":{"code":-1,"message":null}}');
});

test("a handler that throws is answered -32603 with the message; a reply too large for the buffer is -32603", () => {
  const r = rig();
  mg_rpc_add(r.head, "boom", () => {
    throw new Error("it broke");
  }, null);
  mg_rpc_add(r.head, "big", (q) => mg_rpc_ok(q, "%m", mg_print_esc, 0, "y".repeat(MG_RPC_REPLY_SIZE)), null);
  assert.is(call(r, '{"id":1,"method":"boom"}'), '{"id":1,"error":{"code":-32603,"message":"it broke"}}');
  assert.is(call(r, '{"id":"big one","method":"big"}'), '{"id":"big one","error":{"code":-32603,"message":"reply too large"}}');
  assert.is(call(r, '{"id":1,"method":"sum","params":[1,2]}'), '{"id":1,"result":3}', "and the next one is fine");
});

test("the table is fixed: full means false, a name too long means false; mg_rpc_del frees entries", () => {
  const head = new mg_rpc_head();
  for (let i = 0; i < MG_MAX_RPC_METHODS; i++) assert.ok(mg_rpc_add(head, "m" + i, i % 2 === 0 ? sum : echo_data, null), `method ${i}`);
  assert.not.ok(mg_rpc_add(head, "one.more", sum, null), "full");
  assert.is(head.table!.length, MG_MAX_RPC_METHODS);
  mg_rpc_del(head, echo_data); // the odd ones
  let n = 0;
  for (let e = head.head; e !== null; e = e.next) n++;
  assert.is(n, MG_MAX_RPC_METHODS / 2);
  assert.ok(mg_rpc_add(head, "one.more", sum, null), "room again");
  assert.not.ok(mg_rpc_add(head, "x".repeat(MG_RPC_NAME_SIZE + 1), sum, null), "too long");
  assert.ok(mg_rpc_add(head, mg_str("y".repeat(MG_RPC_NAME_SIZE)), sum, null), "exactly MG_RPC_NAME_SIZE, as an mg_str");
  assert.not.ok(mg_rpc_add(head, mg_str("z".repeat(MG_RPC_NAME_SIZE + 1)), sum, null));
  mg_rpc_del(head, null);
  assert.is(head.head, null);
  for (const e of head.table!) assert.not.ok(e.in_use);
  const io = new mg_iobuf(256);
  const req = new mg_rpc_req();
  req.head = head;
  req.pfn = mg_pfn_iobuf;
  req.pfn_data = io;
  req.frame = mg_str('{"id":1,"method":"rpc.list"}');
  mg_rpc_process(req);
  assert.is(mg_utf8_decode(io.buf, 0, io.len), '{"id":1,"error":{"code":-32601,"message":"rpc.list not found"}}');
});

test("no pfn, no head, an empty table: nothing throws", () => {
  const req = new mg_rpc_req();
  req.frame = mg_str('{"id":1,"method":"x"}');
  mg_rpc_process(req);
  const io = new mg_iobuf(256);
  req.pfn = mg_pfn_iobuf;
  req.pfn_data = io;
  mg_rpc_process(req);
  assert.is(mg_utf8_decode(io.buf, 0, io.len), '{"id":1,"error":{"code":-32601,"message":"x not found"}}');
  io.len = 0;
  req.head = new mg_rpc_head();
  req.frame = mg_str('{"id":1,"method":"rpc.list"}');
  mg_rpc_list(req);
  assert.is(mg_utf8_decode(io.buf, 0, io.len), '{"id":1,"result":[]}');
});

test("a frame inside a larger buffer (an mg_str view, as a WebSocket message is)", () => {
  const r = rig();
  const text = 'junk{"id":9,"method":"sum","params":[40,2]}junk';
  const all = mg_str(text);
  r.req.frame = mg_str_set(mg_str(), all.buf, 4, text.length - 8);
  mg_rpc_process(r.req);
  assert.is(mg_utf8_decode(r.io.buf, 0, r.io.len), '{"id":9,"result":42}');
});

test.run();
