// JSON-RPC 2.0 (Mongoose's rpc.c): a table of methods, the dispatcher and
// the reply helpers. Transport-free: frames come from wherever the app reads
// them (a WebSocket message, an MQTT payload, a UART line), replies go to
// the app's printing function.
//
//   const head = new mg_rpc_head();                  // C: struct mg_rpc *head = NULL;
//   mg_rpc_add(head, "rpc.list", mg_rpc_list, null);
//   mg_rpc_add(head, "sum", sum, null);              // sum(r) calls mg_rpc_ok(r, "%g", ...)
//   const req = new mg_rpc_req();                    // made once, reused per frame
//   // on MG_EV_WS_MSG:
//   req.head = head; req.frame = wm.data; req.pfn = ws_reply; req.pfn_data = c;
//   mg_rpc_process(req);
//
// As in Mongoose: methods are glob patterns (mg_match), the latest added is
// tried first, the pattern "" receives responses (frames with "result" or
// "error"), mg_rpc_ok answers only requests with an id (a notification gets
// no reply), mg_rpc_err always answers, the id is copied as it came, a
// method nobody serves is -32601 "<method> not found", and a frame that is
// not JSON is -32700 with the frame in the message.
//
// Where mgts differs, on purpose:
// - Fixed tables: an mg_rpc_head holds MG_MAX_RPC_METHODS entries of
//   MG_RPC_NAME_SIZE bytes, made by its first mg_rpc_add; mg_rpc_add returns
//   false (and logs) when the table is full or the name too long, where
//   Mongoose allocates.
// - JSON that is not a request (not an object, "method" not a string, no
//   method/result/error) is -32600 "Invalid Request", as JSON-RPC 2.0 says;
//   Mongoose answers -32700 to all of it. The -32700 echo is cut to 200
//   bytes (on a character boundary): a large bad frame still gets its answer.
// - A response with no "" handler is dropped. Mongoose answers it with
//   -32601 " not found", and two peers doing so would bounce errors forever.
// - A handler that throws is answered -32603 with the exception's message.
// - A reply is formatted whole into one MG_RPC_REPLY_SIZE buffer and handed
//   to pfn in one call (TypeScript adaptation: C's mg_pfn_t takes one char
//   at a time, a function call per byte on XS). One call per reply also
//   makes one WebSocket frame per reply. A reply that does not fit becomes
//   -32603 "reply too large".
// - mg_rpc_ok/mg_rpc_err take up to 10 format arguments as fixed
//   parameters (a rest parameter allocates on XS); mg_rpc_vok/mg_rpc_verr
//   take an mg_va.
//
// Allocation: nothing per frame on XS. The reply buffer and the cursors are
// made on first use (a module `let`, so a preloaded module stays writable).
import { MG_MAX_RPC_METHODS, MG_RPC_NAME_SIZE, MG_RPC_REPLY_SIZE } from "./config.js";
import { mg_print_esc, mg_va, mg_vxprintf, mg_xout, mg_xputb, mg_xputc, mg_xputs } from "./fmt.js";
import { mg_copy, mg_iobuf, mg_iobuf_add } from "./iobuf.js";
import { mg_json_get } from "./json.js";
import { MG_ERROR, MG_LL_ERROR, mg_log_error_value } from "./log.js";
import { mg_match, mg_str, mg_str_n, mg_str_set, mg_utf8_put } from "./str.js";

/**
 * Where a reply goes: the bytes buf[ofs, ofs + len), with the request's
 * pfn_data. Mongoose's mg_pfn_t gets one character per call; this gets a
 * whole reply per call.
 */
export type mg_pfn_t = (buf: Uint8Array, ofs: number, len: number, pfn_data: any) => void;

/** A method handler: answers with mg_rpc_ok or mg_rpc_err (or not at all). */
export type mg_rpc_fn = (r: mg_rpc_req) => void;

/** One method of a table (Mongoose's struct mg_rpc, a list node). */
export class mg_rpc {
  next: mg_rpc | null = null;
  /** The name or glob pattern, a view of the entry's own bytes. */
  method: mg_str;
  fn: mg_rpc_fn | null = null;
  fn_data: any = null;
  in_use = false;
  name: Uint8Array;
  constructor() {
    this.name = new Uint8Array(MG_RPC_NAME_SIZE);
    this.method = mg_str_n(this.name, 0, 0);
  }
}

