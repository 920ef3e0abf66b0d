// The dashboard's web UI as the device build packs it: tools/pack.mjs writes
// dist/moddable/web.js, which manifest.json lists (and preloads, so the
// assets stay in flash) as the module "mgts-web".
declare module "mgts-web" {
  export const mg_packed_files: { path: string; data: Uint8Array; mtime: number }[];
  export default mg_packed_files;
}
