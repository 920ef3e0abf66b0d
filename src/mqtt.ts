// MQTT 3.1.1 (protocol level 4) and 5 (Mongoose's mqtt.c): the client, the
// server side of mg_mqtt_listen, MQTT over WebSocket, and a reconnect helper,
// in fixed buffers. Packets are parsed and their bytes written in
// src/mqtt_packet.ts; the broker is src/mqtt_broker.ts.
//
// mqtt_rx walks the packets in c.recv (or in a WebSocket message) and
// mqtt_packet acts on each one. Packets are built in place in c.send
// (begin/finish); nothing is copied out or allocated per packet.
//
// Beyond Mongoose 7, each documented at its function:
// - keepalive: a PINGREQ when nothing was sent for 3/4 of the keepalive, an
//   error and a close when the PINGRESP does not come (Mongoose sends none);
//   a server closes a client silent for 1.5 keepalives;
// - QoS 1 and 2 complete both ways within a fixed in-flight table
//   (MG_MQTT_MAX_INFLIGHT), exactly once for incoming QoS 2, and resent with
//   DUP after a reconnect to a present session (mg_mqtt_session);
// - mg_mqtt_client_start: reconnects with backoff and keeps the session;
// - strict input: every malformed packet is answered per the spec (v5
//   DISCONNECT with the reason code, v4 a close), the connection is freed
//   and nothing else is touched;
// - a packet larger than the buffers is refused, not streamed: a v5 peer is
//   told the limit (Maximum Packet Size) and one that sends more anyway gets
//   DISCONNECT 0x95; a v4 peer is closed. mg_mqtt_pub returns false for a
//   packet that cannot fit. Streaming would need the broker to forward pieces
//   to every subscriber at once; a device's messages are small.
// - mg_mqtt_connect("ws://host:port/mqtt", ...) runs all of the above over
//   WebSocket; Mongoose's own pattern (mg_mqtt_login + mg_ws_wrap on a
//   mg_ws_connect connection, mg_mqtt_parse on MG_EV_WS_MSG) works as well.
import {
  MG_CONNECT_TIMEOUT_MS,
  MG_ENABLE_HTTP,
  MG_ENABLE_WS,
  MG_MQTT_MAX_INFLIGHT,
  MG_MQTT_SESSION_SIZE,
  MG_MQTT_TOPIC_ALIASES,
  MG_MQTT_TOPIC_MAX,
} from "./config.js";
import { mg_copy, mg_iobuf_del } from "./iobuf.js";
import { MG_DEBUG, MG_ERROR, MG_INFO } from "./log.js";
import {
  MG_EV_CLOSE,
  MG_EV_CONNECT,
  MG_EV_ERROR,
  MG_EV_MQTT_CMD,
  MG_EV_MQTT_MSG,
  MG_EV_MQTT_OPEN,
  MG_EV_OPEN,
  MG_EV_POLL,
  MG_EV_READ,
  MG_EV_WRITE,
  MG_EV_WS_MSG,
  MG_EV_WS_OPEN,
  mg_call_user,
  mg_connect_svc,
  mg_connection,
  mg_event_handler_t,
  mg_listen,
  mg_mgr,
  mg_mgr_kick,
} from "./net.js";
import type { mg_http_message } from "./http.js";
import {
  MQTT_CMD_AUTH,
  MQTT_CMD_CONNACK,
  MQTT_CMD_CONNECT,
  MQTT_CMD_DISCONNECT,
  MQTT_CMD_PINGREQ,
  MQTT_CMD_PINGRESP,
  MQTT_CMD_PUBACK,
  MQTT_CMD_PUBCOMP,
  MQTT_CMD_PUBLISH,
  MQTT_CMD_PUBREC,
  MQTT_CMD_PUBREL,
  MQTT_CMD_SUBACK,
  MQTT_CMD_SUBSCRIBE,
  MQTT_CMD_UNSUBACK,
  MQTT_CMD_UNSUBSCRIBE,
  MQTT_INCOMPLETE,
  MQTT_MALFORMED,
  MQTT_PROP_MAXIMUM_PACKET_SIZE,
  MQTT_PROP_MAXIMUM_QOS,
  MQTT_PROP_RECEIVE_MAXIMUM,
  MQTT_PROP_RETAIN_AVAILABLE,
  MQTT_PROP_SERVER_KEEP_ALIVE,
  MQTT_PROP_TOPIC_ALIAS,
  MQTT_PROP_TOPIC_ALIAS_MAXIMUM,
  MQTT_RC_IMPLEMENTATION_SPECIFIC,
  MQTT_RC_KEEP_ALIVE_TIMEOUT,
  MQTT_RC_PACKET_ID_NOT_FOUND,
  MQTT_RC_PACKET_TOO_LARGE,
  MQTT_RC_PROTOCOL_ERROR,
  MQTT_RC_RECEIVE_MAXIMUM_EXCEEDED,
  MQTT_RC_TOPIC_ALIAS_INVALID,
  MQTT_RC_TOPIC_NAME_INVALID,
  has_prop,
  mg_mqtt_message,
  mg_mqtt_next_prop,
  mg_mqtt_parse,
  mg_mqtt_prop,
  props_size,
  put_props,
  put_raw,
  put_str,
  put_u16,
  put_u32,
  put_vint,
  text,
  tlen,
  topic_ok,
  vlen,
} from "./mqtt_packet.js";
import { mg_str, mg_str_set } from "./str.js";
import { mg_timer, mg_timer_init, mg_timer_unlink, MG_TIMER_ONCE } from "./timer.js";
import { mg_random, mg_random_str } from "./util.js";
import { WEBSOCKET_OP_BINARY, mg_ws_connect, mg_ws_message, mg_ws_upgrade, mg_ws_wrap } from "./ws.js";

/**
 * Options of mg_mqtt_connect/login, _pub, _sub, _unsub, _disconnect (struct
 * mg_mqtt_opts). As in Mongoose, topic/message/qos/retain are the will for
 * CONNECT and the message for PUBLISH. Strings may be JS strings (written as
 * UTF-8 without allocating) or mg_str views.
 */
export class mg_mqtt_opts {
  user: mg_str | string = "";
  pass: mg_str | string = "";
  /** Empty: a random id (20 characters) and a clean session, as Mongoose. */
  client_id: mg_str | string = "";
  topic: mg_str | string = "";
  message: mg_str | string = "";
  qos = 0;
  /** 4 (3.1.1, the default) or 5. */
  version = 4;
  /** Seconds; 0 = none. mgts pings by itself (see mqtt_tick). */
  keepalive = 0;
  /** PUBLISH: resend the message with this id, DUP set (Mongoose's retransmit_id). */
  retransmit_id = 0;
  retain = false;
  clean = false;
  /** v5 properties of the packet (CONNECT, PUBLISH, SUBSCRIBE, UNSUBSCRIBE, DISCONNECT). */
  props: mg_mqtt_prop[] | null = null;
  /** v5 will properties (CONNECT). */
  will_props: mg_mqtt_prop[] | null = null;
  /** mgts: SUBSCRIBE v5 options OR'ed with qos: 4 no local, 8 retain as published, 16/32 retain handling 1/2. */
  sub_options = 0;
  /** mgts: DISCONNECT v5 reason code. */
  reason = 0;
  /**
   * mgts: the in-flight state to use and keep beyond this connection, so that
   * QoS 1/2 messages not yet acknowledged are resent after a reconnect
   * (CONNECT with clean false). mg_mqtt_client_start supplies its own.
   */
  session: mg_mqtt_session | null = null;
}

// In-flight entry states
export const OUT_PUBACK = 1; // QoS 1 PUBLISH sent, waiting for PUBACK
export const OUT_PUBREC = 2; // QoS 2 PUBLISH sent, waiting for PUBREC
const OUT_PUBCOMP = 3; // PUBREL sent, waiting for PUBCOMP

/**
 * In-flight QoS 1/2 state (the MQTT session state of a client, minus the
 * subscriptions the server keeps): outgoing messages in the order they were
 * sent, with their bytes so they can be resent after a reconnect, and the
 * ids of incoming QoS 2 messages waiting for PUBREL (so that a resent one is
 * not delivered twice). Fixed tables: MG_MQTT_MAX_INFLIGHT entries each way
 * and store_size bytes. An mgts addition (Mongoose keeps no session state).
 */
