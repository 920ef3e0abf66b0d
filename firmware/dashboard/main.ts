// The device dashboard, like Mongoose's: a single-page web UI from the
// packed filesystem, a login, live metrics over WebSocket, settings through a
// JSON REST API, a streamed file/firmware upload and the app's log.
//
//   npm start                       the simulator at http://127.0.0.1:8000
//   (admin / admin unless the options say otherwise)
//
// The HTTP API (JSON in and out; every route but /api/login needs the token
// from /api/login, as an access_token cookie, a Bearer header or Basic auth):
//   POST /api/login      Authorization: Basic → {"user","token"} + Set-Cookie access_token
//   POST /api/logout     forgets the token, clears the cookie
//   GET  /api/settings   {"device_name","log_level","interval_ms","led"}
//   POST /api/settings   any of those keys; 400 with the reason when invalid; persisted
//   GET  /api/stats      the metrics the WebSocket pushes
//   GET  /api/log?since=N  {"lines":[...],"next":M}: the log ring from line N, what fits
//   POST /api/upload     multipart/form-data with one file, any size, streamed to the board
//   POST /api/reboot     restarts the device
//   GET  /websocket      every interval_ms: {"t":"m",...metrics}, then new log lines;
//                        JSON-RPC requests sent on it are answered on it (settings.get,
//                        settings.set, reboot, rpc.list)
//
// The clock: the "sntp" setting (default: the board's server) is asked for
// the time at start, every hour, and after a failure with a backoff; the
// metrics carry it as "time" once synced (mg_now()).
//
// Memory: everything the app keeps is made in dash_init (the log ring, the
// session table, the frame buffer, the metrics); a request allocates only
// where the core's API hands out strings (mg_http_creds, a login's token).
import {
  MG_EV_ACCEPT,
  MG_EV_CLOSE,
  MG_EV_HTTP_HDRS,
  MG_EV_HTTP_MSG,
  MG_EV_HTTP_MULTIPART_REQUEST_END,
  MG_EV_HTTP_PART_BEGIN,
  MG_EV_HTTP_PART_DATA,
  MG_EV_HTTP_PART_END,
  MG_EV_HTTP_REQUEST_CANCEL,
  MG_EV_SNTP_TIME,
  MG_EV_WS_MSG,
  MG_INFO,
  MG_ERROR,
  MG_JSON_NOT_FOUND,
  MG_TIMER_ONCE,
  MG_TIMER_REPEAT,
  WEBSOCKET_OP_TEXT,
  mg_boot_timestamp,
  mg_connection,
  mg_fs_packed,
  mg_http_creds,
  mg_http_creds_t,
  mg_http_get_var_str,
  mg_http_listen,
  mg_http_message,
  mg_http_multipart_part,
  mg_http_reply,
  mg_http_serve_dir,
  mg_http_serve_opts,
  mg_http_stream_body,
  mg_json_get,
  mg_json_get_bool,
  mg_json_get_num,
  mg_json_get_str,
  mg_log_set,
  mg_log_set_fn,
  mg_mgr,
  mg_millis,
  mg_mgr_init,
  mg_mgr_run,
  mg_now,
  mg_packed_file,
  mg_print_esc,
  mg_random,
  mg_rpc_add,
  mg_rpc_err,
  mg_rpc_head,
  mg_rpc_list,
  mg_rpc_ok,
  mg_rpc_process,
  mg_rpc_req,
  mg_sntp_connect,
  mg_str,
  mg_str_set,
  mg_timer,
  mg_tls_init,
  mg_tls_opts,
  mg_timer_add,
  mg_timer_free,
  mg_va,
  mg_vxprintf,
  mg_ws_message,
  mg_ws_send,
  mg_ws_upgrade,
  mg_xout,
  mg_xputc,
  mg_xputs,
} from "../../src/index.js";
import type { mg_hal } from "../../hal/hal.js";
import { dash_board, dash_metrics } from "./board.js";

export { dash_board, dash_board_sim, dash_metrics } from "./board.js";

export interface DashOptions {
  /** Listening URL; default http://0.0.0.0:8000 (or host/port below; https:// with tls). */
  url?: string;
  /** Serve over HTTPS (and WSS): the certificate and key, given to each connection on MG_EV_ACCEPT. */
  tls?: mg_tls_opts;
  port?: number;
  host?: string;
  board: dash_board;
  /** The web UI, packed by tools/pack.mjs. */
  files: mg_packed_file[];
  user?: string;
  pass?: string;
  /** The network; default the one set with mg_hal_default. */
  hal?: mg_hal;
}

/** Log lines kept for the log view, and the longest kept (longer ones are cut). */
export const DASH_LOG_LINES = 32;
export const DASH_LOG_WIDTH = 120;
/** Logged-in browsers at once; the oldest login makes room for a new one. */
export const DASH_SESSIONS = 4;
const SESSION_MS = 24 * 3600 * 1000;
/** One JSON message (a WebSocket frame, a reply body): fits MG_IO_SIZE with the headers. */
const FRAME_SIZE = 1024;
const TOKEN_BYTES = 16;
const WS_LABEL = "dash:ws";
const UP_LABEL = "dash:upload";
const UP_BUSY = "dash:upload:busy";
const JSON_HDR = "Content-Type: application/json\r\nCache-Control: no-store\r\n";
/** SNTP: sync again this long after a success; after a failure wait SNTP_RETRY_MS, doubling up to SNTP_RESYNC_MS. */
const SNTP_RESYNC_MS = 3600 * 1000;
const SNTP_RETRY_MS = 60 * 1000;

