// Copyright the multiproc authors. MIT license.
import assert from "node:assert/strict";
import { BrokenBarrierError, Empty, errorByName, Full, QueueClosed } from "./errors.ts";
import { Waiters } from "./waiters.ts";
import {
  BarrierState,
  ConditionState,
  EventState,
  type Owner,
  QueueState,
  SemaphoreState,
} from "./state.ts";

const A: Owner = 1;
const B: Owner = 2;
const C: Owner = 3;

/** Whether `promise` is still pending once microtasks and one macrotask have run. */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let pending = true;
  promise.then(() => pending = false, () => pending = false);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return pending;
}

/** Asserts that `promise` blocks: it has not settled after a macrotask. */
async function assertBlocks(promise: Promise<unknown>): Promise<void> {
  assert.equal(await isPending(promise), true, "expected the call to block");
}

/** Records the order in which promises resolve. */
function track<T>(order: string[], name: string, promise: Promise<T>): Promise<T> {
  return promise.then((value) => {
    order.push(name);
    return value;
  });
}

/** A reason to abort with, recognisable by identity. */
function reason(): Error {
  return new Error("stopped by the test");
}

// ---------------------------------------------------------------------------
// errors

Deno.test("errors have their class name and accept a cause", () => {
  const cause = new Error("inner");
  for (const Class of [Empty, Full, BrokenBarrierError, QueueClosed]) {
    const error = new Class("message", { cause });
    assert.ok(error instanceof Error);
    assert.equal(error.name, Class.name);
    assert.equal(error.message, "message");
    assert.equal(error.cause, cause);
  }
});

Deno.test("errorByName() rebuilds library, built-in and abort errors", () => {
  for (
    const Class of [Empty, Full, BrokenBarrierError, QueueClosed, TypeError, RangeError, Error]
  ) {
    const error = errorByName(Class.name, "m");
    assert.ok(error instanceof Class);
    assert.equal(error.name, Class.name);
    assert.equal(error.message, "m");
  }
  const abort = errorByName("AbortError", "a");
  assert.ok(abort instanceof DOMException);
  assert.equal(abort.name, "AbortError");
  const custom = errorByName("ValueError", "v");
  assert.equal(custom.constructor, Error);
  assert.equal(custom.name, "ValueError");
  assert.equal(custom.message, "v");
});

// ---------------------------------------------------------------------------
// Waiters

Deno.test("Waiters.wakeFirst() resolves waiters in FIFO order", async () => {
  const waiters = new Waiters<string>();
  const order: string[] = [];
  const first = track(order, "first", waiters.wait({}, () => "timeout"));
  const second = track(order, "second", waiters.wait({}, () => "timeout"));
  assert.equal(waiters.size, 2);
  assert.equal(waiters.wakeFirst("a"), true);
  assert.equal(waiters.wakeFirst("b"), true);
  assert.equal(waiters.wakeFirst("c"), false);
  assert.equal(waiters.size, 0);
  assert.deepEqual(await Promise.all([first, second]), ["a", "b"]);
  assert.deepEqual(order, ["first", "second"]);
});

Deno.test("Waiters.wait() settles with onTimeout() after the timeout and leaves the list", async () => {
  const waiters = new Waiters<string>();
  let sizeInHook = -1;
  const result = await waiters.wait({ timeout: 20 }, () => {
    sizeInHook = waiters.size;
    return "timed out";
  });
  assert.equal(result, "timed out");
  assert.equal(sizeInHook, 0);
  assert.equal(waiters.size, 0);
});

Deno.test("Waiters.wait() rejects with the Error that onTimeout() returns", async () => {
  const waiters = new Waiters<string>();
  await assert.rejects(waiters.wait({ timeout: 20 }, () => new Empty("none")), Empty);
});

Deno.test("Waiters.wait() with a timeout <= 0 settles on the next microtask without waiting", async () => {
  const waiters = new Waiters<string>();
  for (const timeout of [0, -1, NaN]) {
    const promise = waiters.wait({ timeout }, () => "now");
    assert.equal(waiters.size, 0);
    assert.equal(waiters.wakeFirst("woken"), false);
    assert.equal(await promise, "now");
  }
});

