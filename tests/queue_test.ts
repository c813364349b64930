/** Queue, SimpleQueue, JoinableQueue and Pipe across real child processes. */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import {
  Empty,
  EOFError,
  Event,
  Full,
  JoinableQueue,
  Pipe,
  Process,
  Queue,
  QueueClosed,
  SimpleQueue,
  toHandle,
  Value,
} from "../mod.ts";
import { eventually, openLifelongResources, processState, runDeno, tempDir } from "./_helpers.ts";
import { richValues } from "./fixtures/targets.ts";
import {
  collectIds,
  consumer,
  countItems,
  doubler,
  echo,
  type ErrorReport,
  getAndReport,
  getWhileOwnerBusy,
  type IdReport,
  iterateAll,
  joinableConsumer,
  joinableProducer,
  ownQueueAndShare,
  pipeEcho,
  pipeRecvAll,
  pipeSendAll,
  pipeSendOnReadEnd,
  producer,
  putAll,
  putAndReport,
  putBig,
  putIds,
  putThenReturn,
  setReceivedEvent,
  takeAndAck,
  takeAndHang,
  takeAndReturn,
  takeBig,
  takeN,
  takeSomeAndHang,
  taskDoneTimes,
} from "./fixtures/queue_targets.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);

/** The longest any single wait in these tests may take before the test fails instead of hanging. */
const WAIT = 20_000;

openLifelongResources();

/** `q.get()`, bounded: rejects with Empty instead of hanging. */
function get<T>(q: Queue<T>, timeout = WAIT): Promise<T> {
  return q.get({ timeout });
}

/** Joins every process (bounded) and checks that each exited with `code`. */
async function joinAll(processes: Process[], code = 0): Promise<void> {
  for (const p of processes) {
    await p.join({ timeout: WAIT });
    equal(p.exitCode, code, `${p} ${p.error?.stack ?? ""}`);
  }
}

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

/** Starts a process for `target` with `args`; dispose it with `await using`. */
function start(target: (...args: never[]) => unknown, args: unknown[], daemon = false): Process {
  const p = new Process({ target, args, daemon });
  p.start();
  return p;
}

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
// What crosses

Deno.test("Queue items cross processes by structured clone: Map, Set, Date, BigInt, typed arrays, cycles, Error", async () => {
  const cause = new Error("root cause");
  const custom = new Error("bad field");
  custom.name = "ValidationError";
  const sent = [
    ...richValues(),
    new RangeError("out of range", { cause }),
    custom,
    { nested: new Map([["set", new Set([new Date(0), [1n, new Int16Array([-1, 2])]])]]) },
  ];
  const to = new Queue();
  const from = new Queue();
  await using p = start(echo, [to, from]);
  for (const item of sent) await to.put(item);
  await to.put(null);
  const got: unknown[] = [];
  for (let i = 0; i < sent.length; i++) got.push(await get(from));
  equal(await get(from), null);
  await joinAll([p]);

  const expected = richValues();
  const n = expected.length;
  deepStrictEqual(got.slice(0, n), expected);
  const nested = got[6] as { shared: object; again: object };
  ok(nested.shared === nested.again, "a shared reference was not preserved");
  const cyclic = got[7] as { self: unknown };
  ok(cyclic.self === cyclic, "a cycle was not preserved");

  const range = got[n] as RangeError;
  ok(range instanceof RangeError, `expected a RangeError, got ${range}`);
  equal(range.message, "out of range");
  ok(range.cause instanceof Error);
  equal((range.cause as Error).message, "root cause");
  const validation = got[n + 1] as Error;
  ok(validation instanceof Error);
  equal(validation.name, "ValidationError");
  equal(validation.message, "bad field");
  deepStrictEqual(got[n + 2], sent[n + 2]);
});

Deno.test("Queue.put() of an item that cannot be cloned throws a TypeError naming its path and leaves the queue unchanged", async () => {
  const q = new Queue<unknown>(10);
  await q.put("first");
  await rejects(q.put({ id: 1, cb: () => {} }), (error: Error) => {
    ok(error instanceof TypeError);
    match(error.message, /item\.cb/);
    match(error.message, /function/);
    return true;
  });
  await rejects(q.put({ deep: [1, { s: Symbol("s") }] }), {
    name: "TypeError",
    message: /item\.deep\[1\]\.s.*symbol/,
  });
  equal(q.qsize(), 1);
  await q.put("second");
  equal(await get(q), "first");
  equal(await get(q), "second");
  ok(q.empty());
});