/** The settings: what the form edits, the REST API carries and the board persists. */
export class dash_settings {
  device_name = "mgts-device";
  log_level = 2;
  interval_ms = 1000;
  led = false;
  /** The SNTP server, "udp://host:port"; "" keeps the clock unset. */
  sntp = "";
  copy(from: dash_settings): void {
    this.device_name = from.device_name;
    this.log_level = from.log_level;
    this.interval_ms = from.interval_ms;
    this.led = from.led;
    this.sntp = from.sntp;
  }
}

/**
 * The app's log lines in a fixed ring: line k (counting from the first ever
 * logged) sits in slot k % DASH_LOG_LINES while k >= next - DASH_LOG_LINES.
 * Each keeps when it was logged, in ms since the app started (whole: the
 * log's own prefix, Mongoose's 6 hex digits of mg_millis(), wraps every 4.7
 * hours and is dropped here; and mg_millis() is the host's clock on lin), so
 * that the page can show the time since start, or the clock time once SNTP
 * has set it (the metrics' "started" + ms).
 */
export class dash_log_ring {
  bytes = new Uint8Array(DASH_LOG_LINES * DASH_LOG_WIDTH);
  lens: number[] = [];
  ms: number[] = [];
  next = 0;
  view = mg_str();
  constructor() {
    for (let i = 0; i < DASH_LOG_LINES; i++) {
      this.lens.push(0);
      this.ms.push(0);
    }
  }
  add(buf: Uint8Array, ofs: number, len: number, ms: number): void {
    while (len > 0 && (buf[ofs + len - 1] === 10 || buf[ofs + len - 1] === 13)) len--;
    if (len > 7 && buf[ofs + 6] === 32 && is_hex6(buf, ofs)) {
      ofs += 7; // the log's prefix: ms is kept instead
      len -= 7;
    }
    if (len > DASH_LOG_WIDTH) len = DASH_LOG_WIDTH;
    const slot = this.next % DASH_LOG_LINES;
    const at = slot * DASH_LOG_WIDTH;
    for (let i = 0; i < len; i++) this.bytes[at + i] = buf[ofs + i];
    this.lens[slot] = len;
    this.ms[slot] = ms;
    this.next++;
  }
  /** The oldest line still kept. */
  first(): number {
    return this.next > DASH_LOG_LINES ? this.next - DASH_LOG_LINES : 0;
  }
  /** Line k as a view (valid until the ring turns over). */
  line(k: number): mg_str {
    const slot = k % DASH_LOG_LINES;
    return mg_str_set(this.view, this.bytes, slot * DASH_LOG_WIDTH, this.lens[slot]);
  }
}

