// mgts-rng on the desktop simulator: the OS's cryptographic generator
// (getrandom(2) on Linux, arc4random_buf on macOS, rand_s on Windows), in
// rng.c. XS's Math.random is libc's rand() there, never seeded: the same
// numbers on every launch, so it must not make tokens or keys.
// fill(buf, ofs, len) fills len bytes of the Uint8Array buf from ofs.
export default function fill(buf, ofs, len) @ "xs_mgts_rng_fill";
