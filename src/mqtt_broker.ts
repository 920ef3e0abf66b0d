// A small MQTT 3.1.1 / 5 broker over mg_mqtt_listen, in fixed tables: what
// Mongoose leaves to its mqtt-server tutorial (QoS 0 only there), done
// completely within bounds.
//
// What it does: CONNECT/CONNACK (v5 with its limits and an assigned id for
// an empty one), takeover of a client id already connected, SUBSCRIBE with
// '+' and '#' (and v5 no local, retain as published, retain handling,
// subscription identifiers), UNSUBSCRIBE, QoS 0/1/2 both ways (one delivery
// per client at the highest QoS of its matching subscriptions), retained
// messages (an empty one deletes; v5 message expiry honoured), wills (on a
// close without DISCONNECT, a keepalive timeout, a protocol error, a
// takeover, or v5 DISCONNECT 0x04), keepalive enforcement (1.5 keepalives),
// and MQTT over WebSocket (mg_mqtt_ws_upgrade on an HTTP listener).
//
// Bounds (src/config.ts) and what happens at them:
// - MG_MQTT_BROKER_SUBS subscriptions, filters up to MG_MQTT_TOPIC_MAX bytes:
//   beyond, the filter is refused in SUBACK (0x80; v5 0x97 quota exceeded);
// - MG_MQTT_BROKER_RETAINED messages in MG_MQTT_BROKER_RETAINED_SIZE bytes:
//   beyond, the message is delivered and not retained (v5 QoS 1/2: refused
//   with 0x97 and not delivered);
// - client ids up to MG_MQTT_CLIENT_ID_MAX bytes (CONNACK 0x02, v5 0x85),
//   wills up to MG_MQTT_WILL_SIZE bytes (CONNACK 0x03, v5 0x97);
// - a subscriber that cannot take a message now (send buffer or in-flight
//   window full): the PUBLISH waits, its publisher is not read meanwhile
//   (TCP back-pressure, nothing queued), up to MG_MQTT_BROKER_STALL_MS; then
//   it is dropped for the subscribers still full (counted in dropped).
// Not kept: sessions beyond their connection (CONNACK session present is
// always 0; a clean=false client gets a fresh session each time), will
// delays (a will goes at once), shared subscriptions (v5 0x9E), enhanced
// authentication. Anyone may connect (no user/password check).
import {
  MG_MQTT_MAX_INFLIGHT,
  MG_MQTT_TOPIC_ALIASES,
  MG_MQTT_BROKER_RETAINED,
  MG_MQTT_BROKER_RETAINED_SIZE,
  MG_MQTT_BROKER_STALL_MS,
  MG_MQTT_BROKER_SUBS,
  MG_MQTT_CLIENT_ID_MAX,
  MG_MQTT_TOPIC_MAX,
  MG_MQTT_WILL_SIZE,
} from "./config.js";
import { mg_copy } from "./iobuf.js";
import { MG_DEBUG, MG_ERROR } from "./log.js";
import { mg_connection, mg_event_handler_t, mg_mgr } from "./net.js";
import { mg_str, mg_str_set } from "./str.js";
import {
  ACK_ROOM,
  CLOSE_TIMEOUT_MS,
  MqttBrokerHooks,
  MqttConn,
  OUT_PUBACK,
  OUT_PUBREC,
  begin,
  finish,
  fits,
  mg_mqtt_active,
  mqtt_fail,
  mqtt_init,
  mqtt_listen,
  next_id,
  send_disconnect,
} from "./mqtt.js";
import {
  MQTT_CMD_CONNACK,
  MQTT_CMD_PUBLISH,
  MQTT_CMD_SUBACK,
  MQTT_CMD_UNSUBACK,
  MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER,
  MQTT_PROP_MAXIMUM_PACKET_SIZE,
  MQTT_PROP_RECEIVE_MAXIMUM,
  MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE,
  MQTT_PROP_SUBSCRIPTION_IDENTIFIER,
  MQTT_PROP_TOPIC_ALIAS_MAXIMUM,
  MQTT_RC_NO_MATCHING_SUBSCRIBERS,
  mg_mqtt_filter_ok,
  mg_mqtt_message,
  mg_mqtt_next_prop,
  mg_mqtt_next_sub,
  mg_mqtt_prop,
  mqtt_props_copy,
  mqtt_props_expiry,
  put_raw,
  put_str,
  put_u16,
  put_u32,
  put_vint,
  vlen,
} from "./mqtt_packet.js";

const RC_QUOTA = 0x97;
const AUTO_ID = "mgts-auto-"; // and a number: the client id given to a client that sent none

