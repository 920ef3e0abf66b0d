// The event manager, the connection pool and the core events (Mongoose's
// net.c, sock.c and event.c in one place).
//
// Memory model: mg_mgr_init makes MG_MAX_CONNS connections, each with its
// MG_IO_SIZE recv and send buffers, plus MG_MAX_TIMERS timers. After that the
// core allocates nothing on the data path: accept, read, write, events and
// close reuse those objects. Event data is passed as numbers or preallocated
// objects, never as fresh ones.
import type { mg_hal, mg_hal_tls } from "../hal/hal.js";
import { HAL_CONNECTING, HAL_EOF, HAL_ERROR, HAL_OPEN, HAL_TLS_HS } from "../hal/hal.js";
import { mg_addr } from "./addr.js";
import {
  MG_CONNECT_TIMEOUT_MS,
  MG_DATA_SIZE,
  MG_DNS_TIMEOUT_MS,
  MG_ENABLE_EVICT,
  MG_ENABLE_HEXDUMP,
  MG_ENABLE_TLS,
  MG_ENABLE_UDP,
  MG_EVICT_IDLE_MS,
  MG_IDLE_TIMEOUT_MS,
  MG_IO_SIZE,
  MG_MAX_CONNS,
  MG_MAX_CONNS_PER_IP,
  MG_MAX_TLS_CONNS,
  MG_MAX_TIMERS,
  MG_SNTP_TIMEOUT_MS,
} from "./config.js";
import { mg_print_ip_port, mg_va, mg_vxprintf, mg_xout } from "./fmt.js";
import { mg_copy, mg_iobuf } from "./iobuf.js";
import { MG_DEBUG, MG_ERROR, MG_LL_ERROR, mg_hexdump, mg_log_error_value, mg_log_init, MG_INFO } from "./log.js";
import { mg_str, mg_str_n, mg_str_set, mg_utf8_len, mg_utf8_put } from "./str.js";
import {
  MG_TIMER_AUTODELETE,
  mg_timer,
  mg_timer_init,
  mg_timer_list,
  mg_timer_next,
  mg_timer_poll,
  mg_timer_unlink,
} from "./timer.js";
import { tls_params, type mg_tls_opts } from "./tls.js";
import { mg_aton, mg_url_host, mg_url_is_ssl, mg_url_port } from "./url.js";
import { mg_random_set } from "./util.js";

export { mg_addr }; // lives in addr.ts, below the HAL, fmt and url; users get it here as before

// Events, numbered as Mongoose 7's enum mg_event so handlers port unchanged.
export const MG_EV_ERROR = 0; // ev_data: string, the error message
export const MG_EV_OPEN = 1; // ev_data: null, or the url string for mg_connect
export const MG_EV_POLL = 2; // ev_data: number, mg_millis()
export const MG_EV_RESOLVE = 3; // host name resolved
export const MG_EV_CONNECT = 4; // outbound connection established
export const MG_EV_ACCEPT = 5; // inbound connection accepted
export const MG_EV_TLS_HS = 6; // TLS handshake done, the peer verified (ev_data: null)
export const MG_EV_READ = 7; // ev_data: number, bytes appended to c.recv
export const MG_EV_WRITE = 8; // ev_data: number, bytes written from c.send
export const MG_EV_CLOSE = 9; // connection about to be freed
export const MG_EV_HTTP_HDRS = 10;
export const MG_EV_HTTP_MSG = 11;
export const MG_EV_WS_OPEN = 12;
export const MG_EV_WS_MSG = 13;
export const MG_EV_WS_CTL = 14;
export const MG_EV_MQTT_CMD = 15;
export const MG_EV_MQTT_MSG = 16;
export const MG_EV_MQTT_OPEN = 17;
export const MG_EV_SNTP_TIME = 18;
export const MG_EV_WAKEUP = 19; // ev_data: mg_str, the payload given to mg_wakeup
export const MG_EV_USER = 23; // first number free for applications

/**
 * An event handler: Mongoose's mg_event_handler_t. fn_data is passed as a
 * fourth argument, as in the API reference this follows (7.x also keeps it in
 * c.fn_data).
 */
export type mg_event_handler_t = (c: mg_connection, ev: number, ev_data: any, fn_data: any) => void;

export class mg_connection {
  next: mg_connection | null = null; // the manager's list of live connections
  mgr: mg_mgr;
  loc = new mg_addr();
  rem = new mg_addr();
  /** The HAL socket handle (Mongoose's fd), -1 when none. */
  fd = -1;
  id = 0;
  recv: mg_iobuf;
  send: mg_iobuf;
  fn: mg_event_handler_t | null = null;
  fn_data: any = null;
  pfn: mg_event_handler_t | null = null;
  pfn_data: any = null;
  /** Arbitrary label. TypeScript adaptation: a string rather than char[50]. */
  label = "";
  /** Scratch bytes for the application or a protocol (Mongoose's c->data). */
  data: Uint8Array;
  /** The TLS options given to mg_tls_init (Mongoose's c->tls holds its TLS state; here the HAL holds that). */
  tls: mg_tls_opts | null = null;
  /** The URL given to mg_connect ("" otherwise): its host is the TLS name by default. */
  url = "";
  is_listening = false;
  is_client = false;
  is_accepted = false;
  is_resolving = false;
  is_connecting = false;
  is_tls = false;
  is_tls_hs = false;
  is_udp = false;
  is_websocket = false;
  is_mqtt5 = false;
  is_hexdumping = false;
  is_draining = false;
  is_closing = false;
  is_full = false;
  is_resp = false;
  is_readable = false;
  is_writable = false;
  /** Mongoose 6.x flags (MG_F_*), for connections in 6.x mode (mg_set_protocol_http_websocket). */
  flags = 0;
  /** mg_millis() after which the connection fails with MG_EV_ERROR "timeout"; 0 = none. See mg_set_timeout. */
  deadline = 0;

  // Internal state, named for what it is.
  in_use = false;
  pool_next: mg_connection | null = null;
  resolve_req = -1;
  /** A pipe end made by mg_mkpipe: fed by mg_wakeup, no HAL socket. */
  is_pipe = false;
  /** TLS started in the HAL (counted in mgr.tls_conns); tls_hal is what it was given, made once per pooled connection. */
  tls_on = false;
  tls_hal: mg_hal_tls | null = null;
  /** mg_millis() of the last byte in or out, or of the start of a connect/resolve. */
  last_io = 0;
  /**
   * Protocol state (HTTP, WebSocket), made once per pooled connection by the
   * first protocol that needs it and kept across reuse: the protocol resets
   * it when a connection starts, so nothing is allocated per connection.
   */
  proto: any = null;
  /**
   * MQTT state (src/mqtt.ts), made once per pooled connection and kept
   * across reuse like proto; apart from it because MQTT also runs over
   * WebSocket, whose state is in proto.
   */
  mqtt: any = null;

