/**
 * Pools and executors with real worker processes and threads: every method,
 * and every failure that must not hang (a worker killed or exiting mid-task,
 * a task that throws, an initializer that throws, recycling, cancellation,
 * termination).
 */

import { deepStrictEqual, ok } from "node:assert/strict";
import {
  asCompleted,
  BrokenProcessPool,
  BrokenThreadPool,
  CancelledError,
  Event,
  Lock,
  Pool,
  ProcessPoolExecutor,
  Queue,
  ThreadPool,
  ThreadPoolExecutor,
  TimeoutError,
  Value,
  wait,
} from "../mod.ts";
import { eventually, pidAlive, runDeno } from "./_helpers.ts";
import {
  add,
  addUnderLock,
  brokenInit,
  exitWorker,
  failOnThree,
  failWith,
  holdUntil,
  identity,
  ignoreAbort,
  initialized,
  rememberInit,
  returnsFunction,
  square,
  waitForAbort,
  waitOrCount,
  workerPid,
} from "./fixtures/pool_tasks.ts";

const assert: (value: unknown, message?: string) => asserts value = ok;
function assertEquals(actual: unknown, expected: unknown): void {
  deepStrictEqual(actual, expected);
}

// deno-lint-ignore no-explicit-any
type ErrorClass<E extends Error> = abstract new (...args: any[]) => E;

function check<E extends Error>(error: unknown, Class?: ErrorClass<E>, includes?: string): E {
  if (Class) ok(error instanceof Class, `expected ${Class.name}, got ${error}`);
  ok(error instanceof Error, `expected an Error, got ${error}`);
  if (includes) ok(error.message.includes(includes), `"${error.message}" lacks "${includes}"`);
  return error as E;
}

/** Awaits `fn()`, which must reject (with `Class`, and a message including `includes`). */
async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  Class?: ErrorClass<E>,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    return check(error, Class, includes);
  }
  throw new Error("expected a rejection");
}

/** Calls `fn()`, which must throw (with `Class`, and a message including `includes`). */
function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  Class?: ErrorClass<E>,
  includes?: string,
): E {
  try {
    fn();
  } catch (error) {
    return check(error, Class, includes);
  }
  throw new Error("expected an error");
}

/** The error `promise` rejects with, handled at once (so waiting for another is no unhandled rejection). */
function rejection(promise: PromiseLike<unknown>): Promise<unknown> {
  return Promise.resolve(promise).then(
    () => new Error("expected a rejection, got a value"),
    (error) => error,
  );
}

function assertInstanceOf(value: unknown, Class: ErrorClass<Error>): void {
  ok(value instanceof Class, `expected ${Class.name}, got ${value}`);
}

// This process's hub, its status file and the shared-memory library stay for the life of the
// process: starting them here, outside any test, keeps them out of the resource sanitizer's
// account of the first test using them.
new Event().isSet();
new Value("i", 0).value;

const KINDS = [
  { name: "processes", Pool: Pool, Broken: BrokenProcessPool },
  { name: "threads", Pool: ThreadPool, Broken: BrokenThreadPool },
] as const;

/** Pids of this process's children, read from /proc (reaped children are not listed). */
function childPids(): number[] {
  const pids: number[] = [];
  for (const task of Deno.readDirSync("/proc/self/task")) {
    const text = Deno.readTextFileSync(`/proc/self/task/${task.name}/children`).trim();
    if (text) pids.push(...text.split(/\s+/).map(Number));
  }
  return pids;
}

