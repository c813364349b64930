/**
 * Pools: Python's `multiprocessing.Pool`, `multiprocessing.pool.ThreadPool`
 * and `concurrent.futures` executors for Deno, on processes or threads.
 *
 * Workers start once and are reused; a task is an **exported** function,
 * imported by the worker as a `Process` imports its target; shared
 * primitives passed as arguments arrive live; a worker that dies never
 * leaves a task hanging.
 *
 * ```ts
 * import { Pool } from "@multiproc/multiproc/pool";
 * import { deepEqual } from "node:assert/strict";
 *
 * // In your program: `export function square(n) { return n * n; }` and
 * // `pool.map(square, ...)`. A doc example is no module a worker can import, so this
 * // one names the same function in examples/workers.ts.
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 *
 * await using pool = new Pool({ processes: 2 });
 * deepEqual(await pool.map(square, [1, 2, 3]), [1, 4, 9]);
 * ```
 *
 * @module
 */

export * from "./pool.ts";
export * from "./thread_pool.ts";
export * from "./async_result.ts";
export * from "./pool_task.ts";
export * from "./executor.ts";
export * from "./process_pool_executor.ts";
export * from "./thread_pool_executor.ts";
export * from "./future.ts";
export * from "./as_completed.ts";
export * from "./wait.ts";
export * from "./task_signal.ts";
export {
  BrokenProcessPool,
  BrokenThreadPool,
  CancelledError,
  TimeoutError,
} from "../_internal/errors.ts";
