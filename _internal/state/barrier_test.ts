// Copyright the multiproc authors. MIT license.
import assert from "node:assert/strict";
import { BrokenBarrierError } from "../errors.ts";
import { A, assertBlocks, B, C, reason } from "./_helpers_test.ts";
import { BarrierState } from "./barrier.ts";

Deno.test("BarrierState() rejects fewer than one party", () => {
  assert.throws(() => new BarrierState(0, false), RangeError);
});

Deno.test("BarrierState.wait() gives each party a distinct index in arrival order and is reusable", async () => {
  const barrier = new BarrierState(3, false);
  for (let cycle = 0; cycle < 2; cycle++) {
    const first = barrier.wait(A);
    const second = barrier.wait(B);
    await assertBlocks(first);
    assert.equal(barrier.nWaiting, 2);
    const last = barrier.wait(C);
    const results = await Promise.all([first, second, last]);
    assert.deepEqual(results.map((r) => r.index), [0, 1, 2]);
    assert.ok(results.every((r) => !r.runAction));
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  }
  assert.equal(barrier.parties, 3);
});

Deno.test("BarrierState.wait() of a single party passes at once", async () => {
  assert.deepEqual(await new BarrierState(1, false).wait(A), { index: 0, runAction: false });
});

Deno.test("BarrierState.wait() makes the last party run the action before the others are released", async () => {
  const barrier = new BarrierState(2, true);
  const first = barrier.wait(A);
  assert.deepEqual(await barrier.wait(B), { index: 1, runAction: true });
  await assertBlocks(first);
  assert.equal(barrier.nWaiting, 1);
  barrier.actionDone(true);
  assert.deepEqual(await first, { index: 0, runAction: false });
  assert.equal(barrier.broken, false);
  barrier.actionDone(true); // nothing pending: ignored
});

Deno.test("BarrierState.actionDone(false) breaks the barrier for the waiting parties", async () => {
  const barrier = new BarrierState(3, true);
  const waits = [barrier.wait(A), barrier.wait(B)];
  assert.equal((await barrier.wait(C)).runAction, true);
  barrier.actionDone(false);
  for (const waiting of waits) await assert.rejects(waiting, BrokenBarrierError);
  assert.equal(barrier.broken, true);
  await assert.rejects(
    barrier.wait(A),
    /Cannot pass the barrier as it is broken: its action failed/,
  );
});

Deno.test("BarrierState.wait() timeout breaks the barrier for that party and all others", async () => {
  const barrier = new BarrierState(3, false);
  const patient = barrier.wait(A);
  const hasty = barrier.wait(B, { timeout: 20 });
  await assert.rejects(hasty, {
    name: "BrokenBarrierError",
    message: "Cannot pass the barrier as a party timed out after 20 ms",
  });
  await assert.rejects(patient, BrokenBarrierError);
  assert.equal(barrier.broken, true);
  assert.equal(barrier.nWaiting, 0);
  await assert.rejects(barrier.wait(C), BrokenBarrierError);
  barrier.reset();
  assert.equal(barrier.broken, false);
});

Deno.test("BarrierState.wait() uses the default timeout when none is given", async () => {
  const barrier = new BarrierState(2, false, 20);
  await assert.rejects(barrier.wait(A), BrokenBarrierError);
  assert.equal(barrier.broken, true);
});

Deno.test("BarrierState.wait() with a timeout <= 0 breaks the barrier unless it is the last arrival", async () => {
  const barrier = new BarrierState(2, false);
  const first = barrier.wait(A, { timeout: 0 });
  await assert.rejects(first, BrokenBarrierError);
  assert.equal(barrier.broken, true);
  barrier.reset();
  const waiting = barrier.wait(A);
  assert.deepEqual(await barrier.wait(B, { timeout: 0 }), { index: 1, runAction: false });
  assert.equal((await waiting).index, 0);
});

Deno.test("BarrierState.abort() breaks the barrier for waiting and later parties", async () => {
  const barrier = new BarrierState(3, false);
  const waiting = barrier.wait(A);
  barrier.abort();
  await assert.rejects(waiting, /Cannot pass the barrier as it was aborted/);
  await assert.rejects(barrier.wait(B), BrokenBarrierError);
});

Deno.test("BarrierState.reset() rejects the waiting parties and leaves a usable barrier", async () => {
  const barrier = new BarrierState(2, false);
  const waiting = barrier.wait(A);
  barrier.reset();
  await assert.rejects(waiting, { message: "Cannot pass the barrier as it was reset" });
  assert.equal(barrier.broken, false);
  const again = barrier.wait(A);
  await barrier.wait(B);
  assert.equal((await again).index, 0);
});

Deno.test("BarrierState.wait() aborted mid-wait rejects with the reason and breaks the barrier for the others", async () => {
  const barrier = new BarrierState(3, false);
  const controller = new AbortController();
  const why = reason();
  const other = barrier.wait(A);
  const aborted = barrier.wait(B, { signal: controller.signal });
  controller.abort(why);
  await assert.rejects(aborted, (e) => e === why);
  await assert.rejects(other, BrokenBarrierError);
  assert.equal(barrier.broken, true);
});

Deno.test("BarrierState.wait() with an already aborted signal rejects without breaking the barrier", async () => {
  const barrier = new BarrierState(2, false);
  const why = reason();
  await assert.rejects(barrier.wait(A, { signal: AbortSignal.abort(why) }), (e) => e === why);
  assert.equal(barrier.broken, false);
  assert.equal(barrier.nWaiting, 0);
});

Deno.test("BarrierState.dropOwner() breaks the barrier only if the owner was waiting or running the action", async () => {
  const barrier = new BarrierState(3, true);
  const waiting = barrier.wait(A);
  assert.equal(barrier.dropOwner(B), false);
  assert.equal(barrier.dropOwner(A), true);
  await assert.rejects(waiting, { message: "Cannot pass the barrier as a party died" });
  barrier.reset();
  const others = [barrier.wait(A), barrier.wait(B)];
  assert.equal((await barrier.wait(C)).runAction, true);
  assert.equal(barrier.dropOwner(C), true);
  for (const other of others) await assert.rejects(other, BrokenBarrierError);
});
