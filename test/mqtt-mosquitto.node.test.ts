// The mgts MQTT client against Eclipse Mosquitto (Debian's), over real
// loopback sockets: QoS 0/1/2 at protocol levels 4 and 5, wills when the
// client's socket dies, retained messages, keepalive under a broker's short
// max_keepalive, a reconnect to a present session resending in-flight
// messages, MQTT over WebSocket (the mgts client, and Mongoose's own pattern
// with mg_ws_wrap), and the mqtt app end to end. Each test starts its own
// mosquitto on ephemeral ports and stops it. Node only.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MG_EV_MQTT_OPEN, MG_EV_WS_MSG, MG_EV_WS_OPEN, mg_connection, mg_mgr } from "../src/net.js";
import {
  mg_mqtt_client_start,
  mg_mqtt_client_stop,
  mg_mqtt_connect,
  mg_mqtt_login,
  mg_mqtt_opts,
  mg_mqtt_pub,
  mg_mqtt_session,
  mg_mqtt_sub,
} from "../src/mqtt.js";
import { MQTT_CMD_CONNACK, MQTT_CMD_PUBLISH, MQTT_OK, mg_mqtt_message, mg_mqtt_parse } from "../src/mqtt_packet.js";
import { WEBSOCKET_OP_BINARY, mg_ws_connect, mg_ws_message, mg_ws_wrap } from "../src/ws.js";
import { mqtt_app_start } from "../firmware/mqtt/main.js";
import { MOSQUITTO, MgClient, Mosquitto, free_mgr, mg_client, node_mgr, opts, run, start, start_mosquitto, until } from "./mqtt_peers.js";
import { make_certs } from "./tls_certs.js";
import { mg_tls_init } from "../src/tls.js";

const live: { mgrs: mg_mgr[]; brokers: Mosquitto[]; subs: { stop: () => void }[] } = { mgrs: [], brokers: [], subs: [] };
test.after.each(async () => {
  for (const s of live.subs) s.stop();
  for (const m of live.mgrs) free_mgr(m);
  for (const b of live.brokers) await b.stop();
  live.mgrs = [];
  live.brokers = [];
  live.subs = [];
});

async function broker(extra = "", tls: { cert: string; key: string } | null = null): Promise<Mosquitto> {
  const b = await start_mosquitto(extra, tls);
  live.brokers.push(b);
  return b;
}
function mgr(): mg_mgr {
  const m = node_mgr();
  live.mgrs.push(m);
  return m;
}
/** mosquitto_sub, already subscribed when this resolves (it prints the connection's first retained message... or we wait a little with a deadline on a marker). */
async function sub(b: Mosquitto, topic: string, extra: string[] = []): Promise<() => string> {
  const s = start("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(b.port), "-t", topic, "-t", "ready/marker", "-v", "-q", "2", "-F", "%t %p r=%r q=%q", ...extra]);
  live.subs.push(s);
  // it is subscribed once it sees the marker
  for (let i = 0; i < 50; i++) {
    await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(b.port), "-t", "ready/marker", "-m", "x"]);
    if (await until(() => s.out().includes("ready/marker"), 200)) break;
  }
  assert.ok(s.out().includes("ready/marker"), "mosquitto_sub is subscribed");
  return () => s.out().split("\n").filter((l) => l.length > 0 && !l.startsWith("ready/marker")).join("\n");
}

for (const v of [4, 5]) {
  test(`QoS 0, 1, 2 through mosquitto, MQTT ${v}: subscribe, publish, receive, every flow completed`, async () => {
    const b = await broker();
    const m = mgr();
    const k = mg_client(m, `mqtt://127.0.0.1:${b.port}`, { client_id: `mgts-qos-${v}`, version: v, keepalive: 30 });
    k.on_open = (c) => {
      const s = opts({ topic: "mgts/test/#", qos: 2 });
      mg_mqtt_sub(c, s);
    };
    assert.ok(await until(() => k.cmds.some((x) => x.cmd === 9), 5000), "SUBACK");
    assert.is(k.opened, 0);
    for (let q = 0; q <= 2; q++) {
      const p = opts({ topic: `mgts/test/q${q}`, message: `hello ${q}`, qos: q });
      assert.ok(mg_mqtt_pub(k.c!, p) !== false);
    }
    assert.ok(await until(() => k.msgs.length === 3, 5000), `3 messages: ${JSON.stringify(k.msgs)}`);
    assert.equal(k.msgs.map((x) => [x.topic, x.data, x.qos]).sort(), [["mgts/test/q0", "hello 0", 0], ["mgts/test/q1", "hello 1", 1], ["mgts/test/q2", "hello 2", 2]]);
    assert.ok(await until(() => (k.c!.mqtt as any).s.n === 0 && (k.c!.mqtt as any).s.in_n === 0, 3000), "no flow left in flight");
    // and from mosquitto_pub at each QoS
    for (let q = 0; q <= 2; q++) await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(b.port), "-t", `mgts/test/pub${q}`, "-m", `from pub ${q}`, "-q", String(q), ...(v === 5 ? ["-V", "mqttv5"] : [])]);
    assert.ok(await until(() => k.msgs.length === 6, 5000));
    assert.equal(k.msgs.slice(3).map((x) => [x.data, x.qos]), [["from pub 0", 0], ["from pub 1", 1], ["from pub 2", 2]]);
    assert.equal(k.errors, []);
  });
}

