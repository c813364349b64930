/** Thread on Node.js (worker_threads), from the built package. */
import { deepStrictEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { test } from "node:test";
import {
  activeCount,
  enumerate,
  Event,
  Local,
  mainThread,
  Queue,
  setExcepthook,
  Thread,
  Timer,
  Value,
} from "./_pkg.mjs";
import { Counter, fail, noop, reportIsMain, threadInfo } from "./fixtures/targets.mjs";
import { inspectLocal, setValue, waitFor } from "./fixtures/thread_targets.mjs";
import { LONG, runNode } from "./_helpers.mjs";

test("Thread runs an exported target in this process and join() waits for it", async () => {
  const q = new Queue();
  const t = new Thread({ target: threadInfo, args: [q], name: "worker-a" });
  t.start();
  ok(t.isAlive());
  deepStrictEqual(await q.get({ timeout: 10_000 }), { name: "worker-a", pid: process.pid });
  await t.join();
  equal(t.isAlive(), false);
});

test("an exported Thread subclass runs its run() with its own fields", async () => {
  const q = new Queue();
  const t = new Counter(q, 100);
  t.start();
  equal(await q.get({ timeout: 10_000 }), 5050);
  await t.join();
});

test("an error in a thread goes to the except hook with the thread's stack", async () => {
  const seen = [];
  setExcepthook((args) => seen.push(args));
  try {
    const t = new Thread({ target: fail, args: ["thread failure"], name: "failing" });
    t.start();
    await t.join();
    equal(t.isAlive(), false);
  } finally {
    setExcepthook(null);
  }
  equal(seen.length, 1);
  equal(seen[0].excType, "TypeError");
  equal(seen[0].excValue.message, "thread failure");
  equal(seen[0].thread?.name, "failing");
  ok(seen[0].excValue.stack.includes("fixtures/targets.mjs"));
});

test("isMain(import.meta) is false in a thread's copy of a module", async () => {
  const q = new Queue();
  const t = new Thread({ target: reportIsMain, args: [q] });
  t.start();
  equal(await q.get({ timeout: 10_000 }), false);
  await t.join();
});

test("a daemon thread does not keep the program alive; a non-daemon thread does", async () => {
  const { code, stdout, stderr, timedOut } = await runNode("threads.mjs");
  equal(timedOut, false, stderr);
  equal(code, 0, stderr);
  deepStrictEqual(stdout.trim().split("\n"), ["main done", "non-daemon finished"]);
});

test("Thread.start() twice throws; join() before start() rejects; daemon cannot change after start()", async () => {
  const t = new Thread({ target: noop });
  await rejects(t.join(), { message: /Cannot join thread "Thread-\d+" before it is started/ });
  t.start();
  throws(() => t.start(), {
    message: /Cannot start thread "Thread-\d+": threads can only be started once/,
  });
  throws(() => (t.daemon = true), { message: /as it has already started/ });
  await t.join({ timeout: LONG });
  throws(() => t.start(), { message: /threads can only be started once/ });
});

test("Thread.join({ timeout }) returns while the thread runs; join({ signal }) rejects with the abort reason", async () => {
  const release = new Event();
  const t = new Thread({ target: waitFor, args: [release] });
  t.start();
  try {
    await t.join({ timeout: 50 });
    equal(t.isAlive(), true);
    const controller = new AbortController();
    const joined = t.join({ signal: controller.signal });
    controller.abort(new Error("stop waiting"));
    await rejects(joined, { message: "stop waiting" });
    await rejects(t.join({ signal: AbortSignal.abort(new Error("already")) }), {
      message: "already",
    });
    equal(t.isAlive(), true);
  } finally {
    release.set();
    await t.join({ timeout: LONG });
  }
  equal(t.isAlive(), false);
  await t.join({ timeout: 0 }); // a finished thread joins at once
});

test("enumerate() and activeCount() include live threads and drop finished ones", async () => {
  const before = activeCount();
  equal(enumerate()[0], mainThread());
  const release = new Event();
  const a = new Thread({ target: waitFor, args: [release] });
  const b = new Thread({ target: waitFor, args: [release] });
  ok(!enumerate().includes(a), "a thread that is not started is not listed");
  a.start();
  b.start();
  try {
    ok(enumerate().includes(a) && enumerate().includes(b));
    equal(activeCount(), before + 2);
    equal(activeCount(), enumerate().length);
  } finally {
    release.set();
    await a.join({ timeout: LONG });
    await b.join({ timeout: LONG });
  }
  ok(!enumerate().includes(a) && !enumerate().includes(b));
  equal(activeCount(), before);
});

test("Timer calls its function in a thread after the interval; cancel() before it prevents the call", async () => {
  const v = new Value("i", 0);
  const t = new Timer(20, setValue, [v, 7]);
  ok(t instanceof Thread);
  t.start();
  await t.join({ timeout: LONG });
  equal(v.value, 7);
  const w = new Value("i", 0);
  const cancelled = new Timer(300, setValue, [w, 7]);
  cancelled.start();
  cancelled.cancel();
  await cancelled.join({ timeout: LONG });
  equal(cancelled.isAlive(), false);
  equal(w.value, 0);
  throws(() => new Timer(-1, setValue), { name: "RangeError" });
});

test("a Local arrives empty in a thread, and what the thread sets stays there", async () => {
  const local = new Local();
  local.x = 1;
  const out = new Queue();
  const t = new Thread({ target: inspectLocal, args: [local, out] });
  t.start();
  deepStrictEqual(await out.get({ timeout: LONG }), { keys: [], x: null });
  await t.join({ timeout: LONG });
  equal(local.x, 1);
});
