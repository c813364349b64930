/**
 * One contract for every place an RLock's state can live: the same cases,
 * through the public classes, against this process's shared memory with the
 * other holders in real child processes and threads (again with files:
 * `MULTIPROC_SHARED_MEMORY=0`), and against Redis. Reentrancy is written
 * once over any `LockBacking` (`ReentrantFront` in `_internal/backing/lock.ts`).
 */
import { deepStrictEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { Event, Lock, Process, SharedArray } from "../mod.ts";
import {
  alsoWithFiles,
  eachPlace,
  holder,
  joinOk,
  LONG,
  type Opener,
  releasedAtEnd,
  seesHolder,
} from "./_backings.ts";
import { openLifelongResources } from "./_helpers.ts";
import { tryAcquire } from "./fixtures/sync_targets.ts";

openLifelongResources();
new Lock().close(); // loads the futex library outside any test

/** Held twice by a child process or thread, the lock excludes this holder until the last release. */
function excludedBy(kind: "process" | "thread"): (open: Opener) => Promise<void> {
  return async (open) => {
    const lock = await open.rlock();
    const acquired = new Event();
    const release = new Event();
    await using child = holder(kind, lock, acquired, release, 2);
    using _end = releasedAtEnd(release);
    ok(await acquired.wait({ timeout: LONG }), "the child did not acquire the lock");
    await seesHolder(lock);
    equal(lock.isOwned(), false);
    equal(await lock.acquire({ timeout: 50 }), false);
    throws(() => lock.release(), /Cannot release un-acquired/);
    const waiting = lock.acquire({ timeout: LONG });
    release.set();
    equal(await waiting, true);
    equal(lock.ownerDied, false);
    equal(lock.isOwned(), true);
    lock.release();
    await joinOk(child);
  };
}

/** The cases, each on a new reentrant lock of the place. */
const CASES: Record<string, (open: Opener) => Promise<void>> = {
  "its holder acquires it again and must release it as many times": async (open) => {
    const lock = await open.rlock();
    equal(lock.isOwned(), false);
    equal(await lock.acquire(), true);
    equal(await lock.acquire({ timeout: 0 }), true);
    equal(await lock.acquire(), true);
    ok(lock.isOwned() && lock.locked());
    lock.release();
    lock.release();
    ok(lock.isOwned(), "released after 2 of 3 releases");
    lock.release();
    equal(lock.isOwned(), false);
    equal(lock.locked(), false);
    throws(
      () => lock.release(),
      /^Error: Cannot release un-acquired .*reentrant lock.*: it is not held by this/,
    );
    await rejects(lock.acquire({ timeout: -1 }), RangeError);
    {
      using _outer = await lock.hold();
      using _inner = await lock.hold({ timeout: 0 });
      ok(lock.isOwned());
    }
    equal(lock.locked(), false);
  },
  "held twice by another process, it excludes this holder until the last release": excludedBy(
    "process",
  ),
  "held twice by another thread, it excludes this holder until the last release": excludedBy(
    "thread",
  ),
  "held twice by a SIGKILLed process, it frees, and the next holder (a process) sees ownerDied":
    async (open) => {
      const lock = await open.rlock();
      const acquired = new Event();
      await using child = holder("process", lock, acquired, new Event(), 2) as Process;
      ok(await acquired.wait({ timeout: LONG }), "the child did not acquire the lock");
      child.kill();
      await child.join({ timeout: LONG });
      using out = new SharedArray("i", [-1, -1]);
      await using next = new Process({ target: tryAcquire, args: [lock, LONG, out] });
      next.start();
      await joinOk(next);
      deepStrictEqual(out.toArray(), [1, 1]);
    },
};

const NAME = "Every RLock backing (local, Redis) meets the same contract";

Deno.test(NAME, async (t) => await eachPlace(t, CASES));

alsoWithFiles(import.meta.url, NAME);
