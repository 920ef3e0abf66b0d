// mg_str helpers: views, comparisons, globbing with captures, splitting,
// strict numbers, path sanity, URL coding and UTF-8. Runs on Node and on XS.
// Vectors from Mongoose's test_str/test_match (mongoose-facts.md 1.4).
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  mg_casecmp,
  mg_is_str,
  mg_js_len,
  mg_match,
  mg_path_is_sane,
  mg_span,
  mg_str,
  mg_str_dup,
  mg_str_n,
  mg_str_s,
  mg_str_set,
  mg_str_to_num,
  mg_strcasecmp,
  mg_strcmp,
  mg_strstr,
  mg_url_decode,
  mg_url_encode,
  mg_utf8_decode,
  mg_utf8_encode,
  mg_utf8_len,
  mg_utf8_put,
  type mg_str as mg_str_t,
} from "../src/str.js";

const S = (s: mg_str_t) => s.toString();
const bytes = (...a: number[]) => new Uint8Array(a);
function ascii(b: Uint8Array, ofs: number, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(b[ofs + i]);
  return s;
}

test("mg_str, mg_str_n, mg_str_set: views with offset and length", () => {
  const a = mg_str("hello");
  assert.ok(mg_is_str(a));
  assert.is(a.len, 5);
  assert.is(a.ofs, 0);
  assert.is(S(a), "hello");
  assert.is(mg_str().len, 0);
  assert.is(mg_str(null).len, 0);
  assert.is(mg_str_s(undefined).len, 0);
  assert.is(mg_str("é").len, 2, "UTF-8 bytes, not UTF-16 units");
  const buf = mg_utf8_encode("xxabcxx");
  const v = mg_str_n(buf, 2, 3);
  assert.is(S(v), "abc");
  assert.is(v.buf, buf, "no copy");
  buf[2] = 65;
  assert.is(S(v), "Abc", "a view sees its buffer change");
  const e = mg_str();
  assert.is(mg_str_set(e, buf, 0, 2), e);
  assert.is(S(e), "xx");
  assert.not.ok(mg_is_str("x"));
  assert.not.ok(mg_is_str({ buf, ofs: 0, len: 1 }));
});

test("mg_str_dup copies; empty stays empty", () => {
  const buf = mg_utf8_encode("abcdef");
  const d = mg_str_dup(mg_str_n(buf, 1, 3));
  assert.is.not(d.buf, buf);
  buf[1] = 0;
  assert.is(S(d), "bcd");
  assert.is(d.ofs, 0);
  assert.is(mg_str_dup(mg_str("")).len, 0);
});

test("mg_strcmp / mg_strcasecmp: -1 0 1, a prefix sorts first", () => {
  assert.is(mg_strcmp(mg_str("a"), mg_str("a")), 0);
  assert.is(mg_strcmp(mg_str("a"), mg_str("b")), -1);
  assert.is(mg_strcmp(mg_str("b"), mg_str("a")), 1);
  assert.is(mg_strcmp(mg_str("ab"), mg_str("abc")), -1);
  assert.is(mg_strcmp(mg_str("abc"), mg_str("ab")), 1);
  assert.is(mg_strcmp(mg_str(""), mg_str("")), 0);
  assert.is(mg_strcmp(mg_str(""), mg_str("a")), -1);
  assert.is(mg_strcmp(mg_str("A"), mg_str("a")), -1);
  assert.is(mg_strcmp(mg_str("\xff"), mg_str("a")), 1, "bytes compare unsigned");
  const b = mg_utf8_encode("..hi..");
  assert.is(mg_strcmp(mg_str_n(b, 2, 2), mg_str("hi")), 0, "offsets are honoured");
  assert.is(mg_strcasecmp(mg_str("HeLLo"), mg_str("hello")), 0);
  assert.is(mg_strcasecmp(mg_str("a"), mg_str("B")), -1);
  assert.is(mg_strcasecmp(mg_str("B"), mg_str("a")), 1);
  assert.is(mg_strcasecmp(mg_str("ab"), mg_str("AB1")), -1);
  assert.is(mg_strcasecmp(mg_str("["), mg_str("{")), -1, "only A-Z fold ('[' is not '{')");
});