/** The broker's state of one pooled connection (MqttConn.bc). */
class BrokerClient {
  active = false;
  cid = new Uint8Array(MG_MQTT_CLIENT_ID_MAX);
  cid_len = 0;
  // the will: topic, properties, payload one after another in will[]
  has_will = false;
  will = new Uint8Array(MG_MQTT_WILL_SIZE);
  will_tlen = 0;
  will_plen = 0;
  will_dlen = 0;
  will_qos = 0;
  will_retain = false;
  // retained messages waiting to go to this client (after a SUBSCRIBE): 0, or 1 + QoS; and the subscription id
  pend = new Uint8Array(MG_MQTT_BROKER_RETAINED);
  pend_sid = new Uint32Array(MG_MQTT_BROKER_RETAINED);
  pend_n = 0;
  // one fan-out: the highest QoS of the matching subscriptions (-1: none), retain as published, blocked
  fan = -1;
  rap = false;
  blocked = false;
  ids = new Uint32Array(4);
  nids = 0;
  holding = false; // a PUBLISH of this client waits for full subscribers
  stalled = false; // full for longer than MG_MQTT_BROKER_STALL_MS: messages are dropped for it, not waited for, until it has room
}

/**
 * The broker: its tables are made here, for the manager's pool (call after
 * mg_mgr_init, at start-up). Listen with mg_mqtt_broker_listen; take MQTT
 * over WebSocket with mg_mqtt_ws_upgrade(c, hm, broker).
 */
export class mg_mqtt_broker implements MqttBrokerHooks {
  mgr: mg_mgr;
  // subscriptions: the connection (and its id, as pooled connections are reused), filter, options, v5 id
  sub_c: (mg_connection | null)[] = [];
  sub_cid = new Float64Array(MG_MQTT_BROKER_SUBS);
  sub_len = new Uint16Array(MG_MQTT_BROKER_SUBS);
  sub_f = new Uint8Array(MG_MQTT_BROKER_SUBS * MG_MQTT_TOPIC_MAX);
  sub_opt = new Uint8Array(MG_MQTT_BROKER_SUBS);
  sub_id = new Uint32Array(MG_MQTT_BROKER_SUBS);
  // retained messages: topic, properties, payload one after another in ret_bytes, kept in order
  ret_used = new Uint8Array(MG_MQTT_BROKER_RETAINED);
  ret_ofs = new Int32Array(MG_MQTT_BROKER_RETAINED);
  ret_tlen = new Int32Array(MG_MQTT_BROKER_RETAINED);
  ret_plen = new Int32Array(MG_MQTT_BROKER_RETAINED);
  ret_dlen = new Int32Array(MG_MQTT_BROKER_RETAINED);
  ret_qos = new Uint8Array(MG_MQTT_BROKER_RETAINED);
  ret_at = new Float64Array(MG_MQTT_BROKER_RETAINED); // mg_millis() when stored
  ret_exp = new Float64Array(MG_MQTT_BROKER_RETAINED); // Message Expiry Interval (s), 0 = none
  ret_bytes = new Uint8Array(MG_MQTT_BROKER_RETAINED_SIZE);
  ret_top = 0;
  /** PUBLISHes waiting for full subscribers. */
  holding = 0;
  next_cid = 0;
  // counters
  clients = 0;
  received = 0;
  delivered = 0;
  dropped = 0;
  // scratch, made once
  out = new MqttOut();
  tmp = mg_str();
  prop = new mg_mqtt_prop();
  codes = new Uint8Array(256);
  idbuf = new Uint8Array(24);
  idv = mg_str();

  constructor(mgr: mg_mgr) {
    this.mgr = mgr;
    for (let i = 0; i < MG_MQTT_BROKER_SUBS; i++) this.sub_c.push(null);
    mqtt_init(mgr);
    for (let i = 0; i < mgr.pool.length; i++) {
      const st = mgr.pool[i].mqtt as MqttConn;
      if (st.bc === null) st.bc = new BrokerClient();
    }
  }

  // --- connect, disconnect, close --------------------------------------------

