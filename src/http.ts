// HTTP/1.1 server and client (Mongoose's http.c), in fixed buffers: the
// connection state machine, listen/connect, and mg_hello. This file is the
// HTTP API: it re-exports the rest, so users import everything from here
// (and a build with MG_ENABLE_HTTP false drops all of it with this file).
//
// Where a byte is parsed, file by file:
// - http_parse.ts: mg_http_get_request_len finds the end of the head,
//   mg_http_parse splits it; headers, header variables, query variables.
// - http.ts (here): http_process takes heads off c.recv, begin_message
//   decides what the body is for, body_step takes body bytes (Content-Length,
//   until close, or through the chunked decoder) and hands them on.
// - http_chunked.ts: chunk_step removes chunked framing in place.
// - http_multipart.ts: multipart_step splits multipart bodies into parts.
// - http_reply.ts writes replies and chunks; http_serve.ts serves files and
//   takes uploads; http_conn.ts holds the per-connection state they share.
// Everything happens in c.recv; nothing is copied out.
//
// Bodies larger than MG_IO_SIZE are the normal case on a device. A handler
// streams them by calling mg_http_stream_body(c) on MG_EV_HTTP_HDRS; a body
// nobody streams and that does not fit gets 413 and is never delivered
// truncated. Connections switched with mg_set_protocol_http_websocket get
// Mongoose 6.x's events instead (MG_EV_HTTP_REQUEST, MG_EV_HTTP_CHUNK,
// MG_EV_HTTP_PART_*), without 6.x's bugs.
import {
  MG_ENABLE_EVICT,
  MG_ENABLE_WS,
  MG_EVICT_MIN_AGE_MS,
  MG_HTTP_ALLOW_BARE_LF,
  MG_HTTP_HEAD_TIMEOUT_MS,
  MG_HTTP_MIN_RATE,
  MG_HTTP_RATE_WINDOW_MS,
} from "./config.js";
import { mg_iobuf_add, mg_iobuf_del } from "./iobuf.js";
import { MG_DEBUG, mg_log_set } from "./log.js";
import { mg_json_get_long } from "./json.js";
import type { mg_hal } from "../hal/hal.js";
import {
  EVICT_DEFAULT,
  EVICT_NO,
  EVICT_YES,
  MG_EV_CLOSE,
  MG_EV_CONNECT,
  MG_EV_HTTP_HDRS,
  MG_EV_HTTP_MSG,
  MG_EV_POLL,
  MG_EV_READ,
  MG_EV_WRITE,
  mg_call_user,
  mg_connect_svc,
  mg_connection,
  mg_error,
  mg_evict_info,
  mg_printf,
  mg_event_handler_t,
  mg_listen,
  mg_mgr,
  mg_mgr_free,
  mg_mgr_init,
  mg_mgr_kick,
  mg_mgr_run,
  mg_mgr_stop,
} from "./net.js";
import { mg_str_set } from "./str.js";
import {
  LC_100_CONTINUE,
  LC_CLOSE,
  LC_CONNECTION,
  LC_CONTENT_TYPE,
  LC_EXPECT,
  LC_HEAD,
  LC_KEEP_ALIVE,
  LC_MULTIPART,
  MG_HTTP_TOO_MANY_HEADERS,
  ascii,
  eq_lc,
  has_token,
  header_lc,
  mg_http_get_header,
  mg_http_message,
  mg_http_parse,
  str_eq_lc,
} from "./http_parse.js";
import {
  BODY_CHUNKED,
  BODY_LENGTH,
  BODY_NONE,
  BODY_UNTIL_CLOSE,
  HttpConn,
  MG_EV_HTTP_CHUNK,
  MG_EV_HTTP_MULTIPART_REQUEST,
  MG_EV_HTTP_REPLY,
  MG_EV_HTTP_REQUEST,
  MG_EV_HTTP_REQUEST_CANCEL,
  MG_F_DELETE_CHUNK,
  MP_DONE,
  MP_PREAMBLE,
  PH_BODY,
  PH_DEAD,
  PH_DISCARD,
  PH_HEAD,
  ST_6X,
  ST_BUFFER,
  ST_DROP,
  ST_PARTS,
  ST_PIECES,
  ST_SINK,
  http_init,
} from "./http_conn.js";
import { CK_SIZE, chunk_step } from "./http_chunked.js";
import { cancel_parts, multipart_setup, multipart_step } from "./http_multipart.js";
import { mg_http_reply, mg_http_status_reason } from "./http_reply.js";
import { serve_close, serve_pump } from "./http_serve.js";