  constructor(mgr: mg_mgr, io_size: number) {
    this.mgr = mgr;
    this.recv = new mg_iobuf(io_size);
    this.send = new mg_iobuf(io_size);
    this.data = new Uint8Array(MG_DATA_SIZE);
  }
}

export class mg_mgr {
  /** Live connections, newest first (Mongoose's mgr->conns). */
  conns: mg_connection | null = null;
  nextid = 1;
  dnstimeout = MG_DNS_TIMEOUT_MS;
  /** Close a connection that has seen no traffic this long; 0 = never. */
  idle_timeout = MG_IDLE_TIMEOUT_MS;
  connect_timeout = MG_CONNECT_TIMEOUT_MS;
  /** Connections with TLS started, at most MG_MAX_TLS_CONNS. */
  tls_conns = 0;
  /** How long an SNTP request waits before it is sent again (doubling each time); see src/sntp.ts. */
  sntp_timeout = MG_SNTP_TIMEOUT_MS;
  /** Accepted connections one client address may hold at once; 0 = no limit (see MG_MAX_CONNS_PER_IP). */
  max_conns_per_ip = MG_MAX_CONNS_PER_IP;
  userdata: any = null;
  hal: mg_hal | null = null;
  pool: mg_connection[] = [];
  free: mg_connection | null = null;
  timers = new mg_timer_list();
  /** Set when a poll left work that needs another poll soon (more data to read, bytes to write). */
  busy = false;
  in_poll = false;
  // mg_mgr_run state
  running = false;
  run_ms = 0;
  wake_fn: (() => void) | null = null;
  // mg_wakeup state
  wakeup: WakeupQueue | null = null;
  /** Protocol scratch shared by the manager's connections (the HTTP message), made once. */
  proto: any = null;
  /** Pool defence: a protocol's view of its connections (see pick_victim); HTTP sets it. */
  evict_fn: ((c: mg_connection, now: number, out: mg_evict_info) => number) | null = null;
  evict_info = new mg_evict_info();
  /** The poll's next connection: a connection freed during the poll (an eviction) moves it on. */
  iter_next: mg_connection | null = null;
  // refusals and evictions since the last log line about them (poll_accept)
  refused = 0;
  evicted = 0;
  pool_log_t0 = 0;
  /** mg_millis() of the wakeup asked for when a connection becomes evictable (poll_accept). */
  evict_wait = 0;
  peer = new mg_addr(); // a new connection's address, for MG_MAX_CONNS_PER_IP
  // scratch objects reused by the core, made once
  out = new mg_xout();
  ap = new mg_va();
  wakeup_str = mg_str();
}

/** What a protocol tells the pool about a connection (mgr.evict_fn): EVICT_YES with info, EVICT_NO, or EVICT_DEFAULT (not its connection). */
export const EVICT_NO = 0;
export const EVICT_YES = 1;
export const EVICT_DEFAULT = 2;
/**
 * Filled by mgr.evict_fn for EVICT_YES: the age of what the connection is
 * waiting for, the bytes it brought meanwhile, the age before it may be
 * evicted, and whether it is moving now (an upload arriving at a healthy
 * rate: taken only as a last resort).
 */
export class mg_evict_info {
  age = 0;
  bytes = 0;
  min_age = 0;
  moving = false;
}

// The HAL used when mg_mgr_init is given none: the platform's start-up code
// (the host simulator, the device's main) sets it with mg_hal_default().
// Run-time state (config.ts: module state).
class Defaults {
  hal: mg_hal | null = null;
  clock: mg_hal | null = null; // the HAL of the last manager made, for mg_millis
  /** The wall clock: the epoch ms at which mg_millis() was 0 (mg_now); 0 until SNTP or mg_now_set sets it. */
  boot_timestamp = 0;
}
function net_state(): Defaults {
  return ((globalThis as any).mgts_net ??= new Defaults());
}

/** Sets the HAL that mg_mgr_init uses when called without one. */
export function mg_hal_default(hal: mg_hal): void {
  net_state().hal = hal;
}

/**
 * Initialises an event manager: makes the connection pool and its buffers.
 *
 * TypeScript adaptation: `const mgr = new mg_mgr(); mg_mgr_init(mgr)`. The
 * optional second argument picks the HAL (the network beneath); without it
 * the one set by mg_hal_default is used. The allocation happens here, at run
 * time, and not when the module loads: Moddable preloads modules into flash,
 * where typed arrays become read-only.
 */
export function mg_mgr_init(mgr: mg_mgr, hal?: mg_hal): void {
  const D = net_state();
  const h = hal ?? D.hal;
  if (h == null) throw new Error("mg_mgr_init: no HAL (pass one, or call mg_hal_default first)");
  mgr.hal = h;
  D.clock = h;
  mgr.conns = null;
  mgr.free = null;
  mgr.refused = mgr.evicted = mgr.pool_log_t0 = mgr.evict_wait = 0;
  if (mgr.pool.length === 0) {
    for (let i = 0; i < MG_MAX_CONNS; i++) mgr.pool.push(new mg_connection(mgr, MG_IO_SIZE));
  }
  for (let i = MG_MAX_CONNS - 1; i >= 0; i--) {
    const c = mgr.pool[i];
    c.in_use = false;
    c.pool_next = mgr.free;
    mgr.free = c;
  }
  if (mgr.timers.table.length === 0) {
    for (let i = 0; i < MG_MAX_TIMERS; i++) mgr.timers.table.push(new mg_timer());
  }
  mg_log_init(
    (b: Uint8Array, o: number, n: number) => h.log(b, o, n),
    () => h.millis(),
  );
  mg_random_set((b: Uint8Array, o: number, n: number) => h.random(b, o, n));
}

/** Monotonic milliseconds of the HAL the last manager was made with. */
export function mg_millis(): number {
  const D = net_state();
  const h = D.clock ?? D.hal;
  return h !== null ? h.millis() : 0;
}

// The wall clock (Mongoose's mg_now): mg_millis() plus the epoch time at
// which mg_millis() was 0, which SNTP sets; kept in net_state() (run-time
// state, config.ts: module state).

/**
 * Milliseconds since the Unix epoch once the clock has been set (by SNTP, or
 * mg_now_set); before that, mg_millis(): the uptime, as in Mongoose.
 * mg_boot_timestamp() tells which (0 until set).
 */
export function mg_now(): number {
  return mg_millis() + net_state().boot_timestamp;
}

