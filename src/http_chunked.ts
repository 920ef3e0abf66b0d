// The chunked transfer-coding decoder (RFC 9112 §7.1), for request and
// response bodies. It works in place in the connection's recv buffer, one
// call per read, and keeps its position between calls in the state below, so
// a chunk-size line or CRLF split across reads is fine. http.ts (body_step)
// calls it; it knows nothing else of HTTP.

/** The decoder's state: fields of the connection's HttpConn (http_conn.ts). */
export interface ChunkState {
  ck: number; // CK_*: where in the framing the next byte is
  ck_size: number; // data bytes left in this chunk (or the size being read)
  ck_digits: number; // hex digits of the size read so far
  complete: boolean; // set after the last chunk and its trailers
}

// decoder states
export const CK_SIZE = 0;
const CK_EXT = 1;
const CK_SIZE_LF = 2;
const CK_DATA = 3;
const CK_DATA_CR = 4;
const CK_DATA_LF = 5;
const CK_TRAILER = 6; // at the start of a trailer line (or the final empty line)
const CK_TRAILER_LINE = 7;
const CK_END_LF = 8;

function hexval(ch: number): number {
  if (ch >= 48 && ch <= 57) return ch - 48;
  if (ch >= 97 && ch <= 102) return ch - 87;
  if (ch >= 65 && ch <= 70) return ch - 55;
  return -1;
}

/**
 * The chunked decoder. Decodes raw bytes from base up to r.len in place:
 * data moves down to base, framing is dropped, and undecoded bytes are kept
 * right after the data. Returns the number of data bytes decoded, -1 on bad
 * framing. Sets st.complete after the last chunk and its trailers.
 */
export function chunk_step(st: ChunkState, b: Uint8Array, base: number, r: { len: number }): number {
  let rp = base;
  let wp = base;
  const end = r.len;
  while (rp < end && !st.complete) {
    const ch = b[rp];
    switch (st.ck) {
      case CK_SIZE: {
        const v = hexval(ch);
        if (v >= 0) {
          if (++st.ck_digits > 8) return -1;
          st.ck_size = st.ck_size * 16 + v;
        } else if (st.ck_digits === 0) {
          return -1;
        } else if (ch === 13) {
          st.ck = CK_SIZE_LF;
        } else if (ch === 59 || ch === 32 || ch === 9) {
          st.ck = CK_EXT;
        } else return -1;
        rp++;
        break;
      }
      case CK_EXT:
        if (ch === 13) st.ck = CK_SIZE_LF;
        else if (ch < 32 && ch !== 9) return -1;
        rp++;
        break;
      case CK_SIZE_LF:
        if (ch !== 10) return -1;
        rp++;
        st.ck = st.ck_size === 0 ? CK_TRAILER : CK_DATA;
        break;
      case CK_DATA: {
        let n = end - rp;
        if (n > st.ck_size) n = st.ck_size;
        if (wp !== rp) b.copyWithin(wp, rp, rp + n);
        wp += n;
        rp += n;
        st.ck_size -= n;
        if (st.ck_size === 0) st.ck = CK_DATA_CR;
        break;
      }
      case CK_DATA_CR:
        if (ch !== 13) return -1;
        rp++;
        st.ck = CK_DATA_LF;
        break;
      case CK_DATA_LF:
        if (ch !== 10) return -1;
        rp++;
        st.ck = CK_SIZE;
        st.ck_digits = 0;
        break;
      case CK_TRAILER:
        if (ch === 13) st.ck = CK_END_LF;
        else if (ch < 32 && ch !== 9) return -1;
        else st.ck = CK_TRAILER_LINE;
        rp++;
        break;
      case CK_TRAILER_LINE:
        if (ch === 10) st.ck = CK_TRAILER;
        else if (ch < 32 && ch !== 9 && ch !== 13) return -1;
        rp++;
        break;
      default: // CK_END_LF
        if (ch !== 10) return -1;
        rp++;
        st.complete = true;
    }
  }
  // close the gap left by framing
  if (rp !== wp) {
    b.copyWithin(wp, rp, end);
    r.len -= rp - wp;
  }
  return wp - base;
}
