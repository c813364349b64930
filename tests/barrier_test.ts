/** Barrier across real child processes (and within one process where relevant). */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { Barrier, BrokenBarrierError, SharedArray, Value } from "../mod.ts";
import { eventually, openLifelongResources, readJson, tempDir } from "./_helpers.ts";
import { barrierOutcome, barrierParty, countAction } from "./fixtures/sync_targets.ts";
import { child, children, joinOk, LONG } from "./_sync.ts";

openLifelongResources();

const isBroken = (e: unknown) => e instanceof BrokenBarrierError;

// ---------------------------------------------------------------------------
// Barrier

Deno.test("Barrier gives 3 processes the distinct indexes 0, 1 and 2", async () => {
  const barrier = new Barrier(3);
  equal(barrier.parties, 3);
  using indexes = new SharedArray("i", [-1, -1, -1]);
  await using kids = children(3, (i) => [barrierParty, barrier, indexes, i, 1, null, null]);
  await joinOk(...kids);
  deepStrictEqual(indexes.toArray().sort(), [0, 1, 2]);
  equal(barrier.broken, false);
  equal(barrier.nWaiting, 0);
});

Deno.test("Barrier action runs exactly once per cycle, before any party is released", async () => {
  const barrier = new Barrier(3, { action: countAction });
  using counter = new Value("i", 0);
  const rounds = 2;
  using indexes = new SharedArray("i", 3 * rounds);
  using seen = new SharedArray("i", 3 * rounds);
  await using kids = children(3, (i) => [barrierParty, barrier, indexes, i, rounds, counter, seen]);
  await joinOk(...kids);
  equal(counter.value, rounds);
  for (let round = 0; round < rounds; round++) {
    const cycle = [0, 1, 2].map((slot) => indexes[slot * rounds + round]).sort();
    deepStrictEqual(cycle, [0, 1, 2], `indexes of round ${round}`);
    for (let slot = 0; slot < 3; slot++) {
      equal(seen[slot * rounds + round], round + 1, `counter seen by party ${slot} in ${round}`);
    }
  }
});

Deno.test("Barrier breaks for every party when one party's wait times out", async () => {
  await using dir = await tempDir();
  const barrier = new Barrier(3);
  await using patient = child(barrierOutcome, barrier, LONG, `${dir.path}/patient.json`);
  ok(await eventually(() => barrier.nWaiting === 1, LONG), "the first party did not arrive");
  await using impatient = child(barrierOutcome, barrier, 100, `${dir.path}/impatient.json`);
  await joinOk(patient, impatient);
  for (const name of ["patient", "impatient"]) {
    const outcome = await readJson(`${dir.path}/${name}.json`);
    equal(outcome.name, "BrokenBarrierError", `${name}: ${JSON.stringify(outcome)}`);
  }
  equal(barrier.broken, true);
  await rejects(barrier.wait({ timeout: LONG }), isBroken);
});

Deno.test("Barrier with a default timeout breaks when a party waits alone for that long", async () => {
  await using dir = await tempDir();
  const barrier = new Barrier(2, { timeout: 100 });
  await using p = child(barrierOutcome, barrier, null, `${dir.path}/alone.json`);
  await joinOk(p);
  const outcome = await readJson(`${dir.path}/alone.json`);
  equal(outcome.name, "BrokenBarrierError");
  match(String(outcome.message), /timed out after 100 ms/);
  equal(barrier.broken, true);
});

Deno.test("Barrier.abort() rejects the waiting parties with BrokenBarrierError and later waits too", async () => {
  await using dir = await tempDir();
  const barrier = new Barrier(2);
  await using p = child(barrierOutcome, barrier, LONG, `${dir.path}/waiter.json`);
  ok(await eventually(() => barrier.nWaiting === 1, LONG), "the party did not arrive");
  barrier.abort();
  await joinOk(p);
  const outcome = await readJson(`${dir.path}/waiter.json`);
  equal(outcome.name, "BrokenBarrierError");
  match(String(outcome.message), /aborted/);
  ok(await eventually(() => barrier.broken, LONG));
  await rejects(barrier.wait({ timeout: LONG }), isBroken);
});

Deno.test(
  "Barrier.reset() rejects current waiters and makes a broken barrier usable again",
  async () => {
    await using dir = await tempDir();
    const barrier = new Barrier(2);
    await using p = child(barrierOutcome, barrier, LONG, `${dir.path}/waiter.json`);
    ok(await eventually(() => barrier.nWaiting === 1, LONG), "the party did not arrive");
    barrier.reset();
    await joinOk(p);
    const outcome = await readJson(`${dir.path}/waiter.json`);
    equal(outcome.name, "BrokenBarrierError");
    match(String(outcome.message), /reset/);

    barrier.abort();
    ok(await eventually(() => barrier.broken, LONG));
    barrier.reset();
    ok(await eventually(() => !barrier.broken, LONG), "reset() did not mend the barrier");
    using indexes = new SharedArray("i", [-1, -1]);
    await using kids = children(2, (i) => [barrierParty, barrier, indexes, i, 1, null, null]);
    await joinOk(...kids);
    deepStrictEqual(indexes.toArray().sort(), [0, 1]);
  },
);

Deno.test("Barrier.broken reflects this object's own abort() and reset() at once, as in Python", () => {
  const barrier = new Barrier(2);
  barrier.abort();
  equal(barrier.broken, true, "broken right after abort()");
  barrier.reset();
  equal(barrier.broken, false, "broken right after reset()");
});

Deno.test("Barrier: a SIGKILLed waiting party breaks it, so the others reject instead of hanging", async () => {
  await using dir = await tempDir();
  const barrier = new Barrier(3);
  await using doomed = child(barrierOutcome, barrier, LONG, `${dir.path}/doomed.json`);
  ok(await eventually(() => barrier.nWaiting === 1, LONG), "the first party did not arrive");
  await using survivor = child(barrierOutcome, barrier, LONG, `${dir.path}/survivor.json`);
  ok(await eventually(() => barrier.nWaiting === 2, LONG), "the second party did not arrive");
  doomed.kill();
  await doomed.join({ timeout: LONG });
  equal(doomed.exitCode, -9);
  await joinOk(survivor);
  const outcome = await readJson(`${dir.path}/survivor.json`);
  equal(outcome.name, "BrokenBarrierError");
  ok(await eventually(() => barrier.broken, LONG));
  await rejects(barrier.wait({ timeout: LONG }), isBroken);
  match(String(outcome.message), /a party died/, "the error does not say that a party died");
});

Deno.test("Barrier rejects a party count that is not a positive integer", () => {
  throws(() => new Barrier(0), RangeError);
  throws(() => new Barrier(1.5), RangeError);
  throws(() => new Barrier(2, { timeout: -1 }), RangeError);
});