/** Sets the wall clock: epoch_ms is the time now. SNTP calls it; an RTC or GPS driver may too (an mgts addition). */
export function mg_now_set(epoch_ms: number): void {
  net_state().boot_timestamp = epoch_ms - mg_millis();
}

/** The epoch time (ms) at which mg_millis() was 0; 0 while the clock is not set (an mgts addition). */
export function mg_boot_timestamp(): number {
  return net_state().boot_timestamp;
}

function alloc_conn(mgr: mg_mgr): mg_connection | null {
  const c = mgr.free;
  if (c === null) return null;
  mgr.free = c.pool_next;
  c.pool_next = null;
  reset_conn(c);
  c.in_use = true;
  c.id = mgr.nextid++;
  c.last_io = mgr.hal!.millis();
  c.next = mgr.conns;
  mgr.conns = c;
  // A connection made during a poll is not visited by it: ask for another
  // poll at once, as the HAL will not announce data that already arrived.
  if (mgr.in_poll) mgr.busy = true;
  return c;
}

function reset_conn(c: mg_connection): void {
  c.next = null;
  c.fd = -1;
  c.recv.len = 0;
  c.send.len = 0;
  c.fn = null;
  c.fn_data = null;
  c.pfn = null;
  c.pfn_data = null;
  c.label = "";
  c.data.fill(0);
  c.loc.port = 0;
  c.loc.is_ip6 = false;
  c.loc.ip.fill(0);
  c.rem.port = 0;
  c.rem.is_ip6 = false;
  c.rem.ip.fill(0);
  c.is_listening = c.is_client = c.is_accepted = c.is_resolving = c.is_connecting = false;
  c.is_tls = c.is_tls_hs = c.is_udp = c.is_websocket = c.is_mqtt5 = c.is_hexdumping = false;
  c.is_draining = c.is_closing = c.is_full = c.is_resp = c.is_readable = c.is_writable = false;
  c.flags = 0;
  c.deadline = 0;
  c.resolve_req = -1;
  c.is_pipe = false;
  c.tls = null;
  c.url = "";
  c.tls_on = false;
}

function free_conn(mgr: mg_mgr, c: mg_connection): void {
  if (mgr.iter_next === c) mgr.iter_next = c.next;
  // unlink from the live list
  if (mgr.conns === c) mgr.conns = c.next;
  else {
    let p = mgr.conns;
    while (p !== null && p.next !== c) p = p.next;
    if (p !== null) p.next = c.next;
  }
  if (c.fd >= 0) mgr.hal!.close(c.fd);
  if (c.tls_on) mgr.tls_conns--;
  if (c.resolve_req >= 0) mgr.hal!.resolve_cancel(c.resolve_req);
  reset_conn(c);
  c.in_use = false;
  c.pool_next = mgr.free;
  mgr.free = c;
}

/**
 * Calls the protocol handler, then the user handler (Mongoose's mg_call).
 * A handler that throws does not escape: its connection gets MG_EV_ERROR and
 * is closed, and every other connection carries on.
 */
export function mg_call(c: mg_connection, ev: number, ev_data: any): void {
  try {
    const pfn = c.pfn;
    if (pfn !== null) pfn(c, ev, ev_data, c.pfn_data);
    const fn = c.fn;
    if (fn !== null) fn(c, ev, ev_data, c.fn_data);
  } catch (e) {
    handler_threw(c, ev, e);
  }
}

/**
 * Calls the user handler alone with a protocol's own event (MG_EV_HTTP_MSG,
 * MG_EV_WS_MSG, ...): the protocol handler is the caller. A throw is treated
 * as in mg_call.
 */
export function mg_call_user(c: mg_connection, ev: number, ev_data: any): void {
  const fn = c.fn;
  if (fn === null) return;
  try {
    fn(c, ev, ev_data, c.fn_data);
  } catch (e) {
    handler_threw(c, ev, e);
  }
}

function handler_threw(c: mg_connection, ev: number, e: unknown): void {
  mg_log_error_value(MG_LL_ERROR, "event handler threw: ", e);
  if (ev === MG_EV_ERROR || ev === MG_EV_CLOSE || c.is_closing) {
    c.is_closing = true; // no second error event for a connection already on its way out
    return;
  }
  let msg = "handler exception";
  try {
    msg = "handler exception: " + (e instanceof Error ? e.message : String(e));
  } catch {
    // keep the plain message
  }
  mg_error(c, "%s", msg);
}

/**
 * Reports an error: marks the connection closing first, then fires
 * MG_EV_ERROR with the formatted message (cut to 63 characters, as Mongoose).
 */
export function mg_error(c: mg_connection, fmt: string, ...args: any[]): void {
  c.is_closing = true;
  let msg: string;
  try {
    msg = mg_format(fmt, args);
  } catch {
    msg = fmt;
  }
  if (msg.length > 63) msg = msg.slice(0, 63);
  MG_ERROR("%lu %s", c.id, msg);
  mg_call(c, MG_EV_ERROR, msg);
}

function mg_format(fmt: string, args: any[]): string {
  // Errors are rare; a plain string build is fine here.
  const b = new Uint8Array(128);
  const o = new mg_xout();
  o.buf = b;
  o.ofs = 0;
  o.cap = b.length;
  o.n = 0;
  const ap = new mg_va();
  ap.a = args;
  ap.i = 0;
  mg_vxprintf(o, fmt, ap);
  return mg_str_n(b, 0, o.n > b.length ? b.length : o.n).toString();
}

// --- URLs to addresses -------------------------------------------------

/** True when url names UDP (udp://). */
function is_udp_url(url: string): boolean {
  return url.length >= 6 && url.slice(0, 6).toLowerCase() === "udp://";
}

// --- listen and connect -----------------------------------------------

/** Whether TLS can be used: built in (MG_ENABLE_TLS) and the HAL has it. */
function tls_capable(hal: mg_hal): boolean {
  return MG_ENABLE_TLS && hal.tls !== undefined;
}

/**
 * Creates a listening connection: tcp://ip:port (any scheme but udp:// means
 * TCP) or udp://ip:port. Returns null on failure. An empty host means 0.0.0.0.
 * A TLS scheme (https://, wss://, mqtts://...) sets is_tls, which accepted
 * connections inherit: mg_tls_init on MG_EV_ACCEPT (or on the listener)
 * gives them the certificate. Without TLS in the build or the HAL it fails.
 */
