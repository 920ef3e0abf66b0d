// The MQTT broker (src/mqtt_broker.ts) over the mock network, Node and XS,
// with clients written by hand (test/mqtt_util.ts): CONNECT refusals,
// wildcards, QoS 0/1/2 both ways, retained messages, wills, keepalive,
// takeover, full tables, back-pressure, every malformed packet class. Then
// MQTT over WebSocket (packets cut across frames) and the mqtt app end to
// end with this broker.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_mock, mg_mock_peer } from "../hal/mock.js";
import { MG_IO_SIZE, MG_MQTT_BROKER_RETAINED, MG_MQTT_BROKER_STALL_MS, MG_MQTT_BROKER_SUBS, MG_MQTT_CLIENT_ID_MAX } from "../src/config.js";
import { MG_EV_ERROR, MG_EV_MQTT_MSG, MG_EV_MQTT_OPEN, mg_connection, mg_mgr, mg_mgr_init } from "../src/net.js";
import { mg_mqtt_connect, mg_mqtt_opts, mg_mqtt_pub, mg_mqtt_sub } from "../src/mqtt.js";
import { mg_mqtt_message } from "../src/mqtt_packet.js";
import { mg_mqtt_broker, mg_mqtt_broker_listen } from "../src/mqtt_broker.js";
import { main as broker_app_main } from "../firmware/mqtt-broker/main.js";
import { mqtt_app_start } from "../firmware/mqtt/main.js";
import { mg_hal_default } from "../src/net.js";
import {
  ConnectSpec,
  DISCONNECT,
  PINGREQ,
  ack,
  connect,
  id_of,
  packets,
  pkt,
  props,
  publish,
  read_publish,
  str,
  subscribe,
  u16,
  u32,
  unsubscribe,
  utf8,
  Packet,
} from "./mqtt_util.js";

interface Rig {
  net: mg_mock;
  mgr: mg_mgr;
  broker: mg_mqtt_broker;
}

function rig(): Rig {
  const net = new mg_mock(64, 65536);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const broker = new mg_mqtt_broker(mgr);
  mg_mqtt_broker_listen(mgr, "mqtt://0.0.0.0:1883", broker, null, null);
  return { net, mgr, broker };
}

/** A hand-written client: sends, polls, and reads back packets. */
class Cli {
  r: Rig;
  p: mg_mock_peer;
  v5: boolean;
  constructor(r: Rig, p: mg_mock_peer, v5: boolean) {
    this.r = r;
    this.p = p;
    this.v5 = v5;
  }
  send(b: Uint8Array, polls = 4): this {
    this.p.send(b);
    this.r.net.poll(this.r.mgr, polls);
    return this;
  }
  got(): Packet[] {
    return packets(this.p.recv());
  }
  pubs(): { topic: string; payload: string; qos: number; retain: boolean; id: number; dup: boolean; props: number[] }[] {
    return this.got()
      .filter((x) => x.cmd === 3)
      .map((x) => read_publish(x, this.v5));
  }
}

/** Connects a client; the CONNACK is read and checked (code 0 unless want says otherwise). */
function cli(r: Rig, spec: ConnectSpec = {}, want = 0): Cli {
  const p = r.net.client(1883)!;
  const c = new Cli(r, p, spec.v === 5);
  c.send(connect(spec));
  const [ca] = c.got();
  assert.ok(ca !== undefined && ca.cmd === 2, "CONNACK");
  assert.is(ca.body[1], want, `CONNACK code for ${spec.id}`);
  return c;
}

function poll(r: Rig, n = 4, step = 1): void {
  r.net.poll(r.mgr, n, step);
}

test("CONNECT: 3.1.1 CONNACK; v5 CONNACK with the broker's limits and an assigned id", () => {
  const r = rig();
  const p = r.net.client(1883)!;
  p.send(connect({ id: "a" }));
  poll(r);
  assert.equal(Array.from(p.recv()), [0x20, 2, 0, 0]);
  const p5 = r.net.client(1883)!;
  p5.send(connect({ v: 5, id: "" }));
  poll(r);
  const [ca] = packets(p5.recv());
  assert.equal([ca.body[0], ca.body[1]], [0, 0]);
  const pr = Array.from(ca.body.slice(3));
  const has = (id: number, ...v: number[]) => {
    for (let i = 0; i + v.length < pr.length; i++) if (pr[i] === id && v.every((x, k) => pr[i + 1 + k] === x)) return true;
    return false;
  };
  assert.ok(has(0x21, ...u16(16)), "Receive Maximum");
  assert.ok(has(0x27, ...u32(MG_IO_SIZE)), "Maximum Packet Size");
  assert.ok(has(0x2a, 0), "no shared subscriptions");
  assert.ok(has(0x12, ...str("mgts-auto-1")), "assigned client id");
  assert.is(r.broker.clients, 2);
});

