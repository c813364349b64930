/** Pools on Node.js (child processes and worker_threads), from the built package. */
import { deepStrictEqual, equal, match, notEqual, ok, rejects } from "node:assert/strict";
import { test } from "node:test";
import { Event, PKG_ROOT, Queue } from "./_pkg.mjs";
import { exitWorker, fail, reportAndWait, square, whereAmI } from "./fixtures/pool_tasks.mjs";
import { LONG, pidAlive, waitUntil } from "./_helpers.mjs";

const { asCompleted, Pool, ProcessPoolExecutor, ThreadPool } = await import(
  new URL("pool/mod.js", PKG_ROOT).href
);

/** Node 20 has no `await using`: runs `body(pool)`, then terminates the pool, as disposal does. */
async function withPool(pool, body) {
  try {
    return await body(pool);
  } finally {
    await pool.terminate();
    await pool.join();
  }
}

test("Pool.map runs an exported function in 2 worker processes, results in input order", async () => {
  await withPool(new Pool({ processes: 2 }), async (pool) => {
    const inputs = Array.from({ length: 50 }, (_, i) => i);
    deepStrictEqual(await pool.map(square, inputs), inputs.map((n) => n * n));
    const where = await pool.map(whereAmI, inputs, { chunksize: 1 });
    deepStrictEqual(where.map((w) => w.n), inputs);
    ok(where.every((w) => w.pid !== process.pid), "a task ran in the parent process");
    ok(new Set(where.map((w) => w.pid)).size <= 2);
    equal(pool.stats().workers, 2);
  });
});

test("Pool.terminate() resolves with nothing else keeping Node alive, and no worker process is left", async () => {
  const pool = new Pool({ processes: 2 });
  const where = await pool.map(whereAmI, [1, 2, 3, 4], { chunksize: 1 });
  // Nothing but the pool is pending here: the killed workers' exits must keep Node alive.
  await pool.terminate();
  await pool.join();
  for (const { pid } of where) equal(pidAlive(pid), false, `worker ${pid} still exists`);
});

test("ThreadPool.map runs tasks on worker_threads of this process", async () => {
  await withPool(new ThreadPool({ processes: 2 }), async (pool) => {
    const where = await pool.map(whereAmI, [1, 2, 3, 4], { chunksize: 1 });
    deepStrictEqual(where.map((w) => w.n), [1, 2, 3, 4]);
    for (const w of where) {
      equal(w.pid, process.pid);
      equal(w.isMainThread, false);
    }
    deepStrictEqual(await pool.map(square, [1, 2, 3]), [1, 4, 9]);
  });
});

test("a task's error keeps its class and message, and the pool goes on", async () => {
  await withPool(new Pool({ processes: 1 }), async (pool) => {
    await rejects(pool.apply(fail, ["out of bread"]), { name: "RangeError", message: "out of bread" });
    equal(await pool.apply(square, [7]), 49);
  });
});

test("a Pool worker process SIGKILLed mid-task rejects that task naming its pid, and the pool goes on", async () => {
  await withPool(new Pool({ processes: 2 }), async (pool) => {
    const started = new Queue();
    const release = new Event();
    const doomed = pool.apply(reportAndWait, [started, release]);
    const { pid } = await started.get({ timeout: LONG });
    notEqual(pid, process.pid);
    process.kill(pid, "SIGKILL");
    await rejects(doomed, (error) => {
      equal(error.name, "BrokenProcessPool");
      match(error.message, new RegExp(`\\b${pid}\\b`));
      match(error.message, /SIGKILL/);
      return true;
    });
    await waitUntil(() => !pidAlive(pid), `killed worker ${pid} to be reaped`);
    deepStrictEqual(await pool.map(square, [1, 2, 3, 4], { chunksize: 1 }), [1, 4, 9, 16]);
    await waitUntil(() => pool.stats().workers === 2, "the replacement worker");
    release.set();
  });
});

test("a ThreadPool worker thread that exits mid-task rejects that task with its exit code, and the pool goes on", async () => {
  await withPool(new ThreadPool({ processes: 1 }), async (pool) => {
    await rejects(pool.apply(exitWorker, [7]), (error) => {
      equal(error.name, "BrokenThreadPool");
      match(error.message, /\b7\b/);
      return true;
    });
    deepStrictEqual(await pool.map(square, [5, 6]), [25, 36]);
  });
});

test("ProcessPoolExecutor: submit() returns futures, asCompleted() yields each once, an error fails only its own", async () => {
  const executor = new ProcessPoolExecutor({ maxWorkers: 2 });
  try {
    const futures = [1, 2, 3, 4, 5].map((n) => executor.submit(square, n));
    const failing = executor.submit(fail, "no luck");
    const seen = [];
    for await (const future of asCompleted([...futures, failing, futures[0]])) seen.push(future);
    equal(seen.length, 6);
    equal(new Set(seen).size, 6);
    ok(seen.every((f) => f.done()));
    deepStrictEqual(await Promise.all(futures), [1, 4, 9, 16, 25]);
    await rejects(failing.result(), { name: "RangeError", message: "no luck" });
    equal((await failing.exception()).message, "no luck");
  } finally {
    await executor.shutdown({ wait: true });
  }
});

test("ProcessPoolExecutor: a worker killed mid-task fails its future with BrokenProcessPool", async () => {
  const executor = new ProcessPoolExecutor({ maxWorkers: 1 });
  try {
    const started = new Queue();
    const release = new Event();
    const doomed = executor.submit(reportAndWait, started, release);
    const { pid } = await started.get({ timeout: LONG });
    process.kill(pid, "SIGKILL");
    await rejects(doomed.result({ timeout: LONG }), (error) => {
      equal(error.name, "BrokenProcessPool");
      match(error.message, new RegExp(`\\b${pid}\\b`));
      return true;
    });
    release.set();
  } finally {
    await executor.shutdown({ wait: true });
  }
});