export class mg_mqtt_session {
  n = 0;
  ids = new Uint16Array(MG_MQTT_MAX_INFLIGHT);
  state = new Uint8Array(MG_MQTT_MAX_INFLIGHT);
  bofs = new Int32Array(MG_MQTT_MAX_INFLIGHT);
  blen = new Int32Array(MG_MQTT_MAX_INFLIGHT);
  store: Uint8Array;
  used = 0;
  in_n = 0;
  in_ids = new Uint16Array(MG_MQTT_MAX_INFLIGHT);
  next_id = 0;
  constructor(store_size = MG_MQTT_SESSION_SIZE) {
    this.store = new Uint8Array(store_size);
  }
}

/** Forgets every in-flight message of a session. */
export function mg_mqtt_session_clear(s: mg_mqtt_session): void {
  s.n = s.in_n = s.used = 0;
}

function out_find(s: mg_mqtt_session, id: number): number {
  for (let i = 0; i < s.n; i++) if (s.ids[i] === id) return i;
  return -1;
}
function in_find(s: mg_mqtt_session, id: number): number {
  for (let i = 0; i < s.in_n; i++) if (s.in_ids[i] === id) return i;
  return -1;
}
/** Drops the stored bytes of entry i, moving the later ones down. */
function out_drop_bytes(s: mg_mqtt_session, i: number): void {
  const n = s.blen[i];
  if (n === 0) return;
  s.store.copyWithin(s.bofs[i], s.bofs[i] + n, s.used);
  for (let j = i + 1; j < s.n; j++) s.bofs[j] -= n;
  s.used -= n;
  s.blen[i] = 0;
}
function out_remove(s: mg_mqtt_session, i: number): void {
  out_drop_bytes(s, i);
  s.ids.copyWithin(i, i + 1, s.n);
  s.state.copyWithin(i, i + 1, s.n);
  s.bofs.copyWithin(i, i + 1, s.n);
  s.blen.copyWithin(i, i + 1, s.n);
  s.n--;
}
function in_remove(s: mg_mqtt_session, i: number): void {
  s.in_ids.copyWithin(i, i + 1, s.in_n);
  s.in_n--;
}
/** A packet id not in flight (ids skip 0). */
export function next_id(s: mg_mqtt_session): number {
  for (let k = 0; k < 65536; k++) {
    s.next_id = s.next_id >= 65535 ? 1 : s.next_id + 1;
    if (out_find(s, s.next_id) < 0) return s.next_id;
  }
  return 0;
}

// --- module state ----------------------------------------------------------------

/** The module's run-time state, made on first use (config.ts: module state). */
class Shared {
  msg = new mg_mqtt_message();
  prop = new mg_mqtt_prop();
  id = new Uint8Array(20); // a random client id
  idv = mg_str();
  raw = new mg_mqtt_session(0); // packet ids for connections without MQTT state (Mongoose's mgr-wide counter)
  // mg_mqtt_connect over WebSocket: the user's handler while the connection is being made
  pending_fn: mg_event_handler_t | null = null;
  /** Where the packet being built started in c.send (begin/finish are never nested). */
  pkt_start = 0;
  /** The options of a call given none. */
  dflt = new mg_mqtt_opts();
}
function sh(): Shared {
  return ((globalThis as any).mgts_mqtt ??= new Shared());
}

// --- building packets -----------------------------------------------------------

/** Bytes of the WebSocket header mg_ws_wrap puts before n bytes. */
function ws_overhead(n: number, client: boolean): number {
  return (n < 126 ? 2 : n < 65536 ? 4 : 10) + (client ? 4 : 0);
}

/**
 * Starts a packet of rem bytes after its fixed header in c.send: returns the
 * offset its body goes at, or -1 when it does not fit now (with the
 * WebSocket header, when the connection carries MQTT over WebSocket), or is
 * larger than the peer's v5 Maximum Packet Size.
 */
export function begin(c: mg_connection, st: MqttConn | null, b0: number, rem: number): number {
  const s = c.send;
  const total = 1 + vlen(rem) + rem;
  const ws = st !== null && st.over_ws ? ws_overhead(total, c.is_client) : 0;
  if (rem > 268435455 || s.len + total + ws > s.size) return -1;
  if (st !== null && st.peer_max_packet > 0 && total > st.peer_max_packet) return -1;
  sh().pkt_start = s.len;
  s.buf[s.len] = b0;
  return put_vint(s.buf, s.len + 1, rem);
}
/** Ends the packet begun by begin at end: frames it for WebSocket, notes the time, wakes the loop. */
export function finish(c: mg_connection, st: MqttConn | null, end: number): void {
  c.send.len = end;
  if (st !== null) {
    if (MG_ENABLE_WS && MG_ENABLE_HTTP && st.over_ws) mg_ws_wrap(c, end - sh().pkt_start, WEBSOCKET_OP_BINARY);
    st.last_tx = c.mgr.hal!.millis();
  }
  mg_mgr_kick(c.mgr);
}
/** Room for a packet of rem bytes (see begin), without starting it. */
export function fits(c: mg_connection, st: MqttConn | null, rem: number): boolean {
  const total = 1 + vlen(rem) + rem;
  return c.send.len + total + (st !== null && st.over_ws ? ws_overhead(total, c.is_client) : 0) <= c.send.size;
}

/**
 * Writes a fixed header (mg_mqtt_send_header): the packet's len bytes follow
 * with mg_send. On a connection carrying MQTT over WebSocket, wrap the whole
 * packet with mg_ws_wrap afterwards. Returns false when it does not fit.
 */
export function mg_mqtt_send_header(c: mg_connection, cmd: number, flags: number, len: number): boolean {
  const o = begin(c, null, (cmd << 4) | (flags & 15), len);
  if (o < 0) return false;
  c.send.len = o;
  mg_mqtt_active(c)?.touch(c);
  return true;
}

/** A packet of just an id, and on v5 a reason code unless it is 0 (PUBACK..PUBCOMP). */
function send_ack(c: mg_connection, st: MqttConn | null, cmd: number, id: number, reason: number): boolean {
  const v5 = c.is_mqtt5 && reason !== 0;
  const o = begin(c, st, (cmd << 4) | (cmd === MQTT_CMD_PUBREL ? 2 : 0), v5 ? 3 : 2);
  if (o < 0) return false;
  const b = c.send.buf;
  let e = put_u16(b, o, id);
  if (v5) b[e++] = reason;
  finish(c, st, e);
  return true;
}
/** A packet with no variable header (PINGREQ, PINGRESP, a v4 DISCONNECT). */
function send_empty(c: mg_connection, st: MqttConn | null, cmd: number): boolean {
  const o = begin(c, st, cmd << 4, 0);
  if (o < 0) return false;
  finish(c, st, o);
  return true;
}
/** A v5 DISCONNECT with a reason code (no properties), or a v4 one. */
export function send_disconnect(c: mg_connection, st: MqttConn | null, reason: number, props: mg_mqtt_prop[] | null): boolean {
  if (!c.is_mqtt5) return send_empty(c, st, MQTT_CMD_DISCONNECT);
  const ps = props_size(props);
  const o = begin(c, st, MQTT_CMD_DISCONNECT << 4, 1 + vlen(ps) + ps);
  if (o < 0) return false;
  const b = c.send.buf;
  b[o] = reason;
  finish(c, st, put_props(b, put_vint(b, o + 1, ps), props));
  return true;
}

// --- per-connection state ----------------------------------------------------------

/** Hooks a broker (src/mqtt_broker.ts) plugs into the server side of a connection. */
export interface MqttBrokerHooks {
  /** CONNECT arrived (valid): answer it. */
  on_connect(c: mg_connection, st: MqttConn, m: mg_mqtt_message): void;
  /** PUBLISH arrived: route it. Returns its v5 reason code (0, 0x10, 0x97...) or -1 to hold it (subscribers full). */
  on_publish(c: mg_connection, st: MqttConn, m: mg_mqtt_message): number;
  on_subscribe(c: mg_connection, st: MqttConn, m: mg_mqtt_message): boolean;
  on_unsubscribe(c: mg_connection, st: MqttConn, m: mg_mqtt_message): boolean;
  /** DISCONNECT arrived (the will is dropped unless the reason is 0x04). */
  on_disconnect(c: mg_connection, st: MqttConn, m: mg_mqtt_message): void;
  /** The connection is closing. */
  on_close(c: mg_connection, st: MqttConn): void;
  /** A poll, or (room) a write or an acknowledgement that freed space: deliver what waits. */
  on_tick(c: mg_connection, st: MqttConn, room: boolean): void;
}

