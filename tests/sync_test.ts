/** The sync primitives across real child processes (and within one process where relevant). */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import {
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  Condition,
  Event,
  Lock,
  Process,
  RLock,
  Semaphore,
  SharedArray,
  Value,
} from "../mod.ts";
import { toHandle } from "../_internal/codec.ts";
import {
  eventually,
  openLifelongResources,
  pidAlive,
  readJson,
  runDeno,
  sleep,
  tempDir,
} from "./_helpers.ts";
import {
  addMany,
  arrayAddMany,
  barrierOutcome,
  barrierParty,
  casIncrement,
  clearEvent,
  conditionProduce,
  conditionWait,
  conditionWaitCounted,
  countAction,
  hold,
  incrementUnderLock,
  incrementWithGetLock,
  notifyWithoutLock,
  ownEventForGrandchild,
  releaseOnce,
  reportGetLockThrows,
  reportIsSet,
  setEvent,
  tryAcquire,
  useSlot,
  waitEvent,
  waitEventRegistered,
  writeShared,
} from "./fixtures/sync_targets.ts";

/** Bound of every wait that must succeed: never reached by a passing test, it turns a hang into a failure. */
const LONG = 30_000;

openLifelongResources();

// deno-lint-ignore no-explicit-any
type Target = (...args: any[]) => unknown;

/** Starts a child running `target(...args)`. */
function child(target: Target, ...args: unknown[]): Process {
  const p = new Process({ target, args });
  p.start();
  return p;
}

/** Several children, started together and disposed together by `await using`. */
function children(
  count: number,
  make: (i: number) => [Target, ...unknown[]],
): Process[] & AsyncDisposable {
  const all = Array.from({ length: count }, (_, i) => {
    const [target, ...args] = make(i);
    return new Process({ target, args });
  });
  for (const p of all) p.start();
  return Object.assign(all, {
    async [Symbol.asyncDispose]() {
      await Promise.all(all.map((p) => p[Symbol.asyncDispose]()));
    },
  });
}

/** Joins each process (bounded) and checks that it returned normally. */
async function joinOk(...processes: Process[]): Promise<void> {
  for (const p of processes) {
    await p.join({ timeout: LONG });
    equal(p.exitCode, 0, p.error?.stack ?? `${p} did not exit with 0`);
  }
}

/** Joins a process (bounded) that must have failed, and returns its error. */
async function joinFailed(p: Process): Promise<Error> {
  await p.join({ timeout: LONG });
  equal(p.exitCode, 1, `${p} should have failed`);
  ok(p.error, `${p} left no error report`);
  return p.error;
}

/** What `promise` resolves to within `ms`, or "still pending" (the timer is cleared either way). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | "still pending"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"still pending">((resolve) => {
    timer = setTimeout(() => resolve("still pending"), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits (bounded) for an event that a child sets. */
async function waitSet(event: Event, what: string): Promise<void> {
  ok(await event.wait({ timeout: LONG }), `${what} was not set within ${LONG} ms`);
}

/** Checks that `predicate` still holds after `ms` (what a blocked party must not change). */
async function stillAfter(ms: number, predicate: () => boolean, what: string): Promise<void> {
  await sleep(ms);
  ok(predicate(), what);
}

/**
 * How a blocking call misbehaves when it should return a Promise that
 * rejects with a RangeError: a description, or undefined if it behaves.
 */
async function rangeErrorProblem(what: string, call: () => Promise<unknown>): Promise<string[]> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch (error) {
    return [`${what} threw synchronously instead of returning a rejected Promise: ${error}`];
  }
  try {
    await promise;
    return [`${what} did not reject`];
  } catch (error) {
    return error instanceof RangeError ? [] : [`${what} rejected with ${error}, not a RangeError`];
  }
}

const isBroken = (e: unknown) => e instanceof BrokenBarrierError;

// ---------------------------------------------------------------------------
// Lock

Deno.test(
  "Lock excludes 4 processes from an unprotected read-modify-write, so the counter ends exact",
  async () => {
    using lock = new Lock();
    using counter = new Value("i", 0, { lock: false });
    const start = new Barrier(4);
    await using kids = children(4, () => [incrementUnderLock, lock, counter, 200, start]);
    await joinOk(...kids);
    equal(counter.value, 800);
    equal(lock.locked(), false);
  },
);

