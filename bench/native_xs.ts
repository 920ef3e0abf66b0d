// base64 in JavaScript (src/util.ts) against Moddable's native Base64 (the
// same C module, modules/data/base64, that the xsnap worker installs as the
// global Base64), for bench/native.bench.mjs. Sizes: a WebSocket accept key
// (a 20-byte SHA-1 digest) and 1 KB.
import { mg_base64_encode } from "../src/util.js";

declare const Base64: { encode(data: ArrayBuffer): string };

class State {
  src = new Uint8Array(20);
  dst = new Uint8Array(2048);
  last = "";
}
const S = new State();

export function size(n: number): void {
  S.src = new Uint8Array(n);
  for (let i = 0; i < n; i++) S.src[i] = (i * 37 + 11) & 255;
}

export function js(n: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) k += mg_base64_encode(S.src, 0, S.src.length, S.dst, 0, S.dst.length);
  return k;
}

export function native(n: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) {
    S.last = Base64.encode(S.src.buffer as ArrayBuffer);
    k += S.last.length;
  }
  return k;
}

/** Both give the same text (checked once by the bench). */
export function same(): boolean {
  const n = mg_base64_encode(S.src, 0, S.src.length, S.dst, 0, S.dst.length);
  const s = Base64.encode(S.src.buffer as ArrayBuffer);
  if (s.length !== n) return false;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) !== S.dst[i]) return false;
  return true;
}