/**
 * MQTT state of one pooled connection, made once (mqtt_init) and reset when
 * a connection starts using it; id tells which connection it belongs to.
 */
export class MqttConn {
  id = 0;
  server = false;
  version = 4;
  over_ws = false;
  /** MQTT over WebSocket: the user's handler (c.fn is ws_fn, which passes every other event on). */
  user_fn: mg_event_handler_t | null = null;
  /** Over WebSocket, the client's options until the handshake is done and CONNECT can go. */
  opts: mg_mqtt_opts | null = null;
  connected = false;
  disconnected = false; // a DISCONNECT was sent or received
  dead = false; // a protocol error: input is dropped until the close
  close_at = 0;
  t0 = 0; // connection (or WebSocket) established
  keepalive_ms = 0;
  last_rx = 0;
  last_tx = 0;
  ping_at = 0;
  held = false; // a PUBLISH at the front of the input waits (mg_mqtt_message.hold, or a broker's full subscribers)
  held_at = 0;
  held_full = false; // held with a full receive buffer: c.is_full set
  resend = -1; // next session entry to resend after a CONNACK with a present session
  untracked = false; // a v4 peer exceeded the QoS 2 table: logged once
  untracked_out = 0; // QoS 1/2 messages sent beyond the in-flight table (see mg_mqtt_pub), not yet acknowledged
  // the peer's v5 limits
  peer_recv_max = 65535;
  peer_max_packet = 0;
  peer_max_qos = 2;
  peer_retain = true;
  s: mg_mqtt_session;
  own: mg_mqtt_session;
  alias_len = new Uint16Array(MG_MQTT_TOPIC_ALIASES + 1);
  alias_buf = new Uint8Array(MG_MQTT_TOPIC_ALIASES * MG_MQTT_TOPIC_MAX);
  client: mg_mqtt_client | null = null;
  broker: MqttBrokerHooks | null = null;
  /** Broker state of this pooled connection (src/mqtt_broker.ts). */
  bc: any = null;
  constructor() {
    this.own = new mg_mqtt_session(0);
    this.s = this.own;
  }
  /** Notes that a packet went out (mg_mqtt_send_header and raw writers). */
  touch(c: mg_connection): void {
    this.last_tx = c.mgr.hal!.millis();
  }
}

/** Makes the MQTT state of every pooled connection (once per manager). */
export function mqtt_init(mgr: mg_mgr): void {
  for (let i = 0; i < mgr.pool.length; i++) {
    if (mgr.pool[i].mqtt === null) mgr.pool[i].mqtt = new MqttConn();
  }
}

/** The MQTT state of c if MQTT runs on it (made by mgts), else null. An mgts internal shared with the broker. */
export function mg_mqtt_active(c: mg_connection): MqttConn | null {
  const st = c.mqtt as MqttConn | null;
  return st !== null && st.id === c.id ? st : null;
}

/** Resets c's MQTT state for a new connection. */
function mqtt_start(c: mg_connection, server: boolean): MqttConn {
  const st = c.mqtt as MqttConn;
  const now = c.mgr.hal!.millis();
  st.id = c.id;
  st.server = server;
  st.version = 4;
  st.over_ws = false;
  st.user_fn = null;
  st.opts = null;
  st.connected = st.disconnected = st.dead = st.held = st.held_full = st.untracked = false;
  st.close_at = st.keepalive_ms = st.ping_at = st.held_at = 0;
  st.t0 = st.last_rx = st.last_tx = now;
  st.resend = -1;
  st.untracked_out = 0;
  st.peer_recv_max = 65535;
  st.peer_max_packet = 0;
  st.peer_max_qos = 2;
  st.peer_retain = true;
  st.own.n = st.own.in_n = st.own.used = 0;
  st.s = st.own;
  st.alias_len.fill(0);
  st.client = null;
  st.broker = null;
  return st;
}

// --- the client -----------------------------------------------------------------

/**
 * Connects to a broker (mg_mqtt_connect): mqtt://host:port, or
 * ws://host:port/path for MQTT over WebSocket (mgts: the client then works
 * as over TCP). CONNECT goes out as soon as the connection is up; the
 * CONNACK arrives as MG_EV_MQTT_OPEN (ev_data: its return code, a number;
 * anything but 0 closes). Every packet then fires MG_EV_MQTT_CMD, a PUBLISH
 * MG_EV_MQTT_MSG first. QoS 1/2 messages in are acknowledged by mgts.
 * Over WebSocket, opts must stay as they are until MG_EV_MQTT_OPEN (they
 * are read when the handshake is done), and c.fn is mgts's (ws_fn), which
 * passes every event to fn. mqtts:// and wss:// are TLS (the
 * core's, src/tls.ts): call mg_tls_init(c, {ca, ...}) on MG_EV_CONNECT, or
 * the platform's roots are trusted.
 */
export function mg_mqtt_connect(mgr: mg_mgr, url: string, opts: mg_mqtt_opts | null, fn: mg_event_handler_t | null, fn_data: any): mg_connection | null {
  return mqtt_connect(mgr, url, opts ?? sh().dflt, fn, fn_data, null);
}

function mqtt_connect(mgr: mg_mgr, url: string, o: mg_mqtt_opts, fn: mg_event_handler_t | null, fn_data: any, cl: mg_mqtt_client | null): mg_connection | null {
  mqtt_init(mgr);
  const session = cl !== null ? cl.session : o.session;
  if (MG_ENABLE_WS && MG_ENABLE_HTTP && is_ws_url(url)) {
    const g = sh();
    g.pending_fn = fn;
    const c = mg_ws_connect(mgr, url, ws_fn, fn_data, "Sec-WebSocket-Protocol: mqtt\r\n");
    g.pending_fn = null;
    if (c === null) return null;
    const st = mqtt_start(c, false);
    st.over_ws = true;
    st.user_fn = fn;
    st.opts = o;
    st.s = session ?? st.own;
    st.client = cl;
    return c;
  }
  const c = mg_connect_svc(mgr, url, fn, fn_data, mqtt_cb, null);
  if (c === null) return null;
  const st = mqtt_start(c, false);
  st.s = session ?? st.own;
  st.client = cl;
  if (!c.is_closing) mg_mqtt_login(c, o);
  return c;
}

function is_ws_url(url: string): boolean {
  const c0 = url.charCodeAt(0) | 32;
  const c1 = url.charCodeAt(1) | 32;
  const c2 = url.charCodeAt(2);
  return c0 === 119 && c1 === 115 && (c2 === 58 || ((c2 | 32) === 115 && url.charCodeAt(3) === 58)); // "ws:" or "wss:"
}

/**
 * Sends CONNECT (mg_mqtt_login). On a connection that mgts runs MQTT on it
 * also sets the keepalive and the session; on another one (Mongoose's
 * MQTT-over-WebSocket pattern: mg_ws_connect, then mg_mqtt_login and
 * mg_ws_wrap on MG_EV_WS_OPEN) it only writes the packet.
 * The seed's older form mg_mqtt_login(c, url, opts) is accepted too.
 * v5: Receive Maximum, Maximum Packet Size and Topic Alias Maximum are added
 * from the config unless opts.props has them. Returns false if it does not fit.
 */