test("a will published by mosquitto when the client's socket dies (not on DISCONNECT); retained messages", async () => {
  const b = await broker();
  const out = await sub(b, "mgts/will/#");
  const m = mgr();
  const w = opts({ client_id: "mgts-will", topic: "mgts/will/a", message: "gone", qos: 1, retain: true });
  const k = mg_client(m, `mqtt://127.0.0.1:${b.port}`, w);
  assert.ok(await until(() => k.opened === 0, 5000));
  k.c!.is_closing = true; // the socket closes without DISCONNECT
  assert.ok(await until(() => out().includes("mgts/will/a gone"), 5000), out());
  const r = await run("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(b.port), "-t", "mgts/will/a", "-C", "1", "-W", "3", "-F", "%p r=%r"]);
  assert.is(r.out.trim(), "gone r=1", "the will was retained");
  // a normal DISCONNECT: no will
  const k2 = mg_client(m, `mqtt://127.0.0.1:${b.port}`, { ...w, client_id: "mgts-will2", topic: "mgts/will/b" } as mg_mqtt_opts);
  assert.ok(await until(() => k2.opened === 0, 5000));
  const { mg_mqtt_disconnect } = await import("../src/mqtt.js");
  mg_mqtt_disconnect(k2.c!, null);
  assert.ok(await until(() => k2.closed, 3000));
  await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(b.port), "-t", "mgts/will/end", "-m", "end"]);
  assert.ok(await until(() => out().includes("mgts/will/end end"), 3000));
  assert.not.ok(out().includes("mgts/will/b"), "no will after DISCONNECT");
  // the mgts client receives a retained message with its flag
  const k3 = mg_client(m, `mqtt://127.0.0.1:${b.port}`, { client_id: "mgts-ret" });
  k3.on_open = (c) => mg_mqtt_sub(c, opts({ topic: "mgts/will/a", qos: 1 }));
  assert.ok(await until(() => k3.msgs.length === 1, 5000));
  assert.equal(k3.msgs[0], { topic: "mgts/will/a", data: "gone", qos: 1, retain: true });
});

test("keepalive: mgts pings by itself, under a short keepalive (3.1.1) and a broker's max_keepalive (5); mosquitto keeps it", async () => {
  // mosquitto 2.0 accepts no max_keepalive below 10 s: a v5 client asking for 300 s is told 10
  const b = await broker("max_keepalive 10");
  const m = mgr();
  const k4 = mg_client(m, `mqtt://127.0.0.1:${b.port}`, { client_id: "mgts-ka4", keepalive: 1 });
  const k5 = mg_client(m, `mqtt://127.0.0.1:${b.port}`, { client_id: "mgts-ka5", version: 5, keepalive: 300 });
  assert.ok(await until(() => k4.opened === 0 && k5.opened === 0, 5000));
  assert.is((k5.c!.mqtt as any).keepalive_ms, 10000, "the server's keepalive took over");
  // mosquitto drops a client silent for 1.5 keepalives (1.5 s, 15 s); Mongoose's client, which never pings, would be gone
  assert.ok(await until(() => k5.cmds.some((x) => x.cmd === 13), 9000), "a PINGRESP after 7.5 s (5)");
  await new Promise((r) => setTimeout(r, 8000));
  assert.not.ok(k4.closed || k5.closed, `still connected (errors: ${k4.errors} ${k5.errors})`);
  assert.ok(k4.cmds.filter((x) => x.cmd === 13).length >= 15, "PINGRESPs every 0.75 s (3.1.1)");
  assert.ok(k5.cmds.filter((x) => x.cmd === 13).length >= 2, "PINGRESPs every 7.5 s (5)");
});