/** Whether buf[ofs..ofs+6) is the log prefix's six lowercase hex digits. */
function is_hex6(buf: Uint8Array, ofs: number): boolean {
  for (let i = 0; i < 6; i++) {
    const c = buf[ofs + i];
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** The running app: everything made once in dash_init. */
export class dash_app {
  mgr: mg_mgr;
  board: dash_board;
  user: string;
  pass: string;
  settings = new dash_settings();
  pending = new dash_settings();
  metrics = new dash_metrics();
  ring = new dash_log_ring();
  tokens: string[] = [];
  expires: number[] = [];
  /** The random bytes of a new token (the app's, not the module's: a preloaded module's buffers are read-only). */
  token_bytes = new Uint8Array(TOKEN_BYTES);
  creds = new mg_http_creds_t();
  serve = new mg_http_serve_opts();
  timer: mg_timer | null = null;
  /** Where JSON is formatted: frames to the WebSocket clients, reply bodies, saved settings. */
  frame = new Uint8Array(FRAME_SIZE);
  /** The log lines sent after the metrics frame to a WebSocket client (the metrics stay in frame for the next one). */
  lframe = new Uint8Array(FRAME_SIZE);
  frame_str = mg_str();
  out = new mg_xout();
  ap = new mg_va();
  args: any[] = [];
  esc_args: any[] = [0, 0];
  esc_ap = new mg_va();
  log_cursor = 0; // the line the %M printer of log lines starts from; it leaves the next one here
  started = 0; // mg_millis() at dash_init: the log's times count from there
  // the upload in progress (one at a time: the board has one sink)
  up_conn: mg_connection | null = null;
  up_open = false;
  up_seen = false;
  up_name = "";
  up_size = 0;
  up_err = "";
  // the listener's URL and port (the real one when the URL asked for port 0); its TLS certificate, if any
  url = "";
  tls: mg_tls_opts | null = null;
  port = 0;
  // SNTP: the server in use, its exchange in flight, when to ask next, the wait after a failure
  sntp_url = "";
  sntp_conn: mg_connection | null = null;
  sntp_next = 0;
  sntp_wait = SNTP_RETRY_MS;
  /** Set by settings_update: its error was the input's (400), not the board's (500). */
  bad_input = false;
  // JSON-RPC over the WebSocket: the methods, the request (reused per frame), scratch
  rpc = new mg_rpc_head();
  rpc_req = new mg_rpc_req();
  rpc_len = [0];
  rpc_view = mg_str();
  constructor(mgr: mg_mgr, board: dash_board, user: string, pass: string, files: mg_packed_file[]) {
    this.mgr = mgr;
    this.board = board;
    this.user = user;
    this.pass = pass;
    for (let i = 0; i < DASH_SESSIONS; i++) {
      this.tokens.push("");
      this.expires.push(0);
    }
    for (let i = 0; i < 16; i++) this.args.push(0);
    this.serve.fs = new mg_fs_packed(files, "");
    this.serve.root_dir = "";
    // revalidate every time (ETag → 304) so a new firmware's UI is never stale
    this.serve.extra_headers = "Cache-Control: no-cache\r\n";
  }
}

// --- formatting into the frame buffer ------------------------------------------------

/** Starts formatting into buf (app.frame or app.lframe), cap bytes at most. */
function frame_begin(app: dash_app, buf: Uint8Array, cap: number): mg_xout {
  const o = app.out;
  o.buf = buf;
  o.ofs = 0;
  o.cap = cap < FRAME_SIZE ? cap : FRAME_SIZE;
  o.n = 0;
  return o;
}
/** Formats with the arguments put in app.args; false when it did not fit. */
function frame_fmt(app: dash_app, fmt: string): boolean {
  const ap = app.ap;
  ap.a = app.args;
  ap.i = 0;
  mg_vxprintf(app.out, fmt, ap);
  for (let i = 0; i < app.args.length; i++) app.args[i] = 0; // drop references
  return app.out.n <= app.out.cap;
}
/** The frame as an mg_str (for mg_http_reply: a prepared body is not formatted again). */
function frame_view(app: dash_app): mg_str {
  const n = app.out.n < app.out.cap ? app.out.n : app.out.cap;
  return mg_str_set(app.frame_str, app.out.buf, 0, n);
}

/** The settings as JSON into the frame (%m: JSON-escaped strings). */
function settings_json(app: dash_app): void {
  const s = app.settings;
  const a = app.args;
  frame_begin(app, app.frame, FRAME_SIZE);
  a[0] = mg_print_esc;
  a[1] = 0;
  a[2] = s.device_name;
  a[3] = s.log_level;
  a[4] = s.interval_ms;
  a[5] = s.led ? "true" : "false";
  a[6] = mg_print_esc;
  a[7] = 0;
  a[8] = s.sntp;
  frame_fmt(app, '{"device_name":%m,"log_level":%d,"interval_ms":%d,"led":%s,"sntp":%m}');
}

/** The metrics as JSON into the frame. */
function metrics_json(app: dash_app): void {
  const m = app.metrics;
  app.board.metrics(m);
  let conns = 0;
  for (let c = app.mgr.conns; c !== null; c = c.next) if (!c.is_listening) conns++;
  const a = app.args;
  frame_begin(app, app.frame, FRAME_SIZE);
  a[0] = m.uptime_ms;
  a[1] = m.heap_free;
  a[2] = m.heap_total;
  a[3] = m.rssi;
  a[4] = m.temp;
  a[5] = m.pin;
  a[6] = conns;
  a[7] = app.ring.next;
  a[8] = mg_print_esc;
  a[9] = 0;
  a[10] = app.settings.device_name;
  a[11] = mg_print_esc;
  a[12] = 0;
  a[13] = app.board.name;
  a[14] = mg_boot_timestamp() !== 0 ? Math.floor(mg_now()) : 0; // 0: the clock is not set
  a[15] = mg_boot_timestamp() !== 0 ? Math.floor(mg_boot_timestamp() + app.started) : 0; // the clock time the log's times count from
  frame_fmt(app, '{"t":"m","uptime":%lu,"heap_free":%lu,"heap_total":%lu,"rssi":%d,"temp":%.1f,"pin":%d,"conns":%d,"log_next":%lu,"name":%m,"board":%m,"time":%lu,"started":%lu}');
}

/**
 * %M printer: `"lines":[...],"next":N`, the log lines from app.log_cursor
 * that fit in what is left of the sink, each "<ms since the app started>
 * <level> <message>"; leaves the first line not sent in app.log_cursor.
 * Registered in args as (printer, app).
 */
function print_log_lines(o: mg_xout, ap: mg_va): number {
  const app = ap.a[ap.i++] as dash_app;
  const start = o.n;
  const ring = app.ring;
  let k = app.log_cursor < ring.first() ? ring.first() : app.log_cursor;
  mg_xputs(o, '"lines":[');
  const tail = 24; // room for `],"next":4294967295` and the closing brace
  for (let first = true; k < ring.next; k++, first = false) {
    const before = o.n;
    if (!first) mg_xputc(o, 44);
    mg_xputc(o, 34);
    const esc = app.esc_ap;
    esc.a = app.esc_args;
    app.esc_args[0] = ring.ms[k % DASH_LOG_LINES];
    esc.i = 0;
    mg_vxprintf(o, "%lu ", esc);
    const v = ring.line(k);
    app.esc_args[0] = v.len;
    app.esc_args[1] = v;
    esc.i = 0;
    mg_print_esc(o, esc);
    mg_xputc(o, 34);
    if (o.n + tail > o.cap) {
      o.n = before; // the line does not fit: it goes in the next message
      break;
    }
  }
  app.esc_args[1] = 0;
  mg_xputs(o, '],"next":');
  mg_xputs(o, String(k));
  app.log_cursor = k;
  return o.n - start;
}

/** The log lines from `from` as JSON into buf (cap bytes at most); returns the next line to send. */
function log_json(app: dash_app, buf: Uint8Array, cap: number, from: number, ws: boolean): number {
  frame_begin(app, buf, cap);
  app.log_cursor = from;
  app.args[0] = print_log_lines;
  app.args[1] = app;
  frame_fmt(app, ws ? '{"t":"log",%M}' : "{%M}");
  return app.log_cursor;
}

// --- settings in -------------------------------------------------------------------

/** True when body is one JSON value and nothing else but white space. */
function json_whole(body: mg_str): boolean {
  const len = [0];
  const ofs = mg_json_get(body, "$", len);
  if (ofs < 0) return false;
  for (let i = ofs + len[0]; i < body.len; i++) {
    const c = body.buf[body.ofs + i];
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return body.buf[body.ofs + ofs] === 123; // an object
}

function has_key(body: mg_str | string, path: string): boolean {
  return mg_json_get(body, path, null) !== MG_JSON_NOT_FOUND;
}

/**
 * Validates settings JSON and applies the keys it has onto `into` (a copy:
 * nothing changes unless everything is valid). Returns "" or the reason.
 */
export function dash_settings_parse(body: mg_str | string, into: dash_settings): string {
  const b = typeof body === "string" ? mg_str(body) : body;
  if (!json_whole(b)) return "invalid JSON: an object is expected";
  if (has_key(b, "$.device_name")) {
    const name = mg_json_get_str(b, "$.device_name");
    if (name === null) return "device_name: a string is expected";
    if (name.length < 1 || name.length > 32) return "device_name: 1 to 32 characters";
    for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) < 32) return "device_name: no control characters";
    into.device_name = name;
  }
  if (has_key(b, "$.log_level")) {
    const v = mg_json_get_num(b, "$.log_level");
    if (v === undefined || v !== Math.floor(v) || v < 0 || v > 4) return "log_level: an integer 0..4 is expected";
    into.log_level = v;
  }
  if (has_key(b, "$.interval_ms")) {
    const v = mg_json_get_num(b, "$.interval_ms");
    if (v === undefined || v !== Math.floor(v) || v < 100 || v > 60000) return "interval_ms: an integer 100..60000 is expected";
    into.interval_ms = v;
  }
  if (has_key(b, "$.led")) {
    const v = mg_json_get_bool(b, "$.led");
    if (v === undefined) return "led: true or false is expected";
    into.led = v;
  }
  if (has_key(b, "$.sntp")) {
    const v = mg_json_get_str(b, "$.sntp");
    if (v === null || !sntp_url_ok(v)) return 'sntp: "" or "udp://host:port" is expected';
    into.sntp = v;
  }
  return "";
}

/** "" (no SNTP) or udp://host:port, at most 64 printable characters without spaces. */
function sntp_url_ok(v: string): boolean {
  if (v === "") return true;
  if (v.length > 64 || !/^udp:\/\/[^:/]+:\d{1,5}$/i.test(v)) return false;
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) <= 32 || v.charCodeAt(i) >= 127) return false;
  return true;
}