// The public API of the other http_* files, exactly what http.ts exported
// before they were split from it (their other exports stay internal).
export {
  MG_HTTP_TOO_MANY_HEADERS,
  mg_http_header,
  mg_http_message,
  type http_message,
  mg_http_get_request_len,
  mg_http_parse,
  mg_http_status,
  mg_http_get_header,
  mg_http_get_header_var,
  mg_http_var,
  mg_http_get_var,
  mg_http_get_var_str,
  mg_http_creds_t,
  mg_http_creds,
} from "./http_parse.js";
export {
  MG_EV_HTTP_REQUEST,
  MG_EV_HTTP_REPLY,
  MG_EV_HTTP_CHUNK,
  MG_EV_WEBSOCKET_HANDSHAKE_REQUEST,
  MG_EV_WEBSOCKET_HANDSHAKE_DONE,
  MG_EV_WEBSOCKET_FRAME,
  MG_EV_WEBSOCKET_CONTROL_FRAME,
  MG_EV_HTTP_MULTIPART_REQUEST,
  MG_EV_HTTP_PART_BEGIN,
  MG_EV_HTTP_PART_DATA,
  MG_EV_HTTP_PART_END,
  MG_EV_HTTP_MULTIPART_REQUEST_END,
  MG_EV_HTTP_REQUEST_END,
  MG_EV_HTTP_REQUEST_CANCEL,
  MG_F_PROTO_1,
  MG_F_PROTO_2,
  MG_F_DELETE_CHUNK,
  MG_F_WEBSOCKET_NO_DEFRAG,
  mg_http_multipart_part,
  HttpConn,
  http_init,
} from "./http_conn.js";
export { mg_http_part, mg_http_next_multipart } from "./http_multipart.js";
export { mg_http_status_reason, mg_http_reply, mg_http_write_chunk, mg_http_printf_chunk, mg_http_bauth } from "./http_reply.js";
export {
  mg_http_serve_opts,
  mg_fs_default,
  mg_http_mime_type,
  mg_path_is_sane_str,
  mg_http_serve_dir,
  mg_http_serve_file,
  mg_http_upload,
} from "./http_serve.js";

// --- the protocol handler ------------------------------------------------------

const DISCARD_MAX = 1 << 20; // a refused body up to this size is read and dropped, so the client sees the reply

const HTTP_6X = Object.freeze({ mode: "6.x" }); // pfn_data marking connections in 6.x mode (copied to accepted ones)

/** Creates an HTTP listener. Requests arrive as MG_EV_HTTP_HDRS and MG_EV_HTTP_MSG. */
export function mg_http_listen(mgr: mg_mgr, url: string, fn: mg_event_handler_t | null, fn_data: any): mg_connection | null {
  http_init(mgr);
  if (MG_ENABLE_EVICT) mgr.evict_fn = http_evict_info;
  const c = mg_listen(mgr, url, fn, fn_data);
  if (c !== null) c.pfn = http_cb;
  return c;
}

/**
 * Creates an HTTP client connection. Write the request on MG_EV_CONNECT;
 * the response arrives as MG_EV_HTTP_HDRS and MG_EV_HTTP_MSG (chunked
 * responses decoded; without a length, read until the server closes). Set a
 * timeout with mg_set_timeout(c, ms).
 */
export function mg_http_connect(mgr: mg_mgr, url: string, fn: mg_event_handler_t | null, fn_data: any): mg_connection | null {
  http_init(mgr);
  return mg_connect_svc(mgr, url, fn, fn_data, http_cb, null);
}

/**
 * Switches a listener or a client connection to Mongoose 6.x's events:
 * MG_EV_HTTP_REQUEST / MG_EV_HTTP_REPLY, MG_EV_HTTP_CHUNK with
 * MG_F_DELETE_CHUNK, the multipart part events, and the 6.x WebSocket events.
 */
export function mg_set_protocol_http_websocket(c: mg_connection): void {
  http_init(c.mgr);
  if (MG_ENABLE_EVICT) c.mgr.evict_fn = http_evict_info;
  c.pfn = http_cb;
  c.pfn_data = HTTP_6X;
  const st = c.proto as HttpConn;
  if (!c.is_listening) st.reset(true);
}

/**
 * During MG_EV_HTTP_HDRS: take this message's body in pieces instead of
 * whole. Each piece arrives as MG_EV_HTTP_CHUNK (hm.chunk, also hm.body; the
 * head stays valid), decoded from chunked transfer encoding if need be, and
 * is dropped after the handler returns unless it lowers hm.chunk_consumed.
 * MG_EV_HTTP_MSG follows the last piece, with an empty body: reply there.
 * With parts = true a multipart body arrives as MG_EV_HTTP_PART_BEGIN /
 * _DATA / _END events instead (mg_http_multipart_part), then
 * MG_EV_HTTP_MULTIPART_REQUEST_END, then MG_EV_HTTP_MSG.
 * If the peer goes away first, MG_EV_HTTP_REQUEST_CANCEL fires.
 * Returns false (and changes nothing) outside MG_EV_HTTP_HDRS.
 */
