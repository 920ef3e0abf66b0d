// The mgts broker (the mqtt-broker app) with real clients over loopback,
// written once and run against every runtime: the host simulator
// (test/mqtt-broker-interop.node.test.ts, the app on hal/node in this
// process) and Moddable's lin build (test/mqtt.moddable.test.ts, the app as
// mcconfig built it, under mcsim). The clients: MQTT.js (npm mqtt) at
// protocol levels 4 and 5 over TCP and WebSocket, and Debian's
// mosquitto_pub/mosquitto_sub: QoS 0/1/2, wildcards, retained messages,
// wills, v5 properties. Each test asks for a fresh broker (no retained
// messages or sessions from the one before); the caller stops it.
//
// Sizes are chosen for the smallest target: the lin build has the boards'
// pool of 8 connections, the broker's two listeners included.
import type { Test } from "uvu";
import * as assert from "uvu/assert";
import mqtt from "mqtt";
import type { MqttClient } from "mqtt";
import { run, start, until } from "./mqtt_peers.js";

export interface mqtt_broker_target {
  /** MQTT over TCP. */
  port: number;
  /** MQTT over WebSocket (path /mqtt). */
  ws_port: number;
}

const live: { clients: MqttClient[]; procs: { stop: () => void }[] } = { clients: [], procs: [] };

/** An MQTT.js client, connected. */
async function js(url: string, o: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...o });
  live.clients.push(c);
  await new Promise<void>((ok, bad) => {
    c.once("connect", () => ok());
    c.once("error", bad);
  });
  return c;
}

interface Got {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}
function collect(c: MqttClient): Got[] {
  const got: Got[] = [];
  c.on("message", (topic, payload, packet) => got.push({ topic, payload: String(payload), qos: packet.qos, retain: packet.retain }));
  return got;
}