test("mg_casecmp: C-string compare, case-folded", () => {
  assert.is(mg_casecmp("Content-Length", "content-length"), 0);
  assert.is(mg_casecmp("", ""), 0);
  assert.ok(mg_casecmp("a", "b") < 0);
  assert.ok(mg_casecmp("b", "A") > 0);
  assert.ok(mg_casecmp("ab", "a") > 0);
  assert.ok(mg_casecmp("a", "ab") < 0);
});

function m(s: string, p: string): boolean {
  return mg_match(mg_str(s), mg_str(p), null);
}

test("mg_match: Mongoose's vectors", () => {
  assert.ok(mg_match(mg_str_n(new Uint8Array(0), 0, 0), mg_str(""), null));
  assert.ok(m("a", "a"));
  assert.not.ok(m("a", "b"));
  assert.not.ok(m("a", ""));
  assert.not.ok(m("", "a"));
  assert.ok(m("a", "?"));
  assert.not.ok(m("", "?"));
  assert.not.ok(m("ab", "?"));
  assert.ok(m("a", "*"));
  assert.ok(m("a", "#"));
  assert.ok(m("", "*"));
  assert.ok(m("", "#"));
  assert.not.ok(m("/", "*"));
  assert.ok(m("/", "#"));
  assert.ok(m("/", "?"), "? takes any byte, '/' too");
  assert.ok(m("/foo", "/*"));
  assert.not.ok(m("/foo/bar", "/*"));
  assert.ok(m("/foo/bar", "/#"));
  assert.ok(m("/foo/bar", "/*/bar"));
  assert.ok(m("/foo/bar", "/*/*"));
  assert.ok(m("/foo/bar", "/*/#"));
  assert.ok(m("/foo/bar", "/#/*"));
  assert.ok(m("/foo/bar", "/#/bar"));
  assert.ok(m("/foo/bar", "#bar"));
  assert.ok(m("/foo/bar", "#"));
  assert.not.ok(m("/foo/bar", "*"));
  assert.not.ok(m("/foo/bar", "/*/baz"));
  assert.ok(m("/api/foo/bar", "/api/*/*"));
  assert.not.ok(m("/api/foo/bar/", "/api/*/*"));
  assert.ok(m("/api/foo/bar/", "/api/*/*/"));
  assert.ok(m("/api/foo/bar/", "/api/#"));
  assert.ok(m("/a/b/c/d.txt", "#.txt"));
  assert.not.ok(m("/a/b/c/d.txt", "*.txt"));
  assert.ok(m("/a/b/c/d.txt", "/#/*.txt"));
  assert.ok(m("abc", "a*c"));
  assert.ok(m("abbbc", "a*c"));
  assert.ok(m("abcbc", "a*bc"), "the wildcard grows past a false start");
  assert.not.ok(m("abcbd", "a*bc"));
  assert.ok(m("/x/y/z", "/*/#"));
  assert.ok(m("/x/yz/w", "#/y*/*"), "a '*' stuck at '/' lets an earlier '#' grow");
  assert.ok(m("aXbXc", "a?b?c"));
  assert.ok(m("*", "*"));
  assert.not.ok(m("foo", "f*x"));
});

test("mg_match: captures point into the string, the one after the last is empty", () => {
  const caps = [mg_str(), mg_str(), mg_str(), mg_str()];
  const s = mg_str("/foo/bar");
  assert.ok(mg_match(s, mg_str("/*/*"), caps));
  assert.is(S(caps[0]), "foo");
  assert.is(S(caps[1]), "bar");
  assert.is(caps[2].len, 0);
  assert.is(caps[0].buf, s.buf, "a view, not a copy");
  assert.ok(mg_match(mg_str("/foo/bar"), mg_str("/#"), caps));
  assert.is(S(caps[0]), "foo/bar");
  assert.is(caps[1].len, 0);
  assert.ok(mg_match(mg_str("/foo/bar/baz"), mg_str("/#/*"), caps));
  assert.is(S(caps[0]), "foo/bar");
  assert.is(S(caps[1]), "baz");
  assert.ok(mg_match(mg_str("abcbc"), mg_str("a*bc"), caps));
  assert.is(S(caps[0]), "bc", "the first wildcard as short as the match allows");
  assert.ok(mg_match(mg_str("xAyBz"), mg_str("x?y?z"), caps));
  assert.is(S(caps[0]), "A");
  assert.is(S(caps[1]), "B");
  assert.is(caps[2].len, 0);
  assert.ok(mg_match(mg_str("/api/v1/x"), mg_str("/api/*/?"), caps));
  assert.is(S(caps[0]), "v1");
  assert.is(S(caps[1]), "x");
  assert.ok(mg_match(mg_str("ab"), mg_str("*"), caps));
  assert.is(S(caps[0]), "ab");
  // fewer caps than wildcards: the rest match but are not reported
  const one = [mg_str()];
  assert.ok(mg_match(mg_str("/a/b/c"), mg_str("/*/*/*"), one));
  assert.is(S(one[0]), "a");
  // a view with an offset
  const b = mg_utf8_encode("zz/k/v");
  assert.ok(mg_match(mg_str_n(b, 2, 4), mg_str("/*/*"), caps));
  assert.is(S(caps[0]), "k");
  assert.is(S(caps[1]), "v");
});