for (const kind of KINDS) {
  Deno.test(`${kind.Pool.name}: map, starmap, apply, imap and their async variants return results in order`, async (t) => {
    await using pool = new kind.Pool({ processes: 2 });
    const items = Array.from({ length: 50 }, (_, k) => k);
    await t.step("map and mapAsync", async () => {
      assertEquals(await pool.map(square, items), items.map((n) => n * n));
      assertEquals(await pool.map(square, items, { chunksize: 7 }), items.map((n) => n * n));
      const result = pool.mapAsync(square, [1, 2, 3]);
      assertEquals(await result.get(), [1, 4, 9]);
      assert(result.ready() && result.successful());
      assertEquals(await pool.map(square, []), []);
    });
    await t.step("values that JSON cannot carry as they are cross with the codec", async () => {
      const values = [-0, NaN, undefined, 1n, new Date(0), new Map([[1, "a"]]), "plain", 3];
      assertEquals(await pool.map(identity, values), values);
      assertEquals(await pool.starmap(add, [[1, 2], [0.5, -0.5]]), [3, 0]);
      assert(Object.is((await pool.map(identity, [-0]))[0], -0));
    });
    await t.step("large chunks of plain values cross exactly (threads: packed)", async () => {
      const some = ["", "é€😀", "\ud800 lone", 2 ** 32 + 0.5, -(2 ** 31) - 1, 0.1, true, null];
      const values = Array.from({ length: 4000 }, (_, k) => some[k % some.length] ?? k);
      assertEquals(await pool.map(identity, values), values);
      const lists = Array.from({ length: 1000 }, (_, k): [number, number] => [k, 0.5]);
      assertEquals(await pool.starmap(add, lists), lists.map(([k]) => k + 0.5));
      assertEquals(await pool.map(identity, lists, { chunksize: 500 }), lists);
    });
    await t.step("map reads an async iterable", async () => {
      async function* numbers() {
        for (let n = 0; n < 5; n++) yield n;
      }
      assertEquals(await pool.map(square, numbers()), [0, 1, 4, 9, 16]);
    });
    await t.step("starmap and starmapAsync", async () => {
      assertEquals(await pool.starmap(add, [[1, 2], [3, 4]]), [3, 7]);
      assertEquals(await pool.starmapAsync(add, [[5, 6]]), [11]);
    });
    await t.step("apply and applyAsync with callbacks", async () => {
      assertEquals(await pool.apply(add, [2, 3]), 5);
      let seen: unknown;
      const result = pool.applyAsync(square, [9], { callback: (v) => (seen = v) });
      assertEquals(await result, 81);
      assertEquals(seen, 81);
    });
    await t.step("imap keeps input order; imapUnordered yields every result", async () => {
      assertEquals(await Array.fromAsync(pool.imap(square, items)), items.map((n) => n * n));
      const unordered = await Array.fromAsync(pool.imapUnordered(square, items, { chunksize: 3 }));
      assertEquals(unordered.sort((a, b) => a - b), items.map((n) => n * n));
    });
    await t.step("imap reads an endless generator lazily and closes it on break", async () => {
      let closed = false;
      let read = 0;
      function* naturals() {
        try {
          for (let n = 0;; n++) {
            read++;
            yield n;
          }
        } finally {
          closed = true;
        }
      }
      const out: number[] = [];
      for await (const s of pool.imap(square, naturals())) {
        out.push(s);
        if (out.length === 20) break;
      }
      assertEquals(out, Array.from({ length: 20 }, (_, n) => n * n));
      assert(closed, "the generator was closed");
      assert(read < 1000, `bounded read-ahead, read ${read}`);
    });
    await t.step("an async endless generator works too, unordered", async () => {
      async function* naturals() {
        for (let n = 0;; n++) yield n;
      }
      const out: number[] = [];
      for await (const s of pool.imapUnordered(square, naturals())) {
        out.push(s);
        if (out.length === 10) break;
      }
      assertEquals(out.length, 10);
    });
    await t.step("stats() counts tasks and workers", () => {
      const stats = pool.stats();
      assertEquals(stats.workers, 2);
      assertEquals(stats.queued, 0);
      assertEquals(stats.running, 0);
      assert(stats.done >= 200, `done ${stats.done}`);
      assertEquals(stats.busy + stats.idle, 2);
    });
  });

  Deno.test(`${kind.Pool.name}: after many tiny tasks, a worker takes no more long tasks of another function than it can start`, async () => {
    await using pool = new kind.Pool({ processes: 2 });
    // Tiny tasks, on both workers: square's chunks are timed as tiny.
    await pool.map(square, Array.from({ length: 1000 }, (_, k) => k), { chunksize: 1 });
    // The first task holds its worker until the 7 others have run: they can only run on the other
    // worker, which they reach only if none was queued behind the first (as a pool that judged
    // them by square's time would do, and the first's worker cannot give them back).
    const done = new Value("i", 0);
    const args: [Value<"i">, number, number][] = [
      [done, 7, 0],
      ...Array.from({ length: 7 }, (): [Value<"i">, number, number] => [done, 0, 30]),
    ];
    const out = await pool.starmap(waitOrCount, args, { chunksize: 1 });
    assertEquals(out[0], 7);
  });

  Deno.test(`${kind.Pool.name}: a task's error keeps its class name, message and the worker's stack`, async () => {
    await using pool = new kind.Pool({ processes: 1 });
    const error = await assertRejects(() => pool.apply(failWith, ["no bread"]));
    assertEquals((error as Error).name, "OutOfBread");
    assertEquals((error as Error).message, "no bread");
    assert((error as Error).stack?.includes("pool_tasks.ts"), (error as Error).stack);
    // map fails with the first error; imap yields up to it, then throws it.
    await assertRejects(() => pool.map(failOnThree, [1, 2, 3, 4], { chunksize: 1 }), RangeError);
    const seen: number[] = [];
    await assertRejects(
      async () => {
        for await (const n of pool.imap(failOnThree, [1, 2, 3, 4])) seen.push(n);
      },
      RangeError,
      "three is not allowed",
    );
    assertEquals(seen, [1, 2]);
    // A result that cannot be sent back is the task's error, and the worker goes on.
    await assertRejects(() => pool.apply(returnsFunction), TypeError, "results[0]");
    assertEquals(await pool.apply(square, [3]), 9);
    // An argument that cannot cross is refused with its place.
    await assertRejects(() => pool.map(square, [1, () => 2] as number[]), TypeError, "iterable[1]");
    assertThrows(
      () => pool.applyAsync(square, [() => 2] as unknown as [number]),
      TypeError,
      "args[0]",
    );
    await assertRejects(
      () => pool.apply(square, [() => 2] as unknown as [number]),
      TypeError,
      "args[0]",
    );
  });

  Deno.test(`${kind.Pool.name}: an unasked failed AsyncResult is no unhandled rejection; get() times out without failing the task`, async () => {
    await using pool = new kind.Pool({ processes: 1 });
    const failed = pool.applyAsync(failWith, ["ignored"]);
    await failed.wait();
    assertEquals(failed.successful(), false);
    const started = new Queue<number>();
    const release = new Event();
    const held = pool.applyAsync(holdUntil, [started, release]);
    await started.get();
    assertThrows(() => held.successful(), Error, "not done yet");
    await assertRejects(() => held.get({ timeout: 1 }), TimeoutError);
    await held.wait({ timeout: 1 });
    assertEquals(held.ready(), false);
    release.set();
    assertEquals(typeof await held.get(), "number");
  });

  Deno.test(`${kind.Pool.name}: a worker that exits mid-task rejects that task naming it; the pool replaces it and goes on`, async () => {
    await using pool = new kind.Pool({ processes: 2 });
    const pid = new Value("i", 0);
    const error = await assertRejects(() => pool.apply(exitWorker, [pid, 7]), kind.Broken);
    assert(error.message.includes("exited with code 7"), error.message);
    if (kind.name === "processes") {
      assert(error.message.includes(`pid ${pid.value}`), error.message);
    }
    assertEquals(await pool.map(square, [1, 2, 3, 4]), [1, 4, 9, 16]);
    assert(await eventually(() => pool.stats().workers === 2, 30_000), "a replacement started");
  });

  Deno.test(`${kind.Pool.name}: the initializer runs in every worker; one that throws breaks the pool instead of hanging`, async () => {
    {
      await using pool = new kind.Pool({
        processes: 2,
        initializer: rememberInit,
        initargs: ["hello"],
      });
      assertEquals(await pool.map(initialized, [1, 2, 3, 4]), ["hello", "hello", "hello", "hello"]);
    }
    await using pool = new kind.Pool({
      processes: 2,
      initializer: brokenInit,
      initargs: ["bad init"],
    });
    const error = await assertRejects(() => pool.map(square, [1, 2, 3]), kind.Broken);
    assert(error.message.includes("initializer failed"), error.message);
    assertInstanceOf(error.cause, TypeError);
    assertEquals((error.cause as Error).message, "bad init");
    assertThrows(() => pool.applyAsync(square, [1]), kind.Broken);
  });

  Deno.test(`${kind.Pool.name}: a signal drops queued tasks at once; a running task sees its signal abort`, async () => {
    await using pool = new kind.Pool({ processes: 1 });
    const started = new Queue<number>();
    const sawAbort = new Event();
    const controller = new AbortController();
    const running = rejection(
      pool.apply(waitForAbort, [started, sawAbort], { signal: controller.signal }),
    );
    const queued = rejection(
      pool.map(square, [1, 2, 3], { signal: controller.signal, chunksize: 1 }),
    );
    await started.get();
    assertEquals(pool.stats().queued + pool.stats().running, 4);
    controller.abort();
    await check(await running, DOMException);
    await check(await queued, DOMException);
    assertEquals(pool.stats().queued, 0);
    assert(await sawAbort.wait({ timeout: 30_000 }), "the task saw its signal abort");
    assertEquals(await pool.apply(square, [5]), 25);
    await assertRejects(
      () => pool.apply(square, [1], { signal: AbortSignal.abort() }),
      DOMException,
    );
    // imap: aborting ends the iteration with the signal's reason and closes the input.
    const imapController = new AbortController();
    let closed = false;
    function* naturals() {
      try {
        for (let n = 0;; n++) yield n;
      } finally {
        closed = true;
      }
    }
    const seen: number[] = [];
    await assertRejects(async () => {
      for await (const s of pool.imap(square, naturals(), { signal: imapController.signal })) {
        seen.push(s);
        if (seen.length === 3) imapController.abort();
      }
    }, DOMException);
    assertEquals(seen, [0, 1, 4]);
    assert(closed, "the input was closed");
  });

  Deno.test(`${kind.Pool.name}: join() refuses a running pool; close() lets queued work finish; terminate() rejects pending work`, async () => {
    await using pool = new kind.Pool({ processes: 1 });
    await assertRejects(() => pool.join(), Error, "still running");
    const results = pool.map(square, [1, 2, 3], { chunksize: 1 });
    pool.close();
    assertThrows(() => pool.applyAsync(square, [1]), Error, "closed");
    await pool.join();
    assertEquals(await results, [1, 4, 9]);
    assertEquals(pool.stats().workers, 0);

    await using other = new kind.Pool({ processes: 1 });
    const started = new Queue<number>();
    const held = rejection(other.apply(holdUntil, [started, new Event()]));
    const queued = rejection(other.apply(square, [2]));
    await started.get();
    await other.terminate();
    await check(await held, CancelledError, "terminated");
    await check(await queued, CancelledError);
    await other.join();
  });
}