/** Makes the settings take effect: log level, the LED, the push interval. */
function settings_apply(app: dash_app): void {
  const s = app.settings;
  mg_log_set(s.log_level);
  app.board.led(s.led);
  if (app.timer !== null) mg_timer_free(app.mgr, app.timer);
  app.timer = mg_timer_add(app.mgr, s.interval_ms, MG_TIMER_REPEAT, dash_tick, app);
  if (s.sntp !== app.sntp_url) {
    // another server (or none): drop the exchange in flight, ask the new one now
    if (app.sntp_conn !== null) app.sntp_conn.is_closing = true;
    app.sntp_conn = null;
    app.sntp_url = s.sntp;
    app.sntp_next = 0;
    app.sntp_wait = SNTP_RETRY_MS;
  }
  sntp_poll(app);
}

/** Asks the SNTP server for the time when it is due and nothing is in flight. */
function sntp_poll(app: dash_app): void {
  if (app.sntp_url === "" || app.sntp_conn !== null) return;
  const now = app.mgr.hal!.millis();
  if (now < app.sntp_next) return;
  app.sntp_conn = mg_sntp_connect(app.mgr, app.sntp_url, dash_sntp_fn as any, app);
  if (app.sntp_conn === null) sntp_failed(app, now);
}

function sntp_failed(app: dash_app, now: number): void {
  app.sntp_next = now + app.sntp_wait;
  MG_INFO("dash: SNTP: next try in %d s", app.sntp_wait / 1000);
  app.sntp_wait = app.sntp_wait * 2 < SNTP_RESYNC_MS ? app.sntp_wait * 2 : SNTP_RESYNC_MS;
}

