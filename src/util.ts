// Byte utilities: base64, SHA-1, CRC-32, random bytes, constant-time compare.
//
// Every function works on (buffer, offset, length) and allocates nothing after
// its first call. Module state follows the rule at the top of config.ts: the
// CRC table is made at load and only read; the random source is run-time
// state.

// --- base64 ----------------------------------------------------------------

/** The base64 character for a 6-bit value (url: the URL-safe alphabet "-_"). */
export function mg_base64_char(v: number, url: boolean): number {
  if (v < 26) return 65 + v; // A-Z
  if (v < 52) return 71 + v; // a-z (97 + v - 26)
  if (v < 62) return v - 4; // 0-9 (48 + v - 52)
  if (v === 62) return url ? 45 : 43; // '-' or '+'
  return url ? 95 : 47; // '_' or '/'
}

/** The 6-bit value of a base64 character of one alphabet (url: "-_", else "+/"), or -1. */
function b64val(c: number, url: boolean): number {
  if (c >= 65 && c <= 90) return c - 65;
  if (c >= 97 && c <= 122) return c - 71;
  if (c >= 48 && c <= 57) return c + 4;
  if (c === (url ? 45 : 43)) return 62;
  if (c === (url ? 95 : 47)) return 63;
  return -1;
}

function b64enc(src: Uint8Array, sofs: number, slen: number, dst: Uint8Array, dofs: number, dlen: number, url: boolean): number {
  const need = url ? Math.floor((slen * 4 + 2) / 3) : Math.floor((slen + 2) / 3) * 4;
  if (need > dlen) return 0;
  let j = dofs;
  for (let i = 0; i < slen; i += 3) {
    const a = src[sofs + i];
    const b = i + 1 < slen ? src[sofs + i + 1] : 0;
    const c = i + 2 < slen ? src[sofs + i + 2] : 0;
    dst[j++] = mg_base64_char(a >> 2, url);
    dst[j++] = mg_base64_char(((a & 3) << 4) | (b >> 4), url);
    if (i + 1 < slen) dst[j++] = mg_base64_char(((b & 15) << 2) | (c >> 6), url);
    else if (!url) dst[j++] = 61;
    if (i + 2 < slen) dst[j++] = mg_base64_char(c & 63, url);
    else if (!url) dst[j++] = 61;
  }
  return j - dofs;
}

/**
 * Base64-encodes slen bytes of src into dst at dofs, padded with '='.
 * Returns the encoded length, or 0 when it needs more than dlen bytes (no NUL
 * is written). The length is always 4 * ceil(slen / 3).
 */
export function mg_base64_encode(src: Uint8Array, sofs: number, slen: number, dst: Uint8Array, dofs: number, dlen: number): number {
  return b64enc(src, sofs, slen, dst, dofs, dlen, false);
}

/** As mg_base64_encode with the URL-safe alphabet ('-' '_') and no padding (JWT, RFC 4648 section 5). */
export function mg_base64url_encode(src: Uint8Array, sofs: number, slen: number, dst: Uint8Array, dofs: number, dlen: number): number {
  return b64enc(src, sofs, slen, dst, dofs, dlen, true);
}

/**
 * Decodes base64 (the standard alphabet "+/"; '=' padding optional, but
 * nothing may follow it) from src into dst at dofs. Returns the decoded
 * length, or 0 on invalid input or when dst (dlen bytes) is too small.
 * Whitespace is invalid, and so are the URL-safe '-' and '_', as in
 * Mongoose: use mg_base64url_decode for those. Unlike Mongoose, an unpadded
 * tail ("Zg") is decoded (Mongoose drops a group of fewer than 4).
 */
export function mg_base64_decode(src: Uint8Array, sofs: number, slen: number, dst: Uint8Array, dofs: number, dlen: number): number {
  return b64dec(src, sofs, slen, dst, dofs, dlen, false);
}

/**
 * Decodes base64url (RFC 4648 §5: the alphabet "-_", as JWTs carry it;
 * padding optional). The standard '+' and '/' are invalid: "Pz8/" gives 0,
 * as in Mongoose. Returns the decoded length, 0 on invalid input or a small dst.
 */
export function mg_base64url_decode(src: Uint8Array, sofs: number, slen: number, dst: Uint8Array, dofs: number, dlen: number): number {
  return b64dec(src, sofs, slen, dst, dofs, dlen, true);
}

