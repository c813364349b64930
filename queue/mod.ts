/**
 * Queues and pipes shared by processes and threads: Python's `Queue`,
 * `SimpleQueue`, `JoinableQueue` and `Pipe`, with the `Empty` and `Full`
 * errors of Python's `queue` module.
 *
 * ```ts ignore
 * import { Queue } from "./mod.ts";
 * import { Process } from "../process/mod.ts";
 *
 * export async function producer(q: Queue<string>) {
 *   for (let i = 0; i < 3; i++) await q.put(`bun ${i}`);
 *   await q.put(null!);
 * }
 *
 * if (import.meta.main) {
 *   const q = new Queue<string>();
 *   new Process({ target: producer, args: [q] }).start();
 *   for (let item; (item = await q.get()) !== null;) console.log(item);
 * }
 * ```
 *
 * @module
 */

export * from "./queue.ts";
export * from "./simple_queue.ts";
export * from "./joinable_queue.ts";
export * from "./connection.ts";
export * from "./pipe.ts";