/**
 * A method table: what C keeps as `struct mg_rpc *head` and passes as
 * &head. TypeScript adaptation: an object holding the list (newest first)
 * and its fixed entries.
 */
export class mg_rpc_head {
  head: mg_rpc | null = null;
  /** MG_MAX_RPC_METHODS entries, made by the first mg_rpc_add. */
  table: mg_rpc[] | null = null;
}

/** One frame to process (Mongoose's struct mg_rpc_req). Make one and reuse it. */
export class mg_rpc_req {
  /** The methods. */
  head: mg_rpc_head | null = null;
  /** The entry being called, set by mg_rpc_process: r.rpc.fn_data is its handler's data. */
  rpc: mg_rpc | null = null;
  /** Where replies go; null sends none. */
  pfn: mg_pfn_t | null = null;
  pfn_data: any = null;
  /** Anything the caller wants the handlers to see (the connection, the app). */
  req_data: any = null;
  /** The frame, e.g. {"id":1,"method":"sum","params":[1,2]}: valid while it is processed. */
  frame: mg_str = mg_str();
}

/** A pfn that appends each reply to an mg_iobuf (nothing when it does not fit). */
export function mg_pfn_iobuf(buf: Uint8Array, ofs: number, len: number, io: mg_iobuf): void {
  mg_iobuf_add(io, io.len, buf, ofs, len);
}

const ECHO_MAX = 200; // bytes of a bad frame quoted back in a -32700

