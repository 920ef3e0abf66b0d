// Property-based tests of the HTTP parsers (issue 11), with fast-check from
// fixed seeds: request and response heads (mg_http_parse), the chunked
// decoder, multipart (6.x part events and mg_http_next_multipart), and the
// server over the mock network. Invariants: no exception escapes; nothing is
// read outside [ofs, ofs + len) nor written at all by the head parser, nor
// written past the bytes it was given by the chunked decoder; a prefix of a
// head is incomplete until the bytes prove it bad or complete, and stays so;
// input cut anywhere gives the same events and answer as whole input;
// whatever is built from parts parses back to those parts. Node and XS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { mg_mock } from "../hal/mock.js";
import { MG_IO_SIZE, MG_MAX_HTTP_HEADERS } from "../src/config.js";
import { MG_EV_CLOSE, MG_EV_HTTP_HDRS, MG_EV_HTTP_MSG, mg_connection, mg_mgr, mg_mgr_init } from "../src/net.js";
import {
  MG_EV_HTTP_MULTIPART_REQUEST_END,
  MG_EV_HTTP_PART_BEGIN,
  MG_EV_HTTP_PART_DATA,
  MG_EV_HTTP_PART_END,
  MG_EV_HTTP_REQUEST,
  MG_HTTP_TOO_MANY_HEADERS,
  mg_http_get_header,
  mg_http_listen,
  mg_http_message,
  mg_http_multipart_part,
  mg_http_next_multipart,
  mg_http_parse,
  mg_http_part,
  mg_http_reply,
  mg_set_protocol_http_websocket,
} from "../src/http.js";
import { CK_SIZE, chunk_step, type ChunkState } from "../src/http_chunked.js";
import { mg_str_n } from "../src/str.js";
import { FIELD, TCHAR, VCHAR, bytes, chars, concat, cut_points, mutation, pieces, prop, token } from "./props_util.js";

// --- generators --------------------------------------------------------------------------

/** Header names that decide framing or that the server acts on are left out of random headers. */
const SPECIAL = ["content-length", "transfer-encoding", "host", "connection", "cookie", "authorization", "expect", "content-type", "upgrade"];
const header_name = token(12).filter((n) => !SPECIAL.includes(n.toLowerCase()));
const trim = (s: string) => s.replace(/^[ \t]+|[ \t]+$/g, "");
const header_value = chars(FIELD, 0, 24).map(trim);
const headers = fc.array(fc.tuple(header_name, header_value), { maxLength: 6 });

interface Req {
  method: string;
  path: string;
  query: string | null;
  v10: boolean;
  headers: [string, string][];
  body: Uint8Array | null;
  chunked: boolean;
}
const request: fc.Arbitrary<Req> = fc.record({
  method: token(8),
  path: chars(VCHAR.replace("?", ""), 0, 20).map((p) => "/" + p),
  query: fc.option(chars(VCHAR, 0, 16)),
  v10: fc.boolean(),
  headers,
  body: fc.option(fc.uint8Array({ maxLength: 40 })),
  chunked: fc.boolean(),
});

/** A chunked body of data in chunks of the given sizes, with extensions and trailers of the grammar's forms. */
function chunked(data: Uint8Array, sizes: number[], ext: boolean, trailers: [string, string][]): Uint8Array {
  const out: Uint8Array[] = [];
  let o = 0;
  for (let i = 0; o < data.length; i++) {
    const n = Math.min(data.length - o, Math.max(1, sizes[i % Math.max(1, sizes.length)] ?? 1));
    out.push(bytes(n.toString(16) + (ext ? `;n${i}=v${i};q="a \\" b";flag` : "") + "\r\n"), data.subarray(o, o + n), bytes("\r\n"));
    o += n;
  }
  out.push(bytes("0" + (ext ? ";last" : "") + "\r\n"));
  for (const [k, v] of trailers) out.push(bytes(`${k}: ${v}\r\n`));
  out.push(bytes("\r\n"));
  return concat(...out);
}

function serialize(r: Req): Uint8Array {
  let head = `${r.method} ${r.path}${r.query !== null ? "?" + r.query : ""} HTTP/1.${r.v10 ? 0 : 1}\r\n`;
  for (const [k, v] of r.headers) head += `${k}: ${v}\r\n`;
  if (r.body === null) return bytes(head + "\r\n");
  if (r.chunked && !r.v10) return concat(bytes(head + "Transfer-Encoding: chunked\r\n\r\n"), chunked(r.body, [3, 1, 7], true, [["X-T", "1"]]));
  return concat(bytes(head + `Content-Length: ${r.body.length}\r\n\r\n`), r.body);
}

