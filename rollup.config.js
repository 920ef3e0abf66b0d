// Bundles made from tsc's output in build/ (npm run build runs tsc first):
//  - dist/mgts.js, dist/hal-node.js, dist/hal-mock.js: the host bundle, ES
//    modules sharing one copy of the core (package.json "exports").
//  - dist/moddable/mgts.js: the module the Moddable manifest lists, one file,
//    with the board's config folded in (MG_BOARD=esp32 etc.).
// The XS test bundles are made by test/run.mjs.
//
// Config folding: src/config.ts holds plain `export const` literals. The
// mg_config plugin below rewrites them from overrides (a board's
// boards/<board>/config.json, or MGTS_CONFIG='{"MG_ENABLE_WS":false}'),
// and rollup's tree-shaking then drops every branch a constant disables.
import { readFileSync, existsSync } from "node:fs";

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
];
