// The stack and heap of each app, measured on Moddable's lin build (part of
// npm run budget; needs the SDK, see test/moddable.ts).
//
// Each app is built instrumented (mcconfig -i: Instrumentation's figures, and
// mcsim prints XS's "instruments:" sample every second) with meter=100
// (firmware/device.ts: every 100 ms a garbage collection, then the live slot
// and chunk heap) and a 4096-slot stack, so the measurement itself cannot
// overflow. Then a workload that goes down every path the app has (every
// page and API, WebSocket, bad requests, JSON nested to MG_JSON_MAX_DEPTH,
// the dashboard at log level 4) while the figures are read:
//   - stack: XS's stack peak, from the "instruments:" samples (mcsim resets
//     the peak at each sample, so the largest sample is the run's peak);
//     bytes / 32 (a slot is 32 bytes on 64-bit lin, 16 on an ESP32: the count
//     of slots is what creation.stack sets, and it is the same on both);
//   - heap at idle, with the pool full (every connection the pool has left
//     open and used), and during a 1 MB upload (the largest live figures
//     seen while it streams): slots (bytes / 32) and chunk bytes. Chunks
//     hold the same data on both, but XS's own structures in them (array
//     items are slots) are larger on 64 bits, so lin's chunk figure is an
//     upper bound for an ESP32's.
import WebSocket from "ws";
import mqtt from "mqtt";
import * as http from "node:http";
import { connect } from "node:net";
import * as dgram from "node:dgram";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const SLOT_LIN = 32;

function meters(lines, from = 0) {
  const out = [];
  for (let i = from; i < lines.length; i++) {
    const m = /^mgts-meter stack=(-?\d+) slots=(-?\d+) chunks=(-?\d+)/.exec(lines[i]);
    if (m !== null) out.push({ slots: Number(m[2]) / SLOT_LIN, chunks: Number(m[3]) });
  }
  return out;
}

/** The largest stack peak in mcsim's "instruments:" samples, in slots. */
function stack_peak(lines) {
  let peak = 0;
  for (const l of lines) {
    if (!l.startsWith("instruments: ")) continue;
    const v = l.slice(13).split(",").map(Number);
    // 9 values of the screen (pixels, frames, network, timers, files, poco, piu), then XS's:
    // chunks used, chunks, slots used, slots, stack peak, stack, ...
    if (v.length >= 14) peak = Math.max(peak, v[13] / SLOT_LIN);
  }
  return peak;
}

async function settle(app, n = 3) {
  const from = app.lines.length;
  await app.wait_line(/^mgts-meter/, 5000, from);
  while (meters(app.lines, from).length < n) await new Promise((r) => setTimeout(r, 50));
  const m = meters(app.lines, from);
  return m[m.length - 1];
}

function raw(port, data, ms = 5000) {
  return new Promise((ok) => {
    const s = connect(port, "127.0.0.1", () => s.write(data));
    const t = setTimeout(() => s.destroy(), ms);
    s.on("data", () => {});
    s.on("error", () => {});
    s.on("close", () => (clearTimeout(t), ok()));
  });
}

/**
 * Up to n keep-alive connections that each made one request and stay open
 * (a connection the full pool refuses is counted out); release() closes them.
 */
async function hold(port, n, request) {
  const socks = [];
  for (let i = 0; i < n; i++) {
    const s = connect(port, "127.0.0.1");
    const ok = await new Promise((done) => {
      let got = "";
      const t = setTimeout(() => done(false), 5000);
      s.on("connect", () => s.write(request));
      s.on("data", (d) => {
        got += d.toString("latin1");
        if (/\r\n\r\n/.test(got)) (clearTimeout(t), done(true));
      });
      s.on("error", () => (clearTimeout(t), done(false)));
      s.on("close", () => (clearTimeout(t), done(false)));
    });
    if (ok) socks.push(s);
    else s.destroy();
  }
  return { open: socks.length, release: () => socks.forEach((s) => s.destroy()) };
}