Deno.test("Waiters.wait() rejects at once with the reason of an already aborted signal", async () => {
  const waiters = new Waiters<string>();
  const why = reason();
  let timedOut = false;
  const promise = waiters.wait({ signal: AbortSignal.abort(why), timeout: 20 }, () => {
    timedOut = true;
    return "timeout";
  });
  assert.equal(waiters.size, 0);
  await assert.rejects(promise, (error) => error === why);
  assert.equal(timedOut, false);
});

Deno.test("Waiters.wait() rejects with the signal's reason when aborted mid-wait", async () => {
  const waiters = new Waiters<string, Owner>();
  const controller = new AbortController();
  const why = reason();
  let sizeInHook = -1;
  const promise = waiters.wait({ signal: controller.signal, timeout: 10_000 }, () => "timeout", {
    data: A,
    onAbort: () => sizeInHook = waiters.size,
  });
  const other = waiters.wait({}, () => "timeout", { data: B });
  await assertBlocks(promise);
  controller.abort(why);
  await assert.rejects(promise, (error) => error === why);
  assert.equal(sizeInHook, 1);
  assert.equal(waiters.peek(), B);
  waiters.wakeFirst("b");
  assert.equal(await other, "b");
});

Deno.test("Waiters.wait() removes its abort listener and timer once settled", async () => {
  const waiters = new Waiters<string>();
  const controller = new AbortController();
  let listeners = 0;
  const signal = controller.signal;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (...args: Parameters<typeof add>) => {
    listeners++;
    add(...args);
  };
  signal.removeEventListener = (...args: Parameters<typeof remove>) => {
    listeners--;
    remove(...args);
  };
  let aborted = false;
  // The 10 s timer would fail the test's op sanitizer if it were left behind.
  const promise = waiters.wait({ signal, timeout: 10_000 }, () => "timeout", {
    onAbort: () => aborted = true,
  });
  assert.equal(listeners, 1);
  waiters.wakeFirst("woken");
  assert.equal(await promise, "woken");
  assert.equal(listeners, 0);
  controller.abort();
  assert.equal(aborted, false);
});

Deno.test("Waiters.wait() with an infinite or very long timeout does not expire early", async () => {
  const waiters = new Waiters<string>();
  // Beyond 2 ** 31 - 1 ms, a plain setTimeout would fire at once.
  const waits = [Infinity, 2 ** 31 + 5].map((timeout) =>
    waiters.wait({ timeout }, () => "expired")
  );
  await assertBlocks(waits[0]);
  await assertBlocks(waits[1]);
  waiters.wakeAll("woken");
  assert.deepEqual(await Promise.all(waits), ["woken", "woken"]);
});

Deno.test("Waiters.wakeAll() and rejectAll() settle every waiter", async () => {
  const waiters = new Waiters<number>();
  const woken = [waiters.wait({}, () => 0), waiters.wait({ timeout: 10_000 }, () => 0)];
  assert.equal(waiters.wakeAll(7), 2);
  assert.deepEqual(await Promise.all(woken), [7, 7]);
  const rejected = [waiters.wait({}, () => 0), waiters.wait({ timeout: 10_000 }, () => 0)];
  const error = new Error("all");
  assert.equal(waiters.rejectAll(error), 2);
  for (const promise of rejected) await assert.rejects(promise, (e) => e === error);
  assert.equal(waiters.size, 0);
});

Deno.test("Waiters.wakeFirstWhere() wakes the oldest waiter whose data matches", async () => {
  const waiters = new Waiters<string, number>();
  const one = waiters.wait({}, () => "t", { data: 1 });
  const two = waiters.wait({}, () => "t", { data: 2 });
  const three = waiters.wait({}, () => "t", { data: 2 });
  assert.equal(waiters.some((d) => d === 2), true);
  assert.equal(waiters.some((d) => d === 4), false);
  assert.equal(waiters.wakeFirstWhere((d) => d === 2, "two"), true);
  assert.equal(waiters.wakeFirstWhere((d) => d === 4, "four"), false);
  assert.equal(await two, "two");
  assert.equal(waiters.peek(), 1);
  waiters.wakeAll("rest");
  assert.deepEqual(await Promise.all([one, three]), ["rest", "rest"]);
  assert.equal(waiters.peek(), undefined);
});

// ---------------------------------------------------------------------------
// SemaphoreState

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
    message: "Semaphore released too many times",
  });
  assert.equal(sem.value, 1);
  sem.tryAcquire(A);
  assert.throws(() => sem.release(A, 2), { message: "Semaphore released too many times" });
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

// ---------------------------------------------------------------------------
// EventState