export function mg_http_stream_body(c: mg_connection, parts = false): boolean {
  const st = c.proto as HttpConn | null;
  if (st === null || !st.in_hdrs) return false;
  st.stream = parts ? ST_PARTS : ST_PIECES;
  return true;
}

export function http_cb(c: mg_connection, ev: number, ev_data: any): void {
  const st = c.proto as HttpConn;
  if (ev === MG_EV_READ || ev === MG_EV_POLL || ev === MG_EV_WRITE) {
    if (ev === MG_EV_READ) st.rate_n += ev_data as number;
    else if (ev === MG_EV_WRITE) st.written += ev_data as number;
    if (st.file !== null && (ev !== MG_EV_READ)) serve_pump(c, st);
    if (ev === MG_EV_POLL && c.is_accepted && server_limits(c, st, ev_data as number)) return;
    if (ev !== MG_EV_POLL || c.recv.len > 0 || st.close_after) http_process(c, st);
  } else if (ev === MG_EV_CLOSE) {
    http_closed(c, st);
  } else if (ev === 1 /* MG_EV_OPEN */) {
    if (!c.is_listening) st.reset(c.pfn_data === HTTP_6X);
  } else if (ev === MG_EV_CONNECT) {
    // nothing: the user writes the request
  }
}

function http_process(c: mg_connection, st: HttpConn): void {
  const r = c.recv;
  const hm = c.mgr.proto as mg_http_message;
  for (let guard = 0; guard < 100; guard++) {
    if (c.is_closing || c.pfn !== http_cb) return;
    if (st.phase === PH_DEAD) {
      r.len = 0;
      return;
    }
    if (st.phase === PH_DISCARD) {
      const n = r.len < st.discard_left ? r.len : st.discard_left;
      mg_iobuf_del(r, 0, n);
      st.discard_left -= n;
      if (st.discard_left === 0) {
        st.phase = PH_DEAD;
        c.is_draining = true;
      }
      return;
    }
    if (st.phase === PH_HEAD) {
      if (c.is_draining) {
        // the handler asked to close (mg_hello's /quit...): what follows is not answered
        st.phase = PH_DEAD;
        r.len = 0;
        return;
      }
      if (st.close_after) {
        // "Connection: close" or HTTP/1.0: once the reply is out, close; ignore what follows
        if (!c.is_resp && st.file === null) {
          st.phase = PH_DEAD;
          r.len = 0;
          c.is_draining = true;
        }
        return;
      }
      if (c.is_accepted && (c.is_resp || st.file !== null || c.send.len > 0)) {
        // Pipelined: the previous reply first, and all of it sent, so that
        // the next one has the whole send buffer (a reply that fits an idle
        // connection fits here too, and answers stay in request order).
        // MG_EV_WRITE brings us back when the buffer is empty. A full recv
        // would make the core ask for a poll at once, again and again: stop
        // reading instead.
        if (r.len === r.size && !c.is_full) {
          c.is_full = true;
          st.held_full = true;
        }
        return;
      }
      if (st.held_full) {
        c.is_full = false;
        st.held_full = false;
      }
      // RFC 9112 §2.2: empty lines (CRLF) before a request line are ignored
      let skip = 0;
      for (;;) {
        if (r.buf[skip] === 13 && skip + 1 < r.len && r.buf[skip + 1] === 10) skip += 2;
        else if (MG_HTTP_ALLOW_BARE_LF && r.buf[skip] === 10 && skip < r.len) skip++;
        else break;
      }
      if (skip > 0) mg_iobuf_del(r, 0, skip);
      if (r.len === 0 || (r.len === 1 && r.buf[0] === 13)) return; // nothing, or a CR whose LF is on its way
      const n = mg_http_parse(r.buf, r.len, hm);
      hm.owner = c;
      if (n === 0) {
        if (r.len === r.size) fail(c, st, 431, "request head larger than MG_IO_SIZE");
        return;
      }
      if (n === MG_HTTP_TOO_MANY_HEADERS) return fail(c, st, 431, "more headers than MG_MAX_HTTP_HEADERS");
      if (n < 0) return fail(c, st, 400, "malformed HTTP head");
      if ((hm.resp_code !== 0) !== c.is_client) return fail(c, st, 400, c.is_client ? "not a response" : "not a request");
      // RFC 9110 §6.2: another major version (HTTP/2's "PRI * HTTP/2.0" preface,
      // HTTP/3.0) is not HTTP/1.x and must not be answered as if it were
      if (!c.is_client && hm.proto.buf[hm.proto.ofs + 5] !== 49) return fail(c, st, 505, "HTTP major version not 1");
      if (c.is_client && hm.resp_code < 200 && hm.resp_code !== 101) {
        mg_iobuf_del(r, 0, n); // 100 Continue and other interim responses
        continue;
      }
      if (!begin_message(c, st, hm, n)) return;
    }
    if (st.phase === PH_BODY) {
      if (!body_step(c, st, hm)) return;
    }
  }
}

