/** Queue, JoinableQueue, SimpleQueue and Pipe on Node.js, between processes and threads. */
import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { test } from "node:test";
import {
  Empty,
  EOFError,
  Full,
  JoinableQueue,
  Pipe,
  Process,
  Queue,
  QueueClosed,
  SimpleQueue,
  Thread,
} from "./_pkg.mjs";
import { consume, echo, getFromClosed, pipeEcho, produce, worker } from "./fixtures/targets.mjs";

test("Queue carries items between 2 producer processes, a producer thread and consumers of both kinds", async () => {
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

test("Queue.close() makes a get() in a child process reject with QueueClosed", async () => {
  const q = new Queue();
  const out = new Queue();
  q.close();
  const p = new Process({ target: getFromClosed, args: [q, out] });
  p.start();
  equal(await out.get({ timeout: 10_000 }), "QueueClosed");
  await p.join();
  ok(QueueClosed);
});

test("JoinableQueue.join() resolves once processes and threads have called taskDone() for every item", async () => {
  const q = new JoinableQueue();
  const done = new Queue();
  const workers = [
    new Process({ target: worker, args: [q, done] }),
    new Thread({ target: worker, args: [q, done] }),
  ];
  for (const w of workers) w.start();
  for (let i = 1; i <= 20; i++) await q.put(i);
  ok(await q.join({ timeout: 20_000 }));
  const results = [];
  for (let i = 0; i < 20; i++) results.push(await done.get({ timeout: 1_000 }));
  deepStrictEqual(results.sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => 2 * (i + 1)));
  await q.put(null);
  await q.put(null);
  for (const w of workers) await w.join();
});

test("SimpleQueue carries structured-clone items to a child and back", async () => {
  const q = new SimpleQueue();
  const p = new Process({ target: echo, args: [q, { when: new Date(5) }, [1n]] });
  p.start();
  const report = await q.get();
  deepStrictEqual(report.args, [{ when: new Date(5) }, [1n]]);
  await p.join();
});

test("Pipe() is duplex between a parent and a child, and recv() rejects with EOFError at the end", async () => {
  const [mine, theirs] = Pipe();
  const p = new Process({ target: pipeEcho, args: [theirs] });
  p.start();
  mine.send([1, 2]);
  deepStrictEqual(await mine.recv(), [1, 2, 1, 2]);
  mine.send("bye");
  await rejects(mine.recv({ timeout: 10_000 }), EOFError);
  await p.join();
  equal(p.exitCode, 0);
});
