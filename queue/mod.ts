/**
 * Queues and pipes shared by processes and threads: Python's `Queue`,
 * `SimpleQueue`, `JoinableQueue`, `queue.Queue` with `task_done()`
 * (`TaskQueue`), `LifoQueue`, `PriorityQueue` and `Pipe`,
 * with the `Empty` and `Full` errors of Python's `queue` module.
 *
 * ```ts
 * import { Queue } from "@multiproc/multiproc/queue";
 * import { Process } from "@multiproc/multiproc/process";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts: export async function square(n, results) { await results.put(n * n); }
 * const square = { module: import.meta.resolve("../examples/workers.ts"), export: "square" };
 *
 * const results = new Queue<number>();
 * await using p = new Process({ target: square, args: [9, results] });
 * p.start();
 * equal(await results.get(), 81);
 * await p.join();
 * ```
 *
 * @module
 */

export * from "./queue.ts";
export * from "./simple_queue.ts";
export * from "./task_queue.ts";
export * from "./joinable_queue.ts";
export * from "./lifo_queue.ts";
export * from "./priority_queue.ts";
export * from "./connection.ts";
export * from "./connection_bytes.ts";
export * from "./pipe.ts";
export type { WaitOptions } from "../sync/wait_options.ts";
