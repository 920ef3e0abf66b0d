// The HAL: the tiny socket and clock interface beneath the mgts core.
//
// Three implementations sit under it: hal/ecma419.ts (Moddable's ECMA-419
// sockets on the device), hal/node.ts (real sockets for the host simulator)
// and hal/mock.ts (an in-memory, deterministic network for tests).
//
// Shape, chosen to fit ECMA-419 as Moddable really behaves
// (../shared/moddable-facts.md):
// - Sockets are small integer handles. Nothing is allocated per event: the
//   core asks for counts and copies bytes into its own preallocated buffers.
// - Readiness is pulled, not pushed: the core asks readable()/writable() in
//   mg_mgr_poll. The platform's callbacks (onReadable, onWritable, onError)
//   only update counters inside the HAL and call the wake function, so the
//   runtime can schedule a poll; no core code runs inside a socket callback,
//   and no exception can escape into the platform.
// - read() never asks for more than is available (Moddable throws past it);
//   write() may accept fewer bytes than offered (the HAL keeps ECMA-419's
//   all-or-nothing write away from the core by offering at most the writable
//   count).
// - Close and error are one state, as ECMA-419's onError is both.
import type { mg_addr } from "../src/addr.js";

/** Socket states returned by mg_hal.state(). */
export const HAL_CONNECTING = 0; // connect in progress
export const HAL_OPEN = 1; // connected, or a listener / UDP socket that is bound
export const HAL_EOF = 2; // the peer closed and every received byte has been read
export const HAL_ERROR = 3; // refused, reset, or any other failure (ECMA-419 onError)

export interface mg_hal {
  /** Short name for logs and the README ("node", "mock", "ecma419"). */
  readonly name: string;

  /** Monotonic milliseconds. */
  millis(): number;
  /** Fills len bytes at ofs with random bytes. */
  random(buf: Uint8Array, ofs: number, len: number): void;
  /** Default log sink: writes len bytes (one or more whole lines). */
  log(buf: Uint8Array, ofs: number, len: number): void;

  /**
   * Registers the function the HAL calls, asynchronously and never from inside
   * one of its own methods, when anything may have changed: data arrived,
   * buffer space freed, a connection is pending or done, an error, a resolve
   * finished, or the timer set with timer() expired. on = false unregisters.
   * Several managers may share one HAL; each registers its own function.
   */
  wake(fn: () => void, on: boolean): void;
  /**
   * Asks for a call of the wake functions no later than ms from now. Requests
   * do not stack: the HAL keeps one deadline, the earliest asked for, and
   * forgets it once the wake functions have been called.
   */
  timer(ms: number): void;

  /**
   * Opens a listening socket (TCP, or a bound UDP socket when udp) on addr.
   * Returns a handle >= 0, or < 0 on failure. addr.port 0 picks a free port;
   * local() tells which.
   */
  listen(addr: mg_addr, udp: boolean): number;
  /** Starts a connection (TCP) or makes a connected UDP socket. Handle >= 0, or < 0. */
  connect(addr: mg_addr, udp: boolean): number;
  /** Takes the next pending connection of a TCP listener: its handle, or -1 when none is pending. */
  accept(listener: number): number;
  /** One of HAL_CONNECTING, HAL_OPEN, HAL_EOF, HAL_ERROR. */
  state(h: number): number;
  /** Bytes that can be read now without blocking (TCP), or the size of the next datagram (UDP, 0 if none). */
  readable(h: number): number;
  /** Bytes that can be written now (0 while connecting or full). */
  writable(h: number): number;
  /** Copies up to len received bytes into buf at ofs; returns the count (0 if none). Never blocks. */
  read(h: number, buf: Uint8Array, ofs: number, len: number): number;
  /** Sends up to len bytes from buf at ofs; returns how many were taken (0 if none), or < 0 on error. */
  write(h: number, buf: Uint8Array, ofs: number, len: number): number;
  /** UDP: takes the next datagram into buf (cut to len), its sender into from; returns its length or 0. */
  recvfrom(h: number, buf: Uint8Array, ofs: number, len: number, from: mg_addr): number;
  /** UDP: sends one datagram to `to`; returns len, or < 0 on error. */
  sendto(h: number, buf: Uint8Array, ofs: number, len: number, to: mg_addr): number;
  /** Closes the socket; the handle is free afterwards. Called exactly once per handle. */
  close(h: number): void;
  /** Fills out with the local (local = true) or remote address of h. */
  addr(h: number, local: boolean, out: mg_addr): void;

  /** Starts resolving a host name. Returns a request id >= 0, or < 0 if none can start. */
  resolve(host: string, ipv6: boolean): number;
  /** Result of a resolve request: 0 pending, 1 done (out filled, port left as is), -1 failed. A request is freed once it returns non-zero. */
  resolved(req: number, out: mg_addr): number;
  /** Forgets a pending request. */
  resolve_cancel(req: number): void;
}
