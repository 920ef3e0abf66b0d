// Multipart bodies (multipart/form-data, RFC 7578). Two ways in:
// - streaming: multipart_setup takes the boundary from Content-Type, then
//   multipart_step splits the body as it arrives into MG_EV_HTTP_PART_BEGIN /
//   _DATA / _END and MG_EV_HTTP_MULTIPART_REQUEST_END (Mongoose 6.x's events,
//   also given in 7.x style by mg_http_stream_body(c, true)); http.ts
//   (body_step) calls it with the body bytes kept in recv, and cancel_parts
//   closes a request cut short.
// - buffered: mg_http_next_multipart walks a body already whole in memory
//   (Mongoose 7's API).
import { mg_copy, mg_iobuf_del } from "./iobuf.js";
import { type mg_connection, mg_call_user } from "./net.js";
import { mg_str, mg_str_n, mg_str_set } from "./str.js";
import { ascii, eq_lc, header_var, mg_http_get_header_var, type mg_http_message } from "./http_parse.js";
import {
  type HttpConn,
  MG_EV_HTTP_MULTIPART_REQUEST_END,
  MG_EV_HTTP_PART_BEGIN,
  MG_EV_HTTP_PART_DATA,
  MG_EV_HTTP_PART_END,
  MP_AFTER_DELIM,
  MP_DATA,
  MP_DONE,
  MP_HEADERS,
  MP_PREAMBLE,
} from "./http_conn.js";

const LC_CONTENT_DISPOSITION = ascii("content-disposition");

export function multipart_setup(st: HttpConn, ct: mg_str): boolean {
  const bnd = mg_http_get_header_var(ct, "boundary", st.part.data); // part.data is free until PART_DATA
  if (bnd.len === 0 || bnd.len > 70) return false;
  st.delim ??= new Uint8Array(74);
  st.names ??= new Uint8Array(256);
  const d = st.delim;
  d[0] = 13;
  d[1] = 10;
  d[2] = 45;
  d[3] = 45;
  mg_copy(d, 4, bnd.buf, bnd.ofs, bnd.len);
  st.delim_len = 4 + bnd.len;
  st.mp = MP_PREAMBLE;
  st.in_part = false;
  return true;
}

/** Index of pattern p[pofs..pofs+plen) in b[from..to), or -1. */
function find(b: Uint8Array, from: number, to: number, p: Uint8Array, pofs: number, plen: number): number {
  const last = to - plen;
  outer: for (let i = from; i <= last; i++) {
    for (let k = 0; k < plen; k++) if (b[i + k] !== p[pofs + k]) continue outer;
    return i;
  }
  return -1;
}

function part_event(c: mg_connection, st: HttpConn, hm: mg_http_message, ev: number, status: number): void {
  const p = st.part;
  p.status = status;
  mg_call_user(c, ev, p);
}

/**
 * Splits the kept body bytes (recv[head_len .. head_len + kept)) into parts.
 * Returns -1 on malformed input, else 0 (more bytes needed, or done).
 */
export function multipart_step(c: mg_connection, st: HttpConn, hm: mg_http_message): number {
  const r = c.recv;
  const b = r.buf;
  const d = st.delim!;
  const dl = st.delim_len;
  const p = st.part;
  st.mp_held = false;
  for (;;) {
    if (c.is_closing) return 0;
    const H = st.head_len;
    const K = st.kept;
    if (st.mp === MP_PREAMBLE) {
      // the first delimiter may open the body without the CRLF before it
      if (K >= dl - 2 && find(b, H, H + dl - 2, d, 2, dl - 2) === H) {
        mg_iobuf_del(r, H, dl - 2);
        st.kept -= dl - 2;
        st.mp = MP_AFTER_DELIM;
        continue;
      }
      const at = find(b, H, H + K, d, 0, dl);
      if (at < 0) {
        const drop = K - (dl - 1);
        if (drop > 0) {
          mg_iobuf_del(r, H, drop);
          st.kept -= drop;
        }
        return 0;
      }
      mg_iobuf_del(r, H, at - H + dl);
      st.kept -= at - H + dl;
      st.mp = MP_AFTER_DELIM;
      continue;
    }
    if (st.mp === MP_AFTER_DELIM) {
      if (K < 2) return 0;
      if (b[H] === 45 && b[H + 1] === 45) {
        st.mp = MP_DONE;
        p.var_name.len = p.file_name.len = 0;
        part_event(c, st, hm, MG_EV_HTTP_MULTIPART_REQUEST_END, 0);
        continue;
      }
      if (b[H] !== 13 || b[H + 1] !== 10) return -1;
      mg_iobuf_del(r, H, 2);
      st.kept -= 2;
      st.mp = MP_HEADERS;
      continue;
    }
    if (st.mp === MP_HEADERS) {
      let hend: number;
      if (K >= 2 && b[H] === 13 && b[H + 1] === 10) hend = H; // no headers at all
      else {
        const at = find(b, H, H + K, B_CRLFCRLF, 0, 4);
        if (at < 0) return K === r.size - H ? -1 : 0; // part headers must fit in the buffer
        hend = at + 2;
      }
      part_headers(st, b, H, hend);
      mg_iobuf_del(r, H, hend - H + 2);
      st.kept -= hend - H + 2;
      st.mp = MP_DATA;
      st.in_part = true;
      part_event(c, st, hm, MG_EV_HTTP_PART_BEGIN, 0);
      continue;
    }
    if (st.mp === MP_DATA) {
      const at = find(b, H, H + K, d, 0, dl);
      const avail = at >= 0 ? at - H : K - (dl - 1);
      if (avail > 0) {
        mg_str_set(p.data, b, H, avail);
        p.num_data_consumed = avail;
        part_event(c, st, hm, MG_EV_HTTP_PART_DATA, 0);
        if (c.is_closing) return 0;
        let used = p.num_data_consumed;
        if (!(used >= 0)) used = 0;
        if (used > avail) used = avail;
        mg_iobuf_del(r, H, used);
        st.kept -= used;
        p.data.len = 0;
        if (used < avail) {
          st.mp_held = true; // back-pressure: offered again at the next poll
          return 0;
        }
      }
      if (at < 0) return 0;
      mg_iobuf_del(r, H, dl);
      st.kept -= dl;
      st.in_part = false;
      part_event(c, st, hm, MG_EV_HTTP_PART_END, 0);
      st.mp = MP_AFTER_DELIM;
      continue;
    }
    // MP_DONE: the epilogue is dropped
    mg_iobuf_del(r, H, K);
    st.kept = 0;
    return 0;
  }
}
const B_CRLFCRLF = ascii("\r\n\r\n");