function dash_sntp_fn(c: mg_connection, ev: number, ev_data: any, app: dash_app): void {
  if (c !== app.sntp_conn) return; // one for a server the settings dropped
  const now = app.mgr.hal!.millis();
  if (ev === MG_EV_SNTP_TIME) {
    app.sntp_next = now + SNTP_RESYNC_MS;
    app.sntp_wait = SNTP_RETRY_MS;
    MG_INFO("dash: clock set by SNTP: %s", new Date(ev_data as number).toISOString());
  } else if (ev === MG_EV_CLOSE) {
    // closed without a time (MG_EV_ERROR, whose reason mg_error logged): back off
    app.sntp_conn = null;
    if (app.sntp_next <= now) sntp_failed(app, now);
  }
}

// --- sessions -------------------------------------------------------------------------

const HEX = "0123456789abcdef";
function session_new(app: dash_app): string {
  const token_bytes = app.token_bytes;
  mg_random(token_bytes, 0, TOKEN_BYTES);
  let t = "";
  for (let i = 0; i < TOKEN_BYTES; i++) t += HEX[token_bytes[i] >> 4] + HEX[token_bytes[i] & 15];
  let slot = 0;
  for (let i = 1; i < DASH_SESSIONS; i++) if (app.expires[i] < app.expires[slot]) slot = i;
  app.tokens[slot] = t;
  app.expires[slot] = app.mgr.hal!.millis() + SESSION_MS;
  return t;
}

/** Compares without stopping at the first difference (the time says nothing about the secret). */
function same(a: string, b: string): boolean {
  let d = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ (i < b.length ? b.charCodeAt(i) : 0);
  return d === 0;
}

/** The request carries the user's Basic credentials or a live token (Mongoose's mg_http_creds order). */
function authorized(app: dash_app, hm: mg_http_message): boolean {
  const cr = mg_http_creds(hm, app.creds);
  if (cr.user !== "") return same(cr.user, app.user) && same(cr.pass, app.pass);
  if (cr.pass.length !== TOKEN_BYTES * 2) return false;
  const now = app.mgr.hal!.millis();
  for (let i = 0; i < DASH_SESSIONS; i++) {
    if (app.tokens[i] !== "" && app.expires[i] > now && same(app.tokens[i], cr.pass)) return true;
  }
  return false;
}

// --- routes -------------------------------------------------------------------------------

function starts(s: mg_str, lit: string): boolean {
  if (s.len < lit.length) return false;
  for (let i = 0; i < lit.length; i++) if (s.buf[s.ofs + i] !== lit.charCodeAt(i)) return false;
  return true;
}
function is(s: mg_str, lit: string): boolean {
  return s.len === lit.length && starts(s, lit);
}

/** The API routes that need a login (checked on MG_EV_HTTP_HDRS, before any body). */
function needs_login(uri: mg_str): boolean {
  return starts(uri, "/api/") && !is(uri, "/api/login") && !is(uri, "/api/logout");
}

function reply_error(c: mg_connection, code: number, why: string): void {
  mg_http_reply(c, code, JSON_HDR, '{"error":%m}\n', mg_print_esc, 0, why);
}

function login(app: dash_app, c: mg_connection, hm: mg_http_message): void {
  const cr = mg_http_creds(hm, app.creds);
  if (cr.user === "" || !same(cr.user, app.user) || !same(cr.pass, app.pass)) {
    MG_INFO("dash: login failed for %m", mg_print_esc, 0, cr.user);
    return reply_error(c, 401, "wrong user or password");
  }
  const t = session_new(app);
  MG_INFO("dash: %s logged in", app.user);
  // over HTTPS the browser must never send the token in plaintext
  const secure = c.is_tls ? "; Secure" : "";
  const cookie = "Set-Cookie: access_token=" + t + "; Path=/; HttpOnly; SameSite=Strict" + secure + "; Max-Age=" + SESSION_MS / 1000 + "\r\n";
  mg_http_reply(c, 200, JSON_HDR + cookie, '{"user":%m,"token":"%s"}\n', mg_print_esc, 0, app.user, t);
}

function logout(app: dash_app, c: mg_connection, hm: mg_http_message): void {
  const cr = mg_http_creds(hm, app.creds);
  for (let i = 0; i < DASH_SESSIONS; i++) {
    if (app.tokens[i] !== "" && same(app.tokens[i], cr.pass)) {
      app.tokens[i] = "";
      app.expires[i] = 0;
    }
  }
  mg_http_reply(c, 200, JSON_HDR + "Set-Cookie: access_token=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0\r\n", '{"ok":true}\n');
}

/**
 * Validates settings JSON over a copy of the settings, then applies and
 * saves them; the settings JSON is left in app.frame. Returns "" or the
 * reason, with app.bad_input telling a bad request from a board failure.
 */
