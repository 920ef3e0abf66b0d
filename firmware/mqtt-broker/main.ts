// The mqtt-broker app: a small MQTT 3.1.1/5 broker (src/mqtt_broker.ts) for
// the devices of a room, on a board or on the simulator.
//   npm start -- --app mqtt-broker --port 1883
//   mosquitto_sub -h 127.0.0.1 -p 1883 -t '#' -v              every message
//   mosquitto_pub -h 127.0.0.1 -p 1883 -t a/b -m hi -q 2 -r   a retained QoS 2 message
//   MQTT over WebSocket on the port + 1: ws://127.0.0.1:1884/mqtt
// Sizes and limits: src/config.ts (MG_MQTT_BROKER_*, MG_MQTT_MAX_INFLIGHT).
import {
  MG_EV_ACCEPT,
  MG_EV_CLOSE,
  MG_EV_HTTP_MSG,
  MG_EV_MQTT_CMD,
  MG_INFO,
  MQTT_CMD_CONNECT,
  mg_connection,
  mg_http_listen,
  mg_http_message,
  mg_http_reply,
  mg_mgr,
  mg_mgr_init,
  mg_mgr_run,
  mg_mqtt_broker,
  mg_mqtt_broker_listen,
  mg_mqtt_message,
  mg_mqtt_ws_upgrade,
} from "../../src/index.js";

export interface MqttBrokerOptions {
  /** MQTT over TCP; MQTT over WebSocket listens on port + 1 (path /mqtt). 0: both on free ports. */
  port: number;
  host?: string;
}

/** The app's state, handed to the handlers as fn_data. */
export class mqtt_broker_app {
  broker: mg_mqtt_broker | null = null;
}

function on_mqtt(c: mg_connection, ev: number, ev_data: any): void {
  if (ev === MG_EV_MQTT_CMD) {
    const m = ev_data as mg_mqtt_message;
    if (m.cmd === MQTT_CMD_CONNECT) {
      c.label = String(m.client_id);
      MG_INFO("mqtt-broker: %lu connected: %s (MQTT %d)", c.id, c.label, m.version);
    }
  } else if (ev === MG_EV_CLOSE && c.label !== "") {
    MG_INFO("mqtt-broker: %lu closed: %s", c.id, c.label);
  }
}

const MQTT_PATH = "/mqtt";

function on_http(c: mg_connection, ev: number, ev_data: any, app: mqtt_broker_app): void {
  if (ev === MG_EV_ACCEPT) return;
  if (ev === MG_EV_HTTP_MSG) {
    const hm = ev_data as mg_http_message;
    if (hm.uri.len === MQTT_PATH.length && String(hm.uri) === MQTT_PATH) mg_mqtt_ws_upgrade(c, hm, app.broker);
    else mg_http_reply(c, 404, "", "MQTT over WebSocket is at %s\n", MQTT_PATH);
  } else on_mqtt(c, ev, ev_data);
}

/** Starts the broker: MQTT on port, MQTT over WebSocket on port + 1. */
export function main(opts: MqttBrokerOptions): mg_mgr {
  const mgr = new mg_mgr();
  mg_mgr_init(mgr);
  const app = new mqtt_broker_app();
  const broker = new mg_mqtt_broker(mgr);
  app.broker = broker;
  const host = opts.host ?? "0.0.0.0";
  const l = mg_mqtt_broker_listen(mgr, `mqtt://${host}:${opts.port}`, broker, on_mqtt, app);
  const w = mg_http_listen(mgr, `http://${host}:${opts.port === 0 ? 0 : opts.port + 1}`, on_http as any, app);
  if (l === null || w === null) throw new Error(`mqtt-broker: cannot listen on ports ${opts.port}, ${opts.port + 1}`);
  MG_INFO("mqtt-broker: MQTT on %s:%d, MQTT over WebSocket on ws://%s:%d%s", host, l.loc.port, host, w.loc.port, MQTT_PATH);
  mg_mgr_run(mgr, 1000);
  return mgr;
}
