/** Semaphore and BoundedSemaphore across real child processes (and within one process where relevant). */
import { equal, match, ok, throws } from "node:assert/strict";
import { BoundedSemaphore, Event, Semaphore, Value } from "../mod.ts";
import { eventually, openLifelongResources } from "./_helpers.ts";
import { hold, releaseOnce, useSlot } from "./fixtures/sync_targets.ts";
import { child, children, joinFailed, joinOk, LONG, stillAfter, waitSet } from "./_sync.ts";

openLifelongResources();

// ---------------------------------------------------------------------------
// Semaphore and BoundedSemaphore

Deno.test("Semaphore(2) lets exactly two of three processes in until one releases", async () => {
  const sem = new Semaphore(2);
  using inside = new Value("i", 0);
  using entered = new Value("i", 0);
  const go = new Event();
  await using kids = children(3, () => [useSlot, sem, inside, entered, go]);
  ok(await eventually(() => entered.value === 2, LONG), "two processes did not get in");
  await stillAfter(300, () => entered.value === 2, "a third process got a permit");
  equal(sem.getValue(), 0);
  go.set();
  await joinOk(...kids);
  equal(entered.value, 3);
  equal(inside.value, 0);
  ok(await eventually(() => sem.getValue() === 2, LONG), `value ${sem.getValue()}, expected 2`);
});

Deno.test("Semaphore.getValue() is the initial value of a new semaphore, before any other call", () => {
  equal(new Semaphore(3).getValue(), 3);
  equal(new Semaphore().getValue(), 1);
  equal(new BoundedSemaphore(2).getValue(), 2);
  throws(() => new BoundedSemaphore(1).release(), { message: /released too many times/ });
});

Deno.test("Semaphore.getValue() follows acquires and releases made in another process", async () => {
  const sem = new Semaphore(3);
  const acquired = new Event();
  const release = new Event();
  await using p = child(hold, sem, acquired, release, 2);
  await waitSet(acquired, "acquired");
  equal(sem.getValue(), 1);
  release.set();
  await joinOk(p);
  ok(await eventually(() => sem.getValue() === 3, LONG), `value ${sem.getValue()}, expected 3`);
});

Deno.test("Semaphore.getValue() reflects this object's own release() at once, as in Python", async () => {
  const sem = new Semaphore(1);
  ok(await sem.acquire());
  equal(sem.getValue(), 0);
  sem.release();
  equal(sem.getValue(), 1, "getValue() right after release() still shows the old value");
});

Deno.test("Semaphore.acquire({ timeout }) resolves false when no permit comes free, also while a child holds it", async () => {
  const empty = new Semaphore(0);
  equal(await empty.acquire({ timeout: 50 }), false);
  equal(await empty.acquire({ timeout: 0 }), false);
  const sem = new Semaphore(1);
  const acquired = new Event();
  const release = new Event();
  await using p = child(hold, sem, acquired, release);
  await waitSet(acquired, "acquired");
  equal(await sem.acquire({ timeout: 50 }), false);
  equal(await sem.acquire({ timeout: 0 }), false);
  release.set();
  await joinOk(p);
  equal(await sem.acquire({ timeout: LONG }), true);
  equal(sem.ownerDied, false);
});

Deno.test("Semaphore may be released by a process that did not acquire it, waking a waiter, and is unbounded", async () => {
  const sem = new Semaphore(0);
  const waiting = sem.acquire({ timeout: LONG });
  await using p = child(releaseOnce, sem);
  equal(await waiting, true);
  await joinOk(p);
  const grow = new Semaphore(1);
  grow.release();
  ok(await eventually(() => grow.getValue() === 2, LONG), "an unbounded release was refused");
  throws(() => grow.release(0), RangeError);
  throws(() => new Semaphore(-1), RangeError);
  throws(() => new Semaphore(1.5), RangeError);
});

Deno.test("BoundedSemaphore.release() past its initial value throws 'released too many times', also in a child", async () => {
  const sem = new BoundedSemaphore(2);
  ok(await sem.acquire());
  sem.release();
  ok(await eventually(() => sem.getValue() === 2, LONG), `value ${sem.getValue()}, expected 2`);
  throws(() => sem.release(), { message: /released too many times/ });
  equal(sem.getValue(), 2);
  await using p = child(releaseOnce, sem);
  match((await joinFailed(p)).message, /released too many times/);
  equal(sem.getValue(), 2);
  ok(await sem.acquire());
  ok(await eventually(() => sem.getValue() === 1, LONG));
  sem.release();
  ok(await eventually(() => sem.getValue() === 2, LONG));
});

Deno.test("BoundedSemaphore.release() right after a release that refilled it throws (its documented example)", async () => {
  const sem = new BoundedSemaphore(1);
  ok(await sem.acquire());
  sem.release();
  throws(() => sem.release(), { message: /released too many times/ });
});

Deno.test("Semaphore permits of a SIGKILLed child are returned, and the next acquirer sees ownerDied", async () => {
  const sem = new BoundedSemaphore(2);
  const acquired = new Event();
  const release = new Event();
  await using p = child(hold, sem, acquired, release, 2);
  await waitSet(acquired, "acquired");
  equal(sem.getValue(), 0);
  equal(await sem.acquire({ timeout: 0 }), false);
  p.kill();
  await p.join({ timeout: LONG });
  equal(p.exitCode, -9);
  equal(sem.getValue(), 2, "join() returns once the dead child's permits are back");
  equal(await sem.acquire({ timeout: 0 }), true);
  equal(sem.ownerDied, true);
  equal(await sem.acquire({ timeout: LONG }), true);
  equal(sem.ownerDied, true);
  sem.release();
  equal(await sem.acquire({ timeout: LONG }), true);
  equal(sem.ownerDied, false, "a permit released cleanly is not an owner death");
});

Deno.test("Semaphore permit held by a child that returns normally stays taken, as in Python", async () => {
  const sem = new Semaphore(1);
  const acquired = new Event();
  await using p = child(hold, sem, acquired, null);
  await joinOk(p);
  equal(await sem.acquire({ timeout: 300 }), false, "the permit of a clean exit was returned");
  equal(sem.getValue(), 0);
  sem.release(); // anyone may release it, as in Python
  equal(await sem.acquire({ timeout: LONG }), true);
  equal(sem.ownerDied, false);
});