export function mg_listen(mgr: mg_mgr, url: string, fn: mg_event_handler_t | null, fn_data: any): mg_connection | null {
  const hal = mgr.hal!;
  const udp = is_udp_url(url);
  if (udp && !MG_ENABLE_UDP) return null;
  const tls = mg_url_is_ssl(url);
  if (tls && !tls_capable(hal)) {
    MG_ERROR("listen %s: TLS not available", url);
    return null;
  }
  const c = alloc_conn(mgr);
  if (c === null) {
    MG_ERROR("listen %s: connection pool is full (MG_MAX_CONNS)", url);
    return null;
  }
  const host = mg_url_host(url);
  if (!mg_aton(host.len === 0 ? "0.0.0.0" : host, c.loc)) {
    MG_ERROR("listen %s: not an IP address", url);
    free_conn(mgr, c);
    return null;
  }
  c.loc.port = mg_url_port(url);
  const fd = hal.listen(c.loc, udp);
  if (fd < 0) {
    MG_ERROR("listen %s: failed", url);
    free_conn(mgr, c);
    return null;
  }
  c.fd = fd;
  hal.addr(fd, true, c.loc);
  c.is_listening = true;
  c.is_udp = udp;
  c.is_tls = tls;
  c.fn = fn;
  c.fn_data = fn_data;
  MG_DEBUG("%lu listening on %s", c.id, url);
  mg_call(c, MG_EV_OPEN, null);
  return c;
}

/**
 * Creates an outbound connection. Host names go through the HAL's resolver
 * (MG_EV_RESOLVE), IP literals connect at once. The connection is
 * established asynchronously: MG_EV_CONNECT, or MG_EV_ERROR. Returns null if
 * the pool is full or the url is empty.
 *
 * A TLS scheme (mg_url_is_ssl: https://, wss://, mqtts://, ssl://, tls://,
 * tcps://) sets is_tls: TLS starts after MG_EV_CONNECT, with the options of
 * an mg_tls_init call on MG_EV_CONNECT if there is one, else with the
 * platform's CAs and the URL's host as the name. Where TLS is not available
 * such a URL fails with MG_EV_ERROR "TLS not available" and nothing is sent
 * (Mongoose would connect in plaintext).
 */
export function mg_connect(mgr: mg_mgr, url: string, fn: mg_event_handler_t | null, fn_data: any): mg_connection | null {
  return mg_connect_svc(mgr, url, fn, fn_data, null, null);
}

/** mg_connect with a protocol handler: what the HTTP, WS and MQTT clients use. */
export function mg_connect_svc(
  mgr: mg_mgr,
  url: string,
  fn: mg_event_handler_t | null,
  fn_data: any,
  pfn: mg_event_handler_t | null,
  pfn_data: any,
): mg_connection | null {
  if (url == null || url.length === 0) return null;
  const c = alloc_conn(mgr);
  if (c === null) {
    MG_ERROR("connect %s: connection pool is full (MG_MAX_CONNS)", url);
    return null;
  }
  c.is_client = true;
  c.is_udp = is_udp_url(url);
  c.is_tls = mg_url_is_ssl(url);
  c.url = url;
  c.fn = fn;
  c.fn_data = fn_data;
  c.pfn = pfn;
  c.pfn_data = pfn_data;
  mg_call(c, MG_EV_OPEN, url);
  if (c.is_closing) return c;
  if (c.is_tls && !tls_capable(mgr.hal!)) {
    mg_error(c, "TLS not available");
    return c;
  }
  const host = mg_url_host(url);
  const literal = mg_aton(host, c.rem);
  c.rem.port = mg_url_port(url);
  if (literal) {
    connect_resolved(c);
  } else {
    const req = mgr.hal!.resolve(host.toString(), false);
    if (req < 0) {
      mg_error(c, "%s DNS lookup failed", host);
    } else {
      c.resolve_req = req;
      c.is_resolving = true;
    }
  }
  return c;
}

function connect_resolved(c: mg_connection): void {
  const hal = c.mgr.hal!;
  mg_call(c, MG_EV_RESOLVE, null);
  if (c.is_closing) return;
  if (c.is_udp && !MG_ENABLE_UDP) {
    mg_error(c, "UDP is disabled");
    return;
  }
  const fd = hal.connect(c.rem, c.is_udp);
  if (fd < 0) {
    mg_error(c, "socket error");
    return;
  }
  c.fd = fd;
  c.last_io = hal.millis();
  if (c.is_udp) {
    hal.addr(fd, true, c.loc);
    mg_call(c, MG_EV_CONNECT, null);
  } else {
    c.is_connecting = true;
  }
}

/**
 * Wraps an open HAL socket handle as a connection (mg_wrapfd). In mgts an
 * "fd" is a HAL handle: hal.connect()/accept() results, or one end of
 * mg_mkpipe. The connection's addresses are filled from the HAL.
 */
export function mg_wrapfd(mgr: mg_mgr, fd: number, fn: mg_event_handler_t | null, fn_data: any): mg_connection | null {
  const c = alloc_conn(mgr);
  if (c === null) return null;
  c.fd = fd;
  c.fn = fn;
  c.fn_data = fn_data;
  mgr.hal!.addr(fd, true, c.loc);
  mgr.hal!.addr(fd, false, c.rem);
  mg_call(c, MG_EV_OPEN, null);
  return c;
}

// --- sending ------------------------------------------------------------

/**
 * Appends bytes to c.send. They go out in a later poll.
 * - Uint8Array: len bytes (default: all) from ofs (default 0).
 * - mg_str: the bytes it views.
 * - string: its UTF-8 encoding, written straight into the buffer.
 * Returns false, appending nothing, when they do not fit: buffers never grow
 * (MG_IO_SIZE). Wait for MG_EV_WRITE and send the rest then.
 */
export function mg_send(c: mg_connection, data: Uint8Array | mg_str | string, len?: number, ofs?: number): boolean {
  const s = c.send;
  let n: number;
  if (typeof data === "string") {
    n = mg_utf8_put(data, s.buf, s.len, s.size - s.len);
    if (n > s.size - s.len) return false;
  } else if (data instanceof Uint8Array) {
    const o = ofs ?? 0;
    n = len ?? data.length - o;
    if (n > s.size - s.len) return false;
    mg_copy(s.buf, s.len, data, o, n);
  } else {
    n = data.len;
    if (n > s.size - s.len) return false;
    mg_copy(s.buf, s.len, data.buf, data.ofs, n);
  }
  s.len += n;
  mg_mgr_kick(c.mgr);
  return true;
}

/**
 * Fails the connection with MG_EV_ERROR "timeout" if it is still open ms from
 * now (0 clears). An mgts addition: Mongoose's users build this from
 * MG_EV_POLL and mg_timer_expired; an HTTP client wants it every time.
 */
export function mg_set_timeout(c: mg_connection, ms: number): void {
  c.deadline = ms > 0 ? c.mgr.hal!.millis() + ms : 0;
}

/** Free space in c.send: how much mg_send can take now. */
export function mg_send_space(c: mg_connection): number {
  return c.send.size - c.send.len;
}

