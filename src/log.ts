// Logging (Mongoose's log.c): levels, the MG_ERROR..MG_VERBOSE calls, a
// replaceable sink, and hex dumps.
//
// With MG_ENABLE_LOG false every function here returns at once; rollup then
// drops the calls, so logging costs no bytes in the bundle.
import { MG_ENABLE_LOG, MG_LOG_LEVEL_DEFAULT, MG_LOG_LINE } from "./config.js";
import { mg_va, mg_vxprintf, mg_xout, mg_xputc, mg_xputs } from "./fmt.js";

export const MG_LL_NONE = 0;
export const MG_LL_ERROR = 1;
export const MG_LL_INFO = 2;
export const MG_LL_DEBUG = 3;
export const MG_LL_VERBOSE = 4;

/**
 * A log sink gets whole lines as bytes (buf[ofs..ofs+len), ending in "\n").
 * TypeScript adaptation: Mongoose's sink is called once per character; one
 * call per line suits JavaScript sinks (a UART write, trace(), a file) better.
 * Lines end in "\n", not Mongoose's "\r\n": the sinks (console, trace) add
 * their own line ending when they need one. The prefix is "<millis, 6 hex
 * digits> <level> ": there is no __FILE__:__LINE__ in JavaScript.
 */
export type mg_log_fn = (buf: Uint8Array, ofs: number, len: number, param: any) => void;

class LogState {
  level = MG_LOG_LEVEL_DEFAULT;
  fn: mg_log_fn | null = null;
  param: any = null;
  hal_fn: mg_log_fn | null = null; // the default sink, installed by mg_mgr_init from the HAL
  line = new Uint8Array(MG_LOG_LINE);
  out = new mg_xout();
  ap = new mg_va();
  millis: () => number = zero;
  /** The arguments of an MG_ERROR..MG_VERBOSE call, gathered without rest parameters. */
  args: any[] = [undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined];
}
function zero(): number {
  return 0;
}
// Run-time state (config.ts: module state).
function log_state(): LogState {
  return ((globalThis as any).mgts_log ??= new LogState());
}

export function mg_log_set(level: number): void {
  log_state().level = level;
}
export function mg_log_level(): number {
  return log_state().level;
}
/** Sends log lines to fn instead of the HAL's sink; null restores the HAL's. */
export function mg_log_set_fn(fn: mg_log_fn | null, param?: any): void {
  const S = log_state();
  S.fn = fn;
  S.param = param;
}
/** Called by mg_mgr_init: the HAL's sink and clock. */
export function mg_log_init(hal_fn: mg_log_fn, millis: () => number): void {
  const S = log_state();
  S.hal_fn = hal_fn;
  S.millis = millis;
}

function begin(S: LogState, level: number): mg_xout {
  const o = S.out;
  o.buf = S.line;
  o.ofs = 0;
  o.cap = MG_LOG_LINE - 1; // room for the newline
  o.n = 0;
  const t = Math.floor(S.millis()) % 0x1000000;
  for (let k = 20; k >= 0; k -= 4) mg_xputc(o, cca.call(HEX, (t >> k) & 15)); // no string made
  mg_xputc(o, 32);
  mg_xputc(o, 48 + level);
  mg_xputc(o, 32);
  return o;
}

function end(S: LogState, o: mg_xout): void {
  let n = o.n > o.cap ? o.cap : o.n;
  o.buf[n++] = 10;
  const fn = S.fn ?? S.hal_fn;
  if (fn === null) return;
  try {
    fn(o.buf, 0, n, S.param);
  } catch {
    // a broken sink must not take the event loop down with it
  }
}

/** mg_log(level, fmt, args): formats one line if level is enabled. */
export function mg_log(level: number, fmt: string, args: ArrayLike<any>): void {
  if (!MG_ENABLE_LOG) return;
  const S = log_state();
  if (level > S.level) return;
  const o = begin(S, level);
  const ap = S.ap;
  ap.a = args;
  ap.i = 0;
  mg_vxprintf(o, fmt, ap);
  ap.a = NOARGS;
  end(S, o);
}
const NOARGS: readonly any[] = Object.freeze([]);

