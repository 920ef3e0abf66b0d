// Property-based tests of the text parsers and printers (issue 11), with
// fast-check from fixed seeds: JSON (mg_json_get and the typed getters),
// URLs (mg_url_*, mg_aton), mg_match and printf (mg_snprintf, %m). Any input:
// no exception, results inside the bytes given, nothing read past them.
// Built from parts: parsed back to those parts, or equal to what JavaScript
// itself computes (JSON.parse, Number#toString, a RegExp for the glob).
// Node and XS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import {
  MG_JSON_INVALID,
  MG_JSON_NOT_FOUND,
  MG_JSON_TOO_DEEP,
  mg_json_get,
  mg_json_get_bool,
  mg_json_get_num,
  mg_json_get_str,
} from "../src/json.js";
import { mg_aton, mg_url_host, mg_url_is_ssl, mg_url_pass, mg_url_port, mg_url_uri, mg_url_user } from "../src/url.js";
import { mg_match, mg_str, mg_str_n, mg_utf8_decode, mg_utf8_encode } from "../src/str.js";
import { MG_ESC, mg_snprintf } from "../src/fmt.js";
import { mg_addr } from "../src/addr.js";
import { chars, prop } from "./props_util.js";

const canary = (b: Uint8Array, fill: number) => {
  const out = new Uint8Array(b.length + 8).fill(fill);
  out.set(b);
  return out;
};

// --- JSON ------------------------------------------------------------------------------------

/** JSON text of any value, with or without indentation. */
const json_doc = fc.tuple(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(0, 1, 2)).map(([v, sp]) => JSON.stringify(v, null, sp));
const SIMPLE_KEY = /^[A-Za-z0-9_ -]+$/; // keys a path can name as they are written

test("mg_json_get: JSON text of any value is found whole at $, its members at $.key and $[i], and the getters agree with JSON.parse", () => {
  const len = [0];
  prop(0x4a53_0001, 300, json_doc, (s) => {
    const b = mg_utf8_encode(s);
    const doc = mg_str_n(b, 0, b.length);
    assert.is(mg_json_get(doc, "$", len), 0);
    assert.is(len[0], b.length);
    const v = JSON.parse(s);
    const at = (path: string): any => {
      const o = mg_json_get(doc, path, len);
      assert.ok(o >= 0 && len[0] > 0 && o + len[0] <= b.length, `${path}: ${o}, ${len[0]}`);
      return JSON.parse(mg_utf8_decode(b, o, len[0]));
    };
    const check = (path: string, x: any) => {
      assert.equal(at(path), x, path);
      if (typeof x === "number") {
        const n = mg_json_get_num(doc, path)!;
        assert.ok(Math.abs(n - x) <= Math.abs(x) * 1e-12, `${path}: ${n} for ${x}`);
      } else assert.is(mg_json_get_num(doc, path), undefined);
      if (typeof x === "boolean") assert.is(mg_json_get_bool(doc, path), x);
      if (typeof x === "string") assert.is(mg_json_get_str(doc, path), x);
    };
    check("$", v);
    if (Array.isArray(v)) {
      v.forEach((x, i) => check(`$[${i}]`, x));
      assert.is(mg_json_get(doc, `$[${v.length}]`, len), MG_JSON_NOT_FOUND);
    } else if (v !== null && typeof v === "object") {
      for (const k of Object.keys(v)) if (SIMPLE_KEY.test(k)) check("$." + k, v[k]);
      assert.is(mg_json_get(doc, "$.no such key", len), MG_JSON_NOT_FOUND);
    }
  });
});

test("mg_json_get, any bytes and any path: no throw, an error code or a token inside the bytes, the same whatever follows them", () => {
  const len = [0];
  const text = fc.oneof(json_doc, fc.string({ maxLength: 60 }), json_doc.chain((s) => fc.tuple(fc.nat(), fc.string({ maxLength: 3 })).map(([at, ins]) => s.slice(0, at % (s.length + 1)) + ins + s.slice(at % (s.length + 1)))));
  const path = fc.oneof(fc.constantFrom("$", "$.a", "$[0]", "$.a[1].b", "$[0][0]"), fc.string({ maxLength: 12 }).map((p) => "$" + p), fc.string({ maxLength: 8 }));
  prop(0x4a53_0002, 500, fc.tuple(text, path), ([s, p]) => {
    const b = mg_utf8_encode(s);
    const res: string[] = [];
    for (const fill of [0x7d, 0x20, 0x22]) {
      const buf = canary(b, fill); // a '}', a space, a '"' after the end must change nothing
      const o = mg_json_get(mg_str_n(buf, 0, b.length), p, len);
      if (o < 0) {
        assert.ok(o === MG_JSON_TOO_DEEP || o === MG_JSON_INVALID || o === MG_JSON_NOT_FOUND, "code " + o);
        assert.is(len[0], 0);
      } else assert.ok(len[0] > 0 && o + len[0] <= b.length, `token ${o}+${len[0]} of ${b.length}`);
      res.push(o + "/" + len[0]);
      mg_json_get_str(mg_str_n(buf, 0, b.length), p);
      mg_json_get_num(mg_str_n(buf, 0, b.length), p);
    }
    assert.ok(res[0] === res[1] && res[1] === res[2], res.join(" "));
  });
});

