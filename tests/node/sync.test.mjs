/** Lock, RLock, Event, Semaphore, Value and friends on Node.js, across processes and threads. */
import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { test } from "node:test";
import {
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  Lock,
  Process,
  Queue,
  RLock,
  Semaphore,
  SharedArray,
  Thread,
  Value,
} from "./_pkg.mjs";
import { LONG } from "./_helpers.mjs";
import {
  atBarrier,
  holdSlot,
  increment,
  reentrant,
  waitEvent,
  waitForBox,
} from "./fixtures/targets.mjs";

test("a Lock shared by 2 threads and 2 processes keeps an exact counter", async () => {
  const lock = new Lock();
  const counter = new Value("i", 0);
  const n = 200;
  const runners = [
    new Thread({ target: increment, args: [lock, counter, n] }),
    new Thread({ target: increment, args: [lock, counter, n] }),
    new Process({ target: increment, args: [lock, counter, n] }),
    new Process({ target: increment, args: [lock, counter, n] }),
  ];
  for (const r of runners) r.start();
  await increment(lock, counter, n);
  for (const r of runners) await r.join();
  deepStrictEqual(runners.filter((r) => r instanceof Process).map((p) => p.exitCode), [0, 0]);
  equal(counter.value, 5 * n);
  equal(lock.locked(), false);
});

test("RLock is re-entrant in its owner", async () => {
  const lock = new RLock();
  ok(await lock.acquire());
  ok(await lock.acquire());
  lock.release();
  ok(lock.locked());
  lock.release();
  equal(lock.locked(), false);
});

test("Event.set() in the parent wakes a child process and a thread that wait", async () => {
  const event = new Event();
  const fromProcess = new Value("i", 0);
  const fromThread = new Value("i", 0);
  const waiting = new Queue();
  const p = new Process({ target: waitEvent, args: [event, fromProcess, 1, waiting] });
  const t = new Thread({ target: waitEvent, args: [event, fromThread, 2, waiting] });
  p.start();
  t.start();
  // Each has called wait() before it says so: set() must wake a waiter, not pass a late one.
  deepStrictEqual([await waiting.get({ timeout: LONG }), await waiting.get({ timeout: LONG })], [
    "waiting",
    "waiting",
  ]);
  equal(fromProcess.value + fromThread.value, 0);
  event.set();
  await p.join();
  await t.join();
  equal(p.exitCode, 0);
  deepStrictEqual([fromProcess.value, fromThread.value], [1, 2]);
  equal(event.isSet(), true);
});

test("Semaphore(2) never lets more than 2 processes and threads hold it at once", async () => {
  const sem = new Semaphore(2);
  const lock = new Lock();
  const state = new SharedArray("i", 2);
  const runners = [
    new Process({ target: holdSlot, args: [sem, lock, state, 150] }),
    new Process({ target: holdSlot, args: [sem, lock, state, 150] }),
    new Thread({ target: holdSlot, args: [sem, lock, state, 150] }),
    new Thread({ target: holdSlot, args: [sem, lock, state, 150] }),
  ];
  for (const r of runners) r.start();
  for (const r of runners) await r.join();
  equal(state.get(0), 0);
  ok(state.get(1) >= 1 && state.get(1) <= 2, `peak ${state.get(1)}`);
  equal(sem.getValue(), 2);
});

test("Value.add() and compareExchange() are atomic; a typed Value keeps its type", async () => {
  const v = new Value("q", 5n);
  equal(v.add(3n), 5n);
  equal(v.value, 8n);
  equal(v.compareExchange(8n, 1n), 8n);
  equal(v.value, 1n);
  const d = new Value("d", 0.5);
  d.value = 2.25;
  equal(d.value, 2.25);
});

test("Condition and Barrier work within one process", async () => {
  const cond = new Condition();
  const items = [];
  const waiter = (async () => {
    await cond.acquire();
    try {
      while (items.length === 0) await cond.wait();
      return items.shift();
    } finally {
      cond.release();
    }
  })();
  await cond.acquire();
  items.push("item");
  cond.notify();
  cond.release();
  equal(await waiter, "item");
  const barrier = new Barrier(2);
  const indexes = await Promise.all([barrier.wait(), barrier.wait()]);
  deepStrictEqual(indexes.sort(), [0, 1]);
});

test("an RLock shared by a thread and a process is re-entrant in each and keeps an exact counter", async () => {
  const lock = new RLock();
  const counter = new Value("i", 0);
  const runners = [
    new Thread({ target: reentrant, args: [lock, counter, 100] }),
    new Process({ target: reentrant, args: [lock, counter, 100] }),
  ];
  for (const r of runners) r.start();
  await reentrant(lock, counter, 100);
  for (const r of runners) await r.join();
  equal(counter.value, 300);
});

test("a Barrier(3) releases a process, a thread and the parent together", async () => {
  const barrier = new Barrier(3);
  const out = new Queue();
  const runners = [
    new Process({ target: atBarrier, args: [barrier, out] }),
    new Thread({ target: atBarrier, args: [barrier, out] }),
  ];
  for (const r of runners) r.start();
  const mine = await barrier.wait({ timeout: 10_000 });
  const indexes = [mine, await out.get({ timeout: 10_000 }), await out.get({ timeout: 10_000 })];
  for (const r of runners) await r.join();
  deepStrictEqual(indexes.sort(), [0, 1, 2]);
});

test("Condition.notifyAll() wakes waiters in a process and a thread", async () => {
  const cond = new Condition();
  const box = new Value("i", 0);
  const out = new Queue();
  const waiting = new Queue();
  const runners = [
    new Process({ target: waitForBox, args: [cond, box, out, waiting] }),
    new Thread({ target: waitForBox, args: [cond, box, out, waiting] }),
  ];
  for (const r of runners) r.start();
  // Each says so while holding the lock, which only its wait releases: once both have said so,
  // this acquire() returns only when both wait.
  await waiting.get({ timeout: LONG });
  await waiting.get({ timeout: LONG });
  await cond.acquire();
  box.value = 42;
  cond.notifyAll();
  cond.release();
  deepStrictEqual([await out.get({ timeout: 10_000 }), await out.get({ timeout: 10_000 })], [
    42,
    42,
  ]);
  for (const r of runners) await r.join();
});

test("BoundedSemaphore.release() beyond its initial value throws", async () => {
  const sem = new BoundedSemaphore(1);
  ok(await sem.acquire());
  sem.release();
  throws(() => sem.release(), { message: /released too many times/ });
});
