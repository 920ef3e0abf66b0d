// MQTT over the mock network, Node and XS: the codec (mg_mqtt_parse and
// every malformed class), and the client against a scripted broker (the
// test's own bytes): CONNECT, QoS 0/1/2 both ways, keepalive, v5
// properties, topic aliases, oversize packets, sessions resent after a
// reconnect, the reconnect helper, holding a message.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_mock, mg_mock_peer } from "../hal/mock.js";
import { MG_IO_SIZE, MG_MQTT_MAX_INFLIGHT, MG_MQTT_TOPIC_ALIASES } from "../src/config.js";
import {
  MG_EV_CLOSE,
  MG_EV_ERROR,
  MG_EV_MQTT_CMD,
  MG_EV_MQTT_MSG,
  MG_EV_MQTT_OPEN,
  mg_connection,
  mg_mgr,
  mg_mgr_init,
} from "../src/net.js";
import {
  MQTT_CMD_AUTH,
  MQTT_CMD_CONNACK,
  MQTT_CMD_CONNECT,
  MQTT_CMD_SUBSCRIBE,
  MQTT_INCOMPLETE,
  MQTT_MALFORMED,
  MQTT_OK,
  MQTT_PROP_CONTENT_TYPE,
  MQTT_PROP_USER_PROPERTY,
  mg_mqtt_filter_ok,
  mg_mqtt_message,
  mg_mqtt_next_prop,
  mg_mqtt_next_sub,
  mg_mqtt_parse,
  mg_mqtt_prop,
} from "../src/mqtt_packet.js";
import {
  mg_mqtt_client_start,
  mg_mqtt_client_stop,
  mg_mqtt_connect,
  mg_mqtt_disconnect,
  mg_mqtt_opts,
  mg_mqtt_ping,
  mg_mqtt_pub,
  mg_mqtt_session,
  mg_mqtt_sub,
  mg_mqtt_unsub,
} from "../src/mqtt.js";
import { mg_mqtt_match } from "../src/mqtt_broker.js";
import { mg_str } from "../src/str.js";
import { ack, connack, connect, id_of, packets, pkt, PINGRESP, props, publish, read_publish, str, subscribe, text, u16, u32, utf8, vint } from "./mqtt_util.js";

function parse(b: Uint8Array | number[], v = 4): { r: number; m: mg_mqtt_message } {
  const m = new mg_mqtt_message();
  const u = b instanceof Uint8Array ? b : new Uint8Array(b);
  return { r: mg_mqtt_parse(u, u.length, v, m), m };
}
function malformed(b: Uint8Array | number[], v: number, reason: number, what: string): void {
  const { r, m } = parse(b, v);
  assert.is(r, MQTT_MALFORMED, what);
  assert.is(m.ack, reason, what + ": reason");
}

// --- the codec -------------------------------------------------------------------

test("parse: remaining length of 1 to 4 bytes; a 5th byte, a non-minimal length and a cut header", () => {
  for (const n of [3, 127, 128, 16383, 16384, 2097151, 2097152]) {
    const body = new Array(n).fill(0);
    const b = new Uint8Array([0x30, ...vint(n)]);
    const { r, m } = parse(b);
    assert.is(r, MQTT_INCOMPLETE, `${n}: incomplete`);
    assert.is(m.dgram.len, 1 + vint(n).length + n, `${n}: the declared size is known`);
    if (n < 20000) {
      body[1] = 1; // topic length 1
      body[2] = 97;
      const full = pkt(0x30, body);
      assert.is(parse(full).r, MQTT_OK, `${n}: whole`);
    }
  }
  malformed([0x30, 0xff, 0xff, 0xff, 0xff, 0x01], 4, 0x81, "5 length bytes");
  malformed([0x30, 0x80, 0x00], 4, 0x81, "non-minimal length");
  malformed([0xc0, 0x80, 0x80, 0x00], 5, 0x81, "non-minimal length, 3 bytes");
  assert.is(parse([0x30, 0x80]).r, MQTT_INCOMPLETE, "cut inside the length");
  assert.is(parse([0x30]).r, MQTT_INCOMPLETE);
});

test("parse: the fixed header's flags per packet type", () => {
  malformed([0x00, 0x00], 4, 0x81, "type 0");
  malformed([0x60, 0x02, 0, 1], 4, 0x81, "PUBREL without 0010");
  malformed([0x80, 0x06, 0, 1, 0, 1, 97, 0], 4, 0x81, "SUBSCRIBE without 0010");
  malformed([0xa0, 0x05, 0, 1, 0, 1, 97], 4, 0x81, "UNSUBSCRIBE without 0010");
  malformed([0xc1, 0x00], 4, 0x81, "PINGREQ with a flag");
  malformed([0x42, 0x02, 0, 1], 4, 0x81, "PUBACK with 0010");
  malformed([0x36, 0x05, 0, 1, 97, 0, 1], 4, 0x81, "PUBLISH QoS 3");
  malformed([0x38, 0x03, 0, 1, 97], 4, 0x81, "DUP on QoS 0");
  malformed([0xf0, 0x00], 4, 0x81, "AUTH in 3.1.1");
  assert.is(parse([0xf0, 0x00], 5).r, MQTT_OK, "AUTH in 5");
  assert.is(parse([0x62, 0x02, 0, 1]).r, MQTT_OK, "PUBREL");
  assert.is(parse([0xc0, 0x00]).r, MQTT_OK, "PINGREQ");
  malformed([0xc0, 0x01, 0], 4, 0x81, "PINGREQ with a body");
});