Deno.test("An uncloneable item on an unbounded queue is refused without reaching a consumer process", async () => {
  const q = new Queue<unknown>();
  const out = new Queue<unknown[]>();
  await using p = start(takeN, [q, 2, out]);
  await q.put("good 1");
  await rejects(q.put({ handler: () => {} }), { name: "TypeError", message: /item\.handler/ });
  await q.put("good 2");
  deepStrictEqual(await get(out), ["good 1", "good 2"]);
  await joinAll([p]);
});

Deno.test("An Event inside a queue item arrives live: the child sets it and the parent sees it set", async () => {
  const event = new Event();
  const q = new Queue<Event>();
  await using p = start(setReceivedEvent, [q]);
  await q.put(event);
  equal(await event.wait({ timeout: WAIT }), true);
  ok(event.isSet());
  await joinAll([p]);
});

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
// Pipe

Deno.test("Pipe() is duplex: parent and child send and receive both ways, then recv() rejects with EOFError", async () => {
  const [parentEnd, childEnd] = Pipe();
  ok(parentEnd.readable && parentEnd.writable);
  await using p = start(pipeEcho, [childEnd]);
  parentEnd.send(1);
  parentEnd.send({ two: [2n, new Map([["k", "v"]])] });
  deepStrictEqual(await parentEnd.recv({ timeout: WAIT }), { echo: 1 });
  deepStrictEqual(await parentEnd.recv({ timeout: WAIT }), {
    echo: { two: [2n, new Map([["k", "v"]])] },
  });
  parentEnd.send(null);
  await joinAll([p]);
  await rejects(parentEnd.recv({ timeout: WAIT }), (error: Error) => {
    ok(error instanceof EOFError);
    equal(error.name, "EOFError");
    return true;
  });
  parentEnd.close();
});

Deno.test("Pipe(false): the first end only receives and the second only sends", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  ok(readEnd.readable && !readEnd.writable);
  ok(!writeEnd.readable && writeEnd.writable);
  throws(() => readEnd.send("x"), TypeError);
  await rejects(writeEnd.recv(), TypeError);
  await rejects(writeEnd.poll(), TypeError);
  const out = new Queue<ErrorReport | null>();
  await using p = start(pipeSendOnReadEnd, [readEnd, out]);
  const error = await get(out);
  equal(error?.name, "TypeError");
  match(String(error?.message), /read-only/);
  await joinAll([p]);
  writeEnd.close();
});

Deno.test("Connection.recv() gets what a child sent and then rejects with EOFError once it closed its end", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  await using p = start(pipeSendAll, [writeEnd, ["a", { b: 2 }, [3]]]);
  deepStrictEqual(await readEnd.recv({ timeout: WAIT }), "a");
  deepStrictEqual(await readEnd.recv({ timeout: WAIT }), { b: 2 });
  deepStrictEqual(await readEnd.recv({ timeout: WAIT }), [3]);
  await rejects(readEnd.recv({ timeout: WAIT }), EOFError);
  await joinAll([p]);
});

Deno.test("Connection.recv() in a child drains what the parent sent and then rejects with EOFError", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  const out = new Queue<{ got: unknown[]; error: ErrorReport }>();
  await using p = start(pipeRecvAll, [readEnd, out]);
  writeEnd.send("x");
  writeEnd.send(new Set([1, 2]));
  writeEnd.close();
  const { got, error } = await get(out);
  deepStrictEqual(got, ["x", new Set([1, 2])]);
  equal(error.name, "EOFError");
  await joinAll([p]);
});

Deno.test("Connection.poll({ timeout }) is false while nothing was sent and true once a child sends", async () => {
  const [readEnd, writeEnd] = Pipe(false);
  equal(await readEnd.poll(), false);
  equal(await readEnd.poll({ timeout: 50 }), false);
  await using p = start(pipeSendAll, [writeEnd, ["ping"]]);
  equal(await readEnd.poll({ timeout: WAIT }), true);
  equal(await readEnd.recv({ timeout: 0 }), "ping");
  await joinAll([p]);
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