Deno.test("Pool: close() lets an imap already being read finish, and join() waits for it", async () => {
  await using pool = new Pool({ processes: 1 });
  const items = Array.from({ length: 20 }, (_, k) => k);
  const it = pool.imap(square, items);
  const first = await it.next();
  pool.close();
  // Everything read ahead so far is done: the rest of the input is not read yet.
  assert(await eventually(() => pool.stats().running + pool.stats().queued === 0, 30_000));
  const rest: number[] = [];
  for await (const s of it) rest.push(s);
  await pool.join();
  assertEquals([first.value, ...rest], items.map((n) => n * n));
  // One not begun before close() is refused at its first next(), with the reason.
  await using other = new Pool({ processes: 1 });
  const late = other.imap(square, [1]);
  other.close();
  await assertRejects(() => late.next(), Error, "closed");
});

Deno.test("Pool: terminate() while a map still reads its async input rejects it instead of hanging", async () => {
  const pool = new Pool({ processes: 1 });
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  async function* slowly() {
    yield 1;
    await gate;
    yield 2;
  }
  const result = rejection(pool.map(square, slowly()));
  await pool.terminate();
  open();
  check(await result, CancelledError, "terminated");
});

Deno.test("Pool: a worker SIGKILLed mid-task rejects that task with its pid and signal; queued tasks run on", async () => {
  await using pool = new Pool({ processes: 1 });
  const started = new Queue<number>();
  const held = rejection(pool.apply(holdUntil, [started, new Event()]));
  const behind = pool.map(square, [1, 2, 3], { chunksize: 1 });
  const pid = await started.get();
  Deno.kill(pid, "SIGKILL");
  const error = await check(await held, BrokenProcessPool);
  assert(error.message.includes(`pid ${pid}`) && error.message.includes("SIGKILL"), error.message);
  assertEquals(await behind, [1, 4, 9]);
  const newPid = await pool.apply(workerPid);
  assert(newPid !== pid);
  assert(!pidAlive(pid));
});