/** A slow, obviously right matcher to check mg_match against. */
function ref_match(s: string, p: string): boolean {
  if (p.length === 0) return s.length === 0;
  const c = p[0];
  if (c === "*" || c === "#") {
    for (let k = 0; k <= s.length; k++) {
      if (k > 0 && c === "*" && s[k - 1] === "/") break;
      if (ref_match(s.slice(k), p.slice(1))) return true;
    }
    return false;
  }
  if (s.length === 0) return false;
  if (c !== "?" && c !== s[0]) return false;
  return ref_match(s.slice(1), p.slice(1));
}

test("mg_match agrees with a reference matcher on 3000 random cases", () => {
  let x = 12345;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) >>> 0;
    return (x >>> 16) % n;
  };
  const SA = "ab/";
  const PA = "ab/?*#";
  let bad = "";
  for (let t = 0; t < 3000 && bad === ""; t++) {
    let s = "";
    let p = "";
    for (let n = rnd(8); n > 0; n--) s += SA[rnd(SA.length)];
    for (let n = rnd(6); n > 0; n--) p += PA[rnd(PA.length)];
    if (m(s, p) !== ref_match(s, p)) bad = `"${s}" ~ "${p}": expected ${ref_match(s, p)}`;
  }
  assert.is(bad, "");
});

test("mg_span: split at the first separator", () => {
  const a = mg_str();
  const b = mg_str();
  assert.ok(mg_span(mg_str("key=val=x"), a, b, 61));
  assert.is(S(a), "key");
  assert.is(S(b), "val=x");
  assert.ok(mg_span(mg_str("nosep"), a, b, 61));
  assert.is(S(a), "nosep");
  assert.is(b.len, 0);
  assert.ok(mg_span(mg_str("=x"), a, b, 61));
  assert.is(a.len, 0);
  assert.is(S(b), "x");
  assert.ok(mg_span(mg_str("x="), a, b, 61));
  assert.is(S(a), "x");
  assert.is(b.len, 0);
  a.len = 99;
  assert.not.ok(mg_span(mg_str(""), a, b, 61), "false on empty input");
  assert.is(a.len, 99, "and touches nothing");
  assert.ok(mg_span(mg_str("a,b"), null, null, 44));
  // iterating a list in place, as C does with mg_span(s, &k, &s, ',')
  const s = mg_str("a,bb,,c");
  const k = mg_str();
  const got: string[] = [];
  while (mg_span(s, k, s, 44)) got.push(S(k));
  assert.equal(got, ["a", "bb", "", "c"]);
});

function num(s: string, base: number, len: number): number | null {
  return mg_str_to_num(mg_str(s), base, len);
}

