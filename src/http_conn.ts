// What every HTTP file shares, below all of them: Mongoose 6.x's event
// numbers and connection flags, the per-connection state (HttpConn) with the
// constants of its state machines, and http_init, which makes that state for
// a manager. No logic lives here: the machine that drives HttpConn is in
// http.ts, the decoders it calls in http_chunked.ts and http_multipart.ts.
import type { mg_connection, mg_mgr } from "./net.js";
import { mg_str } from "./str.js";
import { mg_http_message } from "./http_parse.js";
import { CK_SIZE } from "./http_chunked.js";

// --- 6.x events (numbers as in Mongoose 6.18) -------------------------------
export const MG_EV_HTTP_REQUEST = 100; // ev_data: http_message (mg_http_message)
export const MG_EV_HTTP_REPLY = 101;
export const MG_EV_HTTP_CHUNK = 102; // also the 7.x streaming event, see mg_http_stream_body
export const MG_EV_WEBSOCKET_HANDSHAKE_REQUEST = 111;
export const MG_EV_WEBSOCKET_HANDSHAKE_DONE = 112;
export const MG_EV_WEBSOCKET_FRAME = 113;
export const MG_EV_WEBSOCKET_CONTROL_FRAME = 114;
export const MG_EV_HTTP_MULTIPART_REQUEST = 121;
export const MG_EV_HTTP_PART_BEGIN = 122;
export const MG_EV_HTTP_PART_DATA = 123;
export const MG_EV_HTTP_PART_END = 124;
export const MG_EV_HTTP_MULTIPART_REQUEST_END = 125;
/** The older name of MG_EV_HTTP_MULTIPART_REQUEST_END. */
export const MG_EV_HTTP_REQUEST_END = MG_EV_HTTP_MULTIPART_REQUEST_END;
/**
 * Fired (after PART_END/REQUEST_END with status -1) when a streamed request is
 * abandoned: the peer went away or the body was malformed.
 */
export const MG_EV_HTTP_REQUEST_CANCEL = 126;

// 6.x connection flags (c.flags)
export const MG_F_PROTO_1 = 1 << 12;
export const MG_F_PROTO_2 = 1 << 13;
/** Set in c.flags during MG_EV_HTTP_CHUNK: drop the body received so far. */
export const MG_F_DELETE_CHUNK = MG_F_PROTO_2;
/** 6.x: deliver WebSocket fragments as they come instead of reassembling. */
export const MG_F_WEBSOCKET_NO_DEFRAG = MG_F_PROTO_1;

/** A part of a multipart body, for MG_EV_HTTP_PART_* (6.x struct mg_http_multipart_part). */
export class mg_http_multipart_part {
  /** The part's filename= (empty if none). */
  file_name = mg_str();
  /** The part's name= (empty if none). */
  var_name = mg_str();
  /** PART_DATA: the bytes of this piece. */
  data = mg_str();
  /** 0, or < 0 when the request was cut short or malformed. */
  status = 0;
  /** Yours: kept from PART_BEGIN to MULTIPART_REQUEST_END of one request. */
  user_data: any = null;
  /** PART_DATA: bytes of data used; lower it to have the rest offered again (back-pressure). */
  num_data_consumed = 0;
}

// the connection's phase (http.ts, http_process)
export const PH_HEAD = 0; // waiting for a request (or response) head
export const PH_BODY = 1; // taking the body of the message whose head is at recv[0..head_len)
export const PH_DISCARD = 2; // after an error reply: reading and dropping the rest of a body
export const PH_DEAD = 3; // after an error: everything received is dropped until close

// how the message's body ends
export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
export const BODY_CHUNKED = 2;
export const BODY_UNTIL_CLOSE = 3;

// where the body goes
export const ST_BUFFER = 0; // whole body in recv, then MG_EV_HTTP_MSG
export const ST_PIECES = 1; // 7.x streaming: MG_EV_HTTP_CHUNK per piece, then MG_EV_HTTP_MSG with no body
export const ST_PARTS = 2; // multipart: MG_EV_HTTP_PART_*, then (7.x) MG_EV_HTTP_MSG
export const ST_6X = 3; // 6.x: MG_EV_HTTP_CHUNK with the body so far, MG_F_DELETE_CHUNK, then REQUEST/REPLY
export const ST_SINK = 4; // mgts takes the body itself (mg_http_upload)
export const ST_DROP = 5; // answered on MG_EV_HTTP_HDRS: the body is read and dropped, no MG_EV_HTTP_MSG