Deno.test("Pool: maxTasksPerChild replaces workers after that many tasks, under load", async () => {
  await using pool = new Pool({ processes: 2, maxTasksPerChild: 2 });
  const pids = await pool.map(workerPid, Array.from({ length: 16 }, (_, k) => k), { chunksize: 1 });
  const counts = new Map<number, number>();
  for (const pid of pids) counts.set(pid, (counts.get(pid) ?? 0) + 1);
  assert(counts.size >= 8, `16 tasks at most 2 per worker: ${counts.size} workers`);
  for (const n of counts.values()) assert(n <= 2, `a worker ran ${n} tasks`);
});

Deno.test("Pool: a running task that ignores cancellation has its worker killed and replaced", async () => {
  await using pool = new Pool({ processes: 1 });
  const started = new Queue<number>();
  const controller = new AbortController();
  const running = rejection(
    pool.apply(ignoreAbort, [started, new Event()], { signal: controller.signal }),
  );
  const pid = await started.get();
  controller.abort();
  await check(await running, DOMException);
  assert(
    await eventually(() => !pidAlive(pid), 30_000),
    "the worker was killed after the grace period",
  );
  const next = await pool.apply(workerPid);
  assert(next !== pid);
});

Deno.test("Pool: terminate() mid-flight leaves no worker process behind", async () => {
  const pool = new Pool({ processes: 2 });
  const started = new Queue<number>();
  const release = new Event();
  const held = [
    rejection(pool.apply(holdUntil, [started, release])),
    rejection(pool.apply(holdUntil, [started, release])),
  ];
  const pids = [await started.get(), await started.get()];
  for (const pid of pids) assert(childPids().includes(pid));
  await pool.terminate();
  for (const p of held) await check(await p, CancelledError);
  const left = childPids();
  for (const pid of pids) assert(!left.includes(pid), `worker ${pid} is still a child`);
});

