/**
 * Pool and ThreadPool with real worker processes and threads: every method,
 * a task's error, a worker exiting mid-task, the initializer, cancellation,
 * and the pool's options.
 */
import { ok } from "node:assert/strict";
import {
  BrokenProcessPool,
  BrokenThreadPool,
  CancelledError,
  Event,
  Lock,
  Pool,
  ProcessPoolExecutor,
  Queue,
  ThreadPool,
  TimeoutError,
  Value,
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
  initialized,
  rememberInit,
  returnsFunction,
  square,
  waitForAbort,
  waitOrCount,
  workerPid,
} from "./fixtures/pool_tasks.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  assertThrows,
  check,
  childPids,
  ErrorClass,
  rejection,
} from "./_pool.ts";

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