/**
 * What a server connection may cost, checked on every MG_EV_POLL; true when
 * it was ended. Notes when the connection became ready for a request head
 * (head_t0: accepted, or the previous reply sent), then:
 * - the head timeout (MG_HTTP_HEAD_TIMEOUT_MS): 408 to a client that started
 *   a head and is too slow to finish it, a quiet close to an idle one;
 * - the minimum rate (MG_HTTP_MIN_RATE over MG_HTTP_RATE_WINDOW_MS): a head
 *   or body still arriving must bring that many bytes per second, or 408.
 *   Only while the server waits for the client: not while a reply is
 *   pending, nor while recv is full (the handler holds the body back).
 */
function server_limits(c: mg_connection, st: HttpConn, now: number): boolean {
  const ready = st.phase === PH_HEAD && !c.is_resp && st.file === null && c.send.len === 0;
  if (ready && st.head_t0 === 0) st.head_t0 = now;
  if (MG_HTTP_HEAD_TIMEOUT_MS > 0 && ready && now - st.head_t0 > MG_HTTP_HEAD_TIMEOUT_MS) {
    if (c.recv.len > 0) fail(c, st, 408, "request head too slow");
    else c.is_draining = true;
    return true;
  }
  if (MG_HTTP_MIN_RATE <= 0) return false;
  const arriving = ready
    ? c.recv.len > 0
    : (st.phase === PH_BODY || st.phase === PH_DISCARD) && !st.complete && !c.is_full && c.recv.len < c.recv.size;
  if (!arriving) {
    st.rate_t0 = 0;
    return false;
  }
  if (st.rate_t0 === 0) {
    st.rate_t0 = now;
    st.rate_n = 0;
    return false;
  }
  const span = now - st.rate_t0;
  if (span < MG_HTTP_RATE_WINDOW_MS) return false;
  if (st.rate_n * 1000 >= MG_HTTP_MIN_RATE * span) {
    st.rate_t0 = now;
    st.rate_n = 0;
    return false;
  }
  if (st.phase === PH_DISCARD) c.is_closing = true; // its answer is out already
  else fail(c, st, 408, ready ? "request head below MG_HTTP_MIN_RATE" : "request body below MG_HTTP_MIN_RATE");
  return true;
}

/**
 * The pool's question (mg_evict_info in net.ts), answered for HTTP server
 * connections: may this one give its slot to a new connection, and how much
 * has it done? An incomplete head or body counts its bytes since the head
 * began; an idle keep-alive counts none; a body arriving at MG_HTTP_MIN_RATE
 * or more in its current window is moving (a last resort); a connection
 * the server is answering (a reply pending or being sent) is never evicted.
 */
function http_evict_info(c: mg_connection, now: number, out: mg_evict_info): number {
  if (c.pfn !== http_cb || c.is_client) return EVICT_DEFAULT;
  const st = c.proto as HttpConn;
  if (st.file !== null || c.send.len > 0) return EVICT_NO;
  out.min_age = MG_EVICT_MIN_AGE_MS;
  if (st.phase === PH_HEAD) {
    if (c.is_resp) return EVICT_NO; // the handler owes it an answer
    out.age = st.head_t0 === 0 ? 0 : now - st.head_t0;
    out.bytes = c.recv.len;
    return EVICT_YES;
  }
  if (st.phase === PH_BODY) {
    if (st.complete || c.is_full || c.recv.len === c.recv.size) return EVICT_NO; // not waiting for the client
    out.age = now - st.msg_t0;
    out.bytes = st.head_len + st.total;
    // moving: the current rate window (server_limits) already shows MG_HTTP_MIN_RATE
    const span = now - st.rate_t0;
    out.moving = st.rate_t0 > 0 && span >= MG_EVICT_MIN_AGE_MS && st.rate_n * 1000 >= MG_HTTP_MIN_RATE * span;
    return EVICT_YES;
  }
  // PH_DISCARD, PH_DEAD: answered, on the way out
  out.age = now - c.last_io;
  out.bytes = 0;
  return EVICT_YES;
}