Deno.test("Pool and ThreadPool: a Lock, a Value and a Queue passed as task arguments are live", async () => {
  const counter = new Value("i", 0);
  const lock = new Lock();
  const out = new Queue<string>();
  for (const P of [Pool, ThreadPool]) {
    counter.value = 0;
    await using pool = new P({ processes: 2 });
    await pool.starmap(addUnderLock, [[counter, lock, 50, out], [counter, lock, 50, out]]);
    assertEquals(counter.value, 100);
    assertEquals([await out.get(), await out.get()], ["done", "done"]);
  }
});

Deno.test("await using a Pool terminates it at the end of the block", async () => {
  let pids: number[];
  {
    await using pool = new Pool({ processes: 2 });
    pids = await pool.map(workerPid, [1, 2, 3, 4], { chunksize: 1 });
  }
  const left = childPids();
  for (const pid of new Set(pids)) assert(!left.includes(pid));
});

for (const Executor of [ProcessPoolExecutor, ThreadPoolExecutor]) {
  const Broken = Executor === ProcessPoolExecutor ? BrokenProcessPool : BrokenThreadPool;

  Deno.test(`${Executor.name}: submit, futures, map, asCompleted and wait`, async (t) => {
    await using executor = new Executor({ maxWorkers: 2 });
    await t.step("submit() returns a thenable Future", async () => {
      const future = executor.submit(add, 2, 3);
      let calls = 0;
      future.addDoneCallback((f) => {
        assertEquals(f, future);
        calls++;
      });
      assertEquals(await future, 5);
      assertEquals(await future.result({ timeout: 60_000 }), 5);
      assertEquals(await future.exception(), null);
      assert(future.done() && !future.running() && !future.cancelled());
      assertEquals(future.cancel(), false);
      assertEquals(calls, 1);
    });
    await t.step("a failed future keeps its error until asked", async () => {
      const future = executor.submit(failWith, "late");
      const error = await future.exception();
      assertEquals(error?.name, "OutOfBread");
      await assertRejects(() => future.result(), Error, "late");
    });
    await t.step("map() zips its inputs, reads them lazily, and times out", async () => {
      assertEquals(await Array.fromAsync(executor.map(add, [1, 2, 3], [10, 20])), [11, 22]);
      function* naturals() {
        for (let n = 0;; n++) yield n;
      }
      const out: number[] = [];
      for await (const s of executor.map(square, naturals(), { chunksize: 2 })) {
        out.push(s);
        if (out.length === 6) break;
      }
      assertEquals(out, [0, 1, 4, 9, 16, 25]);
      const started = new Queue<number>();
      const release = new Event();
      await assertRejects(
        () => Array.fromAsync(executor.map(holdUntil, [started], [release], { timeout: 1 })),
        TimeoutError,
      );
      release.set();
    });
    await t.step("asCompleted() and wait()", async () => {
      const futures = [1, 2, 3, 4].map((n) => executor.submit(square, n));
      const seen: number[] = [];
      for await (const f of asCompleted(futures)) seen.push(await f);
      assertEquals(seen.sort((a, b) => a - b), [1, 4, 9, 16]);
      const failing = executor.submit(failWith, "first");
      const release = new Event();
      const held = executor.submit(holdUntil, new Queue<number>(), release);
      const first = await wait([failing, held], { returnWhen: "FIRST_EXCEPTION" });
      assert(first.done.has(failing) && first.notDone.has(held));
      const timedOut = await wait([held], { timeout: 1 });
      assertEquals(timedOut.notDone.size, 1);
      await assertRejects(() => Array.fromAsync(asCompleted([held], { timeout: 1 })), TimeoutError);
      release.set();
      const all = await wait([failing, held]);
      assertEquals(all.done.size, 2);
      const any = await wait([executor.submit(square, 2)], { returnWhen: "FIRST_COMPLETED" });
      assertEquals(any.done.size, 1);
    });
  });

  Deno.test(`${Executor.name}: cancel() drops a pending task; shutdown({ cancelFutures }) cancels the rest`, async () => {
    await using executor = new Executor({ maxWorkers: 1 });
    const started = new Queue<number>();
    const release = new Event();
    const running = executor.submit(holdUntil, started, release);
    // Enough behind it that the last ones wait in the executor's queue, not in the worker.
    const pending = Array.from({ length: 5 }, (_, k) => executor.submit(square, k));
    await started.get();
    assert(running.running());
    assertEquals(running.cancel(), false);
    const last = pending[pending.length - 1];
    assertEquals(last.cancel(), true);
    assert(last.cancelled() && last.done());
    await assertRejects(() => last.result(), CancelledError);
    await assertRejects(() => last.exception(), CancelledError);
    const shutdown = executor.shutdown({ wait: true, cancelFutures: true });
    assertThrows(() => executor.submit(square, 1), Error, "shut down");
    release.set();
    await shutdown;
    assertEquals(typeof await running, "number");
    for (const f of pending) assert(f.done());
  });

  Deno.test(`${Executor.name}: shutdown({ wait: false }) strands no work`, async () => {
    const executor = new Executor({ maxWorkers: 2 });
    const futures = Array.from({ length: 20 }, (_, k) => executor.submit(square, k));
    await executor.shutdown({ wait: false });
    assertEquals(await Promise.all(futures), Array.from({ length: 20 }, (_, k) => k * k));
    await executor.shutdown(); // waits for the workers to exit
  });

  Deno.test(`${Executor.name}: a worker lost mid-task breaks the executor: that future and the pending ones fail`, async () => {
    await using executor = new Executor({ maxWorkers: 1 });
    const lost = executor.submit(exitWorker, new Value("i", 0), 3);
    const behind = executor.submit(square, 2); // a Future: its error waits until asked for
    const error = await assertRejects(() => lost.result(), Broken);
    assert(error.message.includes("exited with code 3"), error.message);
    await assertRejects(() => behind.result(), Broken);
    assertThrows(() => executor.submit(square, 1), Broken);
  });

  Deno.test(`${Executor.name}: an initializer that throws breaks the executor`, async () => {
    await using executor = new Executor({
      maxWorkers: 1,
      initializer: brokenInit,
      initargs: ["no"],
    });
    const error = await assertRejects(() => executor.submit(square, 1).result(), Broken);
    assertEquals((error.cause as Error).message, "no");
  });
}

