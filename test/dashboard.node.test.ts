// The device dashboard in headless Chromium against the app on the host
// simulator (hal/node, firmware/dashboard/board_node) on 127.0.0.1: the
// shared browser suite (test/dash_suite.ts), with a restart of the app in
// this process, the settings read from the board's settings.json and the
// upload compared byte for byte on disk. Saves test/artifacts/dashboard-*.png.
// Node-only. test/dashboard.moddable.test.ts runs the same suite on lin.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createServer } from "node:net";
import { mg_hal_node } from "../hal/node.js";
import { dash_board_node } from "../firmware/dashboard/board_node.js";
import { mg_mgr, mg_mgr_free } from "../src/net.js";
import { dash_app, dash_free, main } from "../firmware/dashboard/main.js";
import { dashboard_in_chromium } from "./dash_suite.js";

interface Sim {
  mgr: mg_mgr;
  app: dash_app;
}

let files: any[] = [];
const dir = mkdtempSync(join(tmpdir(), "mgts-dash-"));
const hal = mg_hal_node();

function start(port: number): Sim {
  const board = new dash_board_node({ dir });
  const mgr = main({ url: `http://127.0.0.1:${port}`, board, files, user: "admin", pass: "s3cret", hal });
  return { mgr, app: mgr.userdata as dash_app };
}
function stop(s: Sim): void {
  dash_free(s.app);
  mg_mgr_free(s.mgr);
}

/** A free port on 127.0.0.1 (the Node HAL learns a port-0 choice there only after binding). */
function free_port(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as any).port as number;
      s.close(() => ok(p));
    });
  });
}

test("the dashboard in headless Chromium on the simulator: login, live data, settings across a restart, upload stored, log", async () => {
  const packer = await import(pathToFileURL(resolve("tools/pack.mjs")).href);
  files = packer.pack("firmware/dashboard/web");
  const port = await free_port();
  let sim: Sim | null = start(port);
  try {
    await dashboard_in_chromium({
      url: () => `http://127.0.0.1:${port}/`,
      pass: "s3cret",
      async stop() {
        stop(sim!);
        sim = null;
      },
      async start() {
        sim = start(port);
      },
      saved_settings: () => JSON.parse(readFileSync(join(dir, "settings.json"), "utf8")),
      upload: {
        bytes: 300 * 1024 + 77,
        expect: "stored",
        check(name, data) {
          assert.ok(readFileSync(join(dir, "uploads", name)).equals(data), "the uploaded bytes, on disk");
          assert.not.ok(existsSync(join(dir, "uploads", name + ".part")));
        },
      },
      picture: "dashboard",
    });
  } finally {
    if (sim !== null) stop(sim);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