class Scratch {
  buf = new Uint8Array(MG_RPC_REPLY_SIZE);
  out = new mg_xout();
  ap = new mg_va();
  args: any[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  /** Arguments of the formats rpc.ts prints itself. */
  own: any[] = [0, 0, 0];
  own_ap = new mg_va();
  len = [0];
  method = mg_str();
}
/** Run-time state (config.ts: module state). */
function rpc_state(): Scratch {
  return ((globalThis as any).mgts_rpc ??= new Scratch());
}

// --- the table ------------------------------------------------------------------------------

/**
 * Adds a method (a name or an mg_match glob; "" receives responses), tried
 * before those added earlier. fn_data reaches the handler as r.rpc.fn_data.
 * Returns false, logging why, when the table is full (MG_MAX_RPC_METHODS) or
 * the name is longer than MG_RPC_NAME_SIZE bytes.
 */
export function mg_rpc_add(head: mg_rpc_head, method: string | mg_str, fn: mg_rpc_fn, fn_data: any): boolean {
  let t = head.table;
  if (t === null) {
    t = head.table = [];
    for (let i = 0; i < MG_MAX_RPC_METHODS; i++) t.push(new mg_rpc());
  }
  let e: mg_rpc | null = null;
  for (let i = 0; i < t.length && e === null; i++) if (!t[i].in_use) e = t[i];
  if (e === null) {
    MG_ERROR("mg_rpc_add %s: the table is full (MG_MAX_RPC_METHODS)", method);
    return false;
  }
  let n: number;
  if (typeof method === "string") n = mg_utf8_put(method, e.name, 0, MG_RPC_NAME_SIZE);
  else {
    n = method.len;
    if (n <= MG_RPC_NAME_SIZE) mg_copy(e.name, 0, method.buf, method.ofs, n);
  }
  if (n > MG_RPC_NAME_SIZE) {
    MG_ERROR("mg_rpc_add %s: longer than MG_RPC_NAME_SIZE", method);
    return false;
  }
  mg_str_set(e.method, e.name, 0, n);
  e.fn = fn;
  e.fn_data = fn_data;
  e.in_use = true;
  e.next = head.head;
  head.head = e;
  return true;
}

/** Removes every method served by fn (every method when fn is null). */
export function mg_rpc_del(head: mg_rpc_head, fn: mg_rpc_fn | null): void {
  let prev: mg_rpc | null = null;
  for (let e = head.head; e !== null; ) {
    const next: mg_rpc | null = e.next;
    if (fn === null || e.fn === fn) {
      if (prev === null) head.head = next;
      else prev.next = next;
      e.next = null;
      e.fn = null;
      e.fn_data = null;
      e.in_use = false;
    } else prev = e;
    e = next;
  }
}

function find(r: mg_rpc_req, method: mg_str): mg_rpc | null {
  let e = r.head === null ? null : r.head.head;
  while (e !== null && !mg_match(method, e.method, null)) e = e.next;
  return e;
}

// --- dispatch ----------------------------------------------------------------------------------

function call(r: mg_rpc_req, e: mg_rpc): void {
  r.rpc = e;
  try {
    e.fn!(r);
  } catch (err) {
    mg_log_error_value(MG_LL_ERROR, "rpc handler threw: ", err);
    let msg = "handler exception";
    try {
      msg = err instanceof Error ? err.message : String(err);
    } catch {
      // keep the plain message
    }
    mg_rpc_err(r, -32603, "%m", mg_print_esc, 0, msg);
  }
}

/** True when nothing but JSON white space follows offset i of s. */
function ws_only(s: mg_str, i: number): boolean {
  for (; i < s.len; i++) {
    const c = s.buf[s.ofs + i];
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return true;
}

/**
 * Processes one frame: a request calls the first method that matches (or
 * gets -32601), a response goes to the "" method, anything else gets
 * -32700 (not JSON) or -32600 (not a request). Replies go to r.pfn.
 */
export function mg_rpc_process(r: mg_rpc_req): void {
  const sc = rpc_state();
  const f = r.frame;
  const len = sc.len;
  r.rpc = null;
  const root = mg_json_get(f, "$", len);
  if (root < 0 || !ws_only(f, root + len[0])) {
    let n = f.len < ECHO_MAX ? f.len : ECHO_MAX;
    while (n > 0 && n < f.len && (f.buf[f.ofs + n] & 0xc0) === 0x80) n--; // not inside a character
    mg_rpc_err(r, -32700, "%m", mg_print_esc, n, f);
    return;
  }
  if (f.buf[f.ofs + root] !== 123) return mg_rpc_err(r, -32600, '"Invalid Request"');
  const off = mg_json_get(f, "$.method", len);
  if (off > 0) {
    if (f.buf[f.ofs + off] !== 34) return mg_rpc_err(r, -32600, '"Invalid Request"');
    const m = mg_str_set(sc.method, f.buf, f.ofs + off + 1, len[0] - 2);
    const e = find(r, m);
    if (e === null) return mg_rpc_err(r, -32601, '"%s not found"', m);
    return call(r, e);
  }
  if (mg_json_get(f, "$.result", null) > 0 || mg_json_get(f, "$.error", null) > 0) {
    const e = find(r, mg_str_set(sc.method, f.buf, f.ofs, 0));
    if (e !== null) call(r, e);
    return;
  }
  mg_rpc_err(r, -32600, '"Invalid Request"');
}

// --- replies ---------------------------------------------------------------------------------

/** Starts a reply in the scratch buffer; returns the id's offset in the frame (0 when it has none) and leaves its length in sc.len[0]. */
function begin(sc: Scratch, r: mg_rpc_req): number {
  const o = sc.out;
  o.buf = sc.buf;
  o.ofs = 0;
  o.cap = sc.buf.length;
  o.n = 0;
  const id = mg_json_get(r.frame, "$.id", sc.len);
  return id > 0 ? id : 0;
}

function put_id(o: mg_xout, r: mg_rpc_req, id: number, id_len: number): void {
  mg_xputs(o, '"id":');
  mg_xputb(o, r.frame.buf, r.frame.ofs + id, id_len);
  mg_xputc(o, 44);
}

function put_int(o: mg_xout, v: number): void {
  if (v < 0) {
    mg_xputc(o, 45);
    v = -v;
  }
  let p = 1;
  while (p * 10 <= v) p *= 10;
  for (; p >= 1; p /= 10) mg_xputc(o, 48 + (Math.floor(v / p) % 10));
}

function put_error(o: mg_xout, code: number): void {
  mg_xputs(o, '"error":{"code":');
  put_int(o, code);
  mg_xputs(o, ',"message":');
}

/** Hands the reply to pfn; one larger than the buffer becomes -32603 "reply too large". */
function finish(sc: Scratch, r: mg_rpc_req, id: number, id_len: number): void {
  const o = sc.out;
  if (o.n > o.cap) {
    MG_ERROR("rpc: a reply larger than MG_RPC_REPLY_SIZE, answered -32603");
    o.n = 0;
    mg_xputc(o, 123);
    if (id > 0 && id_len < o.cap - 80) put_id(o, r, id, id_len);
    put_error(o, -32603);
    mg_xputs(o, '"reply too large"}}');
  }
  const pfn = r.pfn;
  if (pfn !== null) pfn(sc.buf, 0, o.n, r.pfn_data);
}

function args_set(sc: Scratch, a0: any, a1: any, a2: any, a3: any, a4: any, a5: any, a6: any, a7: any, a8: any, a9: any): mg_va {
  const a = sc.args;
  a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3; a[4] = a4;
  a[5] = a5; a[6] = a6; a[7] = a7; a[8] = a8; a[9] = a9;
  const ap = sc.ap;
  ap.a = a;
  ap.i = 0;
  return ap;
}
function args_clear(sc: Scratch): void {
  const a = sc.args;
  for (let i = 0; i < a.length; i++) a[i] = 0; // drop the references
}

/**
 * Answers r with {"id":<id>,"result":<fmt formatted>}; fmt null is null. A
 * frame without an id (a notification) gets nothing.
 */
export function mg_rpc_vok(r: mg_rpc_req, fmt: string | null, ap: mg_va): void {
  const sc = rpc_state();
  const id = begin(sc, r);
  if (id === 0) return;
  const id_len = sc.len[0];
  const o = sc.out;
  mg_xputc(o, 123);
  put_id(o, r, id, id_len);
  mg_xputs(o, '"result":');
  mg_vxprintf(o, fmt ?? "null", ap);
  mg_xputc(o, 125);
  finish(sc, r, id, id_len);
}

/** mg_rpc_vok with up to 10 arguments: mg_rpc_ok(r, "%d", 42), mg_rpc_ok(r, "{%m:%s}", mg_print_esc, 0, "ok", "true"). */
export function mg_rpc_ok(r: mg_rpc_req, fmt: string | null, a0?: any, a1?: any, a2?: any, a3?: any, a4?: any, a5?: any, a6?: any, a7?: any, a8?: any, a9?: any): void {
  const sc = rpc_state();
  mg_rpc_vok(r, fmt, args_set(sc, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9));
  args_clear(sc);
}

/**
 * Answers r with {"id":<id>,"error":{"code":code,"message":<fmt formatted>}}
 * ("id" only when the frame has one). fmt formats a JSON value: a string
 * needs its quotes, '"bad"' or "%m" with mg_print_esc.
 */
export function mg_rpc_verr(r: mg_rpc_req, code: number, fmt: string | null, ap: mg_va): void {
  const sc = rpc_state();
  const id = begin(sc, r);
  const id_len = sc.len[0];
  const o = sc.out;
  mg_xputc(o, 123);
  if (id > 0) put_id(o, r, id, id_len);
  put_error(o, code);
  mg_vxprintf(o, fmt ?? "null", ap);
  mg_xputs(o, "}}");
  finish(sc, r, id, id_len);
}

/** mg_rpc_verr with up to 10 arguments: mg_rpc_err(r, 400, "%m", mg_print_esc, 0, "bad input"). */
export function mg_rpc_err(r: mg_rpc_req, code: number, fmt: string | null, a0?: any, a1?: any, a2?: any, a3?: any, a4?: any, a5?: any, a6?: any, a7?: any, a8?: any, a9?: any): void {
  const sc = rpc_state();
  mg_rpc_verr(r, code, fmt, args_set(sc, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9));
  args_clear(sc);
}

/** %M printer: the method names of a table (arg: the mg_rpc_head), newest first, without the "" one. */
function print_methods(o: mg_xout, ap: mg_va): number {
  const start = o.n;
  const head = ap.a[ap.i++] as mg_rpc_head | null;
  const sc = rpc_state();
  const own = sc.own;
  const esc = sc.own_ap;
  let first = true;
  for (let e = head === null ? null : head.head; e !== null; e = e.next) {
    if (e.method.len === 0) continue;
    if (!first) mg_xputc(o, 44);
    first = false;
    own[0] = 0;
    own[1] = e.method;
    esc.a = own;
    esc.i = 0;
    mg_xputc(o, 34);
    mg_print_esc(o, esc);
    mg_xputc(o, 34);
  }
  own[1] = 0;
  return o.n - start;
}

/** A method handler that answers with the names of the table's methods: register it as "rpc.list". */
export function mg_rpc_list(r: mg_rpc_req): void {
  mg_rpc_ok(r, "[%M]", print_methods, r.head);
}