function b64dec(src: Uint8Array, sofs: number, slen: number, dst: Uint8Array, dofs: number, dlen: number, url: boolean): number {
  let n = slen;
  if (n > 0 && src[sofs + n - 1] === 61) n--; // up to two '=' at the end
  if (n > 0 && src[sofs + n - 1] === 61) n--;
  if (slen !== n && slen % 4 !== 0) return 0; // padding only completes a quad
  if (n % 4 === 1) return 0; // 6 bits cannot make a byte
  const out = Math.floor((n * 3) / 4);
  if (out > dlen) return 0;
  let j = dofs;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < n; i++) {
    const v = b64val(src[sofs + i], url);
    if (v < 0) return 0;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      dst[j++] = (acc >> bits) & 255;
    }
  }
  return j - dofs;
}

// --- SHA-1 (FIPS 180-4) ----------------------------------------------------

/**
 * SHA-1 state. Make one per user, once (the constructor allocates nothing;
 * mg_sha1_init makes its 64-byte block and 16-word schedule on first use), and
 * reuse it: init, update..., final.
 */
export class mg_sha1_ctx {
  h0 = 0;
  h1 = 0;
  h2 = 0;
  h3 = 0;
  h4 = 0;
  /** Total bytes hashed (a JS number: exact up to 2^53). */
  total = 0;
  /** Bytes waiting in blk. */
  blen = 0;
  blk: Uint8Array | null = null;
  w: Int32Array | null = null;
}

export function mg_sha1_init(ctx: mg_sha1_ctx): void {
  ctx.h0 = 0x67452301;
  ctx.h1 = 0xefcdab89 | 0;
  ctx.h2 = 0x98badcfe | 0;
  ctx.h3 = 0x10325476;
  ctx.h4 = 0xc3d2e1f0 | 0;
  ctx.total = 0;
  ctx.blen = 0;
  ctx.blk ??= new Uint8Array(64);
  ctx.w ??= new Int32Array(16);
}

function sha1_block(ctx: mg_sha1_ctx, b: Uint8Array, o: number): void {
  const w = ctx.w!;
  for (let i = 0; i < 16; i++, o += 4) w[i] = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
  let a = ctx.h0, bb = ctx.h1, c = ctx.h2, d = ctx.h3, e = ctx.h4;
  for (let i = 0; i < 80; i++) {
    let x: number;
    if (i < 16) {
      x = w[i];
    } else {
      // the schedule kept as a ring of 16 words
      const t = w[(i + 13) & 15] ^ w[(i + 8) & 15] ^ w[(i + 2) & 15] ^ w[i & 15];
      x = w[i & 15] = (t << 1) | (t >>> 31);
    }
    let f: number;
    if (i < 20) f = ((bb & c) | (~bb & d)) + 0x5a827999;
    else if (i < 40) f = (bb ^ c ^ d) + 0x6ed9eba1;
    else if (i < 60) f = ((bb & c) | (bb & d) | (c & d)) + 0x8f1bbcdc;
    else f = (bb ^ c ^ d) + 0xca62c1d6;
    const t = (((a << 5) | (a >>> 27)) + f + e + x) | 0;
    e = d;
    d = c;
    c = (bb << 30) | (bb >>> 2);
    bb = a;
    a = t;
  }
  ctx.h0 = (ctx.h0 + a) | 0;
  ctx.h1 = (ctx.h1 + bb) | 0;
  ctx.h2 = (ctx.h2 + c) | 0;
  ctx.h3 = (ctx.h3 + d) | 0;
  ctx.h4 = (ctx.h4 + e) | 0;
}

export function mg_sha1_update(ctx: mg_sha1_ctx, buf: Uint8Array, ofs: number, len: number): void {
  const blk = ctx.blk!;
  ctx.total += len;
  let i = 0;
  while (i < len) {
    if (ctx.blen === 0 && len - i >= 64) {
      sha1_block(ctx, buf, ofs + i); // whole blocks straight from the input
      i += 64;
      continue;
    }
    blk[ctx.blen++] = buf[ofs + i++];
    if (ctx.blen === 64) {
      sha1_block(ctx, blk, 0);
      ctx.blen = 0;
    }
  }
}

