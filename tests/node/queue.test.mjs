/** Queue, JoinableQueue, SimpleQueue and Pipe on Node.js, between processes and threads. */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { test } from "node:test";
import {
  BufferTooShort,
  Connection,
  Empty,
  EOFError,
  Event,
  Full,
  JoinableQueue,
  LifoQueue,
  Pipe,
  PriorityQueue,
  Process,
  Queue,
  QueueClosed,
  SimpleQueue,
  TaskQueue,
  Thread,
} from "./_pkg.mjs";
import { consume, echo, getFromClosed, pipeEcho, produce, worker } from "./fixtures/targets.mjs";
import {
  ownQueueAndShare,
  pipeRecvAll,
  pipeSendAll,
  pipeSendBytes,
  pipeSendOnReadEnd,
  putToOrderedQueues,
  putBig,
  putThenReturn,
  takeSomeAndHang,
} from "./fixtures/queue_targets.mjs";
import { LONG, stopAfter } from "./_helpers.mjs";

/** Starts a child running `target(...args)`, killed at the end of test `t` if still running. */
function child(t, target, ...args) {
  const p = new Process({ target, args });
  p.start();
  stopAfter(t, p);
  return p;
}

/** Joins `p` (bounded) and checks that it returned normally. */
async function joinOk(p) {
  await p.join({ timeout: LONG });
  equal(p.exitCode, 0, p.error?.stack ?? `${p} did not exit with 0`);
}

test("Queue carries items between 2 producer processes, a producer thread and consumers of both kinds", async (t) => {
  const q = new Queue();
  const out = new Queue();
  const count = 50;
  const producers = [
    new Process({ target: produce, args: [q, "p1", count] }),
    new Process({ target: produce, args: [q, "p2", count] }),
    new Thread({ target: produce, args: [q, "t1", count] }),
  ];
  const consumers = [
    new Process({ target: consume, args: [q, out] }),
    new Thread({ target: consume, args: [q, out] }),
    new Process({ target: consume, args: [q, out] }),
  ];
  for (const r of [...producers, ...consumers]) r.start();
  stopAfter(t, ...[...producers, ...consumers].filter((r) => r instanceof Process));
  const got = [];
  for (let i = 0; i < consumers.length; i++) got.push(...(await out.get({ timeout: 20_000 })));
  for (const r of [...producers, ...consumers]) await r.join();
  equal(got.length, 3 * count);
  equal(new Set(got).size, 3 * count);
  for (const tag of ["p1", "p2", "t1"]) {
    equal(got.filter((x) => x.startsWith(`${tag}:`)).length, count);
  }
});

test("Queue.get() rejects with Empty and put() with Full after their timeouts", async () => {
  const q = new Queue(1);
  await rejects(q.get({ timeout: 50 }), Empty);
  await q.put(1);
  await rejects(q.put(2, { timeout: 50 }), Full);
  equal(await q.getNowait(), 1);
});

test("Queue.close() makes a get() in a child process reject with QueueClosed", async (t) => {
  const q = new Queue();
  const out = new Queue();
  q.close();
  const p = new Process({ target: getFromClosed, args: [q, out] });
  p.start();
  stopAfter(t, p);
  equal(await out.get({ timeout: 10_000 }), "QueueClosed");
  await p.join();
  // And here: put() and get() on the closed queue reject with QueueClosed, not Empty.
  await rejects(q.put(1), QueueClosed);
  await rejects(q.get({ timeout: 0 }), QueueClosed);
});

test("JoinableQueue.join() and TaskQueue.join() resolve once processes and threads have called taskDone() for every item", async (t) => {
  for (const Kind of [JoinableQueue, TaskQueue]) {
    const q = new Kind();
    const done = new Queue();
    const workers = [
      new Process({ target: worker, args: [q, done] }),
      new Thread({ target: worker, args: [q, done] }),
    ];
    for (const w of workers) w.start();
    stopAfter(t, workers[0]);
    for (let i = 1; i <= 20; i++) await q.put(i);
    ok(await q.join({ timeout: 20_000 }), `${Kind.name}.join() timed out`);
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await done.get({ timeout: 1_000 }));
    deepStrictEqual(results.sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => 2 * (i + 1)));
    await q.put(null);
    await q.put(null);
    for (const w of workers) await w.join();
  }
});

test("SimpleQueue carries structured-clone items to a child and back", async (t) => {
  const q = new SimpleQueue();
  const p = new Process({ target: echo, args: [q, { when: new Date(5) }, [1n]] });
  p.start();
  stopAfter(t, p);
  const report = await q.get();
  deepStrictEqual(report.args, [{ when: new Date(5) }, [1n]]);
  await p.join();
});

