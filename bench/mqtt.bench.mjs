// MQTT (bench/mqtt_xs.ts):
//  1. XS heap slots and XS compute (the worker's metering, a deterministic
//     count of work) per message, after warm-up: the client publishing
//     (QoS 0, QoS 1 with its PUBACK), the client receiving (QoS 0, QoS 1
//     with the PUBACK it sends), and the broker forwarding from one client
//     to another (QoS 0, QoS 1). Goal for the slots: 0.
//  2. The same paths on V8, messages/s through the mock network.
//  3. Over real loopback: the mgts broker (the mqtt-broker app, in its own
//     process) against Debian's mosquitto, with the same clients (one raw
//     socket publisher written here, one or four mosquitto_sub subscribers;
//     QoS 0 and QoS 1), interleaved rounds, medians, ratio.
import net from "node:net";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XS_PRELUDE, median, xs_bundle, xs_run } from "../tools/xs.mjs";
import * as U from "../build/test/mqtt_util.js";

const N = 5000;
const KINDS = ["base", "out0", "out1", "in0", "in1", "broker0", "broker1"];
const NAMES = {
  base: "no MQTT: the same bytes into a plain TCP handler (the mock's and the core's share)",
  out0: "client publishes, QoS 0",
  out1: "client publishes, QoS 1 (+ PUBACK in)",
  in0: "client receives, QoS 0",
  in1: "client receives, QoS 1 (+ PUBACK out)",
  broker0: "broker forwards, QoS 0",
  broker1: "broker forwards, QoS 1 (PUBACK both ways)",
};

/** Slots and compute per message on XS: run(0) measures what the evaluation itself costs, subtracted. */
async function xs_figures(code, kind) {
  const r = await xs_run([XS_PRELUDE, code, `mgts_xs.setup(${JSON.stringify(kind)}); mgts_xs.run(300);`, "gc();", "mgts_xs.run(0);", "gc();", `mgts_xs.run(${N});`, 'print("errors " + mgts_xs.errors());'], 300000);
  if (r.why || r.results.some((x) => !x.ok)) throw new Error(`XS ${kind}: ${r.why ?? ""} ${JSON.stringify(r.results.filter((x) => !x.ok))}`);
  const m = r.results.map((x) => x.meters);
  return {
    slots: (m[6].currentHeapCount - m[5].currentHeapCount - (m[4].currentHeapCount - m[3].currentHeapCount)) / N,
    compute: Math.round((m[6].compute - m[4].compute) / N),
    errors: Number(/errors (\d+)/.exec(r.out)[1]),
  };
}

async function v8_figures(kind) {
  const m = await import(`../build/bench/mqtt_xs.js?kind=${kind}`);
  m.setup(kind);
  m.run(300);
  const t0 = performance.now();
  m.run(N * 4);
  return { rps: ((N * 4) / (performance.now() - t0)) * 1000, errors: m.errors() };
}

// --- loopback: a load generator of raw sockets ---------------------------------------

// the packets, from the tests' own encoder (test/mqtt_util.ts)
const CONNECT = (id) => Buffer.from(U.connect({ id, ka: 60 }));
const SUBSCRIBE = (qos) => Buffer.from(U.subscribe(1, [["bench/t", qos]]));
const PAYLOAD = "x".repeat(64);
function publish(qos, id) {
  return Buffer.from(U.publish({ topic: "bench/t", payload: PAYLOAD, qos, id }));
}

/** A raw MQTT connection: on_packet(b0, body) for each packet. */
function conn(port, id, on_packet) {
  return new Promise((ok, bad) => {
    const s = net.connect(port, "127.0.0.1");
    s.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let acked = false;
    s.on("error", bad);
    s.on("connect", () => s.write(CONNECT(id)));
    s.on("data", (d) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      let i = 0;
      for (;;) {
        if (i + 2 > buf.length) break;
        let n = 0;
        let mul = 1;
        let k = i + 1;
        let ok2 = true;
        for (;;) {
          if (k >= buf.length) {
            ok2 = false;
            break;
          }
          const c = buf[k++];
          n += (c & 127) * mul;
          mul *= 128;
          if ((c & 128) === 0) break;
        }
        if (!ok2 || k + n > buf.length) break;
        const b0 = buf[i];
        if (!acked && b0 >> 4 === 2) {
          acked = true;
          ok(s);
        } else on_packet(b0, buf.subarray(k, k + n), s);
        i = k + n;
      }
      buf = i === buf.length ? Buffer.alloc(0) : buf.subarray(i);
    });
  });
}