test("parse: PUBLISH topics: wildcards, empty, invalid UTF-8, U+0000; packet id 0", () => {
  malformed(publish({ topic: "a/+" }), 4, 0x90, "'+'");
  malformed(publish({ topic: "a/#", v5: true }), 5, 0x90, "'#', v5");
  malformed(publish({ topic: "" }), 4, 0x81, "empty topic, v4");
  malformed(publish({ topic: "", v5: true }), 5, 0x82, "empty topic without an alias, v5");
  assert.is(parse(publish({ topic: "", v5: true, props: [0x23, ...u16(1)] }), 5).r, MQTT_OK, "empty topic with an alias");
  for (const [bytes, what] of [
    [[0xff], "0xff"],
    [[0xc0, 0x80], "overlong"],
    [[0xed, 0xa0, 0x80], "a surrogate"],
    [[0xf4, 0x90, 0x80, 0x80], "above U+10FFFF"],
    [[0x61, 0x00], "U+0000"],
    [[0xe2, 0x82], "cut"],
    [[0x80], "a lone continuation"],
  ] as [number[], string][]) {
    malformed(publish({ topic: bytes }), 4, 0x81, "topic " + what);
  }
  const ok = parse(publish({ topic: "é/€/😀", payload: "x" }));
  assert.is(ok.r, MQTT_OK, "valid UTF-8");
  assert.is(ok.m.topic.len, utf8("é/€/😀").length);
  malformed(publish({ topic: "a", qos: 1, id: 0 }), 4, 0x81, "packet id 0");
  malformed([0x32, 0x03, 0, 1, 97], 4, 0x81, "QoS 1 without an id");
  malformed([0x30, 0x03, 0, 5, 97], 4, 0x81, "topic longer than the packet");
});

test("parse: v5 properties: unknown, not allowed in the packet, repeated, bad values, cut", () => {
  malformed(publish({ topic: "a", v5: true, props: [0x7f, 1] }), 5, 0x81, "unknown property");
  malformed(publish({ topic: "a", v5: true, props: [0x21, 0, 1] }), 5, 0x81, "Receive Maximum in PUBLISH");
  malformed(publish({ topic: "a", v5: true, props: [0x01, 1, 0x01, 0] }), 5, 0x82, "Payload Format twice");
  malformed(publish({ topic: "a", v5: true, props: [0x01, 2] }), 5, 0x82, "Payload Format 2");
  malformed(publish({ topic: "a", v5: true, props: [0x23, 0, 0] }), 5, 0x94, "Topic Alias 0");
  malformed(publish({ topic: "a", v5: true, props: [0x03, 0, 5, 97] }), 5, 0x81, "a string cut short");
  malformed(publish({ topic: "a", v5: true, props: [0x03, ...str([0xff])] }), 5, 0x81, "a string with bad UTF-8");
  malformed([0x30, 0x05, 0, 1, 97, 5, 1], 5, 0x81, "property length past the packet");
  const up = [0x26, ...str("k"), ...str("v1"), 0x26, ...str("k"), ...str("v2"), 0x0b, 5, 0x0b, 7];
  const { r, m } = parse(publish({ topic: "a", v5: true, props: [MQTT_PROP_CONTENT_TYPE, ...str("text/plain"), ...up], payload: "hi" }), 5);
  assert.is(r, MQTT_OK, "user properties and subscription ids repeat");
  const seen: string[] = [];
  const p = new mg_mqtt_prop();
  for (let ofs = mg_mqtt_next_prop(m, p, 0); ofs > 0; ofs = mg_mqtt_next_prop(m, p, ofs)) {
    seen.push(p.id === MQTT_PROP_USER_PROPERTY ? `${String(p.key)}=${String(p.val)}` : p.id === MQTT_PROP_CONTENT_TYPE ? String(p.val) : `${p.id}:${p.iv}`);
  }
  assert.equal(seen, ["text/plain", "k=v1", "k=v2", "11:5", "11:7"]);
  assert.is(String(m.data), "hi");
});

test("parse: CONNECT, 3.1.1 and 5; its malformed forms and unsupported versions", () => {
  const c4 = parse(connect({ id: "dev1", ka: 30, will: { topic: "st", msg: "off", qos: 1, retain: true }, user: "u", pass: "p" }));
  assert.is(c4.r, MQTT_OK);
  const m = c4.m;
  assert.equal([m.cmd, m.version, m.keepalive, String(m.client_id), String(m.topic), String(m.data), m.qos, m.retain, String(m.user), String(m.pass), m.clean], [MQTT_CMD_CONNECT, 4, 30, "dev1", "st", "off", 1, true, "u", "p", true]);
  const c5 = parse(connect({ v: 5, id: "", props: [0x21, ...u16(10)], will: { topic: "w", msg: "", props: [0x18, ...u32(5)] } }));
  assert.is(c5.r, MQTT_OK);
  assert.is(c5.m.version, 5);
  assert.is(c5.m.client_id.len, 0);
  const flags = (f: number) => pkt(0x10, [...str("MQTT"), 4, f, 0, 0, ...str("x")]);
  malformed(flags(0x03), 4, 0x81, "reserved flag");
  malformed(flags(0x0a), 4, 0x81, "will QoS without a will");
  malformed(flags(0x22), 4, 0x81, "will retain without a will");
  malformed(flags(0x42), 4, 0x81, "password without a user name (3.1.1)");
  malformed(pkt(0x10, [...str("MQTT"), 4, 0x1e, 0, 0, ...str("x"), ...str("t"), ...str("m")]), 4, 0x81, "will QoS 3");
  malformed(pkt(0x10, [...str("MQTX"), 4, 2, 0, 0, ...str("x")]), 4, 0x81, "protocol name");
  malformed(pkt(0x10, [...str("MQTT"), 4, 2, 0, 0, ...str("x"), 0]), 4, 0x81, "a byte too many");
  malformed(connect({ will: { topic: "a/#", msg: "" } }), 4, 0x81, "a will topic with a wildcard");
  malformed(connect({ v: 5, props: [0x23, 0, 1] }), 5, 0x81, "Topic Alias in CONNECT");
  const old = parse(pkt(0x10, [...str("MQIsdp"), 3, 2, 0, 0, ...str("x")]));
  assert.equal([old.r, old.m.ack], [MQTT_OK, 0x01], "3.1: refused with 0x01");
  const v6 = parse(pkt(0x10, [...str("MQTT"), 6, 2, 0, 0, ...str("x")]));
  assert.equal([v6.r, v6.m.ack], [MQTT_OK, 0x84], "level 6: 0x84");
});

