/**
 * The test helpers' own checks, where a wrong answer would fail (or pass)
 * other tests for the wrong reason.
 */
import { deepEqual } from "node:assert/strict";
import { lastingZombies } from "./_helpers.ts";

/** A list of zombies that answers each look with the next of `looks` (the last one repeats). */
function looks(...looks: number[][]): () => number[] {
  let i = 0;
  return () => looks[Math.min(i++, looks.length - 1)];
}

Deno.test("lastingZombies(): a zombie first seen after it started looking is another test's passing through, not a lasting one", async () => {
  // Under --parallel another module's child can exit (and be reaped a moment later) at any time.
  deepEqual(await lastingZombies(200, looks([], [4242])), []);
  deepEqual(await lastingZombies(200, looks([7], [], [4242])), []);
});

Deno.test("lastingZombies(): a zombie that stays is reported; one reaped while it waits is not", async () => {
  deepEqual(await lastingZombies(200, looks([7, 8], [7, 8], [7])), [7]);
  deepEqual(await lastingZombies(200, looks([7], [7], [7], [])), []);
});
