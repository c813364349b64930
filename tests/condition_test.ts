/** Condition across real child processes (and within one process where relevant). */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { Condition, Event, Lock, RLock, Semaphore, SharedArray, Value } from "../mod.ts";
import { eventually, openLifelongResources } from "./_helpers.ts";
import {
  conditionProduce,
  conditionWait,
  conditionWaitCounted,
  hold,
  notifyWithoutLock,
} from "./fixtures/sync_targets.ts";
import { child, children, joinFailed, joinOk, LONG, stillAfter, waitSet } from "./_sync.ts";

openLifelongResources();

// ---------------------------------------------------------------------------
// Condition

Deno.test(
  "Condition.wait() in a child is woken by notify() from the parent and holds the lock again",
  async () => {
    using cond = new Condition();
    const ready = new Event();
    using out = new SharedArray("i", 5);
    await using p = child(conditionWait, cond, ready, out, 1, LONG);
    await waitSet(ready, "ready");
    // The child set `ready` holding the lock, so this succeeds once its wait() has released it.
    ok(await cond.acquire({ timeout: LONG }));
    cond.notify();
    cond.release();
    await joinOk(p);
    deepStrictEqual(out.toArray(), [1, 2, 1, 1, 0]);
  },
);

Deno.test(
  "Condition.wait() fully releases an RLock acquired twice and restores its count",
  async () => {
    using cond = new Condition();
    const ready = new Event();
    using out = new SharedArray("i", 5);
    await using p = child(conditionWait, cond, ready, out, 2, LONG);
    await waitSet(ready, "ready");
    ok(await cond.acquire({ timeout: LONG }), "wait() did not release a doubly held RLock");
    cond.notifyAll();
    cond.release();
    await joinOk(p);
    deepStrictEqual(out.toArray(), [1, 2, 1, 1, 0]);
  },
);

Deno.test("Condition with a given Lock works across processes", async () => {
  using lock = new Lock();
  using cond = new Condition(lock);
  equal(cond.lock, lock);
  const ready = new Event();
  using out = new SharedArray("i", 5);
  await using p = child(conditionWait, cond, ready, out, 1, LONG);
  await waitSet(ready, "ready");
  ok(await cond.acquire({ timeout: LONG }));
  cond.notify();
  cond.release();
  await joinOk(p);
  deepStrictEqual(out.toArray(), [1, 1, 1, 0, 0]);
  equal(lock.locked(), false);
});

Deno.test("Condition uses an RLock by default and rejects a lock that is neither a Lock nor an RLock", () => {
  ok(new Condition().lock instanceof RLock);
  throws(() => new Condition({} as Lock), TypeError);
  throws(() => new Condition(new Semaphore() as unknown as Lock), TypeError);
});

Deno.test(
  "Condition.waitFor() returns the predicate's last value once a child makes it truthy",
  async () => {
    using cond = new Condition();
    using state = new Value("i", 0);
    await using p = child(conditionProduce, cond, state, 3);
    ok(await cond.acquire({ timeout: LONG }));
    const result = await cond.waitFor(() => state.value >= 3 && `done-${state.value}`, {
      timeout: LONG,
    });
    equal(result, "done-3");
    ok((cond.lock as RLock).isOwned(), "waitFor() returned without the lock");
    cond.release();
    await joinOk(p);
  },
);

Deno.test("Condition.waitFor() returns the predicate's falsy last value on timeout, and wait() false", async () => {
  using cond = new Condition();
  ok(await cond.acquire());
  equal(await cond.waitFor(() => 0, { timeout: 50 }), 0);
  equal(await cond.waitFor(() => "", { timeout: 0 }), "");
  equal(await cond.waitFor(() => null, { timeout: 20 }), null);
  equal(await cond.wait({ timeout: 50 }), false);
  ok((cond.lock as RLock).isOwned(), "the lock was not re-acquired after the timeout");
  cond.release();
});

Deno.test(
  "Condition.notify() and wait() without the lock throw, also while another process holds it",
  async () => {
    using cond = new Condition();
    throws(() => cond.notify(), { message: /^Cannot notify on un-acquired lock/ });
    throws(() => cond.notifyAll(), { message: /^Cannot notify on un-acquired lock/ });
    await rejects(cond.wait({ timeout: 10 }), { message: /^Cannot wait on un-acquired lock/ });

    const acquired = new Event();
    const release = new Event();
    await using p = child(hold, cond.lock, acquired, release);
    await waitSet(acquired, "acquired");
    throws(() => cond.notify(), { message: /Cannot notify on un-acquired lock/ });
    release.set();
    await joinOk(p);

    await using q = child(notifyWithoutLock, cond);
    match((await joinFailed(q)).message, /Cannot notify on un-acquired lock/);
  },
);

Deno.test("Condition.notifyAll() wakes every waiting process", async () => {
  using cond = new Condition();
  using waiting = new Value("i", 0);
  using woke = new Value("i", 0);
  using order = new SharedArray("i", 3);
  await using kids = children(
    3,
    (i) => [conditionWaitCounted, cond, waiting, woke, order, i, LONG],
  );
  ok(await eventually(() => waiting.value === 3, LONG), "the waiters did not start");
  // Each counted itself holding the lock, so this succeeds once the last has released it in wait().
  ok(await cond.acquire({ timeout: LONG }));
  cond.notifyAll();
  cond.release();
  await joinOk(...kids);
  equal(woke.value, 3);
  deepStrictEqual(order.toArray().sort(), [0, 1, 2]);
});

Deno.test("Condition.notify() wakes one waiting process, the one that waited first", async () => {
  using cond = new Condition();
  using waiting = new Value("i", 0);
  using woke = new Value("i", 0);
  using order = new SharedArray("i", [-1, -1]);
  await using first = child(conditionWaitCounted, cond, waiting, woke, order, 1, LONG);
  ok(await eventually(() => waiting.value === 1, LONG));
  ok(await cond.acquire({ timeout: LONG })); // the first is now registered
  cond.release();
  await using second = child(conditionWaitCounted, cond, waiting, woke, order, 2, LONG);
  ok(await eventually(() => waiting.value === 2, LONG));
  ok(await cond.acquire({ timeout: LONG })); // the second is now registered
  cond.notify();
  cond.release();
  await joinOk(first);
  equal(woke.value, 1);
  equal(order[0], 1, "notify() did not wake the oldest waiter");
  await stillAfter(200, () => woke.value === 1, "notify() woke more than one waiter");
  ok(await cond.acquire({ timeout: LONG }));
  cond.notify();
  cond.release();
  await joinOk(second);
  deepStrictEqual(order.toArray(), [1, 2]);
});
