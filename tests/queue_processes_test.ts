/** Queue between real child processes: producers and consumers, fairness, and consumers that die. */
import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import { Empty, Event, Process, Queue, toHandle, Value } from "../mod.ts";
import { eventually, openLifelongResources } from "./_helpers.ts";
import {
  collectIds,
  consumer,
  countItems,
  getWhileOwnerBusy,
  type IdReport,
  ownQueueAndShare,
  producer,
  putIds,
  putThenReturn,
  takeN,
  takeSomeAndHang,
} from "./fixtures/queue_targets.ts";
import { get, joinAll, start, WAIT } from "./_queue.ts";

openLifelongResources();

/** Whether a file exists. */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Disposes every process (for a list of them, with `await using`). */
async function disposeAll(processes: Process[]): Promise<void> {
  await Promise.all(processes.map((p) => p[Symbol.asyncDispose]()));
}

/** Checks that the consumers' reports cover ids 0..n-1 exactly once between them. */
function checkIds(reports: IdReport[], n: number): void {
  for (const r of reports) {
    equal(r.duplicates, 0, "a consumer got an id twice");
    equal(r.outOfRange, 0, "a consumer got an id that was never put");
  }
  let missing = 0;
  let shared = 0;
  for (let id = 0; id < n; id++) {
    const holders = reports.filter((r) => (r.bits[id >> 3] >> (id & 7)) & 1).length;
    if (holders === 0) missing++;
    if (holders > 1) shared++;
  }
  equal(shared, 0, `${shared} ids reached both consumers`);
  equal(missing, 0, `${missing} of ${n} ids were lost`);
  equal(reports.reduce((sum, r) => sum + r.count, 0), n);
}

// ---------------------------------------------------------------------------
// Across processes

Deno.test("A producer child's items reach the consumer parent", async () => {
  const q = new Queue<string>();
  await using p = start(producer, [q, "p1", 10]);
  const got: string[] = [];
  for (let i = 0; i < 10; i++) got.push(await get(q));
  deepStrictEqual(got, Array.from({ length: 10 }, (_, i) => `p1: bun ${i}`));
  await joinAll([p]);
});

Deno.test("A consumer child gets the parent's items", async () => {
  const q = new Queue();
  const out = new Queue<unknown[]>();
  await using p = start(takeN, [q, 4, out]);
  for (const item of ["a", 2, { three: 3 }, [4]]) await q.put(item);
  deepStrictEqual(await get(out), ["a", 2, { three: 3 }, [4]]);
  await joinAll([p]);
});

Deno.test("Several consumer processes each take a fair share of the items; none starves", async () => {
  // Each consumer works a millisecond on an item, as a real one does something with it.
  const WORK_MS = 1;
  const q = new Queue<number>();
  const out = new Queue<number>();
  const n = 3;
  const items = 1000;
  const ready = Array.from({ length: n }, () => new Event());
  const consumers = ready.map((r) => start(countItems, [q, r, out, WORK_MS]));
  await using _ = { [Symbol.asyncDispose]: () => disposeAll(consumers) };
  // Every consumer waits in get() before the first item is put: none has a head start.
  for (const r of ready) ok(await r.wait({ timeout: WAIT }), "a consumer did not start");
  for (let i = 0; i < items; i++) await q.put(i);
  q.close();
  const counts: number[] = [];
  for (let i = 0; i < n; i++) counts.push(await get(out));
  await joinAll(consumers);
  equal(counts.reduce((a, b) => a + b, 0), items, `counts: ${counts}`);
  for (const count of counts) {
    ok(count >= items / (4 * n), `a consumer got ${count} of ${items} items: ${counts}`);
  }
});

Deno.test("The owner's hub keeps serving a child while the owner's main thread is busy", async () => {
  const q = new Queue<string>();
  await q.put("served by the hub");
  const started = new Event();
  using busy = new Value("i", 0);
  using done = new Value("i", 0);
  await using p = start(getWhileOwnerBusy, [q, started, busy, done]);
  ok(await started.wait({ timeout: WAIT }), "the child did not start");
  // A synchronous loop: this thread's event loop does not turn until the child's get() is done.
  busy.value = 1;
  const deadline = Date.now() + 60_000; // a hang guard only
  while (done.value !== 1 && Date.now() < deadline) {
    // Busy on purpose.
  }
  equal(done.value, 1, "the child's get() was not served while the main thread was busy");
  await joinAll([p]);
});

Deno.test("A child whose puts never reach their queue's owner (it died) exits non-zero, saying how many", async () => {
  // The queue's owner is another child, stopped (SIGSTOP) so that its hub reads nothing: the puts
  // stay on their way until it is killed.
  const chan = new Queue<Queue<number>>();
  await using owner = start(ownQueueAndShare, [chan]);
  const q = await get(chan);
  // Stopped once its hub listens (a client of a hub not listening yet retries its connection).
  const { hub } = q[toHandle]("process") as unknown as { hub: { path: string } };
  ok(await eventually(() => exists(hub.path), WAIT), "the owner's hub never listened");
  Deno.kill(owner.pid!, "SIGSTOP");
  const putDone = new Event();
  const ownerGone = new Event();
  await using putter = start(putThenReturn, [q, 20, putDone, ownerGone]);
  ok(await putDone.wait({ timeout: WAIT }), "the putter did not put");
  owner.kill();
  await owner.join({ timeout: WAIT });
  equal(owner.exitCode, -9);
  ownerGone.set();
  await putter.join({ timeout: WAIT });
  equal(putter.exitCode, 1, `a process whose puts were lost exited ${putter.exitCode}`);
  match(putter.error?.message ?? "", /^20 operations .*never reached the hub of process \d+/);
  match(putter.error?.message ?? "", new RegExp(`process ${owner.pid}\\b`));
});

