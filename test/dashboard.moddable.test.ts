// The device dashboard as mcconfig builds it for lin (release), under
// `xvfb-run -a mcsim` on Moddable's own sockets: the shared browser suite
// (test/dash_suite.ts) with a restart of the binary itself (the settings
// come back from the board's Preference file; lin has no OTA partition, so
// the upload is refused with the board's reason), and the session tokens of
// two boots compared: they come from the OS's generator (boards/sim/rng.c),
// where Math.random on lin gives the same numbers on every launch.
// Saves test/artifacts/dashboard-lin.png. Runs in the Moddable tier.
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

test("the dashboard in headless Chromium on lin: login, live data, settings across a restart of the binary, upload refused cleanly, log", async () => {
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(DATA, { recursive: true });
  const so = await build();
  let app = await moddable_start(so);
  try {
    await dashboard_in_chromium({
      url: () => `http://127.0.0.1:${app.ports.tcp[0]}/`,
      pass: PASS,
      async restart() {
        await app.stop();
        app = await moddable_start(so);
      },
      upload: { bytes: 40 * 1024 + 3, expect: "refused", reason: "no OTA partition (see the partition table of the board)" },
      picture: "dashboard-lin.png",
    });
  } finally {
    await app.stop();
  }
});

test.run();
