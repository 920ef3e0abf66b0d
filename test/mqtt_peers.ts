// Real MQTT peers for the interop suites (not a suite itself): a mosquitto
// of the test's own on ephemeral loopback ports, mosquitto_pub/_sub runs,
// and an mgts client or broker on real sockets (hal/node). Every process is
// stopped by its pid; every wait has a deadline.
import { ChildProcess, spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mg_hal_node } from "../hal/node.js";
import { MG_EV_CLOSE, MG_EV_CONNECT, MG_EV_ERROR, MG_EV_MQTT_CMD, MG_EV_MQTT_MSG, MG_EV_MQTT_OPEN, mg_connection, mg_mgr, mg_mgr_free, mg_mgr_init, mg_mgr_run } from "../src/net.js";
import { mg_mqtt_connect, mg_mqtt_opts } from "../src/mqtt.js";
import { mg_mqtt_message } from "../src/mqtt_packet.js";
import { until } from "./hal_suite.js";

export { until };

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function free_port(): Promise<number> {
  return new Promise((ok, bad) => {
    const s = createServer();
    s.on("error", bad);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => ok(p));
    });
  });
}

/** The mosquitto binary: Debian puts it in /usr/sbin, which a user's PATH may not hold. */
export const MOSQUITTO = existsSync("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";

export interface Mosquitto {
  port: number;
  ws_port: number;
  /** With tls given to start_mosquitto: an MQTT over TLS listener. */
  tls_port: number;
  proc: ChildProcess;
  log: string[];
  stop(): Promise<void>;
}

/** Starts a mosquitto with a temporary config: MQTT and MQTT over WebSocket on loopback, anonymous, no persistence. */
export async function start_mosquitto(extra = "", tls: { cert: string; key: string } | null = null): Promise<Mosquitto> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await free_port();
    const ws_port = await free_port();
    const tls_port = tls !== null ? await free_port() : 0;
    const dir = mkdtempSync(join(tmpdir(), "mgts-mosq-"));
    // started as root, mosquitto reads its certificate after dropping to its own user: copies it can read
    let tls_listener = "";
    if (tls !== null) {
      chmodSync(dir, 0o755);
      copyFileSync(tls.cert, join(dir, "cert.pem"));
      copyFileSync(tls.key, join(dir, "key.pem"));
      chmodSync(join(dir, "key.pem"), 0o644);
      tls_listener = `listener ${tls_port} 127.0.0.1\ncertfile ${join(dir, "cert.pem")}\nkeyfile ${join(dir, "key.pem")}\n`;
    }
    const conf = join(dir, "mosquitto.conf");
    writeFileSync(conf, `per_listener_settings false\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n${extra}\nlistener ${port} 127.0.0.1\nlistener ${ws_port} 127.0.0.1\nprotocol websockets\n${tls_listener}`);
    const proc = spawn(MOSQUITTO, ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
    const log: string[] = [];
    let exited = false;
    proc.on("exit", () => (exited = true));
    proc.stdout!.on("data", (d) => log.push(String(d)));
    proc.stderr!.on("data", (d) => log.push(String(d)));
    const up = await until(() => exited || log.join("").includes("running"), 5000);
    if (up && !exited) {
      return {
        port,
        ws_port,
        tls_port,
        proc,
        log,
        stop: async () => {
          if (!exited) {
            proc.kill("SIGTERM");
            await until(() => exited, 3000);
            if (!exited) proc.kill("SIGKILL");
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    if (!exited) proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error("mosquitto did not start");
}

/** Runs a command to its end (or kills it after ms); resolves with its output and exit code. */
export function run(cmd: string, args: string[], ms = 10000): Promise<{ out: string; code: number | null }> {
  return new Promise((ok) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout!.on("data", (d) => (out += d));
    p.stderr!.on("data", (d) => (out += d));
    const t = setTimeout(() => p.kill("SIGKILL"), ms);
    p.on("exit", (code) => {
      clearTimeout(t);
      ok({ out, code });
    });
  });
}

/** A long-running command (mosquitto_sub): its output so far, and a stop. */
export function start(cmd: string, args: string[]): { out: () => string; proc: ChildProcess; done: () => boolean; stop: () => void } {
  const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let exited = false;
  p.stdout!.on("data", (d) => (out += d));
  p.stderr!.on("data", (d) => (out += d));
  p.on("exit", () => (exited = true));
  return { out: () => out, proc: p, done: () => exited, stop: () => (exited ? undefined : void p.kill("SIGKILL")) };
}

/** A manager on real sockets, run by Node's loop. */
export function node_mgr(): mg_mgr {
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, mg_hal_node());
  mg_mgr_run(mgr, 20);
  return mgr;
}

/** An mgts client and what it saw. */
export class MgClient {
  c: mg_connection | null = null;
  opened = -1;
  closed = false;
  errors: string[] = [];
  msgs: { topic: string; data: string; qos: number; retain: boolean }[] = [];
  cmds: { cmd: number; id: number; ack: number }[] = [];
  on_open: ((c: mg_connection) => void) | null = null;
  on_connect: ((c: mg_connection) => void) | null = null;
  handler = (c: mg_connection, ev: number, d: any): void => {
    if (ev === MG_EV_CONNECT && this.on_connect !== null) this.on_connect(c);
    else if (ev === MG_EV_MQTT_OPEN) {
      this.opened = d as number;
      if (this.on_open !== null) this.on_open(c);
    } else if (ev === MG_EV_MQTT_MSG) {
      const m = d as mg_mqtt_message;
      this.msgs.push({ topic: String(m.topic), data: String(m.data), qos: m.qos, retain: m.retain });
    } else if (ev === MG_EV_MQTT_CMD) {
      const m = d as mg_mqtt_message;
      this.cmds.push({ cmd: m.cmd, id: m.id, ack: m.ack });
    } else if (ev === MG_EV_ERROR) this.errors.push(d as string);
    else if (ev === MG_EV_CLOSE) this.closed = true;
  };
}

export function mg_client(mgr: mg_mgr, url: string, opts: Partial<mg_mqtt_opts>): MgClient {
  const k = new MgClient();
  const o = Object.assign(new mg_mqtt_opts(), opts);
  k.c = mg_mqtt_connect(mgr, url, o, k.handler, null);
  return k;
}

export function opts(o: Partial<mg_mqtt_opts>): mg_mqtt_opts {
  return Object.assign(new mg_mqtt_opts(), o);
}

export function free_mgr(mgr: mg_mgr): void {
  mg_mgr_free(mgr);
}