test("parse: SUBSCRIBE, UNSUBSCRIBE, acks, CONNACK, DISCONNECT", () => {
  const s = parse(subscribe(7, [["a/+", 1], ["#", 2]]));
  assert.is(s.r, MQTT_OK);
  assert.equal([s.m.cmd, s.m.id, String(s.m.topic), s.m.qos], [MQTT_CMD_SUBSCRIBE, 7, "a/+", 1]);
  const f = mg_str();
  const list: string[] = [];
  for (let ofs = mg_mqtt_next_sub(s.m, f, 0); ofs > 0; ofs = mg_mqtt_next_sub(s.m, f, ofs)) list.push(`${String(f)}:${s.m.qos}`);
  assert.equal(list, ["a/+:1", "#:2"]);
  malformed(pkt(0x82, [0, 7]), 4, 0x82, "SUBSCRIBE with no filter");
  malformed(subscribe(7, [["a", 4]]), 4, 0x81, "v4 options with reserved bits");
  malformed(subscribe(7, [["a", 3]]), 4, 0x81, "QoS 3");
  malformed(subscribe(7, [["a", 0x30]], true), 5, 0x81, "retain handling 3");
  malformed(subscribe(7, [["", 0]]), 4, 0x81, "empty filter");
  malformed(subscribe(0, [["a", 0]]), 4, 0x81, "packet id 0");
  assert.is(parse(subscribe(7, [["a", 0x2d]], true, [0x0b, 9]), 5).r, MQTT_OK, "v5 options and a subscription id");
  malformed(subscribe(7, [["a", 0]], true, [0x0b, 0]), 5, 0x82, "subscription id 0");
  malformed(pkt(0xa2, [0, 7]), 4, 0x82, "UNSUBSCRIBE with no filter");
  assert.is(parse(pkt(0xb0, [0, 7]), 4).r, MQTT_OK, "UNSUBACK v4");
  malformed(pkt(0xb0, [0, 7, 0]), 4, 0x81, "UNSUBACK v4 with codes");
  assert.is(parse(pkt(0xb0, [0, 7, 0, 0x11]), 5).m.ack, 0x11, "UNSUBACK v5 code");
  malformed(pkt(0x40, [0, 1, 0]), 4, 0x81, "PUBACK v4 with a reason");
  assert.is(parse(pkt(0x40, [0, 1, 0x10]), 5).m.ack, 0x10, "PUBACK v5 reason");
  assert.is(parse(pkt(0x40, [0, 1, 0x10, ...props([0x1f, ...str("why")])]), 5).r, MQTT_OK, "PUBACK v5 reason string");
  malformed(pkt(0x40, [0, 1, 0, ...props([0x01, 0])]), 5, 0x81, "PUBACK with Payload Format");
  malformed(pkt(0x20, [2, 0]), 4, 0x81, "CONNACK reserved flag");
  const ca = parse(connack(0, true, true, [0x21, ...u16(5), 0x13, ...u16(20)]), 5);
  assert.equal([ca.r, ca.m.cmd, ca.m.session_present], [MQTT_OK, MQTT_CMD_CONNACK, true]);
  malformed(pkt(0x20, [0, 0]), 5, 0x81, "v5 CONNACK without properties");
  assert.is(parse(pkt(0xe0, [0x8e, 0]), 5).m.ack, 0x8e, "DISCONNECT v5 reason");
  malformed(pkt(0xe0, [0]), 4, 0x81, "DISCONNECT v4 with a body");
  assert.is(parse([0xf0, 0x02, 0x18, 0], 5).m.cmd, MQTT_CMD_AUTH);
});

test("topic filters and matching (§4.7)", () => {
  const ok = (f: string) => mg_mqtt_filter_ok(mg_str(f));
  assert.ok(ok("a/b") && ok("+") && ok("#") && ok("a/+/c") && ok("a/#") && ok("+/+") && ok("/") && ok("$SYS/#"));
  assert.not.ok(ok("") || ok("a/#/b") || ok("a#") || ok("a/b#") || ok("a+") || ok("+a") || ok("a/+b") || ok("##"));
  const match = (t: string, f: string) => {
    const fb = mg_str(f);
    return mg_mqtt_match(mg_str(t), fb.buf, fb.ofs, fb.len);
  };
  const yes: [string, string][] = [["a/b", "a/b"], ["a/b", "a/+"], ["a/b", "+/b"], ["a/b", "#"], ["a/b", "a/#"], ["a", "a/#"], ["a/", "a/+"], ["/x", "+/+"], ["/x", "/+"], ["a/b/c", "a/+/c"], ["$SYS/x", "$SYS/#"], ["a/b/c/d", "a/#"]];
  const no: [string, string][] = [["a/b", "a"], ["a", "a/b"], ["a/b/c", "a/+"], ["/x", "+"], ["$SYS/x", "#"], ["$SYS/x", "+/x"], ["ab", "a/#"], ["a/b", "a/b/c"], ["b", "a/#"]];
  for (const [t, f] of yes) assert.ok(match(t, f), `${t} ~ ${f}`);
  for (const [t, f] of no) assert.not.ok(match(t, f), `${t} !~ ${f}`);
});

