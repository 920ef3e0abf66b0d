// Utilities (Mongoose's base64.c, sha1.c, util.c): base64, SHA-1, CRC-32,
// random bytes, constant-time compare. Byte APIs take (buf, ofs, len).

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const cca = String.prototype.charCodeAt;

/** Base64 of src[sofs..sofs+slen) into dst at dofs; returns the length, 0 if dst is too small. */
export function mg_base64_encode(src: Uint8Array, sofs: number, slen: number, dst: Uint8Array, dofs: number, dlen: number): number {
  const need = Math.ceil(slen / 3) * 4;
  if (need > dlen) return 0;
  let o = dofs;
  for (let i = 0; i < slen; i += 3) {
    const a0 = src[sofs + i];
    const a1 = i + 1 < slen ? src[sofs + i + 1] : 0;
    const a2 = i + 2 < slen ? src[sofs + i + 2] : 0;
    dst[o++] = cca.call(B64, a0 >> 2);
    dst[o++] = cca.call(B64, ((a0 & 3) << 4) | (a1 >> 4));
    dst[o++] = i + 1 < slen ? cca.call(B64, ((a1 & 15) << 2) | (a2 >> 6)) : 61;
    dst[o++] = i + 2 < slen ? cca.call(B64, a2 & 63) : 61;
  }
  return need;
}

function b64val(c: number): number {
  if (c >= 65 && c <= 90) return c - 65;
  if (c >= 97 && c <= 122) return c - 71;
  if (c >= 48 && c <= 57) return c + 4;
  if (c === 43 || c === 45) return 62; // + and the URL-safe -
  if (c === 47 || c === 95) return 63; // / and the URL-safe _
  return -1;
}

/**
 * Decodes base64 (standard or URL-safe; padding optional) into dst. Returns
 * the decoded length, 0 on invalid input or a small dst.
 */
export function mg_base64_decode(src: Uint8Array, sofs: number, slen: number, dst: Uint8Array, dofs: number, dlen: number): number {
  let end = sofs + slen;
  while (end > sofs && src[end - 1] === 61) end--;
  if (end - sofs < slen - 2) return 0;
  let o = dofs;
  let acc = 0;
  let bits = 0;
  for (let i = sofs; i < end; i++) {
    const v = b64val(src[i]);
    if (v < 0) return 0;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o >= dofs + dlen) return 0;
      dst[o++] = (acc >> bits) & 255;
    }
  }
  if ((end - sofs) % 4 === 1) return 0;
  if (o < dofs + dlen) dst[o] = 0;
  return o - dofs;
}

/** SHA-1 state: made once, reused (no allocation per digest). */
export class mg_sha1_ctx {
  h = new Int32Array(5);
  w = new Int32Array(80);
  block = new Uint8Array(64);
  used = 0;
  total = 0;
}

export function mg_sha1_init(ctx: mg_sha1_ctx): void {
  const h = ctx.h;
  h[0] = 0x67452301;
  h[1] = 0xefcdab89 | 0;
  h[2] = 0x98badcfe | 0;
  h[3] = 0x10325476;
  h[4] = 0xc3d2e1f0 | 0;
  ctx.used = 0;
  ctx.total = 0;
}