test("CONNECT refusals: not first, twice, an empty id without a clean session, versions, id and will too long", () => {
  const r = rig();
  const a = r.net.client(1883)!;
  a.send(publish({ topic: "x" }));
  poll(r);
  assert.is(a.recv().length, 0);
  assert.ok(a.closed, "a first packet that is not CONNECT: closed");
  const b = cli(r, { v: 5, id: "b" });
  b.send(connect({ v: 5, id: "b" }));
  assert.equal(b.got().map((x) => [x.cmd, x.body[0]]), [[14, 0x82]], "a second CONNECT: DISCONNECT 0x82");
  assert.ok(b.p.closed);
  cli(r, { id: "", clean: false }, 0x02);
  const old = r.net.client(1883)!;
  old.send(pkt(0x10, [...str("MQIsdp"), 3, 2, 0, 0, ...str("x")]));
  poll(r);
  assert.equal(Array.from(old.recv()), [0x20, 2, 0, 0x01], "3.1: unacceptable protocol version");
  const six = r.net.client(1883)!;
  six.send(pkt(0x10, [...str("MQTT"), 6, 2, 0, 0, ...str("x")]));
  poll(r);
  assert.equal(Array.from(six.recv()), [0x20, 2, 0, 0x84], "level 6: 0x84");
  const long = "x".repeat(MG_MQTT_CLIENT_ID_MAX + 1);
  cli(r, { id: long }, 0x02);
  cli(r, { id: long, v: 5 }, 0x85);
  const will = { topic: "w", msg: "x".repeat(600) };
  cli(r, { id: "w4", will }, 0x03);
  cli(r, { id: "w5", v: 5, will }, 0x97);
  assert.is(r.broker.clients, 0, "b, the only one accepted, is gone");
});

test("SUBSCRIBE: '+' and '#', SUBACK codes, invalid filters, shared subscriptions, $ topics, UNSUBSCRIBE", () => {
  for (const v5 of [false, true]) {
    const r = rig();
    const v = v5 ? 5 : 4;
    const s = cli(r, { v, id: "s" });
    s.send(subscribe(1, [["a/+/c", 0], ["a/#", 1], ["#", 2], ["a/#/b", 0], ["x+", 1], ["$share/g/t", 0]], v5));
    const [sa] = s.got();
    const codes = Array.from(sa.body.slice(v5 ? 3 : 2));
    assert.equal(codes, v5 ? [0, 1, 2, 0x8f, 0x8f, 0x9e] : [0, 1, 2, 0x80, 0x80, 0], `SUBACK v${v}`);
    const pub = cli(r, { v, id: "p" });
    pub.send(publish({ topic: "a/b/c", payload: "1", v5 }));
    pub.send(publish({ topic: "z", payload: "2", v5 }));
    pub.send(publish({ topic: "$SYS/x", payload: "3", v5 }));
    pub.send(publish({ topic: "a", payload: "4", v5 }));
    const got = s.pubs().map((x) => `${x.topic}=${x.payload}`);
    assert.equal(got, ["a/b/c=1", "z=2", "a=4"], "one delivery per message, '$' topics not matched by '#'");
    s.send(unsubscribe(2, ["#", "nope"], v5));
    const [ua] = s.got();
    assert.equal(Array.from(ua.body), v5 ? [0, 2, 0, 0, 0x11] : [0, 2], "UNSUBACK");
    pub.send(publish({ topic: "z", payload: "5", v5 }));
    pub.send(publish({ topic: "a/q/c", payload: "6", v5 }));
    assert.equal(s.pubs().map((x) => x.payload), ["6"]);
    assert.is(r.broker.subscriptions(), v5 ? 2 : 3, "v4 stored $share/g/t as a plain filter");
  }
});