test("printf %m with MG_ESC writes JSON strings that JSON.parse and mg_json_get_str read back exact", () => {
  const buf = new Uint8Array(2048);
  const any = fc.string({ unit: fc.oneof(fc.constantFrom("\b", "\f", "\n", "\r", "\t", '"', "\\", "/", "\x00", "\x1f", "\x7f"), fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 })), maxLength: 40 });
  prop(0x4a53_0003, 400, any, (s) => {
    const n = mg_snprintf(buf, buf.length, "%m", ...MG_ESC(s));
    const out = mg_utf8_decode(buf, 0, n);
    assert.is(JSON.parse(out), s);
    assert.is(mg_json_get_str(out, "$"), s);
  });
});

// --- URLs -------------------------------------------------------------------------------------

const label = chars("abcdefghijklmnopqrstuvwxyz0123456789-", 1, 10);
const host = fc.oneof(
  fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join(".")),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join(".")),
  fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => "[" + g.map((x) => x.toString(16)).join(":") + "]"),
);
const SCHEMES: [string, number, boolean][] = [["http", 80, false], ["https", 443, true], ["ws", 80, false], ["wss", 443, true], ["mqtt", 1883, false], ["mqtts", 8883, true], ["tcp", 0, false], ["udp", 0, false], ["tls", 0, true]];
const url = fc.record({
  scheme: fc.constantFrom(...SCHEMES),
  user: fc.option(chars("abcdefghijklmnopqrstuvwxyz0123456789._~-", 1, 8)),
  pass: fc.option(chars("abcdefghijklmnopqrstuvwxyz0123456789._~-@!", 0, 8)),
  host,
  port: fc.option(fc.integer({ min: 1, max: 65535 })),
  path: fc.option(chars("abcdefghijklmnopqrstuvwxyz0123456789/._~-?=&#:@", 0, 20).map((p) => "/" + p)),
});

test("mg_url_*: a URL built from parts gives them back", () => {
  prop(0x5552_0001, 500, url, (u) => {
    const auth = u.user !== null ? u.user + (u.pass !== null ? ":" + u.pass : "") + "@" : "";
    const s = `${u.scheme[0]}://${auth}${u.host}${u.port !== null ? ":" + u.port : ""}${u.path ?? ""}`;
    assert.is(String(mg_url_host(s)), u.host, s);
    assert.is(mg_url_port(s), u.port ?? u.scheme[1], s);
    assert.is(String(mg_url_user(s)), u.user ?? "", s);
    assert.is(String(mg_url_pass(s)), u.user !== null ? u.pass ?? "" : "", s);
    assert.is(String(mg_url_uri(s)), u.path ?? "/", s);
    assert.is(mg_url_is_ssl(s), u.scheme[2], s);
  });
});

test("mg_url_* and mg_aton, any string: no throw, views inside the bytes, nothing read past them", () => {
  const a = new mg_addr();
  const any = fc.oneof(fc.string({ maxLength: 40 }), url.map((u) => `${u.scheme[0]}://${u.host}${u.path ?? ""}`).chain((s) => fc.nat().map((k) => s.slice(0, k % (s.length + 1)))));
  prop(0x5552_0002, 500, any, (s) => {
    const b = mg_utf8_encode(s);
    const res: string[] = [];
    for (const fill of [0x2f, 0x3a, 0x40]) {
      const m = mg_str_n(canary(b, fill), 0, b.length); // '/', ':', '@' after the end must change nothing
      const parts = [mg_url_host(m), mg_url_user(m), mg_url_pass(m)];
      for (const v of parts) assert.ok(v.len === 0 || (v.ofs >= 0 && v.ofs + v.len <= b.length), "a view outside");
      const uri = mg_url_uri(m);
      assert.ok(uri.buf !== m.buf || uri.ofs + uri.len <= b.length);
      res.push(parts.map((v) => `${v.ofs}+${v.len}`).join(",") + ` ${mg_url_port(m)} ${mg_url_is_ssl(m)} ${mg_aton(m, a)}`);
    }
    assert.ok(res[0] === res[1] && res[1] === res[2], res.join(" | "));
  });
});