test("a reconnect to a present session resends the in-flight QoS 1 and 2 messages (DUP), and mosquitto delivers them", async () => {
  const b = await broker();
  const out = await sub(b, "mgts/session/#");
  const m = mgr();
  const session = new mg_mqtt_session();
  const o = opts({ client_id: "mgts-session", clean: false, session, keepalive: 30 });
  const k = mg_client(m, `mqtt://127.0.0.1:${b.port}`, o);
  assert.ok(await until(() => k.opened === 0, 5000));
  // publish, then kill the connection before the bytes can leave: they are in flight in the session only
  const p = opts({ topic: "mgts/session/a", message: "q1", qos: 1 });
  assert.ok(mg_mqtt_pub(k.c!, p) !== false);
  p.topic = "mgts/session/b";
  p.message = "q2";
  p.qos = 2;
  assert.ok(mg_mqtt_pub(k.c!, p) !== false);
  k.c!.send.len = 0;
  k.c!.is_closing = true;
  assert.ok(await until(() => k.closed, 3000));
  assert.is(session.n, 2);
  await new Promise((r) => setTimeout(r, 300));
  assert.not.ok(out().includes("mgts/session/"), "nothing was delivered");
  const k2 = mg_client(m, `mqtt://127.0.0.1:${b.port}`, o);
  assert.ok(await until(() => k2.opened === 0, 5000));
  assert.ok(await until(() => out().includes("mgts/session/a q1") && out().includes("mgts/session/b q2"), 5000), out());
  assert.ok(await until(() => session.n === 0, 3000), "acknowledged");
  assert.equal(k2.errors, []);
});