test("mg_str_to_num: strict, bases 0/2/10/16, widths", () => {
  assert.is(num("123", 10, 4), 123);
  assert.is(num("0", 10, 1), 0);
  assert.is(num("007", 10, 1), 7);
  assert.is(num(" 123", 10, 4), null, "no spaces");
  assert.is(num("123 ", 10, 4), null, "no trailing characters");
  assert.is(num("12a", 10, 4), null);
  assert.is(num("-1", 10, 4), null, "no sign");
  assert.is(num("+1", 10, 4), null);
  assert.is(num("", 10, 4), null);
  assert.is(num("ff", 16, 1), 255);
  assert.is(num("FF", 16, 1), 255);
  assert.is(num("100", 16, 1), null, "overflows a byte");
  assert.is(num("0x10", 16, 4), null, "no prefix when the base is given");
  assert.is(num("101", 2, 1), 5);
  assert.is(num("102", 2, 1), null);
  assert.is(num("0x1F", 0, 4), 31);
  assert.is(num("0X1f", 0, 4), 31);
  assert.is(num("0b101", 0, 4), 5);
  assert.is(num("0x", 0, 4), null);
  assert.is(num("0b", 0, 4), null);
  assert.is(num("010", 0, 4), 10, "no octal");
  assert.is(num("7", 0, 4), 7);
  assert.is(num("12", 8, 4), null, "base 8 is not supported");
  assert.is(num("255", 10, 1), 255);
  assert.is(num("256", 10, 1), null);
  assert.is(num("65535", 10, 2), 65535);
  assert.is(num("65536", 10, 2), null);
  assert.is(num("4294967295", 10, 4), 4294967295);
  assert.is(num("4294967296", 10, 4), null);
  assert.is(num("ffffffff", 16, 4), 0xffffffff);
  assert.is(num("4294967296", 10, 8), 4294967296);
  assert.is(num("9007199254740991", 10, 8), 9007199254740991);
  assert.is(num("9007199254740992", 10, 8), null, "beyond 2^53 - 1 a JS number is not exact");
  assert.is(num("99999999999999999999999", 10, 8), null);
  assert.is(num("1", 10, 3), null, "only C integer sizes");
  const b = mg_utf8_encode("x42y");
  assert.is(mg_str_to_num(mg_str_n(b, 1, 2), 10, 4), 42);
});

test("mg_strstr: offset relative to the haystack, -1 when absent", () => {
  assert.is(mg_strstr(mg_str("hello world"), mg_str("world")), 6);
  assert.is(mg_strstr(mg_str("hello"), mg_str("xyz")), -1);
  assert.is(mg_strstr(mg_str("hello"), mg_str("")), 0);
  assert.is(mg_strstr(mg_str("ab"), mg_str("abc")), -1);
  assert.is(mg_strstr(mg_str("aab"), mg_str("ab")), 1);
  const b = mg_utf8_encode("--ab--ab");
  assert.is(mg_strstr(mg_str_n(b, 4, 4), mg_str("ab")), 2);
});

test("mg_path_is_sane", () => {
  const ok = (p: string) => mg_path_is_sane(mg_str(p));
  assert.ok(ok("a/b/c.txt"));
  assert.ok(ok("/a/b"));
  assert.ok(ok(""));
  assert.ok(ok("."));
  assert.ok(ok("a..b"));
  assert.ok(ok("a/.b"));
  assert.not.ok(ok(".."));
  assert.not.ok(ok("../etc/passwd"));
  assert.not.ok(ok("/a/../b"));
  assert.not.ok(ok("/a/.."));
  assert.not.ok(ok("a\\..\\b"), "backslashes too");
  assert.not.ok(ok("/..foo"), "conservative, as Mongoose");
});

function dec(s: string, form: boolean, cap = 64): string | number {
  const d = new Uint8Array(cap);
  const n = mg_url_decode(mg_str(s), d, 0, cap, form);
  return n < 0 ? n : ascii(d, 0, n);
}

test("mg_url_decode", () => {
  assert.is(dec("a%20b", false), "a b");
  assert.is(dec("a+b", false), "a+b");
  assert.is(dec("a+b", true), "a b");
  assert.is(dec("%41%4a%4A", false), "AJJ");
  assert.is(dec("%", false), -1);
  assert.is(dec("%4", false), -1);
  assert.is(dec("x%4", false), -1);
  assert.is(dec("%zz", false), -1);
  assert.is(dec("%41", false), "A");
  assert.is(dec("", false), "");
  assert.is(dec("abc", false, 3), "abc", "no NUL, so no extra byte needed");
  assert.is(dec("abcd", false, 3), -1, "too small");
  const d = new Uint8Array(8).fill(120);
  assert.is(mg_url_decode(mg_str("%ff"), d, 2, 6, false), 1);
  assert.is(d[2], 255);
  assert.is(d[1], 120, "nothing before dofs");
});