export function mg_mqtt_login(c: mg_connection, opts_or_url: mg_mqtt_opts | string | null, maybe_opts?: mg_mqtt_opts | null): boolean {
  const opts = (typeof opts_or_url === "string" ? maybe_opts : opts_or_url) ?? sh().dflt;
  const st = mg_mqtt_active(c);
  const v5 = opts.version === 5;
  c.is_mqtt5 = v5;
  const g = sh();
  let id: text = opts.client_id;
  let idn = tlen(id);
  let clean = opts.clean;
  if (idn === 0 && st !== null && st.client !== null) {
    id = st.client.id;
    idn = id.len;
  } else if (idn === 0) {
    // as Mongoose: a random id, and a clean session since nothing could resume it
    mg_random_str(g.id, 0, 20);
    id = mg_str_set(g.idv, g.id, 0, 20);
    idn = 20;
    clean = true;
  }
  const will = tlen(opts.topic) > 0;
  const ul = tlen(opts.user);
  const pl = tlen(opts.pass);
  const user = ul > 0 || (pl > 0 && !v5); // v4 allows no password without a user name: send an empty one
  // v5 limits we announce, unless the caller set them
  const add_rm = v5 && !has_prop(opts.props, MQTT_PROP_RECEIVE_MAXIMUM);
  const add_mp = v5 && !has_prop(opts.props, MQTT_PROP_MAXIMUM_PACKET_SIZE);
  const add_ta = v5 && MG_MQTT_TOPIC_ALIASES > 0 && !has_prop(opts.props, MQTT_PROP_TOPIC_ALIAS_MAXIMUM);
  const ps = props_size(opts.props) + (add_rm ? 3 : 0) + (add_mp ? 5 : 0) + (add_ta ? 3 : 0);
  const wps = props_size(opts.will_props);
  const tl = tlen(opts.topic);
  const ml = tlen(opts.message);
  let rem = 10 + 2 + idn;
  if (v5) rem += vlen(ps) + ps;
  if (will) rem += (v5 ? vlen(wps) + wps : 0) + 2 + tl + 2 + ml;
  if (user) rem += 2 + ul;
  if (pl > 0) rem += 2 + pl;
  const o = begin(c, st, MQTT_CMD_CONNECT << 4, rem);
  if (o < 0) {
    MG_ERROR("%lu MQTT CONNECT does not fit in the send buffer", c.id);
    return false;
  }
  const b = c.send.buf;
  let e = put_str(b, o, "MQTT", 4);
  b[e++] = v5 ? 5 : 4;
  let f = clean ? 2 : 0;
  if (will) f |= 4 | ((opts.qos & 3) << 3) | (opts.retain ? 0x20 : 0);
  if (user) f |= 0x80;
  if (pl > 0) f |= 0x40;
  b[e++] = f;
  e = put_u16(b, e, opts.keepalive);
  if (v5) {
    e = put_vint(b, e, ps);
    e = put_props(b, e, opts.props);
    if (add_rm) {
      b[e++] = MQTT_PROP_RECEIVE_MAXIMUM;
      e = put_u16(b, e, MG_MQTT_MAX_INFLIGHT);
    }
    if (add_mp) {
      b[e++] = MQTT_PROP_MAXIMUM_PACKET_SIZE;
      e = put_u32(b, e, c.recv.size);
    }
    if (add_ta) {
      b[e++] = MQTT_PROP_TOPIC_ALIAS_MAXIMUM;
      e = put_u16(b, e, MG_MQTT_TOPIC_ALIASES);
    }
  }
  e = put_str(b, e, id, idn);
  if (will) {
    if (v5) e = put_props(b, put_vint(b, e, wps), opts.will_props);
    e = put_str(b, e, opts.topic, tl);
    e = put_str(b, e, opts.message, ml);
  }
  if (user) e = put_str(b, e, opts.user, ul);
  if (pl > 0) e = put_str(b, e, opts.pass, pl);
  finish(c, st, e);
  if (st !== null) {
    st.version = v5 ? 5 : 4;
    st.keepalive_ms = opts.keepalive * 1000;
    if (clean) mg_mqtt_session_clear(st.s);
  }
  return true;
}

/**
 * Publishes opts.message to opts.topic with opts.qos and opts.retain
 * (mg_mqtt_pub). Returns the packet id (QoS 1/2), 0 (QoS 0), or false when
 * it is not sent: it does not fit in the send buffer now (wait for
 * MG_EV_WRITE; a PUBLISH leaves ACK_ROOM bytes free for acknowledgements) or
 * ever (larger than MG_IO_SIZE less that room, or the broker's v5 Maximum
 * Packet Size), the in-flight table or the session store is full (wait for
 * acknowledgements), a resend after reconnecting is still going out, or the
 * topic is not a valid topic name. mgts keeps QoS 1/2 messages in flight
 * until acknowledged and answers PUBREC with PUBREL itself.
 * TypeScript adaptation: C returns the id as uint16_t and cannot fail.
 */
export function mg_mqtt_pub(c: mg_connection, opts: mg_mqtt_opts): number | false {
  if (!c.in_use || c.is_closing || c.is_draining) return false;
  const st = mg_mqtt_active(c);
  const qos = opts.qos & 3;
  if (qos === 3) return false;
  const tl = tlen(opts.topic);
  if (tl === 0 && !has_prop(opts.props, MQTT_PROP_TOPIC_ALIAS)) return false;
  const s = st !== null ? st.s : sh().raw;
  // A handler holding a message (m.hold) with the receive buffer full cannot wait for room in the
  // in-flight table or the session store: the acknowledgements that make it are behind the held
  // message. So then the message goes untracked (no resend after a reconnect) or its bytes unkept.
  const stuck = st !== null && st.held_full;
  let track = true;
  if (st !== null) {
    if (st.resend >= 0 || st.disconnected) return false;
    if (qos > st.peer_max_qos || (opts.retain && !st.peer_retain)) return false;
    if (qos > 0 && opts.retransmit_id === 0) {
      if (s.n + st.untracked_out >= st.peer_recv_max) return false; // the broker's limit (v5 Receive Maximum)
      if (s.n >= MG_MQTT_MAX_INFLIGHT) {
        if (!stuck) return false;
        track = false;
      }
    }
  }
  const v5 = c.is_mqtt5;
  const ps = v5 ? props_size(opts.props) : 0;
  const ml = tlen(opts.message);
  const rem = 2 + tl + (qos > 0 ? 2 : 0) + (v5 ? vlen(ps) + ps : 0) + ml;
  const resend = opts.retransmit_id !== 0;
  const id = qos === 0 ? 0 : resend ? opts.retransmit_id : 0;
  const total = 1 + vlen(rem) + rem;
  let keep = track && st !== null && qos > 0 && !resend && s.store.length > 0;
  if (keep && s.used + total > s.store.length) {
    if (!stuck) return false;
    keep = false;
  }
  if (st !== null && !fits(c, st, rem + ACK_ROOM)) return false;
  const b0 = (MQTT_CMD_PUBLISH << 4) | (resend && qos > 0 ? 8 : 0) | (qos << 1) | (opts.retain ? 1 : 0);
  const o = begin(c, st, b0, rem);
  if (o < 0) return false;
  if (!topic_text_ok(opts.topic, tl)) return false;
  const pid = qos === 0 ? 0 : id !== 0 ? id : next_id(s);
  const b = c.send.buf;
  let e = put_str(b, o, opts.topic, tl);
  if (qos > 0) e = put_u16(b, e, pid);
  if (v5) e = put_props(b, put_vint(b, e, ps), opts.props);
  e = put_raw(b, e, opts.message, ml);
  if (st !== null && qos > 0 && !resend && !track) {
    st.untracked_out++;
    MG_DEBUG("%lu MQTT: id %d sent beyond the in-flight table (held, receive buffer full)", c.id, pid);
  } else if (st !== null && qos > 0 && !resend) {
    const i = s.n++;
    s.ids[i] = pid;
    s.state[i] = qos === 1 ? OUT_PUBACK : OUT_PUBREC;
    s.bofs[i] = s.used;
    s.blen[i] = keep ? total : 0;
    if (keep) {
      mg_copy(s.store, s.used, b, sh().pkt_start, total);
      s.used += total;
    }
  }
  finish(c, st, e);
  return pid;
}

/** A topic to publish to: no wildcards (its UTF-8 is ours to trust, or was checked as an mg_str on receipt). */
function topic_text_ok(t: text, n: number): boolean {
  if (typeof t !== "string") return topic_ok(t.buf, t.ofs, t.len);
  for (let i = 0; i < n; i++) {
    const ch = cca.call(t, i); // a cached charCodeAt: t.charCodeAt boxes the string on XS (2 slots)
    if (ch === 0x2b || ch === 0x23 || ch === 0) return false;
    if (!(ch >= 0)) break;
  }
  return true;
}