function settings_update(app: dash_app, body: mg_str): string {
  app.pending.copy(app.settings);
  const why = dash_settings_parse(body, app.pending);
  app.bad_input = why !== "";
  if (why !== "") return why;
  app.settings.copy(app.pending);
  settings_apply(app);
  settings_json(app);
  const err = app.board.settings_save(app.frame, frame_view(app).len);
  if (err !== "") MG_ERROR("dash: settings not saved: %s", err);
  else MG_INFO("dash: settings saved");
  return err;
}

function settings_set(app: dash_app, c: mg_connection, hm: mg_http_message): void {
  const err = settings_update(app, hm.body);
  if (err !== "") return reply_error(c, app.bad_input ? 400 : 500, err);
  mg_http_reply(c, 200, JSON_HDR, frame_view(app));
}

function log_get(app: dash_app, c: mg_connection, hm: mg_http_message): void {
  const since = mg_http_get_var_str(hm.query, "since");
  const from = since !== null && /^\d+$/.test(since) ? Number(since) : 0;
  log_json(app, app.frame, FRAME_SIZE, from, false);
  mg_http_reply(c, 200, JSON_HDR, frame_view(app));
}

function api(app: dash_app, c: mg_connection, hm: mg_http_message): void {
  const post = is(hm.method, "POST");
  const uri = hm.uri;
  if (is(uri, "/api/login")) return post ? login(app, c, hm) : reply_error(c, 405, "POST expected");
  if (is(uri, "/api/logout")) return logout(app, c, hm);
  if (!authorized(app, hm)) return reply_error(c, 401, "Unauthorized");
  if (is(uri, "/api/settings")) {
    if (post) return settings_set(app, c, hm);
    settings_json(app);
    return void mg_http_reply(c, 200, JSON_HDR, frame_view(app));
  }
  if (is(uri, "/api/stats")) {
    metrics_json(app);
    return void mg_http_reply(c, 200, JSON_HDR, frame_view(app));
  }
  if (is(uri, "/api/log")) return log_get(app, c, hm);
  if (is(uri, "/api/reboot") && post) {
    mg_http_reply(c, 200, JSON_HDR, '{"ok":true}\n');
    return reboot_soon(app);
  }
  reply_error(c, 404, "no such API");
}

function dash_reboot(app: dash_app): void {
  app.board.reboot();
}
/** Reboots once the answer has gone out. */
function reboot_soon(app: dash_app): void {
  MG_INFO("dash: reboot requested");
  mg_timer_add(app.mgr, 300, MG_TIMER_ONCE, dash_reboot, app);
}

// --- JSON-RPC over the WebSocket ---------------------------------------------------------

/** The RPC reply's pfn: one text frame per reply to the WebSocket the request came on. */
function rpc_ws_out(buf: Uint8Array, ofs: number, len: number, c: mg_connection): void {
  const app = c.fn_data as dash_app;
  if (mg_ws_send(c, mg_str_set(app.rpc_view, buf, ofs, len), len, WEBSOCKET_OP_TEXT) === 0) {
    MG_ERROR("dash: RPC reply dropped: the send buffer is full");
  }
}

function rpc_settings_get(r: mg_rpc_req): void {
  const app = r.req_data as dash_app;
  settings_json(app);
  mg_rpc_ok(r, "%s", frame_view(app));
}

/** settings.set: params is an object with any of the settings, as POST /api/settings takes. */
function rpc_settings_set(r: mg_rpc_req): void {
  const app = r.req_data as dash_app;
  const ofs = mg_json_get(r.frame, "$.params", app.rpc_len);
  if (ofs < 0) return mg_rpc_err(r, -32602, '"params: an object with the settings to change is expected"');
  const err = settings_update(app, mg_str_set(app.rpc_view, r.frame.buf, r.frame.ofs + ofs, app.rpc_len[0]));
  if (err !== "") return mg_rpc_err(r, app.bad_input ? -32602 : -32603, "%m", mg_print_esc, 0, err);
  mg_rpc_ok(r, "%s", frame_view(app));
}

function rpc_reboot(r: mg_rpc_req): void {
  mg_rpc_ok(r, "true");
  reboot_soon(r.req_data as dash_app);
}

function rpc_init(app: dash_app): void {
  mg_rpc_add(app.rpc, "rpc.list", mg_rpc_list, null);
  mg_rpc_add(app.rpc, "reboot", rpc_reboot, null);
  mg_rpc_add(app.rpc, "settings.set", rpc_settings_set, null);
  mg_rpc_add(app.rpc, "settings.get", rpc_settings_get, null);
  const r = app.rpc_req;
  r.head = app.rpc;
  r.pfn = rpc_ws_out;
  r.req_data = app;
}

// --- upload: multipart part events, one file streamed to the board ----------------

/** A file name the board may use: letters, digits, '.', '-', '_'; not starting with '.'; 1..64. */
export function dash_name_ok(n: string): boolean {
  if (n.length < 1 || n.length > 64 || n.charCodeAt(0) === 46) return false;
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 45 || c === 95;
    if (!ok) return false;
  }
  return true;
}