/**
 * The MG_ERROR..MG_VERBOSE calls take up to 8 arguments after the format.
 * TypeScript adaptation: C's MG_INFO(("fmt", ...)) is a macro; here each is a
 * function with fixed optional parameters, not rest parameters, because on
 * XS a rest array costs heap slots on every call, even when the level is
 * off. The level is tested before anything is formatted.
 */
function log8(S: LogState, level: number, fmt: string, a: any, b: any, c: any, d: any, e: any, f: any, g: any, h: any): void {
  const v = S.args;
  v[0] = a; v[1] = b; v[2] = c; v[3] = d; v[4] = e; v[5] = f; v[6] = g; v[7] = h;
  mg_log(level, fmt, v);
  v.fill(undefined); // keep no references to the caller's objects
}
export function MG_ERROR(fmt: string, a?: any, b?: any, c?: any, d?: any, e?: any, f?: any, g?: any, h?: any): void {
  if (!MG_ENABLE_LOG) return;
  const S = log_state();
  if (S.level >= MG_LL_ERROR) log8(S, MG_LL_ERROR, fmt, a, b, c, d, e, f, g, h);
}
export function MG_INFO(fmt: string, a?: any, b?: any, c?: any, d?: any, e?: any, f?: any, g?: any, h?: any): void {
  if (!MG_ENABLE_LOG) return;
  const S = log_state();
  if (S.level >= MG_LL_INFO) log8(S, MG_LL_INFO, fmt, a, b, c, d, e, f, g, h);
}
export function MG_DEBUG(fmt: string, a?: any, b?: any, c?: any, d?: any, e?: any, f?: any, g?: any, h?: any): void {
  if (!MG_ENABLE_LOG) return;
  const S = log_state();
  if (S.level >= MG_LL_DEBUG) log8(S, MG_LL_DEBUG, fmt, a, b, c, d, e, f, g, h);
}
export function MG_VERBOSE(fmt: string, a?: any, b?: any, c?: any, d?: any, e?: any, f?: any, g?: any, h?: any): void {
  if (!MG_ENABLE_LOG) return;
  const S = log_state();
  if (S.level >= MG_LL_VERBOSE) log8(S, MG_LL_VERBOSE, fmt, a, b, c, d, e, f, g, h);
}

/** Logs a caught exception (any thrown value) with a prefix. */
export function mg_log_error_value(level: number, prefix: string, e: unknown): void {
  if (!MG_ENABLE_LOG) return;
  const S = log_state();
  if (level > S.level) return;
  const o = begin(S, level);
  mg_xputs(o, prefix);
  let msg: string;
  try {
    msg = e instanceof Error ? e.message : String(e);
  } catch {
    msg = "?";
  }
  mg_xputs(o, msg);
  end(S, o);
}

const HEX = "0123456789abcdef";
const cca = String.prototype.charCodeAt;

/**
 * Hex dump through the log at level INFO regardless of mg_log_set, as
 * Mongoose does: 16 bytes a row, offset, hex, then the printable characters.
 * The row is "0010  41 42 ...  AB..": two spaces after the offset and before
 * the characters, which are not padded (Mongoose puts three and pads them to
 * 16), one sink call per row.
 */
export function mg_hexdump(buf: Uint8Array, ofs: number, len: number): void {
  if (!MG_ENABLE_LOG) return;
  const S = log_state();
  for (let row = 0; row < len; row += 16) {
    const o = begin(S, MG_LL_INFO);
    o.n = 0; // hex dump rows carry no prefix
    for (let k = 12; k >= 0; k -= 4) mg_xputc(o, cca.call(HEX, (row >> k) & 15));
    mg_xputc(o, 32);
    mg_xputc(o, 32);
    for (let i = 0; i < 16; i++) {
      if (row + i < len) {
        const b = buf[ofs + row + i];
        mg_xputc(o, cca.call(HEX, b >> 4));
        mg_xputc(o, cca.call(HEX, b & 15));
      } else {
        mg_xputc(o, 32);
        mg_xputc(o, 32);
      }
      mg_xputc(o, 32);
    }
    mg_xputc(o, 32);
    for (let i = 0; i < 16 && row + i < len; i++) {
      const b = buf[ofs + row + i];
      mg_xputc(o, b >= 32 && b < 127 ? b : 46);
    }
    end(S, o);
  }
}
