/**
 * One contract for every place a Lock's state can live (each `LockBacking`
 * of `_internal/backing/lock.ts`): the same cases, through the public classes,
 * against this process's shared memory with the other holders in real child
 * processes and threads (again with files: `MULTIPROC_SHARED_MEMORY=0`), and
 * against Redis with the same children holding a lock kept there.
 */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
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
import { releaseOnce, tryAcquire } from "./fixtures/sync_targets.ts";

openLifelongResources();
new Lock().close(); // loads the futex library outside any test

/** Another holder in a child process or thread excludes this one until it releases. */
function excludedBy(kind: "process" | "thread"): (open: Opener) => Promise<void> {
  return async (open) => {
    const lock = await open.lock();
    const acquired = new Event();
    const release = new Event();
    await using child = holder(kind, lock, acquired, release);
    using _end = releasedAtEnd(release);
    ok(await acquired.wait({ timeout: LONG }), "the child did not acquire the lock");
    await seesHolder(lock);
    equal(await lock.acquire({ timeout: 0 }), false);
    equal(await lock.acquire({ timeout: 50 }), false);
    throws(() => lock.release(), /as it is not held/);
    const waiting = lock.acquire({ timeout: LONG });
    release.set();
    equal(await waiting, true, "the lock did not come free when the child released it");
    equal(lock.ownerDied, false, "a clean release is not an owner death");
    lock.release();
    await joinOk(child);
  };
}

/** The cases, each on a new lock of the place. */
const CASES: Record<string, (open: Opener) => Promise<void>> = {
  "one holder: acquire, locked(), not reentrant, release once, hold()": async (open) => {
    const lock = await open.lock();
    equal(lock.locked(), false);
    equal(await lock.acquire(), true);
    equal(lock.locked(), true);
    equal(lock.ownerDied, false);
    equal(await lock.acquire({ timeout: 0 }), false, "a lock is not reentrant");
    equal(await lock.acquire({ timeout: 30 }), false);
    lock.release();
    equal(lock.locked(), false);
    throws(() => lock.release(), /^Error: Cannot release .*lock.* as it is not held: release\(\)/);
    {
      using _held = await lock.hold();
      equal(lock.locked(), true);
    }
    equal(lock.locked(), false);
    equal(await lock.acquire({ timeout: 0 }), true);
    await rejects(
      lock.hold({ timeout: 0 }),
      /^Error: Cannot hold .*lock.* as it was not acquired within 0 ms/,
    );
    lock.release();
  },
  "a negative timeout and an aborted signal reject": async (open) => {
    const lock = await open.lock();
    await rejects(lock.acquire({ timeout: -1 }), RangeError);
    const reason = new Error("not now");
    await rejects(lock.acquire({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
    equal(lock.locked(), false);
    equal(await lock.acquire({ timeout: 0 }), true);
    lock.release();
  },
  "a holder in another process excludes this one, whose release() throws, until it releases":
    excludedBy("process"),
  "a holder in another thread excludes this one, whose release() throws, until it releases":
    excludedBy("thread"),
  "another process cannot release this holder's lock": async (open) => {
    const lock = await open.lock();
    equal(await lock.acquire(), true);
    await using child = new Process({ target: releaseOnce, args: [lock] });
    child.start();
    await child.join({ timeout: LONG });
    equal(child.exitCode, 1);
    match(child.error?.message ?? "", /as it is not held/);
    equal(lock.locked(), true);
    using out = new SharedArray("i", [-1, -1]);
    await using other = new Process({ target: tryAcquire, args: [lock, 0, out] });
    other.start();
    await joinOk(other);
    deepStrictEqual(out.toArray(), [0, 0], "another process took a lock this one holds");
    lock.release();
  },
  "a holder SIGKILLed while holding frees the lock, and the next holder sees ownerDied": async (
    open,
  ) => {
    const lock = await open.lock();
    const acquired = new Event();
    await using child = holder("process", lock, acquired, new Event()) as Process;
    ok(await acquired.wait({ timeout: LONG }), "the child did not acquire the lock");
    const waiting = lock.acquire({ timeout: LONG }); // asleep in acquire() when the holder dies
    child.kill();
    await child.join({ timeout: LONG });
    equal(child.exitCode, -9);
    equal(await waiting, true, "the lock of a dead holder did not come free");
    equal(lock.ownerDied, true);
    lock.release();
    equal(await lock.acquire({ timeout: LONG }), true);
    equal(lock.ownerDied, false, "a clean release clears ownerDied for the next holder");
    lock.release();
  },
  "a holder that returns without releasing is a dead holder: the lock frees, with ownerDied":
    async (open) => {
      const lock = await open.lock();
      const acquired = new Event();
      await using child = holder("process", lock, acquired, null);
      await joinOk(child);
      ok(acquired.isSet());
      equal(await lock.acquire({ timeout: LONG }), true);
      equal(lock.ownerDied, true);
      lock.release();
    },
};

const NAME = "Every Lock backing (local, Redis) meets the same contract";

Deno.test(NAME, async (t) => await eachPlace(t, CASES));

alsoWithFiles(import.meta.url, NAME);
