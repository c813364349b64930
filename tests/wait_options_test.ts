/** The signals and timeouts that every blocking call of the sync primitives takes. */
import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { Barrier, Condition, Event, Lock, RLock, Semaphore } from "../mod.ts";
import { eventually, openLifelongResources } from "./_helpers.ts";
import { LONG } from "./_sync.ts";

openLifelongResources();

/**
 * How a blocking call misbehaves when it should return a Promise that
 * rejects with a RangeError: a description, or undefined if it behaves.
 */
async function rangeErrorProblem(what: string, call: () => Promise<unknown>): Promise<string[]> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch (error) {
    return [`${what} threw synchronously instead of returning a rejected Promise: ${error}`];
  }
  try {
    await promise;
    return [`${what} did not reject`];
  } catch (error) {
    return error instanceof RangeError ? [] : [`${what} rejected with ${error}, not a RangeError`];
  }
}

// ---------------------------------------------------------------------------
// Signals and timeouts shared by the blocking calls

Deno.test("Hub primitives reject at once for an already-aborted signal and with the reason when aborted mid-wait", async () => {
  const reason = new Error("stop");
  const aborted = AbortSignal.abort(reason);
  const isReason = (e: unknown) => e === reason;

  const sem = new Semaphore(0);
  await rejects(sem.acquire({ signal: aborted }), isReason);
  const event = new Event();
  await rejects(event.wait({ signal: aborted }), isReason);
  const barrier = new Barrier(2);
  await rejects(barrier.wait({ signal: aborted }), isReason);
  equal(barrier.broken, false, "an already-aborted wait broke the barrier");
  using cond = new Condition();
  ok(await cond.acquire());
  await rejects(cond.wait({ signal: aborted }), isReason);
  ok((cond.lock as RLock).isOwned(), "Condition.wait() did not re-acquire its lock");

  // `started` tells that the wait is under way before the abort. Semaphore and Event (not shared
  // with another process) register their wait synchronously, before acquire()/wait() returns its
  // Promise (a futex wait on their shared words), so the abort may come at once; a Condition's wait
  // has begun once its lock is released; a Barrier counts its waiters (nWaiting).
  const midWait = async (
    start: (signal: AbortSignal) => Promise<unknown>,
    started: () => boolean = () => true,
  ) => {
    const controller = new AbortController();
    const pending = start(controller.signal);
    ok(await eventually(started, LONG), "the wait did not start");
    controller.abort(reason);
    await rejects(pending, isReason);
  };
  await midWait((signal) => sem.acquire({ signal }));
  sem.release();
  ok(await eventually(() => sem.getValue() === 1, LONG), "an aborted acquire() took a permit");
  await midWait((signal) => event.wait({ signal }));
  await midWait((signal) => cond.wait({ signal }), () => !(cond.lock as RLock).isOwned());
  ok((cond.lock as RLock).isOwned(), "Condition.wait() did not re-acquire its lock");
  cond.release();
  await midWait((signal) => barrier.wait({ signal }), () => barrier.nWaiting === 1);
  ok(await eventually(() => barrier.broken, LONG), "an aborted party did not break the barrier");
});

Deno.test("Every blocking call rejects a negative timeout with RangeError, as a rejected Promise", async () => {
  using cond = new Condition(new Lock());
  const problems = [
    ...await rangeErrorProblem("Lock.acquire()", () => new Lock().acquire({ timeout: -1 })),
    ...await rangeErrorProblem("RLock.acquire()", () => new RLock().acquire({ timeout: -1 })),
    ...await rangeErrorProblem(
      "Semaphore.acquire()",
      () => new Semaphore().acquire({ timeout: -1 }),
    ),
    ...await rangeErrorProblem("Event.wait()", () => new Event().wait({ timeout: -1 })),
    ...await rangeErrorProblem("Barrier.wait()", () => new Barrier(2).wait({ timeout: -1 })),
    ...await rangeErrorProblem("Condition.acquire()", () => cond.acquire({ timeout: -1 })),
  ];
  ok(await cond.acquire());
  problems.push(
    ...await rangeErrorProblem("Condition.wait()", () => cond.wait({ timeout: -1 })),
  );
  cond.release();
  deepStrictEqual(problems, []);
});