/**
 * printf into c.send (see mg_snprintf for the format). Returns the number of
 * bytes appended, or 0 when the result does not fit (then nothing is added).
 * Takes JS strings, so it allocates on XS; the allocation-free path is
 * mg_send with bytes prepared once.
 */
export function mg_printf(c: mg_connection, fmt: string, ...args: any[]): number {
  const ap = c.mgr.ap;
  const saved_a = ap.a;
  const saved_i = ap.i;
  ap.a = args;
  ap.i = 0;
  const n = mg_vprintf(c, fmt, ap);
  ap.a = saved_a;
  ap.i = saved_i;
  return n;
}

/** mg_printf with an argument cursor (C's va_list). */
export function mg_vprintf(c: mg_connection, fmt: string, ap: mg_va): number {
  const s = c.send;
  const o = c.mgr.out;
  const saved_buf = o.buf, saved_ofs = o.ofs, saved_cap = o.cap, saved_n = o.n;
  o.buf = s.buf;
  o.ofs = s.len;
  o.cap = s.size - s.len;
  o.n = 0;
  mg_vxprintf(o, fmt, ap);
  const n = o.n;
  const fits = n <= o.cap;
  o.buf = saved_buf;
  o.ofs = saved_ofs;
  o.cap = saved_cap;
  o.n = saved_n;
  if (!fits) return 0;
  s.len += n;
  mg_mgr_kick(c.mgr);
  return n;
}

// --- the poll -----------------------------------------------------------

/**
 * One pass over every connection: timers, then for each connection
 * MG_EV_POLL, accept / resolve / connect progress, one read, one write, and
 * closing. Never blocks and never throws.
 *
 * TypeScript adaptation: C's `for (;;) mg_mgr_poll(&mgr, 1000);` would block
 * an event-driven runtime, so `ms` is not waited here. Run the loop with
 * mg_mgr_run(mgr, ms), which polls as soon as the HAL reports socket activity
 * and at least every ms; tests call mg_mgr_poll(mgr, 0) directly.
 */
export function mg_mgr_poll(mgr: mg_mgr, ms: number): void {
  const hal = mgr.hal;
  if (hal === null || mgr.in_poll) return;
  mgr.in_poll = true;
  mgr.busy = false;
  try {
    const now = hal.millis();
    mg_timer_poll(mgr.timers, now);
    if (mgr.wakeup !== null) deliver_wakeups(mgr);
    let c = mgr.conns;
    while (c !== null) {
      mgr.iter_next = c.next;
      poll_conn(mgr, hal, c, now);
      c = mgr.iter_next;
    }
    mgr.iter_next = null;
  } catch (e) {
    // Only a bug in mgts itself can get here; the loop must survive it.
    mg_log_error_value(MG_LL_ERROR, "mg_mgr_poll: ", e);
  }
  mgr.in_poll = false;
}

function poll_conn(mgr: mg_mgr, hal: mg_hal, c: mg_connection, now: number): void {
  try {
    if (!c.is_closing) mg_call(c, MG_EV_POLL, now);
    if (c.loc.port === 0 && c.fd >= 0 && !c.is_connecting && hal.state(c.fd) === HAL_OPEN) {
      hal.addr(c.fd, true, c.loc); // some HALs (Node) bind after listen() returns
    }
    if (!c.is_closing) {
      if (c.is_resolving) poll_resolve(mgr, hal, c, now);
      // a UDP listener whose bind failed is reported there too (it accepts nothing)
      else if (c.is_listening && (!c.is_udp || hal.state(c.fd) === HAL_ERROR)) poll_accept(mgr, hal, c, now);
      else if (c.fd >= 0) poll_io(mgr, hal, c, now);
    }
    if (c.deadline > 0 && now > c.deadline && !c.is_closing) mg_error(c, "timeout");
    if (c.is_draining && c.send.len === 0) c.is_closing = true;
    if (c.is_closing) close_conn(mgr, c);
  } catch (e) {
    mg_log_error_value(MG_LL_ERROR, "poll: ", e);
    close_conn(mgr, c);
  }
}

function close_conn(mgr: mg_mgr, c: mg_connection): void {
  if (!c.in_use) return;
  MG_DEBUG("%lu closed", c.id);
  c.is_closing = true;
  mg_call(c, MG_EV_CLOSE, null);
  free_conn(mgr, c);
}

function poll_resolve(mgr: mg_mgr, hal: mg_hal, c: mg_connection, now: number): void {
  const r = hal.resolved(c.resolve_req, c.rem);
  if (r === 0) {
    if (now - c.last_io > mgr.dnstimeout) {
      hal.resolve_cancel(c.resolve_req);
      c.resolve_req = -1;
      c.is_resolving = false;
      mg_error(c, "DNS timeout");
    }
    return;
  }
  c.resolve_req = -1;
  c.is_resolving = false;
  if (r < 0) {
    mg_error(c, "DNS lookup failed");
    return;
  }
  connect_resolved(c);
}

/**
 * Accepts what is pending. The pool is the memory budget; when it is full
 * (mgts, beyond Mongoose, which refuses): a new connection takes the slot
 * of the connection that made the least progress (pick_victim); while no
 * connection may be evicted yet, the rest wait in the listen backlog; when
 * no connection could ever be (every slot is being answered), they are
 * refused. mgr.max_conns_per_ip bounds one address the same way. Refusals
 * and evictions are logged once a second, not once each.
 */