test("the reconnect helper against mosquitto: mosquitto goes away and comes back, the client reconnects by itself", async () => {
  const b = await broker();
  const m = mgr();
  let opens = 0;
  const o = opts({ keepalive: 10 });
  const cl = mg_mqtt_client_start(m, `mqtt://127.0.0.1:${b.port}`, o, (_c, ev) => {
    if (ev === MG_EV_MQTT_OPEN) opens++;
  }, null, 100, 400);
  assert.ok(await until(() => cl.connected, 5000));
  const port = b.port;
  await b.stop();
  live.brokers = [];
  assert.ok(await until(() => !cl.connected, 3000), "noticed");
  const attempts = cl.attempts;
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(cl.attempts >= attempts + 2, `retried (${cl.attempts - attempts} times in 1.5 s)`);
  // a new mosquitto on the same port
  const { spawn } = await import("node:child_process");
  const { writeFileSync, mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(tmpdir() + "/mgts-mosq-");
  writeFileSync(dir + "/c.conf", `allow_anonymous true\npersistence false\nlistener ${port} 127.0.0.1\n`);
  const proc = spawn(MOSQUITTO, ["-c", dir + "/c.conf"], { stdio: "ignore" });
  try {
    assert.ok(await until(() => cl.connected, 5000), "reconnected");
    assert.is(opens, 2);
  } finally {
    mg_mqtt_client_stop(cl);
    proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("MQTT over WebSocket to mosquitto's websockets listener: the mgts client (ws://), QoS 2 round trip, MQTT 5", async () => {
  const b = await broker();
  const m = mgr();
  const k = mg_client(m, `ws://127.0.0.1:${b.ws_port}/mqtt`, { client_id: "mgts-ws", version: 5 });
  k.on_open = (c) => mg_mqtt_sub(c, opts({ topic: "mgts/ws/#", qos: 2 }));
  assert.ok(await until(() => k.cmds.some((x) => x.cmd === 9), 5000), `SUBACK (${k.errors})`);
  // messages up to 1 KB: the send buffer (2 KB) and the in-flight window (16) fill; each goes when there is room
  for (let i = 0; i < 20; i++) {
    const p = opts({ topic: "mgts/ws/t", message: "m" + i + "-" + "x".repeat(i * 50), qos: 2 });
    if (!(await until(() => mg_mqtt_pub(k.c!, p) !== false, 10000))) {
      const st = k.c!.mqtt as any;
      const ws = (k.c!.proto as any)?.ws;
      assert.unreachable(`message ${i} not published in 10 s: ${JSON.stringify({ in_flight: st.s.n, in: st.s.in_n, held: st.held, dead: st.dead, send: k.c!.send.len, recv: k.c!.recv.len, full: k.c!.is_full, closing: k.c!.is_closing, kept: ws?.asm, errors: k.errors, got: k.msgs.length })}`);
    }
  }
  assert.ok(await until(() => k.msgs.length === 20, 5000), `${k.msgs.length}`);
  assert.equal(k.msgs.map((x) => x.data.split("-")[0]), Array.from({ length: 20 }, (_, i) => "m" + i));
  assert.ok(k.c!.is_websocket);
});

test("MQTT over WebSocket, Mongoose's pattern: mg_ws_connect, mg_mqtt_login + mg_ws_wrap, mg_mqtt_parse on MG_EV_WS_MSG", async () => {
  const b = await broker();
  const m = mgr();
  const got: string[] = [];
  const mm = new mg_mqtt_message();
  mg_ws_connect(m, `ws://127.0.0.1:${b.ws_port}/mqtt`, (c: mg_connection, ev: number, d: any) => {
    if (ev === MG_EV_WS_OPEN) {
      const len = c.send.len;
      mg_mqtt_login(c, `ws://127.0.0.1:${b.ws_port}/mqtt`, opts({ client_id: "mgts-seed", topic: "mgts/seed/will", message: "goodbye" }));
      mg_ws_wrap(c, c.send.len - len, WEBSOCKET_OP_BINARY);
    } else if (ev === MG_EV_WS_MSG) {
      const wm = d as mg_ws_message;
      let ofs = wm.data.ofs;
      let left = wm.data.len;
      while (mg_mqtt_parse(wm.data.buf, left, c.is_mqtt5 ? 5 : 4, mm, ofs) === MQTT_OK) {
        if (mm.cmd === MQTT_CMD_CONNACK) {
          got.push("connack " + mm.ack);
          let len = c.send.len;
          mg_mqtt_sub(c, opts({ topic: "mgts/seed/t", qos: 1 }));
          len = mg_ws_wrap(c, c.send.len - len, WEBSOCKET_OP_BINARY);
          mg_mqtt_pub(c, opts({ topic: "mgts/seed/t", message: "hello", qos: 1 }));
          mg_ws_wrap(c, c.send.len - len, WEBSOCKET_OP_BINARY);
        } else if (mm.cmd === MQTT_CMD_PUBLISH) got.push(`${String(mm.topic)} ${String(mm.data)}`);
        ofs += mm.dgram.len;
        left -= mm.dgram.len;
      }
      wm.consumed = wm.data.len - left; // a packet cut across messages waits for the rest
    }
  }, null, "Sec-WebSocket-Protocol: mqtt\r\n");
  assert.ok(await until(() => got.includes("mgts/seed/t hello"), 5000), JSON.stringify(got));
  assert.equal(got[0], "connack 0");
});

test("MQTT over TLS (mqtts://) to mosquitto: the CA given on MG_EV_CONNECT; an untrusted CA fails; the mqtt app with --ca", async () => {
  const certs = make_certs();
  try {
    const b = await broker("", { cert: certs.file("server.pem"), key: certs.file("key.pem") });
    const m = mgr();
    const k = new MgClient();
    k.on_connect = (c) => mg_tls_init(c, { ca: certs.ca });
    k.on_open = (c) => mg_mqtt_sub(c, opts({ topic: "mgts/tls", qos: 1 }));
    k.c = mg_mqtt_connect(m, `mqtts://localhost:${b.tls_port}`, opts({ client_id: "mgts-tls", version: 5 }), k.handler, null);
    assert.ok(await until(() => k.cmds.some((x) => x.cmd === 9), 8000), `SUBACK over TLS (${k.errors})`);
    assert.ok(k.c!.is_tls);
    mg_mqtt_pub(k.c!, opts({ topic: "mgts/tls", message: "secret", qos: 1 }));
    assert.ok(await until(() => k.msgs.length === 1, 5000));
    assert.equal(k.msgs[0].data, "secret");
    // a CA that did not sign the broker's certificate: the handshake fails, nothing is sent
    const bad = new MgClient();
    bad.on_connect = (c) => mg_tls_init(c, { ca: certs.rogue_ca });
    bad.c = mg_mqtt_connect(m, `mqtts://localhost:${b.tls_port}`, opts({ client_id: "mgts-rogue" }), bad.handler, null);
    assert.ok(await until(() => bad.closed, 8000), "closed");
    assert.is(bad.opened, -1, "no CONNACK");
    assert.ok(bad.errors.length > 0, "an error");
    // the mqtt app over TLS
    const out = await sub(b, "mgts/#");
    const app = mqtt_app_start(m, { broker: `mqtts://localhost:${b.tls_port}`, ca: certs.ca });
    assert.ok(await until(() => out().includes("mgts/status online"), 8000), out());
    assert.ok(app.client!.c!.is_tls);
  } finally {
    certs.remove();
  }
});

test("the mqtt app end to end through mosquitto: online/offline status, mgts/in/# republished with QoS and retain", async () => {
  const b = await broker();
  const out = await sub(b, "mgts/#");
  const m = mgr();
  const app = mqtt_app_start(m, { broker: `mqtt://127.0.0.1:${b.port}`, keepalive: 10 });
  assert.ok(await until(() => out().includes("mgts/status online r=0"), 5000), out());
  for (const [t, msg, q, r] of [["led", "on", 2, false], ["a/b", "q1", 1, false], ["zero", "z", 0, false]] as [string, string, number, boolean][]) {
    await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(b.port), "-t", "mgts/in/" + t, "-m", msg, "-q", String(q), ...(r ? ["-r"] : [])]);
  }
  assert.ok(await until(() => ["led on r=0 q=2", "a/b q1 r=0 q=1", "zero z r=0 q=0"].every((x) => out().includes("mgts/out/" + x)), 5000), out());
  // a retained message arrives retained when the app subscribes (here: a second app), and keeps its flag
  await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(b.port), "-t", "mgts/in/kept", "-m", "r", "-q", "1", "-r"]);
  const app2 = mqtt_app_start(m, { broker: `mqtt://127.0.0.1:${b.port}`, version: 5 });
  assert.ok(await until(() => app2.republished > 0, 5000));
  const kept = await run("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(b.port), "-t", "mgts/out/kept", "-q", "2", "-C", "1", "-W", "3", "-F", "%p r=%r q=%q"]);
  assert.is(kept.out.trim(), "r r=1 q=1");
  // the app's socket dies: mosquitto publishes the will; it comes back by itself
  app.client!.c!.is_closing = true;
  assert.ok(await until(() => out().includes("mgts/status offline"), 5000), out());
  assert.ok(await until(() => app.client!.connected && app.connects === 2, 8000), "reconnected");
  await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(b.port), "-t", "mgts/in/after", "-m", "again", "-q", "1"]);
  assert.ok(await until(() => out().includes("mgts/out/after again"), 5000));
});