/** Copies name= and filename= of Content-Disposition into st.names; the part's views point there. */
function part_headers(st: HttpConn, b: Uint8Array, from: number, to: number): void {
  const p = st.part;
  const names = st.names!;
  mg_str_set(p.var_name, names, 0, 0);
  mg_str_set(p.file_name, names, 128, 0);
  let i = from;
  while (i < to) {
    let eol = i;
    while (eol < to && b[eol] !== 13) eol++;
    let k = i;
    while (k < eol && b[k] !== 58) k++;
    if (k < eol && eq_lc(b, i, k - i, LC_CONTENT_DISPOSITION)) {
      // the views point into recv, which moves on: copy the names out
      const v = p.data; // free until PART_DATA
      if (header_var(b, k + 1, eol, "name", v)) {
        p.var_name.len = v.len < 128 ? v.len : 128;
        mg_copy(names, 0, v.buf, v.ofs, p.var_name.len);
      }
      if (header_var(b, k + 1, eol, "filename", v)) {
        p.file_name.len = v.len < 128 ? v.len : 128;
        mg_copy(names, 128, v.buf, v.ofs, p.file_name.len);
      }
      v.len = 0;
    }
    i = eol + 2;
  }
}

export function cancel_parts(c: mg_connection, st: HttpConn, hm: mg_http_message, status: number): void {
  if (st.mp === MP_DONE) return;
  if (st.in_part) {
    st.in_part = false;
    part_event(c, st, hm, MG_EV_HTTP_PART_END, status);
  }
  st.mp = MP_DONE;
  st.part.var_name.len = st.part.file_name.len = 0;
  part_event(c, st, hm, MG_EV_HTTP_MULTIPART_REQUEST_END, status);
}

// --- buffered (7.x) -----------------------------------------------------------------

export class mg_http_part {
  name = mg_str();
  filename = mg_str();
  body = mg_str();
}

/**
 * Walks a fully buffered multipart body: fills part (views into body) and
 * returns the offset of the next part, or 0 when there are no more. For
 * bodies larger than the buffer use mg_http_stream_body(c, true) instead.
 */
export function mg_http_next_multipart(body: mg_str, ofs: number, part: mg_http_part | null): number {
  const b = body.buf;
  const end = body.ofs + body.len;
  let i = body.ofs + ofs;
  // the boundary is the first line of the body
  let bl = 0;
  while (body.ofs + bl < end && b[body.ofs + bl] !== 13) bl++;
  if (bl < 3 || b[body.ofs] !== 45 || b[body.ofs + 1] !== 45) return 0;
  if (i + bl + 2 > end || find(b, i, i + bl, b, body.ofs, bl) !== i) return 0;
  i += bl;
  if (b[i] !== 13 || b[i + 1] !== 10) return 0; // "--" closes the body
  i += 2;
  const hend = find(b, i, end, B_CRLFCRLF, 0, 4);
  if (hend < 0 && !(b[i] === 13 && b[i + 1] === 10)) return 0;
  const data_start = b[i] === 13 && b[i + 1] === 10 ? i + 2 : hend + 4;
  if (part !== null) {
    mg_str_set(part.name, b, i, 0);
    mg_str_set(part.filename, b, i, 0);
  }
  let k = i;
  while (k < data_start - 2) {
    let eol = k;
    while (eol < end && b[eol] !== 13) eol++;
    let colon = k;
    while (colon < eol && b[colon] !== 58) colon++;
    if (part !== null && colon < eol && eq_lc(b, k, colon - k, LC_CONTENT_DISPOSITION)) {
      header_var(b, colon + 1, eol, "name", part.name);
      header_var(b, colon + 1, eol, "filename", part.filename);
    }
    k = eol + 2;
  }
  // data ends at CRLF + boundary
  let j = data_start;
  for (; j + 2 + bl <= end; j++) {
    if (b[j] === 13 && b[j + 1] === 10 && find(b, j + 2, j + 2 + bl, b, body.ofs, bl) === j + 2) break;
  }
  if (j + 2 + bl > end) return 0;
  if (part !== null) mg_str_set(part.body, b, data_start, j - data_start);
  return j + 2 - body.ofs;
}
