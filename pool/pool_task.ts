/**
 * `PoolTask`: what a pool or an executor runs.
 *
 * @module
 */

/**
 * A task of a pool or executor: an **exported** function (sync or async) of
 * your module, or `{ module, export }` naming one. A worker imports it by
 * module URL and export name, exactly as a `Process` imports its target.
 *
 * @typeParam A The function's parameters.
 * @typeParam R What it returns.
 *
 * @example
 * ```ts
 * import { Pool, type PoolTask } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square: PoolTask<[number], number> = {
 *   module: import.meta.resolve("../examples/workers.ts"),
 *   export: "square",
 * };
 * await using pool = new Pool({ processes: 1 });
 * equal(await pool.apply(square, [3]), 9);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type PoolTask<A extends any[] = any[], R = unknown> =
  | ((...args: A) => R)
  | { module: string | URL; export: string };
