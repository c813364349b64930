/**
 * Synchronisation primitives shared by processes and threads: Python's
 * `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore`, `Event`, `Condition`,
 * `Barrier`, `Value` and `Array` (here `SharedArray`).
 *
 * Pass any of them to a `Process` in `args`: the child gets a live object
 * connected to the same state.
 *
 * ```ts
 * import { Lock, Value } from "@multiproc/multiproc/sync";
 * import { Process } from "@multiproc/multiproc/process";
 * import { equal } from "node:assert/strict";
 *
 * // examples/workers.ts exports
 * // `async function decrement(n, mutex) { await using _ = await mutex.hold(); n.value -= 1; }`.
 * const decrement = { module: import.meta.resolve("../examples/workers.ts"), export: "decrement" };
 *
 * const n = new Value("i", 2);
 * const mutex = new Lock();
 * await using p = new Process({ target: decrement, args: [n, mutex] });
 * p.start();
 * {
 *   await using _ = await mutex.hold();
 *   n.value -= 1;
 * }
 * await p.join();
 * equal(n.value, 0);
 * ```
 *
 * @module
 */

export * from "./lock.ts";
export * from "./rlock.ts";
export { Semaphore } from "./semaphore.ts";
export * from "./bounded_semaphore.ts";
export * from "./event.ts";
export * from "./condition.ts";
export * from "./barrier.ts";
export * from "./value.ts";
export * from "./shared_array.ts";
export * from "./shareable.ts";
export * from "./wait_options.ts";
