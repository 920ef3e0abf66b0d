// MQTT on Moddable's lin build: the mqtt and mqtt-broker apps as mcconfig
// builds them (release), run under `xvfb-run -a mcsim` on Moddable's own
// ECMA-419 sockets.
//   - the mqtt app against a mosquitto this test starts on an ephemeral
//     loopback port (the broker's URL is built in: broker=mqtt://...):
//     client id mgts-<random>, another on the next boot; `online` retained
//     on mgts/status; mgts/in/# republished to mgts/out/... with the same
//     payload, QoS and retain at QoS 0, 1 and 2; its will `offline` when the
//     mcsim process is killed; then every other setting (version 5,
//     keepalive, client id prefix, topic prefix, user and password against
//     a mosquitto that refuses anonymous clients);
//   - the mqtt-broker app with MQTT.js and mosquitto_pub/_sub (the suite
//     the host simulator's broker gets, test/mqtt_broker_suite.ts).
// Runs in the Moddable tier of npm test (test/run.mjs), with the SDK.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { moddable_build, moddable_start, type moddable_app_t, type moddable_build_t } from "./moddable.js";
import { run, start, start_mosquitto, until, type Mosquitto } from "./mqtt_peers.js";
import { mqtt_broker_suite, type mqtt_broker_target } from "./mqtt_broker_suite.js";

/** A build made for one broker port is of no use to a later run: it goes when the suite ends. */
function forget(b: moddable_build_t | null): void {
  if (b?.so) for (const f of [b.so, b.so.replace(/\.so$/, ".log")]) rmSync(f, { force: true });
}

/**
 * mosquitto_sub on filter as an MQTT 5 client asking for retain as published
 * (so the r= it prints is the flag the publisher set), subscribed when this
 * resolves: it has seen a marker published after it started.
 */
async function observe(b: Mosquitto, filter: string, login: string[] = []): Promise<{ out: () => string; stop: () => void }> {
  const P = ["-h", "127.0.0.1", "-p", String(b.port), ...login];
  const s = start("mosquitto_sub", [...P, "-V", "mqttv5", "--retain-as-published", "-t", filter, "-t", "ready/marker", "-q", "2", "-v", "-F", "%t %p r=%r q=%q"]);
  for (let i = 0; i < 50 && !s.out().includes("ready/marker"); i++) {
    await run("mosquitto_pub", [...P, "-t", "ready/marker", "-m", "x"]);
    await until(() => s.out().includes("ready/marker"), 200);
  }
  if (!s.out().includes("ready/marker")) {
    s.stop();
    throw new Error("mosquitto_sub did not subscribe: " + s.out());
  }
  return { out: () => s.out(), stop: s.stop };
}

/** The client ids mosquitto logged as connected, with what it logged after them ("(p2, c1, k60)"). */
function connected(b: Mosquitto): string[] {
  return [...b.log.join("").matchAll(/New client connected from 127\.0\.0\.1:\d+ as (\S+) (\([^)]*\))/g)].map((m) => `${m[1]} ${m[2]}`);
}

// --- the mqtt app, its defaults ------------------------------------------------------------

const a = suite("mqtt app on Moddable (lin): defaults");
const A: { broker: Mosquitto | null; build: moddable_build_t | null; app: moddable_app_t | null; obs: { out: () => string; stop: () => void } | null; pub: (args: string[]) => Promise<void> } = {
  broker: null,
  build: null,
  app: null,
  obs: null,
  pub: async () => {},
};
a.before(async () => {
  const b = (A.broker = await start_mosquitto());
  A.pub = async (args) => {
    const r = await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(b.port), ...args]);
    assert.is(r.code, 0, r.out);
  };
  // retained before the app subscribes: it arrives retained, and goes out retained
  await A.pub(["-t", "mgts/in/kept", "-m", "r", "-q", "1", "-r"]);
  A.obs = await observe(b, "mgts/#");
  A.build = await moddable_build({ config: { app: "mqtt", broker: `mqtt://127.0.0.1:${b.port}` } });
  A.app = await moddable_start(A.build.so!);
});
a.after(async () => {
  await A.app?.stop();
  A.obs?.stop();
  await A.broker?.stop();
  forget(A.build);
});