/** Adds the broker tests to t; fresh() starts a broker of the target's and resolves with its ports. */
export function mqtt_broker_suite(t: Test, fresh: () => Promise<mqtt_broker_target>): void {
  t.after.each(() => {
    for (const c of live.clients) c.end(true);
    for (const p of live.procs) p.stop();
    live.clients = [];
    live.procs = [];
  });

  for (const v of [4, 5] as const) {
    for (const ws of [false, true]) {
      t(`MQTT.js ${ws ? "over WebSocket" : "over TCP"}, MQTT ${v}: QoS 0/1/2, wildcards, retained, will`, async () => {
        const b = await fresh();
        const url = ws ? `ws://127.0.0.1:${b.ws_port}/mqtt` : `mqtt://127.0.0.1:${b.port}`;
        const sub = await js(url, { protocolVersion: v, clientId: "js-sub" });
        const got = collect(sub);
        const granted = await sub.subscribeAsync({ "a/+/c": { qos: 2 }, "b/#": { qos: 1 }, "#": { qos: 0 } });
        assert.equal(granted.map((g) => g.qos), [2, 1, 0]);
        const pub = await js(url, { protocolVersion: v, clientId: "js-pub", will: { topic: "will/js", payload: Buffer.from("gone"), qos: 1, retain: false } });
        await pub.publishAsync("a/x/c", "two", { qos: 2 });
        await pub.publishAsync("b/y/z", "one", { qos: 1 });
        await pub.publishAsync("zero", "none", { qos: 0 });
        await pub.publishAsync("ret/a", "kept", { qos: 1, retain: true });
        assert.ok(await until(() => got.length >= 4, 5000), JSON.stringify(got));
        assert.equal(
          got.map((g) => [g.topic, g.payload, g.qos]),
          [["a/x/c", "two", 2], ["b/y/z", "one", 1], ["zero", "none", 0], ["ret/a", "kept", 0]],
          "one delivery each, at the highest QoS of the matching subscriptions",
        );
        // a new subscriber gets the retained message with the flag
        const late = await js(url, { protocolVersion: v, clientId: "js-late" });
        const lg = collect(late);
        await late.subscribeAsync("ret/#", { qos: 1 });
        assert.ok(await until(() => lg.length === 1, 5000));
        assert.equal(lg[0], { topic: "ret/a", payload: "kept", qos: 1, retain: true });
        // the publisher's link dies without DISCONNECT: its will goes
        (pub as any).stream.destroy();
        assert.ok(await until(() => got.some((g) => g.topic === "will/js"), 5000), "will");
        assert.equal(got.find((g) => g.topic === "will/js")!.payload, "gone");
      });
    }
  }

  t("MQTT.js v5: properties pass through the broker (user properties, content type, correlation data, response topic), topic aliases, no local", async () => {
    const url = `mqtt://127.0.0.1:${(await fresh()).port}`;
    const sub = await js(url, { protocolVersion: 5, clientId: "p-sub" });
    const got: any[] = [];
    sub.on("message", (topic, payload, packet) => got.push({ topic, payload: String(payload), props: packet.properties }));
    await sub.subscribeAsync("p/#", { qos: 1, properties: { subscriptionIdentifier: 42 } } as any);
    await sub.subscribeAsync("self", { qos: 0, nl: true });
    const pub = await js(url, { protocolVersion: 5, clientId: "p-pub", properties: { topicAliasMaximum: 4 } });
    await pub.publishAsync("p/1", "x", {
      qos: 1,
      properties: { userProperties: { a: "1" }, contentType: "text/plain", correlationData: Buffer.from("cd"), responseTopic: "r/1", topicAlias: 2 },
    });
    await pub.publishAsync("", "y", { qos: 1, properties: { topicAlias: 2 } });
    await sub.publishAsync("self", "mine");
    await pub.publishAsync("p/end", "z");
    assert.ok(await until(() => got.length >= 3, 5000), JSON.stringify(got));
    assert.equal(got[0].topic, "p/1");
    assert.equal({ ...got[0].props.userProperties }, { a: "1" });
    assert.equal(got[0].props.contentType, "text/plain");
    assert.equal(String(got[0].props.correlationData), "cd");
    assert.equal(got[0].props.responseTopic, "r/1");
    assert.equal(got[0].props.subscriptionIdentifier, 42);
    assert.equal(got[1].topic, "p/1", "the alias resolved");
    assert.not.ok(got.some((g) => g.topic === "self"), "no local");
  });

  t("mosquitto_pub and mosquitto_sub with the mgts broker: all QoS, wildcards, retained, a will", async () => {
    const P = ["-h", "127.0.0.1", "-p", String((await fresh()).port)];
    const s = start("mosquitto_sub", [...P, "-t", "s/+/x", "-t", "w/#", "-q", "2", "-v", "-F", "%t %p q=%q r=%r"]);
    live.procs.push(s);
    // subscribed when a marker arrives
    for (let i = 0; i < 30 && !s.out().includes("s/m/x"); i++) {
      await run("mosquitto_pub", [...P, "-t", "s/m/x", "-m", "marker"]);
      await until(() => s.out().includes("s/m/x"), 200);
    }
    for (const q of [0, 1, 2]) {
      const r = await run("mosquitto_pub", [...P, "-t", `s/q${q}/x`, "-m", `m${q}`, "-q", String(q)]);
      assert.is(r.code, 0, r.out);
    }
    await run("mosquitto_pub", [...P, "-t", "s/no/y", "-m", "not matched"]);
    assert.ok(await until(() => s.out().includes("s/q2/x m2"), 5000), s.out());
    for (const q of [0, 1, 2]) assert.match(s.out(), new RegExp(`s/q${q}/x m${q} q=${q} r=0`));
    assert.not.ok(s.out().includes("not matched"));
    // retained, v5 client
    await run("mosquitto_pub", [...P, "-V", "mqttv5", "-t", "r/1", "-m", "kept", "-q", "1", "-r"]);
    const r = await run("mosquitto_sub", [...P, "-V", "mqttv5", "-t", "r/#", "-q", "1", "-C", "1", "-W", "3", "-F", "%t %p r=%r q=%q"]);
    assert.is(r.out.trim(), "r/1 kept r=1 q=1");
    // a will: a mosquitto_sub with a will, killed
    const w = start("mosquitto_sub", [...P, "-t", "w-ready", "--will-topic", "w/dead", "--will-payload", "bye", "--will-qos", "1", "-k", "60"]);
    live.procs.push(w);
    for (let i = 0; i < 30 && !w.out().includes("here"); i++) {
      await run("mosquitto_pub", [...P, "-t", "w-ready", "-m", "here"]);
      await until(() => w.out().includes("here"), 200);
    }
    assert.ok(w.out().includes("here"), "the will's client is connected");
    w.proc.kill("SIGKILL");
    assert.ok(await until(() => s.out().includes("w/dead bye q=1"), 5000), s.out());
  });
}
