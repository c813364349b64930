/**
 * The hub's status file has one writer, the hub: what a process reads synchronously (an Event's
 * flag, a Semaphore's value, whether a Barrier is broken) is the hub's state, plus this process's
 * own writes until the hub has answered them (Python's read-your-writes), across real processes.
 */
import { deepStrictEqual, equal } from "node:assert/strict";
import { Barrier, BoundedSemaphore, Event, Process, Semaphore, Value } from "../mod.ts";
import { openLifelongResources, readJson, tempDir } from "./_helpers.ts";
import {
  abortThenDie,
  ownWritesThenOthers,
  readYourWrites,
  releaseThenDie,
  report,
  setThenDie,
} from "./fixtures/status_targets.ts";

/** Bound of every wait that must succeed: never reached by a passing test. */
const LONG = 30_000;

openLifelongResources();

// deno-lint-ignore no-explicit-any
type Target = (...args: any[]) => unknown;

/** Runs `target(...args)` in a child and returns its exit code. */
async function run(target: Target, ...args: unknown[]): Promise<number | null> {
  await using p = new Process({ target, args });
  p.start();
  await p.join({ timeout: LONG });
  return p.exitCode;
}

Deno.test(
  "A process that dies right after set(), release() or abort() leaves the status file as the hub has it",
  async () => {
    const ev = new Event();
    const sem = new Semaphore(1);
    const barrier = new Barrier(2);
    using flag = new Value("i", -1);
    using value = new Value("i", -1);
    using broken = new Value("i", -1);
    equal(await run(report, ev, sem, barrier, flag, value, broken), 0);
    deepStrictEqual([flag.value, value.value, broken.value], [0, 1, 0]);

    equal(await run(setThenDie, ev), -9);
    equal(await run(releaseThenDie, sem), -9);
    equal(await run(abortThenDie, barrier), -9);

    // None of those operations reached the hub: nobody may see them.
    equal(ev.isSet(), false);
    equal(sem.getValue(), 1);
    equal(barrier.broken, false, "the dead child's abort() shows in the parent");
    equal(await run(report, ev, sem, barrier, flag, value, broken), 0);
    deepStrictEqual(
      { flag: flag.value, value: value.value, broken: broken.value },
      { flag: 0, value: 1, broken: 0 },
      "another process sees writes that never reached the hub",
    );
  },
);

Deno.test(
  "A process other than the creator sees its own set(), clear(), release(), abort() and reset() at once",
  async () => {
    await using dir = await tempDir();
    const ev = new Event();
    const sem = new Semaphore(1);
    const bounded = new BoundedSemaphore(2);
    const barrier = new Barrier(2);
    const path = `${dir.path}/seen.json`;
    equal(await run(readYourWrites, ev, sem, bounded, barrier, path), 0);
    deepStrictEqual(await readJson(path), {
      flagBefore: false,
      flagAfterSet: true,
      flagAfterClear: false,
      flagAfterSetClearSet: true,
      waitAfterSet: true,
      valueBefore: 1,
      valueAfterAcquire: 0,
      valueAfterRelease: 1,
      valueAfterRelease2: 3,
      boundedAfterReleases: 2,
      boundedOverRelease: "Cannot release semaphore: semaphore released too many times",
      brokenAfterAbort: true,
      brokenAfterReset: false,
      waitingAfterReset: 0,
      brokenAfterAbortAgain: true,
      settled: { flag: true, value: 3, broken: true },
    });
    // And the hub has them: the creator sees the same.
    equal(ev.isSet(), true);
    equal(sem.getValue(), 3);
    equal(bounded.getValue(), 2);
    equal(barrier.broken, true);
  },
);

Deno.test(
  "A process's own writes do not hide later changes made by another process once the hub has answered",
  async () => {
    await using dir = await tempDir();
    const ev = new Event();
    const sem = new Semaphore(0);
    const wrote = new Event();
    const changed = new Event();
    const path = `${dir.path}/seen.json`;
    await using p = new Process({
      target: ownWritesThenOthers,
      args: [ev, sem, wrote, changed, path],
    });
    p.start();
    equal(await wrote.wait({ timeout: LONG }), true, "the child did not write");
    equal(ev.isSet(), true);
    ev.clear();
    equal(await sem.acquire({ timeout: LONG }), true);
    changed.set();
    await p.join({ timeout: LONG });
    equal(p.exitCode, 0, p.error?.stack);
    deepStrictEqual(await readJson(path), {
      flag: true,
      value: 1,
      flagLater: false,
      valueLater: 0,
    });
  },
);
