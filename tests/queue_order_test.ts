// Copyright the multiproc authors. MIT license.
/**
 * What a consumer fetches ahead of its gets (see queue/queue.ts) is never
 * lost and never reordered: it goes back, in place, when the consumer
 * leaves or another consumer needs it.
 */
import { deepStrictEqual } from "node:assert/strict";
import { Process, Queue } from "../mod.ts";
import { takeSomeAndReturn } from "./fixtures/queue_targets.ts";

const WAIT = 20_000;

Deno.test("A consumer child that returns while it has items fetched ahead leaves every unused one in the queue, in order", async () => {
  // Several rounds: a fetch ahead may or may not be on its way at the moment the child returns.
  for (let round = 0; round < 8; round++) {
    const q = new Queue<number>();
    const taken = new Queue<number[]>();
    const ids = Array.from({ length: 300 }, (_, i) => i);
    for (const id of ids) await q.put(id);
    const n = 10 + round * 7;
    await using child = new Process({ target: takeSomeAndReturn, args: [q, n, taken] });
    child.start();
    deepStrictEqual(await taken.get({ timeout: WAIT }), ids.slice(0, n));
    await child.join({ timeout: WAIT });
    deepStrictEqual(child.exitCode, 0);
    const rest: number[] = [];
    for (let i = n; i < ids.length; i++) rest.push(await q.get({ timeout: WAIT }));
    deepStrictEqual(
      rest,
      ids.slice(n),
      `round ${round}: items fetched ahead were lost or reordered`,
    );
  }
});