Deno.test("EventState.wait() resolves true at once when the event is set", async () => {
  const event = new EventState();
  event.set();
  assert.equal(event.isSet, true);
  assert.equal(await event.wait(), true);
  assert.equal(await event.wait({ timeout: 0 }), true);
});

Deno.test("EventState.set() wakes every waiter with true", async () => {
  const event = new EventState();
  const waits = [event.wait(), event.wait({ timeout: 10_000 })];
  await assertBlocks(waits[0]);
  assert.equal(event.waiting, 2);
  event.set();
  assert.deepEqual(await Promise.all(waits), [true, true]);
});

Deno.test("EventState.wait() resolves false after the timeout, or at once with a timeout <= 0", async () => {
  const event = new EventState();
  assert.equal(await event.wait({ timeout: 20 }), false);
  assert.equal(await event.wait({ timeout: 0 }), false);
  event.set();
  event.clear();
  assert.equal(event.isSet, false);
  assert.equal(await event.wait({ timeout: -5 }), false);
});

Deno.test("EventState.wait() rejects with the signal's reason, already aborted or mid-wait", async () => {
  const event = new EventState();
  const why = reason();
  await assert.rejects(event.wait({ signal: AbortSignal.abort(why) }), (e) => e === why);
  const controller = new AbortController();
  const waiting = event.wait({ signal: controller.signal });
  controller.abort(why);
  await assert.rejects(waiting, (e) => e === why);
  assert.equal(event.waiting, 0);
});

// ---------------------------------------------------------------------------
// ConditionState

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

// ---------------------------------------------------------------------------
// BarrierState

Deno.test("BarrierState() rejects fewer than one party", () => {
  assert.throws(() => new BarrierState(0, false), RangeError);
});

Deno.test("BarrierState.wait() gives each party a distinct index in arrival order and is reusable", async () => {
  const barrier = new BarrierState(3, false);
  for (let cycle = 0; cycle < 2; cycle++) {
    const first = barrier.wait(A);
    const second = barrier.wait(B);
    await assertBlocks(first);
    assert.equal(barrier.nWaiting, 2);
    const last = barrier.wait(C);
    const results = await Promise.all([first, second, last]);
    assert.deepEqual(results.map((r) => r.index), [0, 1, 2]);
    assert.ok(results.every((r) => !r.runAction));
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  }
  assert.equal(barrier.parties, 3);
});

Deno.test("BarrierState.wait() of a single party passes at once", async () => {
  assert.deepEqual(await new BarrierState(1, false).wait(A), { index: 0, runAction: false });
});

Deno.test("BarrierState.wait() makes the last party run the action before the others are released", async () => {
  const barrier = new BarrierState(2, true);
  const first = barrier.wait(A);
  assert.deepEqual(await barrier.wait(B), { index: 1, runAction: true });
  await assertBlocks(first);
  assert.equal(barrier.nWaiting, 1);
  barrier.actionDone(true);
  assert.deepEqual(await first, { index: 0, runAction: false });
  assert.equal(barrier.broken, false);
  barrier.actionDone(true); // nothing pending: ignored
});

Deno.test("BarrierState.actionDone(false) breaks the barrier for the waiting parties", async () => {
  const barrier = new BarrierState(3, true);
  const waits = [barrier.wait(A), barrier.wait(B)];
  assert.equal((await barrier.wait(C)).runAction, true);
  barrier.actionDone(false);
  for (const waiting of waits) await assert.rejects(waiting, BrokenBarrierError);
  assert.equal(barrier.broken, true);
  await assert.rejects(
    barrier.wait(A),
    /Cannot pass the barrier as it is broken: its action failed/,
  );
});

Deno.test("BarrierState.wait() timeout breaks the barrier for that party and all others", async () => {
  const barrier = new BarrierState(3, false);
  const patient = barrier.wait(A);
  const hasty = barrier.wait(B, { timeout: 20 });
  await assert.rejects(hasty, {
    name: "BrokenBarrierError",
    message: "Cannot pass the barrier as a party timed out after 20 ms",
  });
  await assert.rejects(patient, BrokenBarrierError);
  assert.equal(barrier.broken, true);
  assert.equal(barrier.nWaiting, 0);
  await assert.rejects(barrier.wait(C), BrokenBarrierError);
  barrier.reset();
  assert.equal(barrier.broken, false);
});

