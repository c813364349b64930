/**
 * `taskSignal()`: how a pool task learns that it was cancelled.
 *
 * @module
 */

import { currentTaskSignal } from "./_runner.ts";

/**
 * The `AbortSignal` of the pool task running in this worker: it aborts when
 * the task is cancelled while it runs (the `signal` given to the pool call
 * aborts, `Future.cancel()` cannot stop a running task, so only the signal
 * of the call does). A task that wants to stop early checks it or listens to
 * it; a task that ignores it has about a second before its worker is killed
 * and replaced.
 *
 * Call it inside a task (a worker runs one task at a time, so the signal is
 * that task's, also after an `await`).
 *
 * @returns The running task's signal.
 * @throws {Error} Outside a pool task.
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/multiproc";
 * import { rejects } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function untilCancelled() {
 * //   const signal = taskSignal();
 * //   await new Promise((resolve) => signal.addEventListener("abort", resolve));
 * //   return "stopped"; }
 * const untilCancelled = {
 *   module: import.meta.resolve("../examples/workers.ts"),
 *   export: "untilCancelled",
 * };
 *
 * await using pool = new Pool({ processes: 1 });
 * const controller = new AbortController();
 * const running = pool.apply(untilCancelled, [], { signal: controller.signal });
 * controller.abort(); // the task sees its signal abort and returns
 * await rejects(running, { name: "AbortError" });
 * ```
 */
export function taskSignal(): AbortSignal {
  const signal = currentTaskSignal();
  if (!signal) {
    throw new Error("Cannot get the task signal as no pool task is running in this thread");
  }
  return signal;
}