test("QoS: each subscriber gets min(publish, subscription) QoS with its flow; a QoS 2 resend is not forwarded twice", () => {
  const r = rig();
  const s0 = cli(r, { id: "s0" }).send(subscribe(1, [["t", 0]]));
  const s1 = cli(r, { id: "s1" }).send(subscribe(1, [["t", 1]]));
  const s2 = cli(r, { id: "s2" }).send(subscribe(1, [["t", 2]]));
  for (const s of [s0, s1, s2]) s.got();
  const p = cli(r, { id: "p" });
  p.send(publish({ topic: "t", payload: "two", qos: 2, id: 9 }));
  assert.equal(p.got().map((x) => [x.cmd, id_of(x)]), [[5, 9]], "PUBREC");
  // the publisher did not see PUBREC and resends: acknowledged, not forwarded again
  p.send(publish({ topic: "t", payload: "two", qos: 2, id: 9, dup: true }));
  assert.equal(p.got().map((x) => [x.cmd, id_of(x)]), [[5, 9]]);
  p.send(ack(6, 9));
  assert.equal(p.got().map((x) => [x.cmd, id_of(x)]), [[7, 9]], "PUBCOMP");
  const g0 = s0.pubs();
  const g1 = s1.pubs();
  const g2 = s2.pubs();
  assert.equal([g0.length, g1.length, g2.length], [1, 1, 1]);
  assert.equal([g0[0].qos, g1[0].qos, g2[0].qos], [0, 1, 2]);
  s1.send(ack(4, g1[0].id));
  s2.send(ack(5, g2[0].id));
  assert.equal(s2.got().map((x) => [x.cmd, x.flags, id_of(x)]), [[6, 2, g2[0].id]], "the broker's PUBREL");
  s2.send(ack(7, g2[0].id));
  p.send(publish({ topic: "t", payload: "one", qos: 1, id: 10 }));
  assert.equal(p.got().map((x) => [x.cmd, id_of(x)]), [[4, 10]], "PUBACK");
  assert.equal([s0.pubs()[0].qos, s1.pubs()[0].qos, s2.pubs()[0].qos], [0, 1, 1]);
});

test("overlapping subscriptions: one delivery at the highest QoS, with every subscription id (v5); no local", () => {
  const r = rig();
  const s = cli(r, { v: 5, id: "s" });
  s.send(subscribe(1, [["a/+", 0]], true, [0x0b, 3]));
  s.send(subscribe(2, [["a/#", 1]], true, [0x0b, 4]));
  s.send(subscribe(3, [["mine", 4]], true)); // no local
  s.got();
  const p = cli(r, { v: 5, id: "p" });
  p.send(publish({ topic: "a/b", payload: "x", qos: 2, id: 1, v5: true }));
  const [m] = s.pubs();
  assert.is(m.qos, 1);
  assert.equal(m.props, [0x0b, 3, 0x0b, 4]);
  s.send(publish({ topic: "mine", payload: "self", v5: true }));
  assert.is(s.pubs().length, 0, "no local: not back to the publisher");
  p.send(publish({ topic: "mine", payload: "other", v5: true }));
  assert.equal(s.pubs().map((x) => x.payload), ["other"]);
});

test("retained: delivered on subscribe with the retain flag, replaced, deleted by an empty one; v5 retain handling, retain as published, expiry", () => {
  const r = rig();
  const p = cli(r, { v: 5, id: "p" });
  p.send(publish({ topic: "r/1", payload: "old", retain: true, v5: true }));
  p.send(publish({ topic: "r/1", payload: "new", retain: true, qos: 1, id: 1, v5: true }));
  p.send(publish({ topic: "r/2", payload: "two", retain: true, v5: true, props: [0x02, ...u32(10), 0x03, ...str("text/plain")] }));
  p.send(publish({ topic: "r/3", payload: "three", retain: true, v5: true }));
  p.send(publish({ topic: "r/3", payload: "", retain: true, v5: true }));
  assert.is(r.broker.retained(), 2);
  const s = cli(r, { id: "s" }).send(subscribe(1, [["r/#", 1]]));
  const got = s.pubs();
  assert.equal(got.map((x) => [x.topic, x.payload, x.retain, x.qos]), [["r/1", "new", true, 1], ["r/2", "two", true, 0]]);
  // v5: retain handling 2 sends none, 1 only for a new subscription; expiry counts down and ends
  const s5 = cli(r, { v: 5, id: "s5" });
  s5.send(subscribe(1, [["r/#", 0x20]], true));
  assert.is(s5.pubs().length, 0, "retain handling 2");
  s5.send(subscribe(2, [["r/+", 0x10]], true));
  poll(r, 3000, 1); // 3 s
  const g5 = s5.pubs();
  assert.equal(g5.map((x) => x.topic), ["r/1", "r/2"], "retain handling 1, new subscription");
  assert.equal(g5[1].props.slice(0, 5), [0x02, ...u32(10)], "expiry as stored, 0 s old");
  s5.send(subscribe(3, [["r/+", 0x10]], true));
  assert.is(s5.pubs().length, 0, "retain handling 1, existing subscription");
  const s6 = cli(r, { v: 5, id: "s6" }).send(subscribe(1, [["r/2", 0]], true));
  const g6 = s6.pubs();
  assert.equal(g6[0].props.slice(0, 5), [0x02, ...u32(7)], "3 s later: 7 s left");
  poll(r, 8, 1000);
  cli(r, { v: 5, id: "s7" }).send(subscribe(1, [["r/2", 0]], true));
  assert.is(r.broker.retained(), 1, "expired and gone");
  // live delivery: retain cleared, unless the subscription asked for it as published
  const live = cli(r, { v: 5, id: "live" }).send(subscribe(1, [["l/a", 0x20]], true)).send(subscribe(2, [["l/+", 0x28]], true));
  live.got();
  const plain = cli(r, { id: "plain" }).send(subscribe(1, [["l/a", 0]]));
  plain.got();
  p.send(publish({ topic: "l/a", payload: "x", retain: true, v5: true }));
  assert.equal(live.pubs().map((x) => x.retain), [true]);
  assert.equal(plain.pubs().map((x) => x.retain), [false]);
});

