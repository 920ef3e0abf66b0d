// Bundles made from tsc's output in build/ (npm run build runs tsc first,
// and tsc -p tsconfig.device.json for build/device/):
//  - dist/mgts.js, dist/hal-node.js, dist/hal-mock.js: the host bundle, ES
//    modules sharing one copy of the core (package.json "exports").
//  - dist/moddable/<board>/mgts.js, one per boards/<board>/: the core as one
//    module with that board's config folded in; manifest.json maps "mgts" to
//    the one of the board being built.
//  - dist/moddable/main.js: the device app (firmware/device.ts, the
//    dashboard, hal/ecma419*), importing the core from "mgts" and the
//    platform from Moddable's modules; the same for every board.
//  - dist/moddable/mgts.js: the core for MG_BOARD=<board> (or the host
//    config), for a manifest of your own.
// The XS test bundles are made by test/run.mjs.
//
// Config folding: src/config.ts holds plain `export const` literals. The
// mg_config plugin below rewrites them from overrides (a board's
// boards/<board>/config.json, or MGTS_CONFIG='{"MG_ENABLE_WS":false}'),
// and rollup's tree-shaking then drops every branch a constant disables.
import { readFileSync, existsSync, readdirSync } from "node:fs";
import { resolve, sep } from "node:path";
import { rollup } from "rollup";

export function mg_config(overrides) {
  const keys = Object.keys(overrides);
  return {
    name: "mg-config",
    transform(code, id) {
      const file = id.replace(/\\/g, "/");
      if (file.endsWith("/src/index.js")) {
        // A protocol switched off leaves the public API: its module is not
        // re-exported, so nothing keeps it in the bundle (and an app that
        // still calls it fails at build time, not on the device).
        let out = code;
        if (overrides.MG_ENABLE_HTTP === false) out = out.replace(/^export \* from "\.\/(http|ws)\.js";$/gm, "");
        if (overrides.MG_ENABLE_WS === false) out = out.replace(/^export \* from "\.\/ws\.js";$/gm, "");
        if (overrides.MG_ENABLE_SNTP === false || overrides.MG_ENABLE_UDP === false) out = out.replace(/^export \* from "\.\/sntp\.js";$/gm, "");
        if (overrides.MG_ENABLE_RPC === false) out = out.replace(/^export \* from "\.\/rpc\.js";$/gm, "");
        if (overrides.MG_ENABLE_MQTT === false) out = out.replace(/^export \* from "\.\/mqtt(_packet|_broker)?\.js";$/gm, "");
        return out === code ? null : { code: out, map: null };
      }
      if (!file.endsWith("/src/config.js") || keys.length === 0) return null;
      let out = code;
      for (const k of keys) {
        const re = new RegExp(`(export const ${k} = )([^;]+);`);
        if (!re.test(out)) this.error(`mg-config: no constant ${k} in src/config.ts`);
        out = out.replace(re, `$1${JSON.stringify(overrides[k])};`);
      }
      return { code: out, map: null };
    },
  };
}

export function board_overrides(board) {
  const env = process.env.MGTS_CONFIG ? JSON.parse(process.env.MGTS_CONFIG) : {};
  if (!board) return env;
  const file = `boards/${board}/config.json`;
  if (!existsSync(file)) throw new Error(`unknown board ${board}: ${file} is missing`);
  return { ...JSON.parse(readFileSync(file, "utf8")).config, ...env };
}

const treeshake = { moduleSideEffects: false, propertyReadSideEffects: false };

/** The boards: folders of boards/ with a config.json. */
export function boards() {
  return readdirSync("boards", { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(`boards/${d.name}/config.json`))
    .map((d) => d.name)
    .sort();
}

// The device app imports the core through relative paths; in its bundle they
// become the one module "mgts" (src/index re-exports every src/ module), and
// Moddable's modules ("embedded:*", "timer", "net", "mc/config"...) stay imports.
const device_src = resolve("build/device/src") + sep;
function core_as_mgts() {
  return {
    name: "core-as-mgts",
    async resolveId(source, importer) {
      if (importer === undefined) return null;
      if (!source.startsWith(".")) return { id: source, external: true };
      const r = await this.resolve(source, importer, { skipSelf: true });
      if (r !== null && r.id.startsWith(device_src)) return { id: "mgts", external: true };
      return r;
    },
  };
}

const device = existsSync("build/device/firmware/device.js")
  ? [
      ...boards().map((b) => ({
        input: "build/device/src/index.js",
        output: { file: `dist/moddable/${b}/mgts.js`, format: "es" },
        plugins: [mg_config(board_overrides(b))],
        treeshake,
      })),
      {
        input: "build/device/firmware/device.js",
        output: { file: "dist/moddable/main.js", format: "es" },
        plugins: [core_as_mgts()],
        treeshake,
      },
    ]
  : [];

/** The whole public API (tsc's build/src/index.js) bundled with overrides folded: for size checks. */
export async function bundle_api(overrides) {
  const b = await rollup({ input: "build/src/index.js", plugins: [mg_config(overrides)], treeshake });
  const { output } = await b.generate({ format: "es" });
  await b.close();
  return output[0].code;
}

export default [
  {
    input: { mgts: "build/src/index.js", "hal-node": "build/hal/node.js", "hal-mock": "build/hal/mock.js" },
    output: { dir: "dist", format: "es", chunkFileNames: "[name].js" },
    external: (id) => id.startsWith("node:"),
    plugins: [mg_config(board_overrides(null))],
    treeshake,
  },
  {
    input: "build/src/index.js",
    output: { file: "dist/moddable/mgts.js", format: "es" },
    plugins: [mg_config(board_overrides(process.env.MG_BOARD || null))],
    treeshake,
  },
  ...device,
];
