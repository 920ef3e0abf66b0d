// MQTT packets (the codec half of Mongoose's mqtt.c): where a byte is parsed
// and where one is written, for 3.1.1 (protocol level 4) and 5.
//
// mg_mqtt_parse splits one packet: the fixed header (flags checked per type),
// the remaining length (at most 4 bytes, minimal), the variable header, the
// v5 properties (prop_check: known, allowed in the packet, not repeated,
// values in range) and the payload; parse_connect does CONNECT. Every check
// that fails says which v5 reason code answers it. The put_* helpers write
// into a buffer the caller has measured (src/mqtt.ts places packets in
// c.send). Nothing here allocates after start-up.
import { mg_copy } from "./iobuf.js";
import { mg_is_str, mg_str, mg_str_set, mg_utf8_len, mg_utf8_put } from "./str.js";

export const MQTT_CMD_CONNECT = 1;
export const MQTT_CMD_CONNACK = 2;
export const MQTT_CMD_PUBLISH = 3;
export const MQTT_CMD_PUBACK = 4;
export const MQTT_CMD_PUBREC = 5;
export const MQTT_CMD_PUBREL = 6;
export const MQTT_CMD_PUBCOMP = 7;
export const MQTT_CMD_SUBSCRIBE = 8;
export const MQTT_CMD_SUBACK = 9;
export const MQTT_CMD_UNSUBSCRIBE = 10;
export const MQTT_CMD_UNSUBACK = 11;
export const MQTT_CMD_PINGREQ = 12;
export const MQTT_CMD_PINGRESP = 13;
export const MQTT_CMD_DISCONNECT = 14;
export const MQTT_CMD_AUTH = 15;

export const MQTT_PROP_PAYLOAD_FORMAT_INDICATOR = 0x01;
export const MQTT_PROP_MESSAGE_EXPIRY_INTERVAL = 0x02;
export const MQTT_PROP_CONTENT_TYPE = 0x03;
export const MQTT_PROP_RESPONSE_TOPIC = 0x08;
export const MQTT_PROP_CORRELATION_DATA = 0x09;
export const MQTT_PROP_SUBSCRIPTION_IDENTIFIER = 0x0b;
export const MQTT_PROP_SESSION_EXPIRY_INTERVAL = 0x11;
export const MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER = 0x12;
export const MQTT_PROP_SERVER_KEEP_ALIVE = 0x13;
export const MQTT_PROP_AUTHENTICATION_METHOD = 0x15;
export const MQTT_PROP_AUTHENTICATION_DATA = 0x16;
export const MQTT_PROP_REQUEST_PROBLEM_INFORMATION = 0x17;
export const MQTT_PROP_WILL_DELAY_INTERVAL = 0x18;
export const MQTT_PROP_REQUEST_RESPONSE_INFORMATION = 0x19;
export const MQTT_PROP_RESPONSE_INFORMATION = 0x1a;
export const MQTT_PROP_SERVER_REFERENCE = 0x1c;
export const MQTT_PROP_REASON_STRING = 0x1f;
export const MQTT_PROP_RECEIVE_MAXIMUM = 0x21;
export const MQTT_PROP_TOPIC_ALIAS_MAXIMUM = 0x22;
export const MQTT_PROP_TOPIC_ALIAS = 0x23;
export const MQTT_PROP_MAXIMUM_QOS = 0x24;
export const MQTT_PROP_RETAIN_AVAILABLE = 0x25;
export const MQTT_PROP_USER_PROPERTY = 0x26;
export const MQTT_PROP_MAXIMUM_PACKET_SIZE = 0x27;
export const MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28;
export const MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29;
export const MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE = 0x2a;

export const MQTT_PROP_TYPE_BYTE = 0;
export const MQTT_PROP_TYPE_STRING = 1;
export const MQTT_PROP_TYPE_STRING_PAIR = 2;
export const MQTT_PROP_TYPE_BINARY_DATA = 3;
export const MQTT_PROP_TYPE_VARIABLE_INT = 4;
export const MQTT_PROP_TYPE_INT = 5;
export const MQTT_PROP_TYPE_SHORT = 6;

/** mg_mqtt_parse results. */
export const MQTT_OK = 0;
export const MQTT_INCOMPLETE = 1;
export const MQTT_MALFORMED = 2;

// v5 reason codes (MQTT 5 §2.4) mgts sends or reads; exported for handlers that look at m.ack (an mgts addition)
export const MQTT_RC_NO_MATCHING_SUBSCRIBERS = 0x10;
export const MQTT_RC_MALFORMED_PACKET = 0x81;
export const MQTT_RC_PROTOCOL_ERROR = 0x82;
export const MQTT_RC_IMPLEMENTATION_SPECIFIC = 0x83;
export const MQTT_RC_KEEP_ALIVE_TIMEOUT = 0x8d;
export const MQTT_RC_SESSION_TAKEN_OVER = 0x8e;
export const MQTT_RC_TOPIC_NAME_INVALID = 0x90;
export const MQTT_RC_PACKET_ID_NOT_FOUND = 0x92;
export const MQTT_RC_RECEIVE_MAXIMUM_EXCEEDED = 0x93;
export const MQTT_RC_TOPIC_ALIAS_INVALID = 0x94;
export const MQTT_RC_PACKET_TOO_LARGE = 0x95;
export const MQTT_RC_QUOTA_EXCEEDED = 0x97;