test("mg_url_encode: unreserved stay, the rest %xx lowercase", () => {
  const d = new Uint8Array(64);
  let n = mg_url_encode(mg_str("a-b_c.d~e f/g?é"), d, 0, 64);
  assert.is(ascii(d, 0, n), "a-b_c.d~e%20f%2fg%3f%c3%a9");
  n = mg_url_encode(mg_str(""), d, 0, 64);
  assert.is(n, 0);
  assert.is(mg_url_encode(mg_str("abc"), d, 0, 3), 3);
  assert.is(mg_url_encode(mg_str("abc"), d, 0, 2), 0, "does not fit");
  assert.is(mg_url_encode(mg_str(" "), d, 0, 2), 0);
  n = mg_url_encode(mg_str("x y"), d, 10, 54);
  assert.is(ascii(d, 10, n), "x%20y");
  // round trip of every byte
  const all = new Uint8Array(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  const enc = new Uint8Array(768);
  const el = mg_url_encode(mg_str_n(all, 0, 256), enc, 0, 768);
  const back = new Uint8Array(256);
  assert.is(mg_url_decode(mg_str_n(enc, 0, el), back, 0, 256, false), 256);
  assert.equal(Array.from(back), Array.from(all));
});

test("mg_js_len: a JS string's length in UTF-16 units", () => {
  for (const s of ["", "a", "hello world", "é中", "😀", "\u0000x"]) assert.is(mg_js_len(s), s.length, JSON.stringify(s));
});

test("UTF-8: length, put, encode", () => {
  assert.is(mg_utf8_len(""), 0);
  assert.is(mg_utf8_len("abc"), 3);
  assert.is(mg_utf8_len("é"), 2);
  assert.is(mg_utf8_len("中"), 3);
  assert.is(mg_utf8_len("😀"), 4);
  assert.is(mg_utf8_len("\ud800"), 3, "a lone surrogate becomes U+FFFD");
  assert.is(mg_utf8_len("\ud800\u4e2d"), 6, "a high surrogate before a non-surrogate");
  assert.is(mg_utf8_len("\udc00\ud83d\ude00"), 7);
  assert.equal(Array.from(mg_utf8_encode("aé中😀")), [0x61, 0xc3, 0xa9, 0xe4, 0xb8, 0xad, 0xf0, 0x9f, 0x98, 0x80]);
  assert.equal(Array.from(mg_utf8_encode("\ud800")), [0xef, 0xbf, 0xbd]);
  assert.equal(Array.from(mg_utf8_encode("\ud800\u4e2d")), [0xef, 0xbf, 0xbd, 0xe4, 0xb8, 0xad]);
  const d = new Uint8Array(8).fill(0);
  assert.is(mg_utf8_put("aé中", d, 1, 4), 6, "returns what the whole encoding needs");
  assert.equal(Array.from(d.slice(0, 6)), [0, 0x61, 0xc3, 0xa9, 0, 0], "a character that does not fit whole is left out");
  for (const s of ["", "plain", "é", "中文", "😀x😀", "\u07ff\u0800\uffff"]) {
    assert.is(mg_utf8_encode(s).length, mg_utf8_len(s), s);
    assert.is(mg_utf8_decode(mg_utf8_encode(s), 0, mg_utf8_len(s)), s, "round trip " + s);
  }
});

test("UTF-8: decoding invalid input gives U+FFFD", () => {
  const d = (...a: number[]) => mg_utf8_decode(bytes(...a), 0, a.length);
  assert.is(d(0x61, 0x80, 0x62), "a\ufffdb", "a stray continuation byte");
  assert.is(d(0xc3), "\ufffd", "cut at the end");
  assert.is(d(0xc3, 0x41), "\ufffdA", "a missing continuation keeps the next byte");
  assert.is(d(0xc0, 0x80), "\ufffd\ufffd", "overlong two-byte");
  assert.is(d(0xe0, 0x80, 0x80), "\ufffd\ufffd\ufffd", "overlong three-byte");
  assert.is(d(0xed, 0xa0, 0x80), "\ufffd\ufffd\ufffd", "an encoded surrogate");
  assert.is(d(0xf0, 0x80, 0x80, 0x80), "\ufffd\ufffd\ufffd\ufffd", "overlong four-byte");
  assert.is(d(0xf4, 0x90, 0x80, 0x80), "\ufffd\ufffd\ufffd\ufffd", "above U+10FFFF");
  assert.is(d(0xf4, 0x8f, 0xbf, 0xbf), "\udbff\udfff", "U+10FFFF itself");
  assert.is(d(0xff), "\ufffd");
  assert.is(mg_utf8_decode(bytes(0x41, 0x42, 0x43), 1, 1), "B");
});

test.run();
