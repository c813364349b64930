/**
 * What the worker-pool core (`_worker_pool.ts`) shows the classes built on
 * it (`Pool`, the executors): its options, the chunk it hands back, where a
 * chunk's outcome goes, and its counts.
 *
 * @module
 */

import type { WorkerSetup } from "./_channels.ts";

/** Where the outcome of a chunk goes. */
export interface ChunkSink {
  /** Chunk `index` was sent to a worker. */
  started?(index: number): void;
  /** Chunk `index` returned `values` (one per item). */
  resolve(index: number, values: unknown[]): void;
  /** Chunk `index` failed (a task threw, its worker died, it was cancelled…). */
  reject(index: number, error: Error): void;
}

/** A chunk of work: what the public classes hold to cancel it. */
export interface Job {
  readonly id: number;
  readonly n: number;
  state: "queued" | "sent" | "settled";
}

/** Options of the core. */
export interface WorkerPoolOptions {
  kind: "process" | "thread";
  /** Most workers. */
  size: number;
  /** Start workers only when work waits (executors), instead of all at once (Pool). */
  lazy: boolean;
  setup: WorkerSetup;
  /** Chunks a worker runs before it is replaced (`undefined`: no limit). */
  maxTasksPerChild?: number;
  /** Whether a lost worker breaks the pool (executors, as in Python) or is replaced (Pool). */
  breakOnLoss: boolean;
}

/**
 * What {@linkcode Pool.stats} reports. Tasks are counted in items (a chunk of
 * `map` holds several).
 *
 * @example
 * ```ts
 * import { Pool, type PoolStats } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export function square(n) { return n * n; }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 * await using pool = new Pool({ processes: 1 });
 * await pool.map(square, [1, 2, 3]);
 * const stats: PoolStats = pool.stats();
 * equal(stats.done, 3);
 * equal(stats.queued, 0);
 * ```
 */
export interface PoolStats {
  /** Workers alive (starting, busy or idle). */
  workers: number;
  /** Workers holding at least one task. */
  busy: number;
  /** Workers holding none. */
  idle: number;
  /** Tasks waiting for a worker. */
  queued: number;
  /** Tasks sent to a worker and not yet answered. */
  running: number;
  /** Tasks that returned. */
  done: number;
  /** Tasks that threw, were lost with their worker, or were cancelled. */
  failed: number;
}
