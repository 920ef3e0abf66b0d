// Timers (Mongoose's timer.c): mg_timer_expired, and the manager's timer list.
import { MG_LL_ERROR, mg_log_error_value } from "./log.js";

export const MG_TIMER_ONCE = 0; // call once, after period_ms
export const MG_TIMER_REPEAT = 1; // call every period_ms
export const MG_TIMER_RUN_NOW = 2; // also call at the first poll
export const MG_TIMER_CALLED = 4; // set once the timer has fired
export const MG_TIMER_AUTODELETE = 8; // freed after its last call (mg_timer_add sets it)

export class mg_timer {
  period_ms = 0;
  expire = 0; // the next deadline; 0 = not armed yet (armed at the first poll)
  flags = 0;
  fn: ((arg: any) => void) | null = null;
  arg: any = null;
  next: mg_timer | null = null;
  /** False while the timer sits unused in the manager's fixed table. */
  in_use = false;
}

/** Result of timer_step: the new deadline and whether it fired. */
class Step {
  t = 0;
  fired = false;
}
const STEP = new Step();

function timer_step(t: number, prd: number, now: number): void {
  if (now + prd < t) t = 0; // the clock went back: re-arm
  if (t === 0) t = now + prd;
  if (t > now) {
    STEP.t = t;
    STEP.fired = false;
    return;
  }
  STEP.t = now - t > prd ? now + prd : t + prd;
  STEP.fired = true;
}

/**
 * True once `now` has reached the deadline held in t[0], which then moves on
 * by prd (or to now + prd when the caller fell more than a period behind).
 * t[0] == 0 arms it (returns false). A clock that went backwards re-arms it.
 *
 * TypeScript adaptation: C passes a uint64_t *; here t is any one-element
 * holder of a number (a number[] or Float64Array) the caller keeps.
 */
export function mg_timer_expired(t: { [index: number]: number }, prd: number, now: number): boolean {
  timer_step(t[0], prd, now);
  t[0] = STEP.t;
  return STEP.fired;
}

export class mg_timer_list {
  head: mg_timer | null = null;
  table: mg_timer[] = [];
}

/** Links a caller-made timer into the list (mg_timer_init). */
export function mg_timer_init(list: mg_timer_list, t: mg_timer, ms: number, flags: number, fn: (arg: any) => void, arg: any): void {
  t.period_ms = ms;
  t.expire = 0;
  t.flags = flags;
  t.fn = fn;
  t.arg = arg;
  t.in_use = true;
  t.next = list.head;
  list.head = t;
}

/** Unlinks a timer; a table timer goes back to the table. */
export function mg_timer_unlink(list: mg_timer_list, t: mg_timer): void {
  let p = list.head;
  if (p === t) list.head = t.next;
  else {
    while (p !== null && p.next !== t) p = p.next;
    if (p !== null) p.next = t.next;
  }
  t.next = null;
  t.in_use = false;
  t.fn = null;
  t.arg = null;
}

/** Fires what is due. A throwing timer function is logged and does not stop the others. */
export function mg_timer_poll(list: mg_timer_list, now: number): void {
  let t = list.head;
  while (t !== null) {
    const next = t.next;
    const run_now = t.expire === 0 && (t.flags & MG_TIMER_RUN_NOW) !== 0 && (t.flags & MG_TIMER_CALLED) === 0;
    timer_step(t.expire, t.period_ms, now);
    t.expire = STEP.t;
    const expired = STEP.fired;
    if (run_now || expired) {
      if ((t.flags & MG_TIMER_REPEAT) !== 0 || (t.flags & MG_TIMER_CALLED) === 0) {
        const fn = t.fn;
        try {
          if (fn !== null) fn(t.arg);
        } catch (e) {
          mg_log_error_value(MG_LL_ERROR, "timer function threw: ", e);
        }
      }
      t.flags |= MG_TIMER_CALLED;
      if ((t.flags & MG_TIMER_REPEAT) === 0 && (t.flags & MG_TIMER_AUTODELETE) !== 0 && t.in_use) {
        mg_timer_unlink(list, t);
      }
    }
    t = next;
  }
}

/** Milliseconds until the earliest timer is due (0 if one is due or unarmed), or -1 when there are none. */
export function mg_timer_next(list: mg_timer_list, now: number): number {
  let best = -1;
  for (let t = list.head; t !== null; t = t.next) {
    let d = t.expire === 0 ? 0 : t.expire - now; // an unarmed timer is armed by the next poll
    if (d < 0) d = 0;
    if (best < 0 || d < best) best = d;
  }
  return best;
}