function poll_accept(mgr: mg_mgr, hal: mg_hal, lc: mg_connection, now: number): void {
  if (hal.state(lc.fd) === HAL_ERROR) {
    const why = hal.error !== undefined ? hal.error(lc.fd) : ""; // EADDRINUSE...: the user can act on it
    mg_error(lc, why !== "" ? "listener failed: %s" : "listener failed", why);
    return;
  }
  for (;;) {
    let victim: mg_connection | null = null;
    if (mgr.free === null && MG_ENABLE_EVICT) {
      victim = pick_victim(mgr, now, false);
      if (victim === null && mgr.evict_info.min_age > 0) {
        // one becomes evictable in evict_info.min_age ms: wait for it in the
        // backlog, and poll then (once: not a new wakeup every poll)
        if (now >= mgr.evict_wait) {
          mgr.evict_wait = now + mgr.evict_info.min_age;
          hal.timer(mgr.evict_info.min_age);
        }
        break;
      }
    }
    const fd = hal.accept(lc.fd);
    if (fd < 0) break;
    if (mgr.max_conns_per_ip > 0) {
      hal.addr(fd, false, mgr.peer);
      if (same_ip_count(mgr) >= mgr.max_conns_per_ip) {
        // the address competes with itself first
        victim = MG_ENABLE_EVICT ? pick_victim(mgr, now, true) : null;
        if (victim === null) {
          hal.close(fd);
          mgr.refused++;
          continue;
        }
      }
    }
    if (victim !== null) {
      MG_DEBUG("%lu evicted for a new connection: the pool is full", victim.id);
      mgr.evicted++;
      close_conn(mgr, victim);
    }
    const c = alloc_conn(mgr);
    if (c === null) {
      hal.close(fd);
      mgr.refused++;
      continue;
    }
    c.fd = fd;
    hal.addr(fd, true, c.loc);
    hal.addr(fd, false, c.rem);
    c.is_accepted = true;
    c.is_hexdumping = lc.is_hexdumping;
    c.fn = lc.fn;
    c.fn_data = lc.fn_data;
    c.pfn = lc.pfn;
    c.pfn_data = lc.pfn_data;
    c.is_tls = lc.is_tls; // TLS starts at the connection's first poll, after MG_EV_ACCEPT
    c.tls = lc.tls;
    MG_DEBUG("%lu accepted on %lu", c.id, lc.id);
    mg_call(c, MG_EV_OPEN, null);
    if (!c.is_closing) mg_call(c, MG_EV_ACCEPT, null);
  }
  if (mgr.refused + mgr.evicted > 0 && now - mgr.pool_log_t0 >= 1000) {
    if (mgr.refused > 0) MG_ERROR("accept: %d refused in the last second (pool full or per-address limit), %d evicted", mgr.refused, mgr.evicted);
    else MG_INFO("accept: %d evicted in the last second to make room (pool full)", mgr.evicted);
    mgr.refused = mgr.evicted = 0;
    mgr.pool_log_t0 = now;
  }
}

/**
 * The accepted connection that made the least progress and may be evicted
 * (same_ip: only among those of mgr.peer's address), or null. Progress is
 * bytes per second since what the connection waits for began (an HTTP head
 * or body; an idle connection brings none, so the longest idle goes
 * first); a connection younger than its min_age is spared, and one that
 * is moving (say, an upload arriving at a healthy rate) is taken only when
 * no other is or will soon be evictable. When none qualifies,
 * mgr.evict_info.min_age says how soon one will (0: never).
 */
function pick_victim(mgr: mg_mgr, now: number, same_ip: boolean): mg_connection | null {
  const info = mgr.evict_info;
  let best: mg_connection | null = null;
  let best_score = 0;
  let moving: mg_connection | null = null;
  let moving_score = 0;
  let soonest = 0;
  for (let c = mgr.conns; c !== null; c = c.next) {
    if (!c.is_accepted || c.is_closing) continue;
    if (same_ip && !same_ip_as(c.rem, mgr.peer)) continue;
    info.moving = false;
    let v = mgr.evict_fn !== null ? mgr.evict_fn(c, now, info) : EVICT_DEFAULT;
    if (v === EVICT_DEFAULT) {
      // a connection no protocol speaks for (raw TCP, WebSocket): idle both ways, nothing to send
      v = MG_EVICT_IDLE_MS > 0 && c.send.len === 0 ? EVICT_YES : EVICT_NO;
      info.age = now - c.last_io;
      info.bytes = 0;
      info.min_age = MG_EVICT_IDLE_MS;
    }
    if (v !== EVICT_YES) continue;
    if (c.is_tls_hs) info.moving = true; // a handshake takes its time (seconds on a device): not stuck, busy
    if (info.age < info.min_age) {
      const wait = info.min_age - info.age;
      if (soonest === 0 || wait < soonest) soonest = wait;
      continue;
    }
    const score = ((info.bytes + 1) * 1000) / (info.age > 0 ? info.age : 1);
    if (info.moving) {
      if (moving === null || score < moving_score) {
        moving = c;
        moving_score = score;
      }
    } else if (best === null || score < best_score) {
      best = c;
      best_score = score;
    }
  }
  if (best === null && soonest === 0) best = moving; // the last resort
  info.min_age = best === null ? soonest : 0;
  return best;
}

function same_ip_as(a: mg_addr, b: mg_addr): boolean {
  if (a.is_ip6 !== b.is_ip6) return false;
  const n = a.is_ip6 ? 16 : 4;
  for (let i = 0; i < n; i++) if (a.ip[i] !== b.ip[i]) return false;
  return true;
}

function same_ip_count(mgr: mg_mgr): number {
  let n = 0;
  for (let c = mgr.conns; c !== null; c = c.next) if (c.is_accepted && !c.is_closing && same_ip_as(c.rem, mgr.peer)) n++;
  return n;
}

function poll_io(mgr: mg_mgr, hal: mg_hal, c: mg_connection, now: number): void {
  const fd = c.fd;
  if (c.is_connecting) {
    const st = hal.state(fd);
    if (st === HAL_CONNECTING) {
      if (mgr.connect_timeout > 0 && now - c.last_io > mgr.connect_timeout) mg_error(c, "connect timeout");
      return;
    }
    if (st !== HAL_OPEN) {
      mg_error(c, "connect failed");
      return;
    }
    c.is_connecting = false;
    c.last_io = now;
    hal.addr(fd, true, c.loc);
    mg_call(c, MG_EV_CONNECT, null);
    if (c.is_closing) return;
  }
  // TLS starts after MG_EV_CONNECT / MG_EV_ACCEPT, before any byte is read or written
  if (MG_ENABLE_TLS && c.is_tls && !tls_ready(mgr, hal, c, now)) return;

  // Read: at most one read per poll, as Mongoose; the rest waits for the next.
  const r = c.recv;
  const avail = hal.readable(fd);
  c.is_readable = avail > 0;
  if (avail > 0) {
    const space = r.size - r.len;
    if (c.is_full || space === 0) {
      mgr.busy = mgr.busy || !c.is_full; // a protocol handler may free space on MG_EV_POLL
    } else {
      let n: number;
      if (c.is_udp) {
        n = hal.recvfrom(fd, r.buf, r.len, space, c.rem);
      } else {
        n = hal.read(fd, r.buf, r.len, avail < space ? avail : space);
        if (avail > space) mgr.busy = true;
      }
      if (n > 0) {
        if (MG_ENABLE_HEXDUMP && c.is_hexdumping) dump(c, "<-", r.buf, r.len, n);
        r.len += n;
        c.last_io = now;
        mg_call(c, MG_EV_READ, n);
        if (hal.readable(fd) > 0) mgr.busy = true;
      }
    }
  } else if (!c.is_udp) {
    const st = hal.state(fd);
    if (st === HAL_EOF || st === HAL_ERROR) {
      // Mongoose closes quietly on EOF or a reset: no MG_EV_ERROR. A TLS
      // failure (a bad record, an alert) is reported with its cause.
      const why = MG_ENABLE_TLS && c.is_tls && st === HAL_ERROR && hal.error !== undefined ? hal.error(fd) : "";
      if (why !== "") mg_error(c, "%s", why);
      c.is_closing = true;
      return;
    }
  }
  if (c.is_closing) return;
  // mg_tls_init on MG_EV_READ (STARTTLS): what follows it is encrypted
  if (MG_ENABLE_TLS && c.is_tls && !tls_ready(mgr, hal, c, now)) return;

  // Write
  const s = c.send;
  if (s.len > 0) {
    const w = hal.writable(fd);
    c.is_writable = w > 0;
    if (w > 0) {
      let n: number;
      if (c.is_udp && c.is_listening) {
        // A UDP "listener" answers whoever sent the last datagram: one datagram per poll.
        n = hal.sendto(fd, s.buf, 0, s.len, c.rem);
        if (n >= 0) n = s.len;
      } else {
        n = hal.write(fd, s.buf, 0, w < s.len ? w : s.len);
      }
      if (n < 0) {
        c.is_closing = true;
        return;
      }
      if (n > 0) {
        if (MG_ENABLE_HEXDUMP && c.is_hexdumping) dump(c, "->", s.buf, 0, n);
        s.buf.copyWithin(0, n, s.len);
        s.len -= n;
        c.last_io = now;
        mg_call(c, MG_EV_WRITE, n);
        if (s.len > 0) mgr.busy = true;
      }
    }
  } else {
    c.is_writable = hal.writable(fd) > 0;
  }

  if (mgr.idle_timeout > 0 && !c.is_listening && now - c.last_io > mgr.idle_timeout) {
    MG_DEBUG("%lu idle for %d ms, closing", c.id, now - c.last_io);
    c.is_closing = true;
  }
}