Deno.test("BarrierState.wait() uses the default timeout when none is given", async () => {
  const barrier = new BarrierState(2, false, 20);
  await assert.rejects(barrier.wait(A), BrokenBarrierError);
  assert.equal(barrier.broken, true);
});

Deno.test("BarrierState.wait() with a timeout <= 0 breaks the barrier unless it is the last arrival", async () => {
  const barrier = new BarrierState(2, false);
  const first = barrier.wait(A, { timeout: 0 });
  await assert.rejects(first, BrokenBarrierError);
  assert.equal(barrier.broken, true);
  barrier.reset();
  const waiting = barrier.wait(A);
  assert.deepEqual(await barrier.wait(B, { timeout: 0 }), { index: 1, runAction: false });
  assert.equal((await waiting).index, 0);
});

Deno.test("BarrierState.abort() breaks the barrier for waiting and later parties", async () => {
  const barrier = new BarrierState(3, false);
  const waiting = barrier.wait(A);
  barrier.abort();
  await assert.rejects(waiting, /Cannot pass the barrier as it was aborted/);
  await assert.rejects(barrier.wait(B), BrokenBarrierError);
});

Deno.test("BarrierState.reset() rejects the waiting parties and leaves a usable barrier", async () => {
  const barrier = new BarrierState(2, false);
  const waiting = barrier.wait(A);
  barrier.reset();
  await assert.rejects(waiting, { message: "Cannot pass the barrier as it was reset" });
  assert.equal(barrier.broken, false);
  const again = barrier.wait(A);
  await barrier.wait(B);
  assert.equal((await again).index, 0);
});

Deno.test("BarrierState.wait() aborted mid-wait rejects with the reason and breaks the barrier for the others", async () => {
  const barrier = new BarrierState(3, false);
  const controller = new AbortController();
  const why = reason();
  const other = barrier.wait(A);
  const aborted = barrier.wait(B, { signal: controller.signal });
  controller.abort(why);
  await assert.rejects(aborted, (e) => e === why);
  await assert.rejects(other, BrokenBarrierError);
  assert.equal(barrier.broken, true);
});

Deno.test("BarrierState.wait() with an already aborted signal rejects without breaking the barrier", async () => {
  const barrier = new BarrierState(2, false);
  const why = reason();
  await assert.rejects(barrier.wait(A, { signal: AbortSignal.abort(why) }), (e) => e === why);
  assert.equal(barrier.broken, false);
  assert.equal(barrier.nWaiting, 0);
});

Deno.test("BarrierState.dropOwner() breaks the barrier only if the owner was waiting or running the action", async () => {
  const barrier = new BarrierState(3, true);
  const waiting = barrier.wait(A);
  assert.equal(barrier.dropOwner(B), false);
  assert.equal(barrier.dropOwner(A), true);
  await assert.rejects(waiting, { message: "Cannot pass the barrier as a party died" });
  barrier.reset();
  const others = [barrier.wait(A), barrier.wait(B)];
  assert.equal((await barrier.wait(C)).runAction, true);
  assert.equal(barrier.dropOwner(C), true);
  for (const other of others) await assert.rejects(other, BrokenBarrierError);
});

// ---------------------------------------------------------------------------
// QueueState

Deno.test("QueueState.get() returns items in FIFO order", async () => {
  const queue = new QueueState();
  await queue.put(A, "a");
  await queue.put(A, { b: 1 });
  assert.equal(queue.qsize, 2);
  assert.equal(queue.empty, false);
  assert.equal(queue.full, false);
  assert.equal(await queue.get(B), "a");
  assert.deepEqual(await queue.get(B), { b: 1 });
  assert.equal(queue.empty, true);
});

Deno.test("QueueState.put() hands the item directly to the oldest waiting getter", async () => {
  const queue = new QueueState();
  const order: string[] = [];
  const first = track(order, "A", queue.get(A));
  const second = track(order, "B", queue.get(B));
  await assertBlocks(first);
  assert.equal(queue.getting, 2);
  await queue.put(C, 1);
  assert.equal(queue.qsize, 0);
  await queue.put(C, 2);
  assert.deepEqual(await Promise.all([first, second]), [1, 2]);
  assert.deepEqual(order, ["A", "B"]);
});

