// MQTT publish paths, bundled into one script for the XS worker by
// bench/mqtt.bench.mjs (and imported as is on V8). setup(kind) makes
// everything over the mock network; run(n) then moves n messages, so the
// heap count around it shows what mgts allocates per message. Kinds:
//  out0, out1   the mgts client publishes (QoS 0; QoS 1 with the broker's
//               PUBACK), to a broker played by the test's peer
//  in0, in1     the client receives a PUBLISH (QoS 1: and sends PUBACK)
//  broker0/1    the mgts broker forwards a PUBLISH from one client peer to
//               a subscribed one (QoS 1: PUBACK both ways)
//  base         no MQTT: the same PUBLISH bytes into a plain mg_listen
//               handler that drops them (the mock network's and the core's
//               share of the figures above)
// Every message is checked (its bytes on the far side), errors counted.
import { mg_mock, mg_mock_peer } from "../hal/mock.js";
import { MG_EV_MQTT_MSG, MG_EV_READ, mg_connection, mg_listen, mg_mgr, mg_mgr_init, mg_mgr_poll } from "../src/net.js";
import { mg_mqtt_connect, mg_mqtt_opts, mg_mqtt_pub, mqtt_init } from "../src/mqtt.js";
import { mg_mqtt_message } from "../src/mqtt_packet.js";
import { mg_mqtt_broker, mg_mqtt_broker_listen } from "../src/mqtt_broker.js";
import { mg_str_n } from "../src/str.js";

export const PAYLOAD = 64;
const TOPIC = "mgts/bench/t"; // 12 bytes
const PUB_LEN = 2 + 2 + 12 + PAYLOAD; // fixed header (1 + 1 length byte), topic, payload
const PUB1_LEN = PUB_LEN + 2; // with a packet id

class Bench {
  kind = "";
  net: mg_mock | null = null;
  mgr: mg_mgr | null = null;
  peer: mg_mock_peer | null = null; // the broker (client kinds), or the publisher (broker kinds)
  sub: mg_mock_peer | null = null; // broker kinds: the subscriber
  c: mg_connection | null = null;
  opts = new mg_mqtt_opts();
  payload = new Uint8Array(PAYLOAD);
  pub0 = new Uint8Array(PUB_LEN);
  pub1 = new Uint8Array(PUB1_LEN);
  ack = new Uint8Array([0x40, 2, 0, 0]);
  back = new Uint8Array(4096);
  received = 0;
  errors = 0;
}
const B = new Bench();

function on_client(_c: mg_connection, ev: number, ev_data: any): void {
  if (ev === MG_EV_MQTT_MSG) {
    const m = ev_data as mg_mqtt_message;
    if (m.data.len === PAYLOAD && m.data.buf[m.data.ofs + PAYLOAD - 1] === B.payload[PAYLOAD - 1]) B.received++;
    else B.errors++;
  }
}

/** A PUBLISH of TOPIC and the payload into b (QoS 0 or 1). */
function make_publish(b: Uint8Array, qos: number): void {
  let o = 0;
  b[o++] = 0x30 | (qos << 1);
  b[o++] = b.length - 2;
  b[o++] = 0;
  b[o++] = 12;
  for (let i = 0; i < 12; i++) b[o++] = TOPIC.charCodeAt(i);
  if (qos > 0) {
    b[o++] = 0;
    b[o++] = 1;
  }
  for (let i = 0; i < PAYLOAD; i++) b[o++] = B.payload[i];
}

/** Reads what arrived at p, up to want bytes, polling the manager; returns the count. */
function take(p: mg_mock_peer, want: number): number {
  const net = B.net as mg_mock;
  let got = 0;
  for (let polls = 0; got < want && polls < 20; polls++) {
    got += p.recv_into(B.back, got, want - got);
    if (got < want) {
      net.now += 1;
      mg_mgr_poll(B.mgr as mg_mgr, 0);
    }
  }
  return got;
}

function connect_peer(p: mg_mock_peer, id: string): void {
  const c = [0x10, 12 + id.length, 0, 4, 77, 81, 84, 84, 4, 2, 0, 0, 0, id.length];
  const b = new Uint8Array(c.length + id.length);
  for (let i = 0; i < c.length; i++) b[i] = c[i];
  for (let i = 0; i < id.length; i++) b[c.length + i] = id.charCodeAt(i);
  p.send(b);
}

/** The base kind's handler: counts what arrives, drops it. */
function drop(c: mg_connection, ev: number, ev_data: any): void {
  if (ev === MG_EV_READ) {
    if (c.recv.len === PUB_LEN && c.recv.buf[PUB_LEN - 1] === B.payload[PAYLOAD - 1]) B.received++;
    c.recv.len = 0;
  }
  void ev_data;
}

