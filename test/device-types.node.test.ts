// The device build's sources, checked without the Moddable SDK: the device
// code typechecks against @moddable/typings (not Node's types), manifest.json
// and boards/ are complete and consistent, and the device app bundles into a
// module that imports only the core and Moddable's modules. What mcconfig
// makes of them is checked by test/build.moddable.test.ts (with the SDK).
// Node-only (runs tsc and rollup).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";

const tsc = "node_modules/typescript/bin/tsc";
const json = (p: string) => JSON.parse(readFileSync(p, "utf8"));

test("tsc -p tsconfig.device.json: no errors, against Moddable's typings only", () => {
  const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.device.json", "--listFiles"], { encoding: "utf8" });
  const out = r.stdout + r.stderr;
  const errors = out.split("\n").filter((l) => l.includes("error TS"));
  assert.equal(errors, [], "type errors:\n" + errors.join("\n"));
  assert.is(r.status, 0, out.slice(-2000));
  const files = out.split("\n").map((l) => l.trim().replace(/\\/g, "/"));
  const has = (p: string) => files.some((f) => f.endsWith(p));
  for (const p of [
    "firmware/device.ts",
    "hal/ecma419_device.ts",
    "hal/ecma419.ts",
    "firmware/dashboard/main.ts",
    "src/net.ts",
    "@moddable/typings/embedded_io/socket/tcp.d.ts",
    "@moddable/typings/timer.d.ts",
  ]) {
    assert.ok(has(p), p + " is in the device program");
  }
  // the device's board glue, once the dashboard has one
  if (existsSync("firmware/dashboard/board_moddable.ts")) assert.ok(has("firmware/dashboard/board_moddable.ts"), "firmware/dashboard/board_moddable.ts is in the device program");
  assert.not.ok(files.some((f) => f.includes("@types/node/")), "Node's types are not visible to device code");
});

test("manifest.json: Moddable's base, instrumentation and debug manifests, abort hook, modules, preload", () => {
  const m = json("manifest.json");
  assert.ok(m.include.includes("$(MODDABLE)/examples/manifest_base.json"));
  assert.ok(m.include.includes("$(MODDABLE)/modules/base/instrumentation/manifest.json"));
  assert.ok(m.include.includes("$(MODDABLE)/modules/base/debug/manifest.json"));
  assert.is(m.config.app, "dashboard");
  assert.is(m.defines.xs.abortHook, 1);
  assert.is(m.modules.main, "./dist/moddable/main");
  assert.is(m.modules["mgts-web"], "./dist/moddable/web");
  // everything is preloaded (flash): the core (mapped per board), the app and the web UI; the pool is made
  // at run time, and test/preload.node.test.ts checks nothing made at preload is written afterwards
  for (const name of ["mgts", "main", "mgts-web"]) assert.ok(m.preload.includes(name), name + " is preloaded");
  assert.ok(typeof m.platforms["..."].error === "string");
  for (const p of ["lin", "mac", "win"]) assert.is(m.platforms[p].include, "./boards/sim/manifest.json");
});

test("boards/: every board mapped, its core bundle named, its config real and small enough", () => {
  const m = json("manifest.json");
  const config_ts = readFileSync("src/config.ts", "utf8");
  const boards = readdirSync("boards").sort();
  for (const b of ["esp32", "esp32s3", "esp32c3", "sim"]) assert.ok(boards.includes(b), b);
  for (const b of boards) {
    const c = json(`boards/${b}/config.json`);
    const bm = json(`boards/${b}/manifest.json`);
    assert.is(bm.modules.mgts, `../../dist/moddable/${b}/mgts`, b);
    assert.ok(typeof bm.modules["mgts-rng"] === "string", `${b}: maps mgts-rng, the platform's cryptographic generator`);
    assert.ok(bm.creation.stack > 0, `${b}: creation.stack (measured: npm run budget)`);
    assert.is(bm.config.port, b === "sim" ? 8000 : 80, `${b}: the default port`);
    for (const k of Object.keys(c.config)) assert.ok(config_ts.includes(`export const ${k} = `), `${b}: ${k} is a constant of src/config.ts`);
    assert.ok(c.config.MG_MAX_CONNS <= 8, `${b}: lwIP has 8 TCP PCBs`);
    assert.ok(c.config.MG_IO_SIZE >= 512, b);
    if (b !== "sim") {
      assert.ok(bm.creation.static > 0 || bm.creation.chunk.initial > 0, `${b}: creation sizes`);
      assert.ok(bm.include.includes("$(MODDABLE)/modules/io/manifest.json"), `${b}: ECMA-419 sockets and Wi-Fi`);
      assert.ok(c.subplatforms.length > 0, b);
      for (const sp of c.subplatforms) assert.is(m.platforms[`esp32/${sp}`]?.include, `./boards/${b}/manifest.json`, `esp32/${sp}`);
    }
  }
  assert.is(m.platforms["esp32/nodemcu"].include, "./boards/esp32/manifest.json");
  assert.is(m.platforms["esp32/esp32s3"].include, "./boards/esp32s3/manifest.json");
  assert.is(m.platforms["esp32/esp32c3"].include, "./boards/esp32c3/manifest.json");
});

test("the device app bundles to one module importing only the core and Moddable's modules", async () => {
  const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.device.json"], { encoding: "utf8" });
  assert.is(r.status, 0, r.stdout + r.stderr);
  const { rollup } = await import("rollup");
  const path = "../../rollup.config.js"; // plain JS: imported at run time, not typechecked
  const configs = (await import(path)).default as any[];
  const cfg = configs.find((c) => c.input === "build/device/firmware/device.js");
  assert.ok(cfg !== undefined, "rollup.config.js bundles the device app");
  const bundle = await rollup({ input: cfg.input, plugins: cfg.plugins, treeshake: cfg.treeshake });
  const { output } = await bundle.generate({ format: "es" });
  await bundle.close();
  const chunk = output[0] as any;
  const allowed = /^(mgts|mgts-web|mgts-rng|mc\/config|time|timer|net|preference|instrumentation|debug|esp32\/ota|embedded:.*)$/;
  const bad = chunk.imports.filter((i: string) => !allowed.test(i));
  assert.equal(bad, [], "imports of the device app");
  assert.ok(chunk.imports.includes("mgts") && chunk.imports.includes("embedded:io/socket/tcp"));
  assert.ok(chunk.exports.includes("default"), "Moddable calls main's default export");
  assert.not.ok(/(from|import\()\s*["']node:/.test(chunk.code));
});

test.run();