  on_connect(c: mg_connection, st: MqttConn, m: mg_mqtt_message): void {
    const bc = (st.bc ??= new BrokerClient()) as BrokerClient;
    const v5 = m.version === 5;
    let assigned: mg_str | null = null;
    let id = m.client_id;
    if (id.len === 0) {
      if (!v5 && !m.clean) return refuse(c, st, 0x02, "an empty client id needs a clean session");
      // assign one: "mgts-auto-" and a counter
      const b = this.idbuf;
      let n = ++this.next_cid;
      let k = b.length;
      do {
        b[--k] = 48 + (n % 10);
        n = Math.floor(n / 10);
      } while (n > 0);
      for (let i = AUTO_ID.length - 1; i >= 0; i--) b[--k] = AUTO_ID.charCodeAt(i);
      id = mg_str_set(this.idv, b, k, b.length - k);
      assigned = v5 ? id : null;
    }
    if (id.len > MG_MQTT_CLIENT_ID_MAX) return refuse(c, st, v5 ? 0x85 : 0x02, "client id too long");
    // the will, its properties without Will Delay Interval (a will goes at once)
    bc.has_will = false;
    if (m.has_will) {
      const wp = this.tmp;
      mg_str_set(wp, m.dgram.buf, m.dgram.ofs + m.will_props_start, m.will_props_size);
      const pl = v5 ? mqtt_props_copy(wp, null, 0, 0) : 0;
      if (m.topic.len + pl + m.data.len > MG_MQTT_WILL_SIZE) return refuse(c, st, v5 ? RC_QUOTA : 0x03, "will too large");
      mg_copy(bc.will, 0, m.topic.buf, m.topic.ofs, m.topic.len);
      if (v5) mqtt_props_copy(wp, bc.will, m.topic.len, 0);
      mg_copy(bc.will, m.topic.len + pl, m.data.buf, m.data.ofs, m.data.len);
      bc.will_tlen = m.topic.len;
      bc.will_plen = pl;
      bc.will_dlen = m.data.len;
      bc.will_qos = m.qos;
      bc.will_retain = m.retain;
      bc.has_will = true;
    }
    // a client id already connected: the older connection goes (its will is published)
    for (let o = this.mgr.conns; o !== null; o = o.next) {
      const ost = mg_mqtt_active(o);
      if (o === c || ost === null || ost.broker !== this || ost.dead) continue;
      const obc = ost.bc as BrokerClient;
      if (obc.active && obc.cid_len === id.len && same(obc.cid, 0, id)) {
        MG_DEBUG("%lu MQTT broker: client id taken over by %lu", o.id, c.id);
        disconnect_with(o, ost, 0x8e);
      }
    }
    mg_copy(bc.cid, 0, id.buf, id.ofs, id.len);
    bc.cid_len = id.len;
    bc.active = true;
    bc.pend_n = 0;
    bc.pend.fill(0);
    bc.holding = false;
    bc.stalled = false;
    this.clients++;
    if (!send_connack(c, st, false, 0, assigned)) mqtt_fail(c, st, 0x83, "CONNACK does not fit");
  }

  on_disconnect(_c: mg_connection, st: MqttConn, m: mg_mqtt_message): void {
    const bc = st.bc as BrokerClient;
    if (bc !== null && m.ack !== 0x04) bc.has_will = false; // a normal DISCONNECT: no will
  }

  on_close(c: mg_connection, st: MqttConn): void {
    const bc = st.bc as BrokerClient | null;
    if (bc === null || !bc.active) return;
    bc.active = false;
    this.clients--;
    if (bc.holding) {
      bc.holding = false;
      this.holding--;
    }
    // its subscriptions go before its will, so the will does not come back to it
    for (let i = 0; i < MG_MQTT_BROKER_SUBS; i++) if (this.sub_c[i] === c) this.sub_c[i] = null;
    if (bc.has_will) {
      bc.has_will = false;
      const out = this.out;
      mg_str_set(out.topic, bc.will, 0, bc.will_tlen);
      mg_str_set(out.props, bc.will, bc.will_tlen, bc.will_plen);
      mg_str_set(out.data, bc.will, bc.will_tlen + bc.will_plen, bc.will_dlen);
      if (bc.will_retain) this.retain(out, bc.will_qos);
      this.route(out, bc.will_qos, bc.will_retain, null, false);
    }
  }

  on_tick(c: mg_connection, st: MqttConn, room: boolean): void {
    const bc = st.bc as BrokerClient | null;
    if (bc === null || !bc.active) return;
    if (bc.pend_n > 0) this.flush_pending(c, st, bc);
    // room was made: a held PUBLISH may go now, so poll again at once (not on every poll: no busy loop)
    if (room && this.holding > 0) c.mgr.busy = true;
  }

  // --- publish ------------------------------------------------------------------