function begin_message(c: mg_connection, st: HttpConn, hm: mg_http_message, n: number): boolean {
  const r = c.recv;
  st.msg_t0 = st.head_t0 !== 0 ? st.head_t0 : c.mgr.hal!.millis();
  st.head_t0 = 0;
  st.rate_t0 = 0;
  st.head_len = n;
  st.kept = 0;
  st.total = 0;
  st.complete = false;
  st.eof = false;
  st.ck = CK_SIZE;
  st.ck_size = st.ck_digits = 0;
  st.kind = hm.chunked ? BODY_CHUNKED : hm.body_len < 0 ? BODY_UNTIL_CLOSE : hm.body_len > 0 ? BODY_LENGTH : BODY_NONE;
  st.left = hm.body_len;
  const server = !c.is_client;
  st.is_head_req = server && str_eq_lc(hm.method, LC_HEAD);
  if (server) {
    const conn = header_lc(hm, LC_CONNECTION);
    const v10 = hm.proto.len === 8 && hm.proto.buf[hm.proto.ofs + 7] === 48 && hm.proto.buf[hm.proto.ofs + 5] === 49;
    st.close_after = conn !== null ? has_token(conn, LC_CLOSE) || (v10 && !has_token(conn, LC_KEEP_ALIVE)) : v10;
    // 6.x had no is_resp: its users reply with mg_printf, and pipelined
    // requests must not wait for a flag nobody clears
    c.is_resp = !st.mode6;
  }
  const ct = header_lc(hm, LC_CONTENT_TYPE);
  const multipart = ct !== null && ct.len >= 10 && eq_lc(ct.buf, ct.ofs, 10, LC_MULTIPART);
  const expect = server ? header_lc(hm, LC_EXPECT) : null;
  // Refusals that need no handler come before MG_EV_HTTP_HDRS, so that no
  // head the handler writes there can precede them.
  if (expect !== null && !str_eq_lc(expect, LC_100_CONTINUE)) {
    fail(c, st, 417, "unsupported Expect");
    return false;
  }
  const waits_100 = expect !== null && st.kind !== BODY_NONE && r.len === n; // the client holds its body back
  const send_mark = c.send.len;
  st.out_mark = st.written + send_mark; // more than this queued later: this message's response began
  st.stream = ST_BUFFER;
  if (st.mode6) {
    st.stream = multipart && server && st.kind !== BODY_NONE ? ST_PARTS : ST_6X;
    if (MG_ENABLE_WS && server && ws6_hook.fn !== null && mg_http_get_header(hm, "Sec-WebSocket-Key") !== null) {
      st.phase = PH_BODY;
      ws6_hook.fn(c, hm, n);
      return false;
    }
    if (st.stream === ST_PARTS) {
      st.mp = MP_PREAMBLE; // announced: from here on fail() owes the handler its END
      mg_call_user(c, MG_EV_HTTP_MULTIPART_REQUEST, hm);
    }
  } else {
    const before = r.len;
    st.in_hdrs = true;
    mg_call_user(c, MG_EV_HTTP_HDRS, hm);
    st.in_hdrs = false;
    if (r.len !== before && c.pfn === http_cb) {
      c.pfn = null; // Mongoose's pattern: the handler took the bytes, HTTP steps aside
      return false;
    }
    if (server && !c.is_resp && st.stream === ST_BUFFER && !c.is_websocket) {
      // answered on HDRS (a refused upload, a redirect): the message is done,
      // its body is not wanted; dropping it keeps the connection for the next
      st.stream = ST_DROP;
      // a client waiting for 100 Continue may never send the body, and a
      // handler that set is_draining wants no body read (a refused upload,
      // a 401 to a client not logged in): close instead
      if (c.is_draining || waits_100 || (st.kind === BODY_LENGTH && st.left > DISCARD_MAX)) {
        st.phase = PH_DEAD;
        r.len = 0;
        c.is_draining = true;
        return false;
      }
    }
  }
  if (c.is_closing || c.pfn !== http_cb || c.is_websocket) return false;
  if (st.stream === ST_PARTS) {
    if (!multipart || st.kind === BODY_NONE) {
      st.stream = ST_PIECES;
    } else if (!multipart_setup(st, ct!)) {
      fail(c, st, 400, "multipart without a usable boundary");
      return false;
    } else {
      st.part.user_data = null;
    }
  }
  if (st.stream === ST_BUFFER && st.kind === BODY_LENGTH && n + st.left > r.size) {
    fail(c, st, 413, "body larger than MG_IO_SIZE and not streamed");
    return false;
  }
  if (waits_100) {
    // before what the handler wrote on HDRS (the head of a streamed reply)
    if (mg_iobuf_add(c.send, send_mark, B_100_CONTINUE, 0, B_100_CONTINUE.length) > 0) {
      st.out_mark += B_100_CONTINUE.length; // interim: a final status may still follow it
      mg_mgr_kick(c.mgr);
    }
  }
  st.phase = PH_BODY;
  return true;
}
const B_100_CONTINUE = ascii("HTTP/1.1 100 Continue\r\n\r\n");

