// The host simulator: runs a firmware app over real sockets (hal/node).
//   npm start                          the default app
//   npm start -- --app echo --port 9000 [--host 127.0.0.1]
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const args = process.argv.slice(2);
function opt(name, dflt) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
}
const app = opt("app", "echo");
const port = Number(opt("port", "8000"));
const host = opt("host", "0.0.0.0");

if (!existsSync(`firmware/${app}/main.ts`)) {
  console.error(`no such app: firmware/${app}/main.ts`);
  process.exit(2);
}
// Compile first so the simulator always runs what is in the tree.
const tsc = spawnSync("npx", ["tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const { mg_hal_node } = await import("../build/hal/node.js");
const core = await import("../build/src/index.js");
core.mg_hal_default(mg_hal_node());
const mod = await import(`../build/firmware/${app}/main.js`);
mod.main({ port, host });