/**
 * Subscribes to opts.topic with opts.qos (mg_mqtt_sub); v5: with
 * opts.sub_options and opts.props. The SUBACK arrives as MG_EV_MQTT_CMD
 * (m.ack: the granted QoS or the refusal). Returns the packet id, or false
 * when it does not fit. TypeScript adaptation: C returns nothing.
 */
export function mg_mqtt_sub(c: mg_connection, opts: mg_mqtt_opts): number | false {
  return sub_unsub(c, opts, true);
}

/** Unsubscribes from opts.topic: UNSUBSCRIBE, which Mongoose does not have. Returns the packet id, or false. */
export function mg_mqtt_unsub(c: mg_connection, opts: mg_mqtt_opts): number | false {
  return sub_unsub(c, opts, false);
}

function sub_unsub(c: mg_connection, opts: mg_mqtt_opts, sub: boolean): number | false {
  if (!c.in_use || c.is_closing || c.is_draining) return false;
  const st = mg_mqtt_active(c);
  const tl = tlen(opts.topic);
  if (tl === 0) return false;
  const v5 = c.is_mqtt5;
  const ps = v5 ? props_size(opts.props) : 0;
  const rem = 2 + (v5 ? vlen(ps) + ps : 0) + 2 + tl + (sub ? 1 : 0);
  const o = begin(c, st, ((sub ? MQTT_CMD_SUBSCRIBE : MQTT_CMD_UNSUBSCRIBE) << 4) | 2, rem);
  if (o < 0) return false;
  const s = st !== null ? st.s : sh().raw;
  const id = next_id(s);
  const b = c.send.buf;
  let e = put_u16(b, o, id);
  if (v5) e = put_props(b, put_vint(b, e, ps), opts.props);
  e = put_str(b, e, opts.topic, tl);
  if (sub) b[e++] = (opts.qos & 3) | (v5 ? opts.sub_options & 0x3c : 0);
  finish(c, st, e);
  return id;
}

/** Sends PINGREQ (mg_mqtt_ping); the PINGRESP is awaited as for the automatic ones. */
export function mg_mqtt_ping(c: mg_connection): boolean {
  const st = mg_mqtt_active(c);
  if (!send_empty(c, st, MQTT_CMD_PINGREQ)) return false;
  if (st !== null && st.ping_at === 0) st.ping_at = c.mgr.hal!.millis();
  return true;
}

/** Sends PINGRESP (mg_mqtt_pong). */
export function mg_mqtt_pong(c: mg_connection): boolean {
  return send_empty(c, mg_mqtt_active(c), MQTT_CMD_PINGRESP);
}

/**
 * Sends DISCONNECT (mg_mqtt_disconnect); v5 with opts.reason and
 * opts.props. mgts then closes the connection once it is out, as the spec
 * asks of the sender (Mongoose leaves that to the caller).
 */
export function mg_mqtt_disconnect(c: mg_connection, opts?: mg_mqtt_opts | null): boolean {
  const st = mg_mqtt_active(c);
  const ok = send_disconnect(c, st, opts != null ? opts.reason : 0, opts != null ? opts.props : null);
  if (st !== null) {
    st.disconnected = true;
    st.close_at = c.mgr.hal!.millis() + CLOSE_TIMEOUT_MS;
  }
  c.is_draining = true;
  return ok;
}

export const CLOSE_TIMEOUT_MS = 3000;
/**
 * Bytes of the send buffer a PUBLISH leaves free, so acknowledgements (a few
 * bytes each, and their WebSocket headers) find room: a connection that
 * cannot acknowledge must hold what it received.
 */
export const ACK_ROOM = 64;
const cca = String.prototype.charCodeAt;

// --- the server side --------------------------------------------------------------

/**
 * Listens for MQTT clients (mg_mqtt_listen): the codec only, as in Mongoose.
 * Each packet arrives as MG_EV_MQTT_CMD (PUBLISH also as MG_EV_MQTT_MSG);
 * the handler answers CONNECT (mg_mqtt_send_header + mg_send, or its own
 * bytes), SUBSCRIBE and PINGREQ. mgts checks every packet, acknowledges
 * QoS 1/2 PUBLISHes (exactly once for QoS 2), learns the protocol level from
 * CONNECT (c.is_mqtt5), and closes a client silent for 1.5 keepalives or
 * that sends no CONNECT within MG_CONNECT_TIMEOUT_MS. A broker:
 * mg_mqtt_broker_listen (src/mqtt_broker.ts). mqtts://: give the listener
 * (or each connection on MG_EV_ACCEPT) its certificate with mg_tls_init.
 */
export function mg_mqtt_listen(mgr: mg_mgr, url: string, fn: mg_event_handler_t | null, fn_data: any): mg_connection | null {
  return mqtt_listen(mgr, url, fn, fn_data, null);
}

/** mg_mqtt_listen with a broker plugged in (src/mqtt_broker.ts). */
export function mqtt_listen(mgr: mg_mgr, url: string, fn: mg_event_handler_t | null, fn_data: any, broker: MqttBrokerHooks | null): mg_connection | null {
  mqtt_init(mgr);
  const c = mg_listen(mgr, url, fn, fn_data);
  if (c === null) return null;
  c.pfn = mqtt_cb;
  c.pfn_data = broker;
  return c;
}

/**
 * Takes over an HTTP connection as MQTT over WebSocket, server side: call
 * it on MG_EV_HTTP_MSG for the MQTT path (e.g. /mqtt). It answers the
 * WebSocket handshake (accepting the "mqtt" subprotocol the client offers),
 * then the connection works as an accepted mg_mqtt_listen one (or a
 * broker's, given broker), its events going to the same handler. Returns
 * false when the handshake was refused. An mgts addition.
 */
export function mg_mqtt_ws_upgrade(c: mg_connection, hm: mg_http_message, broker?: MqttBrokerHooks | null): boolean {
  if (!MG_ENABLE_WS || !MG_ENABLE_HTTP) return false;
  mqtt_init(c.mgr);
  const st = mqtt_start(c, true);
  st.over_ws = true;
  st.user_fn = c.fn;
  st.broker = broker ?? null;
  c.fn = ws_fn;
  if (!mg_ws_upgrade(c, hm, null)) {
    c.fn = st.user_fn;
    st.id = 0;
    return false;
  }
  st.t0 = st.last_rx = c.mgr.hal!.millis();
  return true;
}

// --- the protocol handler -----------------------------------------------------------

/** The protocol handler of MQTT over TCP (client and accepted connections). */
function mqtt_cb(c: mg_connection, ev: number, ev_data: any): void {
  if (ev === MG_EV_OPEN) {
    if (c.is_accepted) mqtt_start(c, true).broker = c.pfn_data as MqttBrokerHooks | null;
    return;
  }
  const st = mg_mqtt_active(c);
  if (st === null) return;
  if (ev === MG_EV_READ) tcp_rx(c, st);
  else if (ev === MG_EV_POLL || ev === MG_EV_WRITE) {
    mqtt_tick(c, st, ev === MG_EV_POLL ? (ev_data as number) : c.mgr.hal!.millis(), ev === MG_EV_WRITE);
    if (st.held && c.recv.len > 0 && !c.is_closing) tcp_rx(c, st);
  } else if (ev === MG_EV_CONNECT) {
    st.t0 = st.last_rx = c.mgr.hal!.millis();
  } else if (ev === MG_EV_CLOSE) mqtt_closed(c, st);
}

function tcp_rx(c: mg_connection, st: MqttConn): void {
  const r = c.recv;
  const n = mqtt_rx(c, st, r.buf, 0, r.len, r.size);
  if (st.dead) {
    r.len = 0;
    return;
  }
  if (n > 0) mg_iobuf_del(r, 0, n);
  // a held PUBLISH with the buffer full: stop reading until it goes (the core would poll again at once)
  if (st.held && r.len === r.size) {
    c.is_full = true;
    st.held_full = true;
  } else if (st.held_full) {
    c.is_full = false;
    st.held_full = false;
  }
}

// mqtt_packet results
const DONE = 0;
const HOLD = 1;
const STOP = 2; // the connection failed or is closing

