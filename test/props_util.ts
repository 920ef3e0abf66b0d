// Shared by the property-based suites (test/props-*.test.ts; not a suite
// itself): fast-check with a fixed seed and a bounded number of runs, so a
// run is the same on every machine and engine, and a failure says the seed
// (fast-check's report adds the path and the counterexample, to replay it).
import fc from "fast-check";
import { mg_mock_bytes } from "../hal/mock.js";
export { concat } from "./bytes_util.js";

/** The XS worker has no process object: fewer runs there (it is ~10x slower than V8). */
export const ON_XS = typeof (globalThis as any).process === "undefined";

/** Checks pred on runs generated values from seed (a quarter of them on XS). */
export function prop<T>(seed: number, runs: number, arb: fc.Arbitrary<T>, pred: (v: T) => boolean | void): void {
  const numRuns = ON_XS ? Math.max(10, runs >> 2) : runs;
  try {
    fc.assert(fc.property(arb, pred), { seed, numRuns });
  } catch (e) {
    throw new Error(`property failed with fixed seed ${seed} (${numRuns} runs): ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A string of the given characters (one per unit). */
export function chars(set: string, minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...set.split("")), minLength, maxLength });
}

const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/** RFC 9110 token characters. */
export const TCHAR = ALNUM + "!#$%&'*+-.^_`|~";
export const token = (max = 10) => chars(TCHAR, 1, max);
/** Visible ASCII (0x21-0x7E). */
export const VCHAR = (() => {
  let s = "";
  for (let c = 0x21; c <= 0x7e; c++) s += String.fromCharCode(c);
  return s;
})();
/** Bytes of a field value: SP, HTAB, VCHAR and some obs-text, as Latin-1 characters. */
export const FIELD = VCHAR + " \t\x80\xa9\xe9\xff";

/** Latin-1 bytes of a string (one byte per character). */
export const bytes = mg_mock_bytes;

/** Cut points of n bytes into pieces: the sizes of consecutive pieces (each >= 1), from a list of fractions. */
export function pieces(n: number, cuts: number[]): number[] {
  const at = cuts.map((f) => Math.floor(f * n)).filter((x) => x > 0 && x < n);
  at.sort((a, b) => a - b);
  const out: number[] = [];
  let last = 0;
  for (const x of at) {
    if (x > last) {
      out.push(x - last);
      last = x;
    }
  }
  if (n > last) out.push(n - last);
  return out;
}
/** Fractions for pieces(): up to max cut points. */
export const cut_points = (max = 12) => fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: max });

/** A random edit of s: flip, insert or delete bytes, or cut it (fuzzing from a valid input). */
export function mutation(s: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.constant(s),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 4 }).map((edits) => {
      let b = Array.from(s);
      for (const [at, v, kind] of edits) {
        const i = b.length === 0 ? 0 : at % (b.length + (kind === 1 ? 1 : 0));
        if (kind === 0 && b.length > 0) b[i] = v;
        else if (kind === 1) b.splice(i, 0, v);
        else if (b.length > 0) b.splice(i, 1);
      }
      return new Uint8Array(b);
    }),
    fc.nat().map((k) => s.slice(0, s.length === 0 ? 0 : k % s.length)),
  );
}
