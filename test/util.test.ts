// Byte utilities (base64, SHA-1, CRC-32, random, mg_memeq) and mg_iobuf.
// Runs on Node and XS. Vectors: RFC 4648 (base64), FIPS 180 / RFC 3174
// (SHA-1), RFC 6455 (the WebSocket accept key), zlib's CRC-32.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  mg_base64_decode,
  mg_base64_encode,
  mg_base64url_decode,
  mg_base64url_encode,
  mg_crc32,
  mg_memeq,
  mg_random,
  mg_random_set,
  mg_random_str,
  mg_sha1_ctx,
  mg_sha1_final,
  mg_sha1_init,
  mg_sha1_update,
} from "../src/util.js";
import { mg_copy, mg_iobuf, mg_iobuf_add, mg_iobuf_del } from "../src/iobuf.js";
import { mg_utf8_decode, mg_utf8_encode } from "../src/str.js";

const enc = (s: string) => mg_utf8_encode(s);
const str = (b: Uint8Array, ofs = 0, len = b.length - ofs) => mg_utf8_decode(b, ofs, len);
function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
  return s;
}

function b64(s: string | Uint8Array, url = false): string {
  const src = typeof s === "string" ? enc(s) : s;
  const d = new Uint8Array(src.length * 2 + 4);
  const n = (url ? mg_base64url_encode : mg_base64_encode)(src, 0, src.length, d, 0, d.length);
  return str(d, 0, n);
}
function unb64(s: string): string | number {
  const src = enc(s);
  const d = new Uint8Array(src.length + 4);
  const n = mg_base64_decode(src, 0, src.length, d, 0, d.length);
  return n === 0 && s !== "" ? 0 : str(d, 0, n);
}

test("base64: RFC 4648 vectors, both ways", () => {
  const V = [["", ""], ["f", "Zg=="], ["fo", "Zm8="], ["foo", "Zm9v"], ["foob", "Zm9vYg=="], ["fooba", "Zm9vYmE="], ["foobar", "Zm9vYmFy"]];
  for (const [plain, coded] of V) {
    assert.is(b64(plain), coded, plain);
    assert.is(unb64(coded), plain, coded);
  }
  assert.is(b64(new Uint8Array([0xfb, 0xff, 0xbf])), "+/+/");
  assert.is(b64(new Uint8Array([0xfb, 0xff, 0xbf]), true), "-_-_");
  assert.is(b64("f", true), "Zg", "base64url has no padding");
  assert.is(b64("fo", true), "Zm8");
  assert.is(b64("foo", true), "Zm9v");
  assert.is(unb64("Zg"), "f", "padding is optional");
  assert.is(unb64("Zm8"), "fo");
  // one alphabet each, as Mongoose: base64 refuses "-_", base64url refuses "+/"
  assert.is(unb64("-_-_"), 0, "the URL alphabet is not base64");
  const d = new Uint8Array(3);
  assert.is(mg_base64url_decode(enc("-_-_"), 0, 4, d, 0, 3), 3);
  assert.equal(Array.from(d), [0xfb, 0xff, 0xbf]);
  assert.is(mg_base64url_decode(enc("Pz8/"), 0, 4, d, 0, 3), 0, "Mongoose's vector: the standard alphabet is not base64url");
  assert.is(mg_base64_decode(enc("Pz8/"), 0, 4, d, 0, 3), 3);
  assert.is(str(d, 0, 3), "???");
  assert.is(mg_base64url_decode(enc("Zm8"), 0, 3, d, 0, 3), 2, "no padding, as JWTs");
  assert.is(mg_base64url_decode(enc("Zm8="), 0, 4, d, 0, 3), 2, "padding allowed");
});

test("base64: invalid input and small buffers give 0", () => {
  for (const bad of ["Z", "Zg=", "Zg===", "Zm9v\n", "Zm 9v", "Zg==Zg==", "Z===", "Zm9v*", "=", "=="]) assert.is(unb64(bad), 0, JSON.stringify(bad));
  const d = new Uint8Array(8);
  assert.is(mg_base64_encode(enc("foo"), 0, 3, d, 0, 3), 0, "4 bytes do not fit in 3");
  assert.is(mg_base64_encode(enc("foo"), 0, 3, d, 4, 4), 4);
  assert.is(str(d, 4, 4), "Zm9v");
  assert.is(mg_base64url_encode(enc("f"), 0, 1, d, 0, 1), 0);
  assert.is(mg_base64_decode(enc("Zm9vYmFy"), 0, 8, d, 0, 5), 0, "6 bytes do not fit in 5");
  assert.is(mg_base64_decode(enc("xxZm9vxx"), 2, 4, d, 1, 3), 3, "offsets");
  assert.is(str(d, 1, 3), "foo");
  // every byte value survives a round trip
  const all = new Uint8Array(256);
  for (let i = 0; i < 256; i++) all[i] = 255 - i;
  const e = new Uint8Array(344);
  assert.is(mg_base64_encode(all, 0, 256, e, 0, 344), 344);
  const back = new Uint8Array(256);
  assert.is(mg_base64_decode(e, 0, 344, back, 0, 256), 256);
  assert.equal(Array.from(back), Array.from(all));
});

