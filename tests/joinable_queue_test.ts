/** JoinableQueue across real child processes. */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { Empty, JoinableQueue, Queue } from "../mod.ts";
import { openLifelongResources, processState } from "./_helpers.ts";
import {
  type ErrorReport,
  getAndReport,
  joinableConsumer,
  joinableProducer,
  putBig,
  takeAndAck,
  takeAndHang,
  takeAndReturn,
  takeBig,
  takeSomeAndHang,
  taskDoneTimes,
} from "./fixtures/queue_targets.ts";
import { get, joinAll, start, WAIT } from "./_queue.ts";

openLifelongResources();

// ---------------------------------------------------------------------------
// JoinableQueue

Deno.test("JoinableQueue: the seed's 3 producers join the queue while 2 daemon consumers call taskDone()", async () => {
  const q = new JoinableQueue<string>();
  const eaten = new Queue<string>();
  await using c1 = start(joinableConsumer, [q, eaten], true);
  await using c2 = start(joinableConsumer, [q, eaten], true);
  await using p1 = start(joinableProducer, [q, "p1"]);
  await using p2 = start(joinableProducer, [q, "p2"]);
  await using p3 = start(joinableProducer, [q, "p3"]);
  await joinAll([p1, p2, p3]);
  // The producers returned from q.join(), so every item has been eaten and acknowledged.
  equal(q.unfinishedTasks(), 0);
  equal(await q.join({ timeout: 0 }), true);
  const got: string[] = [];
  for (let i = 0; i < 9; i++) got.push(await get(eaten));
  const expected = ["p1", "p2", "p3"].flatMap((name) => [0, 1, 2].map((i) => `${name}: bun ${i}`));
  deepStrictEqual(got.sort(), expected.sort());
  ok(c1.isAlive() && c2.isAlive(), "the daemon consumers should still be waiting for items");
  // Python's main program ends here and its daemons are terminated: do the same, and wait.
  for (const c of [c1, c2]) c.terminate();
  await joinAll([c1, c2], -15);
});

Deno.test("await using terminates a daemon consumer blocked in get() and waits for it to exit", async () => {
  const q = new Queue();
  const out = new Queue<unknown>();
  let pid = 0;
  {
    await using c = start(getAndReport, [q, out], true);
    pid = c.pid!;
    equal(await get(out), "waiting");
  }
  equal(processState(pid), undefined, "the daemon consumer outlived its await using block");
  ok(q.empty());
});

Deno.test("JoinableQueue.taskDone() called more times than items were put throws task_done() called too many times", async () => {
  const q = new JoinableQueue<number>();
  throws(() => q.taskDone(), { message: /task_done\(\) called too many times/ });
  await q.put(1);
  equal(await get(q), 1);
  q.taskDone();
  equal(await q.join({ timeout: WAIT }), true);
  throws(() => q.taskDone(), { message: /task_done\(\) called too many times/ });
});

Deno.test("JoinableQueue.taskDone() throws on the second call for one item even right after the first", async () => {
  const q = new JoinableQueue<number>();
  await q.put(1);
  equal(await get(q), 1);
  q.taskDone();
  // Python raises ValueError here; the second acknowledgement must not vanish silently.
  throws(() => q.taskDone(), { message: /task_done\(\) called too many times/ });
});

Deno.test("JoinableQueue.taskDone() once too often in a child throws there", async () => {
  const q = new JoinableQueue<number>();
  const out = new Queue<ErrorReport | null>();
  await q.put(1);
  equal(await get(q), 1);
  await using p = start(taskDoneTimes, [q, 2, out]);
  const error = await get(out);
  match(String(error?.message), /task_done\(\) called too many times/);
  await joinAll([p]);
  equal(await q.join({ timeout: WAIT }), true);
});

Deno.test("JoinableQueue.join() resolves true at once when no task is unfinished", async () => {
  const q = new JoinableQueue();
  equal(await q.join(), true);
  equal(await q.join({ timeout: 0 }), true);
  equal(q.unfinishedTasks(), 0);
});

Deno.test("JoinableQueue.join({ timeout }) resolves false while tasks remain", async () => {
  const q = new JoinableQueue<string>();
  await q.put("job");
  equal(await q.join({ timeout: 50 }), false);
  equal(await q.join({ timeout: 0 }), false);
  equal(q.unfinishedTasks(), 1);
  equal(await get(q), "job");
  equal(await q.join({ timeout: 50 }), false, "a task got but not done is still unfinished");
  q.taskDone();
  equal(await q.join({ timeout: WAIT }), true);
});