function put32(d: Uint8Array, o: number, v: number): void {
  d[o] = v >>> 24;
  d[o + 1] = v >>> 16;
  d[o + 2] = v >>> 8;
  d[o + 3] = v;
}

/** Writes the 20-byte digest at digest[dofs]. The context must be re-initialised to be reused. */
export function mg_sha1_final(digest: Uint8Array, dofs: number, ctx: mg_sha1_ctx): void {
  const blk = ctx.blk!;
  const total = ctx.total;
  blk[ctx.blen++] = 0x80;
  if (ctx.blen > 56) {
    blk.fill(0, ctx.blen, 64);
    sha1_block(ctx, blk, 0);
    ctx.blen = 0;
  }
  blk.fill(0, ctx.blen, 56);
  put32(blk, 56, Math.floor(total / 0x20000000)); // bit count, high word
  put32(blk, 60, (total * 8) % 0x100000000);
  sha1_block(ctx, blk, 0);
  put32(digest, dofs, ctx.h0);
  put32(digest, dofs + 4, ctx.h1);
  put32(digest, dofs + 8, ctx.h2);
  put32(digest, dofs + 12, ctx.h3);
  put32(digest, dofs + 16, ctx.h4);
}

// --- CRC-32 ----------------------------------------------------------------

// 16-entry (nibble) table: 64 bytes instead of 1 KiB, two lookups a byte.
// Made when the module loads (in flash when preloaded) and only read.
const CRC_TAB = crc_table();
function crc_table(): Int32Array {
  const t = new Int32Array(16);
  for (let i = 0; i < 16; i++) {
    let c = i;
    for (let k = 0; k < 4; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[i] = c;
  }
  return t;
}

/**
 * Standard CRC-32 (IEEE 802.3, reflected, as zlib). Start with crc = 0 and
 * feed the previous result to continue: mg_crc32(mg_crc32(0, a...), b...).
 * Returns an unsigned 32-bit number.
 */
export function mg_crc32(crc: number, buf: Uint8Array, ofs: number, len: number): number {
  const t = CRC_TAB;
  let c = ~crc;
  for (let i = 0; i < len; i++) {
    c ^= buf[ofs + i];
    c = (c >>> 4) ^ t[c & 15];
    c = (c >>> 4) ^ t[c & 15];
  }
  return ~c >>> 0;
}

// --- Random ----------------------------------------------------------------

/** A source of random bytes: fills len bytes of buf at ofs. */
export type mg_random_fn = (buf: Uint8Array, ofs: number, len: number) => void;

class RandomState {
  fn: mg_random_fn | null = null;
}
/** Run-time state (config.ts: module state). */
function random_state(): RandomState {
  return ((globalThis as any).mgts_random ??= new RandomState());
}

/**
 * Sets the source of mg_random: mg_mgr_init sets the HAL's, which is the
 * platform's cryptographic generator (the ESP32's hardware RNG, the OS's on
 * a host). null removes it.
 */
export function mg_random_set(fn: mg_random_fn | null): void {
  random_state().fn = fn;
}

/**
 * Fills len bytes of buf at ofs with random bytes from the source
 * mg_random_set gave (session tokens, WebSocket keys and masks come from
 * here). Without one it throws: there is no Math.random fallback, whose
 * numbers can be guessed (on Moddable's lin simulator they are the same on
 * every launch).
 */
export function mg_random(buf: Uint8Array, ofs: number, len: number): void {
  const fn = random_state().fn;
  if (fn === null) throw new Error("mg_random: no random source (mg_mgr_init sets the HAL's)");
  fn(buf, ofs, len);
}

/** Fills len bytes of buf at ofs with random [0-9A-Za-z] characters (no NUL is written). */
export function mg_random_str(buf: Uint8Array, ofs: number, len: number): void {
  mg_random(buf, ofs, len);
  for (let i = 0; i < len; i++) {
    const v = buf[ofs + i] % 62; // a slight bias, fine for names and nonces
    buf[ofs + i] = v < 10 ? 48 + v : v < 36 ? 55 + v : 61 + v;
  }
}

/** Compares len bytes in time that does not depend on where they differ (for secrets). */
export function mg_memeq(a: Uint8Array, aofs: number, b: Uint8Array, bofs: number, len: number): boolean {
  let d = 0;
  for (let i = 0; i < len; i++) d |= a[aofs + i] ^ b[bofs + i];
  return d === 0;
}