// --- the client against a scripted broker --------------------------------------------

interface Ev {
  ev: number;
  cmd?: number;
  id?: number;
  topic?: string;
  data?: string;
  qos?: number;
  retain?: boolean;
  ack?: number;
  err?: string;
}

function rig(o: Partial<mg_mqtt_opts> = {}, port = 1883) {
  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const srv = net.server(port);
  const evs: Ev[] = [];
  const opts = Object.assign(new mg_mqtt_opts(), { client_id: "c1" }, o);
  let on_msg: ((c: mg_connection, m: mg_mqtt_message) => void) | null = null;
  const fn = (c: mg_connection, ev: number, d: any) => {
    if (ev === MG_EV_MQTT_OPEN) evs.push({ ev, ack: d as number });
    else if (ev === MG_EV_MQTT_MSG) {
      const m = d as mg_mqtt_message;
      evs.push({ ev, topic: String(m.topic), data: String(m.data), qos: m.qos, id: m.id, retain: m.retain });
      if (on_msg) on_msg(c, m);
    } else if (ev === MG_EV_MQTT_CMD) evs.push({ ev, cmd: (d as mg_mqtt_message).cmd, id: (d as mg_mqtt_message).id, ack: (d as mg_mqtt_message).ack });
    else if (ev === MG_EV_ERROR) evs.push({ ev, err: d as string });
    else if (ev === MG_EV_CLOSE) evs.push({ ev });
  };
  const c = mg_mqtt_connect(mgr, `mqtt://127.0.0.1:${port}`, opts, fn, null)!;
  net.poll(mgr, 2);
  const p = net.accepted(srv)!;
  const r = {
    net,
    mgr,
    srv,
    c,
    p,
    opts,
    evs,
    fn,
    set_on_msg(f: (c: mg_connection, m: mg_mqtt_message) => void) {
      on_msg = f;
    },
    /** Sends bytes to the client and polls. */
    send(b: Uint8Array, polls = 3) {
      r.p.send(b);
      net.poll(mgr, polls);
    },
    /** What the client sent since the last call, as packets. */
    got() {
      return packets(r.p.recv());
    },
    of(ev: number) {
      return evs.filter((e) => e.ev === ev);
    },
  };
  return r;
}

test("client: CONNECT as written by mgts (3.1.1): will, user, password, keepalive, clean session", () => {
  const r = rig({ client_id: "dev-1", keepalive: 30, topic: "st", message: "offline", qos: 1, retain: true, user: "u", pass: "pw", clean: true });
  const sent = r.p.recv();
  assert.equal(Array.from(sent), Array.from(connect({ id: "dev-1", ka: 30, clean: true, will: { topic: "st", msg: "offline", qos: 1, retain: true }, user: "u", pass: "pw" })));
  r.send(connack(0));
  assert.equal(r.of(MG_EV_MQTT_OPEN), [{ ev: MG_EV_MQTT_OPEN, ack: 0 }]);
  assert.ok(r.c.is_mqtt5 === false);
});

test("client: CONNECT v5 announces Receive Maximum, Maximum Packet Size, Topic Alias Maximum; an empty id is random with a clean session", () => {
  const up = new mg_mqtt_prop();
  up.id = MQTT_PROP_USER_PROPERTY;
  up.key = "k";
  up.val = "v";
  const r = rig({ client_id: "", version: 5, props: [up] });
  const [p] = r.got();
  assert.is(p.cmd, 1);
  const b = p.body;
  assert.is(b[6], 5, "level 5");
  assert.is(b[7] & 2, 2, "clean session");
  const plen = b[10];
  const pr = Array.from(b.slice(11, 11 + plen));
  assert.equal(pr, [0x26, ...str("k"), ...str("v"), 0x21, ...u16(MG_MQTT_MAX_INFLIGHT), 0x27, ...u32(MG_IO_SIZE), 0x22, ...u16(MG_MQTT_TOPIC_ALIASES)]);
  const idl = (b[11 + plen] << 8) | b[12 + plen];
  assert.is(idl, 20, "a 20-character random id");
  assert.ok(r.c.is_mqtt5);
});

test("client: a refused CONNACK fires MG_EV_MQTT_OPEN with the code and closes", () => {
  const r = rig();
  r.got();
  r.send(connack(5));
  assert.equal(r.of(MG_EV_MQTT_OPEN), [{ ev: MG_EV_MQTT_OPEN, ack: 5 }]);
  r.net.poll(r.mgr, 3);
  assert.ok(r.p.closed, "closed");
  assert.is(r.of(MG_EV_CLOSE).length, 1);
});