/** Bytes that are sometimes HTTP and sometimes not: random, or a request with edits. */
const head_bytes = fc.oneof(fc.uint8Array({ maxLength: 200 }), request.chain((r) => mutation(serialize(r))));

// --- the head parser ----------------------------------------------------------------------

/** What a parse left in hm, as offsets from ofs (comparable between buffers). */
function snapshot(n: number, hm: mg_http_message, ofs: number): string {
  if (n <= 0) return String(n);
  const v = (s: { ofs: number; len: number }) => `${s.ofs - ofs}+${s.len}`;
  let out = `${n} ${v(hm.method)} ${v(hm.uri)} ${v(hm.query)} ${v(hm.proto)} ${v(hm.body)} ${hm.body_len} ${hm.chunked} ${hm.resp_code} ${hm.hdr_count}`;
  for (let i = 0; i < hm.hdr_count; i++) out += ` ${v(hm.headers[i].name)}:${v(hm.headers[i].value)}`;
  return out;
}

test("mg_http_parse, any bytes: no throw, a result in range, views inside the head, nothing read outside [ofs, ofs + len), nothing written", () => {
  const hm = new mg_http_message();
  prop(0x4854_5001, 400, fc.tuple(head_bytes, fc.integer({ min: 0, max: 7 })), ([input, ofs]) => {
    const len = input.length;
    const seen: string[] = [];
    // the same bytes between different neighbours: before ofs and after len
    for (const fill of [0x00, 0x0a, 0xaa]) {
      const buf = new Uint8Array(ofs + len + 32).fill(fill === 0x0a ? 0x0d : fill);
      for (let i = 0; i < buf.length; i += 2) if (fill === 0x0a) buf[i] = 0x0a;
      buf.set(input, ofs);
      const before = buf.slice();
      const n = mg_http_parse(buf, len, hm, ofs);
      assert.ok(n === -1 || n === 0 || n === MG_HTTP_TOO_MANY_HEADERS || (n > 0 && n <= len), "result " + n);
      assert.equal(Array.from(buf), Array.from(before), "the parser wrote into the buffer");
      if (n > 0) {
        const inside = (s: { ofs: number; len: number }, lo: number, hi: number) => s.ofs >= lo && s.len >= 0 && s.ofs + s.len <= hi;
        for (const s of [hm.method, hm.uri, hm.query, hm.proto]) assert.ok(inside(s, ofs, ofs + n), "a view outside the head");
        for (let i = 0; i < hm.hdr_count; i++) assert.ok(inside(hm.headers[i].name, ofs, ofs + n) && inside(hm.headers[i].value, ofs, ofs + n));
        assert.ok(hm.hdr_count <= MG_MAX_HTTP_HEADERS);
        assert.ok(inside(hm.body, ofs + n, ofs + len), "the body outside the bytes");
      }
      seen.push(snapshot(n, hm, ofs));
    }
    assert.ok(seen[0] === seen[1] && seen[1] === seen[2], "the neighbours changed the parse: " + seen.join(" | "));
    // every byte it looks at, through a proxy that notes the indexes read
    const buf = new Uint8Array(ofs + len + 8);
    buf.set(input, ofs);
    let lo = Infinity;
    let hi = -1;
    const spy = new Proxy(buf, {
      get(t, k) {
        if (typeof k === "string" && k.length > 0 && k.charCodeAt(0) >= 48 && k.charCodeAt(0) <= 57) {
          const i = Number(k);
          if (i < lo) lo = i;
          if (i > hi) hi = i;
          return t[i];
        }
        return (t as any)[k];
      },
    });
    mg_http_parse(spy as Uint8Array, len, hm, ofs);
    assert.ok(hi < 0 || (lo >= ofs && hi < ofs + len), `read [${lo}, ${hi}] of [${ofs}, ${ofs + len})`);
  });
});

test("mg_http_parse, prefixes: incomplete until the byte that proves it bad (then bad for good) or the head's end (then the same length for good)", () => {
  const hm = new mg_http_message();
  prop(0x4854_5002, 250, head_bytes, (input) => {
    let state = 0; // 0 incomplete so far; < 0 refused; > 0 the head's length
    for (let k = 0; k <= input.length; k++) {
      const n = mg_http_parse(input, k, hm);
      if (state === 0) {
        assert.ok(n <= 0 || n === k, `complete at ${k} with length ${n}`);
        state = n;
      } else assert.is(n, state, `prefix ${k}: was ${state}`);
    }
  });
});