a("it connects as mgts-<8 random characters> (MQTT 3.1.1, clean, keepalive 60) and publishes online, retained", async () => {
  const out = A.obs!.out;
  assert.ok(await until(() => out().includes("mgts/status online r=1 q=1"), 10000), `${out()}\nmcsim:\n${A.app!.lines.join("\n")}`);
  const ids = connected(A.broker!).filter((x) => x.startsWith("mgts-"));
  assert.is(ids.length, 1, ids.join("; "));
  assert.match(ids[0], /^mgts-[0-9A-Za-z]{8} \(p2, c1, k60\)$/);
  await A.app!.wait_line(new RegExp(`mqtt: connected to mqtt://127\\.0\\.0\\.1:${A.broker!.port} as ${ids[0].split(" ")[0]}$`), 5000, 0);
  // a late subscriber gets the status as the broker kept it
  const r = await run("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(A.broker!.port), "-t", "mgts/status", "-C", "1", "-W", "3", "-F", "%p r=%r"]);
  assert.is(r.out.trim(), "online r=1");
});

a("mgts/in/# is republished to mgts/out/... with the same payload, QoS and retain, at QoS 0, 1 and 2", async () => {
  const out = A.obs!.out;
  // the retained message the app got on subscribing: retained on the way out too
  assert.ok(await until(() => out().includes("mgts/out/kept r r=1 q=1"), 10000), out());
  const big = "x".repeat(1000); // several of lin's socket reads on the way in and out
  const cases: [string, string, number][] = [["led", "on", 2], ["a/b", "q1", 1], ["zero", "z", 0], ["big/1", big, 1], ["deep/a/b/c", "d", 2]];
  for (const [t, m, q] of cases) await A.pub(["-t", "mgts/in/" + t, "-m", m, "-q", String(q)]);
  // a live message keeps no retain flag on 3.1.1 (the broker clears it), so it goes out without it
  await A.pub(["-t", "mgts/in/live-retained", "-m", "lr", "-q", "2", "-r"]);
  const want = [...cases.map(([t, m, q]) => `mgts/out/${t} ${m} r=0 q=${q}`), "mgts/out/live-retained lr r=0 q=2"];
  assert.ok(await until(() => want.every((w) => out().includes(w)), 10000), `missing: ${want.filter((w) => !out().includes(w)).map((w) => w.slice(0, 60))}\n${out().slice(-2000)}`);
  // once each
  for (const w of want) assert.is(out().split(w).length - 1, 1, w.slice(0, 60));
});

a("its will, offline (retained), is published when the mcsim process is killed; the next boot has another client id", async () => {
  const out = A.obs!.out;
  const pid = A.app!.mcsim_pid();
  assert.ok(pid > 0, "mcsim runs");
  process.kill(pid, "SIGKILL");
  assert.ok(await until(() => out().includes("mgts/status offline r=1 q=1"), 10000), out());
  await A.app!.stop();
  // boot again: a new random id (the platform's RNG, not lin's unseeded Math.random), online again, working
  A.app = await moddable_start(A.build!.so!);
  assert.ok(await until(() => out().split("mgts/status online r=1 q=1").length === 3, 10000), out());
  const ids = connected(A.broker!).filter((x) => x.startsWith("mgts-")).map((x) => x.split(" ")[0]);
  assert.is(ids.length, 2, ids.join(", "));
  assert.is.not(ids[0], ids[1], "two boots, two client ids");
  await A.pub(["-t", "mgts/in/again", "-m", "2nd", "-q", "1"]);
  assert.ok(await until(() => out().includes("mgts/out/again 2nd r=0 q=1"), 10000), out());
});

a.run();

// --- the mqtt app, every setting ------------------------------------------------------------

const s = suite("mqtt app on Moddable (lin): version=5 keepalive client_prefix topic_prefix mqtt_user mqtt_pass");
const S: { broker: Mosquitto | null; dir: string; build: moddable_build_t | null; app: moddable_app_t | null } = { broker: null, dir: "", build: null, app: null };
const LOGIN = ["-u", "dev", "-P", "s3cret"];
s.before(async () => {
  // a broker that refuses anonymous clients: the app's login must have landed
  S.dir = mkdtempSync(join(tmpdir(), "mgts-mosq-pw-"));
  chmodSync(S.dir, 0o755); // mosquitto reads it after dropping root
  const pw = join(S.dir, "passwd");
  const r = await run("mosquitto_passwd", ["-c", "-b", pw, "dev", "s3cret"]);
  assert.is(r.code, 0, r.out);
  chmodSync(pw, 0o644);
  S.broker = await start_mosquitto(`allow_anonymous false\npassword_file ${pw}`);
  const anon = await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(S.broker.port), "-t", "x", "-m", "x"]);
  assert.is.not(anon.code, 0, "anonymous clients are refused");
  S.build = await moddable_build({
    config: { app: "mqtt", broker: `mqtt://127.0.0.1:${S.broker.port}`, version: 5, keepalive: 7, client_prefix: "dev-", topic_prefix: "site/a", mqtt_user: "dev", mqtt_pass: "s3cret" },
  });
});
s.after(async () => {
  await S.app?.stop();
  await S.broker?.stop();
  if (S.dir !== "") rmSync(S.dir, { recursive: true, force: true });
  forget(S.build);
});