/** A v5 property (struct mg_mqtt_prop): id, and iv or key/val by its type. */
export class mg_mqtt_prop {
  id = 0;
  /** Byte, two-byte, four-byte and variable byte integer properties. */
  iv = 0;
  /** The name of a user property. */
  key: mg_str | string = "";
  /** Strings, binary data, and the value of a user property. */
  val: mg_str | string = "";
}

/**
 * A received packet (struct mg_mqtt_message): views into the receive buffer,
 * valid during the event. One object serves every connection.
 */
export class mg_mqtt_message {
  /** PUBLISH: the topic (resolved when it came as a v5 topic alias). CONNECT: the will topic. */
  topic = mg_str();
  /** PUBLISH: the payload. CONNECT: the will payload. SUBSCRIBE/UNSUBSCRIBE: the topic list; SUBACK/UNSUBACK: the reason codes. */
  data = mg_str();
  /** The whole packet. After MQTT_INCOMPLETE with a complete fixed header, dgram.len is the declared size. */
  dgram = mg_str();
  id = 0;
  cmd = 0;
  qos = 0;
  /**
   * CONNACK's return code (as Mongoose); mgts also sets the v5 reason code of
   * PUBACK..PUBCOMP, DISCONNECT, AUTH and the first code of SUBACK/UNSUBACK,
   * and after MQTT_MALFORMED the reason code to answer with (0x81 malformed,
   * 0x82 protocol error, 0x90 topic name invalid, 0x94 topic alias invalid).
   * CONNECT: 0, or the return code to refuse an unsupported version with.
   */
  ack = 0;
  /** v5: where the properties start within dgram, and their length. */
  props_start = 0;
  props_size = 0;
  // mgts additions
  retain = false;
  dup = false;
  /** CONNACK: the session present flag. */
  session_present = false;
  /** PUBLISH: the v5 Topic Alias it carried (0 = none). */
  alias = 0;
  /**
   * Set to true during MG_EV_MQTT_MSG to have this PUBLISH offered again
   * later (after the next write, or poll) instead of now: its acknowledgement
   * waits too, and messages behind it wait; acknowledgements of your own
   * messages behind it are still taken. For a handler that must publish and
   * cannot yet (mg_mqtt_pub returned false). Ignored on a broker.
   */
  hold = false;
  // CONNECT (servers)
  version = 0;
  keepalive = 0;
  clean = false;
  client_id = mg_str();
  user = mg_str();
  pass = mg_str();
  will_props_start = 0;
  will_props_size = 0;
  /** CONNECT: user name / password flags (an empty one may be present). */
  has_user = false;
  has_pass = false;
  has_will = false;
}

// --- parsing ------------------------------------------------------------------

const INCOMPLETE = -1;
const BAD = -2;