test("mg_http_parse: a request built from parts parses back to them", () => {
  const hm = new mg_http_message();
  prop(0x4854_5003, 300, request, (r) => {
    const b = serialize(r);
    const n = mg_http_parse(b, b.length, hm);
    assert.ok(n > 0, "refused: " + n);
    assert.is(String(hm.method), r.method);
    assert.is(String(mg_str_n(hm.uri.buf, hm.uri.ofs, hm.uri.len)), r.path);
    assert.is(hm.query.len > 0 || r.query === "" ? String(hm.query) : null, r.query === null ? null : r.query);
    assert.is(String(hm.proto), r.v10 ? "HTTP/1.0" : "HTTP/1.1");
    for (let i = 0; i < r.headers.length; i++) {
      assert.is(latin1(hm.headers[i].name), r.headers[i][0]);
      assert.is(latin1(hm.headers[i].value), r.headers[i][1]);
    }
    if (r.body !== null && !(r.chunked && !r.v10)) {
      assert.is(hm.body_len, r.body.length);
      assert.equal(Array.from(bytes(latin1(hm.body))), Array.from(r.body));
    }
  });
});

function latin1(s: { buf: Uint8Array; ofs: number; len: number }): string {
  let out = "";
  for (let i = 0; i < s.len; i++) out += String.fromCharCode(s.buf[s.ofs + i]);
  return out;
}

test("mg_http_parse: a response built from parts parses back to them", () => {
  const hm = new mg_http_message();
  const response = fc.record({ code: fc.integer({ min: 100, max: 999 }), reason: chars(FIELD, 0, 20).map(trim), headers, body: fc.uint8Array({ maxLength: 30 }) });
  prop(0x4854_5004, 300, response, (r) => {
    let head = `HTTP/1.1 ${r.code}${r.reason.length > 0 ? " " + r.reason : ""}\r\n`;
    for (const [k, v] of r.headers) head += `${k}: ${v}\r\n`;
    const b = concat(bytes(head + `Content-Length: ${r.body.length}\r\n\r\n`), r.body);
    const n = mg_http_parse(b, b.length, hm);
    assert.ok(n > 0, "refused: " + n);
    assert.is(hm.resp_code, r.code);
    assert.is(latin1(hm.proto), r.reason);
    const no_body = r.code < 200 || r.code === 204 || r.code === 304;
    assert.is(hm.body_len, no_body ? 0 : r.body.length);
    assert.is(latin1(mg_http_get_header(hm, "content-length")!), String(r.body.length));
  });
});

// --- the chunked decoder ---------------------------------------------------------------------

/** Runs the decoder as body_step does: data kept at the front, the rest after it. */
function dechunk(input: Uint8Array, cuts: number[]): { data: number[]; bad: boolean; complete: boolean; rest: number[] } {
  const st: ChunkState = { ck: CK_SIZE, ck_size: 0, ck_digits: 0, complete: false };
  const b = new Uint8Array(input.length + 16).fill(0x5a); // the canary past what was given
  const r = { len: 0 };
  let kept = 0;
  let at = 0;
  let bad = false;
  for (const k of pieces(input.length, cuts)) {
    b.set(input.subarray(at, at + k), r.len);
    r.len += k;
    at += k;
    const given = r.len;
    b.fill(0x5a, given);
    const n = chunk_step(st, b, kept, r);
    for (let i = given; i < b.length; i++) if (b[i] !== 0x5a) throw new Error("written past the bytes given, at " + i);
    if (n < 0) {
      bad = true;
      break;
    }
    kept += n;
    assert.ok(kept <= r.len && r.len <= at, "decoded more than was given");
    if (st.complete) break;
  }
  return { data: Array.from(b.subarray(0, kept)), bad, complete: st.complete, rest: bad ? [] : Array.from(b.subarray(kept, r.len)) };
}

test("chunked: data in chunks of any sizes, with extensions and trailers, comes back whole, cut anywhere", () => {
  const arb = fc.record({
    data: fc.uint8Array({ maxLength: 300 }),
    sizes: fc.array(fc.integer({ min: 1, max: 80 }), { minLength: 1, maxLength: 6 }),
    ext: fc.boolean(),
    trailers: fc.array(fc.tuple(token(8), chars(FIELD, 0, 10).map(trim)), { maxLength: 3 }),
    cuts: cut_points(),
  });
  prop(0x4854_5005, 300, arb, (x) => {
    const enc = concat(chunked(x.data, x.sizes, x.ext, x.trailers), bytes("GET /next"));
    const r = dechunk(enc, x.cuts);
    assert.not.ok(r.bad, "refused");
    assert.ok(r.complete);
    assert.equal(r.data, Array.from(x.data));
  });
});