Deno.test("2 producers and 2 consumers move 100_000 items across processes with none lost or duplicated", async () => {
  const n = 100_000;
  const q = new Queue<number>();
  const out = new Queue<IdReport>();
  // Each consumer keeps 4 get() calls in flight, like 4 worker tasks, and stops when the queue
  // is closed and drained.
  await using c1 = start(collectIds, [q, n, 4, out]);
  await using c2 = start(collectIds, [q, n, 4, out]);
  await using p1 = start(putIds, [q, 0, 2, n]);
  await using p2 = start(putIds, [q, 1, 2, n]);
  await joinAll([p1, p2]);
  // Python's lesson: once the producers have been joined, everything they put is in the queue.
  q.close();
  const reports = [await get(out), await get(out)];
  await joinAll([c1, c2]);
  checkIds(reports, n);
  ok(q.empty());
});

Deno.test("Concurrent get() calls in one process each receive a distinct item and none is skipped", async () => {
  const n = 20_000;
  const q = new Queue<number>();
  const out = new Queue<IdReport>();
  await using p = start(putIds, [q, 0, 1, n]);
  await joinAll([p]);
  q.close();
  // 16 get() loops in flight at once, in this process and in a child.
  await using c = start(collectIds, [q, n, 8, out]);
  await collectIds(q, n, 8, out);
  const reports = [await get(out), await get(out)];
  await joinAll([c]);
  checkIds(reports, n);
});

Deno.test("The seed's 4 producers and 3 consumers: each consumer stops on its own null sentinel and exits 0", async () => {
  const q = new Queue<string | null>();
  const results = new Queue<string[]>();
  await using p1 = start(producer, [q, "p1", 10]);
  await using p2 = start(producer, [q, "p2", 10]);
  await using p3 = start(producer, [q, "p3", 10]);
  await using p4 = start(producer, [q, "p4", 10]);
  await using c1 = start(consumer, [q, results]);
  await using c2 = start(consumer, [q, results]);
  await using c3 = start(consumer, [q, results]);
  await joinAll([p1, p2, p3, p4]);
  await q.put(null);
  await q.put(null);
  await q.put(null);
  await joinAll([c1, c2, c3]);
  const eaten = [await get(results), await get(results), await get(results)];
  const expected = ["p1", "p2", "p3", "p4"].flatMap((name) =>
    Array.from({ length: 10 }, (_, i) => `${name}: bun ${i}`)
  );
  deepStrictEqual(eaten.flat().sort(), expected.sort());
  for (const mine of eaten) {
    // One consumer sees each producer's items in that producer's order.
    for (const name of ["p1", "p2", "p3", "p4"]) {
      const buns = mine.filter((item) => item.startsWith(`${name}:`)).map((i) => +i.split(" ")[2]);
      deepStrictEqual(buns, [...buns].sort((x, y) => x - y));
    }
  }
  ok(q.empty());
});

Deno.test("Items a SIGKILLed consumer process never got from get() stay in the queue", async () => {
  const q = new Queue<number>();
  const taken = new Queue<number[]>();
  const ids = Array.from({ length: 200 }, (_, i) => i);
  for (const id of ids) await q.put(id);
  await using doomed = start(takeSomeAndHang, [q, 20, taken]);
  deepStrictEqual(await get(taken), ids.slice(0, 20));
  doomed.kill();
  await doomed.join({ timeout: WAIT });
  // Python loses at most what the dead consumer's get() returned; the rest is still in the pipe.
  // Every one of them is awaited (an item that never comes ends the wait after WAIT, not sooner).
  const rest: number[] = [];
  try {
    while (rest.length < ids.length - 20) rest.push(await get(q));
  } catch (error) {
    ok(error instanceof Empty, String(error));
  }
  await rejects(q.getNowait(), Empty, "more items than were put");
  const lost = ids.slice(20).filter((id) => !rest.includes(id));
  deepStrictEqual(lost, [], `${lost.length} items no get() returned were lost with the consumer`);
  deepStrictEqual(rest, ids.slice(20));
});

Deno.test("Items a live but idle consumer process fetched ahead go to another consumer that waits", async () => {
  const q = new Queue<number>();
  const taken = new Queue<number[]>();
  const ids = Array.from({ length: 200 }, (_, i) => i);
  for (const id of ids) await q.put(id);
  await using idle = start(takeSomeAndHang, [q, 20, taken]);
  deepStrictEqual(await get(taken), ids.slice(0, 20));
  const rest: number[] = [];
  for (let i = 20; i < ids.length; i++) rest.push(await get(q));
  deepStrictEqual(rest.sort((a, b) => a - b), ids.slice(20));
  ok(idle.isAlive());
});