test("client: PUBLISH in at QoS 0, 1, 2: events, PUBACK, PUBREC/PUBREL/PUBCOMP, a QoS 2 resend is not delivered twice", () => {
  const r = rig();
  r.send(connack(0));
  r.got();
  r.send(publish({ topic: "t/0", payload: "zero" }));
  r.send(publish({ topic: "t/1", payload: "one", qos: 1, id: 11 }));
  r.send(publish({ topic: "t/2", payload: "two", qos: 2, id: 12, retain: true }));
  const out = r.got();
  assert.equal(out.map((p) => [p.cmd, id_of(p)]), [[4, 11], [5, 12]]);
  assert.equal(r.of(MG_EV_MQTT_MSG).map((e) => [e.topic, e.data, e.qos, e.retain]), [["t/0", "zero", 0, false], ["t/1", "one", 1, false], ["t/2", "two", 2, true]]);
  // the broker did not get our PUBREC and resends with DUP: acknowledged again, not delivered again
  r.send(publish({ topic: "t/2", payload: "two", qos: 2, id: 12, dup: true }));
  assert.equal(r.got().map((p) => [p.cmd, id_of(p)]), [[5, 12]]);
  assert.is(r.of(MG_EV_MQTT_MSG).length, 3);
  r.send(ack(6, 12));
  assert.equal(r.got().map((p) => [p.cmd, p.flags, id_of(p)]), [[7, 0, 12]]);
  // after PUBCOMP the id is free: the same id is a new message
  r.send(publish({ topic: "t/2", payload: "again", qos: 2, id: 12 }));
  assert.is(r.of(MG_EV_MQTT_MSG).length, 4);
  // every packet also fires MG_EV_MQTT_CMD
  assert.equal(r.of(MG_EV_MQTT_CMD).map((e) => e.cmd), [2, 3, 3, 3, 3, 6, 3]);
});

test("client: QoS 1 and 2 out: ids, the in-flight window, PUBREC answered with PUBREL, PUBCOMP frees", () => {
  const r = rig();
  r.send(connack(0));
  r.got();
  const o = new mg_mqtt_opts();
  o.topic = "x";
  o.message = "m";
  o.qos = 1;
  const ids: (number | false)[] = [];
  for (let i = 0; i < MG_MQTT_MAX_INFLIGHT; i++) ids.push(mg_mqtt_pub(r.c, o));
  assert.ok(ids.every((x) => typeof x === "number" && x > 0), "ids");
  assert.is(new Set(ids).size, MG_MQTT_MAX_INFLIGHT, "distinct ids");
  assert.is(mg_mqtt_pub(r.c, o), false, "the window is full");
  o.qos = 0;
  assert.is(mg_mqtt_pub(r.c, o), 0, "QoS 0 still goes");
  r.net.poll(r.mgr, 2);
  const pubs = r.got().map((p) => read_publish(p));
  assert.is(pubs.length, MG_MQTT_MAX_INFLIGHT + 1);
  r.send(ack(4, ids[0] as number));
  o.qos = 2;
  const id2 = mg_mqtt_pub(r.c, o) as number;
  assert.ok(id2 > 0, "room again after a PUBACK");
  r.net.poll(r.mgr, 2);
  r.got();
  r.send(ack(5, id2));
  assert.equal(r.got().map((p) => [p.cmd, p.flags, id_of(p)]), [[6, 2, id2]], "PUBREL");
  assert.is(mg_mqtt_pub(r.c, o), false, "still full: the QoS 2 waits for PUBCOMP");
  r.send(ack(7, id2));
  assert.ok((mg_mqtt_pub(r.c, o) as number) > 0, "PUBCOMP frees it");
  // an unknown PUBREC is answered anyway (3.1.1: PUBREL), an unknown PUBACK is ignored
  r.net.poll(r.mgr, 2);
  r.got();
  r.send(ack(5, 999));
  r.send(ack(4, 998));
  assert.equal(r.got().map((p) => [p.cmd, id_of(p)]), [[6, 999]]);
  assert.is(r.of(MG_EV_ERROR).length, 0);
});

test("client: SUBSCRIBE and UNSUBSCRIBE (which Mongoose lacks); v5 options", () => {
  const r = rig({ version: 5 });
  r.send(connack(0, false, true));
  r.got();
  const o = new mg_mqtt_opts();
  o.topic = "a/+";
  o.qos = 2;
  o.sub_options = 4 | 8 | 32;
  const id = mg_mqtt_sub(r.c, o) as number;
  const uid = mg_mqtt_unsub(r.c, o) as number;
  r.net.poll(r.mgr, 2);
  const [s, u] = r.got();
  assert.equal(Array.from(s.raw), Array.from(subscribe(id, [["a/+", 2 | 4 | 8 | 32]], true)));
  assert.equal(Array.from(u.raw), Array.from(pkt(0xa2, [...u16(uid), 0, ...str("a/+")])));
  r.send(pkt(0x90, [...u16(id), 0, 2]));
  r.send(pkt(0xb0, [...u16(uid), 0, 0]));
  assert.equal(r.of(MG_EV_MQTT_CMD).slice(-2).map((e) => [e.cmd, e.id, e.ack]), [[9, id, 2], [11, uid, 0]]);
});

test("client: keepalive: PINGREQ after 3/4 of it idle, none while publishing, a close when PINGRESP does not come", () => {
  const r = rig({ keepalive: 4 });
  r.send(connack(0));
  r.got();
  r.net.poll(r.mgr, 29, 100); // 2.9 s
  assert.equal(r.got().map((p) => p.cmd), [], "nothing before 3 s");
  r.net.poll(r.mgr, 2, 100);
  assert.equal(r.got().map((p) => p.cmd), [12], "PINGREQ at 3 s");
  r.send(PINGRESP, 1);
  // publishing counts as traffic: no ping while it goes on
  const o = new mg_mqtt_opts();
  o.topic = "t";
  for (let i = 0; i < 10; i++) {
    mg_mqtt_pub(r.c, o);
    r.net.poll(r.mgr, 20, 100);
  }
  assert.ok(r.got().every((p) => p.cmd === 3), "only PUBLISHes");
  r.net.poll(r.mgr, 40, 100);
  assert.equal(r.got().map((p) => p.cmd), [12]);
  // no PINGRESP: an error and a close 4 s after the PINGREQ (sent 1 s after the last PUBLISH, 3 s ago)
  r.net.poll(r.mgr, 9, 100);
  assert.is(r.of(MG_EV_ERROR).length, 0);
  r.net.poll(r.mgr, 2, 100);
  assert.match(r.of(MG_EV_ERROR)[0].err!, /PINGRESP/);
  r.net.poll(r.mgr, 3);
  assert.ok(r.p.closed);
});