function ws(url, headers = {}) {
  return new Promise((ok, fail) => {
    const w = new WebSocket(url, { headers, perMessageDeflate: false });
    w.once("open", () => ok(w));
    w.once("error", fail);
  });
}

/**
 * fetch's shape over node:http with a connection per request (agent: false):
 * no idle connection lingers in a client pool while the app's 8-connection
 * pool is being measured. A reset (the pool still full for the 20 ms lin
 * takes to see that connections were closed) is tried again, a few times.
 */
async function fetch1(url, opts = {}) {
  for (let i = 0; ; i++) {
    try {
      return await fetch_once(url, opts);
    } catch (e) {
      if (i >= 5 || (e.code !== "ECONNRESET" && e.code !== "EPIPE")) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function fetch_once(url, opts) {
  return new Promise((ok, fail) => {
    const req = http.request(url, { method: opts.method ?? "GET", headers: opts.headers ?? {}, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        ok({
          status: res.statusCode,
          headers: { get: (k) => res.headers[k.toLowerCase()] ?? null },
          text: async () => body.toString(),
          json: async () => JSON.parse(body.toString()),
          arrayBuffer: async () => body,
        });
      });
      res.on("error", fail);
    });
    req.setTimeout(120000, () => req.destroy(new Error("no answer in 120 s")));
    req.on("error", fail);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

function nested(depth) {
  return "[".repeat(depth) + "1" + "]".repeat(depth);
}

async function upload_during(app, send) {
  const from = app.lines.length;
  await send();
  const m = meters(app.lines, from);
  return m.reduce((a, x) => ({ slots: Math.max(a.slots, x.slots), chunks: Math.max(a.chunks, x.chunks) }), { slots: 0, chunks: 0 });
}

function multipart(name, bytes) {
  const boundary = "----mgts" + Date.now();
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { type: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat([head, Buffer.alloc(bytes, 0x5a), tail]) };
}

const MB = 1 << 20;

const WORK = {
  async dashboard(app, cfg) {
    const port = app.ports.tcp[0];
    const U = `http://127.0.0.1:${port}`;
    const auth = { authorization: "Basic " + Buffer.from("admin:" + cfg.pass).toString("base64") };
    const idle = await settle(app);
    // log level 4: every MG_DEBUG/MG_VERBOSE on the way formats a line
    await (await fetch1(U + "/api/settings", { method: "POST", headers: auth, body: '{"log_level":4,"interval_ms":200}' })).text();
    for (const p of ["/", "/app.js", "/style.css", "/favicon.svg", "/nope"]) await (await fetch1(U + p)).arrayBuffer();
    const login = await (await fetch1(U + "/api/login", { method: "POST", headers: auth })).json();
    const bearer = { authorization: "Bearer " + login.token };
    await (await fetch1(U + "/api/settings", { headers: bearer })).text();
    await (await fetch1(U + "/api/settings", { method: "POST", headers: bearer, body: '{"device_name":"measured","led":true}' })).text();
    await (await fetch1(U + "/api/settings", { method: "POST", headers: bearer, body: `{"device_name":${nested(cfg.json_depth + 5)}}` })).text();
    await (await fetch1(U + "/api/settings", { method: "POST", headers: bearer, body: `{"x":${nested(cfg.json_depth - 1)},"led":false}` })).text();
    await (await fetch1(U + "/api/stats", { headers: bearer })).text();
    await (await fetch1(U + "/api/log?since=0", { headers: bearer })).text();
    const w = await ws(`ws://127.0.0.1:${port}/websocket`, bearer);
    await new Promise((ok) => {
      let n = 0;
      w.on("message", () => ++n >= 4 && ok());
    });
    // JSON-RPC on the WebSocket: every method, and params nested to the limit
    const rpc = [
      '{"id":1,"method":"rpc.list"}',
      '{"id":2,"method":"settings.get"}',
      '{"id":3,"method":"settings.set","params":{"device_name":"rpc","led":false}}',
      `{"id":4,"method":"settings.set","params":{"x":${nested(cfg.json_depth - 2)}}}`,
      '{"id":5,"method":"nope"}',
      '{"id":6,"method":',
    ];
    for (const f of rpc) {
      const id = /"id":(\d+)/.exec(f)?.[1];
      w.send(f);
      await new Promise((ok) => {
        const t = setTimeout(ok, 3000); // a cut frame gets its -32700 with no id
        const on = (d) => {
          if (d.toString().includes('"id":' + id) || d.toString().includes("-32700")) (clearTimeout(t), w.off("message", on), ok());
        };
        w.on("message", on);
      });
    }
    w.close();
    // SNTP: the clock set from a server on loopback (the device's hourly sync)
    const ntp = dgram.createSocket("udp4");
    ntp.on("message", (m, ri) => ntp.send(cfg.ntp_reply(new Uint8Array(m), cfg.ntp_opts(Date.UTC(2024, 4, 1, 12))), ri.port, ri.address));
    await new Promise((ok) => ntp.bind(0, "127.0.0.1", ok));
    await (await fetch1(U + "/api/settings", { method: "POST", headers: bearer, body: `{"sntp":"udp://127.0.0.1:${ntp.address().port}"}` })).text();
    let synced = false;
    for (let i = 0; i < 100 && !synced; i++) {
      const m = await (await fetch1(U + "/api/stats", { headers: bearer })).json();
      synced = m.time > 1.7e12;
      if (!synced) await new Promise((r) => setTimeout(r, 100));
    }
    ntp.close();
    if (!synced) throw new Error("the dashboard did not set its clock from the SNTP server on loopback");
    await raw(port, "GARBAGE\r\n\r\n");
    await raw(port, "GET / HTTP/1.1\r\n" + "X-A: b\r\n".repeat(40) + "\r\n");
    await raw(port, "POST /api/login HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(4000));
    const up = multipart("fw.bin", MB);
    const during = await upload_during(app, async () => {
      await (await fetch1(U + "/api/upload", { method: "POST", headers: { ...bearer, "content-type": up.type }, body: up.body })).text();
    });
    const h = await hold(port, cfg.free_conns, `GET /api/stats HTTP/1.1\r\nAuthorization: Bearer ${login.token}\r\n\r\n`);
    const full = { ...(await settle(app)), open: h.open };
    h.release();
    await (await fetch1(U + "/api/settings", { method: "POST", headers: bearer, body: '{"log_level":2,"interval_ms":1000}' })).text();
    await (await fetch1(U + "/api/logout", { method: "POST", headers: bearer })).text();
    // a reboot: on lin the app is made anew in place (System has no restart there)
    const from = app.lines.length;
    await (await fetch1(U + "/api/reboot", { method: "POST", headers: auth })).text();
    await app.wait_line(/^mgts: ready dashboard/, 10000, from);
    return { idle, full, during, upload: "1 MB multipart to /api/upload (refused at its first part on lin: no OTA; streamed through and dropped)" };
  },
  async echo(app, cfg) {
    const [port, tcp] = app.ports.tcp;
    const U = `http://127.0.0.1:${port}`;
    const idle = await settle(app);
    await (await fetch1(U + "/")).text();
    await (await fetch1(U + "/echo", { method: "POST", body: Buffer.alloc(100000, 1) })).arrayBuffer();
    const w = await ws(`ws://127.0.0.1:${port}/ws`);
    w.send(Buffer.alloc(60000, 3));
    await new Promise((ok) => w.once("message", ok));
    w.send("x", { fin: false });
    w.send("y", { fin: true });
    await new Promise((ok) => w.once("message", ok));
    w.close(1000);
    // the close paths: invalid UTF-8 (1007), a reserved opcode (1002); both masked client frames
    for (const f of [[0x81, 0x83, 1, 2, 3, 4, 0x68 ^ 1, 0xff ^ 2, 0xfe ^ 3], [0x83, 0x81, 1, 2, 3, 4, 0x78 ^ 1]]) {
      const key = "dGhlIHNhbXBsZSBub25jZQ==";
      await raw(port, Buffer.concat([Buffer.from(`GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`), Buffer.from(f)]), 3000);
    }
    await new Promise((ok) => {
      const s = connect(tcp, "127.0.0.1", () => s.write(Buffer.alloc(20000, 5)));
      let n = 0;
      s.on("data", (d) => {
        n += d.length;
        if (n >= 20000) s.destroy(), ok();
      });
    });
    await raw(port, "GARBAGE\r\n\r\n");
    await raw(port, "GET / HTTP/1.1\r\n" + "X-A: b\r\n".repeat(40) + "\r\n");
    await raw(port, "POST / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(4000));
    const during = await upload_during(app, async () => {
      await (await fetch1(U + "/echo", { method: "POST", body: Buffer.alloc(MB, 0x33) })).arrayBuffer();
    });
    const h = await hold(port, cfg.free_conns, "GET / HTTP/1.1\r\n\r\n");
    const full = { ...(await settle(app)), open: h.open };
    h.release();
    return { idle, full, during, upload: "1 MB POST /echo, streamed back" };
  },
  async "http-server"(app, cfg) {
    const port = app.ports.tcp[0];
    const U = `http://127.0.0.1:${port}`;
    const idle = await settle(app);
    for (const p of ["/", "/index.html", "/app.js", "/style.css", "/nope", "/api/stats", "/api/nope"]) await (await fetch1(U + p)).text();
    const etag = (await fetch1(U + "/app.js")).headers.get("etag");
    await (await fetch1(U + "/app.js", { headers: { "if-none-match": etag } })).text();
    await (await fetch1(U + "/api/sum", { method: "POST", body: '{"a":1,"b":2}' })).text();
    await (await fetch1(U + "/api/sum", { method: "POST", body: `{"a":${nested(cfg.json_depth + 5)},"b":1}` })).text();
    await (await fetch1(U + "/api/sum", { method: "POST", body: `{"x":${nested(cfg.json_depth - 1)},"a":1,"b":2}` })).text();
    await (await fetch1(U + "/api/upload?file=a", { method: "POST", body: "x" })).text();
    await raw(port, "GARBAGE\r\n\r\n");
    await raw(port, "GET / HTTP/1.1\r\n" + "X-A: b\r\n".repeat(40) + "\r\n");
    await raw(port, "POST /api/sum HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(4000));
    const h = await hold(port, cfg.free_conns, "GET /api/stats HTTP/1.1\r\n\r\n");
    const full = { ...(await settle(app)), open: h.open };
    h.release();
    return { idle, full, during: null, upload: "none: the app has no filesystem to upload to on a device (403)" };
  },
};

/** An MQTT.js client, connected (no reconnects: a failure is the measurement's). */
async function mqtt_js(url, o) {
  const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 10000, ...o });
  await new Promise((ok, fail) => {
    c.once("connect", ok);
    c.once("error", fail);
  });
  return c;
}

async function until(f, ms, what) {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`budget: ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const MQTT_WORK = {
  // the mqtt app on a mosquitto of the measurement's own (cfg.mosquitto)
  async mqtt(app, cfg) {
    const url = `mqtt://127.0.0.1:${cfg.mosquitto.port}`;
    await app.wait_line(/mqtt: connected to/, 10000, 0);
    const obs = await mqtt_js(url, { protocolVersion: 5, clientId: "budget-obs" });
    let outs = 0;
    obs.on("message", (t) => t.startsWith("mgts/out/") && outs++);
    await obs.subscribeAsync({ "mgts/out/#": { qos: 2, rap: true } });
    const idle = await settle(app);
    // QoS 0/1/2, payloads up to the largest the buffers take (MG_IO_SIZE less the packet's head
    // and the room a PUBLISH leaves for acknowledgements), some retained, topics of several levels
    const pub = await mqtt_js(url, { protocolVersion: 4, clientId: "budget-pub" });
    const sizes = [1, 100, 500, cfg.io_size - 128];
    let n = 0;
    const during = await upload_during(app, async () => {
      for (let round = 0; round < 10; round++) {
        for (const qos of [0, 1, 2]) {
          for (const size of sizes) {
            pub.publish(`mgts/in/r${round}/q${qos}/s${size}`, Buffer.alloc(size, 0x61 + qos), { qos, retain: size === 100 });
            n++;
          }
        }
      }
      await until(() => outs >= n, 60000, `${n} messages republished`);
    });
    // a message over MG_IO_SIZE: refused (a 3.1.1 broker's link is closed), and the app connects again
    // by itself, subscribes and gets the retained messages again
    const from = app.lines.length;
    await pub.publishAsync("mgts/in/huge", Buffer.alloc(cfg.io_size + 100, 0x7a), { qos: 1 });
    await app.wait_line(/mqtt: connected to/, 15000, from);
    const before = outs;
    await pub.publishAsync("mgts/in/after", "x", { qos: 2 });
    await until(() => outs > before, 10000, "a message republished after the reconnect");
    const again = await settle(app);
    pub.end(true);
    obs.end(true);
    return {
      idle,
      full: null,
      during: { slots: Math.max(during.slots, again.slots), chunks: Math.max(during.chunks, again.chunks) },
      upload: `${n} messages in and out (QoS 0/1/2, 1 to ${cfg.io_size - 128} bytes, a third retained), one over MG_IO_SIZE (link closed, reconnected, retained ones again)`,
    };
  },
  // the broker with the pool full of MQTT clients (one over WebSocket), its tables filled
  async "mqtt-broker"(app, cfg) {
    const [port, ws_port] = app.ports.tcp;
    const idle = await settle(app);
    const n = cfg.free_conns;
    const clients = [];
    const got = [];
    for (let i = 0; i < n; i++) {
      const url = i === n - 1 ? `ws://127.0.0.1:${ws_port}/mqtt` : `mqtt://127.0.0.1:${port}`;
      const c = await mqtt_js(url, { protocolVersion: i % 2 === 0 ? 4 : 5, clientId: `budget-${i}`, will: { topic: `will/${i}`, payload: Buffer.alloc(100, 0x77), qos: 1, retain: false } });
      c.on("message", (t) => got.push(t));
      // the subscription table full: filters of up to MG_MQTT_TOPIC_MAX bytes, with wildcards,
      // as many to a SUBSCRIBE as fit the broker's buffer
      const each = Math.floor((cfg.broker_subs - 1) / n); // one left for ret/# below
      let subs = {};
      let bytes = 0;
      for (let k = 0; k < each; k++) {
        const f = k === 0 ? "all/+" : k === 1 ? "will/#" : `f/${i}/${k}/`.padEnd(cfg.topic_max - 2, "x") + "/#";
        if (bytes + f.length + 3 > cfg.io_size - 64) {
          await c.subscribeAsync(subs).catch(() => {}); // a filter the full table refuses
          subs = {};
          bytes = 0;
        }
        subs[f] = { qos: k % 3 };
        bytes += f.length + 3;
      }
      await c.subscribeAsync(subs).catch(() => {});
      clients.push(c);
    }
    // the retained table full: its count and its bytes (one more is refused)
    const per = Math.floor(cfg.broker_retained_size / cfg.broker_retained) - 16;
    for (let k = 0; k <= cfg.broker_retained; k++) await clients[0].publishAsync(`ret/${k}`, Buffer.alloc(per, 0x72), { qos: 1, retain: true }).catch(() => {});
    const full = { ...(await settle(app)), open: clients.length };
    // fan-out: every client publishes QoS 0/1/2 to all/x, each copy goes to every client
    let sent = 0;
    const during = await upload_during(app, async () => {
      for (let round = 0; round < 4; round++) {
        for (const [i, c] of clients.entries()) {
          const qos = (round + i) % 3;
          c.publish("all/x", Buffer.alloc(round === 3 ? cfg.io_size - 256 : 200, 0x61 + i), { qos });
          sent++;
        }
      }
      await until(() => got.filter((t) => t === "all/x").length >= sent * n, 60000, `${sent * n} deliveries`);
      // retained ones on subscribing (delivered as room allows), and a will
      await clients[1].subscribeAsync({ "ret/#": { qos: 1 } });
      await until(() => got.filter((t) => t.startsWith("ret/")).length >= cfg.broker_retained, 30000, "the retained messages");
      clients[2].stream.destroy();
      await until(() => got.includes("will/2"), 10000, "the will");
    });
    for (const c of clients) c.end(true);
    await raw(port, Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f])); // a remaining length over 4 bytes
    return { idle, full, during, upload: `${n} clients (one over WebSocket), ${cfg.broker_subs} subscriptions, ${cfg.broker_retained} retained, ${sent} messages fanned out to all, a will, a malformed packet` };
  },
};
Object.assign(WORK, MQTT_WORK);
/** Every app measure_moddable knows. */
export const APPS = Object.keys(WORK);

/**
 * Measures every app on lin with a board's configuration (config: that
 * board's config.json overrides, folded into the lin build's core through
 * MGTS_CONFIG); returns one row per app (apps: a few of WORK's, to try one).
 */
export async function measure_moddable(helper, repo, config, apps = Object.keys(WORK)) {
  const sntp = await import(join(repo, "build/test/sntp_util.js"));
  const peers = await import(join(repo, "build/test/mqtt_peers.js"));
  const saved = process.env.MGTS_CONFIG;
  process.env.MGTS_CONFIG = JSON.stringify(config);
  const rows = [];
  try {
    for (const name of apps) {
      const data = join(repo, "build/moddable/data/budget") + "/";
      rmSync(data, { recursive: true, force: true });
      mkdirSync(data, { recursive: true });
      const pass = "measure";
      const base = name === "echo" ? await helper.free_ports() : 0;
      // the mqtt app's broker: a mosquitto on a free loopback port (the build names it)
      // (no in-flight or queue limits: it sends as fast as it can, and drops no QoS 0 message)
      const mosquitto = name === "mqtt" ? await peers.start_mosquitto("max_inflight_messages 0\nmax_queued_messages 0") : null;
      const b = await helper.moddable_build({
        instrument: true,
        creation: { stack: 4096 },
        config: { app: name, port: base, meter: 100, dash_pass: pass, data, ...(mosquitto !== null ? { broker: `mqtt://127.0.0.1:${mosquitto.port}`, keepalive: 2 } : {}) },
      });
      const app = await helper.moddable_start(b.so);
      try {
        const listeners = app.ports.tcp.length + app.ports.udp.length;
        const cfg = {
          pass,
          json_depth: config.MG_JSON_MAX_DEPTH,
          free_conns: config.MG_MAX_CONNS - listeners,
          ntp_reply: sntp.ntp_reply,
          ntp_opts: sntp.opts,
          mosquitto,
          io_size: config.MG_IO_SIZE,
          topic_max: config.MG_MQTT_TOPIC_MAX,
          broker_subs: config.MG_MQTT_BROKER_SUBS,
          broker_retained: config.MG_MQTT_BROKER_RETAINED,
          broker_retained_size: config.MG_MQTT_BROKER_RETAINED_SIZE,
        };
        const r = await WORK[name](app, cfg);
        // one more sample after the workload, so the last second's stack peak is in
        const n = app.lines.filter((l) => l.startsWith("instruments: ")).length;
        while (app.lines.filter((l) => l.startsWith("instruments: ")).length < n + 2) await new Promise((ok) => setTimeout(ok, 100));
        rows.push({ app: name, stack: stack_peak(app.lines), conns: cfg.free_conns, ...r });
      } finally {
        await app.stop();
        await mosquitto?.stop();
        // a build naming a broker port is of no use to the next run
        if (mosquitto !== null) for (const f of [b.so, b.so.replace(/\.so$/, ".log")]) rmSync(f, { force: true });
      }
    }
  } finally {
    if (saved === undefined) delete process.env.MGTS_CONFIG;
    else process.env.MGTS_CONFIG = saved;
  }
  return rows;
}