/** Re-points hm at the head kept at the front of recv (hm is shared by the manager's connections). */
function reparse(c: mg_connection, st: HttpConn, hm: mg_http_message): void {
  // still this connection's head, as parsed (and checked) in http_process: a second parse would only repeat it
  const h = hm.head;
  if (hm.owner !== c || h.buf !== c.recv.buf || h.ofs !== 0 || h.len !== st.head_len) {
    mg_http_parse(c.recv.buf, st.head_len, hm);
    hm.owner = c;
  }
  mg_str_set(hm.body, c.recv.buf, st.head_len, st.kept);
  mg_str_set(hm.chunk, c.recv.buf, st.head_len, 0);
  mg_str_set(hm.message, c.recv.buf, 0, st.head_len + st.kept);
}

/**
 * Takes the body bytes that arrived into the kept region (decoding chunked
 * framing in place), then hands them on as the stream mode says. Returns true
 * when the message is finished and the next one may be parsed.
 */
function body_step(c: mg_connection, st: HttpConn, hm: mg_http_message): boolean {
  const r = c.recv;
  const base = st.head_len + st.kept;
  let fresh = 0;
  if (st.kind === BODY_LENGTH) {
    const avail = r.len - base;
    fresh = avail < st.left ? avail : st.left;
    st.left -= fresh;
    st.complete = st.left === 0;
  } else if (st.kind === BODY_NONE) {
    st.complete = true;
  } else if (st.kind === BODY_UNTIL_CLOSE) {
    fresh = r.len - base;
    st.complete = st.eof;
  } else {
    fresh = chunk_step(st, r.buf, base, r);
    if (fresh < 0) {
      fail(c, st, 400, "bad chunked encoding");
      return false;
    }
  }
  st.kept += fresh;
  st.total += fresh;

  switch (st.stream) {
    case ST_BUFFER:
      if (st.complete) return finish(c, st, hm, MG_EV_HTTP_MSG);
      if (r.len === r.size) fail(c, st, 413, "body larger than MG_IO_SIZE and not streamed");
      return false;
    case ST_6X: {
      if (fresh > 0) {
        reparse(c, st, hm);
        mg_str_set(hm.chunk, r.buf, st.head_len + st.kept - fresh, fresh);
        c.flags &= ~MG_F_DELETE_CHUNK;
        mg_call_user(c, MG_EV_HTTP_CHUNK, hm);
        if (c.is_closing) return false;
        if (c.flags & MG_F_DELETE_CHUNK) {
          mg_iobuf_del(r, st.head_len, st.kept);
          st.kept = 0;
          c.flags &= ~MG_F_DELETE_CHUNK;
        }
      }
      if (st.complete) return finish(c, st, hm, c.is_client ? MG_EV_HTTP_REPLY : MG_EV_HTTP_REQUEST);
      if (r.len === r.size) fail(c, st, 413, "body larger than MG_IO_SIZE: set MG_F_DELETE_CHUNK");
      return false;
    }
    case ST_PIECES:
      if (st.kept > 0) {
        reparse(c, st, hm);
        mg_str_set(hm.chunk, r.buf, st.head_len, st.kept);
        hm.chunk_consumed = st.kept;
        mg_call_user(c, MG_EV_HTTP_CHUNK, hm);
        if (c.is_closing) return false;
        let used = hm.chunk_consumed;
        if (!(used >= 0)) used = 0;
        if (used > st.kept) used = st.kept;
        mg_iobuf_del(r, st.head_len, used);
        st.kept -= used;
      }
      if (st.complete && st.kept === 0) return finish(c, st, hm, MG_EV_HTTP_MSG);
      return false;
    case ST_DROP:
      mg_iobuf_del(r, st.head_len, st.kept);
      st.kept = 0;
      if (!st.complete) {
        if (st.total > DISCARD_MAX) {
          // a chunked body too long to drop for the sake of keep-alive
          st.phase = PH_DEAD;
          r.len = 0;
          c.is_draining = true;
        }
        return false;
      }
      mg_iobuf_del(r, 0, st.head_len);
      end_message(st);
      return true;
    case ST_SINK:
      if (st.kept > 0) {
        if (!st.sink!.write(c, r.buf, st.head_len, st.kept)) {
          // the sink answered (413 over max size, 500 write failed): close after it
          st.sink!.done(c, false);
          st.sink = null;
          st.phase = PH_DEAD;
          r.len = 0;
          c.is_draining = true;
          return false;
        }
        mg_iobuf_del(r, st.head_len, st.kept);
        st.kept = 0;
      }
      if (st.complete) {
        const sink = st.sink!;
        st.sink = null;
        mg_iobuf_del(r, 0, st.head_len);
        end_message(st);
        sink.done(c, true);
        return true;
      }
      return false;
    default: {
      // ST_PARTS
      const res = multipart_step(c, st, hm);
      if (res < 0) {
        cancel_parts(c, st, hm, -1);
        fail(c, st, 400, "malformed multipart body");
        return false;
      }
      if (c.is_closing) return false;
      if (st.mp === MP_DONE && st.complete) {
        mg_iobuf_del(r, st.head_len, st.kept);
        st.kept = 0;
        if (st.mode6) {
          mg_iobuf_del(r, 0, st.head_len);
          end_message(st);
          return true;
        }
        return finish(c, st, hm, MG_EV_HTTP_MSG);
      }
      if (st.complete && st.mp !== MP_DONE && !st.mp_held) {
        cancel_parts(c, st, hm, -1);
        fail(c, st, 400, "multipart body ended before its closing boundary");
      }
      return false;
    }
  }
}