test("client: a manual mg_mqtt_ping is timed the same way; v5 Server Keep Alive replaces ours", () => {
  const r = rig({ keepalive: 100, version: 5 });
  r.send(connack(0, false, true, [0x13, ...u16(2)]));
  r.got();
  r.net.poll(r.mgr, 16, 100);
  assert.equal(r.got().map((p) => p.cmd), [12], "pinged after 1.5 s: the server's 2 s keepalive");
  const r2 = rig({ keepalive: 2 });
  r2.send(connack(0));
  assert.ok(mg_mqtt_ping(r2.c));
  r2.net.poll(r2.mgr, 25, 100);
  assert.match(r2.of(MG_EV_ERROR)[0]?.err ?? "", /PINGRESP/);
});

test("client: v5 CONNACK limits: Maximum Packet Size, Receive Maximum, Maximum QoS, Retain Available", () => {
  const r = rig({ version: 5 });
  r.send(connack(0, false, true, [0x27, ...u32(60), 0x21, ...u16(2), 0x24, 1, 0x25, 0]));
  const o = new mg_mqtt_opts();
  o.topic = "t";
  o.message = "x".repeat(40);
  assert.is(mg_mqtt_pub(r.c, o), 0, "a 48-byte packet goes");
  o.message = "x".repeat(60);
  assert.is(mg_mqtt_pub(r.c, o), false, "over the broker's Maximum Packet Size");
  o.message = "m";
  o.qos = 2;
  assert.is(mg_mqtt_pub(r.c, o), false, "over Maximum QoS");
  o.qos = 1;
  assert.ok(mg_mqtt_pub(r.c, o));
  assert.ok(mg_mqtt_pub(r.c, o));
  assert.is(mg_mqtt_pub(r.c, o), false, "Receive Maximum 2");
  o.qos = 0;
  o.retain = true;
  assert.is(mg_mqtt_pub(r.c, o), false, "retain not available");
});

test("client: packets too large: mg_mqtt_pub refuses; one coming in is refused (v5 DISCONNECT 0x95, v4 close)", () => {
  const r = rig();
  r.send(connack(0));
  const o = new mg_mqtt_opts();
  o.topic = "t";
  o.message = "x".repeat(MG_IO_SIZE);
  assert.is(mg_mqtt_pub(r.c, o), false, "larger than the send buffer");
  r.got();
  const big = publish({ topic: "t", payload: "x".repeat(MG_IO_SIZE + 10) });
  r.send(big.slice(0, 100), 3);
  assert.match(r.of(MG_EV_ERROR)[0]?.err ?? "", /larger/);
  r.net.poll(r.mgr, 3);
  assert.ok(r.p.closed, "v4: closed");
  assert.is(r.got().length, 0, "v4: nothing sent");
  const r5 = rig({ version: 5 });
  r5.send(connack(0, false, true));
  r5.got();
  r5.send(publish({ topic: "t", v5: true, payload: "x".repeat(MG_IO_SIZE + 10) }).slice(0, 100), 3);
  r5.net.poll(r5.mgr, 3);
  assert.equal(r5.got().map((p) => [p.cmd, p.body[0]]), [[14, 0x95]], "DISCONNECT 0x95");
  assert.ok(r5.p.closed);
});

test("client: bad input from the broker: v5 DISCONNECT with the reason, v4 a close; the other connections carry on", () => {
  // [what, bytes, v5 reason, also malformed in 3.1.1 (else only a v5 error)]
  const cases: [string, Uint8Array, number, boolean?][] = [
    ["remaining length over 4 bytes", new Uint8Array([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]), 0x81, true],
    ["wrong flags", new Uint8Array([0x41, 0x02, 0, 1]), 0x81, true],
    ["wildcard in a PUBLISH topic", publish({ topic: "a/+", v5: true }), 0x90, true],
    ["empty topic without an alias", publish({ topic: "", v5: true }), 0x82, true],
    ["invalid UTF-8 in a topic", publish({ topic: [0x61, 0xc0, 0xaf], v5: true }), 0x81, true],
    ["unknown property", publish({ topic: "a", v5: true, props: [0x50, 0] }), 0x81],
    ["a topic alias over the maximum", publish({ topic: "a", v5: true, props: [0x23, ...u16(MG_MQTT_TOPIC_ALIASES + 1)] }), 0x94],
    ["an alias never set", publish({ topic: "", v5: true, props: [0x23, 0, 1] }), 0x82],
    ["SUBSCRIBE from a server", subscribe(1, [["a", 0]], true), 0x82, true],
    ["a second CONNACK", connack(0, false, true), 0x82, true],
    ["AUTH", new Uint8Array([0xf0, 0x00]), 0x82, true],
  ];
  for (const v of [4, 5]) {
    for (const [what, bytes, reason, v4too] of cases) {
      if (v === 4 && !v4too) continue;
      const r = rig({ version: v });
      // a second client on the same manager must not notice
      const other = new mg_mqtt_opts();
      other.client_id = "other";
      const srv2 = r.net.server(1884);
      const got2: string[] = [];
      const c2 = mg_mqtt_connect(r.mgr, "mqtt://127.0.0.1:1884", other, (_c, ev, d) => {
        if (ev === MG_EV_MQTT_MSG) got2.push(String((d as mg_mqtt_message).data));
      }, null)!;
      r.net.poll(r.mgr, 2);
      const p2 = r.net.accepted(srv2)!;
      p2.send(connack(0));
      r.send(connack(0, false, v === 5));
      r.got();
      r.send(bytes, 3);
      r.net.poll(r.mgr, 3);
      const out = r.got();
      if (v === 5) assert.equal(out.map((p) => [p.cmd, p.body[0]]), [[14, reason]], `${what}: DISCONNECT 0x${reason.toString(16)}`);
      else assert.is(out.length, 0, `${what}: v4 sends nothing`);
      assert.ok(r.p.closed, `${what}: closed (v${v})`);
      assert.ok(r.of(MG_EV_ERROR).length === 1, `${what}: MG_EV_ERROR`);
      p2.send(publish({ topic: "t", payload: "still here" }));
      r.net.poll(r.mgr, 3);
      assert.equal(got2, ["still here"], `${what}: the other connection works`);
      assert.not.ok(c2.is_closing);
    }
  }
});