Deno.test(
  "Lock.acquire({ timeout }) resolves false while another process holds it, and locked() sees the holder",
  async () => {
    using lock = new Lock();
    const acquired = new Event();
    const release = new Event();
    await using p = child(hold, lock, acquired, release);
    await waitSet(acquired, "acquired");
    equal(lock.locked(), true);
    equal(await lock.acquire({ timeout: 50 }), false);
    equal(await lock.acquire({ timeout: 0 }), false);
    equal(lock.locked(), true);
    release.set();
    await joinOk(p);
    equal(lock.locked(), false);
    equal(await lock.acquire({ timeout: 0 }), true);
    equal(lock.ownerDied, false, "a clean release is not an owner death");
    lock.release();
  },
);

Deno.test("Lock.acquire({ timeout: 0 }) takes a free lock at once and refuses a held one", async () => {
  using lock = new Lock();
  equal(lock.locked(), false);
  equal(await lock.acquire({ timeout: 0 }), true);
  equal(lock.locked(), true);
  equal(await lock.acquire({ timeout: 0 }), false);
  lock.release();
  equal(lock.locked(), false);
});

Deno.test(
  "Lock held by the parent is acquired by a child blocked in acquire() once released",
  async () => {
    using lock = new Lock();
    using out = new SharedArray("i", [-1, -1]);
    ok(await lock.acquire());
    await using p = child(tryAcquire, lock, LONG, out);
    await stillAfter(200, () => out[0] === -1, "the child got a lock the parent holds");
    lock.release();
    await joinOk(p);
    deepStrictEqual(out.toArray(), [1, 0]);
  },
);

Deno.test(
  "Lock.release() of an unheld lock throws a clear error, also in a process that did not acquire it",
  async () => {
    using lock = new Lock();
    throws(() => lock.release(), {
      message:
        /^Cannot release lock as it is not held: release\(\) was called more times than acquire\(\)/,
    });
    ok(await lock.acquire());
    lock.release();
    throws(() => lock.release(), { message: /Cannot release lock as it is not held/ });

    // The parent holds it: a child's release throws and the parent keeps it.
    ok(await lock.acquire());
    await using p = child(releaseOnce, lock);
    match((await joinFailed(p)).message, /Cannot release lock as it is not held/);
    equal(lock.locked(), true);
    lock.release();

    // A child holds it: the parent's release throws and the child keeps it.
    const acquired = new Event();
    const release = new Event();
    await using q = child(hold, lock, acquired, release);
    await waitSet(acquired, "acquired");
    throws(() => lock.release(), { message: /Cannot release lock as it is not held/ });
    equal(await lock.acquire({ timeout: 0 }), false);
    release.set();
    await joinOk(q);
  },
);

Deno.test(
  "Lock.hold() with await using releases at the end of the block, and throws after its timeout",
  async () => {
    using lock = new Lock();
    {
      using _guard = await lock.hold();
      equal(lock.locked(), true);
    }
    equal(lock.locked(), false);

    const acquired = new Event();
    const release = new Event();
    await using p = child(hold, lock, acquired, release);
    await waitSet(acquired, "acquired");
    await rejects(lock.hold({ timeout: 30 }), {
      message: "Cannot hold lock as it was not acquired within 30 ms",
    });
    release.set();
    await joinOk(p);
    {
      using _guard = await lock.hold({ timeout: LONG });
      equal(lock.locked(), true);
    }
    equal(lock.locked(), false);
  },
);

