// The mqtt app: a device on an MQTT broker. It connects (client id
// mgts-<random>, will "mgts/status" = "offline", retained), publishes
// "online" there (retained), subscribes to "mgts/in/#" at QoS 2 and
// republishes every message to "mgts/out/<the rest of the topic>" with the
// payload, QoS and retain flag it arrived with. It reconnects by itself,
// with backoff (mg_mqtt_client_start), and pings to keep the link alive.
//   npm start -- --app mqtt --broker mqtt://127.0.0.1:1883      (ws://host:port/mqtt works too)
//   mosquitto_sub -h 127.0.0.1 -t 'mgts/#' -v
//   mosquitto_pub -h 127.0.0.1 -t mgts/in/led -m on -q 2        → mgts/out/led on
// The same app runs on the device: main({broker: ...}) from the device
// entry, with the settings given to mcconfig (broker=...).
import {
  MG_EV_CLOSE,
  MG_EV_CONNECT,
  MG_EV_ERROR,
  MG_EV_MQTT_MSG,
  MG_EV_MQTT_OPEN,
  MG_INFO,
  MG_MQTT_TOPIC_MAX,
  mg_connection,
  mg_mgr,
  mg_mgr_init,
  mg_mgr_run,
  mg_mqtt_client,
  mg_mqtt_client_start,
  mg_mqtt_message,
  mg_mqtt_opts,
  mg_mqtt_prop,
  mg_mqtt_pub,
  mg_mqtt_sub,
  mg_random_str,
  mg_str,
  mg_str_n,
  mg_str_set,
  mg_tls_init,
  mg_tls_opts,
  MQTT_PROP_SESSION_EXPIRY_INTERVAL,
} from "../../src/index.js";

export interface MqttAppOptions {
  /** mqtt://host:port, or ws://host:port/path for MQTT over WebSocket; mqtts://, wss:// with TLS. */
  broker: string;
  /** TLS: the CA to trust (PEM), else the platform's roots. */
  ca?: string;
  /** Default: client_id_prefix and 8 random characters (a new id each boot). */
  client_id?: string;
  /** What a random client id starts with (default "mgts-"). */
  client_id_prefix?: string;
  /** 4 (MQTT 3.1.1, the default) or 5. */
  version?: number;
  /** Seconds (default 60). */
  keepalive?: number;
  user?: string;
  pass?: string;
  /** Topic prefix (default "mgts"): <prefix>/status, <prefix>/in/#, <prefix>/out/... */
  prefix?: string;
  /**
   * Keep the session on the broker between connections (clean session off;
   * v5: for an hour), so in-flight QoS 1/2 messages are resent after a
   * reconnect. Default false: a fresh session each time, subscriptions made
   * again on every connect.
   */
  persistent?: boolean;
}

/** The app's state: made once in main, handed to the handler as fn_data. */
export class mqtt_app {
  client: mg_mqtt_client | null = null;
  connect = new mg_mqtt_opts();
  pub = new mg_mqtt_opts();
  sub = new mg_mqtt_opts();
  status = "";
  tls: mg_tls_opts | null = null;
  in_prefix = mg_str("mgts/in/");
  out_topic = new Uint8Array(MG_MQTT_TOPIC_MAX + 16);
  out_len = 0; // the "<prefix>/out/" part of out_topic
  out_view = mg_str();
  /** Messages received on <prefix>/in/#, and republished. */
  received = 0;
  republished = 0;
  connects = 0;
}

/** Whether the topic starts with the prefix bytes. */
function starts_with(t: mg_str, p: mg_str): boolean {
  if (t.len < p.len) return false;
  for (let i = 0; i < p.len; i++) if (t.buf[t.ofs + i] !== p.buf[p.ofs + i]) return false;
  return true;
}

