/**
 * `ThreadPool`: Python's `multiprocessing.pool.ThreadPool` for Deno.
 *
 * @module
 */

import { THREADS } from "./_tasks.ts";
import { Pool, type PoolOptions } from "./pool.ts";

/**
 * Options for {@linkcode ThreadPool}: those of a {@linkcode Pool} without
 * `maxTasksPerChild`, `processes` being the number of threads.
 *
 * @example
 * ```ts
 * import { ThreadPool, type ThreadPoolOptions } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const options: ThreadPoolOptions = { processes: 2 };
 * await using pool = new ThreadPool(options);
 * equal(pool.stats().workers, 2);
 * ```
 */
export type ThreadPoolOptions = Omit<PoolOptions, "maxTasksPerChild">;

/**
 * A pool of worker threads with the methods of {@linkcode Pool}: Python's
 * `multiprocessing.pool.ThreadPool`.
 *
 * - Each worker is a thread of this process (a V8 isolate of its own, as
 *   every JavaScript thread is): tasks are exported functions imported by
 *   the thread, arguments and results are cloned, shared primitives arrive
 *   live. Cheaper to start and to talk to than processes; a thread that
 *   ends abruptly (`Deno.exit` in it, out of memory) rejects its task with
 *   `BrokenThreadPool`, and a replacement starts.
 *
 * @example
 * ```ts
 * import { ThreadPool } from "@multiproc/multiproc";
 * import { deepEqual } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 *
 * await using pool = new ThreadPool({ processes: 2 });
 * deepEqual(await pool.map(square, [1, 2, 3]), [1, 4, 9]);
 * ```
 */
export class ThreadPool extends Pool {
  /**
   * Starts the pool's threads.
   *
   * @param options How many threads and how they start; see {@linkcode ThreadPoolOptions}.
   * @throws {RangeError} If `processes` is not a positive integer.
   * @throws {TypeError} If `initializer` is not an exported function.
   */
  constructor(options: ThreadPoolOptions = {}) {
    super({ ...options, [THREADS]: true } as PoolOptions);
  }
}