Deno.test("Lock.acquire() with an already-aborted signal rejects at once with its reason, even when free", async () => {
  using lock = new Lock();
  const reason = new Error("not now");
  await rejects(lock.acquire({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
  equal(lock.locked(), false);
  ok(await lock.acquire({ timeout: 0 }));
  await rejects(lock.acquire({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
  lock.release();
});

Deno.test(
  "Lock.acquire() aborted while another process holds the lock rejects with the reason and takes nothing",
  async () => {
    using lock = new Lock();
    const acquired = new Event();
    const release = new Event();
    await using p = child(hold, lock, acquired, release);
    await waitSet(acquired, "acquired");
    const controller = new AbortController();
    const reason = new Error("gave up");
    const waiting = lock.acquire({ signal: controller.signal });
    await sleep(30);
    controller.abort(reason);
    await rejects(waiting, (e) => e === reason);
    release.set();
    await joinOk(p);
    equal(lock.locked(), false);
    equal(await lock.acquire({ timeout: 0 }), true);
    lock.release();
  },
);

Deno.test("Lock.acquire() aborted while queued behind a caller of the same object leaves the queue intact", async () => {
  using lock = new Lock();
  ok(await lock.acquire());
  const controller = new AbortController();
  const reason = new Error("gave up");
  const aborted = lock.acquire({ signal: controller.signal });
  const next = lock.acquire({ timeout: LONG });
  controller.abort(reason);
  await rejects(aborted, (e) => e === reason);
  lock.release();
  // Not woken, it would resolve false after its (hang-guard) timeout.
  equal(await next, true, "release() did not wake the caller queued behind the aborted one");
  lock.release();
  equal(lock.locked(), false);
});

Deno.test("Lock.acquire({ timeout }) resolves false while another caller in this process holds it", async () => {
  using lock = new Lock();
  ok(await lock.acquire());
  equal(await lock.acquire({ timeout: 50 }), false);
  lock.release();
  equal(lock.locked(), false);
});

Deno.test("Lock serves the callers of one object in FIFO order", async () => {
  using lock = new Lock();
  ok(await lock.acquire());
  const order: number[] = [];
  const waits = [1, 2, 3, 4, 5].map((i) =>
    lock.acquire({ timeout: LONG }).then((acquired) => {
      ok(acquired);
      order.push(i);
      lock.release();
    })
  );
  lock.release();
  await Promise.all(waits);
  deepStrictEqual(order, [1, 2, 3, 4, 5]);
  equal(lock.locked(), false);
});

Deno.test(
  "Lock serves the callers of one object in FIFO order while another process holds it",
  async () => {
    using lock = new Lock();
    const acquired = new Event();
    const release = new Event();
    await using p = child(hold, lock, acquired, release);
    await waitSet(acquired, "acquired");
    const order: number[] = [];
    const waits = [1, 2, 3].map((i) =>
      lock.acquire({ timeout: LONG }).then((got) => {
        ok(got);
        order.push(i);
        lock.release();
      })
    );
    release.set();
    await Promise.all(waits);
    await joinOk(p);
    deepStrictEqual(order, [1, 2, 3]);
    equal(lock.locked(), false);
  },
);

Deno.test(
  "Lock: a queued caller whose timeout expires after the first waiter gave up does not leave the lock held",
  async () => {
    using lock = new Lock();
    const acquired = new Event();
    const release = new Event();
    await using p = child(hold, lock, acquired, release);
    await waitSet(acquired, "acquired");
    const first = lock.acquire({ timeout: 100 }); // waits on the kernel
    const second = lock.acquire({ timeout: 400 }); // queued behind it in this process
    equal(await first, false);
    equal(await second, false);
    release.set();
    await joinOk(p);
    // Nobody in this process holds the lock, so it must be free once the child has released it.
    ok(
      await eventually(() => !lock.locked(), 2000),
      "the lock stayed held by this process after every acquire() here returned false",
    );
    equal(await lock.acquire({ timeout: 0 }), true);
    lock.release();
  },
);

Deno.test(
  "Lock held by a child that is SIGKILLed is released, and the next holder sees ownerDied",
  async () => {
    using lock = new Lock();
    const acquired = new Event();
    const release = new Event();
    await using p = child(hold, lock, acquired, release);
    await waitSet(acquired, "acquired");
    equal(await lock.acquire({ timeout: 0 }), false);
    p.kill();
    await p.join({ timeout: LONG });
    equal(p.exitCode, -9);
    equal(await lock.acquire({ timeout: LONG }), true);
    equal(lock.ownerDied, true);
    lock.release();
    equal(await lock.acquire({ timeout: 0 }), true);
    equal(lock.ownerDied, false, "a clean release clears ownerDied for the next holder");
    lock.release();
  },
);

Deno.test(
  "Lock and RLock held by a child that returns normally: a dead holder too, released at its exit with ownerDied (Python's stay locked)",
  async () => {
    // Locks are owned (only the holder may release them), so a holder that is gone, however it
    // ended, can never release: the next holder takes the lock and learns that the state it
    // protects may be half-updated. Semaphores are not owned, so theirs keep Python's semantics.
    for (const lock of [new Lock(), new RLock()]) {
      using _ = lock;
      const acquired = new Event();
      await using p = child(hold, lock, acquired, null);
      await joinOk(p);
      ok(acquired.isSet());
      equal(await lock.acquire({ timeout: LONG }), true);
      equal(
        lock.ownerDied,
        true,
        `the child exited without releasing the ${lock.constructor.name}`,
      );
      lock.release();
    }
  },
);

Deno.test(
  "Lock: a process already asleep in acquire() when the holder is SIGKILLed takes the lock over, with ownerDied",
  async () => {
    using lock = new Lock();
    const acquired = new Event();
    const release = new Event();
    await using p = child(hold, lock, acquired, release);
    await waitSet(acquired, "acquired");
    const waiting = lock.acquire({ timeout: LONG });
    equal(await within(waiting, 300), "still pending", "acquired while a live child held it");
    p.kill();
    equal(await waiting, true);
    equal(lock.ownerDied, true);
    lock.release();
  },
);

Deno.test(
  "Lock between processes is a futex in shared memory under --allow-ffi, and the handle says so",
  () => {
    using value = new Value("i", 1);
    const valueHandle = (value as unknown as Record<
      symbol,
      (dest: string) => { params: { mapped?: boolean } }
    >)[toHandle]("process");
    // The suite runs with -A on Linux, where the lock between processes must not fall back to a
    // file (MULTIPROC_SHARED_MEMORY=0 forces the fallback: see the next test).
    const expected = Deno.build.os === "linux" && Deno.env.get("MULTIPROC_SHARED_MEMORY") !== "0";
    using lock = new Lock();
    const handle = (lock as unknown as Record<symbol, (dest: string) => { futex?: boolean }>)[
      toHandle
    ]("process");
    equal(handle.futex, expected);
    equal(valueHandle.params.mapped, expected, "a Value is mapped memory there too");
  },
);

Deno.test({
  name:
    "Lock, RLock, Condition, Value and SharedArray tests pass again with files (MULTIPROC_SHARED_MEMORY=0)",
  // Skipped inside that very run, so it does not recurse.
  ignore: Deno.env.get("MULTIPROC_SHARED_MEMORY") === "0",
  fn: async () => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "test",
        "-A",
        "--sanitize-ops",
        "--sanitize-resources",
        "--parallel",
        "--filter",
        "/^(Lock|RLock|Condition|Value|SharedArray)/",
        new URL(import.meta.url).pathname,
      ],
      env: { NO_COLOR: "1", MULTIPROC_SHARED_MEMORY: "0" },
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    const summary = text.match(/ok \| (\d+) passed \| 0 failed/);
    ok(output.code === 0 && summary, `the lock-file run failed:\n${text.slice(-4000)}`);
    ok(Number(summary[1]) >= 40, `only ${summary[1]} tests ran with files`);
    match(text, /is a futex in shared memory under --allow-ffi, and the handle says so \.\.\. ok/);
  },
});

Deno.test("A program run without --allow-ffi shares locks and values through files, and they still exclude", async () => {
  const program = new URL("./fixtures/no_ffi_program.ts", import.meta.url).pathname;
  const result = await runDeno([
    "--allow-read",
    "--allow-write",
    "--allow-run",
    "--allow-env",
    "--allow-net",
    program,
  ]);
  equal(result.code, 0, result.stderr);
  deepStrictEqual(JSON.parse(result.stdout), {
    ffi: "prompt",
    lockFutex: false, // a flock on a file
    valueMapped: false, // positional reads and writes of a file
    exitCodes: [0, 0, 0, 0],
    counter: 800,
    atomic: 800,
  });
});

Deno.test({
  name: "A child without --allow-ffi cannot use a Lock kept in shared memory and says what to do",
  // Only on Linux does a lock live in shared memory (mmap and futex through FFI); elsewhere every
  // process uses the file fallback, and a child without --allow-ffi is fine.
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    using lock = new Lock();
    const acquired = new Event();
    const p = new Process({
      target: hold,
      args: [lock, acquired, null],
      denoArgs: ["--deny-ffi"],
    });
    p.start();
    const error = await joinFailed(p);
    match(error.message, /Cannot use this lock: .*--allow-ffi.*MULTIPROC_SHARED_MEMORY=0/s);
    equal(acquired.isSet(), false);
    equal(await lock.acquire({ timeout: 0 }), true);
    lock.release();
  },
});

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

// ---------------------------------------------------------------------------
// Event

Deno.test("Event.set() in a child wakes waiters in the parent and in other children", async () => {
  const event = new Event();
  using woke = new Value("i", 0);
  const waiting = [new Event(), new Event()];
  await using waiters = children(2, (i) => [waitEventRegistered, event, waiting[i], woke, LONG]);
  // Longer than the bound below: a wait that ends by its timeout and then finds the flag set must
  // not pass for a wake-up.
  const parentWait = event.wait({ timeout: 2 * LONG });
  // Handshake: each child's wait is registered in the hub, so only the wake-up can end it.
  for (const w of waiting) await waitSet(w, "a child's wait");
  equal(event.isSet(), false);
  await using setter = child(setEvent, event);
  equal(await within(parentWait, LONG), true, "the parent's wait was not woken");
  equal(event.isSet(), true);
  await joinOk(setter, ...waiters);
  equal(woke.value, 2);
});

Deno.test("Event.isSet() is synchronous and agrees in the parent and in a child", async () => {
  const event = new Event();
  using out = new Value("i", -1);
  await using a = child(reportIsSet, event, out);
  await joinOk(a);
  equal(out.value, 0);
  event.set();
  equal(event.isSet(), true);
  await using b = child(reportIsSet, event, out);
  await joinOk(b);
  equal(out.value, 1);
  await using c = child(clearEvent, event);
  await joinOk(c);
  equal(event.isSet(), false, "a clear() in a child is not seen by the parent");
  await using d = child(setEvent, event);
  await joinOk(d);
  equal(event.isSet(), true, "a set() in a child is not seen by the parent");
});

Deno.test(
  "Event.wait({ timeout }) resolves false when nobody sets it, in the parent and in a child",
  async () => {
    const event = new Event();
    equal(await event.wait({ timeout: 50 }), false);
    equal(await event.wait({ timeout: 0 }), false);
    using started = new Value("i", 0);
    using woke = new Value("i", 0);
    await using p = child(waitEvent, event, started, woke, 100);
    await joinOk(p);
    equal(started.value, 1);
    equal(woke.value, 0);
    event.set();
    equal(
      await event.wait({ timeout: 0 }),
      true,
      "wait() on a set event must resolve true at once",
    );
  },
);

Deno.test("Event.clear() makes later waits block until the next set()", async () => {
  const event = new Event();
  event.set();
  equal(await event.wait({ timeout: LONG }), true);
  event.clear();
  equal(event.isSet(), false);
  equal(await event.wait({ timeout: 50 }), false);
  const waiting = event.wait({ timeout: LONG });
  await using p = child(setEvent, event);
  equal(await waiting, true);
  await joinOk(p);
});

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

// ---------------------------------------------------------------------------
// Barrier

Deno.test("Barrier gives 3 processes the distinct indexes 0, 1 and 2", async () => {
  const barrier = new Barrier(3);
  equal(barrier.parties, 3);
  using indexes = new SharedArray("i", [-1, -1, -1]);
  await using kids = children(3, (i) => [barrierParty, barrier, indexes, i, 1, null, null]);
  await joinOk(...kids);
  deepStrictEqual(indexes.toArray().sort(), [0, 1, 2]);
  equal(barrier.broken, false);
  equal(barrier.nWaiting, 0);
});

Deno.test("Barrier action runs exactly once per cycle, before any party is released", async () => {
  const barrier = new Barrier(3, { action: countAction });
  using counter = new Value("i", 0);
  const rounds = 2;
  using indexes = new SharedArray("i", 3 * rounds);
  using seen = new SharedArray("i", 3 * rounds);
  await using kids = children(3, (i) => [barrierParty, barrier, indexes, i, rounds, counter, seen]);
  await joinOk(...kids);
  equal(counter.value, rounds);
  for (let round = 0; round < rounds; round++) {
    const cycle = [0, 1, 2].map((slot) => indexes[slot * rounds + round]).sort();
    deepStrictEqual(cycle, [0, 1, 2], `indexes of round ${round}`);
    for (let slot = 0; slot < 3; slot++) {
      equal(seen[slot * rounds + round], round + 1, `counter seen by party ${slot} in ${round}`);
    }
  }
});

Deno.test("Barrier breaks for every party when one party's wait times out", async () => {
  await using dir = await tempDir();
  const barrier = new Barrier(3);
  await using patient = child(barrierOutcome, barrier, LONG, `${dir.path}/patient.json`);
  ok(await eventually(() => barrier.nWaiting === 1, LONG), "the first party did not arrive");
  await using impatient = child(barrierOutcome, barrier, 100, `${dir.path}/impatient.json`);
  await joinOk(patient, impatient);
  for (const name of ["patient", "impatient"]) {
    const outcome = await readJson(`${dir.path}/${name}.json`);
    equal(outcome.name, "BrokenBarrierError", `${name}: ${JSON.stringify(outcome)}`);
  }
  equal(barrier.broken, true);
  await rejects(barrier.wait({ timeout: LONG }), isBroken);
});

Deno.test("Barrier with a default timeout breaks when a party waits alone for that long", async () => {
  await using dir = await tempDir();
  const barrier = new Barrier(2, { timeout: 100 });
  await using p = child(barrierOutcome, barrier, null, `${dir.path}/alone.json`);
  await joinOk(p);
  const outcome = await readJson(`${dir.path}/alone.json`);
  equal(outcome.name, "BrokenBarrierError");
  match(String(outcome.message), /timed out after 100 ms/);
  equal(barrier.broken, true);
});

Deno.test("Barrier.abort() rejects the waiting parties with BrokenBarrierError and later waits too", async () => {
  await using dir = await tempDir();
  const barrier = new Barrier(2);
  await using p = child(barrierOutcome, barrier, LONG, `${dir.path}/waiter.json`);
  ok(await eventually(() => barrier.nWaiting === 1, LONG), "the party did not arrive");
  barrier.abort();
  await joinOk(p);
  const outcome = await readJson(`${dir.path}/waiter.json`);
  equal(outcome.name, "BrokenBarrierError");
  match(String(outcome.message), /aborted/);
  ok(await eventually(() => barrier.broken, LONG));
  await rejects(barrier.wait({ timeout: LONG }), isBroken);
});

Deno.test(
  "Barrier.reset() rejects current waiters and makes a broken barrier usable again",
  async () => {
    await using dir = await tempDir();
    const barrier = new Barrier(2);
    await using p = child(barrierOutcome, barrier, LONG, `${dir.path}/waiter.json`);
    ok(await eventually(() => barrier.nWaiting === 1, LONG), "the party did not arrive");
    barrier.reset();
    await joinOk(p);
    const outcome = await readJson(`${dir.path}/waiter.json`);
    equal(outcome.name, "BrokenBarrierError");
    match(String(outcome.message), /reset/);

    barrier.abort();
    ok(await eventually(() => barrier.broken, LONG));
    barrier.reset();
    ok(await eventually(() => !barrier.broken, LONG), "reset() did not mend the barrier");
    using indexes = new SharedArray("i", [-1, -1]);
    await using kids = children(2, (i) => [barrierParty, barrier, indexes, i, 1, null, null]);
    await joinOk(...kids);
    deepStrictEqual(indexes.toArray().sort(), [0, 1]);
  },
);

Deno.test("Barrier.broken reflects this object's own abort() and reset() at once, as in Python", () => {
  const barrier = new Barrier(2);
  barrier.abort();
  equal(barrier.broken, true, "broken right after abort()");
  barrier.reset();
  equal(barrier.broken, false, "broken right after reset()");
});

Deno.test("Barrier: a SIGKILLed waiting party breaks it, so the others reject instead of hanging", async () => {
  await using dir = await tempDir();
  const barrier = new Barrier(3);
  await using doomed = child(barrierOutcome, barrier, LONG, `${dir.path}/doomed.json`);
  ok(await eventually(() => barrier.nWaiting === 1, LONG), "the first party did not arrive");
  await using survivor = child(barrierOutcome, barrier, LONG, `${dir.path}/survivor.json`);
  ok(await eventually(() => barrier.nWaiting === 2, LONG), "the second party did not arrive");
  doomed.kill();
  await doomed.join({ timeout: LONG });
  equal(doomed.exitCode, -9);
  await joinOk(survivor);
  const outcome = await readJson(`${dir.path}/survivor.json`);
  equal(outcome.name, "BrokenBarrierError");
  ok(await eventually(() => barrier.broken, LONG));
  await rejects(barrier.wait({ timeout: LONG }), isBroken);
  match(String(outcome.message), /a party died/, "the error does not say that a party died");
});

Deno.test("Barrier rejects a party count that is not a positive integer", () => {
  throws(() => new Barrier(0), RangeError);
  throws(() => new Barrier(1.5), RangeError);
  throws(() => new Barrier(2, { timeout: -1 }), RangeError);
});

// ---------------------------------------------------------------------------
// Signals and timeouts shared by the blocking calls

Deno.test("Hub primitives reject at once for an already-aborted signal and with the reason when aborted mid-wait", async () => {
  const reason = new Error("stop");
  const aborted = AbortSignal.abort(reason);
  const isReason = (e: unknown) => e === reason;

  const sem = new Semaphore(0);
  await rejects(sem.acquire({ signal: aborted }), isReason);
  const event = new Event();
  await rejects(event.wait({ signal: aborted }), isReason);
  const barrier = new Barrier(2);
  await rejects(barrier.wait({ signal: aborted }), isReason);
  equal(barrier.broken, false, "an already-aborted wait broke the barrier");
  using cond = new Condition();
  ok(await cond.acquire());
  await rejects(cond.wait({ signal: aborted }), isReason);
  ok((cond.lock as RLock).isOwned(), "Condition.wait() did not re-acquire its lock");

  const midWait = async (start: (signal: AbortSignal) => Promise<unknown>) => {
    const controller = new AbortController();
    const pending = start(controller.signal);
    await sleep(30);
    controller.abort(reason);
    await rejects(pending, isReason);
  };
  await midWait((signal) => sem.acquire({ signal }));
  sem.release();
  ok(await eventually(() => sem.getValue() === 1, LONG), "an aborted acquire() took a permit");
  await midWait((signal) => event.wait({ signal }));
  await midWait((signal) => cond.wait({ signal }));
  ok((cond.lock as RLock).isOwned(), "Condition.wait() did not re-acquire its lock");
  cond.release();
  await midWait((signal) => barrier.wait({ signal }));
  ok(await eventually(() => barrier.broken, LONG), "an aborted party did not break the barrier");
});

Deno.test("Every blocking call rejects a negative timeout with RangeError, as a rejected Promise", async () => {
  using cond = new Condition(new Lock());
  const problems = [
    ...await rangeErrorProblem("Lock.acquire()", () => new Lock().acquire({ timeout: -1 })),
    ...await rangeErrorProblem("RLock.acquire()", () => new RLock().acquire({ timeout: -1 })),
    ...await rangeErrorProblem(
      "Semaphore.acquire()",
      () => new Semaphore().acquire({ timeout: -1 }),
    ),
    ...await rangeErrorProblem("Event.wait()", () => new Event().wait({ timeout: -1 })),
    ...await rangeErrorProblem("Barrier.wait()", () => new Barrier(2).wait({ timeout: -1 })),
    ...await rangeErrorProblem("Condition.acquire()", () => cond.acquire({ timeout: -1 })),
  ];
  ok(await cond.acquire());
  problems.push(
    ...await rangeErrorProblem("Condition.wait()", () => cond.wait({ timeout: -1 })),
  );
  cond.release();
  deepStrictEqual(problems, []);
});

// ---------------------------------------------------------------------------
// Value and SharedArray

Deno.test(
  "Value and SharedArray written in a child are read synchronously by the parent",
  async () => {
    using i = new Value("i", 0);
    using d = new Value("d", 0);
    using q = new Value("q", 0n);
    using arr = new SharedArray("d", 4);
    await using p = child(writeShared, i, d, q, arr);
    await joinOk(p);
    equal(i.value, -123_456);
    equal(d.value, Math.PI);
    equal(q.value, 2n ** 62n + 1n);
    deepStrictEqual(arr.toArray(), [0.5, 42, 0, -1.25]);
    equal(arr[0], 0.5);
    equal(arr[3], -1.25);
  },
);

Deno.test("Value typecodes: i wraps as int32, d keeps doubles, q and Q hold 64-bit bigints", () => {
  using i = new Value("i");
  equal(i.typecode, "i");
  equal(i.value, 0);
  i.value = 2 ** 31;
  equal(i.value, -(2 ** 31));
  using d = new Value("d", 0.1);
  equal(d.value, 0.1);
  using q = new Value("q", 2n ** 63n - 1n);
  equal(q.value, 2n ** 63n - 1n);
  equal(q.add(1n), 2n ** 63n - 1n);
  equal(q.value, -(2n ** 63n));
  using big = new Value("Q", 2n ** 64n - 1n);
  equal(big.value, 2n ** 64n - 1n);
  equal(new Value("q").value, 0n);
  equal(new Value("q", 5 as unknown as bigint).value, 5n, "an integer number fits a q");
  throws(() => new Value("i", 1n as unknown as number), TypeError);
  throws(() => new Value("q", 1.5 as unknown as bigint), TypeError);
  throws(() => (d.value = "1" as unknown as number), TypeError);
});

Deno.test("Value.add(1) 500 times in each of 4 processes ends at exactly 2000", async () => {
  using value = new Value("i", 0, { lock: false });
  await using kids = children(4, () => [addMany, value, 500]);
  await joinOk(...kids);
  equal(value.value, 2000);
});

Deno.test(
  "SharedArray.add() from 4 processes on one element ends exact and leaves the others alone",
  async () => {
    using arr = new SharedArray("i", [7, 0, 9]);
    await using kids = children(4, () => [arrayAddMany, arr, 1, 250]);
    await joinOk(...kids);
    deepStrictEqual(arr.toArray(), [7, 1000, 9]);
  },
);

Deno.test(
  "Value.compareExchange() swaps only on a match, and 4 processes' CAS loops end exact",
  async () => {
    using local = new Value("i", 5);
    equal(local.compareExchange(5, 7), 5);
    equal(local.value, 7);
    equal(local.compareExchange(5, 9), 7);
    equal(local.value, 7);
    using arr = new SharedArray("q", [1n, 2n]);
    equal(arr.compareExchange(1, 2n, 3n), 2n);
    deepStrictEqual(arr.toArray(), [1n, 3n]);

    using value = new Value("i", 0);
    await using kids = children(4, () => [casIncrement, value, 250]);
    await joinOk(...kids);
    equal(value.value, 1000);
  },
);

Deno.test(
  "Value.getLock() guards a read-modify-write from 4 processes so it ends exact",
  async () => {
    using value = new Value("i", 0);
    ok(value.getLock() instanceof RLock);
    const start = new Barrier(4);
    await using kids = children(4, () => [incrementWithGetLock, value, 200, start]);
    await joinOk(...kids);
    equal(value.value, 800);
    equal(value.getLock().locked(), false);
  },
);

Deno.test(
  "Value and SharedArray created with { lock: false } have no getLock(), also in a child",
  async () => {
    using raw = new Value("i", 1, { lock: false });
    throws(() => raw.getLock(), {
      message: "Cannot get the lock of a value created with { lock: false }",
    });
    using rawArray = new SharedArray("i", 2, { lock: false });
    throws(() => rawArray.getLock(), {
      message: "Cannot get the lock of a shared array created with { lock: false }",
    });
    using out = new Value("i", -1);
    await using p = child(reportGetLockThrows, raw, out);
    await joinOk(p);
    equal(out.value, 1);
    using locked = new Value("i", 1);
    await using q = child(reportGetLockThrows, locked, out);
    await joinOk(q);
    equal(out.value, 0);
  },
);

Deno.test(
  "SharedArray supports arr[i], length and iteration, and throws RangeError out of range",
  () => {
    using arr = new SharedArray("i", 3);
    equal(arr.length, 3);
    deepStrictEqual([...arr], [0, 0, 0]);
    arr[1] = 5;
    arr.set(2, -1);
    equal(arr[1], 5);
    equal(arr.get(2), -1);
    deepStrictEqual(arr.toArray(), [0, 5, -1]);
    equal(arr.typecode, "i");
    for (const bad of [3, -1, 1.5, NaN]) {
      throws(() => arr.get(bad), RangeError, `get(${bad})`);
      throws(() => arr.set(bad, 1), RangeError, `set(${bad})`);
      throws(() => arr.add(bad, 1), RangeError, `add(${bad})`);
    }
    throws(() => arr.get(3), {
      message: "Cannot access shared array index 3: valid indexes are 0 to 2",
    });
    deepStrictEqual(new SharedArray("d", [1.5, 2.5]).toArray(), [1.5, 2.5]);
    equal(new SharedArray("i", 0).length, 0);
  },
);

Deno.test(
  "Value and SharedArray reject an unknown typecode with TypeError and a bad length with RangeError",
  () => {
    throws(() => new Value("x" as "i", 1), {
      name: "TypeError",
      message:
        /^Cannot create value as typecode "x" is not one of b, B, h, H, i, I, l, L, q, Q, f, d$/,
    });
    throws(() => new SharedArray("z" as "i", 3), { name: "TypeError", message: /typecode "z"/ });
    throws(() => new SharedArray("i", -1), RangeError);
    throws(() => new SharedArray("i", 1.5), RangeError);
    throws(() => new SharedArray("i", [1, 2n as unknown as number]), TypeError);
  },
);

// ---------------------------------------------------------------------------
// An owner that has gone

Deno.test("A grandchild waiting on an Event whose owner process was killed gets a clear error instead of hanging", async () => {
  await using dir = await tempDir();
  const ready = new Event();
  await using owner = child(ownEventForGrandchild, dir.path, ready);
  let grandchild = 0;
  try {
    await waitSet(ready, "the grandchild's ready");
    grandchild = Number(await Deno.readTextFile(`${dir.path}/grandchild.pid`));
    owner.kill();
    await owner.join({ timeout: LONG });
    equal(owner.exitCode, -9);
    ok(
      await eventually(() => !pidAlive(grandchild), LONG),
      "the grandchild still waits on the Event of its killed parent",
    );
    const outcome = await readJson(`${dir.path}/outcome.json`);
    match(
      String(outcome.message),
      new RegExp(`^Cannot reach the hub of process ${owner.pid}: the process that created`),
      JSON.stringify(outcome),
    );
  } finally {
    if (grandchild && pidAlive(grandchild)) Deno.kill(grandchild, "SIGKILL");
  }
});