test("chunked, any bytes: the same data, verdict and leftover whole or cut anywhere; never a byte written past the input", () => {
  const good = fc.record({ data: fc.uint8Array({ maxLength: 60 }), sizes: fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 4 }), ext: fc.boolean() }).map((x) => chunked(x.data, x.sizes, x.ext, [["X", "y"]]));
  const input = fc.oneof(fc.uint8Array({ maxLength: 120 }), good.chain(mutation));
  prop(0x4854_5006, 400, fc.tuple(input, cut_points()), ([b, cuts]) => {
    const whole = dechunk(b, []);
    const cut = dechunk(b, cuts);
    assert.equal(cut, whole);
  });
});

// --- the server: events and answers do not depend on the cuts ----------------------------

interface Served {
  events: string[];
  out: string;
  closed: boolean;
}

function serve(input: Uint8Array, cuts: number[]): Served {
  const net = new mg_mock(4, 1 << 16);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const caught: string[] = [];
  net.log_echo = (line: string) => {
    // mg_mgr_poll's catch-all and mg_call's: an exception that only the net stopped
    if (line.indexOf("poll: ") >= 0 || line.indexOf("handler threw") >= 0) caught.push(line);
  };
  const events: string[] = [];
  const conns: mg_connection[] = [];
  mg_http_listen(mgr, "http://0.0.0.0:80", (c, ev, d) => {
    if (conns.indexOf(c) < 0) conns.push(c);
    const hm = d as mg_http_message;
    if (ev === MG_EV_HTTP_HDRS) events.push(`HDRS ${latin1(hm.method)} ${latin1(hm.uri)} ${hm.body_len}`);
    else if (ev === MG_EV_HTTP_MSG) {
      events.push(`MSG ${latin1(hm.body)}`);
      mg_http_reply(c, 200, "", "ok %d", hm.body.len);
    } else if (ev === MG_EV_CLOSE) events.push("CLOSE");
  }, null);
  const p = net.client(80)!;
  let at = 0;
  const check = () => {
    for (const c of conns) {
      assert.ok(c.recv.len >= 0 && c.recv.len <= c.recv.size && c.send.len >= 0 && c.send.len <= c.send.size, "a length outside its buffer");
      assert.ok(c.recv.buf.length === MG_IO_SIZE && c.send.buf.length === MG_IO_SIZE, "a buffer that is not MG_IO_SIZE");
    }
  };
  for (const k of pieces(input.length, cuts)) {
    at += p.send(input, k, at);
    net.poll(mgr, 2);
    check();
  }
  net.poll(mgr, 8);
  check();
  let out = p.recv_str();
  const open = !p.closed;
  p.close();
  net.poll(mgr, 3);
  out += p.recv_str();
  assert.equal(caught, [], "caught inside mg_mgr_poll");
  return { events, out, closed: !open };
}

test("the server: one to three pipelined requests, valid or edited, give the same events and answers whole or cut anywhere", () => {
  const reqs = fc.array(request.map(serialize), { minLength: 1, maxLength: 3 }).map((rs) => concat(...rs));
  const input = fc.oneof(reqs, reqs.chain(mutation));
  prop(0x4854_5007, 150, fc.tuple(input, cut_points(16)), ([b, cuts]) => {
    const whole = serve(b, []);
    const cut = serve(b, cuts);
    assert.equal(cut, whole);
  });
});

// --- multipart ---------------------------------------------------------------------------------

