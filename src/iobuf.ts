// mg_iobuf: a fixed byte buffer with a fill level (Mongoose's struct mg_iobuf).
//
// Difference from Mongoose, on purpose: buffers never grow. Each connection's
// recv and send buffers are made once, MG_IO_SIZE bytes, in mg_mgr_init; an
// add that does not fit adds nothing and returns 0. On a device with ~77 KB
// of XS heap, a buffer that grows under a slow peer is how a server dies.

export class mg_iobuf {
  buf: Uint8Array;
  size: number;
  len = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.size = size;
  }
}

/** Copies n bytes; on XS a subarray() costs 4 slots, so no views are made. */
export function mg_copy(dst: Uint8Array, dofs: number, src: Uint8Array, sofs: number, n: number): void {
  if (sofs === 0 && n === src.length && n > 0) {
    dst.set(src, dofs);
  } else if (src === dst) {
    dst.copyWithin(dofs, sofs, sofs + n);
  } else {
    for (let i = 0; i < n; i++) dst[dofs + i] = src[sofs + i];
  }
}

/**
 * Inserts len bytes of src (from sofs) at offset ofs, moving what follows.
 * src null reserves zeroed space. An ofs past the end leaves a zeroed gap
 * and len becomes ofs + len, as in Mongoose. Returns the number of bytes
 * added (len), as Mongoose does, or 0 when they do not fit in the fixed
 * buffer (then nothing changes; Mongoose grows the buffer instead, and
 * returns 0 only when that allocation fails).
 */
export function mg_iobuf_add(io: mg_iobuf, ofs: number, src: Uint8Array | null, sofs: number, len: number): number {
  const gap = ofs > io.len ? ofs - io.len : 0;
  if (io.len + gap + len > io.size) return 0;
  if (gap > 0) {
    io.buf.fill(0, io.len, ofs);
    io.len = ofs;
  } else if (ofs < io.len) io.buf.copyWithin(ofs + len, ofs, io.len);
  if (src !== null) mg_copy(io.buf, ofs, src, sofs, len);
  else io.buf.fill(0, ofs, ofs + len);
  io.len += len;
  return len;
}

/**
 * Removes len bytes at ofs (clamped), moving the tail down and zeroing the
 * bytes freed at the end, as Mongoose does: a request's password or key must
 * not linger in a pooled buffer the next connection gets. Returns the number
 * removed.
 */
export function mg_iobuf_del(io: mg_iobuf, ofs: number, len: number): number {
  if (ofs > io.len) ofs = io.len;
  if (ofs + len > io.len) len = io.len - ofs;
  if (len > 0) {
    io.buf.copyWithin(ofs, ofs + len, io.len);
    io.buf.fill(0, io.len - len, io.len);
    io.len -= len;
  }
  return len;
}
