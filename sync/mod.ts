/**
 * Synchronisation primitives shared by processes and threads: Python's
 * `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore`, `Event`, `Condition`,
 * `Barrier`, `Value` and `Array` (here `SharedArray`).
 *
 * Pass any of them to a `Process` in `args`: the child gets a live object
 * connected to the same state.
 *
 * ```ts ignore
 * import { Lock } from "./mod.ts";
 * import { Process } from "../process/mod.ts";
 *
 * export async function task(name: string, mutex: Lock) {
 *   await using _ = await mutex.hold();
 *   console.log(`${name} has the lock`);
 * }
 *
 * if (import.meta.main) {
 *   const mutex = new Lock();
 *   new Process({ target: task, args: ["child", mutex] }).start();
 * }
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
