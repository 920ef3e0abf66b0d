// Timers: mg_timer_expired (arm, fire, catch up, clock going back) and the
// timer list (ONCE, REPEAT, RUN_NOW, auto-delete, timer functions that free
// timers), and mg_timer_add through a manager. Runs on Node and XS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  MG_TIMER_AUTODELETE,
  MG_TIMER_CALLED,
  MG_TIMER_ONCE,
  MG_TIMER_REPEAT,
  MG_TIMER_RUN_NOW,
  mg_timer,
  mg_timer_expired,
  mg_timer_init,
  mg_timer_list,
  mg_timer_next,
  mg_timer_poll,
  mg_timer_unlink,
} from "../src/timer.js";
import { mg_mock } from "../hal/mock.js";
import { mg_mgr, mg_mgr_free, mg_mgr_init, mg_mgr_poll, mg_timer_add, mg_timer_free } from "../src/net.js";
import { MG_MAX_TIMERS } from "../src/config.js";
import { mg_log_set_fn } from "../src/log.js";

test("mg_timer_expired: arm, fire, keep the phase, catch up, clock going back", () => {
  const t = [0];
  assert.not.ok(mg_timer_expired(t, 100, 1000), "the first call arms");
  assert.is(t[0], 1100);
  assert.not.ok(mg_timer_expired(t, 100, 1099));
  assert.ok(mg_timer_expired(t, 100, 1100), "fires at the deadline");
  assert.is(t[0], 1200);
  assert.not.ok(mg_timer_expired(t, 100, 1100), "once");
  assert.ok(mg_timer_expired(t, 100, 1250), "late by less than a period");
  assert.is(t[0], 1300, "keeps the phase");
  assert.ok(mg_timer_expired(t, 100, 1700), "late by more than a period");
  assert.is(t[0], 1800, "fires once and re-bases: no burst of catch-up calls");
  assert.not.ok(mg_timer_expired(t, 100, 1750));
  assert.not.ok(mg_timer_expired(t, 100, 5), "the clock went back (wrapped)");
  assert.is(t[0], 105, "re-armed from the new time");
  assert.ok(mg_timer_expired(t, 100, 105));
  const f = new Float64Array(1);
  assert.not.ok(mg_timer_expired(f, 10, 2 ** 40), "a Float64Array holder, large times");
  assert.is(f[0], 2 ** 40 + 10);
  assert.ok(mg_timer_expired(f, 10, 2 ** 40 + 10));
  // the usual MG_EV_POLL idiom: count the firings over a span
  const h = [0];
  let fired = 0;
  for (let now = 1; now <= 1000; now++) if (mg_timer_expired(h, 100, now)) fired++;
  assert.is(fired, 9, "armed at 1, then 101, 201 ... 901");
});

function list_of(l: mg_timer_list): mg_timer[] {
  const out: mg_timer[] = [];
  for (let t = l.head; t !== null; t = t.next) out.push(t);
  return out;
}

