/** LifoQueue and PriorityQueue (Python's `queue` module) across real child processes and threads. */
import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import { Empty, Event, Full, LifoQueue, PriorityQueue, Queue, TaskQueue, Thread } from "../mod.ts";
import { openLifelongResources } from "./_helpers.ts";
import {
  getSomeThenAnother,
  reportClassThenPut,
  workAndMarkDone,
} from "./fixtures/queue_targets.ts";
import { get, joinAll, start, WAIT } from "./_queue.ts";

openLifelongResources();

/** Gets `n` items, bounded. */
async function getN<T>(q: Queue<T>, n: number): Promise<T[]> {
  const got: T[] = [];
  for (let i = 0; i < n; i++) got.push(await get(q));
  return got;
}

Deno.test("LifoQueue: a child sees a LifoQueue, and what it put comes out here newest first", async () => {
  const q = new LifoQueue<number>();
  const out = new Queue<string>();
  await using p = start(reportClassThenPut, [q, [1, 2, 3, 4], out]);
  equal(await get(out), "LifoQueue");
  await joinAll([p]);
  deepStrictEqual(await getN(q, 4), [4, 3, 2, 1]);
  await rejects(q.getNowait(), Empty);
});

Deno.test("PriorityQueue: a child's [priority, item] entries come out lowest first, ties in the order put, large ones too", async () => {
  const q = new PriorityQueue<[number, unknown]>();
  const out = new Queue<string>();
  const big = new Uint8Array(64 * 1024).fill(7); // large: an item that would go to shared memory
  const entries: [number, unknown][] = [
    [3, "c"],
    [1, { job: "a" }],
    [2, big],
    [1, { job: "b" }],
    [0, new Map([["k", 1n]])],
  ];
  await using p = start(reportClassThenPut, [q, entries, out]);
  equal(await get(out), "PriorityQueue");
  await joinAll([p]);
  deepStrictEqual(await getN(q, 5), [
    [0, new Map([["k", 1n]])],
    [1, { job: "a" }],
    [1, { job: "b" }],
    [2, big],
    [3, "c"],
  ]);
});

Deno.test("PriorityQueue: each get in a child takes the lowest entry at that moment, not one fetched ahead", async () => {
  const q = new PriorityQueue<number>();
  const go = new Event();
  const out = new Queue<number | number[]>();
  for (let n = 10; n < 40; n++) await q.put(n);
  await using p = start(getSomeThenAnother, [q, 8, go, out]);
  deepStrictEqual(await get(out), [10, 11, 12, 13, 14, 15, 16, 17]);
  await q.put(1); // lower than anything the child could have fetched ahead
  go.set();
  equal(await get(out), 1);
  await joinAll([p]);
  equal(await get(q), 18);
});

Deno.test("LifoQueue in a thread: each get takes the newest item at that moment", async () => {
  const q = new LifoQueue<number>();
  const go = new Event();
  const out = new Queue<number | number[]>();
  for (let n = 0; n < 30; n++) await q.put(n);
  await using t = new Thread({ target: getSomeThenAnother, args: [q, 8, go, out] });
  t.start();
  deepStrictEqual(await get(out), [29, 28, 27, 26, 25, 24, 23, 22]);
  await q.put(100);
  go.set();
  equal(await get(out), 100);
  await t.join({ timeout: WAIT });
  equal(await get(q), 21);
});

Deno.test("PriorityQueue: an entry with nothing to order it by is refused with a TypeError, and nothing is put", async () => {
  const q = new PriorityQueue<unknown>(2);
  for (const entry of [{ a: 1 }, null, NaN, [{ a: 1 }, 1]]) {
    await rejects(async () => await q.put(entry), (error: Error) => {
      ok(error instanceof TypeError);
      match(error.message, /entry cannot be ordered/);
      return true;
    });
  }
  equal(q.qsize(), 0);
  await q.put("b");
  await q.put("a");
  await rejects(q.put("c", { timeout: 0 }), Full);
  deepStrictEqual(await getN(q, 2), ["a", "b"]);
});

Deno.test("TaskQueue, LifoQueue and PriorityQueue count tasks as Python's do: join() returns once worker processes marked every item done", async () => {
  const big = new Uint8Array(8 * 1024).fill(3); // kept in shared memory on the way
  for (
    const q of [new TaskQueue<unknown>(), new LifoQueue<unknown>(), new PriorityQueue<unknown>()]
  ) {
    const items = !(q instanceof PriorityQueue)
      ? ["a", big, "c", "d"]
      : [[2, "b"], [1, big], [3, "c"], [0, "d"]];
    for (const item of items) await q.put(item);
    equal(q.unfinishedTasks(), 4);
    equal(await q.join({ timeout: 0 }), false);
    const done = new Queue<unknown>();
    const workers = [start(workAndMarkDone, [q, 2, done]), start(workAndMarkDone, [q, 2, done])];
    try {
      equal(await q.join({ timeout: WAIT }), true, `${q.constructor.name}: join() timed out`);
      equal(q.unfinishedTasks(), 0);
      const got = await getN(done, 4);
      equal(got.length, 4);
      ok(
        got.some((item) =>
          item instanceof Uint8Array || (Array.isArray(item) && item[1] instanceof Uint8Array)
        ),
      );
      await joinAll(workers);
      // One too many, as Python's ValueError.
      let error: unknown;
      try {
        await q.taskDone();
      } catch (caught) {
        error = caught;
      }
      match(String(error), /task_done\(\) called too many times/);
    } finally {
      for (const w of workers) await w[Symbol.asyncDispose]();
    }
  }
});

Deno.test("A PriorityQueue's join() waits for the task a worker took and has not marked done", async () => {
  const q = new PriorityQueue<[number, string]>();
  await q.put([1, "only"]);
  deepStrictEqual(await get(q), [1, "only"]);
  equal(await q.join({ timeout: 30 }), false);
  const joined = q.join({ timeout: WAIT });
  await q.taskDone();
  equal(await joined, true);
});