function handler(c: mg_connection, ev: number, ev_data: any, app: mqtt_app): void {
  if (ev === MG_EV_CONNECT) {
    if (c.is_tls && app.tls !== null) mg_tls_init(c, app.tls);
  } else if (ev === MG_EV_MQTT_OPEN) {
    const code = ev_data as number;
    if (code !== 0) {
      MG_INFO("mqtt: the broker refused us (%d)", code);
      return;
    }
    app.connects++;
    MG_INFO("mqtt: connected to %s as %s", app.client!.url, String(app.connect.client_id));
    const p = app.pub;
    p.topic = app.status;
    p.message = "online";
    p.qos = 1;
    p.retain = true;
    mg_mqtt_pub(c, p);
    const s = app.sub;
    s.qos = 2;
    // v5: retain as published, so a live message keeps its retain flag (a 3.1.1 broker clears it on
    // live messages; only the retained ones sent on subscribing arrive with it)
    s.sub_options = 8;
    mg_mqtt_sub(c, s);
  } else if (ev === MG_EV_MQTT_MSG) {
    const m = ev_data as mg_mqtt_message;
    if (!starts_with(m.topic, app.in_prefix)) return;
    // <prefix>/out/ + the rest of the topic, built in the app's buffer
    const rest = m.topic.len - app.in_prefix.len;
    if (app.out_len + rest > app.out_topic.length) return; // longer than MG_MQTT_TOPIC_MAX: not republished
    for (let i = 0; i < rest; i++) app.out_topic[app.out_len + i] = m.topic.buf[m.topic.ofs + app.in_prefix.len + i];
    const p = app.pub;
    p.topic = mg_str_set(app.out_view, app.out_topic, 0, app.out_len + rest);
    p.message = m.data;
    p.qos = m.qos;
    p.retain = m.retain;
    if (mg_mqtt_pub(c, p) === false) {
      // the send buffer or the in-flight window is full: have the message offered again later
      m.hold = true;
      return;
    }
    app.received++;
    app.republished++;
  } else if (ev === MG_EV_ERROR) {
    MG_INFO("mqtt: %s", ev_data as string);
  } else if (ev === MG_EV_CLOSE) {
    MG_INFO("mqtt: disconnected from %s", app.client!.url);
  }
}

/** Starts the app on a manager the caller made (tests, or an entry with several apps). */
export function mqtt_app_start(mgr: mg_mgr, opts: MqttAppOptions): mqtt_app {
  const app = new mqtt_app();
  const prefix = opts.prefix ?? "mgts";
  let id = opts.client_id ?? "";
  if (id === "") {
    const r = new Uint8Array(8);
    mg_random_str(r, 0, 8);
    id = (opts.client_id_prefix ?? "mgts-") + String(mg_str_n(r, 0, 8));
  }
  app.status = prefix + "/status";
  app.in_prefix = mg_str(prefix + "/in/");
  const out = mg_str(prefix + "/out/");
  app.out_topic.set(out.buf.subarray(out.ofs, out.ofs + out.len), 0);
  app.out_len = out.len;
  const o = app.connect;
  o.client_id = id;
  o.version = opts.version ?? 4;
  o.keepalive = opts.keepalive ?? 60;
  o.user = opts.user ?? "";
  o.pass = opts.pass ?? "";
  o.topic = app.status; // the will
  o.message = "offline";
  o.qos = 1;
  o.retain = true;
  o.clean = !(opts.persistent ?? false);
  if (opts.persistent && o.version === 5) {
    const e = new mg_mqtt_prop();
    e.id = MQTT_PROP_SESSION_EXPIRY_INTERVAL;
    e.iv = 3600;
    o.props = [e];
  }
  app.sub.topic = prefix + "/in/#";
  if (opts.ca) app.tls = { ca: opts.ca };
  app.client = mg_mqtt_client_start(mgr, opts.broker, o, handler as any, app);
  return app;
}

/** Starts the app on its own manager, run by the platform's loop. */
export function main(opts: MqttAppOptions): mg_mgr {
  if (!opts.broker) throw new Error("mqtt: no broker (--broker mqtt://host:port)");
  const v = opts.version ?? 4;
  if (v !== 4 && v !== 5) throw new Error("mqtt: version " + v + " (4 or 5)");
  const k = opts.keepalive ?? 60;
  if (!(k >= 0 && k <= 65535 && Math.floor(k) === k)) throw new Error("mqtt: keepalive " + k + " (0..65535 s)");
  const mgr = new mg_mgr();
  mg_mgr_init(mgr);
  mqtt_app_start(mgr, opts);
  mg_mgr_run(mgr, 1000);
  return mgr;
}