/**
 * One run: subs mosquitto_sub processes (Debian's C client) subscribed at
 * qos, one raw-socket publisher sending n messages (QoS 0 pipelined, QoS 1
 * with 16 in flight); messages/s delivered, from the first publish to the
 * last subscriber's last message. Each subscriber first gets a retained
 * marker, so the publisher starts once all are subscribed.
 */
async function load(port, qos, n, subs) {
  const P = ["-h", "127.0.0.1", "-p", String(port)];
  await new Promise((r) => spawn("mosquitto_pub", [...P, "-t", "bench/ready", "-m", "r", "-r", "-q", "1"], { stdio: "ignore" }).on("exit", r));
  const lines = new Array(subs).fill(0);
  const procs = [];
  let all_done;
  const done = new Promise((r) => (all_done = r));
  let finished = 0;
  let done_at = 0;
  for (let k = 0; k < subs; k++) {
    const p = spawn("mosquitto_sub", [...P, "-t", "bench/ready", "-t", "bench/t", "-q", String(qos), "-C", String(n + 1), "-F", "%t"], { stdio: ["ignore", "pipe", "ignore"] });
    p.stdout.on("data", (d) => {
      for (let i = 0; i < d.length; i++) if (d[i] === 10) lines[k]++;
    });
    p.on("exit", () => {
      if (++finished === subs) {
        done_at = performance.now();
        all_done();
      }
    });
    procs.push(p);
  }
  const ready = Date.now() + 10000;
  while (lines.some((x) => x === 0) && Date.now() < ready) await new Promise((r) => setTimeout(r, 5));
  let in_flight = 0;
  let sent = 0;
  let pump = null;
  const pub = await conn(port, `pub-${Math.random()}`, (b0) => {
    if (b0 >> 4 === 4) {
      in_flight--;
      pump();
    }
  });
  const t0 = performance.now();
  const pre0 = publish(0, 0);
  pump = () => {
    if (qos === 0) {
      // in chunks, respecting the socket's back-pressure
      while (sent < n) {
        const k = Math.min(500, n - sent);
        const chunk = Buffer.concat(new Array(k).fill(pre0));
        sent += k;
        if (!pub.write(chunk)) {
          pub.once("drain", pump);
          return;
        }
      }
      return;
    }
    while (sent < n && in_flight < 16) {
      sent++;
      in_flight++;
      pub.write(publish(1, (sent % 65535) + 1));
    }
  };
  pump();
  const timeout = new Promise((r) => setTimeout(r, 60000, "timeout"));
  const r = await Promise.race([done, timeout]);
  pub.destroy();
  for (const p of procs) p.kill("SIGKILL");
  const got = lines.reduce((a, x) => a + x - 1, 0);
  if (r === "timeout") return { rate: 0, lost: n * subs - got };
  return { rate: ((n * subs) / (done_at - t0)) * 1000, lost: 0 };
}

