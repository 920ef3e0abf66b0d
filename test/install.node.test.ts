// The Node version, stated truthfully: package.json's engines is the range
// mgts supports, the README says the same, every package in the lock file
// accepts the lowest version of each part of that range, and `npm ci` on
// this machine prints no EBADENGINE. Node-only.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

type Ver = [number, number, number];

function ver(s: string): Ver {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(s.trim());
  if (m === null) throw new Error(`not a version: ${s}`);
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}
function cmp(a: Ver, b: Ver): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Whether v satisfies one comparator of an npm range (">=14", "^20.9", "~1.2.3", "1.x", "*"). */
function comparator(v: Ver, c: string): boolean {
  if (c === "" || c === "*" || c === "x") return true;
  const m = /^(>=|<=|>|<|=|\^|~)?\s*v?(\d+|x|\*)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(c);
  if (m === null) throw new Error(`range not understood: ${c}`);
  const op = m[1] ?? "";
  const parts = [m[2], m[3], m[4]];
  const given = parts.findIndex((p) => p === undefined || p === "x" || p === "*");
  const n = given < 0 ? 3 : given; // how many numbers were given
  const lo: Ver = [Number(parts[0]) || 0, n > 1 ? Number(parts[1]) : 0, n > 2 ? Number(parts[2]) : 0];
  const up = (k: number): Ver => (k === 0 ? [lo[0] + 1, 0, 0] : k === 1 ? [lo[0], lo[1] + 1, 0] : [lo[0], lo[1], lo[2] + 1]);
  if (op === ">=") return cmp(v, lo) >= 0;
  if (op === ">") return n === 3 ? cmp(v, lo) > 0 : cmp(v, up(n - 1)) >= 0;
  if (op === "<") return cmp(v, lo) < 0;
  if (op === "<=") return n === 3 ? cmp(v, lo) <= 0 : cmp(v, up(n - 1)) < 0;
  if (op === "^") return cmp(v, lo) >= 0 && cmp(v, up(lo[0] !== 0 || n === 1 ? 0 : lo[1] !== 0 || n === 2 ? 1 : 2)) < 0;
  if (op === "~") return cmp(v, lo) >= 0 && cmp(v, up(n === 1 ? 0 : 1)) < 0;
  return cmp(v, lo) >= 0 && cmp(v, up(n - 1)) < 0; // "20", "20.9", "20.9.1"
}
function satisfies(v: Ver, range: string): boolean {
  return range.split("||").some((set) => {
    const cs = set.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, "$1").split(/\s+/);
    return cs.every((c) => comparator(v, c));
  });
}
/** The lowest version each part of a range ("^20.9 || ^22.11") admits. */
function lowest(range: string): Ver[] {
  return range.split("||").map((set) => ver(set.trim().replace(/^[\^~>=\s]+/, "")));
}

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const RANGE: string = pkg.engines?.node;

test("the range check itself", () => {
  assert.ok(satisfies(ver("20.20.2"), "^20.9 || ^22.11"));
  assert.not.ok(satisfies(ver("21.0.0"), "^20.9 || ^22.11"));
  assert.not.ok(satisfies(ver("20.20.2"), ">=22"));
  assert.ok(satisfies(ver("20.9.0"), ">= 0.4"));
  assert.ok(satisfies(ver("20.9.0"), "^8.16.0 || ^10.6.0 || >=11.0.0"));
  assert.not.ok(satisfies(ver("0.3.0"), "^0.2.1"));
  assert.ok(satisfies(ver("1.9.0"), "1.x"));
});

test("package.json says which Node versions mgts runs on; the running Node is one of them", () => {
  assert.type(RANGE, "string", "engines.node in package.json");
  assert.ok(satisfies(ver(process.version), RANGE), `${process.version} in ${RANGE}`);
});

test("every locked package accepts the lowest version of each part of that range", () => {
  const bad: string[] = [];
  for (const [path, p] of Object.entries<any>(lock.packages)) {
    const want = p.engines?.node;
    if (path === "" || typeof want !== "string" || p.optional) continue; // optional ones (fsevents) are skipped when they do not fit
    for (const v of lowest(RANGE)) if (!satisfies(v, want)) bad.push(`${path.replace(/^.*node_modules\//, "")} wants ${want}, not ${v.join(".")}`);
  }
  assert.equal(bad, []);
});

test("the README states the same range", () => {
  const readme = readFileSync("README.md", "utf8");
  for (const v of lowest(RANGE)) assert.ok(readme.includes(`${v[0]}.${v[1]}`), `the README names Node ${v[0]}.${v[1]}`);
  assert.not.match(readme, /Node\.js 20 or later/);
});

test("npm ci on this machine warns no EBADENGINE (a dry run over the lock file)", () => {
  const r = spawnSync("npm", ["ci", "--dry-run", "--offline", "--no-audit", "--no-fund"], { encoding: "utf8", timeout: 120000 });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.not.match(r.stdout + r.stderr, "EBADENGINE");
});

test.run();