  on_publish(c: mg_connection, st: MqttConn, m: mg_mqtt_message): number {
    const bc = st.bc as BrokerClient;
    if (st.version === 5) {
      // a client's PUBLISH carries no Subscription Identifier (MQTT 5 §3.3.4)
      const pr = this.prop;
      for (let ofs = mg_mqtt_next_prop(m, pr, 0); ofs > 0; ofs = mg_mqtt_next_prop(m, pr, ofs)) {
        if (pr.id === MQTT_PROP_SUBSCRIPTION_IDENTIFIER) {
          mqtt_fail(c, st, 0x82, "Subscription Identifier in a client's PUBLISH");
          return 0;
        }
      }
    }
    const out = this.out;
    mg_str_set(out.topic, m.topic.buf, m.topic.ofs, m.topic.len);
    mg_str_set(out.props, m.dgram.buf, m.dgram.ofs + m.props_start, m.props_size);
    mg_str_set(out.data, m.data.buf, m.data.ofs, m.data.len);
    out.elapsed = 0;
    // a retained message that cannot be kept: a v5 QoS 1/2 publisher is told (and nothing is delivered)
    const keep = m.retain && m.data.len > 0;
    if (keep && !this.retain_fits(out) && st.version === 5 && m.qos > 0) return RC_QUOTA;
    const now = c.mgr.hal!.millis();
    const may_wait = !st.held || now - st.held_at < MG_MQTT_BROKER_STALL_MS;
    const n = this.route(out, m.qos, m.retain, c, may_wait);
    if (n < 0) {
      if (!bc.holding) {
        bc.holding = true;
        this.holding++;
      }
      return -1;
    }
    if (bc.holding) {
      bc.holding = false;
      this.holding--;
    }
    this.received++;
    if (m.retain) {
      // routed with the same views: the retained copy is made after delivery
      mg_str_set(out.topic, m.topic.buf, m.topic.ofs, m.topic.len);
      mg_str_set(out.props, m.dgram.buf, m.dgram.ofs + m.props_start, m.props_size);
      mg_str_set(out.data, m.data.buf, m.data.ofs, m.data.len);
      if (!this.retain(out, m.qos)) MG_ERROR("MQTT broker: retained table full (MG_MQTT_BROKER_RETAINED, _SIZE): not retained");
    }
    return n === 0 && st.version === 5 ? MQTT_RC_NO_MATCHING_SUBSCRIBERS : 0;
  }

  /**
   * Delivers out to every client with a matching subscription, once each at
   * the highest QoS among its subscriptions (capped by qos). no_local (the
   * publisher) is left out of its no-local subscriptions. When a subscriber is
   * full and may_wait, nothing is sent and -1 returned; otherwise the full
   * ones miss it. Returns the number of deliveries.
   */
  route(out: MqttOut, qos: number, retain: boolean, no_local: mg_connection | null, may_wait: boolean): number {
    const mgr = this.mgr;
    for (let c = mgr.conns; c !== null; c = c.next) {
      const st = mg_mqtt_active(c);
      if (st !== null && st.broker === this) (st.bc as BrokerClient).fan = -1;
    }
    const t = out.topic;
    for (let i = 0; i < MG_MQTT_BROKER_SUBS; i++) {
      const c = this.sub_c[i];
      if (c === null) continue;
      if (c.id !== this.sub_cid[i] || mg_mqtt_active(c) === null) {
        this.sub_c[i] = null; // its connection is gone
        continue;
      }
      if (!mg_mqtt_match(t, this.sub_f, i * MG_MQTT_TOPIC_MAX, this.sub_len[i])) continue;
      const opt = this.sub_opt[i];
      if ((opt & 4) !== 0 && c === no_local) continue;
      const bc = (c.mqtt as MqttConn).bc as BrokerClient;
      const q = (opt & 3) < qos ? opt & 3 : qos;
      if (bc.fan < 0) {
        bc.fan = q;
        bc.rap = false;
        bc.nids = 0;
        bc.blocked = false;
      } else if (q > bc.fan) bc.fan = q;
      if ((opt & 8) !== 0) bc.rap = true;
      if (this.sub_id[i] !== 0 && bc.nids < 4) bc.ids[bc.nids++] = this.sub_id[i];
    }
    // can every subscriber take it now?
    let blocked = 0;
    for (let c = mgr.conns; c !== null; c = c.next) {
      const st = mg_mqtt_active(c);
      if (st === null || st.broker !== this) continue;
      const bc = st.bc as BrokerClient;
      if (bc.fan < 0) continue;
      this.set_ids(out, bc);
      const r = forward(c, st, out, bc.fan, bc.rap && retain, true);
      if (r === FWD_WAIT) {
        bc.blocked = true;
        if (!bc.stalled) blocked++;
      } else if (r === FWD_DROP) {
        bc.fan = -1; // larger than this subscriber takes: not for it (MQTT 5 §3.1.2.25)
        this.dropped++;
      }
    }
    if (blocked > 0 && may_wait) return -1;
    let n = 0;
    for (let c = mgr.conns; c !== null; c = c.next) {
      const st = mg_mqtt_active(c);
      if (st === null || st.broker !== this) continue;
      const bc = st.bc as BrokerClient;
      if (bc.fan < 0) continue;
      if (bc.blocked) {
        this.dropped++;
        if (!bc.stalled) MG_DEBUG("%lu MQTT broker: subscriber full for %d ms, dropping its messages", c.id, MG_MQTT_BROKER_STALL_MS);
        bc.stalled = true;
        continue;
      }
      bc.stalled = false;
      this.set_ids(out, bc);
      if (forward(c, st, out, bc.fan, bc.rap && retain, false) === FWD_SENT) n++;
    }
    this.delivered += n;
    return n;
  }

  set_ids(out: MqttOut, bc: BrokerClient): void {
    out.nids = bc.nids;
    for (let k = 0; k < bc.nids; k++) out.ids[k] = bc.ids[k];
  }

  // --- retained messages -----------------------------------------------------------