Deno.test("ProcessPoolExecutor: a worker SIGKILLed mid-task fails its future with the pid and signal", async () => {
  await using executor = new ProcessPoolExecutor({ maxWorkers: 2, maxTasksPerChild: 100 });
  const started = new Queue<number>();
  const lost = executor.submit(holdUntil, started, new Event());
  const pid = await started.get();
  Deno.kill(pid, "SIGKILL");
  const error = await assertRejects(() => lost.result(), BrokenProcessPool);
  assert(error.message.includes(`pid ${pid}`) && error.message.includes("SIGKILL"), error.message);
});

Deno.test("Pool: a task module that makes a pool when imported is refused in the worker", async () => {
  await using pool = new Pool({ processes: 1 });
  const one = { module: new URL("./fixtures/pool_unguarded.ts", import.meta.url), export: "one" };
  await assertRejects(() => pool.apply(one), Error, "bootstrapping phase");
});

Deno.test("A program that leaves its pools open still ends, and leaves no worker behind", async () => {
  const program = new URL("./fixtures/pool_forgotten.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await runDeno(["-A", program]);
  assert(code === 0, `exit code ${code}: ${stderr}`);
  const pids = JSON.parse(stdout) as number[];
  assert(pids.length > 0, stderr);
  for (const pid of pids) {
    assert(await eventually(() => !pidAlive(pid), 30_000), `worker ${pid} is left`);
  }
});

Deno.test("Pool options are checked", () => {
  assertThrows(() => new Pool({ processes: 0 }), RangeError, "processes");
  assertThrows(() => new Pool({ maxTasksPerChild: 1.5 }), RangeError, "maxTasksPerChild");
  assertThrows(() => new ProcessPoolExecutor({ maxWorkers: -1 }), RangeError, "maxWorkers");
  assertThrows(() => new ThreadPool({ initializer: () => {} }), TypeError, "not exported");
});
