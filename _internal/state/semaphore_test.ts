// Copyright the multiproc authors. MIT license.
import assert from "node:assert/strict";
import { A, assertBlocks, B, C, reason, track } from "./_helpers_test.ts";
import { SemaphoreState } from "./semaphore.ts";

Deno.test("SemaphoreState() rejects a negative initial value with Python's text", () => {
  assert.throws(() => new SemaphoreState(-1), {
    name: "RangeError",
    message: "Semaphore initial value must be >= 0",
  });
  assert.throws(() => new SemaphoreState(1.5), RangeError);
  assert.throws(() => new SemaphoreState(2, 1), RangeError);
});

Deno.test("SemaphoreState.acquire() takes a free permit at once", async () => {
  const sem = new SemaphoreState(2);
  assert.deepEqual(await sem.acquire(A), { acquired: true, ownerDied: false });
  assert.deepEqual(sem.tryAcquire(B), { acquired: true, ownerDied: false });
  assert.equal(sem.value, 0);
  assert.deepEqual(sem.tryAcquire(C), { acquired: false, ownerDied: false });
  assert.equal(sem.heldBy(A), 1);
  assert.equal(sem.heldBy(B), 1);
});

Deno.test("SemaphoreState.acquire() serves waiters in FIFO order", async () => {
  const sem = new SemaphoreState(0);
  const order: string[] = [];
  const waits = [A, B, C].map((owner) => track(order, `owner ${owner}`, sem.acquire(owner)));
  await assertBlocks(waits[0]);
  assert.equal(sem.waiting, 3);
  sem.release(A);
  sem.release(A);
  sem.release(A);
  await Promise.all(waits);
  assert.deepEqual(order, ["owner 1", "owner 2", "owner 3"]);
  assert.equal(sem.value, 0);
});

Deno.test("SemaphoreState.release() hands the permit to the waiter before a later tryAcquire()", async () => {
  const lock = new SemaphoreState(1, 1);
  assert.equal(lock.tryAcquire(A).acquired, true);
  const waiting = lock.acquire(B);
  lock.release(A);
  assert.equal(lock.value, 0);
  assert.equal(lock.tryAcquire(C).acquired, false);
  assert.deepEqual(await waiting, { acquired: true, ownerDied: false });
  assert.equal(lock.heldBy(B), 1);
});

Deno.test("SemaphoreState.release(n) wakes n waiters", async () => {
  const sem = new SemaphoreState(0);
  const waits = [sem.acquire(A), sem.acquire(B), sem.acquire(C)];
  sem.release(A, 2);
  assert.equal((await waits[0]).acquired, true);
  assert.equal((await waits[1]).acquired, true);
  await assertBlocks(waits[2]);
  sem.release(A);
  assert.equal((await waits[2]).acquired, true);
  assert.throws(() => sem.release(A, 0), RangeError);
});

Deno.test("SemaphoreState.acquire() resolves acquired: false after the timeout", async () => {
  const sem = new SemaphoreState(0);
  assert.deepEqual(await sem.acquire(A, { timeout: 20 }), { acquired: false, ownerDied: false });
  assert.deepEqual(await sem.acquire(A, { timeout: 0 }), { acquired: false, ownerDied: false });
  assert.equal(sem.waiting, 0);
  sem.release(B);
  assert.equal(sem.value, 1);
  assert.equal(sem.heldBy(A), 0);
});

Deno.test("SemaphoreState.acquire() rejects with the reason of an already aborted signal, even with a free permit", async () => {
  const sem = new SemaphoreState(1);
  const why = reason();
  await assert.rejects(sem.acquire(A, { signal: AbortSignal.abort(why) }), (e) => e === why);
  assert.equal(sem.value, 1);
});

Deno.test("SemaphoreState.acquire() aborted mid-wait gives up its place in the queue", async () => {
  const sem = new SemaphoreState(0);
  const controller = new AbortController();
  const why = reason();
  const first = sem.acquire(A, { signal: controller.signal });
  const second = sem.acquire(B);
  controller.abort(why);
  await assert.rejects(first, (e) => e === why);
  sem.release(C);
  assert.equal((await second).acquired, true);
  assert.equal(sem.heldBy(A), 0);
  assert.equal(sem.heldBy(B), 1);
});