  /** The retained message of topic t, or -1. */
  ret_find(t: mg_str): number {
    for (let i = 0; i < MG_MQTT_BROKER_RETAINED; i++) {
      if (this.ret_used[i] !== 0 && this.ret_tlen[i] === t.len && same(this.ret_bytes, this.ret_ofs[i], t)) return i;
    }
    return -1;
  }

  /** Whether out can be retained (in place of the one of its topic, if any). */
  retain_fits(out: MqttOut): boolean {
    const old = this.ret_find(out.topic);
    let free = MG_MQTT_BROKER_RETAINED_SIZE - this.ret_top;
    let slots = 0;
    for (let i = 0; i < MG_MQTT_BROKER_RETAINED; i++) if (this.ret_used[i] === 0) slots++;
    if (old >= 0) {
      free += this.ret_tlen[old] + this.ret_plen[old] + this.ret_dlen[old];
      slots++;
    }
    return slots > 0 && out.topic.len + mqtt_props_copy(out.props, null, 0, 0) + out.data.len <= free;
  }

  /** Stores (or, with an empty payload, deletes) the retained message of out's topic. False when there is no room. */
  retain(out: MqttOut, qos: number): boolean {
    const t = out.topic;
    const old = this.ret_find(t);
    if (old >= 0) this.ret_delete(old); // replaced, or (kept or not) no longer current
    if (out.data.len === 0) return true;
    const pl = mqtt_props_copy(out.props, null, 0, 0);
    const size = t.len + pl + out.data.len;
    let slot = -1;
    for (let i = 0; i < MG_MQTT_BROKER_RETAINED && slot < 0; i++) if (this.ret_used[i] === 0) slot = i;
    if (slot < 0 || this.ret_top + size > MG_MQTT_BROKER_RETAINED_SIZE) return false;
    const o = this.ret_top;
    const b = this.ret_bytes;
    mg_copy(b, o, t.buf, t.ofs, t.len);
    mqtt_props_copy(out.props, b, o + t.len, out.elapsed);
    mg_copy(b, o + t.len + pl, out.data.buf, out.data.ofs, out.data.len);
    this.ret_top += size;
    this.ret_used[slot] = 1;
    this.ret_ofs[slot] = o;
    this.ret_tlen[slot] = t.len;
    this.ret_plen[slot] = pl;
    this.ret_dlen[slot] = out.data.len;
    this.ret_qos[slot] = qos;
    this.ret_at[slot] = this.mgr.hal!.millis();
    mg_str_set(this.tmp, b, o + t.len, pl);
    this.ret_exp[slot] = mqtt_props_expiry(this.tmp);
    return true;
  }

  ret_delete(i: number): void {
    const size = this.ret_tlen[i] + this.ret_plen[i] + this.ret_dlen[i];
    const o = this.ret_ofs[i];
    this.ret_bytes.copyWithin(o, o + size, this.ret_top);
    this.ret_top -= size;
    this.ret_used[i] = 0;
    for (let k = 0; k < MG_MQTT_BROKER_RETAINED; k++) if (this.ret_used[k] !== 0 && this.ret_ofs[k] > o) this.ret_ofs[k] -= size;
  }

  /** Points out at retained message i; false (and deletes it) when it has expired. */
  ret_view(i: number, out: MqttOut): boolean {
    const o = this.ret_ofs[i];
    const tl = this.ret_tlen[i];
    const pl = this.ret_plen[i];
    const b = this.ret_bytes;
    const age = Math.floor((this.mgr.hal!.millis() - this.ret_at[i]) / 1000);
    if (this.ret_exp[i] > 0 && age >= this.ret_exp[i]) {
      this.ret_delete(i);
      return false;
    }
    mg_str_set(out.topic, b, o, tl);
    mg_str_set(out.props, b, o + tl, pl);
    mg_str_set(out.data, b, o + tl + pl, this.ret_dlen[i]);
    out.elapsed = age;
    return true;
  }

  /** Sends the retained messages a SUBSCRIBE asked for, as far as they fit now (the rest on later polls and writes). */
  flush_pending(c: mg_connection, st: MqttConn, bc: BrokerClient): void {
    const out = this.out;
    for (let i = 0; i < MG_MQTT_BROKER_RETAINED && bc.pend_n > 0; i++) {
      const p = bc.pend[i];
      if (p === 0) continue;
      if (this.ret_used[i] === 0 || !this.ret_view(i, out)) {
        bc.pend[i] = 0;
        bc.pend_n--;
        continue;
      }
      const q = p - 1 < this.ret_qos[i] ? p - 1 : this.ret_qos[i];
      out.nids = bc.pend_sid[i] !== 0 ? 1 : 0;
      out.ids[0] = bc.pend_sid[i];
      const r = forward(c, st, out, q, true, false);
      if (r === FWD_WAIT) return;
      bc.pend[i] = 0;
      bc.pend_n--;
      if (r === FWD_SENT) this.delivered++;
    }
  }

