/** Queue and SimpleQueue across real child processes: putting, getting, closing, and an owner that exits. */
import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import { Empty, Full, JoinableQueue, Pipe, Queue, QueueClosed, SimpleQueue } from "../mod.ts";
import { openLifelongResources, runDeno, tempDir } from "./_helpers.ts";
import {
  doubler,
  type ErrorReport,
  getAndReport,
  iterateAll,
  producer,
  putAll,
  putAndReport,
} from "./fixtures/queue_targets.ts";
import { get, joinAll, start } from "./_queue.ts";

openLifelongResources();

const FIXTURES = new URL("./fixtures/", import.meta.url);

// ---------------------------------------------------------------------------
// Queue basics

Deno.test("Queue(3) is full after the seed's three puts and empty after three gets in order", async () => {
  const q = new Queue(3);
  equal(q.maxsize, 3);
  ok(q.empty());
  await q.put("hello");
  await q.put({ a: 1 });
  await q.put([1, 2, 3, 4]);
  ok(q.full());
  equal(q.qsize(), 3);
  equal(await get(q), "hello");
  deepStrictEqual(await get(q), { a: 1 });
  deepStrictEqual(await get(q), [1, 2, 3, 4]);
  ok(q.empty());
  ok(!q.full());
});

Deno.test("Queue.put() with a timeout on a full bounded queue rejects with Full", async () => {
  const q = new Queue<number>(1);
  await q.put(1);
  await rejects(q.put(2, { timeout: 50 }), (error: Error) => {
    ok(error instanceof Full);
    equal(error.name, "Full");
    match(error.message, /full/);
    return true;
  });
  await rejects(q.putNowait(3), Full);
  equal(q.qsize(), 1);
  equal(await get(q), 1);
  ok(q.empty());
});

Deno.test("Queue.get() with a timeout on an empty queue rejects with Empty", async () => {
  const q = new Queue();
  await rejects(q.get({ timeout: 50 }), (error: Error) => {
    ok(error instanceof Empty);
    equal(error.name, "Empty");
    match(error.message, /empty/);
    return true;
  });
  await rejects(q.getNowait(), Empty);
});

Deno.test("Queue.putNowait() and getNowait() succeed when there is room and an item", async () => {
  const q = new Queue<string>(2);
  await q.putNowait("a");
  await q.putNowait("b");
  ok(q.full());
  equal(await q.getNowait(), "a");
  equal(await q.getNowait(), "b");
  await rejects(q.getNowait(), Empty);
});

Deno.test("A negative timeout is a RangeError for put(), get(), join(), recv() and poll()", async () => {
  const q = new Queue(1);
  const jq = new JoinableQueue();
  const [a, b] = Pipe();
  await rejects(q.put(1, { timeout: -1 }), { name: "RangeError", message: /timeout is negative/ });
  await rejects(q.get({ timeout: -5 }), { name: "RangeError", message: /timeout is negative/ });
  await rejects(jq.join({ timeout: -1 }), RangeError);
  await rejects(a.recv({ timeout: -1 }), RangeError);
  await rejects(a.poll({ timeout: -1 }), RangeError);
  ok(q.empty());
  a.close();
  b.close();
});

Deno.test("Items from one producer process come out in the order they were put", async () => {
  const items = Array.from({ length: 2000 }, (_, i) => i);
  const q = new Queue<number>();
  await using p = start(putAll, [q, items]);
  const got: number[] = [];
  for (let i = 0; i < items.length; i++) got.push(await get(q));
  deepStrictEqual(got, items);
  await joinAll([p]);
});

Deno.test("A producer process blocks on a full bounded queue and its items still arrive in order", async () => {
  const items = Array.from({ length: 300 }, (_, i) => `item ${i}`);
  const q = new Queue<string>(5);
  await using p = start(putAll, [q, items]);
  const got: string[] = [];
  for (let i = 0; i < items.length; i++) {
    got.push(await get(q));
    ok(q.qsize() <= 5, `qsize ${q.qsize()} exceeds maxsize 5`);
  }
  deepStrictEqual(got, items);
  await joinAll([p]);
});

// ---------------------------------------------------------------------------
// close()

