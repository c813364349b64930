/**
 * Event, Semaphore and Condition live in shared memory for the threads of the process that
 * created it, and in its hub for other processes: one flag for both.
 */
import { equal } from "node:assert/strict";
import { Condition, Event, Process, Queue, Semaphore, Thread, Value } from "../mod.ts";
import {
  raiseAndNotify,
  reportIsSet,
  setIt,
  useSemaphore,
  waitAndReport,
  waitForValue,
} from "./fixtures/event_targets.ts";
import { openLifelongResources } from "./_helpers.ts";

openLifelongResources();

Deno.test("An Event set by a child process wakes a thread that waits on it in shared memory", async () => {
  const ev = new Event();
  const ready = new Event();
  const out = new Queue<string>();
  const t = new Thread({ target: waitAndReport, args: [ev, out, ready] });
  t.start();
  equal(await ready.wait({ timeout: 20_000 }), true);
  await using p = new Process({ target: setIt, args: [ev] });
  p.start();
  await p.join();
  equal(p.exitCode, 0, p.error?.stack);
  equal(await out.get({ timeout: 20_000 }), "woken");
  await t.join();
  equal(ev.isSet(), true);
});

Deno.test("An Event set or cleared by a thread is seen by a child process, and the other way round", async () => {
  const ev = new Event();
  const seen = new Queue<boolean>();
  ev.set();
  {
    await using p = new Process({ target: reportIsSet, args: [ev, seen] });
    p.start();
    await p.join();
  }
  equal(await seen.get({ timeout: 20_000 }), true);
  ev.clear();
  {
    await using p = new Process({ target: reportIsSet, args: [ev, seen] });
    p.start();
    await p.join();
  }
  equal(await seen.get({ timeout: 20_000 }), false);
  // A thread waits in shared memory; the main thread sets: no hub round trip needed.
  const ready = new Event();
  const out = new Queue<string>();
  const t = new Thread({ target: waitAndReport, args: [ev, out, ready] });
  t.start();
  equal(await ready.wait({ timeout: 20_000 }), true);
  ev.set();
  equal(await out.get({ timeout: 20_000 }), "woken");
  await t.join();
});

Deno.test({
  name: "A Condition notified by a child process wakes a thread that waits in shared memory",

  async fn() {
    using cond = new Condition();
    using v = new Value("i", 0);
    const ready = new Event();
    const out = new Queue<string>();
    const t = new Thread({ target: waitForValue, args: [cond, v, 5, out, ready] });
    t.start();
    equal(await ready.wait({ timeout: 20_000 }), true);
    await using p = new Process({ target: raiseAndNotify, args: [cond, v, 5] });
    p.start();
    await p.join();
    equal(p.exitCode, 0, p.error?.stack);
    equal(await out.get({ timeout: 20_000 }), "woken");
    await t.join();
  },
});

Deno.test({
  name: "A Semaphore shared by threads and a child process never admits more than its value",

  async fn() {
    const sem = new Semaphore(2);
    using inside = new Value("i", 0);
    using over = new Value("i", 0);
    const args = [sem, inside, over, 200, 2];
    const ts = [0, 1].map(() => new Thread({ target: useSemaphore, args }));
    await using p = new Process({ target: useSemaphore, args });
    for (const t of ts) t.start();
    p.start();
    for (const t of ts) await t.join();
    await p.join();
    equal(p.exitCode, 0, p.error?.stack);
    equal(sem.getValue(), 2);
    equal(inside.value, 0);
    equal(over.value, 0, "more holders than permits were inside at once");
  },
});