  // --- subscriptions -----------------------------------------------------------------

  on_subscribe(c: mg_connection, st: MqttConn, m: mg_mqtt_message): boolean {
    const n = this.filters(c, st, m);
    if (n <= 0) return n < 0;
    const bc = st.bc as BrokerClient;
    const v5 = st.version === 5;
    const f = this.tmp;
    let sid = 0;
    if (v5) {
      const pr = this.prop;
      for (let ofs = mg_mqtt_next_prop(m, pr, 0); ofs > 0; ofs = mg_mqtt_next_prop(m, pr, ofs)) {
        if (pr.id === MQTT_PROP_SUBSCRIPTION_IDENTIFIER) sid = pr.iv;
      }
    }
    let k = 0;
    for (let ofs = mg_mqtt_next_sub(m, f, 0); ofs > 0; ofs = mg_mqtt_next_sub(m, f, ofs)) {
      const opt = m.qos; // the options byte
      let code = opt & 3;
      if (!mg_mqtt_filter_ok(f)) code = v5 ? 0x8f : 0x80;
      else if (v5 && is_shared(f)) code = 0x9e;
      else if (f.len > MG_MQTT_TOPIC_MAX) code = v5 ? RC_QUOTA : 0x80;
      else {
        let slot = this.find_sub(c, f);
        const existed = slot >= 0;
        if (slot < 0) {
          for (let i = 0; i < MG_MQTT_BROKER_SUBS && slot < 0; i++) if (this.sub_c[i] === null) slot = i;
        }
        if (slot < 0) {
          code = v5 ? RC_QUOTA : 0x80;
          MG_ERROR("MQTT broker: subscription table full (MG_MQTT_BROKER_SUBS)");
        } else {
          this.sub_c[slot] = c;
          this.sub_cid[slot] = c.id;
          this.sub_len[slot] = f.len;
          mg_copy(this.sub_f, slot * MG_MQTT_TOPIC_MAX, f.buf, f.ofs, f.len);
          this.sub_opt[slot] = v5 ? opt : opt & 3;
          this.sub_id[slot] = sid;
          const rh = v5 ? (opt >> 4) & 3 : 0;
          if (rh === 0 || (rh === 1 && !existed)) this.pend_retained(bc, slot);
        }
      }
      this.codes[k++] = code;
    }
    send_codes(c, st, MQTT_CMD_SUBACK, m.id, this.codes, k);
    if (bc.pend_n > 0) this.flush_pending(c, st, bc);
    return true;
  }

  find_sub(c: mg_connection, f: mg_str): number {
    for (let i = 0; i < MG_MQTT_BROKER_SUBS; i++) {
      if (this.sub_c[i] === c && this.sub_cid[i] === c.id && this.sub_len[i] === f.len && same(this.sub_f, i * MG_MQTT_TOPIC_MAX, f)) return i;
    }
    return -1;
  }

  /** Marks the retained messages matching subscription i for delivery to bc. */
  pend_retained(bc: BrokerClient, i: number): void {
    const q = this.sub_opt[i] & 3;
    for (let r = 0; r < MG_MQTT_BROKER_RETAINED; r++) {
      if (this.ret_used[r] === 0) continue;
      mg_str_set(this.tmp, this.ret_bytes, this.ret_ofs[r], this.ret_tlen[r]);
      if (!mg_mqtt_match(this.tmp, this.sub_f, i * MG_MQTT_TOPIC_MAX, this.sub_len[i])) continue;
      if (bc.pend[r] === 0) bc.pend_n++;
      if (bc.pend[r] < q + 1) bc.pend[r] = q + 1;
      bc.pend_sid[r] = this.sub_id[i];
    }
  }

  /**
   * The topic filters a SUBSCRIBE or UNSUBSCRIBE lists, when its answer (a
   * code per filter) fits now; 0 when it does not fit yet, -1 when it never
   * can (more filters than this.codes holds: the client is failed).
   */
  filters(c: mg_connection, st: MqttConn, m: mg_mqtt_message): number {
    const f = this.tmp;
    let n = 0;
    for (let ofs = mg_mqtt_next_sub(m, f, 0); ofs > 0; ofs = mg_mqtt_next_sub(m, f, ofs)) n++;
    if (n > this.codes.length) {
      mqtt_fail(c, st, 0x83, "too many topic filters in one packet");
      return -1;
    }
    return codes_fit(c, st, n) ? n : 0;
  }

  on_unsubscribe(c: mg_connection, st: MqttConn, m: mg_mqtt_message): boolean {
    const n = this.filters(c, st, m);
    if (n <= 0) return n < 0;
    const f = this.tmp;
    let k = 0;
    for (let ofs = mg_mqtt_next_sub(m, f, 0); ofs > 0; ofs = mg_mqtt_next_sub(m, f, ofs)) {
      const i = this.find_sub(c, f);
      if (i >= 0) this.sub_c[i] = null;
      this.codes[k++] = i >= 0 ? 0 : 0x11; // v5: no subscription existed
    }
    send_codes(c, st, MQTT_CMD_UNSUBACK, m.id, this.codes, k);
    return true;
  }

