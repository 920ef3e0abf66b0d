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
  /** Bumped when the timer is linked or unlinked: tells mg_timer_poll a timer was freed or re-made mid-poll. */
  gen = 0;
}

/** Result of timer_step: the new deadline and whether it fired. Run-time state (config.ts: module state). */
class Step {
  t = 0;
  fired = false;
}
function step_state(): Step {
  return ((globalThis as any).mgts_timer ??= new Step());
}

function timer_step(STEP: Step, t: number, prd: number, now: number): void {
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
  const STEP = step_state();
  timer_step(STEP, t[0], prd, now);
  t[0] = STEP.t;
  return STEP.fired;
}

export class mg_timer_list {
  head: mg_timer | null = null;
  table: mg_timer[] = [];
  /** The timers due in the current poll, and their generations: grown to the longest list seen, then reused. */
  due: mg_timer[] = [];
  due_gen: number[] = [];
}

/** Links a caller-made timer into the list (mg_timer_init); one already linked is moved, not linked twice. */
export function mg_timer_init(list: mg_timer_list, t: mg_timer, ms: number, flags: number, fn: (arg: any) => void, arg: any): void {
  if (t.in_use) mg_timer_unlink(list, t); // linking it again would make a cycle
  t.gen++;
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
  t.gen++;
  t.fn = null;
  t.arg = null;
}

/**
 * Fires what is due. A throwing timer function is logged and does not stop
 * the others.
 *
 * Two passes: the list is walked first, advancing deadlines and noting what
 * is due; then the due timers are called. So a timer function may free or
 * add any timer, itself included: a timer freed (or freed and added again)
 * before its turn is skipped, a timer added runs from the next poll. Mongoose
 * calls as it walks and reads the next pointer before the call, so freeing
 * the next timer from a timer function walks into freed memory.
 */
export function mg_timer_poll(list: mg_timer_list, now: number): void {
  const due = list.due, gens = list.due_gen;
  const STEP = step_state();
  let n = 0;
  for (let t = list.head; t !== null; t = t.next) {
    const run_now = t.expire === 0 && (t.flags & MG_TIMER_RUN_NOW) !== 0 && (t.flags & MG_TIMER_CALLED) === 0;
    timer_step(STEP, t.expire, t.period_ms, now);
    t.expire = STEP.t;
    if (run_now || STEP.fired) {
      due[n] = t;
      gens[n++] = t.gen;
    }
  }
  for (let k = 0; k < n; k++) {
    const t = due[k];
    due[k] = NO_TIMER; // hold no references between polls
    if (t.gen !== gens[k]) continue; // freed or re-made by a timer function of this poll
    if ((t.flags & MG_TIMER_REPEAT) !== 0 || (t.flags & MG_TIMER_CALLED) === 0) {
      const fn = t.fn;
      const gen = t.gen;
      try {
        if (fn !== null) fn(t.arg);
      } catch (e) {
        mg_log_error_value(MG_LL_ERROR, "timer function threw: ", e);
      }
      if (t.gen !== gen) continue; // it freed or re-made itself
    }
    t.flags |= MG_TIMER_CALLED;
    if ((t.flags & MG_TIMER_REPEAT) === 0 && (t.flags & MG_TIMER_AUTODELETE) !== 0) mg_timer_unlink(list, t);
  }
}
const NO_TIMER = Object.freeze(new mg_timer()) as mg_timer; // fills used slots of mg_timer_list.due

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