/** Delivers the finished message, then removes it from recv (pipelined bytes move up). */
function finish(c: mg_connection, st: HttpConn, hm: mg_http_message, ev: number): boolean {
  reparse(c, st, hm);
  const len = st.head_len + st.kept;
  if (ev === MG_EV_HTTP_MSG) mg_call_user(c, ev, hm);
  else mg_call_user(c, ev, hm);
  if (c.is_websocket || c.pfn !== http_cb) {
    // upgraded or detached during the event: the message is consumed, the rest is the new protocol's
    if (c.recv.len >= len) mg_iobuf_del(c.recv, 0, len);
    end_message(st);
    return false;
  }
  mg_iobuf_del(c.recv, 0, len);
  end_message(st);
  return true;
}

/** The message is over (its bytes already removed from recv): the next head may come. */
function end_message(st: HttpConn): void {
  st.phase = PH_HEAD;
  st.head_len = st.kept = 0;
  st.out_mark = -1;
}

/**
 * Answers a bad request with its status (400, 413, 417, 431) and closes after
 * the reply; a client connection gets MG_EV_ERROR instead. A body that was
 * refused is read and dropped first (up to 1 MB), so the client is not reset
 * before it reads the answer.
 */
function fail(c: mg_connection, st: HttpConn, code: number, why: string): void {
  MG_DEBUG("%lu HTTP %d: %s", c.id, code, why);
  if (c.is_client) {
    st.phase = PH_DEAD;
    mg_error(c, "HTTP: %s", why);
    return;
  }
  // A 6.x handler told of a multipart request (MG_EV_HTTP_MULTIPART_REQUEST)
  // gets its MULTIPART_REQUEST_END, with a negative status, whatever failed
  // (no usable boundary, bad chunked framing): else a file it opened stays open.
  if (st.mode6 && st.stream === ST_PARTS) cancel_parts(c, st, c.mgr.proto as mg_http_message, -1);
  // A body being streamed is abandoned as when the peer goes away: the
  // upload sink is closed, the handler gets MG_EV_HTTP_REQUEST_CANCEL.
  if (st.phase === PH_BODY) abandon(c, st);
  const r = c.recv;
  if (st.out_mark >= 0 && st.written + c.send.len > st.out_mark) {
    // The handler's response to this request has begun (a head written on
    // MG_EV_HTTP_HDRS, chunks sent back): a second status line would land
    // inside it. Let what is queued go, then close: the client sees the
    // response cut short.
    MG_DEBUG("%lu HTTP %d after the response began: closing instead", c.id, code);
    r.len = 0;
    c.is_resp = false;
    st.close_after = true;
    st.phase = PH_DEAD;
    c.is_draining = true;
    return;
  }
  st.discard_left = 0;
  if (code === 413 && st.phase === PH_HEAD && st.kind === BODY_LENGTH && st.left <= DISCARD_MAX) {
    st.discard_left = st.left - (r.len - st.head_len);
  }
  r.len = 0;
  const reason = mg_http_status_reason(code);
  mg_printf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n", code, reason, reason.length + 1, reason);
  c.is_resp = false;
  st.close_after = true;
  if (st.discard_left > 0) st.phase = PH_DISCARD;
  else {
    st.phase = PH_DEAD;
    c.is_draining = true;
  }
}