  /** Subscriptions in use (for the app's statistics). */
  subscriptions(): number {
    let n = 0;
    for (let i = 0; i < MG_MQTT_BROKER_SUBS; i++) if (this.sub_c[i] !== null && this.sub_c[i]!.id === this.sub_cid[i]) n++;
    return n;
  }

  /** Retained messages held. */
  retained(): number {
    let n = 0;
    for (let i = 0; i < MG_MQTT_BROKER_RETAINED; i++) n += this.ret_used[i];
    return n;
  }
}

// --- what the broker sends --------------------------------------------------------

/** A message a broker forwards: views of its topic, v5 properties and payload. */
class MqttOut {
  topic = mg_str();
  props = mg_str();
  data = mg_str();
  /** Seconds since it was stored (retained): taken off its Message Expiry Interval. */
  elapsed = 0;
  /** v5 subscription identifiers to send with it. */
  ids = new Uint32Array(4);
  nids = 0;
}

// mqtt_forward results
const FWD_SENT = 1;
const FWD_WAIT = 0; // no room now (send buffer or in-flight window)
const FWD_DROP = -1; // can never go (over the subscriber's Maximum Packet Size, or the buffer)

/**
 * Forwards a message to subscriber connection c at QoS q (PUBLISH with a new
 * packet id in c's in-flight table when q > 0). dry: only tell whether it
 * would go. v4 subscribers get no properties.
 */
function forward(c: mg_connection, st: MqttConn, msg: MqttOut, q: number, retain: boolean, dry: boolean): number {
  const v5 = st.version === 5;
  let ps = 0;
  if (v5) {
    ps = mqtt_props_copy(msg.props, null, 0, 0);
    for (let i = 0; i < msg.nids; i++) ps += 1 + vlen(msg.ids[i]);
  }
  const rem = 2 + msg.topic.len + (q > 0 ? 2 : 0) + (v5 ? vlen(ps) + ps : 0) + msg.data.len;
  const total = 1 + vlen(rem) + rem;
  if ((st.peer_max_packet > 0 && total > st.peer_max_packet) || total + (st.over_ws ? 10 : 0) + ACK_ROOM > c.send.size) return FWD_DROP;
  const s = st.s;
  if (q > 0 && (s.n >= MG_MQTT_MAX_INFLIGHT || s.n >= st.peer_recv_max)) return FWD_WAIT;
  if (!fits(c, st, rem + ACK_ROOM)) return FWD_WAIT;
  if (dry) return FWD_SENT;
  const o = begin(c, st, (MQTT_CMD_PUBLISH << 4) | (q << 1) | (retain ? 1 : 0), rem);
  const b = c.send.buf;
  let e = put_str(b, o, msg.topic, msg.topic.len);
  if (q > 0) {
    const id = next_id(s);
    e = put_u16(b, e, id);
    const i = s.n++;
    s.ids[i] = id;
    s.state[i] = q === 1 ? OUT_PUBACK : OUT_PUBREC;
    s.blen[i] = 0;
    s.bofs[i] = s.used;
  }
  if (v5) {
    e = put_vint(b, e, ps);
    e += mqtt_props_copy(msg.props, b, e, msg.elapsed);
    for (let i = 0; i < msg.nids; i++) {
      b[e++] = MQTT_PROP_SUBSCRIPTION_IDENTIFIER;
      e = put_vint(b, e, msg.ids[i]);
    }
  }
  e = put_raw(b, e, msg.data, msg.data.len);
  finish(c, st, e);
  return FWD_SENT;
}

/**
 * CONNACK from a server: session present, the return (v5 reason) code, and on
 * v5 the limits of this side (Receive Maximum, Maximum Packet Size, Topic
 * Alias Maximum, no shared subscriptions) and an assigned client id.
 */
function send_connack(c: mg_connection, st: MqttConn, sp: boolean, code: number, assigned: mg_str | null): boolean {
  const v5 = c.is_mqtt5;
  const al = assigned !== null ? assigned.len : 0;
  const ps = v5 && code === 0 ? 3 + 5 + (MG_MQTT_TOPIC_ALIASES > 0 ? 3 : 0) + 2 + (assigned !== null ? 3 + al : 0) : 0;
  const o = begin(c, st, MQTT_CMD_CONNACK << 4, 2 + (v5 ? vlen(ps) + ps : 0));
  if (o < 0) return false;
  const b = c.send.buf;
  b[o] = sp ? 1 : 0;
  b[o + 1] = code;
  let e = o + 2;
  if (v5) {
    e = put_vint(b, e, ps);
    if (ps > 0) {
      b[e++] = MQTT_PROP_RECEIVE_MAXIMUM;
      e = put_u16(b, e, MG_MQTT_MAX_INFLIGHT);
      b[e++] = MQTT_PROP_MAXIMUM_PACKET_SIZE;
      e = put_u32(b, e, c.recv.size);
      if (MG_MQTT_TOPIC_ALIASES > 0) {
        b[e++] = MQTT_PROP_TOPIC_ALIAS_MAXIMUM;
        e = put_u16(b, e, MG_MQTT_TOPIC_ALIASES);
      }
      b[e++] = MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE;
      b[e++] = 0;
      if (assigned !== null) {
        b[e++] = MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER;
        e = put_str(b, e, assigned, al);
      }
    }
  }
  finish(c, st, e);
  return true;
}