test("mg_aton: dotted IPv4 and IPv6 of eight groups (with or without brackets) give their bytes", () => {
  const a = new mg_addr();
  prop(0x5552_0003, 400, fc.oneof(fc.array(fc.nat(255), { minLength: 4, maxLength: 4 }), fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })), (parts) => {
    const v6 = parts.length === 8;
    const s = v6 ? parts.map((x) => x.toString(16)).join(":") : parts.join(".");
    for (const text of v6 ? [s, "[" + s + "]"] : [s]) {
      assert.ok(mg_aton(mg_str(text), a), text);
      assert.is(a.is_ip6, v6, text);
      const want = v6 ? parts.flatMap((x) => [x >> 8, x & 255]) : parts;
      assert.equal(Array.from(a.ip.subarray(0, want.length)), want, text);
    }
  });
});

// --- mg_match ---------------------------------------------------------------------------------

/** The glob as a RegExp: '*' any run without '/', '#' any run, '?' any one byte. */
function glob_regexp(p: string): RegExp {
  let r = "^";
  for (const ch of p) r += ch === "*" ? "[^/]*" : ch === "#" ? "[^]*" : ch === "?" ? "[^]" : ch === "/" ? "\\/" : ch;
  return new RegExp(r + "$");
}

test("mg_match agrees with the glob's RegExp, and its captures rebuild the string", () => {
  const caps: ReturnType<typeof mg_str>[] = [];
  for (let i = 0; i < 12; i++) caps.push(mg_str(""));
  prop(0x4d41_0001, 1500, fc.tuple(chars("ab/", 0, 10), chars("ab/*#?", 0, 8)), ([s, p]) => {
    const m = mg_match(mg_str(s), mg_str(p), null);
    assert.is(m, glob_regexp(p).test(s), `${JSON.stringify(s)} ~ ${JSON.stringify(p)}`);
    if (!m) return;
    assert.ok(mg_match(mg_str(s), mg_str(p), caps));
    let k = 0;
    let rebuilt = "";
    for (const ch of p) {
      if (ch === "*" || ch === "#" || ch === "?") {
        const c = String(caps[k++]);
        if (ch === "*") assert.not.ok(c.includes("/"), "a * took a '/'");
        if (ch === "?") assert.is(c.length, 1);
        rebuilt += c;
      } else rebuilt += ch;
    }
    assert.is(rebuilt, s, "captures");
    assert.is(caps[k].len, 0, "the entry after the last is empty");
  });
});

// --- printf -----------------------------------------------------------------------------------

test("mg_snprintf: integers, strings, widths and flags as JavaScript prints them; truncation as C's snprintf", () => {
  const buf = new Uint8Array(256);
  const pf = (fmt: string, ...args: any[]) => mg_utf8_decode(buf, 0, mg_snprintf(buf, buf.length, fmt, ...args));
  prop(0x5046_0001, 600, fc.tuple(fc.integer({ min: -0x7fffffff, max: 0x7fffffff }), fc.integer({ min: 0, max: 12 }), fc.constantFrom("", "-", "0")), ([n, w, flag]) => {
    assert.is(pf("%d", n), String(n));
    assert.is(pf("%x", n), (n >>> 0).toString(16));
    assert.is(pf("%X", n), (n >>> 0).toString(16).toUpperCase());
    assert.is(pf("%o", n >>> 0), (n >>> 0).toString(8));
    const d = String(n);
    const padded = flag === "-" ? d.padEnd(w, " ") : flag === "0" ? (n < 0 ? "-" + String(-n).padStart(w - 1, "0") : d.padStart(w, "0")) : d.padStart(w, " ");
    assert.is(pf(`%${flag}${w}d`, n), padded, `%${flag}${w}d of ${n}`);
  });
  prop(0x5046_0002, 400, fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (n) => {
    assert.is(pf("%ld", n), String(n));
    assert.is(pf("%lld", n), String(n));
  });
  prop(0x5046_0003, 400, fc.tuple(fc.string({ unit: "grapheme", maxLength: 30 }), fc.integer({ min: 0, max: 40 })), ([s, cap]) => {
    assert.is(pf("%s", s), s);
    const b = mg_utf8_encode(s);
    assert.is(pf("[%10s]", s), "[" + " ".repeat(Math.max(0, 10 - b.length)) + s + "]", "the width counts bytes, as C");
    const small = new Uint8Array(cap + 4).fill(0x78);
    const n = mg_snprintf(small, cap, "%s", s);
    assert.is(n, b.length, "the would-be length");
    const k = cap === 0 ? 0 : Math.min(cap - 1, b.length);
    assert.equal(Array.from(small.subarray(0, k)), Array.from(b.subarray(0, k)), "the prefix that fits");
    if (cap > 0) assert.is(small[k], 0, "then NUL");
    for (let i = k + (cap > 0 ? 1 : 0); i < small.length; i++) assert.is(small[i], 0x78, "nothing written past it");
  });
  prop(0x5046_0004, 300, fc.tuple(chars("abcdefghij", 0, 20), fc.integer({ min: 0, max: 25 })), ([s, p]) => {
    assert.is(pf("%.*s", p, s), s.slice(0, p));
    assert.is(pf("%-*s|", p, s), s.padEnd(p, " ") + "|");
  });
});

test.run();