function sha1(...parts: (string | Uint8Array)[]): string {
  const ctx = new mg_sha1_ctx();
  mg_sha1_init(ctx);
  for (const p of parts) {
    const b = typeof p === "string" ? enc(p) : p;
    mg_sha1_update(ctx, b, 0, b.length);
  }
  const out = new Uint8Array(20);
  mg_sha1_final(out, 0, ctx);
  return hex(out);
}

test("SHA-1: known vectors", () => {
  assert.is(sha1(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  assert.is(sha1("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  assert.is(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  assert.is(sha1("The quick brown fox jumps over the lazy dog"), "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
  const a = new Uint8Array(1000000).fill(97);
  assert.is(sha1(a), "34aa973cd4c4daa4f61eeb2bdbad27316534016f", "a million 'a'");
  // 55, 56, 63, 64, 65 bytes: the padding edges
  assert.is(sha1("a".repeat(55)), "c1c8bbdc22796e28c0e15163d20899b65621d65a");
  assert.is(sha1("a".repeat(56)), "c2db330f6083854c99d4b5bfb6e8f29f201be699");
  assert.is(sha1("a".repeat(64)), "0098ba824b5c16427bd7a1122a5a442a25ec644d");
  // split updates give the same digest as one
  const text = "split me at every possible place, please";
  const whole = sha1(text);
  for (let k = 0; k <= text.length; k++) assert.is(sha1(text.slice(0, k), text.slice(k)), whole, "split at " + k);
  assert.is(sha1("a".repeat(63), "a".repeat(70)), sha1("a".repeat(133)));
});

test("SHA-1: the WebSocket accept key (RFC 6455)", () => {
  const digest = new Uint8Array(20);
  const ctx = new mg_sha1_ctx();
  mg_sha1_init(ctx);
  const k = enc("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  mg_sha1_update(ctx, k, 0, k.length);
  mg_sha1_final(digest, 0, ctx);
  assert.is(b64(digest), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  // a context is reusable after mg_sha1_init, with an offset into the input
  mg_sha1_init(ctx);
  const padded = enc("xxabcxx");
  mg_sha1_update(ctx, padded, 2, 3);
  const out = new Uint8Array(24);
  mg_sha1_final(out, 4, ctx);
  assert.is(hex(out.slice(4)), "a9993e364706816aba3e25717850c26c9cd0d89d");
});

test("CRC-32 (zlib's)", () => {
  const b = enc("123456789");
  assert.is(mg_crc32(0, b, 0, 9), 0xcbf43926);
  assert.is(mg_crc32(0, b, 0, 0), 0);
  assert.is(mg_crc32(0, enc("The quick brown fox jumps over the lazy dog"), 0, 43), 0x414fa339);
  assert.is(mg_crc32(mg_crc32(0, b, 0, 4), b, 4, 5), 0xcbf43926, "continued");
  assert.is(mg_crc32(0, new Uint8Array([0]), 0, 1), 0xd202ef8d);
  assert.is(mg_crc32(0, new Uint8Array([0xff, 0xff, 0xff, 0xff]), 0, 4), 0xffffffff);
  assert.ok(mg_crc32(0, new Uint8Array([0xff]), 0, 1) >= 0, "unsigned");
});

test("mg_random: the source mg_random_set gave, no Math.random fallback; mg_random_str", () => {
  mg_random_set(null);
  const a = new Uint8Array(64);
  assert.throws(() => mg_random(a, 0, 4), /no random source/, "without a source it throws rather than make guessable bytes");
  // a source that counts: shows exactly which bytes mg_random asked for
  let calls = 0;
  let next = 0;
  mg_random_set((buf, ofs, len) => {
    calls++;
    for (let i = 0; i < len; i++) buf[ofs + i] = next++ & 255;
  });
  const c = new Uint8Array(10).fill(7);
  mg_random(c, 3, 4);
  assert.is(calls, 1);
  assert.equal(Array.from(c), [7, 7, 7, 0, 1, 2, 3, 7, 7, 7], "only len bytes at ofs");
  const s = new Uint8Array(1000);
  mg_random_str(s, 0, 1000);
  assert.ok(/^[0-9A-Za-z]{1000}$/.test(str(s)), "alphanumerics only");
  assert.is(new Set(str(s)).size, 62, "every byte value maps to one of the 62 characters");
  mg_random_set(null);
  assert.throws(() => mg_random(a, 0, 1), /no random source/, "null removes the source");
});

test("mg_memeq: compares len bytes at offsets", () => {
  const a = enc("xxsecret");
  const b = enc("secretyy");
  assert.ok(mg_memeq(a, 2, b, 0, 6));
  assert.not.ok(mg_memeq(a, 2, b, 0, 7));
  assert.not.ok(mg_memeq(enc("secret"), 0, enc("secreT"), 0, 6));
  assert.not.ok(mg_memeq(enc("Secret"), 0, enc("secret"), 0, 6));
  assert.ok(mg_memeq(a, 0, b, 0, 0));
});

test("mg_iobuf: add and del, never grows", () => {
  const io = new mg_iobuf(10);
  assert.is(io.size, 10);
  assert.is(io.len, 0);
  assert.is(mg_iobuf_add(io, 3, enc("hi"), 0, 2), 2, "returns the bytes added, as Mongoose");
  assert.is(io.len, 5, "an offset past the end leaves a gap");
  assert.equal(Array.from(io.buf.slice(0, 5)), [0, 0, 0, 104, 105], "Mongoose's vector: \\0\\0\\0hi");
  assert.is(mg_iobuf_del(io, 0, 5), 5);
  assert.is(mg_iobuf_add(io, 0, null, 0, 3), 3, "null reserves zeroed space");
  assert.equal(Array.from(io.buf.slice(0, 3)), [0, 0, 0]);
  assert.is(mg_iobuf_add(io, 3, enc("hi"), 0, 2), 2);
  assert.equal(Array.from(io.buf.slice(0, 5)), [0, 0, 0, 104, 105]);
  assert.is(mg_iobuf_add(io, 0, enc("AB"), 0, 2), 2, "insert at the front moves the rest");
  assert.is(io.len, 7);
  assert.is(str(io.buf, 0, 2), "AB");
  assert.is(str(io.buf, 5, 2), "hi");
  assert.is(mg_iobuf_add(io, 99, enc("x"), 0, 1), 0, "a gap that does not fit: 0");
  assert.is(mg_iobuf_add(io, 7, enc("xyz"), 1, 2), 2, "at the end appends");
  assert.is(str(io.buf, 7, 2), "yz");
  const before = Array.from(io.buf);
  assert.is(mg_iobuf_add(io, 0, enc("123"), 0, 3), 0, "does not fit: 0");
  assert.is(io.len, 9);
  assert.is(io.buf.length, 10, "the buffer did not grow");
  assert.equal(Array.from(io.buf), before, "and nothing changed");
  assert.is(mg_iobuf_add(io, 9, enc("!"), 0, 1), 1, "exactly full");
  assert.is(io.len, 10);
  assert.is(mg_iobuf_del(io, 0, 2), 2);
  assert.is(io.len, 8);
  assert.is(io.buf[0], 0);
  assert.is(mg_iobuf_del(io, 3, 2), 2, "from the middle");
  assert.equal(Array.from(io.buf.slice(0, 6)), [0, 0, 0, 121, 122, 33]);
  assert.equal(Array.from(io.buf.slice(6)), [0, 0, 0, 0], "the freed tail is zeroed, as Mongoose");
  assert.is(mg_iobuf_del(io, 4, 99), 2, "clamped to what there is");
  assert.is(io.len, 4);
  assert.is(mg_iobuf_del(io, 99, 1), 0);
  assert.is(mg_iobuf_del(io, 0, 0), 0);
  assert.is(mg_iobuf_del(io, 0, 4), 4);
  assert.is(io.len, 0);
  assert.equal(Array.from(io.buf), new Array(10).fill(0));
});

test("mg_copy: between buffers and within one", () => {
  const a = enc("abcdef");
  const b = new Uint8Array(8);
  mg_copy(b, 1, a, 2, 3);
  assert.is(str(b, 1, 3), "cde");
  mg_copy(b, 0, a, 0, 6);
  assert.is(str(b, 0, 6), "abcdef");
  mg_copy(a, 2, a, 0, 4);
  assert.is(str(a), "ababcd", "overlapping, forwards");
  mg_copy(a, 0, a, 2, 4);
  assert.is(str(a), "abcdcd", "overlapping, backwards");
  mg_copy(b, 0, a, 0, 0);
  assert.is(str(b, 0, 1), "a");
});

test.run();