test("client: v5 topic aliases received (set, reused, per connection)", () => {
  const r = rig({ version: 5 });
  r.send(connack(0, false, true));
  r.send(publish({ topic: "long/topic/name", payload: "1", v5: true, props: [0x23, 0, 2] }));
  r.send(publish({ topic: "", payload: "2", v5: true, props: [0x23, 0, 2] }));
  r.send(publish({ topic: "other", payload: "3", v5: true, props: [0x23, 0, 2] }));
  r.send(publish({ topic: "", payload: "4", qos: 1, id: 5, v5: true, props: [0x23, 0, 2] }));
  assert.equal(r.of(MG_EV_MQTT_MSG).map((e) => `${e.topic}=${e.data}`), ["long/topic/name=1", "long/topic/name=2", "other=3", "other=4"]);
  assert.is(r.of(MG_EV_ERROR).length, 0);
});

test("client: a session resent after a reconnect, in order, DUP set; PUBREL for what was past PUBREC; dropped when the broker has no session", () => {
  const session = new mg_mqtt_session();
  const r = rig({ clean: false, session });
  r.send(connack(0));
  r.got();
  const o = new mg_mqtt_opts();
  o.topic = "q";
  o.qos = 1;
  o.message = "first";
  const a = mg_mqtt_pub(r.c, o) as number;
  o.qos = 2;
  o.message = "second";
  const b = mg_mqtt_pub(r.c, o) as number;
  o.message = "third";
  const c3 = mg_mqtt_pub(r.c, o) as number;
  r.net.poll(r.mgr, 2);
  r.got();
  r.send(ack(5, b)); // PUBREC for the second: it is past PUBREC now
  r.got();
  // the link dies before anything else is acknowledged
  r.p.reset();
  r.net.poll(r.mgr, 3);
  assert.is(r.of(MG_EV_CLOSE).length, 1);
  assert.is(session.n, 3, "three in flight");
  const c = mg_mqtt_connect(r.mgr, "mqtt://127.0.0.1:1883", r.opts, r.fn, null)!;
  r.net.poll(r.mgr, 2);
  const p = r.net.accepted(r.srv)!;
  const conn = packets(p.recv());
  assert.is(conn[0].body[7] & 2, 0, "clean session off");
  p.send(connack(0, true));
  r.net.poll(r.mgr, 3);
  const resent = packets(p.recv());
  assert.equal(resent.map((x) => [x.cmd, x.cmd === 3 ? read_publish(x).payload : "", x.cmd === 3 ? read_publish(x).dup : false, id_of(x.cmd === 3 ? { ...x, body: x.body.slice(3) } : x)]), [
    [3, "first", true, a],
    [6, "", false, b],
    [3, "third", true, c3],
  ]);
  assert.equal(resent.filter((x) => x.cmd === 3).map((x) => read_publish(x).id), [a, c3]);
  p.send(ack(4, a));
  p.send(ack(7, b));
  p.send(ack(5, c3));
  r.net.poll(r.mgr, 3);
  p.send(ack(7, c3));
  r.net.poll(r.mgr, 3);
  assert.is(session.n, 0, "all acknowledged");
  // a broker without the session: what is in flight is dropped (the spec says the client discards it)
  mg_mqtt_pub(c, o);
  p.reset();
  r.net.poll(r.mgr, 3);
  mg_mqtt_connect(r.mgr, "mqtt://127.0.0.1:1883", r.opts, r.fn, null);
  r.net.poll(r.mgr, 2);
  const p3 = r.net.accepted(r.srv)!;
  p3.recv();
  p3.send(connack(0, false));
  r.net.poll(r.mgr, 3);
  assert.is(p3.recv().length, 0, "nothing resent");
  assert.is(session.n, 0);
});