function http_closed(c: mg_connection, st: HttpConn): void {
  if (st.file !== null) serve_close(st);
  if (st.phase !== PH_BODY) return;
  const hm = c.mgr.proto as mg_http_message;
  if (st.kind === BODY_UNTIL_CLOSE && (st.stream === ST_BUFFER || st.stream === ST_6X || st.stream === ST_PIECES)) {
    // a response without a length ends here: that is its end, not a cut
    st.eof = true;
    st.complete = true;
    if (st.stream === ST_PIECES && st.kept > 0) {
      reparse(c, st, hm);
      mg_str_set(hm.chunk, c.recv.buf, st.head_len, st.kept);
      hm.chunk_consumed = st.kept;
      mg_call_user(c, MG_EV_HTTP_CHUNK, hm);
      st.kept = 0;
    }
    if (st.stream === ST_6X) {
      reparse(c, st, hm);
      mg_call_user(c, MG_EV_HTTP_REPLY, hm);
    } else finish(c, st, hm, MG_EV_HTTP_MSG);
    return;
  }
  // the body was cut short: never delivered as if complete
  abandon(c, st);
  st.phase = PH_DEAD;
}

/** A body that will not be completed: the upload sink is told, a streaming handler gets MG_EV_HTTP_REQUEST_CANCEL. */
function abandon(c: mg_connection, st: HttpConn): void {
  const hm = c.mgr.proto as mg_http_message;
  if (st.sink !== null) {
    const sink = st.sink;
    st.sink = null;
    sink.done(c, false);
  }
  if (st.stream === ST_PARTS) cancel_parts(c, st, hm, -1);
  if (st.stream !== ST_BUFFER) {
    reparse(c, st, hm);
    mg_call_user(c, MG_EV_HTTP_REQUEST_CANCEL, hm);
  }
}

/** Hooks filled by src/ws.ts when it loads, then frozen (kept apart so a build without WebSocket drops them). */
export const ws6_hook: { fn: ((c: mg_connection, hm: mg_http_message, head_len: number) => void) | null } = { fn: null };

// --- mg_hello ----------------------------------------------------------------------

const B_QUIT = ascii("/quit");
const B_DEBUG = ascii("/debug");

/** The mg_hello handler, exported so apps can mount the same routes. */
export function mg_hello_handler(c: mg_connection, ev: number, hm: any): void {
  if (ev !== MG_EV_HTTP_MSG) return;
  const m = hm as mg_http_message;
  if (str_eq_lc(m.uri, B_QUIT)) {
    mg_http_reply(c, 200, "", "ok\n");
    c.is_draining = true;
    c.label = "mg_hello:quit";
  } else if (str_eq_lc(m.uri, B_DEBUG)) {
    const level = mg_json_get_long(m.body, "$.level", -1);
    if (level < 0 || level > 4) {
      mg_http_reply(c, 400, "", "expected {\"level\": 0..4}\n");
    } else {
      mg_log_set(level);
      mg_http_reply(c, 200, "", "Debug level set to %d\n", level);
    }
  } else {
    mg_http_reply(c, 200, "", "hi\n");
  }
}

/**
 * A web server on url that answers /quit (and stops), /debug (POST
 * {"level": 3} sets the log level), and "hi" to everything else.
 *
 * TypeScript adaptation: C's mg_hello blocks until /quit. Here it returns a
 * Promise that resolves once /quit has been answered and the server is
 * closed; the runtime's loop keeps running meanwhile.
 */
export function mg_hello(url: string, hal?: mg_hal): Promise<void> {
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, hal);
  return new Promise<void>((resolve, reject) => {
    const c = mg_http_listen(mgr, url, (c, ev, ev_data) => {
      mg_hello_handler(c, ev, ev_data);
      if (ev === MG_EV_CLOSE && c.label === "mg_hello:quit") {
        mg_mgr_stop(mgr);
        // free outside the poll that is running now
        Promise.resolve().then(() => {
          mg_mgr_free(mgr);
          resolve();
        });
      }
    }, null);
    if (c === null) {
      reject(new Error("mg_hello: cannot listen on " + url));
      return;
    }
    mg_mgr_run(mgr, 1000);
  });
}