/** Whether c's TLS lets bytes through: starts it if mg_tls_init asked, waits for the handshake. */
function tls_ready(mgr: mg_mgr, hal: mg_hal, c: mg_connection, now: number): boolean {
  if (!c.tls_on && !tls_start(mgr, hal, c, now)) return false;
  return !c.is_tls_hs || tls_handshake(mgr, hal, c, now);
}

/** Starts TLS on c's socket; false (with MG_EV_ERROR) when it cannot. */
function tls_start(mgr: mg_mgr, hal: mg_hal, c: mg_connection, now: number): boolean {
  if (!tls_capable(hal)) {
    mg_error(c, "TLS not available");
    return false;
  }
  if (c.is_udp) {
    mg_error(c, "TLS over UDP is not supported");
    return false;
  }
  if (mgr.tls_conns >= MG_MAX_TLS_CONNS) {
    mg_error(c, "TLS: too many TLS connections (MG_MAX_TLS_CONNS)");
    return false;
  }
  const p = (c.tls_hal ??= { server: false, ca: null, cert: null, key: null, name: "", skip_verification: false });
  const why = tls_params(c, p);
  if (why !== "") {
    mg_error(c, "%s", why);
    return false;
  }
  if (p.skip_verification) MG_ERROR("%lu TLS: skip_verification: the peer's certificate and name are NOT checked", c.id);
  mgr.tls_conns++;
  c.tls_on = true;
  c.is_tls_hs = true;
  c.last_io = now; // the handshake gets connect_timeout of its own
  hal.tls!(c.fd, p);
  return true;
}

/** Waits for the handshake: true once it is done (MG_EV_TLS_HS fired), false while it runs or when it failed. */
function tls_handshake(mgr: mg_mgr, hal: mg_hal, c: mg_connection, now: number): boolean {
  const st = hal.state(c.fd);
  if (st === HAL_TLS_HS) {
    if (mgr.connect_timeout > 0 && now - c.last_io > mgr.connect_timeout) mg_error(c, "TLS handshake timeout");
    return false;
  }
  if (st !== HAL_OPEN && st !== HAL_EOF) {
    const why = hal.error !== undefined ? hal.error(c.fd) : "";
    mg_error(c, "%s", why !== "" ? why : "TLS handshake failed");
    return false;
  }
  c.is_tls_hs = false;
  c.last_io = now;
  mg_call(c, MG_EV_TLS_HS, null);
  return !c.is_closing;
}

function dump(c: mg_connection, dir: string, buf: Uint8Array, ofs: number, n: number): void {
  MG_INFO("-- %lu %M %s %M %d", c.id, mg_print_ip_port, c.loc, dir, mg_print_ip_port, c.rem, n);
  mg_hexdump(buf, ofs, n);
}

// --- the event-driven loop ---------------------------------------------

/**
 * Runs the manager on an event-driven runtime: the TypeScript form of C's
 * `for (;;) mg_mgr_poll(&mgr, ms);`.
 *
 * Returns at once. From then on the manager polls when the HAL reports
 * socket activity (data, space, connections, errors), again immediately
 * while a poll left work behind, when a timer is due, and at least every ms
 * (so MG_EV_POLL keeps its C rhythm). mg_mgr_stop or mg_mgr_free ends it.
 * Works the same on Node (setImmediate/setTimeout in hal/node) and on
 * Moddable (Timer and socket callbacks in hal/ecma419).
 */
export function mg_mgr_run(mgr: mg_mgr, ms: number): void {
  const hal = mgr.hal!;
  mgr.run_ms = ms > 0 ? ms : 1000;
  if (mgr.running) return;
  mgr.running = true;
  mgr.wake_fn ??= () => run_once(mgr);
  hal.wake(mgr.wake_fn, true);
  hal.timer(0);
}

/** Stops mg_mgr_run; the manager and its connections stay as they are. */
export function mg_mgr_stop(mgr: mg_mgr): void {
  if (!mgr.running) return;
  mgr.running = false;
  if (mgr.wake_fn !== null) mgr.hal!.wake(mgr.wake_fn, false);
}

function run_once(mgr: mg_mgr): void {
  if (!mgr.running) return;
  mg_mgr_poll(mgr, 0);
  if (!mgr.running) return;
  const hal = mgr.hal!;
  let wait = mgr.run_ms;
  if (mgr.busy || wakeup_pending(mgr)) wait = 0;
  else {
    const t = mg_timer_next(mgr.timers, hal.millis());
    if (t >= 0 && t < wait) wait = t;
  }
  hal.timer(wait);
}

/**
 * Asks a running loop (mg_mgr_run) for a prompt poll: protocols call it after
 * writing into c.send directly. mg_send and mg_printf do it themselves.
 */
export function mg_mgr_kick(mgr: mg_mgr): void {
  if (mgr.running && !mgr.in_poll) mgr.hal!.timer(0);
}

