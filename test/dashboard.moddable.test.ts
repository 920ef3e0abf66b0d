// The device dashboard as mcconfig builds it for lin (release), under
// `xvfb-run -a mcsim` on Moddable's own sockets: the shared browser suite
// (test/dash_suite.ts) with a restart of the binary itself (the settings
// come back from the board's Preference file; lin has no OTA partition, so
// the upload is refused with the board's reason), and the session tokens of
// two boots compared: they come from the OS's generator (boards/sim/rng.c),
// where Math.random on lin gives the same numbers on every launch.
// Saves test/artifacts/dashboard-lin-*.png. Runs in the Moddable tier.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { dashboard_in_chromium } from "./dash_suite.js";
import { REPO, moddable_build, moddable_start, type moddable_app_t } from "./moddable.js";

const PASS = "lin-s3cret";
// the board keeps its settings in <data>/mgts-preferences.json (boards/sim/preference.js)
const DATA = join(REPO, "build", "moddable", "data", "dashboard") + "/";

async function build(): Promise<string> {
  // sntp=none: no clock until the suite sets its own SNTP server (the default is time.google.com)
  const b = await moddable_build({ config: { app: "dashboard", port: 0, dash_pass: PASS, data: DATA, sntp: "none" } });
  return b.so!;
}

async function login_token(app: moddable_app_t): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${app.ports.tcp[0]}/api/login`, {
    method: "POST",
    headers: { authorization: "Basic " + Buffer.from("admin:" + PASS).toString("base64") },
  });
  assert.is(r.status, 200);
  const j = (await r.json()) as { token: string };
  return j.token;
}

test("session tokens come from the OS's generator: three boots, three different tokens", async () => {
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(DATA, { recursive: true });
  const so = await build();
  const tokens: string[] = [];
  for (let boot = 0; boot < 3; boot++) {
    const app = await moddable_start(so);
    try {
      const t = await login_token(app);
      assert.match(t, /^[0-9a-f]{32}$/, "128 bits, in hex");
      tokens.push(t);
    } finally {
      await app.stop();
    }
  }
  assert.is(new Set(tokens).size, 3, "every boot its own token: " + tokens.join(" "));
});

test("POST /api/reboot on lin, where System has no restart: the app is made anew in place, the settings stay, the session does not", async () => {
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(DATA, { recursive: true });
  const app = await moddable_start(await build());
  try {
    const token = await login_token(app);
    const url = `http://127.0.0.1:${app.ports.tcp[0]}`;
    const bearer = { authorization: "Bearer " + token };
    const set = await fetch(url + "/api/settings", { method: "POST", headers: bearer, body: '{"device_name":"before the reboot"}' });
    assert.is(set.status, 200);
    const from = app.lines.length;
    const r = await fetch(url + "/api/reboot", { method: "POST", headers: bearer });
    assert.is(r.status, 200);
    await app.wait_line(/^mgts: restarting dashboard/, 10000, from);
    await app.wait_line(/^mgts: ready dashboard/, 10000, from);
    // port 0: the new listener has a port of its own, announced again
    const port = Number(/(\d+)$/.exec(app.lines.slice(from).find((l) => l.startsWith("mgts: listening tcp port"))!)![1]);
    const again = `http://127.0.0.1:${port}`;
    assert.is((await fetch(again + "/api/settings", { headers: bearer })).status, 401, "the old session is gone");
    const t2 = await fetch(again + "/api/login", { method: "POST", headers: { authorization: "Basic " + Buffer.from("admin:" + PASS).toString("base64") } });
    const s2 = await fetch(again + "/api/settings", { headers: { authorization: "Bearer " + ((await t2.json()) as any).token } });
    assert.is(((await s2.json()) as any).device_name, "before the reboot");
    assert.ok(app.running(), "the same mcsim process");
  } finally {
    await app.stop();
  }
});

test("the dashboard in headless Chromium on lin: login, live data, settings across a restart of the binary, upload refused cleanly, log", async () => {
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(DATA, { recursive: true });
  const so = await build();
  let app = await moddable_start(so);
  try {
    await dashboard_in_chromium({
      url: () => `http://127.0.0.1:${app.ports.tcp[0]}/`,
      pass: PASS,
      async stop() {
        await app.stop();
      },
      async start() {
        app = await moddable_start(so);
      },
      upload: { bytes: 40 * 1024 + 3, expect: "refused", reason: "no OTA partition (see the partition table of the board)" },
      picture: "dashboard-lin",
    });
  } finally {
    await app.stop();
  }
});

test.run();