s("the settings land in mc/config: MQTT 5 as dev-<random> with keepalive 7 and a login, topics under site/a, retain as published", async () => {
  const obs = await observe(S.broker!, "site/a/#", LOGIN);
  try {
    S.app = await moddable_start(S.build!.so!);
    assert.ok(await until(() => obs.out().includes("site/a/status online r=1 q=1"), 10000), `${obs.out()}\nmcsim:\n${S.app.lines.join("\n")}`);
    const ids = connected(S.broker!).filter((x) => x.startsWith("dev-"));
    assert.is(ids.length, 1, connected(S.broker!).join("; "));
    assert.match(ids[0], /^dev-[0-9A-Za-z]{8} \(p5, c1, k7, u'dev'\)$/);
    // on 5 the app subscribes with retain as published: a live retained message goes out retained
    for (const q of [0, 1, 2]) {
      const r = await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(S.broker!.port), ...LOGIN, "-V", "mqttv5", "-t", `site/a/in/q${q}`, "-m", `m${q}`, "-q", String(q), "-r"]);
      assert.is(r.code, 0, r.out);
    }
    const want = [0, 1, 2].map((q) => `site/a/out/q${q} m${q} r=1 q=${q}`);
    assert.ok(await until(() => want.every((w) => obs.out().includes(w)), 10000), obs.out());
  } finally {
    obs.stop();
  }
});

s.run();

// --- the mqtt-broker app ------------------------------------------------------------------

const k = suite("mqtt-broker app on Moddable (lin)");
const K: { build: moddable_build_t | null; app: moddable_app_t | null } = { build: null, app: null };
k.before(async () => {
  // port 0: MQTT and MQTT over WebSocket each on a free port, both announced
  K.build = await moddable_build({ config: { app: "mqtt-broker", port: 0 } });
});
mqtt_broker_suite(k, async (): Promise<mqtt_broker_target> => {
  K.app = await moddable_start(K.build!.so!);
  assert.is(K.app.ports.tcp.length, 2, K.app.lines.join("\n"));
  return { port: K.app.ports.tcp[0], ws_port: K.app.ports.tcp[1] };
});
// after the suite's own (its clients go first)
k.after.each(async () => {
  await K.app?.stop();
  K.app = null;
});
k.run();