// multipart parser states (http_multipart.ts): here because HttpConn starts and resets with them
export const MP_PREAMBLE = 0;
export const MP_AFTER_DELIM = 1;
export const MP_HEADERS = 2;
export const MP_DATA = 3;
export const MP_DONE = 4;

/** A sink for request bodies that mgts consumes itself (mg_http_upload). */
export interface BodySink {
  write(c: mg_connection, buf: Uint8Array, ofs: number, len: number): boolean;
  done(c: mg_connection, ok: boolean): void;
}

/** Per-connection HTTP state: made once per pooled connection, reset per connection. */
export class HttpConn {
  mode6 = false;
  phase = PH_HEAD;
  head_len = 0;
  kept = 0;
  left = 0;
  kind = BODY_NONE;
  complete = false;
  eof = false;
  stream = ST_BUFFER;
  in_hdrs = false;
  is_head_req = false;
  close_after = false;
  discard_left = 0;
  total = 0;
  // chunked decoder
  ck = CK_SIZE;
  ck_size = 0;
  ck_digits = 0;
  // multipart
  mp = MP_PREAMBLE;
  delim: Uint8Array | null = null; // "\r\n--" + boundary
  delim_len = 0;
  names: Uint8Array | null = null; // var_name and file_name bytes of the current part
  in_part = false;
  /** The handler took less than offered (num_data_consumed): the rest waits, it is not malformed. */
  mp_held = false;
  /** mg_millis() when the connection became ready for a request head (0: not yet noted). */
  head_t0 = 0;
  /** HTTP set c.is_full because recv is full while the previous reply is pending. */
  held_full = false;
  /** When the current message began arriving (head_t0 at its head): its age, for the pool's eviction. */
  msg_t0 = 0;
  /** Bytes written out so far (MG_EV_WRITE): with c.send.len, what was ever queued. */
  written = 0;
  /** written + c.send.len when this message's response could begin (after any 100 Continue): more means a head is out. -1 between messages. */
  out_mark = -1;
  /** The minimum-rate window (MG_HTTP_MIN_RATE): when it began (0: not measuring) and bytes read in it. */
  rate_t0 = 0;
  rate_n = 0;
  part = new mg_http_multipart_part();
  // a file being served (mg_http_serve_file)
  file: any = null;
  file_fs: any = null;
  file_left = 0;
  // mg_http_upload and friends
  sink: BodySink | null = null;
  sink_state: any = null;
  // WebSocket state (src/ws.ts)
  ws: any = null;

  reset(mode6: boolean): void {
    this.mode6 = mode6;
    this.phase = PH_HEAD;
    this.head_len = this.kept = this.left = this.total = 0;
    this.kind = BODY_NONE;
    this.complete = this.eof = this.in_hdrs = this.is_head_req = this.close_after = this.in_part = this.mp_held = false;
    this.head_t0 = this.msg_t0 = 0;
    this.held_full = false;
    this.written = 0;
    this.out_mark = -1;
    this.rate_t0 = this.rate_n = 0;
    this.stream = ST_BUFFER;
    this.discard_left = 0;
    this.ck = CK_SIZE;
    this.ck_size = this.ck_digits = 0;
    this.mp = MP_PREAMBLE;
    this.delim_len = 0;
    this.file = null;
    this.file_fs = null;
    this.file_left = 0;
    this.sink = null;
    this.sink_state = null;
  }
}

/** The manager's shared message, and HTTP state for every pooled connection: made on first use. */
export function http_init(mgr: mg_mgr): mg_http_message {
  if (mgr.proto === null) {
    mgr.proto = new mg_http_message();
    for (let i = 0; i < mgr.pool.length; i++) {
      if (mgr.pool[i].proto === null) mgr.pool[i].proto = new HttpConn();
    }
  }
  return mgr.proto as mg_http_message;
}
