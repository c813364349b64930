import { deepStrictEqual } from "node:assert/strict";
import type { FromWorker, ToWorker } from "./_protocol.ts";
import { TaskRunner } from "./_runner.ts";
import { WORKER_START_VERSION } from "./_protocol.ts";

const SPIN = {
  module: new URL("../tests/fixtures/pool_tasks.ts", import.meta.url).href,
  export: "spin",
  hash: 0,
};

/** A runner whose answers are collected; `answered(n)` resolves once `n` chunks are answered. */
function runner() {
  const answers: FromWorker[] = [];
  let waiting: { n: number; resolve: () => void } | undefined;
  const task = new TaskRunner(
    { version: WORKER_START_VERSION, name: "TestWorker" },
    (messages) => {
      for (const m of messages) if (m.t !== "ready") answers.push(m);
      if (waiting && answers.length >= waiting.n) waiting.resolve();
    },
    "clone",
    () => {},
  );
  const answered = (n: number) =>
    answers.length >= n ? Promise.resolve() : new Promise<void>((resolve) => {
      waiting = { n, resolve };
    });
  return { task, answers, answered };
}

const run = (i: number, ms: number): ToWorker => ({ t: "run", i, f: 1, s: 0, a: [ms], p: 1 });

Deno.test("TaskRunner reads a revoke that comes while its chunks run longer than expected", async () => {
  const { task, answers, answered } = runner();
  task.receive([{ t: "fn", f: 1, ref: SPIN }, run(1, 0)]);
  await answered(1); // The function is loaded: the chunks below run without awaiting.
  task.receive([run(2, 60), run(3, 0), run(4, 0)]);
  // The pool asks for chunk 4 back while chunk 2 runs (a timer set now fires after it).
  setTimeout(() => task.receive([{ t: "revoke", i: 4 }]), 0);
  await answered(4);
  deepStrictEqual(answers.map((m) => `${m.t} ${"i" in m ? m.i : ""}`), [
    "ok 1",
    "ok 2",
    "ok 3",
    "dropped 4",
  ]);
});