/** SUBACK or UNSUBACK: the id, (v5) no properties, the n codes (none for a v4 UNSUBACK). */
function send_codes(c: mg_connection, st: MqttConn, cmd: number, id: number, codes: Uint8Array, n: number): boolean {
  const v5 = c.is_mqtt5;
  const k = cmd === MQTT_CMD_UNSUBACK && !v5 ? 0 : n;
  const o = begin(c, st, cmd << 4, 2 + (v5 ? 1 : 0) + k);
  if (o < 0) return false;
  const b = c.send.buf;
  let e = put_u16(b, o, id);
  if (v5) b[e++] = 0;
  mg_copy(b, e, codes, 0, k);
  finish(c, st, e + k);
  return true;
}

/** Whether a SUBACK/UNSUBACK with n codes fits now. */
function codes_fit(c: mg_connection, st: MqttConn, n: number): boolean {
  return fits(c, st, 3 + n);
}

/** A v5 DISCONNECT with a reason (a v4 connection is only closed), then the close. */
function disconnect_with(c: mg_connection, st: MqttConn, reason: number): void {
  if (!st.disconnected) send_disconnect(c, st, reason, null);
  st.disconnected = true;
  st.dead = true;
  st.close_at = c.mgr.hal!.millis() + CLOSE_TIMEOUT_MS;
  c.is_draining = true;
}


/** CONNACK with a refusal, then close. */
function refuse(c: mg_connection, st: MqttConn, code: number, why: string): void {
  MG_DEBUG("%lu MQTT broker: CONNECT refused (0x%x): %s", c.id, code, why);
  send_connack(c, st, false, code, null);
  st.dead = true;
  st.disconnected = true;
  st.close_at = c.mgr.hal!.millis() + 3000;
  c.is_draining = true;
}

/** Whether the s.len bytes at x[xo] are s's (the length is the caller's check). */
function same(x: Uint8Array, xo: number, s: mg_str): boolean {
  for (let i = 0; i < s.len; i++) if (x[xo + i] !== s.buf[s.ofs + i]) return false;
  return true;
}

/** "$share/": a v5 shared subscription. */
function is_shared(f: mg_str): boolean {
  const b = f.buf;
  const o = f.ofs;
  return f.len > 7 && b[o] === 36 && b[o + 1] === 115 && b[o + 2] === 104 && b[o + 3] === 97 && b[o + 4] === 114 && b[o + 5] === 101 && b[o + 6] === 47;
}

/**
 * Whether topic t matches the filter at f[fofs..fofs+flen) (MQTT §4.7): '+'
 * is one level (possibly empty), '#' the rest including the parent level
 * ("a/#" matches "a"), and a topic starting with '$' is not matched by a
 * filter starting with a wildcard.
 */
export function mg_mqtt_match(t: mg_str, f: Uint8Array, fofs: number, flen: number): boolean {
  const tb = t.buf;
  let i = t.ofs;
  const te = t.ofs + t.len;
  let j = fofs;
  const fe = fofs + flen;
  if (t.len > 0 && tb[i] === 36 && flen > 0 && (f[j] === 43 || f[j] === 35)) return false;
  while (j < fe) {
    const fc = f[j];
    if (fc === 35) return true; // '#'
    if (fc === 43) {
      while (i < te && tb[i] !== 47) i++; // '+': one level
      j++;
      continue;
    }
    if (i >= te) return fc === 47 && j + 2 === fe && f[j + 1] === 35; // "a/#" against "a"
    if (tb[i] !== fc) return false;
    i++;
    j++;
  }
  return i === te;
}

/**
 * Listens for MQTT clients and serves them as a broker (an mgts addition;
 * Mongoose's broker is a tutorial). fn gets every client's events as with
 * mg_mqtt_listen (MG_EV_MQTT_CMD, MG_EV_MQTT_MSG...), after the broker has
 * acted on them. Returns the listener, or null.
 */
export function mg_mqtt_broker_listen(mgr: mg_mgr, url: string, broker: mg_mqtt_broker, fn: mg_event_handler_t | null, fn_data: any): mg_connection | null {
  return mqtt_listen(mgr, url, fn, fn_data, broker);
}
