// Copyright the multiproc authors. MIT license.
import type { Owner } from "./common.ts";
import assert from "node:assert/strict";
import { A, assertBlocks, B, C, reason, track } from "./_helpers_test.ts";
import { SemaphoreState } from "./semaphore.ts";
import { ConditionState } from "./condition.ts";

Deno.test("ConditionState.notify() wakes the oldest registered tickets first", async () => {
  const cond = new ConditionState();
  const order: string[] = [];
  const ta = cond.register(A);
  const tb = cond.register(B);
  const tc = cond.register(C);
  const waits = [
    track(order, "A", cond.wait(A, ta)),
    track(order, "B", cond.wait(B, tb)),
    track(order, "C", cond.wait(C, tc)),
  ];
  assert.equal(cond.waiting, 3);
  assert.equal(cond.notify(2), 2);
  await Promise.all(waits.slice(0, 2));
  await assertBlocks(waits[2]);
  assert.deepEqual(order, ["A", "B"]);
  assert.equal(cond.notifyAll(), 1);
  assert.equal(await waits[2], true);
  assert.equal(cond.notify(), 0);
  assert.equal(cond.waiting, 0);
});

Deno.test("ConditionState.wait() resolves true when the notify came between register() and wait()", async () => {
  const cond = new ConditionState();
  const ticket = cond.register(A);
  assert.equal(cond.notify(), 1);
  assert.equal(cond.waiting, 0);
  assert.equal(await cond.wait(A, ticket, { timeout: 0 }), true);
  await assert.rejects(cond.wait(A, ticket), Error);
});

Deno.test("ConditionState.wait() resolves false after the timeout and drops the ticket", async () => {
  const cond = new ConditionState();
  const late = cond.register(A);
  const other = cond.register(B);
  assert.equal(await cond.wait(A, late, { timeout: 20 }), false);
  assert.equal(cond.waiting, 1);
  const waiting = cond.wait(B, other);
  assert.equal(cond.notify(), 1);
  assert.equal(await waiting, true);
  const now = cond.register(A);
  assert.equal(await cond.wait(A, now, { timeout: 0 }), false);
  assert.equal(cond.waiting, 0);
});

Deno.test("ConditionState.wait() aborted mid-wait drops the ticket", async () => {
  const cond = new ConditionState();
  const controller = new AbortController();
  const why = reason();
  const waiting = cond.wait(A, cond.register(A), { signal: controller.signal });
  controller.abort(why);
  await assert.rejects(waiting, (e) => e === why);
  assert.equal(cond.waiting, 0);
  assert.equal(cond.notify(), 0);
  await assert.rejects(
    cond.wait(A, cond.register(A), { signal: AbortSignal.abort(why) }),
    (e) => e === why,
  );
  assert.equal(cond.waiting, 0);
});

Deno.test("ConditionState.wait() rejects an unknown ticket or one of another owner", async () => {
  const cond = new ConditionState();
  await assert.rejects(cond.wait(A, 42), /Cannot wait on condition ticket 42/);
  const ticket = cond.register(A);
  await assert.rejects(cond.wait(B, ticket), Error);
  const waiting = cond.wait(A, ticket);
  await assert.rejects(cond.wait(A, ticket), Error);
  cond.notify();
  assert.equal(await waiting, true);
});

Deno.test("ConditionState supports Python's wait_for() loop around a caller-held lock", async () => {
  const lock = new SemaphoreState(1, 1);
  const cond = new ConditionState();
  const items: number[] = [];

  // Python: with cond: result = cond.wait_for(lambda: items); returns the predicate's value.
  async function waitFor(owner: Owner): Promise<number[]> {
    await lock.acquire(owner);
    while (items.length === 0) {
      const ticket = cond.register(owner);
      lock.release(owner);
      await cond.wait(owner, ticket);
      await lock.acquire(owner);
    }
    const taken = items.splice(0);
    lock.release(owner);
    return taken;
  }

  async function produce(owner: Owner, value: number): Promise<void> {
    await lock.acquire(owner);
    items.push(value);
    cond.notify();
    lock.release(owner);
  }

  const consumer = waitFor(A);
  await assertBlocks(consumer);
  assert.equal(cond.waiting, 1);
  await produce(B, 7);
  assert.deepEqual(await consumer, [7]);
  assert.equal(lock.value, 1);
  assert.equal(cond.waiting, 0);
});

Deno.test("ConditionState.dropOwner() forgets a dead owner's tickets and passes on its notification", async () => {
  const cond = new ConditionState();
  const dead = cond.register(A);
  cond.register(A);
  const alive = cond.register(B);
  const waiting = cond.wait(B, alive);
  assert.equal(cond.notify(), 1); // goes to A's first ticket, which A will never consume
  assert.equal(cond.dropOwner(A), 2);
  assert.equal(await waiting, true);
  assert.equal(cond.waiting, 0);
  await assert.rejects(cond.wait(A, dead), Error);
});
