// The mgts broker (the mqtt-broker app, hal/node) with real clients over
// loopback: the suite of test/mqtt_broker_suite.ts (MQTT.js at protocol
// levels 4 and 5 over TCP and WebSocket, mosquitto_pub/mosquitto_sub: QoS
// 0/1/2, wildcards, retained messages, wills). Node only; the same suite
// runs against the lin build in test/mqtt.moddable.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mg_hal_default, mg_mgr, mg_mgr_free } from "../src/net.js";
import { mg_hal_node } from "../hal/node.js";
import { main as broker_main } from "../firmware/mqtt-broker/main.js";
import { createConnection } from "node:net";
import { free_port, until } from "./mqtt_peers.js";
import { mqtt_broker_suite } from "./mqtt_broker_suite.js";

const live: { mgrs: mg_mgr[] } = { mgrs: [] };

/** The broker app on a free port (MQTT over WebSocket on the next one). */
async function broker(): Promise<number> {
  mg_hal_default(mg_hal_node());
  for (let i = 0; i < 5; i++) {
    const port = await free_port();
    try {
      live.mgrs.push(broker_main({ port, host: "127.0.0.1" }));
      // hal/node binds asynchronously: wait until both ports take connections
      for (const p of [port, port + 1]) assert.ok(await listening(p), `listening on ${p}`);
      return port;
    } catch {
      // the next port was taken: another pair
    }
  }
  throw new Error("no ports for the broker");
}

/** Whether something accepts TCP connections on port within ms. */
async function listening(port: number, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((done) => {
      const s = createConnection(port, "127.0.0.1");
      s.on("connect", () => {
        s.destroy();
        done(true);
      });
      s.on("error", () => done(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

mqtt_broker_suite(test, async () => {
  const port = await broker();
  return { port, ws_port: port + 1 };
});
// after the suite's own (its clients go first)
test.after.each(() => {
  for (const m of live.mgrs) mg_mgr_free(m);
  live.mgrs = [];
});

test.run();