Deno.test("QueueState.get() rejects with Empty after the timeout, or at once with a timeout <= 0", async () => {
  const queue = new QueueState();
  await assert.rejects(queue.get(A, { timeout: 20 }), {
    name: "Empty",
    message: "Cannot get from the queue as it is still empty after 20 ms",
  });
  await assert.rejects(queue.get(A, { timeout: 0 }), {
    name: "Empty",
    message: "Cannot get from the queue as it is empty",
  });
  assert.equal(queue.getting, 0);
  await queue.put(B, "x");
  assert.equal(await queue.get(A, { timeout: 0 }), "x");
});

Deno.test("QueueState.put() on a full queue waits for room in FIFO order", async () => {
  const queue = new QueueState({ maxsize: 1 });
  await queue.put(A, 1);
  assert.equal(queue.full, true);
  const second = queue.put(A, 2);
  const third = queue.put(B, 3);
  await assertBlocks(second);
  assert.equal(queue.putting, 2);
  assert.equal(await queue.get(C), 1);
  await second;
  await assertBlocks(third);
  assert.equal(queue.qsize, 1);
  assert.equal(await queue.get(C), 2);
  await third;
  assert.equal(await queue.get(C), 3);
});

Deno.test("QueueState.put() rejects with Full after the timeout, or at once with a timeout <= 0", async () => {
  const queue = new QueueState({ maxsize: 1 });
  await queue.put(A, 1);
  await assert.rejects(queue.put(A, 2, { timeout: 20 }), {
    name: "Full",
    message: "Cannot put to the queue as it is still full after 20 ms",
  });
  await assert.rejects(queue.put(A, 2, { timeout: 0 }), Full);
  assert.equal(queue.putting, 0);
  assert.equal(queue.qsize, 1);
  assert.equal(await queue.get(B), 1);
  assert.equal(queue.qsize, 0);
});

Deno.test("QueueState.put() does not overtake waiting putters when room appears", async () => {
  const queue = new QueueState({ maxsize: 1 });
  await queue.put(A, 1);
  const waiting = queue.put(A, 2);
  await queue.get(B);
  await assert.rejects(queue.put(C, 3, { timeout: 0 }), Full);
  await waiting;
  assert.equal(await queue.get(B), 2);
});

Deno.test("QueueState.get() rejects with the signal's reason, already aborted or mid-wait", async () => {
  const queue = new QueueState();
  const why = reason();
  await queue.put(A, "kept");
  await assert.rejects(queue.get(B, { signal: AbortSignal.abort(why) }), (e) => e === why);
  assert.equal(await queue.get(B), "kept");
  const controller = new AbortController();
  const aborted = queue.get(B, { signal: controller.signal });
  const next = queue.get(C);
  controller.abort(why);
  await assert.rejects(aborted, (e) => e === why);
  await queue.put(A, "for C");
  assert.equal(await next, "for C");
});

Deno.test("QueueState.put() aborted mid-wait does not enqueue its item", async () => {
  const queue = new QueueState({ maxsize: 1 });
  await queue.put(A, 1);
  const controller = new AbortController();
  const why = reason();
  const aborted = queue.put(A, 2, { signal: controller.signal });
  controller.abort(why);
  await assert.rejects(aborted, (e) => e === why);
  assert.equal(await queue.get(B), 1);
  assert.equal(queue.qsize, 0);
});

Deno.test("QueueState.close() rejects puts and waiting putters with QueueClosed", async () => {
  const queue = new QueueState({ maxsize: 1 });
  await queue.put(A, 1);
  const waiting = queue.put(A, 2);
  queue.close();
  queue.close();
  assert.equal(queue.closed, true);
  await assert.rejects(waiting, {
    name: "QueueClosed",
    message: "Cannot put to the queue as it is closed",
  });
  await assert.rejects(queue.put(A, 3), QueueClosed);
  assert.throws(() => queue.putMany(A, [4]), QueueClosed);
});

Deno.test("QueueState.close() lets gets drain what is left, then rejects them with QueueClosed", async () => {
  const queue = new QueueState();
  await queue.put(A, 1);
  await queue.put(A, 2);
  queue.close();
  assert.equal(await queue.get(B), 1);
  assert.deepEqual(await queue.getMany(B, 5), [2]);
  await assert.rejects(queue.get(B), {
    name: "QueueClosed",
    message: "Cannot get from the queue as it is closed and empty",
  });
  await assert.rejects(queue.getMany(B, 2, { timeout: 0 }), QueueClosed);
});

