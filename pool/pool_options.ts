/**
 * The options of {@linkcode Pool} (and `ThreadPool`) and of its methods.
 *
 * @module
 */

import type { ResultCallbacks } from "./async_result.ts";
import type { PoolTask } from "./pool_task.ts";

/**
 * Options for {@linkcode Pool}.
 *
 * @example
 * ```ts
 * import { Pool, type PoolOptions } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const options: PoolOptions = { processes: 2, maxTasksPerChild: 100 };
 * await using pool = new Pool(options);
 * equal(pool.stats().workers, 2);
 * ```
 */
export interface PoolOptions {
  /**
   * Number of worker processes.
   *
   * @default {cpuCount()}
   */
  processes?: number;
  /**
   * Run once in each worker before its first task, with `initargs`: an
   * exported function or `{ module, export }`. If it throws, the pool is
   * broken: every task rejects with `BrokenProcessPool` (`BrokenThreadPool`
   * for a ThreadPool) whose `cause` is the initializer's error.
   */
  initializer?: PoolTask;
  /**
   * Arguments of the initializer.
   *
   * @default {[]}
   */
  initargs?: readonly unknown[];
  /**
   * Tasks (chunks) a worker runs before it is replaced by a fresh one
   * (Python's `maxtasksperchild`).
   *
   * @default {undefined} no limit
   */
  maxTasksPerChild?: number;
}

/**
 * Options of {@linkcode Pool.map}, {@linkcode Pool.imap} and their variants.
 *
 * @example
 * ```ts
 * import { type MapOptions, Pool } from "@multiproc/multiproc";
 * import { deepEqual } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 * const options: MapOptions = { chunksize: 2 };
 * await using pool = new Pool({ processes: 1 });
 * deepEqual(await pool.map(square, [1, 2, 3], options), [1, 4, 9]);
 * ```
 */
export interface MapOptions {
  /**
   * Items sent to a worker at once. `map`/`starmap` default to Python's
   * formula (the items split into about four chunks per worker); `imap`
   * and `imapUnordered` to 1.
   */
  chunksize?: number;
  /**
   * Aborting it rejects the call (or ends the iteration) with the signal's
   * reason: queued tasks are dropped at once; a running task sees
   * `taskSignal()` abort, and its worker is killed and replaced if the task
   * has not ended within a second.
   */
  signal?: AbortSignal;
}

/**
 * Options of {@linkcode Pool.mapAsync} and {@linkcode Pool.starmapAsync}.
 *
 * @example
 * ```ts
 * import { type MapAsyncOptions, Pool } from "@multiproc/multiproc";
 * import { deepEqual } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 * let seen: unknown;
 * const options: MapAsyncOptions<unknown[]> = { callback: (values) => (seen = values) };
 * await using pool = new Pool({ processes: 1 });
 * await pool.mapAsync(square, [2, 3], options);
 * deepEqual(seen, [4, 9]);
 * ```
 */
export interface MapAsyncOptions<T> extends MapOptions, ResultCallbacks<T> {}

/**
 * Options of {@linkcode Pool.apply}.
 *
 * @example
 * ```ts
 * import { type ApplyOptions, Pool } from "@multiproc/multiproc";
 * import { rejects } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 * const options: ApplyOptions = { signal: AbortSignal.abort() };
 * await using pool = new Pool({ processes: 1 });
 * await rejects(pool.apply(square, [2], options), { name: "AbortError" });
 * ```
 */
export interface ApplyOptions {
  /** Aborting it rejects the call; see {@linkcode MapOptions.signal}. */
  signal?: AbortSignal;
}

/**
 * Options of {@linkcode Pool.applyAsync}.
 *
 * @example
 * ```ts
 * import { type ApplyAsyncOptions, Pool } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export function fail(message) { throw new Error(message); }
 * const fail = { module: import.meta.resolve("../examples/workers.ts"), export: "fail" };
 * let seen: Error | undefined;
 * const options: ApplyAsyncOptions<never> = { errorCallback: (error) => (seen = error) };
 * await using pool = new Pool({ processes: 1 });
 * await pool.applyAsync(fail, ["no"], options).wait();
 * equal(seen?.message, "no");
 * ```
 */
export interface ApplyAsyncOptions<T> extends ApplyOptions, ResultCallbacks<T> {}
