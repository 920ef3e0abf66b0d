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
// - TLS is a property of a socket, below the core: tls() wraps an open TCP
//   socket; the core keeps moving plaintext through read() and write(), and
//   sees the handshake as the state HAL_TLS_HS. A HAL without tls() cannot do
//   TLS, and the core refuses https://, wss:// and mqtts:// over it.
import type { mg_addr } from "../src/addr.js";

/** Socket states returned by mg_hal.state(). */
export const HAL_CONNECTING = 0; // connect in progress
export const HAL_OPEN = 1; // connected, or a listener / UDP socket that is bound
export const HAL_EOF = 2; // the peer closed and every received byte has been read
export const HAL_ERROR = 3; // refused, reset, or any other failure (ECMA-419 onError)
export const HAL_TLS_HS = 4; // after tls(): the handshake runs; then HAL_OPEN, or HAL_ERROR with error() naming the cause

/**
 * What the core hands to tls(): one object per pooled connection, filled
 * before each call. Certificates and keys are bytes (PEM, or DER for one
 * certificate or key) or PEM text, as the app passed them.
 */
export interface mg_hal_tls {
  /** The accepting side (a TLS server on an accepted socket). */
  server: boolean;
  /** Trusted CAs. Client: null = the platform's roots. Server: non-null asks for and checks client certificates. */
  ca: Uint8Array | string | null;
  /** Our certificate and its private key: a server's (required), or a client's for mutual TLS. */
  cert: Uint8Array | string | null;
  key: Uint8Array | string | null;
  /** Client: the SNI name, and the name the server's certificate must carry (a DNS name or an IP literal). */
  name: string;
  /** Accept any certificate and name (the core logs a warning). */
  skip_verification: boolean;
}

/**
 * The causes tls() failures are reported with (error()), the same words on
 * every HAL; a HAL adds its detail in parentheses.
 */
export const TLS_UNKNOWN_CA = "TLS: unknown CA";
export const TLS_WRONG_NAME = "TLS: wrong host name";
export const TLS_EXPIRED = "TLS: certificate expired";
export const TLS_NOT_YET_VALID = "TLS: certificate not yet valid";
export const TLS_HANDSHAKE = "TLS: handshake failed";
export const TLS_NOT_TLS = "TLS: peer is not TLS";
export const TLS_CLOSED = "TLS: closed during handshake";
export const TLS_REJECTED = "TLS: peer rejected our certificate";
export const TLS_NO_CLIENT_CERT = "TLS: no client certificate";
export const TLS_BAD_CREDENTIALS = "TLS: bad certificate or key";

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

  /**
   * TLS, where the platform has it (absent: no TLS). Starts TLS on h, an
   * open TCP socket whose bytes the core has not read yet: state() is
   * HAL_TLS_HS, with readable() and writable() 0, until the handshake and
   * the verification of the peer succeed (HAL_OPEN) or fail (HAL_ERROR).
   * From then on read() gives plaintext and write() takes plaintext. Nothing
   * the core writes reaches the peer before verification has succeeded. o is
   * read during the call only. Never throws: a failure is HAL_ERROR.
   */
  tls?(h: number, o: mg_hal_tls): void;
  /**
   * Why h is in HAL_ERROR: one of the TLS_* causes above (with detail); for a
   * listener or UDP socket that could not bind, the system's code and words
   * ("EADDRINUSE: address already in use"); or "" when the HAL has no cause to give.
   */
  error?(h: number): string;
}