test("Pipe() is duplex between a parent and a child that keeps its end when the parent closes its copy, and recv() rejects with EOFError at the end", async (t) => {
  const [mine, theirs] = Pipe();
  const p = new Process({ target: pipeEcho, args: [theirs] });
  p.start();
  stopAfter(t, p);
  theirs.close(); // This process's copy (Python's idiom): the child's still works.
  mine.send([1, 2]);
  deepStrictEqual(await mine.recv(), [1, 2, 1, 2]);
  mine.send("bye");
  await rejects(mine.recv({ timeout: 10_000 }), EOFError);
  await p.join();
  equal(p.exitCode, 0);
});

test("a long conversation over a Pipe keeps every message, in order, both ways, across the switch to the ends' own socket", async (t) => {
  const [mine, theirs] = Pipe();
  const p = new Process({ target: pipeEcho, args: [theirs] });
  p.start();
  stopAfter(t, p);
  for (let i = 0; i < 300; i++) {
    mine.send([i]);
    deepStrictEqual(await mine.recv({ timeout: LONG }), [i, i]);
  }
  for (let i = 0; i < 300; i++) mine.send([i, "burst"]);
  for (let i = 0; i < 300; i++) deepStrictEqual(await mine.recv({ timeout: LONG }), [i, "burst", i, "burst"]);
  mine.send("bye");
  await rejects(mine.recv({ timeout: LONG }), EOFError);
  await p.join();
  equal(p.exitCode, 0);
  mine.close();
});

test("a child's puts of 20 MiB, still in flight when it returns, all arrive in order (nothing put is lost at exit)", async (t) => {
  const q = new Queue();
  const p = child(t, putBig, q, 20, 1 << 20);
  await joinOk(p);
  for (let i = 0; i < 20; i++) {
    const item = await q.get({ timeout: LONG });
    equal(item.length, 1 << 20);
    ok(item.startsWith(`${i}:x`), `item ${i} came as ${item.slice(0, 12)}`);
  }
  await rejects(q.get({ timeout: 0 }), Empty);
});

test("items a SIGKILLed consumer process never got from get() stay in the queue, in order", async (t) => {
  const q = new Queue();
  const taken = new Queue();
  const ids = Array.from({ length: 200 }, (_, i) => i);
  for (const id of ids) await q.put(id);
  const doomed = child(t, takeSomeAndHang, q, 20, taken);
  try {
    deepStrictEqual(await taken.get({ timeout: LONG }), ids.slice(0, 20));
  } finally {
    doomed.kill();
    await doomed.join({ timeout: LONG });
  }
  const rest = [];
  for (let i = 20; i < ids.length; i++) rest.push(await q.get({ timeout: LONG }));
  deepStrictEqual(rest, ids.slice(20));
  await rejects(q.get({ timeout: 0 }), Empty);
});

test("JoinableQueue.join({ timeout }) resolves false while a task is unfinished", async () => {
  const q = new JoinableQueue();
  await q.put("job");
  equal(await q.join({ timeout: 50 }), false);
  equal(await q.get({ timeout: LONG }), "job");
  equal(await q.join({ timeout: 50 }), false, "a task got but not done is still unfinished");
  q.taskDone();
  equal(await q.join({ timeout: LONG }), true);
  throws(() => q.taskDone(), { message: /task_done\(\) called too many times/ });
});

test("Pipe(false): the first end only receives, the second only sends, and a child's sends arrive then EOFError", async (t) => {
  const [readEnd, writeEnd] = Pipe(false);
  ok(readEnd.readable && !readEnd.writable);
  ok(!writeEnd.readable && writeEnd.writable);
  throws(() => readEnd.send("x"), TypeError);
  await rejects(writeEnd.recv(), TypeError);
  await rejects(writeEnd.poll(), TypeError);
  const out = new Queue();
  const misuse = child(t, pipeSendOnReadEnd, readEnd, out);
  const error = await out.get({ timeout: LONG });
  equal(error?.name, "TypeError");
  match(String(error?.message), /read-only/);
  await joinOk(misuse);
  const sender = child(t, pipeSendAll, writeEnd, ["a", { b: 2n }, [3]]);
  deepStrictEqual(await readEnd.recv({ timeout: LONG }), "a");
  deepStrictEqual(await readEnd.recv({ timeout: LONG }), { b: 2n });
  deepStrictEqual(await readEnd.recv({ timeout: LONG }), [3]);
  await rejects(readEnd.recv({ timeout: LONG }), EOFError);
  await joinOk(sender);
  writeEnd.close();
  readEnd.close();
});

test("a child that dies before it revives its arguments (its target's module fails to load) lets go of the end it was lent: the reader gets EOFError", async (t) => {
  const [readEnd, writeEnd] = Pipe(false);
  const module = new URL("./fixtures/unstarted_failing.mjs", import.meta.url).href;
  const p = new Process({ target: { module, export: "neverRuns" }, args: [writeEnd] });
  p.start();
  stopAfter(t, p);
  writeEnd.close(); // Python's idiom: the child's copy is the only one.
  await p.join({ timeout: LONG });
  equal(p.exitCode, 1);
  await rejects(readEnd.recv({ timeout: LONG }), EOFError);
  readEnd.close();
});