function upload_hdrs(app: dash_app, c: mg_connection, hm: mg_http_message): void {
  if (!is(hm.method, "POST")) return;
  // A client not logged in was refused at the head (dash_handler). A busy
  // answer waits for MG_EV_HTTP_MSG: the body is read and dropped (pieces),
  // so the browser gets the status, not a reset.
  if (app.up_conn !== null) {
    c.label = UP_BUSY;
    mg_http_stream_body(c);
  } else {
    c.label = UP_LABEL;
    app.up_conn = c;
    app.up_open = app.up_seen = false;
    app.up_name = app.up_err = "";
    app.up_size = 0;
    mg_http_stream_body(c, true);
  }
}

function upload_part(app: dash_app, c: mg_connection, ev: number, p: mg_http_multipart_part): void {
  if (c !== app.up_conn) return;
  if (ev === MG_EV_HTTP_PART_BEGIN) {
    if (p.file_name.len === 0 || app.up_seen) return; // form fields, and files after the first, are skipped
    app.up_seen = true;
    const name = p.file_name.toString();
    if (!dash_name_ok(name)) {
      app.up_err = "invalid file name";
      return;
    }
    app.up_name = name;
    app.up_err = app.board.upload_begin(name);
    app.up_open = app.up_err === "";
    if (app.up_open) MG_INFO("dash: receiving %s", name);
    else MG_ERROR("dash: upload of %s refused: %s", name, app.up_err);
  } else if (ev === MG_EV_HTTP_PART_DATA) {
    if (!app.up_open) return; // dropped: the piece counts as used
    const err = app.board.upload_write(p.data.buf, p.data.ofs, p.data.len);
    if (err !== "") {
      app.up_err = err;
      upload_close(app, false);
    } else app.up_size += p.data.len;
  } else if (ev === MG_EV_HTTP_PART_END) {
    if (!app.up_open) return;
    if (p.status < 0) {
      app.up_err = "upload cut short";
      upload_close(app, false);
    } else {
      const err = upload_close(app, true);
      if (err !== "") app.up_err = err;
    }
  }
}

function upload_close(app: dash_app, commit: boolean): string {
  if (!app.up_open) return "";
  app.up_open = false;
  const err = app.board.upload_end(commit);
  if (commit && err === "") MG_INFO("dash: stored %s, %lu bytes", app.up_name, app.up_size);
  else MG_ERROR("dash: upload of %s dropped: %s", app.up_name, err !== "" ? err : app.up_err);
  return err;
}

function upload_msg(app: dash_app, c: mg_connection, hm: mg_http_message): void {
  const label = c.label;
  c.label = "";
  if (!is(hm.method, "POST")) return reply_error(c, 405, "POST expected");
  if (label === UP_BUSY) return reply_error(c, 409, "another upload is in progress");
  if (c !== app.up_conn) return reply_error(c, 400, "multipart/form-data expected");
  app.up_conn = null;
  upload_close(app, false); // a part that never ended
  if (!app.up_seen) return reply_error(c, 400, "no file in the form (multipart/form-data expected)");
  if (app.up_err !== "") return reply_error(c, app.up_err === "invalid file name" ? 400 : 500, app.up_err);
  mg_http_reply(c, 200, JSON_HDR, '{"ok":true,"name":%m,"size":%lu}\n', mg_print_esc, 0, app.up_name, app.up_size);
}

function upload_gone(app: dash_app, c: mg_connection): void {
  if (c !== app.up_conn) return;
  if (app.up_err === "") app.up_err = "upload cut short";
  upload_close(app, false);
  app.up_conn = null;
}

// --- the handler and the ticker -------------------------------------------------------

export function dash_handler(c: mg_connection, ev: number, ev_data: any, app: dash_app): void {
  if (ev === MG_EV_ACCEPT) {
    if (app.tls !== null) mg_tls_init(c, app.tls);
  } else if (ev === MG_EV_HTTP_HDRS) {
    const hm = ev_data as mg_http_message;
    if (needs_login(hm.uri) && !authorized(app, hm)) {
      // 401 at the head; a body (an upload of any size) is never read: close after the answer
      reply_error(c, 401, "Unauthorized");
      if (hm.chunked || hm.body_len > 0) c.is_draining = true;
      return;
    }
    if (is(hm.uri, "/api/upload")) upload_hdrs(app, c, hm);
  } else if (ev === MG_EV_HTTP_PART_BEGIN || ev === MG_EV_HTTP_PART_DATA || ev === MG_EV_HTTP_PART_END) {
    upload_part(app, c, ev, ev_data as mg_http_multipart_part);
  } else if (ev === MG_EV_HTTP_MULTIPART_REQUEST_END) {
    // the reply goes out on MG_EV_HTTP_MSG, which follows
  } else if (ev === MG_EV_HTTP_MSG) {
    const hm = ev_data as mg_http_message;
    const uri = hm.uri;
    if (is(uri, "/api/upload")) upload_msg(app, c, hm);
    else if (starts(uri, "/api/")) api(app, c, hm);
    else if (is(uri, "/websocket")) {
      if (!authorized(app, hm)) return reply_error(c, 401, "Unauthorized");
      if (mg_ws_upgrade(c, hm, null)) {
        c.label = WS_LABEL;
        cursor_set(c, app.ring.first());
        // the first values at once, not after a whole interval
        metrics_json(app);
        ws_push(app, c, frame_view(app).len);
      }
    } else mg_http_serve_dir(c, hm, app.serve);
  } else if (ev === MG_EV_WS_MSG) {
    if (c.label !== WS_LABEL) return;
    const r = app.rpc_req;
    r.frame = (ev_data as mg_ws_message).data;
    r.pfn_data = c;
    mg_rpc_process(r);
    r.pfn_data = null;
  } else if (ev === MG_EV_HTTP_REQUEST_CANCEL) {
    upload_gone(app, c);
  } else if (ev === MG_EV_CLOSE) {
    upload_gone(app, c);
  }
}

