/**
 * Bounded queues across processes: a producer's put() returns without a round trip while it sees
 * room, and a consumer fetches ahead, yet nobody gets more than `maxsize` items ahead, as in
 * Python, and nothing is lost or reordered when several producers race for the room.
 */
import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { Full, Queue, Value } from "../mod.ts";
import { openLifelongResources } from "./_helpers.ts";
import { putAll, putCounting } from "./fixtures/queue_targets.ts";
import { get, joinAll, start, WAIT } from "./_queue.ts";

openLifelongResources();

/** Waits (polling, bounded) until `check()` holds. */
async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + WAIT;
  while (!check()) {
    if (Date.now() > end) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("A bounded queue's producer process gets exactly maxsize puts ahead of its consumer", async () => {
  const maxsize = 5;
  const n = 400;
  const q = new Queue<number>(maxsize);
  const done = new Value("i", 0);
  await using p = start(putCounting, [q, n, done]);
  // Nobody gets: the producer's put() of item 5 waits, as Python's would.
  await until(() => done.value === maxsize && q.qsize() === maxsize, "5 puts returned");
  await new Promise((resolve) => setTimeout(resolve, 200));
  equal(done.value, maxsize, "a put returned although the queue was full");
  equal(q.qsize(), maxsize);
  ok(q.full());
  // Getting, this process fetches items ahead of its gets: they still take room, so the producer
  // never has more than `maxsize` puts returned beyond the items taken here.
  for (let i = 0; i < n; i++) {
    equal(await get(q), i);
    const ahead = done.value - (i + 1);
    ok(ahead <= maxsize, `after ${i + 1} gets the producer had ${done.value} puts returned`);
  }
  await joinAll([p]);
  equal(done.value, n);
  equal(q.qsize(), 0);
});

Deno.test("A bounded queue's size is exact for its own puts and gets, with the gets fetching ahead", async () => {
  const q = new Queue<string>(3);
  await q.put("a");
  await q.put("b");
  equal(q.qsize(), 2);
  await q.put("c");
  ok(q.full());
  await rejects(q.put("x", { timeout: 0 }), Full);
  equal(await get(q), "a");
  equal(q.qsize(), 2);
  await q.put("d");
  equal(q.qsize(), 3);
  await rejects(q.putNowait("y"), Full);
  // The second get takes "b" and fetches "c" and "d" ahead: they still count, and take room.
  equal(await get(q), "b");
  equal(q.qsize(), 2);
  await q.put("e");
  equal(q.qsize(), 3);
  await rejects(q.put("z", { timeout: 0 }), Full, "the items fetched ahead left room");
  deepStrictEqual([await get(q), await get(q), await get(q)], ["c", "d", "e"]);
  ok(q.empty());
});

Deno.test("Producers racing for a bounded queue's room lose nothing and keep their order, also when they return at once", async () => {
  const maxsize = 3;
  const q = new Queue<string>(maxsize);
  const names = ["p", "q", "r"];
  const n = 300;
  const producers = names.map((name) =>
    start(putAll, [q, Array.from({ length: n }, (_, i) => `${name}${i}`)])
  );
  try {
    const next = new Map(names.map((name) => [name, 0]));
    for (let i = 0; i < names.length * n; i++) {
      const item = await get(q);
      const name = item[0];
      equal(item, `${name}${next.get(name)}`, "a producer's items came out of order");
      next.set(name, next.get(name)! + 1);
      ok(q.qsize() <= maxsize, `qsize() ${q.qsize()} is above maxsize`);
      // Slower than the producers now and then, so that they wait for room.
      if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await joinAll(producers);
    ok(q.empty());
  } finally {
    for (const p of producers) await p[Symbol.asyncDispose]();
  }
});

Deno.test("qsize() after gets served from items fetched ahead is exact, before and after the hub records their use", async () => {
  for (const maxsize of [0, 200]) {
    const q = new Queue<number>(maxsize);
    for (let i = 0; i < 100; i++) await q.put(i);
    await q.flush();
    for (let i = 0; i < 10; i++) equal(await get(q), i);
    // The uses of the items fetched ahead reach the hub, are applied, and are answered meanwhile.
    const seen = new Set<number>();
    const end = Date.now() + 100;
    while (Date.now() < end) {
      seen.add(q.qsize());
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    deepStrictEqual([...seen], [90], `Queue(${maxsize}).qsize() read ${[...seen]}`);
    for (let i = 10; i < 100; i++) equal(await get(q), i);
    ok(q.empty());
  }
});