export function setup(kind: string): void {
  B.kind = kind;
  for (let i = 0; i < PAYLOAD; i++) B.payload[i] = 32 + ((i * 7) % 95);
  make_publish(B.pub0, 0);
  make_publish(B.pub1, 1);
  const net = new mg_mock(16, 16384);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  B.net = net;
  B.mgr = mgr;
  if (kind === "base") {
    mg_listen(mgr, "tcp://0.0.0.0:1883", drop, null);
    B.peer = net.client(1883)!;
    for (let i = 0; i < 3; i++) {
      net.now += 1;
      mg_mgr_poll(mgr, 0); // accepted before the first message
    }
    return;
  }
  if (kind.startsWith("broker")) {
    const broker = new mg_mqtt_broker(mgr);
    mg_mqtt_broker_listen(mgr, "mqtt://0.0.0.0:1883", broker, null, null);
    const pub = net.client(1883)!;
    const sub = net.client(1883)!;
    connect_peer(pub, "pub");
    connect_peer(sub, "sub");
    // SUBSCRIBE mgts/bench/t at the kind's QoS
    const s = new Uint8Array(2 + 2 + 2 + 12 + 1);
    s[0] = 0x82;
    s[1] = s.length - 2;
    s[3] = 1;
    s[5] = 12;
    for (let i = 0; i < 12; i++) s[6 + i] = TOPIC.charCodeAt(i);
    s[18] = kind === "broker1" ? 1 : 0;
    sub.send(s);
    for (let i = 0; i < 5; i++) {
      net.now += 1;
      mg_mgr_poll(mgr, 0);
    }
    pub.recv_into(B.back, 0, B.back.length);
    sub.recv_into(B.back, 0, B.back.length);
    B.peer = pub;
    B.sub = sub;
    return;
  }
  const srv = net.server(1883);
  const o = new mg_mqtt_opts();
  o.client_id = "bench";
  B.c = mg_mqtt_connect(mgr, "mqtt://127.0.0.1:1883", o, on_client, null);
  for (let i = 0; i < 3; i++) {
    net.now += 1;
    mg_mgr_poll(mgr, 0);
  }
  const p = net.accepted(srv)!;
  p.recv_into(B.back, 0, B.back.length);
  p.send(new Uint8Array([0x20, 2, 0, 0]));
  for (let i = 0; i < 3; i++) {
    net.now += 1;
    mg_mgr_poll(mgr, 0);
  }
  B.peer = p;
  B.opts.topic = TOPIC;
  B.opts.message = mg_str_n(B.payload, 0, PAYLOAD);
  B.opts.qos = kind === "out1" ? 1 : 0;
}

/** n messages of the kind set up. */
export function run(n: number): number {
  const k = B.kind;
  const p = B.peer as mg_mock_peer;
  const net = B.net as mg_mock;
  const mgr = B.mgr as mg_mgr;
  for (let i = 0; i < n; i++) {
    if (k === "out0" || k === "out1") {
      const id = mg_mqtt_pub(B.c as mg_connection, B.opts);
      if (id === false) {
        B.errors++;
        continue;
      }
      const want = k === "out0" ? PUB_LEN : PUB1_LEN;
      if (take(p, want) !== want || B.back[want - 1] !== B.payload[PAYLOAD - 1]) B.errors++;
      if (k === "out1") {
        B.ack[2] = B.back[16];
        B.ack[3] = B.back[17];
        p.send(B.ack, 4, 0);
        net.now += 1;
        mg_mgr_poll(mgr, 0);
      }
    } else if (k === "base") {
      const before = B.received;
      p.send(B.pub0, PUB_LEN, 0);
      net.now += 1;
      mg_mgr_poll(mgr, 0);
      if (B.received !== before + 1) B.errors++;
    } else if (k === "in0" || k === "in1") {
      const before = B.received;
      if (k === "in0") {
        p.send(B.pub0, PUB_LEN, 0);
        net.now += 1;
        mg_mgr_poll(mgr, 0);
      } else {
        B.pub1[16] = (i >> 8) & 255 || 1;
        B.pub1[17] = i & 255;
        p.send(B.pub1, PUB1_LEN, 0);
        if (take(p, 4) !== 4 || B.back[0] !== 0x40) B.errors++;
      }
      if (B.received !== before + 1) B.errors++;
    } else {
      // broker0 / broker1: publisher → broker → subscriber
      const sub = B.sub as mg_mock_peer;
      if (k === "broker0") {
        p.send(B.pub0, PUB_LEN, 0);
        if (take(sub, PUB_LEN) !== PUB_LEN || B.back[PUB_LEN - 1] !== B.payload[PAYLOAD - 1]) B.errors++;
      } else {
        B.pub1[16] = (i >> 8) & 255 || 1;
        B.pub1[17] = i & 255;
        p.send(B.pub1, PUB1_LEN, 0);
        if (take(sub, PUB1_LEN) !== PUB1_LEN || B.back[PUB1_LEN - 1] !== B.payload[PAYLOAD - 1]) B.errors++;
        B.ack[2] = B.back[16];
        B.ack[3] = B.back[17];
        sub.send(B.ack, 4, 0);
        if (take(p, 4) !== 4 || B.back[0] !== 0x40) B.errors++;
      }
    }
  }
  return B.errors;
}

export function errors(): number {
  return B.errors;
}

// --- what MQTT's fixed state costs (slots, measured around each step) ----------------

let mem_mgr: mg_mgr | null = null;
let mem_keep: mg_mqtt_broker | null = null;
/** A manager with its pool (the config's MG_MAX_CONNS connections). */
export function mem_pool(): number {
  mem_mgr = new mg_mgr();
  mg_mgr_init(mem_mgr, new mg_mock(4, 16));
  return mem_mgr.pool.length;
}
/** MQTT's state for every pooled connection (what the first mg_mqtt_connect/listen makes). */
export function mem_mqtt(): void {
  mqtt_init(mem_mgr as mg_mgr);
}
/** A broker's tables. */
export function mem_broker(): void {
  mem_keep = new mg_mqtt_broker(mem_mgr as mg_mgr);
}