// A WebSocket client's log cursor (the next line to send), in c.data[0..3].
function cursor_get(c: mg_connection): number {
  const d = c.data;
  return (d[0] | (d[1] << 8) | (d[2] << 16)) + d[3] * 0x1000000;
}
function cursor_set(c: mg_connection, v: number): void {
  const d = c.data;
  d[0] = v & 255;
  d[1] = (v >> 8) & 255;
  d[2] = (v >> 16) & 255;
  d[3] = (v >>> 24) & 255;
}

/** Sends the metrics (already in app.frame, metrics_len bytes) and the log lines the client has not seen. */
function ws_push(app: dash_app, c: mg_connection, metrics_len: number): void {
  // a full send buffer skips this tick: the next one carries newer values
  if (mg_ws_send(c, app.frame, metrics_len, WEBSOCKET_OP_TEXT) === 0) return;
  const from = cursor_get(c);
  if (from >= app.ring.next) return;
  const room = c.send.size - c.send.len - 8;
  if (room < 64) return;
  const next = log_json(app, app.lframe, room, from, true);
  const l = frame_view(app);
  if (next > from && mg_ws_send(c, l.buf, l.len, WEBSOCKET_OP_TEXT) > 0) cursor_set(c, next);
}

/** Every interval_ms: one metrics frame to every dashboard WebSocket, then their new log lines. */
function dash_tick(app: dash_app): void {
  sntp_poll(app);
  let n = -1;
  for (let c = app.mgr.conns; c !== null; c = c.next) {
    if (!c.is_websocket || c.is_closing || c.is_draining || c.label !== WS_LABEL) continue;
    if (n < 0) {
      metrics_json(app);
      n = frame_view(app).len;
    }
    ws_push(app, c, n);
  }
}

// --- start and stop -------------------------------------------------------------------

/** Installs the log ring as the log sink; lines still reach the HAL's console. */
function log_sink(buf: Uint8Array, ofs: number, len: number, app: dash_app): void {
  app.ring.add(buf, ofs, len, Math.floor(mg_millis() - app.started));
  app.mgr.hal?.log(buf, ofs, len);
}

/**
 * Starts the dashboard on an initialised manager: loads the settings,
 * listens, starts the ticker. Throws when it cannot listen.
 */
export function dash_init(mgr: mg_mgr, opts: DashOptions): dash_app {
  const app = new dash_app(mgr, opts.board, opts.user ?? "admin", opts.pass ?? "admin", opts.files);
  app.started = mg_millis();
  mg_log_set_fn(log_sink, app);
  rpc_init(app);
  app.settings.sntp = opts.board.sntp_server();
  const saved = opts.board.settings_load();
  if (saved !== null) {
    app.pending.copy(app.settings); // keys the saved settings lack keep their defaults
    const why = dash_settings_parse(saved, app.pending);
    if (why === "") app.settings.copy(app.pending);
    else MG_ERROR("dash: saved settings ignored: %s", why);
  }
  settings_apply(app);
  app.tls = opts.tls ?? null;
  const url = opts.url ?? `${app.tls !== null ? "https" : "http"}://${opts.host ?? "0.0.0.0"}:${opts.port ?? 8000}`;
  const l = mg_http_listen(mgr, url, dash_handler as any, app);
  if (l === null) {
    dash_free(app);
    throw new Error("dashboard: cannot listen on " + url);
  }
  app.url = url;
  app.port = l.loc.port;
  MG_INFO("dash: %s on %s, board %s", app.settings.device_name, url, opts.board.name);
  return app;
}

/** Stops the ticker and gives the log back to the HAL (the connections go with mg_mgr_free). */
export function dash_free(app: dash_app): void {
  if (app.timer !== null) mg_timer_free(app.mgr, app.timer);
  app.timer = null;
  app.sntp_url = "";
  if (app.sntp_conn !== null) app.sntp_conn.is_closing = true;
  mg_log_set_fn(null);
}

/** The app: a manager, the dashboard on it, and the event loop running. */
export function main(opts: DashOptions): mg_mgr {
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, opts.hal);
  mgr.userdata = dash_init(mgr, opts);
  mg_mgr_run(mgr, 1000);
  return mgr;
}