test("the mqtt app under a burst (3.1.1): 120 messages at QoS 0/1/2 up to 1920 bytes, all republished once; holding never deadlocks", async () => {
  // a broker that sends as fast as it can (no in-flight limit, no queue limit), so the app's receive
  // buffer fills behind held messages and the acknowledgements it waits for sit behind other packets
  const b = await broker("max_inflight_messages 0\nmax_queued_messages 0");
  const m = mgr();
  const app = mqtt_app_start(m, { broker: `mqtt://127.0.0.1:${b.port}` });
  assert.ok(await until(() => app.client!.connected, 5000));
  const out = new MgClient();
  out.c = mg_mqtt_connect(m, `mqtt://127.0.0.1:${b.port}`, opts({ client_id: "burst-out", version: 5 }), out.handler, null);
  out.on_open = (c) => mg_mqtt_sub(c, opts({ topic: "mgts/out/#", qos: 2, sub_options: 8 }));
  assert.ok(await until(() => out.cmds.some((x) => x.cmd === 9), 5000), "subscribed");
  const pub = new MgClient();
  const want: string[] = [];
  pub.on_open = () => {};
  pub.c = mg_mqtt_connect(m, `mqtt://127.0.0.1:${b.port}`, opts({ client_id: "burst-in" }), pub.handler, null);
  assert.ok(await until(() => pub.opened === 0, 5000));
  const sizes = [1, 100, 500, 1920];
  for (let round = 0; round < 10; round++) {
    for (const qos of [0, 1, 2]) {
      for (const size of sizes) {
        const topic = `mgts/in/r${round}/q${qos}/s${size}`;
        const p = opts({ topic, message: String.fromCharCode(97 + qos).repeat(size), qos, retain: size === 100 });
        assert.ok(await until(() => mg_mqtt_pub(pub.c!, p) !== false, 5000), "published " + topic);
        want.push(`mgts/out/r${round}/q${qos}/s${size} ${qos} false`); // live: a 3.1.1 broker clears retain on the way in
      }
    }
  }
  const got = () => out.msgs.map((x) => `${x.topic} ${x.qos} ${x.retain}`);
  assert.ok(await until(() => out.msgs.length >= want.length, 20000), `${out.msgs.length} of ${want.length} republished; ${JSON.stringify({ held: (app.client!.c?.mqtt as any)?.held, errors: out.errors })}`);
  assert.equal(got().sort(), want.sort(), "each once, with its QoS");
  assert.ok(out.msgs.every((x) => x.data.length === Number(x.topic.split("/s")[1])), "payloads whole");
  assert.is(app.connects, 1, "no reconnect on the way");
});

test.run();
