/** RLock across real child processes (and within one process where relevant). */
import { deepStrictEqual, equal, match, ok, throws } from "node:assert/strict";
import { Event, RLock, SharedArray } from "../mod.ts";
import { openLifelongResources } from "./_helpers.ts";
import { hold, releaseOnce, tryAcquire } from "./fixtures/sync_targets.ts";
import { child, joinFailed, joinOk, LONG, waitSet } from "./_sync.ts";

openLifelongResources();

// ---------------------------------------------------------------------------
// RLock

Deno.test("RLock is reentrant: its owner acquires it again and must release it as many times", async () => {
  using lock = new RLock();
  equal(lock.isOwned(), false);
  ok(await lock.acquire());
  ok(await lock.acquire({ timeout: 0 }));
  ok(await lock.acquire());
  ok(lock.isOwned() && lock.locked());
  lock.release();
  lock.release();
  ok(lock.isOwned(), "released after 2 of 3 releases");
  lock.release();
  equal(lock.isOwned(), false);
  equal(lock.locked(), false);
  throws(() => lock.release(), {
    message: "Cannot release un-acquired reentrant lock: it is not held by this process and thread",
  });
  {
    using _outer = await lock.hold();
    using _inner = await lock.hold({ timeout: 0 });
    ok(lock.isOwned());
  }
  equal(lock.locked(), false);
});

Deno.test("RLock held twice by the parent excludes a child until the last release", async () => {
  using lock = new RLock();
  ok(await lock.acquire());
  ok(await lock.acquire());
  using first = new SharedArray("i", [-1, -1]);
  await using a = child(tryAcquire, lock, 100, first);
  await joinOk(a);
  equal(first[0], 0, "a child acquired an RLock the parent holds twice");
  lock.release();
  using second = new SharedArray("i", [-1, -1]);
  await using b = child(tryAcquire, lock, 100, second);
  await joinOk(b);
  equal(second[0], 0, "a child acquired an RLock the parent still holds once");
  lock.release();
  using third = new SharedArray("i", [-1, -1]);
  await using c = child(tryAcquire, lock, LONG, third);
  await joinOk(c);
  deepStrictEqual(third.toArray(), [1, 0]);
});

Deno.test("RLock held by a child excludes the parent, whose release() throws", async () => {
  using lock = new RLock();
  const acquired = new Event();
  const release = new Event();
  await using p = child(hold, lock, acquired, release, 2);
  await waitSet(acquired, "acquired");
  equal(lock.locked(), true);
  equal(lock.isOwned(), false);
  equal(await lock.acquire({ timeout: 50 }), false);
  throws(() => lock.release(), { message: /Cannot release un-acquired reentrant lock/ });
  release.set();
  await joinOk(p);
  equal(await lock.acquire({ timeout: LONG }), true);
  equal(lock.ownerDied, false);
  lock.release();
});

Deno.test(
  "RLock.release() in a child that does not own it throws, and the owner keeps it",
  async () => {
    using lock = new RLock();
    ok(await lock.acquire());
    await using p = child(releaseOnce, lock);
    match((await joinFailed(p)).message, /Cannot release un-acquired reentrant lock/);
    ok(lock.isOwned());
    using out = new SharedArray("i", [-1, -1]);
    await using q = child(tryAcquire, lock, 50, out);
    await joinOk(q);
    equal(out[0], 0, "the owner lost the lock to another process's release()");
    lock.release();
  },
);

Deno.test(
  "RLock held twice by a SIGKILLed child is released, and the next holder (a child) sees ownerDied",
  async () => {
    using lock = new RLock();
    const acquired = new Event();
    const release = new Event();
    await using p = child(hold, lock, acquired, release, 2);
    await waitSet(acquired, "acquired");
    p.kill();
    await p.join({ timeout: LONG });
    equal(p.exitCode, -9);
    using out = new SharedArray("i", [-1, -1]);
    await using q = child(tryAcquire, lock, LONG, out);
    await joinOk(q);
    deepStrictEqual(out.toArray(), [1, 1]);
  },
);