Deno.test("A child's puts of 70 MiB of 1 MiB strings, still in flight when it returns, all arrive in order", async () => {
  // More than one frame may carry (64 MiB) and more than a consumer should fetch ahead at once.
  const q = new Queue<string>();
  await using p = start(putBig, [q, 70, 1 << 20, "string"]);
  await joinAll([p]);
  for (let i = 0; i < 70; i++) {
    const item = await get(q);
    equal(item.length, 1 << 20);
    ok(item.startsWith(`${i}:x`), `item ${i} came as ${item.slice(0, 12)}`);
  }
  await rejects(q.get({ timeout: 0 }), Empty);
});

Deno.test("A child fetching ahead on a queue of 5 MiB objects gets every one of them", async () => {
  // Fetching ahead doubles up to 256 items: 16 of these would pass the 64 MiB frame limit.
  const q = new Queue<{ i: number; text: string }>();
  const out = new Queue<[number, number][]>();
  await putBig(q, 32, 5 << 20, "object");
  await using p = start(takeBig, [q, 32, out]);
  const seen = await get(out);
  await joinAll([p]);
  deepStrictEqual(seen, Array.from({ length: 32 }, (_, i) => [i, 5 << 20]));
});

Deno.test("JoinableQueue: an item taken by a consumer that is SIGKILLed before taskDone() is redelivered to another consumer", async () => {
  const q = new JoinableQueue<string>();
  const taken = new Queue<string>();
  await q.put("job-1");
  await using doomed = start(takeAndHang, [q, taken]);
  equal(await get(taken), "job-1");
  equal(q.unfinishedTasks(), 1);
  await using rescuer = start(takeAndAck, [q, taken]);
  doomed.kill();
  await doomed.join({ timeout: WAIT });
  equal(doomed.exitCode, -9);
  equal(await get(taken), "job-1", "the rescuer should get the dead consumer's item");
  await joinAll([rescuer]);
  equal(await q.join({ timeout: WAIT }), true);
  equal(q.unfinishedTasks(), 0);
  ok(q.empty());
});

Deno.test("JoinableQueue: an item of a SIGKILLed consumer is redelivered to the parent's get()", async () => {
  const q = new JoinableQueue<string>();
  const taken = new Queue<string>();
  await q.put("job-a");
  await q.put("job-b");
  await using doomed = start(takeAndHang, [q, taken]);
  const first = await get(taken);
  doomed.kill();
  await doomed.join({ timeout: WAIT });
  equal(first, "job-a");
  // Redelivered at the front, so the parent gets the dead consumer's item first.
  deepStrictEqual([await get(q), await get(q)], ["job-a", "job-b"]);
  q.taskDone();
  q.taskDone();
  equal(await q.join({ timeout: WAIT }), true);
});

Deno.test("JoinableQueue: items a SIGKILLed consumer fetched ahead but never got are redelivered, acknowledged ones are not", async () => {
  const q = new JoinableQueue<number>();
  const taken = new Queue<number[]>();
  const ids = Array.from({ length: 200 }, (_, i) => i);
  for (const id of ids) await q.put(id);
  // With a backlog the consumer's client fetches ahead of its get() calls.
  await using doomed = start(takeSomeAndHang, [q, 20, taken]);
  deepStrictEqual(await get(taken), ids.slice(0, 20));
  doomed.kill();
  await doomed.join({ timeout: WAIT });
  const rest: number[] = [];
  for (let i = 20; i < ids.length; i++) rest.push(await get(q));
  // join() returns once the hub has cleaned up after the dead consumer, so its prefetched items
  // are back at the front, in order: every id exactly once, in the order it was put.
  deepStrictEqual(rest, ids.slice(20));
  await rejects(q.get({ timeout: 100 }), Empty);
  equal(q.unfinishedTasks(), 180);
  for (let i = 0; i < 180; i++) q.taskDone();
  equal(await q.join({ timeout: WAIT }), true);
});

Deno.test("JoinableQueue: a consumer that returns normally without taskDone() leaves its task unfinished", async () => {
  const q = new JoinableQueue<string>();
  const taken = new Queue<string>();
  await q.put("job");
  await using p = start(takeAndReturn, [q, taken]);
  equal(await get(taken), "job");
  await joinAll([p]);
  // Python's semantics: the item is not redelivered, and join() keeps waiting for its taskDone().
  equal(await q.join({ timeout: 200 }), false);
  equal(q.unfinishedTasks(), 1);
  await rejects(q.get({ timeout: 100 }), Empty);
  q.taskDone();
  equal(await q.join({ timeout: WAIT }), true);
});
