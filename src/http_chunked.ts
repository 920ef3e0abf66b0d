// The chunked transfer-coding decoder (RFC 9112 §7.1), for request and
// response bodies. It works in place in the connection's recv buffer, one
// call per read, and keeps its position between calls in the state below, so
// a chunk-size line or CRLF split across reads is fine, and a byte that
// breaks the grammar is refused when it arrives. http.ts (body_step) calls
// it; it knows nothing else of HTTP.
//
// The grammar, held as llhttp's strict mode holds it:
//   chunk      = 1*HEXDIG *( ";" ext-name [ "=" ( token / quoted-string ) ] ) CRLF data CRLF
//   last-chunk = 1*"0" [ ext ] CRLF, then trailer field lines, then CRLF
// No whitespace around the size, ';' or '=' (RFC 9112 allows BWS there, but
// llhttp refuses it and "a ;x" is where parsers disagree); a ';' needs a
// name; a quoted value must close on its line; every line ends with CRLF
// (a bare LF only with MG_HTTP_ALLOW_BARE_LF); trailer lines are header
// lines (a token, ':', a field value; no obs-fold).
import { MG_HTTP_ALLOW_BARE_LF } from "./config.js";
import { hexval, is_field_byte, is_qdtext, is_tchar } from "./http_parse.js";

/** The decoder's state: fields of the connection's HttpConn (http_conn.ts). */
export interface ChunkState {
  ck: number; // CK_*: where in the framing the next byte is
  ck_size: number; // data bytes left in this chunk (or the size being read)
  ck_digits: number; // hex digits of the size read so far
  complete: boolean; // set after the last chunk and its trailers
}

// decoder states
export const CK_SIZE = 0;
const CK_EXT_NAME0 = 1; // after ';': a name must follow
const CK_EXT_NAME = 2;
const CK_EXT_VAL0 = 3; // after '=': a token or a quoted-string must follow
const CK_EXT_TOKEN = 4;
const CK_EXT_QUOTED = 5;
const CK_EXT_QPAIR = 6; // after a backslash inside the quotes
const CK_EXT_AFTERQ = 7; // after the closing quote: ';' or the line end
const CK_SIZE_LF = 8;
const CK_DATA = 9;
const CK_DATA_CR = 10;
const CK_DATA_LF = 11;
const CK_TRAILER = 12; // at the start of a trailer line (or the final empty line)
const CK_TR_NAME = 13;
const CK_TR_VALUE = 14;
const CK_TR_LF = 15;
const CK_END_LF = 16;

/** The end of the chunk-size line: data next, or the trailers after the last chunk. */
function size_line_done(st: ChunkState): void {
  st.ck = st.ck_size === 0 ? CK_TRAILER : CK_DATA;
}

/**
 * After a size, an extension name, token or closing quote: ';' starts the
 * next extension, CR ends the line. False when ch is neither.
 */
function ext_next(st: ChunkState, ch: number): boolean {
  if (ch === 59) st.ck = CK_EXT_NAME0;
  else if (ch === 13) st.ck = CK_SIZE_LF;
  else if (ch === 10 && MG_HTTP_ALLOW_BARE_LF) size_line_done(st);
  else return false;
  return true;
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
        } else if (st.ck_digits === 0 || !ext_next(st, ch)) return -1;
        break;
      }
      case CK_EXT_NAME0:
        if (!is_tchar(ch)) return -1;
        st.ck = CK_EXT_NAME;
        break;
      case CK_EXT_NAME:
        if (ch === 61) st.ck = CK_EXT_VAL0;
        else if (!is_tchar(ch) && !ext_next(st, ch)) return -1;
        break;
      case CK_EXT_VAL0:
        if (ch === 34) st.ck = CK_EXT_QUOTED;
        else if (is_tchar(ch)) st.ck = CK_EXT_TOKEN;
        else return -1;
        break;
      case CK_EXT_TOKEN:
        if (!is_tchar(ch) && !ext_next(st, ch)) return -1;
        break;
      case CK_EXT_QUOTED:
        if (ch === 34) st.ck = CK_EXT_AFTERQ;
        else if (ch === 92) st.ck = CK_EXT_QPAIR;
        else if (!is_qdtext(ch)) return -1;
        break;
      case CK_EXT_QPAIR:
        if (!is_field_byte(ch)) return -1;
        st.ck = CK_EXT_QUOTED;
        break;
      case CK_EXT_AFTERQ:
        if (!ext_next(st, ch)) return -1;
        break;
      case CK_SIZE_LF:
        if (ch !== 10) return -1;
        size_line_done(st);
        break;
      case CK_DATA: {
        let n = end - rp;
        if (n > st.ck_size) n = st.ck_size;
        if (wp !== rp) b.copyWithin(wp, rp, rp + n);
        wp += n;
        rp += n;
        st.ck_size -= n;
        if (st.ck_size === 0) st.ck = CK_DATA_CR;
        continue; // rp moved already
      }
      case CK_DATA_CR:
        if (ch === 13) st.ck = CK_DATA_LF;
        else if (ch === 10 && MG_HTTP_ALLOW_BARE_LF) {
          st.ck = CK_SIZE;
          st.ck_digits = 0;
        } else return -1;
        break;
      case CK_DATA_LF:
        if (ch !== 10) return -1;
        st.ck = CK_SIZE;
        st.ck_digits = 0;
        break;
      case CK_TRAILER:
        if (ch === 13) st.ck = CK_END_LF;
        else if (ch === 10 && MG_HTTP_ALLOW_BARE_LF) st.complete = true;
        else if (is_tchar(ch)) st.ck = CK_TR_NAME;
        else return -1; // obs-fold, a control byte, a line without a name
        break;
      case CK_TR_NAME:
        if (ch === 58) st.ck = CK_TR_VALUE;
        else if (!is_tchar(ch)) return -1;
        break;
      case CK_TR_VALUE:
        if (ch === 13) st.ck = CK_TR_LF;
        else if (ch === 10 && MG_HTTP_ALLOW_BARE_LF) st.ck = CK_TRAILER;
        else if (!is_field_byte(ch)) return -1;
        break;
      case CK_TR_LF:
        if (ch !== 10) return -1;
        st.ck = CK_TRAILER;
        break;
      default: // CK_END_LF
        if (ch !== 10) return -1;
        st.complete = true;
    }
    rp++;
  }
  // close the gap left by framing
  if (rp !== wp) {
    b.copyWithin(wp, rp, end);
    r.len -= rp - wp;
  }
  return wp - base;
}