test("the timer list: ONCE, REPEAT, RUN_NOW, a long delay, the clock going back", () => {
  const l = new mg_timer_list();
  const v = [0, 0, 0];
  const t1 = new mg_timer();
  const t2 = new mg_timer();
  const t3 = new mg_timer();
  const inc = (i: number) => v[i]++;
  mg_timer_init(l, t1, 5, MG_TIMER_REPEAT, inc, 0);
  mg_timer_init(l, t2, 15, MG_TIMER_ONCE, inc, 1);
  mg_timer_init(l, t3, 10, MG_TIMER_REPEAT | MG_TIMER_RUN_NOW, inc, 2);
  assert.equal(list_of(l), [t3, t2, t1], "newest first");
  mg_timer_poll(l, 1);
  assert.equal(v, [0, 0, 1], "RUN_NOW fires at the first poll, the others arm");
  mg_timer_poll(l, 2);
  assert.equal(v, [0, 0, 1]);
  mg_timer_poll(l, 6);
  assert.equal(v, [1, 0, 1]);
  mg_timer_poll(l, 100);
  assert.equal(v, [2, 1, 2], "after a long delay each fires once");
  mg_timer_poll(l, 104);
  assert.equal(v, [2, 1, 2]);
  mg_timer_poll(l, 105);
  assert.equal(v, [3, 1, 2]);
  mg_timer_poll(l, 110);
  assert.equal(v, [4, 1, 3]);
  mg_timer_poll(l, 200);
  assert.equal(v, [5, 1, 4], "a ONCE timer never fires again");
  assert.ok((t2.flags & MG_TIMER_CALLED) !== 0);
  assert.ok(t2.in_use, "without AUTODELETE it stays in the list");
  mg_timer_poll(l, 3);
  assert.equal(v, [5, 1, 4], "the clock went back: re-armed, nothing fires");
  assert.is(t1.expire, 8);
  mg_timer_poll(l, 8);
  assert.equal(v, [6, 1, 4]);
  mg_timer_unlink(l, t1);
  assert.equal(list_of(l), [t3, t2]);
  assert.not.ok(t1.in_use);
  mg_timer_poll(l, 1000);
  assert.equal(v, [6, 1, 5], "an unlinked timer does not fire");
  mg_timer_unlink(l, t3);
  mg_timer_unlink(l, t2);
  assert.is(l.head, null);
  mg_timer_unlink(l, t2); // not in the list: nothing happens
  assert.is(l.head, null);
});

test("mg_timer_init on a linked timer moves it instead of making a cycle", () => {
  const l = new mg_timer_list();
  const a = new mg_timer();
  const b = new mg_timer();
  let calls = 0;
  mg_timer_init(l, a, 10, MG_TIMER_REPEAT, () => calls++, null);
  mg_timer_init(l, b, 10, MG_TIMER_REPEAT, () => {}, null);
  mg_timer_init(l, a, 3, MG_TIMER_REPEAT, () => (calls += 10), null);
  assert.equal(list_of(l), [a, b]);
  mg_timer_poll(l, 1);
  mg_timer_poll(l, 4);
  assert.is(calls, 10, "the new settings");
});

test("AUTODELETE: a one-shot frees itself after it fires", () => {
  const l = new mg_timer_list();
  const t = new mg_timer();
  let n = 0;
  mg_timer_init(l, t, 5, MG_TIMER_ONCE | MG_TIMER_AUTODELETE, () => n++, null);
  mg_timer_poll(l, 1);
  mg_timer_poll(l, 6);
  assert.is(n, 1);
  assert.is(l.head, null);
  assert.not.ok(t.in_use);
  const r = new mg_timer();
  mg_timer_init(l, r, 5, MG_TIMER_REPEAT | MG_TIMER_AUTODELETE, () => n++, null);
  mg_timer_poll(l, 10);
  mg_timer_poll(l, 15);
  mg_timer_poll(l, 20);
  assert.is(n, 3, "a repeating one stays");
  assert.ok(r.in_use);
});

test("timer functions may free timers, themselves included, and add new ones", () => {
  const l = new mg_timer_list();
  const a = new mg_timer();
  const b = new mg_timer();
  const c = new mg_timer();
  const d = new mg_timer();
  const calls: string[] = [];
  mg_timer_init(l, c, 10, MG_TIMER_REPEAT, () => calls.push("c"), null);
  mg_timer_init(l, b, 10, MG_TIMER_REPEAT, () => calls.push("b"), null);
  mg_timer_init(l, a, 10, MG_TIMER_REPEAT, () => {
    calls.push("a");
    mg_timer_unlink(l, a); // itself
    mg_timer_unlink(l, b); // the next one
    mg_timer_init(l, d, 10, MG_TIMER_REPEAT | MG_TIMER_RUN_NOW, () => calls.push("d"), null);
  }, null);
  mg_timer_poll(l, 1);
  mg_timer_poll(l, 11);
  assert.equal(calls, ["a", "c"], "b was freed before its turn, d waits for the next poll");
  assert.equal(list_of(l), [d, c]);
  mg_timer_poll(l, 12);
  assert.equal(calls, ["a", "c", "d"], "RUN_NOW at its first poll");
  // a one-shot that frees itself and makes a new timer in the same object
  const l2 = new mg_timer_list();
  const t = new mg_timer();
  const got: number[] = [];
  mg_timer_init(l2, t, 5, MG_TIMER_ONCE | MG_TIMER_AUTODELETE, () => {
    got.push(1);
    mg_timer_unlink(l2, t);
    mg_timer_init(l2, t, 5, MG_TIMER_ONCE | MG_TIMER_AUTODELETE, () => got.push(2), null);
  }, null);
  mg_timer_poll(l2, 1);
  mg_timer_poll(l2, 6);
  assert.equal(got, [1]);
  assert.ok(t.in_use, "the new timer is not marked called nor deleted by the old one's poll");
  mg_timer_poll(l2, 7);
  mg_timer_poll(l2, 12);
  assert.equal(got, [1, 2]);
  assert.is(l2.head, null);
});

