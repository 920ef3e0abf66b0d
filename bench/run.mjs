// npm run bench: compiles, then runs each bench/*.bench.mjs in turn (never
// two at once: they measure). `npm run bench -- http` runs matching files.
// Each prints its figures as Markdown; BENCHMARKS.md records them with the
// command that produced them.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

const filters = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const tsc = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
if (tsc.status !== 0) process.exit(1);
const files = readdirSync("bench")
  .filter((f) => f.endsWith(".bench.mjs"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
let bad = 0;
for (const f of files) {
  console.log(`\n## bench/${f}\n`);
  const r = spawnSync(process.execPath, [`bench/${f}`], { stdio: "inherit", timeout: 600000 });
  if (r.status !== 0) bad++;
}
process.exit(bad > 0 ? 1 : 0);
