// The device dashboard in a real browser: headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core) against the app on the
// simulator (hal/node, firmware/dashboard/board_node) on 127.0.0.1. Logs in, watches live
// values change, saves settings and reads them back (also after a restart
// of the app), sets an SNTP server and sees the clock, uploads a file and
// compares its bytes on disk, reads the log view. Saves
// test/artifacts/dashboard.png. Node-only.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import * as dgram from "node:dgram";
import { chromium, Browser, Page } from "playwright-core";
import { mg_hal_node } from "../hal/node.js";
import { dash_board_node } from "../firmware/dashboard/board_node.js";
import { mg_mgr, mg_mgr_free } from "../src/net.js";
import { dash_app, dash_free, main } from "../firmware/dashboard/main.js";
import { ntp_reply, opts } from "./sntp_util.js";

// page functions run in the browser; this project compiles without the DOM library
declare const document: any;

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const WAIT = 15000; // any one step; the suite is bounded by these and by test/run.mjs

interface Sim {
  mgr: mg_mgr;
  app: dash_app;
  board: dash_board_node;
}

let files: any[] = [];
const dir = mkdtempSync(join(tmpdir(), "mgts-dash-"));
const hal = mg_hal_node();

function start(port: number): Sim {
  const board = new dash_board_node({ dir });
  const mgr = main({ url: `http://127.0.0.1:${port}`, board, files, user: "admin", pass: "s3cret", hal });
  return { mgr, app: mgr.userdata as dash_app, board };
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

async function login(page: Page, pass: string): Promise<void> {
  await page.waitForSelector("#loginform", { state: "visible", timeout: WAIT });
  await page.fill("#user", "admin");
  await page.fill("#pass", pass);
  await page.click("#loginbtn");
}

test("the dashboard in headless Chromium: login, live data, settings, restart, upload, log", async () => {
  assert.ok(existsSync(CHROMIUM), "Debian's chromium is installed (.ci/run installs it)");
  const packer = await import(pathToFileURL(resolve("tools/pack.mjs")).href);
  files = packer.pack("firmware/dashboard/web");
  const port = await free_port();
  let sim = start(port);
  const url = `http://127.0.0.1:${port}/`;
  let browser: Browser | null = null;
  const problems: string[] = [];
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 60000 });
    const page = await browser.newPage({ viewport: { width: 1200, height: 1100 } });
    page.on("pageerror", (e) => problems.push("page error: " + e.message));
    page.on("console", (m) => {
      // failed requests are judged below, by their URL
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push("console: " + m.text());
    });
    page.on("response", (res) => {
      // expected: 401 from the API before a login, 400 for the invalid setting sent on purpose
      const u = new URL(res.url()).pathname;
      const ok = res.status() < 400 || (res.status() === 401 && u.startsWith("/api/")) || (res.status() === 400 && u === "/api/settings");
      if (!ok) problems.push(`HTTP ${res.status()} for ${u}`);
    });
    const r = await page.goto(url, { timeout: WAIT });
    assert.is(r!.status(), 200);
    assert.is(await r!.headerValue("content-encoding"), "gzip", "the packed .gz sibling");

    // login: a wrong password says so, the right one opens the dashboard
    await login(page, "wrong");
    await page.waitForFunction(() => document.getElementById("loginmsg")!.textContent!.includes("Wrong"), null, { timeout: WAIT });
    await login(page, "s3cret");
    await page.waitForSelector("#dash", { state: "visible", timeout: WAIT });
    const cookies = await page.context().cookies();
    assert.ok(cookies.some((c) => c.name === "access_token" && c.httpOnly), "token cookie, HttpOnly");

    // live values over the WebSocket: the uptime tile changes by itself
    await page.waitForFunction(() => document.getElementById("livetext")!.textContent === "live", null, { timeout: WAIT });
    await page.waitForFunction(() => document.getElementById("m-uptime")!.textContent!.endsWith("s"), null, { timeout: WAIT });
    const up1 = await page.textContent("#m-uptime");
    await page.waitForFunction((v) => document.getElementById("m-uptime")!.textContent !== v, up1, { timeout: WAIT });
    assert.match((await page.textContent("#m-heap"))!, /[KM]B$/);

    // settings: save, see them applied, read back after a reload
    await page.fill("#s-name", "Bench unit 7");
    await page.fill("#s-interval", "300");
    await page.check("#s-led");
    await page.click("#save");
    await page.waitForFunction(() => document.getElementById("settingsmsg")!.textContent === "Saved", null, { timeout: WAIT });
    await page.waitForFunction(() => document.getElementById("m-pin")!.textContent === "HIGH", null, { timeout: WAIT });
    const saved = JSON.parse(readFileSync(join(dir, "settings.json"), "utf8"));
    assert.equal(saved, { device_name: "Bench unit 7", log_level: 2, interval_ms: 300, led: true, sntp: "" });
    // an invalid value is refused with the server's reason, next to the form
    await page.fill("#s-interval", "5");
    await page.$eval("#settings", (f) => f.setAttribute("novalidate", ""));
    await page.click("#save");
    await page.waitForFunction(() => document.getElementById("settingsmsg")!.textContent!.includes("interval_ms"), null, { timeout: WAIT });
    await page.reload({ timeout: WAIT });
    await page.waitForSelector("#dash", { state: "visible", timeout: WAIT });
    assert.is(await page.inputValue("#s-name"), "Bench unit 7");
    assert.is(await page.inputValue("#s-interval"), "300");

    // the clock: not synced, until an SNTP server is set in the form (a node:dgram one on loopback)
    assert.is(await page.textContent("#m-time"), "not synced");
    const ntp = dgram.createSocket("udp4");
    ntp.on("message", (m, ri) => ntp.send(ntp_reply(new Uint8Array(m), opts(Date.UTC(2024, 4, 1, 12, 0, 0))), ri.port, ri.address));
    await new Promise<void>((ok) => ntp.bind(0, "127.0.0.1", ok));
    await page.fill("#s-sntp", `udp://127.0.0.1:${ntp.address().port}`);
    await page.click("#save");
    await page.waitForFunction(() => document.getElementById("m-time")!.textContent!.startsWith("2024-05-01 12:00"), null, { timeout: WAIT });
    ntp.close();

    // a restart of the app: the settings come back from the file, the session does not
    stop(sim);
    sim = start(port);
    await page.reload({ timeout: WAIT });
    await login(page, "s3cret");
    await page.waitForSelector("#dash", { state: "visible", timeout: WAIT });
    assert.is(await page.inputValue("#s-name"), "Bench unit 7");
    assert.ok(await page.isChecked("#s-led"));
    await page.waitForFunction(() => document.getElementById("title")!.textContent === "Bench unit 7", null, { timeout: WAIT });

    // upload: 300 KB through the multipart part events, byte for byte on disk
    const data = randomBytes(300 * 1024 + 77);
    const src = join(dir, "fw-test.bin");
    writeFileSync(src, data);
    await page.setInputFiles("#file", src);
    await page.click("#uploadbtn");
    await page.waitForFunction(() => document.getElementById("uploadmsg")!.textContent!.startsWith("Stored"), null, { timeout: WAIT });
    assert.is(await page.textContent("#uploadmsg"), `Stored fw-test.bin, ${data.length} bytes`);
    const got = readFileSync(join(dir, "uploads", "fw-test.bin"));
    assert.ok(got.equals(data), "the uploaded bytes");
    assert.not.ok(existsSync(join(dir, "uploads", "fw-test.bin.part")));

    // the log view shows the app's lines, live
    await page.waitForFunction(() => document.getElementById("log")!.textContent!.includes("dash: stored fw-test.bin"), null, { timeout: WAIT });
    assert.ok((await page.textContent("#log"))!.includes("dash: admin logged in"));

    // a few more points on the chart, then the picture
    await page.waitForTimeout(1500);
    mkdirSync("test/artifacts", { recursive: true });
    await page.screenshot({ path: "test/artifacts/dashboard.png", fullPage: true });

    assert.ok(await page.isHidden("#error"), "the page shows no error: " + (await page.textContent("#error")));
    assert.equal(problems, []);
  } finally {
    if (browser !== null) await browser.close();
    stop(sim);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
