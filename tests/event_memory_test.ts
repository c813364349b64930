/**
 * An Event lives in shared memory for the threads of the process that
 * created it, and in its hub for other processes: one flag for both.
 */
import { equal } from "node:assert/strict";
import { Event, Process, Queue, Thread, toHandle } from "../mod.ts";
import { reportIsSet, setIt, waitAndReport } from "./fixtures/event_targets.ts";

// The hub's status file stays open for the life of the process: open it here, outside any test,
// so that the resource sanitizer stays on for every test.
new Event()[toHandle]("process");

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