Deno.test("QueueState.close() rejects getters waiting on an empty queue with QueueClosed", async () => {
  const queue = new QueueState();
  const waits = [queue.get(A), queue.getMany(B, 3)];
  queue.close();
  for (const waiting of waits) await assert.rejects(waiting, QueueClosed);
  assert.equal(queue.getting, 0);
});

Deno.test("QueueState.getMany() takes up to max available items", async () => {
  const queue = new QueueState();
  queue.putMany(A, [1, 2, 3, 4, 5]);
  assert.deepEqual(await queue.getMany(B, 2), [1, 2]);
  assert.deepEqual(await queue.getMany(B, 10), [3, 4, 5]);
  await assert.rejects(queue.getMany(B, 0), RangeError);
  await assert.rejects(queue.getMany(B, 1.5), RangeError);
});

Deno.test("QueueState.getMany() waits for the first item, then returns what is there", async () => {
  const queue = new QueueState();
  const waiting = queue.getMany(A, 3);
  await assertBlocks(waiting);
  await queue.put(B, "one");
  assert.deepEqual(await waiting, ["one"]);
  await assert.rejects(queue.getMany(A, 3, { timeout: 20 }), Empty);
});

Deno.test("QueueState.putMany() hands batches to waiting getters, then queues the rest", async () => {
  const queue = new QueueState();
  const many = queue.getMany(A, 2);
  const one = queue.get(B);
  queue.putMany(C, [1, 2, 3, 4]);
  assert.deepEqual(await many, [1, 2]);
  assert.equal(await one, 3);
  assert.equal(queue.qsize, 1);
  assert.equal(await queue.get(A), 4);
});

Deno.test("QueueState.putMany() throws Full when a bounded queue has no room for all items", async () => {
  const queue = new QueueState({ maxsize: 3 });
  queue.putMany(A, [1, 2]);
  assert.throws(() => queue.putMany(A, [3, 4]), Full);
  assert.equal(queue.qsize, 2);
  queue.putMany(A, [3]);
  assert.equal(queue.full, true);
  queue.putMany(A, []);
  assert.deepEqual(await queue.getMany(B, 3), [1, 2, 3]);
});

Deno.test("QueueState treats maxsize <= 0 as unbounded", async () => {
  for (const maxsize of [0, -1]) {
    const queue = new QueueState({ maxsize });
    for (let i = 0; i < 100; i++) await queue.put(A, i, { timeout: 0 });
    assert.equal(queue.full, false);
    assert.equal(queue.maxsize, 0);
  }
  assert.throws(() => new QueueState({ maxsize: NaN }), RangeError);
});

Deno.test("QueueState.join() resolves at once when no item is unfinished", async () => {
  const queue = new QueueState({ joinable: true });
  assert.equal(await queue.join(), true);
  assert.equal(await queue.join({ timeout: 0 }), true);
});

Deno.test("QueueState.join() resolves once every item put is acknowledged", async () => {
  const queue = new QueueState({ joinable: true });
  queue.putMany(A, ["a", "b"]);
  assert.equal(queue.unfinished, 2);
  const joined = queue.join();
  await queue.get(B);
  await queue.get(B);
  queue.taskDone(B);
  await assertBlocks(joined);
  assert.equal(await queue.join({ timeout: 0 }), false);
  assert.equal(await queue.join({ timeout: 20 }), false);
  queue.taskDone(B);
  assert.equal(await joined, true);
  assert.equal(queue.unfinished, 0);
  assert.equal(queue.outstanding, 0);
});

Deno.test("QueueState.taskDone() called too many times throws Python's ValueError text", async () => {
  const queue = new QueueState({ joinable: true });
  assert.throws(() => queue.taskDone(A), { message: "task_done() called too many times" });
  await queue.put(A, 1);
  await queue.get(B);
  queue.taskDone(B);
  assert.throws(() => queue.taskDone(B), { message: "task_done() called too many times" });
});

Deno.test("QueueState.taskDone() and join() are refused on a queue that is not joinable", async () => {
  const queue = new QueueState();
  assert.throws(() => queue.taskDone(A), TypeError);
  await assert.rejects(queue.join(), TypeError);
  await queue.put(A, 1);
  await queue.get(B);
  assert.equal(queue.outstanding, 0);
  assert.equal(queue.dropOwner(B), 0);
});

