// The device dashboard in a real browser, written once for every runtime:
// headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// against the app on the host simulator (test/dashboard.node.test.ts) and
// on Moddable's lin build (test/dashboard.moddable.test.ts). Sees the
// loading state until /api/settings answers, logs in (a wrong password
// first), watches live values and the chart move, saves settings and reads
// them back after a reload and after a restart of the app, sees the values
// greyed and "reconnecting" while the app is down, sets an SNTP server
// (node:dgram on loopback) and sees the clock, with the log's times (uptime
// before, then UTC), uploads a file (stored on the host; on lin, which has
// no OTA partition, refused with the board's reason), reads the log view,
// checks that nothing overflows at 1280, 390 and 360 px wide, and saves
// pictures in test/artifacts/ (<picture>-1280.png, -390.png, -offline.png).
import * as assert from "uvu/assert";
import * as dgram from "node:dgram";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, Browser, Page } from "playwright-core";
import { ntp_reply, opts } from "./sntp_util.js";

// page functions run in the browser; this project compiles without the DOM library
declare const document: any;
declare const window: any;
declare const series: any;

export const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const WAIT = 20000; // any one step; the suite is bounded by these and by test/run.mjs

export interface dash_target {
  /** The dashboard's address now ("http://127.0.0.1:<port>/"); a restart may change the port. */
  url(): string;
  pass: string;
  /** Stops the app (the process, or the app in it): the device goes offline. */
  stop(): Promise<void>;
  /** Starts it again; resolves when it listens. */
  start(): Promise<void>;
  /** What the upload should give: "stored" (then check(name, bytes) looks at what the board wrote) or "refused" (with this reason). */
  upload: { bytes: number; expect: "stored"; check(name: string, data: Buffer): void } | { bytes: number; expect: "refused"; reason: string };
  /** What the board saved for the settings, if the test can read it (the host's settings.json). */
  saved_settings?(): unknown;
  /** The pictures' names in test/artifacts/: <picture>-1280.png, <picture>-390.png, <picture>-offline.png. */
  picture: string;
}

async function login(page: Page, pass: string): Promise<void> {
  await page.waitForSelector("#loginform", { state: "visible", timeout: WAIT });
  await page.fill("#user", "admin");
  await page.fill("#pass", pass);
  await page.click("#loginbtn");
}

/** A log line in the view: its time (h:mm:ss.mmm since start, or hh:mm:ss.mmm UTC), its level, the message. */
const LOG_LINE = /^\d+:\d\d:\d\d\.\d{3} [EIDV] ./;
const MUTE = "rgb(107, 117, 133)"; // --mute in style.css

