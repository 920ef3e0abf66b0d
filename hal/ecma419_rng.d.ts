// "mgts-rng": the platform's cryptographic generator, a Moddable module each
// board maps in its manifest (boards/esp32/rng.js: the ESP32's hardware RNG;
// boards/sim/rng.js + rng.c: the OS's on the desktop simulator).
// hal/ecma419_device.ts hands it to the HAL as ecma419_platform.random.
declare module "mgts-rng" {
  /** Fills len bytes of buf from ofs with cryptographically strong random bytes; throws if it cannot. */
  export default function fill(buf: Uint8Array, ofs: number, len: number): void;
}