Deno.test("QueueState.join() rejects with the signal's reason, already aborted or mid-wait", async () => {
  const queue = new QueueState({ joinable: true });
  await queue.put(A, 1);
  const why = reason();
  await assert.rejects(queue.join({ signal: AbortSignal.abort(why) }), (e) => e === why);
  const controller = new AbortController();
  const joined = queue.join({ signal: controller.signal });
  controller.abort(why);
  await assert.rejects(joined, (e) => e === why);
});

Deno.test("QueueState.dropOwner() redelivers a dead consumer's unacknowledged items at the front, in order", async () => {
  const queue = new QueueState({ joinable: true });
  queue.putMany(A, [1, 2, 3, 4, 5]);
  await queue.get(B); // 1
  assert.deepEqual(await queue.getMany(B, 2), [2, 3]);
  await queue.get(C); // 4
  queue.taskDone(B); // acknowledges B's oldest: 1
  assert.equal(queue.outstanding, 3);
  assert.equal(queue.dropOwner(B), 2);
  assert.equal(queue.redelivered, 2);
  assert.equal(queue.unfinished, 4);
  assert.deepEqual(await queue.getMany(C, 10), [2, 3, 5]);
  assert.equal(queue.dropOwner(B), 0);
});

Deno.test("QueueState.dropOwner() hands redelivered items to waiting getters first", async () => {
  const queue = new QueueState({ joinable: true });
  queue.putMany(A, ["x", "y"]);
  assert.deepEqual(await queue.getMany(B, 2), ["x", "y"]);
  const first = queue.get(C);
  const second = queue.get(A);
  await assertBlocks(first);
  assert.equal(queue.dropOwner(B), 2);
  assert.equal(await first, "x");
  assert.equal(await second, "y");
  // The new consumers now own the items: their death redelivers them again.
  assert.equal(queue.dropOwner(C), 1);
  assert.equal(await queue.get(B), "x");
  queue.taskDone(A);
  queue.taskDone(B);
  assert.equal(await queue.join({ timeout: 0 }), true);
});

Deno.test("QueueState.taskDone() from an owner with no outstanding item acknowledges the oldest one", async () => {
  const queue = new QueueState({ joinable: true });
  queue.putMany(A, [1, 2]);
  await queue.get(B); // 1
  await queue.get(C); // 2
  queue.taskDone(A); // A took nothing: acknowledges the globally oldest, B's 1
  assert.equal(queue.dropOwner(B), 0);
  assert.equal(queue.dropOwner(C), 1);
  assert.equal(await queue.get(A), 2);
});

Deno.test("QueueState.dropOwner() may overfill a bounded queue, and putters wait until it is below maxsize", async () => {
  const queue = new QueueState({ maxsize: 1, joinable: true });
  await queue.put(A, 1);
  assert.equal(await queue.get(B), 1);
  await queue.put(A, 2);
  const putting = queue.put(A, 3);
  assert.equal(queue.dropOwner(B), 1);
  assert.equal(queue.qsize, 2);
  assert.equal(queue.full, true);
  assert.equal(await queue.get(C), 1);
  await assertBlocks(putting);
  assert.equal(await queue.get(C), 2);
  await putting;
  assert.equal(await queue.get(C), 3);
});

Deno.test("QueueState.getMany() stops at batchBytes (as weigh counts them), but always returns one item", async () => {
  const q = new QueueState({ weigh: (item) => (item as string).length, batchBytes: 1000 });
  for (const item of ["a".repeat(400), "b".repeat(400), "c".repeat(400), "d".repeat(5000), "e"]) {
    await q.put(1, item);
  }
  assert.deepStrictEqual((await q.getMany(2, 10) as string[]).map((s) => s[0]), ["a", "b"]);
  assert.deepStrictEqual((await q.getMany(2, 10) as string[]).map((s) => s[0]), ["c"]);
  assert.deepStrictEqual((await q.getMany(2, 10) as string[]).map((s) => s[0]), ["d"]);
  assert.deepStrictEqual(await q.getMany(2, 10), ["e"]);
});

Deno.test("QueueState hands a waiting getter at most batchBytes of a putMany", async () => {
  const q = new QueueState({ weigh: (item) => (item as string).length, batchBytes: 1000 });
  const waiting = q.getMany(2, 10);
  q.putMany(1, ["a".repeat(600), "b".repeat(600), "c"]);
  assert.deepStrictEqual((await waiting as string[]).map((s) => s[0]), ["a"]);
  assert.equal(q.qsize, 2);
});