test("client: mg_mqtt_client_start reconnects with backoff (doubling, jitter, reset by a CONNACK) and keeps its session", () => {
  const net = new mg_mock();
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  net.refuse(1885);
  const opts = new mg_mqtt_opts();
  opts.clean = false;
  const evs: number[] = [];
  const cl = mg_mqtt_client_start(mgr, "mqtt://127.0.0.1:1885", opts, (_c, ev) => evs.push(ev), null, 1000, 8000);
  const times: number[] = [];
  let last = cl.attempts;
  for (let t = 0; t < 40000; t += 50) {
    net.poll(mgr, 1, 50);
    if (cl.attempts !== last) {
      times.push(net.now);
      last = cl.attempts;
    }
  }
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  // 1 s, 2 s, 4 s, 8 s, 8 s ... each with up to 25% more, give or take a poll
  const base = [2000, 4000, 8000, 8000, 8000];
  for (let i = 0; i < base.length && i < gaps.length; i++) {
    assert.ok(gaps[i] >= base[i] - 100 && gaps[i] <= base[i] * 1.25 + 150, `gap ${i}: ${gaps[i]} (${gaps})`);
  }
  assert.ok(times.length >= 5, `attempts ${cl.attempts}`);
  // now the broker is there: connect, then lose the link; the next attempt comes after min_ms again
  net.refused.length = 0;
  const srv = net.server(1885);
  let p: mg_mock_peer | null = null;
  for (let i = 0; i < 400 && p === null; i++) {
    net.poll(mgr, 1, 50);
    p = net.accepted(srv);
  }
  assert.ok(p !== null, "connected");
  const conn = packets(p!.recv());
  const idl = (conn[0].body[10] << 8) | conn[0].body[11];
  assert.match(text(conn[0].body.slice(12, 12 + idl)), /^mgts-[0-9A-Za-z]{12}$/, "the helper's own client id");
  p!.send(connack(0, true));
  net.poll(mgr, 3);
  assert.ok(cl.connected);
  assert.ok(evs.includes(MG_EV_MQTT_OPEN));
  const o = new mg_mqtt_opts();
  o.topic = "keep";
  o.qos = 1;
  o.message = "me";
  const id = mg_mqtt_pub(cl.c!, o) as number;
  net.poll(mgr, 2);
  p!.recv();
  p!.reset();
  const t0 = net.now;
  let p2: mg_mock_peer | null = null;
  for (let i = 0; i < 100 && p2 === null; i++) {
    net.poll(mgr, 1, 50);
    p2 = net.accepted(srv);
  }
  assert.ok(p2 !== null && net.now - t0 <= 1000 * 1.25 + 200, `reconnected after ${net.now - t0} ms`);
  const again = packets(p2!.recv());
  assert.equal(text(again[0].body.slice(12, 12 + idl)), text(conn[0].body.slice(12, 12 + idl)), "the same client id");
  p2!.send(connack(0, true));
  net.poll(mgr, 3);
  const re = packets(p2!.recv()).map((x) => read_publish(x));
  assert.equal(re.map((x) => [x.topic, x.payload, x.id, x.dup]), [["keep", "me", id, true]], "resent from the helper's session");
  mg_mqtt_client_stop(cl);
  net.poll(mgr, 3);
  assert.equal(packets(p2!.recv()).map((x) => x.cmd), [14], "DISCONNECT");
  const n = cl.attempts;
  net.poll(mgr, 100, 100);
  assert.is(cl.attempts, n, "no reconnect after stop");
});

test("client: a handler holds a message it cannot republish; acknowledgements behind it still arrive", () => {
  const r = rig();
  r.send(connack(0));
  r.got();
  const o = new mg_mqtt_opts();
  o.topic = "out";
  o.qos = 1;
  // fill the window
  const ids: number[] = [];
  for (let i = 0; i < MG_MQTT_MAX_INFLIGHT; i++) ids.push(mg_mqtt_pub(r.c, o) as number);
  r.net.poll(r.mgr, 2);
  r.got();
  const seen: string[] = [];
  r.set_on_msg((c, m) => {
    o.message = m.data;
    if (mg_mqtt_pub(c, o) === false) m.hold = true;
    else seen.push(String(m.data));
  });
  // a QoS 1 message arrives, then the PUBACK that frees the window, in one read
  const both = new Uint8Array([...publish({ topic: "in", payload: "held", qos: 1, id: 77 }), ...ack(4, ids[0])]);
  r.send(both, 3);
  assert.equal(seen, ["held"], "republished once the PUBACK behind it was taken");
  const out = r.got();
  assert.equal(out.map((p) => p.cmd), [3, 4], "the republish, then our PUBACK for it");
  assert.is(read_publish(out[0]).payload, "held");
  assert.is(id_of(out[1]), 77);
  // held with nothing to free it: the message waits, unacknowledged
  r.send(publish({ topic: "in", payload: "wait", qos: 1, id: 78 }), 3);
  assert.equal(seen, ["held"]);
  assert.is(r.got().length, 0, "no PUBACK while held");
  r.send(ack(4, ids[1]), 3);
  assert.equal(seen, ["held", "wait"]);
  assert.equal(r.got().map((p) => p.cmd), [3, 4]);
});

test("client: mg_mqtt_disconnect sends DISCONNECT (v5 with a reason) and closes", () => {
  const r = rig({ version: 5 });
  r.send(connack(0, false, true));
  r.got();
  const o = new mg_mqtt_opts();
  o.reason = 0x04;
  mg_mqtt_disconnect(r.c, o);
  r.net.poll(r.mgr, 3);
  assert.equal(r.got().map((p) => Array.from(p.raw)), [[0xe0, 2, 0x04, 0]]);
  assert.ok(r.p.closed);
  assert.is(mg_mqtt_pub(r.c, o), false, "nothing after DISCONNECT");
});

test("client: no CONNACK within MG_CONNECT_TIMEOUT_MS is an error", () => {
  const r = rig();
  r.net.poll(r.mgr, 110, 100);
  assert.match(r.of(MG_EV_ERROR)[0]?.err ?? "", /CONNACK/);
});

test("client: PUBLISH in pieces of one byte, and many packets in one read", () => {
  const r = rig();
  r.net.read_cap = 1;
  r.send(connack(0), 10);
  const many: number[] = [];
  for (let i = 0; i < 20; i++) many.push(...publish({ topic: "t/" + i, payload: "p" + i, qos: (i % 3), id: i + 1 }));
  r.p.send(new Uint8Array(many));
  r.net.poll(r.mgr, many.length + 20);
  assert.is(r.of(MG_EV_MQTT_MSG).length, 20);
  r.net.read_cap = 0;
  r.send(new Uint8Array(many.slice(0, many.length)), 5);
  assert.is(r.of(MG_EV_MQTT_MSG).length, 20 + 14, "the QoS 2 ones (6) still wait for PUBREL: not delivered twice");
});

test.run();
