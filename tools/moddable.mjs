// mgts on the Moddable SDK, from the command line (test/moddable.ts does the work):
//   npm run moddable -- run [--app echo] [--port 9000] [key=value ...]
//       builds a lin release binary (the dashboard on 8000 by default) and
//       runs it under xvfb-run -a mcsim, starting it again after an XS
//       abort, as a board's reset would; Ctrl-C stops it
//   npm run moddable -- build [--platform esp32/esp32s3] [--app ...] [--port ...] [-i] [key=value ...]
//       builds (lin: the binary; esp32/<board>: the preload, xsc and xsl),
//       prints where it went and every xsl warning
//   npm run moddable -- check
//       the four builds of the test tier (lin, esp32/nodemcu, esp32/esp32s3,
//       esp32/esp32c3); fails on any xsl warning
// The SDK: $MODDABLE, or ../shared/moddable-build.sh beside the checkout.
// Builds go to build/moddable/ (never into the SDK's own build folders).
import { spawnSync } from "node:child_process";

const argv = process.argv.slice(2);
const cmd = argv[0] ?? "run";
function opt(name, dflt) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
}
const config = {};
for (const a of argv) {
  const m = /^([A-Za-z_]\w*)=(.*)$/.exec(a);
  if (m !== null) config[m[1]] = m[2];
}
if (opt("app", null) !== null) config.app = opt("app");
if (opt("port", null) !== null) config.port = opt("port");

const tsc = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
if (tsc.status !== 0) process.exit(1);
const helper = await import("../build/test/moddable.js");
if (helper.moddable_sdk() === null) {
  console.error(`no Moddable SDK: ${helper.moddable_sdk_absent()}`);
  process.exit(2);
}

function report(what, b) {
  console.log(`${what}: ${b.so ?? "preloaded (xsc, xsl)"}${b.built ? "" : " (unchanged, not rebuilt)"}, ${b.warnings.length} xsl warning(s)`);
  for (const w of b.warnings) console.log("  " + w);
}

if (cmd === "build") {
  const platform = opt("platform", "lin");
  const b = await helper.moddable_build({ platform, config, instrument: argv.includes("-i") });
  report(platform, b);
  process.exit(b.warnings.length > 0 ? 1 : 0);
} else if (cmd === "check") {
  let bad = 0;
  for (const platform of ["lin", "esp32/nodemcu", "esp32/esp32s3", "esp32/esp32c3"]) {
    const b = await helper.moddable_build({ platform });
    report(platform, b);
    bad += b.warnings.length;
  }
  process.exit(bad > 0 ? 1 : 0);
} else if (cmd === "run") {
  const b = await helper.moddable_build({ config });
  report("lin", b);
  const s = await helper.moddable_supervise(b.so, (l) => console.log(l));
  const stop = async () => {
    await s.stop();
    process.exit(0);
  };
  process.removeAllListeners("SIGINT");
  process.removeAllListeners("SIGTERM");
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} else {
  console.error("usage: npm run moddable -- run|build|check [--app A] [--port N] [--platform P] [-i] [key=value ...]");
  process.exit(2);
}