/**
 * Handles the complete packets in b[ofs..ofs+len), whose buffer holds at
 * most cap bytes; returns how many bytes from ofs are done with. A held
 * PUBLISH (and what follows it) stays; acknowledgement packets anywhere
 * behind it are still handled and cut out (the held bytes move up over
 * them), so that whatever the holder waits for can arrive. When the buffer
 * is full of held bytes all the same, mg_mqtt_pub stops waiting for room in
 * the in-flight table and the store (held_full).
 */
function mqtt_rx(c: mg_connection, st: MqttConn, b: Uint8Array, ofs: number, len: number, cap: number): number {
  const m = sh().msg;
  const end = ofs + len;
  let p = ofs;
  let held = -1; // start of the held bytes
  st.last_rx = c.mgr.hal!.millis();
  for (let guard = 0; guard < 10000 && p < end; guard++) {
    if (st.dead || c.is_closing) break;
    if (st.server && !st.connected && b[p] >> 4 !== MQTT_CMD_CONNECT) {
      mqtt_fail(c, st, MQTT_RC_PROTOCOL_ERROR, "the first packet must be CONNECT");
      return 0;
    }
    const version = st.server && !st.connected ? 5 : st.version; // CONNECT tells its own version
    const r = mg_mqtt_parse(b, end - p, version, m, p);
    if (r === MQTT_INCOMPLETE) {
      // larger than the buffer; over WebSocket also a packet cut short at the front of a full buffer,
      // whose rest cannot come (the next frame's header would not fit either)
      if (m.dgram.len > cap || (st.over_ws && held < 0 && p === ofs && c.recv.len === c.recv.size)) {
        mqtt_fail(c, st, MQTT_RC_PACKET_TOO_LARGE, "packet larger than the receive buffer");
        return 0;
      }
      break;
    }
    if (r === MQTT_MALFORMED) {
      if (m.cmd === MQTT_CMD_CONNECT && m.version === 5) c.is_mqtt5 = true; // a v5 client is told why in CONNACK
      mqtt_fail(c, st, m.ack, m.ack === MQTT_RC_PROTOCOL_ERROR ? "protocol error" : m.ack === MQTT_RC_TOPIC_NAME_INVALID ? "invalid topic name" : "malformed packet");
      return 0;
    }
    const n = m.dgram.len;
    if (held >= 0) {
      // behind a held PUBLISH: only acknowledgements go ahead of it; other packets stay, in their
      // order, and the scan goes on past them (the acknowledgement the holder waits for may be further)
      const cmd = m.cmd;
      if (cmd !== MQTT_CMD_PUBACK && cmd !== MQTT_CMD_PUBREC && cmd !== MQTT_CMD_PUBREL && cmd !== MQTT_CMD_PUBCOMP && cmd !== MQTT_CMD_PINGREQ && cmd !== MQTT_CMD_PINGRESP && cmd !== MQTT_CMD_SUBACK && cmd !== MQTT_CMD_UNSUBACK) {
        p += n;
        continue;
      }
      const res = mqtt_packet(c, st, m);
      if (res !== DONE) break;
      b.copyWithin(held + n, held, p);
      held += n;
      p += n;
      continue;
    }
    const res = mqtt_packet(c, st, m);
    if (res === STOP) return 0;
    if (res === HOLD) {
      if (!st.held) st.held_at = c.mgr.hal!.millis();
      st.held = true;
      held = p;
    }
    p += n;
  }
  if (held < 0) st.held = false;
  return (held >= 0 ? held : p) - ofs;
}

/** The user's handler sees the event (over WebSocket c.fn is ws_fn, which passes it on). */
function user(c: mg_connection, ev: number, ev_data: any): void {
  mg_call_user(c, ev, ev_data);
}

/** Acts on one packet: DONE, HOLD (offer it again later) or STOP. */
function mqtt_packet(c: mg_connection, st: MqttConn, m: mg_mqtt_message): number {
  const cmd = m.cmd;
  switch (cmd) {
    case MQTT_CMD_CONNECT:
      if (!st.server || st.connected) return proto_error(c, st, "unexpected CONNECT");
      if (!on_connect(c, st, m)) return STOP;
      break;
    case MQTT_CMD_CONNACK:
      if (st.server || st.connected) return proto_error(c, st, "unexpected CONNACK");
      return on_connack(c, st, m);
    case MQTT_CMD_PUBLISH:
      return on_publish(c, st, m);
    case MQTT_CMD_PUBACK:
    case MQTT_CMD_PUBCOMP: {
      const i = out_find(st.s, m.id);
      if (i >= 0 && st.s.state[i] === (cmd === MQTT_CMD_PUBACK ? OUT_PUBACK : OUT_PUBCOMP)) {
        out_remove(st.s, i);
        if (st.broker !== null) st.broker.on_tick(c, st, true); // room in the in-flight window
      } else if (i < 0 && st.untracked_out > 0) st.untracked_out--; // the end of an untracked flow
      break;
    }
    case MQTT_CMD_PUBREC: {
      if (!fits(c, st, 3)) return HOLD;
      const s = st.s;
      const i = out_find(s, m.id);
      if (i >= 0 && s.state[i] === OUT_PUBREC) {
        if (m.ack >= 0x80) out_remove(s, i); // refused: the flow ends here (v5)
        else {
          out_drop_bytes(s, i);
          s.state[i] = OUT_PUBCOMP;
          send_ack(c, st, MQTT_CMD_PUBREL, m.id, 0);
        }
      } else if (m.ack < 0x80) send_ack(c, st, MQTT_CMD_PUBREL, m.id, i >= 0 || st.untracked_out > 0 ? 0 : MQTT_RC_PACKET_ID_NOT_FOUND);
      else if (i < 0 && st.untracked_out > 0) st.untracked_out--; // an untracked QoS 2 message refused
      break;
    }
    case MQTT_CMD_PUBREL: {
      if (!fits(c, st, 3)) return HOLD;
      const i = in_find(st.s, m.id);
      if (i >= 0) in_remove(st.s, i);
      send_ack(c, st, MQTT_CMD_PUBCOMP, m.id, i >= 0 || st.untracked ? 0 : MQTT_RC_PACKET_ID_NOT_FOUND);
      break;
    }
    case MQTT_CMD_SUBSCRIBE:
    case MQTT_CMD_UNSUBSCRIBE:
      if (!st.server) return proto_error(c, st, "SUBSCRIBE from a server");
      if (st.broker !== null) {
        const ok = cmd === MQTT_CMD_SUBSCRIBE ? st.broker.on_subscribe(c, st, m) : st.broker.on_unsubscribe(c, st, m);
        if (!ok) return HOLD;
      }
      break;
    case MQTT_CMD_SUBACK:
    case MQTT_CMD_UNSUBACK:
    case MQTT_CMD_PINGRESP:
      if (st.server) return proto_error(c, st, "a server's packet from a client");
      if (cmd === MQTT_CMD_PINGRESP) st.ping_at = 0;
      break;
    case MQTT_CMD_PINGREQ:
      if (!st.server) return proto_error(c, st, "PINGREQ from a server");
      if (st.broker !== null && !send_empty(c, st, MQTT_CMD_PINGRESP)) return HOLD;
      break;
    case MQTT_CMD_DISCONNECT:
      st.disconnected = true;
      if (st.broker !== null) st.broker.on_disconnect(c, st, m);
      user(c, MG_EV_MQTT_CMD, m);
      st.dead = true;
      st.close_at = c.mgr.hal!.millis() + CLOSE_TIMEOUT_MS;
      c.is_draining = true;
      return STOP;
    case MQTT_CMD_AUTH:
      return proto_error(c, st, "AUTH without an authentication method");
  }
  user(c, MG_EV_MQTT_CMD, m);
  return c.is_closing ? STOP : DONE;
}

function proto_error(c: mg_connection, st: MqttConn, why: string): number {
  mqtt_fail(c, st, MQTT_RC_PROTOCOL_ERROR, why);
  return STOP;
}

