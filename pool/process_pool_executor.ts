/**
 * `ProcessPoolExecutor`: Python's `concurrent.futures.ProcessPoolExecutor`.
 *
 * @module
 */

import { cpuCount } from "../_internal/runtime.ts";
import { Executor, type ExecutorOptions } from "./executor.ts";

/**
 * An executor running tasks in worker processes: Python's
 * `concurrent.futures.ProcessPoolExecutor`.
 *
 * - Workers start as work waits, up to `maxWorkers`, and are reused.
 * - As in Python, a worker that dies abruptly (killed, `Deno.exit`, out of
 *   memory) breaks the executor: the future of the task it ran fails with
 *   `BrokenProcessPool` naming the worker's pid and exit code or signal,
 *   every other pending future fails with `BrokenProcessPool` too, and
 *   `submit()` throws from then on. (A `Pool` instead replaces the worker.)
 * - `await using` shuts it down with `wait: true`.
 *
 * @example Submit, then take results as they complete
 * ```ts
 * import { asCompleted, ProcessPoolExecutor } from "@multiproc/multiproc";
 * import { deepEqual } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 *
 * await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
 * const futures = [1, 2, 3].map((n) => executor.submit(square, n));
 * const results: unknown[] = [];
 * for await (const future of asCompleted(futures)) results.push(await future);
 * deepEqual(results.sort(), [1, 4, 9]);
 * ```
 */
export class ProcessPoolExecutor extends Executor {
  /**
   * Creates the executor; no process starts before the first task.
   *
   * @param options See {@linkcode ExecutorOptions}; `maxWorkers` defaults to `cpuCount()`.
   * @throws {RangeError} If `maxWorkers` or `maxTasksPerChild` is not a positive integer.
   * @throws {TypeError} If `initializer` is not an exported function.
   */
  constructor(options: ExecutorOptions = {}) {
    super("process", options.maxWorkers ?? cpuCount(), options);
  }
}