/** What sticks out to the right of the viewport: the document, or any element's box. */
async function overflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const w = window.innerWidth;
    const bad: string[] = [];
    const sw = document.documentElement.scrollWidth;
    if (sw > w) bad.push(`the page is ${sw} px wide`);
    for (const el of document.querySelectorAll("body *")) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > w + 0.5) bad.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} ends at ${Math.round(r.right)} px`);
    }
    return bad;
  });
}

/** At this width: nothing overflows; the picture, when named. */
async function at_width(page: Page, width: number, picture: string | null): Promise<void> {
  await page.setViewportSize({ width, height: 900 });
  await page.waitForTimeout(300); // the chart redraws on resize
  assert.equal(await overflow(page), [], `nothing overflows at ${width} px`);
  if (picture !== null) await page.screenshot({ path: join("test/artifacts", picture), fullPage: true });
}

function data_of(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + (i >> 9)) & 255;
  return b;
}

export async function dashboard_in_chromium(t: dash_target): Promise<void> {
  assert.ok(existsSync(CHROMIUM), "Debian's chromium is installed (.ci/run installs it)");
  let browser: Browser | null = null;
  const problems: string[] = [];
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 60000 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    mkdirSync("test/artifacts", { recursive: true });
    page.on("pageerror", (e) => problems.push("page error: " + e.message));
    page.on("console", (m) => {
      // failed requests are judged below, by their URL
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push("console: " + m.text());
    });
    page.on("response", (res) => {
      // expected: 401 from the API before a login, 400 for the invalid setting sent on purpose, the refused upload
      const u = new URL(res.url()).pathname;
      const s = res.status();
      const ok = s < 400 || (s === 401 && u.startsWith("/api/")) || (s === 400 && u === "/api/settings") || (s === 500 && u === "/api/upload" && t.upload.expect === "refused");
      if (!ok) problems.push(`HTTP ${s} for ${u}`);
    });
    // until /api/settings answers (held here) the page says it is connecting: not a blank page
    let answer = (): void => {};
    const held = new Promise<void>((ok) => (answer = ok));
    await page.route("**/api/settings", async (route) => {
      await held;
      await route.continue();
    });
    const r = await page.goto(t.url(), { timeout: WAIT });
    assert.is(r!.status(), 200);
    assert.is(await r!.headerValue("content-encoding"), "gzip", "the packed .gz sibling");
    await page.waitForSelector("#loading", { state: "visible", timeout: WAIT });
    assert.match((await page.textContent("#loading"))!, "Connecting to the device");
    assert.ok((await page.isHidden("#login")) && (await page.isHidden("#dash")));
    answer();
    await page.waitForSelector("#loginform", { state: "visible", timeout: WAIT });
    assert.ok(await page.isHidden("#loading"), "the loading state goes");
    await page.unroute("**/api/settings");

    // login: a wrong password says so, the right one opens the dashboard
    await login(page, "wrong");
    await page.waitForFunction(() => document.getElementById("loginmsg")!.textContent!.includes("Wrong"), null, { timeout: WAIT });
    await login(page, t.pass);
    await page.waitForSelector("#dash", { state: "visible", timeout: WAIT });
    const cookies = await page.context().cookies();
    assert.ok(cookies.some((c) => c.name === "access_token" && c.httpOnly), "token cookie, HttpOnly");

    // live values over the WebSocket: the uptime tile changes by itself, the chart gains points
    await page.waitForFunction(() => document.getElementById("livetext")!.textContent === "live", null, { timeout: WAIT });
    await page.waitForFunction(() => document.getElementById("m-uptime")!.textContent!.endsWith("s"), null, { timeout: WAIT });
    const up1 = await page.textContent("#m-uptime");
    await page.waitForFunction((v) => document.getElementById("m-uptime")!.textContent !== v, up1, { timeout: WAIT });
    assert.match((await page.textContent("#m-heap"))!, /[KM]B$/);
    await page.waitForFunction(() => series.temp.length >= 2, null, { timeout: WAIT });
    // every series with its unit, on the chart's heading
    for (const [k, unit] of [["rssi", / dBm$/], ["heap_free", / [KM]B$/], ["temp", / °C$/]] as const) {
      await page.selectOption("#series", k);
      assert.match((await page.textContent("#chartnow"))!, unit, k);
    }

    // the log: human times since start while the clock is not set (not Mongoose's hex milliseconds)
    await page.waitForFunction(() => document.getElementById("log")!.textContent!.includes("dash: admin logged in"), null, { timeout: WAIT });
    for (const l of await page.$$eval("#log div", (ds) => ds.map((d) => d.textContent))) assert.match(l!, LOG_LINE);
    assert.is(await page.textContent("#logclock"), "times since start (clock not set)");

    // settings: save, see them applied, read back after a reload
    await page.fill("#s-name", "Bench unit 7");
    await page.fill("#s-interval", "300");
    await page.check("#s-led");
    await page.click("#save");
    await page.waitForFunction(() => document.getElementById("settingsmsg")!.textContent === "Saved", null, { timeout: WAIT });
    await page.waitForFunction(() => document.getElementById("m-pin")!.textContent === "HIGH", null, { timeout: WAIT });
    if (t.saved_settings !== undefined) assert.equal(t.saved_settings(), { device_name: "Bench unit 7", log_level: 2, interval_ms: 300, led: true, sntp: "" });
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
    assert.is(await page.textContent("#m-date"), "not synced");
    const ntp = dgram.createSocket("udp4");
    ntp.on("message", (m, ri) => ntp.send(ntp_reply(new Uint8Array(m), opts(Date.UTC(2024, 4, 1, 12, 0, 0))), ri.port, ri.address));
    await new Promise<void>((ok) => ntp.bind(0, "127.0.0.1", ok));
    try {
      await page.fill("#s-sntp", `udp://127.0.0.1:${ntp.address().port}`);
      await page.click("#save");
      await page.waitForFunction(() => document.getElementById("m-time")!.textContent!.startsWith("12:00:"), null, { timeout: WAIT });
      assert.is(await page.textContent("#m-date"), "2024-05-01");
    } finally {
      ntp.close();
    }
    // the log's times are the clock's now (UTC), the lines before the sync too
    await page.waitForFunction(() => document.getElementById("logclock")!.textContent === "times in UTC", null, { timeout: WAIT });
    await page.waitForFunction(() => document.getElementById("log")!.textContent!.includes("dash: clock set by SNTP"), null, { timeout: WAIT });
    const log = await page.$$eval("#log div", (ds) => ds.map((d) => d.textContent!));
    for (const l of log) assert.match(l, LOG_LINE);
    const synced = log.find((l) => l.includes("dash: clock set by SNTP"))!;
    assert.match(synced, /^12:00:0\d\.\d{3} I dash: clock set by SNTP/, synced);

    // the device goes offline: the values stay, greyed, and the header says it reconnects
    const url = t.url();
    await t.stop();
    await page.waitForFunction(() => document.getElementById("livetext")!.textContent === "reconnecting…", null, { timeout: WAIT });
    assert.ok(await page.evaluate(() => document.body.classList.contains("offline")));
    const colours = await page.$$eval(".tile b", (bs) => bs.map((b) => window.getComputedStyle(b).color));
    assert.equal([...new Set(colours)], [MUTE], "the stale values are grey");
    assert.match((await page.textContent("#m-temp"))!, / °C$/, "and still there");
    await page.screenshot({ path: join("test/artifacts", t.picture + "-offline.png"), fullPage: true });

    // back: the settings come back from where the board saved them, the session does not
    await t.start();
    if (t.url() === url) {
      // the same address: the page finds the device again by itself, and asks for a login
      await page.waitForSelector("#loginform", { state: "visible", timeout: WAIT });
      assert.not.ok(await page.evaluate(() => document.body.classList.contains("offline")));
    }
    await page.goto(t.url(), { timeout: WAIT });
    await login(page, t.pass);
    await page.waitForSelector("#dash", { state: "visible", timeout: WAIT });
    assert.is(await page.inputValue("#s-name"), "Bench unit 7");
    assert.ok(await page.isChecked("#s-led"));
    await page.waitForFunction(() => document.getElementById("title")!.textContent === "Bench unit 7", null, { timeout: WAIT });

    // upload: through the multipart part events to the board
    const data = data_of(t.upload.bytes);
    const src = join(tmpdir(), `fw-test-${process.pid}.bin`);
    writeFileSync(src, data);
    await page.setInputFiles("#file", src);
    await page.click("#uploadbtn");
    if (t.upload.expect === "stored") {
      await page.waitForFunction(() => document.getElementById("uploadmsg")!.textContent!.startsWith("Stored"), null, { timeout: WAIT });
      assert.is(await page.textContent("#uploadmsg"), `Stored fw-test-${process.pid}.bin, ${data.length} bytes`);
      t.upload.check(`fw-test-${process.pid}.bin`, data);
    } else {
      await page.waitForFunction(() => document.getElementById("uploadmsg")!.textContent!.startsWith("Upload failed"), null, { timeout: WAIT * 2 });
      assert.is(await page.textContent("#uploadmsg"), "Upload failed: " + t.upload.reason);
    }

    // the log view shows the app's lines, live
    const line = t.upload.expect === "stored" ? `dash: stored fw-test-${process.pid}.bin` : `dash: upload of fw-test-${process.pid}.bin refused: ${t.upload.reason}`;
    await page.waitForFunction((l) => document.getElementById("log")!.textContent!.includes(l), line, { timeout: WAIT });
    assert.ok((await page.textContent("#log"))!.includes("dash: admin logged in"));

    // a few more points on the chart, then the pictures: nothing overflows down to 360 px
    await page.waitForTimeout(1500);
    await at_width(page, 1280, t.picture + "-1280.png");
    await at_width(page, 390, t.picture + "-390.png");
    await at_width(page, 360, null);

    assert.ok(await page.isHidden("#error"), "the page shows no error: " + (await page.textContent("#error")));
    assert.equal(problems, []);
  } finally {
    if (browser !== null) await browser.close();
  }
}