/** Server side: a valid CONNECT. */
function on_connect(c: mg_connection, st: MqttConn, m: mg_mqtt_message): boolean {
  if (m.ack !== 0) {
    // an unsupported protocol level: CONNACK with the refusal, in 3.1.1 form, then close
    const o = begin(c, st, MQTT_CMD_CONNACK << 4, 2);
    if (o >= 0) {
      c.send.buf[o] = 0;
      c.send.buf[o + 1] = m.ack;
      finish(c, st, o + 2);
    }
    st.dead = true;
    st.close_at = c.mgr.hal!.millis() + CLOSE_TIMEOUT_MS;
    c.is_draining = true;
    user(c, MG_EV_MQTT_CMD, m);
    return false;
  }
  st.version = m.version;
  c.is_mqtt5 = m.version === 5;
  st.connected = true;
  st.keepalive_ms = m.keepalive * 1000;
  if (m.version === 5) {
    const pr = sh().prop;
    for (let ofs = mg_mqtt_next_prop(m, pr, 0); ofs > 0; ofs = mg_mqtt_next_prop(m, pr, ofs)) {
      if (pr.id === MQTT_PROP_RECEIVE_MAXIMUM) st.peer_recv_max = pr.iv;
      else if (pr.id === MQTT_PROP_MAXIMUM_PACKET_SIZE) st.peer_max_packet = pr.iv;
    }
  }
  if (st.broker !== null) st.broker.on_connect(c, st, m);
  return !c.is_closing;
}

/** Client side: CONNACK. The session is resumed (in-flight messages resent) or dropped first, then MG_EV_MQTT_OPEN. */
function on_connack(c: mg_connection, st: MqttConn, m: mg_mqtt_message): number {
  const ok = m.ack === 0;
  if (ok) {
    st.connected = true;
    if (m.session_present) st.resend = 0;
    else if (st.s.n + st.s.in_n > 0) {
      MG_INFO("%lu MQTT: no session on the broker, %d in-flight messages dropped", c.id, st.s.n);
      mg_mqtt_session_clear(st.s);
    }
    if (st.version === 5) {
      const pr = sh().prop;
      for (let ofs = mg_mqtt_next_prop(m, pr, 0); ofs > 0; ofs = mg_mqtt_next_prop(m, pr, ofs)) {
        const id = pr.id;
        if (id === MQTT_PROP_RECEIVE_MAXIMUM) st.peer_recv_max = pr.iv;
        else if (id === MQTT_PROP_MAXIMUM_PACKET_SIZE) st.peer_max_packet = pr.iv;
        else if (id === MQTT_PROP_SERVER_KEEP_ALIVE) st.keepalive_ms = pr.iv * 1000;
        else if (id === MQTT_PROP_MAXIMUM_QOS) st.peer_max_qos = pr.iv;
        else if (id === MQTT_PROP_RETAIN_AVAILABLE) st.peer_retain = pr.iv === 1;
      }
    }
    resend(c, st);
    if (st.client !== null) {
      st.client.connected = true;
      st.client.delay = st.client.min_ms;
    }
  }
  user(c, MG_EV_MQTT_OPEN, m.ack);
  if (!ok) {
    st.dead = true;
    st.close_at = c.mgr.hal!.millis() + CLOSE_TIMEOUT_MS;
    c.is_draining = true;
    return STOP;
  }
  user(c, MG_EV_MQTT_CMD, m);
  return c.is_closing ? STOP : DONE;
}

/** Resends the session's in-flight messages in order, DUP set (PUBRELs for the ones past PUBREC), as far as they fit. */
function resend(c: mg_connection, st: MqttConn): void {
  const s = st.s;
  while (st.resend >= 0 && st.resend < s.n) {
    const i = st.resend;
    if (s.state[i] === OUT_PUBCOMP) {
      if (!send_ack(c, st, MQTT_CMD_PUBREL, s.ids[i], 0)) return;
    } else {
      const n = s.blen[i];
      if (n === 0) {
        // no bytes kept (a session without a store): it cannot be resent
        out_remove(s, i);
        continue;
      }
      const ws = st.over_ws ? ws_overhead(n, c.is_client) : 0;
      const sb = c.send;
      if (sb.len + n + ws > sb.size) return;
      sh().pkt_start = sb.len;
      mg_copy(sb.buf, sb.len, s.store, s.bofs[i], n);
      sb.buf[sb.len] |= 8; // DUP
      finish(c, st, sb.len + n);
    }
    st.resend++;
  }
  st.resend = -1;
}

/** PUBLISH in: topic alias, exactly-once for QoS 2, the broker, MG_EV_MQTT_MSG, then the acknowledgement. */
function on_publish(c: mg_connection, st: MqttConn, m: mg_mqtt_message): number {
  if (m.alias > 0) {
    const a = m.alias;
    if (a > MG_MQTT_TOPIC_ALIASES) return fail_stop(c, st, MQTT_RC_TOPIC_ALIAS_INVALID, "topic alias over the maximum");
    if (m.topic.len > 0) {
      if (m.topic.len > MG_MQTT_TOPIC_MAX) return fail_stop(c, st, MQTT_RC_IMPLEMENTATION_SPECIFIC, "topic too long for a topic alias");
      mg_copy(st.alias_buf, (a - 1) * MG_MQTT_TOPIC_MAX, m.topic.buf, m.topic.ofs, m.topic.len);
      st.alias_len[a] = m.topic.len;
    } else {
      if (st.alias_len[a] === 0) return fail_stop(c, st, MQTT_RC_PROTOCOL_ERROR, "unknown topic alias");
      mg_str_set(m.topic, st.alias_buf, (a - 1) * MG_MQTT_TOPIC_MAX, st.alias_len[a]);
    }
  }
  const qos = m.qos;
  if (qos > 0 && !fits(c, st, 3)) return HOLD; // room for the acknowledgement first
  const s = st.s;
  if (qos === 2 && in_find(s, m.id) >= 0) {
    // a resend of a message already delivered: acknowledge again, deliver nothing
    send_ack(c, st, MQTT_CMD_PUBREC, m.id, 0);
    user(c, MG_EV_MQTT_CMD, m);
    return DONE;
  }
  if (qos === 2 && s.in_n >= MG_MQTT_MAX_INFLIGHT) {
    if (st.version === 5) return fail_stop(c, st, MQTT_RC_RECEIVE_MAXIMUM_EXCEEDED, "more QoS 2 messages in flight than Receive Maximum");
    if (!st.untracked) MG_ERROR("%lu MQTT: more than MG_MQTT_MAX_INFLIGHT QoS 2 messages in flight; delivering untracked", c.id);
    st.untracked = true;
  }
  let reason = 0;
  if (st.broker !== null) {
    reason = st.broker.on_publish(c, st, m);
    if (reason < 0) return HOLD;
    if (st.dead || c.is_closing) return STOP;
  }
  m.hold = false;
  user(c, MG_EV_MQTT_MSG, m);
  if (m.hold && st.broker === null) {
    m.hold = false;
    return HOLD;
  }
  if (st.dead || c.is_closing) return STOP;
  if (qos === 1) send_ack(c, st, MQTT_CMD_PUBACK, m.id, reason);
  else if (qos === 2) {
    if (reason < 0x80 && s.in_n < MG_MQTT_MAX_INFLIGHT) s.in_ids[s.in_n++] = m.id;
    send_ack(c, st, MQTT_CMD_PUBREC, m.id, reason);
  }
  user(c, MG_EV_MQTT_CMD, m);
  return c.is_closing ? STOP : DONE;
}

function fail_stop(c: mg_connection, st: MqttConn, reason: number, why: string): number {
  mqtt_fail(c, st, reason, why);
  return STOP;
}

/**
 * A protocol error: v5 DISCONNECT with the reason code (a server that has
 * not answered CONNECT yet answers it with CONNACK and that code instead),
 * v4 nothing; input is dropped, MG_EV_ERROR fires, and the connection
 * closes once what is queued is out (3 s at most).
 */
export function mqtt_fail(c: mg_connection, st: MqttConn, reason: number, why: string): void {
  if (st.dead) return;
  st.dead = true;
  st.held = false;
  if (st.held_full) {
    c.is_full = false;
    st.held_full = false;
  }
  if (c.is_mqtt5 && reason >= 0x80) {
    if (st.server && !st.connected) {
      // CONNECT itself was bad: a v5 client is answered with CONNACK and the reason
      const o = begin(c, st, MQTT_CMD_CONNACK << 4, 3);
      if (o >= 0) {
        c.send.buf[o] = 0;
        c.send.buf[o + 1] = reason;
        c.send.buf[o + 2] = 0;
        finish(c, st, o + 3);
      }
    } else if (st.connected && !st.disconnected) {
      send_disconnect(c, st, reason, null);
    }
  }
  st.disconnected = true;
  st.close_at = c.mgr.hal!.millis() + CLOSE_TIMEOUT_MS;
  c.is_draining = true;
  MG_DEBUG("%lu MQTT: %s (0x%x)", c.id, why, reason);
  user(c, MG_EV_ERROR, "MQTT: " + why);
}

