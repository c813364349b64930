/**
 * Crash safety on Node.js, from the built package: what a SIGKILLed child
 * held comes back (Lock/RLock with `ownerDied`, Semaphore permits,
 * JoinableQueue items), a barrier it waited at breaks, and a child whose
 * owner process is gone gets a clear error instead of a hang.
 */
import { equal, match, ok, rejects } from "node:assert/strict";
import { test } from "node:test";
import {
  Barrier,
  BoundedSemaphore,
  Event,
  JoinableQueue,
  Lock,
  Process,
  Queue,
  RLock,
} from "./_pkg.mjs";
import {
  acknowledge,
  barrierOutcome,
  hold,
  ownForGrandchild,
  takeAndHang,
} from "./fixtures/crash_targets.mjs";
import { LONG, pidAlive, waitUntil } from "./_helpers.mjs";

/** Starts a child running `target(...args)`. */
function child(target, ...args) {
  const p = new Process({ target, args });
  p.start();
  return p;
}

/** Runs `fn(...children)` and makes sure every child is gone afterwards, whatever happened. */
async function withChildren(children, fn) {
  try {
    await fn(...children);
  } finally {
    for (const p of children) if (p.isAlive()) p.kill();
    for (const p of children) await p.join({ timeout: LONG });
  }
}

/** Kills `p` with SIGKILL and waits for it. */
async function killAndJoin(p) {
  p.kill();
  await p.join({ timeout: LONG });
  equal(p.exitCode, -9);
}

/** What `promise` resolves to within `ms`, or "still pending" (the timer is cleared either way). */
async function within(promise, ms) {
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve("still pending"), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

for (const Kind of [Lock, RLock]) {
  test(`a ${Kind.name} held by a SIGKILLed child is released, and the next holder sees ownerDied`, async () => {
    const lock = new Kind();
    const acquired = new Event();
    const release = new Event();
    const times = Kind === RLock ? 2 : 1;
    await withChildren([child(hold, lock, acquired, release, times)], async (p) => {
      ok(await acquired.wait({ timeout: LONG }), "the child did not acquire the lock");
      equal(await lock.acquire({ timeout: 0 }), false);
      await killAndJoin(p);
      equal(await lock.acquire({ timeout: LONG }), true);
      equal(lock.ownerDied, true);
      lock.release();
      equal(await lock.acquire({ timeout: 0 }), true);
      equal(lock.ownerDied, false, "a clean release clears ownerDied for the next holder");
      lock.release();
    });
  });
}

test("a Lock: a caller already waiting in acquire() when the holder is SIGKILLed takes it over, with ownerDied", async () => {
  const lock = new Lock();
  const acquired = new Event();
  const release = new Event();
  await withChildren([child(hold, lock, acquired, release)], async (p) => {
    ok(await acquired.wait({ timeout: LONG }), "the child did not acquire the lock");
    const waiting = lock.acquire({ timeout: LONG });
    equal(await within(waiting, 300), "still pending", "acquired while a live child held it");
    p.kill();
    equal(await waiting, true);
    equal(lock.ownerDied, true);
    lock.release();
  });
});

test("Semaphore permits of a SIGKILLed child are back when join() returns, and the next acquirer sees ownerDied", async () => {
  const sem = new BoundedSemaphore(2);
  const acquired = new Event();
  const release = new Event();
  await withChildren([child(hold, sem, acquired, release, 2)], async (p) => {
    ok(await acquired.wait({ timeout: LONG }), "the child did not acquire its permits");
    equal(sem.getValue(), 0);
    equal(await sem.acquire({ timeout: 0 }), false);
    await killAndJoin(p);
    equal(sem.getValue(), 2, "join() returned before the dead child's permits were back");
    equal(await sem.acquire({ timeout: 0 }), true);
    equal(sem.ownerDied, true);
    equal(await sem.acquire({ timeout: LONG }), true);
    equal(sem.ownerDied, true);
    sem.release();
    equal(await sem.acquire({ timeout: LONG }), true);
    equal(sem.ownerDied, false, "a permit released cleanly is not an owner death");
  });
});

test("a Barrier: a SIGKILLed waiting party breaks it, so the others reject instead of hanging", async () => {
  const barrier = new Barrier(3);
  const doomedOut = new Queue();
  const survivorOut = new Queue();
  const doomed = child(barrierOutcome, barrier, doomedOut);
  await withChildren([doomed], async () => {
    await waitUntil(() => barrier.nWaiting === 1, "the first party to arrive", LONG);
    await withChildren([child(barrierOutcome, barrier, survivorOut)], async (survivor) => {
      await waitUntil(() => barrier.nWaiting === 2, "the second party to arrive", LONG);
      await killAndJoin(doomed);
      const outcome = await survivorOut.get({ timeout: LONG });
      equal(outcome.name, "BrokenBarrierError", JSON.stringify(outcome));
      match(String(outcome.message), /a party died/);
      await survivor.join({ timeout: LONG });
      equal(survivor.exitCode, 0, survivor.error?.stack);
      await waitUntil(() => barrier.broken, "the barrier to be seen broken here", LONG);
      await rejects(barrier.wait({ timeout: LONG }), { name: "BrokenBarrierError" });
    });
  });
});

test("a JoinableQueue item taken by a consumer SIGKILLed before taskDone() is redelivered, and join() returns", async () => {
  const q = new JoinableQueue();
  const taken = new Queue();
  const out = new Queue();
  await q.put("first");
  await withChildren([child(takeAndHang, q, taken)], async (doomed) => {
    equal(await taken.get({ timeout: LONG }), "first");
    await q.put("second");
    await killAndJoin(doomed);
    await withChildren([child(acknowledge, q, out)], async (consumer) => {
      const got = [await out.get({ timeout: LONG }), await out.get({ timeout: LONG })];
      equal(got.sort().join(","), "first,second");
      ok(await q.join({ timeout: LONG }), "join() did not return after every item was done");
      await q.put(null);
      await consumer.join({ timeout: LONG });
      equal(consumer.exitCode, 0, consumer.error?.stack);
    });
  });
});

for (const kind of ["event", "queue"]) {
  test(
    `a grandchild waiting on ${
      kind === "event" ? "an Event" : "a Queue"
    } whose owner process was killed gets a clear error, not a hang`,
    async () => {
      const out = new Queue();
      await withChildren([child(ownForGrandchild, kind, out)], async (owner) => {
        const { pid } = await out.get({ timeout: LONG });
        try {
          await killAndJoin(owner);
          const outcome = await out.get({ timeout: LONG });
          match(
            String(outcome.message),
            new RegExp(`^Cannot reach the hub of process ${owner.pid}: the process that created`),
            JSON.stringify(outcome),
          );
          await waitUntil(() => !pidAlive(pid), "the orphaned grandchild to exit", LONG);
        } finally {
          if (pidAlive(pid)) process.kill(pid, "SIGKILL");
        }
      });
    },
  );
}
