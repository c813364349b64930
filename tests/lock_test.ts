/** Lock across real child processes (and within one process where relevant). */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { Barrier, Event, Lock, Process, RLock, SharedArray, Value } from "../mod.ts";
import { toHandle } from "../_internal/codec.ts";
import { eventually, openLifelongResources, runDeno, sleep } from "./_helpers.ts";
import { hold, incrementUnderLock, releaseOnce, tryAcquire } from "./fixtures/sync_targets.ts";
import { child, children, joinFailed, joinOk, LONG, stillAfter, waitSet, within } from "./_sync.ts";

openLifelongResources();

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
    // Not a handshake: nothing public tells that the waiter sleeps on the lock's futex yet (it
    // gets there within microtasks, with no I/O). An abort before would be rejected as well.
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
        ...["lock_test.ts", "rlock_test.ts", "condition_test.ts", "value_test.ts"].map((file) =>
          new URL(file, import.meta.url).pathname
        ),
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
