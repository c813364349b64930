/** ProcessPoolExecutor and ThreadPoolExecutor with real worker processes and threads. */
import {
  asCompleted,
  BrokenProcessPool,
  BrokenThreadPool,
  CancelledError,
  Event,
  ProcessPoolExecutor,
  Queue,
  ThreadPoolExecutor,
  TimeoutError,
  Value,
  wait,
} from "../mod.ts";
import { add, brokenInit, exitWorker, failWith, holdUntil, square } from "./fixtures/pool_tasks.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./_pool.ts";

// This process's hub, its status file and the shared-memory library stay for the life of the
// process: starting them here, outside any test, keeps them out of the resource sanitizer's
// account of the first test using them.
new Event().isSet();

new Value("i", 0).value;

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
