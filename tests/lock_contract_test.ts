/**
 * The contract of a lock (`LockLike`, `RLockLike`), one set of cases run
 * against every backing (tests/_backings.ts): the local one, with the other
 * holders in real child processes and threads, and the Redis one, with the
 * same children holding a lock kept in a real redis-server.
 */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { Event, Lock, Process, SharedArray, Thread } from "../mod.ts";
import type { LockLike } from "../redis/mod.ts";
import { alsoWithFiles, contract } from "./_backings.ts";
import { eventually, openLifelongResources } from "./_helpers.ts";
import { hold, releaseOnce, tryAcquire } from "./fixtures/sync_targets.ts";

/** Bound of every wait that must succeed: it turns a hang into a failure. */
const LONG = 30_000;

openLifelongResources();
alsoWithFiles(import.meta.url);
new Lock().close(); // loads the futex library outside any test

/** Starts a child process or thread running `hold(lock, acquired, release, times)`. */
function holder(
  kind: "process" | "thread",
  lock: LockLike,
  acquired: Event,
  release: Event | null,
  times = 1,
): Process | Thread {
  const options = { target: hold, args: [lock, acquired, release, times] };
  const child = kind === "process" ? new Process(options) : new Thread(options);
  child.start();
  return child;
}

/** Joins a child (bounded) that must have returned normally (a thread: that must have ended). */
async function joinOk(child: Process | Thread): Promise<void> {
  await child.join({ timeout: LONG });
  if (child instanceof Process) {
    equal(child.exitCode, 0, child.error?.stack ?? `${child} did not exit with 0`);
  } else {
    equal(child.isAlive(), false, `${child} did not end`);
  }
}

/**
 * Checks that `locked()` sees a holder elsewhere. A remote lock's `locked()`
 * is a snapshot kept current by the server's notifications, so it must come
 * true, not be true at once.
 */
async function seesHolder(lock: LockLike): Promise<void> {
  ok(await eventually(() => lock.locked(), LONG), "locked() never saw the other holder");
}

/** Sets `release` when disposed: a failing case does not leave a child holding on for a minute. */
function releasedAtEnd(release: Event): Disposable {
  return { [Symbol.dispose]: () => release.set() };
}

/** Starts a child process running `hold(lock, acquired, release, times)`. */
function processHolder(
  lock: LockLike,
  acquired: Event,
  release: Event | null,
  times = 1,
): Process {
  return holder("process", lock, acquired, release, times) as Process;
}

// ---------------------------------------------------------------------------
// Lock

contract(
  "Lock",
  "one holder: acquire, locked(), not reentrant, release once, hold()",
  async (o) => {
    const lock = await o.lock();
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
);

contract("Lock", "bad options: a negative timeout and an aborted signal reject", async (o) => {
  const lock = await o.lock();
  await rejects(lock.acquire({ timeout: -1 }), RangeError);
  const reason = new Error("not now");
  await rejects(lock.acquire({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
  equal(lock.locked(), false);
  equal(await lock.acquire({ timeout: 0 }), true);
  lock.release();
});

for (const kind of ["process", "thread"] as const) {
  contract(
    "Lock",
    `a holder in another ${kind} excludes this one, whose release() throws, until it releases`,
    async (o) => {
      const lock = await o.lock();
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
    },
  );
}

contract("Lock", "a holder in another process cannot release this holder's lock", async (o) => {
  const lock = await o.lock();
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
});

contract(
  "Lock",
  "a holder SIGKILLed while holding frees the lock, and the next holder sees ownerDied",
  async (o) => {
    const lock = await o.lock();
    const acquired = new Event();
    await using child = processHolder(lock, acquired, new Event());
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
);

contract(
  "Lock",
  "a holder that returns without releasing is a dead holder: the lock frees, with ownerDied",
  async (o) => {
    const lock = await o.lock();
    const acquired = new Event();
    await using child = processHolder(lock, acquired, null);
    await joinOk(child);
    ok(acquired.isSet());
    equal(await lock.acquire({ timeout: LONG }), true);
    equal(lock.ownerDied, true);
    lock.release();
  },
);

// ---------------------------------------------------------------------------
// RLock

contract("RLock", "its holder acquires it again and must release it as many times", async (o) => {
  const lock = await o.rlock();
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
});

for (const kind of ["process", "thread"] as const) {
  contract(
    "RLock",
    `held twice by another ${kind}, it excludes this holder until the last release`,
    async (o) => {
      const lock = await o.rlock();
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
    },
  );
}

contract(
  "RLock",
  "held twice by a SIGKILLed process, it frees, and the next holder (a process) sees ownerDied",
  async (o) => {
    const lock = await o.rlock();
    const acquired = new Event();
    await using child = processHolder(lock, acquired, new Event(), 2);
    ok(await acquired.wait({ timeout: LONG }), "the child did not acquire the lock");
    child.kill();
    await child.join({ timeout: LONG });
    using out = new SharedArray("i", [-1, -1]);
    await using next = new Process({ target: tryAcquire, args: [lock, LONG, out] });
    next.start();
    await joinOk(next);
    deepStrictEqual(out.toArray(), [1, 1]);
  },
);