async function listening(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((done) => {
      const s = net.connect(port, "127.0.0.1");
      s.on("connect", () => {
        s.destroy();
        done(true);
      });
      s.on("error", () => done(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on ${port}`);
}

async function free_port() {
  return new Promise((ok) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => ok(p));
    });
  });
}

async function start_mgts() {
  const port = await free_port();
  const script = `
    const core = await import(${JSON.stringify(new URL("../build/src/index.js", import.meta.url).href)});
    const { mg_hal_node } = await import(${JSON.stringify(new URL("../build/hal/node.js", import.meta.url).href)});
    const { main } = await import(${JSON.stringify(new URL("../build/firmware/mqtt-broker/main.js", import.meta.url).href)});
    core.mg_hal_default(mg_hal_node());
    core.mg_log_set(core.MG_LL_ERROR);
    main({ port: ${port}, host: "127.0.0.1" });`;
  const proc = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "inherit" });
  await listening(port);
  return { port, stop: () => proc.kill("SIGKILL") };
}

async function start_mosquitto() {
  const port = await free_port();
  const dir = mkdtempSync(join(tmpdir(), "mgts-bench-"));
  // max_queued_messages 0: no limit. With its default (1000) mosquitto drops QoS 1 messages
  // for a subscriber that lags behind the publisher; mgts holds the publisher back instead.
  writeFileSync(join(dir, "m.conf"), `allow_anonymous true\npersistence false\nlog_dest none\nmax_queued_messages 0\nlistener ${port} 127.0.0.1\n`);
  const proc = spawn(existsSync("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto", ["-c", join(dir, "m.conf")], { stdio: "ignore" });
  await listening(port);
  return {
    port,
    stop: () => {
      proc.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function loopback_figures() {
  const mg = await start_mgts();
  const mq = await start_mosquitto();
  const cases = [
    { qos: 0, subs: 1, n: 20000 },
    { qos: 0, subs: 4, n: 10000 },
    { qos: 1, subs: 1, n: 10000 },
  ];
  const out = [];
  try {
    for (const c of cases) {
      await load(mg.port, c.qos, 1000, c.subs); // warm-up
      await load(mq.port, c.qos, 1000, c.subs);
      const rounds = [];
      for (let i = 0; i < 3; i++) rounds.push({ mg: await load(mg.port, c.qos, c.n, c.subs), mq: await load(mq.port, c.qos, c.n, c.subs) });
      out.push({ ...c, rounds, mg: median(rounds.map((r) => r.mg.rate)), mq: median(rounds.map((r) => r.mq.rate)), lost: rounds.reduce((a, r) => a + r.mg.lost + r.mq.lost, 0) });
    }
  } finally {
    mg.stop();
    mq.stop();
  }
  return out;
}

const code = await xs_bundle("build/bench/mqtt_xs.js");
{
  const r = await xs_run([XS_PRELUDE, code, "gc();", "print('pool ' + mgts_xs.mem_pool());", "gc();", "mgts_xs.mem_mqtt();", "gc();", "mgts_xs.mem_broker();", "gc();"], 120000);
  const h = r.results.map((x) => x.meters.currentHeapCount);
  const pool = Number(/pool (\d+)/.exec(r.out)[1]);
  console.log(`XS heap slots of MQTT's fixed state: ${((h[5] - h[3]) / pool).toFixed(0)} per pooled connection (MqttConn, made for the whole pool of ${pool} by the first mg_mqtt_connect/listen), ${h[7] - h[5]} for a broker (its tables and ${pool} per-connection records)\n`);
}
const f = (x) => Math.round(x).toLocaleString("en-US");
let errors = 0;
console.log(`| path (64-byte payload, topic of 12 bytes) | XS heap slots per message | XS compute per message | V8 messages/s (mock network) |\n|---|---|---|---|`);
for (const k of KINDS) {
  const x = await xs_figures(code, k);
  const v = await v8_figures(k);
  errors += x.errors + v.errors;
  console.log(`| ${NAMES[k]} | **${x.slots}** | ${f(x.compute)} | ${f(v.rps)} |`);
}
console.log(`\n(${N.toLocaleString("en-US")} messages after a warm-up of 300 on XS; errors XS + V8: ${errors})\n`);
const lb = await loopback_figures();
console.log(`| loopback, 64-byte messages | mgts broker (simulator) msgs/s | mosquitto msgs/s | mgts / mosquitto |\n|---|---|---|---|`);
for (const r of lb) {
  console.log(`| QoS ${r.qos}, 1 publisher → ${r.subs} subscriber${r.subs > 1 ? "s" : ""}, ${f(r.n)} messages | ${f(r.mg)} | ${f(r.mq)} | **${(r.mg / r.mq).toFixed(2)}** |`);
}
console.log(`\nrounds (mgts, mosquitto): ${lb.map((r) => r.rounds.map((x) => `${f(x.mg.rate)}, ${f(x.mq.rate)}`).join("; ")).join(" | ")}; messages lost: ${lb.reduce((a, r) => a + r.lost, 0)}`);
process.exit(errors > 0 || lb.some((r) => r.lost > 0) ? 1 : 0);