/**
 * Closes every connection (MG_EV_CLOSE on each), stops mg_mgr_run and frees
 * the timers. The pool stays allocated, so mg_mgr_init can reuse it.
 */
export function mg_mgr_free(mgr: mg_mgr): void {
  if (mgr.hal === null) return;
  mg_mgr_stop(mgr);
  for (let c = mgr.conns; c !== null; c = c.next) c.is_closing = true;
  mg_mgr_poll(mgr, 0);
  while (mgr.conns !== null) close_conn(mgr, mgr.conns);
  while (mgr.timers.head !== null) mg_timer_unlink(mgr.timers, mgr.timers.head);
  if (mgr.wakeup !== null) mgr.wakeup.reset();
}

// --- timers -------------------------------------------------------------

/**
 * Adds a timer from the manager's fixed table (MG_MAX_TIMERS). Returns it, or
 * null when the table is full. flags: MG_TIMER_ONCE, MG_TIMER_REPEAT,
 * MG_TIMER_RUN_NOW. A one-shot timer frees itself after it fires.
 */
export function mg_timer_add(mgr: mg_mgr, ms: number, flags: number, fn: (arg: any) => void, arg: any): mg_timer | null {
  const table = mgr.timers.table;
  for (let i = 0; i < table.length; i++) {
    const t = table[i];
    if (!t.in_use) {
      mg_timer_init(mgr.timers, t, ms, flags | MG_TIMER_AUTODELETE, fn, arg);
      if (mgr.running) mgr.hal!.timer(0);
      return t;
    }
  }
  MG_ERROR("mg_timer_add: timer table is full (MG_MAX_TIMERS)");
  return null;
}

/** Removes a timer made by mg_timer_add (or linked with mg_timer_init). */
export function mg_timer_free(mgr: mg_mgr, t: mg_timer): void {
  if (t.in_use) mg_timer_unlink(mgr.timers, t);
}

// --- wakeups: waking a connection from outside the loop -----------------

const WAKEUP_SLOTS = 16;
const WAKEUP_BYTES = 1024;

/**
 * The mg_wakeup queue, made by mg_wakeup_init: (connection id, payload)
 * records packed one after another. Every poll delivers all of them, so the
 * queue is emptied, not wrapped.
 */
class WakeupQueue {
  ids = new Float64Array(WAKEUP_SLOTS);
  ofs = new Int32Array(WAKEUP_SLOTS);
  lens = new Int32Array(WAKEUP_SLOTS);
  bytes = new Uint8Array(WAKEUP_BYTES);
  count = 0;
  used = 0;
  reset(): void {
    this.count = this.used = 0;
  }
}

function wakeup_pending(mgr: mg_mgr): boolean {
  return mgr.wakeup !== null && mgr.wakeup.count > 0;
}

/** Prepares mg_wakeup (makes its queue). Returns true. */
export function mg_wakeup_init(mgr: mg_mgr): boolean {
  mgr.wakeup ??= new WakeupQueue();
  return true;
}

/**
 * Delivers a payload to the connection with id `id` as MG_EV_WAKEUP
 * (ev_data: an mg_str) at the next poll, and wakes a running loop.
 *
 * TypeScript adaptation: Mongoose's mg_wakeup is its one thread-safe call,
 * writing to a socketpair. JavaScript has no threads sharing the manager;
 * what needs waking is code outside the loop's handlers (a Timer, a sensor
 * callback, a Worker's message handler). The payload is copied into a fixed
 * queue (16 messages, 1 KB in all); false when it is full or id is 0.
 */
export function mg_wakeup(mgr: mg_mgr, id: number, data: Uint8Array | string, len?: number): boolean {
  const q = mgr.wakeup;
  if (q === null || id === 0 || q.count === WAKEUP_SLOTS) return false;
  const n = typeof data === "string" ? mg_utf8_len(data) : (len ?? data.length);
  if (q.used + n > WAKEUP_BYTES) return false;
  if (typeof data === "string") mg_utf8_put(data, q.bytes, q.used, n);
  else mg_copy(q.bytes, q.used, data, 0, n);
  q.ids[q.count] = id;
  q.ofs[q.count] = q.used;
  q.lens[q.count] = n;
  q.count++;
  q.used += n;
  mg_mgr_kick(mgr);
  return true;
}

/**
 * Makes a connection that code outside the loop can feed: Mongoose's
 * mg_mkpipe. Returns the id to write to with mg_wakeup(mgr, id, data); the
 * data arrives on the connection as MG_EV_READ with the bytes in c.recv,
 * exactly as from a socket. udp is recorded (c.is_udp) for handlers that
 * care. Returns -1 when the pool is full.
 *
 * TypeScript adaptation: C returns a socket for a worker thread to send() to.
 * JavaScript code reaching the loop from outside (timers, sensor callbacks,
 * a Worker's onmessage on Moddable or Node) has no socket to write to, so
 * the pipe is the wakeup queue, on the host and on the device alike.
 */
export function mg_mkpipe(mgr: mg_mgr, fn: mg_event_handler_t | null, fn_data: any, udp: boolean): number {
  mg_wakeup_init(mgr);
  const c = alloc_conn(mgr);
  if (c === null) return -1;
  c.is_pipe = true;
  c.is_udp = udp;
  c.fn = fn;
  c.fn_data = fn_data;
  mg_call(c, MG_EV_OPEN, null);
  return c.id;
}

function deliver_wakeups(mgr: mg_mgr): void {
  const q = mgr.wakeup!;
  const s = mgr.wakeup_str;
  // A handler may queue more while we deliver; those wait for the next poll.
  const count = q.count;
  for (let i = 0; i < count; i++) {
    mg_str_set(s, q.bytes, q.ofs[i], q.lens[i]);
    for (let c = mgr.conns; c !== null; c = c.next) {
      if (c.id !== q.ids[i] || c.is_closing) continue;
      if (!c.is_pipe) {
        mg_call(c, MG_EV_WAKEUP, s);
        continue;
      }
      // a pipe: the bytes arrive as if read from a socket (what is beyond the buffer is dropped)
      const r = c.recv;
      const n = s.len < r.size - r.len ? s.len : r.size - r.len;
      mg_copy(r.buf, r.len, s.buf, s.ofs, n);
      r.len += n;
      if (n > 0) mg_call(c, MG_EV_READ, n);
    }
  }
  if (q.count === count) q.reset();
  else {
    // move the late arrivals to the front
    const first = q.ofs[count];
    q.bytes.copyWithin(0, first, q.used);
    for (let i = count; i < q.count; i++) {
      q.ids[i - count] = q.ids[i];
      q.ofs[i - count] = q.ofs[i] - first;
      q.lens[i - count] = q.lens[i];
    }
    q.count -= count;
    q.used -= first;
  }
}