function sha1_block(ctx: mg_sha1_ctx): void {
  const w = ctx.w;
  const b = ctx.block;
  for (let i = 0; i < 16; i++) w[i] = (b[4 * i] << 24) | (b[4 * i + 1] << 16) | (b[4 * i + 2] << 8) | b[4 * i + 3];
  for (let i = 16; i < 80; i++) {
    const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
    w[i] = (x << 1) | (x >>> 31);
  }
  const h = ctx.h;
  let a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
  for (let i = 0; i < 80; i++) {
    let f: number, k: number;
    if (i < 20) {
      f = (bb & c) | (~bb & d);
      k = 0x5a827999;
    } else if (i < 40) {
      f = bb ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (i < 60) {
      f = (bb & c) | (bb & d) | (c & d);
      k = 0x8f1bbcdc | 0;
    } else {
      f = bb ^ c ^ d;
      k = 0xca62c1d6 | 0;
    }
    const t = (((a << 5) | (a >>> 27)) + f + e + k + w[i]) | 0;
    e = d;
    d = c;
    c = (bb << 30) | (bb >>> 2);
    bb = a;
    a = t;
  }
  h[0] = (h[0] + a) | 0;
  h[1] = (h[1] + bb) | 0;
  h[2] = (h[2] + c) | 0;
  h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0;
}

export function mg_sha1_update(ctx: mg_sha1_ctx, buf: Uint8Array, ofs: number, len: number): void {
  const blk = ctx.block;
  ctx.total += len;
  for (let i = 0; i < len; i++) {
    blk[ctx.used++] = buf[ofs + i];
    if (ctx.used === 64) {
      sha1_block(ctx);
      ctx.used = 0;
    }
  }
}

/** Writes the 20-byte digest at digest[dofs]. */
export function mg_sha1_final(digest: Uint8Array, dofs: number, ctx: mg_sha1_ctx): void {
  const bits = ctx.total * 8;
  const blk = ctx.block;
  blk[ctx.used++] = 0x80;
  if (ctx.used > 56) {
    while (ctx.used < 64) blk[ctx.used++] = 0;
    sha1_block(ctx);
    ctx.used = 0;
  }
  while (ctx.used < 56) blk[ctx.used++] = 0;
  const hi = Math.floor(bits / 0x100000000);
  const lo = bits >>> 0;
  blk[56] = hi >>> 24;
  blk[57] = (hi >>> 16) & 255;
  blk[58] = (hi >>> 8) & 255;
  blk[59] = hi & 255;
  blk[60] = lo >>> 24;
  blk[61] = (lo >>> 16) & 255;
  blk[62] = (lo >>> 8) & 255;
  blk[63] = lo & 255;
  sha1_block(ctx);
  for (let i = 0; i < 5; i++) {
    const v = ctx.h[i];
    digest[dofs + 4 * i] = v >>> 24;
    digest[dofs + 4 * i + 1] = (v >>> 16) & 255;
    digest[dofs + 4 * i + 2] = (v >>> 8) & 255;
    digest[dofs + 4 * i + 3] = v & 255;
  }
}

class Tables {
  crc: Int32Array | null = null;
  rng: ((buf: Uint8Array, ofs: number, len: number) => void) | null = null;
  seed = 0x2545f491;
}
// The table is made on the first call, never at load: a preloaded module's typed arrays are read-only.
const T = new Tables();

/** CRC-32 (IEEE) of len bytes, continuing from crc (start with 0). */
export function mg_crc32(crc: number, buf: Uint8Array, ofs: number, len: number): number {
  let t = T.crc;
  if (t === null) {
    t = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      t[n] = c;
    }
    T.crc = t;
  }
  let c = ~crc;
  for (let i = 0; i < len; i++) c = t[(c ^ buf[ofs + i]) & 255] ^ (c >>> 8);
  return ~c >>> 0;
}

/** Sets where random bytes come from (mg_mgr_init passes the HAL's). */
export function mg_random_set(fn: (buf: Uint8Array, ofs: number, len: number) => void): void {
  T.rng = fn;
}

/** Fills len bytes with random bytes: the HAL's source, or xorshift before a manager exists. */
export function mg_random(buf: Uint8Array, ofs: number, len: number): void {
  if (T.rng !== null) {
    T.rng(buf, ofs, len);
    return;
  }
  let x = T.seed;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[ofs + i] = x & 255;
  }
  T.seed = x;
}

const ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** len random alphanumeric characters into buf. */
export function mg_random_str(buf: Uint8Array, ofs: number, len: number): void {
  mg_random(buf, ofs, len);
  for (let i = 0; i < len; i++) buf[ofs + i] = cca.call(ALNUM, buf[ofs + i] % 62);
}

/** Constant-time equality of two byte ranges (for secrets). */
export function mg_memeq(a: Uint8Array, aofs: number, b: Uint8Array, bofs: number, len: number): boolean {
  let d = 0;
  for (let i = 0; i < len; i++) d |= a[aofs + i] ^ b[bofs + i];
  return d === 0;
}