const part_name = chars(TCHAR.replace(/["%]/g, ""), 1, 10);
const parts = fc.array(fc.record({ name: part_name, file: fc.option(part_name), data: fc.uint8Array({ maxLength: 300 }) }), { minLength: 1, maxLength: 4 });
const boundary = chars("abcdefghijklmnopqrstuvwxyz0123456789'()+_,-./:=?", 1, 30);

function multipart(b: string, ps: { name: string; file: string | null; data: Uint8Array }[]): Uint8Array {
  const out: Uint8Array[] = [];
  for (const p of ps) {
    out.push(bytes(`--${b}\r\nContent-Disposition: form-data; name="${p.name}"` + (p.file !== null ? `; filename="${p.file}"` : "") + "\r\n\r\n"));
    out.push(p.data, bytes("\r\n"));
  }
  out.push(bytes(`--${b}--\r\n`));
  return concat(...out);
}

/** Part data must not contain the delimiter; a generated one that does is rare: it is replaced. */
function clean(b: string, ps: { name: string; file: string | null; data: Uint8Array }[]): void {
  const d = "\r\n--" + b;
  for (const p of ps) if (latin1({ buf: p.data, ofs: 0, len: p.data.length }).indexOf(d) >= 0 || latin1({ buf: p.data, ofs: 0, len: p.data.length }).startsWith(d.slice(2))) p.data = new Uint8Array(0);
}

test("multipart, 6.x part events: the parts come back exact, whole or cut anywhere", () => {
  prop(0x4854_5008, 120, fc.record({ b: boundary, ps: parts, cuts: cut_points(16) }), ({ b, ps, cuts }) => {
    clean(b, ps);
    const body = multipart(b, ps);
    const req = concat(bytes(`POST /up HTTP/1.1\r\nContent-Type: multipart/form-data; boundary="${b}"\r\nContent-Length: ${body.length}\r\n\r\n`), body);
    const run = (c: number[]) => {
      const net = new mg_mock(4, 1 << 16);
      const mgr = new mg_mgr();
      mg_mgr_init(mgr, net);
      const log: string[] = [];
      const l = mg_http_listen(mgr, "http://0.0.0.0:80", (conn, ev, d) => {
        const p = d as mg_http_multipart_part;
        if (ev === MG_EV_HTTP_PART_BEGIN) log.push(`BEGIN ${latin1(p.var_name)} ${latin1(p.file_name)}`, "");
        else if (ev === MG_EV_HTTP_PART_DATA) log[log.length - 1] += latin1(p.data);
        else if (ev === MG_EV_HTTP_PART_END) log.push(`END ${p.status}`);
        else if (ev === MG_EV_HTTP_MULTIPART_REQUEST_END) {
          log.push(`REQEND ${p.status}`);
          mg_http_reply(conn, 200, "", "done");
        } else if (ev === MG_EV_HTTP_REQUEST) log.push("REQUEST");
      }, null)!;
      mg_set_protocol_http_websocket(l);
      const peer = net.client(80)!;
      let at = 0;
      for (const k of pieces(req.length, c)) {
        at += peer.send(req, k, at);
        net.poll(mgr, 2);
      }
      net.poll(mgr, 6);
      return { log, out: peer.recv_str() };
    };
    const whole = run([]);
    const want: string[] = [];
    for (const p of ps) want.push(`BEGIN ${p.name} ${p.file ?? ""}`, latin1({ buf: p.data, ofs: 0, len: p.data.length }), "END 0");
    want.push("REQEND 0");
    assert.equal(whole.log, want);
    assert.equal(run(cuts), whole);
  });
});

test("mg_http_next_multipart: a buffered body built from parts walks back to them", () => {
  const part = new mg_http_part();
  prop(0x4854_5009, 300, fc.record({ b: boundary, ps: parts }), ({ b, ps }) => {
    clean(b, ps);
    const body = multipart(b, ps);
    const s = mg_str_n(body, 0, body.length);
    let ofs = 0;
    for (const p of ps) {
      ofs = mg_http_next_multipart(s, ofs, part);
      assert.ok(ofs > 0, "a part missing");
      assert.is(latin1(part.name), p.name);
      assert.is(latin1(part.filename), p.file ?? "");
      assert.equal(Array.from(bytes(latin1(part.body))), Array.from(p.data));
    }
    assert.is(mg_http_next_multipart(s, ofs, part), 0, "no part after the last");
  });
  // any bytes: no throw, offsets inside the body
  prop(0x4854_500a, 300, fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.record({ b: boundary, ps: parts }).chain(({ b, ps }) => mutation(multipart(b, ps)))), (body) => {
    const s = mg_str_n(body, 0, body.length);
    let ofs = 0;
    for (let i = 0; i < 20; i++) {
      const next = mg_http_next_multipart(s, ofs, part);
      if (next === 0) break;
      assert.ok(next > ofs && next <= body.length, `offset ${next} after ${ofs}`);
      for (const v of [part.name, part.filename, part.body]) assert.ok(v.ofs >= 0 && v.ofs + v.len <= body.length);
      ofs = next;
    }
  });
});

test.run();
