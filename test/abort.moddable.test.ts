// What the device does when something escapes, on Moddable's lin build
// (firmware/device.ts, abort_test=...). An exception nothing catches reaches
// XS's abort hook, which logs it and keeps the app running. A stack overflow
// never reaches the hook (XS skips it: the stack is not safe to run on):
// XS logs "XS abort: JavaScript stack overflow" and, on an ESP32, restarts
// the chip (fxAbort → c_exit → esp_restart, xs/platforms/esp); on lin mcsim
// crashes, and the supervisor (npm run moddable -- run) starts it again, as
// the board's reset would. Runs in the Moddable tier.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { moddable_build, moddable_start, moddable_supervise } from "./moddable.js";

test("an exception nothing catches is logged by the abort hook, and the app goes on serving", async () => {
  const b = await moddable_build({ config: { app: "http-server", port: 0, abort_test: "exception" } });
  const app = await moddable_start(b.so!);
  try {
    await app.wait_line(/^mgts: abort: unhandled exception: Error: abort_test/, 15000, 0);
    const r = await fetch(`http://127.0.0.1:${app.ports.tcp[0]}/api/stats`);
    assert.is(r.status, 200, "still serving after the exception");
    assert.ok(app.running());
    assert.not.ok(app.lines.some((l) => /restarting/.test(l)), "not restarted");
  } finally {
    await app.stop();
  }
});

test("a JavaScript stack overflow: XS logs it and the app is started again, not left hanging", async () => {
  const b = await moddable_build({ config: { app: "http-server", port: 0, abort_test: "stack" } });
  const s = await moddable_supervise(b.so!);
  try {
    await s.wait_line(/^XS abort: JavaScript stack overflow/, 20000);
    await s.wait_line(/^moddable: mcsim .*starting it again \(boot 2\)/, 20000);
    await s.wait_line(/^mgts: ready http-server/, 30000);
    assert.ok(s.boots() >= 2, "booted again");
    assert.ok(s.lines.filter((l) => /^mgts: listening tcp port \d+/.test(l)).length >= 2, "listening again after the restart");
  } finally {
    await s.stop();
  }
});

test.run();