Deno.test("Queue.close(): put then rejects with QueueClosed, get drains what is left and then rejects with QueueClosed", async () => {
  const q = new Queue<number>();
  await q.put(1);
  await q.put(2);
  q.close();
  q.close(); // a second close is harmless
  await rejects(q.put(3), (error: Error) => {
    ok(error instanceof QueueClosed);
    equal(error.name, "QueueClosed");
    return true;
  });
  equal(await get(q), 1);
  equal(await get(q), 2);
  await rejects(get(q), QueueClosed);
  await rejects(q.getNowait(), QueueClosed);
});

Deno.test("for await over a queue in a child ends after the parent closes it", async () => {
  const q = new Queue<number>();
  const out = new Queue<number[]>();
  await using p = start(iterateAll, [q, out]);
  await q.put(1);
  await q.put(2);
  await q.put(3);
  q.close();
  deepStrictEqual(await get(out), [1, 2, 3]);
  await joinAll([p]);
});

Deno.test("for await over a queue in the parent ends after close()", async () => {
  const q = new Queue<string>();
  await using p = start(producer, [q, "p", 3]);
  await joinAll([p]);
  q.close();
  const seen: string[] = [];
  for await (const item of q) seen.push(item);
  deepStrictEqual(seen, ["p: bun 0", "p: bun 1", "p: bun 2"]);
});

Deno.test("A put() in a child on a bounded queue the parent closed rejects with QueueClosed", async () => {
  const q = new Queue<string>(5);
  const out = new Queue<ErrorReport | null>();
  await q.put("before");
  q.close();
  await using p = start(putAndReport, [q, "after", out]);
  const error = await get(out);
  equal(error?.name, "QueueClosed");
  ok(error?.isQueueClosed, "the child's error is not an instance of QueueClosed");
  await joinAll([p]);
  equal(await get(q), "before");
  await rejects(get(q), QueueClosed);
});

Deno.test("Queue.close() releases a get() waiting in another process with QueueClosed", async () => {
  const q = new Queue();
  const out = new Queue<unknown>();
  await using p = start(getAndReport, [q, out]);
  equal(await get(out), "waiting");
  q.close();
  const outcome = await get(out) as { error?: ErrorReport };
  equal(outcome.error?.name, "QueueClosed");
  ok(outcome.error?.isQueueClosed, "the child's error is not an instance of QueueClosed");
  await joinAll([p]);
});

// ---------------------------------------------------------------------------
// SimpleQueue

Deno.test("SimpleQueue carries items to a child process and back", async () => {
  const to = new SimpleQueue<number | null>();
  const from = new SimpleQueue<number | null>();
  ok(to.empty());
  await using p = start(doubler, [to, from]);
  for (const n of [1, 2, 3, 21]) await to.put(n);
  await to.put(null);
  const got: (number | null)[] = [];
  for (let i = 0; i < 5; i++) got.push(await get(from));
  deepStrictEqual(got, [2, 4, 6, 42, null]);
  await joinAll([p]);
  ok(to.empty() && from.empty());
});

// ---------------------------------------------------------------------------
// The owner of a queue exits

Deno.test("A grandchild waiting in get() on a queue whose owner was terminated gets a clear error, not a hang", async () => {
  await using dir = await tempDir();
  const result = await runDeno([
    "-A",
    new URL("queue_targets.ts", FIXTURES).pathname,
    "owner-exit",
    dir.path,
  ]);
  equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split("\n");
  const outcome = JSON.parse(lines[lines.length - 1]);
  equal(outcome.hang, undefined, `${outcome.hang}\n${result.stderr}`);
  equal(outcome.ownerExitCode, -15);
  equal(outcome.outcome.item, undefined);
  match(outcome.outcome.message, /Cannot reach the hub of process \d+.*exited/);
});

Deno.test("Queue.qsize() counts this process's own puts once, before and after the hub has them", async () => {
  const q = new Queue<number>();
  /** Every qsize() seen over `ms` milliseconds, the event loop turning meanwhile. */
  const sizesOver = async (ms: number) => {
    const seen = new Set<number>();
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      seen.add(q.qsize());
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return [...seen];
  };
  for (let round = 0; round < 5; round++) {
    await q.put(round);
    // The hub counts the put (and publishes it) before its answer comes back: not twice.
    deepStrictEqual(await sizesOver(5), [1], `after the put of round ${round}`);
    equal(await get(q), round);
    deepStrictEqual(await sizesOver(5), [0], `after the get of round ${round}`);
  }
  for (let i = 0; i < 6; i++) await q.put(i);
  deepStrictEqual(await sizesOver(5), [6]);
});
