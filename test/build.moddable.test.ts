// mgts built by the real Moddable SDK: a lin release binary and the ESP32
// preload (xsc and xsl, the whole core and the apps run at build time) for
// the three ESP32 boards, each with zero xsl warnings. xsl lists every
// module-level object or binding a preloaded module leaves writable
// ("not frozen", "no const"); the rule they break is at the top of
// src/config.ts. The core module ("mgts") is the whole public API bundled
// for the board (src/index.ts re-exports every src/ module), so a new
// module breaking the rule fails here. Runs in the Moddable tier.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { REPO, moddable_build } from "./moddable.js";

function no_warnings(what: string, warnings: string[]): void {
  assert.equal(warnings, [], `${what}: xsl warnings (see "Module state" at the top of src/config.ts):\n${warnings.join("\n")}`);
}

test("lin: mcconfig -m -t build -p lin (release, the default app) builds, and xsl warns about nothing", async () => {
  const b = await moddable_build({});
  assert.ok(b.so !== null && existsSync(b.so) && statSync(b.so).size > 100000, "a binary mcsim can run");
  assert.match(b.log, /# xsl modules/, "xsl ran");
  no_warnings("lin", b.warnings);
});

for (const board of ["esp32/nodemcu", "esp32/esp32s3", "esp32/esp32c3"]) {
  test(`${board}: the preload (xsc, then xsl running every preloaded module) passes with zero warnings`, async () => {
    const b = await moddable_build({ platform: board });
    assert.match(b.log, /# xsl modules/, "xsl ran");
    no_warnings(board, b.warnings);
    // what was preloaded: the board's core, the app and the web UI, with Moddable's sockets
    const flat = JSON.parse(readFileSync(join(REPO, "build/moddable/esp32/tmp", board, "release/mgts/manifest_flat.json"), "utf8"));
    for (const m of ["mgts", "main", "mgts-web", "embedded:io/socket/tcp", "embedded:io/socket/listener"]) assert.ok(flat.preload.includes(m), m + " is preloaded");
    const core = flat.modules.mgts;
    assert.ok(String(core).endsWith(`/dist/moddable/${board === "esp32/nodemcu" ? "esp32" : board.slice(6)}/mgts`), "the board's core: " + core);
  });
}

test("the check fails where it should: a preloaded module with a module-level let and a written array", async () => {
  const b = await moddable_build({
    platform: "esp32/nodemcu",
    extra: { modules: { "mgts-preload-bad": join(REPO, "test/fixtures/preload_bad") }, preload: ["mgts-preload-bad"] },
  });
  const bad = b.warnings.filter((w) => w.includes("mgts-preload-bad"));
  assert.ok(bad.some((w) => /count\(\) calls: no const \(mgts\)$/.test(w)), bad.join("\n"));
  assert.ok(bad.some((w) => /count\(\) seen: not frozen \(mgts\)$/.test(w)), bad.join("\n"));
});

test.run();
