/** Thread on Node.js (worker_threads), from the built package. */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { test } from "node:test";
import { Queue, setExcepthook, Thread } from "./_pkg.mjs";
import { Counter, fail, reportIsMain, threadInfo } from "./fixtures/targets.mjs";
import { runNode } from "./_helpers.mjs";

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