/** Timers of a connection, on every poll and write: keepalive, the close deadline, resends, a held packet. */
function mqtt_tick(c: mg_connection, st: MqttConn, now: number, wrote: boolean): void {
  if (st.dead || st.disconnected) {
    if (now > st.close_at) c.is_closing = true;
    return;
  }
  if (st.resend >= 0) resend(c, st);
  if (st.broker !== null) st.broker.on_tick(c, st, wrote);
  const ka = st.keepalive_ms;
  if (st.server) {
    if (!st.connected) {
      if (now - st.t0 > MG_CONNECT_TIMEOUT_MS) {
        MG_DEBUG("%lu MQTT: no CONNECT", c.id);
        c.is_closing = true;
      }
    } else if (ka > 0 && now - st.last_rx > ka + ka / 2) {
      mqtt_fail(c, st, MQTT_RC_KEEP_ALIVE_TIMEOUT, "keepalive timeout");
    }
    return;
  }
  if (!st.connected) {
    // the TCP or WebSocket connection is up (t0) and no CONNACK yet
    if (!c.is_connecting && !c.is_resolving && now - st.t0 > MG_CONNECT_TIMEOUT_MS) mqtt_fail(c, st, 0, "no CONNACK");
    return;
  }
  if (ka <= 0) return;
  if (st.ping_at > 0) {
    if (now - st.ping_at > ka) mqtt_fail(c, st, MQTT_RC_KEEP_ALIVE_TIMEOUT, "no PINGRESP (ping timeout)");
  } else if (now - st.last_tx >= (ka * 3) / 4) {
    if (send_empty(c, st, MQTT_CMD_PINGREQ)) st.ping_at = now;
  }
}

function mqtt_closed(c: mg_connection, st: MqttConn): void {
  if (st.broker !== null) st.broker.on_close(c, st);
  const cl = st.client;
  if (cl !== null && cl.c === c) client_closed(cl);
}

// --- MQTT over WebSocket ---------------------------------------------------------

/**
 * The handler of a connection carrying MQTT over WebSocket (c.fn): the
 * WebSocket layer (c.pfn) gives it the messages, which hold MQTT packets
 * (a packet may be cut across messages: what is left over stays in front of
 * the next one, MQTT 5 §6); every other event goes on to the user's handler.
 */
function ws_fn(c: mg_connection, ev: number, ev_data: any, fn_data: any): void {
  const st = mg_mqtt_active(c);
  const ufn = st !== null ? st.user_fn : sh().pending_fn;
  if (st !== null) {
    if (ev === MG_EV_WS_MSG) {
      const wm = ev_data as mg_ws_message;
      wm.consumed = mqtt_rx(c, st, wm.data.buf, wm.data.ofs, wm.data.len, c.recv.size);
      if (st.dead) wm.consumed = wm.data.len;
      return;
    }
    if (ev === MG_EV_WS_OPEN) {
      st.t0 = st.last_rx = c.mgr.hal!.millis();
      if (!st.server && st.opts !== null) mg_mqtt_login(c, st.opts);
    } else if (ev === MG_EV_POLL || ev === MG_EV_WRITE) {
      // before the handshake too: a server that never answers it is a CONNACK that never comes
      mqtt_tick(c, st, ev === MG_EV_POLL ? (ev_data as number) : c.mgr.hal!.millis(), ev === MG_EV_WRITE);
    } else if (ev === MG_EV_CLOSE) {
      if (ufn !== null) ufn(c, ev, ev_data, fn_data);
      mqtt_closed(c, st);
      return;
    }
  }
  if (ufn !== null) ufn(c, ev, ev_data, fn_data);
}

// --- the reconnect helper -----------------------------------------------------------

/**
 * A client that stays connected: mg_mqtt_client_start connects, and after
 * every close connects again, waiting min_ms, then twice as long each time up
 * to max_ms (with up to 25% random jitter); a CONNACK resets the wait. Its
 * session (in-flight QoS 1/2 messages) outlives each connection, so with
 * clean false they are resent with DUP when the broker has kept the session.
 * An empty client id is replaced by one made once ("mgts-" and 12 random
 * characters), so the session can be resumed. c is the current connection
 * (null while waiting), connected whether its CONNACK came. The same handler
 * gets every connection's events. An mgts addition.
 */
export class mg_mqtt_client {
  mgr: mg_mgr | null = null;
  url = "";
  opts: mg_mqtt_opts = new mg_mqtt_opts();
  fn: mg_event_handler_t | null = null;
  fn_data: any = null;
  c: mg_connection | null = null;
  connected = false;
  /** Made by mg_mqtt_client_start: with a store only for a session that can be resumed (clean false). */
  session: mg_mqtt_session | null = null;
  min_ms = 1000;
  max_ms = 30000;
  delay = 1000;
  /** Connections made so far. */
  attempts = 0;
  stopped = false;
  timer = new mg_timer();
  id = mg_str("mgts-000000000000");
}

/** Starts a client that reconnects by itself (see mg_mqtt_client). Allocates it: call once, at start-up. */
export function mg_mqtt_client_start(mgr: mg_mgr, url: string, opts: mg_mqtt_opts, fn: mg_event_handler_t | null, fn_data: any, min_ms = 1000, max_ms = 30000): mg_mqtt_client {
  const cl = new mg_mqtt_client();
  cl.mgr = mgr;
  cl.url = url;
  cl.opts = opts;
  cl.fn = fn;
  cl.fn_data = fn_data;
  cl.min_ms = min_ms > 0 ? min_ms : 1;
  cl.max_ms = max_ms > cl.min_ms ? max_ms : cl.min_ms;
  cl.delay = cl.min_ms;
  // a clean session is never resumed, so nothing would be resent from a store: keep no bytes
  // (and a PUBLISH never waits for room in one, which only acknowledgements make)
  cl.session = new mg_mqtt_session(opts.clean ? 0 : MG_MQTT_SESSION_SIZE);
  mg_random_str(cl.id.buf, 5, 12);
  client_connect(cl);
  return cl;
}

/** Stops a client: a DISCONNECT if connected (no will is published), and no more reconnects. */
export function mg_mqtt_client_stop(cl: mg_mqtt_client): void {
  cl.stopped = true;
  if (cl.timer.in_use && cl.mgr !== null) mg_timer_unlink(cl.mgr.timers, cl.timer);
  if (cl.c !== null) mg_mqtt_disconnect(cl.c, null);
}

function client_connect(cl: mg_mqtt_client): void {
  if (cl.stopped || cl.mgr === null) return;
  cl.attempts++;
  cl.connected = false;
  const c = mqtt_connect(cl.mgr, cl.url, cl.opts, cl.fn, cl.fn_data, cl);
  if (c === null) {
    client_schedule(cl);
    return;
  }
  cl.c = c;
  if (c.is_closing) client_closed(cl);
}

function client_closed(cl: mg_mqtt_client): void {
  cl.c = null;
  cl.connected = false;
  client_schedule(cl);
}

function client_schedule(cl: mg_mqtt_client): void {
  if (cl.stopped || cl.mgr === null) return;
  let d = cl.delay;
  const r = sh().id;
  mg_random(r, 0, 1);
  d += Math.floor((d * r[0]) / 1024); // up to 25% more
  cl.delay = cl.delay * 2 > cl.max_ms ? cl.max_ms : cl.delay * 2;
  MG_DEBUG("MQTT %s: reconnecting in %d ms", cl.url, d);
  mg_timer_init(cl.mgr.timers, cl.timer, d, MG_TIMER_ONCE, client_timer, cl);
  mg_mgr_kick(cl.mgr);
}

function client_timer(arg: any): void {
  const cl = arg as mg_mqtt_client;
  if (cl.mgr !== null) mg_timer_unlink(cl.mgr.timers, cl.timer);
  client_connect(cl);
}