test("Connection.recv() in a child drains what the parent sent, then rejects with EOFError", async (t) => {
  const [readEnd, writeEnd] = Pipe(false);
  const out = new Queue();
  const p = child(t, pipeRecvAll, readEnd, out);
  writeEnd.send("x");
  writeEnd.send(new Set([1, 2]));
  writeEnd.close();
  deepStrictEqual(await out.get({ timeout: LONG }), {
    got: ["x", new Set([1, 2])],
    error: "EOFError",
  });
  await joinOk(p);
  readEnd.close();
});

test("Connection.poll({ timeout }) is false while nothing was sent and true once a child sends", async (t) => {
  const [readEnd, writeEnd] = Pipe(false);
  equal(await readEnd.poll(), false);
  equal(await readEnd.poll({ timeout: 50 }), false);
  const p = child(t, pipeSendAll, writeEnd, ["ping"]);
  equal(await readEnd.poll({ timeout: LONG }), true);
  equal(await readEnd.recv({ timeout: 0 }), "ping");
  await joinOk(p);
  writeEnd.close();
  readEnd.close();
});

test("a child whose puts never reach their queue's owner (it died) exits non-zero, saying how many", async (t) => {
  // The queue's owner is another child, stopped (SIGSTOP) so that its hub reads nothing: the puts
  // stay on their way until it is killed.
  const chan = new Queue();
  const owner = child(t, ownQueueAndShare, chan);
  const q = await chan.get({ timeout: LONG });
  // Its hub answers (the queue is empty): it listens, so the putter's connection is accepted.
  await rejects(q.get({ timeout: 0 }), Empty);
  process.kill(owner.pid, "SIGSTOP");
  const putDone = new Event();
  const ownerGone = new Event();
  const putter = child(t, putThenReturn, q, 20, putDone, ownerGone);
  ok(await putDone.wait({ timeout: LONG }), "the putter did not put");
  owner.kill();
  await owner.join({ timeout: LONG });
  equal(owner.exitCode, -9);
  ownerGone.set();
  await putter.join({ timeout: LONG });
  equal(putter.exitCode, 1, `a process whose puts were lost exited ${putter.exitCode}`);
  match(putter.error?.message ?? "", /^20 operations .*never reached the hub of process \d+/);
  match(putter.error?.message ?? "", new RegExp(`process ${owner.pid}\\b`));
});

test("Connection bytes: a child's sendBytes() arrive as recvBytes() and recvBytesInto() read them, and wait() sees the end", async (t) => {
  const [readEnd, writeEnd] = Pipe(false);
  const big = Uint8Array.from({ length: 70_000 }, (_, i) => i & 0xff);
  const p = child(t, pipeSendBytes, writeEnd, [Uint8Array.of(9, 1, 2, 3), big, Uint8Array.of(9, 7)], 1);
  deepStrictEqual(await Connection.wait([readEnd], { timeout: LONG }), [readEnd]);
  deepStrictEqual(await readEnd.recvBytes({ timeout: LONG }), Uint8Array.of(1, 2, 3));
  await rejects(readEnd.recvBytes({ maxlength: 10, timeout: LONG }), RangeError);
  await rejects(readEnd.recvBytesInto(new Uint8Array(10), 0, { timeout: LONG }), (error) => {
    ok(error instanceof BufferTooShort);
    deepStrictEqual(error.bytes, big.subarray(1));
    return true;
  });
  const buf = new Uint8Array(3);
  equal(await readEnd.recvBytesInto(buf, 2, { timeout: LONG }), 1);
  deepStrictEqual(buf, Uint8Array.of(0, 0, 7));
  await joinOk(p);
  deepStrictEqual(await Connection.wait([readEnd, p], { timeout: LONG }), [readEnd, p]);
  await rejects(readEnd.recv({ timeout: 0 }), EOFError);
  writeEnd.close();
  readEnd.close();
});

test("LifoQueue and PriorityQueue: a child's puts come out newest first and lowest first", async (t) => {
  const stack = new LifoQueue();
  const jobs = new PriorityQueue();
  const p = child(t, putToOrderedQueues, [stack, jobs]);
  await joinOk(p);
  deepStrictEqual([await stack.get({ timeout: LONG }), await stack.get({ timeout: LONG })], [2, 1]);
  deepStrictEqual(await jobs.get({ timeout: LONG }), [0, { job: "b" }]);
  deepStrictEqual(await jobs.get({ timeout: LONG }), [1, { job: "a" }]);
  await rejects(async () => await jobs.put({ job: "no priority" }), TypeError);
});
