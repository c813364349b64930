// Copyright the multiproc authors. MIT license.
/**
 * What a consumer fetches ahead of its gets (see queue/queue.ts) is never
 * lost and never reordered: it goes back, in place, when the consumer
 * leaves or another consumer needs it.
 */
import { deepStrictEqual, equal } from "node:assert/strict";
import { Process, Queue } from "../mod.ts";
import { takeSomeAndReturn, takeSomeThenBusy } from "./fixtures/queue_targets.ts";

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

Deno.test("A consumer that holds items fetched ahead and cannot answer (busy) does not keep a waiting consumer from new items", async () => {
  const q = new Queue<string>();
  const taken = new Queue<string[]>();
  const done = new Queue<string>();
  const ids = Array.from({ length: 12 }, (_, i) => `old-${i}`);
  for (const id of ids) await q.put(id);
  // The child takes 3 and holds the rest (fetched ahead), then is busy for a long while.
  await using child = new Process({
    target: takeSomeThenBusy,
    args: [q, 3, taken, 20_000, done],
  });
  child.start();
  deepStrictEqual(await taken.get({ timeout: WAIT }), ids.slice(0, 3));
  // What the child did not fetch ahead.
  const rest: string[] = [];
  for (;;) {
    try {
      rest.push(await q.getNowait());
    } catch {
      break;
    }
  }
  // This get finds the queue empty: the hub asks the child for its items, which cannot answer.
  const waiting = q.get({ timeout: WAIT });
  await q.put("new");
  // The hub waits a moment for the child's answer, then serves the new item anyway.
  equal(await waiting, "new");
  // Still busy: the new item did not wait for it.
  deepStrictEqual(await done.getNowait().catch(() => "not yet"), "not yet");
  child.kill();
  await child.join({ timeout: WAIT });
  // Killed: what it held comes back.
  while (rest.length < ids.length - 3) rest.push(await q.get({ timeout: WAIT }));
  deepStrictEqual(rest.sort(), ids.slice(3).sort());
});