/** A variable byte integer at p (MQTT 5 §1.5.5): its value, INCOMPLETE, or BAD (over 4 bytes, or not minimal). */
export function vint_at(b: Uint8Array, p: number, end: number): number {
  let v = 0;
  let mul = 1;
  for (let k = 0; k < 4; k++) {
    if (p + k >= end) return INCOMPLETE;
    const d = b[p + k];
    v += (d & 127) * mul;
    if ((d & 128) === 0) return d === 0 && k > 0 ? BAD : v;
    mul *= 128;
  }
  return BAD;
}
export function vlen(v: number): number {
  return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

/**
 * Well-formed UTF-8 as MQTT wants it (§1.5.4): no overlong forms, no
 * surrogates, nothing above U+10FFFF, and no U+0000.
 */
export function mg_mqtt_utf8_ok(b: Uint8Array, ofs: number, len: number): boolean {
  const end = ofs + len;
  let i = ofs;
  while (i < end) {
    const c = b[i];
    if (c >= 1 && c < 0x80) {
      i++;
      continue;
    }
    let n: number; // continuation bytes
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return false; // U+0000, a stray continuation byte, 0xc0/0xc1, 0xf5..
    if (i + n >= end) return false; // cut short
    const b1 = b[i + 1];
    if (b1 < lo || b1 > hi) return false;
    for (let k = 2; k <= n; k++) if ((b[i + k] & 0xc0) !== 0x80) return false;
    i += n + 1;
  }
  return true;
}

/** A topic name for PUBLISH or a will (§4.7): valid UTF-8 without wildcards. */
export function topic_ok(b: Uint8Array, ofs: number, len: number): boolean {
  for (let i = 0; i < len; i++) {
    const c = b[ofs + i];
    if (c === 0x2b || c === 0x23) return false; // '+', '#'
  }
  return true;
}

/**
 * Whether a topic filter is well formed (§4.7.1): '#' only as the whole last
 * level, '+' only as a whole level. Its UTF-8 is checked by mg_mqtt_parse.
 */
export function mg_mqtt_filter_ok(f: mg_str): boolean {
  const b = f.buf;
  const end = f.ofs + f.len;
  if (f.len === 0) return false;
  for (let i = f.ofs; i < end; i++) {
    const c = b[i];
    if (c !== 0x2b && c !== 0x23) continue;
    if (i > f.ofs && b[i - 1] !== 0x2f) return false; // preceded by something other than '/'
    if (c === 0x23) return i === end - 1; // '#' last
    if (i + 1 < end && b[i + 1] !== 0x2f) return false; // '+' followed by something other than '/'
  }
  return true;
}

/** A v5 property's type, or -1 for an unknown identifier. */
export function prop_type(id: number): number {
  switch (id) {
    case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2a:
      return MQTT_PROP_TYPE_BYTE;
    case 0x13: case 0x21: case 0x22: case 0x23:
      return MQTT_PROP_TYPE_SHORT;
    case 0x02: case 0x11: case 0x18: case 0x27:
      return MQTT_PROP_TYPE_INT;
    case 0x0b:
      return MQTT_PROP_TYPE_VARIABLE_INT;
    case 0x03: case 0x08: case 0x12: case 0x15: case 0x1a: case 0x1c: case 0x1f:
      return MQTT_PROP_TYPE_STRING;
    case 0x09: case 0x16:
      return MQTT_PROP_TYPE_BINARY_DATA;
    case 0x26:
      return MQTT_PROP_TYPE_STRING_PAIR;
  }
  return -1;
}

const WILL = 0; // "packet type" of will properties in prop_allowed
/** Whether property id may appear in packets of type cmd (WILL: will properties), MQTT 5 §2.2.2.2. */
function prop_allowed(id: number, cmd: number): boolean {
  let m = 0; // bit per packet type
  switch (id) {
    case 0x01: case 0x02: case 0x03: case 0x08: case 0x09:
      m = (1 << MQTT_CMD_PUBLISH) | (1 << WILL); break;
    case 0x0b: m = (1 << MQTT_CMD_PUBLISH) | (1 << MQTT_CMD_SUBSCRIBE); break;
    case 0x11: m = (1 << MQTT_CMD_CONNECT) | (1 << MQTT_CMD_CONNACK) | (1 << MQTT_CMD_DISCONNECT); break;
    case 0x12: case 0x13: case 0x1a: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2a:
      m = 1 << MQTT_CMD_CONNACK; break;
    case 0x15: case 0x16: m = (1 << MQTT_CMD_CONNECT) | (1 << MQTT_CMD_CONNACK) | (1 << MQTT_CMD_AUTH); break;
    case 0x17: case 0x19: m = 1 << MQTT_CMD_CONNECT; break;
    case 0x18: m = 1 << WILL; break;
    case 0x1c: m = (1 << MQTT_CMD_CONNACK) | (1 << MQTT_CMD_DISCONNECT); break;
    case 0x1f: m = 0xfff0 & ~((1 << MQTT_CMD_SUBSCRIBE) | (1 << MQTT_CMD_UNSUBSCRIBE) | (1 << MQTT_CMD_PINGREQ) | (1 << MQTT_CMD_PINGRESP) | (1 << MQTT_CMD_PUBLISH)) | (1 << MQTT_CMD_CONNACK); break;
    case 0x21: case 0x22: case 0x27: m = (1 << MQTT_CMD_CONNECT) | (1 << MQTT_CMD_CONNACK); break;
    case 0x23: m = 1 << MQTT_CMD_PUBLISH; break;
    case 0x26: m = 0xfffe & ~((1 << MQTT_CMD_PINGREQ) | (1 << MQTT_CMD_PINGRESP)) | (1 << WILL); break;
  }
  return (m & (1 << cmd)) !== 0;
}

/**
 * Checks the v5 properties at b[p..end) for a packet of type cmd: known ids,
 * allowed there, well-formed values, no duplicates where one is the limit.
 * Returns 0, or the reason code (0x81 malformed, 0x82 protocol error, 0x94).
 * Also notes the Topic Alias in m.alias (only a PUBLISH may carry one).
 */
function prop_check(b: Uint8Array, p: number, end: number, cmd: number, m: mg_mqtt_message): number {
  let seen_lo = 0; // ids 0..31 seen
  let seen_hi = 0; // ids 32..63
  while (p < end) {
    const id = b[p]; // every defined id fits one byte (a longer one is unknown anyway)
    const t = prop_type(id);
    if (t < 0 || (id & 0x80) !== 0 || !prop_allowed(id, cmd)) return MQTT_RC_MALFORMED_PACKET;
    p++;
    if (id !== MQTT_PROP_USER_PROPERTY && !(id === MQTT_PROP_SUBSCRIPTION_IDENTIFIER && cmd === MQTT_CMD_PUBLISH)) {
      const bit = 1 << (id & 31);
      if (id < 32) {
        if ((seen_lo & bit) !== 0) return MQTT_RC_PROTOCOL_ERROR;
        seen_lo |= bit;
      } else {
        if ((seen_hi & bit) !== 0) return MQTT_RC_PROTOCOL_ERROR;
        seen_hi |= bit;
      }
    }
    let v = 0;
    if (t === MQTT_PROP_TYPE_BYTE) {
      if (p + 1 > end) return MQTT_RC_MALFORMED_PACKET;
      v = b[p++];
      if (v > 1) return MQTT_RC_PROTOCOL_ERROR; // every byte property is 0 or 1 (Maximum QoS too)
    } else if (t === MQTT_PROP_TYPE_SHORT) {
      if (p + 2 > end) return MQTT_RC_MALFORMED_PACKET;
      v = (b[p] << 8) | b[p + 1];
      p += 2;
      if (v === 0 && id === MQTT_PROP_RECEIVE_MAXIMUM) return MQTT_RC_PROTOCOL_ERROR;
      if (id === MQTT_PROP_TOPIC_ALIAS) {
        if (v === 0) return MQTT_RC_TOPIC_ALIAS_INVALID;
        m.alias = v;
      }
    } else if (t === MQTT_PROP_TYPE_INT) {
      if (p + 4 > end) return MQTT_RC_MALFORMED_PACKET;
      v = b[p] * 16777216 + (b[p + 1] << 16) + (b[p + 2] << 8) + b[p + 3];
      p += 4;
      if (v === 0 && id === MQTT_PROP_MAXIMUM_PACKET_SIZE) return MQTT_RC_PROTOCOL_ERROR;
    } else if (t === MQTT_PROP_TYPE_VARIABLE_INT) {
      v = vint_at(b, p, end);
      if (v < 0) return MQTT_RC_MALFORMED_PACKET;
      p += vlen(v);
      if (v === 0) return MQTT_RC_PROTOCOL_ERROR;
    } else {
      // strings and binary data: a two-byte length; a pair is two strings
      for (let k = t === MQTT_PROP_TYPE_STRING_PAIR ? 2 : 1; k > 0; k--) {
        if (p + 2 > end) return MQTT_RC_MALFORMED_PACKET;
        const n = (b[p] << 8) | b[p + 1];
        p += 2;
        if (p + n > end) return MQTT_RC_MALFORMED_PACKET;
        if (t !== MQTT_PROP_TYPE_BINARY_DATA && !mg_mqtt_utf8_ok(b, p, n)) return MQTT_RC_MALFORMED_PACKET;
        p += n;
      }
    }
  }
  return 0;
}
function bad(m: mg_mqtt_message, reason: number): number {
  m.ack = reason;
  return MQTT_MALFORMED;
}

/** Reads the v5 property length at p and checks the properties; the end offset, or < 0 (reason code negated). */
function props_at(b: Uint8Array, m: mg_mqtt_message, p: number, end: number, cmd: number): number {
  const n = vint_at(b, p, end);
  if (n < 0 || p + vlen(n) + n > end) return -MQTT_RC_MALFORMED_PACKET;
  const s = p + vlen(n);
  m.props_start = s - m.dgram.ofs;
  m.props_size = n;
  const r = prop_check(b, s, s + n, cmd, m);
  return r !== 0 ? -r : s + n;
}

/**
 * Parses one packet at buf[ofs..ofs+len) (mg_mqtt_parse): MQTT_OK with m
 * filled, MQTT_INCOMPLETE, or MQTT_MALFORMED with m.ack the v5 reason code.
 * version (4 or 5) says how to read the packets that differ (CONNECT tells
 * its own). TypeScript adaptation: an optional ofs follows m, as C passes a
 * pointer.
 *
 * Stricter than Mongoose (which checks only the length's 4-byte limit): the
 * fixed header's flags per type, QoS 3, DUP on QoS 0, a non-minimal length,
 * packet id 0, invalid UTF-8 (and U+0000), wildcards or an empty topic in
 * PUBLISH, lengths that do not add up, v5 properties (known, allowed in the
 * packet, not repeated, values in range), reserved bits, and AUTH in v4.
 */
export function mg_mqtt_parse(buf: Uint8Array, len: number, version: number, m: mg_mqtt_message, ofs = 0): number {
  m.cmd = m.qos = m.id = m.ack = m.props_start = m.props_size = m.alias = 0;
  m.retain = m.dup = m.session_present = m.hold = false;
  mg_str_set(m.topic, buf, ofs, 0);
  mg_str_set(m.data, buf, ofs, 0);
  mg_str_set(m.dgram, buf, ofs, 0);
  if (len < 1) return MQTT_INCOMPLETE;
  const b0 = buf[ofs];
  const cmd = b0 >> 4;
  const flags = b0 & 15;
  m.cmd = cmd;
  // the flags each type must carry (§2.1.3); PUBLISH's are its DUP, QoS and RETAIN
  if (cmd === 0 || (cmd === MQTT_CMD_AUTH && version !== 5)) return bad(m, MQTT_RC_MALFORMED_PACKET);
  if (cmd === MQTT_CMD_PUBLISH) {
    m.qos = (flags >> 1) & 3;
    m.dup = (flags & 8) !== 0;
    m.retain = (flags & 1) !== 0;
    if (m.qos === 3 || (m.qos === 0 && m.dup)) return bad(m, MQTT_RC_MALFORMED_PACKET);
  } else if (flags !== (cmd === MQTT_CMD_PUBREL || cmd === MQTT_CMD_SUBSCRIBE || cmd === MQTT_CMD_UNSUBSCRIBE ? 2 : 0)) {
    return bad(m, MQTT_RC_MALFORMED_PACKET);
  }
  const rem = vint_at(buf, ofs + 1, ofs + len);
  if (rem === BAD) return bad(m, MQTT_RC_MALFORMED_PACKET);
  if (rem === INCOMPLETE) return MQTT_INCOMPLETE;
  const hl = 1 + vlen(rem);
  const total = hl + rem;
  mg_str_set(m.dgram, buf, ofs, total);
  if (len < total) return MQTT_INCOMPLETE;
  const b = buf;
  let p = ofs + hl;
  const end = ofs + total;
  const v5 = version === 5;
  switch (cmd) {
    case MQTT_CMD_CONNECT:
      return parse_connect(b, m, p, end);
    case MQTT_CMD_CONNACK: {
      if (rem < 2 || (!v5 && rem !== 2) || (v5 && rem < 3)) return bad(m, MQTT_RC_MALFORMED_PACKET);
      if ((b[p] & 0xfe) !== 0) return bad(m, MQTT_RC_MALFORMED_PACKET);
      m.session_present = (b[p] & 1) !== 0;
      m.ack = b[p + 1];
      p += 2;
      if (v5) {
        p = props_at(b, m, p, end, cmd);
        if (p < 0) return bad(m, -p);
      }
      return p === end ? MQTT_OK : bad(m, MQTT_RC_MALFORMED_PACKET);
    }
    case MQTT_CMD_PUBLISH: {
      if (p + 2 > end) return bad(m, MQTT_RC_MALFORMED_PACKET);
      const tl = (b[p] << 8) | b[p + 1];
      p += 2;
      if (p + tl > end) return bad(m, MQTT_RC_MALFORMED_PACKET);
      mg_str_set(m.topic, b, p, tl);
      if (!mg_mqtt_utf8_ok(b, p, tl)) return bad(m, MQTT_RC_MALFORMED_PACKET);
      if (!topic_ok(b, p, tl)) return bad(m, MQTT_RC_TOPIC_NAME_INVALID);
      p += tl;
      if (m.qos > 0) {
        if (p + 2 > end) return bad(m, MQTT_RC_MALFORMED_PACKET);
        m.id = (b[p] << 8) | b[p + 1];
        p += 2;
        if (m.id === 0) return bad(m, MQTT_RC_MALFORMED_PACKET);
      }
      if (v5) {
        p = props_at(b, m, p, end, cmd); // sets m.alias (mg_mqtt_parse zeroed it)
        if (p < 0) return bad(m, -p);
      }
      // an empty topic is only allowed as a v5 alias's reuse
      if (tl === 0 && m.alias === 0) return bad(m, v5 ? MQTT_RC_PROTOCOL_ERROR : MQTT_RC_MALFORMED_PACKET);
      mg_str_set(m.data, b, p, end - p);
      return MQTT_OK;
    }
    case MQTT_CMD_PUBACK:
    case MQTT_CMD_PUBREC:
    case MQTT_CMD_PUBREL:
    case MQTT_CMD_PUBCOMP: {
      if (rem < 2 || (!v5 && rem !== 2)) return bad(m, MQTT_RC_MALFORMED_PACKET);
      m.id = (b[p] << 8) | b[p + 1];
      if (m.id === 0) return bad(m, MQTT_RC_MALFORMED_PACKET);
      p += 2;
      if (p < end) m.ack = b[p++];
      if (p < end) {
        p = props_at(b, m, p, end, cmd);
        if (p < 0) return bad(m, -p);
      }
      return p === end ? MQTT_OK : bad(m, MQTT_RC_MALFORMED_PACKET);
    }
    case MQTT_CMD_SUBSCRIBE:
    case MQTT_CMD_UNSUBSCRIBE:
    case MQTT_CMD_SUBACK:
    case MQTT_CMD_UNSUBACK: {
      if (p + 2 > end) return bad(m, MQTT_RC_MALFORMED_PACKET);
      m.id = (b[p] << 8) | b[p + 1];
      if (m.id === 0) return bad(m, MQTT_RC_MALFORMED_PACKET);
      p += 2;
      if (v5) {
        p = props_at(b, m, p, end, cmd);
        if (p < 0) return bad(m, -p);
      }
      mg_str_set(m.data, b, p, end - p);
      if (cmd === MQTT_CMD_UNSUBACK && !v5) return p === end ? MQTT_OK : bad(m, MQTT_RC_MALFORMED_PACKET);
      if (p === end) return bad(m, MQTT_RC_PROTOCOL_ERROR); // at least one topic or reason code (§3.8.3, §3.10.3)
      if (cmd === MQTT_CMD_SUBACK || cmd === MQTT_CMD_UNSUBACK) {
        m.ack = b[p];
        return MQTT_OK;
      }
      // the topic list: each a UTF-8 string (and SUBSCRIBE's options byte)
      const sub = cmd === MQTT_CMD_SUBSCRIBE;
      let first = true;
      while (p < end) {
        if (p + 2 > end) return bad(m, MQTT_RC_MALFORMED_PACKET);
        const n = (b[p] << 8) | b[p + 1];
        p += 2;
        if (p + n + (sub ? 1 : 0) > end || n === 0) return bad(m, MQTT_RC_MALFORMED_PACKET);
        if (!mg_mqtt_utf8_ok(b, p, n)) return bad(m, MQTT_RC_MALFORMED_PACKET);
        if (first) mg_str_set(m.topic, b, p, n);
        p += n;
        if (sub) {
          const o = b[p++];
          // v4: only the QoS bits; v5: bits 6-7 reserved, QoS and retain handling below 3
          if ((o & 3) === 3 || (!v5 && (o & 0xfc) !== 0) || (v5 && ((o & 0xc0) !== 0 || (o & 0x30) === 0x30))) return bad(m, MQTT_RC_MALFORMED_PACKET);
          if (first) m.qos = o & 3;
        }
        first = false;
      }
      return MQTT_OK;
    }
    case MQTT_CMD_PINGREQ:
    case MQTT_CMD_PINGRESP:
      return rem === 0 ? MQTT_OK : bad(m, MQTT_RC_MALFORMED_PACKET);
    case MQTT_CMD_DISCONNECT:
    case MQTT_CMD_AUTH: {
      if (!v5) return rem === 0 ? MQTT_OK : bad(m, MQTT_RC_MALFORMED_PACKET);
      if (p < end) m.ack = b[p++];
      if (p < end) {
        p = props_at(b, m, p, end, cmd);
        if (p < 0) return bad(m, -p);
      }
      return p === end ? MQTT_OK : bad(m, MQTT_RC_MALFORMED_PACKET);
    }
  }
  return bad(m, MQTT_RC_MALFORMED_PACKET);
}

/** A two-byte-length string at p into s; the offset after it, or -1. */
function str_at(b: Uint8Array, p: number, end: number, s: mg_str, utf8: boolean): number {
  if (p + 2 > end) return -1;
  const n = (b[p] << 8) | b[p + 1];
  if (p + 2 + n > end) return -1;
  if (utf8 && !mg_mqtt_utf8_ok(b, p + 2, n)) return -1;
  mg_str_set(s, b, p + 2, n);
  return p + 2 + n;
}

/** CONNECT (§3.1): protocol name and level, flags, keepalive, properties, then the payload. */
function parse_connect(b: Uint8Array, m: mg_mqtt_message, p: number, end: number): number {
  m.version = m.keepalive = m.will_props_start = m.will_props_size = 0;
  m.clean = m.has_user = m.has_pass = m.has_will = false;
  mg_str_set(m.client_id, b, p, 0);
  mg_str_set(m.user, b, p, 0);
  mg_str_set(m.pass, b, p, 0);
  if (p + 2 > end) return bad(m, MQTT_RC_MALFORMED_PACKET);
  const nl = (b[p] << 8) | b[p + 1];
  const name = p + 2;
  if (name + nl + 1 > end) return bad(m, MQTT_RC_MALFORMED_PACKET);
  const level = b[name + nl];
  m.version = level;
  const mqtt = nl === 4 && b[name] === 77 && b[name + 1] === 81 && b[name + 2] === 84 && b[name + 3] === 84; // "MQTT"
  const mqisdp = nl === 6 && b[name] === 77 && b[name + 1] === 81 && b[name + 2] === 73; // "MQIsdp" (3.1)
  if (!mqtt && !mqisdp) return bad(m, MQTT_RC_MALFORMED_PACKET);
  if (!mqtt || (level !== 4 && level !== 5)) {
    m.ack = level > 5 ? 0x84 : 0x01; // refused with CONNACK: unsupported version
    return MQTT_OK;
  }
  p = name + nl + 1;
  if (p + 3 > end) return bad(m, MQTT_RC_MALFORMED_PACKET);
  const f = b[p];
  m.keepalive = (b[p + 1] << 8) | b[p + 2];
  p += 3;
  const will = (f & 4) !== 0;
  const wq = (f >> 3) & 3;
  // reserved bit, will QoS/retain without a will, will QoS 3, (v4) a password without a user name
  if ((f & 1) !== 0 || (!will && (f & 0x38) !== 0) || wq === 3 || (level === 4 && (f & 0xc0) === 0x40)) return bad(m, MQTT_RC_MALFORMED_PACKET);
  m.clean = (f & 2) !== 0;
  m.has_will = will;
  m.has_user = (f & 0x80) !== 0;
  m.has_pass = (f & 0x40) !== 0;
  m.qos = will ? wq : 0;
  m.retain = will && (f & 0x20) !== 0;
  if (level === 5) {
    p = props_at(b, m, p, end, MQTT_CMD_CONNECT);
    if (p < 0) return bad(m, -p);
  }
  p = str_at(b, p, end, m.client_id, true);
  if (p < 0) return bad(m, MQTT_RC_MALFORMED_PACKET);
  if (will) {
    if (level === 5) {
      const n = vint_at(b, p, end);
      if (n < 0 || p + vlen(n) + n > end) return bad(m, MQTT_RC_MALFORMED_PACKET);
      const s = p + vlen(n);
      const r = prop_check(b, s, s + n, WILL, m);
      if (r !== 0) return bad(m, r);
      m.will_props_start = s - m.dgram.ofs;
      m.will_props_size = n;
      p = s + n;
    }
    p = str_at(b, p, end, m.topic, true);
    if (p < 0) return bad(m, MQTT_RC_MALFORMED_PACKET);
    if (m.topic.len === 0 || !topic_ok(b, m.topic.ofs, m.topic.len)) return bad(m, level === 5 ? MQTT_RC_TOPIC_NAME_INVALID : MQTT_RC_MALFORMED_PACKET);
    p = str_at(b, p, end, m.data, false);
    if (p < 0) return bad(m, MQTT_RC_MALFORMED_PACKET);
  }
  if (m.has_user) {
    p = str_at(b, p, end, m.user, true);
    if (p < 0) return bad(m, MQTT_RC_MALFORMED_PACKET);
  }
  if (m.has_pass) {
    p = str_at(b, p, end, m.pass, false);
    if (p < 0) return bad(m, MQTT_RC_MALFORMED_PACKET);
  }
  return p === end ? MQTT_OK : bad(m, MQTT_RC_MALFORMED_PACKET);
}

/**
 * Iterates the v5 properties of a parsed packet (mg_mqtt_next_prop): call
 * with ofs 0, then with what it returned, until it returns 0. Fills prop
 * (strings as views into the packet).
 */
export function mg_mqtt_next_prop(m: mg_mqtt_message, prop: mg_mqtt_prop, ofs: number): number {
  return next_prop(m, m.props_start, m.props_size, prop, ofs);
}

/** The same over a CONNECT's will properties. An mgts addition, for servers. */
export function mg_mqtt_next_will_prop(m: mg_mqtt_message, prop: mg_mqtt_prop, ofs: number): number {
  return next_prop(m, m.will_props_start, m.will_props_size, prop, ofs);
}

function next_prop(m: mg_mqtt_message, start: number, size: number, prop: mg_mqtt_prop, ofs: number): number {
  if (ofs >= size) return 0;
  const b = m.dgram.buf;
  let p = m.dgram.ofs + start + ofs;
  const id = b[p++];
  prop.id = id;
  prop.iv = 0;
  const t = prop_type(id);
  if (t === MQTT_PROP_TYPE_BYTE) prop.iv = b[p++];
  else if (t === MQTT_PROP_TYPE_SHORT) {
    prop.iv = (b[p] << 8) | b[p + 1];
    p += 2;
  } else if (t === MQTT_PROP_TYPE_INT) {
    prop.iv = b[p] * 16777216 + (b[p + 1] << 16) + (b[p + 2] << 8) + b[p + 3];
    p += 4;
  } else if (t === MQTT_PROP_TYPE_VARIABLE_INT) {
    prop.iv = vint_at(b, p, p + 4);
    p += vlen(prop.iv);
  } else if (t >= 0) {
    const val = mg_is_str(prop.val) ? prop.val : (prop.val = mg_str());
    if (t === MQTT_PROP_TYPE_STRING_PAIR) {
      const key = mg_is_str(prop.key) ? prop.key : (prop.key = mg_str());
      p = str_at(b, p, p + 65537, key, false);
    }
    p = str_at(b, p, p + 65537, val, false);
  }
  const next = p - m.dgram.ofs - start;
  return next > ofs && next <= size ? next : 0;
}

/**
 * Iterates the topic filters of a parsed SUBSCRIBE or UNSUBSCRIBE: call with
 * ofs 0, then with what it returned, until it returns 0. topic is pointed at
 * the filter; the return value's companion, the SUBSCRIBE options byte
 * (QoS in bits 0-1), is left in m.qos. An mgts addition (Mongoose 7.0-7.5
 * had mg_mqtt_next_sub).
 */
export function mg_mqtt_next_sub(m: mg_mqtt_message, topic: mg_str, ofs: number): number {
  const d = m.data;
  if (ofs + 2 > d.len) return 0;
  const b = d.buf;
  const p = d.ofs + ofs;
  const n = (b[p] << 8) | b[p + 1];
  mg_str_set(topic, b, p + 2, n);
  let next = ofs + 2 + n;
  if (m.cmd === MQTT_CMD_SUBSCRIBE) m.qos = b[d.ofs + next++];
  return next;
}

// --- writing --------------------------------------------------------------------

/** A string field: a JS string (written as UTF-8) or an mg_str. */
export type text = mg_str | string;

export function tlen(s: text | null): number {
  if (s === null) return 0;
  return typeof s === "string" ? mg_utf8_len(s) : s.len;
}
export function put_u16(b: Uint8Array, o: number, v: number): number {
  b[o] = (v >> 8) & 255;
  b[o + 1] = v & 255;
  return o + 2;
}
export function put_u32(b: Uint8Array, o: number, v: number): number {
  b[o] = (v >>> 24) & 255;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
  return o + 4;
}
export function put_vint(b: Uint8Array, o: number, v: number): number {
  for (;;) {
    const d = v % 128;
    v = (v - d) / 128;
    if (v === 0) {
      b[o++] = d;
      return o;
    }
    b[o++] = d | 128;
  }
}
/** The bytes of s (n of them, measured by the caller), without a length. */
export function put_raw(b: Uint8Array, o: number, s: text, n: number): number {
  if (typeof s === "string") mg_utf8_put(s, b, o, n);
  else mg_copy(b, o, s.buf, s.ofs, n);
  return o + n;
}
/** A two-byte length, then the bytes of s. */
export function put_str(b: Uint8Array, o: number, s: text, n: number): number {
  return put_raw(b, put_u16(b, o, n), s, n);
}

/** The bytes v5 properties take (without their length). */
export function props_size(props: mg_mqtt_prop[] | null): number {
  if (props === null) return 0;
  let n = 0;
  for (let i = 0; i < props.length; i++) {
    const p = props[i];
    const t = prop_type(p.id);
    n += 1;
    if (t === MQTT_PROP_TYPE_BYTE) n += 1;
    else if (t === MQTT_PROP_TYPE_SHORT) n += 2;
    else if (t === MQTT_PROP_TYPE_INT) n += 4;
    else if (t === MQTT_PROP_TYPE_VARIABLE_INT) n += vlen(p.iv);
    else if (t === MQTT_PROP_TYPE_STRING_PAIR) n += 4 + tlen(p.key) + tlen(p.val);
    else n += 2 + tlen(p.val);
  }
  return n;
}
export function put_props(b: Uint8Array, o: number, props: mg_mqtt_prop[] | null): number {
  if (props === null) return o;
  for (let i = 0; i < props.length; i++) {
    const p = props[i];
    const t = prop_type(p.id);
    b[o++] = p.id;
    if (t === MQTT_PROP_TYPE_BYTE) b[o++] = p.iv;
    else if (t === MQTT_PROP_TYPE_SHORT) o = put_u16(b, o, p.iv);
    else if (t === MQTT_PROP_TYPE_INT) o = put_u32(b, o, p.iv);
    else if (t === MQTT_PROP_TYPE_VARIABLE_INT) o = put_vint(b, o, p.iv);
    else {
      if (t === MQTT_PROP_TYPE_STRING_PAIR) o = put_str(b, o, p.key, tlen(p.key));
      o = put_str(b, o, p.val, tlen(p.val));
    }
  }
  return o;
}
export function has_prop(props: mg_mqtt_prop[] | null, id: number): boolean {
  if (props !== null) for (let i = 0; i < props.length; i++) if (props[i].id === id) return true;
  return false;
}

/**
 * Copies v5 properties from src to dst at o (or only measures them when dst
 * is null), leaving out the ones that belong to one hop (Topic Alias,
 * Subscription Identifier) or to a will (Will Delay Interval), and taking
 * elapsed seconds off a Message Expiry Interval. Returns the bytes.
 */
export function mqtt_props_copy(src: mg_str, dst: Uint8Array | null, o: number, elapsed: number): number {
  const b = src.buf;
  const end = src.ofs + src.len;
  let p = src.ofs;
  let n = 0;
  while (p < end) {
    const id = b[p];
    const t = prop_type(id);
    let l = 1;
    if (t === MQTT_PROP_TYPE_BYTE) l += 1;
    else if (t === MQTT_PROP_TYPE_SHORT) l += 2;
    else if (t === MQTT_PROP_TYPE_INT) l += 4;
    else if (t === MQTT_PROP_TYPE_VARIABLE_INT) l += vlen(vint_at(b, p + 1, end));
    else {
      l += 2 + ((b[p + 1] << 8) | b[p + 2]);
      if (t === MQTT_PROP_TYPE_STRING_PAIR) l += 2 + ((b[p + l] << 8) | b[p + l + 1]);
    }
    if (t < 0) return n; // cannot happen: checked on receipt
    if (id !== MQTT_PROP_TOPIC_ALIAS && id !== MQTT_PROP_SUBSCRIPTION_IDENTIFIER && id !== MQTT_PROP_WILL_DELAY_INTERVAL) {
      if (dst !== null) {
        mg_copy(dst, o + n, b, p, l);
        if (id === MQTT_PROP_MESSAGE_EXPIRY_INTERVAL && elapsed > 0) {
          const v = b[p + 1] * 16777216 + (b[p + 2] << 16) + (b[p + 3] << 8) + b[p + 4];
          put_u32(dst, o + n + 1, v > elapsed ? v - elapsed : 1);
        }
      }
      n += l;
    }
    p += l;
  }
  return n;
}

/** The Message Expiry Interval among v5 properties, 0 when there is none. */
export function mqtt_props_expiry(src: mg_str): number {
  const b = src.buf;
  const end = src.ofs + src.len;
  for (let p = src.ofs; p < end; ) {
    const id = b[p];
    if (id === MQTT_PROP_MESSAGE_EXPIRY_INTERVAL) return b[p + 1] * 16777216 + (b[p + 2] << 16) + (b[p + 3] << 8) + b[p + 4];
    const t = prop_type(id);
    if (t === MQTT_PROP_TYPE_BYTE) p += 2;
    else if (t === MQTT_PROP_TYPE_SHORT) p += 3;
    else if (t === MQTT_PROP_TYPE_INT) p += 5;
    else if (t === MQTT_PROP_TYPE_VARIABLE_INT) p += 1 + vlen(vint_at(b, p + 1, end));
    else {
      let l = 3 + ((b[p + 1] << 8) | b[p + 2]);
      if (t === MQTT_PROP_TYPE_STRING_PAIR) l += 2 + ((b[p + l] << 8) | b[p + l + 1]);
      if (t < 0) return 0;
      p += l;
    }
  }
  return 0;
}