test("wills: on a reset, on a keepalive timeout, on a protocol error, on v5 DISCONNECT 0x04; not on DISCONNECT", () => {
  const r = rig();
  const s = cli(r, { v: 5, id: "s", ka: 0 }).send(subscribe(1, [["will/#", 1]], true));
  s.got();
  const will = (id: string, v = 4, ka = 0) => cli(r, { v, id, ka, will: { topic: "will/" + id, msg: "gone " + id, qos: 1, retain: id === "reset" } });
  will("reset").p.reset();
  poll(r);
  will("bye").send(DISCONNECT);
  const k = will("ka", 5, 2);
  poll(r, 3, 1000);
  assert.equal(k.got().map((x) => [x.cmd, x.body[0]]), [[14, 0x8d]], "DISCONNECT 0x8d");
  will("bad", 5).send(new Uint8Array([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
  will("d4", 5).send(pkt(0xe0, [0x04, 0]));
  const got = s.pubs().map((x) => `${x.topic}=${x.payload}`);
  assert.equal(got, ["will/reset=gone reset", "will/ka=gone ka", "will/bad=gone bad", "will/d4=gone d4"]);
  // a retained will is kept
  const late = cli(r, { id: "late" }).send(subscribe(1, [["will/reset", 0]]));
  assert.equal(late.pubs().map((x) => [x.payload, x.retain]), [["gone reset", true]]);
});

test("keepalive: a client silent for 1.5 keepalives is closed; PINGREQ keeps it", () => {
  const r = rig();
  const a = cli(r, { id: "a", ka: 2 });
  const b = cli(r, { id: "b", ka: 2 });
  for (let i = 0; i < 10; i++) {
    b.send(PINGREQ, 1);
    poll(r, 1, 1000);
  }
  assert.ok(a.p.closed, "a: closed");
  assert.not.ok(b.p.closed, "b: alive");
  assert.equal(b.got().map((x) => x.cmd), new Array(10).fill(13), "PINGRESPs");
});

test("takeover: the same client id again closes the older connection (v5 DISCONNECT 0x8e), whose will goes", () => {
  const r = rig();
  const s = cli(r, { id: "s" }).send(subscribe(1, [["#", 0]]));
  s.got();
  const a = cli(r, { v: 5, id: "dev", will: { topic: "w", msg: "old" } });
  const b = cli(r, { v: 5, id: "dev" });
  poll(r);
  assert.equal(a.got().map((x) => [x.cmd, x.body[0]]), [[14, 0x8e]]);
  assert.ok(a.p.closed);
  assert.equal(s.pubs().map((x) => x.payload), ["old"]);
  b.send(publish({ topic: "t", payload: "new", v5: true }));
  assert.equal(s.pubs().map((x) => x.payload), ["new"]);
});

test("full tables: subscriptions (0x80, v5 0x97) and retained messages (v5 QoS 1: 0x97, not delivered; else delivered, not retained)", () => {
  const r = rig();
  const a = cli(r, { id: "a" });
  const filters: [string, number][] = [];
  for (let i = 0; i < MG_MQTT_BROKER_SUBS; i++) filters.push(["f/" + i, 0]);
  a.send(subscribe(1, filters));
  a.got();
  a.send(subscribe(2, [["one/more", 0]]));
  assert.equal(Array.from(a.got()[0].body.slice(2)), [0x80]);
  const b = cli(r, { v: 5, id: "b" });
  b.send(subscribe(1, [["one/more", 0]], true));
  assert.equal(Array.from(b.got()[0].body.slice(3)), [0x97]);
  a.send(unsubscribe(3, ["f/0"]));
  b.send(subscribe(2, [["one/more", 0]], true));
  assert.equal(Array.from(b.got()[0].body.slice(3)), [0], "room again");
  for (let i = 0; i < MG_MQTT_BROKER_RETAINED; i++) a.send(publish({ topic: "r/" + i, payload: "x", retain: true }), 1);
  poll(r);
  assert.is(r.broker.retained(), MG_MQTT_BROKER_RETAINED);
  a.got();
  b.send(publish({ topic: "one/more", payload: "q1", retain: true, qos: 1, id: 5, v5: true }));
  assert.equal(b.got().map((x) => [x.cmd, id_of(x), x.body[2]]), [[4, 5, 0x97]], "PUBACK 0x97");
  a.send(publish({ topic: "one/more", payload: "v4", retain: true }));
  assert.equal(b.pubs().map((x) => x.payload), ["v4"], "v4: delivered, not retained");
  assert.is(r.broker.retained(), MG_MQTT_BROKER_RETAINED);
});

test("back-pressure: a full subscriber holds the publisher (no loss, in order); past MG_MQTT_BROKER_STALL_MS it is dropped for that one", () => {
  const r = rig();
  const slow = cli(r, { id: "slow" }).send(subscribe(1, [["t", 1]]));
  const fast = cli(r, { id: "fast" }).send(subscribe(1, [["t", 0]]));
  slow.got();
  fast.got();
  slow.p.stall(true);
  const p = cli(r, { id: "p" });
  const N = 250; // 53 KB: within the mock socket queue
  const all: number[] = [];
  for (let i = 0; i < N; i++) all.push(...publish({ topic: "t", payload: "m" + i + "/" + "x".repeat(200), qos: 1, id: i + 1 }));
  p.p.send(new Uint8Array(all));
  poll(r, 200);
  const acks = p.got().filter((x) => x.cmd === 4).length;
  assert.ok(acks < N, `the publisher waits (${acks} acknowledged)`);
  // the slow one reads again: everything arrives, in order
  slow.p.stall(false);
  const seen: string[] = [];
  for (let i = 0; i < 2000 && seen.length < N; i++) {
    poll(r, 1);
    for (const m of slow.got()) {
      if (m.cmd !== 3) continue;
      const x = read_publish(m);
      seen.push(x.payload.split("/")[0]);
      slow.p.send(ack(4, x.id));
    }
  }
  assert.is(seen.length, N);
  assert.equal(seen, Array.from({ length: N }, (_, i) => "m" + i));
  assert.is(fast.pubs().length, N, "the fast one too");
  assert.is(r.broker.dropped, 0);
  // now it never reads: after the stall time its messages are dropped, the others still get theirs
  slow.p.stall(true);
  const more: number[] = [];
  for (let i = 0; i < 40; i++) more.push(...publish({ topic: "t", payload: "n" + i + "/" + "x".repeat(200), qos: 1, id: i + 1 }));
  p.p.send(new Uint8Array(more));
  poll(r, 20);
  poll(r, 10, MG_MQTT_BROKER_STALL_MS / 4);
  poll(r, 50);
  assert.ok(r.broker.dropped > 0, `dropped ${r.broker.dropped}`);
  assert.is(fast.pubs().length, 40, "the fast subscriber got all");
  assert.is(acks + p.got().filter((x) => x.cmd === 4).length, N + 40, "every publish acknowledged");
});

test("bad input from clients: each malformed class answered per the spec, the will published, the others unaffected", () => {
  // [what, packet, v5 reason, also a 3.1.1 error]
  const cases: [string, Uint8Array, number, boolean][] = [
    ["bad remaining length (5 bytes)", new Uint8Array([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 0x81, true],
    ["a remaining length past the data it says", new Uint8Array([0x62, 0x01, 0]), 0x81, true],
    ["wrong flags for the type", new Uint8Array([0x80, 6, 0, 1, 0, 1, 97, 0]), 0x81, true],
    ["a wildcard in a PUBLISH topic", publish({ topic: "a/#", v5: true }), 0x90, true],
    ["a zero-length topic without an alias", publish({ topic: "", v5: true }), 0x82, true],
    ["invalid UTF-8 in a topic", publish({ topic: [0x61, 0xed, 0xa0, 0x80], v5: true }), 0x81, true],
    ["an unknown v5 property", publish({ topic: "a", v5: true, props: [0x2b, 0] }), 0x81, false],
    ["a Subscription Identifier from a client", publish({ topic: "a", v5: true, props: [0x0b, 1] }), 0x82, false],
    ["a topic alias over the maximum", publish({ topic: "a", v5: true, props: [0x23, 0, 9] }), 0x94, false],
    ["a packet too large", publish({ topic: "a", payload: "x".repeat(MG_IO_SIZE) }).slice(0, 50), 0x95, true],
    ["QoS 3", new Uint8Array([0x36, 5, 0, 1, 97, 0, 1]), 0x81, true],
    ["a server's packet (CONNACK)", new Uint8Array([0x20, 3, 0, 0, 0]), 0x82, true],
    ["SUBSCRIBE without a filter", new Uint8Array([0x82, 3, 0, 1, 0]), 0x82, true],
  ];
  for (const v5 of [false, true]) {
    for (const [what, bytes, reason, v4too] of cases) {
      if (!v5 && !v4too) continue;
      const r = rig();
      const watch = cli(r, { id: "watch" }).send(subscribe(1, [["#", 0]]));
      watch.got();
      const bad = cli(r, { v: v5 ? 5 : 4, id: "bad", will: { topic: "will", msg: "bad gone" } });
      bad.send(bytes, 6);
      const out = bad.got();
      if (v5) assert.equal(out.map((x) => [x.cmd, x.body[0]]), [[14, reason]], `${what}: v5 DISCONNECT 0x${reason.toString(16)}`);
      else assert.is(out.length, 0, `${what}: v4 nothing`);
      assert.ok(bad.p.closed, `${what}: closed`);
      watch.send(PINGREQ);
      const w = watch.got();
      assert.equal(w.filter((x) => x.cmd === 3).map((x) => read_publish(x).payload), ["bad gone"], `${what}: will`);
      assert.ok(w.some((x) => x.cmd === 13), `${what}: the others still served`);
      const next = cli(r, { id: "next" });
      next.send(publish({ topic: "t", payload: "ok" }));
      assert.equal(watch.pubs().map((x) => x.payload), ["ok"], `${what}: a new client works`);
      assert.is(r.broker.clients, 2);
    }
  }
});

test("v5 topic aliases from a publisher; a subscriber's Maximum Packet Size", () => {
  const r = rig();
  const small = cli(r, { v: 5, id: "small", props: [0x27, ...u32(30)] }).send(subscribe(1, [["#", 0]], true));
  const big = cli(r, { id: "big" }).send(subscribe(1, [["#", 0]]));
  small.got();
  big.got();
  const p = cli(r, { v: 5, id: "p" });
  p.send(publish({ topic: "sensors/temperature", payload: "1", v5: true, props: [0x23, 0, 1] }));
  p.send(publish({ topic: "", payload: "2", v5: true, props: [0x23, 0, 1] }));
  p.send(publish({ topic: "s", payload: "x".repeat(40), v5: true }));
  assert.equal(big.pubs().map((x) => `${x.topic}=${x.payload.length}`), ["sensors/temperature=1", "sensors/temperature=1", "s=40"]);
  assert.equal(small.pubs().map((x) => [x.topic, x.props]), [["sensors/temperature", []], ["sensors/temperature", []]], "alias resolved, not forwarded; the large one left out");
});

// --- MQTT over WebSocket -----------------------------------------------------------

/** A masked client frame carrying bytes. */
function frame(op: number, b: number[], fin = true): Uint8Array {
  const n = b.length;
  const h = [(fin ? 0x80 : 0) | op];
  if (n < 126) h.push(0x80 | n);
  else h.push(0x80 | 126, n >> 8, n & 255);
  const key = [1, 2, 3, 4];
  return new Uint8Array([...h, ...key, ...b.map((x, i) => x ^ key[i & 3])]);
}
/** Unmasked server frames' payloads, joined. */
function unframe(b: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i + 2 <= b.length) {
    let n = b[i + 1] & 127;
    let h = 2;
    if (n === 126) {
      n = (b[i + 2] << 8) | b[i + 3];
      h = 4;
    }
    if (i + h + n > b.length) break;
    for (let k = 0; k < n; k++) out.push(b[i + h + k]);
    i += h + n;
  }
  return new Uint8Array(out);
}

test("MQTT over WebSocket: packets cut across frames and several in one, both ways through the broker app's /mqtt", () => {
  const net = new mg_mock(64, 65536);
  mg_hal_default(net);
  const mgr = broker_app_main({ port: 1883, host: "0.0.0.0" });
  const p = net.client(1884)!;
  p.send("GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n");
  net.poll(mgr, 4);
  const head = String.fromCharCode(...p.recv());
  assert.match(head, /^HTTP\/1.1 101/);
  assert.match(head, /Sec-WebSocket-Protocol: mqtt/i);
  // CONNECT cut in three frames, then SUBSCRIBE and a PUBLISH in one frame
  const conn = Array.from(connect({ id: "ws1" }));
  p.send(frame(2, conn.slice(0, 3)));
  net.poll(mgr, 2);
  p.send(frame(2, conn.slice(3, 10)));
  net.poll(mgr, 2);
  assert.is(p.recv().length, 0, "no CONNACK for part of a CONNECT");
  p.send(frame(2, [...conn.slice(10), ...subscribe(1, [["t", 1]]), ...publish({ topic: "t", payload: "self", qos: 1, id: 3 })]));
  net.poll(mgr, 4);
  const back = packets(unframe(p.recv()));
  assert.equal(back.map((x) => x.cmd), [2, 9, 3, 4], "CONNACK, SUBACK, the message, PUBACK");
  assert.is(read_publish(back[2]).payload, "self");
  // a TCP client publishes; the WebSocket one gets it in a binary frame
  const t = net.client(1883)!;
  t.send(connect({ id: "tcp" }));
  t.send(publish({ topic: "t", payload: "from tcp" }));
  net.poll(mgr, 4);
  const raw = p.recv();
  assert.is(raw[0], 0x82, "a binary frame");
  assert.equal(packets(unframe(raw)).map((x) => read_publish(x).payload), ["from tcp"]);
});

test("MQTT over WebSocket: a held PUBLISH (subscriber full) with large frames behind it waits, then everything goes in order", () => {
  const net = new mg_mock(64, 65536);
  mg_hal_default(net);
  const mgr = broker_app_main({ port: 1883, host: "0.0.0.0" });
  const sub = net.client(1883)!;
  sub.send(connect({ id: "sub" }));
  sub.send(subscribe(1, [["big", 0]]));
  net.poll(mgr, 4);
  sub.recv();
  sub.stall(true);
  const p = net.client(1884)!;
  p.send("GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n");
  net.poll(mgr, 4);
  p.recv();
  p.send(frame(2, Array.from(connect({ id: "pub" }))));
  net.poll(mgr, 4);
  p.recv();
  // the subscriber's queue in the mock takes 64 KB: 100 messages of 900 bytes overflow it and the broker's buffer
  const N = 100;
  const out: number[] = [];
  for (let i = 0; i < N; i++) out.push(...frame(2, Array.from(publish({ topic: "big", payload: String(i).padEnd(900, "."), qos: 1, id: i + 1 }))));
  let sent = 0;
  const pump = () => {
    if (sent < out.length) sent += p.send(new Uint8Array(out.slice(sent, sent + 4096)));
  };
  for (let i = 0; i < 200; i++) {
    pump();
    net.poll(mgr, 1);
  }
  const acks1 = packets(unframe(p.recv())).filter((x) => x.cmd === 4).length;
  assert.ok(acks1 < N, `held (${acks1} acknowledged)`);
  assert.ok(p.open, "not closed (no 1009)");
  sub.stall(false);
  const seen: string[] = [];
  let rest = new Uint8Array(0);
  for (let i = 0; i < 3000 && seen.length < N; i++) {
    pump();
    net.poll(mgr, 1);
    const b = new Uint8Array([...rest, ...sub.recv()]);
    const ps = packets(b);
    rest = b.slice(b.length - ps.rest);
    for (const x of ps) seen.push(read_publish(x).payload.split(".")[0]);
  }
  assert.equal(seen, Array.from({ length: N }, (_, i) => String(i)), "all, in order");
  net.poll(mgr, 10);
  assert.is(acks1 + packets(unframe(p.recv())).filter((x) => x.cmd === 4).length, N, "all acknowledged");
});

test("MQTT over WebSocket: the mgts client (mg_mqtt_connect ws://) against the broker app, QoS 2 both ways", () => {
  const net = new mg_mock(64, 65536);
  mg_hal_default(net);
  const mgr = broker_app_main({ port: 1883, host: "0.0.0.0" });
  const got: string[] = [];
  let opened = -1;
  const o = new mg_mqtt_opts();
  o.client_id = "wsc";
  o.version = 5;
  const c = mg_mqtt_connect(mgr, "ws://127.0.0.1:1884/mqtt", o, (c2: mg_connection, ev: number, d: any) => {
    if (ev === MG_EV_MQTT_OPEN) {
      opened = d as number;
      const s = new mg_mqtt_opts();
      s.topic = "q/#";
      s.qos = 2;
      mg_mqtt_sub(c2, s);
    } else if (ev === MG_EV_MQTT_MSG) got.push(`${String((d as mg_mqtt_message).topic)}=${String((d as mg_mqtt_message).data)}:${(d as mg_mqtt_message).qos}`);
    else if (ev === MG_EV_ERROR) got.push("error " + d);
  }, null)!;
  net.poll(mgr, 10);
  assert.is(opened, 0);
  const po = new mg_mqtt_opts();
  po.topic = "q/1";
  po.qos = 2;
  for (let i = 0; i < 5; i++) {
    po.message = "m" + i;
    assert.ok(mg_mqtt_pub(c, po) !== false);
  }
  net.poll(mgr, 20);
  assert.equal(got, ["q/1=m0:2", "q/1=m1:2", "q/1=m2:2", "q/1=m3:2", "q/1=m4:2"]);
  assert.is((c.mqtt as any).s.n, 0, "every QoS 2 flow completed");
});

// --- the mqtt app end to end -----------------------------------------------------------

for (const v of [4, 5]) {
  test(`the mqtt app with the broker (MQTT ${v}): status online (retained), will offline, mgts/in/# republished with QoS and retain`, () => {
    const r = rig();
    const watch = cli(r, { v: 5, id: "watch" }).send(subscribe(1, [["mgts/#", 2 | 8]], true)); // retain as published
    watch.got();
    const app = mqtt_app_start(r.mgr, { broker: "mqtt://127.0.0.1:1883", keepalive: 30, version: v });
    poll(r, 10);
    const st = watch.pubs();
    assert.equal(st.map((x) => [x.topic, x.payload, x.retain]), [["mgts/status", "online", true]]);
    assert.match(String(app.connect.client_id), /^mgts-[0-9A-Za-z]{8}$/);
    const pub = cli(r, { id: "pub" });
    pub.send(publish({ topic: "mgts/in/led", payload: "on", qos: 2, id: 1 }));
    pub.send(ack(6, 1));
    pub.send(publish({ topic: "mgts/in/a/b", payload: "q1r", qos: 1, id: 2, retain: true }));
    pub.send(publish({ topic: "mgts/in/zero", payload: "q0" }));
    poll(r, 20);
    const out = watch.pubs().filter((x) => x.topic.startsWith("mgts/out/"));
    // 3.1.1: a broker clears the retain flag of live messages, so the app sees (and republishes) none
    assert.equal(out.map((x) => [x.topic, x.payload, x.qos, x.retain]), [
      ["mgts/out/led", "on", 2, false],
      ["mgts/out/a/b", "q1r", 1, v === 5],
      ["mgts/out/zero", "q0", 0, false],
    ]);
    assert.is(app.republished, 3);
    // a retained message sent on subscribing keeps its flag in both versions
    const app2 = mqtt_app_start(r.mgr, { broker: "mqtt://127.0.0.1:1883", version: v, prefix: "mgts" });
    poll(r, 10);
    assert.ok(app2.republished >= 1);
    assert.equal(watch.pubs().filter((x) => x.topic === "mgts/out/a/b").map((x) => [x.payload, x.retain]), [["q1r", true]]);
    // the first app's link dies: the broker publishes its will, then it reconnects by itself
    app.client!.c!.is_closing = true;
    poll(r, 4);
    assert.equal(watch.pubs().filter((x) => x.topic === "mgts/status").map((x) => x.payload), ["offline"]);
    poll(r, 1500, 1);
    assert.ok(app.client!.connected, "reconnected by itself");
    assert.equal(watch.pubs().filter((x) => x.topic === "mgts/status").map((x) => x.payload), ["online"]);
  });
}

void utf8;
void props;

test.run();
