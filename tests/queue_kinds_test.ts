/** LifoQueue and PriorityQueue (Python's `queue` module) across real child processes and threads. */
import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import { Empty, Event, Full, LifoQueue, PriorityQueue, Queue, Thread } from "../mod.ts";
import { openLifelongResources } from "./_helpers.ts";
import { getSomeThenAnother, reportClassThenPut } from "./fixtures/queue_targets.ts";
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