test("a throwing timer function is logged; the others still run", () => {
  const lines: string[] = [];
  mg_log_set_fn((b, o, n) => {
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(b[o + i]);
    lines.push(s);
  });
  const l = new mg_timer_list();
  let ok = 0;
  const t1 = new mg_timer();
  const t2 = new mg_timer();
  mg_timer_init(l, t1, 1, MG_TIMER_REPEAT, () => ok++, null);
  mg_timer_init(l, t2, 1, MG_TIMER_REPEAT, () => {
    throw new Error("tick failed");
  }, null);
  mg_timer_poll(l, 1);
  mg_timer_poll(l, 2);
  assert.is(ok, 1);
  assert.ok(lines.some((s) => s.includes("tick failed")), "logged");
  mg_log_set_fn(null);
});

test("mg_timer_next: time to the earliest deadline", () => {
  const l = new mg_timer_list();
  assert.is(mg_timer_next(l, 0), -1, "no timers");
  const a = new mg_timer();
  const b = new mg_timer();
  mg_timer_init(l, a, 50, MG_TIMER_REPEAT, () => {}, null);
  assert.is(mg_timer_next(l, 0), 0, "unarmed: the next poll arms it");
  mg_timer_poll(l, 100);
  assert.is(mg_timer_next(l, 100), 50);
  assert.is(mg_timer_next(l, 130), 20);
  assert.is(mg_timer_next(l, 500), 0, "overdue");
  mg_timer_init(l, b, 10, MG_TIMER_REPEAT, () => {}, null);
  mg_timer_poll(l, 110);
  assert.is(mg_timer_next(l, 110), 10);
});

test("mg_timer_add through a manager: a fixed table, one-shots free their slot", () => {
  const net = new mg_mock(4, 1024);
  const mgr = new mg_mgr();
  mg_mgr_init(mgr, net);
  const fired: string[] = [];
  const once = mg_timer_add(mgr, 10, MG_TIMER_ONCE, (arg) => fired.push(arg), "once")!;
  assert.ok(once);
  assert.ok((once.flags & MG_TIMER_AUTODELETE) !== 0);
  const rep = mg_timer_add(mgr, 10, MG_TIMER_REPEAT | MG_TIMER_RUN_NOW, (arg) => fired.push(arg), "rep")!;
  mg_mgr_poll(mgr, 0);
  assert.equal(fired, ["rep"]);
  net.advance(10);
  mg_mgr_poll(mgr, 0);
  assert.equal(fired.slice().sort(), ["once", "rep", "rep"]);
  assert.not.ok(once.in_use, "the one-shot went back to the table");
  const extra: any[] = [];
  for (let i = 0; i < MG_MAX_TIMERS + 2; i++) extra.push(mg_timer_add(mgr, 1000, MG_TIMER_REPEAT, () => {}, null));
  assert.is(extra.filter((t) => t !== null).length, MG_MAX_TIMERS - 1, "the table holds MG_MAX_TIMERS, one is taken");
  assert.is(extra[extra.length - 1], null, "a full table gives null");
  mg_timer_free(mgr, rep);
  assert.ok(mg_timer_add(mgr, 5, MG_TIMER_ONCE, () => {}, null) !== null, "a freed slot is reused");
  mg_mgr_free(mgr);
});

test.run();