Deno.test("SemaphoreState.release() past the bound throws Python's ValueError text", () => {
  const sem = new SemaphoreState(1, 1);
  assert.throws(() => sem.release(A), {
    name: "Error",
    message: "Cannot release semaphore: semaphore released too many times",
  });
  assert.equal(sem.value, 1);
  sem.tryAcquire(A);
  assert.throws(() => sem.release(A, 2), {
    message: "Cannot release semaphore: semaphore released too many times",
  });
  assert.equal(sem.value, 0);
  assert.equal(sem.heldBy(A), 1);
});

Deno.test("SemaphoreState.release() of an unbounded semaphore may exceed the initial value", () => {
  const sem = new SemaphoreState(1);
  sem.release(A);
  assert.equal(sem.value, 2);
});

Deno.test("SemaphoreState.dropOwner() releases a dead holder's permits and reports ownerDied to the waiter", async () => {
  const lock = new SemaphoreState(1, 1);
  lock.tryAcquire(A);
  const waiting = lock.acquire(B);
  assert.equal(lock.dropOwner(A), 1);
  assert.deepEqual(await waiting, { acquired: true, ownerDied: true });
  assert.equal(lock.dropOwner(A), 0);
  lock.release(B);
  assert.deepEqual(lock.tryAcquire(C), { acquired: true, ownerDied: false });
});

Deno.test("SemaphoreState.dropOwner() marks free permits so the next acquirer learns the owner died", () => {
  const sem = new SemaphoreState(3);
  sem.tryAcquire(A);
  sem.tryAcquire(A);
  sem.tryAcquire(B);
  assert.equal(sem.dropOwner(A), 2);
  assert.equal(sem.value, 2);
  assert.deepEqual(sem.tryAcquire(C), { acquired: true, ownerDied: true });
  assert.deepEqual(sem.tryAcquire(C), { acquired: true, ownerDied: true });
  sem.release(B);
  assert.deepEqual(sem.tryAcquire(C), { acquired: true, ownerDied: false });
});

Deno.test("SemaphoreState.release() by a non-holder is charged to the holder, so dropOwner() frees nothing twice", () => {
  const lock = new SemaphoreState(1, 1);
  lock.tryAcquire(A);
  lock.release(B); // Python allows any process to release a multiprocessing.Lock.
  assert.equal(lock.heldBy(A), 0);
  lock.tryAcquire(C);
  assert.equal(lock.dropOwner(A), 0);
  assert.equal(lock.value, 0);
  assert.equal(lock.tryAcquire(B).acquired, false);
});

Deno.test("SemaphoreState.over() shared words: a release through one state wakes a waiter of another", async () => {
  const owner = SemaphoreState.shared(0);
  const hub = SemaphoreState.over(owner.words);
  const waiting = hub.acquire(A);
  await assertBlocks(waiting);
  owner.release(B);
  assert.deepEqual(await waiting, { acquired: true, ownerDied: false });
  assert.equal(owner.value, 0);
  assert.equal(hub.heldBy(A), 1);
  // A dead holder's permit, returned through the hub, reaches the owner's state with ownerDied.
  assert.equal(hub.dropOwner(A), 1);
  assert.deepEqual(await owner.acquire(B, { timeout: 0 }), { acquired: true, ownerDied: true });
});

Deno.test("SemaphoreState.over() shared words: a waiter times out and a bound is shared", async () => {
  const owner = SemaphoreState.shared(1, 1);
  const hub = SemaphoreState.over(owner.words, 1);
  assert.equal((await owner.acquire(A)).acquired, true);
  assert.deepEqual(await hub.acquire(B, { timeout: 20 }), { acquired: false, ownerDied: false });
  assert.equal(hub.waiting, 0);
  hub.release(B);
  assert.throws(() => owner.release(A), { message: /released too many times/ });
  assert.equal(hub.value, 1);
});
