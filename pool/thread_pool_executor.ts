/**
 * `ThreadPoolExecutor`: Python's `concurrent.futures.ThreadPoolExecutor`.
 *
 * @module
 */

import { cpuCount } from "../_internal/runtime.ts";
import { Executor, type ExecutorOptions } from "./executor.ts";

/**
 * An executor running tasks in worker threads: Python's
 * `concurrent.futures.ThreadPoolExecutor`.
 *
 * - Each worker is a thread (its own V8 isolate): tasks are exported
 *   functions it imports; arguments and results are cloned; shared
 *   primitives arrive live.
 * - Workers start as work waits, up to `maxWorkers` (Python's default,
 *   `min(32, cpuCount() + 4)`).
 * - If the initializer throws, or a thread ends abruptly, the executor is
 *   broken: pending futures fail with `BrokenThreadPool`.
 *
 * @example
 * ```ts
 * import { ThreadPoolExecutor, wait } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 *
 * await using executor = new ThreadPoolExecutor({ maxWorkers: 2 });
 * const futures = [1, 2, 3].map((n) => executor.submit(square, n));
 * const { done, notDone } = await wait(futures);
 * equal(done.size, 3);
 * equal(notDone.size, 0);
 * ```
 */
export class ThreadPoolExecutor extends Executor {
  /**
   * Creates the executor; no thread starts before the first task.
   *
   * @param options See {@linkcode ExecutorOptions} (`maxTasksPerChild` is ignored).
   * @throws {RangeError} If `maxWorkers` is not a positive integer.
   * @throws {TypeError} If `initializer` is not an exported function.
   */
  constructor(options: Omit<ExecutorOptions, "maxTasksPerChild"> = {}) {
    super("thread", options.maxWorkers ?? Math.min(32, cpuCount() + 4), {
      ...options,
      maxTasksPerChild: undefined,
    });
  }
}
